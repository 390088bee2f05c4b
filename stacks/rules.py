"""Rules that span config sections, checked after pydantic has validated each section.

Each component checks its own inputs in its ``problems()``; the rules here are the ones only the
composition knows: a pool that a model names must exist, a switch another section depends on, a
namespace the platform already owns. Every problem names its key (paths in snake_case field names,
spelled as camelCase config keys by :class:`stacks.errors.ConfigError`).
"""

from __future__ import annotations

from collections.abc import Mapping

from components.cluster.eks_cluster import problems as eks_cluster_problems
from components.cluster.gpu_catalog import GPU_INSTANCE_TYPES, gpu_resources
from components.cluster.gpu_node_pool import problems as gpu_pool_problems
from components.core.problems import Problem
from components.data.object_store import problems as object_store_problems
from components.observability.observability import problems as observability_problems
from stacks.config import EKS_ONLY_CLUSTER_KEYS, EXISTING_CLUSTER_VERSIONS, GpuPoolConfig, PoolStandIn, StackConfig
from stacks.errors import under


def cross_field_problems(config: StackConfig) -> list[Problem]:
    problems = _cluster_problems(config)
    problems += _gpu_pool_problems(config)
    problems += _gpu_operator_problems(config)
    problems += _data_problems(config)
    problems += _serving_problems(config)
    problems += _observability_problems(config)
    problems += _ray_problems(config)
    problems += _access_problems(config)
    if not problems:  # the model needs a coherent config: pools that exist, sizes that parse
        from stacks.placement import placement_problems

        problems += placement_problems(config)
    return problems


def _access_problems(config: StackConfig) -> list[Problem]:
    access = config.platform.access
    problems = []
    for key, arns, groups in (
        ("deployer_role_arns", access.deployer_role_arns, access.deployer_groups),
        ("viewer_role_arns", access.viewer_role_arns, access.viewer_groups),
    ):
        if arns and not config.is_eks:
            problems.append(
                Problem(("access", key), "IAM roles map to groups through EKS access entries: only with cluster.provider 'eks'")
            )
        elif arns and not groups:
            problems.append(Problem(("access", key), "needs a group to join: set the matching *Groups list"))
    return problems


PLATFORM_NAMESPACES = (
    "kube-system",
    "gpu-operator",
    "monitoring",
    "kserve",
    "keda",
    "cert-manager",
    "kuberay-operator",
    "minio",
    "mlflow",
)


def _ray_problems(config: StackConfig) -> list[Problem]:
    from components.compute.ray_cluster import problems as ray_cluster_problems

    pools = {p.name: p for p in config.platform.gpu_pools}
    store = config.platform.object_store
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, cluster in enumerate(config.platform.ray_clusters):
        at = ("ray_clusters", index)
        if cluster.name in seen:
            problems.append(Problem((*at, "name"), f"duplicate Ray cluster name {cluster.name!r}"))
        seen.add(cluster.name)
        namespace = cluster.namespace or cluster.name
        if namespace in PLATFORM_NAMESPACES:
            problems.append(
                Problem(
                    (*at, "namespace" if cluster.namespace else "name"),
                    f"namespace {namespace!r} belongs to the platform; choose another",
                )
            )
        if store.enabled and cluster.bucket not in store.buckets:
            problems.append(
                Problem((*at, "bucket"), f"must be one of objectStore.buckets: {', '.join(store.buckets)} (got {cluster.bucket!r})")
            )
        for group_index, group in enumerate(cluster.worker_groups):
            if group.gpu_pool is not None and group.gpu_pool not in pools:
                problems.append(
                    Problem(
                        (*at, "worker_groups", group_index, "gpu_pool"),
                        f"no GPU pool named {group.gpu_pool!r} (pools: {', '.join(pools) or 'none'})",
                    )
                )
        stand_ins = [_pool_stand_in(group.gpu_pool, pools, config) for group in cluster.worker_groups]
        found = ray_cluster_problems(cluster, name=cluster.name, gpu_pools=stand_ins)
        problems += under(at, found)
    return problems


