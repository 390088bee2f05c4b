"""docs/lifecycle.md holds: a third environment is one stack file, and prod's teardown keeps
exactly what the document says, and can finish."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from offline.render import render
from policy import POLICIES
from policy.offline import mandatory, run

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "lifecycle.md"
STAGING = ROOT / "docs" / "stacks" / "Pulumi.staging.yaml"
KEPT_IN_PROD = {"aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:rds/instance:Instance"}
NAMESPACE = "kubernetes:core/v1:Namespace"
"""Namespaces people deploy to by hand are retained on delete (not protected), in every stack."""


def project_with(tmp_path: Path, stack: str, document: dict | str) -> Path:
    """A copy of the project's program with one stack file: what a user has after writing it."""
    shutil.copy(ROOT / "__main__.py", tmp_path / "__main__.py")
    text = document if isinstance(document, str) else yaml.safe_dump(document)
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(text)
    return tmp_path


def protected(recording):
    """What Pulumi protects or keeps, but for the namespaces only forgotten on delete."""
    return [r for r in recording.registrations if r.protect or (r.retain_on_delete and r.type != NAMESPACE)]


def by_type(recording, type_):
    [found] = recording.of_type(type_)
    return found


@pytest.fixture(scope="module")
def staging(tmp_path_factory):
    return render("staging", project_with(tmp_path_factory.mktemp("staging"), "staging", STAGING.read_text()))


def test_staging_is_one_stack_file_that_renders(staging):
    cluster = by_type(staging, "aws:eks/cluster:Cluster")
    assert cluster.inputs["name"] == "ai-staging"
    assert cluster.inputs["vpcConfig"]["endpointPublicAccess"] is False
    assert by_type(staging, "aws:ec2/vpc:Vpc").inputs["cidrBlock"] == "10.50.0.0/16"
    assert {g.inputs["capacityType"] for g in staging.of_type("aws:eks/nodeGroup:NodeGroup")} == {"ON_DEMAND", "SPOT"}
    assert len(staging.of_type("kubernetes:serving.kserve.io/v1beta1:InferenceService")) == 1


def test_staging_can_be_destroyed_without_unprotecting_anything(staging):
    assert [r.name for r in staging.registrations if r.protect] == []
    # the bucket key is kept even unprotected: buckets left behind (S3 deletes only empty ones) stay readable
    assert [(r.type, r.name) for r in protected(staging)] == [("aws:kms/key:Key", "object-store-buckets")]
    assert by_type(staging, "aws:eks/cluster:Cluster").inputs["deletionProtection"] is False
    assert staging.of_type("aws:rds/instance:Instance") == []  # MLflow's database runs in the cluster


def test_staging_passes_the_policy_pack(staging):
    assert mandatory(run(POLICIES, staging.registrations)) == []


def test_prod_keeps_what_the_document_lists(rendered):
    prod = rendered("prod")
    assert {r.type for r in protected(prod)} == KEPT_IN_PROD
    assert all(r.protect and r.retain_on_delete for r in protected(prod))
    assert by_type(prod, "aws:eks/cluster:Cluster").inputs["deletionProtection"] is True
    text = DOC.read_text()
    assert all(f"`{type_}`" in text for type_ in KEPT_IN_PROD)


def test_a_paused_prod_keeps_the_network_the_database_stands_on(rendered):
    """`pulumi destroy --exclude-protected` keeps protected resources and their dependencies."""
    prod = rendered("prod")
    by_urn = prod.by_urn()
    database = by_type(prod, "aws:rds/instance:Instance")
    kept = {by_urn[u].type for u in database.dependencies if u in by_urn}
    assert {"aws:rds/subnetGroup:SubnetGroup", "aws:ec2/securityGroup:SecurityGroup"} <= kept


def test_prod_teardown_leaves_only_data_with_no_dependencies_outside_it(tmp_path):
    """With the document's two changes, what stays protected depends on nothing else, so the last
    `pulumi destroy` after `pulumi state unprotect --all` can complete."""
    document = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    config = document["config"]
    config["ai-platform:cluster"]["deletionProtection"] = False
    config["ai-platform:modelRegistry"] = {**config.get("ai-platform:modelRegistry", {}), "protect": False}
    prod = render("prod", project_with(tmp_path, "prod", document))
    kept = protected(prod)
    assert {(r.type, r.name) for r in kept} == {
        ("aws:s3/bucket:Bucket", "object-store-models"),
        ("aws:s3/bucket:Bucket", "object-store-datasets"),
        ("aws:kms/key:Key", "object-store-buckets"),
        # retained even unprotected: the database's final snapshot is encrypted with it
        ("aws:kms/key:Key", "model-registry-db-storage"),
    }
    kept_urns = {r.urn for r in kept}
    assert all(set(r.dependencies) <= kept_urns for r in kept)
    database = by_type(prod, "aws:rds/instance:Instance")
    assert database.inputs["deletionProtection"] is False
    assert database.inputs["finalSnapshotIdentifier"].startswith("model-registry-db-final-")
    assert by_type(prod, "aws:eks/cluster:Cluster").inputs["deletionProtection"] is False
    # As the document warns, the policy pack refuses this: deleting prod's database is an exception.
    assert {v.policy for v in mandatory(run(POLICIES, prod.registrations))} == {"rds-deletion-protection"}


def test_the_document_covers_backends_secrets_and_teardown():
    text = DOC.read_text()
    for phrase in (
        "pulumi login --local",
        "pulumi login s3://",
        "pulumi config set --secret",
        "pulumi env init",
        "cp docs/stacks/Pulumi.staging.yaml Pulumi.staging.yaml",
        "pulumi destroy --stack prod --exclude-protected",
        "pulumi state unprotect --all",
    ):
        assert phrase in text
