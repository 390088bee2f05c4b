"""Add GPU capacity to an EKS cluster this program does not own.

Config: ``aws:region``, ``clusterName``, ``endpoint``, ``certificateAuthority``, ``nodeRoleArn``,
``privateSubnetIds`` (a list) describe the cluster (see README.md). Optional: ``instanceTypes``
(default ``["g6e.xlarge"]``), ``maxSize`` (2), ``spot`` (false), ``timeSlicingReplicas`` (none),
``clusterAutoscaler`` (true; false when the cluster already runs one).
"""

import pulumi
from ai_platform.cluster.cluster_autoscaler import ClusterAutoscaler
from ai_platform.cluster.existing_eks_cluster import ExistingEksCluster
from ai_platform.compute.gpu_operator import GpuOperator

config = pulumi.Config()
region = pulumi.Config("aws").require("region")
cluster = ExistingEksCluster(
    "cluster",
    {
        "cluster_name": config.require("clusterName"),
        "region": region,
        "endpoint": config.require("endpoint"),
        "certificate_authority": config.require("certificateAuthority"),
        "node_role_arn": config.require("nodeRoleArn"),
        "private_subnet_ids": config.require_object("privateSubnetIds"),
    },
)

# Nodes start at zero and carry the nvidia.com/gpu taint; the AL2023 NVIDIA AMI ships the driver.
pool = cluster.add_gpu_pool(
    "gpu",
    {
        "instance_types": config.get_object("instanceTypes") or ["g6e.xlarge"],
        "capacity_type": "spot" if config.get_bool("spot") else "onDemand",
        "max_size": config.get_int("maxSize") or 2,
        "time_slicing_replicas": config.get_int("timeSlicingReplicas"),
    },
)
on_cluster = pulumi.ResourceOptions(provider=cluster.k8s_provider)
GpuOperator("gpu-operator", {"driver": "preinstalled", "node_pools": [pool]}, on_cluster)
if config.get_bool("clusterAutoscaler") is not False:
    ClusterAutoscaler("cluster-autoscaler", {"cluster": cluster, "region": region}, on_cluster)

pulumi.export("gpuNodeGroupArn", pool.node_group.arn)
pulumi.export("gpuNodeSelector", pool.node_selector)
pulumi.export("gpuResources", pool.gpu_resources)
