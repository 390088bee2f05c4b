"""Observability: kube-prometheus-stack, scraping of the platform's services, GPU and inference alerts, dashboards.

Other components order their ServiceMonitors, PodMonitors and PrometheusRules after
``observability.crds_ready`` (the release that installs the prometheus-operator CRDs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pydantic import Field, SkipValidation

from .. import versions
from ..core.args import Options, parse_args
from ..core.contracts import NodePool
from ..core.helm import helm_release
from ..core.namespace import platform_namespace
from ..core.network_policy import API_SERVER, WEBHOOK_CALLS, Allow, Isolation
from ..core.problems import InputError, Problem
from ..core.types import MoreThanZero, Name, matches
from ..core.util import explicit_depends_on
from .alert_rules import KSERVE_LATENCY_BUCKETS, POOL_NAME, VLLM_FIRST_TOKEN_BUCKETS, RequestErrors, RuleSettings, prometheus_rules
from .dashboards import SIDECAR_LABEL, rendered_dashboards
from .metrics_catalog import DEPLOYMENT_LABEL

ISOLATION = Isolation(
    ingress=[Allow("anywhere", (10250,), f"prometheus-operator's webhook: {WEBHOOK_CALLS}")],
    egress=[
        API_SERVER,
        Allow("platform", why="scrape the platform's workloads on their metrics ports"),
        Allow("kube-system", (9153, 8085), "CoreDNS and cluster-autoscaler metrics"),
        Allow("anywhere", (10250, 9100), "kubelets and node-exporter, on the nodes' addresses"),
    ],
)

MONITORING_API = "monitoring.coreos.com/v1"
ADMIN_USER = "admin"
USER_KEY, PASSWORD_KEY = "admin-user", "admin-password"
RETENTION = re.compile(r"^(?!$)(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?$")  # Prometheus duration, as its CRD accepts
STORAGE_SIZE = re.compile(r"^(\d+)(Gi|Ti)$")
MAX_FULLNAME = 26  # the chart truncates its fullname to 26 characters
CONFIG_KEY = re.compile(r"^[a-z][A-Za-z0-9]*$")  # a key of the ai-platform config namespace, camelCase
# kube-prometheus-stack 88.5.3 values.yaml, alertmanager.alertmanagerSpec.secrets: "Secrets ... mounted into
# the Alertmanager Pods ... into /etc/alertmanager/secrets/" (one directory per Secret, one file per key).
ALERTMANAGER_SECRETS_DIR = "/etc/alertmanager/secrets"
NULL_RECEIVER = "null"  # the chart's default receiver (values.yaml alertmanager.config), which drops what it gets
# Alertmanager's configuration reference (https://prometheus.io/docs/alerting/latest/configuration/): each
# receiver type reads its secret from a file: <webhook_config> url_file, <slack_config> api_url_file,
# <pagerduty_config> routing_key_file (Events API v2). The chart's Alertmanager is v0.34.0 (values.yaml image tag).
# prometheus-operator (v0.93.0 pkg/alertmanager/amcfg.go) drops each of these fields only below the Alertmanager
# release that added it (api_url_file 0.22, routing_key_file 0.25, url_file 0.26), so v0.34.0 keeps all three.
SECRET_FILE_FIELD = {
    "webhook": ("webhook_configs", "url_file"),
    "slack": ("slack_configs", "api_url_file"),
    "pagerduty": ("pagerduty_configs", "routing_key_file"),
}


class AlertReceiver(Options):
    """Where Alertmanager sends alerts (``observability.alertReceivers[]``); its URL or routing key is a
    Pulumi secret, never a value in the stack file."""

    name: Name
    """The receiver's name in Alertmanager's config (and its key in the mounted Secret)."""
    type: Literal["webhook", "slack", "pagerduty"]
    """``webhook`` (the secret is the URL), ``slack`` (an incoming-webhook URL) or ``pagerduty`` (an Events API v2 routing key)."""
    secret_config_key: Annotated[str, matches(CONFIG_KEY, "a camelCase config key such as alertSlackUrl")]
    """Key in the ``ai-platform`` namespace holding the URL or routing key, set with
    ``pulumi config set --secret ai-platform:<key> <value>``."""
    channel: str | None = None
    """Slack only: the channel to post to; unset: the incoming webhook's own channel."""


