"""The scheduling model: EKS's allocatable arithmetic, placement of both stacks, rejections by key."""

from __future__ import annotations

import copy

import pytest

from components.cluster.capacity import (
    PodModel,
    Resources,
    Taint,
    eks_pool,
    instance_facts,
    kube_reserved_cpu_m,
    kube_reserved_memory_mib,
    memory_mib,
    node_allocatable,
    place,
)
from offline.render import kubernetes_objects, render
from offline.scheduling import monitoring_pod, pod_requests, program_pods, reloader_requests, report
from stacks.config import parse_stack_config
from stacks.errors import ConfigError

# Published figures. Max pods: EKS's eni-max-pods.txt (m7i.xlarge 58, m7i.4xlarge 234, p5.48xlarge
# 100). kube-reserved CPU: the EKS AMI's table (4 vCPU 80m, 16 vCPU 110m, 192 vCPU 550m = 60 + 10 +
# 10 + 188 x 2.5). Memory: 255Mi + 11Mi x 58 = 893Mi.


@pytest.mark.parametrize(("instance", "max_pods"), [("m7i.xlarge", 58), ("m7i.4xlarge", 234), ("p5.48xlarge", 100), ("g6e.xlarge", 58)])
def test_max_pods_match_eni_max_pods(instance, max_pods):
    facts = instance_facts(instance)
    assert facts is not None
    assert facts.max_pods == max_pods


@pytest.mark.parametrize(("vcpu", "millicores"), [(1, 60), (2, 70), (4, 80), (8, 90), (16, 110), (192, 550)])
def test_kube_reserved_cpu(vcpu, millicores):
    assert kube_reserved_cpu_m(vcpu) == millicores


def test_kube_reserved_memory_and_allocatable_of_a_system_node():
    assert kube_reserved_memory_mib(58) == 893
    facts = instance_facts("m7i.xlarge")
    assert facts is not None and (facts.vcpu, facts.memory_mib) == (4, 16384)
    allocatable = node_allocatable(facts)
    assert (allocatable.cpu_m, allocatable.memory_mib, allocatable.pods) == (3920, 16384 - 893 - 100, 58)


def test_quantities():
    assert memory_mib("24Gi") == 24576 and memory_mib("100Mi") == 100 and memory_mib("1G") == 954
    assert Resources.from_requests({"cpu": "500m", "memory": "1Gi"}).describe() == "0.5 CPU / 1Gi"


def test_taints_selectors_and_max_size():
    gpu = eks_pool(
        "gpu", "g6e.xlarge", max_size=2, labels={"pool": "gpu"}, taints=[Taint("nvidia.com/gpu", "true")], extended={"nvidia.com/gpu": 1}
    )
    cpu = eks_pool("cpu", "m7i.4xlarge", max_size=1, labels={"pool": "cpu"})
    assert gpu is not None and cpu is not None
    plain = PodModel("plain", Resources(1000, 1024, 1), 2)
    tolerating = PodModel(
        "gpu-pod", Resources(1000, 1024, 1, {"nvidia.com/gpu": 1}), 3, tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists"}]
    )
    selected = PodModel("selected", Resources(1000, 1024, 1), 1, node_selector={"pool": "gpu"})
    result = place([plain, tolerating, selected], [gpu, cpu])
    assert {pool for pool, _ in result.placed["plain"]} == {"cpu"}
    assert len(result.placed["gpu-pod"]) == 2
    assert result.unplaced["gpu-pod"] == "2 of 3 replicas fit: gpu at maxSize 2"
    assert "taint nvidia.com/gpu=true:NoSchedule not tolerated" in result.unplaced["selected"]


def _config(stack: str) -> dict:
    import yaml

    from offline.render import ROOT

    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    # secure: values (alert receivers' URLs and keys) are secrets the program reads, not schema keys
    return {
        k.split(":", 1)[1]: v
        for k, v in document.items()
        if k.startswith("ai-platform:") and not (isinstance(v, dict) and set(v) == {"secure"})
    }


def _problems(raw: dict, region: str | None = "us-west-2") -> dict[str, str]:
    try:
        parse_stack_config(raw, stack="test", region=region)
    except ConfigError as error:
        return dict(error.problems)
    return {}


def test_prod_without_the_cpu_node_group_is_rejected_naming_the_ray_head():
    raw = copy.deepcopy(_config("prod"))
    del raw["cluster"]["cpuNodeGroup"]
    found = _problems(raw)
    head = found["ai-platform:rayClusters[0].head"]
    assert head.startswith("4.5 CPU / 16.5Gi fits no node pool that admits it: system (m7i.xlarge: 3.92 CPU / 15Gi allocatable")
    assert "ai-platform:rayClusters[0].workerGroups[0]" in found


def test_prod_workers_beyond_the_cpu_pool_max_size_are_rejected():
    raw = copy.deepcopy(_config("prod"))
    raw["cluster"]["cpuNodeGroup"]["maxSize"] = 5  # one 8-CPU worker per m7i.4xlarge (15.6 CPU free)
    assert _problems(raw) == {"ai-platform:rayClusters[0].workerGroups[0]": "5 of 10 replicas fit: cpu at maxSize 5"}


