"""Upgrade safety (in the spirit of pulumi-eks's upgrade tests): a config edit to a running stack
never leaves it half-migrated or loses data.

Each row edits a committed stack file, renders before and after under the mocks, and diffs the
registrations of stateful resources by URN. The expected effect is one of:

- ``Safe``: no stateful resource is deleted (a URN that disappears must have ``retain_on_delete``:
  Pulumi then forgets it and leaves it in place) and none changes an input that forces replacement;
- ``Refused``: exactly these stateful resources change a replace-forcing input, and each is
  protected before and after: the engine refuses the replace while it plans, before any step runs
  (pulumi/pulumi ``pkg/resource/deploy/step_generator.go``: "unable to replace resource ... as it is
  currently marked for protection");
- ``Replaced``: an unprotected replacement (dev) of exactly these resources, whose volumes the
  StatefulSet's ``persistentVolumeClaimRetentionPolicy`` keeps;
- ``Rejected``: config validation refuses the edit, naming the key.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.render import render
from stacks.errors import ConfigError
from tests.test_lifecycle import project_with

ROOT = Path(__file__).resolve().parents[1]

# Inputs whose change forces a replacement, per type (the provider's ForceNew / replaceOnChanges):
# - AWS, terraform-provider-aws schemas: s3 `bucket` (internal/service/s3/bucket.go), kms
#   `customer_master_key_spec`/`key_usage`/`multi_region` (kms/key.go), rds `identifier`, `engine`,
#   `kms_key_id`, `storage_encrypted`, `db_name`, `username`, `availability_zone` (rds/instance.go),
#   rds subnet group `name` (rds/subnet_group.go). `db_subnet_group_name` is listed too, to be strict.
# - Kubernetes, pulumi-kubernetes provider/pkg/provider/forcenew.go: `metadata.name`/`namespace` of
#   every kind; StatefulSet `spec.podManagementPolicy`, `revisionHistoryLimit`, `selector`,
#   `serviceName`, `volumeClaimTemplates`. A Helm release is a new release under another name/namespace.
FORCE_NEW: dict[str, tuple[str, ...]] = {
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix"),
    "aws:kms/key:Key": ("customerMasterKeySpec", "keyUsage", "multiRegion"),
    "aws:rds/instance:Instance": (
        "identifier",
        "identifierPrefix",
        "engine",
        "kmsKeyId",
        "storageEncrypted",
        "dbName",
        "username",
        "availabilityZone",
        "dbSubnetGroupName",
    ),
    "aws:rds/subnetGroup:SubnetGroup": ("name", "namePrefix"),
    "kubernetes:core/v1:Namespace": ("metadata.name",),
    "kubernetes:core/v1:PersistentVolumeClaim": ("metadata.name", "metadata.namespace", "spec.storageClassName"),
    "kubernetes:apps/v1:StatefulSet": (
        "metadata.name",
        "metadata.namespace",
        "spec.podManagementPolicy",
        "spec.revisionHistoryLimit",
        "spec.selector",
        "spec.serviceName",
        "spec.volumeClaimTemplates",
    ),
    "kubernetes:helm.sh/v3:Release": ("name", "namespace"),
}
NAMESPACE = "kubernetes:core/v1:Namespace"
RELEASE = "kubernetes:helm.sh/v3:Release"
# What holds data: namespaces with volumes (MinIO's, the in-cluster database's) or with what
# deployers create by hand (models, Ray clusters), and the release that owns MinIO's volume.
DATA_NAMESPACES = {"dev": {"minio", "mlflow", "models", "ray-dev"}, "prod": {"models", "training"}}
DATA_RELEASES = {"object-store"}
ALWAYS_STATEFUL = {t for t in FORCE_NEW if t not in (NAMESPACE, RELEASE)}


@dataclass(frozen=True)
class Safe:
    with_the_cluster: frozenset[str] = frozenset()
    """Stateful resources of the EKS cluster itself, deleted with it when the edit replaces it."""


@dataclass(frozen=True)
class Refused:
    names: frozenset[str]


@dataclass(frozen=True)
class Replaced:
    names: frozenset[str]


@dataclass(frozen=True)
class Rejected:
    key: str
    fragment: str


@dataclass(frozen=True)
class Edit:
    stack: str
    change: Callable[[dict[str, Any]], None]
    expected: Safe | Refused | Replaced | Rejected
    why: str = field(default="")
    base: Callable[[dict[str, Any]], None] | None = None
    """An edit already applied before this one (the engine refuses only what state holds protected)."""


def _set(key: str, path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set ``ai-platform:<key>`` at the dotted ``path`` (empty: the whole value)."""

    def change(config: dict[str, Any]) -> None:
        full = f"ai-platform:{key}"
        if not path:
            config[full] = value
            return
        node = config.setdefault(full, {})
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    return change