class ObservabilityOptions(Options):
    """What a caller or a stack file sets for monitoring (``observability``)."""

    prometheus_retention: Annotated[str, matches(RETENTION, "a Prometheus duration such as 15d"), MoreThanZero] = "15d"
    """How long Prometheus keeps samples."""
    prometheus_storage_size: Annotated[str, matches(STORAGE_SIZE, "<n>Gi or <n>Ti, such as 50Gi"), MoreThanZero] = "50Gi"
    """Prometheus' persistent volume; 85% of it caps the TSDB size."""
    storage_class: str | None = None
    """StorageClass of the Prometheus volume; unset: the cluster default."""
    inference_availability_target: float = Field(default=0.995, gt=0.9, lt=1)
    """Share of InferenceService requests that must not fail (5xx)."""
    inference_latency_target: float = Field(default=0.99, gt=0.9, lt=1)
    """Share of predictions that must be faster than ``inference_latency_seconds``, and of LLM requests whose
    first token must come within ``first_token_seconds``."""
    inference_latency_seconds: float = 1.0
    """Latency bound of the SLO; one of the KServe latency histogram's buckets."""
    first_token_seconds: float = 2.5
    """Time-to-first-token bound of an LLM's (huggingface format, vLLM engine) latency SLO; one of vLLM's
    first-token histogram buckets."""
    runbook_base_url: Annotated[str, matches(re.compile(r"^https://\S+$"), "an https:// URL")] | None = None
    """Base of the alerts' runbook links (``<base>#<alertname>``); unset: each alert's upstream documentation."""
    alert_receivers: list[AlertReceiver] = []
    """Where Alertmanager sends alerts. Every alert goes to the first receiver; ``severity=critical`` alerts
    go to every receiver. None: Alertmanager keeps alerts to itself (an EKS stack must name one)."""


class ObservabilityArgs(ObservabilityOptions):
    """Monitoring's options plus what the composition injects and what only callers set."""

    gpu_pools: SkipValidation[Sequence[NodePool]] = ()
    """GPU pools whose autoscaling groups the pool-at-maximum alert watches; none: every node group."""
    namespace: Name = "monitoring"
    """Namespace of Prometheus, Alertmanager, Grafana and the operator."""
    pod_security: Literal["restricted", "baseline", "privileged"] = "restricted"
    """Pod Security Standard enforced in that namespace; node-exporter gets its own privileged one."""
    prometheus_resources: dict[str, dict[str, str]] = {
        "requests": {"cpu": "500m", "memory": "2Gi"},
        "limits": {"cpu": "2", "memory": "4Gi"},
    }
    """Requests and limits of the Prometheus container."""
    mlflow_pod_labels: dict[str, str] = {"app.kubernetes.io/name": "mlflow"}
    """Labels of the MLflow server pods (ModelRegistry's)."""
    mlflow_metrics_port: str = "http"
    """Container port name of MLflow's ``/metrics`` (ModelRegistry runs ``mlflow server --expose-prometheus``)."""
    object_store_pod_labels: dict[str, str] = {"app": "minio"}
    """Labels of the MinIO pods (the official chart's)."""
    object_store_metrics_port: str = "http"
    """Container port name of MinIO's S3 API, which serves its metrics."""
    request_errors: RequestErrors | None = None
    """What counts InferenceService responses by status code, for the availability SLO: ``knative``
    (KServe's Knative mode: the queue-proxy) or ``envoy-gateway`` (Standard mode behind the
    IngressGateway: the Envoy proxies, which this component then scrapes). Unset: nothing counts them
    (Standard mode without a gateway), so only the latency SLO and the no-ready-replica alert exist."""
    predict_histogram: bool = True
    """A KServe Python runtime (sklearn, xgboost) serves, exporting ``request_predict_seconds``: the
    latency SLO and panels read it. False: no latency SLO (vLLM's OpenAI routes do not record it)."""
    cluster_autoscaler: bool = True
    """A ClusterAutoscaler exports per-node-group metrics, which the pool-at-maximum alert reads;
    False (no cluster-autoscaler, e.g. kind): no such alert."""
    vllm_metrics: bool = False
    """A huggingface (vLLM) model serves: the first-token SLO reads its histogram and the inference dashboard
    shows its queue and first-token latency."""
    alert_secrets: SkipValidation[Mapping[str, Any]] = {}
    """Each alert receiver's URL or routing key by receiver name, as secret Outputs (the stack reads them
    from Pulumi secret config); they reach the cluster only in a Kubernetes Secret."""
    prometheus_clients: Sequence[str] = ()
    """Namespaces whose pods may query Prometheus' API (KEDA's operator, for serving-signal
    autoscaling); the namespace's default-deny lets them reach port 9090 and nothing else."""


