"""Alert rules: promtool checks every group the component renders and runs the unit tests in tests/promtool.

promtool comes from Debian's ``prometheus`` package. Without it these tests fail when CI=true and
skip elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.observability.alert_rules import RuleSettings, alert_names, all_groups, prometheus_rules
from components.observability.metrics_catalog import METRICS, metric_names
from tests.conftest import run_components

PROMTOOL_TESTS = Path(__file__).parent / "promtool"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
# what tests/promtool/*.yaml assume
UNIT_TEST_SETTINGS = RuleSettings(gpu_pools=("gpu-a10g",), request_errors="knative", first_token_histogram=True)
FULL = RuleSettings(request_errors="knative", first_token_histogram=True)  # every alert: 5xx counted, a vLLM model serves


class GpuPoolStub:
    """What Observability reads from a GpuNodePool (the NodePool contract): its name."""

    def __init__(self, name: str):
        self.name = name


def promtool() -> str:
    path = shutil.which("promtool")
    if path:
        return path
    message = "promtool not found: install Debian's `prometheus` package (it ships /usr/bin/promtool)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def run_promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def write_rules(path: Path, groups: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return path


def component_rule_groups(args: dict | None = None) -> list[dict]:
    """The ``spec.groups`` of every PrometheusRule the Observability component registers."""
    from components.observability.observability import Observability

    recording = run_components(lambda: Observability("observability", args or {}))
    rules = recording.of_type(PROMETHEUS_RULE)
    assert rules, "the component rendered no PrometheusRule"
    return [group for rule in rules for group in rule.inputs["spec"]["groups"]]


def unit_tests() -> list[dict]:
    """Every ``alert_rule_test`` case of tests/promtool/*.yaml."""
    cases = []
    for path in sorted(PROMTOOL_TESTS.glob("*.yaml")):
        for test in yaml.safe_load(path.read_text())["tests"]:
            cases += test.get("alert_rule_test", [])
    return cases


def known_metrics(groups: list[dict]) -> set[str]:
    return set(METRICS) | {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


# --- promtool -----------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize(
    "args",
    [
        {},
        {
            "gpu_pools": [GpuPoolStub("gpu-a10g"), GpuPoolStub("gpu-h100")],
            "inference_latency_seconds": 0.5,
            "runbook_base_url": "https://runbooks.example.com/ai",
        },
    ],
    ids=["defaults", "configured"],
)
def test_promtool_checks_every_rule_group_the_component_renders(tmp_path, args):
    groups = component_rule_groups(args)
    assert sorted(g["name"] for g in groups) == sorted(g["name"] for g in all_groups())
    result = run_promtool("check", "rules", str(write_rules(tmp_path / "rules.yaml", groups)))
    rules = sum(len(g["rules"]) for g in groups)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {rules} rules found" in result.stdout


@pytest.mark.integration
def test_promtool_check_rejects_a_broken_expression(tmp_path):
    broken = [{"name": "broken", "rules": [{"alert": "Broken", "expr": "sum by (gpu (DCGM_FI_DEV_GPU_UTIL)"}]}]
    result = run_promtool("check", "rules", str(write_rules(tmp_path / "rules.yaml", broken)))
    assert result.returncode != 0


@pytest.mark.integration
def test_rule_unit_tests_pass(tmp_path):
    # The unit tests pin expressions, durations and labels; annotations are free text checked above
    # (template syntax, by promtool) and below (present on every alert).
    groups = [
        {**g, "rules": [{k: v for k, v in r.items() if k != "annotations"} for r in g["rules"]]} for g in all_groups(UNIT_TEST_SETTINGS)
    ]
    write_rules(tmp_path / "rules.yaml", groups)
    files = sorted(PROMTOOL_TESTS.glob("*.yaml"))
    for path in files:
        shutil.copy(path, tmp_path / path.name)
    result = run_promtool("test", "rules", *(p.name for p in files), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files)


def test_every_alert_fires_in_one_unit_test_and_stays_quiet_in_another():
    cases = unit_tests()
    firing = {c["alertname"] for c in cases if c.get("exp_alerts")}
    quiet = {c["alertname"] for c in cases if not c.get("exp_alerts")}
    alerts = set(alert_names(FULL))
    assert alerts - firing == set(), "alerts without a firing case"
    assert alerts - quiet == set(), "alerts without a quiet case"
    assert (firing | quiet) - alerts == set(), "unit tests for alerts that do not exist"
    assert len(cases) >= 2 * len(alerts)


# --- the rules as data -------------------------------------------------------------------


# The alerts the platform promises (spelled out here, not read from the code under test).
ALERTS = {
    "GpuXidError",
    "GpuXidHardwareError",
    "GpuUncorrectableEccErrors",
    "GpuTemperatureHigh",
    "GpuMemoryNearlyFull",
    "GpuAllocatedButIdle",
    "InferenceErrorBudgetFastBurn",
    "InferenceErrorBudgetSlowBurn",
    "InferenceLatencyBudgetFastBurn",
    "InferenceLatencyBudgetSlowBurn",
    "InferenceFirstTokenBudgetFastBurn",
    "InferenceFirstTokenBudgetSlowBurn",
    "InferenceServiceNoReadyReplicas",
    "RayHeadDown",
    "RayAutoscalerCannotAddWorkers",
    "MLflowDown",
    "MLflowServerErrors",
    "ObjectStoreDown",
    "GpuNodePoolAtMaximum",
}
# NVIDIA's XIDs that mean a hardware fault (drain the node), from the XID catalog.
HARDWARE_XIDS = [48, 63, 64, 74, 79, 92, 94, 95, 119, 120]


def test_every_alert_has_severity_summary_description_and_runbook():
    alerts = [rule for group in all_groups(FULL) for rule in group["rules"] if "alert" in rule]
    assert {rule["alert"] for rule in alerts} == ALERTS
    for rule in alerts:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], rule["alert"]
        assert annotations["runbook_url"].startswith("https://"), rule["alert"]


def test_runbook_base_url_links_each_alert_to_its_section():
    groups = all_groups(RuleSettings(runbook_base_url="https://runbooks.example.com/ai/"))
    links = {r["alert"]: r["annotations"]["runbook_url"] for g in groups for r in g["rules"] if "alert" in r}
    assert links["GpuXidHardwareError"] == "https://runbooks.example.com/ai#gpuxidhardwareerror"
    assert len(set(links.values())) == len(links)


def test_alert_names_are_unique_and_rules_are_split_by_domain():
    names = alert_names(FULL)
    assert len(names) == len(set(names)) == len(ALERTS)
    assert set(prometheus_rules()) == {"gpu", "inference", "ray", "platform"}


def test_rules_name_only_metrics_the_exporters_emit():
    groups = all_groups(RuleSettings(gpu_pools=("gpu-a10g",)))
    known = known_metrics(groups)
    unknown = {rule.get("alert") or rule["record"]: metric_names(rule["expr"]) - known for g in groups for rule in g["rules"]}
    assert {name: metrics for name, metrics in unknown.items() if metrics} == {}


def test_the_catalog_check_catches_an_invented_metric():
    groups = [*all_groups(), {"name": "x", "rules": [{"alert": "Made", "expr": "DCGM_FI_DEV_GPU_UTILIZATION > 90"}]}]
    rule = groups[-1]["rules"][0]
    assert metric_names(rule["expr"]) - known_metrics(groups) == {"DCGM_FI_DEV_GPU_UTILIZATION"}


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (namespace, le) (rate(request_predict_seconds_bucket{le="1.0"}[5m]))', {"request_predict_seconds_bucket"}),
        (
            "inference:slow_requests:ratio_rate30m > (14.4 * 0.01) and on (a) group_left (b) up offset 5m",
            {"inference:slow_requests:ratio_rate30m", "up"},
        ),
        ('histogram_quantile(0.99, x_bucket{job="a"}) or vector(0) unless count_values("v", y) > bool 1e6', {"x_bucket", "y"}),
        ("max_over_time(DCGM_FI_DEV_XID_ERRORS[5m:1m]) == 79", {"DCGM_FI_DEV_XID_ERRORS"}),
    ],
)
def test_metric_name_scanner(expr, names):
    assert metric_names(expr) == names


def test_every_catalogued_metric_has_a_source():
    assert all(source.strip() for source in METRICS.values())


# --- what the expressions say --------------------------------------------------------------


def _expr(alert: str, settings: RuleSettings | None = None) -> str:
    return next(r["expr"] for g in all_groups(settings) for r in g["rules"] if r.get("alert") == alert)


def test_hardware_xid_alert_lists_each_code():
    expr = _expr("GpuXidHardwareError")
    assert [int(x) for x in expr.replace("DCGM_FI_DEV_XID_ERRORS == ", "").split(" or ")] == HARDWARE_XIDS


def test_gpu_pool_alert_watches_only_the_given_pools():
    assert 'node_group=~"eks-(gpu-a10g|gpu-h100)-.+"' in _expr("GpuNodePoolAtMaximum", RuleSettings(gpu_pools=("gpu-a10g", "gpu-h100")))
    assert 'node_group=~".+"' in _expr("GpuNodePoolAtMaximum")


def test_latency_objective_reads_the_histogram_bucket_of_its_bound():
    groups = all_groups(RuleSettings(inference_latency_seconds=0.25))
    exprs = [r["expr"] for g in groups for r in g["rules"] if r.get("record", "").startswith("inference:slow_requests")]
    assert len(exprs) == 7 and all('le="0.25"' in e for e in exprs)


def test_first_token_objective_reads_vllms_histogram_at_its_bound():
    groups = all_groups(RuleSettings(first_token_histogram=True, first_token_seconds=5.0))
    exprs = [r["expr"] for g in groups for r in g["rules"] if r.get("record", "").startswith("inference:slow_first_tokens")]
    assert len(exprs) == 7
    assert all('vllm:time_to_first_token_seconds_bucket{le="5.0"}' in e and "vllm:time_to_first_token_seconds_count" in e for e in exprs)


def test_first_token_slo_exists_only_where_a_vllm_engine_serves():
    first_token = {"InferenceFirstTokenBudgetFastBurn", "InferenceFirstTokenBudgetSlowBurn"}
    assert first_token <= set(alert_names(RuleSettings(first_token_histogram=True, predict_histogram=False)))
    assert not first_token & set(alert_names(RuleSettings(first_token_histogram=False)))


def test_availability_slo_exists_only_where_something_counts_5xx():
    inference = {"InferenceErrorBudgetFastBurn", "InferenceErrorBudgetSlowBurn"}
    assert inference <= set(alert_names(RuleSettings(request_errors="envoy-gateway")))
    assert not inference & set(alert_names(RuleSettings(request_errors=None)))
    latency = {"InferenceLatencyBudgetFastBurn", "InferenceLatencyBudgetSlowBurn"}
    assert not latency & set(alert_names(RuleSettings(predict_histogram=False)))
    assert "InferenceServiceNoReadyReplicas" in alert_names(RuleSettings(request_errors=None, predict_histogram=False))
    assert "GpuNodePoolAtMaximum" not in alert_names(RuleSettings(node_group_metrics=False))


def test_envoy_error_ratio_labels_each_inference_service_from_its_route_cluster():
    import re

    groups = all_groups(RuleSettings(request_errors="envoy-gateway"))
    (expr,) = [r["expr"] for g in groups for r in g["rules"] if r.get("record") == "inference:request_errors:ratio_rate5m"]
    assert 'envoy_response_code_class="5"' in expr and "envoy_cluster_upstream_rq_total" in expr
    namespace_re, isvc_re = re.findall(r'"envoy_cluster_name", "([^"]+)"', expr)[:2]
    # Envoy Gateway's cluster name for KServe's predictor route (label_replace anchors its regex).
    cluster = "httproute/models/chat-llm-predictor/rule/0"

    def group(pattern: str, text: str) -> str | None:
        match = re.fullmatch(pattern, text)
        return match.group(1) if match else None

    assert group(namespace_re, cluster) == "models"
    assert group(isvc_re, cluster) == "chat-llm"
    assert group(isvc_re, "httproute/models/chat-llm/rule/1") == "chat-llm"


def test_burn_rate_thresholds_follow_the_objective():
    fast = _expr("InferenceErrorBudgetFastBurn", RuleSettings(inference_availability_target=0.999, request_errors="knative"))
    assert "inference:request_errors:ratio_rate1h > (14.4 * 0.001)" in fast
    assert "inference:request_errors:ratio_rate30m > (6.0 * 0.001)" in fast


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"inference_latency_seconds": 0.3}, "inference_latency_seconds must be a bucket"),
        ({"first_token_seconds": 3.0}, "first_token_seconds must be a bucket of vLLM's first-token histogram"),
        ({"inference_availability_target": 1.0}, "inference_availability_target must be between 0 and 1"),
        ({"inference_latency_target": 0}, "inference_latency_target must be between 0 and 1"),
        ({"gpu_pools": ("GPU_Pool",)}, "gpu_pools: 'GPU_Pool' is not a node pool name"),
    ],
)
def test_settings_reject_what_cannot_be_measured(settings, message):
    with pytest.raises(ValueError, match=message):
        RuleSettings(**settings)


# --- a real exporter ---------------------------------------------------------------------

MLFLOW_SCRIPT = """
from mlflow.server import app
client = app.test_client()
client.get("/api/2.0/mlflow/experiments/get?experiment_id=404404")
print(client.get("/metrics").get_data(as_text=True))
"""


@pytest.mark.integration
def test_mlflow_exports_the_request_counter_the_rules_read(tmp_path):
    """The MLflow server as ModelRegistry runs it (``--expose-prometheus``) counts requests by status."""
    pytest.importorskip("mlflow")
    pytest.importorskip("prometheus_flask_exporter")
    from prometheus_client.parser import text_string_to_metric_families

    store = f"sqlite:///{tmp_path}/mlflow.db"
    env = {
        **os.environ,
        "prometheus_multiproc_dir": str(tmp_path / "metrics"),  # what `mlflow server --expose-prometheus DIR` sets
        "_MLFLOW_SERVER_FILE_STORE": store,
        "_MLFLOW_SERVER_REGISTRY_STORE": store,
        "_MLFLOW_SERVER_ARTIFACT_ROOT": str(tmp_path / "artifacts"),
    }
    result = subprocess.run([sys.executable, "-c", MLFLOW_SCRIPT], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    samples = [s for family in text_string_to_metric_families(result.stdout) for s in family.samples]
    requests = [s for s in samples if s.name == "mlflow_http_request_total"]
    assert requests and all(set(s.labels) == {"method", "status"} and s.labels["status"].isdigit() for s in requests)
    assert "mlflow_http_request_total" in METRICS


def test_every_alert_states_how_long_its_condition_must_hold():
    # an alert without ``for`` fires on a single evaluation; the ones meant to fire at once say "0m"
    for group in all_groups(UNIT_TEST_SETTINGS):
        for rule in group["rules"]:
            if "alert" in rule:
                assert re.fullmatch(r"[0-9]+[smh]", str(rule.get("for"))), (rule["alert"], rule.get("for"))
