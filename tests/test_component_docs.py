"""The component reference in docs/components is what docs/generate.py makes from the code today,
and every example in it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from provider.host import args_class, class_annotations, component_classes
from tests.conftest import run_components
from tests.docs_generator import generate

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "components"
SEVEN = ["GpuNodePool", "GpuOperator", "ObjectStore", "ModelRegistry", "RayCluster", "InferenceService", "Observability"]


def test_committed_docs_are_what_the_code_generates():
    pages = generate.render_all()
    committed = {p.name: p.read_text() for p in DOCS.glob("*.md")}
    stale = sorted(name for name in set(pages) | set(committed) if pages.get(name) != committed.get(name))
    assert stale == [], "docs/components is out of date: run python docs/generate.py"


def test_every_component_has_a_page_with_every_input_and_output():
    names = [c.__name__ for c in component_classes()]
    assert set(SEVEN) <= set(names)
    for component in component_classes():
        page = (DOCS / f"{component.__name__}.md").read_text()
        for field in [*class_annotations(args_class(component)), *class_annotations(component)]:
            assert f"| `{field}` |" in page, f"{component.__name__}.md lacks {field}"
        assert "## Example" in page
    index = (DOCS / "README.md").read_text()
    assert all(f"[{name}]({name}.md)" in index for name in names)


def test_a_default_in_the_docs_is_the_one_in_the_model():
    from components.cluster.gpu_node_pool import GpuNodePoolArgs

    page = (DOCS / "GpuNodePool.md").read_text()
    assert GpuNodePoolArgs.model_fields["max_size"].default == 2
    assert "| `max_size` | `maxSize` | `int` | `2` | >= 1; <= 1000 | Most nodes the autoscaler may start. |" in page
    assert '| `capacity_type` | `capacityType` | `str` | `"onDemand"` | `"onDemand"`, `"spot"` |' in page
    assert (
        "| `instance_types` | `instanceTypes` | `list[InstanceType]` | **required** | length >= 1; each: must be an EC2 instance type"
        in page
    )
    assert "| `cluster` | Python only: a Python object (EksClusterLike) | `EksClusterLike` | **required** |" in page


def test_the_tables_follow_a_changed_default(monkeypatch):
    """A default changed in the model changes the page (the drift test above then fails)."""
    from components.cluster.gpu_node_pool import GpuNodePool, GpuNodePoolArgs

    monkeypatch.setattr(GpuNodePoolArgs.model_fields["max_size"], "default", 3)
    page = generate.component_page(GpuNodePool, {})
    assert "| `max_size` | `maxSize` | `int` | `3` |" in page


def test_check_fails_on_drift(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(generate, "OUT", tmp_path / "components")
    monkeypatch.setattr(generate, "CONFIG", tmp_path / "config.md")
    assert generate.main(["--check"]) == 1  # nothing written yet
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0
    (tmp_path / "config.md").write_text((tmp_path / "config.md").read_text().replace("`gpuPools[].maxSize`", "`gpuPools[].maximum`"))
    assert generate.main(["--check"]) == 1
    assert "config.md differs from the code" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(generate.EXAMPLES))
def test_each_example_runs_and_creates_its_component(name):
    recording = run_components(lambda: exec(compile(generate.EXAMPLES[name], f"<{name} example>", "exec"), {"__name__": "__main__"}))
    assert [r for r in recording.registrations if r.type == f"aiplatform:index:{name}"]