def problems(options: ObservabilityOptions) -> list[Problem]:
    """What the alerts cannot measure and receivers Alertmanager cannot tell apart; pure, so stack
    config validation runs it too."""
    return [
        *_bucket_problem("inference_latency_seconds", options.inference_latency_seconds, KSERVE_LATENCY_BUCKETS, "KServe's latency"),
        *_bucket_problem("first_token_seconds", options.first_token_seconds, VLLM_FIRST_TOKEN_BUCKETS, "vLLM's first-token"),
        *_receiver_problems(options.alert_receivers),
    ]


def _bucket_problem(field: str, seconds: float, buckets: Sequence[float], histogram: str) -> list[Problem]:
    """An objective's bound must be a bucket bound: a histogram cannot count below or above anything else."""
    if seconds in buckets:
        return []
    allowed = ", ".join(f"{b:g}" for b in buckets)
    return [Problem((field,), f"must be a bucket of {histogram} histogram: {allowed} (got {seconds:g})")]


def _receiver_problems(receivers: Sequence[AlertReceiver]) -> list[Problem]:
    found, seen = [], set()
    for index, receiver in enumerate(receivers):
        at = ("alert_receivers", index)
        if receiver.name in seen or receiver.name == NULL_RECEIVER:
            found.append(Problem((*at, "name"), f"{receiver.name!r} is taken (names must be unique and not {NULL_RECEIVER!r})"))
        seen.add(receiver.name)
        if receiver.channel is not None and receiver.type != "slack":
            found.append(Problem((*at, "channel"), "only a slack receiver has a channel"))
    return found


def args_problems(a: ObservabilityArgs) -> list[Problem]:
    """``problems`` plus the names of the pools the composition injects."""
    return (
        problems(a)
        + [
            Problem(("gpu_pools", index), f"{pool.name!r} is not a node pool name (lowercase letters, digits and '-')")
            for index, pool in enumerate(a.gpu_pools)
            if not POOL_NAME.match(pool.name)
        ]
        + [
            Problem(("alert_secrets", r.name), f"no URL or routing key for alert receiver {r.name!r}")
            for r in a.alert_receivers
            if r.name not in a.alert_secrets
        ]
    )


def _resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def retention_size(storage_size: str) -> str:
    """85% of the volume, so Prometheus drops old blocks before the disk fills (its GB are GiB)."""
    match = STORAGE_SIZE.match(storage_size)
    assert match, f"{storage_size!r} is validated by ObservabilityOptions"
    amount, unit = match.groups()
    gib = int(amount) * (1024 if unit == "Ti" else 1)
    return f"{int(gib * 0.85)}GB"


def rule_settings(a: ObservabilityArgs) -> RuleSettings:
    return RuleSettings(
        gpu_pools=tuple(pool.name for pool in a.gpu_pools),
        inference_availability_target=a.inference_availability_target,
        inference_latency_target=a.inference_latency_target,
        inference_latency_seconds=a.inference_latency_seconds,
        first_token_seconds=a.first_token_seconds,
        first_token_histogram=a.vllm_metrics,
        runbook_base_url=a.runbook_base_url,
        request_errors=a.request_errors,
        predict_histogram=a.predict_histogram,
        node_group_metrics=a.cluster_autoscaler,
    )


