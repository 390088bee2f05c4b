"""EksCluster and Vpc: encryption, logging, endpoint access, identities, add-ons, subnets."""

from __future__ import annotations

import json

import pytest

from components.cluster.vpc import split_cidr
from tests.conftest import run_components

ZONES = ["us-west-2a", "us-west-2b", "us-west-2c"]


def _eks(**args):
    from components.cluster.eks_cluster import EksCluster

    def build():
        EksCluster("c", {"cluster_name": "c", "region": "us-west-2", "availability_zones": ZONES, **args})

    return run_components(build)


@pytest.fixture(scope="module")
def default_cluster():
    return _eks()


def test_secrets_are_envelope_encrypted_with_a_rotating_key(default_cluster):
    cluster = default_cluster.named("aws:eks/cluster:Cluster", "c")
    key = default_cluster.named("aws:kms/key:Key", "c-secrets")
    assert cluster.inputs["encryptionConfig"]["resources"] == ["secrets"]
    assert key.urn in cluster.property_dependencies["encryptionConfig"]
    assert key.inputs["enableKeyRotation"] is True


def test_control_plane_logs_go_to_a_group_with_retention(default_cluster):
    cluster = default_cluster.named("aws:eks/cluster:Cluster", "c")
    logs = default_cluster.named("aws:cloudwatch/logGroup:LogGroup", "c-control-plane")
    assert cluster.inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    assert logs.inputs["name"] == "/aws/eks/c/cluster"
    assert logs.inputs["retentionInDays"] == 90
    assert logs.urn in cluster.dependencies, "the group must exist before EKS creates one without retention"


