"""checkov findings on the chart objects (build/<stack>/charts), one entry per (check, resource).

REVIEWED: a true reason the finding stays (the chart needs it, or it cannot be configured away).
OPEN: found by tests/test_checkov.py and not yet reviewed: each is either a value a component should
set (a bug to fix there) or a chart limit to record under REVIEWED with its reason. The test fails on
any finding in neither list and on any entry no longer found, so the lists shrink as fixes land.
"""

from __future__ import annotations

REVIEWED: dict[tuple[str, str], str] = {
    ("CKV_K8S_38", "Deployment.metrics-server.metrics-server"): (
        "metrics-server serves the metrics API and reads nodes and pods from the API server: its pod needs its service account token"
    ),
    ("CKV_K8S_43", "Deployment.metrics-server.metrics-server"): (
        "pinned by tag in components/versions.py (the chart's appVersion), like the program's own images; a digest would pin one architecture"
    ),
    (
        "CKV_K8S_17",
        "DaemonSet.monitoring-node-exporter.observability-prometheus-node-exporter",
    ): "node-exporter reads the host's process table (hostPID) for node metrics; its namespace monitoring-node-exporter enforces privileged for this one DaemonSet",
    (
        "CKV_K8S_19",
        "DaemonSet.monitoring-node-exporter.observability-prometheus-node-exporter",
    ): "node-exporter reports the node's network interfaces and listens on the node address (hostNetwork); its namespace enforces privileged for this one DaemonSet",
}

