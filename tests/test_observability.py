"""Observability: pinned chart, values, generated Grafana credentials, CRs ordered after the CRDs, nothing exposed."""

from __future__ import annotations

import json
import re

import pulumi
import pytest

from components import versions
from offline.mockruntime import Recording, run_program
from tests.conftest import run_components
from tests.schemas import validate_object
from tests.test_alert_rules import GpuPoolStub
from tests.test_manifests import TEMPLATE_ONLY, _unknown_keys
from tests.upstream import chart_values

RELEASE = "kubernetes:helm.sh/v3:Release"
MONITORING = "kubernetes:monitoring.coreos.com/v1:"


def _observability(args=None, depends_on=None, exports=False):
    from components.observability.observability import Observability

    made = []

    def build():
        obs = Observability("observability", args or {}, pulumi.ResourceOptions(depends_on=depends_on))
        made.append(obs)
        if exports:
            for key in ("namespace", "prometheus_url", "alertmanager_url", "grafana_url", "grafana_admin_secret", "grafana_admin_password"):
                pulumi.export(key, getattr(obs, key))

    recording = run_components(build)
    (release,) = recording.of_type(RELEASE)
    return recording, release, made[0]


def _values(release) -> dict:
    return release.inputs["values"]


def _custom_resources(recording):
    return [r for r in recording.registrations if r.type.startswith(MONITORING)]


def test_chart_is_the_pinned_release():
    _, release, _ = _observability()
    assert (release.inputs["chart"], release.inputs["version"]) == ("kube-prometheus-stack", "88.5.3")
    assert release.inputs["repositoryOpts"]["repo"] == versions.KUBE_PROMETHEUS_STACK.repo
    assert release.inputs["namespace"] == "monitoring"


def test_retention_and_storage_are_inputs():
    _, release, _ = _observability({"prometheus_retention": "30d", "prometheus_storage_size": "200Gi", "storage_class": "gp3"})
    spec = _values(release)["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "30d"
    assert spec["retentionSize"] == "170GB"
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "200Gi"}}, "storageClassName": "gp3"}


def test_prometheus_selects_monitors_and_rules_from_every_namespace():
    _, release, _ = _observability()
    spec = _values(release)["prometheus"]["prometheusSpec"]
    for kind in ("serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig"):
        assert spec[f"{kind}SelectorNilUsesHelmValues"] is False, kind


def test_grafana_password_is_generated_and_only_referenced():
    recording, release, obs = _observability(exports=True)
    (password,) = recording.of_type("random:index/randomPassword:RandomPassword")
    assert password.inputs["length"] >= 32
    (secret,) = recording.of_type("kubernetes:core/v1:Secret")
    assert secret.inputs["stringData"] == "[secret]" or secret.inputs["stringData"]["admin-password"] == "[secret]"
    assert password.urn in secret.dependencies
    admin = _values(release)["grafana"]["admin"]
    assert admin == {"existingSecret": secret.inputs["metadata"]["name"], "userKey": "admin-user", "passwordKey": "admin-password"}
    assert secret.urn in release.dependencies
    assert recording.outputs["grafana_admin_password"] == "[secret]"


def test_no_default_or_plaintext_password_anywhere():
    recording, release, _ = _observability(exports=True)
    everything = json.dumps([r.inputs for r in recording.registrations]) + json.dumps(recording.outputs)
    assert "prom-operator" not in everything
    assert "mock-" not in everything, "the generated password leaked unmasked"
    assert "adminPassword" not in json.dumps(_values(release))


def test_every_custom_resource_waits_for_the_release_that_installs_its_crd():
    recording, release, obs = _observability()
    custom = _custom_resources(recording)
    assert {r.type.rsplit(":", 1)[1] for r in custom} == {"PodMonitor", "PrometheusRule"}
    for resource in custom:
        assert release.urn in resource.dependencies, resource.name
    assert obs.crds_ready == [obs.release]