def test_an_inference_service_too_big_for_its_pool_is_rejected():
    raw = copy.deepcopy(_config("prod"))
    raw["inferenceServices"][0]["memory"] = "40Gi"
    found = _problems(raw)
    assert found["ai-platform:inferenceServices[0]"].startswith(
        "40Gi".join(["3 CPU / ", ", 1 nvidia.com/gpu fits no node pool that admits it: inference (g6e.xlarge"])
    )


def test_dev_node_capacity_is_configurable_and_checked():
    raw = copy.deepcopy(_config("dev"))
    raw["cluster"]["nodeCapacity"] = {"cpu": 4, "memoryGib": 8}
    found = _problems(raw, region=None)
    assert "ai-platform:rayClusters[0].workerGroups[0]" in found or "ai-platform:inferenceServices[0]" in found
    raw["cluster"].pop("nodeCapacity")  # the stated default: 8 CPUs / 16 GiB
    assert _problems(raw, region=None) != {}


def test_the_kind_control_plane_and_coredns_take_their_share_of_the_dev_node():
    raw = copy.deepcopy(_config("dev"))
    # 9 CPU / 16 GiB holds dev's Ray cluster and model (8 CPU / 15.5Gi) and the DaemonSets, but not also
    # kubeadm's control plane (0.65 CPU, etcd 100Mi) and CoreDNS (2 x 0.1 CPU / 70Mi).
    raw["cluster"]["nodeCapacity"] = {"cpu": 9, "memoryGib": 16}
    found = _problems(raw, region=None)
    assert list(found) == ["ai-platform:cluster.nodeCapacity"]
    assert found["ai-platform:cluster.nodeCapacity"].startswith("no room left for the cluster's own pods beside the workloads: ")
    assert "coredns" in found["ai-platform:cluster.nodeCapacity"]
    raw["cluster"]["nodeCapacity"] = {"cpu": 10, "memoryGib": 17}
    assert _problems(raw, region=None) == {}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_pod_of_both_stacks_is_placed(stack):
    recording = render(stack)
    objects = [o for group in kubernetes_objects(recording).values() for o in group]
    text, data = report(stack, objects)
    assert data["unplaced"] == {}, text
    pods = {row["pod"]: row for row in data["pods"]}
    assert len(pods) >= 6
    if stack == "prod":
        head = pods["RayCluster training/training head"]
        assert [n["pool"] for n in head["nodes"]] == ["cpu"]
        assert {n["pool"] for n in pods["RayCluster training/training h100"]["nodes"]} == {"training"}
        assert len(pods["RayCluster training/training cpu"]["nodes"]) == 10
        assert {n["pool"] for n in pods["InferenceService models/chat-llm predictor"]["nodes"]} == {"inference"}


def test_program_pods_read_the_ray_head_with_its_autoscaler():
    recording = render("prod")
    objects = [o for group in kubernetes_objects(recording).values() for o in group]
    head = next(p for p in program_pods(objects) if p.key.endswith("head"))
    assert (head.requests.cpu_m, head.requests.memory_mib) == (4500, 16 * 1024 + 512)
    assert head.node_selector == {"ai-platform.io/pool": "cpu"}


def test_prod_declares_the_cpu_node_group_the_autoscaler_can_scale_from_zero():
    recording = render("prod")
    groups = {r.name: r.inputs for r in recording.of_type("aws:eks/nodeGroup:NodeGroup")}
    cpu = groups["ai-prod-cpu"]
    assert cpu["instanceTypes"] == ["m7i.4xlarge", "m6i.4xlarge"]
    assert cpu["labels"] == {"ai-platform.io/node-role": "workloads", "ai-platform.io/pool": "cpu"}
    assert not cpu.get("taints")
    assert cpu["scalingConfig"] == {"minSize": 1, "desiredSize": 1, "maxSize": 10}
    tags = {
        r.inputs["tag"]["key"]: r.inputs["tag"]["value"]
        for r in recording.of_type("aws:autoscaling/tag:Tag")
        if r.name.startswith("ai-prod-cpu-")
    }
    assert tags == {
        "k8s.io/cluster-autoscaler/node-template/label/ai-platform.io/node-role": "workloads",
        "k8s.io/cluster-autoscaler/node-template/label/ai-platform.io/pool": "cpu",
    }


def test_effective_pod_requests_count_sidecars_and_the_largest_init_container():
    spec = {
        "initContainers": [
            {"name": "sidecar", "restartPolicy": "Always", "resources": {"requests": {"cpu": "50m", "memory": "10Mi"}}},
            {"name": "migrate", "resources": {"limits": {"cpu": "1", "memory": "100Mi"}}},  # requests default to limits
        ],
        "containers": [{"resources": {"requests": {"cpu": "100m", "memory": "1Gi"}}}, {"resources": {"requests": {"cpu": "200m"}}}],
    }
    requests = pod_requests(spec)
    # CPU: the init container with the sidecar beside it (1.05) beats the running pod (0.35); memory the other way.
    assert (requests.cpu_m, requests.memory_mib, requests.pods) == (1050, 1034, 1)


def test_an_alertmanager_without_requests_gets_the_operators_defaults():
    # prometheus-operator v0.93: 200Mi for an Alertmanager without a memory request, 10m / 50Mi per config-reloader
    alertmanager = {"kind": "Alertmanager", "metadata": {"name": "am", "namespace": "m"}, "spec": {"replicas": 2}}
    pod = monitoring_pod("am", alertmanager, reloader_requests([]))
    assert (pod.requests.cpu_m, pod.requests.memory_mib, pod.replicas) == (10, 250, 2)
