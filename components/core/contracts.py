"""What components hand each other: the declared contracts between them.

A component takes another through one of these Protocols (a cluster, a node pool, an object
store), never by reaching into its private attributes, so a stand-in that has the same
attributes (``ExistingEksCluster`` for ``EksCluster``, a test double) works everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import pulumi


@runtime_checkable
class KubernetesCluster(Protocol):
    """Any cluster the platform installs into (kind, an existing cluster, EKS)."""

    k8s_provider: pulumi.ProviderResource
    """Every Kubernetes object is created through it, so destroy removes them before the cluster."""
    kubernetes_version: str
    workload_ready: list[pulumi.Resource]
    """What a pod must wait for: nodes to run on, DNS, the CNI (empty for an existing cluster)."""


@runtime_checkable
class NodePool(Protocol):
    """A pool of GPU nodes that workloads select (GpuNodePool)."""

    name: str
    """The pool's name: the value of its ``ai-platform.io/pool`` label."""
    labels: Mapping[str, str]
    node_selector: Mapping[str, str]
    tolerations: Sequence[Mapping[str, str]]
    gpu_resources: Mapping[str, int]
    """Extended resources one node offers (``nvidia.com/gpu`` or MIG devices), after sharing."""
    time_slicing_replicas: int | None
    device_plugin_config: str | None


@runtime_checkable
class EksClusterLike(KubernetesCluster, Protocol):
    """An EKS cluster that GPU pools join and service accounts get IAM roles on (EksCluster,
    ExistingEksCluster)."""

    cluster_name: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    vpc_id: pulumi.Output[str] | None
    cluster_security_group_id: pulumi.Output[str] | None
    vpc_cni: pulumi.Resource
    """GPU nodes join only once the CNI add-on exists."""
    workload_identity: str
    oidc_provider_arn: pulumi.Output[str] | None
    oidc_issuer: pulumi.Output[str] | None
    tags: dict[str, str]


# ---------------------------------------------------------------- cluster layer


@runtime_checkable
class EksClusterWithKubeconfig(EksClusterLike, Protocol):
    """An EKS cluster this program reaches by kubeconfig (EksCluster, ExistingEksCluster, both
    through ``components/cluster/eks_base.py``): what the stack exports and what IAM policies
    name without waiting for the cluster."""

    cluster_name_value: str
    """The cluster's name as a plain value (IAM policy conditions must not wait for the cluster)."""
    endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    """Secret kubeconfig that authenticates with ``aws eks get-token``."""
