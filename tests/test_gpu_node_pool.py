"""GpuNodePool: taints, labels, scale-from-zero, launch template security, NVMe and EFA."""

from __future__ import annotations

import base64

import pytest

from components.cluster.gpu_catalog import GPU_INSTANCE_TYPES
from components.cluster.gpu_node_pool import gpu_resources
from tests.conftest import run_components

TEMPLATE_TAG = "k8s.io/cluster-autoscaler/node-template"


def _cluster():
    from components.cluster.eks_cluster import EksCluster

    return EksCluster("c", {"cluster_name": "c", "region": "us-west-2", "availability_zones": ["us-west-2a", "us-west-2b", "us-west-2c"]})


def _pool(name: str, **args):
    def build():
        _cluster().add_gpu_pool(name, {"instance_types": ["g6e.2xlarge"], **args})

    recording = run_components(build)
    group = recording.named("aws:eks/nodeGroup:NodeGroup", name)
    template = recording.named("aws:ec2/launchTemplate:LaunchTemplate", name)
    asg_tags = {
        t.inputs["tag"]["key"]: t.inputs["tag"]["value"]
        for t in recording.of_type("aws:autoscaling/tag:Tag")
        if t.urn.endswith(f"::{name}-" + t.name.removeprefix(f"{name}-"))
    }
    return recording, group, template, asg_tags


def test_gpu_nodes_are_tainted_and_labelled_for_scheduling():
    _, group, _, _ = _pool("infer", capacity_type="spot", max_size=5, labels={"team": "search"})
    inputs = group.inputs
    assert inputs["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert inputs["labels"] == {
        "ai-platform.io/pool": "infer",
        "ai-platform.io/accelerator": "nvidia-l40s",
        "ai-platform.io/instance-family": "g6e",
        "ai-platform.io/capacity-type": "spot",
        "team": "search",
    }
    assert inputs["amiType"] == "AL2023_x86_64_NVIDIA"
    assert inputs["capacityType"] == "SPOT"
    assert inputs["scalingConfig"] == {"minSize": 0, "desiredSize": 0, "maxSize": 5}


def test_an_empty_pool_tells_the_autoscaler_what_its_nodes_offer():
    recording, group, _, asg_tags = _pool("infer", instance_types=["g6e.12xlarge"])
    expected = {
        f"{TEMPLATE_TAG}/resources/nvidia.com/gpu": "4",
        f"{TEMPLATE_TAG}/taint/nvidia.com/gpu": "true:NoSchedule",
        f"{TEMPLATE_TAG}/label/ai-platform.io/pool": "infer",
        f"{TEMPLATE_TAG}/label/ai-platform.io/accelerator": "nvidia-l40s",
    }
    assert expected.items() <= asg_tags.items()
    # the tags go on the ASG itself (managed node groups do not copy them there)
    for tag in recording.of_type("aws:autoscaling/tag:Tag"):
        assert tag.inputs["autoscalingGroupName"].startswith("eks-infer-")
        assert tag.inputs["tag"]["propagateAtLaunch"] is False
        assert group.urn in tag.dependencies


def test_desired_size_drift_is_ignored_only_when_the_autoscaler_owns_it():
    _, owned, _, _ = _pool("a")
    _, pinned, _, _ = _pool("b", autoscaler_owns_desired_size=False)
    assert owned.ignore_changes == ["scalingConfig.desiredSize"]
    assert pinned.ignore_changes == []


def test_launch_template_requires_imdsv2_and_encrypts_the_root_volume():
    _, group, template, _ = _pool("a", root_volume_gib=300)
    inputs = template.inputs
    assert inputs["metadataOptions"]["httpTokens"] == "required"
    assert inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (root,) = inputs["blockDeviceMappings"]
    assert root["ebs"] == {"volumeSize": 300, "volumeType": "gp3", "encrypted": "true", "deleteOnTermination": "true"}
    assert group.property_dependencies["launchTemplate"] == [template.urn]


def test_nvme_instance_store_becomes_a_raid0_cache():
    _, _, template, _ = _pool("a")
    user_data = base64.b64decode(template.inputs["userData"]).decode()
    assert "Content-Type: application/node.eks.aws" in user_data
    assert "strategy: RAID0" in user_data
    _, _, plain, _ = _pool("b", nvme_cache=False)
    assert "userData" not in plain.inputs


