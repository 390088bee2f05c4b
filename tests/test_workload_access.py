"""RBAC: deployers manage models and Ray work in their namespaces; viewers only read; neither
touches Secrets or execs into pods; IAM roles join the groups through EKS access entries."""

from __future__ import annotations

import pytest

from offline.render import kubernetes_objects

STACKS = ["dev", "prod"]


def _rbac(recording, kind):
    return [o for o in kubernetes_objects(recording).get("workload-access", []) if o["kind"] == kind]


def _verbs(role, group, resource):
    return {v for rule in role["rules"] if group in rule["apiGroups"] and resource in rule["resources"] for v in rule["verbs"]}


@pytest.mark.parametrize("stack", STACKS)
def test_roles_exist_in_every_model_and_ray_namespace(rendered, stack):
    roles = _rbac(rendered(stack), "Role")
    namespaces = {r["metadata"]["namespace"] for r in roles}
    assert namespaces == {"models", "ray-dev" if stack == "dev" else "training"}
    assert {r["metadata"]["name"] for r in roles} == {"ai-platform-model-deployer", "ai-platform-viewer"}


@pytest.mark.parametrize("stack", STACKS)
def test_deployers_manage_workloads_and_read_logs_viewers_only_read(rendered, stack):
    roles = {(r["metadata"]["namespace"], r["metadata"]["name"]): r for r in _rbac(rendered(stack), "Role")}
    deployer, viewer = roles[("models", "ai-platform-model-deployer")], roles[("models", "ai-platform-viewer")]
    assert {"create", "patch", "delete"} <= _verbs(deployer, "serving.kserve.io", "inferenceservices")
    assert {"create", "delete"} <= _verbs(deployer, "ray.io", "rayjobs")
    assert _verbs(deployer, "", "pods/log") == {"get", "list", "watch"}
    assert _verbs(viewer, "serving.kserve.io", "inferenceservices") == {"get", "list", "watch"}
    for role in (deployer, viewer):
        resources = {res for rule in role["rules"] for res in rule["resources"]}
        assert not {"secrets", "pods/exec", "pods/attach", "roles", "rolebindings"} & resources
        assert "*" not in {v for rule in role["rules"] for v in rule["verbs"]}


@pytest.mark.parametrize("stack", STACKS)
def test_roles_are_bound_to_the_configured_groups(rendered, stack):
    bindings = _rbac(rendered(stack), "RoleBinding")
    assert len(bindings) == 4
    subjects = {(b["metadata"]["name"], s["name"]) for b in bindings for s in b["subjects"]}
    assert subjects == {("ai-platform-model-deployer", "ai-platform:deployers"), ("ai-platform-viewer", "ai-platform:viewers")}
    assert all(s["kind"] == "Group" for b in bindings for s in b["subjects"])


def test_prod_iam_roles_join_the_groups_through_access_entries(rendered):
    entries = {e.inputs["principalArn"]: e.inputs for e in rendered("prod").of_type("aws:eks/accessEntry:AccessEntry")}
    assert entries["arn:aws:iam::123456789012:role/ml-engineers"]["kubernetesGroups"] == ["ai-platform:deployers"]
    assert entries["arn:aws:iam::123456789012:role/ml-analysts"]["kubernetesGroups"] == ["ai-platform:viewers"]
    associations = rendered("prod").of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert {a.inputs["principalArn"] for a in associations} == {"arn:aws:iam::123456789012:role/platform-admins"}


def test_roles_wait_for_the_model_namespace(rendered):
    recording = rendered("dev")
    namespace = [r for r in recording.of_type("kubernetes:core/v1:Namespace") if r.inputs["metadata"]["name"] == "models"][0]
    for role in recording.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role"):
        if role.inputs["metadata"]["namespace"] == "models":
            assert namespace.urn in role.dependencies
