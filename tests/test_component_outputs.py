"""Every public output of a component is registered with ``register_outputs``, so the engine
records it in the component's state (and other languages can read it through the package).

The outputs a component declares are the ones its package schema lists (its annotated public
attributes that another language can read; Python-only objects such as a provider or a list of
resources to wait for are attributes, not outputs). The test renders both stacks, records what
each component instance registered, and compares the two for every component the stacks create.
"""

from __future__ import annotations

from collections import defaultdict

import pulumi
import pytest
from pulumi.provider.experimental.util import camel_case

from provider.host import PACKAGE, component_classes, package_schema


@pytest.fixture(scope="module")
def registered(monkeypatch_module):
    """Component class name -> set of output names each instance registered (one set per instance)."""
    seen: dict[str, list[set[str]]] = defaultdict(list)
    original = pulumi.ComponentResource.register_outputs

    def record(self, outputs):
        seen[type(self).__name__].append({camel_case(name) for name in outputs or {}})
        return original(self, outputs)

    monkeypatch_module.setattr(pulumi.ComponentResource, "register_outputs", record)
    from offline.render import render

    for stack in ("dev", "prod"):
        render(stack)
    return seen


@pytest.fixture(scope="module")
def monkeypatch_module():
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


def test_the_stacks_create_most_package_components(registered):
    created = set(registered) & {c.__name__ for c in component_classes()}
    # ExistingEksCluster is only used by programs that bring their own cluster (examples/).
    assert created >= {c.__name__ for c in component_classes()} - {"ExistingEksCluster"}


@pytest.mark.parametrize("component", [c for c in component_classes() if c.__name__ != "ExistingEksCluster"], ids=lambda c: c.__name__)
def test_every_declared_output_is_registered(registered, component):
    schema = package_schema()["resources"][f"{PACKAGE}:index:{component.__name__}"]
    declared = set(schema.get("properties", {}))
    assert declared, f"{component.__name__} declares no outputs"
    instances = registered[component.__name__]
    assert instances, f"no {component.__name__} registered its outputs"
    for outputs in instances:
        missing = {name for name in declared if name not in outputs}
        assert missing == set(), f"{component.__name__} declares outputs it does not register: {sorted(missing)}"
