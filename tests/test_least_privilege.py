"""Least privilege in the rendered stacks: each workload's store grant (IAM policy on S3, MinIO
policy in dev) opens only what it uses, every Pod Identity role trusts only its own service
account on its own cluster, and the buckets' key is usable only through S3.

Bucket names and model paths are the ones the stack files set (Pulumi.dev.yaml, Pulumi.prod.yaml).
"""

from __future__ import annotations

import json

import pytest

WRITE = {"s3:PutObject", "s3:DeleteObject"}
PHYSICAL = {"dev": "ai-platform", "prod": "ai-prod"}
"""The bucket prefix of each stack (its cluster's name)."""


def _grants(recording, stack: str) -> dict[str, list[dict]]:
    """Store grant statements by grant name: IAM role policies (prod), MinIO policies (dev)."""
    if stack == "prod":
        return {p.name: json.loads(p.inputs["policy"])["Statement"] for p in recording.of_type("aws:iam/rolePolicy:RolePolicy")}
    suffix = "-minio-policy"
    return {
        c.name.removesuffix(suffix): json.loads(c.inputs["data"]["policy.json"])["Statement"]
        for c in recording.of_type("kubernetes:core/v1:ConfigMap")
        if c.name.endswith(suffix)
    }


def _actions(statement: dict) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _resources(statement: dict) -> set[str]:
    resource = statement["Resource"]
    return {resource} if isinstance(resource, str) else set(resource)


def _written(statements: list[dict]) -> set[str]:
    return {r for s in statements if _actions(s) & WRITE for r in _resources(s)}


def _read_objects(statements: list[dict]) -> set[str]:
    return {r for s in statements if "s3:GetObject" in _actions(s) for r in _resources(s)}


RAY = {"dev": "ray-dev-ray", "prod": "training-ray"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_ray_reads_the_models_and_writes_only_the_datasets(rendered, stack):
    statements = _grants(rendered(stack), stack)[RAY[stack]]
    prefix = PHYSICAL[stack]
    assert _written(statements) == {f"arn:aws:s3:::{prefix}-datasets/*"}, "a Ray job cannot overwrite or delete a model"
    assert f"arn:aws:s3:::{prefix}-models/*" in _read_objects(statements)


MODEL_SERVERS = {
    "dev": ("iris-model", ["sklearn/iris/v1"]),
    "prod": ("chat-llm-model", ["llm/qwen2.5-7b-instruct/v1", "llm/qwen2.5-7b-instruct/v2"]),  # stable and canary
}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_model_server_reads_only_its_models_paths(rendered, stack):
    grant, paths = MODEL_SERVERS[stack]
    statements = _grants(rendered(stack), stack)[grant]
    bucket = f"arn:aws:s3:::{PHYSICAL[stack]}-models"
    assert _written(statements) == set()
    assert _read_objects(statements) == {f"{bucket}/{p}{tail}" for p in paths for tail in ("", "/*")}
    (listing,) = [s for s in statements if "s3:ListBucket" in _actions(s)]
    assert listing["Resource"] == bucket
    assert set(listing["Condition"]["StringLike"]["s3:prefix"]) == {f"{p}{tail}" for p in paths for tail in ("", "/*")}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_mlflow_writes_only_the_models_bucket(rendered, stack):
    statements = _grants(rendered(stack), stack)["model-registry-artifacts"]
    assert _written(statements) == {f"arn:aws:s3:::{PHYSICAL[stack]}-models/*"}


def _pod_identity_roles(recording) -> dict[str, dict]:
    roles = {}
    for role in recording.of_type("aws:iam/role:Role"):
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        if statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}:
            roles[f"arn:aws:iam::123456789012:role/{role.name}"] = statement
    return roles


def _associations(recording) -> dict[str, tuple[str, str]]:
    """Role ARN -> (namespace, service account) of every Pod Identity association, add-ons' included."""
    found = {
        a.inputs["roleArn"]: (a.inputs["namespace"], a.inputs["serviceAccount"])
        for a in recording.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    }
    for addon in recording.of_type("aws:eks/addon:Addon"):
        for association in addon.inputs.get("podIdentityAssociations") or []:
            found[association["roleArn"]] = ("kube-system", association["serviceAccount"])
    return found


def test_every_pod_identity_role_trusts_only_its_service_account_on_this_cluster(rendered):
    recording = rendered("prod")
    roles, associations = _pod_identity_roles(recording), _associations(recording)
    # the autoscaler, the two add-ons, Ray, the model server, MLflow
    assert len(roles) == 6 and set(roles) == set(associations)
    (cluster,) = recording.of_type("aws:eks/cluster:Cluster")
    cluster_arn = f"arn:aws:eks:us-west-2:123456789012:cluster/{cluster.name}"
    for arn, statement in roles.items():
        namespace, service_account = associations[arn]
        assert statement["Condition"] == {
            "StringEquals": {
                "aws:RequestTag/eks-cluster-arn": cluster_arn,
                "aws:RequestTag/kubernetes-namespace": namespace,
                "aws:RequestTag/kubernetes-service-account": service_account,
            }
        }, arn


def test_every_kms_grant_is_usable_only_through_s3(rendered):
    statements = [
        s for policy in _grants(rendered("prod"), "prod").values() for s in policy if any(a.startswith("kms:") for a in _actions(s))
    ]
    assert len(statements) == 3  # Ray, the model server, MLflow
    for statement in statements:
        assert statement["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}
        assert statement["Resource"] == "arn:aws:kms:us-west-2:123456789012:object-store-buckets"
