"""The deploy-time model: the critical path through the declared graph, and prod's budget."""

from __future__ import annotations

from offline.deploy_time import critical_path, duration
from offline.mockruntime import Recording, Registration


def _resource(name: str, type_: str, *deps: str) -> Registration:
    return Registration(
        urn=name,
        type=type_,
        name=name,
        parent="",
        custom=True,
        provider="",
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
