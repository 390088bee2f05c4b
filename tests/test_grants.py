"""Grants: the exact IAM and MinIO policy documents a consumer gets, and the role a pod assumes.

Expected actions and documents are spelled out here, not imported from the code under test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi

from components.core.util import IMAGE_BY_TAG
from components.core.workload_identity import service_account_role
from components.data.storage_access import ResolvedAccess, minio_policy, s3_grant_policy
from tests.conftest import run_components

READ = ["s3:GetObject", "s3:GetObjectVersion"]
WRITE = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
MODELS, DATASETS = "arn:aws:s3:::acme-models", "arn:aws:s3:::acme-datasets"
KEY = "arn:aws:kms:us-west-2:123456789012:key/k"
VIA_S3 = {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}


def test_s3_read_grant_reads_the_buckets_and_decrypts_with_their_key_only_through_s3():
    access = [ResolvedAccess(MODELS, "", False), ResolvedAccess(DATASETS, "", False)]
    assert json.loads(s3_grant_policy(access, KEY, "us-west-2")) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": [DATASETS, MODELS]},
            {"Effect": "Allow", "Action": READ, "Resource": [f"{DATASETS}/*", f"{MODELS}/*"]},
            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": KEY, "Condition": VIA_S3},
        ],
    }


def test_ray_like_grant_writes_only_the_bucket_it_may_write():
    access = [ResolvedAccess(MODELS, "", False), ResolvedAccess(DATASETS, "", True)]
    statements = json.loads(s3_grant_policy(access, KEY, "eu-central-1"))["Statement"]
    (write,) = [s for s in statements if "s3:PutObject" in s["Action"]]
    assert write["Resource"] == [f"{DATASETS}/*"], "models are read, never written"
    assert statements[-1] == {
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
        "Resource": KEY,
        "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-central-1.amazonaws.com"}},
    }


def test_a_prefix_grant_lists_and_reads_only_that_prefix():
    access = [ResolvedAccess(MODELS, "/llm/qwen/v1/", False), ResolvedAccess(MODELS, "llm/qwen/v2", False)]
    assert json.loads(s3_grant_policy(access, KEY, "us-west-2"))["Statement"] == [
        {"Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": MODELS},
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": MODELS,
            "Condition": {"StringLike": {"s3:prefix": ["llm/qwen/v1", "llm/qwen/v1/*", "llm/qwen/v2", "llm/qwen/v2/*"]}},
        },
        {
            "Effect": "Allow",
            "Action": READ,
            # not "llm/qwen/v1*", which would open v10 too
            "Resource": [f"{MODELS}/llm/qwen/v1", f"{MODELS}/llm/qwen/v1/*", f"{MODELS}/llm/qwen/v2", f"{MODELS}/llm/qwen/v2/*"],
        },
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": KEY, "Condition": VIA_S3},
    ]


def test_a_whole_bucket_grant_is_not_narrowed_by_a_prefix_on_the_same_bucket():
    access = [ResolvedAccess(MODELS, "", False), ResolvedAccess(MODELS, "llm", False)]
    statements = json.loads(minio_policy(access))["Statement"]
    assert statements[0] == {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": [MODELS]}
    assert not any("Condition" in s for s in statements)


def test_minio_grants_use_the_same_scoping_without_kms():
    access = [ResolvedAccess("arn:aws:s3:::dev-models", "sklearn/iris/v1", False)]
    assert json.loads(minio_policy(access)) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": "arn:aws:s3:::dev-models"},
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": "arn:aws:s3:::dev-models",
                "Condition": {"StringLike": {"s3:prefix": ["sklearn/iris/v1", "sklearn/iris/v1/*"]}},
            },
            {
                "Effect": "Allow",
                "Action": READ,
                "Resource": ["arn:aws:s3:::dev-models/sklearn/iris/v1", "arn:aws:s3:::dev-models/sklearn/iris/v1/*"],
            },
        ],
    }
    written = json.loads(minio_policy([ResolvedAccess("arn:aws:s3:::dev-datasets", "", True)]))["Statement"]
    assert written[-1] == {"Effect": "Allow", "Action": WRITE, "Resource": ["arn:aws:s3:::dev-datasets/*"]}


@dataclass
class _IdentityCluster:
    """The identity facts of a cluster (the IdentityCluster contract), without a cluster."""

    workload_identity: str
    oidc_provider_arn: pulumi.Output[str] | None
    oidc_issuer: pulumi.Output[str] | None
    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    tags: dict[str, str]


def _cluster(workload_identity: str) -> _IdentityCluster:
    return _IdentityCluster(
        workload_identity=workload_identity,
        oidc_provider_arn=pulumi.Output.from_input("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"),
        oidc_issuer=pulumi.Output.from_input("https://oidc.eks.us-west-2.amazonaws.com/id/ABC"),
        cluster_name=pulumi.Output.from_input("c"),
        cluster_arn=pulumi.Output.from_input("arn:aws:eks:us-west-2:123456789012:cluster/c"),
        tags={"team": "ml"},
    )


def _role(workload_identity: str, **kwargs):
    found = {}

    def build():
        parent = pulumi.ComponentResource("test:index:Parent", "p")
        found["role"] = service_account_role("trainer", _cluster(workload_identity), "ray", "trainer-sa", parent=parent, **kwargs)

    return run_components(build), found


def test_pod_identity_role_trusts_the_eks_pod_service_only_for_its_cluster_namespace_and_account():
    recording, found = _role("podIdentity", policy_json='{"Version": "2012-10-17"}', managed_policy_arns=("arn:aws:iam::aws:policy/A",))
    role = recording.named("aws:iam/role:Role", "trainer")
    assert json.loads(role.inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                # the session tags Pod Identity sets (EKS User Guide, pod-id-role and pod-id-abac)
                "Condition": {
                    "StringEquals": {
                        "aws:RequestTag/eks-cluster-arn": "arn:aws:eks:us-west-2:123456789012:cluster/c",
                        "aws:RequestTag/kubernetes-namespace": "ray",
                        "aws:RequestTag/kubernetes-service-account": "trainer-sa",
                    }
                },
            }
        ],
    }
    assert role.inputs["tags"] == {"team": "ml"}
    association = recording.named("aws:eks/podIdentityAssociation:PodIdentityAssociation", "trainer").inputs
    assert (association["clusterName"], association["namespace"], association["serviceAccount"]) == ("c", "ray", "trainer-sa")
    assert association["tags"] == {"team": "ml"}
    assert recording.named("aws:iam/rolePolicy:RolePolicy", "trainer").inputs["policy"] == '{"Version": "2012-10-17"}'
    assert (
        recording.named("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "trainer-0").inputs["policyArn"] == "arn:aws:iam::aws:policy/A"
    )
    grant = found["role"]
    assert grant.service_account_annotations == {}
    assert [r._name for r in grant.grants] == ["trainer", "trainer", "trainer-0", "trainer"]  # role, policy, attachment, association
    assert all(r.parent.endswith("test:index:Parent::p") for r in recording.registrations if r.type.startswith("aws:"))


def test_pod_identity_role_without_association_for_addons():
    recording, found = _role("podIdentity", associate=False)
    assert recording.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation") == []
    assert recording.of_type("aws:iam/rolePolicy:RolePolicy") == []
    assert [r._name for r in found["role"].grants] == ["trainer"]


def test_irsa_role_trusts_only_the_service_account_through_the_oidc_provider():
    recording, found = _role("irsa")
    role = recording.named("aws:iam/role:Role", "trainer")
    host = "oidc.eks.us-west-2.amazonaws.com/id/ABC"
    assert json.loads(role.inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{host}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{host}:sub": "system:serviceaccount:ray:trainer-sa", f"{host}:aud": "sts.amazonaws.com"}},
            }
        ],
    }
    assert recording.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation") == []
    assert list(found["role"].service_account_annotations) == ["eks.amazonaws.com/role-arn"]


def _minio_grant(write: bool):
    import pulumi_kubernetes as k8s

    from components.data.object_store import ObjectStore

    found = {}

    def build():
        store = ObjectStore("store", {"backend": "minio", "bucket_prefix": "dev", "region": "eu-west-1"})
        consumer = pulumi.ComponentResource("test:index:Consumer", "consumer")
        namespace = k8s.core.v1.Namespace("ray-ns", metadata={"name": "ray"}, opts=pulumi.ResourceOptions(parent=consumer))
        grant = store.grant_read_write if write else store.grant_read
        found["access"] = grant("trainer", namespace="ray", service_account="sa", parent=consumer, depends_on=[namespace])
        pulumi.Output.from_input(found["access"].credentials_secret).apply(lambda secret: found.setdefault("credentials_secret", secret))
        pulumi.Output.from_input(found["access"].endpoint_url).apply(lambda url: found.setdefault("endpoint_url", url))

    recording = run_components(build)
    assert found.get("endpoint_url") == "http://minio.minio.svc.cluster.local:9000", "consumers reach the store's S3 API"
    return recording, found["access"], found.get("credentials_secret")


def test_minio_grant_creates_a_user_whose_keys_reach_only_the_two_namespaces():
    recording, access, credentials_secret = _minio_grant(write=True)
    consumer = "test:index:Consumer::consumer"
    release = recording.of_type("kubernetes:helm.sh/v3:Release")[0].urn
    namespace = recording.named("kubernetes:core/v1:Namespace", "ray-ns").urn
    keys = {"AWS_ACCESS_KEY_ID": "[secret]", "AWS_SECRET_ACCESS_KEY": "[secret]"}

    access_key = recording.named("random:index/randomString:RandomString", "trainer-access-key")
    assert (access_key.inputs["length"], access_key.inputs["special"], access_key.inputs["upper"]) == (20, False, False)
    secret_key = recording.named("random:index/randomPassword:RandomPassword", "trainer-secret-key")
    assert (secret_key.inputs["length"], secret_key.inputs["special"]) == (40, False)

    admin_copy = recording.named("kubernetes:core/v1:Secret", "trainer-minio-user")
    assert admin_copy.inputs["metadata"] == {"name": "trainer-s3", "namespace": "minio"}
    assert admin_copy.inputs["stringData"] == keys
    consumer_copy = recording.named("kubernetes:core/v1:Secret", "trainer-s3")
    assert consumer_copy.inputs["metadata"] == {"name": "trainer-s3", "namespace": "ray"}
    assert consumer_copy.inputs["stringData"] == keys
    assert namespace in consumer_copy.dependencies, "the consumer's copy waits for its namespace"

    policy = recording.named("kubernetes:core/v1:ConfigMap", "trainer-minio-policy")
    assert policy.inputs["metadata"] == {"name": "trainer-minio-policy", "namespace": "minio"}
    statements = json.loads(policy.inputs["data"]["policy.json"])["Statement"]
    assert [s["Action"] for s in statements[1:]] == [READ, WRITE]
    assert statements[2]["Resource"] == ["arn:aws:s3:::dev-datasets/*", "arn:aws:s3:::dev-models/*"]

    job = recording.named("kubernetes:batch/v1:Job", "trainer-minio-user")
    assert job.inputs["metadata"]["name"] == "trainer-minio-user" and job.inputs["metadata"]["namespace"] == "minio"
    assert {release, admin_copy.urn, policy.urn} <= set(job.dependencies), "the Job runs once MinIO, the keys and the policy exist"
    volumes = {v["name"]: v for v in job.inputs["spec"]["template"]["spec"]["volumes"]}
    assert volumes["policy"]["configMap"] == {"name": "trainer-minio-policy"}, "the Job creates the user with this grant's policy"
    assert volumes["user-keys"]["secret"] == {"secretName": "trainer-s3"}, "the Job creates the user with the keys the consumer gets"
    assert job.inputs["metadata"]["annotations"] == {"checkov.io/skip1": "CKV_K8S_43=" + IMAGE_BY_TAG}
    for r in (access_key, secret_key, admin_copy, consumer_copy, policy, job):
        assert r.parent.endswith(consumer), f"{r.name} belongs to the consumer"

    assert (access.namespace, access.service_account, access.region, access.use_https) == ("ray", "sa", "eu-west-1", False)
    assert sorted(r._name for r in access.depends_on) == ["trainer-minio-user", "trainer-s3"]
    assert credentials_secret == "trainer-s3", "the consumer's pods read the keys from its copy of the Secret"


def test_minio_read_grant_policy_cannot_write():
    recording, _, _ = _minio_grant(write=False)
    policy = recording.named("kubernetes:core/v1:ConfigMap", "trainer-minio-policy")
    assert [s["Action"] for s in json.loads(policy.inputs["data"]["policy.json"])["Statement"][1:]] == [READ]
    # the read grant builds the same user as the read-write one: owned by the consumer, keys after its namespace
    namespace = recording.named("kubernetes:core/v1:Namespace", "ray-ns").urn
    assert namespace in recording.named("kubernetes:core/v1:Secret", "trainer-s3").dependencies
    assert policy.parent.endswith("test:index:Consumer::consumer")


def test_s3_read_grant_to_a_pod_that_has_a_role_adds_a_read_policy_to_that_role():
    from components.cluster.eks_cluster import EksCluster
    from components.data.object_store import ObjectStore

    def build():
        import pulumi_aws as aws

        cluster = EksCluster(
            "c", {"cluster_name": "c", "region": "us-west-2", "availability_zones": ["us-west-2a", "us-west-2b", "us-west-2c"]}
        )
        store = ObjectStore("store", {"backend": "s3", "cluster": cluster, "bucket_prefix": "acme"})
        consumer = pulumi.ComponentResource("test:index:Consumer", "consumer")
        role = aws.iam.Role("pod-role", assume_role_policy="{}", opts=pulumi.ResourceOptions(parent=consumer))
        found["access"] = store.grant_read("trainer", namespace="ray", service_account="sa", parent=consumer, role=role)

    found = {}
    recording = run_components(build)
    access = found["access"]
    assert (access.namespace, access.service_account, access.region, access.use_https) == ("ray", "sa", "us-west-2", True)
    assert access.service_account_annotations == {}, "the pod's own role is already on its service account"
    assert recording.named("aws:iam/rolePolicy:RolePolicy", "trainer").parent.endswith("test:index:Consumer::consumer")
    assert [r.name for r in recording.of_type("aws:iam/role:Role") if r.name in ("pod-role", "trainer")] == ["pod-role"]
    policy = recording.named("aws:iam/rolePolicy:RolePolicy", "trainer")
    assert recording.named("aws:iam/role:Role", "pod-role").urn in policy.property_dependencies["role"]
    assert [s["Action"] for s in json.loads(policy.inputs["policy"])["Statement"][1:]] == [READ, ["kms:Decrypt"]]


def test_s3_grant_with_irsa_annotates_the_service_account_with_its_new_role():
    from components.cluster.eks_cluster import EksCluster
    from components.data.object_store import ObjectStore

    found = {}

    def build():
        zones = ["us-west-2a", "us-west-2b", "us-west-2c"]
        cluster = EksCluster("c", {"cluster_name": "c", "region": "us-west-2", "availability_zones": zones, "workload_identity": "irsa"})
        store = ObjectStore("store", {"backend": "s3", "cluster": cluster, "bucket_prefix": "acme"})
        consumer = pulumi.ComponentResource("test:index:Consumer", "consumer")
        found["access"] = store.grant_read_write("trainer", namespace="ray", service_account="sa", parent=consumer)

    run_components(build)
    assert list(found["access"].service_account_annotations) == ["eks.amazonaws.com/role-arn"]


def test_a_grant_on_a_bucket_the_store_lacks_is_refused():
    import pytest

    from components.data.object_store import ObjectStore
    from components.data.storage_access import BucketAccess

    def build():
        store = ObjectStore("store", {"backend": "minio", "bucket_prefix": "dev"})
        consumer = pulumi.ComponentResource("test:index:Consumer", "consumer")
        from components.core.problems import InputError

        with pytest.raises(InputError, match="checkpoints"):  # a RunError: printed without a traceback
            store.grant("t", namespace="ray", service_account="sa", access=[BucketAccess("checkpoints")], parent=consumer)
        with pytest.raises(InputError, match="must name buckets"):
            store.grant("t", namespace="ray", service_account="sa", access=[], parent=consumer)

    run_components(build)
