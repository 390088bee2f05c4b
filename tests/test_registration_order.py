"""When the SDK registers what: the real program under mocks with the EKS cluster's create held
back. Pulumi registers a component only after its ``depends_on`` and its providers' ids resolve
and a child only after its parent (pulumi/runtime/resource.py, ``prepare_resource``), so a data
component given the cluster's Kubernetes provider would hold its buckets, keys and database until
the cluster exists. These tests see the order the SDK actually produces, not the declared graph."""

from __future__ import annotations

import threading

import pytest

from offline.mockruntime import PlatformMocks
from offline.render import render, stack_config

CLUSTER = "aws:eks/cluster:Cluster"
DATA_COMPONENTS = ("aiplatform:index:ObjectStore", "aiplatform:index:ModelRegistry")
DATA_TYPES = ("aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:rds/instance:Instance", "aws:iam/role:Role")
HOLD_SECONDS = 30


class HeldCluster(PlatformMocks):
    """Holds the EKS cluster's create until every resource in ``awaited`` has registered (or
    ``HOLD_SECONDS`` pass), and notes the order of registrations and of the cluster's completion.

    ``new_resource`` runs on the SDK's executor threads (``run_in_executor`` in
    ``register_resource``), so blocking it holds back only the cluster and what waits for it."""

    def __init__(self, region: str, awaited: set[tuple[str, str]]):
        super().__init__(region)
        self.events: list[tuple[str, str, str]] = []
        self._pending = set(awaited)
        self._lock = threading.Lock()
        self._all_registered = threading.Event()
        self.held_until_timeout = False

    def new_resource(self, args):
        with self._lock:
            self.events.append(("registered", args.typ, args.name))
            self._pending.discard((args.typ, args.name))
            if not self._pending:
                self._all_registered.set()
        if args.typ == CLUSTER:
            self.held_until_timeout = not self._all_registered.wait(HOLD_SECONDS)
            with self._lock:
                self.events.append(("created", args.typ, args.name))
        return super().new_resource(args)


def _data_layer(recording) -> set[tuple[str, str]]:
    """Buckets, KMS keys, RDS instances and IAM roles under ObjectStore and ModelRegistry."""
    by_urn = recording.by_urn()

    def in_data_component(r) -> bool:
        owner = by_urn.get(r.parent)
        while owner is not None:
            if owner.type in DATA_COMPONENTS:
                return True
            owner = by_urn.get(owner.parent)
        return False

    return {(r.type, r.name) for r in recording.registrations if r.type in DATA_TYPES and in_data_component(r)}


@pytest.fixture(scope="module")
def held_prod():
    awaited = _data_layer(render("prod"))
    config, _ = stack_config("prod")
    mocks = HeldCluster(config.get("aws:region", "us-west-2"), awaited)
    render("prod", mocks=mocks)
    return mocks, awaited


def test_the_data_layer_is_what_the_issue_names(held_prod):
    _, awaited = held_prod
    assert {t for t, _ in awaited} == set(DATA_TYPES)
    assert {n for t, n in awaited if t == "aws:s3/bucket:Bucket"} == {"object-store-models", "object-store-datasets"}
    assert ("aws:rds/instance:Instance", "model-registry-db") in awaited
    assert ("aws:iam/role:Role", "model-registry-role") in awaited


def test_buckets_keys_database_and_roles_register_before_the_cluster_is_created(held_prod):
    mocks, awaited = held_prod
    (created,) = [i for i, e in enumerate(mocks.events) if e == ("created", CLUSTER, "ai-prod")]
    late = sorted(f"{t} {n}" for t, n in awaited if mocks.events.index(("registered", t, n)) > created)
    assert not late, f"registered only after the EKS cluster was created: {late}"
    assert not mocks.held_until_timeout


def test_kubernetes_objects_still_wait_for_the_cluster(held_prod):
    """The other side: nothing Kubernetes registers while the cluster does not exist."""
    mocks, _ = held_prod
    (created,) = [i for i, e in enumerate(mocks.events) if e == ("created", CLUSTER, "ai-prod")]
    early = [f"{t} {n}" for _, t, n in mocks.events[:created] if t.startswith("kubernetes:") or t == "pulumi:providers:kubernetes"]
    assert not early
    assert any(t == "kubernetes:apps/v1:Deployment" and n == "model-registry" for _, t, n in mocks.events[created:])


