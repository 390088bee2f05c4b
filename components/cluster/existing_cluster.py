"""ExistingCluster: a cluster someone else runs (kind on a laptop), reached by kubeconfig context."""

from __future__ import annotations

from typing import Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from ..core.util import with_defaults


class ExistingClusterArgs(TypedDict, total=False):
    context: Required[str]
    """Context of the local kubeconfig (``$KUBECONFIG`` or ``~/.kube/config``). Required."""
    kubernetes_version: str
    """Kubernetes minor version of the cluster, for what we render. Default: ``1.35``."""


DEFAULTS = {"kubernetes_version": "1.35"}


class ExistingCluster(pulumi.ComponentResource):
    k8s_provider: k8s.Provider
    kubernetes_version: str
    workload_ready: list[pulumi.Resource]
    """Nothing to wait for: the cluster already runs."""

    def __init__(self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aiplatform:index:ExistingCluster", name, None, opts)
        a = with_defaults(args, DEFAULTS)
        self.kubernetes_version = a["kubernetes_version"]
        self.workload_ready = []
        self.k8s_provider = k8s.Provider(f"{name}-k8s", context=a["context"], opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"context": a["context"]})
