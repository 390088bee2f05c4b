"""MetricsServer: the resource metrics API every HPA reads, in every stack, reachable and isolated."""

from __future__ import annotations

import pytest
import yaml

from components import versions
from offline import charts
from offline.render import helm_releases, kubernetes_objects
from tests.conftest import run_components
from tests.upstream import chart_values

STACKS = ["dev", "prod"]


def _release(recording) -> dict:
    (release,) = [r for r in helm_releases(recording).values() if r["chart"] == "metrics-server"]
    return release


def _policies(recording, namespace: str) -> dict[str, dict]:
    return {
        o["metadata"]["name"]: o["spec"]
        for objects in kubernetes_objects(recording).values()
        for o in objects
        if o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == namespace
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_installs_metrics_server(rendered, stack):
    release = _release(rendered(stack))
    assert (release["version"], release["repo"]) == ("3.13.1", "https://kubernetes-sigs.github.io/metrics-server/")
    assert release["namespace"] == "metrics-server"
    assert release["values"]["containerPort"] == 10250


def test_image_is_the_charts_own_release():
    if charts.is_empty():
        pytest.skip(f"the chart cache {charts.cache_dir()} is empty: {charts.FILL_HINT}")
    app_version = yaml.safe_load((charts.chart_path(versions.METRICS_SERVER) / "Chart.yaml").read_text())["appVersion"]
    assert versions.METRICS_SERVER_IMAGE == f"registry.k8s.io/metrics-server/metrics-server:v{app_version}"


def test_only_kinds_self_signed_kubelets_skip_tls_verification(rendered):
    assert _release(rendered("dev"))["values"]["args"] == ["--kubelet-insecure-tls"]
    assert _release(rendered("prod"))["values"]["args"] == []


def test_prod_runs_on_the_system_nodes_with_a_disruption_budget(rendered):
    values = _release(rendered("prod"))["values"]
    assert values["nodeSelector"] == {"kubernetes.io/os": "linux", "ai-platform.io/node-role": "system"}
    assert values["replicas"] == 2
    assert values["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}
    assert set(values["resources"]) == {"requests", "limits"}


@pytest.mark.parametrize("stack", STACKS)
def test_api_server_reaches_it_and_it_reaches_the_kubelets(rendered, stack):
    recording = rendered(stack)
    workload = _policies(recording, "metrics-server")["allow-workload"]
    anywhere = [{"ipBlock": {"cidr": "0.0.0.0/0"}}]
    assert {"from": anywhere, "ports": [{"protocol": "TCP", "port": 10250}]} in workload["ingress"]
    assert {"to": anywhere, "ports": [{"protocol": "TCP", "port": 10250}]} in workload["egress"]
    # The API server where the stack's cluster says it is: kube-apiserver's 6443 on kind, the
    # kubernetes Service's ClusterIP range on 443 on EKS.
    api_server = {"dev": {"to": anywhere, "ports": [{"protocol": "TCP", "port": 6443}]}}.get(
        stack, {"to": [{"ipBlock": {"cidr": "172.20.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 443}]}
    )
    assert api_server in workload["egress"]
    (namespace,) = [
        o
        for objects in kubernetes_objects(recording).values()
        for o in objects
        if o["kind"] == "Namespace" and o["metadata"]["name"] == "metrics-server"
    ]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_chart_values_are_keys_of_the_pinned_chart():
    upstream = chart_values(versions.METRICS_SERVER.name, versions.METRICS_SERVER.version)
    from components.cluster.metrics_server import MetricsServerArgs
    from components.cluster.metrics_server import chart_values as metrics_server_values

    values = metrics_server_values(MetricsServerArgs(replicas=3, kubelet_insecure_tls=True))
    assert set(values) <= set(upstream), set(values) - set(upstream)
    assert set(values["podDisruptionBudget"]) <= set(upstream["podDisruptionBudget"])


def test_one_replica_has_no_disruption_budget_that_would_block_drains():
    from components.cluster.metrics_server import MetricsServer

    recording = run_components(lambda: MetricsServer("ms", {"replicas": 1}))
    values = _release(recording)["values"]
    assert "podDisruptionBudget" not in values
    assert values["replicas"] == 1


def test_bad_replicas_name_the_key():
    from components.cluster.metrics_server import MetricsServer
    from components.core.problems import InputError

    with pytest.raises(InputError, match="replicas"):
        run_components(lambda: MetricsServer("ms", {"replicas": 0}))
