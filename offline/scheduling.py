"""Where every pod the program declares lands: the placement table of a render.

    python -m offline.scheduling prod          # prints the table (the render writes it too)

Pools and DaemonSets come from ``stacks/placement.py`` (the same model stack validation uses); the
pods are those of the program's own objects (Deployments, StatefulSets, Jobs, DaemonSets) and the
ones its custom resources make: RayCluster head (with KubeRay's autoscaler container) and worker
groups at ``maxReplicas``, InferenceService predictors and canaries at ``maxReplicas`` with KServe's
storage-initializer.

With the charts expanded (``offline/charts.py``), every chart pod is placed too, keyed
``<release>: <Kind> <namespace>/<name>``: Deployments, StatefulSets, Jobs (Helm hooks included) and
the Prometheus / Alertmanager StatefulSets prometheus-operator makes from the chart's custom
resources; the chart DaemonSets, with their real requests and node selection, replace the overhead
``stacks/placement.py`` assumes for them. Without the charts, the assumed overhead stands and the
charts' controllers are not in the table.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.cluster.capacity import DaemonSetModel, Node, PodModel, PoolModel, Resources, cpu_text, memory_text, place
from stacks.placement import KSERVE_STORAGE_INITIALIZER

if TYPE_CHECKING:
    from offline.charts import Expansion
    from stacks.config import StackConfig

WORKLOAD_KINDS = {"Deployment": "replicas", "StatefulSet": "replicas", "Job": "parallelism"}


def _container_requests(container: Mapping[str, Any]) -> Resources:
    """A container's requests; a resource with only a limit requests the limit (the API server's defaulting)."""
    resources = container.get("resources") or {}
    return Resources.from_requests({**(resources.get("limits") or {}), **(resources.get("requests") or {})}, pods=0)


def _larger(a: Resources, b: Resources) -> Resources:
    names = {*a.extended, *b.extended}
    extended = {n: max(a.extended.get(n, 0), b.extended.get(n, 0)) for n in names}
    return Resources(max(a.cpu_m, b.cpu_m), max(a.memory_mib, b.memory_mib), max(a.pods, b.pods), extended)


def pod_requests(spec: Mapping[str, Any], extra_containers: Sequence[Mapping[str, Any]] = ()) -> Resources:
    """Effective requests of a pod as the scheduler computes them: the larger of the sum of its
    containers (with its sidecars: init containers with ``restartPolicy: Always``) and each init
    container plus the sidecars started before it."""
    sidecars = Resources()
    init_peak = Resources()
    for init in spec.get("initContainers") or []:
        if init.get("restartPolicy") == "Always":
            sidecars = sidecars + _container_requests(init)
        else:
            init_peak = _larger(init_peak, sidecars + _container_requests(init))
    running = sidecars
    for container in [*(spec.get("containers") or []), *extra_containers]:
        running = running + _container_requests(container)
    return _larger(running, init_peak) + Resources(pods=1)


def _required_terms(spec: Mapping[str, Any]) -> list[Sequence[Mapping[str, Any]]]:
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    return [term.get("matchExpressions", []) for term in affinity.get("nodeSelectorTerms", [])]


def pod_model(key: str, spec: Mapping[str, Any], replicas: int, extra: Sequence[Mapping[str, Any]] = ()) -> PodModel:
    return PodModel(
        key,
        pod_requests(spec, extra),
        replicas,
        node_selector=dict(spec.get("nodeSelector") or {}),
        required_terms=_required_terms(spec),
        tolerations=list(spec.get("tolerations") or []),
    )


def daemonset_model(key: str, spec: Mapping[str, Any]) -> DaemonSetModel:
    """A DaemonSet's pod template as pool overhead: it lands where its selector, affinity and tolerations admit it."""
    return DaemonSetModel(
        key,
        pod_requests(spec),
        node_selector=dict(spec.get("nodeSelector") or {}),
        tolerations=list(spec.get("tolerations") or []),
        required_terms=_required_terms(spec),
    )


def workload_template(obj: Mapping[str, Any]) -> tuple[Mapping[str, Any], int] | None:
    """Pod spec and most replicas of a Deployment, StatefulSet or Job; None for any other kind."""
    kind = obj.get("kind")
    if kind not in WORKLOAD_KINDS:
        return None
    spec = obj.get("spec") or {}
    replicas = spec.get(WORKLOAD_KINDS[kind])
    return spec["template"]["spec"], 1 if replicas is None else int(replicas)


