"""Alerting and recording rules of the platform, as plain data (PrometheusRule ``spec.groups``).

Every alert carries ``labels.severity`` and the annotations ``summary``, ``description`` and
``runbook_url``. Metric names come from ``components.observability.metrics_catalog``; tests/promtool holds a
firing and a quiet case for every alert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

GROUP_PREFIX = "ai-platform"
# prometheus_client's default histogram buckets: the KServe model server keeps them, so a latency
# objective can only be measured at one of these bounds.
KSERVE_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
# vLLM's time-to-first-token histogram bounds (vllm 0.24.0, vllm/v1/metrics/loggers.py,
# ``vllm:time_to_first_token_seconds``): an LLM's latency objective is on the first token, because a
# streamed answer's total time grows with its length.
VLLM_FIRST_TOKEN_BUCKETS = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
)  # fmt: skip
# Burn-rate windows and factors from the SRE workbook ("Alerting on SLOs", multiwindow, multi-burn-rate):
# (long window, short window, factor); the first two page, the last two open a ticket.
FAST_BURN = (("1h", "5m", 14.4), ("6h", "30m", 6.0))
SLOW_BURN = (("1d", "2h", 3.0), ("3d", "6h", 1.0))
SLI_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
# XIDs that mean the GPU needs a reset or a repair, not an application fix
# (https://docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html): 48 double-bit ECC error,
# 63/64 row remapping event/failure, 74 NVLink error, 79 fallen off the bus, 92 high single-bit
# ECC rate, 94/95 contained/uncontained ECC error, 119/120 GSP timeout/error.
HARDWARE_XIDS = (48, 63, 64, 74, 79, 92, 94, 95, 119, 120)
# Predictor Deployments: "<isvc>-predictor" (Standard), "<isvc>-predictor-00001-deployment" (Knative).
PREDICTOR_DEPLOYMENTS = ".+-predictor.*"
# Where an InferenceService's 5xx answers are counted, per deployment (metrics_catalog has the sources):
# Knative mode: the queue-proxy sidecar; Standard mode: only a gateway in front of the predictor sees
# status codes (the KServe model server exports latency histograms, no response codes).
RequestErrors = Literal["knative", "envoy-gateway"]
# Envoy Gateway names a route's xDS cluster "httproute/<namespace>/<route>/rule/<index>" (v1.6.1
# internal/gatewayapi/helpers.go irRouteDestinationName); KServe names
# an InferenceService's HTTPRoutes "<isvc>" and "<isvc>-predictor" (constants.PredictorServiceName).
ENVOY_ROUTE_CLUSTER = "httproute/.+"
ENVOY_NAMESPACE = "httproute/([^/]+)/.+"
ENVOY_ISVC = "httproute/[^/]+/(.+?)(?:-predictor)?/rule/.+"
POOL_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

RUNBOOKS = {
    "GpuXidError": "https://docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html",
    "GpuXidHardwareError": "https://docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html",
    "GpuUncorrectableEccErrors": "https://docs.nvidia.com/deploy/a100-gpu-mem-error-mgmt/index.html",
    "GpuTemperatureHigh": "https://docs.nvidia.com/datacenter/cloud-native/gpu-telemetry/latest/dcgm-exporter.html",
    "GpuMemoryNearlyFull": "https://docs.nvidia.com/datacenter/cloud-native/gpu-telemetry/latest/dcgm-exporter.html",
    "GpuAllocatedButIdle": "https://docs.nvidia.com/datacenter/cloud-native/gpu-telemetry/latest/dcgm-exporter.html",
    "InferenceErrorBudgetFastBurn": "https://sre.google/workbook/alerting-on-slos/",
    "InferenceErrorBudgetSlowBurn": "https://sre.google/workbook/alerting-on-slos/",
    "InferenceLatencyBudgetFastBurn": "https://sre.google/workbook/alerting-on-slos/",
    "InferenceLatencyBudgetSlowBurn": "https://sre.google/workbook/alerting-on-slos/",
    "InferenceFirstTokenBudgetFastBurn": "https://sre.google/workbook/alerting-on-slos/",
    "InferenceFirstTokenBudgetSlowBurn": "https://sre.google/workbook/alerting-on-slos/",
    "InferenceServiceNoReadyReplicas": "https://kubernetes.io/docs/tasks/debug/debug-application/debug-pods/",
    "RayHeadDown": "https://docs.ray.io/en/latest/cluster/kubernetes/troubleshooting/troubleshooting.html",
    "RayAutoscalerCannotAddWorkers": "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/configuring-autoscaling.html",
    "MLflowDown": "https://mlflow.org/docs/latest/tracking/server.html",
    "MLflowServerErrors": "https://mlflow.org/docs/latest/tracking/server.html",
    "ObjectStoreDown": "https://min.io/docs/minio/kubernetes/upstream/operations/monitoring.html",
    "GpuNodePoolAtMaximum": "https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md",
}


@dataclass(frozen=True)
class RuleSettings:
    """Thresholds and objectives; the defaults are the platform's."""

    gpu_temperature_celsius: int = 85
    gpu_memory_used_ratio: float = 0.95  # above vLLM's default 0.9 pre-allocation
    gpu_idle_utilization_percent: int = 5
    gpu_idle_window: str = "1h"
    inference_availability_target: float = 0.995
    inference_latency_target: float = 0.99
    inference_latency_seconds: float = 1.0
    first_token_seconds: float = 2.5
    """An LLM's first-token objective: ``inference_latency_target`` of requests get their first token within it."""
    mlflow_error_ratio: float = 0.05
    gpu_pools: tuple[str, ...] = field(default_factory=tuple)
    runbook_base_url: str | None = None
    request_errors: RequestErrors | None = None
    """What counts InferenceService responses by status code; None: nothing does, so no availability SLO."""
    node_group_metrics: bool = True
    """The cluster-autoscaler runs and exports per-node-group metrics; False: no pool-at-maximum alert."""
    predict_histogram: bool = True
    """A KServe Python runtime exports ``request_predict_seconds``; False: no latency SLO."""
    first_token_histogram: bool = False
    """A vLLM engine serves (model format huggingface), exporting ``vllm:time_to_first_token_seconds``:
    the first-token SLO reads it."""

    def __post_init__(self):
        for name in ("inference_availability_target", "inference_latency_target"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"{name} must be between 0 and 1 (got {getattr(self, name)!r})")
        if self.inference_latency_seconds not in KSERVE_LATENCY_BUCKETS:
            raise ValueError(
                f"inference_latency_seconds must be a bucket of the KServe latency histogram {KSERVE_LATENCY_BUCKETS} "
                f"(got {self.inference_latency_seconds!r})"
            )
        if self.first_token_seconds not in VLLM_FIRST_TOKEN_BUCKETS:
            raise ValueError(
                f"first_token_seconds must be a bucket of vLLM's first-token histogram {VLLM_FIRST_TOKEN_BUCKETS} "
                f"(got {self.first_token_seconds!r})"
            )
        for pool in self.gpu_pools:
            if not POOL_NAME.match(pool):
                raise ValueError(f"gpu_pools: {pool!r} is not a node pool name (lowercase letters, digits and '-')")