def _drop_named(key: str, name: str) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        before = config[f"ai-platform:{key}"]
        config[f"ai-platform:{key}"] = [item for item in before if item["name"] != name]
        assert len(config[f"ai-platform:{key}"]) == len(before) - 1, f"no {key} named {name}"

    return change


def _edit_pool(name: str, **values: Any) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        [pool] = [p for p in config["ai-platform:gpuPools"] if p["name"] == name]
        pool.update(values)

    return change


def _add_pool(config: dict[str, Any]) -> None:
    config["ai-platform:gpuPools"].append(
        {"name": "batch", "instanceTypes": ["g6.2xlarge"], "capacityType": "spot", "minSize": 0, "desiredSize": 0, "maxSize": 2}
    )


def _drop_store_prefix(config: dict[str, Any]) -> None:
    del config["ai-platform:objectStore"]["bucketPrefix"]


def _both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        for one in changes:
            one(config)

    return change


def _cluster_name(name: str) -> Callable[[dict[str, Any]], None]:
    return _set("cluster", "name", name)


BUCKETS = frozenset({"object-store-models", "object-store-datasets"})
TABLE: dict[str, Edit] = {
    "prod: bucket prefix": Edit("prod", _set("objectStore", "bucketPrefix", "ai-ml"), Refused(BUCKETS)),
    "prod: cluster name (bucket prefix pinned)": Edit(
        "prod",
        _cluster_name("ai-prod2"),
        # A new EKS cluster (its name forces one) with its own secrets key; the old key is deleted
        # after its deletion window. Buckets, their key and the database stay.
        Safe(with_the_cluster=frozenset({"ai-prod-secrets"})),
        "buckets, their key and the database do not follow the cluster's name",
    ),
    "prod: drop the models bucket": Edit(
        "prod", _set("objectStore", "buckets", ["datasets"]), Rejected("ai-platform:objectStore.buckets", "models")
    ),
    "prod: RDS multi-AZ off": Edit("prod", _set("modelRegistry", "multiAz", False), Safe()),
    "prod: RDS protection off": Edit("prod", _set("modelRegistry", "protect", False), Safe()),
    "prod: store protection off": Edit("prod", _set("objectStore", "protect", False), Safe()),
    "prod: noncurrent version days": Edit("prod", _set("objectStore", "noncurrentVersionDays", 90), Safe()),
    "prod: one more bucket": Edit("prod", _set("objectStore", "buckets", ["models", "datasets", "features"]), Safe()),
    "prod: remove a Ray cluster": Edit("prod", _drop_named("rayClusters", "training"), Safe(), "its namespace is retained"),
    "prod: remove an inference service": Edit("prod", _drop_named("inferenceServices", "chat-llm"), Safe()),
    "prod: model namespace": Edit("prod", _set("kserve", "modelNamespace", "serving"), Safe(), "the old one is retained"),
    "prod: node pool instance type": Edit("prod", _edit_pool("inference", instanceTypes=["g6e.4xlarge"]), Safe()),
    "prod: add a GPU pool": Edit("prod", _add_pool, Safe()),
    "dev: MinIO storage size": Edit("dev", _set("objectStore", "storageSize", "100Gi"), Safe(), "the PVC grows in place"),
    "dev: store protection on": Edit("dev", _set("objectStore", "protect", True), Safe()),
    "dev: database size (unprotected)": Edit(
        "dev", _set("modelRegistry", "databaseStorageSize", "20Gi"), Replaced(frozenset({"model-registry-db"}))
    ),
    "dev: database size (protected)": Edit(
        "dev",
        _set("modelRegistry", "databaseStorageSize", "20Gi"),
        Refused(frozenset({"model-registry-db"})),
        base=_set("modelRegistry", "protect", True),
    ),
    "dev: remove a Ray cluster": Edit("dev", _set("rayClusters", "", []), Safe(), "its namespace is retained"),
    "dev: remove an inference service": Edit("dev", _set("inferenceServices", "", []), Safe()),
    "dev: model namespace": Edit("dev", _set("kserve", "modelNamespace", "serving"), Safe(), "the old one is retained"),
}


