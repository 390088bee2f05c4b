"""InferenceService: storage and credentials, GPU placement, autoscaling, canary rollouts that split
traffic in each deployment mode, the NVMe model cache, schema validity, and the validation table."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.core.args import parse_args
from components.core.problems import InputError, Problem
from components.data.storage_access import StoreAccess
from components.serving.inference_service import (
    MODEL_FORMATS,
    InferenceServiceArgs,
    inference_service_manifest,
    problems,
)
from offline.mockruntime import Recording, run_program
from tests.conftest import run_components
from tests.schemas import validate_object

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
CACHE = "kubernetes:serving.kserve.io/v1alpha1:LocalModelCache"
ACCOUNT = "kubernetes:core/v1:ServiceAccount"
PATCH = "kubernetes:core/v1:SecretPatch"
GRANT = "test:index:Grant"
RELEASE = "kubernetes:helm.sh/v3:Release"
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
S3_ENDPOINT = "https://s3.us-west-2.amazonaws.com"
MINIO_ENDPOINT = "http://minio.minio.svc.cluster.local:9000"
FORBIDDEN_ON_CANARY = {"maxReplicas", "scaleMetric", "scaleMetricType", "scaleTarget", "autoScaling", "workerSpec", "canaryTrafficPercent"}


class FakeStore:
    """ObjectStoreLike: S3 with IRSA, or MinIO with a keys Secret in the consumer namespace."""

    def __init__(self, kind: str = "s3"):
        self.kind = kind
        self.buckets = ["models", "datasets"]
        self.access: list = []
        self.endpoint_url = pulumi.Output.from_input(S3_ENDPOINT if kind == "s3" else MINIO_ENDPOINT)

    def bucket_uri(self, bucket: str, path: str = "") -> pulumi.Output[str]:
        return pulumi.Output.from_input(f"s3://ai-platform-{bucket}-a1b2/{path}")

    def grant_read(self, name, **kwargs):
        raise AssertionError("a model server reads only its models' paths: it needs grant")

    def grant(self, name, *, namespace, service_account, access, parent, role=None, depends_on=()):
        assert not any(a.write for a in access), "serving only reads models"
        self.access.append((name, list(access)))
        if self.kind == "s3":
            grant = pulumi.CustomResource(
                GRANT, f"{name}-read", {"principal": f"{namespace}/{service_account}"}, pulumi.ResourceOptions(parent=parent)
            )
            role = pulumi.Output.concat("arn:aws:iam::123456789012:role/", name)
            return StoreAccess(
                namespace,
                service_account,
                self.endpoint_url,
                "us-west-2",
                True,
                service_account_annotations={"eks.amazonaws.com/role-arn": role},
                depends_on=[grant],
            )
        secret = k8s.core.v1.Secret(
            f"{name}-minio",
            metadata={"name": f"{service_account}-minio", "namespace": namespace},
            string_data={"AWS_ACCESS_KEY_ID": "generated", "AWS_SECRET_ACCESS_KEY": "generated"},
            opts=pulumi.ResourceOptions(parent=parent),
        )
        return StoreAccess(
            namespace,
            service_account,
            self.endpoint_url,
            "us-east-1",
            False,
            credentials_secret=secret.metadata["name"],
            depends_on=[secret],
        )

    def grant_read_write(self, name, *, namespace, service_account, parent, role=None, depends_on=()):
        raise AssertionError("serving only reads models")


PROMETHEUS_URL = "http://observability-prometheus.monitoring.svc.cluster.local:9090"


class FakePrometheus:
    """MetricsBackend: what a serving-signal model reads from Observability."""

    def __init__(self):
        self.prometheus_url = pulumi.Output.from_input(PROMETHEUS_URL)


class FakeKeda:
    """EventAutoscaler: the release a ScaledObject's creator waits for."""

    def __init__(self):
        self.ready = [pulumi.CustomResource(RELEASE, "keda", {})]


class Pool:
    """What serving reads from a GpuNodePool."""

    def __init__(self, name="infer", resources=None):
        self.name = name
        self.node_selector = {"ai-platform.io/pool": name}
        self.tolerations = [dict(GPU_TOLERATION)]
        self.gpu_resources = resources or {"nvidia.com/gpu": 4}


