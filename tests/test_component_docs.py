"""The component reference in docs/components is what docs/generate.py makes from the code today,
and every example in it runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from provider.host import annotations, args_class, component_classes
from tests.conftest import run_components

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "components"
SEVEN = ["GpuNodePool", "GpuOperator", "ObjectStore", "ModelRegistry", "RayCluster", "InferenceService", "Observability"]


def _generator():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _generator()


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
        for field in [*annotations(args_class(component)), *annotations(component)]:
            assert f"| `{field}` |" in page, f"{component.__name__}.md lacks {field}"
        assert "## Example" in page
    index = (DOCS / "README.md").read_text()
    assert all(f"[{name}]({name}.md)" in index for name in names)


def test_a_default_in_the_docs_is_the_one_in_DEFAULTS():
    page = (DOCS / "GpuNodePool.md").read_text()
    assert "| `max_size` | `maxSize` | `int` | `2` |" in page
    assert "| `instance_types` | `instanceTypes` | `Sequence[str]` | **required** |" in page
    assert "| `cluster` | Python only: EksCluster object | `EksCluster` | **required** |" in page


@pytest.mark.parametrize("name", sorted(generate.EXAMPLES))
def test_each_example_runs_and_creates_its_component(name):
    recording = run_components(lambda: exec(compile(generate.EXAMPLES[name], f"<{name} example>", "exec"), {"__name__": "__main__"}))
    assert [r for r in recording.registrations if r.type == f"aiplatform:index:{name}"]
