"""ObjectStore: S3 buckets that are encrypted, private, versioned and TLS-only; MinIO with
generated credentials; grants that give least privilege and order their consumers."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_components

# The write actions a read grant must not have (spelled out here, not imported from the code under test).
S3_WRITE_ACTIONS = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
ZONES = ["us-west-2a", "us-west-2b", "us-west-2c"]


def _s3_store(protect=True, grant=None):
    from components.cluster.eks_cluster import EksCluster
    from components.data.object_store import ObjectStore

    def build():
        cluster = EksCluster("c", {"cluster_name": "c", "region": "us-west-2", "availability_zones": ZONES})
        store = ObjectStore("store", {"backend": "s3", "cluster": cluster, "bucket_prefix": "acme-ml", "protect": protect})
        if grant:
            getattr(store, grant)("trainer", namespace="ray", service_account="trainer", parent=store)

    return run_components(build)


@pytest.fixture(scope="module")
def s3():
    return _s3_store(grant="grant_read_write")


def _per_bucket(recording, type_):
    return {r.name: r for r in recording.of_type(type_)}


def test_buckets_are_named_from_the_prefix_and_never_force_destroyed(s3):
    buckets = _per_bucket(s3, "aws:s3/bucket:Bucket")
    assert {b.inputs["bucket"] for b in buckets.values()} == {"acme-ml-models", "acme-ml-datasets"}
    # Pulumi names hold no prefix: an edit of it replaces the same bucket, refused while protected
    assert set(buckets) == {"store-models", "store-datasets"}
    assert all(b.inputs["forceDestroy"] is False for b in buckets.values())


def test_buckets_are_encrypted_with_the_stores_key(s3):
    (key,) = [k for k in s3.of_type("aws:kms/key:Key") if k.name == "store-buckets"]
    assert key.inputs["enableKeyRotation"] is True
    for sse in s3.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"):
        (rule,) = sse.inputs["rules"]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
        assert key.urn in sse.property_dependencies["rules"]
    assert len(s3.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")) == 2


BUCKETS = {"store-models", "store-datasets"}
"""Pulumi names of the buckets and of their settings."""


def _bucket_settings(recording, type_: str) -> dict[str, dict]:
    """The settings resource of ``type_`` for each bucket, by bucket name (exactly one each)."""
    settings = recording.of_type(type_)
    by_bucket = {r.name: r.inputs for r in settings}
    assert sorted(by_bucket) == sorted(BUCKETS) and len(settings) == len(BUCKETS), f"{type_}: {sorted(by_bucket)}"
    return by_bucket


def test_buckets_are_private_versioned_and_expire_old_versions(s3):
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket, block in _bucket_settings(s3, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").items():
        assert {f: block[f] for f in flags} == dict.fromkeys(flags, True), bucket
    for bucket, versioning in _bucket_settings(s3, "aws:s3/bucketVersioning:BucketVersioning").items():
        assert versioning["versioningConfiguration"] == {"status": "Enabled"}, bucket
    for bucket, lifecycle in _bucket_settings(s3, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").items():
        (rule,) = lifecycle["rules"]
        assert rule["status"] == "Enabled", bucket
        assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 30}, bucket
        assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}, bucket
    for bucket, ownership in _bucket_settings(s3, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").items():
        assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced", bucket


def test_noncurrent_version_days_reach_every_bucket():
    from components.cluster.eks_cluster import EksCluster
    from components.data.object_store import ObjectStore

    def build():
        cluster = EksCluster("c", {"cluster_name": "c", "region": "us-west-2", "availability_zones": ZONES})
        ObjectStore("store", {"backend": "s3", "cluster": cluster, "bucket_prefix": "acme-ml", "noncurrent_version_days": 7})

    recording = run_components(build)
    for bucket, lifecycle in _bucket_settings(recording, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").items():
        assert [r["noncurrentVersionExpiration"] for r in lifecycle["rules"]] == [{"noncurrentDays": 7}], bucket


def test_bucket_policy_denies_plain_http(s3):
    policies = s3.of_type("aws:s3/bucketPolicy:BucketPolicy")
    assert len(policies) == 2
    for bucket, policy in _bucket_settings(s3, "aws:s3/bucketPolicy:BucketPolicy").items():
        document = json.loads(policy["policy"])
        # S3 rejects a bucket policy with an element it does not know, and reads one without
        # "Version" as the 2008 language: the whole document, not only the statement, is checked
        assert set(document) == {"Version", "Statement"} and document["Version"] == "2012-10-17", bucket
        (statement,) = document["Statement"]
        assert set(statement) == {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}, bucket
        assert statement["Principal"] == "*" and statement["Action"] == "s3:*", bucket
        physical = bucket.replace("store-", "acme-ml-", 1)  # the Pulumi name is store-<bucket>, the S3 name acme-ml-<bucket>
        assert statement["Resource"] == [f"arn:aws:s3:::{physical}", f"arn:aws:s3:::{physical}/*"], bucket
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_buckets_and_key_survive_destroy_when_protected():
    recording = _s3_store(protect=True)
    stateful = recording.of_type("aws:s3/bucket:Bucket") + [k for k in recording.of_type("aws:kms/key:Key") if k.name == "store-buckets"]
    assert len(stateful) == 3
    assert all(r.protect and r.retain_on_delete for r in stateful)
    unprotected = _s3_store(protect=False)
    assert not any(r.protect for r in unprotected.of_type("aws:s3/bucket:Bucket"))


def test_grant_read_write_is_least_privilege_on_the_buckets_and_key(s3):
    role = s3.named("aws:iam/role:Role", "trainer")
    policy = json.loads(s3.named("aws:iam/rolePolicy:RolePolicy", "trainer").inputs["policy"])
    *s3_statements, kms_statement = policy["Statement"]
    (write,) = [s for s in s3_statements if set(S3_WRITE_ACTIONS) <= set(s["Action"])]
    assert not any("s3:*" in s["Action"] for s in s3_statements)
    resources = {r for s in s3_statements for r in s["Resource"]}
    assert resources == {f"arn:aws:s3:::acme-ml-{b}{suffix}" for b in ("models", "datasets") for suffix in ("", "/*")}
    assert write["Resource"] == ["arn:aws:s3:::acme-ml-datasets/*", "arn:aws:s3:::acme-ml-models/*"]
    assert kms_statement["Action"] == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    assert kms_statement["Resource"] == "arn:aws:kms:us-west-2:123456789012:store-buckets", "the store's key, and only it"
    assert kms_statement["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}, "only through S3"
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    tags = trust["Statement"][0]["Condition"]["StringEquals"]
    # the ARN EKS gives cluster "c" in the deploying account (the mock runtime's 123456789012)
    assert tags["aws:RequestTag/eks-cluster-arn"] == "arn:aws:eks:us-west-2:123456789012:cluster/c"
    assert (tags["aws:RequestTag/kubernetes-namespace"], tags["aws:RequestTag/kubernetes-service-account"]) == ("ray", "trainer")
    association = s3.named("aws:eks/podIdentityAssociation:PodIdentityAssociation", "trainer")
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == ("ray", "trainer")


def test_grant_read_cannot_write():
    recording = _s3_store(grant="grant_read")
    policy = json.loads(recording.named("aws:iam/rolePolicy:RolePolicy", "trainer").inputs["policy"])
    assert not set(S3_WRITE_ACTIONS) & {action for s in policy["Statement"] for action in s["Action"]}
    assert policy["Statement"][-1]["Action"] == ["kms:Decrypt"]


def test_s3_store_does_not_wait_for_the_cluster(s3):
    cluster = s3.named("aws:eks/cluster:Cluster", "c").urn
    for r in s3.registrations:
        if r.type.startswith(("aws:s3/", "aws:kms/")) or r.type == "aws:iam/rolePolicy:RolePolicy":
            assert cluster not in r.dependencies, r.urn


def _minio(grant=True):
    from components.data.object_store import ObjectStore

    access = {}

    def build():
        store = ObjectStore("store", {"backend": "minio", "bucket_prefix": "dev"})
        if grant:
            access["value"] = store.grant_read_write("trainer", namespace="ray", service_account="trainer", parent=store)

    return run_components(build), access.get("value")


def test_minio_root_credentials_are_generated_and_secret():
    recording, _ = _minio(grant=False)
    (release,) = recording.of_type("kubernetes:helm.sh/v3:Release")
    values = release.inputs["values"]
    assert values["existingSecret"] == "minio-root"
    assert "rootPassword" not in values and "rootUser" not in values
    root = [s for s in recording.of_type("kubernetes:core/v1:Secret") if s.inputs["metadata"]["name"] == "minio-root"]
    assert root[0].inputs["stringData"] == {"rootUser": "[secret]", "rootPassword": "[secret]"}
    assert root[0].urn in release.dependencies
    assert "minioadmin" not in json.dumps([r.inputs for r in recording.registrations])
    # The chart's default users list is one admin, console/console123: no default user at all.
    assert values["users"] == []


def test_minio_creates_versioned_buckets_on_a_volume():
    recording, _ = _minio(grant=False)
    (release,) = recording.of_type("kubernetes:helm.sh/v3:Release")
    values = release.inputs["values"]
    assert (release.inputs["chart"], release.inputs["version"]) == ("minio", "5.4.0")
    assert values["buckets"] == [
        {"name": "dev-models", "policy": "none", "purge": False, "versioning": True},
        {"name": "dev-datasets", "policy": "none", "purge": False, "versioning": True},
    ]
    assert values["persistence"]["enabled"] is True
    assert values["service"]["type"] == "ClusterIP"
    assert values["mode"] == "standalone"
    assert "latest" not in values["image"]["tag"]


def test_minio_grant_is_a_scoped_user_whose_keys_reach_the_consumer_namespace():
    recording, access = _minio()
    assert access is not None
    job = recording.named("kubernetes:batch/v1:Job", "trainer-minio-user")
    script = job.inputs["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    assert "mc admin user add" in script and "mc admin policy attach platform trainer" in script
    (policy_map,) = [c for c in recording.of_type("kubernetes:core/v1:ConfigMap") if c.name == "trainer-minio-policy"]
    policy = json.loads(policy_map.inputs["data"]["policy.json"])
    assert {r for s in policy["Statement"] for r in s["Resource"]} == {
        "arn:aws:s3:::dev-models",
        "arn:aws:s3:::dev-models/*",
        "arn:aws:s3:::dev-datasets",
        "arn:aws:s3:::dev-datasets/*",
    }
    consumer = recording.named("kubernetes:core/v1:Secret", "trainer-s3")
    assert consumer.inputs["metadata"]["namespace"] == "ray"
    assert set(consumer.inputs["stringData"]) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert {"trainer-minio-user", "trainer-s3"} <= {r._name for r in access.depends_on}
    assert access.use_https is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"backend": "gcs"}, r"backend: Input should be 's3' or 'minio'"),
        ({"backend": "s3"}, r"cluster: required with backend 's3'"),
        ({"buckets": ["models", "models"]}, r"buckets: bucket names repeat"),
    ],
)
def test_bad_input_is_rejected_before_anything_registers(args, message):
    from components.core.problems import InputError
    from components.data.object_store import ObjectStore
    from offline.mockruntime import Recording, run_program

    recording = Recording(stack="test")
    with pytest.raises(InputError, match=message):
        run_program(lambda: ObjectStore("store", args), stack="test", config={}, recording=recording)
    assert recording.registrations == []


def test_backend_and_protection_follow_the_cluster_when_unset():
    from components.data.object_store import ObjectStoreArgs

    minio = ObjectStoreArgs.model_validate({})
    assert (minio.effective_backend, minio.effective_protect) == ("minio", False)
    eks = ObjectStoreArgs.model_validate({"cluster": object()})
    assert (eks.effective_backend, eks.effective_protect) == ("s3", True)
    chosen = ObjectStoreArgs.model_validate({"cluster": object(), "backend": "minio", "protect": False})
    assert (chosen.effective_backend, chosen.effective_protect) == ("minio", False)


def test_a_grant_is_immutable():
    import dataclasses

    _, access = _minio()
    assert access is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        access.depends_on = []
