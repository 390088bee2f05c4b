"""checkov findings on the chart objects (build/<stack>/charts), one entry per (check, resource).

REVIEWED: a true reason the finding stays (the chart needs it, or it cannot be configured away).
OPEN: found by tests/test_checkov.py and not yet reviewed: each is either a value a component should
set (a bug to fix there) or a chart limit to record under REVIEWED with its reason. The test fails on
any finding in neither list and on any entry no longer found, so the lists shrink as fixes land.
"""

from __future__ import annotations

KPS = "kube-prometheus-stack 88.5.3"
KPS_IMAGE_BY_TAG = (
    "pinned by tag: the image tag comes with the kube-prometheus-stack chart version set in components/versions.py "
    "(KUBE_PROMETHEUS_STACK: its and its subcharts' image tags); a digest would pin one architecture of the multi-arch image"
)

REVIEWED: dict[tuple[str, str], str] = {
    (
        "CKV_K8S_38",
        "Deployment.metrics-server.metrics-server",
    ): "metrics-server serves the metrics API and reads nodes and pods from the API server: its pod needs its service account token",
    (
        "CKV_K8S_43",
        "Deployment.metrics-server.metrics-server",
    ): "pinned by tag in components/versions.py (the chart's appVersion), like the program's own images; a digest would pin one architecture",
    (
        "CKV_K8S_17",
        "DaemonSet.monitoring-node-exporter.observability-prometheus-node-exporter",
    ): "node-exporter reads the host's process table (hostPID) for node metrics; its namespace "
    "monitoring-node-exporter enforces privileged for this one DaemonSet",
    (
        "CKV_K8S_19",
        "DaemonSet.monitoring-node-exporter.observability-prometheus-node-exporter",
    ): "node-exporter reports the node's network interfaces and listens on the node address (hostNetwork); its "
    "namespace enforces privileged for this one DaemonSet",
    (
        "CKV2_K8S_5",
        "RoleBinding.envoy-gateway-system.envoy-gateway-gateway-helm-certgen",
    ): "the certgen hook Job creates and updates the control plane's TLS Secrets in its namespace "
    "(templates/certgen-rbac.yaml): it must write secrets",
    (
        "CKV_K8S_10",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "gpu-operator chart hook Job (templates/cleanup_gpucluster.yaml) whose container takes no resources key",
    (
        "CKV_K8S_10",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "gpu-operator chart hook Job (templates/upgrade_crd.yaml) whose container takes no resources key",
    (
        "CKV_K8S_11",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "gpu-operator chart hook Job (templates/cleanup_gpucluster.yaml) whose container takes no resources key",
    (
        "CKV_K8S_11",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "gpu-operator chart hook Job (templates/upgrade_crd.yaml) whose container takes no resources key",
    (
        "CKV_K8S_12",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "gpu-operator chart hook Job (templates/cleanup_gpucluster.yaml) whose container takes no resources key",
    (
        "CKV_K8S_12",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "gpu-operator chart hook Job (templates/upgrade_crd.yaml) whose container takes no resources key",
    (
        "CKV_K8S_13",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "gpu-operator chart hook Job (templates/cleanup_gpucluster.yaml) whose container takes no resources key",
    (
        "CKV_K8S_13",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "gpu-operator chart hook Job (templates/upgrade_crd.yaml) whose container takes no resources key",
    (
        "CKV_K8S_15",
        "Deployment.kserve.kserve-controller-manager",
    ): "the kube-rbac-proxy sidecar in files/kserve/deployment-patch.yaml has no imagePullPolicy and no value for one; the manager's is "
    "Always",
    (
        "CKV_K8S_155",
        "ClusterRole.default.cert-manager-cainjector",
    ): "cainjector's job is to patch caBundle into validating and mutating webhook configurations (templates/cainjector-rbac.yaml)",
    (
        "CKV_K8S_155",
        "ClusterRole.default.envoy-gateway-gateway-helm-certgen:envoy-gateway-system",
    ): "certgen patches the caBundle of its own topology-injector webhook only (resourceNames in templates/certgen-rbac.yaml)",
    (
        "CKV_K8S_155",
        "ClusterRole.default.kserve-manager-role",
    ): "kserve-manager-role (files/kserve/resources.yaml) creates, patches and deletes webhook configurations; kserve-resources v0.20.0 has no value to narrow it",
    (
        "CKV_K8S_20",
        "Deployment.gpu-operator.gpu-operator",
    ): "the gpu-operator v26.7.0 template (templates/operator.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_20",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "the gpu-operator v26.7.0 template (templates/cleanup_gpucluster.yaml) sets no securityContext and has no value for one (pod or "
    "container)",
    (
        "CKV_K8S_20",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "the gpu-operator v26.7.0 template (templates/upgrade_crd.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_22",
        "Deployment.gpu-operator.gpu-operator",
    ): "the gpu-operator v26.7.0 template (templates/operator.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_22",
        "Deployment.minio.minio",
    ): "MinIO writes its config under the data volume's parent directory: a read-only root filesystem breaks it (components/data/object_store.py)",
    (
        "CKV_K8S_22",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "the gpu-operator v26.7.0 template (templates/cleanup_gpucluster.yaml) sets no securityContext and has no value for one (pod or "
    "container)",
    (
        "CKV_K8S_22",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "the gpu-operator v26.7.0 template (templates/upgrade_crd.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_23",
        "Deployment.gpu-operator.gpu-operator",
    ): "the gpu-operator v26.7.0 template (templates/operator.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_23",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "the gpu-operator v26.7.0 template (templates/cleanup_gpucluster.yaml) sets no securityContext and has no value for one (pod or "
    "container)",
    (
        "CKV_K8S_23",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "the gpu-operator v26.7.0 template (templates/upgrade_crd.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_28",
        "Deployment.gpu-operator.gpu-operator",
    ): "the gpu-operator v26.7.0 template (templates/operator.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_28",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "the gpu-operator v26.7.0 template (templates/cleanup_gpucluster.yaml) sets no securityContext and has no value for one (pod or "
    "container)",
    (
        "CKV_K8S_28",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "the gpu-operator v26.7.0 template (templates/upgrade_crd.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_29",
        "Deployment.envoy-gateway-system.envoy-gateway",
    ): "gateway-helm v1.6.1 has no pod securityContext value (templates/envoy-gateway-deployment.yaml); the container's sets non-root uid "
    "65532 and RuntimeDefault",
    (
        "CKV_K8S_29",
        "Deployment.gpu-operator.gpu-operator",
    ): "the gpu-operator v26.7.0 template (templates/operator.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_29",
        "Job.envoy-gateway-system.envoy-gateway-gateway-helm-certgen",
    ): "gateway-helm v1.6.1 has no pod securityContext value for certgen (templates/certgen.yaml); the container's sets "
    "non-root uid 65532, read-only root",
    (
        "CKV_K8S_29",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "the gpu-operator v26.7.0 template (templates/cleanup_gpucluster.yaml) sets no securityContext and has no value for one (pod or "
    "container)",
    (
        "CKV_K8S_29",
        "Job.gpu-operator.gpu-operator-node-feature-discovery-prune",
    ): "the NFD prune Job template (templates/post-delete-job.yaml) has no pod securityContext value; its container takes "
    "master.securityContext",
    (
        "CKV_K8S_29",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "the gpu-operator v26.7.0 template (templates/upgrade_crd.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_30",
        "Deployment.gpu-operator.gpu-operator",
    ): "the gpu-operator v26.7.0 template (templates/operator.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_30",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "the gpu-operator v26.7.0 template (templates/cleanup_gpucluster.yaml) sets no securityContext and has no value for one (pod or "
    "container)",
    (
        "CKV_K8S_30",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "the gpu-operator v26.7.0 template (templates/upgrade_crd.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_31",
        "Deployment.gpu-operator.gpu-operator",
    ): "the gpu-operator v26.7.0 template (templates/operator.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_31",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "the gpu-operator v26.7.0 template (templates/cleanup_gpucluster.yaml) sets no securityContext and has no value for one (pod or "
    "container)",
    (
        "CKV_K8S_31",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "the gpu-operator v26.7.0 template (templates/upgrade_crd.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_35",
        "Deployment.minio.minio",
    ): "the minio 5.4.0 Deployment template passes the root credentials as secretKeyRef env vars (MINIO_ROOT_USER/PASSWORD); no value mounts them as files",
    (
        "CKV_K8S_37",
        "Deployment.gpu-operator.gpu-operator",
    ): "the gpu-operator v26.7.0 template (templates/operator.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_37",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "the gpu-operator v26.7.0 template (templates/cleanup_gpucluster.yaml) sets no securityContext and has no value for one (pod or "
    "container)",
    (
        "CKV_K8S_37",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "the gpu-operator v26.7.0 template (templates/upgrade_crd.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_38",
        "DaemonSet.gpu-operator.gpu-operator-node-feature-discovery-worker",
    ): "nfd-worker publishes each node's features as a NodeFeature object through the API server: it needs its service account token",
    (
        "CKV_K8S_38",
        "Deployment.cert-manager.cert-manager",
    ): "the cert-manager controller watches Certificates and writes Secrets through the API server: it needs its service account token",
    (
        "CKV_K8S_38",
        "Deployment.cert-manager.cert-manager-cainjector",
    ): "cainjector patches caBundle fields of webhook configurations, APIServices and CRDs through the API server: it needs its service "
    "account token",
    (
        "CKV_K8S_38",
        "Deployment.cert-manager.cert-manager-webhook",
    ): "the cert-manager webhook keeps its serving certificate in a Secret it reads and writes through the API server: it needs its service "
    "account token",
    (
        "CKV_K8S_38",
        "Deployment.envoy-gateway-system.envoy-gateway",
    ): "Envoy Gateway is a controller: it watches Gateway API objects and creates the Envoy deployments through the API server, so it needs "
    "its service account token",
    (
        "CKV_K8S_38",
        "Deployment.gpu-operator.gpu-operator",
    ): "the gpu-operator reconciles ClusterPolicy and creates its operand DaemonSets through the API server: it needs its service account token",
    (
        "CKV_K8S_38",
        "Deployment.gpu-operator.gpu-operator-node-feature-discovery-gc",
    ): "nfd-gc deletes NodeFeature objects of removed nodes through the API server: it needs its service account token",
    (
        "CKV_K8S_38",
        "Deployment.gpu-operator.gpu-operator-node-feature-discovery-master",
    ): "nfd-master turns NodeFeature objects into node labels through the API server: it needs its service account token",
    (
        "CKV_K8S_38",
        "Deployment.kserve.kserve-controller-manager",
    ): "the KServe controller reconciles InferenceServices into Deployments, Services and routes through the API server: it needs its service "
    "account token",
    (
        "CKV_K8S_38",
        "Deployment.kube-system.ai-prod-autoscaler-aws-cluster-autoscaler",
    ): "cluster-autoscaler watches pending pods and nodes through the API server (and assumes its IRSA role with the "
    "projected token): it needs its service account token",
    (
        "CKV_K8S_38",
        "Deployment.kuberay-operator.kuberay-operator",
    ): "the KubeRay operator reconciles RayClusters/RayJobs into pods and services through the API server: it needs its service account "
    "token",
    (
        "CKV_K8S_38",
        "Deployment.minio.minio",
    ): "the minio 5.4.0 Deployment template (templates/deployment.yaml) has no automountServiceAccountToken value to turn the (unused) token off",
    (
        "CKV_K8S_38",
        "Job.cert-manager.cert-manager-startupapicheck",
    ): "startupapicheck asks the API server for a dry-run Certificate to prove the webhook answers: it needs its service account token",
    (
        "CKV_K8S_38",
        "Job.envoy-gateway-system.envoy-gateway-gateway-helm-certgen",
    ): "the certgen hook Job writes the control plane's TLS Secrets and patches the topology-injector webhook through the API "
    "server: it needs its token",
    (
        "CKV_K8S_38",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "the pre-delete hook Job deletes the GPUCluster object through the API server (/usr/bin/cleanup-gpuclusters): it needs its "
    "service account token",
    (
        "CKV_K8S_38",
        "Job.gpu-operator.gpu-operator-node-feature-discovery-prune",
    ): "the post-delete prune Job removes NFD labels and annotations from the nodes through the API server: it needs its "
    "service account token",
    (
        "CKV_K8S_38",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "the pre-upgrade hook Job applies the operator's CRDs through the API server (/usr/bin/manage-crds apply): it needs its service account "
    "token",
    (
        "CKV_K8S_38",
        "Job.minio.minio-post-job",
    ): "the minio 5.4.0 post-job template (templates/post-job.yaml) has no automountServiceAccountToken value to turn the (unused) token off",
    (
        "CKV_K8S_40",
        "Deployment.gpu-operator.gpu-operator",
    ): "the gpu-operator v26.7.0 template (templates/operator.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_40",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "the gpu-operator v26.7.0 template (templates/cleanup_gpucluster.yaml) sets no securityContext and has no value for one (pod or "
    "container)",
    (
        "CKV_K8S_40",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "the gpu-operator v26.7.0 template (templates/upgrade_crd.yaml) sets no securityContext and has no value for one (pod or container)",
    (
        "CKV_K8S_43",
        "DaemonSet.gpu-operator.gpu-operator-node-feature-discovery-worker",
    ): "pinned by tag: the image tag is set in components/versions.py through the gpu-operator chart version (its "
    "appVersion and node-feature-discovery's); a digest would pin one architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Deployment.cert-manager.cert-manager",
    ): "pinned by tag: the image tag is set in components/versions.py through the cert-manager chart version (its appVersion); a digest would pin "
    "one architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Deployment.cert-manager.cert-manager-cainjector",
    ): "pinned by tag: the image tag is set in components/versions.py through the cert-manager chart version (its appVersion); a digest "
    "would pin one architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Deployment.cert-manager.cert-manager-webhook",
    ): "pinned by tag: the image tag is set in components/versions.py through the cert-manager chart version (its appVersion); a digest "
    "would pin one architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Deployment.envoy-gateway-system.envoy-gateway",
    ): "pinned by tag: the image tag is set in components/versions.py (ENVOY_GATEWAY_IMAGE); a digest would pin one architecture of the "
    "multi-arch image",
    (
        "CKV_K8S_43",
        "Deployment.gpu-operator.gpu-operator",
    ): "pinned by tag: the image tag is set in components/versions.py through the gpu-operator chart version (its appVersion and "
    "node-feature-discovery's); a digest would pin one architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Deployment.gpu-operator.gpu-operator-node-feature-discovery-gc",
    ): "pinned by tag: the image tag is set in components/versions.py through the gpu-operator chart version (its "
    "appVersion and node-feature-discovery's); a digest would pin one architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Deployment.gpu-operator.gpu-operator-node-feature-discovery-master",
    ): "pinned by tag: the image tag is set in components/versions.py through the gpu-operator chart version (its "
    "appVersion and node-feature-discovery's); a digest would pin one architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Deployment.kserve.kserve-controller-manager",
    ): "pinned by tag: the image tag is set in components/versions.py through the kserve-resources chart version (controller and "
    "kube-rbac-proxy images); a digest would pin one architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Deployment.kube-system.ai-prod-autoscaler-aws-cluster-autoscaler",
    ): "pinned by tag: the image tag is set in components/versions.py (CLUSTER_AUTOSCALER_IMAGE); a digest would pin one "
    "architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Deployment.kuberay-operator.kuberay-operator",
    ): "pinned by tag: the image tag is set in components/versions.py through the kuberay-operator chart version (OPERATOR_IMAGE_TAG); a "
    "digest would pin one architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Deployment.minio.minio",
    ): "pinned by tag: the image tag is set in components/versions.py (MINIO_IMAGE, MINIO_CLIENT_IMAGE); a digest would pin one architecture of the multi-arch "
    "image",
    (
        "CKV_K8S_43",
        "Job.cert-manager.cert-manager-startupapicheck",
    ): "pinned by tag: the image tag is set in components/versions.py through the cert-manager chart version (its appVersion); a digest "
    "would pin one architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Job.envoy-gateway-system.envoy-gateway-gateway-helm-certgen",
    ): "pinned by tag: the image tag is set in components/versions.py (ENVOY_GATEWAY_IMAGE); a digest would pin one "
    "architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Job.gpu-operator.gpu-operator-cleanup-gpucluster",
    ): "pinned by tag: the image tag is set in components/versions.py through the gpu-operator chart version (its appVersion and "
    "node-feature-discovery's); a digest would pin one architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Job.gpu-operator.gpu-operator-node-feature-discovery-prune",
    ): "pinned by tag: the image tag is set in components/versions.py through the gpu-operator chart version (its appVersion "
    "and node-feature-discovery's); a digest would pin one architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Job.gpu-operator.gpu-operator-upgrade-crd",
    ): "pinned by tag: the image tag is set in components/versions.py through the gpu-operator chart version (its appVersion and "
    "node-feature-discovery's); a digest would pin one architecture of the multi-arch image",
    (
        "CKV_K8S_43",
        "Job.minio.minio-post-job",
    ): "pinned by tag: the image tag is set in components/versions.py (MINIO_IMAGE, MINIO_CLIENT_IMAGE); a digest would pin one architecture of the multi-arch "
    "image",
    (
        "CKV_K8S_8",
        "Deployment.cert-manager.cert-manager-cainjector",
    ): "the cert-manager v1.18.2 cainjector template (templates/cainjector-deployment.yaml) defines no probes and has no value for them",
    (
        "CKV_K8S_8",
        "Deployment.kserve.kserve-controller-manager",
    ): "the manager container has both probes; the kube-rbac-proxy sidecar (files/kserve/deployment-patch.yaml) has none and no value for them",
    (
        "CKV_K8S_8",
        "Deployment.minio.minio",
    ): "the minio 5.4.0 Deployment template (templates/deployment.yaml) defines no probes and has no value for them",
    (
        "CKV_K8S_9",
        "Deployment.cert-manager.cert-manager",
    ): "the cert-manager v1.18.2 controller template has a livenessProbe value only (templates/deployment.yaml), no readiness probe",
    (
        "CKV_K8S_9",
        "Deployment.cert-manager.cert-manager-cainjector",
    ): "the cert-manager v1.18.2 cainjector template (templates/cainjector-deployment.yaml) defines no probes and has no value for them",
    (
        "CKV_K8S_9",
        "Deployment.kserve.kserve-controller-manager",
    ): "the manager container has both probes; the kube-rbac-proxy sidecar (files/kserve/deployment-patch.yaml) has none and no value for them",
    (
        "CKV_K8S_9",
        "Deployment.kube-system.ai-prod-autoscaler-aws-cluster-autoscaler",
    ): "the cluster-autoscaler 9.54.0 template (templates/deployment.yaml) defines a livenessProbe only, with no value "
    "for a readiness probe",
    (
        "CKV_K8S_9",
        "Deployment.minio.minio",
    ): "the minio 5.4.0 Deployment template (templates/deployment.yaml) defines no probes and has no value for them",
    # kube-prometheus-stack (release observability) and Envoy Gateway, reviewed for issue 12
    (
        "CKV2_K8S_5",
        "RoleBinding.monitoring.observability-admission",
    ): "the admission-create hook Job stores the operator webhook's TLS certificate in a Secret of its namespace (get, create: "
    f"{KPS} templates/prometheus-operator/admission-webhooks/job-patch/role.yaml)",
    (
        "CKV_K8S_155",
        "ClusterRole.default.observability-admission",
    ): "the admission-patch hook Job writes the CA bundle into the operator's validating and mutating webhook configurations "
    f"({KPS} templates/prometheus-operator/admission-webhooks/job-patch/clusterrole.yaml)",
    (
        "CKV_K8S_22",
        "Deployment.envoy-gateway-system.envoy-gateway",
    ): "the Envoy Gateway v1.6.1 controller keeps its Wasm module cache in /var/lib/eg/wasm on the root filesystem "
    "(internal/gatewayapi/runner/runner.go) and gateway-helm v1.6.1 has no value for a volume there "
    "(templates/envoy-gateway-deployment.yaml); a read-only root disables Wasm extensions (envoyproxy/gateway#8911)",
    (
        "CKV_K8S_38",
        "Deployment.monitoring.observability-grafana",
    ): "the dashboard and datasource sidecars list and watch labelled ConfigMaps in every namespace through the API server "
    "(ClusterRole <name>-grafana-sidecars): the pod needs its service account token",
    (
        "CKV_K8S_38",
        "Deployment.monitoring.observability-kube-state-metrics",
    ): "kube-state-metrics lists and watches the cluster's objects through the API server to export their state: it needs its "
    "service account token",
    (
        "CKV_K8S_38",
        "Deployment.monitoring.observability-operator",
    ): "prometheus-operator reconciles Prometheus, Alertmanager and their monitors into StatefulSets, Secrets and Services "
    "through the API server: it needs its service account token",
    (
        "CKV_K8S_38",
        "Job.monitoring.observability-admission-create",
    ): "the admission-create hook Job (kube-webhook-certgen create) stores the webhook's certificate in a Secret through the "
    "API server: it needs its service account token",
    (
        "CKV_K8S_38",
        "Job.monitoring.observability-admission-patch",
    ): "the admission-patch hook Job (kube-webhook-certgen patch) writes the CA bundle into the webhook configurations through "
    "the API server: it needs its service account token",
    **{
        ("CKV_K8S_43", resource): KPS_IMAGE_BY_TAG
        for resource in (
            "DaemonSet.monitoring-node-exporter.observability-prometheus-node-exporter",
            "Deployment.monitoring.observability-grafana",
            "Deployment.monitoring.observability-kube-state-metrics",
            "Deployment.monitoring.observability-operator",
            "Job.monitoring.observability-admission-create",
            "Job.monitoring.observability-admission-patch",
        )
    },
    (
        "CKV_K8S_49",
        "ClusterRole.default.observability-operator",
    ): "the operator creates, updates and deletes the StatefulSets, Secrets and ConfigMaps of the Prometheus and Alertmanager it "
    f"runs; {KPS} grants verbs '*' (templates/prometheus-operator/clusterrole.yaml) and has no value to narrow them",
    # KEDA (components/serving/keda.py), installed where a model scales on a serving signal.
    (
        "CKV_K8S_155",
        "ClusterRole.default.keda-operator-minimal-cluster-role",
    ): "the KEDA operator generates the webhooks' and metrics API's TLS certificates (certificates.autoGenerated, the chart "
    "default) and patches their CA into KEDA's own ValidatingWebhookConfiguration and APIService",
    **{
        ("CKV_K8S_38", f"Deployment.keda.{name}"): f"{name} {why}: its pod needs its service account token"
        for name, why in (
            ("keda-operator", "watches ScaledObjects and scales their Deployments through the API server"),
            ("keda-operator-metrics-apiserver", "is an aggregated API server that delegates authentication to the API server"),
            ("keda-admission-webhooks", "reads ScaledObjects and HPAs to reject a second scaler of the same workload"),
        )
    },
    **{
        ("CKV_K8S_43", f"Deployment.keda.{name}"): "pinned by tag (the keda chart's appVersion 2.20.2, components/versions.py), like "
        "the program's own images; a digest would pin one architecture"
        for name in ("keda-operator", "keda-operator-metrics-apiserver", "keda-admission-webhooks")
    },
}

# (check, resource) -> (check name, stacks)
OPEN: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