def _pool_stand_in(name: str | None, pools: Mapping[str, GpuPoolConfig], config: StackConfig) -> PoolStandIn | None:
    """The configured pool ``name`` as a NodePool for the component rules (None without a pool)."""
    if name is None:
        return None
    return PoolStandIn(name=name, gpu_resources=_gpu_capacity(pools.get(name), config) or {})


def _observability_problems(config: StackConfig) -> list[Problem]:
    observability = config.platform.observability
    found = observability_problems(observability)
    if config.is_eks and observability.enabled and not observability.alert_receivers:
        found.append(
            Problem(
                ("alert_receivers",),
                "an EKS stack must send its alerts somewhere: add a receiver "
                "({name, type: webhook|slack|pagerduty, secretConfigKey}) and set that key with "
                "pulumi config set --secret ai-platform:<secretConfigKey> <URL or routing key>",
            )
        )
    if config.secret_keys is not None:
        found += [
            Problem(
                ("alert_receivers", index, "secret_config_key"),
                f"no secret ai-platform:{r.secret_config_key} in this stack: "
                f"pulumi config set --secret ai-platform:{r.secret_config_key} <URL or routing key>",
            )
            for index, r in enumerate(observability.alert_receivers)
            if r.secret_config_key not in config.secret_keys
        ]
    return under(("observability",), found)


