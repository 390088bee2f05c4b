"""The deploy-time model: the critical path through the declared graph, and prod's budget."""

from __future__ import annotations

import re
from pathlib import Path

from offline.deploy_time import critical_path, duration, report, waits_for
from offline.mockruntime import Recording, Registration

README = Path(__file__).resolve().parents[1] / "README.md"


def _resource(name: str, type_: str, *deps: str, parent: str = "", provider: str = "", custom: bool = True) -> Registration:
    return Registration(
        urn=name,
        type=type_,
        name=name,
        parent=parent,
        custom=custom,
        provider=provider,
        dependencies=list(deps),
        property_dependencies={},
        inputs={},
        protect=False,
        retain_on_delete=False,
        ignore_changes=[],
        delete_before_replace=False,
        aliases=0,
    )


def test_the_longest_chain_wins_not_the_longest_resource():
    recording = Recording(
        "t",
        [
            _resource("vpc", "aws:ec2/vpc:Vpc"),
            _resource("cluster", "aws:eks/cluster:Cluster", "vpc"),
            _resource("nodes", "aws:eks/nodeGroup:NodeGroup", "cluster"),
            _resource("db", "aws:rds/instance:Instance", "vpc"),
        ],
    )
    chain = critical_path(recording)
    assert [s.name for s in chain] == ["vpc", "cluster", "nodes"]
    assert chain[-1].finishes_at == 5 + 600 + 240


def test_a_helm_chart_has_its_own_duration():
    release = _resource("op", "kubernetes:helm.sh/v3:Release")
    release.inputs = {"chart": "gpu-operator"}
    assert duration(release) == 300


def test_prod_deploys_from_empty_within_25_minutes_on_the_model(rendered):
    chain = critical_path(rendered("prod"))
    assert chain[-1].finishes_at <= 25 * 60, [(s.name, s.finishes_at) for s in chain]
    assert "aws:eks/cluster:Cluster" in {s.type for s in chain}


def _cluster_and_provider() -> list[Registration]:
    return [
        _resource("vpc", "aws:ec2/vpc:Vpc"),
        _resource("cluster", "aws:eks/cluster:Cluster", "vpc"),
        _resource("k8s", "pulumi:providers:kubernetes", "cluster"),
    ]


def _finish(recording: Recording, name: str) -> int:
    """When ``name`` finishes: the critical path of the recording cut after it."""
    kept = {name}
    by_urn = recording.by_urn()
    pending = [name]
    while pending:  # everything ``name`` waits for, transitively
        for dep in (waits_for(by_urn[pending.pop()]) & by_urn.keys()) - kept:
            kept.add(dep)
            pending.append(dep)
    return critical_path(Recording("t", [r for r in recording.registrations if r.urn in kept]))[-1].finishes_at


def test_a_component_with_a_kubernetes_provider_holds_back_its_aws_children():
    """The SDK registers a component once its providers' ids resolve, its children after it: a
    bucket under a component given the cluster's provider starts only after the cluster."""
    component = _resource("store", "aiplatform:index:ObjectStore", custom=False)
    component.providers = ["k8s"]
    recording = Recording("t", [*_cluster_and_provider(), component, _resource("bucket", "aws:s3/bucket:Bucket", parent="store")])
    assert _finish(recording, "bucket") == 5 + 600 + 5
    assert [s.name for s in critical_path(recording)] == ["vpc", "cluster", "k8s", "store", "bucket"]


def test_the_same_component_without_the_provider_starts_its_aws_children_at_once():
    component = _resource("store", "aiplatform:index:ObjectStore", custom=False)
    recording = Recording("t", [*_cluster_and_provider(), component, _resource("bucket", "aws:s3/bucket:Bucket", parent="store")])
    assert _finish(recording, "bucket") == 5


def test_a_component_waits_for_its_depends_on_and_so_do_its_children():
    recording = Recording(
        "t",
        [
            _resource("nodes", "aws:eks/nodeGroup:NodeGroup"),
            _resource("registry", "aiplatform:index:ModelRegistry", "nodes", custom=False),
            _resource("db", "aws:rds/instance:Instance", parent="registry"),
        ],
    )
    assert _finish(recording, "db") == 240 + 480


def test_a_child_of_a_custom_resource_waits_for_its_create():
    recording = Recording(
        "t",
        [
            _resource("cluster", "aws:eks/cluster:Cluster"),
            _resource("rule", "aws:ec2/securityGroupRule:SecurityGroupRule", parent="cluster"),
        ],
    )
    assert _finish(recording, "rule") == 600 + 5


def test_a_custom_resource_waits_for_its_providers_id():
    recording = Recording("t", [*_cluster_and_provider(), _resource("ns", "kubernetes:core/v1:Namespace", provider="k8s")])
    assert _finish(recording, "ns") == 5 + 600 + 2


def test_prod_data_layer_starts_with_the_cluster_on_the_model(rendered):
    """RDS (Multi-AZ, 12 min) and the buckets start right after the network, not after the nodes."""
    prod = rendered("prod")
    (instance,) = prod.of_type("aws:rds/instance:Instance")
    assert _finish(prod, instance.urn) - 720 < 60  # started within the first minute
    for bucket in prod.of_type("aws:s3/bucket:Bucket"):
        assert _finish(prod, bucket.urn) < 60


def test_the_readme_states_the_modelled_prod_figure(rendered):
    text = " ".join(README.read_text().split())
    stated = re.findall(r"prod's is ([0-9.]+) minutes", text)
    assert len(stated) == 1, 'README: one "prod\'s is <minutes> minutes" in the Performance section'
    total = critical_path(rendered("prod"))[-1].finishes_at
    assert stated[0] == f"{total / 60:.1f}"
    assert f"modeled deploy from empty: {stated[0]} min" in report(rendered("prod"))
