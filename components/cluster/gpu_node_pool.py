"""GpuNodePool: an EKS managed node group of GPU instances that scales from zero."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, SkipValidation

from ..core.args import Options, parse_args
from ..core.contracts import EksClusterLike
from ..core.problems import InputError, Problem
from ..core.types import InstanceType, LabelKey, LabelValue
from ..core.util import GPU_TOLERATION, LABEL_PREFIX
from .gpu_catalog import GPU_FAMILIES, GPU_INSTANCE_TYPES, GpuInstanceType, gpu_resources, mig_profiles
from .node_launch_template import node_launch_template

GPU_TAINT_KEY, GPU_TAINT_VALUE = "nvidia.com/gpu", "true"
GPU_TAINT: aws.eks.NodeGroupTaintArgsDict = {"key": GPU_TAINT_KEY, "value": GPU_TAINT_VALUE, "effect": "NO_SCHEDULE"}
AUTOSCALER_TAG = "k8s.io/cluster-autoscaler"
# Bind-mounts the RAID0 array over the containerd and kubelet directories (nodeadm localStorage).
NVME_RAID0_USER_DATA = """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="//"

--//
Content-Type: application/node.eks.aws

apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  instance:
    localStorage:
      strategy: RAID0
--//--
"""


CAPACITY_TYPES = {"onDemand": "ON_DEMAND", "spot": "SPOT"}
"""Config spelling -> the node group's ``capacityType``."""


class GpuNodePoolOptions(Options):
    """What a caller or a stack file sets for a GPU pool (``gpuPools[]``, with its ``name``)."""

    instance_types: list[InstanceType] = Field(min_length=1)
    """GPU instance types, all with the same GPU model (``components/cluster/gpu_catalog.py``); the
    autoscaler plans with the first."""
    capacity_type: Literal["onDemand", "spot"] = "onDemand"
    """``spot`` costs less and may be reclaimed."""
    min_size: int = Field(default=0, ge=0, le=1000)
    """Fewest nodes; 0 lets the pool scale to zero."""
    desired_size: int = Field(default=0, ge=0, le=1000)
    """Nodes at creation."""
    max_size: int = Field(default=2, ge=1, le=1000)
    """Most nodes the autoscaler may start."""
    ami_family: Literal["al2023"] = "al2023"
    """Node image: the EKS AL2023 NVIDIA AMI (driver and container toolkit preinstalled)."""
    root_volume_gib: int = Field(default=200, ge=50, le=16384)
    """Encrypted gp3 root volume size."""
    nvme_cache: bool = True
    """Assemble the instance store as RAID0 for images and model cache, where the type has NVMe."""
    efa: bool = False
    """EFA interfaces and a cluster placement group (single AZ) for multi-node training."""
    mig_profile: str | None = None
    """mig-parted config applied to the pool's nodes, e.g. ``all-1g.10gb`` or ``all-balanced``; unset: MIG off."""
    time_slicing_replicas: int | None = Field(default=None, ge=2, le=64)
    """Share each GPU (or MIG device) between this many pods; unset: no sharing."""
    labels: dict[LabelKey, LabelValue] = {}
    """Extra node labels."""
    autoscaler_owns_desired_size: bool = True
    """Ignore desired-size drift so ``pulumi up`` never undoes the cluster-autoscaler's work."""


class GpuNodePoolArgs(GpuNodePoolOptions):
    """A GPU pool's options plus what the composition injects."""

    cluster: SkipValidation[EksClusterLike]
    """The cluster the node group joins."""
    mig_strategy: Literal["none", "single", "mixed"] = "single"
    """The GPU Operator's MIG strategy; names the GPU resources a MIG node offers."""