# (check, resource) -> (check name, stacks)
OPEN: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("CKV2_K8S_5", "ClusterRoleBinding.default.observability-grafana-clusterrolebinding"): (
        "No ServiceAccount/Node should be able to read all secrets",
        ("dev", "prod"),
    ),
    ("CKV2_K8S_5", "RoleBinding.envoy-gateway-system.envoy-gateway-gateway-helm-certgen"): (
        "No ServiceAccount/Node should be able to read all secrets",
        ("prod",),
    ),
    ("CKV2_K8S_5", "RoleBinding.monitoring.observability-admission"): (
        "No ServiceAccount/Node should be able to read all secrets",
        ("dev", "prod"),
    ),
    ("CKV_K8S_10", "Deployment.monitoring.observability-grafana"): ("CPU requests should be set", ("dev", "prod")),
    ("CKV_K8S_10", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): ("CPU requests should be set", ("dev", "prod")),
    ("CKV_K8S_10", "Job.gpu-operator.gpu-operator-upgrade-crd"): ("CPU requests should be set", ("dev", "prod")),
    ("CKV_K8S_11", "Deployment.monitoring.observability-grafana"): ("CPU limits should be set", ("dev", "prod")),
    ("CKV_K8S_11", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): ("CPU limits should be set", ("dev", "prod")),
    ("CKV_K8S_11", "Job.gpu-operator.gpu-operator-upgrade-crd"): ("CPU limits should be set", ("dev", "prod")),
    ("CKV_K8S_12", "Deployment.monitoring.observability-grafana"): ("Memory requests should be set", ("dev", "prod")),
    ("CKV_K8S_12", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): ("Memory requests should be set", ("dev", "prod")),
    ("CKV_K8S_12", "Job.gpu-operator.gpu-operator-upgrade-crd"): ("Memory requests should be set", ("dev", "prod")),
    ("CKV_K8S_13", "Deployment.monitoring.observability-grafana"): ("Memory limits should be set", ("dev", "prod")),
    ("CKV_K8S_13", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): ("Memory limits should be set", ("dev", "prod")),
    ("CKV_K8S_13", "Job.gpu-operator.gpu-operator-upgrade-crd"): ("Memory limits should be set", ("dev", "prod")),
    ("CKV_K8S_15", "DaemonSet.gpu-operator.gpu-operator-node-feature-discovery-worker"): (
        "Image Pull Policy should be Always",
        ("dev", "prod"),
    ),
    ("CKV_K8S_15", "DaemonSet.monitoring-node-exporter.observability-prometheus-node-exporter"): (
        "Image Pull Policy should be Always",
        ("dev", "prod"),
    ),
    ("CKV_K8S_15", "Deployment.cert-manager.cert-manager"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_15", "Deployment.cert-manager.cert-manager-cainjector"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_15", "Deployment.cert-manager.cert-manager-webhook"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_15", "Deployment.envoy-gateway-system.envoy-gateway"): ("Image Pull Policy should be Always", ("prod",)),
    ("CKV_K8S_15", "Deployment.gpu-operator.gpu-operator"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_15", "Deployment.gpu-operator.gpu-operator-node-feature-discovery-gc"): (
        "Image Pull Policy should be Always",
        ("dev", "prod"),
    ),
    ("CKV_K8S_15", "Deployment.gpu-operator.gpu-operator-node-feature-discovery-master"): (
        "Image Pull Policy should be Always",
        ("dev", "prod"),
    ),
    ("CKV_K8S_15", "Deployment.kserve.kserve-controller-manager"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_15", "Deployment.kube-system.ai-prod-autoscaler-aws-cluster-autoscaler"): ("Image Pull Policy should be Always", ("prod",)),
    ("CKV_K8S_15", "Deployment.kuberay-operator.kuberay-operator"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_15", "Deployment.minio.minio"): ("Image Pull Policy should be Always", ("dev",)),
    ("CKV_K8S_15", "Deployment.monitoring.observability-grafana"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_15", "Deployment.monitoring.observability-kube-state-metrics"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_15", "Deployment.monitoring.observability-operator"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_15", "Job.cert-manager.cert-manager-startupapicheck"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_15", "Job.envoy-gateway-system.envoy-gateway-gateway-helm-certgen"): ("Image Pull Policy should be Always", ("prod",)),
    ("CKV_K8S_15", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_15", "Job.gpu-operator.gpu-operator-node-feature-discovery-prune"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_15", "Job.gpu-operator.gpu-operator-upgrade-crd"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_15", "Job.minio.minio-post-job"): ("Image Pull Policy should be Always", ("dev",)),
    ("CKV_K8S_15", "Job.monitoring.observability-admission-create"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_15", "Job.monitoring.observability-admission-patch"): ("Image Pull Policy should be Always", ("dev", "prod")),
    ("CKV_K8S_155", "ClusterRole.default.cert-manager-cainjector"): (
        "Minimize ClusterRoles that grant control over validating or mutating admission webhook configurations",
        ("dev", "prod"),
    ),
    ("CKV_K8S_155", "ClusterRole.default.envoy-gateway-gateway-helm-certgen:envoy-gateway-system"): (
        "Minimize ClusterRoles that grant control over validating or mutating admission webhook configurations",
        ("prod",),
    ),
    ("CKV_K8S_155", "ClusterRole.default.kserve-manager-role"): (
        "Minimize ClusterRoles that grant control over validating or mutating admission webhook configurations",
        ("dev", "prod"),
    ),
    ("CKV_K8S_155", "ClusterRole.default.observability-admission"): (
        "Minimize ClusterRoles that grant control over validating or mutating admission webhook configurations",
        ("dev", "prod"),
    ),
    ("CKV_K8S_20", "DaemonSet.monitoring-node-exporter.observability-prometheus-node-exporter"): (
        "Containers should not run with allowPrivilegeEscalation",
        ("dev", "prod"),
    ),
    ("CKV_K8S_20", "Deployment.gpu-operator.gpu-operator"): ("Containers should not run with allowPrivilegeEscalation", ("dev", "prod")),
    ("CKV_K8S_20", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): (
        "Containers should not run with allowPrivilegeEscalation",
        ("dev", "prod"),
    ),
    ("CKV_K8S_20", "Job.gpu-operator.gpu-operator-upgrade-crd"): (
        "Containers should not run with allowPrivilegeEscalation",
        ("dev", "prod"),
    ),
    ("CKV_K8S_22", "Deployment.envoy-gateway-system.envoy-gateway"): ("Use read-only filesystem for containers where possible", ("prod",)),
    ("CKV_K8S_22", "Deployment.gpu-operator.gpu-operator"): ("Use read-only filesystem for containers where possible", ("dev", "prod")),
    ("CKV_K8S_22", "Deployment.minio.minio"): ("Use read-only filesystem for containers where possible", ("dev",)),
    ("CKV_K8S_22", "Deployment.monitoring.observability-grafana"): (
        "Use read-only filesystem for containers where possible",
        ("dev", "prod"),
    ),
    ("CKV_K8S_22", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): (
        "Use read-only filesystem for containers where possible",
        ("dev", "prod"),
    ),
    ("CKV_K8S_22", "Job.gpu-operator.gpu-operator-upgrade-crd"): (
        "Use read-only filesystem for containers where possible",
        ("dev", "prod"),
    ),
    ("CKV_K8S_23", "Deployment.gpu-operator.gpu-operator"): ("Minimize the admission of root containers", ("dev", "prod")),
    ("CKV_K8S_23", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): ("Minimize the admission of root containers", ("dev", "prod")),
    ("CKV_K8S_23", "Job.gpu-operator.gpu-operator-upgrade-crd"): ("Minimize the admission of root containers", ("dev", "prod")),
    ("CKV_K8S_28", "DaemonSet.monitoring-node-exporter.observability-prometheus-node-exporter"): (
        "Minimize the admission of containers with the NET_RAW capability",
        ("dev", "prod"),
    ),
    ("CKV_K8S_28", "Deployment.gpu-operator.gpu-operator"): (
        "Minimize the admission of containers with the NET_RAW capability",
        ("dev", "prod"),
    ),
    ("CKV_K8S_28", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): (
        "Minimize the admission of containers with the NET_RAW capability",
        ("dev", "prod"),
    ),
    ("CKV_K8S_28", "Job.gpu-operator.gpu-operator-upgrade-crd"): (
        "Minimize the admission of containers with the NET_RAW capability",
        ("dev", "prod"),
    ),
    ("CKV_K8S_29", "Deployment.envoy-gateway-system.envoy-gateway"): ("Apply security context to your pods and containers", ("prod",)),
    ("CKV_K8S_29", "Deployment.gpu-operator.gpu-operator"): ("Apply security context to your pods and containers", ("dev", "prod")),
    ("CKV_K8S_29", "Job.envoy-gateway-system.envoy-gateway-gateway-helm-certgen"): (
        "Apply security context to your pods and containers",
        ("prod",),
    ),
    ("CKV_K8S_29", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): (
        "Apply security context to your pods and containers",
        ("dev", "prod"),
    ),
    ("CKV_K8S_29", "Job.gpu-operator.gpu-operator-node-feature-discovery-prune"): (
        "Apply security context to your pods and containers",
        ("dev", "prod"),
    ),
    ("CKV_K8S_29", "Job.gpu-operator.gpu-operator-upgrade-crd"): ("Apply security context to your pods and containers", ("dev", "prod")),
    ("CKV_K8S_30", "Deployment.gpu-operator.gpu-operator"): ("Apply security context to your containers", ("dev", "prod")),
    ("CKV_K8S_30", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): ("Apply security context to your containers", ("dev", "prod")),
    ("CKV_K8S_30", "Job.gpu-operator.gpu-operator-upgrade-crd"): ("Apply security context to your containers", ("dev", "prod")),
    ("CKV_K8S_31", "DaemonSet.gpu-operator.gpu-operator-node-feature-discovery-worker"): (
        "Ensure that the seccomp profile is set to docker/default or runtime/default",
        ("dev", "prod"),
    ),
    ("CKV_K8S_31", "DaemonSet.monitoring-node-exporter.observability-prometheus-node-exporter"): (
        "Ensure that the seccomp profile is set to docker/default or runtime/default",
        ("dev", "prod"),
    ),
    ("CKV_K8S_31", "Deployment.gpu-operator.gpu-operator"): (
        "Ensure that the seccomp profile is set to docker/default or runtime/default",
        ("dev", "prod"),
    ),
    ("CKV_K8S_31", "Deployment.gpu-operator.gpu-operator-node-feature-discovery-gc"): (
        "Ensure that the seccomp profile is set to docker/default or runtime/default",
        ("dev", "prod"),
    ),
    ("CKV_K8S_31", "Deployment.gpu-operator.gpu-operator-node-feature-discovery-master"): (
        "Ensure that the seccomp profile is set to docker/default or runtime/default",
        ("dev", "prod"),
    ),
    ("CKV_K8S_31", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): (
        "Ensure that the seccomp profile is set to docker/default or runtime/default",
        ("dev", "prod"),
    ),
    ("CKV_K8S_31", "Job.gpu-operator.gpu-operator-node-feature-discovery-prune"): (
        "Ensure that the seccomp profile is set to docker/default or runtime/default",
        ("dev", "prod"),
    ),
    ("CKV_K8S_31", "Job.gpu-operator.gpu-operator-upgrade-crd"): (
        "Ensure that the seccomp profile is set to docker/default or runtime/default",
        ("dev", "prod"),
    ),
    ("CKV_K8S_35", "Deployment.minio.minio"): ("Prefer using secrets as files over secrets as environment variables", ("dev",)),
    ("CKV_K8S_35", "Deployment.monitoring.observability-grafana"): (
        "Prefer using secrets as files over secrets as environment variables",
        ("dev", "prod"),
    ),
    ("CKV_K8S_37", "DaemonSet.monitoring-node-exporter.observability-prometheus-node-exporter"): (
        "Minimize the admission of containers with capabilities assigned",
        ("dev", "prod"),
    ),
    ("CKV_K8S_37", "Deployment.gpu-operator.gpu-operator"): (
        "Minimize the admission of containers with capabilities assigned",
        ("dev", "prod"),
    ),
    ("CKV_K8S_37", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): (
        "Minimize the admission of containers with capabilities assigned",
        ("dev", "prod"),
    ),
    ("CKV_K8S_37", "Job.gpu-operator.gpu-operator-upgrade-crd"): (
        "Minimize the admission of containers with capabilities assigned",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "DaemonSet.gpu-operator.gpu-operator-node-feature-discovery-worker"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Deployment.cert-manager.cert-manager"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Deployment.cert-manager.cert-manager-cainjector"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Deployment.cert-manager.cert-manager-webhook"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Deployment.envoy-gateway-system.envoy-gateway"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("prod",),
    ),
    ("CKV_K8S_38", "Deployment.gpu-operator.gpu-operator"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Deployment.gpu-operator.gpu-operator-node-feature-discovery-gc"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Deployment.gpu-operator.gpu-operator-node-feature-discovery-master"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Deployment.kserve.kserve-controller-manager"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Deployment.kube-system.ai-prod-autoscaler-aws-cluster-autoscaler"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("prod",),
    ),
    ("CKV_K8S_38", "Deployment.kuberay-operator.kuberay-operator"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Deployment.minio.minio"): ("Ensure that Service Account Tokens are only mounted where necessary", ("dev",)),
    ("CKV_K8S_38", "Deployment.monitoring.observability-grafana"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Deployment.monitoring.observability-kube-state-metrics"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Deployment.monitoring.observability-operator"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Job.cert-manager.cert-manager-startupapicheck"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Job.envoy-gateway-system.envoy-gateway-gateway-helm-certgen"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("prod",),
    ),
    ("CKV_K8S_38", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Job.gpu-operator.gpu-operator-node-feature-discovery-prune"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Job.gpu-operator.gpu-operator-upgrade-crd"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Job.minio.minio-post-job"): ("Ensure that Service Account Tokens are only mounted where necessary", ("dev",)),
    ("CKV_K8S_38", "Job.monitoring.observability-admission-create"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_38", "Job.monitoring.observability-admission-patch"): (
        "Ensure that Service Account Tokens are only mounted where necessary",
        ("dev", "prod"),
    ),
    ("CKV_K8S_40", "DaemonSet.gpu-operator.gpu-operator-node-feature-discovery-worker"): (
        "Containers should run as a high UID to avoid host conflict",
        ("dev", "prod"),
    ),
    ("CKV_K8S_40", "Deployment.cert-manager.cert-manager"): ("Containers should run as a high UID to avoid host conflict", ("dev", "prod")),
    ("CKV_K8S_40", "Deployment.cert-manager.cert-manager-cainjector"): (
        "Containers should run as a high UID to avoid host conflict",
        ("dev", "prod"),
    ),
    ("CKV_K8S_40", "Deployment.cert-manager.cert-manager-webhook"): (
        "Containers should run as a high UID to avoid host conflict",
        ("dev", "prod"),
    ),
    ("CKV_K8S_40", "Deployment.gpu-operator.gpu-operator"): ("Containers should run as a high UID to avoid host conflict", ("dev", "prod")),
    ("CKV_K8S_40", "Deployment.gpu-operator.gpu-operator-node-feature-discovery-gc"): (
        "Containers should run as a high UID to avoid host conflict",
        ("dev", "prod"),
    ),
    ("CKV_K8S_40", "Deployment.gpu-operator.gpu-operator-node-feature-discovery-master"): (
        "Containers should run as a high UID to avoid host conflict",
        ("dev", "prod"),
    ),
    ("CKV_K8S_40", "Deployment.kserve.kserve-controller-manager"): (
        "Containers should run as a high UID to avoid host conflict",
        ("dev", "prod"),
    ),
    ("CKV_K8S_40", "Deployment.kuberay-operator.kuberay-operator"): (
        "Containers should run as a high UID to avoid host conflict",
        ("dev", "prod"),
    ),
    ("CKV_K8S_40", "Deployment.minio.minio"): ("Containers should run as a high UID to avoid host conflict", ("dev",)),
    ("CKV_K8S_40", "Deployment.monitoring.observability-grafana"): (
        "Containers should run as a high UID to avoid host conflict",
        ("dev", "prod"),
    ),
    ("CKV_K8S_40", "Job.cert-manager.cert-manager-startupapicheck"): (
        "Containers should run as a high UID to avoid host conflict",
        ("dev", "prod"),
    ),
    ("CKV_K8S_40", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): (
        "Containers should run as a high UID to avoid host conflict",
        ("dev", "prod"),
    ),
    ("CKV_K8S_40", "Job.gpu-operator.gpu-operator-node-feature-discovery-prune"): (
        "Containers should run as a high UID to avoid host conflict",
        ("dev", "prod"),
    ),
    ("CKV_K8S_40", "Job.gpu-operator.gpu-operator-upgrade-crd"): (
        "Containers should run as a high UID to avoid host conflict",
        ("dev", "prod"),
    ),
    ("CKV_K8S_40", "Job.minio.minio-post-job"): ("Containers should run as a high UID to avoid host conflict", ("dev",)),
    ("CKV_K8S_40", "Job.monitoring.observability-admission-create"): (
        "Containers should run as a high UID to avoid host conflict",
        ("dev", "prod"),
    ),
    ("CKV_K8S_40", "Job.monitoring.observability-admission-patch"): (
        "Containers should run as a high UID to avoid host conflict",
        ("dev", "prod"),
    ),
    ("CKV_K8S_43", "DaemonSet.gpu-operator.gpu-operator-node-feature-discovery-worker"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "DaemonSet.monitoring-node-exporter.observability-prometheus-node-exporter"): (
        "Image should use digest",
        ("dev", "prod"),
    ),
    ("CKV_K8S_43", "Deployment.cert-manager.cert-manager"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Deployment.cert-manager.cert-manager-cainjector"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Deployment.cert-manager.cert-manager-webhook"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Deployment.envoy-gateway-system.envoy-gateway"): ("Image should use digest", ("prod",)),
    ("CKV_K8S_43", "Deployment.gpu-operator.gpu-operator"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Deployment.gpu-operator.gpu-operator-node-feature-discovery-gc"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Deployment.gpu-operator.gpu-operator-node-feature-discovery-master"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Deployment.kserve.kserve-controller-manager"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Deployment.kube-system.ai-prod-autoscaler-aws-cluster-autoscaler"): ("Image should use digest", ("prod",)),
    ("CKV_K8S_43", "Deployment.kuberay-operator.kuberay-operator"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Deployment.minio.minio"): ("Image should use digest", ("dev",)),
    ("CKV_K8S_43", "Deployment.monitoring.observability-grafana"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Deployment.monitoring.observability-kube-state-metrics"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Deployment.monitoring.observability-operator"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Job.cert-manager.cert-manager-startupapicheck"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Job.envoy-gateway-system.envoy-gateway-gateway-helm-certgen"): ("Image should use digest", ("prod",)),
    ("CKV_K8S_43", "Job.gpu-operator.gpu-operator-cleanup-gpucluster"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Job.gpu-operator.gpu-operator-node-feature-discovery-prune"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Job.gpu-operator.gpu-operator-upgrade-crd"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Job.minio.minio-post-job"): ("Image should use digest", ("dev",)),
    ("CKV_K8S_43", "Job.monitoring.observability-admission-create"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_43", "Job.monitoring.observability-admission-patch"): ("Image should use digest", ("dev", "prod")),
    ("CKV_K8S_49", "ClusterRole.default.observability-operator"): ("Minimize wildcard use in Roles and ClusterRoles", ("dev", "prod")),
    ("CKV_K8S_8", "Deployment.cert-manager.cert-manager-cainjector"): ("Liveness Probe Should be Configured", ("dev", "prod")),
    ("CKV_K8S_8", "Deployment.kserve.kserve-controller-manager"): ("Liveness Probe Should be Configured", ("dev", "prod")),
    ("CKV_K8S_8", "Deployment.minio.minio"): ("Liveness Probe Should be Configured", ("dev",)),
    ("CKV_K8S_8", "Deployment.monitoring.observability-grafana"): ("Liveness Probe Should be Configured", ("dev", "prod")),
    ("CKV_K8S_9", "Deployment.cert-manager.cert-manager"): ("Readiness Probe Should be Configured", ("dev", "prod")),
    ("CKV_K8S_9", "Deployment.cert-manager.cert-manager-cainjector"): ("Readiness Probe Should be Configured", ("dev", "prod")),
    ("CKV_K8S_9", "Deployment.kserve.kserve-controller-manager"): ("Readiness Probe Should be Configured", ("dev", "prod")),
    ("CKV_K8S_9", "Deployment.kube-system.ai-prod-autoscaler-aws-cluster-autoscaler"): ("Readiness Probe Should be Configured", ("prod",)),
    ("CKV_K8S_9", "Deployment.minio.minio"): ("Readiness Probe Should be Configured", ("dev",)),
    ("CKV_K8S_9", "Deployment.monitoring.observability-grafana"): ("Readiness Probe Should be Configured", ("dev", "prod")),
}
