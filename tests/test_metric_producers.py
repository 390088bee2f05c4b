"""Every metric a stack's alerts, recording rules, dashboards and autoscalers read is produced by
something that stack deploys, in the mode it deploys it.

The producer of each metric is ``metrics_catalog.PRODUCERS`` (names and sources from upstream);
which producers a stack runs is read here from the rendered objects themselves (releases, custom
resources and their modes), spelled out independently of the code that decides what to render.
"""

from __future__ import annotations

import json

import pytest

from components.observability.dashboards import queries, variable_metrics
from components.observability.metrics_catalog import PRODUCED_BY, PRODUCERS, metric_names
from offline.render import helm_releases, kubernetes_objects
from tests import kserve_scalers

STACKS = ["dev", "prod"]
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m"}
# KServe v0.20 ClusterServingRuntimes (kserve-runtime-configs) whose server records request_predict_seconds
# in kserve/model.py Model.__call__: the Python sklearn and xgboost servers.
PYTHON_PREDICT_RUNTIMES = {"kserve-sklearnserver", "kserve-xgbserver"}
VLLM_RUNTIME = "kserve-huggingfaceserver"
RESOURCE_METRICS = "metrics-server"  # what an HPA on cpu or memory reads (metrics.k8s.io)
EXTERNAL_METRICS = "keda"  # what runs a ScaledObject's triggers and serves them as external.metrics.k8s.io


def _objects(recording, kind: str) -> list[dict]:
    return [o for objects in kubernetes_objects(recording).values() for o in objects if o["kind"] == kind]


def _charts(recording) -> dict[str, dict]:
    return {r["chart"]: r for r in helm_releases(recording).values()}


def deployed_producers(recording) -> set[str]:
    """Producers (``PRODUCED_BY`` keys) this rendering runs, judged from its objects."""
    charts = _charts(recording)
    found: set[str] = set()
    if "kube-prometheus-stack" in charts:
        found.add("prometheus")
        if charts["kube-prometheus-stack"]["values"].get("kube-state-metrics", {}).get("enabled", True):
            found.add("kube-state-metrics")
    if "gpu-operator" in charts and charts["gpu-operator"]["values"].get("dcgmExporter", {}).get("enabled", True):
        found.add("dcgm-exporter")
    if "cluster-autoscaler" in charts and charts["cluster-autoscaler"]["values"]["extraArgs"].get("emit-per-nodegroup-metrics"):
        found.add("cluster-autoscaler")
    if "metrics-server" in charts:
        found.add(RESOURCE_METRICS)
    if "keda" in charts:
        found.add(EXTERNAL_METRICS)
    monitors = {m["metadata"]["name"] for m in _objects(recording, "PodMonitor")}
    if "gateway-helm" in charts and any(name.endswith("envoy-proxies") for name in monitors):
        found.add("envoy-proxy")
    for isvc in _objects(recording, "InferenceService"):
        runtime = isvc["spec"]["predictor"]["model"]["runtime"]
        if runtime in PYTHON_PREDICT_RUNTIMES:
            found.add("kserve-model-server")
        if runtime == VLLM_RUNTIME:
            found.add("vllm")
        if isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Knative":
            found.add("knative-queue-proxy")
    for ray in _objects(recording, "RayCluster"):
        found.add("ray")
        if ray["spec"].get("enableInTreeAutoscaling"):
            found.add("ray-autoscaler")
    for deployment in _objects(recording, "Deployment"):
        containers = deployment["spec"]["template"]["spec"]["containers"]
        if any("--expose-prometheus" in [*c.get("command", []), *c.get("args", [])] for c in containers):
            found.add("mlflow")
    return found


