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


# ---------------------------------------------------------------- compute and serving


@runtime_checkable
class RayOperator(Protocol):
    """The KubeRay operator a RayCluster runs under (KubeRayOperator)."""

    crds_ready: list[pulumi.Resource]
    """What a Ray custom resource must wait for: the release that installs the CRDs and the operator."""


@runtime_checkable
class GatewayImplementation(Protocol):
    """A Gateway API implementation KServe routes through (IngressGateway)."""

    namespace: str
    """Where its proxies run: the source of the models' inbound traffic."""
    ready: list[pulumi.Resource]
    """What the owner of a Gateway of its class must wait for."""

    def kserve_values(self, kserve_namespace: str) -> Mapping[str, object]:
        """kserve-resources values under ``kserve.controller.gateway.ingressGateway``."""
        ...


@runtime_checkable
class ServingPlatform(Protocol):
    """A KServe installation that InferenceServices are created in (KServe)."""

    deployment_mode: str
    gateway_api: bool
    """InferenceServices get HTTPRoutes (and Standard-mode canaries a weighted split)."""
    model_namespace: str
    model_namespace_ready: list[pulumi.Resource]
    crds_ready: list[pulumi.Resource]
    local_model_node_groups: Mapping[str, pulumi.Resource]
    """LocalModelNodeGroup per pool name."""
    local_model_jobs_namespace: str
