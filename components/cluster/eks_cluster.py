"""EksCluster: VPC, EKS control plane, system nodes, core add-ons and a Kubernetes provider."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, cast, get_args

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pydantic import Field

from .. import versions
from ..core.args import Options, parse_args
from ..core.contracts import EksClusterLike
from ..core.network_policy import Allow, ClusterNetwork, register_cluster_network
from ..core.problems import Problem, escape
from ..core.types import Cidr, InstanceType, RoleArn, matches
from ..core.util import LABEL_PREFIX, assume_role_policy
from ..core.workload_identity import IRSA, POD_IDENTITY, service_account_role
from .eks_base import EksClusterBase, eks_cluster_arn
from .gpu_node_pool import size_problems
from .node_launch_template import node_launch_template
from .vpc import Vpc, VpcArgs, VpcOptions
from .vpc import problems as vpc_problems

MANAGED = "arn:aws:iam::aws:policy"
NODE_POLICIES = (
    f"{MANAGED}/AmazonEKSWorkerNodePolicy",
    f"{MANAGED}/AmazonEC2ContainerRegistryPullOnly",
)
SYSTEM_ROLE_LABEL = f"{LABEL_PREFIX}/node-role"
WORKLOAD_ROLE = "workloads"
"""``node-role`` label value of the CPU node group."""
CPU_POOL = "cpu"
"""``ai-platform.io/pool`` label value of the CPU node group: Ray heads and CPU workers select it."""
EKS_VERSIONS = ("1.34", "1.35", "1.36", "1.37")
"""Kubernetes minors in EKS standard support (late 2026)."""
EksAddon = Literal["vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "eks-pod-identity-agent"]
EKS_ADDONS: tuple[EksAddon, ...] = get_args(EksAddon)
ControlPlaneLog = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
CONTROL_PLANE_LOG_TYPES: tuple[ControlPlaneLog, ...] = get_args(ControlPlaneLog)
EKS_SERVICE_CIDRS = ("10.100.0.0/16", "172.20.0.0/16")
"""Where EKS puts the Service ClusterIPs when the cluster sets none (API reference,
KubernetesNetworkConfigRequest.serviceIpv4Cidr: "either the 10.100.0.0/16 or 172.20.0.0/16")."""
VPC_CNI_CONFIGURATION = {"enableNetworkPolicy": "true"}
"""The vpc-cni add-on's configuration values: enforce NetworkPolicies, which the add-on leaves off
(chart aws-vpc-cni v1.23.0 values.yaml: ``enableNetworkPolicy: "false"``, a string). The agent that
enforces them is the ``aws-eks-nodeagent`` container, on by default (``nodeAgent.enabled: true``)
and never turned off here."""
AddonVersion = Annotated[str, matches(re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$"), "an EKS add-on version such as v1.20.4-eksbuild.1")]


class EndpointOptions(Options):
    """Who reaches the API server (``cluster.endpoint``)."""

    public_access: bool = False
    """Expose the API endpoint on the internet; the private endpoint is always on."""
    public_access_cidrs: list[Cidr] = []
    """Source ranges allowed on the public endpoint; required when it is public."""


class SystemNodeGroupOptions(Options):
    """The node group for platform controllers (``cluster.systemNodeGroup``)."""

    instance_types: list[InstanceType] = Field(default=["m7i.xlarge"], min_length=1)
    """Instance types of the system nodes."""
    min_size: int = Field(default=2, ge=1, le=100)
    """Fewest nodes."""
    desired_size: int = Field(default=2, ge=1, le=100)
    """Nodes at creation."""
    max_size: int = Field(default=4, ge=1, le=100)
    """Most nodes."""
    disk_size_gib: int = Field(default=50, ge=20, le=1000)
    """Root volume size."""


class CpuNodeGroupOptions(Options):
    """The general-purpose node group for work that needs no GPU (``cluster.cpuNodeGroup``): Ray
    heads and CPU workers, notebooks, batch jobs. Untainted, so anything without a GPU may land
    there; the platform's controllers keep to the system nodes through their node selector, and
    Ray selects this group (``ai-platform.io/pool: cpu``) so it never crowds the system nodes.
    The cluster-autoscaler grows and shrinks it like the GPU pools."""

    instance_types: list[InstanceType] = Field(default=["m7i.4xlarge"], min_length=1)
    """Instance types; the autoscaler plans with the first, so list the same size first."""
    capacity_type: Literal["onDemand", "spot"] = "onDemand"
    """``spot`` costs less and may be reclaimed (a Ray head should not be)."""
    min_size: int = Field(default=0, ge=0, le=1000)
    """Fewest nodes; 0 lets the group scale to zero when nothing runs."""
    desired_size: int = Field(default=0, ge=0, le=1000)
    """Nodes at creation (the autoscaler owns the count afterwards)."""
    max_size: int = Field(default=10, ge=1, le=1000)
    """Most nodes the autoscaler may start."""
    disk_size_gib: int = Field(default=100, ge=20, le=16000)
    """Root volume size (images such as Ray's are several GiB)."""


class EksClusterOptions(Options):
    """What a caller or a stack file sets for an EKS cluster (``cluster``, provider ``eks``)."""

    kubernetes_version: str = versions.KUBERNETES
    """Kubernetes minor version; one in EKS standard support."""
    vpc: VpcOptions = VpcOptions()
    """The cluster's network."""
    endpoint: EndpointOptions = EndpointOptions()
    """API endpoint access."""
    admin_role_arns: list[RoleArn] = []
    """IAM roles given cluster-admin through EKS access entries."""
    workload_identity: Literal["podIdentity", "irsa"] = POD_IDENTITY
    """How service accounts get IAM roles: EKS Pod Identity or IRSA (an IAM OIDC provider)."""
    control_plane_logs: list[ControlPlaneLog] = list(CONTROL_PLANE_LOG_TYPES)
    """Control plane log types sent to CloudWatch (all five unless listed)."""
    log_retention_days: Literal[7, 14, 30, 60, 90, 180, 365] = 90
    """Retention of the control plane log group."""
    system_node_group: SystemNodeGroupOptions = SystemNodeGroupOptions()
    """The node group for platform controllers."""
    cpu_node_group: CpuNodeGroupOptions | None = None
    """A general-purpose node group that scales (Ray heads and CPU workers). Unset: none, and
    work without a GPU must fit the system nodes."""
    addon_versions: dict[EksAddon, AddonVersion] = {}
    """Pinned EKS add-on versions; unset add-ons get EKS's default for the Kubernetes minor, fixed at creation."""
    deletion_protection: bool = True
    """EKS refuses to delete the cluster until this is turned off."""


class EksClusterArgs(EksClusterOptions):
    """An EKS cluster's options plus what the composition decides: names, region, zones, tags."""

    cluster_name: str
    """Name of the EKS cluster."""
    region: str
    """AWS region, used in the kubeconfig."""
    availability_zones: list[str] = Field(min_length=1, max_length=3)
    """Availability zones of the region (three for an AZ-outage-proof cluster)."""
    group_role_arns: dict[str, list[RoleArn]] = {}
    """Kubernetes group -> IAM roles whose sessions belong to it (access entries, no access
    policy: RoleBindings grant the rights)."""
    tags: dict[str, str] = {}
    """Tags for every AWS resource."""


def problems(options: EksClusterOptions) -> list[Problem]:
    """What EKS would reject or what leaves the cluster open; pure, so stack config validation runs it too."""
    found = []
    if options.kubernetes_version not in EKS_VERSIONS:
        found.append(
            Problem(
                ("kubernetes_version",),
                f"EKS standard support covers {', '.join(EKS_VERSIONS)} (got {escape(repr(options.kubernetes_version))})",
            )
        )
    found += [p.under("vpc") for p in vpc_problems(options.vpc)]
    found += [p.under("endpoint") for p in endpoint_problems(options.endpoint)]
    found += [p.under("system_node_group") for p in size_problems(options.system_node_group)]
    if options.cpu_node_group is not None:
        found += [p.under("cpu_node_group") for p in size_problems(options.cpu_node_group)]
    return found


def endpoint_problems(endpoint: EndpointOptions) -> list[Problem]:
    """A public endpoint needs its own source ranges, and never the whole internet."""
    path = ("public_access_cidrs",)
    if not endpoint.public_access:
        if endpoint.public_access_cidrs:
            return [Problem(path, "only valid with {public_access}: true")]
        return []
    if not endpoint.public_access_cidrs:
        return [Problem(path, "list the source CIDRs allowed on the public endpoint (required with {public_access}: true)")]
    if covers_the_internet(endpoint.public_access_cidrs):
        return [
            Problem(
                path,
                "these ranges together cover 0.0.0.0/0 and open the API to the whole internet; list your own ranges or set {public_access}: false",
            )
        ]
    return []


def covers_the_internet(cidrs: Sequence[str]) -> bool:
    """Whether the ranges together are every IPv4 address (two /1 halves are as open as 0.0.0.0/0)."""
    merged = list(ipaddress.collapse_addresses(ipaddress.IPv4Network(c) for c in cidrs))
    return merged == [ipaddress.IPv4Network("0.0.0.0/0")]


def kubeconfig_json(name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that authenticates with ``aws eks get-token`` (no static credentials)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "users": [
                {
                    "name": name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", name, "--region", region, "--output", "json"],
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


def eks_network(vpc_cidr: str) -> ClusterNetwork:
    """Where pods reach an EKS API server on 443. The VPC CNI's policy agent sits on the pod's
    veth, before kube-proxy's DNAT, so it sees the ``kubernetes`` Service's ClusterIP
    (amazon-network-policy-controller-k8s v1.1.7, pkg/resolvers/endpoints.go,
    getMatchingServiceClusterIPs: "unable to see the pod IP after the DNAT happens for the
    clusterIPs"); a client given the endpoint's name reaches its private ENIs in the VPC."""
    why = "the API server: the kubernetes Service's ClusterIP, or the endpoint's ENIs in the VPC"
    return ClusterNetwork(api_server=tuple(Allow(cidr, (443,), why) for cidr in (*EKS_SERVICE_CIDRS, vpc_cidr)))


class EksCluster(EksClusterBase):
    """VPC, EKS control plane, system nodes, core add-ons and a Kubernetes provider; its attributes
    are declared once in :class:`EksClusterBase`."""

    availability_zones: list[str]
    """Zones of the cluster's subnets."""

    def __init__(self, name: str, args: EksClusterArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        a = parse_args(EksClusterArgs, args, component="EksCluster", name=name, problems=problems)
        super().__init__("aiplatform:index:EksCluster", name, None, opts)
        self.workload_identity = a.workload_identity
        self.cluster_name_value = a.cluster_name
        self.kubernetes_version = a.kubernetes_version
        self.availability_zones = list(a.availability_zones)
        self.tags = dict(a.tags)
        self._name = name
        self._addon_versions: dict[str, str] = {str(k): v for k, v in a.addon_versions.items()}
        self._child = pulumi.ResourceOptions(parent=self)

        vpc = Vpc(
            f"{name}-vpc",
            VpcArgs(
                cidr=a.vpc.cidr,
                nat_gateways=a.vpc.nat_gateways,
                availability_zones=self.availability_zones,
                cluster_name=a.cluster_name,
                tags=self.tags,
            ),
            opts=self._child,
        )
        self.private_subnet_ids = vpc.private_subnet_ids
        self.vpc_id = vpc.vpc_id

        cluster = self._control_plane(a, vpc)
        self.cluster_name = cluster.name
        self.cluster_arn = eks_cluster_arn(a.region, a.cluster_name, parent=self)
        self.endpoint = cluster.endpoint
        self.cluster_security_group_id = cluster.vpc_config.cluster_security_group_id
        self._oidc(cluster)
        access = self._admin_access(a.admin_role_arns)
        self._group_access(a.group_role_arns)

        node_role = self._node_role()
        self.node_role_arn = node_role.arn
        early_addons = self._early_addons()
        system_nodes = self._system_node_group(a.system_node_group, node_role, early_addons)
        late_addons = self._late_addons(system_nodes)
        self.cpu_node_group = self._cpu_node_group(a.cpu_node_group, node_role, early_addons) if a.cpu_node_group else None

        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                cluster.name,
                cluster.endpoint,
                cluster.certificate_authority.data,
                *[r.id for r in access],
            ).apply(lambda v: kubeconfig_json(v[0], v[1], v[2], a.region))
        )
        self.k8s_provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig, opts=self._child)
        self.network = eks_network(a.vpc.cidr)
        register_cluster_network(self.k8s_provider, self.network)
        self._default_storage_class()
        self.workload_ready = [system_nodes, *late_addons]
        self.register_cluster_outputs(availability_zones=self.availability_zones)

    # ------------------------------------------------------------ control plane

    def _control_plane(self, a: EksClusterArgs, vpc: Vpc) -> aws.eks.Cluster:
        name = self._name
        key = aws.kms.Key(
            f"{name}-secrets",
            description=f"EKS secrets envelope encryption for {a.cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=self.tags,
            opts=self._child,
        )
        aws.kms.Alias(f"{name}-secrets", name=f"alias/{a.cluster_name}-eks-secrets", target_key_id=key.key_id, opts=self._child)
        # Created first so EKS does not create it without retention.
        logs = aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=f"/aws/eks/{a.cluster_name}/cluster",
            retention_in_days=a.log_retention_days,
            tags=self.tags,
            opts=self._child,
        )
        role = aws.iam.Role(
            f"{name}-control-plane", assume_role_policy=assume_role_policy("eks.amazonaws.com"), tags=self.tags, opts=self._child
        )
        policy = aws.iam.RolePolicyAttachment(
            f"{name}-control-plane", role=role.name, policy_arn=f"{MANAGED}/AmazonEKSClusterPolicy", opts=self._child
        )
        vpc_config: aws.eks.ClusterVpcConfigArgsDict = {
            "subnet_ids": vpc.private_subnet_ids,
            "endpoint_private_access": True,
            "endpoint_public_access": a.endpoint.public_access,
        }
        if a.endpoint.public_access_cidrs:
            vpc_config["public_access_cidrs"] = list(a.endpoint.public_access_cidrs)
        return aws.eks.Cluster(
            name,
            name=a.cluster_name,
            version=a.kubernetes_version,
            role_arn=role.arn,
            vpc_config=vpc_config,
            encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(a.control_plane_logs),
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            # The add-ons below are managed explicitly, so their versions are visible and updatable.
            bootstrap_self_managed_addons=False,
            upgrade_policy={"support_type": "STANDARD"},
            deletion_protection=a.deletion_protection,
            tags=self.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, logs]),
        )

    def _oidc(self, cluster: aws.eks.Cluster) -> None:
        self.oidc_provider_arn = self.oidc_issuer = None
        if self.workload_identity != IRSA:
            return
        self.oidc_issuer = cluster.identities[0].oidcs[0].issuer
        provider = aws.iam.OpenIdConnectProvider(
            f"{self._name}-oidc",
            url=self.oidc_issuer,
            client_id_lists=["sts.amazonaws.com"],
            tags=self.tags,
            opts=self._child,
        )
        self.oidc_provider_arn = provider.arn

    def _group_access(self, group_role_arns: Mapping[str, Sequence[str]]) -> None:
        """IAM roles that act as members of Kubernetes groups; RBAC decides what the groups may do."""
        for group, arns in sorted(group_role_arns.items()):
            for index, arn in enumerate(arns):
                aws.eks.AccessEntry(
                    f"{self._name}-{group}-{index}",
                    cluster_name=self.cluster_name,
                    principal_arn=arn,
                    type="STANDARD",
                    kubernetes_groups=[group],
                    tags=self.tags,
                    opts=self._child,
                )

    def _admin_access(self, role_arns: Sequence[str]) -> list[aws.eks.AccessPolicyAssociation]:
        associations = []
        for index, arn in enumerate(role_arns):
            entry = aws.eks.AccessEntry(
                f"{self._name}-admin-{index}",
                cluster_name=self.cluster_name,
                principal_arn=arn,
                type="STANDARD",
                tags=self.tags,
                opts=self._child,
            )
            associations.append(
                aws.eks.AccessPolicyAssociation(
                    f"{self._name}-admin-{index}",
                    cluster_name=self.cluster_name,
                    principal_arn=entry.principal_arn,
                    policy_arn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                    access_scope={"type": "cluster"},
                    opts=self._child,
                )
            )
        return associations

    # ------------------------------------------------------------ nodes

    def _node_role(self) -> aws.iam.Role:
        role = aws.iam.Role(
            f"{self._name}-node", assume_role_policy=assume_role_policy("ec2.amazonaws.com"), tags=self.tags, opts=self._child
        )
        for index, arn in enumerate(NODE_POLICIES):
            aws.iam.RolePolicyAttachment(f"{self._name}-node-{index}", role=role.name, policy_arn=arn, opts=self._child)
        return role

    def _system_node_group(self, group: SystemNodeGroupOptions, role: aws.iam.Role, after: Sequence[pulumi.Resource]) -> aws.eks.NodeGroup:
        template = node_launch_template(f"{self._name}-system", root_volume_gib=group.disk_size_gib, tags=self.tags, parent=self)
        return aws.eks.NodeGroup(
            f"{self._name}-system",
            cluster_name=self.cluster_name,
            node_role_arn=role.arn,
            subnet_ids=self.private_subnet_ids,
            instance_types=list(group.instance_types),
            ami_type="AL2023_x86_64_STANDARD",
            capacity_type="ON_DEMAND",
            scaling_config={"min_size": group.min_size, "desired_size": group.desired_size, "max_size": group.max_size},
            update_config={"max_unavailable": 1},
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            labels={SYSTEM_ROLE_LABEL: "system"},
            tags=self.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )

    def _cpu_node_group(self, group: CpuNodeGroupOptions, role: aws.iam.Role, after: Sequence[pulumi.Resource]) -> aws.eks.NodeGroup:
        from .gpu_node_pool import CAPACITY_TYPES, tag_autoscaling_group

        name = f"{self._name}-{CPU_POOL}"
        labels = {SYSTEM_ROLE_LABEL: WORKLOAD_ROLE, f"{LABEL_PREFIX}/pool": CPU_POOL}
        # Scaling from zero, the autoscaler knows a node's labels only from these ASG tags.
        template_tags = {f"k8s.io/cluster-autoscaler/node-template/label/{k}": v for k, v in labels.items()}
        template = node_launch_template(name, root_volume_gib=group.disk_size_gib, tags=self.tags, parent=self)
        node_group = aws.eks.NodeGroup(
            name,
            cluster_name=self.cluster_name,
            node_role_arn=role.arn,
            subnet_ids=self.private_subnet_ids,
            instance_types=list(group.instance_types),
            ami_type="AL2023_x86_64_STANDARD",
            capacity_type=CAPACITY_TYPES[group.capacity_type],
            scaling_config={"min_size": group.min_size, "desired_size": group.desired_size, "max_size": group.max_size},
            update_config={"max_unavailable": 1},
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            labels=labels,
            tags={**self.tags, **template_tags},
            opts=pulumi.ResourceOptions(parent=self, depends_on=after, ignore_changes=["scalingConfig.desiredSize"]),
        )
        tag_autoscaling_group(name, node_group, template_tags, parent=self)
        return node_group

    # ------------------------------------------------------------ add-ons

    def _addon(
        self, addon: str, depends_on: list[pulumi.Resource], role_arn=None, pod_identity=None, configuration: dict | None = None
    ) -> aws.eks.Addon:
        return aws.eks.Addon(
            f"{self._name}-{addon}",
            cluster_name=self.cluster_name,
            addon_name=addon,
            addon_version=self._addon_versions.get(addon),
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            service_account_role_arn=role_arn,
            pod_identity_associations=pod_identity,
            configuration_values=json.dumps(configuration, sort_keys=True) if configuration else None,
            tags=self.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )

    def _addon_identity(self, addon: str, namespace: str, service_account: str, policy_arn: str) -> dict:
        """Role wiring for an add-on: the add-on itself binds it (IRSA role ARN or Pod Identity)."""
        # pyright checks a protocol's mutable attributes invariantly, against the narrower types it
        # infers from this class's assignments (Output[str] where EksClusterBase declares Output | None).
        role = service_account_role(
            f"{self._name}-{addon}",
            cast(EksClusterLike, self),
            namespace,
            service_account,
            managed_policy_arns=(policy_arn,),
            associate=False,
            parent=self,
        )
        if self.workload_identity == IRSA:
            return {"role_arn": role.role.arn, "depends_on": role.grants}
        return {
            "pod_identity": [{"role_arn": role.role.arn, "service_account": service_account}],
            "depends_on": role.grants,
        }

    def _early_addons(self) -> list[aws.eks.Addon]:
        """Add-ons nodes need to become Ready: networking (and the Pod Identity agent)."""
        addons = []
        if self.workload_identity == POD_IDENTITY:
            addons.append(self._addon("eks-pod-identity-agent", []))
        cni = self._addon_identity("vpc-cni", "kube-system", "aws-node", f"{MANAGED}/AmazonEKS_CNI_Policy")
        self.vpc_cni = self._addon("vpc-cni", cni.pop("depends_on"), configuration=VPC_CNI_CONFIGURATION, **cni)
        addons += [self.vpc_cni, self._addon("kube-proxy", [])]
        return addons

    def _late_addons(self, system_nodes: aws.eks.NodeGroup) -> list[aws.eks.Addon]:
        """Add-ons that run Deployments, so they need nodes to report healthy."""
        ebs = self._addon_identity(
            "aws-ebs-csi-driver",
            "kube-system",
            "ebs-csi-controller-sa",
            f"{MANAGED}/service-role/AmazonEBSCSIDriverPolicy",
        )
        return [
            self._addon("coredns", [system_nodes]),
            self._addon("aws-ebs-csi-driver", [system_nodes, *ebs.pop("depends_on")], **ebs),
        ]

    def _default_storage_class(self) -> None:
        k8s.storage.v1.StorageClass(
            f"{self._name}-gp3",
            metadata={"name": "gp3", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "fsType": "ext4"},
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            reclaim_policy="Delete",
            opts=pulumi.ResourceOptions(parent=self, provider=self.k8s_provider),
        )