def _stateful(stack: str, registration) -> bool:
    if registration.type in ALWAYS_STATEFUL:
        return True
    if registration.type == NAMESPACE:
        return registration.inputs.get("metadata", {}).get("name") in DATA_NAMESPACES[stack]
    return registration.type == RELEASE and registration.inputs.get("name") in DATA_RELEASES


def _at(inputs: dict[str, Any], path: str) -> Any:
    node: Any = inputs
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _forced(before, after) -> list[str]:
    return [path for path in FORCE_NEW[before.type] if _at(before.inputs, path) != _at(after.inputs, path)]


@dataclass
class Effect:
    deleted: list[str]
    replaced: dict[str, Any]


def effect(stack: str, before, after) -> Effect:
    """What the plan from ``before`` to ``after`` does to stateful resources."""
    old = {urn: r for urn, r in before.by_urn().items() if _stateful(stack, r)}
    new = after.by_urn()
    deleted = [r.name for urn, r in old.items() if urn not in new and not r.retain_on_delete]
    replaced = {r.name: (r, new[urn]) for urn, r in old.items() if urn in new and _forced(r, new[urn])}
    return Effect(deleted, replaced)


def _render_edited(stack: str, change: Callable[[dict[str, Any]], None], tmp_path: Path):
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    config = copy.deepcopy(document)
    change(config["config"])
    tmp_path.mkdir(parents=True, exist_ok=True)
    return render(stack, project_with(tmp_path, stack, config))


@pytest.mark.parametrize("case", sorted(TABLE), ids=sorted(TABLE))
def test_config_edit_keeps_stateful_resources(case, rendered, tmp_path):
    edit = TABLE[case]
    expected = edit.expected
    if isinstance(expected, Rejected):
        with pytest.raises(ConfigError) as raised:
            _render_edited(edit.stack, edit.change, tmp_path)
        lines = [line for line in str(raised.value).splitlines() if line.startswith(f"  - {expected.key}")]
        assert lines and any(expected.fragment in line for line in lines), str(raised.value)
        return
    if edit.base is None:
        before = rendered(edit.stack)
        change = edit.change
    else:
        before = _render_edited(edit.stack, edit.base, tmp_path / "base")
        change = _both(edit.base, edit.change)
    assert any(_stateful(edit.stack, r) for r in before.registrations)
    found = effect(edit.stack, before, _render_edited(edit.stack, change, tmp_path / "after"))
    expected_deleted = expected.with_the_cluster if isinstance(expected, Safe) else frozenset()
    assert set(found.deleted) == expected_deleted, f"deleted: {found.deleted}"
    if isinstance(expected, Safe):
        assert found.replaced == {}, {name: _forced(*pair) for name, pair in found.replaced.items()}
    elif isinstance(expected, Refused):
        assert set(found.replaced) == expected.names
        assert all(old.protect and new.protect for old, new in found.replaced.values())
    else:
        assert set(found.replaced) == expected.names
        assert all(not old.protect for old, _ in found.replaced.values())
        for _, new in found.replaced.values():
            retention = new.inputs["spec"]["persistentVolumeClaimRetentionPolicy"]
            assert retention == {"whenDeleted": "Retain", "whenScaled": "Retain"}


def test_the_table_covers_both_stacks():
    assert len(TABLE) >= 12
    assert {edit.stack for edit in TABLE.values()} == {"dev", "prod"}
    assert {type(edit.expected) for edit in TABLE.values()} == {Safe, Refused, Replaced, Rejected}


def test_an_edit_that_moves_a_bucket_is_seen(rendered):
    """The diff can fail: a physical rename under the old URN is a replace of a protected bucket."""
    before = rendered("prod")
    after = copy.deepcopy(before)
    [bucket] = [r for r in after.registrations if r.type == "aws:s3/bucket:Bucket" and r.name == "object-store-models"]
    bucket.inputs["bucket"] = "elsewhere-models"
    assert set(effect("prod", before, after).replaced) == {"object-store-models"}
