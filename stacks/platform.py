"""The platform: validated stack config in, components wired together out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from stacks.config import GpuPoolConfig, StackConfig

CAPACITY_TYPES = {"onDemand": "ON_DEMAND", "spot": "SPOT"}


@dataclass
class Platform:
    cluster: Any
    gpu_pools: list[Any] = field(default_factory=list)
    cluster_autoscaler: Any | None = None
    gpu_operator: Any | None = None

    def export(self) -> None:
        pulumi.export("kubernetesVersion", self.cluster.kubernetes_version)
        if hasattr(self.cluster, "kubeconfig"):
            pulumi.export("clusterName", self.cluster.cluster_name)
            pulumi.export("kubeconfig", self.cluster.kubeconfig)
        pulumi.export("gpuPools", {pool._name: pool.labels for pool in self.gpu_pools})


def build_platform(config: StackConfig) -> Platform:
    cluster = _cluster(config)
    platform = Platform(cluster=cluster)
    platform.gpu_pools = [_gpu_pool(cluster, pool, config) for pool in config.platform.gpu_pools]
    k8s_opts = pulumi.ResourceOptions(provider=cluster.k8s_provider, depends_on=cluster.workload_ready)
    if config.is_eks and config.platform.cluster_autoscaler.enabled:
        platform.cluster_autoscaler = _cluster_autoscaler(cluster, config, k8s_opts)
    if config.platform.gpu_operator.enabled:
        platform.gpu_operator = _gpu_operator(platform, config, k8s_opts)
    return platform


def _cluster(config: StackConfig) -> Any:
    c = config.platform.cluster
    if not config.is_eks:
        from components.existing_cluster import ExistingCluster

        return ExistingCluster(
            c.name,
            {
                "context": c.kubeconfig_context or f"kind-{c.name}",
                "kubernetes_version": c.kubernetes_version,
            },
        )
    from components.eks_cluster import EksCluster

    return EksCluster(
        c.name,
        {
            "cluster_name": c.name,
            "region": config.region,
            "availability_zones": config.availability_zones,
            "kubernetes_version": c.kubernetes_version,
            "vpc_cidr": c.vpc.cidr,
            "nat_gateways": c.vpc.nat_gateways,
            "endpoint_public_access": c.endpoint.public_access,
            "public_access_cidrs": c.endpoint.public_access_cidrs,
            "admin_role_arns": c.admin_role_arns,
            "workload_identity": c.workload_identity,
            "control_plane_logs": c.control_plane_logs,
            "log_retention_days": c.log_retention_days,
            "system_node_group": c.system_node_group.model_dump(),
            "addon_versions": c.addon_versions,
            "deletion_protection": c.deletion_protection,
            "tags": {"ai-platform/stack": config.stack, **config.platform.tags},
        },
    )


def _gpu_pool(cluster: Any, pool: GpuPoolConfig, config: StackConfig) -> Any:
    return cluster.add_gpu_pool(
        pool.name,
        {
            "instance_types": pool.instance_types,
            "capacity_type": CAPACITY_TYPES[pool.capacity_type],
            "min_size": pool.min_size,
            "desired_size": pool.desired_size,
            "max_size": pool.max_size,
            "root_volume_gib": pool.root_volume_gib,
            "nvme_cache": pool.nvme_cache,
            "efa": pool.efa,
            "mig_profile": pool.mig_profile,
            "mig_strategy": config.platform.gpu_operator.mig_strategy,
            "time_slicing_replicas": pool.time_slicing_replicas,
            "labels": pool.labels,
            "autoscaler_owns_desired_size": pool.autoscaler_owns_desired_size,
        },
    )


def _system_node_selector(config: StackConfig) -> dict[str, str]:
    if not config.is_eks:
        return {}
    from components.eks_cluster import SYSTEM_ROLE_LABEL

    return {SYSTEM_ROLE_LABEL: "system"}


def _cluster_autoscaler(cluster: Any, config: StackConfig, opts: pulumi.ResourceOptions) -> Any:
    from components.cluster_autoscaler import ClusterAutoscaler

    settings = config.platform.cluster_autoscaler
    return ClusterAutoscaler(
        f"{config.platform.cluster.name}-autoscaler",
        {
            "cluster": cluster,
            "region": config.region,
            "expander": settings.expander,
            "scale_down_unneeded_time": settings.scale_down_unneeded_time,
            "node_selector": _system_node_selector(config),
        },
        opts,
    )


def _gpu_operator(platform: Platform, config: StackConfig, opts: pulumi.ResourceOptions) -> Any:
    from components.gpu_operator import GpuOperator

    settings = config.platform.gpu_operator
    return GpuOperator(
        "gpu-operator",
        {
            "driver_preinstalled": settings.driver == "preinstalled",
            "mig_strategy": settings.mig_strategy,
            "dcgm_exporter": settings.dcgm_exporter,
            # The monitoring CRDs arrive with the Observability component (a later milestone).
            "service_monitor": False,
            "node_pools": platform.gpu_pools,
            "default_time_slicing_replicas": settings.default_time_slicing_replicas,
            "controller_node_selector": _system_node_selector(config),
        },
        opts,
    )