def alert(name: str, expr: str, for_: str, severity: str, summary: str, description: str, s: RuleSettings) -> dict[str, Any]:
    runbook = f"{s.runbook_base_url.rstrip('/')}#{name.lower()}" if s.runbook_base_url else RUNBOOKS[name]
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity},
        "annotations": {"summary": summary, "description": description, "runbook_url": runbook},
    }


# --- GPU ----------------------------------------------------------------------------


def gpu_group(s: RuleSettings) -> dict[str, Any]:
    gpu = "GPU {{ $labels.gpu }} ({{ $labels.modelName }}) on {{ $labels.Hostname }}"
    hardware_xid = " or ".join(f"DCGM_FI_DEV_XID_ERRORS == {xid}" for xid in HARDWARE_XIDS)
    memory_used = "DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)"
    rules = [
        # The XID gauge holds the last code until the driver or exporter restarts, so a change is the event.
        alert(
            "GpuXidError",
            "DCGM_FI_DEV_XID_ERRORS > 0 and changes(DCGM_FI_DEV_XID_ERRORS[10m]) > 0",
            "0m",
            "warning",
            "A GPU reported an XID error",
            gpu + " reported XID {{ $value }} in the last 10 minutes.",
            s,
        ),
        # Held while the sticky gauge shows a hardware code: resolves once the GPU is reset or replaced.
        alert(
            "GpuXidHardwareError",
            hardware_xid,
            "0m",
            "critical",
            "A GPU reported a hardware XID error; drain the node",
            gpu + " reported XID {{ $value }}, which needs a GPU reset or repair.",
            s,
        ),
        alert(
            "GpuUncorrectableEccErrors",
            "increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[15m]) > 0"
            " or increase(DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS[15m]) > 0"
            " or increase(DCGM_FI_DEV_RETIRED_DBE[15m]) > 0"
            " or DCGM_FI_DEV_ROW_REMAP_FAILURE > 0",
            "0m",
            "critical",
            "A GPU has uncorrectable (double-bit) memory errors",
            gpu + " has double-bit ECC errors, new uncorrectable remapped rows or a failed row remap.",
            s,
        ),
        alert(
            "GpuTemperatureHigh",
            f"DCGM_FI_DEV_GPU_TEMP > {s.gpu_temperature_celsius}",
            "10m",
            "warning",
            "A GPU runs hot",
            gpu + f" is at {{{{ $value }}}} °C, above {s.gpu_temperature_celsius} °C for 10 minutes.",
            s,
        ),
        alert(
            "GpuMemoryNearlyFull",
            f"{memory_used} > {s.gpu_memory_used_ratio}",
            "15m",
            "warning",
            "A GPU's memory is nearly full",
            gpu + " uses {{ $value | humanizePercentage }} of its framebuffer memory.",
            s,
        ),
        # exported_pod: dcgm-exporter's pod label, renamed by Prometheus because the target has its own.
        alert(
            "GpuAllocatedButIdle",
            f'avg_over_time(DCGM_FI_DEV_GPU_UTIL{{exported_pod!=""}}[{s.gpu_idle_window}]) < {s.gpu_idle_utilization_percent}',
            s.gpu_idle_window,
            "warning",
            "A GPU is allocated to a pod but idle",
            gpu + " is allocated to {{ $labels.exported_namespace }}/{{ $labels.exported_pod }} but averaged "
            "{{ $value | humanize }}% utilization; release it or scale the workload down.",
            s,
        ),
    ]
    return {"name": f"{GROUP_PREFIX}.gpu", "rules": rules}


