"""What a node of each pool offers to pods, and a pure model of where pods land.

Cheap enough for stack config validation: the EC2 facts are a small vendored table
(``upstream/instance-types.json``, made by ``tools/refresh_instance_types.py`` from the
cluster-autoscaler's static instance list and the EKS AMI's ENI data) and :func:`place` is plain
Python. What the kubelet keeps for itself follows nodeadm, the AL2023 node agent
(awslabs/amazon-eks-ami ``nodeadm/internal/kubelet/config.go`` and ``eni_max_pods.go``):

* max pods = ENIs x (IPv4 addresses per ENI - 1) + 2 (no prefix delegation, no custom expression);
* kube-reserved CPU: 6% of the first core, 1% of the second, 0.5% of cores 3-4, 0.25% of the rest;
* kube-reserved memory: 255Mi + 11Mi x max pods; eviction threshold ``memory.available`` 100Mi;
* allocatable = capacity - kube-reserved - eviction threshold.

Memory capacity is the instance's nominal memory, as the cluster-autoscaler plans a node group
from its first instance type (a booted node reports a little less: the kernel's share).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field

from ..core.args import Options
from .gpu_catalog import GPU_INSTANCE_TYPES

INSTANCE_DATA = Path(__file__).resolve().parents[2] / "upstream" / "instance-types.json"
EVICTION_HARD_MIB = 100
"""nodeadm's ``evictionHard: memory.available: 100Mi``."""
CPU_FAMILIES = ("m7i", "m6i", "m7a", "c7i", "r7i")
CPU_SIZES = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
CPU_INSTANCE_TYPES = tuple(f"{family}.{size}" for family in CPU_FAMILIES for size in CPU_SIZES)
"""Instance types the system and CPU node groups may use: those whose facts are vendored."""
KIND_NODE_DEFAULT = {"cpu": 8, "memory_gib": 16, "pods": 110}
"""The dev (kind) node assumed when ``cluster.nodeCapacity`` is unset: a common laptop's Docker VM.
kind's kubelet reserves nothing but the default eviction threshold, and 110 pods is the kubelet's default."""


class NodeCapacityOptions(Options):
    """The one node of an existing (kind) cluster as the scheduling model assumes it
    (``cluster.nodeCapacity``): kind runs every pod on the Docker host's node, which reports the
    host's CPUs and memory."""

    cpu: int = Field(default=KIND_NODE_DEFAULT["cpu"], ge=1, le=1024)
    """CPUs of the node (of the Docker VM on macOS / Windows)."""
    memory_gib: int = Field(default=KIND_NODE_DEFAULT["memory_gib"], ge=1, le=16384)
    """Memory of the node in GiB; the kubelet keeps 100Mi back (its eviction threshold)."""
    pods: int = Field(default=KIND_NODE_DEFAULT["pods"], ge=10, le=1000)
    """Pods the kubelet admits (110 unless kind's config raises ``maxPods``)."""


def vendored_instance_types() -> list[str]:
    """Every instance type whose facts ``upstream/instance-types.json`` holds."""
    return sorted({*GPU_INSTANCE_TYPES, *CPU_INSTANCE_TYPES})


# ---------------------------------------------------------------- quantities

_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_MIB_PER = {
    None: 1 / 2**20,
    "Ki": 1 / 1024,
    "Mi": 1,
    "Gi": 1024,
    "Ti": 1024**2,
    "k": 1e3 / 2**20,
    "M": 1e6 / 2**20,
    "G": 1e9 / 2**20,
    "T": 1e12 / 2**20,
}


def cpu_millicores(quantity: Any) -> int:
    """``"500m"``, ``"3"``, ``2`` or ``0.5`` as millicores."""
    match = _CPU.match(str(quantity).strip())
    if not match:
        raise ValueError(f"not a CPU quantity: {quantity!r}")
    value = float(match[1])
    return math.ceil(value if match[2] else value * 1000)


def memory_mib(quantity: Any) -> int:
    """``"24Gi"``, ``"100Mi"``, ``"1G"`` or a byte count as MiB (rounded up)."""
    match = _MEMORY.match(str(quantity).strip())
    if not match:
        raise ValueError(f"not a memory quantity: {quantity!r}")
    return math.ceil(float(match[1]) * _MIB_PER[match[2]])


