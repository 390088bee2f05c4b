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

# Data layer
MINIO = Chart("minio", "5.4.0", "https://charts.min.io/")
MINIO_IMAGE = "quay.io/minio/minio:RELEASE.2024-12-18T13-15-44Z"
MINIO_CLIENT_IMAGE = "quay.io/minio/mc:RELEASE.2024-11-21T17-21-54Z"
MLFLOW = Chart("mlflow", "1.11.5", "https://community-charts.github.io/helm-charts")
# The community image carries psycopg2 and boto3 (the upstream MLflow image does not).
MLFLOW_VERSION = "3.15.1"
MLFLOW_IMAGE = f"burakince/mlflow:{MLFLOW_VERSION}"

# Compute and serving
KUBERAY_OPERATOR = Chart("kuberay-operator", "1.7.0", "https://ray-project.github.io/kuberay-helm/")
# Drivers and the tests install the same ``ray`` from PyPI; a driver must run the images' Python (3.11).
RAY_VERSION = "2.60.0"
RAY_CPU_IMAGE = f"docker.io/rayproject/ray:{RAY_VERSION}-py311"
RAY_GPU_IMAGE = f"docker.io/rayproject/ray:{RAY_VERSION}-py311-gpu"
CERT_MANAGER = Chart("cert-manager", "v1.18.2", "https://charts.jetstack.io")
KSERVE_CRD = Chart("kserve-crd", "v0.20.0", "oci://ghcr.io/kserve/charts")
KSERVE_RESOURCES = Chart("kserve-resources", "v0.20.0", "oci://ghcr.io/kserve/charts")
# The vLLM release KServe v0.20.0's Hugging Face runtime bundles (python/huggingfaceserver/uv.lock): the tag
# of the chart's standalone vLLM runtime image (vllm/vllm-openai), which the chart leaves at ``latest``.
VLLM_OPENAI_TAG = "v0.24.0"
KSERVE_RUNTIME_CONFIGS = Chart("kserve-runtime-configs", "v0.20.0", "oci://ghcr.io/kserve/charts")

# Observability
KUBE_PROMETHEUS_STACK = Chart("kube-prometheus-stack", "88.5.3", "https://prometheus-community.github.io/helm-charts")
# Resource metrics API (metrics.k8s.io) for HPAs; chart 3.13.1 ships metrics-server 0.8.1 (its appVersion).
METRICS_SERVER = Chart("metrics-server", "3.13.1", "https://kubernetes-sigs.github.io/metrics-server/")
METRICS_SERVER_IMAGE = "registry.k8s.io/metrics-server/metrics-server:v0.8.1"
# Event-driven autoscaling: KServe turns an InferenceService's Prometheus metrics into a KEDA
# ScaledObject (autoscalerClass keda); the chart installs the operator, its external metrics API
# server and admission webhooks, all at the chart's appVersion 2.20.2.
KEDA = Chart("keda", "2.20.2", "https://kedacore.github.io/charts")
# Gateway API implementation for KServe's HTTPRoutes (Standard-mode canary traffic splitting).
ENVOY_GATEWAY = Chart("gateway-helm", "v1.6.1", "oci://docker.io/envoyproxy")
ENVOY_GATEWAY_IMAGE = f"docker.io/envoyproxy/gateway:{ENVOY_GATEWAY.version}"
ENVOY_PROXY_IMAGE = "docker.io/envoyproxy/envoy:distroless-v1.36.3"  # the Envoy release of gateway v1.6.1

# The Kubernetes minor a cluster runs unless its Args say otherwise (EksCluster, ExistingCluster,
# ExistingEksCluster); cluster-autoscaler above matches it.
KUBERNETES = "1.35"
