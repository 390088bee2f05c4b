"""The picture of a stack (offline/graph.py): its components and what each waits for, as Mermaid,
Graphviz DOT and, where Graphviz is installed, SVG."""

from __future__ import annotations

import shutil

import pytest

from offline import graph


def edges_by_name(recording):
    g = graph.component_graph(recording)
    name = {n.id: f"{n.type} {n.name}" for n in g.nodes}
    return {(name[a], name[b]): kind for (a, b), kind in g.edges.items()}, g


def test_dev_components_wait_for_what_they_use(rendered):
    edges, g = edges_by_name(rendered("dev"))
    assert {f"{n.type} {n.name}" for n in g.nodes} >= {
        "ExistingCluster ai-platform",
        "ObjectStore object-store",
        "ModelRegistry model-registry",
        "KServe kserve",
        "InferenceService iris",
    }
    assert edges[("KServe kserve", "InferenceService iris")] == graph.DEPENDS
    assert edges[("ObjectStore object-store", "ModelRegistry model-registry")] == graph.DEPENDS
    # On an existing cluster nothing waits for the cluster itself, only uses its provider.
    assert {kind for (a, _), kind in edges.items() if a == "ExistingCluster ai-platform"} == {graph.PROVIDER}
    assert sum(n.resources for n in g.nodes) == sum(1 for r in rendered("dev").registrations if r.custom)


def test_prod_data_does_not_wait_for_the_cluster(rendered):
    edges, _ = edges_by_name(rendered("prod"))
    assert edges[("EksCluster ai-prod", "GpuNodePool inference")] == graph.DEPENDS
    assert edges[("EksCluster ai-prod", "GpuOperator gpu-operator")] == graph.DEPENDS
    assert ("EksCluster ai-prod", "ObjectStore object-store") not in edges  # S3, KMS and IAM need no cluster


def test_mermaid_and_dot_name_every_component_and_edge(rendered):
    g = graph.component_graph(rendered("prod"))
    mermaid, dot = graph.mermaid(g), graph.dot(g, "prod")
    assert mermaid.startswith("flowchart LR\n")
    assert dot.startswith('digraph "prod" {') and dot.endswith("}\n")
    for node in g.nodes:
        assert f'{node.id}["{node.type}<br/>{node.name}' in mermaid
        assert f'{node.id} [label="{node.type}\\n{node.name}' in dot
    assert len(mermaid.splitlines()) == 1 + len(g.nodes) + len(g.edges)
    assert graph.mermaid(graph.component_graph(rendered("prod"))) == mermaid  # stable between runs


def test_svg_needs_graphviz(monkeypatch):
    monkeypatch.setattr(graph.shutil, "which", lambda _: None)
    assert graph.svg("digraph { a -> b }") is None


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (Debian package graphviz) is not installed")
def test_write_renders_an_svg_with_graphviz(rendered, tmp_path):
    written = graph.write(rendered("dev"), tmp_path)
    assert [p.name for p in written] == ["graph.mmd", "graph.dot", "graph.svg"]
    svg = (tmp_path / "graph.svg").read_text()
    assert "<svg" in svg and "InferenceService" in svg


def test_write_without_graphviz_writes_the_sources(rendered, tmp_path, monkeypatch):
    monkeypatch.setattr(graph.shutil, "which", lambda _: None)
    assert [p.name for p in graph.write(rendered("dev"), tmp_path)] == ["graph.mmd", "graph.dot"]


def test_command_line(tmp_path, capsys):
    assert graph.main(["dev", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "graph.mmd").read_text().startswith("flowchart LR")
    assert "wrote" in capsys.readouterr().out
