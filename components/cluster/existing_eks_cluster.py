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

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import SkipValidation

from .. import versions
from ..core.args import Options, parse_args
from ..core.network_policy import Allow, ClusterNetwork, register_cluster_network
from ..core.workload_identity import POD_IDENTITY
from .eks_base import EksClusterBase, eks_cluster_arn
from .eks_cluster import kubeconfig_json

Text = str | pulumi.Output[str]
"""A string, or an Output of one (another stack's output through ``pulumi.StackReference``)."""


class ExistingEksClusterArgs(Options):
    """What identifies a cluster created elsewhere."""

    cluster_name: str
    """Name of the EKS cluster."""
    region: str
    """AWS region of the cluster, used in the kubeconfig."""
    endpoint: SkipValidation[Text]
    """API server endpoint (``https://...eks.amazonaws.com``)."""
    certificate_authority: SkipValidation[Text]
    """Base64 cluster CA data (``certificateAuthority.data``)."""
    node_role_arn: SkipValidation[Text]
    """IAM role new node groups run as; EKS creates its access entry with each managed node group."""
    private_subnet_ids: SkipValidation[Sequence[Text]]
    """Private subnets new node groups use."""
    vpc_id: SkipValidation[Text | None] = None
    """VPC of the cluster, for EFA security groups and RDS; unset: unknown (no EFA pools, no RDS)."""
    cluster_security_group_id: SkipValidation[Text | None] = None
    """The cluster security group EKS created, for EFA interfaces and RDS ingress; unset: unknown."""
    kubernetes_version: str = versions.KUBERNETES
    """Kubernetes minor version of the cluster, for what we render."""
    workload_identity: Literal["podIdentity", "irsa"] = POD_IDENTITY
    """``podIdentity`` (the agent add-on must run) or ``irsa``."""
    oidc_provider_arn: SkipValidation[Text | None] = None
    """IAM OIDC provider of the cluster (``irsa`` only)."""
    oidc_issuer: SkipValidation[Text | None] = None
    """OIDC issuer URL of the cluster (``irsa`` only)."""
    tags: dict[str, str] = {}
    """Tags for the AWS resources other components create on this cluster."""


def _output(value: Text | None) -> pulumi.Output[str] | None:
    return None if value is None else pulumi.Output.from_input(value)


class ExistingEksCluster(EksClusterBase):
    """An EKS cluster created elsewhere; its attributes are declared once in :class:`EksClusterBase`."""

    def __init__(self, name: str, args: ExistingEksClusterArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        a = parse_args(ExistingEksClusterArgs, args, component="ExistingEksCluster", name=name)
        super().__init__("aiplatform:index:ExistingEksCluster", name, None, opts)
        self.cluster_name_value = a.cluster_name
        self.cluster_name = pulumi.Output.from_input(a.cluster_name)
        self.cluster_arn = eks_cluster_arn(a.region, a.cluster_name, parent=self)
        self.endpoint = pulumi.Output.from_input(a.endpoint)
        self.node_role_arn = pulumi.Output.from_input(a.node_role_arn)
        self.private_subnet_ids = [pulumi.Output.from_input(s) for s in a.private_subnet_ids]
        self.vpc_id = _output(a.vpc_id)
        self.cluster_security_group_id = _output(a.cluster_security_group_id)
        self.oidc_provider_arn = _output(a.oidc_provider_arn)
        self.oidc_issuer = _output(a.oidc_issuer)
        self.workload_identity = a.workload_identity
        self.kubernetes_version = a.kubernetes_version
        self.tags = dict(a.tags)
        self.workload_ready = []
        self.vpc_cni = self
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.endpoint, a.certificate_authority).apply(lambda v: kubeconfig_json(a.cluster_name, v[0], v[1], a.region))
        )
        self.k8s_provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig, opts=pulumi.ResourceOptions(parent=self))
        # Its Service CIDR and VPC are unknown here: any address on 443.
        self.network = ClusterNetwork(api_server=(Allow("anywhere", (443,), "the API server: the kubernetes Service on 443"),))
        register_cluster_network(self.k8s_provider, self.network)
        self.register_cluster_outputs()
