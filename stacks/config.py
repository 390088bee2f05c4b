"""Typed stack configuration, read from the ``ai-platform`` config namespace.

Two passes, both before any resource exists: pydantic checks shapes, types, ranges and enums
(``extra="forbid"`` everywhere), then :func:`cross_field_problems` checks the rules that span
fields. Every problem carries its full config key path; all of them are reported at once.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from components.cluster.cluster_autoscaler import ClusterAutoscalerOptions
from components.cluster.eks_cluster import EksClusterOptions
from components.cluster.eks_cluster import problems as eks_cluster_problems
from components.cluster.gpu_catalog import GPU_INSTANCE_TYPES, gpu_resources
from components.cluster.gpu_node_pool import GpuNodePoolOptions
from components.cluster.gpu_node_pool import problems as gpu_pool_problems
from components.cluster.vpc import VpcOptions
from components.cluster.workload_access import WorkloadAccessOptions
from components.compute.gpu_operator import GpuOperatorOptions
from components.compute.ray_cluster import RayClusterOptions, RayWorkerGroupOptions
from components.data.model_registry import ModelRegistryOptions
from components.data.object_store import ObjectStoreOptions
from components.data.object_store import problems as object_store_problems
from components.observability.observability import ObservabilityOptions
from components.observability.observability import problems as observability_problems
from components.serving.inference_service import InferenceServiceOptions
from components.serving.ingress_gateway import IngressGatewayOptions
from components.serving.kserve import KServeOptions
from stacks.errors import NAMESPACE, ConfigError, Problem, key_path

EXISTING_CLUSTER_VERSIONS = tuple(f"1.{minor}" for minor in range(25, 38))
"""Minors we can check rendered objects against (kubernetes-validate's schemas)."""

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def _dns_label(max_length: int):
    def check(value: str) -> str:
        if len(value) > max_length or not _DNS_LABEL.match(value):
            raise ValueError(
                f"must be a DNS-1123 label of at most {max_length} characters: lowercase "
                f"letters, digits and '-', starting with a letter (got {value!r})"
            )
        return value

    return AfterValidator(check)


def _matches(pattern: re.Pattern, what: str):
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"must be {what} (got {value!r})")
        return value

    return AfterValidator(check)


def _ipv4_cidr(value: str) -> str:
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"must be an IPv4 CIDR such as 10.0.0.0/16 (got {value!r}: {error})") from None
    return value