def _name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '?')}".lstrip("/")


def program_pods(objects: Iterable[Mapping[str, Any]]) -> list[PodModel]:
    """Pods of the Kubernetes objects the program declares (DaemonSets are pool overhead, not here)."""
    pods = []
    for obj in objects:
        kind = obj.get("kind")
        template = workload_template(obj)
        if template is not None:
            spec, replicas = template
            if replicas:
                pods.append(pod_model(f"{kind} {_name(obj)}", spec, replicas))
        elif kind == "RayCluster":
            pods += _ray_pods(obj)
        elif kind == "InferenceService":
            pods += _inference_pods(obj)
    return pods


def _ray_pods(obj: Mapping[str, Any]) -> list[PodModel]:
    spec, name = obj["spec"], _name(obj)
    autoscaler = []
    if spec.get("enableInTreeAutoscaling"):
        autoscaler = [{"resources": spec.get("autoscalerOptions", {}).get("resources", {})}]
    pods = [pod_model(f"RayCluster {name} head", spec["headGroupSpec"]["template"]["spec"], 1, autoscaler)]
    for group in spec.get("workerGroupSpecs", []):
        replicas = group["maxReplicas"] if spec.get("enableInTreeAutoscaling") else group.get("minReplicas", 0)
        if replicas:
            pods.append(pod_model(f"RayCluster {name} {group['groupName']}", group["template"]["spec"], replicas))
    return pods


def _inference_pods(obj: Mapping[str, Any]) -> list[PodModel]:
    name = _name(obj)

    def predictor_pod(predictor: Mapping[str, Any]) -> dict[str, Any]:
        pod = {k: v for k, v in predictor.items() if k in ("nodeSelector", "tolerations", "affinity")}
        pod["containers"] = [predictor["model"]]
        # KServe's webhook adds the storage-initializer for a storageUri (its resources from the
        # inferenceservice-config the kserve-resources chart writes).
        if predictor["model"].get("storageUri"):
            pod["initContainers"] = [{"resources": {"requests": KSERVE_STORAGE_INITIALIZER}}]
        return pod

    predictor = obj["spec"]["predictor"]
    most = predictor.get("maxReplicas") or predictor.get("minReplicas") or 1
    pods = [pod_model(f"InferenceService {name} predictor", predictor_pod(predictor), most)]
    for canary in obj["spec"].get("canary", []):
        entry = canary["predictor"]
        pods.append(pod_model(f"InferenceService {name} canary {entry['name']}", predictor_pod(entry), most))
    return pods


# prometheus-operator at the chart's appVersion (kube-prometheus-stack 88.5.3: v0.93.1; source read at
# v0.93.0): the config-reloader sidecar and init container request 10m CPU / 50Mi unless the operator's
# --config-reloader-{cpu,memory}-request flags say otherwise, "0" meaning no request
# (cmd/operator/main.go); an Alertmanager without a memory request gets 200Mi
# (pkg/alertmanager/statefulset.go); a Prometheus with spec.thanos runs a thanos-sidecar with
# spec.thanos.resources (pkg/prometheus/server/statefulset.go).
RELOADER_FLAGS = {"cpu": "--config-reloader-cpu-request=", "memory": "--config-reloader-memory-request="}
RELOADER_DEFAULT_REQUESTS = {"cpu": "10m", "memory": "50Mi"}
ALERTMANAGER_DEFAULT_MEMORY = "200Mi"
OPERATOR_FLAG = "--prometheus-config-reloader="
"""The flag that marks prometheus-operator's container among a release's Deployments."""


@dataclass(frozen=True)
class ChartWorkloads:
    """The pods and DaemonSets the expanded charts run, keyed ``<release>: <Kind> <namespace>/<name>``."""

    pods: list[PodModel]
    daemonsets: list[DaemonSetModel]