@dataclass(frozen=True)
class Resources:
    """Requests of a pod, or what a node offers; ``pods`` counts pod slots."""

    cpu_m: int = 0
    memory_mib: int = 0
    pods: int = 0
    extended: Mapping[str, int] = field(default_factory=dict)
    """``nvidia.com/gpu`` or MIG devices."""

    def __add__(self, other: Resources) -> Resources:
        ext = dict(self.extended)
        for name, count in other.extended.items():
            ext[name] = ext.get(name, 0) + count
        return Resources(self.cpu_m + other.cpu_m, self.memory_mib + other.memory_mib, self.pods + other.pods, ext)

    def __sub__(self, other: Resources) -> Resources:
        ext = dict(self.extended)
        for name, count in other.extended.items():
            ext[name] = ext.get(name, 0) - count
        return Resources(self.cpu_m - other.cpu_m, self.memory_mib - other.memory_mib, self.pods - other.pods, ext)

    def fits_in(self, room: Resources) -> bool:
        return (
            self.cpu_m <= room.cpu_m
            and self.memory_mib <= room.memory_mib
            and self.pods <= room.pods
            and all(count <= room.extended.get(name, 0) for name, count in self.extended.items() if count)
        )

    def shortfall(self, room: Resources) -> list[str]:
        """What of ``self`` does not fit in ``room``, spelled for a message."""
        short = []
        if self.cpu_m > room.cpu_m:
            short.append("CPU")
        if self.memory_mib > room.memory_mib:
            short.append("memory")
        if self.pods > room.pods:
            short.append("pods")
        short += [name for name, count in sorted(self.extended.items()) if count > room.extended.get(name, 0)]
        return short

    def describe(self) -> str:
        text = f"{cpu_text(self.cpu_m)} CPU / {memory_text(self.memory_mib)}"
        extra = [f"{count} {name}" for name, count in sorted(self.extended.items()) if count]
        return ", ".join([text, *extra])

    @staticmethod
    def from_requests(requests: Mapping[str, Any], pods: int = 1) -> Resources:
        ext = {k: int(v) for k, v in requests.items() if k.startswith("nvidia.com/") and int(v)}
        cpu = cpu_millicores(requests["cpu"]) if "cpu" in requests else 0
        memory = memory_mib(requests["memory"]) if "memory" in requests else 0
        return Resources(cpu, memory, pods, ext)


def cpu_text(millicores: int) -> str:
    return f"{millicores / 1000:g}" if millicores % 10 == 0 else f"{millicores / 1000:.3f}".rstrip("0")


def memory_text(mib: int) -> str:
    return f"{mib}Mi" if mib < 1024 else f"{mib / 1024:.1f}Gi".replace(".0Gi", "Gi")


# ---------------------------------------------------------------- nodes


@dataclass(frozen=True)
class InstanceFacts:
    name: str
    vcpu: int
    memory_mib: int
    gpus: int
    enis: int
    ips_per_eni: int

    @property
    def max_pods(self) -> int:
        """nodeadm's default max pods: ENIs x (IPv4 addresses per ENI - 1) + 2."""
        return self.enis * (self.ips_per_eni - 1) + 2


@cache
def _instance_table() -> dict[str, InstanceFacts]:
    rows = json.loads(INSTANCE_DATA.read_text())["instanceTypes"]
    return {
        name: InstanceFacts(name, row["vcpu"], row["memoryMib"], row["gpus"], row["enis"], row["ipsPerEni"]) for name, row in rows.items()
    }


def instance_facts(name: str) -> InstanceFacts | None:
    """The vendored facts of an instance type; None for a type the platform does not know."""
    return _instance_table().get(name)


def kube_reserved_cpu_m(vcpu: int) -> int:
    """nodeadm's ``getCPUMillicoresToReserve``: 6% of the first core, 1% of the second, 0.5% of
    cores 3-4 and 0.25% of the rest (integer millicores per range, as nodeadm rounds)."""
    total = vcpu * 1000
    reserved = 0
    for start, end, basis_points in ((0, 1000, 600), (1000, 2000, 100), (2000, 4000, 50), (4000, max(total, 4000), 25)):
        if total > start:
            reserved += (min(total, end) - start) * basis_points // 10000
    return reserved


def kube_reserved_memory_mib(max_pods: int) -> int:
    """nodeadm's ``getMemoryMebibytesToReserve``: 255Mi + 11Mi per pod the node may run."""
    return 11 * max_pods + 255


