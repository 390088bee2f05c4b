"""ExistingEksCluster: an EKS cluster created elsewhere, seen the way EksCluster is seen.

Takes what identifies the cluster (name, endpoint, CA, the node role and private subnets) and
exposes the attributes GpuNodePool, ClusterAutoscaler, ObjectStore and ModelRegistry read from
an EksCluster, plus a Kubernetes provider, so those components can add GPU capacity and platform
services to a cluster this program does not own. Creates nothing in AWS; ``pulumi destroy``
leaves the cluster alone.

Get the values with ``aws eks describe-cluster --name <name>`` (endpoint, certificateAuthority,
resourcesVpcConfig) and the node role of one of its node groups, or from the outputs of the stack
that owns the cluster (``pulumi.StackReference``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Optional, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from ..core.util import with_defaults
from ..core.workload_identity import POD_IDENTITY
from .eks_cluster import kubeconfig_json

if TYPE_CHECKING:
    from .gpu_node_pool import GpuNodePool, GpuNodePoolArgs


class ExistingEksClusterArgs(TypedDict, total=False):
    cluster_name: Required[str]
    """Name of the EKS cluster. Required."""
    region: Required[str]
    """AWS region of the cluster, used in the kubeconfig. Required."""
    endpoint: Required[pulumi.Input[str]]
    """API server endpoint (``https://...eks.amazonaws.com``). Required."""
    certificate_authority: Required[pulumi.Input[str]]
    """Base64 cluster CA data (``certificateAuthority.data``). Required."""
    node_role_arn: Required[pulumi.Input[str]]
    """IAM role new node groups run as; EKS creates its access entry with each managed node group. Required."""
    private_subnet_ids: Required[Sequence[pulumi.Input[str]]]
    """Private subnets new node groups use. Required."""
    vpc_id: Optional[pulumi.Input[str]]
    """VPC of the cluster, for EFA security groups and RDS. Default: none."""
    cluster_security_group_id: Optional[pulumi.Input[str]]
    """The cluster security group EKS created, for EFA interfaces and RDS ingress. Default: none."""
    kubernetes_version: str
    """Kubernetes minor version of the cluster, for what we render. Default: ``1.35``."""
    workload_identity: str
    """``podIdentity`` (the agent add-on must run) or ``irsa``. Default: ``podIdentity``."""
    oidc_provider_arn: Optional[pulumi.Input[str]]
    """IAM OIDC provider of the cluster (``irsa`` only). Default: none."""
    oidc_issuer: Optional[pulumi.Input[str]]
    """OIDC issuer URL of the cluster (``irsa`` only). Default: none."""
    tags: dict[str, str]
    """Tags for the AWS resources other components create on this cluster. Default: none."""


DEFAULTS = {
    "vpc_id": None,
    "cluster_security_group_id": None,
    "kubernetes_version": "1.35",
    "workload_identity": POD_IDENTITY,
    "oidc_provider_arn": None,
    "oidc_issuer": None,
    "tags": {},
}


class ExistingEksCluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    """Name of the cluster."""
    cluster_name_value: str
    """Name of the cluster as a plain value, for what must not wait (IAM policies)."""
    endpoint: pulumi.Output[str]
    """API server endpoint."""
    kubeconfig: pulumi.Output[str]
    """Secret kubeconfig that authenticates with ``aws eks get-token``."""
    k8s_provider: k8s.Provider
    """Kubernetes provider for the cluster."""
    node_role_arn: pulumi.Output[str]
    """IAM role of new node groups."""
    private_subnet_ids: list[pulumi.Output[str]]
    """Subnets of new node groups."""
    vpc_id: Optional[pulumi.Output[str]]
    """VPC of the cluster, when given."""
    cluster_security_group_id: Optional[pulumi.Output[str]]
    """Cluster security group, when given."""
    oidc_provider_arn: Optional[pulumi.Output[str]]
    """IAM OIDC provider (``irsa``), when given."""
    oidc_issuer: Optional[pulumi.Output[str]]
    """OIDC issuer URL (``irsa``), when given."""
    workload_identity: str
    """How service accounts get IAM roles: ``podIdentity`` or ``irsa``."""
    kubernetes_version: str
    """Kubernetes minor version of the cluster."""
    tags: dict[str, str]
    """Tags for the AWS resources other components create on this cluster."""
    workload_ready: list[pulumi.Resource]
    """Nothing to wait for: the cluster's nodes and DNS already run."""
    vpc_cni: pulumi.Resource
    """What new nodes wait for: the cluster's CNI already runs, so this component itself."""

    def __init__(self, name: str, args: ExistingEksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aiplatform:index:ExistingEksCluster", name, None, opts)
        a = with_defaults(args, DEFAULTS)

        def output(key: str) -> Optional[pulumi.Output]:
            return None if a[key] is None else pulumi.Output.from_input(a[key])

        self.cluster_name_value = a["cluster_name"]
        self.cluster_name = pulumi.Output.from_input(a["cluster_name"])
        self.endpoint = pulumi.Output.from_input(a["endpoint"])
        self.node_role_arn = pulumi.Output.from_input(a["node_role_arn"])
        self.private_subnet_ids = [pulumi.Output.from_input(s) for s in a["private_subnet_ids"]]
        self.vpc_id = output("vpc_id")
        self.cluster_security_group_id = output("cluster_security_group_id")
        self.oidc_provider_arn = output("oidc_provider_arn")
        self.oidc_issuer = output("oidc_issuer")
        self.workload_identity = a["workload_identity"]
        self.kubernetes_version = a["kubernetes_version"]
        self.tags = dict(a["tags"])
        self.workload_ready = []
        self.vpc_cni = self
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.endpoint, a["certificate_authority"]).apply(
                lambda v: kubeconfig_json(a["cluster_name"], v[0], v[1], a["region"])
            )
        )
        self.k8s_provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig, opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"cluster_name": self.cluster_name, "endpoint": self.endpoint, "kubeconfig": self.kubeconfig})

    def add_gpu_pool(self, name: str, args: "GpuNodePoolArgs", opts: pulumi.ResourceOptions | None = None) -> "GpuNodePool":
        """A GPU managed node group on this cluster (see :class:`GpuNodePool`)."""
        from .gpu_node_pool import GpuNodePool

        return GpuNodePool(name, {**dict(args), "cluster": self}, opts)