def _serve(spec=None, kserve=None, store: str | None = "s3", pool=None, cached=False, signals=True):
    """Run KServe and one InferenceService ``m``; return the recording and the CR registration.
    ``signals``: Prometheus and KEDA are there for a model that scales on a serving signal."""
    from components.serving.inference_service import InferenceService
    from components.serving.kserve import KServe

    def build():
        pools = [pool] if pool is not None and cached else []
        platform = KServe("kserve", {"gateway": "gw/ai", "local_model_pools": pools, **(kserve or {})})
        args = {"kserve": platform, "model_format": "sklearn", "model_path": "iris/v1", **(spec or {})}
        if store is not None:
            args["store"] = FakeStore(store)
        if pool is not None:
            args["gpu_pool"] = pool
        if signals:
            args |= {"prometheus": FakePrometheus(), "keda": FakeKeda()}
        InferenceService("m", args)

    recording = run_components(build)
    return recording, recording.named(ISVC, "m")


def _predictor(isvc) -> dict:
    return isvc.inputs["spec"]["predictor"]


# ---------------------------------------------------------------- storage and credentials


def test_storage_uri_points_into_the_models_bucket():
    _, isvc = _serve({"model_path": "/iris/v3/"})
    model = _predictor(isvc)["model"]
    assert model["storageUri"] == "s3://ai-platform-models-a1b2/iris/v3"
    assert model["modelFormat"] == {"name": "sklearn"}
    assert model["runtime"] == "kserve-sklearnserver"
    assert "name" not in model  # KServe's webhook refuses a name on the stable predictor's model


def test_an_explicit_uri_is_used_as_given():
    uri = "s3://mlflow-artifacts-a1b2/1/0f3c/artifacts/model"
    recording, isvc = _serve({"model_path": None, "storage_uri": uri})
    assert _predictor(isvc)["model"]["storageUri"] == uri
    # The store still grants access: the artifact location is in the platform's store.
    assert recording.of_type(GRANT)


def test_a_public_model_needs_no_store():
    recording, isvc = _serve({"model_format": "huggingface", "model_path": None, "storage_uri": "hf://Qwen/Qwen3-0.6B"}, store=None)
    (account,) = recording.of_type(ACCOUNT)
    assert "annotations" not in account.inputs["metadata"]
    assert "secrets" not in account.inputs
    assert _predictor(isvc)["serviceAccountName"] == account.inputs["metadata"]["name"]


def test_s3_credentials_through_an_irsa_service_account():
    recording, isvc = _serve(store="s3")
    (account,) = recording.of_type(ACCOUNT)
    annotations = account.inputs["metadata"]["annotations"]
    assert annotations == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/m-model",
        "serving.kserve.io/s3-endpoint": "s3.us-west-2.amazonaws.com",  # KServe adds the scheme
        "serving.kserve.io/s3-usehttps": "1",
        "serving.kserve.io/s3-region": "us-west-2",
    }
    assert account.inputs["automountServiceAccountToken"] is False
    assert "secrets" not in account.inputs
    assert recording.of_type(PATCH) == []
    assert _predictor(isvc)["serviceAccountName"] == "m-model"
    (grant,) = recording.of_type(GRANT)
    assert grant.inputs["principal"] == "models/m-model"
    assert {grant.urn, account.urn} <= set(isvc.dependencies)


def test_minio_credentials_through_an_annotated_secret_on_the_service_account():
    recording, isvc = _serve(store="minio")
    (account,) = recording.of_type(ACCOUNT)
    (secret,) = recording.of_type("kubernetes:core/v1:Secret")
    secret_name = secret.inputs["metadata"]["name"]
    assert account.inputs["secrets"] == [{"name": secret_name}]
    (patch,) = recording.of_type(PATCH)
    assert patch.inputs["metadata"]["name"] == secret_name
    assert patch.inputs["metadata"]["namespace"] == secret.inputs["metadata"]["namespace"] == "models"
    assert patch.inputs["metadata"]["annotations"] == {
        "serving.kserve.io/s3-endpoint": "minio.minio.svc.cluster.local:9000",
        "serving.kserve.io/s3-usehttps": "0",
        "serving.kserve.io/s3-region": "us-east-1",
    }
    assert secret.urn in patch.dependencies
    assert {secret.urn, patch.urn, account.urn} <= set(isvc.dependencies)