# --- Inference ----------------------------------------------------------------------

ERRORS = "inference:request_errors:ratio_rate"
SLOW = "inference:slow_requests:ratio_rate"
SLOW_FIRST_TOKEN = "inference:slow_first_tokens:ratio_rate"
BY_ISVC = "by (namespace, inferenceservice)"


def inference_sli_group(s: RuleSettings) -> dict[str, Any]:
    """Error and slow-request ratios per InferenceService over every burn-rate window."""
    rules = []
    for w in SLI_WINDOWS:
        if s.request_errors is not None:
            rules.append({"record": f"{ERRORS}{w}", "expr": error_ratio(s.request_errors, w)})
        if s.predict_histogram:
            rules.append({"record": f"{SLOW}{w}", "expr": slow_ratio("request_predict_seconds", s.inference_latency_seconds, w)})
        if s.first_token_histogram:
            rules.append(
                {"record": f"{SLOW_FIRST_TOKEN}{w}", "expr": slow_ratio("vllm:time_to_first_token_seconds", s.first_token_seconds, w)}
            )
    return {"name": f"{GROUP_PREFIX}.inference-slis", "rules": rules}


def slow_ratio(histogram: str, bound: float, window: str) -> str:
    """Share of an InferenceService's observations of ``histogram`` above ``bound`` over ``window``."""
    le = str(float(bound))  # prometheus_client writes bounds as floats: "1.0"
    return f'1 - sum {BY_ISVC} (rate({histogram}_bucket{{le="{le}"}}[{window}])) / sum {BY_ISVC} (rate({histogram}_count[{window}]))'


def _by_isvc_from_envoy(selector: str, window: str) -> str:
    """Envoy's per-cluster request rate, labelled with the InferenceService its HTTPRoute serves."""
    rate = f"rate({selector}[{window}])"
    labelled = (
        f'label_replace(label_replace({rate}, "namespace", "$1", "envoy_cluster_name", "{ENVOY_NAMESPACE}"),'
        f' "inferenceservice", "$1", "envoy_cluster_name", "{ENVOY_ISVC}")'
    )
    return f"sum {BY_ISVC} ({labelled})"


