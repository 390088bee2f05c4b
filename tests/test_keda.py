"""Keda and the serving-signal scaler: the install, its isolation, what KServe makes of a model that
scales on a serving signal (checked against KEDA's CRD), and each trigger followed to the Prometheus
that answers it and the model server that produces its metric."""

from __future__ import annotations

import re

import pytest

from components import versions
from components.core.problems import InputError
from offline.render import helm_releases, kubernetes_objects
from stacks.config import parse_stack_config
from tests import kserve_scalers
from tests.conftest import run_components
from tests.schemas import validate_object
from tests.test_inference_service import PROMETHEUS_URL, FakeKeda, FakePrometheus, Pool
from tests.upstream import chart_values

STACKS = ["dev", "prod"]
RELEASE = "kubernetes:helm.sh/v3:Release"
ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
ANYWHERE = [{"ipBlock": {"cidr": "0.0.0.0/0"}}]
_SERVER = re.compile(r"^http://(?P<service>[a-z0-9-]+)\.(?P<namespace>[a-z0-9-]+)\.svc\.cluster\.local:(?P<port>\d+)$")


def _objects(recording, kind: str) -> list[dict]:
    return [o for objects in kubernetes_objects(recording).values() for o in objects if o["kind"] == kind]


def _release(recording, chart: str) -> dict:
    (release,) = [r for r in helm_releases(recording).values() if r["chart"] == chart]
    return release


def _policy(recording, namespace: str) -> dict:
    (spec,) = [
        o["spec"]
        for o in _objects(recording, "NetworkPolicy")
        if o["metadata"]["namespace"] == namespace and o["metadata"]["name"] == "allow-workload"
    ]
    return spec


def _keda_services(recording) -> list[dict]:
    return [i for i in _objects(recording, "InferenceService") if kserve_scalers.autoscaler_class(i, i["spec"]["predictor"]) == "keda"]


# --- the install ------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_stacks_with_a_serving_signal_model_install_keda(rendered, stack):
    recording = rendered(stack)
    assert _keda_services(recording), f"{stack} has a model that scales on a serving signal"
    release = _release(recording, "keda")
    assert (release["version"], release["repo"], release["namespace"]) == ("2.20.2", "https://kedacore.github.io/charts", "keda")
    (namespace,) = [n for n in _objects(recording, "Namespace") if n["metadata"]["name"] == "keda"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_a_stack_without_serving_signals_has_no_keda():
    raw = {
        "cluster": {"provider": "existing", "name": "kind"},
        "inferenceServices": [{"name": "iris", "modelFormat": "sklearn", "modelPath": "iris/v1", "scaleMetric": "cpu"}],
    }
    assert not parse_stack_config(raw, stack="dev", region=None).keda_enabled
    llm = {**raw["inferenceServices"][0], "name": "chat", "modelFormat": "huggingface", "scaleMetric": None}
    assert parse_stack_config({**raw, "inferenceServices": [llm]}, stack="dev", region=None).keda_enabled, "an LLM defaults to it"


@pytest.mark.parametrize("stack", STACKS)
def test_api_server_reaches_keda_and_keda_reaches_prometheus_and_nothing_else(rendered, expanded, stack):
    recording = rendered(stack)
    keda = _policy(recording, "keda")
    assert keda["ingress"] == [{"from": ANYWHERE, "ports": [{"protocol": "TCP", "port": 6443}, {"protocol": "TCP", "port": 9443}]}]
    monitoring = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    assert {"to": monitoring, "ports": [{"protocol": "TCP", "port": 9090}]} in keda["egress"]
    keda_peer = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}}]
    assert {"from": keda_peer, "ports": [{"protocol": "TCP", "port": 9090}]} in _policy(recording, "monitoring")["ingress"]
    # The ports are the chart's: the APIService's Service targets the metrics API server's 6443, the
    # webhooks listen on 9443.
    objects = expanded(stack)["keda"].objects
    (api,) = [o for o in objects if o["kind"] == "APIService"]
    assert api["metadata"]["name"] == "v1beta1.external.metrics.k8s.io"
    (service,) = [o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == api["spec"]["service"]["name"]]
    assert {p["targetPort"] for p in service["spec"]["ports"] if p["port"] == 443} == {6443}
    webhook_ports = {
        p["containerPort"]
        for o in objects
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "keda-admission-webhooks"
        for c in o["spec"]["template"]["spec"]["containers"]
        for p in c.get("ports", [])
    }
    assert 9443 in webhook_ports


def test_chart_values_are_keys_of_the_pinned_chart():
    from components.serving.keda import KedaArgs
    from components.serving.keda import chart_values as keda_values

    upstream = chart_values(versions.KEDA.name, versions.KEDA.version)
    values = keda_values(KedaArgs(replicas=2))
    assert set(values) <= set(upstream), set(values) - set(upstream)
    for key in ("securityContext", "podSecurityContext", "resources", "podDisruptionBudget"):
        assert set(values[key]) <= set(upstream[key]), key


