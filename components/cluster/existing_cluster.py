"""ExistingCluster: a cluster someone else runs (kind on a laptop), reached by kubeconfig context."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .. import versions
from ..core.args import Options, parse_args
from ..core.network_policy import Allow, ClusterNetwork, register_cluster_network

KUBE_APISERVER_PORT = 6443
"""kube-apiserver's own port on kubeadm clusters (kind's ``--secure-port``): kind's kindnet
enforces NetworkPolicies after the ``kubernetes`` Service's DNAT, so a pod's API calls match on
6443 at the control-plane node's address, not on the Service's 443."""


class ExistingClusterArgs(Options):
    """Which cluster, and what it runs."""

    context: str
    """Context of the local kubeconfig (``$KUBECONFIG`` or ``~/.kube/config``)."""
    kubernetes_version: str = versions.KUBERNETES
    """Kubernetes minor version of the cluster, for what we render."""


class ExistingCluster(pulumi.ComponentResource):
    k8s_provider: k8s.Provider
    """Kubernetes provider for the context."""
    kubernetes_version: str
    """Kubernetes minor version of the cluster."""
    workload_ready: list[pulumi.Resource]
    """Nothing to wait for: the cluster already runs."""
    network: ClusterNetwork
    """Where its pods reach the API server (NetworkPolicies resolve ``API_SERVER`` with it)."""

    def __init__(self, name: str, args: ExistingClusterArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        a = parse_args(ExistingClusterArgs, args, component="ExistingCluster", name=name)
        super().__init__("aiplatform:index:ExistingCluster", name, None, opts)
        self.kubernetes_version = a.kubernetes_version
        self.workload_ready = []
        self.k8s_provider = k8s.Provider(f"{name}-k8s", context=a.context, opts=pulumi.ResourceOptions(parent=self))
        self.network = ClusterNetwork(api_server=(Allow("anywhere", (KUBE_APISERVER_PORT,), "kube-apiserver on the control-plane node"),))
        register_cluster_network(self.k8s_provider, self.network)
        self.register_outputs(
            {
                "context": a.context,
                "kubernetes_version": self.kubernetes_version,
                "k8s_provider": self.k8s_provider,
                "network": dataclasses.asdict(self.network),
            }
        )