def error_ratio(source: RequestErrors, window: str) -> str:
    """Share of an InferenceService's requests answered 5xx over ``window``, from ``source``."""
    if source == "knative":
        return (
            f'sum {BY_ISVC} (rate(revision_app_request_count{{response_code_class="5xx"}}[{window}]))'
            f" / sum {BY_ISVC} (rate(revision_app_request_count[{window}]))"
        )
    routes = f'envoy_cluster_name=~"{ENVOY_ROUTE_CLUSTER}"'
    return (
        _by_isvc_from_envoy(f'envoy_cluster_upstream_rq_xx{{{routes}, envoy_response_code_class="5"}}', window)
        + " / "
        + _by_isvc_from_envoy(f"envoy_cluster_upstream_rq_total{{{routes}}}", window)
    )


def burn_rate_expr(sli: str, budget: float, pairs: tuple[tuple[str, str, float], ...]) -> str:
    """Both windows of a pair above factor x budget; any pair fires."""
    return " or ".join(
        f"({sli}{long} > ({factor} * {budget:g}) and {sli}{short} > ({factor} * {budget:g}))" for long, short, factor in pairs
    )


def budget_alerts(name: str, sli: str, target: float, subject: str, symptom: str, objective: str, s: RuleSettings) -> list[dict[str, Any]]:
    """The fast (page) and slow (ticket) burn-rate alerts of one objective on the SLI recorded as ``sli<window>``."""
    budget = round(1 - target, 6)
    isvc = "{{ $labels.namespace }}/{{ $labels.inferenceservice }}"
    return [
        alert(
            f"{name}FastBurn",
            burn_rate_expr(sli, budget, FAST_BURN),
            "2m",
            "critical",
            f"An InferenceService burns its {subject} budget fast",
            f"{isvc} {symptom} at a rate that exhausts the budget of its objective ({objective}) within days.",
            s,
        ),
        alert(
            f"{name}SlowBurn",
            burn_rate_expr(sli, budget, SLOW_BURN),
            "1h",
            "warning",
            f"An InferenceService burns its {subject} budget",
            f"{isvc} {symptom} faster than its objective ({objective}) allows.",
            s,
        ),
    ]


def inference_group(s: RuleSettings) -> dict[str, Any]:
    """Objectives only on what the stack's runtimes and gateway measure, and the no-ready-replica alert."""
    target = s.inference_latency_target
    rules = []
    if s.request_errors is not None:
        availability = f"{s.inference_availability_target:.2%} of requests without 5xx"
        rules += budget_alerts("InferenceErrorBudget", ERRORS, s.inference_availability_target, "error", "answers 5xx", availability, s)
    if s.predict_histogram:
        latency = f"{target:.2%} of predictions under {s.inference_latency_seconds:g}s"
        rules += budget_alerts("InferenceLatencyBudget", SLOW, target, "latency", "is slow", latency, s)
    if s.first_token_histogram:
        first_token = f"{target:.2%} of first tokens within {s.first_token_seconds:g}s"
        rules += budget_alerts(
            "InferenceFirstTokenBudget", SLOW_FIRST_TOKEN, target, "first-token", "is slow to its first token", first_token, s
        )
    rules.append(
        alert(
            "InferenceServiceNoReadyReplicas",
            f'kube_deployment_spec_replicas{{deployment=~"{PREDICTOR_DEPLOYMENTS}"}} > 0'
            " unless on (namespace, deployment)"
            f' kube_deployment_status_replicas_available{{deployment=~"{PREDICTOR_DEPLOYMENTS}"}} > 0',
            "5m",
            "critical",
            "An InferenceService predictor has no ready replica",
            "{{ $labels.namespace }}/{{ $labels.deployment }} wants replicas but none is available.",
            s,
        )
    )
    return {"name": f"{GROUP_PREFIX}.inference", "rules": rules}


# --- Ray ----------------------------------------------------------------------------


