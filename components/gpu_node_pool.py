"""GpuNodePool: an EKS managed node group of GPU instances that scales from zero."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Required, TypedDict

import pulumi
import pulumi_aws as aws

from components._util import GPU_TOLERATION, LABEL_PREFIX, with_defaults
from components.gpu_catalog import GPU_INSTANCE_TYPES, GpuInstanceType, gpu_resources
from components.node_launch_template import node_launch_template

if TYPE_CHECKING:
    from components.eks_cluster import EksCluster

GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}
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


class GpuNodePoolArgs(TypedDict, total=False):
    cluster: Required["EksCluster"]
    """The cluster the node group joins. Required."""
    instance_types: Required[Sequence[str]]
    """GPU instance types, all with the same GPU model (see ``components.gpu_catalog``). Required."""
    capacity_type: str
    """``ON_DEMAND`` or ``SPOT``. Default: ``ON_DEMAND``."""
    min_size: int
    """Fewest nodes; 0 lets the pool scale to zero. Default: 0."""
    desired_size: int
    """Nodes at creation. Default: 0."""
    max_size: int
    """Most nodes the autoscaler may start. Default: 2."""
    root_volume_gib: int
    """Encrypted gp3 root volume size. Default: 200."""
    nvme_cache: bool
    """RAID0 over the instance store for images and model cache, where the type has NVMe. Default: true."""
    efa: bool
    """EFA interfaces on every network card, a cluster placement group, one AZ. Default: false."""
    mig_profile: str | None
    """mig-parted config for the nodes (``nvidia.com/mig.config`` label). Default: none (MIG off)."""
    mig_strategy: str
    """The GPU Operator's MIG strategy, ``single`` or ``mixed``; names the GPU resources. Default: ``single``."""
    time_slicing_replicas: int | None
    """Pods sharing each GPU; selects this pool's device plugin config. Default: none (no sharing)."""
    labels: dict[str, str]
    """Extra node labels. Default: none."""
    autoscaler_owns_desired_size: bool
    """Ignore desired-size drift so ``pulumi up`` never undoes the autoscaler. Default: true."""


DEFAULTS = {
    "capacity_type": "ON_DEMAND",
    "min_size": 0,
    "desired_size": 0,
    "max_size": 2,
    "root_volume_gib": 200,
    "nvme_cache": True,
    "efa": False,
    "mig_profile": None,
    "mig_strategy": "single",
    "time_slicing_replicas": None,
    "labels": {},
    "autoscaler_owns_desired_size": True,
}


def pool_labels(name: str, types: list[GpuInstanceType], a: dict) -> dict[str, str]:
    labels = {
        f"{LABEL_PREFIX}/pool": name,
        f"{LABEL_PREFIX}/accelerator": types[0].gpu.name,
        f"{LABEL_PREFIX}/instance-family": "_".join(sorted({t.family for t in types})),
        f"{LABEL_PREFIX}/capacity-type": a["capacity_type"].lower().replace("_", "-"),
    }
    if a["time_slicing_replicas"]:
        labels["nvidia.com/device-plugin.config"] = name
    if a["mig_profile"]:
        labels["nvidia.com/mig.config"] = a["mig_profile"]
    return {**labels, **a["labels"]}


def scale_from_zero_tags(labels: dict[str, str], resources: dict[str, int]) -> dict[str, str]:
    """ASG tags that tell the cluster-autoscaler what a node of an empty pool would look like."""
    template = f"{AUTOSCALER_TAG}/node-template"
    tags = {f"{template}/label/{k}": v for k, v in labels.items()}
    tags[f"{template}/taint/{GPU_TAINT['key']}"] = f"{GPU_TAINT['value']}:NoSchedule"
    tags.update({f"{template}/resources/{k}": str(v) for k, v in resources.items()})
    return tags