def prometheus_values(a: ObservabilityArgs) -> dict[str, Any]:
    claim: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": a.prometheus_storage_size}}}
    if a.storage_class:
        claim["storageClassName"] = a.storage_class
    return {
        "service": {"type": "ClusterIP"},
        "ingress": {"enabled": False},
        "prometheusSpec": {
            "retention": a.prometheus_retention,
            "retentionSize": retention_size(a.prometheus_storage_size),
            "resources": a.prometheus_resources,
            "storageSpec": {"volumeClaimTemplate": {"spec": claim}},
            # Select monitors and rules from every namespace, whatever their labels: the chart's
            # default only takes objects labelled with its own release.
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "probeSelectorNilUsesHelmValues": False,
            "scrapeConfigSelectorNilUsesHelmValues": False,
        },
    }


# Grafana's user: any unprivileged uid runs the image (its Dockerfile makes the GF_PATHS_* directories
# world-writable, and here they are emptyDirs owned by the pod's fsGroup 472); above 10000 so it maps to
# no user of the node (checkov CKV_K8S_40). The image's own user is 472.
GRAFANA_UID = 10472
GRAFANA_ADMIN_DIR = "/etc/secrets/grafana"  # the admin Secret, mounted as files (never env)
ADMIN_VOLUME = "grafana-admin"
# k8s-sidecar 2.10.1 serves /healthz on HEALTH_PORT (src/healthz.py, default 8080); each sidecar of the pod
# needs its own port. These are the grafana chart's per-sidecar defaults (templates/_helpers.tpl healthPort).
SIDECAR_HEALTH_PORTS = {"dashboards": 8084, "datasources": 8082}
# An exec probe runs in each sidecar with that sidecar's HEALTH_PORT: the chart has one probe value
# (sidecar.livenessProbe / readinessProbe) for all of them. The endpoint answers 503 until the first
# watch sync and when the watcher threads die or the API server went silent for 60 s.
SIDECAR_HEALTH_CHECK = [
    "python",
    "-c",
    "import os, urllib.request; urllib.request.urlopen('http://localhost:%s/healthz' % os.environ['HEALTH_PORT'], timeout=4)",
]


