"""The stack's node pools, DaemonSets and workloads as the scheduling model sees them, from config.

Used twice: stack validation (:func:`placement_problems`, before anything registers) rejects a
config whose Ray groups or inference services fit no node, naming their key; ``offline/scheduling.py``
starts from the same pools and DaemonSets and adds every pod the program declares.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.cluster.capacity import (
    DaemonSetModel,
    PodModel,
    PoolModel,
    Resources,
    Taint,
    eks_pool,
    place,
)
from components.cluster.gpu_catalog import GPU_INSTANCE_TYPES, gpu_resources
from components.core.problems import Problem
from components.core.util import GPU_TOLERATION, LABEL_PREFIX
from stacks.config import GpuPoolConfig, StackConfig

GPU_PRESENT = {"nvidia.com/gpu.present": "true"}
"""The label NFD / GPU feature discovery puts on GPU nodes; the GPU Operator's operands select it."""
TOLERATE_ALL = ({"operator": "Exists"},)

# EKS add-on DaemonSets on every node (they tolerate every taint). Requests as the add-ons' default
# manifests set them: vpc-cni's aws-node container 25m CPU (amazon-vpc-cni-k8s
# charts/aws-vpc-cni/values.yaml resources.requests), kube-proxy 100m CPU (EKS's kube-proxy
# manifest), the EBS CSI node plugin 10m / 40Mi for each of its three containers
# (aws-ebs-csi-driver charts values node.resources and sidecars). The Pod Identity agent sets no
# requests. These four are from the add-ons' manifests as we know them, not yet vendored under upstream/.
EKS_ADDON_DAEMONSETS = (
    DaemonSetModel("aws-node", Resources(25, 0, 1), tolerations=TOLERATE_ALL),
    DaemonSetModel("kube-proxy", Resources(100, 0, 1), tolerations=TOLERATE_ALL),
    DaemonSetModel("ebs-csi-node", Resources(30, 120, 1), tolerations=TOLERATE_ALL),
)
POD_IDENTITY_AGENT = DaemonSetModel("eks-pod-identity-agent", Resources(0, 0, 1), tolerations=TOLERATE_ALL)
# CoreDNS, two replicas of 100m / 70Mi (kubeadm's CoreDNS manifest, cmd/kubeadm/app/phases/addons/dns;
# the EKS coredns add-on keeps those requests). It needs no node selector, so it lands on any untainted node.
COREDNS = PodModel("cluster: coredns", Resources(100, 70, 1), 2)
# kind runs its control plane as static pods on the one node (kubeadm's manifests: kube-apiserver 250m,
# kube-controller-manager 200m, kube-scheduler 100m in phases/controlplane/manifests.go; etcd 100m / 100Mi in
# phases/etcd/local.go) and kindnet as a DaemonSet of 100m / 50Mi (kind pkg/build/nodeimage/const_cni.go).
KIND_CONTROL_PLANE = (
    PodModel("cluster: kube-apiserver", Resources(250, 0, 1), 1),
    PodModel("cluster: kube-controller-manager", Resources(200, 0, 1), 1),
    PodModel("cluster: kube-scheduler", Resources(100, 0, 1), 1),
    PodModel("cluster: etcd", Resources(100, 100, 1), 1),
)
KINDNET = DaemonSetModel("kindnet", Resources(100, 50, 1), tolerations=TOLERATE_ALL)
KSERVE_STORAGE_INITIALIZER = {"cpu": "100m", "memory": "100Mi"}
"""kserve-resources values ``kserve.storage.resources.requests`` (upstream/charts/kserve-resources-v0.20.0)."""


def _requests(values: dict[str, Any]) -> Resources:
    return Resources.from_requests(values["resources"]["requests"])


def daemonsets(config: StackConfig) -> list[DaemonSetModel]:
    """Every DaemonSet the stack runs: the EKS add-ons', the charts' and the GPU Operator's operands."""
    return [*addon_daemonsets(config), *chart_daemonsets(config), *operand_daemonsets(config)]


def cluster_pods(config: StackConfig) -> list[PodModel]:
    """The pods the cluster itself runs on the stack's nodes: CoreDNS, and on kind the control plane."""
    return [COREDNS] if config.is_eks else [*KIND_CONTROL_PLANE, COREDNS]


def addon_daemonsets(config: StackConfig) -> list[DaemonSetModel]:
    """The EKS add-ons' DaemonSets; kind's CNI, kindnet."""
    if not config.is_eks:
        return [KINDNET]
    found = list(EKS_ADDON_DAEMONSETS)
    if config.platform.cluster.workload_identity == "podIdentity":
        found.append(POD_IDENTITY_AGENT)
    return found