# ---------------------------------------------------------------- placement and scaling


def test_gpu_replicas_request_and_limit_gpus_on_the_pool():
    _, isvc = _serve({"gpus": 2, "cpu": "8", "memory": "48Gi", "model_format": "huggingface"}, pool=Pool("llm"))
    predictor = _predictor(isvc)
    resources = predictor["model"]["resources"]
    assert resources["limits"] == {"cpu": "8", "memory": "48Gi", "nvidia.com/gpu": 2}
    assert resources["requests"] == resources["limits"]
    assert predictor["nodeSelector"] == {"ai-platform.io/pool": "llm"}
    assert predictor["tolerations"] == [GPU_TOLERATION]
    assert predictor["model"]["runtime"] == "kserve-huggingfaceserver"


def test_mig_devices_are_requested_by_their_resource_name():
    pool = Pool("mig", {"nvidia.com/mig-1g.10gb": 14, "nvidia.com/mig-3g.40gb": 4})
    _, isvc = _serve({"gpus": 1, "gpu_resource": "nvidia.com/mig-3g.40gb"}, pool=pool)
    assert _predictor(isvc)["model"]["resources"]["limits"]["nvidia.com/mig-3g.40gb"] == 1
    assert "nvidia.com/gpu" not in _predictor(isvc)["model"]["resources"]["limits"]