def test_efa_pool_gets_an_interface_per_network_card_and_a_placement_group():
    def build():
        _cluster().add_gpu_pool("train", {"instance_types": ["p5.48xlarge"], "efa": True})

    recording = run_components(build)
    template = recording.named("aws:ec2/launchTemplate:LaunchTemplate", "train")
    interfaces = template.inputs["networkInterfaces"]
    assert len(interfaces) == GPU_INSTANCE_TYPES["p5.48xlarge"].efa_interfaces == 32
    assert {i["interfaceType"] for i in interfaces} == {"efa"}
    assert [i["networkCardIndex"] for i in interfaces] == list(range(32))
    assert [i["deviceIndex"] for i in interfaces[:2]] == [0, 1]
    (placement,) = recording.of_type("aws:ec2/placementGroup:PlacementGroup")
    assert placement.inputs["strategy"] == "cluster"
    assert template.inputs["placement"]["groupName"] == placement.name
    assert template.property_dependencies["placement"] == [placement.urn]
    group = recording.named("aws:eks/nodeGroup:NodeGroup", "train")
    assert len(group.inputs["subnetIds"]) == 1, "a cluster placement group lives in one AZ"
    rules = recording.of_type("aws:ec2/securityGroupRule:SecurityGroupRule")
    assert {r.inputs["type"] for r in rules} == {"ingress", "egress"}


def test_efa_pool_on_a_cluster_without_its_vpc_and_security_group_is_refused():
    from components.cluster.existing_eks_cluster import ExistingEksCluster
    from components.cluster.gpu_node_pool import GpuNodePool
    from components.core.problems import InputError

    raised = []

    def build():
        cluster = ExistingEksCluster(
            "e",
            {
                "cluster_name": "e",
                "region": "us-west-2",
                "endpoint": "https://e.example",
                "certificate_authority": "Y2E=",
                "node_role_arn": "arn:aws:iam::123456789012:role/nodes",
                "private_subnet_ids": ["subnet-a"],
            },
        )
        try:
            GpuNodePool("train", {"cluster": cluster, "instance_types": ["p5.48xlarge"], "efa": True})
        except InputError as error:
            raised.append(error)

    recording = run_components(build)
    (error,) = raised
    assert [(p.path, p.message) for p in error.problems] == [(("efa",), "EFA needs the cluster's VPC id and cluster security group id")]
    assert not recording.of_type("aws:ec2/launchTemplate:LaunchTemplate")


def test_pools_without_efa_span_all_private_subnets():
    _, group, template, _ = _pool("a")
    assert len(group.inputs["subnetIds"]) == 3
    assert "networkInterfaces" not in template.inputs


def test_mig_and_time_slicing_label_the_nodes_for_the_operator():
    _, group, _, asg_tags = _pool("m", instance_types=["p4de.24xlarge"], mig_profile="all-1g.10gb", time_slicing_replicas=2)
    assert group.inputs["labels"]["nvidia.com/mig.config"] == "all-1g.10gb"
    assert group.inputs["labels"]["nvidia.com/device-plugin.config"] == "m"
    # 8 GPUs x 7 MIG slices x 2 time-slices
    assert asg_tags[f"{TEMPLATE_TAG}/resources/nvidia.com/gpu"] == "112"


@pytest.mark.parametrize(
    ("instance", "profile", "strategy", "replicas", "expected"),
    [
        ("g6e.12xlarge", None, "single", None, {"nvidia.com/gpu": 4}),
        ("g6.xlarge", None, "single", 4, {"nvidia.com/gpu": 4}),
        ("p5.48xlarge", "all-3g.40gb", "single", None, {"nvidia.com/gpu": 16}),
        (
            "p5.48xlarge",
            "all-balanced",
            "mixed",
            None,
            {"nvidia.com/mig-1g.10gb": 16, "nvidia.com/mig-2g.20gb": 8, "nvidia.com/mig-3g.40gb": 8},
        ),
        ("p4d.24xlarge", "all-1g.5gb", "mixed", 2, {"nvidia.com/mig-1g.5gb": 112}),
    ],
)
def test_advertised_gpu_resources(instance, profile, strategy, replicas, expected):
    assert gpu_resources(GPU_INSTANCE_TYPES[instance], profile, strategy, replicas) == expected


def test_mixed_sizes_promise_only_the_smallest_gpu_count():
    _, _, _, asg_tags = _pool("a", instance_types=["g6e.12xlarge", "g6e.2xlarge"])
    assert asg_tags[f"{TEMPLATE_TAG}/resources/nvidia.com/gpu"] == "1"
