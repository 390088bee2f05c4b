"""ClusterAutoscaler: pinned chart and image, least-privilege role bound to its service account."""

from __future__ import annotations

import json

import pytest

from components import versions
from components.cluster.cluster_autoscaler import SCALE_ACTIONS
from tests.conftest import run_components

ZONES = ["us-west-2a", "us-west-2b", "us-west-2c"]


def _autoscaler(workload_identity="podIdentity"):
    from components.cluster.cluster_autoscaler import ClusterAutoscaler
    from components.cluster.eks_cluster import EksCluster

    def build():
        cluster = EksCluster(
            "c", {"cluster_name": "c", "region": "us-west-2", "availability_zones": ZONES, "workload_identity": workload_identity}
        )
        ClusterAutoscaler("ca", {"cluster": cluster, "region": "us-west-2", "node_selector": {"role": "system"}})

    recording = run_components(build)
    (release,) = recording.of_type("kubernetes:helm.sh/v3:Release")
    return recording, release


def test_chart_and_image_are_pinned_to_the_cluster_minor():
    _, release = _autoscaler()
    assert release.inputs["chart"] == "cluster-autoscaler"
    assert release.inputs["version"] == versions.CLUSTER_AUTOSCALER.version
    image = release.inputs["values"]["image"]
    assert image["repository"] == "registry.k8s.io/autoscaling/cluster-autoscaler"
    assert image["tag"] == "v1.35.0", "cluster-autoscaler's minor must match the default Kubernetes minor"


def test_discovers_only_this_clusters_node_groups():
    _, release = _autoscaler()
    values = release.inputs["values"]
    assert values["autoDiscovery"] == {"clusterName": "c"}
    assert values["cloudProvider"] == "aws"
    assert values["extraArgs"]["skip-nodes-with-local-storage"] is False
    assert values["nodeSelector"] == {"role": "system"}


def test_role_may_scale_only_groups_tagged_for_this_cluster():
    recording, release = _autoscaler()
    policy = json.loads(recording.named("aws:iam/rolePolicy:RolePolicy", "ca-role").inputs["policy"])
    scaling = [s for s in policy["Statement"] if set(s["Action"]) & set(SCALE_ACTIONS)]
    assert len(scaling) == 1
    assert scaling[0]["Condition"] == {"StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/c": "owned"}}
    readers = [s for s in policy["Statement"] if s is not scaling[0]]
    assert all(a.split(":")[1].startswith(("Describe", "Get")) for s in readers for a in s["Action"])


@pytest.mark.parametrize("mode", ["podIdentity", "irsa"])
def test_service_account_gets_the_role_before_the_release(mode):
    recording, release = _autoscaler(mode)
    role = recording.named("aws:iam/role:Role", "ca-role")
    assert role.urn in release.dependencies
    service_account = release.inputs["values"]["rbac"]["serviceAccount"]
    assert service_account["name"] == "cluster-autoscaler"
    if mode == "irsa":
        assert service_account["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/ca-role"}
    else:
        (association,) = recording.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == ("kube-system", "cluster-autoscaler")
        assert association.urn in release.dependencies
        assert service_account["annotations"] == {}


def test_runs_non_root_with_a_read_only_filesystem():
    _, release = _autoscaler()
    values = release.inputs["values"]
    assert values["securityContext"]["runAsNonRoot"] is True
    assert values["containerSecurityContext"]["readOnlyRootFilesystem"] is True
    assert values["containerSecurityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert set(values["resources"]) == {"requests", "limits"}