def test_other_components_order_their_monitors_after_crds_ready():
    from components.observability.observability import Observability

    def build():
        obs = Observability("observability")
        pulumi.CustomResource("test:index:Monitor", "their-monitor", opts=pulumi.ResourceOptions(depends_on=obs.crds_ready))

    recording = run_components(build)
    (release,) = recording.of_type(RELEASE)
    assert release.urn in recording.named("test:index:Monitor", "their-monitor").dependencies


def test_release_waits_for_what_the_component_depends_on():
    def build():
        from components.observability.observability import Observability

        marker = pulumi.CustomResource("test:index:Marker", "cluster-ready")
        Observability("observability", {}, pulumi.ResourceOptions(depends_on=[marker]))

    recording = run_components(build)
    (release,) = recording.of_type(RELEASE)
    assert recording.named("test:index:Marker", "cluster-ready").urn in release.dependencies


def test_nothing_is_exposed_outside_the_cluster():
    _, release, _ = _observability()
    values = _values(release)
    text = json.dumps(values)
    assert "LoadBalancer" not in text and "NodePort" not in text
    for section in (values["prometheus"], values["alertmanager"], values["prometheusOperator"]):
        assert section["service"]["type"] == "ClusterIP"
    for section in ("prometheus", "alertmanager", "grafana"):
        assert values[section]["ingress"] == {"enabled": False}


def test_grafana_loads_dashboards_through_its_sidecar():
    _, release, _ = _observability()
    grafana = _values(release)["grafana"]
    assert grafana["enabled"] is True
    dashboards = grafana["sidecar"]["dashboards"]
    assert (dashboards["enabled"], dashboards["label"], dashboards["labelValue"]) == (True, "grafana_dashboard", "1")
    assert (dashboards["searchNamespace"], dashboards["resource"]) == ("ALL", "configmap")


def test_main_containers_have_requests_and_limits():
    _, release, _ = _observability()
    values = _values(release)
    sections = [
        values["prometheus"]["prometheusSpec"],
        values["alertmanager"]["alertmanagerSpec"],
        values["grafana"],
        values["prometheusOperator"],
        values["prometheusOperator"]["prometheusConfigReloader"],
        values["prometheusOperator"]["admissionWebhooks"]["patch"],
        values["kube-state-metrics"],
        values["prometheus-node-exporter"],
    ]
    for section in sections:
        assert set(section["resources"]) == {"requests", "limits"}
        assert set(section["resources"]["limits"]) == {"cpu", "memory"}


def test_node_exporter_alone_in_a_privileged_namespace():
    recording, release, _ = _observability()
    namespaces = {r.name: r for r in recording.of_type("kubernetes:core/v1:Namespace")}
    enforce = {name: ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] for name, ns in namespaces.items()}
    assert enforce == {"monitoring": "restricted", "monitoring-node-exporter": "privileged"}
    assert _values(release)["prometheus-node-exporter"]["namespaceOverride"] == "monitoring-node-exporter"
    assert namespaces["monitoring-node-exporter"].urn in release.dependencies


