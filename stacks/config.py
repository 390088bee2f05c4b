"""Typed stack configuration, read from the ``ai-platform`` config namespace.

Two passes, both before any resource exists: pydantic checks shapes, types, ranges and enums
(``extra="forbid"`` everywhere), then :func:`stacks.rules.cross_field_problems` checks the rules that span
fields. Every problem carries its full config key path; all of them are reported at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from components.cluster.capacity import NodeCapacityOptions
from components.cluster.cluster_autoscaler import ClusterAutoscalerOptions
from components.cluster.eks_cluster import EksClusterOptions
from components.cluster.gpu_node_pool import GpuNodePoolOptions
from components.cluster.metrics_server import MetricsServerOptions
from components.cluster.vpc import VpcOptions
from components.cluster.workload_access import WorkloadAccessOptions
from components.compute.gpu_operator import GpuOperatorOptions
from components.compute.ray_cluster import RayClusterOptions, RayWorkerGroupOptions
from components.core.problems import Problem, escape
from components.core.types import Name, RoleArn
from components.data.model_registry import ModelRegistryOptions
from components.data.object_store import ObjectStoreOptions
from components.observability.observability import ObservabilityOptions
from components.serving.inference_service import InferenceServiceOptions
from components.serving.ingress_gateway import IngressGatewayOptions
from components.serving.keda import KedaOptions
from components.serving.kserve import KServeOptions
from stacks.errors import NAMESPACE, ConfigError

EXISTING_CLUSTER_VERSIONS = tuple(f"1.{minor}" for minor in range(25, 38))
"""Minors we can check rendered objects against (kubernetes-validate's schemas)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)


class VpcConfig(VpcOptions):
    availability_zones: list[str] | None = None
    """Three AZs of the region; default: the region's ``a``, ``b`` and ``c`` zones."""


class ClusterConfig(EksClusterOptions):
    """The EKS cluster's options (``EksClusterOptions``) plus the provider choice; on ``existing``
    only ``name``, ``kubernetesVersion`` and ``kubeconfigContext`` apply."""

    provider: Literal["eks", "existing"]
    """``eks`` creates VPC + EKS; ``existing`` targets a cluster from a kubeconfig context."""
    name: Name
    """The cluster's name."""
    # provider: existing
    kubeconfig_context: str | None = None
    """Context of the local kubeconfig (existing clusters only); default ``kind-<name>``."""
    node_capacity: NodeCapacityOptions = NodeCapacityOptions()
    """Size of the existing cluster's one node for the scheduling model (default: 8 CPUs, 16 GiB, 110 pods)."""
    # provider: eks
    vpc: VpcConfig = VpcConfig()  # pyright: ignore[reportIncompatibleVariableOverride]  (frozen: read-only, so a subtype is safe)
    """The cluster's network."""


EKS_ONLY_CLUSTER_KEYS = (
    "vpc",
    "endpoint",
    "admin_role_arns",
    "workload_identity",
    "control_plane_logs",
    "log_retention_days",
    "system_node_group",
    "cpu_node_group",
    "addon_versions",
    "deletion_protection",
)


class GpuPoolConfig(GpuNodePoolOptions):
    name: Name
    """The pool's name: its node group, its ``ai-platform.io/pool`` label."""


class GpuOperatorConfig(GpuOperatorOptions):
    enabled: bool = True
    """Install the NVIDIA GPU Operator."""


class ClusterAutoscalerConfig(ClusterAutoscalerOptions):
    enabled: bool = True
    """Install the cluster-autoscaler (EKS only)."""


class MetricsServerConfig(MetricsServerOptions):
    enabled: bool = True
    """Install metrics-server, which every HPA (KServe's Standard-mode autoscaling) reads cpu and memory from."""


class ObjectStoreConfig(ObjectStoreOptions):
    enabled: bool = True
    """Create the object store (buckets for datasets and model versions)."""


class ModelRegistryConfig(ModelRegistryOptions):
    enabled: bool = True
    """Run the MLflow tracking server and model registry (needs the object store)."""


class IngressGatewayConfig(IngressGatewayOptions):
    enabled: bool = False
    """Install Envoy Gateway; KServe then creates its Gateway and splits canary traffic through it."""


class KServeConfig(KServeOptions):
    enabled: bool = True
    """Install KServe (cert-manager, the controller, the serving runtimes)."""
    local_model_pools: list[Name] = []
    """GPU pools whose NVMe caches models (KServe LocalModelCache)."""
    ingress_gateway: IngressGatewayConfig = IngressGatewayConfig()
    """Envoy Gateway, installed by the platform for KServe's Gateway API routes."""


class KedaConfig(KedaOptions):
    """KEDA, installed exactly when an InferenceService scales on a serving signal."""


class InferenceServiceConfig(InferenceServiceOptions):
    name: str
    """The model's name: its InferenceService, Service and service account."""
    gpu_pool: Name | None = None
    """Name of the GPU pool (``gpuPools[].name``) the replicas run on."""


class ObservabilityConfig(ObservabilityOptions):
    enabled: bool = True
    """Install kube-prometheus-stack with the platform's scraping, alerts and dashboards."""


class RayWorkerGroupConfig(RayWorkerGroupOptions):
    gpu_pool: Name | None = None
    """Name of the GPU pool (``gpuPools[].name``) the workers run on."""


class RayClusterConfig(RayClusterOptions):
    name: str
    """The cluster's name: its RayCluster and, unless ``namespace`` is set, its namespace."""
    worker_groups: Sequence[RayWorkerGroupConfig] = ()  # pyright: ignore[reportIncompatibleVariableOverride]
    """CPU and GPU worker groups. Empty: the head alone."""


@dataclass
class PoolStandIn:
    """A configured GPU pool as the component rules see it (the NodePool contract), before it exists."""

    name: str
    gpu_resources: Mapping[str, int]
    """What one node offers; empty when the pool's instance types are unknown."""
    labels: Mapping[str, str] = field(default_factory=dict)
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: Sequence[Mapping[str, str]] = ()
    time_slicing_replicas: int | None = None
    device_plugin_config: str | None = None


class AccessConfig(WorkloadAccessOptions):
    """Who may deploy models and run Ray jobs, and who may only look (namespace-scoped RBAC)."""

    deployer_role_arns: list[RoleArn] = []
    """EKS: IAM roles whose sessions join the first deployer group (access entries)."""
    viewer_role_arns: list[RoleArn] = []
    """EKS: IAM roles whose sessions join the first viewer group."""


class PlatformConfig(_Model):
    """Everything under the ``ai-platform`` config namespace."""

    cluster: ClusterConfig
    """The cluster: a new EKS cluster, or an existing one from a kubeconfig context."""
    gpu_pools: list[GpuPoolConfig] = []
    """GPU node pools that scale from zero (EKS only)."""
    gpu_operator: GpuOperatorConfig = GpuOperatorConfig()
    """The NVIDIA GPU Operator: device plugin, MIG, time-slicing, DCGM."""
    cluster_autoscaler: ClusterAutoscalerConfig = ClusterAutoscalerConfig()
    """The cluster-autoscaler that grows and shrinks the GPU pools (EKS only)."""
    metrics_server: MetricsServerConfig = MetricsServerConfig()
    """metrics-server: the resource metrics API that HorizontalPodAutoscalers read."""
    object_store: ObjectStoreConfig = ObjectStoreConfig()
    """Buckets for datasets and model versions: S3 or MinIO."""
    model_registry: ModelRegistryConfig = ModelRegistryConfig()
    """MLflow's tracking server and model registry, with its PostgreSQL."""
    observability: ObservabilityConfig = ObservabilityConfig()
    """Prometheus, Alertmanager and Grafana, with the platform's alerts and dashboards."""
    ray_clusters: list[RayClusterConfig] = []
    """Ray clusters, each in its own namespace, run by KubeRay."""
    kserve: KServeConfig = KServeConfig()
    """KServe, which serves the inference services."""
    keda: KedaConfig = KedaConfig()
    """KEDA, which scales the inference services that scale on a serving signal (``scaleMetric``
    concurrency or rps in Standard mode, the default for huggingface models); installed only then."""
    inference_services: list[InferenceServiceConfig] = []
    """Models served by KServe."""
    access: AccessConfig = AccessConfig()
    """Who may deploy models and run Ray work, and who may only look."""
    tags: dict[str, str] = {}
    """Tags added to every AWS resource."""


class StackConfig(BaseModel):
    """The validated configuration plus the facts read from outside our namespace."""

    model_config = ConfigDict(frozen=True)
    stack: str
    region: str | None
    platform: PlatformConfig
    secret_keys: frozenset[str] | None = None
    """Keys of the namespace set as Pulumi secrets (outside the schema); None: not known."""

    @property
    def is_eks(self) -> bool:
        return self.platform.cluster.provider == "eks"

    @property
    def keda_enabled(self) -> bool:
        """KEDA is installed: KServe serves a model that scales on a serving signal."""
        from components.serving.inference_service import uses_keda

        kserve = self.platform.kserve
        return kserve.enabled and any(uses_keda(m, kserve.deployment_mode) for m in self.platform.inference_services)

    @property
    def availability_zones(self) -> list[str]:
        zones = self.platform.cluster.vpc.availability_zones
        return zones if zones else [f"{self.region}{suffix}" for suffix in "abc"]


# ---------------------------------------------------------------- loading


def load_stack_config() -> StackConfig:
    """Read and validate the running stack's config; raise :class:`ConfigError` on any problem."""
    import pulumi

    every = pulumi.runtime.config.CONFIG.get()
    raw = {key.split(":", 1)[1]: _decode(value) for key, value in every.items() if key.startswith(f"{NAMESPACE}:")}
    region = pulumi.Config("aws").get("region")
    secret_keys = {key for key in raw if pulumi.runtime.config.is_config_secret(f"{NAMESPACE}:{key}")}
    return parse_stack_config(raw, stack=pulumi.get_stack(), region=region, secret_keys=secret_keys, other_keys=every)


def _decode(value: Any) -> Any:
    """Pulumi hands structured values over as JSON text and scalars as plain strings."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def parse_stack_config(
    raw: dict[str, Any],
    *,
    stack: str,
    region: str | None,
    secret_keys: Collection[str] | None = None,
    other_keys: Collection[str] = (),
) -> StackConfig:
    """Validate ``raw`` (the ``ai-platform`` keys). ``secret_keys``: the keys set as Pulumi secrets (values
    such as alert receivers' URLs, read by the program, not part of the schema); None: not known, so the
    rule that each receiver's secret is set is not checked. ``other_keys``: every key of the stack, in
    every namespace, checked for near misses of ours (whose blocks the program would never read)."""
    schema_keys = {f.alias or name for name, f in PlatformConfig.model_fields.items()}
    secrets = frozenset(k for k in secret_keys or () if k not in schema_keys)
    misspelled = namespace_typo_problems(other_keys)
    try:
        platform = PlatformConfig.model_validate({k: v for k, v in raw.items() if k not in secrets})
    except ValidationError as error:
        raise ConfigError(misspelled + [_problem_from(e) for e in error.errors()]) from None
    config = StackConfig(stack=stack, region=region, platform=platform, secret_keys=None if secret_keys is None else secrets)
    from stacks.rules import cross_field_problems

    problems = misspelled + cross_field_problems(config)
    if problems:
        raise ConfigError(problems)
    return config


def namespace_typo_problems(keys: Collection[str]) -> list[Problem]:
    """Keys whose namespace is a near miss of ``ai-platform`` (``ai_platform``, ``ai-plaform``): Pulumi
    takes them as another package's config, and the program would silently go without the block."""
    found = []
    for key in keys:
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE and _edit_distance(namespace.lower(), NAMESPACE) <= 2:
            found.append(
                Problem(
                    (key,),
                    f"namespace {escape(repr(namespace))} is not {NAMESPACE}, so the program never reads this key: "
                    f"did you mean {NAMESPACE}:{escape(name)}?",
                )
            )
    return found


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def _problem_from(error: Any) -> Problem:
    loc = tuple(_field_name(part) for part in error["loc"] if part != "[key]")  # pydantic marks bad map keys
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(loc[:-1]))
        return Problem(loc, f"unknown key; allowed keys: {allowed}")
    if kind == "missing":
        return Problem(loc, "required key is missing")
    message = error["msg"].removeprefix("Value error, ")
    if kind != "value_error" and "input" in error:
        message += f" (got {error['input']!r})"
    return Problem(loc, escape(message))


def _allowed_keys(loc: tuple) -> list[str]:
    """Camel-case keys the model at ``loc`` accepts, for 'unknown key' messages."""
    model: Any = PlatformConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields[_snake(part)]
        model = _model_in(field.annotation)
    return sorted(f.alias or name for name, f in model.model_fields.items())


def _field_name(part: str | int) -> str | int:
    """A location part as a field name: ``maxSize`` -> ``max_size``; map keys and indices unchanged."""
    if isinstance(part, int) or to_camel(_snake(part)) != part:
        return part
    return _snake(part)


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
