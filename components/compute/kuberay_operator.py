"""KubeRayOperator: the KubeRay operator and its CRDs (RayCluster, RayJob, RayService), once per cluster."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .. import versions
from ..core.args import Options, parse_args
from ..core.helm import release_in_own_namespace
from ..core.network_policy import API_SERVER, Allow, Isolation

# The operator reconciles through the API server and asks each head's dashboard for job status.
ISOLATION = Isolation(egress=[API_SERVER, Allow("platform", (8265,), "Ray dashboards (job status)")])

OPERATOR_IMAGE_REPOSITORY = "quay.io/kuberay/operator"
OPERATOR_IMAGE_TAG = f"v{versions.KUBERAY_OPERATOR.version}"
"""The operator image released with the chart; pinned here rather than left to the chart's default."""

# The operator image runs as a non-root user, so the namespace can enforce the restricted profile.
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}


class KubeRayOperatorArgs(Options):
    """The operator's settings; the stack derives them (system nodes, monitoring on or off)."""

    namespace: str = "kuberay-operator"
    """Namespace of the operator."""
    node_selector: dict[str, str] = {}
    """Where the operator runs (the system nodes); empty: any Linux node."""
    service_monitor: bool = False
    """Create a ServiceMonitor for the operator's metrics; only when the monitoring CRDs exist, so
    pass the monitoring stack in ``opts.depends_on`` too."""


def chart_values(a: KubeRayOperatorArgs) -> dict[str, Any]:
    """Helm values for the kuberay-operator chart (keys from its values.yaml at the pinned version)."""
    return {
        "image": {"repository": OPERATOR_IMAGE_REPOSITORY, "tag": OPERATOR_IMAGE_TAG, "pullPolicy": "Always"},
        "nodeSelector": {"kubernetes.io/os": "linux", **a.node_selector},
        # Memory grows with the number of Ray pods managed (upstream: ~500 MB for 500 pods).
        "resources": {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
        # 65532: the distroless "nonroot" user the operator image runs as.
        "podSecurityContext": {"runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": RESTRICTED_CONTAINER,
        "metrics": {"enabled": True, "serviceMonitor": {"enabled": a.service_monitor}},
    }


class KubeRayOperator(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    namespace: pulumi.Output[str]
    crds_ready: list[pulumi.Resource]
    """What a Ray custom resource must depend on: the release that installs the CRDs and the operator."""

    def __init__(self, name: str, args: KubeRayOperatorArgs | Mapping[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None):
        a = parse_args(KubeRayOperatorArgs, args, component="KubeRayOperator", name=name)
        super().__init__("aiplatform:index:KubeRayOperator", name, None, opts)
        self.namespace, self.release = release_in_own_namespace(
            self, name, versions.KUBERAY_OPERATOR, namespace=a.namespace, isolation=ISOLATION, values=chart_values(a), opts=opts
        )
        self.crds_ready = [self.release]
        self.register_outputs({"namespace": self.namespace, "release": self.release.name})
