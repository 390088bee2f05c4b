"""InferenceService: one model served by KServe, with its storage credentials, GPU placement,
autoscaling, a canary rollout that really splits traffic, and an optional NVMe model cache.

The CR is built by pure functions (:func:`inference_service_manifest`) and checked first by
:func:`problems`, which rejects what KServe v0.20's admission webhook would reject
and what it would accept but not do (a canary that gets no traffic). Stack config validation calls
the same function, so a bad model never reaches ``pulumi up``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BeforeValidator, SkipValidation

from ..core.args import Options, parse_args
from ..core.contracts import EventAutoscaler, MetricsBackend, NodePool, ServingPlatform
from ..core.network_policy import allow_pod_identity_agent
from ..core.problems import Problem, escape
from ..core.util import GPU_TOLERATION, LABEL_PREFIX, explicit_depends_on
from ..data.storage_access import MODELS_BUCKET, BucketAccess, ObjectStoreLike
from ..observability.metrics_catalog import DEPLOYMENT_LABEL, PREDICT_HISTOGRAM_FORMATS
from .kserve import KNATIVE, STANDARD

if TYPE_CHECKING:
    from ..data.storage_access import StoreAccess


def model_read_access(sources: Sequence[InferenceServiceOptions | CanaryArgs], store_buckets: Sequence[str]) -> list[BucketAccess]:
    """What a model server may read of the store: each model's own path in the models bucket; an
    ``s3://`` URI (checked to be one of the store's buckets) every bucket read-only; other
    schemes (``hf://``) nothing."""
    access = [BucketAccess(MODELS_BUCKET, prefix=source.model_path.strip("/")) for source in sources if source.model_path is not None]
    if any((source.storage_uri or "").startswith("s3://") for source in sources):
        access += [BucketAccess(bucket) for bucket in store_buckets]
    return access


MODEL_FORMATS: dict[str, tuple[str, str | None]] = {
    "sklearn": ("kserve-sklearnserver", None),
    "xgboost": ("kserve-xgbserver", None),
    "pytorch": ("kserve-torchserve", None),
    "onnx": ("kserve-tritonserver", "v2"),
    "huggingface": ("kserve-huggingfaceserver", None),
    "triton": ("kserve-tritonserver", "v2"),
}
"""Model format -> (ClusterServingRuntime from kserve-runtime-configs, protocol it needs)."""
STORAGE_SCHEMES = ("s3://", "gs://", "hf://", "oci://", "pvc://", "https://", "http://", "hdfs://", "webhdfs://")
"""URI schemes KServe's storage initializer downloads from."""
SERVING_SIGNALS: dict[str, tuple[str, ...]] = {"concurrency": ("huggingface",), "rps": PREDICT_HISTOGRAM_FORMATS}
"""Standard mode: serving signals KEDA scales on -> the model formats whose server exports them
(vLLM's running and waiting requests; the Python runtimes' ``request_predict_seconds`` count)."""
SCALE_METRICS = {STANDARD: ("cpu", "memory", *SERVING_SIGNALS), KNATIVE: ("concurrency", "rps")}
"""Metrics each mode accepts: the HPA's (cpu is KServe's default), the serving signals through KEDA,
and Knative's KPA's."""
SIGNAL_TARGETS = {"concurrency": 16, "rps": 50}
"""Per-replica target of a serving signal without ``scale_target``: requests in flight (vLLM batches
them; well below its batch limit, so queueing stays short), predictions per second."""
RATE_WINDOW = "2m"
"""rate() window of the rps signal: four scrapes at kube-prometheus-stack's 30s interval."""
AUTOSCALER_CLASS = "serving.kserve.io/autoscalerClass"
"""KServe v0.20 pkg/constants: ``hpa`` (default), ``keda`` (a ScaledObject from ``autoScaling``),
``none`` (no autoscaler: the Deployment keeps ``minReplicas``), ``external``."""
S3_ENDPOINT = "serving.kserve.io/s3-endpoint"
S3_USE_HTTPS = "serving.kserve.io/s3-usehttps"
S3_REGION = "serving.kserve.io/s3-region"
DEPLOYMENT_MODE = "serving.kserve.io/deploymentMode"
KSERVE_CONTAINER = "kserve-container"
_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUANTITY = re.compile(r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
_DNS_LABEL_MAX = 63


def _esc(text: Any) -> str:
    """Text from the caller, safe inside a message template."""
    return escape(text)


def _lit(value: Any) -> str:
    return _esc(repr(value))


def _valid_share(share: Any) -> bool:
    return isinstance(share, int) and not isinstance(share, bool) and 0 <= share <= 100


def _canary_name(name: Any) -> Any:
    if not name:
        raise ValueError("every canary needs a name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"must be lowercase letters, digits and '-', starting with a letter (got {name!r})")
    return name


def _share(share: Any) -> Any:
    if not _valid_share(share):
        raise ValueError(f"must be an integer 0-100 (got {share!r})")
    return share


class CanaryArgs(Options):
    """A candidate model next to the stable one (``inferenceServices[].canaries[]``). KServe runs it
    with a fixed replica count: no replica range or autoscaling settings."""

    name: Annotated[str, BeforeValidator(_canary_name)]
    """The canary's predictor name; its Deployment and Service are ``<service>-<name>-predictor``."""
    traffic_percent: Annotated[int, BeforeValidator(_share)]
    """Share of requests (0-100) the canary gets; the stable model gets what the canaries leave."""
    model_path: str | None = None
    """Path of the candidate model in the ``models`` bucket (set this or ``storage_uri``)."""
    storage_uri: str | None = None
    """Explicit URI of the candidate model (set this or ``model_path``)."""
    min_replicas: int | None = None
    """Fixed replica count, at most the stable predictor's ``min_replicas``. Unset: KServe derives
    it from the traffic share."""


class InferenceServiceOptions(Options):
    """What a caller or a stack file sets for one model (``inferenceServices[]``, with its ``name``)."""

    model_format: str
    """``sklearn``, ``xgboost``, ``pytorch``, ``onnx``, ``huggingface`` (vLLM) or ``triton``."""
    model_path: str | None = None
    """Path of the model in the object store's ``models`` bucket (set this or ``storage_uri``)."""
    storage_uri: str | None = None
    """Explicit model URI (``s3://``, ``hf://``, ... e.g. an MLflow registered model's artifact
    location; set this or ``model_path``)."""
    cpu: str = "1"
    """CPU request and limit of the model container."""
    memory: str = "2Gi"
    """Memory request and limit of the model container."""
    gpus: int = 0
    """GPUs per replica (requested and limited)."""
    gpu_resource: str = "nvidia.com/gpu"
    """Extended resource the GPUs are counted in (a MIG device type on a mixed-MIG pool)."""
    min_replicas: int = 1
    """Fewest replicas of the stable predictor."""
    max_replicas: int = 1
    """Most replicas the autoscaler may run."""
    scale_metric: str | None = None
    """Standard mode: ``cpu`` or ``memory`` (an HPA on metrics-server), or a serving signal that KEDA
    reads from Prometheus: ``concurrency`` (requests in flight in vLLM, model format huggingface) or
    ``rps`` (predictions per second, sklearn and xgboost). Knative mode: ``concurrency`` or ``rps``
    (Knative's autoscaler). Unset: ``concurrency`` for huggingface models in Standard mode, else
    KServe's default (cpu)."""
    scale_target: int | None = None
    """Target value of ``scale_metric`` per replica (a percentage for cpu). Unset: KServe's default,
    or for a serving signal 16 requests in flight (concurrency) or 50 predictions/s (rps)."""
    canary_traffic_percent: int | None = None
    """Knative mode: share of requests sent to the latest revision (the current model); the last
    revision that took all traffic keeps the rest."""
    canaries: Sequence[CanaryArgs] = ()
    """Standard mode: candidate models next to the stable one, each with its traffic share (needs a
    KServe gateway)."""
    model_cache_size: str | None = None
    """Cache the model on the GPU pool's NVMe (a LocalModelCache) with this size. Unset: no cache."""


class InferenceServiceArgs(InferenceServiceOptions):
    """A model's options plus what the composition injects."""

    kserve: SkipValidation[ServingPlatform]
    """The KServe installation: deployment mode, model namespace, the releases to wait for."""
    store: SkipValidation[ObjectStoreLike | None] = None
    """Object store that holds the model; the service account gets read access to it. Unset: none."""
    gpu_pool: SkipValidation[NodePool | None] = None
    """GPU pool the replicas run on (its node selector and tolerations). Unset: none."""
    prometheus: SkipValidation[MetricsBackend | None] = None
    """The Prometheus that scrapes the model server (Observability): KEDA queries it for a serving
    signal. Unset: no serving signal can be scaled on."""
    keda: SkipValidation[EventAutoscaler | None] = None
    """KEDA, which turns the ScaledObject KServe creates for a serving signal into an HPA. Unset: no
    serving signal can be scaled on."""


# ---------------------------------------------------------------- validation


def problems(
    options: InferenceServiceOptions,
    *,
    name: str,
    deployment_mode: str,
    gateway_api: bool = False,
    gpu_pool: NodePool | None = None,
    cached_pools: Collection[str] = (),
    has_store: bool = True,
    has_prometheus: bool = True,
) -> list[Problem]:
    """Everything KServe would reject in this model's InferenceService, or accept without doing it.

    Pure, so stack config validation calls it too. ``gpu_pool`` is the pool the replicas run on (a
    stand-in with an empty ``gpu_resources`` when what a node offers is unknown); ``cached_pools``
    are the names of the pools with a LocalModelNodeGroup; ``has_prometheus``: a Prometheus scrapes
    the models and KEDA can query it (what a serving signal needs).
    """
    s = options
    pool = gpu_pool.name if gpu_pool is not None else None
    gpu_capacity = dict(gpu_pool.gpu_resources) if gpu_pool is not None and gpu_pool.gpu_resources else None
    return [
        *_name_problems(name),
        *_model_problems(s, has_store),
        *_resource_problems(s, pool, gpu_capacity),
        *_scaling_problems(s, deployment_mode),
        *_signal_problems(s, deployment_mode, has_prometheus),
        *_canary_problems(name, s, deployment_mode, gateway_api, has_store),
        *_cache_problems(s, pool, cached_pools),
    ]


def _name_problems(name: str) -> list[Problem]:
    if not _NAME.match(name):
        return [
            Problem(
                ("name",),
                f"must be lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (got {_lit(name)})",
            )
        ]
    service = f"{name}-predictor"
    if len(service) > _DNS_LABEL_MAX:
        return [
            Problem(
                ("name",),
                f"too long: its Service {_lit(service)} would exceed {_DNS_LABEL_MAX} characters (at most {_DNS_LABEL_MAX - len('-predictor')})",
            )
        ]
    return []


def _source_problems(path: tuple, entry: InferenceServiceOptions | CanaryArgs, has_store: bool) -> list[Problem]:
    """Exactly one model source (KServe: exactly one model implementation, with a storageUri)."""
    model_path, uri = entry.model_path, entry.storage_uri
    if (model_path is None) == (uri is None):
        return [Problem(path, "set exactly one of {model_path} (in the models bucket) or {storage_uri}")]
    if model_path is not None:
        if not model_path.strip("/"):
            return [Problem((*path, "model_path"), "must name a path in the models bucket")]
        if _URI_SCHEME.match(model_path):
            return [Problem((*path, "model_path"), _path_is_uri(model_path))]
        if not has_store:
            return [Problem((*path, "model_path"), "needs the object store that holds the models bucket")]
        return []
    assert uri is not None
    if uri.startswith("mlflow-artifacts:") or uri.startswith("models:/"):
        return [
            Problem(
                (*path, "storage_uri"),
                f"KServe cannot download {_lit(uri)}: use the registered model's artifact location in the store (s3://...)",
            )
        ]
    if not uri.startswith(STORAGE_SCHEMES) or uri.rstrip("/") in (s.rstrip("/") for s in STORAGE_SCHEMES):
        return [Problem((*path, "storage_uri"), f"must start with one of {', '.join(STORAGE_SCHEMES)} and name a model (got {_lit(uri)})")]
    return []


def _model_problems(s: InferenceServiceOptions, has_store: bool) -> list[Problem]:
    problems = []
    if s.model_format not in MODEL_FORMATS:
        problems.append(Problem(("model_format",), f"must be one of {', '.join(MODEL_FORMATS)} (got {_lit(s.model_format)})"))
    return problems + _source_problems((), s, has_store)


def _quantity_problem(field: str, value: Any) -> list[Problem]:
    if not isinstance(value, str) or not _QUANTITY.match(value) or not re.search(r"[1-9]", value.split("e")[0].split("E")[0]):
        return [Problem((field,), f"must be a positive Kubernetes quantity such as '500m', '2' or '4Gi' (got {_lit(value)})")]
    return []


def _resource_problems(s: InferenceServiceOptions, pool: str | None, capacity: Mapping[str, int] | None) -> list[Problem]:
    problems = _quantity_problem("cpu", s.cpu) + _quantity_problem("memory", s.memory) or _memory_unit_problem(s.memory)
    gpus, resource = s.gpus, s.gpu_resource
    if gpus < 0:
        return [*problems, Problem(("gpus",), f"must be 0 or more (got {gpus})")]
    if gpus and capacity is not None:
        if resource not in capacity:
            offered = ", ".join(sorted(capacity)) or "nothing"
            problems.append(Problem(("gpu_resource",), f"pool {_lit(pool)} offers {_esc(offered)}, not {_lit(resource)}"))
        elif gpus > capacity[resource]:
            problems.append(
                Problem(
                    ("gpus",),
                    f"a replica cannot span nodes: a node of pool {_lit(pool)} has {capacity[resource]} {_esc(resource)} (asked {gpus})",
                )
            )
    return problems


def _scaling_problems(s: InferenceServiceOptions, mode: str) -> list[Problem]:
    low, high = s.min_replicas, s.max_replicas
    problems = []
    if low < 0:
        problems.append(Problem(("min_replicas",), f"must be 0 or more (got {low})"))
    elif low == 0 and uses_keda(s, mode):
        problems.append(
            Problem(
                ("min_replicas",),
                "a serving signal comes from the model's own replicas: with none left nothing would scale it up again; use 1 or more",
            )
        )
    elif low == 0 and mode == STANDARD:
        problems.append(
            Problem(("min_replicas",), "Standard mode cannot scale to zero (its HPA keeps at least 1 replica); use Knative mode or 1")
        )
    if high < 1:
        problems.append(Problem(("max_replicas",), f"must be 1 or more (got {high})"))
    elif low > high:
        problems.append(Problem(("max_replicas",), f"must be >= {{min_replicas}} ({low}) (got {high})"))
    metrics = SCALE_METRICS.get(mode, ())
    metric = s.scale_metric
    if metric is not None and metric not in metrics:
        scales = "scales on cpu or memory (an HPA) or concurrency or rps (KEDA)" if mode == STANDARD else "scales on concurrency or rps"
        autoscaler = "KServe" if mode == STANDARD else "Knative's autoscaler"
        problems.append(Problem(("scale_metric",), f"{autoscaler} in {_esc(mode)} mode {scales} (got {_lit(metric)})"))
    target = s.scale_target
    if target is not None:
        if target < 1:
            problems.append(Problem(("scale_target",), f"must be 1 or more (got {target})"))
        elif (metric or (metrics[0] if metrics else None)) == "cpu" and target > 100:
            problems.append(Problem(("scale_target",), f"a cpu target is a utilization percentage, 1-100 (got {target})"))
    return problems


def effective_scale_metric(s: InferenceServiceOptions, mode: str) -> str | None:
    """``scale_metric``, or what an unset one means: concurrency for an LLM in Standard mode."""
    if s.scale_metric is None and mode == STANDARD and s.model_format in SERVING_SIGNALS["concurrency"]:
        return "concurrency"
    return s.scale_metric


def uses_keda(s: InferenceServiceOptions, mode: str) -> bool:
    """The model scales on a serving signal: KServe creates a KEDA ScaledObject, not an HPA."""
    return mode == STANDARD and effective_scale_metric(s, mode) in SERVING_SIGNALS


def _signal_problems(s: InferenceServiceOptions, mode: str, has_prometheus: bool) -> list[Problem]:
    if not uses_keda(s, mode):
        return []
    metric = effective_scale_metric(s, mode)
    assert metric is not None
    key = ("scale_metric",)
    formats = SERVING_SIGNALS[metric]
    if s.model_format not in formats:
        usable = [m for m, fits in SERVING_SIGNALS.items() if s.model_format in fits] + ["cpu", "memory"]
        return [
            Problem(
                key,
                f"{_lit(metric)} is read from the model server's metrics, which only model format {' and '.join(formats)} "
                f"exports (got {_lit(s.model_format)}); use {', '.join(usable[:-1])} or {usable[-1]}",
            )
        ]
    if not has_prometheus:
        unset = " (unset: concurrency for huggingface models)" if s.scale_metric is None else ""
        return [
            Problem(
                key,
                f"scaling on {_lit(metric)}{_esc(unset)} needs Prometheus to scrape the model server and KEDA to query it "
                "(observability enabled; a component's prometheus and keda inputs): or use cpu or memory",
            )
        ]
    return []


def _canary_problems(name: str, s: InferenceServiceOptions, mode: str, gateway_api: bool, has_store: bool) -> list[Problem]:
    problems = []
    percent, canaries = s.canary_traffic_percent, list(s.canaries)
    if percent is not None:
        if mode != KNATIVE:
            problems.append(
                Problem(
                    ("canary_traffic_percent",),
                    f"only KServe's Knative reconciler reads canaryTrafficPercent; in {_esc(mode)} mode it is ignored and the "
                    "new model silently takes all traffic: list {canaries} instead",
                )
            )
        elif not 0 <= percent <= 100:
            problems.append(Problem(("canary_traffic_percent",), f"must be 0-100 (got {percent})"))
    if not canaries:
        return problems
    if mode != STANDARD:
        return [
            *problems,
            Problem(
                ("canaries",),
                f"KServe accepts spec.canary only in Standard mode; in {_esc(mode)} mode set {{canary_traffic_percent}} and change the model",
            ),
        ]
    if not gateway_api:
        problems.append(
            Problem(
                ("canaries",),
                "Standard mode splits traffic only through Gateway API HTTPRoutes; without a KServe gateway the "
                "canaries would run but get no requests: give KServe a gateway or remove the canaries",
            )
        )
    seen: set[str] = set()
    for index, canary in enumerate(canaries):
        problems += _canary_entry_problems(name, index, canary, s.min_replicas, seen, has_store)
    total = sum(c.traffic_percent for c in canaries)
    if total > 100:
        problems.append(Problem(("canaries",), f"canary traffic percentages add up to {total}; at most 100"))
    return problems


def _canary_entry_problems(name: str, index: int, canary: CanaryArgs, stable_min: int, seen: set[str], has_store: bool) -> list[Problem]:
    path: tuple[str | int, ...] = ("canaries", index)
    found = []
    label = canary.name
    if label in seen:
        found.append(Problem((*path, "name"), f"duplicate canary name {_lit(label)}"))
    elif len(f"{name}-{label}-predictor") > _DNS_LABEL_MAX:
        found.append(
            Problem((*path, "name"), f"too long: Service {_esc(name)}-{_esc(label)}-predictor would exceed {_DNS_LABEL_MAX} characters")
        )
    seen.add(label)
    found += _source_problems(path, canary, has_store)
    low = canary.min_replicas
    if low is not None and not 0 <= low <= stable_min:
        found.append(Problem((*path, "min_replicas"), f"must be 0 to the stable predictor's {{min_replicas}} ({stable_min}) (got {low})"))
    return found


def _cache_problems(s: InferenceServiceOptions, pool: str | None, cached_pools: Collection[str]) -> list[Problem]:
    size = s.model_cache_size
    if size is None:
        return []
    problems = _quantity_problem("model_cache_size", size)
    if pool is None:
        problems.append(Problem(("model_cache_size",), "the model cache lives on a GPU pool's NVMe: set {gpu_pool}"))
    elif pool not in cached_pools:
        problems.append(
            Problem(("model_cache_size",), f"pool {_lit(pool)} has no local model cache: add it to KServe's {{local_model_pools}}")
        )
    return problems


# ---------------------------------------------------------------- manifests


def endpoint_host(url: str) -> str:
    """``http://minio.minio.svc:9000/`` -> ``minio.minio.svc:9000`` (KServe adds the scheme itself)."""
    return url.split("://", 1)[-1].rstrip("/")


def s3_annotations(access: "StoreAccess") -> dict[str, pulumi.Input[str]]:
    """Where KServe's storage initializer finds the store (read from the credentials Secret, or from
    the service account when it carries an IRSA role)."""
    return {
        S3_ENDPOINT: pulumi.Output.from_input(access.endpoint_url).apply(endpoint_host),
        S3_USE_HTTPS: "1" if access.use_https else "0",
        S3_REGION: access.region,
    }


def model_spec(s: InferenceServiceOptions, storage_uri: pulumi.Input[str]) -> dict[str, Any]:
    runtime, protocol = MODEL_FORMATS[s.model_format]
    quantities: dict[str, Any] = {"cpu": s.cpu, "memory": s.memory}
    if s.gpus:
        quantities[s.gpu_resource] = s.gpus
    model: dict[str, Any] = {
        "modelFormat": {"name": s.model_format},
        "runtime": runtime,
        "storageUri": storage_uri,
        "resources": {"requests": dict(quantities), "limits": dict(quantities)},
    }
    if protocol:
        model["protocolVersion"] = protocol
    return model


def placement(s: InferenceServiceArgs, service_account: str) -> dict[str, Any]:
    """Pod-level settings shared by the stable predictor and its canaries."""
    pod: dict[str, Any] = {
        "serviceAccountName": service_account,
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    }
    pool = s.gpu_pool
    tolerations = list(pool.tolerations) if pool is not None else []
    if s.gpus and GPU_TOLERATION not in tolerations:
        tolerations.append(dict(GPU_TOLERATION))
    if pool is not None:
        pod["nodeSelector"] = dict(pool.node_selector)
    if tolerations:
        pod["tolerations"] = tolerations
    return pod


def predictor_deployment(name: str) -> str:
    """The stable predictor's Deployment (KServe's ``PredictorServiceName`` without a predictor name)."""
    return f"{name}-predictor"


def serving_signal_query(metric: str, namespace: str, deployment: str) -> str:
    """PromQL for a serving signal over the pods of one predictor Deployment: one series, as KEDA's
    Prometheus scaler requires; empty (no pods yet) counts as 0 (its ``ignoreNullValues`` default)."""
    pods = f'{{namespace="{namespace}",{DEPLOYMENT_LABEL}="{deployment}"}}'
    if metric == "concurrency":
        # Running and waiting together: waiting alone is 0 whenever replicas keep up, and KEDA's
        # AverageValue target (ceil(value / target) replicas) would then shrink them until a queue forms.
        return f"sum(vllm:num_requests_running{pods}) + sum(vllm:num_requests_waiting{pods})"
    return f"sum(rate(request_predict_seconds_count{pods}[{RATE_WINDOW}]))"


def keda_autoscaling(metric: str, target: int, query: str, prometheus_url: pulumi.Input[str]) -> dict[str, Any]:
    """``predictor.autoScaling`` for KServe's KEDA reconciler: one External metric, which it turns into
    a ``prometheus`` trigger (serverAddress, query, threshold = the target per replica)."""
    external = {
        "metric": {"backend": "prometheus", "serverAddress": prometheus_url, "query": query},
        "target": {"type": "Value", "value": str(target)},
    }
    return {"metrics": [{"type": "External", "external": external}]}


def predictor_spec(
    s: InferenceServiceArgs,
    mode: str,
    storage_uri: pulumi.Input[str],
    service_account: str,
    *,
    name: str = "",
    namespace: str = "",
    prometheus_url: pulumi.Input[str] | None = None,
) -> dict[str, Any]:
    predictor: dict[str, Any] = {
        **placement(s, service_account),
        "minReplicas": s.min_replicas,
        "maxReplicas": s.max_replicas,
        "model": model_spec(s, storage_uri),
    }
    if uses_keda(s, mode):
        # KServe's webhook rejects scaleMetric with autoscalerClass keda (validateScalingKedaCompExtension).
        metric = effective_scale_metric(s, mode)
        assert metric is not None and prometheus_url is not None  # problems() and the component guarantee both
        query = serving_signal_query(metric, namespace, predictor_deployment(name))
        target = s.scale_target if s.scale_target is not None else SIGNAL_TARGETS[metric]
        predictor["autoScaling"] = keda_autoscaling(metric, target, query, prometheus_url)
        return predictor
    if s.scale_metric is not None:
        predictor["scaleMetric"] = s.scale_metric
    if s.scale_target is not None:
        predictor["scaleTarget"] = s.scale_target
    if mode == KNATIVE and s.canary_traffic_percent is not None:
        predictor["canaryTrafficPercent"] = s.canary_traffic_percent
    return predictor


def canary_specs(
    s: InferenceServiceArgs, storage_uris: Sequence[pulumi.Input[str]], service_account: str, *, keda: bool = False
) -> list[dict[str, Any]]:
    """``spec.canary`` entries: the whole predictor but no replica range or autoscaling."""
    entries = []
    for canary, uri in zip(s.canaries, storage_uris, strict=True):
        # The canary schema requires the container name the stable predictor must leave unset.
        model = {"name": KSERVE_CONTAINER, **model_spec(s, uri)}
        predictor: dict[str, Any] = {"name": canary.name, **placement(s, service_account), "model": model}
        if keda:
            # KServe reconciles each canary with the service's autoscaler class but no autoScaling
            # (components/predictor.go reconcileCanaryDeployments): under keda that is a ScaledObject
            # without triggers, which KEDA's webhook rejects ("no triggers defined"). The canary's
            # own class wins over the service's (buildObjectMeta): none keeps its fixed replicas.
            predictor["annotations"] = {AUTOSCALER_CLASS: "none"}
        if canary.min_replicas is not None:
            predictor["minReplicas"] = canary.min_replicas
        entries.append({"trafficPercent": canary.traffic_percent, "predictor": predictor})
    return entries


def inference_service_manifest(
    name: str,
    namespace: str,
    s: InferenceServiceArgs,
    mode: str,
    *,
    storage_uri: pulumi.Input[str],
    canary_uris: Sequence[pulumi.Input[str]] = (),
    service_account: str,
    prometheus_url: pulumi.Input[str] | None = None,
) -> dict[str, Any]:
    """The ``serving.kserve.io/v1beta1`` InferenceService for one model."""
    keda = uses_keda(s, mode)
    predictor = predictor_spec(s, mode, storage_uri, service_account, name=name, namespace=namespace, prometheus_url=prometheus_url)
    spec: dict[str, Any] = {"predictor": predictor}
    if s.canaries and mode == STANDARD:
        spec["canary"] = canary_specs(s, canary_uris, service_account, keda=keda)
    # Pinned per service: KServe refuses to change a service's mode after creation.
    annotations: dict[str, str] = {DEPLOYMENT_MODE: mode}
    if keda:
        annotations[AUTOSCALER_CLASS] = "keda"
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {f"{LABEL_PREFIX}/model": name},
            "annotations": annotations,
        },
        "spec": spec,
    }


def local_model_cache_manifest(
    name: str, source_uri: pulumi.Input[str], size: str, node_group: str, service_account: str | None
) -> dict[str, Any]:
    """A LocalModelCache: KServe downloads ``source_uri`` once per node of the node group, and serves
    every InferenceService with that storageUri from the local copy."""
    spec: dict[str, Any] = {"sourceModelUri": source_uri, "modelSize": size, "nodeGroups": [node_group]}
    if service_account is not None:
        spec["serviceAccountName"] = service_account
    return {"apiVersion": "serving.kserve.io/v1alpha1", "kind": "LocalModelCache", "metadata": {"name": name}, "spec": spec}


# ---------------------------------------------------------------- component


def _custom_resource(name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        name, api_version=manifest["apiVersion"], kind=manifest["kind"], metadata=manifest["metadata"], spec=manifest["spec"], opts=opts
    )


class InferenceService(pulumi.ComponentResource):
    inference_service: k8s.apiextensions.CustomResource
    service_account: k8s.core.v1.ServiceAccount
    storage_uri: pulumi.Output[str]
    model_cache: k8s.apiextensions.CustomResource | None

    def __init__(self, name: str, args: InferenceServiceArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        def rules(a: InferenceServiceArgs) -> list[Problem]:
            return problems(
                a,
                name=name,
                deployment_mode=a.kserve.deployment_mode,
                gateway_api=a.kserve.gateway_api,
                gpu_pool=a.gpu_pool,
                cached_pools=set(a.kserve.local_model_node_groups),
                has_store=a.store is not None,
                has_prometheus=a.prometheus is not None and a.keda is not None,
            )

        s = parse_args(InferenceServiceArgs, args, component="InferenceService", name=name, problems=rules)
        kserve = s.kserve
        super().__init__("aiplatform:index:InferenceService", name, None, opts)
        self._name, self._store = name, s.store
        after = explicit_depends_on(opts)
        namespace = kserve.model_namespace

        account = f"{name}-model"
        # The model namespace is KServe's isolated one: its pods need a way to the credentials.
        waits = [*kserve.model_namespace_ready, *after]
        self.service_account, identity = self._identity(account, namespace, waits, [s, *s.canaries], isolated=True)
        self.storage_uri = pulumi.Output.from_input(self._uri(s))
        canary_uris = [self._uri(c) for c in s.canaries]
        keda = uses_keda(s, kserve.deployment_mode)
        manifest = inference_service_manifest(
            name,
            namespace,
            s,
            kserve.deployment_mode,
            storage_uri=self.storage_uri,
            canary_uris=canary_uris,
            service_account=account,
            prometheus_url=s.prometheus.prometheus_url if keda and s.prometheus is not None else None,
        )
        # KServe creates the ScaledObject: its CRD and KEDA's admission webhook must exist first.
        scaler = list(s.keda.ready) if keda and s.keda is not None else []
        self.inference_service = _custom_resource(
            name,
            manifest,
            pulumi.ResourceOptions(parent=self, depends_on=[*kserve.crds_ready, *kserve.model_namespace_ready, *scaler, *identity, *after]),
        )
        self.model_cache = self._model_cache(s, kserve, after) if s.model_cache_size else None
        self.register_outputs({"storage_uri": self.storage_uri, "namespace": namespace, "service_account": self.service_account})

    def _uri(self, source: InferenceServiceOptions | CanaryArgs) -> pulumi.Input[str]:
        if source.model_path is not None:
            assert self._store is not None  # problems() requires a store for a model path
            return self._store.bucket_uri(MODELS_BUCKET, source.model_path.strip("/"))
        assert source.storage_uri is not None
        return source.storage_uri

    def _identity(
        self,
        account: str,
        namespace: str,
        waits: list[pulumi.Resource],
        sources: Sequence[InferenceServiceOptions | CanaryArgs],
        *,
        isolated: bool = False,
    ) -> tuple[k8s.core.v1.ServiceAccount, list[pulumi.Resource]]:
        """The service account the pods run as, with the store's credentials the way KServe reads
        them; returns it and everything a pod using it must wait for. In an ``isolated``
        namespace that includes the NetworkPolicy to the Pod Identity agent when the credentials
        come from it (a policy in a namespace no policy isolates would isolate it)."""
        access = None
        readable = model_read_access(sources, self._store.buckets) if self._store else []
        if self._store and readable:
            access = self._store.grant(
                account, namespace=namespace, service_account=account, access=readable, parent=self, depends_on=waits
            )
        annotations: dict[str, pulumi.Input[str]] = {}
        secrets: list[k8s.core.v1.ObjectReferenceArgsDict] | None = None
        patches: list[pulumi.Resource] = []
        if access is not None:
            annotations = {**access.service_account_annotations, **s3_annotations(access)}
            if access.credentials_secret is not None:
                secrets = [{"name": access.credentials_secret}]
                # KServe reads the endpoint from annotations on the Secret that holds the keys.
                patches.append(
                    k8s.core.v1.SecretPatch(
                        f"{account}-s3",
                        metadata={"name": access.credentials_secret, "namespace": namespace, "annotations": s3_annotations(access)},
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[*access.depends_on, *waits]),
                    )
                )
        metadata: k8s.meta.v1.ObjectMetaArgsDict = {"name": account, "namespace": namespace}
        if annotations:
            metadata["annotations"] = annotations
        service_account = k8s.core.v1.ServiceAccount(
            account,
            metadata=metadata,
            automount_service_account_token=False,  # model servers do not call the Kubernetes API
            secrets=secrets,
            opts=pulumi.ResourceOptions(parent=self, depends_on=waits),
        )
        grants = list(access.depends_on) if access is not None else []
        if access is not None and access.pod_identity_agent and isolated:
            opts = pulumi.ResourceOptions(depends_on=waits)
            grants.append(allow_pod_identity_agent(f"{account}-pod-identity-agent", namespace, account, parent=self, opts=opts))
        return service_account, [service_account, *patches, *grants]

    def _model_cache(self, s: InferenceServiceArgs, kserve: ServingPlatform, after: list) -> k8s.apiextensions.CustomResource:
        assert s.gpu_pool is not None and s.model_cache_size is not None  # problems() requires both for a cache
        group = s.gpu_pool.name
        account, identity = None, []
        if self._store is not None:
            # The download job runs in KServe's job namespace, which the controller release creates.
            account = f"{self._name}-model-cache"
            _, identity = self._identity(account, kserve.local_model_jobs_namespace, [*kserve.crds_ready, *after], [s])
        manifest = local_model_cache_manifest(self._name, self.storage_uri, s.model_cache_size, group, account)
        return _custom_resource(
            self._name,
            manifest,
            pulumi.ResourceOptions(
                parent=self,
                depends_on=[*kserve.crds_ready, kserve.local_model_node_groups[group], *identity, *after],
                # sourceModelUri is immutable: a new model is a new cache.
                replace_on_changes=["spec.sourceModelUri"],
                delete_before_replace=True,
            ),
        )


# ---------------------------------------------------------------- paths that are URIs, memory without a unit

_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _path_is_uri(model_path: str) -> str:
    return (
        f"is a path inside the models bucket, not a URI (got {_lit(model_path)}): give the path without scheme and "
        "bucket, or set {storage_uri} instead"
    )


_BYTES_WITHOUT_UNIT = re.compile(r"^[0-9.]+m?$")
_ONE_MIB = 1024 * 1024


def _memory_unit_problem(memory: str) -> list[Problem]:
    """A memory quantity without a unit counts bytes (``m``: thousandths of one): under 1Mi no container starts."""
    if _BYTES_WITHOUT_UNIT.match(memory) and float(memory.rstrip("m")) / (1000 if memory.endswith("m") else 1) < _ONE_MIB:
        return [Problem(("memory",), f"{_lit(memory)} is less than 1Mi of bytes: add a unit, e.g. '{_esc(memory.rstrip('m'))}Mi' or 'Gi'")]
    return []