def _sidecar_probe(initial_delay: int, period: int, failures: int) -> dict[str, Any]:
    return {
        "exec": {"command": SIDECAR_HEALTH_CHECK},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def grafana_sidecar_values() -> dict[str, Any]:
    """The dashboard and datasource sidecars: ConfigMaps only (their ClusterRole reads no Secret), the
    admin credentials for Grafana's reload API from files, probes, resources, a read-only root."""
    credentials = {"REQ_USERNAME_FILE": f"{GRAFANA_ADMIN_DIR}/{USER_KEY}", "REQ_PASSWORD_FILE": f"{GRAFANA_ADMIN_DIR}/{PASSWORD_KEY}"}
    admin_mount = [{"name": ADMIN_VOLUME, "mountPath": GRAFANA_ADMIN_DIR, "readOnly": True}]

    def sidecar(kind: str) -> dict[str, Any]:
        env = {**credentials, "HEALTH_PORT": str(SIDECAR_HEALTH_PORTS[kind])}
        return {"enabled": True, "resource": "configmap", "env": env, "extraMounts": admin_mount}

    return {
        "imagePullPolicy": "Always",
        "resources": _resources("20m", "96Mi", "200m", "192Mi"),
        # k8s-sidecar writes only into its target folder (an emptyDir); merged over the chart's context.
        "securityContext": {"readOnlyRootFilesystem": True},
        "readinessProbe": _sidecar_probe(5, 10, 3),
        "livenessProbe": _sidecar_probe(60, 20, 5),
        "dashboards": {**sidecar("dashboards"), "label": "grafana_dashboard", "labelValue": "1", "searchNamespace": "ALL"},
        "datasources": sidecar("datasources"),
    }


def grafana_values(admin_secret: pulumi.Input[str], cluster_role: pulumi.Input[str]) -> dict[str, Any]:
    return {
        "enabled": True,
        "defaultDashboardsEnabled": True,
        # Credentials only from our Secret; the chart's fallback password is never used. Grafana's
        # entrypoint (packaging/docker/run.sh) reads GF_*__FILE variables from the mounted files, and the
        # chart then puts no secretKeyRef env on any container (templates/_pod.tpl).
        "admin": {"existingSecret": admin_secret, "userKey": USER_KEY, "passwordKey": PASSWORD_KEY},
        "env": {
            "GF_SECURITY_ADMIN_USER__FILE": f"{GRAFANA_ADMIN_DIR}/{USER_KEY}",
            "GF_SECURITY_ADMIN_PASSWORD__FILE": f"{GRAFANA_ADMIN_DIR}/{PASSWORD_KEY}",
        },
        "extraSecretMounts": [
            {"name": ADMIN_VOLUME, "secretName": admin_secret, "mountPath": GRAFANA_ADMIN_DIR, "readOnly": True, "defaultMode": 0o440}
        ],
        "ingress": {"enabled": False},
        # The grafana chart's Service defaults to ClusterIP; the parent chart has no key to restate it.
        "sidecar": grafana_sidecar_values(),
        # The chart's own ClusterRole reads Secrets too (templates/clusterrole.yaml); ours reads ConfigMaps.
        "rbac": {"useExistingClusterRole": cluster_role},
        "image": {"pullPolicy": "Always"},
        "resources": _resources("100m", "256Mi", "500m", "512Mi"),  # grafana subchart key
        "securityContext": {"runAsUser": GRAFANA_UID},
        # Read-only root: Grafana writes its database and plugins to the chart's emptyDirs (paths.data,
        # unified_storage), logs to the console (the chart's log.mode) and temporary files to /tmp.
        "containerSecurityContext": {"readOnlyRootFilesystem": True},
        "extraEmptyDirMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        # Grafana 13 replaces its bundled plugins (prometheus among them) with downloads at start
        # (pkg/setting/setting_plugins.go defaultPreinstallPlugins): that deletes from the read-only
        # /usr/share/grafana and takes the plugin down. Keep the image's plugins.
        "grafana.ini": {"plugins": {"preinstall_disabled": True}},
    }


def grafana_cluster_role_rules() -> list[k8s.rbac.v1.PolicyRuleArgsDict]:
    """What the sidecars need: ConfigMaps labelled for dashboards and datasources, in every namespace."""
    return [{"api_groups": [""], "resources": ["configmaps"], "verbs": ["get", "watch", "list"]}]


def alertmanager_config(receivers: Sequence[AlertReceiver], secret_name: str) -> dict[str, Any]:
    """``route`` and ``receivers`` of Alertmanager's config; Helm merges them over the chart's default
    ``config`` (keeping its global and inhibit_rules; lists are replaced whole). Each receiver reads its
    URL or routing key from the file the mounted Secret ``secret_name`` puts at
    ``/etc/alertmanager/secrets/<secret_name>/<receiver name>``."""
    entries: list[dict[str, Any]] = [{"name": NULL_RECEIVER}]
    for r in receivers:
        configs, field = SECRET_FILE_FIELD[r.type]
        entry: dict[str, Any] = {field: f"{ALERTMANAGER_SECRETS_DIR}/{secret_name}/{r.name}", "send_resolved": True}
        if r.channel is not None:
            entry["channel"] = r.channel
        entries.append({"name": r.name, configs: [entry]})
    # The chart's Watchdog route first (the always-firing alert that proves the pipeline; it goes
    # nowhere), then critical alerts to every receiver (continue: each matching route sends), and the
    # default (everything else) to the first receiver.
    routes: list[dict[str, Any]] = [{"receiver": NULL_RECEIVER, "matchers": ['alertname = "Watchdog"']}]
    routes += [{"receiver": r.name, "matchers": ['severity = "critical"'], "continue": True} for r in receivers]
    return {
        "route": {"group_by": ["namespace"], "receiver": receivers[0].name, "routes": routes},
        "receivers": entries,
    }


def alertmanager_values(name: str, a: ObservabilityArgs) -> dict[str, Any]:
    spec: dict[str, Any] = {"resources": _resources("50m", "128Mi", "200m", "256Mi")}
    values: dict[str, Any] = {"enabled": True, "service": {"type": "ClusterIP"}, "ingress": {"enabled": False}, "alertmanagerSpec": spec}
    if a.alert_receivers:
        spec["secrets"] = [receivers_secret_name(name)]
        values["config"] = alertmanager_config(a.alert_receivers, receivers_secret_name(name))
    return values


def receivers_secret_name(name: str) -> str:
    return f"{name}-alert-receivers"


ALWAYS_PULL = {"pullPolicy": "Always"}
"""The kubelet re-checks each pinned tag with the registry, as for the program's own pods (checkov CKV_K8S_15)."""
# The admission webhook's certificate Jobs run kube-webhook-certgen, a static binary in a FROM-scratch
# image that writes no file: any unprivileged uid runs it; the chart's default is 2000.
CERTGEN_USER = {"runAsUser": 65534, "runAsGroup": 65534}
# node-exporter runs as 65534 (the chart's securityContext) and reads /proc and /sys through hostPath
# mounts: no capability, no privilege escalation and the runtime's default seccomp profile take nothing
# it needs (its default collectors make no syscall that profile refuses).
NODE_EXPORTER_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def chart_values(
    name: str,
    a: ObservabilityArgs,
    admin_secret: pulumi.Input[str],
    node_exporter_namespace: pulumi.Input[str],
    grafana_cluster_role: pulumi.Input[str],
) -> dict[str, Any]:
    """Helm values for kube-prometheus-stack (keys from its values.yaml at the pinned version)."""
    return {
        "fullnameOverride": name,
        "crds": {"enabled": True},
        "defaultRules": {"create": True},
        "prometheus": prometheus_values(a),
        "alertmanager": alertmanager_values(name, a),
        "grafana": grafana_values(admin_secret, grafana_cluster_role),
        "prometheusOperator": {
            "image": ALWAYS_PULL,
            "service": {"type": "ClusterIP"},
            "resources": _resources("100m", "128Mi", "500m", "512Mi"),
            "prometheusConfigReloader": {"resources": _resources("10m", "32Mi", "100m", "64Mi")},
            "admissionWebhooks": {
                "patch": {"image": ALWAYS_PULL, "securityContext": CERTGEN_USER, "resources": _resources("10m", "32Mi", "100m", "128Mi")}
            },
        },
        "kube-state-metrics": {"image": ALWAYS_PULL, "resources": _resources("50m", "128Mi", "200m", "256Mi")},  # subchart keys
        # node-exporter needs hostNetwork, hostPID and hostPath: alone in a privileged namespace.
        "prometheus-node-exporter": {
            "namespaceOverride": node_exporter_namespace,
            "image": ALWAYS_PULL,
            "resources": _resources("50m", "64Mi", "200m", "128Mi"),  # subchart key
            "containerSecurityContext": NODE_EXPORTER_CONTAINER,  # merged over the chart's readOnlyRootFilesystem
        },
        # EKS runs these on the managed control plane and kind binds them to localhost: nothing to
        # scrape, and their default rules would only report them down.
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeProxy": {"enabled": False},
    }


# --- scraping ---------------------------------------------------------------------------


def _job(job: str) -> dict[str, Any]:
    return {"action": "replace", "targetLabel": "job", "replacement": job}


def _pod_label(label: str, target: str) -> dict[str, Any]:
    source = "__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", label)
    return {"action": "replace", "sourceLabels": [source], "targetLabel": target}