def node_allocatable(facts: InstanceFacts, extended: Mapping[str, int] | None = None) -> Resources:
    """Allocatable of an EKS AL2023 node of this type; ``extended`` is what its device plugin
    advertises (``gpu_catalog.gpu_resources``: GPUs, shared or MIG devices)."""
    memory = facts.memory_mib - kube_reserved_memory_mib(facts.max_pods) - EVICTION_HARD_MIB
    return Resources(facts.vcpu * 1000 - kube_reserved_cpu_m(facts.vcpu), memory, facts.max_pods, dict(extended or {}))


# ---------------------------------------------------------------- scheduling rules


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str = "NoSchedule"

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}"


def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Taint) -> bool:
    """Kubernetes' toleration matching (``v1.Toleration.ToleratesTaint``)."""
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint.effect:
            continue
        operator = t.get("operator", "Equal")
        if not t.get("key"):
            if operator == "Exists":
                return True
            continue
        if t["key"] != taint.key:
            continue
        if operator == "Exists" or t.get("value", "") == taint.value:
            return True
    return False


def _expression_matches(labels: Mapping[str, str], expression: Mapping[str, Any]) -> bool:
    key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    raise ValueError(f"node affinity operator {operator!r} is not modelled")


@dataclass(frozen=True)
class PodModel:
    """Pods of one template at their most replicas, with what the scheduler matches."""

    key: str
    """Config key (``rayClusters[0].head``) or object (``Deployment mlflow/mlflow``) the pods come from."""
    requests: Resources
    """Effective requests of one pod: max(largest init container, sum of containers), 1 pod slot."""
    replicas: int = 1
    node_selector: Mapping[str, str] = field(default_factory=dict)
    required_terms: Sequence[Sequence[Mapping[str, Any]]] = ()
    """``requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`` as lists of matchExpressions."""
    tolerations: Sequence[Mapping[str, Any]] = ()

    def admitted_by(self, labels: Mapping[str, str], taints: Sequence[Taint]) -> str | None:
        """Why a node with ``labels`` and ``taints`` rejects these pods; None when it admits them."""
        for key, value in sorted(self.node_selector.items()):
            if labels.get(key) != value:
                return f"nodeSelector {key}={value} not matched"
        if self.required_terms and not any(all(_expression_matches(labels, e) for e in term) for term in self.required_terms):
            return "required node affinity not matched"
        for taint in taints:
            if taint.effect in ("NoSchedule", "NoExecute") and not tolerates(self.tolerations, taint):
                return f"taint {taint} not tolerated"
        return None


@dataclass(frozen=True)
class DaemonSetModel:
    name: str
    requests: Resources
    """Requests of its pod (1 pod slot)."""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: Sequence[Mapping[str, Any]] = ()
    required_terms: Sequence[Sequence[Mapping[str, Any]]] = ()
    """Required node affinity, as :attr:`PodModel.required_terms`."""
    only_on: Sequence[str] | None = None
    """Pools it runs on regardless of labels (a node-feature gated DaemonSet such as the MIG
    manager); None: wherever its selector and tolerations admit it."""


@dataclass(frozen=True)
class PoolModel:
    name: str
    instance_type: str | None
    """The type the autoscaler plans with (the first); None for a node the stack does not provision (kind)."""
    allocatable: Resources
    """Of one node, before DaemonSets."""
    max_size: int
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[Taint] = ()
    daemonsets: Sequence[DaemonSetModel] = ()
    """Every DaemonSet of the cluster; :attr:`daemonset_requests` keeps those that land here."""

    def landing(self) -> list[DaemonSetModel]:
        found = []
        for ds in self.daemonsets:
            if ds.only_on is not None:
                if self.name in ds.only_on:
                    found.append(ds)
                continue
            pod = PodModel(
                ds.name, ds.requests, node_selector=ds.node_selector, required_terms=ds.required_terms, tolerations=ds.tolerations
            )
            if pod.admitted_by(self.labels, self.taints) is None:
                found.append(ds)
        return found

    @property
    def daemonset_requests(self) -> Resources:
        total = Resources()
        for ds in self.landing():
            total = total + ds.requests
        return total

    @property
    def free(self) -> Resources:
        """What one node offers to other pods once its DaemonSets run."""
        return self.allocatable - self.daemonset_requests

    def describe(self) -> str:
        ds = self.daemonset_requests
        what = self.instance_type or "node"
        return (
            f"{self.name} ({what}: {self.allocatable.describe()} allocatable, {self.free.describe()} "
            f"after DaemonSets {cpu_text(ds.cpu_m)} CPU/{memory_text(ds.memory_mib)})"
        )


