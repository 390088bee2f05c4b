"""docs/config.md is what docs/generate.py makes of stacks.config.PlatformConfig today, and it
names every key the stack files set."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.docs_generator import generate

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "docs" / "config.md"
STACK_FILES = [ROOT / "Pulumi.prod.yaml", ROOT / "Pulumi.dev.yaml", ROOT / "docs" / "stacks" / "Pulumi.staging.yaml"]


def test_committed_config_reference_is_what_the_code_generates():
    assert CONFIG.read_text() == generate.config_page(), "docs/config.md is out of date: run python docs/generate.py"


def _keys(value, page, path=""):
    """Every key path a stack file sets (``gpuPools[].maxSize``; a documented map, ``tags``, as one key)."""
    if isinstance(value, dict) and f"| `{path}` | map of" not in page:
        for key, item in value.items():
            yield from _keys(item, page, f"{path}.{key}" if path else key)
        return
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        for item in value:
            yield from _keys(item, page, f"{path}[]")
        return
    yield path


def test_every_key_a_stack_file_sets_is_documented():
    page = CONFIG.read_text()
    for path in STACK_FILES:
        config = yaml.safe_load(path.read_text())["config"]
        tree = {k.removeprefix("ai-platform:"): v for k, v in config.items() if k.startswith("ai-platform:")}
        # secure: values are secrets the program reads by the name a receiver gives (alertReceivers[].secretConfigKey)
        secrets = {k for k, v in tree.items() if isinstance(v, dict) and set(v) == {"secure"}}
        named = {r["secretConfigKey"] for r in tree.get("observability", {}).get("alertReceivers", [])}
        assert secrets <= named, f"{path.name}: secure keys no receiver names"
        tree = {k: v for k, v in tree.items() if k not in secrets}
        missing = sorted({key for key in _keys(tree, page) if f"| `{key}` |" not in page})
        assert missing == [], f"{path.name}: keys not in docs/config.md"


def test_every_section_and_a_nested_key_with_type_default_allowed_and_example():
    from stacks.config import PlatformConfig

    page = CONFIG.read_text()
    for name, info in PlatformConfig.model_fields.items():
        assert f"## `ai-platform:{info.alias or name}`" in page
    row = next(line for line in page.splitlines() if line.startswith("| `gpuPools[].maxSize` |"))
    assert row == "| `gpuPools[].maxSize` | integer | `2` | >= 1; <= 1000 | Most nodes the autoscaler may start. | `8` |"
    assert '| `gpuPools[].capacityType` | string | `"onDemand"` | `"onDemand"`, `"spot"` |' in page


def test_a_changed_default_changes_the_reference(monkeypatch):
    from stacks.config import GpuPoolConfig

    monkeypatch.setattr(GpuPoolConfig.model_fields["max_size"], "default", 5)
    assert "| `gpuPools[].maxSize` | integer | `5` |" not in CONFIG.read_text()
    assert "| `gpuPools[].maxSize` | integer | `5` |" in generate.config_page()