def chart_workloads(expansions: Mapping[str, Expansion]) -> ChartWorkloads:
    """Every pod of the expanded charts: workloads' templates at their replicas, Helm hook Jobs
    included; Prometheus and Alertmanager custom resources as the StatefulSets prometheus-operator
    makes of them; DaemonSets as pool overhead."""
    pods: list[PodModel] = []
    daemonsets: list[DaemonSetModel] = []
    for release, expansion in expansions.items():
        reloader = reloader_requests(expansion.objects)
        for obj in expansion.objects:
            kind = obj.get("kind")
            key = f"{release}: {kind} {_name(obj)}"
            template = workload_template(obj)
            if template is not None:
                spec, replicas = template
                if replicas:
                    pods.append(pod_model(key, spec, replicas))
            elif kind == "DaemonSet":
                daemonsets.append(daemonset_model(key, obj["spec"]["template"]["spec"]))
            elif kind in ("Prometheus", "Alertmanager"):
                pod = monitoring_pod(key, obj, reloader)
                if pod.replicas:
                    pods.append(pod)
    return ChartWorkloads(pods, daemonsets)


def reloader_requests(objects: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The config-reloader's requests as the operator Deployment among ``objects`` sets them (upstream's defaults without one)."""
    requests = dict(RELOADER_DEFAULT_REQUESTS)
    for obj in objects:
        if obj.get("kind") != "Deployment":
            continue
        for container in obj["spec"]["template"]["spec"].get("containers") or []:
            args = [str(a) for a in container.get("args") or []]
            if not any(a.startswith(OPERATOR_FLAG) for a in args):
                continue
            for arg in args:
                requests.update({resource: arg.removeprefix(flag) for resource, flag in RELOADER_FLAGS.items() if arg.startswith(flag)})
    return requests


def _merge_by_name(base: list[dict[str, Any]], patches: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The operator's containers with the CR's ``containers`` strategic-merged over them by name."""
    merged = {c["name"]: c for c in base}
    for patch in patches:
        merged[patch["name"]] = {**merged.get(patch["name"], {}), **patch}
    return list(merged.values())


def monitoring_pod(key: str, obj: Mapping[str, Any], reloader: Mapping[str, str]) -> PodModel:
    """The pods prometheus-operator runs for a Prometheus (``replicas`` x ``shards``) or an Alertmanager."""
    spec, kind = obj.get("spec") or {}, obj["kind"]
    resources = dict(spec.get("resources") or {})
    replicas = 1 if spec.get("replicas") is None else int(spec["replicas"])
    sidecars = [{"name": "config-reloader", "resources": {"requests": dict(reloader)}}]
    if kind == "Alertmanager":
        resources["requests"] = {"memory": ALERTMANAGER_DEFAULT_MEMORY, **(resources.get("requests") or {})}
    else:
        replicas *= 1 if spec.get("shards") is None else int(spec["shards"])
        if spec.get("thanos") is not None:
            sidecars.append({"name": "thanos-sidecar", "resources": spec["thanos"].get("resources") or {}})
    pod = {
        "containers": _merge_by_name([{"name": kind.lower(), "resources": resources}, *sidecars], spec.get("containers") or []),
        "initContainers": _merge_by_name(
            [{"name": "init-config-reloader", "resources": {"requests": dict(reloader)}}], spec.get("initContainers") or []
        ),
        **{k: spec[k] for k in ("nodeSelector", "tolerations", "affinity") if spec.get(k)},
    }
    return pod_model(key, pod, replicas)


def with_daemonsets(pools: Sequence[PoolModel], daemonsets: Sequence[DaemonSetModel]) -> list[PoolModel]:
    """``pools`` with ``daemonsets`` as their DaemonSets."""
    return [replace(pool, daemonsets=tuple(daemonsets)) for pool in pools]


