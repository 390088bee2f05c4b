"""The metrics the platform's exporters really emit, each with where its name was looked up.

Alert rules and dashboards may only name metrics listed here (or series our own recording rules
produce); a test parses every expression and checks. Add a metric together with its source.
"""

from __future__ import annotations

import re

DCGM_DEFAULTS = "https://github.com/NVIDIA/dcgm-exporter/blob/main/etc/default-counters.csv"
DCGM_OPERATOR_DEFAULTS = "https://github.com/NVIDIA/dcgm-exporter/blob/main/etc/dcp-metrics-included.csv (the GPU Operator's default)"
DCGM_OPT_IN = "dcgm-exporter etc/default-counters.csv, commented out: emitted once enabled in the exporter's metrics CSV"
KSERVE = "kserve 0.20.0 wheel, kserve/metrics.py (prometheus_client Histogram, label model_name), served on the model port /metrics"
KNATIVE = "https://github.com/knative/docs/blob/main/docs/serving/metrics.md (queue-proxy, port http-usermetric 9091)"
RAY = "https://github.com/ray-project/ray/blob/master/python/ray/dashboard/modules/metrics/dashboards/default_dashboard_panels.py"
RAY_AUTOSCALER = "https://github.com/ray-project/ray/blob/master/python/ray/autoscaler/_private/prom_metrics.py (port 44217)"
KUBE_STATE_METRICS = "https://github.com/kubernetes/kube-state-metrics/tree/main/docs/metrics/workload"
CLUSTER_AUTOSCALER = "https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/proposals/metrics.md"
MLFLOW = "mlflow 3.15.1 mlflow/server/prometheus_exporter.py + prometheus-flask-exporter 0.23.2 (defaults_prefix='mlflow')"
ENVOY = (
    "envoy v1.36.3 docs/root/configuration/upstream/cluster_manager/cluster_stats.rst (upstream_rq_xx, upstream_rq_total)"
    " + source/common/config/well_known_names.cc (tag envoy_response_code_class, envoy_cluster_name); Envoy Gateway v1.6.1"
    " proxies serve them on 19001 /stats/prometheus"
)
VLLM = (
    "vllm 0.24.0 (kserve v0.20.0 python/huggingfaceserver/uv.lock) vllm/v1/metrics/loggers.py PrometheusStatLogger, registered"
    " in prometheus_client's registry that KServe's /metrics serves (python/kserve/kserve/protocol/rest/server.py)"
)
PROMETHEUS = "https://prometheus.io/docs/concepts/jobs_instances/#automatically-generated-labels-and-time-series"

# metric name as scraped -> where the name comes from
METRICS: dict[str, str] = {
    "up": PROMETHEUS,
    # NVIDIA DCGM exporter (scraped through the GPU Operator's ServiceMonitor)
    "DCGM_FI_DEV_GPU_UTIL": DCGM_DEFAULTS,
    "DCGM_FI_DEV_GPU_TEMP": DCGM_DEFAULTS,
    "DCGM_FI_DEV_POWER_USAGE": DCGM_DEFAULTS,
    "DCGM_FI_DEV_FB_USED": DCGM_DEFAULTS,
    "DCGM_FI_DEV_FB_FREE": DCGM_DEFAULTS,
    "DCGM_FI_DEV_XID_ERRORS": DCGM_DEFAULTS,
    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS": DCGM_DEFAULTS,
    "DCGM_FI_DEV_ROW_REMAP_FAILURE": DCGM_DEFAULTS,
    "DCGM_FI_DEV_RETIRED_DBE": DCGM_OPERATOR_DEFAULTS,
    "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL": DCGM_OPT_IN,
    # KServe model server (sklearn, xgboost, lightgbm, huggingface and custom Python predictors)
    "request_predict_seconds_bucket": KSERVE,
    "request_predict_seconds_count": KSERVE,
    "request_predict_seconds_sum": KSERVE,
    # Knative queue-proxy (InferenceServices in Knative mode)
    "revision_app_request_count": KNATIVE,
    # Envoy proxies of Envoy Gateway (Standard mode behind the IngressGateway)
    "envoy_cluster_upstream_rq_xx": ENVOY,
    "envoy_cluster_upstream_rq_total": ENVOY,
    # vLLM engine inside KServe's Hugging Face runtime (model format huggingface)
    "vllm:num_requests_waiting": VLLM,
    "vllm:num_requests_running": VLLM,
    "vllm:time_to_first_token_seconds_bucket": VLLM,
    "vllm:time_to_first_token_seconds_count": VLLM,
    # Ray nodes (port 8080, "metrics") and the KubeRay in-tree autoscaler
    "ray_node_cpu_utilization": RAY,
    "ray_node_cpu_count": RAY,
    "ray_node_gpus_utilization": RAY,
    "ray_node_mem_used": RAY,
    "ray_node_mem_total": RAY,
    "ray_node_gram_used": RAY,
    "ray_tasks": RAY,
    "ray_actors": RAY,
    "ray_resources": RAY,
    "ray_object_store_memory": RAY,
    "autoscaler_active_nodes": RAY_AUTOSCALER,
    "autoscaler_pending_nodes": RAY_AUTOSCALER,
    "autoscaler_failed_create_nodes_total": RAY_AUTOSCALER,
    # kube-state-metrics (part of kube-prometheus-stack)
    "kube_deployment_spec_replicas": KUBE_STATE_METRICS,
    "kube_deployment_status_replicas_available": KUBE_STATE_METRICS,
    "kube_pod_status_phase": KUBE_STATE_METRICS,
    "kube_pod_container_resource_requests": KUBE_STATE_METRICS,
    # cluster-autoscaler, per node group only with --emit-per-nodegroup-metrics=true
    "cluster_autoscaler_node_group_target_count": CLUSTER_AUTOSCALER,
    "cluster_autoscaler_node_group_max_count": CLUSTER_AUTOSCALER,
    # MLflow tracking server started with --expose-prometheus
    "mlflow_http_request_total": MLFLOW,
}