# URNs of prod's data layer as main declared them before the registration fix (render of 2f26569):
# the fix changes options, not parents or names, so none is renamed or replaced on upgrade.
URNS_BEFORE = [
    "aiplatform:index:ObjectStore$aws:kms/key:Key::object-store-buckets",
    # renamed from their physical names (ai-prod-<bucket>), which they keep as aliases
    "aiplatform:index:ObjectStore$aws:s3/bucket:Bucket::object-store-datasets",
    "aiplatform:index:ObjectStore$aws:s3/bucket:Bucket::object-store-models",
    "aiplatform:index:RdsPostgres$aws:kms/key:Key::model-registry-db-storage",
    "aiplatform:index:RdsPostgres$aws:rds/instance:Instance::model-registry-db",
    "aiplatform:index:ModelRegistry$aiplatform:index:RdsPostgres::model-registry-db",
    "aiplatform:index:ModelRegistry$aws:iam/role:Role::model-registry-role",
    "aiplatform:index:ModelRegistry$kubernetes:apps/v1:Deployment::model-registry",
    "aiplatform:index:ModelRegistry$kubernetes:core/v1:ConfigMap::model-registry-launcher",
    "aiplatform:index:ModelRegistry$kubernetes:core/v1:Namespace::mlflow",
    "aiplatform:index:ModelRegistry$kubernetes:core/v1:Service::model-registry-service",
    "aiplatform:index:ModelRegistry$kubernetes:core/v1:ServiceAccount::model-registry-sa",
    "aiplatform:index:ModelRegistry$kubernetes:networking.k8s.io/v1:NetworkPolicy::mlflow-allow-platform-base",
    "aiplatform:index:ModelRegistry$kubernetes:networking.k8s.io/v1:NetworkPolicy::mlflow-allow-workload",
    "aiplatform:index:ModelRegistry$kubernetes:networking.k8s.io/v1:NetworkPolicy::mlflow-default-deny",
    "pulumi:pulumi:Stack$aiplatform:index:ModelRegistry::model-registry",
    "pulumi:pulumi:Stack$aiplatform:index:ObjectStore::object-store",
]


def test_upgrading_renames_nothing_in_the_data_layer(rendered):
    by_urn = rendered("prod").by_urn()
    prefix = "urn:pulumi:prod::ai-platform::"
    missing = [u for u in URNS_BEFORE if prefix + u not in by_urn]
    assert not missing
    buckets = [r for r in by_urn.values() if r.type == "aws:s3/bucket:Bucket"]
    assert len(buckets) == 2 and all(r.aliases > 0 for r in buckets)


def test_model_registry_kubernetes_children_use_the_clusters_provider_and_wait_for_its_nodes(rendered):
    prod = rendered("prod")
    (provider,) = prod.of_type("pulumi:providers:kubernetes")
    registry = prod.named("aiplatform:index:ModelRegistry", "model-registry")
    nodes = prod.named("aws:eks/nodeGroup:NodeGroup", "ai-prod-system")
    assert registry.providers == [] and registry.dependencies == []
    children = [r for r in prod.registrations if r.parent == registry.urn and r.type.startswith("kubernetes:")]
    assert len(children) == 9  # with the NetworkPolicy to the Pod Identity agent
    for r in children:
        assert r.provider == provider.urn, r.urn
        assert nodes.urn in r.dependencies, r.urn


@pytest.mark.parametrize(("database", "backend"), [("in-cluster", "minio"), ("rds", "minio"), ("in-cluster", "s3")], ids=lambda v: str(v))
def test_every_kubernetes_object_uses_the_clusters_provider_in_every_data_mode_on_eks(database, backend):
    """ModelRegistry on EKS holds no Kubernetes provider itself: its in-cluster database and a MinIO
    grant's objects must still get the cluster's (not the ambient default provider)."""
    import yaml

    from offline.render import ROOT
    from tests.conftest import run_main

    raw = {
        k.split(":", 1)[1]: v
        for k, v in yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"].items()
        if k.startswith("ai-platform:")
    }
    # secure: values (the alert receiver's routing key) are handed over as secrets
    secrets = {k: "test-secret" for k, v in raw.items() if isinstance(v, dict) and set(v) == {"secure"}}
    raw = {k: v for k, v in raw.items() if k not in secrets}
    raw["objectStore"] = {**raw.get("objectStore", {}), "backend": backend}
    raw["modelRegistry"] = {**raw.get("modelRegistry", {}), "database": database}
    recording = run_main(raw, secrets=secrets)
    (provider,) = recording.of_type("pulumi:providers:kubernetes")
    registry = recording.named("aiplatform:index:ModelRegistry", "model-registry")
    under_registry = [
        r for r in recording.registrations if r.custom and r.type.startswith("kubernetes:") and _under(recording, r, registry.urn)
    ]
    assert len(under_registry) > 8  # the registry's own eight plus the database's or the grant's
    wrong = [r.urn for r in recording.registrations if r.custom and r.type.startswith("kubernetes:") and r.provider != provider.urn]
    assert not wrong


def _under(recording, registration, ancestor: str) -> bool:
    by_urn = recording.by_urn()
    parent = registration.parent
    while parent:
        if parent == ancestor:
            return True
        parent = by_urn[parent].parent if parent in by_urn else ""
    return False