def problems(options: GpuNodePoolOptions) -> list[Problem]:
    """What EKS, the catalog or the GPU Operator would reject about a pool; pure, so stack config
    validation runs it too."""
    found = size_problems(options) + label_problems(options.labels)
    unknown = [
        Problem(
            ("instance_types", position),
            f"{name!r} is not a GPU instance type; allowed families: {', '.join(GPU_FAMILIES)} (e.g. g6e.2xlarge, p5.48xlarge)",
        )
        for position, name in enumerate(options.instance_types)
        if name not in GPU_INSTANCE_TYPES
    ]
    if unknown:
        return found + unknown
    types = [GPU_INSTANCE_TYPES[name] for name in options.instance_types]
    gpus = {t.gpu.name for t in types}
    if len(gpus) > 1:
        return [*found, Problem(("instance_types",), f"all types of a pool must carry the same GPU model (got {', '.join(sorted(gpus))})")]
    return found + _mig_problems(options, types) + _efa_problems(options, types)


KUBELET_LABEL_PREFIXES = ("node.kubernetes.io", "kubelet.kubernetes.io")
"""The only kubernetes.io namespaces a kubelet may label its own node with (the NodeRestriction
admission plugin; ``--node-labels`` with any other kubernetes.io or k8s.io key stops the kubelet)."""
KUBELET_OWN_LABELS = ("node.kubernetes.io/instance-type",)
"""Labels the kubelet sets itself from the instance."""


def label_problems(labels: Mapping[str, str]) -> list[Problem]:
    """Extra node labels that the kubelet refuses, or that override a label the platform, the GPU
    Operator or the kubelet sets and its selectors rely on."""
    found = []
    for key in labels:
        prefix = key.rpartition("/")[0]
        if prefix == LABEL_PREFIX:
            what = "the label the platform's node selectors use" if key == f"{LABEL_PREFIX}/pool" else "the platform's own"
            found.append(Problem(("labels", key), f"{LABEL_PREFIX}/ labels are the platform's: {key} is {what}; choose another key"))
        elif prefix == "nvidia.com" or prefix.endswith(".nvidia.com"):
            found.append(
                Problem(
                    ("labels", key),
                    "nvidia.com/ labels belong to the GPU Operator (MIG, time-slicing, feature discovery); set {mig_profile} or {time_slicing_replicas} instead",
                )
            )
        elif _reserved_for_kubernetes(prefix) and (prefix not in KUBELET_LABEL_PREFIXES or key in KUBELET_OWN_LABELS):
            found.append(
                Problem(
                    ("labels", key),
                    f"kubernetes.io and k8s.io label keys are reserved for Kubernetes (a node may only set {', '.join(p + '/' for p in KUBELET_LABEL_PREFIXES)} keys); choose a prefix of your own",
                )
            )
    return found


def _reserved_for_kubernetes(prefix: str) -> bool:
    return any(prefix == domain or prefix.endswith(f".{domain}") for domain in ("kubernetes.io", "k8s.io"))


def size_problems(group: Any) -> list[Problem]:
    """``min_size <= desired_size <= max_size`` for a node group's scaling settings."""
    found = []
    if group.desired_size < group.min_size:
        found.append(Problem(("desired_size",), f"must be >= {{min_size}} ({group.min_size}) (got {group.desired_size})"))
    if group.max_size < max(group.min_size, group.desired_size):
        found.append(
            Problem(
                ("max_size",),
                f"must be >= {{min_size}} and {{desired_size}} ({max(group.min_size, group.desired_size)}) (got {group.max_size})",
            )
        )
    return found


def _mig_problems(options: GpuNodePoolOptions, types: list[GpuInstanceType]) -> list[Problem]:
    if options.mig_profile is None:
        return []
    gpu = types[0].gpu
    if not gpu.supports_mig:
        return [
            Problem(
                ("mig_profile",),
                f"{gpu.name} does not support MIG; MIG needs A100, H100, H200 or B200 (p4d, p4de, p5, p5e, p5en, p6-b200)",
            )
        ]
    allowed = mig_profiles(gpu)
    if options.mig_profile not in allowed:
        return [Problem(("mig_profile",), f"must be one of {', '.join(allowed)} for {gpu.name} (got {options.mig_profile!r})")]
    return []


def _efa_problems(options: GpuNodePoolOptions, types: list[GpuInstanceType]) -> list[Problem]:
    if not options.efa:
        return []
    without = [t.name for t in types if not t.efa_interfaces]
    if without:
        return [Problem(("efa",), f"instance types without EFA: {', '.join(without)}; EFA needs e.g. g6e.8xlarge+, p4d, p5, p6-b200")]
    if len({t.efa_interfaces for t in types}) > 1:
        return [
            Problem(
                ("efa",),
                "the launch template's EFA interfaces must match every type: use types with the same number of EFA network cards",
            )
        ]
    return []