def table(pools: Sequence[PoolModel], pods: Sequence[PodModel], chart_pods: Sequence[PodModel] = ()) -> tuple[str, dict[str, Any]]:
    """The placement of ``pods`` and ``chart_pods`` on ``pools``: text for people and JSON for tools."""
    result = place([*pods, *chart_pods], pools)
    lines = ["node pools (one node; allocatable as EKS computes it, DaemonSets that land there):"]
    for pool in pools:
        ds = ", ".join(d.name for d in pool.landing()) or "none"
        used = len(result.nodes_of(pool.name))
        lines.append(f"  {pool.describe()}; maxSize {pool.max_size}, nodes used {used}; DaemonSets: {ds}")
    lines += ["", "pods (at their most replicas):"]
    rows = []
    width = max((len(p.key) for p in [*pods, *chart_pods]), default=0)
    for pod in sorted([*pods, *chart_pods], key=lambda p: p.key):
        where = result.placed.get(pod.key, [])
        spread = sorted({f"{p}#{i}" for p, i in where})
        status = "UNPLACED: " + result.unplaced[pod.key] if pod.key in result.unplaced else ", ".join(spread)
        lines.append(f"  {pod.key:{width}s} {pod.replicas:3d} x {pod.requests.describe():28s} -> {status}")
        rows.append(
            {
                "pod": pod.key,
                "replicas": pod.replicas,
                "cpu": cpu_text(pod.requests.cpu_m),
                "memory": memory_text(pod.requests.memory_mib),
                "extended": dict(pod.requests.extended),
                "nodes": [{"pool": p, "node": i} for p, i in where],
                "unplaced": result.unplaced.get(pod.key),
            }
        )
    usage = {pool.name: pool_usage(result.nodes_of(pool.name)) for pool in pools}
    lines += ["", "per pool (pods placed besides DaemonSets, nodes used of maxSize, room left on the used nodes):"]
    lines += [
        f"  {pool.name}: {usage[pool.name][0]} pods on {len(result.nodes_of(pool.name))}/{pool.max_size} nodes, "
        f"{usage[pool.name][1].describe()} free"
        for pool in pools
    ]
    lines.append("")
    lines.append(f"{sum(len(v) for v in result.placed.values())} pods placed on {len(result.nodes)} nodes; {len(result.unplaced)} unplaced")
    data = {
        "pools": [
            {
                "name": p.name,
                "instanceType": p.instance_type,
                "maxSize": p.max_size,
                "allocatable": p.allocatable.describe(),
                "afterDaemonSets": p.free.describe(),
                "daemonSets": [d.name for d in p.landing()],
                "nodesUsed": len(result.nodes_of(p.name)),
                "podsPlaced": usage[p.name][0],
                "freeOnUsedNodes": usage[p.name][1].describe(),
            }
            for p in pools
        ],
        "pods": rows,
        "unplaced": result.unplaced,
    }
    return "\n".join(lines) + "\n", data


def pool_usage(nodes: Sequence[Node]) -> tuple[int, Resources]:
    """Pods placed on ``nodes`` and the room they have left together."""
    room = Resources()
    for node in nodes:
        room = room + node.room
    return sum(len(node.pods) for node in nodes), Resources(room.cpu_m, room.memory_mib, 0, room.extended)


def report(
    stack: str, objects: Iterable[Mapping[str, Any]], root: Path | None = None, expansions: Mapping[str, Expansion] | None = None
) -> tuple[str, dict]:
    """The placement table of ``stack``: the program's ``objects`` and, with ``expansions``, every chart
    pod, the chart DaemonSets' real requests replacing the overhead stack validation assumes for them."""
    from stacks.placement import addon_daemonsets, cluster_pods, operand_daemonsets, pools

    config = parse_stack(stack, root)
    found, _ = pools(config)
    pods = [*cluster_pods(config), *program_pods(objects)]
    if expansions is None:
        return table(found, pods)
    charts = chart_workloads(expansions)
    found = with_daemonsets(found, [*addon_daemonsets(config), *charts.daemonsets, *operand_daemonsets(config)])
    return table(found, pods, charts.pods)


def parse_stack(stack: str, root: Path | None = None) -> StackConfig:
    """The validated config of ``Pulumi.<stack>.yaml``."""
    from offline.render import ROOT, stack_config
    from stacks.config import _decode, parse_stack_config

    raw, secret_keys = stack_config(stack, root or ROOT)
    prefix = "ai-platform:"
    return parse_stack_config(
        {k.removeprefix(prefix): _decode(v) for k, v in raw.items() if k.startswith(prefix)},
        stack=stack,
        region=raw.get("aws:region"),
        secret_keys={k.removeprefix(prefix) for k in secret_keys if k.startswith(prefix)},
    )


def write(out: Path, text: str, data: dict) -> None:
    (out / "placement.txt").write_text(text)
    (out / "placement.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    from offline.render import expand_if_cached, kubernetes_objects, render

    stack = (argv or sys.argv[1:])[0]
    recording = render(stack)
    objects = [o for group in kubernetes_objects(recording).values() for o in group]
    expansions, charts_text = expand_if_cached(recording)
    if expansions is None:
        print(charts_text, file=sys.stderr)
    text, _ = report(stack, objects, expansions=expansions)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
