"""Launch templates for EKS managed node groups: IMDSv2 only, encrypted gp3 root volume."""

from __future__ import annotations

import base64

import pulumi
import pulumi_aws as aws

ROOT_DEVICE = "/dev/xvda"  # the root device name of the EKS AL2023 AMIs


def node_launch_template(
    name: str,
    *,
    root_volume_gib: int,
    tags: dict[str, str],
    parent: pulumi.Resource,
    user_data: str | None = None,
    network_interfaces: list[aws.ec2.LaunchTemplateNetworkInterfaceArgsDict] | None = None,
    placement_group: pulumi.Input[str] | None = None,
) -> aws.ec2.LaunchTemplate:
    return aws.ec2.LaunchTemplate(
        name,
        description=f"EKS nodes of {name}: IMDSv2 only, encrypted gp3 root volume",
        metadata_options={
            "http_endpoint": "enabled",
            "http_tokens": "required",
            # One hop: pods get AWS credentials from Pod Identity/IRSA, never from the node.
            "http_put_response_hop_limit": 1,
        },
        block_device_mappings=[
            {
                "device_name": ROOT_DEVICE,
                "ebs": {
                    "volume_size": root_volume_gib,
                    "volume_type": "gp3",
                    "encrypted": "true",
                    "delete_on_termination": "true",
                },
            }
        ],
        user_data=base64.b64encode(user_data.encode()).decode() if user_data else None,
        network_interfaces=network_interfaces,
        placement={"group_name": placement_group} if placement_group is not None else None,
        tag_specifications=[{"resource_type": kind, "tags": {**tags, "Name": name}} for kind in ("instance", "volume")],
        tags=tags,
        update_default_version=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
