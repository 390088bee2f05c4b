"""What every EKS cluster of the platform exposes, declared once for EksCluster and ExistingEksCluster.

Both satisfy :class:`~components.core.contracts.EksClusterWithKubeconfig` (and so
``EksClusterLike``): GpuNodePool, ClusterAutoscaler and the service account roles read these
attributes and nothing else, so a cluster this program creates and one it only reaches are
interchangeable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel

from ..core.network_policy import ClusterNetwork

if TYPE_CHECKING:
    from .gpu_node_pool import GpuNodePool, GpuNodePoolOptions


def eks_cluster_arn(region: str, cluster_name: str, *, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The ARN EKS gives the cluster, from the deploying account: IAM trust policies that name it
    must not wait for the cluster (roles are created while the control plane comes up)."""
    import pulumi_aws as aws

    opts = pulumi.InvokeOptions(parent=parent)
    caller, partition = aws.get_caller_identity_output(opts=opts), aws.get_partition_output(opts=opts)
    return pulumi.Output.all(partition.partition, caller.account_id).apply(
        lambda v: f"arn:{v[0]}:eks:{region}:{v[1]}:cluster/{cluster_name}"
    )


class EksClusterBase(pulumi.ComponentResource):
    """The attributes of an EKS cluster and the factory of its GPU pools."""

    cluster_name: pulumi.Output[str]
    """Name of the cluster."""
    cluster_arn: pulumi.Output[str]
    """ARN of the cluster (Pod Identity sessions are tagged with it)."""
    cluster_name_value: str
    """The cluster's name as a plain value, for what must not wait for the cluster (IAM policies)."""
    endpoint: pulumi.Output[str]
    """API server endpoint."""
    kubeconfig: pulumi.Output[str]
    """Secret kubeconfig that authenticates with ``aws eks get-token``; for a cluster this program
    creates, it resolves only once the admin access entries exist."""
    k8s_provider: k8s.Provider
    """Kubernetes provider for the cluster."""
    node_role_arn: pulumi.Output[str]
    """IAM role new node groups run as."""
    private_subnet_ids: list[pulumi.Output[str]]
    """Private subnets of new node groups."""
    vpc_id: pulumi.Output[str] | None
    """VPC of the cluster (unknown for an existing cluster unless given)."""
    cluster_security_group_id: pulumi.Output[str] | None
    """The cluster security group EKS created (unknown for an existing cluster unless given)."""
    oidc_provider_arn: pulumi.Output[str] | None
    """IAM OIDC provider of the cluster (``irsa`` only)."""
    oidc_issuer: pulumi.Output[str] | None
    """OIDC issuer URL of the cluster (``irsa`` only)."""
    workload_identity: str
    """How service accounts get IAM roles: ``podIdentity`` or ``irsa``."""
    kubernetes_version: str
    """Kubernetes minor version of the cluster."""
    tags: dict[str, str]
    """Tags for the AWS resources created on this cluster."""
    workload_ready: list[pulumi.Resource]
    """Wait for these before installing anything that runs pods (system nodes and DNS; nothing for
    an existing cluster)."""
    network: ClusterNetwork
    """Where its pods reach the API server (NetworkPolicies resolve ``API_SERVER`` with it)."""
    vpc_cni: pulumi.Resource
    """What new nodes wait for: the CNI add-on (an existing cluster's CNI already runs, so the
    component itself)."""

    def register_cluster_outputs(self, **more: Any) -> None:
        """Register the outputs every EKS cluster declares here, plus its own ``more``."""
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "cluster_name_value": self.cluster_name_value,
                "cluster_arn": self.cluster_arn,
                "endpoint": self.endpoint,
                "kubeconfig": self.kubeconfig,
                "k8s_provider": self.k8s_provider,
                "node_role_arn": self.node_role_arn,
                "private_subnet_ids": self.private_subnet_ids,
                "vpc_id": self.vpc_id,
                "cluster_security_group_id": self.cluster_security_group_id,
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_issuer": self.oidc_issuer,
                "workload_identity": self.workload_identity,
                "kubernetes_version": self.kubernetes_version,
                "tags": self.tags,
                "network": dataclasses.asdict(self.network),
                **more,
            }
        )

    def add_gpu_pool(
        self, name: str, args: GpuNodePoolOptions | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> GpuNodePool:
        """A GPU managed node group on this cluster (see :class:`GpuNodePool`)."""
        from ..core.args import inject
        from .gpu_node_pool import GpuNodePool, GpuNodePoolArgs

        if isinstance(args, BaseModel):
            return GpuNodePool(name, inject(GpuNodePoolArgs, args, cluster=self), opts)
        return GpuNodePool(name, {**args, "cluster": self}, opts)