def pool_labels(name: str, types: list[GpuInstanceType], a: GpuNodePoolArgs) -> dict[str, str]:
    labels = {
        f"{LABEL_PREFIX}/pool": name,
        f"{LABEL_PREFIX}/accelerator": types[0].gpu.name,
        f"{LABEL_PREFIX}/instance-family": "_".join(sorted({t.family for t in types})),
        f"{LABEL_PREFIX}/capacity-type": CAPACITY_TYPES[a.capacity_type].lower().replace("_", "-"),
    }
    if a.time_slicing_replicas:
        labels["nvidia.com/device-plugin.config"] = name
    if a.mig_profile:
        labels["nvidia.com/mig.config"] = a.mig_profile
    return {**labels, **a.labels}


def scale_from_zero_tags(labels: dict[str, str], resources: dict[str, int]) -> dict[str, str]:
    """ASG tags that tell the cluster-autoscaler what a node of an empty pool would look like."""
    template = f"{AUTOSCALER_TAG}/node-template"
    tags = {f"{template}/label/{k}": v for k, v in labels.items()}
    tags[f"{template}/taint/{GPU_TAINT_KEY}"] = f"{GPU_TAINT_VALUE}:NoSchedule"
    tags.update({f"{template}/resources/{k}": str(v) for k, v in resources.items()})
    return tags


def _autoscaling_group_name(resources: Sequence[aws.eks.outputs.NodeGroupResource]) -> str | None:
    groups = resources[0].autoscaling_groups
    # EKS creates the node group's ASG together with the node group, so a created node group always reports it.
    assert groups is not None, "the node group reports no autoscaling group"
    return groups[0].name


