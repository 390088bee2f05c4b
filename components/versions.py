"""Pinned upstream releases: every chart and image the components install.

Change a version here and nowhere else; the tests and golden renders read these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    name: str
    version: str
    repo: str


GPU_OPERATOR = Chart("gpu-operator", "v26.7.0", "https://helm.ngc.nvidia.com/nvidia")
# Chart 9.54.x ships cluster-autoscaler 1.35, the minor matching the default EKS version.
CLUSTER_AUTOSCALER = Chart("cluster-autoscaler", "9.54.0", "https://kubernetes.github.io/autoscaler")
CLUSTER_AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.0"
