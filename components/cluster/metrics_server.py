"""MetricsServer: the resource metrics API (``metrics.k8s.io``) that HorizontalPodAutoscalers read.

KServe's Standard mode scales a predictor with an HPA on ``cpu`` or ``memory`` (its default), and the
HPA controller reads those from ``metrics.k8s.io``: without metrics-server the HPA reports
``FailedGetResourceMetric`` and never scales. Neither EKS nor kind installs it, so every stack does.

metrics-server scrapes every kubelet's ``/metrics/resource`` on 10250 and is itself an aggregated
API server the Kubernetes API server calls (the chart's APIService ``v1beta1.metrics.k8s.io``) on
its container port 10250 (the chart's ``containerPort`` default); its namespace allows exactly that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from .. import versions
from ..core.args import Options, parse_args
from ..core.helm import release_in_own_namespace
from ..core.network_policy import API_SERVER, WEBHOOK_CALLS, Allow, Isolation

KUBELET_PORT = 10250
"""Kubelets serve ``/metrics/resource`` here (the chart's default ``--kubelet-use-node-status-port``)."""
CONTAINER_PORT = 10250
"""metrics-server's secure port (chart value ``containerPort``); the APIService's Service targets it."""
ISOLATION = Isolation(
    ingress=[Allow("anywhere", (CONTAINER_PORT,), f"the API server proxies metrics.k8s.io here; {WEBHOOK_CALLS}")],
    egress=[API_SERVER, Allow("anywhere", (KUBELET_PORT,), "kubelets' /metrics/resource, on the nodes' addresses")],
)
IMAGE = versions.METRICS_SERVER_IMAGE


class MetricsServerOptions(Options):
    """What a caller or a stack file sets for metrics-server (``metricsServer``)."""

    replicas: int = Field(default=2, ge=1, le=5)
    """metrics-server pods; with two or more a PodDisruptionBudget keeps one serving while nodes
    drain, so HPAs never lose their metrics."""
    kubelet_insecure_tls: bool = False
    """Skip verifying the kubelets' serving certificates. kind's kubelets present self-signed
    certificates, so dev sets this; EKS kubelets' certificates are signed by the cluster CA."""


class MetricsServerArgs(MetricsServerOptions):
    """metrics-server's options plus what the composition injects."""

    namespace: str = "metrics-server"
    """Namespace of metrics-server."""
    node_selector: dict[str, str] = {}
    """Where metrics-server runs (the system nodes); empty: any Linux node."""


def chart_values(a: MetricsServerArgs) -> dict[str, Any]:
    """Helm values for the metrics-server chart (keys from its values.yaml at the pinned version)."""
    repository, tag = IMAGE.rsplit(":", 1)
    values: dict[str, Any] = {
        # Always: the kubelet re-checks the pinned tag with the registry, as the program's own pods do (checkov CKV_K8S_15).
        "image": {"repository": repository, "tag": tag, "pullPolicy": "Always"},
        "replicas": a.replicas,
        "containerPort": CONTAINER_PORT,
        "args": ["--kubelet-insecure-tls"] if a.kubelet_insecure_tls else [],
        "nodeSelector": {"kubernetes.io/os": "linux", **a.node_selector},
        "priorityClassName": "system-cluster-critical",
        # Upstream's sizing: 100m / 200Mi serves up to ~100 nodes (values.yaml `resources`).
        "resources": {"requests": {"cpu": "100m", "memory": "200Mi"}, "limits": {"cpu": "500m", "memory": "400Mi"}},
        "podSecurityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            # A UID outside the node's user range (checkov CKV_K8S_40); the binary is static and writes
            # only to the chart's tmp emptyDir, so any non-root UID runs it.
            "runAsUser": 65534,
            "seccompProfile": {"type": "RuntimeDefault"},
            "capabilities": {"drop": ["ALL"]},
        },
        "hostNetwork": {"enabled": False},
    }
    if a.replicas > 1:
        values["podDisruptionBudget"] = {"enabled": True, "minAvailable": 1}
    return values


class MetricsServer(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    """The metrics-server Helm release."""
    namespace: pulumi.Output[str]

    def __init__(self, name: str, args: MetricsServerArgs | Mapping[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None):
        a = parse_args(MetricsServerArgs, args, component="MetricsServer", name=name)
        super().__init__("aiplatform:index:MetricsServer", name, None, opts)
        self.namespace, self.release = release_in_own_namespace(
            self, name, versions.METRICS_SERVER, namespace=a.namespace, isolation=ISOLATION, values=chart_values(a), opts=opts
        )
        self.register_outputs({"namespace": self.namespace, "release": self.release.name})