def test_endpoint_is_private_by_default(default_cluster):
    vpc_config = default_cluster.named("aws:eks/cluster:Cluster", "c").inputs["vpcConfig"]
    assert vpc_config["endpointPrivateAccess"] is True
    assert vpc_config["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc_config


def test_public_endpoint_is_limited_to_the_given_ranges():
    recording = _eks(endpoint={"public_access": True, "public_access_cidrs": ["198.51.100.0/24"]})
    vpc_config = recording.named("aws:eks/cluster:Cluster", "c").inputs["vpcConfig"]
    assert vpc_config["endpointPublicAccess"] is True
    assert vpc_config["publicAccessCidrs"] == ["198.51.100.0/24"]


def test_admin_roles_get_cluster_admin_through_access_entries():
    recording = _eks(admin_role_arns=["arn:aws:iam::123456789012:role/admins"])
    (entry,) = recording.of_type("aws:eks/accessEntry:AccessEntry")
    (association,) = recording.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert entry.inputs["principalArn"] == "arn:aws:iam::123456789012:role/admins"
    assert association.inputs["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")
    assert association.inputs["accessScope"] == {"type": "cluster"}
    cluster = recording.named("aws:eks/cluster:Cluster", "c")
    assert cluster.inputs["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True}


def test_pod_identity_mode_runs_the_agent_and_needs_no_oidc_provider(default_cluster):
    addons = {a.inputs["addonName"]: a.inputs for a in default_cluster.of_type("aws:eks/addon:Addon")}
    assert "eks-pod-identity-agent" in addons
    assert default_cluster.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    (ebs_binding,) = addons["aws-ebs-csi-driver"]["podIdentityAssociations"]
    assert ebs_binding["serviceAccount"] == "ebs-csi-controller-sa"
    role = default_cluster.named("aws:iam/role:Role", "c-aws-ebs-csi-driver")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}


def test_irsa_mode_trusts_only_the_service_account_through_oidc():
    recording = _eks(workload_identity="irsa")
    (oidc,) = recording.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    addons = {a.inputs["addonName"]: a for a in recording.of_type("aws:eks/addon:Addon")}
    assert "eks-pod-identity-agent" not in addons
    ebs = addons["aws-ebs-csi-driver"].inputs
    assert ebs["serviceAccountRoleArn"].endswith("role/c-aws-ebs-csi-driver")
    trust = json.loads(recording.named("aws:iam/role:Role", "c-aws-ebs-csi-driver").inputs["assumeRolePolicy"])
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    subjects = [v for k, v in condition.items() if k.endswith(":sub")]
    assert subjects == ["system:serviceaccount:kube-system:ebs-csi-controller-sa"]


def test_default_storage_class_is_encrypted_gp3(default_cluster):
    (storage_class,) = default_cluster.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
    inputs = storage_class.inputs
    assert inputs["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert inputs["parameters"]["type"] == "gp3"
    assert inputs["parameters"]["encrypted"] == "true"
    assert inputs["provisioner"] == "ebs.csi.aws.com"


def test_kubeconfig_uses_aws_eks_get_token_and_is_secret(default_cluster):
    (provider,) = default_cluster.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    from components.cluster.eks_cluster import kubeconfig_json

    config = json.loads(kubeconfig_json("c", "https://x", "Y2E=", "us-west-2"))
    exec_ = config["users"][0]["user"]["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"][:2] == ["eks", "get-token"]
    assert "token" not in json.dumps(config["users"][0]["user"]).replace("get-token", "")


def test_system_nodes_use_the_hardened_launch_template(default_cluster):
    group = default_cluster.named("aws:eks/nodeGroup:NodeGroup", "c-system")
    template = default_cluster.named("aws:ec2/launchTemplate:LaunchTemplate", "c-system")
    assert group.property_dependencies["launchTemplate"] == [template.urn]
    assert template.inputs["metadataOptions"]["httpTokens"] == "required"
    assert group.inputs["labels"] == {"ai-platform.io/node-role": "system"}


def test_deletion_protection_is_on_by_default(default_cluster):
    assert default_cluster.named("aws:eks/cluster:Cluster", "c").inputs["deletionProtection"] is True


@pytest.mark.parametrize(("mode", "expected"), [("onePerAz", 3), ("single", 1)])
def test_nat_gateways(mode, expected):
    recording = _eks(vpc={"nat_gateways": mode})
    assert len(recording.of_type("aws:ec2/natGateway:NatGateway")) == expected
    private_routes = [t for t in recording.of_type("aws:ec2/routeTable:RouteTable") if "private" in t.name]
    assert len(private_routes) == 3
    assert all("natGatewayId" in t.inputs["routes"][0] for t in private_routes)


def test_subnets_carry_the_load_balancer_tags(default_cluster):
    subnets = default_cluster.of_type("aws:ec2/subnet:Subnet")
    public = [s.inputs for s in subnets if "public" in s.name]
    private = [s.inputs for s in subnets if "private" in s.name]
    assert len(public) == len(private) == 3
    assert all(s["tags"]["kubernetes.io/role/elb"] == "1" for s in public)
    assert all(s["tags"]["kubernetes.io/role/internal-elb"] == "1" for s in private)
    assert all(s["tags"]["kubernetes.io/cluster/c"] == "shared" for s in public + private)
    assert {s["availabilityZone"] for s in private} == set(ZONES)
    assert all(s["mapPublicIpOnLaunch"] is False for s in public + private)


def test_subnet_ranges_do_not_overlap():
    import ipaddress

    private, public = split_cidr("10.40.0.0/16", 3)
    networks = [ipaddress.IPv4Network(c) for c in private + public]
    assert private == ["10.40.0.0/18", "10.40.64.0/18", "10.40.128.0/18"]
    assert all(not a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])
    assert all(n.subnet_of(ipaddress.IPv4Network("10.40.0.0/16")) for n in networks)


def test_bad_input_is_refused_before_anything_registers():
    from components.cluster.eks_cluster import EksCluster
    from components.core.problems import InputError
    from offline.mockruntime import Recording, run_program

    recording = Recording(stack="test")
    args = {
        "cluster_name": "c",
        "region": "us-west-2",
        "availability_zones": ZONES,
        "kubernetes_version": "1.30",
        "vpc": {"cidr": "10.0.0.0/24"},
        "endpoint": {"public_access": True, "public_access_cidrs": ["0.0.0.0/0"]},
        "system_node_group": {"min_size": 3, "desired_size": 2},
    }
    with pytest.raises(InputError) as raised:
        run_program(lambda: EksCluster("c", args), stack="test", config={}, recording=recording)
    assert recording.registrations == []
    assert {str(p) for p in raised.value.problems} == {
        "kubernetes_version: EKS standard support covers 1.34, 1.35, 1.36, 1.37 (got '1.30')",
        "vpc.cidr: prefix must be /16 to /20 (got /24)",
        "endpoint.public_access_cidrs: these ranges together cover 0.0.0.0/0 and open the API to the whole internet; "
        "list your own ranges or set public_access: false",
        "system_node_group.desired_size: must be >= min_size (3) (got 2)",
    }


def test_created_and_existing_eks_clusters_meet_the_same_contract():
    from components.cluster.eks_cluster import EksCluster
    from components.cluster.existing_cluster import ExistingCluster
    from components.cluster.existing_eks_cluster import ExistingEksCluster
    from components.core.contracts import EksClusterLike, EksClusterWithKubeconfig, KubernetesCluster

    clusters = {}

    def build():
        clusters["eks"] = EksCluster("c", {"cluster_name": "c", "region": "us-west-2", "availability_zones": ZONES})
        clusters["existing-eks"] = ExistingEksCluster(
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
        clusters["kind"] = ExistingCluster("k", {"context": "kind-k"})

    run_components(build)
    for name in ("eks", "existing-eks"):
        assert isinstance(clusters[name], EksClusterWithKubeconfig), name
        assert isinstance(clusters[name], EksClusterLike), name
    assert isinstance(clusters["kind"], KubernetesCluster)
    assert not isinstance(clusters["kind"], EksClusterLike), "the stack exports a kubeconfig only for EKS clusters"