def test_prod_runs_two_of_each_on_the_system_nodes_with_disruption_budgets(rendered):
    values = _release(rendered("prod"), "keda")["values"]
    assert values["nodeSelector"] == {"kubernetes.io/os": "linux", "ai-platform.io/node-role": "system"}
    assert [values[pod]["replicaCount"] for pod in ("operator", "metricsServer", "webhooks")] == [2, 2, 2]
    assert values["podDisruptionBudget"] == {pod: {"minAvailable": 1} for pod in ("operator", "metricServer", "webhooks")}
    assert "podDisruptionBudget" not in _release(rendered("dev"), "keda")["values"]


def test_kserve_starts_after_keda_and_the_model_waits_for_it(rendered):
    recording = rendered("prod")
    (keda,) = [r for r in recording.of_type(RELEASE) if r.name == "keda"]
    (controller,) = [r for r in recording.of_type(RELEASE) if r.name == "kserve-resources"]
    # KServe watches the ScaledObjects it owns only if their CRD exists when it starts.
    assert keda.urn in controller.dependencies
    (isvc,) = recording.of_type(ISVC)
    assert keda.urn in isvc.dependencies


# --- what KServe makes of a serving-signal model --------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_scaled_object_kserve_creates_is_valid_for_keda(rendered, stack):
    services = _keda_services(rendered(stack))
    assert services
    for isvc in services:
        scaled = kserve_scalers.scaled_object(isvc)
        assert validate_object(scaled, "1.35") == []
        spec = scaled["spec"]
        assert spec["triggers"], "KEDA's webhook rejects a ScaledObject without triggers"
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        assert {t["type"] for t in spec["triggers"]} == {"prometheus"}
        assert all(float(t["metadata"]["threshold"]) > 0 for t in spec["triggers"])


def test_the_scaled_object_schema_is_enforced():
    broken = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "m-predictor"},
        "spec": {"scaleTargetRef": {}, "triggers": [{"metadata": {"query": "up"}}]},
    }
    errors = validate_object(broken, "1.35")
    assert any("name" in e for e in errors) and any("type" in e for e in errors), errors


@pytest.mark.parametrize("stack", STACKS)
def test_no_canary_gets_a_scaler_keda_would_reject(rendered, stack):
    for isvc in _keda_services(rendered(stack)):
        for deployment, (kind, predictor) in kserve_scalers.scalers(isvc).items():
            if predictor is not isvc["spec"]["predictor"]:
                assert kind == "none", f"{deployment} would get a ScaledObject without triggers"
    assert stack != "prod" or any(i["spec"].get("canary") for i in _keda_services(rendered(stack))), "prod's LLM has a canary"


# --- each trigger, followed to its Prometheus and its producer -------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_each_trigger_queries_the_stacks_prometheus_service(rendered, expanded, stack):
    services = {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o for o in expanded(stack)["observability"].objects if o["kind"] == "Service"
    }
    triggers = [t for isvc in _keda_services(rendered(stack)) for t in kserve_scalers.scaled_object(isvc)["spec"]["triggers"]]
    assert triggers
    for trigger in triggers:
        address = _SERVER.match(trigger["metadata"]["serverAddress"])
        assert address, trigger["metadata"]["serverAddress"]
        service = services[(address["namespace"], address["service"])]
        assert service["spec"]["selector"]["app.kubernetes.io/name"] == "prometheus"
        assert int(address["port"]) in [p["port"] for p in service["spec"]["ports"]]


@pytest.mark.parametrize("stack", STACKS)
def test_each_trigger_selects_its_predictor_by_labels_the_model_server_scrape_sets(rendered, stack):
    recording = rendered(stack)
    (monitor,) = [m for m in _objects(recording, "PodMonitor") if m["metadata"]["name"].endswith("kserve-predictors")]
    scraped = {r["targetLabel"] for e in monitor["spec"]["podMetricsEndpoints"] for r in e["relabelings"]} | {"namespace", "pod"}
    for isvc in _keda_services(recording):
        deployment = kserve_scalers.predictor_deployment(isvc)
        for trigger in kserve_scalers.scaled_object(isvc)["spec"]["triggers"]:
            matchers = dict(re.findall(r'(\w+)="([^"]*)"', trigger["metadata"]["query"]))
            assert set(matchers) <= scraped, matchers
            assert matchers == {"namespace": isvc["metadata"]["namespace"], "deployment": deployment}


# --- the component ----------------------------------------------------------------------------


def _llm(spec=None, **inputs):
    from components.serving.inference_service import InferenceService
    from components.serving.kserve import KServe

    def build():
        kserve = KServe("kserve", {"gateway": "gw/ai"})
        args = {"kserve": kserve, "model_format": "huggingface", "storage_uri": "hf://Qwen/Qwen3-0.6B", "gpus": 1, "gpu_pool": Pool("llm")}
        InferenceService("chat", {**args, **inputs, **(spec or {})})

    return run_components(build).named(ISVC, "chat")


