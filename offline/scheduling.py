"""Where every pod the program declares lands: the placement table of a render.

    python -m offline.scheduling prod          # prints the table (the render writes it too)

Pools and DaemonSets come from ``stacks/placement.py`` (the same model stack validation uses); the
pods are those of the program's own objects (Deployments, StatefulSets, Jobs, DaemonSets) and the
ones its custom resources make: RayCluster head (with KubeRay's autoscaler container) and worker
groups at ``maxReplicas``, InferenceService predictors and canaries at ``maxReplicas`` with KServe's
storage-initializer. Chart pods enter through ``chart_pods`` once chart expansion renders them;
until then the charts' controllers are not in the table, only their DaemonSets (in the pools'
overhead).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from components.cluster.capacity import PodModel, PoolModel, Resources, cpu_text, memory_text, place
from stacks.placement import KSERVE_STORAGE_INITIALIZER

WORKLOAD_KINDS = {"Deployment": "replicas", "StatefulSet": "replicas", "Job": "parallelism"}


def pod_requests(spec: Mapping[str, Any], extra_containers: Sequence[Mapping[str, Any]] = ()) -> Resources:
    """Effective requests of a pod: the larger of its biggest init container and the sum of its
    containers (requests default to limits, as the API server does)."""

    def of(container: Mapping[str, Any]) -> Resources:
        resources = container.get("resources") or {}
        return Resources.from_requests({**(resources.get("limits") or {}), **(resources.get("requests") or {})}, pods=0)

    total = Resources(pods=1)
    for container in [*spec.get("containers", []), *extra_containers]:
        total = total + of(container)
    for init in spec.get("initContainers", []):
        r = of(init)
        total = Resources(max(total.cpu_m, r.cpu_m), max(total.memory_mib, r.memory_mib), 1, total.extended)
    return total


def pod_model(key: str, spec: Mapping[str, Any], replicas: int, extra: Sequence[Mapping[str, Any]] = ()) -> PodModel:
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = [term.get("matchExpressions", []) for term in affinity.get("nodeSelectorTerms", [])]
    return PodModel(
        key,
        pod_requests(spec, extra),
        replicas,
        node_selector=dict(spec.get("nodeSelector") or {}),
        required_terms=terms,
        tolerations=list(spec.get("tolerations") or []),
    )


def _name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '?')}".lstrip("/")


def program_pods(objects: Iterable[Mapping[str, Any]]) -> list[PodModel]:
    """Pods of the Kubernetes objects the program declares (DaemonSets are pool overhead, not here)."""
    pods = []
    for obj in objects:
        kind = obj.get("kind")
        if kind in WORKLOAD_KINDS:
            spec = obj.get("spec") or {}
            replicas = spec.get(WORKLOAD_KINDS[kind], 1) or 1
            pods.append(pod_model(f"{kind} {_name(obj)}", spec["template"]["spec"], replicas))
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
    for pod in sorted([*pods, *chart_pods], key=lambda p: p.key):
        where = result.placed.get(pod.key, [])
        spread = sorted({f"{p}#{i}" for p, i in where})
        status = "UNPLACED: " + result.unplaced[pod.key] if pod.key in result.unplaced else ", ".join(spread)
        lines.append(f"  {pod.key:60s} {pod.replicas:3d} x {pod.requests.describe():28s} -> {status}")
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
            }
            for p in pools
        ],
        "pods": rows,
        "unplaced": result.unplaced,
    }
    return "\n".join(lines) + "\n", data


def report(
    stack: str, objects: Iterable[Mapping[str, Any]], root: Path | None = None, chart_pods: Sequence[PodModel] = ()
) -> tuple[str, dict]:
    from offline.render import ROOT, stack_config
    from stacks.config import _decode, parse_stack_config
    from stacks.placement import pools

    raw, secret_keys = stack_config(stack, root or ROOT)
    prefix = "ai-platform:"
    config = parse_stack_config(
        {k.removeprefix(prefix): _decode(v) for k, v in raw.items() if k.startswith(prefix)},
        stack=stack,
        region=raw.get("aws:region"),
        secret_keys={k.removeprefix(prefix) for k in secret_keys if k.startswith(prefix)},
    )
    found, _ = pools(config)
    return table(found, program_pods(objects), chart_pods)


def write(out: Path, text: str, data: dict) -> None:
    (out / "placement.txt").write_text(text)
    (out / "placement.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    from offline.render import kubernetes_objects, render

    stack = (argv or sys.argv[1:])[0]
    recording = render(stack)
    objects = [o for group in kubernetes_objects(recording).values() for o in group]
    text, _ = report(stack, objects)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