DEPLOYMENT_LABEL = "deployment"
"""Label the ``kserve-predictors`` PodMonitor gives every model server series: the predictor
Deployment of the pod (from KServe's pod label ``app: isvc.<deployment>``), so a query can select
one InferenceService's stable predictor without its canaries (``<name>-<canary>-predictor``)."""

PREDICT_HISTOGRAM_FORMATS = ("sklearn", "xgboost")
"""Model formats whose KServe runtime records ``request_predict_seconds``: kserve/model.py times
``Model.__call__`` (the v1/v2 predict routes); vLLM's OpenAI routes, TorchServe and Triton do not."""

# metric name -> what produces it; ``PRODUCED_BY`` keys are what a stack can deploy (tests map each to
# the rendered objects that prove it is deployed, in the mode the stack uses).
PRODUCERS: dict[str, str] = {
    "up": "prometheus",
    "revision_app_request_count": "knative-queue-proxy",
    "envoy_cluster_upstream_rq_xx": "envoy-proxy",
    "envoy_cluster_upstream_rq_total": "envoy-proxy",
    "vllm:num_requests_waiting": "vllm",
    "vllm:num_requests_running": "vllm",
    "vllm:time_to_first_token_seconds_bucket": "vllm",
    "vllm:time_to_first_token_seconds_count": "vllm",
    "autoscaler_active_nodes": "ray-autoscaler",
    "autoscaler_pending_nodes": "ray-autoscaler",
    "autoscaler_failed_create_nodes_total": "ray-autoscaler",
    "mlflow_http_request_total": "mlflow",
    **{name: "dcgm-exporter" for name in METRICS if name.startswith("DCGM_FI_")},
    **{name: "kserve-model-server" for name in METRICS if name.startswith("request_predict_seconds")},
    **{name: "ray" for name in METRICS if name.startswith("ray_")},
    **{name: "kube-state-metrics" for name in METRICS if name.startswith("kube_")},
    **{name: "cluster-autoscaler" for name in METRICS if name.startswith("cluster_autoscaler_")},
}
PRODUCED_BY = {
    "prometheus": "kube-prometheus-stack (Prometheus' own series per target)",
    "kube-state-metrics": "kube-prometheus-stack's kube-state-metrics subchart",
    "dcgm-exporter": "the GPU Operator's DCGM exporter",
    "kserve-model-server": "an InferenceService served by a KServe Python runtime",
    "knative-queue-proxy": "an InferenceService in KServe's Knative mode",
    "envoy-proxy": "the IngressGateway's Envoy proxies in front of Standard-mode InferenceServices",
    "vllm": "an InferenceService of model format huggingface (KServe's Hugging Face runtime, vLLM backend)",
    "ray": "a RayCluster's nodes",
    "ray-autoscaler": "a RayCluster with KubeRay's in-tree autoscaler",
    "cluster-autoscaler": "the ClusterAutoscaler (EKS), with --emit-per-nodegroup-metrics",
    "mlflow": "the ModelRegistry's MLflow server, run with --expose-prometheus",
}

# PromQL words that are not metric names (operators, modifiers, literals).
_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "inf", "nan"}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\[\]]*\]")
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_NUMBER = re.compile(r"(?<![A-Za-z0-9_:.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?:ms|[smhdwy])?")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (not functions, keywords or label names).

    A small scanner, not a full parser: it drops strings, label matchers, ranges and grouping
    label lists, then keeps identifiers that are not called like functions. promtool checks syntax.
    """
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _LABEL_LISTS.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        word = match.group()
        called = text[match.end() :].lstrip().startswith("(")
        if not called and word.lower() not in _KEYWORDS:
            names.add(word)
    return names
