"""Shared fixtures: the program and components run under Pulumi's mock runtime.

Every run goes through ``offline.mockruntime.run_program``, whose body runs inside
``@pulumi.runtime.test`` in update mode, so outputs resolve and every registration is recorded.
"""

from __future__ import annotations

import json
import runpy
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def rendered():
    """Recordings of the committed stacks, rendered once per test session."""
    from offline.render import render

    cache = {}

    def get(stack: str):
        if stack not in cache:
            cache[stack] = render(stack)
        return cache[stack]

    return get


TEST_SECRETS = {"alertWebhookUrl": "https://alerts.example.test/hook-s3cr3t"}
"""Secret config every ``run_main`` stack has (the EKS test bases' alert receiver reads it)."""
TEST_RECEIVER = {"name": "oncall", "type": "webhook", "secretConfigKey": "alertWebhookUrl"}


def run_main(
    raw_config: dict,
    *,
    stack: str = "test",
    region: str | None = "us-west-2",
    recording=None,
    secrets: dict[str, str] | None = None,
):
    """Run ``__main__.py`` with the given ``ai-platform`` config (python values, as in a stack file) and
    ``secrets`` (``TEST_SECRETS`` unless given) as secret config."""
    from offline.mockruntime import run_program

    config = {f"ai-platform:{k}": json.dumps(v) for k, v in raw_config.items()}
    secret_values = TEST_SECRETS if secrets is None else secrets
    config |= {f"ai-platform:{k}": v for k, v in secret_values.items()}
    if region:
        config["aws:region"] = region
    return run_program(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
        stack=stack,
        config=config,
        secret_keys=[f"ai-platform:{k}" for k in secret_values],
        recording=recording,
    )


def run_components(build, *, stack: str = "test"):
    """Run ``build()`` (which creates components) under the mock runtime; return the recording."""
    from offline.mockruntime import run_program

    return run_program(build, stack=stack, config={})


@pytest.fixture(scope="session")
def expanded(rendered):
    """Every Helm release of a committed stack rendered with its pinned chart (offline/charts.py), once per
    session; skips, naming the reason, when the chart cache is empty."""
    from offline import charts
    from offline.render import expand

    cache = {}

    def get(stack: str):
        if charts.is_empty():
            pytest.skip(f"the chart cache {charts.cache_dir()} is empty: {charts.FILL_HINT}")
        if stack not in cache:
            cache[stack] = expand(rendered(stack))
        return cache[stack]

    return get


def pytest_collection_modifyitems(items):
    """A test that expands the real charts (the ``expanded`` fixture, directly or through another) runs
    the Helm SDK over every release: render tooling's work, so it belongs to the integration tier."""
    for item in items:
        if "expanded" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)