def ray_group(s: RuleSettings) -> dict[str, Any]:
    head_up = 'up{job="ray-head", endpoint="metrics"}'
    by_cluster = "by (namespace, ray_io_cluster)"
    rules = [
        # Down: the head's target fails, or workers still report while the head has no target at all.
        alert(
            "RayHeadDown",
            f"max {by_cluster} ({head_up}) == 0"
            f' or (max {by_cluster} (up{{job="ray-worker"}}) unless on (namespace, ray_io_cluster) {head_up})',
            "5m",
            "critical",
            "A Ray cluster's head is down",
            "The head of Ray cluster {{ $labels.namespace }}/{{ $labels.ray_io_cluster }} does not answer; "
            "jobs cannot be scheduled and the autoscaler is stopped.",
            s,
        ),
        # Pending for longer than the cluster-autoscaler's max-node-provision-time (15m).
        alert(
            "RayAutoscalerCannotAddWorkers",
            f"sum {by_cluster} (autoscaler_pending_nodes) > 0"
            f" or sum {by_cluster} (increase(autoscaler_failed_create_nodes_total[15m])) > 0",
            "15m",
            "warning",
            "A Ray cluster cannot add the workers it asked for",
            "Ray cluster {{ $labels.namespace }}/{{ $labels.ray_io_cluster }} has waited 15 minutes for workers "
            "that do not start; check pending pods, GPU pool limits and quotas.",
            s,
        ),
    ]
    return {"name": f"{GROUP_PREFIX}.ray", "rules": rules}


# --- Platform services ----------------------------------------------------------------


def node_group_regex(pools: tuple[str, ...]) -> str:
    """EKS names a managed node group's autoscaling group ``eks-<node group>-<uuid>``; ours start with the pool name."""
    return f"eks-({'|'.join(pools)})-.+" if pools else ".+"


def platform_group(s: RuleSettings) -> dict[str, Any]:
    groups = f'node_group=~"{node_group_regex(s.gpu_pools)}"'
    pending_gpu_requests = (
        'sum(max by (namespace, pod) (kube_pod_container_resource_requests{resource="nvidia_com_gpu"})'
        ' and on (namespace, pod) max by (namespace, pod) (kube_pod_status_phase{phase="Pending"} == 1)) > 0'
    )
    mlflow_requests = "sum by (namespace) (rate(mlflow_http_request_total[5m]))"
    rules = [
        alert(
            "MLflowDown",
            'max by (namespace) (up{job="mlflow"}) == 0',
            "5m",
            "critical",
            "The MLflow tracking server is unreachable",
            "No MLflow server in {{ $labels.namespace }} answers; runs cannot be logged or models registered.",
            s,
        ),
        alert(
            "MLflowServerErrors",
            f'sum by (namespace) (rate(mlflow_http_request_total{{status=~"5.."}}[5m])) / {mlflow_requests} > {s.mlflow_error_ratio}',
            "10m",
            "warning",
            "MLflow answers with server errors",
            "{{ $value | humanizePercentage }} of MLflow requests in {{ $labels.namespace }} fail; its database or "
            "artifact store is likely unreachable.",
            s,
        ),
        alert(
            "ObjectStoreDown",
            'max by (namespace) (up{job="minio"}) == 0',
            "5m",
            "critical",
            "The object store is unreachable",
            "No MinIO server in {{ $labels.namespace }} answers; datasets, artifacts and model downloads fail.",
            s,
        ),
        alert(
            "GpuNodePoolAtMaximum",
            f"max by (node_group) (cluster_autoscaler_node_group_target_count{{{groups}}})"
            f" >= max by (node_group) (cluster_autoscaler_node_group_max_count{{{groups}}})"
            f" and on () {pending_gpu_requests}",
            "15m",
            "warning",
            "A GPU node pool is at its maximum while GPU pods wait",
            "Node group {{ $labels.node_group }} is at its maximum size and pods requesting GPUs are pending; "
            "raise the pool's max_size or free GPUs.",
            s,
        ),
    ]
    if not s.node_group_metrics:
        rules = [rule for rule in rules if rule["alert"] != "GpuNodePoolAtMaximum"]
    return {"name": f"{GROUP_PREFIX}.platform", "rules": rules}


def prometheus_rules(settings: RuleSettings | None = None) -> dict[str, list[dict[str, Any]]]:
    """PrometheusRule name suffix -> its ``spec.groups``."""
    s = settings or RuleSettings()
    return {
        "gpu": [gpu_group(s)],
        "inference": [inference_sli_group(s), inference_group(s)],
        "ray": [ray_group(s)],
        "platform": [platform_group(s)],
    }


def all_groups(settings: RuleSettings | None = None) -> list[dict[str, Any]]:
    return [group for groups in prometheus_rules(settings).values() for group in groups]


def alert_names(settings: RuleSettings | None = None) -> list[str]:
    return [rule["alert"] for group in all_groups(settings) for rule in group["rules"] if "alert" in rule]
