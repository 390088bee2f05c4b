"""ClusterAutoscaler: brings GPU nodes up for pending pods and removes idle ones."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import SkipValidation

from .. import versions
from ..core.args import Options, parse_args
from ..core.contracts import EksClusterWithKubeconfig
from ..core.helm import helm_release
from ..core.types import matches
from ..core.util import explicit_depends_on, policy_document
from ..core.workload_identity import service_account_role

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"
READ_ACTIONS = [
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
    "eks:DescribeNodegroup",
]
SCALE_ACTIONS = ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]


Duration = Annotated[str, matches(re.compile(r"^\d+[smh]$"), "a duration such as 10m")]


class ClusterAutoscalerOptions(Options):
    """What a caller or a stack file sets for the autoscaler (``clusterAutoscaler``)."""

    scale_down_unneeded_time: Duration = "10m"
    """How long a node stays idle before removal."""
    expander: Literal["least-waste", "priority", "random", "most-pods", "price"] = "least-waste"
    """How it picks a node group to grow."""


class ClusterAutoscalerArgs(ClusterAutoscalerOptions):
    """The autoscaler's options plus what the composition injects."""

    cluster: SkipValidation[EksClusterWithKubeconfig]
    """The cluster whose node groups it scales."""
    region: str
    """AWS region of the cluster."""
    node_selector: dict[str, str] = {}
    """Where the autoscaler itself runs (the system nodes); empty: any node."""
    service_monitor: bool = False
    """Create a ServiceMonitor for its metrics (only once the monitoring CRDs exist: pass the
    monitoring stack in ``opts.depends_on`` too)."""


def scaling_policy(cluster_name: str) -> str:
    """Read everything; scale only the groups EKS tagged as this cluster's."""
    return policy_document(
        [
            {"Effect": "Allow", "Action": READ_ACTIONS, "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": SCALE_ACTIONS,
                "Resource": "*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}},
            },
        ]
    )


def chart_values(a: ClusterAutoscalerArgs, cluster_name: str, annotations: dict) -> dict[str, Any]:
    repository, tag = versions.CLUSTER_AUTOSCALER_IMAGE.rsplit(":", 1)
    return {
        "cloudProvider": "aws",
        "awsRegion": a.region,
        "autoDiscovery": {"clusterName": cluster_name},
        "image": {"repository": repository, "tag": tag, "pullPolicy": "Always"},
        "rbac": {"serviceAccount": {"create": True, "name": SERVICE_ACCOUNT, "annotations": annotations}},
        "extraArgs": {
            "expander": a.expander,
            "balance-similar-node-groups": True,
            # GPU nodes keep model caches on local NVMe; that must not pin them forever.
            "skip-nodes-with-local-storage": False,
            "scale-down-unneeded-time": a.scale_down_unneeded_time,
            "max-node-provision-time": "15m",
            # Per-node-group metrics feed the "GPU pool at its maximum" alert.
            "emit-per-nodegroup-metrics": True,
        },
        "serviceMonitor": {"enabled": a.service_monitor, "namespace": NAMESPACE, "interval": "30s"},
        "nodeSelector": a.node_selector,
        "priorityClassName": "system-cluster-critical",
        "resources": {"requests": {"cpu": "100m", "memory": "300Mi"}, "limits": {"cpu": "500m", "memory": "600Mi"}},
        "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "fsGroup": 65534, "seccompProfile": {"type": "RuntimeDefault"}},
        "containerSecurityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


class ClusterAutoscaler(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    """The cluster-autoscaler Helm release."""

    def __init__(self, name: str, args: ClusterAutoscalerArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        a = parse_args(ClusterAutoscalerArgs, args, component="ClusterAutoscaler", name=name)
        super().__init__("aiplatform:index:ClusterAutoscaler", name, None, opts)
        cluster = a.cluster
        after = explicit_depends_on(opts)
        identity = service_account_role(
            f"{name}-role",
            cluster,
            NAMESPACE,
            SERVICE_ACCOUNT,
            policy_json=scaling_policy(cluster.cluster_name_value),
            parent=self,
        )
        values = pulumi.Output.all(cluster.cluster_name, identity.service_account_annotations).apply(lambda v: chart_values(a, v[0], v[1]))
        self.release = helm_release(
            name,
            versions.CLUSTER_AUTOSCALER,
            namespace=NAMESPACE,
            values=values,
            parent=self,
            depends_on=[*identity.grants, *after],
        )
        self.register_outputs({"release": self.release.name})