def _promql(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def consumers(recording) -> tuple[dict[str, set[str]], set[str]]:
    """(what reads metrics -> the metric names it reads, the series the stack's own recording rules produce)."""
    read: dict[str, set[str]] = {}
    recorded: set[str] = set()
    for rule in _objects(recording, "PrometheusRule"):
        for group in rule["spec"]["groups"]:
            for r in group["rules"]:
                what = f"{rule['metadata']['name']}/{r.get('alert') or r.get('record')}"
                read[what] = metric_names(r["expr"])
                if "record" in r:
                    recorded.add(r["record"])
    for config_map in _objects(recording, "ConfigMap"):
        if config_map["metadata"].get("labels", {}).get("grafana_dashboard") != "1":
            continue
        for key, text in config_map["data"].items():
            model = json.loads(text)
            for index, expr in enumerate(queries(model)):
                read[f"dashboard {key} query {index}"] = metric_names(_promql(expr))
            read[f"dashboard {key} variables"] = set(variable_metrics(model))
    for isvc in _objects(recording, "InferenceService"):
        if isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard":
            read |= scaler_reads(isvc)
    return read, recorded


def scaler_reads(isvc: dict) -> dict[str, set[str]]:
    """What each autoscaler KServe creates for a Standard-mode service reads (tests/kserve_scalers.py):
    an HPA its resource metric from metrics-server (cpu, KServe's default, or the predictor's
    scaleMetric); a ScaledObject, through KEDA, the metrics its Prometheus triggers' queries name."""
    read: dict[str, set[str]] = {}
    for deployment, (kind, predictor) in kserve_scalers.scalers(isvc).items():
        if kind == "hpa":
            metric = predictor.get("scaleMetric", "cpu")
            assert metric in ("cpu", "memory")
            read[f"HPA of {deployment} ({metric})"] = {f"resource:{metric}"}
        elif kind == "keda":
            triggers = kserve_scalers.scaled_object(isvc)["spec"]["triggers"]
            assert triggers, f"KEDA rejects a ScaledObject without triggers ({deployment})"
            for index, trigger in enumerate(triggers):
                assert trigger["type"] == "prometheus", trigger
                read[f"KEDA trigger {index} of {deployment}"] = {"external:keda", *metric_names(trigger["metadata"]["query"])}
        else:
            assert kind == "none", f"{deployment}: autoscaler class {kind!r}"
    return read


def producer_of(metric: str) -> str | None:
    if metric.startswith("resource:"):
        return RESOURCE_METRICS
    if metric.startswith("external:"):
        return EXTERNAL_METRICS
    return PRODUCERS.get(metric)


@pytest.mark.parametrize("stack", STACKS)
def test_every_metric_read_is_produced_by_something_the_stack_deploys(rendered, stack):
    recording = rendered(stack)
    deployed = deployed_producers(recording)
    read, recorded = consumers(recording)
    assert len(read) >= 20, "rules, dashboards and scalers were found (else this test checks nothing)"
    missing = {}
    for what, metrics in read.items():
        for metric in metrics - recorded:
            producer = producer_of(metric)
            if producer is None or producer not in deployed:
                missing.setdefault(what, set()).add(f"{metric} <- {producer or 'no known producer'}")
    assert missing == {}


@pytest.mark.parametrize("stack", STACKS)
def test_every_model_scales_on_a_signal_its_stack_produces(rendered, stack):
    read, _ = consumers(rendered(stack))
    scalers = {what: metrics for what, metrics in read.items() if what.startswith(("HPA of", "KEDA trigger"))}
    assert scalers, "each committed stack serves a Standard-mode model"
    deployed = deployed_producers(rendered(stack))
    assert {producer_of(m) for metrics in scalers.values() for m in metrics} <= deployed


@pytest.mark.parametrize(("stack", "signal"), [("dev", "request_predict_seconds_count"), ("prod", "vllm:num_requests_waiting")])
def test_committed_models_scale_on_their_model_servers_signal_through_keda(rendered, stack, signal):
    read, _ = consumers(rendered(stack))
    triggers = {what: metrics for what, metrics in read.items() if what.startswith("KEDA trigger")}
    assert triggers, f"{stack} serves a model that scales on a serving signal"
    assert all(signal in metrics or "vllm:num_requests_running" in metrics for metrics in triggers.values())
    assert any(signal in metrics for metrics in triggers.values())
    assert PRODUCERS[signal] in deployed_producers(rendered(stack))


def test_a_keda_trigger_without_keda_is_caught():
    isvc = {
        "metadata": {"name": "m", "namespace": "models", "annotations": {"serving.kserve.io/autoscalerClass": "keda"}},
        "spec": {
            "predictor": {
                "autoScaling": {
                    "metrics": [
                        {
                            "type": "External",
                            "external": {
                                "metric": {
                                    "backend": "prometheus",
                                    "serverAddress": "http://p:9090",
                                    "query": "sum(vllm:num_requests_waiting)",
                                },
                                "target": {"type": "Value", "value": "4"},
                            },
                        }
                    ]
                }
            }
        },
    }
    (metrics,) = scaler_reads(isvc).values()
    assert {producer_of(m) for m in metrics} == {EXTERNAL_METRICS, "vllm"}


def test_standard_mode_stacks_take_availability_from_the_gateway_or_not_at_all(rendered):
    dev_read, _ = consumers(rendered("dev"))
    prod_read, _ = consumers(rendered("prod"))
    everything = lambda read: set().union(*read.values())  # noqa: E731
    assert "revision_app_request_count" not in everything(dev_read) | everything(prod_read), "Knative-only metric in Standard mode"
    assert "envoy_cluster_upstream_rq_xx" in everything(prod_read), "prod serves through Envoy Gateway: its 5xx feed the SLO"
    assert not any("ErrorBudget" in what for what in dev_read), "dev has no gateway: nothing counts 5xx"
    assert any("LatencyBudget" in what for what in dev_read), "dev's sklearn model records request_predict_seconds"


def test_an_llm_stack_holds_its_models_to_a_first_token_objective(rendered):
    prod_read, _ = consumers(rendered("prod"))
    dev_read, _ = consumers(rendered("dev"))
    first_token = {what for what, metrics in prod_read.items() if "vllm:time_to_first_token_seconds_bucket" in metrics}
    assert any(what.endswith("/InferenceFirstTokenBudgetFastBurn") for what in prod_read), "prod serves a huggingface (vLLM) model"
    assert len(first_token) >= 7, "one first-token SLI per burn-rate window"
    assert not any("FirstToken" in what for what in dev_read), "dev serves no LLM"


def test_the_check_catches_a_metric_whose_producer_is_not_deployed(rendered):
    recording = rendered("dev")
    deployed = deployed_producers(recording)
    assert "envoy-proxy" not in deployed and "vllm" not in deployed and "cluster-autoscaler" not in deployed
    assert {"prometheus", "kube-state-metrics", "dcgm-exporter", RESOURCE_METRICS, "kserve-model-server", "ray"} <= deployed


def test_every_producer_is_described():
    assert set(PRODUCERS.values()) <= set(PRODUCED_BY)
