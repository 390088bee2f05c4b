"""Keda: event-driven autoscaling for models that scale on a serving signal.

KServe's Standard mode scales a predictor on cpu or memory through an HPA. An LLM's load shows in
its model server instead (vLLM's running and waiting requests), so such an InferenceService asks
KServe for ``serving.kserve.io/autoscalerClass: keda`` and KServe creates a KEDA ScaledObject whose
Prometheus trigger queries that signal (pkg/controller/v1beta1/inferenceservice/reconcilers/keda at
v0.20.0). KEDA's operator runs the query; its metrics API server serves the result to the HPA it
creates as ``external.metrics.k8s.io``.

What crosses the namespace's default-deny (keda 2.20.2 chart):
- in: the API server calls the metrics API server (APIService ``v1beta1.external.metrics.k8s.io``,
  Service port 443 -> container ``service.portHttpsTarget`` 6443) and the admission webhooks
  (container port ``webhooks.port``, default 9443); the operator's gRPC 9666 is called by the
  metrics API server from the same namespace, which the base policy allows;
- out: the API server, and Prometheus (the Observability component's service, port 9090), which
  the operator queries for every trigger.
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
from ..core.network_policy import API_SERVER, MONITORING_NAMESPACE, WEBHOOK_CALLS, Allow, Isolation

NAMESPACE = "keda"
METRICS_API_PORT = 6443
"""The metrics API server's container port (chart value ``service.portHttpsTarget``)."""
WEBHOOK_PORT = 9443
"""The admission webhooks' container port (chart value ``webhooks.port``, empty: 9443)."""
PROMETHEUS_PORT = 9090
"""kube-prometheus-stack's Prometheus Service port (Observability's ``prometheus_url``)."""
ISOLATION = Isolation(
    ingress=[Allow("anywhere", (METRICS_API_PORT, WEBHOOK_PORT), f"external.metrics.k8s.io and the admission webhooks; {WEBHOOK_CALLS}")],
    egress=[API_SERVER, Allow(MONITORING_NAMESPACE, (PROMETHEUS_PORT,), "Prometheus, which the Prometheus triggers query")],
)
_PODS = ("operator", "metricServer", "webhooks")
"""The chart's three pods, as its securityContext, podSecurityContext and resources keys name them."""


class KedaOptions(Options):
    """What a caller or a stack file sets for KEDA (``keda``). The stack installs KEDA only when an
    InferenceService scales on a serving signal (``scaleMetric`` ``concurrency`` or ``rps`` in
    Standard mode)."""

    replicas: int = Field(default=1, ge=1, le=3)
    """Pods of the operator, the metrics API server and the webhooks each; with two or more a
    PodDisruptionBudget keeps one of each while nodes drain (only the operator's leader scales, the
    others stand by)."""


class KedaArgs(KedaOptions):
    """KEDA's options plus what the composition injects."""

    namespace: str = NAMESPACE
    """Namespace of the operator, the metrics API server and the webhooks."""
    node_selector: dict[str, str] = {}
    """Where KEDA runs (the system nodes); empty: any Linux node."""


def _container_security() -> dict[str, Any]:
    # The chart's defaults (values.yaml securityContext.*) plus a non-root uid outside the node's
    # users (checkov CKV_K8S_40); the three static binaries write nothing but their mounted certs.
    return {
        "capabilities": {"drop": ["ALL"]},
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def chart_values(a: KedaArgs) -> dict[str, Any]:
    """Helm values for the keda chart (keys from its values.yaml at the pinned version)."""
    resources = {"requests": {"cpu": "100m", "memory": "100Mi"}, "limits": {"cpu": "1", "memory": "1000Mi"}}  # the chart's defaults
    values: dict[str, Any] = {
        "crds": {"install": True},
        "operator": {"replicaCount": a.replicas},
        "metricsServer": {"replicaCount": a.replicas},
        "webhooks": {"replicaCount": a.replicas},
        "nodeSelector": {"kubernetes.io/os": "linux", **a.node_selector},
        "priorityClassName": "system-cluster-critical",  # HPAs lose their external metrics without it
        "securityContext": {pod: _container_security() for pod in _PODS},
        "podSecurityContext": {pod: {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}} for pod in _PODS},
        "resources": {pod: resources for pod in _PODS},
        # Our NetworkPolicies isolate the namespace; the chart's are Cilium's by default.
        "networkPolicy": {"enabled": False},
    }
    if a.replicas > 1:
        values["podDisruptionBudget"] = {key: {"minAvailable": 1} for key in ("operator", "metricServer", "webhooks")}
    return values


class Keda(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    """The keda Helm release: CRDs, operator, metrics API server, webhooks."""
    namespace: pulumi.Output[str]
    ready: list[pulumi.Resource]
    """What a ScaledObject's creator must wait for: the CRDs and the webhooks that admit them."""

    def __init__(self, name: str, args: KedaArgs | Mapping[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None):
        a = parse_args(KedaArgs, args, component="Keda", name=name)
        super().__init__("aiplatform:index:Keda", name, None, opts)
        self.namespace, self.release = release_in_own_namespace(
            self, name, versions.KEDA, namespace=a.namespace, isolation=ISOLATION, values=chart_values(a), opts=opts
        )
        self.ready = [self.release]
        self.register_outputs({"namespace": self.namespace, "release": self.release.name})
