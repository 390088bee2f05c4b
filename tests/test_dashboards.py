"""Dashboards: built with grafana-foundation-sdk, every query parses and names known metrics, shipped to the sidecar."""

from __future__ import annotations

import json
import re

import pytest

from components import versions
from components.observability.alert_rules import RuleSettings, all_groups
from components.observability.dashboards import DASHBOARDS, SIDECAR_LABEL, queries, rendered_dashboards, variable_metrics
from components.observability.metrics_catalog import METRICS, metric_names
from tests.conftest import run_components
from tests.test_alert_rules import run_promtool, write_rules
from tests.upstream import chart_values

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
RECORDED = {
    rule["record"]
    for group in all_groups(RuleSettings(request_errors="knative", first_token_histogram=True))
    for rule in group["rules"]
    if "record" in rule
}
# Grafana's template variables, replaced by what Grafana would send so promtool can parse the query.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m"}


def models(**signals) -> dict[str, dict]:
    return {key: json.loads(model) for key, model in rendered_dashboards(**signals).items()}


def as_promql(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return re.sub(r"\$\w+", ".*", expr)  # dashboard variables only appear inside =~ matchers


# Every shape the inference dashboard takes: defaults, Knative, and an LLM behind the Envoy gateway.
VARIANTS = [{}, {"request_errors": "knative"}, {"request_errors": "envoy-gateway", "predict_histogram": False, "vllm": True}]


def all_queries() -> list[tuple[str, str]]:
    return [(key, expr) for signals in VARIANTS for key, model in models(**signals).items() for expr in queries(model)]


def recording_rules(exprs: list[str]) -> list[dict]:
    return [{"name": "dashboards", "rules": [{"record": f"dashboard:query_{i}:expr", "expr": as_promql(e)} for i, e in enumerate(exprs)]}]


@pytest.mark.integration
def test_every_dashboard_query_parses(tmp_path):
    exprs = [expr for _, expr in all_queries()]
    assert len(exprs) >= 25
    result = run_promtool("check", "rules", str(write_rules(tmp_path / "dashboards.yaml", recording_rules(exprs))))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in result.stdout


@pytest.mark.integration
def test_the_parse_check_rejects_a_broken_query(tmp_path):
    rules = recording_rules(["sum by (Hostname) (rate(DCGM_FI_DEV_POWER_USAGE[$__rate_interval])"])
    assert run_promtool("check", "rules", str(write_rules(tmp_path / "dashboards.yaml", rules))).returncode != 0


def test_every_dashboard_query_names_a_metric_the_platform_emits():
    known = set(METRICS) | RECORDED
    unknown = {expr: metric_names(as_promql(expr)) - known for _, expr in all_queries()}
    assert {expr: names for expr, names in unknown.items() if names} == {}
    variables = [m for model in models().values() for m in variable_metrics(model)]
    assert variables and set(variables) <= known


def test_each_query_names_at_least_one_metric():
    assert all(metric_names(as_promql(expr)) for _, expr in all_queries())


def test_gpu_fleet_shows_utilization_memory_power_and_temperature_per_node_and_pod():
    exprs = queries(models()["gpu-fleet"])
    for metric in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_GPU_TEMP"):
        uses = [e for e in exprs if metric in e]
        assert any("by (Hostname" in e for e in uses), f"{metric} per node"
        assert any("by (exported_namespace, exported_pod)" in e for e in uses), f"{metric} per pod"


def test_inference_shows_requests_latency_percentiles_errors_and_replicas():
    exprs = " ".join(queries(models(request_errors="knative")["inference"]))
    assert "rate(request_predict_seconds_count" in exprs
    for quantile in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({quantile}, " in exprs
    assert 'response_code_class="5xx"' in exprs
    assert "kube_deployment_status_replicas_available" in exprs and "kube_deployment_spec_replicas" in exprs


def test_inference_panels_follow_what_the_stack_measures():
    bare = " ".join(queries(models(request_errors=None, predict_histogram=False)["inference"]))
    assert "request_predict_seconds" not in bare and "5xx" not in bare and "vllm:" not in bare
    assert "kube_deployment_spec_replicas" in bare
    llm = " ".join(queries(models(request_errors="envoy-gateway", predict_histogram=False, vllm=True)["inference"]))
    assert "vllm:num_requests_waiting" in llm and "envoy_cluster_upstream_rq_xx" in llm
    assert "request_predict_seconds" not in llm


def test_ray_dashboard_covers_nodes_hardware_and_work():
    names = set().union(*(metric_names(as_promql(e)) for e in queries(models()["ray"])))
    assert {"autoscaler_active_nodes", "autoscaler_pending_nodes", "ray_node_gpus_utilization", "ray_tasks"} <= names


def test_dashboards_read_the_chart_datasource_and_have_stable_uids():
    uids = set()
    for key, model in models().items():
        uids.add(model["uid"])
        panels = [p for p in model["panels"] if p["type"] != "row"]
        assert panels, key
        for panel in panels:
            assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, panel["title"]
            assert panel["targets"], panel["title"]
            assert all(t["datasource"]["uid"] == "prometheus" for t in panel["targets"])
    assert uids == {"ai-platform-gpu-fleet", "ai-platform-inference", "ai-platform-ray"}


def test_rendering_is_deterministic():
    assert rendered_dashboards() == rendered_dashboards()


def test_sidecar_label_is_the_chart_default():
    sidecar = chart_values("kube-prometheus-stack", versions.KUBE_PROMETHEUS_STACK.version)["grafana"]["sidecar"]["dashboards"]
    assert SIDECAR_LABEL == {sidecar["label"]: sidecar["labelValue"]}


def test_component_ships_each_dashboard_in_a_labelled_config_map():
    from components.observability.observability import Observability

    recording = run_components(lambda: Observability("observability", {"namespace": "telemetry"}))
    config_maps = recording.of_type(CONFIG_MAP)
    assert len(config_maps) == len(DASHBOARDS)
    namespace = recording.named("kubernetes:core/v1:Namespace", "telemetry")
    for config_map in config_maps:
        metadata = config_map.inputs["metadata"]
        assert metadata["namespace"] == "telemetry"
        assert metadata["labels"] == SIDECAR_LABEL
        assert namespace.urn in config_map.dependencies
        [(filename, model)] = config_map.inputs["data"].items()
        assert filename.endswith(".json")
        assert json.loads(model)["uid"].startswith("ai-platform-")