def chart_daemonsets(config: StackConfig) -> list[DaemonSetModel]:
    """The DaemonSets the charts render, as the program assumes them from the values it sets (cheap:
    no chart is rendered). ``tests/test_chart_placement.py`` checks that the real chart DaemonSets ask
    no more on any pool."""
    found: list[DaemonSetModel] = []
    if config.platform.observability.enabled:
        from components.observability.observability import ObservabilityArgs, chart_values

        values = chart_values("observability", ObservabilityArgs.model_validate({}), "-", "-", "-")
        # kube-prometheus-stack's node-exporter tolerates every NoSchedule taint (its values.yaml).
        exporter = values["prometheus-node-exporter"]
        found.append(DaemonSetModel("node-exporter", _requests(exporter), tolerations=({"operator": "Exists", "effect": "NoSchedule"},)))
    if config.platform.gpu_operator.enabled:
        values = _gpu_operator_values(config)
        worker = values["node-feature-discovery"]["worker"]
        found.append(DaemonSetModel("nfd-worker", _requests(worker), tolerations=(GPU_TOLERATION,)))
    return found


def operand_daemonsets(config: StackConfig) -> list[DaemonSetModel]:
    """The DaemonSets the GPU Operator creates on GPU nodes from its ClusterPolicy (not chart objects)."""
    operator = config.platform.gpu_operator
    if not operator.enabled:
        return []
    values = _gpu_operator_values(config)
    found: list[DaemonSetModel] = []
    for key, enabled in (("devicePlugin", True), ("gfd", True), ("dcgmExporter", operator.dcgm_exporter)):
        if enabled:
            found.append(DaemonSetModel(key, _requests(values[key]), node_selector=GPU_PRESENT, tolerations=(GPU_TOLERATION,)))
    if values["migManager"]["enabled"]:
        mig_pools = [p.name for p in config.platform.gpu_pools if p.mig_profile]
        found.append(DaemonSetModel("migManager", _requests(values["migManager"]), only_on=mig_pools))
    return found


def _gpu_operator_values(config: StackConfig) -> dict[str, Any]:
    from components.compute.gpu_operator import GpuOperatorArgs, chart_values

    operator = config.platform.gpu_operator
    return chart_values(
        GpuOperatorArgs.model_validate({k: getattr(operator, k) for k in GpuOperatorArgs.model_fields if hasattr(operator, k)})
    )