def _endpoint(job: str, extra: Sequence[dict] = (), path: str = "/metrics", **where: Any) -> dict[str, Any]:
    return {**where, "path": path, "relabelings": [_job(job), *extra]}


PROMETHEUS_PORT = 9090  # the chart's Prometheus Service port (prometheus.service.port)


def isolation(a: ObservabilityArgs) -> Isolation:
    """The monitoring namespace's allows: ``ISOLATION`` plus the Prometheus API for ``prometheus_clients``."""
    clients = [Allow(namespace, (PROMETHEUS_PORT,), "queries Prometheus' API") for namespace in a.prometheus_clients]
    return Isolation(ingress=[*ISOLATION.ingress, *clients], egress=ISOLATION.egress)


def _predictor_deployment() -> dict[str, Any]:
    # KServe (Standard mode) labels a predictor's pods app=isvc.<Deployment name> (deployment_reconciler.go).
    source = "__meta_kubernetes_pod_label_app"
    return {"action": "replace", "sourceLabels": [source], "regex": r"isvc\.(.+)", "replacement": "$1", "targetLabel": DEPLOYMENT_LABEL}


def pod_monitors(a: ObservabilityArgs) -> dict[str, dict[str, Any]]:
    """PodMonitor name -> spec; every one looks in all namespaces."""
    isvc = [_pod_label("serving.kserve.io/inferenceservice", "inferenceservice"), _predictor_deployment()]
    ray = [_pod_label("ray.io/cluster", "ray_io_cluster")]
    monitors = {
        # The KServe model server on 8080 (latency histograms) and, in Knative mode, the queue-proxy
        # port with request counts by response code.
        "kserve-predictors": (
            {
                "matchLabels": {"component": "predictor"},
                "matchExpressions": [{"key": "serving.kserve.io/inferenceservice", "operator": "Exists"}],
            },
            [_endpoint("kserve-predictor", isvc, portNumber=8080), _endpoint("kserve-predictor", isvc, port="http-usermetric")],
        ),
        # As KubeRay documents: node metrics on "metrics" (8080); the head adds the autoscaler and dashboard ports.
        "ray-head": (
            {"matchLabels": {"ray.io/node-type": "head"}},
            [_endpoint("ray-head", ray, port=port) for port in ("metrics", "as-metrics", "dash-metrics")],
        ),
        "ray-workers": ({"matchLabels": {"ray.io/node-type": "worker"}}, [_endpoint("ray-worker", ray, port="metrics")]),
        # The GPU Operator's DCGM exporter (9400). Scraped from here rather than through the
        # chart's ServiceMonitor, so the GPU Operator need not wait for the monitoring CRDs.
        "dcgm-exporter": ({"matchLabels": {"app": "nvidia-dcgm-exporter"}}, [_endpoint("nvidia-dcgm-exporter", portNumber=9400)]),
        "mlflow": ({"matchLabels": dict(a.mlflow_pod_labels)}, [_endpoint("mlflow", port=a.mlflow_metrics_port)]),
        "minio": (
            {"matchLabels": dict(a.object_store_pod_labels)},
            [_endpoint("minio", path="/minio/v2/metrics/cluster", port=a.object_store_metrics_port)],
        ),
    }
    if a.request_errors == "envoy-gateway":
        # Envoy Gateway v1.6.1's proxies serve Envoy's stats on 19001 /stats/prometheus
        # (internal/xds/bootstrap/bootstrap.go EnvoyStatsPort, bootstrap.yaml.tpl), a container port named
        # "metrics" on pods labelled as below (internal/infrastructure/kubernetes/proxy/resource.go, testdata).
        proxy = {"app.kubernetes.io/component": "proxy", "app.kubernetes.io/managed-by": "envoy-gateway"}
        monitors["envoy-proxies"] = ({"matchLabels": proxy}, [_endpoint("envoy-proxy", path="/stats/prometheus", portNumber=19001)])
    return {
        name: {"namespaceSelector": {"any": True}, "selector": selector, "podMetricsEndpoints": endpoints}
        for name, (selector, endpoints) in monitors.items()
    }