def test_an_llm_scales_on_requests_in_flight_by_default():
    isvc = _llm({"max_replicas": 4}, prometheus=FakePrometheus(), keda=FakeKeda())
    metadata, predictor = isvc.inputs["metadata"], isvc.inputs["spec"]["predictor"]
    assert metadata["annotations"]["serving.kserve.io/autoscalerClass"] == "keda"
    assert "scaleMetric" not in predictor and "scaleTarget" not in predictor, "KServe's webhook rejects scaleMetric under keda"
    (trigger,) = kserve_scalers.scaled_object(isvc.inputs)["spec"]["triggers"]
    assert trigger["metadata"]["serverAddress"] == PROMETHEUS_URL
    assert trigger["metadata"]["threshold"] == "16"
    query = trigger["metadata"]["query"]
    assert "vllm:num_requests_running" in query and "vllm:num_requests_waiting" in query
    assert 'deployment="chat-predictor"' in query and 'namespace="models"' in query


def test_an_explicit_cpu_metric_keeps_the_hpa():
    isvc = _llm({"scale_metric": "cpu", "scale_target": 70})
    assert "serving.kserve.io/autoscalerClass" not in isvc.inputs["metadata"]["annotations"]
    assert isvc.inputs["spec"]["predictor"]["scaleMetric"] == "cpu"


def test_a_serving_signal_without_prometheus_or_keda_names_the_key():
    with pytest.raises(InputError) as error:
        _llm()
    (problem,) = error.value.problems
    assert problem.path == ("scale_metric",)
    assert "needs Prometheus to scrape the model server and KEDA to query it" in problem.message


def test_a_stack_file_that_scales_an_llm_without_observability_is_rejected():
    from stacks.errors import ConfigError

    raw = {
        "cluster": {"provider": "existing", "name": "kind"},
        "observability": {"enabled": False},
        "inferenceServices": [{"name": "chat", "modelFormat": "huggingface", "storageUri": "hf://Qwen/Qwen3-0.6B"}],
    }
    with pytest.raises(ConfigError) as error:
        parse_stack_config(raw, stack="dev", region=None)
    message = str(error.value)
    assert "inferenceServices[0].scaleMetric" in message and "needs Prometheus" in message


# --- the queries, run by promtool --------------------------------------------------------------


def _query(recording) -> str:
    (isvc,) = _keda_services(recording)
    (trigger,) = kserve_scalers.scaled_object(isvc)["spec"]["triggers"]
    return trigger["metadata"]["query"]


def _series(metric: str, deployment: str, pod: str, values: str) -> dict:
    return {"series": f'{metric}{{namespace="models",deployment="{deployment}",pod="{pod}"}}', "values": values}


@pytest.mark.integration
def test_promtool_evaluates_each_stacks_trigger_query_over_the_stable_predictors_pods(rendered, tmp_path):
    import yaml

    from tests.test_alert_rules import run_promtool

    # prod: two stable replicas (3+1 running, 2+0 waiting) and the canary's pod, which must not count.
    llm = [
        _series("vllm:num_requests_running", "chat-llm-predictor", "a", "3x10"),
        _series("vllm:num_requests_running", "chat-llm-predictor", "b", "1x10"),
        _series("vllm:num_requests_waiting", "chat-llm-predictor", "a", "2x10"),
        _series("vllm:num_requests_waiting", "chat-llm-predictor", "b", "0x10"),
        _series("vllm:num_requests_running", "chat-llm-v2-predictor", "c", "50x10"),
        _series("vllm:num_requests_waiting", "chat-llm-v2-predictor", "c", "50x10"),
    ]
    # dev: two replicas answering one prediction a second each (a counter growing 60 a minute).
    sklearn = [_series("request_predict_seconds_count", "iris-predictor", pod, "0+60x10") for pod in ("a", "b")]
    tests = [
        {
            "interval": "1m",
            "input_series": series,
            "promql_expr_test": [{"expr": query, "eval_time": "5m", "exp_samples": [{"labels": "{}", "value": value}]}],
        }
        for series, query, value in ((llm, _query(rendered("prod")), 6), (sklearn, _query(rendered("dev")), 2))
    ]
    (tmp_path / "rules.yaml").write_text("groups: []\n")
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": tests}, sort_keys=False))
    result = run_promtool("test", "rules", "queries.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.integration
def test_promtool_fails_a_query_that_counts_the_canary(rendered, tmp_path):
    import yaml

    from tests.test_alert_rules import run_promtool

    query = _query(rendered("prod")).replace('deployment="chat-llm-predictor"', 'deployment=~"chat-llm.*"')
    series = [_series("vllm:num_requests_running", d, p, "5x10") for d, p in (("chat-llm-predictor", "a"), ("chat-llm-v2-predictor", "c"))]
    series += [_series("vllm:num_requests_waiting", d, p, "0x10") for d, p in (("chat-llm-predictor", "a"), ("chat-llm-v2-predictor", "c"))]
    test = {
        "interval": "1m",
        "input_series": series,
        "promql_expr_test": [{"expr": query, "eval_time": "5m", "exp_samples": [{"labels": "{}", "value": 5}]}],
    }
    (tmp_path / "rules.yaml").write_text("groups: []\n")
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": [test]}, sort_keys=False))
    assert run_promtool("test", "rules", "queries.yaml", cwd=tmp_path).returncode != 0