Name = Annotated[str, _dns_label(40)]
InstanceType = Annotated[str, _matches(_INSTANCE_TYPE, "an EC2 instance type such as m7i.xlarge")]
RoleArn = Annotated[str, _matches(_ROLE_ARN, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")]
LabelKey = Annotated[str, _matches(_LABEL_KEY, "a Kubernetes label key")]
Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]


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
    local_model_pools: list[Name] = []
    """GPU pools whose NVMe caches models (KServe LocalModelCache)."""
    ingress_gateway: IngressGatewayConfig = IngressGatewayConfig()


class InferenceServiceConfig(InferenceServiceOptions):
    name: str
    """The model's name: its InferenceService, Service and service account."""
    gpu_pool: Optional[Name] = None
    """Name of the GPU pool (``gpuPools[].name``) the replicas run on."""


class ObservabilityConfig(ObservabilityOptions):
    enabled: bool = True
    """Install kube-prometheus-stack with the platform's scraping, alerts and dashboards."""


class RayWorkerGroupConfig(RayWorkerGroupOptions):
    gpu_pool: Optional[Name] = None
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
    time_slicing_replicas: Optional[int] = None
    device_plugin_config: Optional[str] = None


class AccessConfig(WorkloadAccessOptions):
    """Who may deploy models and run Ray jobs, and who may only look (namespace-scoped RBAC)."""

    deployer_role_arns: list[RoleArn] = []
    """EKS: IAM roles whose sessions join the first deployer group (access entries)."""
    viewer_role_arns: list[RoleArn] = []
    """EKS: IAM roles whose sessions join the first viewer group."""


class ComponentToggle(_Model):
    """Placeholder for a platform service that later work fills in."""

    enabled: bool = True


class NamedWorkload(_Model):
    """Placeholder for a workload (Ray cluster, inference service) that later work fills in."""

    name: Name


class PlatformConfig(_Model):
    cluster: ClusterConfig
    gpu_pools: list[GpuPoolConfig] = []
    gpu_operator: GpuOperatorConfig = GpuOperatorConfig()
    cluster_autoscaler: ClusterAutoscalerConfig = ClusterAutoscalerConfig()
    object_store: ObjectStoreConfig = ObjectStoreConfig()
    model_registry: ModelRegistryConfig = ModelRegistryConfig()
    observability: ObservabilityConfig = ObservabilityConfig()
    ray_clusters: list[RayClusterConfig] = []
    kserve: KServeConfig = KServeConfig()
    inference_services: list[InferenceServiceConfig] = []
    access: AccessConfig = AccessConfig()
    tags: dict[str, str] = {}
    """Tags added to every AWS resource."""


class StackConfig(BaseModel):
    """The validated configuration plus the facts read from outside our namespace."""

    model_config = ConfigDict(frozen=True)
    stack: str
    region: str | None
    platform: PlatformConfig

    @property
    def is_eks(self) -> bool:
        return self.platform.cluster.provider == "eks"

    @property
    def availability_zones(self) -> list[str]:
        zones = self.platform.cluster.vpc.availability_zones
        return zones if zones else [f"{self.region}{suffix}" for suffix in "abc"]


# ---------------------------------------------------------------- loading


def load_stack_config() -> StackConfig:
    """Read and validate the running stack's config; raise :class:`ConfigError` on any problem."""
    import pulumi

    raw = {
        key.split(":", 1)[1]: _decode(value) for key, value in pulumi.runtime.config.CONFIG.get().items() if key.startswith(f"{NAMESPACE}:")
    }
    region = pulumi.Config("aws").get("region")
    return parse_stack_config(raw, stack=pulumi.get_stack(), region=region)


def _decode(value: Any) -> Any:
    """Pulumi hands structured values over as JSON text and scalars as plain strings."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def parse_stack_config(raw: dict[str, Any], *, stack: str, region: str | None) -> StackConfig:
    try:
        platform = PlatformConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError([_problem_from(e) for e in error.errors()]) from None
    config = StackConfig(stack=stack, region=region, platform=platform)
    problems = cross_field_problems(config)
    if problems:
        raise ConfigError(problems)
    return config


def _problem_from(error: dict) -> Problem:
    loc = tuple(part for part in error["loc"] if part != "[key]")  # pydantic marks bad map keys
    path = key_path(*loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(loc[:-1]))
        return Problem(path, f"unknown key; allowed keys: {allowed}")
    if kind == "missing":
        return Problem(path, "required key is missing")
    message = error["msg"].removeprefix("Value error, ")
    if kind != "value_error" and "input" in error:
        message += f" (got {error['input']!r})"
    return Problem(path, message)


def _allowed_keys(loc: tuple) -> list[str]:
    """Camel-case keys the model at ``loc`` accepts, for 'unknown key' messages."""
    model: Any = PlatformConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields[_snake(part)]
        model = _model_in(field.annotation)
    return sorted(f.alias or name for name, f in model.model_fields.items())


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


# ---------------------------------------------------------------- cross-field rules


def cross_field_problems(config: StackConfig) -> list[Problem]:
    problems = _cluster_problems(config)
    problems += _gpu_pool_problems(config)
    problems += _gpu_operator_problems(config)
    problems += _data_problems(config)
    problems += _serving_problems(config)
    problems += _observability_problems(config)
    problems += _ray_problems(config)
    problems += _access_problems(config)
    return problems


def _access_problems(config: StackConfig) -> list[Problem]:
    access = config.platform.access
    problems = []
    for key, arns, groups in (
        ("deployerRoleArns", access.deployer_role_arns, access.deployer_groups),
        ("viewerRoleArns", access.viewer_role_arns, access.viewer_groups),
    ):
        if arns and not config.is_eks:
            problems.append(
                Problem(key_path("access", key), "IAM roles map to groups through EKS access entries: only with cluster.provider 'eks'")
            )
        elif arns and not groups:
            problems.append(Problem(key_path("access", key), "needs a group to join: set the matching *Groups list"))
    return problems


PLATFORM_NAMESPACES = ("kube-system", "gpu-operator", "monitoring", "kserve", "cert-manager", "kuberay-operator", "minio", "mlflow")


def _ray_problems(config: StackConfig) -> list[Problem]:
    from components.compute.ray_cluster import problems as ray_cluster_problems

    pools = {p.name: p for p in config.platform.gpu_pools}
    store = config.platform.object_store
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, cluster in enumerate(config.platform.ray_clusters):
        at = ("rayClusters", index)
        if cluster.name in seen:
            problems.append(Problem(key_path(*at, "name"), f"duplicate Ray cluster name {cluster.name!r}"))
        seen.add(cluster.name)
        namespace = cluster.namespace or cluster.name
        if namespace in PLATFORM_NAMESPACES:
            problems.append(
                Problem(
                    key_path(*at, "namespace" if cluster.namespace else "name"),
                    f"namespace {namespace!r} belongs to the platform; choose another",
                )
            )
        if store.enabled and cluster.bucket not in store.buckets:
            problems.append(
                Problem(key_path(*at, "bucket"), f"must be one of objectStore.buckets: {', '.join(store.buckets)} (got {cluster.bucket!r})")
            )
        for group_index, group in enumerate(cluster.worker_groups):
            if group.gpu_pool is not None and group.gpu_pool not in pools:
                problems.append(
                    Problem(
                        key_path(*at, "workerGroups", group_index, "gpuPool"),
                        f"no GPU pool named {group.gpu_pool!r} (pools: {', '.join(pools) or 'none'})",
                    )
                )
        stand_ins = [_pool_stand_in(group.gpu_pool, pools, config) for group in cluster.worker_groups]
        found = ray_cluster_problems(cluster, name=cluster.name, gpu_pools=stand_ins)
        problems += [Problem(key_path(*at, *p.path_as(to_camel)), p.message_as(to_camel)) for p in found]
    return problems


def _pool_stand_in(name: Optional[str], pools: Mapping[str, GpuPoolConfig], config: StackConfig) -> Optional[PoolStandIn]:
    """The configured pool ``name`` as a NodePool for the component rules (None without a pool)."""
    if name is None:
        return None
    return PoolStandIn(name=name, gpu_resources=_gpu_capacity(pools.get(name), config) or {})


def _observability_problems(config: StackConfig) -> list[Problem]:
    found = observability_problems(config.platform.observability)
    return [Problem(key_path("observability", *p.path_as(to_camel)), p.message_as(to_camel)) for p in found]


def _serving_problems(config: StackConfig) -> list[Problem]:
    from components.serving.inference_service import problems as inference_service_problems

    kserve = config.platform.kserve
    pools = {p.name: p for p in config.platform.gpu_pools}
    problems = [
        Problem(key_path("kserve", "localModelPools", i), f"no GPU pool named {name!r} (pools: {', '.join(pools) or 'none'})")
        for i, name in enumerate(kserve.local_model_pools)
        if name not in pools
    ]
    if kserve.gateway is not None and kserve.ingress_gateway.enabled:
        problems.append(
            Problem(key_path("kserve", "gateway"), "set gateway or ingressGateway.enabled, not both (the ingress gateway brings its own)")
        )
    if config.platform.inference_services and not kserve.enabled:
        problems.append(Problem(key_path("kserve", "enabled"), "must be true while inferenceServices are configured"))
    seen: set[str] = set()
    for index, model in enumerate(config.platform.inference_services):
        if model.name in seen:
            problems.append(Problem(key_path("inferenceServices", index, "name"), f"duplicate model name {model.name!r}"))
        seen.add(model.name)
        if model.gpu_pool is not None and model.gpu_pool not in pools:
            problems.append(
                Problem(
                    key_path("inferenceServices", index, "gpuPool"),
                    f"no GPU pool named {model.gpu_pool!r} (pools: {', '.join(pools) or 'none'})",
                )
            )
            continue
        found = inference_service_problems(
            model,
            name=model.name,
            deployment_mode=kserve.deployment_mode,
            gateway_api=kserve.gateway is not None or kserve.ingress_gateway.enabled,
            gpu_pool=_pool_stand_in(model.gpu_pool, pools, config),
            cached_pools=set(kserve.local_model_pools),
            has_store=config.platform.object_store.enabled,
        )
        problems += [Problem(key_path("inferenceServices", index, *p.path_as(to_camel)), p.message_as(to_camel)) for p in found]
    return problems


def _gpu_capacity(pool: Optional[GpuPoolConfig], config: StackConfig) -> Optional[dict[str, int]]:
    """Extended resources one node of the pool offers (the smallest instance type's)."""
    if pool is None or any(t not in GPU_INSTANCE_TYPES for t in pool.instance_types):
        return None
    smallest = min((GPU_INSTANCE_TYPES[t] for t in pool.instance_types), key=lambda t: t.gpus)
    return gpu_resources(smallest, pool.mig_profile, config.platform.gpu_operator.mig_strategy, pool.time_slicing_replicas)


def _data_problems(config: StackConfig) -> list[Problem]:
    store, registry = config.platform.object_store, config.platform.model_registry
    problems = []
    if not config.is_eks and store.backend == "s3":
        problems.append(Problem(key_path("objectStore", "backend"), "'s3' needs cluster.provider 'eks' (IAM roles for pods); use 'minio'"))
    if not config.is_eks and registry.database == "rds":
        problems.append(Problem(key_path("modelRegistry", "database"), "'rds' needs cluster.provider 'eks'; use 'in-cluster'"))
    if registry.enabled and not store.enabled:
        problems.append(
            Problem(key_path("objectStore", "enabled"), "must be true while modelRegistry is enabled (MLflow keeps artifacts there)")
        )
    if registry.enabled and "models" not in store.buckets:
        problems.append(Problem(key_path("objectStore", "buckets"), f"must include 'models' for the model registry (got {store.buckets})"))
    problems += [Problem(key_path("objectStore", *p.path_as(to_camel)), p.message_as(to_camel)) for p in object_store_problems(store)]
    return problems


def _cluster_problems(config: StackConfig) -> list[Problem]:
    cluster = config.platform.cluster
    if not config.is_eks:
        return _existing_cluster_problems(config)
    problems = [Problem(key_path("cluster", *p.path_as(to_camel)), p.message_as(to_camel)) for p in eks_cluster_problems(cluster)]
    if not config.region:
        problems.append(Problem("aws:region", "required for cluster.provider 'eks'; set it with `pulumi config set aws:region us-west-2`"))
    problems += _zone_problems(config)
    return problems


def _existing_cluster_problems(config: StackConfig) -> list[Problem]:
    cluster = config.platform.cluster
    problems = [
        Problem(key_path("cluster", to_camel(key)), "only valid with cluster.provider 'eks'")
        for key in EKS_ONLY_CLUSTER_KEYS
        if key in cluster.model_fields_set
    ]
    if cluster.kubernetes_version not in EXISTING_CLUSTER_VERSIONS:
        problems.append(
            Problem(
                key_path("cluster", "kubernetesVersion"),
                f"must be one of {', '.join(EXISTING_CLUSTER_VERSIONS)} (got {cluster.kubernetes_version!r})",
            )
        )
    if config.platform.gpu_pools:
        problems.append(
            Problem(
                key_path("gpuPools"),
                "GPU node pools are EKS managed node groups and need cluster.provider 'eks'; remove them for an existing cluster",
            )
        )
    return problems


def _zone_problems(config: StackConfig) -> list[Problem]:
    zones = config.platform.cluster.vpc.availability_zones
    if zones is None:
        return []
    if len(zones) != 3 or len(set(zones)) != 3:
        return [Problem(key_path("cluster", "vpc", "availabilityZones"), f"must list 3 distinct zones (got {zones})")]
    if config.region and not all(z.startswith(config.region) for z in zones):
        return [Problem(key_path("cluster", "vpc", "availabilityZones"), f"zones must be in region {config.region} (got {zones})")]
    return []


def _gpu_pool_problems(config: StackConfig) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for index, pool in enumerate(config.platform.gpu_pools):
        if pool.name in seen:
            problems.append(Problem(key_path("gpuPools", index, "name"), f"duplicate pool name {pool.name!r}"))
        seen.add(pool.name)
        problems += [Problem(key_path("gpuPools", index, *p.path_as(to_camel)), p.message_as(to_camel)) for p in gpu_pool_problems(pool)]
    return problems


def _gpu_operator_problems(config: StackConfig) -> list[Problem]:
    operator = config.platform.gpu_operator
    pools = config.platform.gpu_pools
    problems = []
    mig_pools = [(i, p) for i, p in enumerate(pools) if p.mig_profile]
    if mig_pools and not operator.enabled:
        problems.append(
            Problem(key_path("gpuOperator", "enabled"), "must be true when a GPU pool sets migProfile (the MIG manager applies it)")
        )
    if mig_pools and operator.mig_strategy == "none":
        problems.append(
            Problem(key_path("gpuOperator", "migStrategy"), "must be 'single' or 'mixed' when a GPU pool sets migProfile (got 'none')")
        )
    if operator.mig_strategy == "single":
        problems += [
            Problem(
                key_path("gpuPools", i, "migProfile"),
                "'all-balanced' creates MIG devices of several sizes; it needs gpuOperator.migStrategy 'mixed'",
            )
            for i, p in mig_pools
            if p.mig_profile == "all-balanced"
        ]
    if config.is_eks and operator.enabled and operator.driver == "operator" and pools:
        problems.append(
            Problem(
                key_path("gpuOperator", "driver"),
                "must be 'preinstalled' on EKS: the AL2023 NVIDIA AMI of the GPU pools already ships the driver and toolkit",
            )
        )
    return problems