def pools(config: StackConfig) -> tuple[list[PoolModel], list[Problem]]:
    """The node pools the stack provisions (or the kind node it assumes), and the pools it cannot
    size (instance types without vendored facts)."""
    ds = daemonsets(config)
    cluster = config.platform.cluster
    if not config.is_eks:
        node = cluster.node_capacity
        allocatable = Resources(node.cpu * 1000, node.memory_gib * 1024 - 100, node.pods)
        labels = {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
        return [PoolModel("kind", None, allocatable, 1, labels, (), ds)], []
    from components.cluster.eks_cluster import SYSTEM_ROLE_LABEL, WORKLOAD_ROLE

    found: list[PoolModel] = []
    problems: list[Problem] = []
    candidates: list[tuple[tuple, Any]] = [
        (
            ("cluster", "system_node_group", "instance_types", 0),
            lambda t: eks_pool(
                "system", t, max_size=cluster.system_node_group.max_size, labels={SYSTEM_ROLE_LABEL: "system"}, daemonsets=ds
            ),
        )
    ]
    if cluster.cpu_node_group is not None:
        group = cluster.cpu_node_group
        candidates.append(
            (
                ("cluster", "cpu_node_group", "instance_types", 0),
                lambda t: eks_pool(
                    "cpu",
                    t,
                    max_size=group.max_size,
                    labels={SYSTEM_ROLE_LABEL: WORKLOAD_ROLE, f"{LABEL_PREFIX}/pool": "cpu"},
                    daemonsets=ds,
                ),
            )
        )
    types = [cluster.system_node_group.instance_types[0]]
    if cluster.cpu_node_group is not None:
        types.append(cluster.cpu_node_group.instance_types[0])
    for (key, make), instance_type in zip(candidates, types, strict=True):
        pool = make(instance_type)
        if pool is None:
            problems.append(Problem(key, f"no capacity facts for {instance_type!r}; use one of upstream/instance-types.json"))
        else:
            found.append(pool)
    for index, gpu_pool in enumerate(config.platform.gpu_pools):
        pool = _gpu_pool(gpu_pool, config, ds)
        if pool is None:
            problems.append(
                Problem(
                    ("gpu_pools", index, "instance_types", 0),
                    f"no capacity facts for {gpu_pool.instance_types[0]!r}: the pool cannot be planned",
                )
            )
        else:
            found.append(pool)
    return found, problems


def _gpu_pool(pool: GpuPoolConfig, config: StackConfig, ds: Sequence[DaemonSetModel]) -> PoolModel | None:
    from components.cluster.gpu_node_pool import GPU_TAINT_KEY, GPU_TAINT_VALUE

    first = pool.instance_types[0]
    if first not in GPU_INSTANCE_TYPES:
        return None
    # The node group's labels as GpuNodePool sets them (pool_labels) matter only through the pool
    # selector; NFD adds gpu.present on every GPU node.
    extended = gpu_resources(
        GPU_INSTANCE_TYPES[first], pool.mig_profile, config.platform.gpu_operator.mig_strategy, pool.time_slicing_replicas
    )
    labels = {f"{LABEL_PREFIX}/pool": pool.name, **GPU_PRESENT, **pool.labels}
    return eks_pool(
        pool.name,
        first,
        max_size=pool.max_size,
        labels=labels,
        taints=[Taint(GPU_TAINT_KEY, GPU_TAINT_VALUE)],
        extended=extended,
        daemonsets=ds,
    )


def _gpu_placement(pool_name: str | None, gpus: int) -> dict[str, Any]:
    placement: dict[str, Any] = {}
    if pool_name is not None:
        placement["node_selector"] = {f"{LABEL_PREFIX}/pool": pool_name}
        placement["tolerations"] = (GPU_TOLERATION,)
    elif gpus:
        placement["tolerations"] = (GPU_TOLERATION,)
    return placement


def workloads(config: StackConfig) -> list[tuple[tuple, PodModel]]:
    """The pods of the configured workloads at their most replicas, each with its config key."""
    from components.compute.ray_cluster import AUTOSCALER_RESOURCES

    found: list[tuple[tuple, PodModel]] = []
    cpu_selector = cpu_pool_selector(config)
    for index, cluster in enumerate(config.platform.ray_clusters):
        at = ("ray_clusters", index)
        head = Resources.from_requests({"cpu": cluster.head.cpu, "memory": f"{cluster.head.memory_gib}Gi"})
        if cluster.autoscaling:  # KubeRay adds the autoscaler container to the head pod
            head = head + Resources.from_requests(AUTOSCALER_RESOURCES, pods=0)
        found.append(((*at, "head"), PodModel(f"rayClusters[{index}].head", head, 1, node_selector=cpu_selector)))
        for g, group in enumerate(cluster.worker_groups):
            requests = {"cpu": group.cpu, "memory": f"{group.memory_gib}Gi", "nvidia.com/gpu": group.gpus}
            replicas = group.max_replicas if cluster.autoscaling else group.min_replicas
            placement: dict[str, Any] = {"node_selector": cpu_selector}
            if group.gpus or group.gpu_pool:
                placement = _gpu_placement(group.gpu_pool, group.gpus)
            found.append(
                (
                    (*at, "worker_groups", g),
                    PodModel(f"rayClusters[{index}].workerGroups[{g}]", Resources.from_requests(requests), replicas, **placement),
                )
            )
    for index, model in enumerate(config.platform.inference_services):
        requests = Resources.from_requests({"cpu": model.cpu, "memory": model.memory, model.gpu_resource: model.gpus})
        init = Resources.from_requests(KSERVE_STORAGE_INITIALIZER)
        effective = Resources(max(requests.cpu_m, init.cpu_m), max(requests.memory_mib, init.memory_mib), 1, requests.extended)
        placement = _gpu_placement(model.gpu_pool, model.gpus)
        at = ("inference_services", index)
        found.append((at, PodModel(f"inferenceServices[{index}]", effective, model.max_replicas, **placement)))
        for c, _canary in enumerate(model.canaries):
            # A canary runs the predictor's pod and, in Standard mode, scales like it.
            key = f"inferenceServices[{index}].canaries[{c}]"
            found.append(((*at, "canaries", c), PodModel(key, effective, model.max_replicas, **placement)))
    return found


def cpu_pool_selector(config: StackConfig) -> dict[str, str]:
    """Where Ray heads and CPU workers run: the CPU node group when the stack has one."""
    if config.is_eks and config.platform.cluster.cpu_node_group is not None:
        from components.cluster.eks_cluster import CPU_POOL

        return {f"{LABEL_PREFIX}/pool": CPU_POOL}
    return {}


def placement_problems(config: StackConfig) -> list[Problem]:
    """Workloads that could not be placed at their most replicas, named by their config key:
    a pod no pool admits or fits, or replicas beyond the pools' max sizes."""
    found_pools, problems = pools(config)
    if problems:
        return problems
    pods = workloads(config)
    own = cluster_pods(config)
    result = place([*own, *(pod for _, pod in pods)], found_pools)
    problems = [Problem(key, result.unplaced[pod.key]) for key, pod in pods if pod.key in result.unplaced]
    crowded_out = [f"{pod.key.removeprefix('cluster: ')} ({result.unplaced[pod.key]})" for pod in own if pod.key in result.unplaced]
    if crowded_out:
        key = ("cluster", "system_node_group", "max_size") if config.is_eks else ("cluster", "node_capacity")
        problems.append(Problem(key, f"no room left for the cluster's own pods beside the workloads: {', '.join(crowded_out)}"))
    return problems