def in_cluster_url(service: str, namespace: pulumi.Output[str], port: int) -> pulumi.Output[str]:
    return namespace.apply(lambda ns: f"http://{service}.{ns}.svc.cluster.local:{port}")


class Observability(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    release: k8s.helm.v3.Release
    crds_ready: list[pulumi.Resource]
    """Order ServiceMonitors, PodMonitors and PrometheusRules after these (the operator's CRDs)."""
    prometheus_url: pulumi.Output[str]
    alertmanager_url: pulumi.Output[str]
    grafana_url: pulumi.Output[str]
    grafana_admin_secret: pulumi.Output[str]
    grafana_admin_password: pulumi.Output[str]

    def __init__(self, name: str, args: ObservabilityArgs | Mapping[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None):
        a = parse_args(ObservabilityArgs, args, component="Observability", name=name, problems=args_problems)
        if len(name) > MAX_FULLNAME:
            raise InputError(
                "Observability", name, [Problem((), f"the name is longer than {MAX_FULLNAME} characters (the chart truncates it)")]
            )
        settings = rule_settings(a)
        super().__init__("aiplatform:index:Observability", name, None, opts)
        after = explicit_depends_on(opts)
        child = pulumi.ResourceOptions(parent=self)

        namespace = platform_namespace(a.namespace, pod_security=a.pod_security, isolation=isolation(a), parent=self)
        # privileged: node-exporter reads the host's /proc, /sys and network (hostNetwork, hostPID, hostPath).
        # Its pods use the host's network, which NetworkPolicies do not govern.
        host_namespace = platform_namespace(f"{a.namespace}-node-exporter", pod_security="privileged", isolation=Isolation(), parent=self)
        self.namespace = namespace.metadata["name"]

        password = random.RandomPassword(f"{name}-grafana-admin", length=32, special=False, opts=child)
        admin = k8s.core.v1.Secret(
            f"{name}-grafana-admin",
            metadata={"name": f"{name}-grafana-admin", "namespace": self.namespace},
            type="Opaque",
            string_data={USER_KEY: ADMIN_USER, PASSWORD_KEY: pulumi.Output.secret(password.result)},
            opts=child,
        )
        receiver_secrets: list[pulumi.Resource] = []
        if a.alert_receivers:
            receiver_secrets.append(
                k8s.core.v1.Secret(
                    receivers_secret_name(name),
                    metadata={"name": receivers_secret_name(name), "namespace": self.namespace},
                    type="Opaque",
                    string_data={r.name: pulumi.Output.secret(a.alert_secrets[r.name]) for r in a.alert_receivers},
                    opts=child,
                )
            )
        # Bound by the grafana subchart's ClusterRoleBinding (rbac.useExistingClusterRole).
        grafana_role = k8s.rbac.v1.ClusterRole(
            f"{name}-grafana-sidecars",
            metadata={"name": f"{name}-grafana-sidecars"},
            rules=grafana_cluster_role_rules(),
            opts=child,
        )
        values = chart_values(name, a, admin.metadata["name"], host_namespace.metadata["name"], grafana_role.metadata["name"])
        self.release = helm_release(
            name,
            versions.KUBE_PROMETHEUS_STACK,
            namespace=self.namespace,
            values=values,
            timeout=900,  # CRDs, the webhook certificate job and a volume for Prometheus
            parent=self,
            depends_on=[admin, grafana_role, *receiver_secrets, host_namespace, *after],
        )
        self.crds_ready = [self.release]

        for monitor, spec in pod_monitors(a).items():
            self._custom_resource("PodMonitor", f"{name}-{monitor}", spec)
        for domain, groups in prometheus_rules(settings).items():
            self._custom_resource("PrometheusRule", f"{name}-{domain}", {"groups": groups})
        for key, model in rendered_dashboards(a.request_errors, a.predict_histogram, a.vllm_metrics).items():
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{key}",
                metadata={"name": f"{name}-dashboard-{key}", "namespace": self.namespace, "labels": dict(SIDECAR_LABEL)},
                data={f"{key}.json": model},
                opts=child,
            )

        # Services: "<fullnameOverride>-prometheus|alertmanager" and the grafana subchart's "<release>-grafana".
        self.prometheus_url = in_cluster_url(f"{name}-prometheus", self.namespace, PROMETHEUS_PORT)
        self.alertmanager_url = in_cluster_url(f"{name}-alertmanager", self.namespace, 9093)
        self.grafana_url = in_cluster_url(f"{name}-grafana", self.namespace, 80)
        self.grafana_admin_secret = admin.metadata["name"]
        self.grafana_admin_password = pulumi.Output.secret(password.result)
        self.register_outputs(
            {
                "namespace": self.namespace,
                "release": self.release.name,
                "prometheus_url": self.prometheus_url,
                "grafana_url": self.grafana_url,
                "alertmanager_url": self.alertmanager_url,
                "grafana_admin_secret": self.grafana_admin_secret,
                "grafana_admin_password": self.grafana_admin_password,
            }
        )

    def _custom_resource(self, kind: str, name: str, spec: dict[str, Any]) -> k8s.apiextensions.CustomResource:
        """A prometheus-operator object, created only once the release has installed its CRD."""
        return k8s.apiextensions.CustomResource(
            name,
            api_version=MONITORING_API,
            kind=kind,
            metadata={"name": name, "namespace": self.namespace},
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.crds_ready),
        )