def _serving_problems(config: StackConfig) -> list[Problem]:
    from components.serving.inference_service import problems as inference_service_problems

    kserve = config.platform.kserve
    pools = {p.name: p for p in config.platform.gpu_pools}
    problems = [
        Problem(("kserve", "local_model_pools", i), f"no GPU pool named {name!r} (pools: {', '.join(pools) or 'none'})")
        for i, name in enumerate(kserve.local_model_pools)
        if name not in pools
    ]
    if kserve.gateway is not None and kserve.ingress_gateway.enabled:
        problems.append(
            Problem(("kserve", "gateway"), "set gateway or ingressGateway.enabled, not both (the ingress gateway brings its own)")
        )
    if config.platform.inference_services and not kserve.enabled:
        problems.append(Problem(("kserve", "enabled"), "must be true while inferenceServices are configured"))
    seen: set[str] = set()
    for index, model in enumerate(config.platform.inference_services):
        if model.name in seen:
            problems.append(Problem(("inference_services", index, "name"), f"duplicate model name {model.name!r}"))
        seen.add(model.name)
        if model.gpu_pool is not None and model.gpu_pool not in pools:
            problems.append(
                Problem(
                    ("inference_services", index, "gpu_pool"),
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
            has_prometheus=config.platform.observability.enabled,
        )
        problems += under(("inference_services", index), found)
    return problems


def _gpu_capacity(pool: GpuPoolConfig | None, config: StackConfig) -> dict[str, int] | None:
    """Extended resources one node of the pool offers (the smallest instance type's)."""
    if pool is None or any(t not in GPU_INSTANCE_TYPES for t in pool.instance_types):
        return None
    smallest = min((GPU_INSTANCE_TYPES[t] for t in pool.instance_types), key=lambda t: t.gpus)
    return gpu_resources(smallest, pool.mig_profile, config.platform.gpu_operator.mig_strategy, pool.time_slicing_replicas)


def _data_problems(config: StackConfig) -> list[Problem]:
    store, registry = config.platform.object_store, config.platform.model_registry
    problems = []
    if not config.is_eks and store.backend == "s3":
        problems.append(Problem(("object_store", "backend"), "'s3' needs cluster.provider 'eks' (IAM roles for pods); use 'minio'"))
    if not config.is_eks and registry.database == "rds":
        problems.append(Problem(("model_registry", "database"), "'rds' needs cluster.provider 'eks'; use 'in-cluster'"))
    if registry.enabled and not store.enabled:
        problems.append(Problem(("object_store", "enabled"), "must be true while modelRegistry is enabled (MLflow keeps artifacts there)"))
    if registry.enabled and "models" not in store.buckets:
        problems.append(Problem(("object_store", "buckets"), f"must include 'models' for the model registry (got {store.buckets})"))
    problems += under(("object_store",), object_store_problems(store))
    return problems


def _cluster_problems(config: StackConfig) -> list[Problem]:
    cluster = config.platform.cluster
    if not config.is_eks:
        return _existing_cluster_problems(config)
    problems = under(("cluster",), eks_cluster_problems(cluster))
    if "node_capacity" in cluster.model_fields_set:
        problems.append(
            Problem(
                ("cluster", "node_capacity"), "only valid with cluster.provider 'existing' (EKS pools are sized from their instance types)"
            )
        )
    if cluster.cpu_node_group is not None:
        problems += [
            Problem(("gpu_pools", i, "name"), "'cpu' is the CPU node group's pool label; choose another name")
            for i, pool in enumerate(config.platform.gpu_pools)
            if pool.name == "cpu"
        ]
    if not config.region:
        problems.append(
            Problem(("aws:region",), "required for cluster.provider 'eks'; set it with `pulumi config set aws:region us-west-2`")
        )
    problems += _zone_problems(config)
    return problems


def _existing_cluster_problems(config: StackConfig) -> list[Problem]:
    cluster = config.platform.cluster
    problems = [
        Problem(("cluster", key), "only valid with cluster.provider 'eks'")
        for key in EKS_ONLY_CLUSTER_KEYS
        if key in cluster.model_fields_set
    ]
    if cluster.kubernetes_version not in EXISTING_CLUSTER_VERSIONS:
        problems.append(
            Problem(
                ("cluster", "kubernetes_version"),
                f"must be one of {', '.join(EXISTING_CLUSTER_VERSIONS)} (got {cluster.kubernetes_version!r})",
            )
        )
    if config.platform.gpu_pools:
        problems.append(
            Problem(
                ("gpu_pools",),
                "GPU node pools are EKS managed node groups and need cluster.provider 'eks'; remove them for an existing cluster",
            )
        )
    return problems


def _zone_problems(config: StackConfig) -> list[Problem]:
    zones = config.platform.cluster.vpc.availability_zones
    if zones is None:
        return []
    if len(zones) != 3 or len(set(zones)) != 3:
        return [Problem(("cluster", "vpc", "availability_zones"), f"must list 3 distinct zones (got {zones})")]
    if config.region and not all(z.startswith(config.region) for z in zones):
        return [Problem(("cluster", "vpc", "availability_zones"), f"zones must be in region {config.region} (got {zones})")]
    return []


def _gpu_pool_problems(config: StackConfig) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for index, pool in enumerate(config.platform.gpu_pools):
        if pool.name in seen:
            problems.append(Problem(("gpu_pools", index, "name"), f"duplicate pool name {pool.name!r}"))
        seen.add(pool.name)
        problems += under(("gpu_pools", index), gpu_pool_problems(pool))
    return problems


def _gpu_operator_problems(config: StackConfig) -> list[Problem]:
    operator = config.platform.gpu_operator
    pools = config.platform.gpu_pools
    problems = []
    mig_pools = [(i, p) for i, p in enumerate(pools) if p.mig_profile]
    if mig_pools and not operator.enabled:
        problems.append(Problem(("gpu_operator", "enabled"), "must be true when a GPU pool sets migProfile (the MIG manager applies it)"))
    if mig_pools and operator.mig_strategy == "none":
        problems.append(
            Problem(("gpu_operator", "mig_strategy"), "must be 'single' or 'mixed' when a GPU pool sets migProfile (got 'none')")
        )
    if operator.mig_strategy == "single":
        problems += [
            Problem(
                ("gpu_pools", i, "mig_profile"),
                "'all-balanced' creates MIG devices of several sizes; it needs gpuOperator.migStrategy 'mixed'",
            )
            for i, p in mig_pools
            if p.mig_profile == "all-balanced"
        ]
    if config.is_eks and operator.enabled and operator.driver == "operator" and pools:
        problems.append(
            Problem(
                ("gpu_operator", "driver"),
                "must be 'preinstalled' on EKS: the AL2023 NVIDIA AMI of the GPU pools already ships the driver and toolkit",
            )
        )
    return problems
