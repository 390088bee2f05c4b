"""KubeRayOperator and RayCluster: the rendered RayCluster, its dependencies, and the rules KubeRay enforces."""

from __future__ import annotations

import copy
import importlib.metadata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
from pydantic.alias_generators import to_camel

from components import versions
from components.compute.ray_cluster import (
    RAY_CPU_IMAGE,
    RAY_GPU_IMAGE,
    RAY_VERSION,
    RayClusterArgs,
    RayWorkerGroupArgs,
    object_store_mib,
    problems,
    ray_start_params,
    worker_group,
)
from components.core.args import parse_args
from components.core.problems import InputError
from components.data.storage_access import StoreAccess
from offline.mockruntime import Recording, run_program
from tests import upstream
from tests.conftest import run_components
from tests.schemas import validate_object
from tests.test_manifests import _unknown_keys

RAY_CLUSTER = "kubernetes:ray.io/v1:RayCluster"
RELEASE = "kubernetes:helm.sh/v3:Release"


@dataclass
class FakePool:
    """A NodePool (components/core/contracts.py); a Ray worker group reads its selector, tolerations and resources."""

    gpu_resources: Mapping[str, int]
    name: str = "a100"
    labels: Mapping[str, str] = field(default_factory=dict)
    node_selector: Mapping[str, str] = field(default_factory=lambda: {"ai-platform.io/pool": "a100"})
    tolerations: Sequence[Mapping[str, str]] = field(
        default_factory=lambda: [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    )
    time_slicing_replicas: int | None = None
    device_plugin_config: str | None = None


GPU_POOL = FakePool(gpu_resources={"nvidia.com/gpu": 8})
GROUPS = [
    {"name": "cpu", "cpu": 8, "memory_gib": 32, "min_replicas": 1, "max_replicas": 6},
    {"name": "a100", "cpu": 16, "memory_gib": 128, "gpus": 2, "gpu_pool": GPU_POOL, "max_replicas": 4, "object_store_gib": 20},
]


class FakeStore:
    """An ObjectStoreLike whose grants are real resources, so ordering after them can be checked.

    ``s3``: an IAM role whose ARN goes on the service account (IRSA). ``minio``: a Secret with keys.
    """

    def __init__(self, backend: str):
        self.backend = backend
        self.endpoint_url = pulumi.Output.from_input("http://minio.minio.svc.cluster.local:9000")
        self.grants: list[tuple] = []
        self.buckets = ["models", "datasets", "checkpoints"]

    def bucket_uri(self, bucket: str, path: str = "") -> pulumi.Output[str]:
        return pulumi.Output.from_input(f"s3://platform-{bucket}/{path}".rstrip("/"))

    def grant_read(self, name, **kwargs):
        raise AssertionError("a Ray cluster reads models and writes its own bucket: it needs grant")

    def grant_read_write(self, name, **kwargs):
        raise AssertionError("a Ray cluster must not write every bucket: it needs grant")

    def grant(self, name, *, namespace, service_account, access, parent, role=None, depends_on=()) -> StoreAccess:
        self.grants.append((name, namespace, service_account))
        self.access = list(access)
        child = pulumi.ResourceOptions(parent=parent)
        if self.backend == "s3":
            role = aws.iam.Role(f"{name}-role", assume_role_policy="{}", opts=child)
            return StoreAccess(
                namespace=namespace,
                service_account=service_account,
                endpoint_url="https://s3.us-west-2.amazonaws.com",
                region="us-west-2",
                use_https=True,
                service_account_annotations={"eks.amazonaws.com/role-arn": role.arn},
                depends_on=[role],
            )
        secret = k8s.core.v1.Secret(f"{name}-s3", metadata={"name": f"{name}-s3", "namespace": namespace}, opts=child)
        return StoreAccess(
            namespace=namespace,
            service_account=service_account,
            endpoint_url=self.endpoint_url,
            region="us-east-1",
            use_https=False,
            credentials_secret=secret.metadata["name"],
            depends_on=[secret],
        )


def _render(args=None, *, name="train", backend: str | None = "s3", operator_args=None, depends_on=None):
    from components.compute.kuberay_operator import KubeRayOperator
    from components.compute.ray_cluster import RayCluster

    store = FakeStore(backend) if backend else None

    def build():
        operator = KubeRayOperator("kuberay", operator_args)
        RayCluster(name, {"operator": operator, "store": store, **(args or {})}, pulumi.ResourceOptions(depends_on=depends_on))

    recording = run_components(build)
    return recording, recording.named(RAY_CLUSTER, name), store


def _spec(args=None, **kwargs) -> dict:
    _, cluster, _ = _render(args, **kwargs)
    return cluster.inputs["spec"]


def _groups(spec: dict) -> dict[str, dict]:
    return {"head": spec["headGroupSpec"], **{g["groupName"]: g for g in spec["workerGroupSpecs"]}}


def _containers(spec: dict) -> list[dict]:
    return [c for g in _groups(spec).values() for c in g["template"]["spec"]["containers"]]


# ---------------------------------------------------------------- scheduling and resources


def test_gpu_group_tolerates_the_taint_selects_the_pool_and_requests_gpus():
    groups = _groups(_spec({"worker_groups": GROUPS}))
    gpu = groups["a100"]["template"]["spec"]
    assert gpu["nodeSelector"] == {"ai-platform.io/pool": "a100"}
    assert gpu["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    (container,) = gpu["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "2"
    cpu = groups["cpu"]["template"]["spec"]
    assert "nodeSelector" not in cpu and "tolerations" not in cpu, "CPU workers stay off the GPU nodes"
    assert "nvidia.com/gpu" not in cpu["containers"][0]["resources"]["limits"]


def test_images_are_the_pinned_ray_version():
    groups = _groups(_spec({"worker_groups": GROUPS}))
    image = {name: g["template"]["spec"]["containers"][0]["image"] for name, g in groups.items()}
    assert image == {"head": RAY_CPU_IMAGE, "cpu": RAY_CPU_IMAGE, "a100": RAY_GPU_IMAGE}
    assert RAY_CPU_IMAGE.endswith(f"ray:{RAY_VERSION}-py311") and RAY_GPU_IMAGE.endswith(f"ray:{RAY_VERSION}-py311-gpu")
    assert all("latest" not in i for i in image.values())


def test_ray_version_matches_the_ray_the_tests_and_drivers_install():
    try:
        installed = importlib.metadata.version("ray")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("ray is not installed")
    assert installed == RAY_VERSION
    assert _spec()["rayVersion"] == RAY_VERSION


def test_custom_images_replace_the_pinned_ones():
    groups = _groups(
        _spec({"worker_groups": GROUPS, "image": "registry.example/ray:2.60.0-a", "gpu_image": "registry.example/ray:2.60.0-g"})
    )
    assert groups["head"]["template"]["spec"]["containers"][0]["image"] == "registry.example/ray:2.60.0-a"
    assert groups["a100"]["template"]["spec"]["containers"][0]["image"] == "registry.example/ray:2.60.0-g"


def test_requests_equal_limits_on_every_container():
    spec = _spec({"worker_groups": GROUPS})
    resources = [c["resources"] for c in _containers(spec)] + [spec["autoscalerOptions"]["resources"]]
    assert len(resources) == 4
    for r in resources:
        assert r["requests"] == r["limits"] and {"cpu", "memory"} <= set(r["limits"])
    head = spec["headGroupSpec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert head == {"cpu": "2", "memory": "8Gi"}, "the head's documented default size"


def test_ray_start_params_follow_the_container_resources():
    groups = _groups(_spec({"worker_groups": GROUPS}))
    assert groups["head"]["rayStartParams"] == {"num-cpus": "2", "num-gpus": "0", "object-store-memory": str(2457 * 2**20)}
    assert groups["cpu"]["rayStartParams"] == {"num-cpus": "8", "num-gpus": "0", "object-store-memory": str(9830 * 2**20)}
    assert groups["a100"]["rayStartParams"] == {"num-cpus": "16", "num-gpus": "2", "object-store-memory": str(20 * 2**30)}
    # KubeRay rejects a group that sets both rayStartParams resource keys and the resources map.
    assert all("resources" not in g for g in groups.values())


def test_a_head_that_runs_no_tasks_advertises_no_cpus():
    head = _spec({"head": {"cpu": 4, "memory_gib": 16, "run_tasks": False}})["headGroupSpec"]
    assert head["rayStartParams"]["num-cpus"] == "0"
    assert head["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] == "4", "the head keeps its CPUs"


def test_object_store_defaults_to_rays_share_of_memory():
    assert object_store_mib(RayWorkerGroupArgs(name="g", memory_gib=10)) == 3072
    assert object_store_mib(RayWorkerGroupArgs(name="g", memory_gib=10, object_store_gib=1.5)) == 1536
    assert ray_start_params(cpu=1, gpus=0, object_store_mib=100)["object-store-memory"] == str(100 * 1024 * 1024)


def test_shm_is_in_memory_and_sized_for_the_object_store():
    for group in _groups(_spec({"worker_groups": GROUPS})).values():
        pod = group["template"]["spec"]
        store_bytes = int(group["rayStartParams"]["object-store-memory"])
        (volume,) = [v for v in pod["volumes"] if v["name"] == "shared-mem"]
        assert volume["emptyDir"] == {"medium": "Memory", "sizeLimit": f"{store_bytes // 2**20}Mi"}
        assert {"name": "shared-mem", "mountPath": "/dev/shm"} in pod["containers"][0]["volumeMounts"]


def test_autoscaling_between_min_and_max_replicas():
    spec = _spec({"worker_groups": GROUPS, "idle_timeout_seconds": 300, "upscaling_mode": "Conservative"})
    assert spec["enableInTreeAutoscaling"] is True
    options = spec["autoscalerOptions"]
    assert (options["version"], options["idleTimeoutSeconds"], options["upscalingMode"]) == ("v2", 300, "Conservative")
    replicas = {g["groupName"]: (g["minReplicas"], g["maxReplicas"]) for g in spec["workerGroupSpecs"]}
    assert replicas == {"cpu": (1, 6), "a100": (0, 4)}
    assert all("replicas" not in g for g in spec["workerGroupSpecs"]), "the autoscaler owns the current count"


def test_without_autoscaling_there_is_no_autoscaler():
    spec = _spec({"worker_groups": GROUPS[:1], "autoscaling": False})
    assert spec["enableInTreeAutoscaling"] is False
    assert "autoscalerOptions" not in spec


def test_pods_run_as_the_ray_user_without_privileges():
    spec = _spec({"worker_groups": GROUPS})
    for group in _groups(spec).values():
        pod = group["template"]["spec"]["securityContext"]
        assert (pod["runAsNonRoot"], pod["runAsUser"], pod["seccompProfile"]) == (True, 1000, {"type": "RuntimeDefault"})
    for context in [c["securityContext"] for c in _containers(spec)] + [spec["autoscalerOptions"]["securityContext"]]:
        assert context["allowPrivilegeEscalation"] is False and context["capabilities"] == {"drop": ["ALL"]}


# ---------------------------------------------------------------- object store access


def test_service_account_carries_the_grants_annotations():
    recording, cluster, store = _render({"worker_groups": GROUPS})
    assert store is not None
    (account,) = recording.of_type("kubernetes:core/v1:ServiceAccount")
    assert account.inputs["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/train-ray-role"}
    assert store.grants == [("train-ray", "train", "train-ray")]
    for group in _groups(cluster.inputs["spec"]).values():
        assert group["template"]["spec"]["serviceAccountName"] == account.inputs["metadata"]["name"] == "train-ray"


def test_every_ray_container_gets_the_store_environment():
    _, cluster, _ = _render({"worker_groups": GROUPS}, backend="minio")
    for container in _containers(cluster.inputs["spec"]):
        env = {e["name"]: e for e in container["env"]}
        assert env["AWS_ENDPOINT_URL_S3"]["value"] == "http://minio.minio.svc.cluster.local:9000"
        assert env["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"] == {"name": "train-ray-s3", "key": "AWS_ACCESS_KEY_ID"}
        assert env["DATASETS_URI"]["value"] == "s3://platform-datasets"


def test_without_a_store_there_is_no_grant_and_no_store_environment():
    recording, cluster, _ = _render(backend=None)
    assert all(c["env"] == [] for c in _containers(cluster.inputs["spec"]))
    assert recording.of_type("aws:iam/role:Role") == []


# ---------------------------------------------------------------- ordering, namespace, service


@pytest.mark.parametrize(("backend", "grant_type"), [("s3", "aws:iam/role:Role"), ("minio", "kubernetes:core/v1:Secret")])
def test_cluster_waits_for_the_kuberay_release_the_grant_and_its_service_account(backend, grant_type):
    recording, cluster, _ = _render(backend=backend)
    (release,) = recording.of_type(RELEASE)
    (grant,) = recording.of_type(grant_type)
    (account,) = recording.of_type("kubernetes:core/v1:ServiceAccount")
    assert {release.urn, grant.urn, account.urn} <= set(cluster.dependencies)


def test_components_own_depends_on_reaches_the_pods_owners():
    def marker():
        return k8s.core.v1.ConfigMap("storage-class", metadata={"name": "x", "namespace": "default"})

    from components.compute.kuberay_operator import KubeRayOperator
    from components.compute.ray_cluster import RayCluster

    def build():
        before = marker()
        operator = KubeRayOperator("kuberay", None, pulumi.ResourceOptions(depends_on=[before]))
        RayCluster("train", {"operator": operator, "namespace": "teams"}, pulumi.ResourceOptions(depends_on=[before]))

    recording = run_components(build)
    before = recording.named("kubernetes:core/v1:ConfigMap", "storage-class").urn
    assert before in recording.named(RELEASE, "kuberay").dependencies
    assert before in recording.named(RAY_CLUSTER, "train").dependencies
    assert before in recording.named("kubernetes:core/v1:ServiceAccount", "train-ray").dependencies


def test_namespace_is_created_restricted_unless_given():
    recording, cluster, _ = _render()
    (namespace,) = [n for n in recording.of_type("kubernetes:core/v1:Namespace") if n.name == "train"]
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert namespace.urn in cluster.dependencies
    given, cluster, store = _render({"namespace": "research"})
    assert store is not None
    assert [n.name for n in given.of_type("kubernetes:core/v1:Namespace")] == ["kuberay-operator"]
    assert cluster.inputs["metadata"] == {"name": "train", "namespace": "research"}
    assert store.grants == [("train-ray", "research", "train-ray")]


def test_head_service_is_cluster_ip_without_ingress():
    head = _spec()["headGroupSpec"]
    assert head["serviceType"] == "ClusterIP"
    assert head["enableIngress"] is False
    ports = {p["name"]: p["containerPort"] for p in head["template"]["spec"]["containers"][0]["ports"]}
    assert ports["dashboard"] == 8265


def test_in_cluster_addresses():
    from components.compute.kuberay_operator import KubeRayOperator
    from components.compute.ray_cluster import RayCluster

    seen = {}

    def build():
        cluster = RayCluster("train", {"operator": KubeRayOperator("kuberay")})
        pulumi.export("dashboard", cluster.dashboard_url)
        pulumi.export("client", cluster.client_address)
        seen["service"] = cluster.head_service

    recording = run_components(build)
    assert recording.outputs == {
        "dashboard": "http://train-head-svc.train.svc.cluster.local:8265",
        "client": "ray://train-head-svc.train.svc.cluster.local:10001",
    }
    assert seen["service"] == "train-head-svc"


def test_gcs_fault_tolerance_uses_the_external_redis_and_its_password_secret():
    spec = _spec({"redis_address": "rediss://ray-gcs.abc123.use1.cache.amazonaws.com:6379", "redis_password_secret": "ray-redis"})
    assert spec["gcsFaultToleranceOptions"] == {
        "redisAddress": "rediss://ray-gcs.abc123.use1.cache.amazonaws.com:6379",
        "redisPassword": {"valueFrom": {"secretKeyRef": {"name": "ray-redis", "key": "password"}}},
    }
    assert "redis-password" not in spec["headGroupSpec"]["rayStartParams"], "KubeRay rejects it next to gcsFaultToleranceOptions"
    assert "gcsFaultToleranceOptions" not in _spec()


# ---------------------------------------------------------------- upstream schemas


FULL = {
    "worker_groups": GROUPS,
    "redis_address": "redis-master.redis.svc.cluster.local:6379",
    "redis_password_secret": "ray-redis",
}


def test_the_rendered_cluster_validates_against_the_upstream_crd():
    recording, cluster, _ = _render(FULL, backend="minio")
    assert validate_object(cluster.inputs, "1.35") == []
    bad = copy.deepcopy(cluster.inputs)
    bad["spec"]["workerGroupSpecs"][0]["rayStartParams"]["num-cpus"] = 8  # the CRD wants strings
    bad["spec"]["headGroupSpec"]["serviceTypo"] = "ClusterIP"
    assert len(validate_object(bad, "1.35")) == 2, "the validator must catch what the API server would"


def test_every_kubernetes_object_is_valid_for_kubernetes_1_35():
    recording, _, _ = _render(FULL, backend="minio")
    objects = [r for r in recording.registrations if r.custom and r.type.startswith("kubernetes:") and r.type != RELEASE]
    assert {r.type.split(":")[-1] for r in objects} == {"Namespace", "NetworkPolicy", "ServiceAccount", "Secret", "RayCluster"}
    assert {(r.type, r.name): validate_object(r.inputs, "1.35") for r in objects} == {(r.type, r.name): [] for r in objects}


# ---------------------------------------------------------------- the operator


def test_operator_is_the_pinned_chart_with_a_pinned_image():
    recording, _, _ = _render()
    release = recording.named(RELEASE, "kuberay")
    assert (release.inputs["chart"], release.inputs["version"]) == ("kuberay-operator", "1.7.0")
    assert release.inputs["repositoryOpts"]["repo"] == versions.KUBERAY_OPERATOR.repo
    assert release.inputs["namespace"] == "kuberay-operator"
    assert release.inputs["values"]["image"] == {"repository": "quay.io/kuberay/operator", "tag": "v1.7.0", "pullPolicy": "Always"}


def test_operator_runs_restricted_with_requests_and_limits():
    recording, _, _ = _render(operator_args={"node_selector": {"role": "system"}})
    values = recording.named(RELEASE, "kuberay").inputs["values"]
    resources = values["resources"]
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}
    context = values["securityContext"]
    assert context["runAsNonRoot"] and context["readOnlyRootFilesystem"] and not context["allowPrivilegeEscalation"]
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert values["nodeSelector"] == {"kubernetes.io/os": "linux", "role": "system"}
    namespace = recording.named("kubernetes:core/v1:Namespace", "kuberay-operator")
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_operator_values_use_keys_the_pinned_chart_defines():
    from components.compute.kuberay_operator import KubeRayOperatorArgs, chart_values

    values = chart_values(KubeRayOperatorArgs(service_monitor=True))
    assert _unknown_keys(values, upstream.chart_values(versions.KUBERAY_OPERATOR.name, versions.KUBERAY_OPERATOR.version)) == []


# ---------------------------------------------------------------- what KubeRay would reject


def _problems(name="train", **args) -> list[str]:
    """Every problem RayCluster would raise: the fields' own checks, then ``problems``."""
    try:
        parse_args(RayClusterArgs, {"operator": None, **args}, component="RayCluster", name=name, problems=lambda a: _rules(name, a))
    except InputError as error:
        return [str(p) for p in error.problems]
    return []


def _rules(name: str, a: RayClusterArgs) -> list:
    return problems(a, name=name, gpu_pools=[g.gpu_pool for g in a.worker_groups])


def _args(**args) -> RayClusterArgs:
    return RayClusterArgs.model_validate({"operator": None, **args})


def test_a_valid_cluster_has_no_problems():
    assert _problems(**FULL) == []
    assert _problems() == []


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("t" * 54, {}, "name: must be at most 53 characters, KubeRay's limit (got 54"),
        ("1train", {}, "name: must be a DNS-1035 label"),
        ("Train", {}, "name: must be a DNS-1035 label"),
        (
            "train",
            {"worker_groups": [{"name": "cpu", "min_replicas": 3, "max_replicas": 1}]},
            "worker_groups[0].max_replicas: must be >= min_replicas (3) (got 1)",
        ),
        (
            "train",
            {"worker_groups": [{"name": "cpu", "min_replicas": -1}]},
            "worker_groups[0].min_replicas: must be a whole number >= 0 (got -1)",
        ),
        (
            "train",
            {"worker_groups": [{"name": "gpu", "gpus": 1}]},
            "worker_groups[0].gpu_pool: a GPU group (gpus: 1) needs a GPU node pool",
        ),
        (
            "train",
            {"worker_groups": [{"name": "gpu", "gpus": 16, "gpu_pool": GPU_POOL}]},
            "worker_groups[0].gpus: a node of the pool has 8 nvidia.com/gpu",
        ),
        (
            "train",
            {"worker_groups": [{"name": "mig", "gpus": 1, "gpu_pool": FakePool(gpu_resources={"nvidia.com/mig-1g.10gb": 56})}]},
            "worker_groups[0].gpu_pool: the pool offers ['nvidia.com/mig-1g.10gb'], not nvidia.com/gpu",
        ),
        (
            "train",
            {"worker_groups": [{"name": "cpu"}, {"name": "cpu"}]},
            "worker_groups[1].name: worker group names must be unique ('cpu' repeats)",
        ),
        ("train", {"worker_groups": [{"name": "CPU_big"}]}, "worker_groups[0].name: must be a DNS-1123 label"),
        ("train", {"worker_groups": [{"name": "cpu", "cpu": 0}]}, "worker_groups[0].cpu: must be a whole number of cores >= 1"),
        ("train", {"head": {"cpu": 0.5}}, "head.cpu: must be a whole number of cores >= 1, as Ray's num-cpus (got 0.5)"),
        ("train", {"head": {"memory_gib": 4, "object_store_gib": 4}}, "head.object_store_gib: must be less than memory_gib (4)"),
        ("train", {"head": {"object_store_gib": 0.05}}, "head.object_store_gib: Ray needs at least 75 MiB (got 51 MiB)"),
        ("train", {"redis_address": "redis:6379"}, "redis_password_secret: required with redis_address"),
        ("train", {"redis_password_secret": "ray-redis"}, "redis_password_secret: only used with redis_address"),
        ("train", {"redis_address": "redis", "redis_password_secret": "s"}, "redis_address: must be host:port"),
        ("train", {"image": "rayproject/ray:latest"}, "image: must be pinned by a tag other than 'latest' or by digest"),
        ("train", {"gpu_image": "rayproject/ray"}, "gpu_image: must be pinned"),
        ("train", {"upscaling_mode": "Fast"}, "upscaling_mode: must be one of Default, Conservative, Aggressive (got 'Fast')"),
        ("train", {"idle_timeout_seconds": -5}, "idle_timeout_seconds: must be a whole number >= 0 (got -5)"),
        ("train", {"namespace": "Research"}, "namespace: must be a DNS-1123 label"),
    ],
)
def test_bad_specs_are_reported_with_their_path(name, args, expected):
    problems = _problems(name, **args)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_all_problems_are_reported_at_once():
    found = _rules("Bad_Name", _args(worker_groups=[{"name": "gpu", "gpus": 1, "min_replicas": 2, "max_replicas": 1}]))
    assert [p.path for p in found] == [("name",), ("worker_groups", 0, "max_replicas"), ("worker_groups", 0, "gpu_pool")]


def test_problems_speak_the_stack_configs_spelling():
    (problem,) = _rules("train", _args(worker_groups=[{"name": "cpu", "min_replicas": 3, "max_replicas": 1}]))
    assert problem.path_as(to_camel) == ("workerGroups", 0, "maxReplicas")
    assert problem.message_as(to_camel) == "must be >= minReplicas (3) (got 1)"
    (problem,) = _rules("min_replicas", _args())
    assert "'min_replicas'" in problem.message_as(to_camel), "values are not field names"


def test_a_bad_spec_registers_nothing():
    from components.compute.kuberay_operator import KubeRayOperator
    from components.compute.ray_cluster import RayCluster

    def build():
        operator = KubeRayOperator("kuberay")
        RayCluster("train", {"operator": operator, "store": FakeStore("minio"), "worker_groups": [{"name": "gpu", "gpus": 1}]})

    recording = Recording(stack="test")
    with pytest.raises(
        InputError, match=r"RayCluster 'train': invalid input \(1 problem\):\n  - worker_groups\[0\]\.gpu_pool: a GPU group"
    ):
        run_program(build, stack="test", config={}, recording=recording)
    registered = {r.type for r in recording.registrations}
    assert "aiplatform:index:KubeRayOperator" in registered, "the recording works"
    assert registered.isdisjoint(
        {"aiplatform:index:RayCluster", RAY_CLUSTER, "kubernetes:core/v1:ServiceAccount", "kubernetes:core/v1:Secret"}
    )


def test_worker_group_builder_is_usable_on_its_own():
    group = worker_group(
        RayWorkerGroupArgs(name="gpu", gpus=1, memory_gib=10, gpu_pool=GPU_POOL), image="a:1", gpu_image="g:1", service_account="sa", env=[]
    )
    assert group["template"]["spec"]["containers"][0]["image"] == "g:1"
    assert group["rayStartParams"] == {"num-cpus": "4", "num-gpus": "1", "object-store-memory": str(3072 * 2**20)}


def test_ray_reads_the_models_and_writes_only_its_own_bucket():
    from components.compute.ray_cluster import ray_store_access
    from components.data.storage_access import BucketAccess

    assert ray_store_access("checkpoints", ["models", "datasets", "checkpoints"]) == [
        BucketAccess("models"),
        BucketAccess("checkpoints", write=True),
    ]
    assert ray_store_access("datasets", ["datasets"]) == [BucketAccess("datasets", write=True)], "no models bucket, no read of it"
    assert ray_store_access("models", ["models"]) == [BucketAccess("models", write=True)], "asked to write the models: one entry"


def test_the_grant_the_cluster_asks_for_is_its_bucket_only():
    _, _, store = _render({"worker_groups": GROUPS, "bucket": "checkpoints"})
    assert store is not None
    assert [(a.bucket, a.write) for a in store.access] == [("models", False), ("checkpoints", True)]