def eks_pool(
    name: str,
    instance_type: str,
    *,
    max_size: int,
    labels: Mapping[str, str],
    taints: Sequence[Taint] = (),
    extended: Mapping[str, int] | None = None,
    daemonsets: Sequence[DaemonSetModel] = (),
) -> PoolModel | None:
    """A managed node group as the autoscaler plans it (its first instance type); None when the
    type's facts are not vendored."""
    facts = instance_facts(instance_type)
    if facts is None:
        return None
    well_known = {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "node.kubernetes.io/instance-type": instance_type}
    return PoolModel(name, instance_type, node_allocatable(facts, extended), max_size, {**well_known, **labels}, tuple(taints), daemonsets)


# ---------------------------------------------------------------- placement


@dataclass
class Node:
    pool: PoolModel
    index: int
    used: Resources = field(default_factory=Resources)
    pods: list[str] = field(default_factory=list)

    @property
    def room(self) -> Resources:
        return self.pool.free - self.used


@dataclass
class Placement:
    nodes: list[Node]
    placed: dict[str, list[tuple[str, int]]]
    """Pod key -> (pool, node index) per replica."""
    unplaced: dict[str, str]
    """Pod key -> why (some of) its replicas find no node."""

    def nodes_of(self, pool: str) -> list[Node]:
        return [n for n in self.nodes if n.pool.name == pool]


def unplaceable_reason(pod: PodModel, pools: Sequence[PoolModel]) -> str | None:
    """Why no node of any pool could ever take one of ``pod``'s replicas (an empty node of each
    pool considered); None when some pool could."""
    admitting, refused = [], []
    for pool in pools:
        why = pod.admitted_by(pool.labels, pool.taints)
        if why is None:
            admitting.append(pool)
        else:
            refused.append(f"{pool.name}: {why}")
    if any(pod.requests.fits_in(pool.free) for pool in admitting):
        return None
    if admitting:
        return f"{pod.requests.describe()} fits no node pool that admits it: " + "; ".join(p.describe() for p in admitting)
    return f"no node pool admits it ({'; '.join(refused) or 'no pools'})"


def place(pods: Sequence[PodModel], pools: Sequence[PoolModel]) -> Placement:
    """Bin-pack every replica of ``pods`` onto nodes of ``pools``, largest first, as the scheduler
    fills existing nodes and the cluster-autoscaler adds one (least waste) while a pool is below
    its max size. Pure and deterministic."""
    nodes: list[Node] = []
    placed: dict[str, list[tuple[str, int]]] = {}
    unplaced: dict[str, str] = {}
    order = sorted(pods, key=lambda p: (-sum(p.requests.extended.values()), -p.requests.cpu_m, -p.requests.memory_mib, p.key))
    for pod in order:
        reason = unplaceable_reason(pod, pools)
        if reason is not None:
            unplaced[pod.key] = reason
            continue
        admitting = [p for p in pools if pod.admitted_by(p.labels, p.taints) is None and pod.requests.fits_in(p.free)]
        for _ in range(pod.replicas):
            node = next((n for n in nodes if n.pool in admitting and pod.requests.fits_in(n.room)), None)
            if node is None:
                growable = [p for p in admitting if len([n for n in nodes if n.pool is p]) < p.max_size]
                if not growable:
                    sizes = ", ".join(f"{p.name} at maxSize {p.max_size}" for p in admitting)
                    unplaced[pod.key] = f"{len(placed.get(pod.key, []))} of {pod.replicas} replicas fit: {sizes}"
                    break
                pool = min(growable, key=lambda p: _waste(pod.requests, p.free))
                node = Node(pool, len([n for n in nodes if n.pool is pool]))
                nodes.append(node)
            node.used = node.used + pod.requests
            node.pods.append(pod.key)
            placed.setdefault(pod.key, []).append((node.pool.name, node.index))
    return Placement(nodes, placed, unplaced)


def _waste(requests: Resources, free: Resources) -> float:
    """The cluster-autoscaler's least-waste expander: unused CPU and memory share of a new node."""
    return (1 - requests.cpu_m / free.cpu_m) + (1 - requests.memory_mib / free.memory_mib)
