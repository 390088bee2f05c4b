"""The chart pods in the scheduling model: every pod the expanded charts run is placed on the stack's
pools, the chart DaemonSets land where their tolerations admit them, and the DaemonSet overhead that
stack validation assumes (without rendering a chart) is not below what the charts really request.
Skips when the chart cache is empty (the ``expanded`` fixture)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest

from components.cluster.capacity import PoolModel, Resources, cpu_millicores, memory_mib
from offline import render
from offline.render import kubernetes_objects
from offline.scheduling import chart_workloads, parse_stack, report
from stacks.placement import chart_daemonsets, pools

STACKS = ["dev", "prod"]
# Kinds whose objects run pods: the workload controllers, and the custom resources prometheus-operator
# turns into StatefulSets. DaemonSets are pool overhead, counted on their own.
POD_KINDS = {"Deployment", "StatefulSet", "Job", "Prometheus", "Alertmanager"}


def _objects(recording) -> list[dict[str, Any]]:
    return [o for group in kubernetes_objects(recording).values() for o in group]


def _chart_objects(expansions, kinds: set[str]) -> dict[str, dict[str, Any]]:
    """``<release>: <Kind> <namespace>/<name>`` (the table's key) of every chart object of ``kinds``."""
    return {
        f"{release}: {o['kind']} {o['metadata']['namespace']}/{o['metadata']['name']}": o
        for release, e in expansions.items()
        for o in e.objects
        if o["kind"] in kinds
    }


def _replicas(obj: dict[str, Any]) -> int:
    spec = obj["spec"]
    if obj["kind"] == "Job":
        return spec.get("parallelism", 1)
    return spec.get("replicas", 1) * (spec.get("shards") or 1)


@pytest.mark.parametrize("stack", STACKS)
def test_every_chart_pod_of_both_stacks_is_placed(rendered, expanded, stack):
    expansions = expanded(stack)
    workloads = _chart_objects(expansions, POD_KINDS)
    assert len(workloads) >= 15, sorted(workloads)
    assert any(o["kind"] == "Prometheus" for o in workloads.values())
    assert any("helm.sh/hook" in (o["metadata"].get("annotations") or {}) for o in workloads.values())
    text, data = report(stack, _objects(rendered(stack)), expansions=expansions)
    assert data["unplaced"] == {}, text
    rows = {row["pod"]: row for row in data["pods"]}
    assert workloads.keys() <= rows.keys()
    for key, obj in workloads.items():
        assert len(rows[key]["nodes"]) == _replicas(obj), key
    # the program's own pods are still in the table, beside the charts'
    assert len(rows) > len(workloads)


def test_prometheus_runs_with_the_config_reloader_the_operator_adds(expanded):
    expansions = expanded("prod")
    (prometheus,) = [o for o in expansions["observability"].objects if o["kind"] == "Prometheus"]
    (operator,) = [
        c
        for o in expansions["observability"].objects
        if o["kind"] == "Deployment"
        for c in o["spec"]["template"]["spec"]["containers"]
        if any(str(a).startswith("--prometheus-config-reloader=") for a in c.get("args", []))
    ]
    flags = dict(str(a).removeprefix("--").split("=", 1) for a in operator["args"] if "=" in str(a))
    requests = prometheus["spec"]["resources"]["requests"]
    (pod,) = [p for p in chart_workloads(expansions).pods if p.key == "observability: Prometheus monitoring/observability-prometheus"]
    cpu = cpu_millicores(requests["cpu"]) + cpu_millicores(flags["config-reloader-cpu-request"])
    memory = memory_mib(requests["memory"]) + memory_mib(flags["config-reloader-memory-request"])
    assert (pod.requests.cpu_m, pod.requests.memory_mib, pod.replicas) == (cpu, memory, prometheus["spec"]["replicas"])


def test_a_chart_pod_that_fits_no_node_is_reported(rendered, expanded):
    expansions = copy.deepcopy(expanded("prod"))
    (deployment,) = [o for o in expansions["kuberay-operator"].objects if o["kind"] == "Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "500", "memory": "1Gi"}}
    _, data = report("prod", _objects(rendered("prod")), expansions=expansions)
    reason = data["unplaced"]["kuberay-operator: Deployment kuberay-operator/kuberay-operator"]
    assert reason.startswith("500 CPU / 1Gi fits no node pool that admits it: system (m7i.xlarge")
    assert len(data["unplaced"]) == 1


def _gpu_and_cpu_pools(stack: str) -> tuple[PoolModel, PoolModel]:
    found, problems = pools(parse_stack(stack))
    assert problems == []
    by_name = {p.name: p for p in found}
    return by_name["inference"], by_name["cpu"]


def test_a_daemonset_lands_on_the_gpu_pool_only_when_it_tolerates_the_gpu_taint(expanded):
    expansions = copy.deepcopy(expanded("prod"))
    worker = _chart_objects(expansions, {"DaemonSet"})["gpu-operator: DaemonSet gpu-operator/gpu-operator-node-feature-discovery-worker"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in worker["spec"]["template"]["spec"]["tolerations"]
    intolerant = copy.deepcopy(worker)
    intolerant["metadata"]["name"] = "intolerant"
    intolerant["spec"]["template"]["spec"]["tolerations"] = []
    expansions["gpu-operator"].objects.append(intolerant)
    daemonsets = chart_workloads(expansions).daemonsets
    gpu, cpu = (replace(p, daemonsets=daemonsets) for p in _gpu_and_cpu_pools("prod"))
    tolerating, not_tolerating = (
        "gpu-operator: DaemonSet gpu-operator/gpu-operator-node-feature-discovery-worker",
        "gpu-operator: DaemonSet gpu-operator/intolerant",
    )
    assert {tolerating, not_tolerating} <= {d.name for d in cpu.landing()}
    on_gpu = {d.name for d in gpu.landing()}
    assert tolerating in on_gpu and not_tolerating not in on_gpu


def _overhead(pool: PoolModel, daemonsets) -> Resources:
    return replace(pool, daemonsets=tuple(daemonsets)).daemonset_requests


@pytest.mark.parametrize("stack", STACKS)
def test_the_daemonset_overhead_stack_validation_assumes_covers_the_chart_daemonsets(expanded, stack):
    config = parse_stack(stack)
    real = chart_workloads(expanded(stack)).daemonsets
    assert len(real) >= 2, [d.name for d in real]
    found, _ = pools(config)
    assert found
    for pool in found:
        actual, assumed = _overhead(pool, real), _overhead(pool, chart_daemonsets(config))
        assert actual.pods >= 1, pool.name
        assert actual.cpu_m <= assumed.cpu_m and actual.memory_mib <= assumed.memory_mib and actual.pods <= assumed.pods, (
            f"{pool.name}: charts request {actual.describe()} ({actual.pods} pods), validation assumes {assumed.describe()}"
        )


def test_the_render_writes_the_chart_pods_into_the_placement_table(expanded, tmp_path):
    expansions = expanded("prod")
    assert render.main(["prod", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "placement.json").read_text())
    placed = {row["pod"] for row in data["pods"] if row["nodes"]}
    assert _chart_objects(expansions, POD_KINDS).keys() <= placed
    assert "observability: Prometheus monitoring/observability-prometheus" in (tmp_path / "placement.txt").read_text()
    assert data["unplaced"] == {}
