"""EksCluster: VPC, EKS control plane, system nodes, core add-ons and a Kubernetes provider."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Required, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..core.util import LABEL_PREFIX, assume_role_policy, with_defaults
from ..core.workload_identity import IRSA, POD_IDENTITY, service_account_role
from .node_launch_template import node_launch_template
from .vpc import Vpc

if TYPE_CHECKING:
    from .gpu_node_pool import GpuNodePool, GpuNodePoolArgs

MANAGED = "arn:aws:iam::aws:policy"
NODE_POLICIES = (
    f"{MANAGED}/AmazonEKSWorkerNodePolicy",
    f"{MANAGED}/AmazonEC2ContainerRegistryPullOnly",
)
SYSTEM_ROLE_LABEL = f"{LABEL_PREFIX}/node-role"


class SystemNodeGroupArgs(TypedDict, total=False):
    instance_types: Sequence[str]
    """Instance types of the system nodes. Default: ``["m7i.xlarge"]``."""
    min_size: int
    """Default: 2."""
    desired_size: int
    """Default: 2."""
    max_size: int
    """Default: 4."""
    disk_size_gib: int
    """Root volume size. Default: 50."""


class EksClusterArgs(TypedDict, total=False):
    cluster_name: Required[str]
    """Name of the EKS cluster. Required."""
    region: Required[str]
    """AWS region, used in the kubeconfig. Required."""
    availability_zones: Required[Sequence[str]]
    """Three availability zones of the region. Required."""
    kubernetes_version: str
    """Kubernetes minor version. Default: ``1.35``."""
    vpc_cidr: str
    """VPC range. Default: ``10.0.0.0/16``."""
    nat_gateways: str
    """``onePerAz`` or ``single``. Default: ``onePerAz``."""
    endpoint_public_access: bool
    """Expose the API endpoint publicly (the private endpoint is always on). Default: false."""
    public_access_cidrs: Sequence[str]
    """Ranges allowed on the public endpoint. Default: none."""
    admin_role_arns: Sequence[str]
    """IAM roles given cluster-admin through access entries. Default: none."""
    group_role_arns: dict[str, Sequence[str]]
    """Kubernetes group -> IAM roles whose sessions belong to it (access entries, no access
    policy: RoleBindings grant the rights). Default: ``{}``."""
    workload_identity: str
    """``podIdentity`` or ``irsa``: how service accounts get IAM roles. Default: ``podIdentity``."""
    control_plane_logs: Sequence[str]
    """Control plane log types sent to CloudWatch. Default: ``["api", "audit", "authenticator", "controllerManager", "scheduler"]`` (all five)."""
    log_retention_days: int
    """Retention of the control plane log group. Default: 90."""
    system_node_group: SystemNodeGroupArgs
    """The node group for platform controllers. Default: ``{}`` (2 to 4 m7i.xlarge nodes, see ``SystemNodeGroupArgs``)."""
    addon_versions: dict[str, str]
    """Add-on name -> version (e.g. ``vpc-cni``: ``v1.20.4-eksbuild.1``). Default: ``{}`` (EKS's
    default version for the cluster's Kubernetes minor, fixed at creation)."""
    deletion_protection: bool
    """Refuse to delete the cluster until this is turned off. Default: true."""
    tags: dict[str, str]
    """Tags for every AWS resource. Default: none."""


DEFAULTS = {
    "kubernetes_version": "1.35",
    "vpc_cidr": "10.0.0.0/16",
    "nat_gateways": "onePerAz",
    "endpoint_public_access": False,
    "public_access_cidrs": [],
    "admin_role_arns": [],
    "group_role_arns": {},
    "workload_identity": POD_IDENTITY,
    "control_plane_logs": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
    "log_retention_days": 90,
    "system_node_group": {},
    "addon_versions": {},
    "deletion_protection": True,
    "tags": {},
}
SYSTEM_NODE_GROUP_DEFAULTS = {
    "instance_types": ["m7i.xlarge"],
    "min_size": 2,
    "desired_size": 2,
    "max_size": 4,
    "disk_size_gib": 50,
}


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


class EksCluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    cluster_name_value: str
    """The cluster's name as a plain value, for what must not wait for the cluster (IAM policies)."""
    endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    """Secret kubeconfig; resolves only once the admin access entries exist."""
    k8s_provider: k8s.Provider
    node_role_arn: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    vpc_id: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str] | None
    oidc_issuer: pulumi.Output[str] | None
    workload_identity: str
    kubernetes_version: str
    availability_zones: list[str]
    tags: dict[str, str]
    workload_ready: list[pulumi.Resource]
    """Wait for these before installing anything that runs pods (system nodes and DNS)."""
    vpc_cni: aws.eks.Addon
    """Nodes join only once the CNI add-on exists."""

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aiplatform:index:EksCluster", name, None, opts)
        a = with_defaults(args, DEFAULTS)
        self.workload_identity = a["workload_identity"]
        self.cluster_name_value = a["cluster_name"]
        self.kubernetes_version = a["kubernetes_version"]
        self.availability_zones = list(a["availability_zones"])
        self.tags = dict(a["tags"])
        self._name = name
        self._addon_versions = dict(a["addon_versions"])
        self._child = pulumi.ResourceOptions(parent=self)

        vpc = Vpc(
            f"{name}-vpc",
            {
                "cidr": a["vpc_cidr"],
                "availability_zones": self.availability_zones,
                "cluster_name": a["cluster_name"],
                "nat_gateways": a["nat_gateways"],
                "tags": self.tags,
            },
            opts=self._child,
        )
        self.private_subnet_ids = vpc.private_subnet_ids
        self.vpc_id = vpc.vpc_id

        cluster = self._control_plane(a, vpc)
        self.cluster_name = cluster.name
        self.endpoint = cluster.endpoint
        self.cluster_security_group_id = cluster.vpc_config.cluster_security_group_id
        self._oidc(cluster)
        access = self._admin_access(a["admin_role_arns"])
        self._group_access(a["group_role_arns"])

        node_role = self._node_role()
        self.node_role_arn = node_role.arn
        early_addons = self._early_addons()
        system_nodes = self._system_node_group(a, node_role, early_addons)
        late_addons = self._late_addons(system_nodes)

        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                cluster.name,
                cluster.endpoint,
                cluster.certificate_authority.data,
                *[r.id for r in access],
            ).apply(lambda v: kubeconfig_json(v[0], v[1], v[2], a["region"]))
        )
        self.k8s_provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig, opts=self._child)
        self._default_storage_class()
        self.workload_ready = [system_nodes, *late_addons]
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "endpoint": self.endpoint,
                "kubeconfig": self.kubeconfig,
                "node_role_arn": self.node_role_arn,
            }
        )

    # ------------------------------------------------------------ control plane

    def _control_plane(self, a: dict, vpc: Vpc) -> aws.eks.Cluster:
        name = self._name
        key = aws.kms.Key(
            f"{name}-secrets",
            description=f"EKS secrets envelope encryption for {a['cluster_name']}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=self.tags,
            opts=self._child,
        )
        aws.kms.Alias(f"{name}-secrets", name=f"alias/{a['cluster_name']}-eks-secrets", target_key_id=key.key_id, opts=self._child)
        # Created first so EKS does not create it without retention.
        logs = aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=f"/aws/eks/{a['cluster_name']}/cluster",
            retention_in_days=a["log_retention_days"],
            tags=self.tags,
            opts=self._child,
        )
        role = aws.iam.Role(
            f"{name}-control-plane", assume_role_policy=assume_role_policy("eks.amazonaws.com"), tags=self.tags, opts=self._child
        )
        policy = aws.iam.RolePolicyAttachment(
            f"{name}-control-plane", role=role.name, policy_arn=f"{MANAGED}/AmazonEKSClusterPolicy", opts=self._child
        )
        return aws.eks.Cluster(
            name,
            name=a["cluster_name"],
            version=a["kubernetes_version"],
            role_arn=role.arn,
            vpc_config={
                "subnet_ids": vpc.private_subnet_ids,
                "endpoint_private_access": True,
                "endpoint_public_access": a["endpoint_public_access"],
                **({"public_access_cidrs": list(a["public_access_cidrs"])} if a["public_access_cidrs"] else {}),
            },
            encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(a["control_plane_logs"]),
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            # The add-ons below are managed explicitly, so their versions are visible and updatable.
            bootstrap_self_managed_addons=False,
            upgrade_policy={"support_type": "STANDARD"},
            deletion_protection=a["deletion_protection"],
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

    def _group_access(self, group_role_arns: dict[str, Sequence[str]]) -> None:
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

    def _system_node_group(self, a: dict, role: aws.iam.Role, after: list[pulumi.Resource]) -> aws.eks.NodeGroup:
        group = with_defaults(a["system_node_group"], SYSTEM_NODE_GROUP_DEFAULTS)
        template = node_launch_template(f"{self._name}-system", root_volume_gib=group["disk_size_gib"], tags=self.tags, parent=self)
        return aws.eks.NodeGroup(
            f"{self._name}-system",
            cluster_name=self.cluster_name,
            node_role_arn=role.arn,
            subnet_ids=self.private_subnet_ids,
            instance_types=list(group["instance_types"]),
            ami_type="AL2023_x86_64_STANDARD",
            capacity_type="ON_DEMAND",
            scaling_config={"min_size": group["min_size"], "desired_size": group["desired_size"], "max_size": group["max_size"]},
            update_config={"max_unavailable": 1},
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            labels={SYSTEM_ROLE_LABEL: "system"},
            tags=self.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )

    def add_gpu_pool(self, name: str, args: "GpuNodePoolArgs", opts: pulumi.ResourceOptions | None = None) -> "GpuNodePool":
        """A GPU managed node group on this cluster (see :class:`GpuNodePool`)."""
        from .gpu_node_pool import GpuNodePool

        return GpuNodePool(name, {**dict(args), "cluster": self}, opts)

    # ------------------------------------------------------------ add-ons

    def _addon(self, addon: str, depends_on: list[pulumi.Resource], role_arn=None, pod_identity=None) -> aws.eks.Addon:
        return aws.eks.Addon(
            f"{self._name}-{addon}",
            cluster_name=self.cluster_name,
            addon_name=addon,
            addon_version=self._addon_versions.get(addon),
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            service_account_role_arn=role_arn,
            pod_identity_associations=pod_identity,
            tags=self.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )

    def _addon_identity(self, addon: str, namespace: str, service_account: str, policy_arn: str) -> dict:
        """Role wiring for an add-on: the add-on itself binds it (IRSA role ARN or Pod Identity)."""
        role = service_account_role(
            f"{self._name}-{addon}",
            self,
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
        self.vpc_cni = self._addon("vpc-cni", cni.pop("depends_on"), **cni)
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
