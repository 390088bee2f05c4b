"""Rules that span config sections, checked after pydantic has validated each section.

Each component checks its own inputs in its ``problems()``; the rules here are the ones only the
composition knows: a pool that a model names must exist, a switch another section depends on, a
namespace the platform already owns. Every problem names its key (paths in snake_case field names,
spelled as camelCase config keys by :class:`stacks.errors.ConfigError`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic.alias_generators import to_camel

from components.cluster.eks_cluster import problems as eks_cluster_problems
from components.cluster.gpu_catalog import GPU_INSTANCE_TYPES, gpu_resources
from components.cluster.gpu_node_pool import problems as gpu_pool_problems
from components.core.problems import Problem, escape
from components.data.object_store import problems as object_store_problems
from components.data.storage_access import MODELS_BUCKET
from components.observability.observability import problems as observability_problems
from stacks.config import EKS_ONLY_CLUSTER_KEYS, EXISTING_CLUSTER_VERSIONS, GpuPoolConfig, PoolStandIn, StackConfig
from stacks.errors import under


def cross_field_problems(config: StackConfig) -> list[Problem]:
    rules = (
        _cluster_problems,
        _gpu_pool_problems,
        _gpu_operator_problems,
        _data_problems,
        _serving_problems,
        _observability_problems,
        _ray_problems,
        _access_problems,
        _namespace_problems,
        _provider_name_problems,
        _model_source_problems,
        _gpu_switch_problems,
        _ignored_setting_problems,
        _region_problems,
    )
    problems = [problem for rule in rules for problem in rule(config)]
    if not problems:  # the model needs a coherent config: pools that exist, sizes that parse
        from stacks.placement import placement_problems

        problems += placement_problems(config)
    return problems


def _access_problems(config: StackConfig) -> list[Problem]:
    from components.cluster.workload_access import problems as workload_access_problems

    access = config.platform.access
    problems = under(("access",), workload_access_problems(access)) + _principal_problems(config)
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
    """The configured pool ``name`` as a NodePool for the component rules (None without a pool); what
    a node offers stays unknown while the pool itself has problems (a MIG profile of another GPU has
    no devices to count)."""
    if name is None:
        return None
    pool = pools.get(name)
    known = pool is not None and not gpu_pool_problems(pool)
    return PoolStandIn(name=name, gpu_resources=(_gpu_capacity(pool, config) if known else None) or {})


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


def _model_path_problems(config: StackConfig) -> list[Problem]:
    """A ``modelPath`` (or a canary's) is a key in the store's models bucket: the model server is granted
    that path only, so the bucket must exist."""
    store = config.platform.object_store
    if not store.enabled or MODELS_BUCKET in store.buckets:
        return []
    problems = []
    for index, model in enumerate(config.platform.inference_services):
        sources = [((), model), *((("canaries", c), canary) for c, canary in enumerate(model.canaries))]
        for at, source in sources:
            if source.model_path is not None:
                message = f"is a path in the {MODELS_BUCKET!r} bucket, which objectStore.buckets lacks (got {store.buckets}); add it"
                problems.append(Problem(("inference_services", index, *at, "model_path"), message))
    return problems


def _data_problems(config: StackConfig) -> list[Problem]:
    store, registry = config.platform.object_store, config.platform.model_registry
    problems = []
    if not config.is_eks and store.backend == "s3":
        problems.append(Problem(("object_store", "backend"), "'s3' needs cluster.provider 'eks' (IAM roles for pods); use 'minio'"))
    if not config.is_eks and registry.database == "rds":
        problems.append(Problem(("model_registry", "database"), "'rds' needs cluster.provider 'eks'; use 'in-cluster'"))
    if registry.enabled and not store.enabled:
        problems.append(Problem(("object_store", "enabled"), "must be true while modelRegistry is enabled (MLflow keeps artifacts there)"))
    if registry.enabled and MODELS_BUCKET not in store.buckets:
        problems.append(
            Problem(("object_store", "buckets"), f"must include {MODELS_BUCKET!r} for the model registry (got {store.buckets})")
        )
    problems += _model_path_problems(config)
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


# ---------------------------------------------------------------- principals


def _principal_problems(config: StackConfig) -> list[Problem]:
    """EKS keeps one access entry per IAM principal: a role in two lists (or twice in one) makes a second
    entry that EKS refuses (ResourceInUseException), after the cluster exists."""
    lists = (
        (("cluster", "admin_role_arns"), config.platform.cluster.admin_role_arns, "cluster.adminRoleArns"),
        (("access", "deployer_role_arns"), config.platform.access.deployer_role_arns, "access.deployerRoleArns"),
        (("access", "viewer_role_arns"), config.platform.access.viewer_role_arns, "access.viewerRoleArns"),
    )
    first: dict[str, str] = {}
    problems = []
    for path, arns, spelled in lists:
        for index, arn in enumerate(arns):
            if arn in first:
                where = "listed twice in this list" if first[arn] == spelled else f"also listed in {first[arn]}"
                problems.append(Problem((*path, index), f"{escape(arn)} is {where}: EKS gives a role one access entry, so one list"))
            first.setdefault(arn, spelled)
    return problems


# ---------------------------------------------------------------- namespaces

KUBERNETES_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
"""Namespaces every cluster has; Kubernetes keeps the ``kube-`` prefix for itself."""


def platform_namespaces() -> dict[str, str]:
    """Namespace -> the platform component installed there (the components' own defaults)."""
    from components.cluster.metrics_server import MetricsServerArgs
    from components.compute.gpu_operator import GpuOperatorArgs
    from components.compute.kuberay_operator import KubeRayOperatorArgs
    from components.data.model_registry import ModelRegistryArgs
    from components.data.object_store import ObjectStoreArgs
    from components.observability.observability import ObservabilityArgs
    from components.serving.ingress_gateway import IngressGatewayArgs
    from components.serving.keda import KedaArgs
    from components.serving.kserve import KServeArgs

    def default(args: type, field: str = "namespace") -> str:
        return args.model_fields[field].default

    monitoring = default(ObservabilityArgs)
    return {
        default(KServeArgs): "KServe",
        default(KServeArgs, "cert_manager_namespace"): "cert-manager",
        default(GpuOperatorArgs): "the GPU Operator",
        default(KubeRayOperatorArgs): "the KubeRay operator",
        default(ModelRegistryArgs): "MLflow",
        default(ObjectStoreArgs): "MinIO",
        monitoring: "Prometheus and Grafana",
        f"{monitoring}-node-exporter": "the node exporter",  # Observability's host namespace
        default(IngressGatewayArgs): "Envoy Gateway",
        default(MetricsServerArgs): "metrics-server",
        default(KedaArgs): "KEDA",
    }


def _taken(namespace: str) -> str | None:
    """Why a workload may not create ``namespace``, or None."""
    if namespace in KUBERNETES_NAMESPACES:
        return f"namespace {namespace!r} is Kubernetes' own; choose another"
    if namespace.startswith("kube-"):
        return f"Kubernetes keeps namespaces starting with 'kube-' for itself (got {namespace!r}); choose another"
    owner = platform_namespaces().get(namespace)
    if owner:
        return f"namespace {namespace!r} belongs to the platform ({owner}); choose another"
    return None


def _namespace_problems(config: StackConfig) -> list[Problem]:
    """Each workload namespace is created once, by the stack, and is nobody else's."""
    kserve = config.platform.kserve
    model_namespace = kserve.model_namespace if kserve.enabled else None
    problems = []
    if model_namespace is not None and (why := _taken(model_namespace)):
        problems.append(Problem(("kserve", "model_namespace"), why))
    own = {c.name: i for i, c in enumerate(config.platform.ray_clusters) if c.namespace is None}
    for index, cluster in enumerate(config.platform.ray_clusters):
        field = "namespace" if cluster.namespace else "name"
        namespace = cluster.namespace or cluster.name
        why = _taken(namespace)
        if why is None and namespace == model_namespace:
            why = f"namespace {namespace!r} is also kserve.modelNamespace; a Ray cluster needs a namespace of its own"
        if why is None and cluster.namespace is not None:
            why = (
                f"namespace {namespace!r} is rayClusters[{own[namespace]}]'s; each Ray cluster needs a namespace of its own (remove namespace)"
                if namespace in own
                else f"nothing in this stack creates namespace {namespace!r}: remove namespace to run in one named after the cluster"
            )
        if why:
            problems.append(Problem(("ray_clusters", index, field), why))
    return problems


# ---------------------------------------------------------------- names the providers build

AUTO_NAME_SUFFIX = 8
"""Pulumi's auto-naming appends '-' and 7 random hex characters to a resource's logical name."""
IAM_ROLE_MAX = 64
ROLE_NAME_MAX = IAM_ROLE_MAX - AUTO_NAME_SUFFIX
CLUSTER_ROLE_SUFFIXES = ("-aws-ebs-csi-driver", "-autoscaler-role", "-control-plane", "-vpc-cni", "-node")
"""IAM roles named after the EKS cluster: EksCluster's add-on roles (``<cluster>-<addon>``), its control
plane and node roles, the ClusterAutoscaler's (``<cluster>-autoscaler`` + ``-role``)."""
MODEL_ROLE_SUFFIX = "-model"
"""InferenceService's service account and its IAM role (``<model>-model``)."""
RAY_ROLE_SUFFIX = "-ray"
"""RayCluster's object store grant, an IAM role (``<cluster>-ray``)."""


def _role_problem(path: tuple, name: str, suffix: str) -> list[Problem]:
    if len(name) + len(suffix) <= ROLE_NAME_MAX:
        return []
    return [
        Problem(
            path,
            f"too long for the IAM role {escape(name + suffix)}-<7 random characters>: IAM role names have at most "
            f"{IAM_ROLE_MAX} characters, so this name may have at most {ROLE_NAME_MAX - len(suffix)} (got {len(name)})",
        )
    ]


def _provider_name_problems(config: StackConfig) -> list[Problem]:
    problems = _bucket_name_problems(config)
    if not config.is_eks:
        return problems
    longest = max(CLUSTER_ROLE_SUFFIXES, key=len)
    problems += _role_problem(("cluster", "name"), config.platform.cluster.name, longest)
    problems += [
        p
        for i, model in enumerate(config.platform.inference_services)
        for p in _role_problem(("inference_services", i, "name"), model.name, MODEL_ROLE_SUFFIX)
    ]
    if config.platform.object_store.enabled:
        problems += [
            p
            for i, cluster in enumerate(config.platform.ray_clusters)
            for p in _role_problem(("ray_clusters", i, "name"), cluster.name, RAY_ROLE_SUFFIX)
        ]
    return problems


def _bucket_prefix(config: StackConfig) -> str:
    """What the platform prefixes physical bucket names with (``ObjectStore`` makes ``<prefix>-<bucket>``)."""
    return config.platform.object_store.bucket_prefix or config.platform.cluster.name


def physical_buckets(config: StackConfig) -> list[str]:
    prefix = _bucket_prefix(config)
    return [f"{prefix}-{bucket}" for bucket in config.platform.object_store.buckets]


def _bucket_name_problems(config: StackConfig) -> list[Problem]:
    from components.data.bucket_names import name_problem, prefix_problem

    store = config.platform.object_store
    if not store.enabled:
        return []
    prefix = _bucket_prefix(config)
    unset = "" if store.bucket_prefix else " (unset: the cluster's name)"
    if why := prefix_problem(prefix):
        return [Problem(("object_store", "bucket_prefix"), f"{escape(why)}: physical names are <bucketPrefix>-<bucket>{unset}")]
    return [
        Problem(
            ("object_store", "buckets", i),
            f"{escape(why)}: physical names are <bucketPrefix>-<bucket>; shorten the bucket or set objectStore.bucketPrefix{unset}",
        )
        for i, name in enumerate(physical_buckets(config))
        if (why := name_problem(name))
    ]


# ---------------------------------------------------------------- model sources


def _model_source_problems(config: StackConfig) -> list[Problem]:
    """An ``s3://`` model is read with the credentials of the store's grant: only its buckets open."""
    problems = []
    for index, model in enumerate(config.platform.inference_services):
        entries = [((), model.storage_uri)] + [(("canaries", i), c.storage_uri) for i, c in enumerate(model.canaries)]
        for at, uri in entries:
            if uri and (why := _outside_the_store(uri, config)):
                problems.append(Problem(("inference_services", index, *at, "storage_uri"), why))
    return problems


def _outside_the_store(uri: str, config: StackConfig) -> str | None:
    if not uri.startswith("s3://") or uri == "s3://":
        return None
    bucket = uri.removeprefix("s3://").split("/")[0]
    if not config.platform.object_store.enabled:
        return f"s3://{escape(bucket)}: a model reads S3 with the object store's credentials; enable objectStore or use another scheme"
    buckets = physical_buckets(config)
    if bucket in buckets:
        return None
    return (
        f"the model may read only the object store's buckets ({', '.join(buckets)}); s3://{escape(bucket)} would be "
        "refused at download: copy the model there, or give modelPath"
    )


# ---------------------------------------------------------------- switches GPU scheduling needs


def _gpu_switch_problems(config: StackConfig) -> list[Problem]:
    pools = config.platform.gpu_pools
    if not pools:
        return []
    problems = []
    if not config.platform.gpu_operator.enabled:
        problems.append(
            Problem(
                ("gpu_operator", "enabled"),
                "must be true while gpuPools are configured: the AL2023 NVIDIA AMI brings the driver but no device "
                "plugin, so without the GPU Operator no node offers nvidia.com/gpu and every GPU pod stays Pending",
            )
        )
    scaling = [f"gpuPools[{i}] ({p.name}: {p.min_size}-{p.max_size})" for i, p in enumerate(pools) if p.min_size != p.max_size]
    if config.is_eks and not config.platform.cluster_autoscaler.enabled and scaling:
        problems.append(
            Problem(
                ("cluster_autoscaler", "enabled"),
                f"must be true while GPU pools scale: nothing else grows {', '.join(scaling)} beyond its desiredSize, "
                "so pods wait for nodes that never come; or fix each pool's size (minSize = desiredSize = maxSize)",
            )
        )
    return problems


# ---------------------------------------------------------------- settings the selected mode ignores

SWITCHED_SECTIONS = (
    ("gpu_operator",),
    ("cluster_autoscaler",),
    ("metrics_server",),
    ("object_store",),
    ("model_registry",),
    ("observability",),
    ("kserve",),
    ("kserve", "ingress_gateway"),
)
"""Sections with an ``enabled`` switch: their other keys do nothing while it is off."""


def _section(config: StackConfig, path: tuple[str, ...]) -> Any:
    node: Any = config.platform
    for part in path:
        node = getattr(node, part)
    return node


def _set_keys(section: Any) -> list[str]:
    """Keys the stack file set in ``section`` (not those left at their defaults), but its switch."""
    return sorted(k for k in section.model_fields_set if k != "enabled")


def _ignored_setting_problems(config: StackConfig) -> list[Problem]:
    problems = []
    for path in SWITCHED_SECTIONS:
        section = _section(config, path)
        if not section.enabled:
            dotted = ".".join(to_camel(p) for p in path)
            problems += [
                Problem((*path, key), f"ignored while {dotted}.enabled is false: remove it, or enable {dotted}")
                for key in _set_keys(section)
            ]
    if not config.is_eks and config.platform.cluster_autoscaler.enabled:
        problems += [
            Problem(("cluster_autoscaler", key), "the cluster-autoscaler runs only with cluster.provider 'eks'; remove it")
            for key in _set_keys(config.platform.cluster_autoscaler)
        ]
    return problems + _mode_problems(config)


def _mode_problems(config: StackConfig) -> list[Problem]:
    """Keys that only one backend, database or KServe setup reads."""
    store, registry, kserve = config.platform.object_store, config.platform.model_registry, config.platform.kserve
    problems = []
    backend = store.backend or ("s3" if config.is_eks else "minio")
    if store.enabled and backend == "s3" and "storage_size" in store.model_fields_set:
        problems.append(Problem(("object_store", "storage_size"), "sizes MinIO's volume (backend 'minio'); S3 has no size: remove it"))
    database = registry.database or ("rds" if config.is_eks else "in-cluster")
    if registry.enabled and database == "rds" and "database_storage_size" in registry.model_fields_set:
        problems.append(
            Problem(
                ("model_registry", "database_storage_size"),
                "sizes the in-cluster database's volume (database 'in-cluster'); RDS storage is not set here: remove it",
            )
        )
    if registry.enabled and database == "in-cluster" and "multi_az" in registry.model_fields_set:
        problems.append(
            Problem(("model_registry", "multi_az"), "applies only to database 'rds'; the in-cluster database has one replica: remove it")
        )
    if kserve.enabled:
        problems += _kserve_mode_problems(config)
    return problems


def _kserve_mode_problems(config: StackConfig) -> list[Problem]:
    kserve = config.platform.kserve
    problems = []
    gateway = kserve.gateway is not None or kserve.ingress_gateway.enabled
    if "ingress_domain" in kserve.model_fields_set and kserve.deployment_mode == "Standard" and not gateway:
        problems.append(
            Problem(
                ("kserve", "ingress_domain"),
                "names the hosts of the gateway's routes, and there is no gateway: set kserve.ingressGateway.enabled or kserve.gateway, or remove it",
            )
        )
    if "local_model_cache_size" in kserve.model_fields_set and not kserve.local_model_pools:
        problems.append(
            Problem(
                ("kserve", "local_model_cache_size"),
                "sizes the cache of kserve.localModelPools, which lists no pool: remove it or list pools",
            )
        )
    return problems


# ---------------------------------------------------------------- region

AWS_REGION = re.compile(
    r"^[a-z]{2}(-(gov|iso|isob|isoe|isof))?-(central|north|south|east|west|northeast|northwest|southeast|southwest)-[1-9][0-9]?$"
)
"""AWS region codes: area, optional partition, direction, number (us-west-2, us-gov-west-1, ap-southeast-5)."""


def _region_problems(config: StackConfig) -> list[Problem]:
    if config.region is None or AWS_REGION.match(config.region):
        return []
    return [Problem(("aws:region",), f"must be an AWS region such as us-west-2 (got {escape(repr(config.region))})")]