class GpuNodePool(pulumi.ComponentResource):
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

    def __init__(self, name: str, args: GpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aiplatform:index:GpuNodePool", name, None, opts)
        a = with_defaults(args, DEFAULTS)
        cluster: "EksCluster" = a["cluster"]
        types = [GPU_INSTANCE_TYPES[t] for t in a["instance_types"]]
        self._name = name
        self._tags = cluster.tags

        self.labels = pool_labels(name, types, a)
        self.node_selector = {f"{LABEL_PREFIX}/pool": name}
        self.tolerations = [dict(GPU_TOLERATION)]
        # Sizes differ in GPU count; the autoscaler's template must not promise more than the smallest.
        self.gpu_resources = gpu_resources(
            min(types, key=lambda t: t.gpus), a["mig_profile"], a["mig_strategy"], a["time_slicing_replicas"]
        )
        self.time_slicing_replicas = a["time_slicing_replicas"]
        self.device_plugin_config = name if a["time_slicing_replicas"] else None

        template = self._launch_template(a, types, cluster)
        subnets = cluster.private_subnet_ids[:1] if a["efa"] else cluster.private_subnet_ids
        template_tags = scale_from_zero_tags(self.labels, self.gpu_resources)
        self.node_group = aws.eks.NodeGroup(
            name,
            cluster_name=cluster.cluster_name,
            node_role_arn=cluster.node_role_arn,
            subnet_ids=subnets,
            instance_types=list(a["instance_types"]),
            ami_type="AL2023_x86_64_NVIDIA",
            capacity_type=a["capacity_type"],
            scaling_config={"min_size": a["min_size"], "desired_size": a["desired_size"], "max_size": a["max_size"]},
            update_config={"max_unavailable": 1},
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            labels=self.labels,
            taints=[GPU_TAINT],
            tags={**self._tags, **template_tags},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[cluster.vpc_cni],
                ignore_changes=["scalingConfig.desiredSize"] if a["autoscaler_owns_desired_size"] else None,
            ),
        )
        self._tag_autoscaling_group(template_tags)
        self.register_outputs({"node_group_arn": self.node_group.arn, "labels": self.labels})

    def _launch_template(self, a: dict, types: list[GpuInstanceType], cluster: "EksCluster") -> aws.ec2.LaunchTemplate:
        raid0 = a["nvme_cache"] and all(t.nvme for t in types)
        interfaces, placement = None, None
        if a["efa"]:
            interfaces = self._efa_interfaces(types[0].efa_interfaces, cluster)
            placement = aws.ec2.PlacementGroup(
                self._name, strategy="cluster", tags=self._tags, opts=pulumi.ResourceOptions(parent=self)
            ).name
        return node_launch_template(
            self._name,
            root_volume_gib=a["root_volume_gib"],
            tags=self._tags,
            parent=self,
            user_data=NVME_RAID0_USER_DATA if raid0 else None,
            network_interfaces=interfaces,
            placement_group=placement,
        )

    def _efa_interfaces(self, cards: int, cluster: "EksCluster") -> list[dict]:
        # EFA traffic must be allowed to and from the group itself, on every port.
        group = aws.ec2.SecurityGroup(
            f"{self._name}-efa",
            description=f"EFA traffic between nodes of {self._name}",
            vpc_id=cluster.vpc_id,
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        for direction in ("ingress", "egress"):
            aws.ec2.SecurityGroupRule(
                f"{self._name}-efa-{direction}",
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
                "security_groups": [cluster.cluster_security_group_id, group.id],
            }
            for card in range(cards)
        ]

    def _tag_autoscaling_group(self, tags: dict[str, str]) -> None:
        # Managed node groups do not copy their tags to the ASG, where the autoscaler reads them.
        asg_name = self.node_group.resources.apply(lambda r: r[0].autoscaling_groups[0].name)
        for key, value in sorted(tags.items()):
            aws.autoscaling.Tag(
                f"{self._name}-asg-{re.sub(r'[^A-Za-z0-9.-]+', '-', key.removeprefix(AUTOSCALER_TAG + '/'))}",
                autoscaling_group_name=asg_name,
                tag={"key": key, "value": value, "propagate_at_launch": False},
                opts=pulumi.ResourceOptions(parent=self),
            )
