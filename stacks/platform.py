"""The platform: validated stack config in, components wired together out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.core.args import inject
from components.core.contracts import NodePool
from components.observability.metrics_catalog import PREDICT_HISTOGRAM_FORMATS
from stacks.config import GpuPoolConfig, InferenceServiceConfig, RayClusterConfig, StackConfig


@dataclass
class Platform:
    cluster: Any
    gpu_pools: list[Any] = field(default_factory=list)
    cluster_autoscaler: Any | None = None
    metrics_server: Any | None = None
    gpu_operator: Any | None = None
    observability: Any | None = None
    object_store: Any | None = None
    model_registry: Any | None = None
    kuberay: Any | None = None
    ray_clusters: list[Any] = field(default_factory=list)
    kserve: Any | None = None
    keda: Any | None = None
    ingress_gateway: Any | None = None
    workload_access: Any | None = None
    inference_services: list[Any] = field(default_factory=list)

    def export(self) -> None:
        from components.core.contracts import EksClusterWithKubeconfig

        pulumi.export("kubernetesVersion", self.cluster.kubernetes_version)
        if isinstance(self.cluster, EksClusterWithKubeconfig):
            pulumi.export("clusterName", self.cluster.cluster_name)
            pulumi.export("kubeconfig", self.cluster.kubeconfig)
        pulumi.export("gpuPools", {pool.name: pool.labels for pool in self.gpu_pools})
        if self.object_store:
            pulumi.export("objectStore", {"endpoint": self.object_store.endpoint_url, "buckets": self.object_store.bucket_names})
        if self.model_registry:
            pulumi.export("mlflowTrackingUri", self.model_registry.tracking_uri)
        if self.ray_clusters:
            pulumi.export("rayDashboards", {c._name: c.dashboard_url for c in self.ray_clusters})
        if self.observability:
            pulumi.export("grafanaUrl", self.observability.grafana_url)
            pulumi.export("grafanaAdminSecret", self.observability.grafana_admin_secret)


def build_platform(config: StackConfig) -> Platform:
    cluster = _cluster(config)
    platform = Platform(cluster=cluster)
    platform.gpu_pools = [_gpu_pool(cluster, pool, config) for pool in config.platform.gpu_pools]
    k8s_opts = pulumi.ResourceOptions(provider=cluster.k8s_provider, depends_on=cluster.workload_ready)
    # Monitoring first: its CRDs must exist before anyone's ServiceMonitor or PrometheusRule.
    monitored_opts = k8s_opts
    if config.platform.observability.enabled:
        observability = platform.observability = _observability(platform, config, k8s_opts)
        monitored_opts = pulumi.ResourceOptions(
            provider=cluster.k8s_provider, depends_on=[*cluster.workload_ready, *observability.crds_ready]
        )
    if config.is_eks and config.platform.cluster_autoscaler.enabled:
        platform.cluster_autoscaler = _cluster_autoscaler(cluster, config, monitored_opts)
    if config.platform.metrics_server.enabled:
        platform.metrics_server = _metrics_server(config, k8s_opts)
    if config.platform.gpu_operator.enabled:
        platform.gpu_operator = _gpu_operator(platform, config, k8s_opts)
    if config.platform.object_store.enabled:
        platform.object_store = _object_store(cluster, config, k8s_opts)
    if config.platform.model_registry.enabled:
        platform.model_registry = _model_registry(platform, config, k8s_opts)
    if config.platform.ray_clusters:
        platform.kuberay = _kuberay(config, monitored_opts)
        platform.ray_clusters = [_ray_cluster(platform, cluster, config, k8s_opts) for cluster in config.platform.ray_clusters]
    if config.keda_enabled:
        platform.keda = _keda(config, k8s_opts)
    if config.platform.kserve.enabled:
        if config.platform.kserve.ingress_gateway.enabled:
            platform.ingress_gateway = _ingress_gateway(config, k8s_opts)
        platform.kserve = _kserve(platform, config, k8s_opts)
        platform.inference_services = [_inference_service(platform, m, k8s_opts) for m in config.platform.inference_services]
    platform.workload_access = _workload_access(platform, config, k8s_opts)
    return platform


def _cluster(config: StackConfig) -> Any:
    c = config.platform.cluster
    if not config.is_eks:
        from components.cluster.existing_cluster import ExistingCluster, ExistingClusterArgs

        return ExistingCluster(c.name, inject(ExistingClusterArgs, c, context=c.kubeconfig_context or f"kind-{c.name}"))
    from components.cluster.eks_cluster import EksCluster, EksClusterArgs

    return EksCluster(
        c.name,
        inject(
            EksClusterArgs,
            c,
            cluster_name=c.name,
            region=config.region,
            availability_zones=config.availability_zones,
            group_role_arns=_group_role_arns(config),
            tags={"ai-platform/stack": config.stack, **config.platform.tags},
        ),
    )


def _gpu_pool(cluster: Any, pool: GpuPoolConfig, config: StackConfig) -> Any:
    from components.cluster.gpu_node_pool import GpuNodePoolArgs

    return cluster.add_gpu_pool(
        pool.name, inject(GpuNodePoolArgs, pool, cluster=cluster, mig_strategy=config.platform.gpu_operator.mig_strategy)
    )


def _system_node_selector(config: StackConfig) -> dict[str, str]:
    if not config.is_eks:
        return {}
    from components.cluster.eks_cluster import SYSTEM_ROLE_LABEL

    return {SYSTEM_ROLE_LABEL: "system"}


def _cluster_autoscaler(cluster: Any, config: StackConfig, opts: pulumi.ResourceOptions) -> Any:
    from components.cluster.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs

    args = inject(
        ClusterAutoscalerArgs,
        config.platform.cluster_autoscaler,
        cluster=cluster,
        region=config.region,
        node_selector=_system_node_selector(config),
        service_monitor=config.platform.observability.enabled,
    )
    return ClusterAutoscaler(f"{config.platform.cluster.name}-autoscaler", args, opts)


def _metrics_server(config: StackConfig, opts: pulumi.ResourceOptions) -> Any:
    from components.cluster.metrics_server import MetricsServer, MetricsServerArgs

    args = inject(MetricsServerArgs, config.platform.metrics_server, node_selector=_system_node_selector(config))
    return MetricsServer("metrics-server", args, opts)


def _gpu_operator(platform: Platform, config: StackConfig, opts: pulumi.ResourceOptions) -> Any:
    from components.compute.gpu_operator import GpuOperator, GpuOperatorArgs

    args = inject(
        GpuOperatorArgs,
        config.platform.gpu_operator,
        # Observability scrapes DCGM with its own PodMonitor: the operator need not wait for it.
        service_monitor=False,
        node_pools=platform.gpu_pools,
        controller_node_selector=_system_node_selector(config),
    )
    return GpuOperator("gpu-operator", args, opts)


def _region(config: StackConfig) -> dict[str, str]:
    """``aws:region`` for a component's ``region``, when the stack sets it (else the component's default)."""
    return {"region": config.region} if config.region else {}


def _object_store(cluster: Any, config: StackConfig, k8s_opts: pulumi.ResourceOptions) -> Any:
    from components.data.object_store import ObjectStore, ObjectStoreArgs

    settings = config.platform.object_store
    # The cluster only on EKS: its presence makes backend s3 and protect on, unless the config says otherwise.
    args = inject(
        ObjectStoreArgs,
        settings,
        cluster=cluster if config.is_eks else None,
        bucket_prefix=settings.bucket_prefix or config.platform.cluster.name,
        **_region(config),
    )
    # S3, KMS and IAM need no cluster: only MinIO waits for nodes. No Kubernetes provider for S3
    # either: the SDK registers a component, and so its children, only once the ids of the
    # providers in its options resolve, and the cluster's exists only after the cluster.
    opts = k8s_opts if args.effective_backend == "minio" else None
    return ObjectStore("object-store", args, opts)


def _model_registry(platform: Platform, config: StackConfig, k8s_opts: pulumi.ResourceOptions) -> Any:
    from components.data.model_registry import ModelRegistry, ModelRegistryArgs

    settings = config.platform.model_registry
    # The cluster only on EKS: its presence makes database rds and protect on, unless the config says otherwise.
    args = inject(ModelRegistryArgs, settings, store=platform.object_store, cluster=platform.cluster if config.is_eks else None)
    # On EKS the registry gets neither the Kubernetes provider nor workload_ready: its Kubernetes
    # children take both from the injected cluster, so RDS, KMS and IAM start with the cluster
    # instead of after its nodes (ModelRegistry's on_cluster says why).
    return ModelRegistry("model-registry", args, None if config.is_eks else k8s_opts)


def _pools_by_name(platform: Platform) -> dict[str, NodePool]:
    return {pool.name: pool for pool in platform.gpu_pools}


def _kserve(platform: Platform, config: StackConfig, opts: pulumi.ResourceOptions) -> Any:
    from components.serving.kserve import KServe, KServeArgs

    settings = config.platform.kserve
    pools = _pools_by_name(platform)
    args = inject(
        KServeArgs,
        settings,
        ingress=platform.ingress_gateway,
        local_model_pools=[pools[name] for name in settings.local_model_pools],
        controller_node_selector=_system_node_selector(config),
        autoscalers=platform.keda.ready if platform.keda is not None else [],
    )
    return KServe("kserve", args, opts)


def _keda(config: StackConfig, opts: pulumi.ResourceOptions) -> Any:
    from components.serving.keda import Keda, KedaArgs

    return Keda("keda", inject(KedaArgs, config.platform.keda, node_selector=_system_node_selector(config)), opts)


def _inference_service(platform: Platform, model: InferenceServiceConfig, opts: pulumi.ResourceOptions) -> Any:
    from components.serving.inference_service import InferenceService, InferenceServiceArgs

    args = inject(
        InferenceServiceArgs,
        model,
        kserve=platform.kserve,
        store=platform.object_store,
        gpu_pool=_pools_by_name(platform).get(model.gpu_pool) if model.gpu_pool else None,
        prometheus=platform.observability,
        keda=platform.keda,
    )
    return InferenceService(model.name, args, opts)


def _observability(platform: Platform, config: StackConfig, opts: pulumi.ResourceOptions) -> Any:
    from components.observability.observability import Observability, ObservabilityArgs
    from components.serving.keda import NAMESPACE as KEDA_NAMESPACE

    models = config.platform.inference_services if config.platform.kserve.enabled else []
    args = inject(
        ObservabilityArgs,
        config.platform.observability,
        gpu_pools=platform.gpu_pools,
        request_errors=_request_errors(config),
        predict_histogram=any(m.model_format in PREDICT_HISTOGRAM_FORMATS for m in models),
        vllm_metrics=any(m.model_format == "huggingface" for m in models),
        prometheus_clients=[KEDA_NAMESPACE] if config.keda_enabled else [],
        cluster_autoscaler=config.is_eks and config.platform.cluster_autoscaler.enabled,
        # load_stack_config has checked that each key is set as a secret
        alert_secrets={
            r.name: pulumi.Config("ai-platform").require_secret(r.secret_config_key) for r in config.platform.observability.alert_receivers
        },
    )
    return Observability("observability", args, opts)


def _request_errors(config: StackConfig) -> str | None:
    """What counts the models' 5xx answers in this stack (ObservabilityArgs.request_errors)."""
    kserve = config.platform.kserve
    if not kserve.enabled or not config.platform.inference_services:
        return None
    if kserve.deployment_mode == "Knative":
        return "knative"
    return "envoy-gateway" if kserve.ingress_gateway.enabled else None