class GpuNodePool(pulumi.ComponentResource):
    name: str
    """The pool's name (its ``ai-platform.io/pool`` label value)."""
    node_group: aws.eks.NodeGroup
    labels: dict[str, str]
    """Labels every node of the pool carries."""
    node_selector: dict[str, str]
    """Selector that places a pod on this pool."""
    tolerations: list[dict[str, str]]
    """Tolerations a pod needs to run on this pool."""
    gpu_resources: dict[str, int]
    """Extended resources per node (``nvidia.com/gpu`` or MIG devices), after sharing."""
    time_slicing_replicas: int | None
    device_plugin_config: str | None
    """Name of the device plugin config this pool's nodes select, if any."""

    def __init__(self, name: str, args: GpuNodePoolArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        a = parse_args(GpuNodePoolArgs, args, component="GpuNodePool", name=name, problems=problems)
        cluster = a.cluster
        if a.efa and (cluster.vpc_id is None or cluster.cluster_security_group_id is None):
            # An ExistingEksCluster may not know them; the EFA security group and interfaces need both.
            raise InputError("GpuNodePool", name, [Problem(("efa",), "EFA needs the cluster's VPC id and cluster security group id")])
        super().__init__("aiplatform:index:GpuNodePool", name, None, opts)
        types = [GPU_INSTANCE_TYPES[t] for t in a.instance_types]
        self.name = name
        self._tags = cluster.tags

        self.labels = pool_labels(name, types, a)
        self.node_selector = {f"{LABEL_PREFIX}/pool": name}
        self.tolerations = [dict(GPU_TOLERATION)]
        # Sizes differ in GPU count; the autoscaler's template must not promise more than the smallest.
        self.gpu_resources = gpu_resources(min(types, key=lambda t: t.gpus), a.mig_profile, a.mig_strategy, a.time_slicing_replicas)
        self.time_slicing_replicas = a.time_slicing_replicas
        self.device_plugin_config = name if a.time_slicing_replicas else None

        template = self._launch_template(a, types, cluster)
        subnets = cluster.private_subnet_ids[:1] if a.efa else cluster.private_subnet_ids
        template_tags = scale_from_zero_tags(self.labels, self.gpu_resources)
        self.node_group = aws.eks.NodeGroup(
            name,
            cluster_name=cluster.cluster_name,
            node_role_arn=cluster.node_role_arn,
            subnet_ids=subnets,
            instance_types=list(a.instance_types),
            ami_type="AL2023_x86_64_NVIDIA",
            capacity_type=CAPACITY_TYPES[a.capacity_type],
            scaling_config={"min_size": a.min_size, "desired_size": a.desired_size, "max_size": a.max_size},
            update_config={"max_unavailable": 1},
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            labels=self.labels,
            taints=[GPU_TAINT],
            tags={**self._tags, **template_tags},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[cluster.vpc_cni],
                ignore_changes=["scalingConfig.desiredSize"] if a.autoscaler_owns_desired_size else None,
            ),
        )
        self._tag_autoscaling_group(template_tags)
        self.register_outputs(
            {
                "name": self.name,
                "node_group": self.node_group,
                "node_group_arn": self.node_group.arn,
                "labels": self.labels,
                "node_selector": self.node_selector,
                "tolerations": self.tolerations,
                "gpu_resources": self.gpu_resources,
                "time_slicing_replicas": self.time_slicing_replicas,
                "device_plugin_config": self.device_plugin_config,
            }
        )

    def _launch_template(self, a: GpuNodePoolArgs, types: list[GpuInstanceType], cluster: EksClusterLike) -> aws.ec2.LaunchTemplate:
        raid0 = a.nvme_cache and all(t.nvme for t in types)
        interfaces, placement = None, None
        if a.efa:
            interfaces = self._efa_interfaces(types[0].efa_interfaces, cluster)
            placement = aws.ec2.PlacementGroup(
                self.name, strategy="cluster", tags=self._tags, opts=pulumi.ResourceOptions(parent=self)
            ).name
        return node_launch_template(
            self.name,
            root_volume_gib=a.root_volume_gib,
            tags=self._tags,
            parent=self,
            user_data=NVME_RAID0_USER_DATA if raid0 else None,
            network_interfaces=interfaces,
            placement_group=placement,
        )

    def _efa_interfaces(self, cards: int, cluster: EksClusterLike) -> list[aws.ec2.LaunchTemplateNetworkInterfaceArgsDict]:
        cluster_group = cluster.cluster_security_group_id
        assert cluster_group is not None  # checked in __init__
        # EFA traffic must be allowed to and from the group itself, on every port.
        group = aws.ec2.SecurityGroup(
            f"{self.name}-efa",
            description=f"EFA traffic between nodes of {self.name}",
            vpc_id=cluster.vpc_id,
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        for direction in ("ingress", "egress"):
            aws.ec2.SecurityGroupRule(
                f"{self.name}-efa-{direction}",
                type=direction,
                security_group_id=group.id,
                source_security_group_id=group.id,
                protocol="-1",
                from_port=0,
                to_port=0,
                description="EFA: all traffic within the pool",
                opts=pulumi.ResourceOptions(parent=self),
            )
        return [
            {
                "device_index": 0 if card == 0 else 1,
                "network_card_index": card,
                "interface_type": "efa",
                "delete_on_termination": "true",
                "security_groups": [cluster_group, group.id],
            }
            for card in range(cards)
        ]

    def _tag_autoscaling_group(self, tags: dict[str, str]) -> None:
        tag_autoscaling_group(self.name, self.node_group, tags, parent=self)


def tag_autoscaling_group(name: str, node_group: aws.eks.NodeGroup, tags: dict[str, str], *, parent: pulumi.Resource) -> None:
    """Copy ``tags`` to the node group's ASG: managed node groups do not, and the autoscaler reads them there."""
    asg_name = node_group.resources.apply(_autoscaling_group_name)
    for key, value in sorted(tags.items()):
        aws.autoscaling.Tag(
            f"{name}-asg-{re.sub(r'[^A-Za-z0-9.-]+', '-', key.removeprefix(AUTOSCALER_TAG + '/'))}",
            autoscaling_group_name=asg_name,
            tag={"key": key, "value": value, "propagate_at_launch": False},
            opts=pulumi.ResourceOptions(parent=parent),
        )