def test_cpu_models_stay_off_gpu_nodes():
    _, isvc = _serve()
    predictor = _predictor(isvc)
    assert "nodeSelector" not in predictor and "tolerations" not in predictor
    assert predictor["model"]["resources"] == {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
    assert predictor["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


def test_replica_range_and_autoscaling_target():
    _, isvc = _serve({"min_replicas": 2, "max_replicas": 6, "scale_metric": "cpu", "scale_target": 70})
    predictor = _predictor(isvc)
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 6)
    assert (predictor["scaleMetric"], predictor["scaleTarget"]) == ("cpu", 70)
    assert isvc.inputs["metadata"]["annotations"] == {"serving.kserve.io/deploymentMode": "Standard"}


def test_knative_scales_on_concurrency_and_may_scale_to_zero():
    _, isvc = _serve(
        {"min_replicas": 0, "max_replicas": 3, "scale_metric": "concurrency", "scale_target": 8}, kserve={"deployment_mode": "Knative"}
    )
    predictor = _predictor(isvc)
    assert (predictor["minReplicas"], predictor["maxReplicas"], predictor["scaleMetric"], predictor["scaleTarget"]) == (
        0,
        3,
        "concurrency",
        8,
    )
    assert isvc.inputs["metadata"]["annotations"] == {"serving.kserve.io/deploymentMode": "Knative"}


# ---------------------------------------------------------------- canary rollouts


CANARIES = [
    {"name": "v2", "traffic_percent": 20, "model_path": "llm/v2", "min_replicas": 1},
    {"name": "experimental", "traffic_percent": 5, "storage_uri": "hf://org/experimental"},
]


def test_standard_mode_canaries_are_spec_canary_entries():
    _, isvc = _serve(
        {"model_path": "llm/v1", "min_replicas": 2, "max_replicas": 4, "scale_metric": "cpu", "scale_target": 60, "canaries": CANARIES}
    )
    spec = isvc.inputs["spec"]
    stable = spec["predictor"]
    assert [c["predictor"]["name"] for c in spec["canary"]] == ["v2", "experimental"]
    assert [c["trafficPercent"] for c in spec["canary"]] == [20, 5]
    assert 100 - sum(c["trafficPercent"] for c in spec["canary"]) == 75  # the stable model's share
    assert [c["predictor"]["model"]["storageUri"] for c in spec["canary"]] == [
        "s3://ai-platform-models-a1b2/llm/v2",
        "hf://org/experimental",
    ]
    for canary in spec["canary"]:
        predictor = canary["predictor"]
        assert not FORBIDDEN_ON_CANARY & set(predictor), predictor.keys()
        assert predictor.get("minReplicas", 0) <= stable["minReplicas"]
        assert predictor["serviceAccountName"] == stable["serviceAccountName"]
        assert predictor["model"]["modelFormat"] == stable["model"]["modelFormat"]
    assert spec["canary"][0]["predictor"]["minReplicas"] == 1
    assert "minReplicas" not in spec["canary"][1]["predictor"]  # KServe derives it from the share
    assert "canaryTrafficPercent" not in stable  # ignored in Standard mode
    assert stable["model"]["storageUri"] == "s3://ai-platform-models-a1b2/llm/v1"


def test_gpu_canaries_land_on_the_same_pool():
    _, isvc = _serve({"gpus": 1, "canaries": CANARIES[:1]}, pool=Pool("llm"))
    canary = isvc.inputs["spec"]["canary"][0]["predictor"]
    assert canary["nodeSelector"] == {"ai-platform.io/pool": "llm"}
    assert canary["tolerations"] == [GPU_TOLERATION]
    assert canary["model"]["resources"]["limits"]["nvidia.com/gpu"] == 1


def test_knative_mode_canary_is_canary_traffic_percent():
    _, isvc = _serve({"model_path": "llm/v2", "canary_traffic_percent": 10}, kserve={"deployment_mode": "Knative"})
    spec = isvc.inputs["spec"]
    assert spec["predictor"]["canaryTrafficPercent"] == 10
    assert spec["predictor"]["model"]["storageUri"] == "s3://ai-platform-models-a1b2/llm/v2"
    assert "canary" not in spec


# ---------------------------------------------------------------- ordering, cache, schema


def test_every_custom_resource_waits_for_kserve_and_the_store_grants():
    recording, isvc = _serve({"gpus": 1, "model_cache_size": "20Gi", "canaries": CANARIES[:1]}, pool=Pool("llm"), cached=True)
    ready = {r.urn for r in recording.of_type(RELEASE) if r.name in ("kserve-crd", "kserve-resources", "kserve-runtime-configs")}
    assert len(ready) == 3
    (cache,) = recording.of_type(CACHE)
    grants = {g.name: g.urn for g in recording.of_type(GRANT)}
    for cr, grant in ((isvc, "m-model-read"), (cache, "m-model-cache-read")):
        assert ready <= set(cr.dependencies), cr.type
        assert grants[grant] in cr.dependencies
    (namespace,) = [r for r in recording.of_type("kubernetes:core/v1:Namespace") if r.name == "models"]
    assert namespace.urn in isvc.dependencies


def test_the_model_is_cached_on_the_pool_nvme():
    recording, isvc = _serve({"gpus": 1, "model_cache_size": "20Gi"}, pool=Pool("llm"), cached=True)
    (cache,) = recording.of_type(CACHE)
    spec = cache.inputs["spec"]
    assert spec["sourceModelUri"] == _predictor(isvc)["model"]["storageUri"]
    assert spec["modelSize"] == "20Gi"
    assert spec["nodeGroups"] == ["llm"]
    (group,) = recording.of_type("kubernetes:serving.kserve.io/v1alpha1:LocalModelNodeGroup")
    assert group.urn in cache.dependencies
    assert cache.delete_before_replace  # the source URI is immutable: a new model is a new cache
    jobs_account = recording.named(ACCOUNT, spec["serviceAccountName"])
    assert jobs_account.inputs["metadata"]["namespace"] == "kserve-localmodel-jobs"
    assert "eks.amazonaws.com/role-arn" in jobs_account.inputs["metadata"]["annotations"]


def test_no_cache_unless_asked():
    recording, _ = _serve({"gpus": 1}, pool=Pool("llm"), cached=True)
    assert recording.of_type(CACHE) == []


SCENARIOS = {
    "sklearn-minio": ({"min_replicas": 1, "max_replicas": 3, "scale_metric": "cpu", "scale_target": 80}, {}, "minio", None, False),
    "llm-gpu-canary-cache": (
        {
            "model_format": "huggingface",
            "gpus": 1,
            "cpu": "8",
            "memory": "32Gi",
            "min_replicas": 2,
            "max_replicas": 4,
            "canaries": CANARIES,
            "model_cache_size": "40Gi",
        },
        {},
        "s3",
        Pool("llm"),
        True,
    ),
    "knative-canary": (
        {"canary_traffic_percent": 25, "min_replicas": 0, "max_replicas": 5, "scale_metric": "rps", "scale_target": 50},
        {"deployment_mode": "Knative"},
        "s3",
        None,
        False,
    ),
    "onnx-on-triton": ({"model_format": "onnx", "gpus": 1}, {}, "s3", Pool("infer"), False),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_custom_resource_validates_against_the_upstream_crds(scenario):
    spec, kserve, store, pool, cached = SCENARIOS[scenario]
    recording, _ = _serve(spec, kserve=kserve, store=store, pool=pool, cached=cached)
    objects = {
        f"{r.type}/{r.name}": r.inputs
        for r in recording.registrations
        if r.custom and r.type.startswith("kubernetes:") and r.type != RELEASE and "kserve-models-ingress" not in r.name
    }
    assert any("InferenceService" in key for key in objects)
    assert {key: validate_object(obj, "1.35") for key, obj in objects.items()} == dict.fromkeys(objects, [])


@pytest.mark.parametrize("model_format", MODEL_FORMATS)
def test_each_model_format_renders_a_valid_service_on_its_runtime(model_format):
    s = InferenceServiceArgs.model_validate({"kserve": None, "model_format": model_format, "model_path": "m/1"})
    manifest = inference_service_manifest(
        "m", "models", s, "Standard", storage_uri="s3://b/m/1", service_account="m-model", prometheus_url=PROMETHEUS_URL
    )
    assert validate_object(manifest, "1.35") == []
    model = manifest["spec"]["predictor"]["model"]
    assert model["runtime"] == MODEL_FORMATS[model_format][0]
    # Triton serves only the v2 protocol; KServe defaults to v1.
    assert model.get("protocolVersion") == ("v2" if model_format in ("onnx", "triton") else None)


@pytest.mark.parametrize(
    ("mode", "present", "absent"), [("Standard", "canary", "canaryTrafficPercent"), ("Knative", "canaryTrafficPercent", "canary")]
)
def test_the_manifest_only_carries_the_canary_mechanism_its_mode_reads(mode, present, absent):
    s = InferenceServiceArgs.model_validate({"kserve": None, **CANARY_BASE, "canary_traffic_percent": 10})
    manifest = inference_service_manifest(
        "m", "models", s, mode, storage_uri="s3://b/1", canary_uris=["s3://b/2"], service_account="m-model"
    )
    carried = {*manifest["spec"], *manifest["spec"]["predictor"]}
    assert present in carried
    assert absent not in carried


# ---------------------------------------------------------------- validation


def test_invalid_spec_fails_before_anything_is_registered():
    from components.serving.inference_service import InferenceService
    from components.serving.kserve import KServe

    def build():
        platform = KServe("kserve")
        InferenceService(
            "m", {"kserve": platform, "model_format": "sklearn", "model_path": "iris", "store": FakeStore(), "canary_traffic_percent": 10}
        )

    recording = Recording(stack="test")
    with pytest.raises(Exception, match=r"canary_traffic_percent: only KServe's Knative reconciler reads canaryTrafficPercent"):
        run_program(build, stack="test", config={}, recording=recording)
    assert recording.of_type("aiplatform:index:KServe")  # the run got that far
    assert recording.of_type("aiplatform:index:InferenceService") == []
    assert recording.of_type(ISVC) == [] and recording.of_type(ACCOUNT) == []


BASE = {"model_format": "sklearn", "model_path": "iris/v1"}
CANARY_BASE = {**BASE, "min_replicas": 2, "max_replicas": 4, "canaries": [{"name": "v2", "traffic_percent": 10, "model_path": "iris/v2"}]}
STD = {"deployment_mode": "Standard", "gateway_api": True}
KN = {"deployment_mode": "Knative"}


def inference_service_problems(name, spec, deployment_mode, *, pool=None, gpu_capacity=None, **context) -> list[Problem]:
    """Every problem InferenceService would raise for ``spec``: its fields' own checks, then ``problems``
    (``pool`` and ``gpu_capacity`` describe the GPU pool: its name and what one node offers)."""
    gpu_pool = Pool(pool, gpu_capacity) if pool is not None else None
    args = {"kserve": None, **spec, "gpu_pool": gpu_pool}
    try:
        parse_args(
            InferenceServiceArgs,
            args,
            component="InferenceService",
            name=name,
            problems=lambda a: problems(a, name=name, deployment_mode=deployment_mode, gpu_pool=a.gpu_pool, **context),
        )
    except InputError as error:
        return error.problems
    return []


def _canary(**changes):
    return {**CANARY_BASE, "canaries": [{**CANARY_BASE["canaries"][0], **changes}]}


def _canaries(*entries):
    return {**CANARY_BASE, "canaries": list(entries)}


CASES = [
    # (id, name, spec, context, path, fragment)
    ("bad name", "Iris_Model", BASE, STD, ("name",), "lowercase letters, digits and '-'"),
    ("long name", "m" * 54, BASE, STD, ("name",), "would exceed 63 characters"),
    (
        "unknown format",
        "m",
        {**BASE, "model_format": "tensorflow"},
        STD,
        ("model_format",),
        "must be one of sklearn, xgboost, pytorch, onnx, huggingface, triton",
    ),
    ("no model source", "m", {"model_format": "sklearn"}, STD, (), "set exactly one of model_path"),
    ("two model sources", "m", {**BASE, "storage_uri": "s3://b/m"}, STD, (), "set exactly one of model_path"),
    ("path without store", "m", BASE, {**STD, "has_store": False}, ("model_path",), "needs the object store"),
    (
        "mlflow proxied uri",
        "m",
        {"model_format": "sklearn", "storage_uri": "mlflow-artifacts:/1/abc/artifacts/model"},
        STD,
        ("storage_uri",),
        "KServe cannot download",
    ),
    (
        "unsupported scheme",
        "m",
        {"model_format": "sklearn", "storage_uri": "ftp://host/model"},
        STD,
        ("storage_uri",),
        "must start with one of s3://",
    ),
    ("bad cpu", "m", {**BASE, "cpu": "one"}, STD, ("cpu",), "positive Kubernetes quantity"),
    ("zero memory", "m", {**BASE, "memory": "0"}, STD, ("memory",), "positive Kubernetes quantity"),
    (
        "gpus span nodes",
        "m",
        {**BASE, "gpus": 8},
        {**STD, "pool": "infer", "gpu_capacity": {"nvidia.com/gpu": 4}},
        ("gpus",),
        "cannot span nodes",
    ),
    (
        "gpu resource absent",
        "m",
        {**BASE, "gpus": 1, "gpu_resource": "nvidia.com/mig-1g.10gb"},
        {**STD, "pool": "infer", "gpu_capacity": {"nvidia.com/gpu": 4}},
        ("gpu_resource",),
        "pool 'infer' offers nvidia.com/gpu",
    ),
    ("min above max", "m", {**BASE, "min_replicas": 3, "max_replicas": 2}, STD, ("max_replicas",), "must be >= min_replicas (3)"),
    ("standard scale to zero", "m", {**BASE, "min_replicas": 0}, STD, ("min_replicas",), "Standard mode cannot scale to zero"),
    ("hpa metric", "m", {**BASE, "scale_metric": "requests"}, STD, ("scale_metric",), "scales on cpu or memory (an HPA) or concurrency"),
    (
        "signal the runtime lacks",
        "m",
        {**BASE, "scale_metric": "concurrency"},
        STD,
        ("scale_metric",),
        "only model format huggingface exports (got 'sklearn')",
    ),
    ("keda scale to zero", "m", {**BASE, "scale_metric": "rps", "min_replicas": 0}, STD, ("min_replicas",), "nothing would scale it up"),
    (
        "signal without prometheus",
        "m",
        {**BASE, "model_format": "huggingface"},
        {**STD, "has_prometheus": False},
        ("scale_metric",),
        "scaling on 'concurrency' (unset: concurrency for huggingface models) needs Prometheus",
    ),
    ("kpa metric", "m", {**BASE, "scale_metric": "cpu"}, KN, ("scale_metric",), "scales on concurrency or rps"),
    ("cpu target over 100", "m", {**BASE, "scale_target": 150}, STD, ("scale_target",), "utilization percentage, 1-100"),
    ("zero target", "m", {**BASE, "scale_metric": "rps", "scale_target": 0}, KN, ("scale_target",), "must be 1 or more"),
    (
        "canaryTrafficPercent in Standard",
        "m",
        {**BASE, "canary_traffic_percent": 10},
        STD,
        ("canary_traffic_percent",),
        "silently takes all traffic",
    ),
    ("canaryTrafficPercent over 100", "m", {**BASE, "canary_traffic_percent": 150}, KN, ("canary_traffic_percent",), "must be 0-100"),
    ("spec.canary in Knative", "m", {**CANARY_BASE, "min_replicas": 1}, KN, ("canaries",), "accepts spec.canary only in Standard mode"),
    (
        "canary without gateway",
        "m",
        CANARY_BASE,
        {"deployment_mode": "Standard", "gateway_api": False},
        ("canaries",),
        "would run but get no requests",
    ),
    ("canary without name", "m", _canary(name=None), STD, ("canaries", 0, "name"), "every canary needs a name"),
    ("canary bad name", "m", _canary(name="V2"), STD, ("canaries", 0, "name"), "lowercase letters"),
    (
        "duplicate canary",
        "m",
        _canaries({"name": "v2", "traffic_percent": 5, "model_path": "a"}, {"name": "v2", "traffic_percent": 5, "model_path": "b"}),
        STD,
        ("canaries", 1, "name"),
        "duplicate canary name 'v2'",
    ),
    ("canary service too long", "m" * 40, _canary(name="candidate-model"), STD, ("canaries", 0, "name"), "would exceed 63 characters"),
    ("canary percent over 100", "m", _canary(traffic_percent=120), STD, ("canaries", 0, "traffic_percent"), "integer 0-100"),
    ("canary percent missing", "m", _canary(traffic_percent=None), STD, ("canaries", 0, "traffic_percent"), "integer 0-100"),
    (
        "canary shares over 100",
        "m",
        _canaries({"name": "a", "traffic_percent": 60, "model_path": "a"}, {"name": "b", "traffic_percent": 50, "model_path": "b"}),
        STD,
        ("canaries",),
        "add up to 110; at most 100",
    ),
    ("canary maxReplicas", "m", _canary(max_replicas=3), STD, ("canaries", 0, "max_replicas"), "unknown key"),
    ("canary scaleMetric", "m", _canary(scale_metric="cpu"), STD, ("canaries", 0, "scale_metric"), "unknown key"),
    ("canary scaleTarget", "m", _canary(scale_target=50), STD, ("canaries", 0, "scale_target"), "unknown key"),
    ("canary autoScaling", "m", _canary(auto_scaling={"metrics": []}), STD, ("canaries", 0, "auto_scaling"), "unknown key"),
    ("canary workerSpec", "m", _canary(worker_spec={}), STD, ("canaries", 0, "worker_spec"), "unknown key"),
    (
        "canary minReplicas above stable",
        "m",
        _canary(min_replicas=3),
        STD,
        ("canaries", 0, "min_replicas"),
        "stable predictor's min_replicas (2)",
    ),
    ("canary without model", "m", _canary(model_path=None), STD, ("canaries", 0), "set exactly one of model_path"),
    ("cache without pool", "m", {**BASE, "model_cache_size": "10Gi"}, STD, ("model_cache_size",), "set gpu_pool"),
    (
        "cache on uncached pool",
        "m",
        {**BASE, "model_cache_size": "10Gi"},
        {**STD, "pool": "infer", "gpu_capacity": {"nvidia.com/gpu": 1}},
        ("model_cache_size",),
        "no local model cache",
    ),
]


@pytest.mark.parametrize(("name", "spec", "context", "path", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_validation_rejects_what_kserve_would_reject_or_silently_not_do(name, spec, context, path, fragment):
    context = dict(context)
    mode = context.pop("deployment_mode")
    problems = inference_service_problems(name, spec, mode, **context)
    assert len(problems) == 1, problems
    (problem,) = problems
    assert problem.path == path
    assert fragment in problem.message


@pytest.mark.parametrize(
    ("spec", "context"),
    [
        (BASE, STD),
        (CANARY_BASE, STD),
        (_canary(traffic_percent=0, min_replicas=0), STD),  # pre-staged canary, no traffic yet
        ({**BASE, "canary_traffic_percent": 10, "min_replicas": 0, "scale_metric": "rps", "scale_target": 20}, KN),
        ({**BASE, "model_path": None, "storage_uri": "hf://org/model", "model_format": "huggingface"}, {**STD, "has_store": False}),
        (
            {**BASE, "gpus": 4, "model_cache_size": "40Gi"},
            {**STD, "pool": "infer", "gpu_capacity": {"nvidia.com/gpu": 4}, "cached_pools": {"infer"}},
        ),
    ],
)
def test_validation_accepts_what_kserve_serves(spec, context):
    context = dict(context)
    assert inference_service_problems("iris", spec, context.pop("deployment_mode"), **context) == []


def test_problems_read_as_key_paths():
    assert str(Problem(("canaries", 1, "traffic_percent"), "must be 0-100")) == "canaries[1].traffic_percent: must be 0-100"
    assert str(Problem(("cpu",), "bad")) == "cpu: bad"


def test_problems_name_fields_the_way_the_caller_spells_keys():
    (problem,) = inference_service_problems("m", {**BASE, "min_replicas": 3, "max_replicas": 2}, "Standard")
    assert problem.message == "must be >= min_replicas (3) (got 2)"
    camel = {"min_replicas": "minReplicas", "max_replicas": "maxReplicas"}
    assert problem.message_as(lambda k: camel.get(k, k)) == "must be >= minReplicas (3) (got 2)"
    assert problem.path_as(lambda k: camel.get(k, k)) == ("maxReplicas",)
    # Braces from user input are not taken for field names.
    (uri,) = inference_service_problems("m", {"model_format": "sklearn", "storage_uri": "ftp://h/{min_replicas}"}, "Standard")
    assert "ftp://h/{min_replicas}" in uri.message


# ---------------------------------------------------------------- what a model server may read


def test_a_model_server_reads_only_its_stable_and_canary_paths():
    from components.data.storage_access import BucketAccess
    from components.serving.inference_service import CanaryArgs, model_read_access

    spec = parse_args(InferenceServiceArgs, {"kserve": None, "model_format": "sklearn", "model_path": "/iris/v1/"}, component="t", name="m")
    canary = CanaryArgs(name="v2", traffic_percent=10, model_path="iris/v2")
    assert model_read_access([spec, canary], ["models", "datasets"]) == [
        BucketAccess("models", "iris/v1"),
        BucketAccess("models", "iris/v2"),
    ]


def test_an_s3_uri_reads_the_stores_buckets_and_a_hub_model_reads_none():
    from components.data.storage_access import BucketAccess
    from components.serving.inference_service import CanaryArgs, model_read_access

    s3 = CanaryArgs(name="v2", traffic_percent=10, storage_uri="s3://ai-prod-models/1/abc/artifacts/model")
    hub = CanaryArgs(name="v3", traffic_percent=10, storage_uri="hf://Qwen/Qwen3-0.6B")
    assert model_read_access([s3], ["models", "datasets"]) == [BucketAccess("models"), BucketAccess("datasets")]
    assert model_read_access([hub], ["models", "datasets"]) == []


def test_a_hub_model_gets_no_store_grant_even_with_a_store():
    recording, _ = _serve({"model_format": "huggingface", "model_path": None, "storage_uri": "hf://Qwen/Qwen3-0.6B"})
    assert recording.of_type(GRANT) == []
    (account,) = recording.of_type(ACCOUNT)
    assert "annotations" not in account.inputs["metadata"]