def _kuberay(config: StackConfig, opts: pulumi.ResourceOptions) -> Any:
    from components.compute.kuberay_operator import KubeRayOperator, KubeRayOperatorArgs

    args = KubeRayOperatorArgs(node_selector=_system_node_selector(config), service_monitor=config.platform.observability.enabled)
    return KubeRayOperator("kuberay-operator", args, opts)


def _ray_cluster(platform: Platform, cluster: RayClusterConfig, config: StackConfig, opts: pulumi.ResourceOptions) -> Any:
    from components.compute.ray_cluster import RayCluster, RayClusterArgs, RayWorkerGroupArgs
    from stacks.placement import cpu_pool_selector

    pools = _pools_by_name(platform)
    groups = [inject(RayWorkerGroupArgs, g, gpu_pool=pools[g.gpu_pool] if g.gpu_pool else None) for g in cluster.worker_groups]
    args = inject(
        RayClusterArgs,
        cluster,
        operator=platform.kuberay,
        store=platform.object_store,
        worker_groups=groups,
        cpu_node_selector=cpu_pool_selector(config),
    )
    return RayCluster(cluster.name, args, opts)


def _ingress_gateway(config: StackConfig, opts: pulumi.ResourceOptions) -> Any:
    from components.serving.ingress_gateway import IngressGateway, IngressGatewayArgs

    args = inject(IngressGatewayArgs, config.platform.kserve.ingress_gateway, node_selector=_system_node_selector(config))
    return IngressGateway("envoy-gateway", args, opts)


def _group_role_arns(config: StackConfig) -> dict[str, list[str]]:
    access = config.platform.access
    mapping: dict[str, list[str]] = {}
    for groups, arns in ((access.deployer_groups, access.deployer_role_arns), (access.viewer_groups, access.viewer_role_arns)):
        if arns:
            mapping.setdefault(groups[0], []).extend(arns)
    return mapping


def _workload_access(platform: Platform, config: StackConfig, opts: pulumi.ResourceOptions) -> Any:
    """Deployer and viewer roles in every namespace where models or Ray clusters run."""
    from components.cluster.workload_access import WorkloadAccess, WorkloadAccessArgs

    namespaces: list[Any] = [c.namespace for c in platform.ray_clusters]
    waits: list[Any] = []
    if platform.kserve is not None:
        namespaces.append(platform.kserve.model_namespace)
        waits += platform.kserve.model_namespace_ready
    if not namespaces:
        return None
    return WorkloadAccess(
        "workload-access",
        inject(WorkloadAccessArgs, config.platform.access, namespaces=namespaces),
        pulumi.ResourceOptions(provider=platform.cluster.k8s_provider, depends_on=waits),
    )