def test_control_plane_components_the_cluster_hides_are_not_scraped():
    _, release, _ = _observability()
    values = _values(release)
    assert all(values[k] == {"enabled": False} for k in ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"))


def test_helm_values_use_keys_the_pinned_chart_defines():
    _, release, _ = _observability({"storage_class": "gp3"})
    values = _values(release)
    template_only = frozenset(TEMPLATE_ONLY["kube-prometheus-stack"])
    assert (
        _unknown_keys(values, chart_values("kube-prometheus-stack", versions.KUBE_PROMETHEUS_STACK.version), template_only=template_only)
        == []
    )
    # The subcharts' keys are checked against their own values.yaml, vendored with the chart.
    assert {"grafana", "kube-state-metrics", "prometheus-node-exporter"} <= set(values)


def test_pod_monitors_scrape_predictors_ray_mlflow_and_minio_in_every_namespace():
    recording, _, _ = _observability()
    monitors = {
        r.inputs["metadata"]["name"].removeprefix("observability-"): r.inputs["spec"] for r in recording.of_type(MONITORING + "PodMonitor")
    }
    assert set(monitors) == {"kserve-predictors", "ray-head", "ray-workers", "mlflow", "minio", "dcgm-exporter"}
    assert all(spec["namespaceSelector"] == {"any": True} for spec in monitors.values())

    def endpoints(name):
        return [(e.get("port") or e.get("portNumber"), e["path"]) for e in monitors[name]["podMetricsEndpoints"]]

    assert monitors["ray-head"]["selector"] == {"matchLabels": {"ray.io/node-type": "head"}}
    assert [port for port, _ in endpoints("ray-head")] == ["metrics", "as-metrics", "dash-metrics"]
    assert monitors["ray-workers"]["selector"] == {"matchLabels": {"ray.io/node-type": "worker"}}
    assert endpoints("ray-workers") == [("metrics", "/metrics")]
    assert endpoints("kserve-predictors") == [(8080, "/metrics"), ("http-usermetric", "/metrics")]
    assert endpoints("mlflow") == [("http", "/metrics")]
    assert endpoints("minio") == [("http", "/minio/v2/metrics/cluster")]


def test_pod_monitors_set_the_labels_the_rules_match_on():
    recording, _, _ = _observability()
    jobs, targets = set(), set()
    for monitor in recording.of_type(MONITORING + "PodMonitor"):
        for endpoint in monitor.inputs["spec"]["podMetricsEndpoints"]:
            for relabel in endpoint["relabelings"]:
                if relabel["targetLabel"] == "job":
                    jobs.add(relabel["replacement"])
                else:
                    targets.add((relabel["sourceLabels"][0], relabel["targetLabel"]))
    assert jobs == {"kserve-predictor", "ray-head", "ray-worker", "mlflow", "minio", "nvidia-dcgm-exporter"}
    assert targets == {
        ("__meta_kubernetes_pod_label_serving_kserve_io_inferenceservice", "inferenceservice"),
        ("__meta_kubernetes_pod_label_ray_io_cluster", "ray_io_cluster"),
        ("__meta_kubernetes_pod_label_app", "deployment"),
    }


def test_model_server_series_name_their_predictor_deployment():
    # KServe v0.20 Standard mode labels a predictor's pods app=isvc.<Deployment> (deployment_reconciler.go);
    # the serving-signal queries select the stable predictor's Deployment by this label.
    recording, _, _ = _observability()
    monitor = recording.named(MONITORING + "PodMonitor", "observability-kserve-predictors")
    relabelings = [r for e in monitor.inputs["spec"]["podMetricsEndpoints"] for r in e["relabelings"] if r["targetLabel"] == "deployment"]
    assert len(relabelings) == 2, "both model server endpoints"
    for relabel in relabelings:
        # Prometheus anchors the regex at both ends (RE2 full match) and expands $1 from it.
        match = re.fullmatch(relabel["regex"], "isvc.chat-llm-predictor")
        assert match is not None and relabel["replacement"].replace("$1", match.group(1)) == "chat-llm-predictor"
        assert re.fullmatch(relabel["regex"], "chat-llm-predictor") is None, "pods of other apps get no deployment label"


def test_prometheus_clients_reach_the_prometheus_api_and_nothing_else():
    recording, _, _ = _observability({"prometheus_clients": ["keda"]})
    (policy,) = [p for p in recording.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy") if p.name == "monitoring-allow-workload"]
    from_keda = [
        r
        for r in policy.inputs["spec"]["ingress"]
        if r["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}}]
    ]
    assert from_keda == [{"from": from_keda[0]["from"], "ports": [{"protocol": "TCP", "port": 9090}]}]
    recording, _, _ = _observability()
    (policy,) = [p for p in recording.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy") if p.name == "monitoring-allow-workload"]
    assert all(9090 not in [p["port"] for p in r.get("ports", [])] for r in policy.inputs["spec"]["ingress"])


def test_pool_alert_watches_the_autoscaling_groups_of_the_given_gpu_pools():
    recording, _, _ = _observability({"gpu_pools": [GpuPoolStub("inference"), GpuPoolStub("training")]})
    rule = recording.named(MONITORING + "PrometheusRule", "observability-platform")
    [group] = rule.inputs["spec"]["groups"]
    [alert] = [r for r in group["rules"] if r.get("alert") == "GpuNodePoolAtMaximum"]
    assert 'node_group=~"eks-(inference|training)-.+"' in alert["expr"]


def test_in_cluster_urls_name_the_chart_services():
    recording, _, _ = _observability({"namespace": "telemetry"}, exports=True)
    assert recording.outputs["prometheus_url"] == "http://observability-prometheus.telemetry.svc.cluster.local:9090"
    assert recording.outputs["alertmanager_url"] == "http://observability-alertmanager.telemetry.svc.cluster.local:9093"
    assert recording.outputs["grafana_url"] == "http://observability-grafana.telemetry.svc.cluster.local:80"
    assert recording.outputs["grafana_admin_secret"] == "observability-grafana-admin"


def _objects(recording, custom: bool) -> list[dict]:
    objects = [r.inputs for r in recording.registrations if r.custom and r.type.startswith("kubernetes:") and r.type != RELEASE]
    return [o for o in objects if o["apiVersion"].startswith("monitoring.coreos.com/") == custom]


def _problems(objects: list[dict]) -> dict[str, list[str]]:
    return {f"{o['kind']}/{o['metadata']['name']}": errors for o in objects if (errors := validate_object(o, "1.35"))}


def test_built_in_objects_are_valid_for_kubernetes_1_35():
    recording, _, _ = _observability()
    objects = _objects(recording, custom=False)
    assert {o["kind"] for o in objects} == {"Namespace", "Secret", "ConfigMap", "NetworkPolicy", "ClusterRole"}
    assert _problems(objects) == {}


def test_monitors_and_rules_are_valid_against_the_upstream_crds():
    recording, _, _ = _observability({"gpu_pools": [GpuPoolStub("gpu-a10g")], "runbook_base_url": "https://runbooks.example.com"})
    objects = _objects(recording, custom=True)
    assert {o["kind"] for o in objects} == {"PodMonitor", "PrometheusRule"}
    assert _problems(objects) == {}


def test_the_schema_check_rejects_an_unknown_pod_monitor_field():
    recording, _, _ = _observability()
    monitor = recording.of_type(MONITORING + "PodMonitor")[0].inputs
    broken = {**monitor, "spec": {**monitor["spec"], "podMetricEndpoints": []}}
    assert validate_object(broken, "1.35")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"prometheus_retention": "two weeks"}, "prometheus_retention: must be a Prometheus duration"),
        ({"prometheus_retention": ""}, "prometheus_retention: must be a Prometheus duration"),
        ({"prometheus_storage_size": "50G"}, "prometheus_storage_size: must be <n>Gi or <n>Ti"),
        ({"inference_latency_seconds": 0.3}, "inference_latency_seconds: must be a bucket of KServe's latency histogram"),
        ({"inference_availability_target": 1.0}, "inference_availability_target: Input should be less than 1"),
        ({"gpu_pools": [GpuPoolStub("GPU pool")]}, r"gpu_pools\[0\]: 'GPU pool' is not a node pool name"),
        ({"pod_security": "strict"}, "pod_security: Input should be 'restricted', 'baseline' or 'privileged'"),
    ],
)
def test_bad_input_fails_before_any_resource(args, message):
    from components.observability.observability import Observability

    recording = Recording(stack="test")
    with pytest.raises(Exception, match=message):
        run_program(lambda: Observability("observability", args), stack="test", config={}, recording=recording)
    assert [r.name for r in recording.registrations if r.custom] == []
