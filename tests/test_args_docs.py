"""Each input is declared once: the pydantic field holds its type, its constraints, its ONE default
and its description; nothing else restates them.

- every field of every Args/Options model in ``components/`` has a description, and no description
  restates a literal default (``Default: 2.``): the docs and the schema read the default from the field;
- no module under ``components/`` keeps a ``DEFAULTS``-style dict or calls ``with_defaults``;
- no component keeps TypedDict Args (every component declares its inputs as a pydantic model);
- the stack config holds no second copy of any default: every field of every config section
  reachable from ``stacks.config.PlatformConfig`` is declared in exactly one class, and that class is
  a component's model (``components/``), except the stack-only keys in :data:`STACK_ONLY` and
  :data:`STACK_KEYS`, and a section field the stack narrows (:func:`narrows`).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import typing
from collections import abc
from typing import get_args, get_origin, is_typeddict

import pytest
from pydantic import BaseModel

import components
from components.core.args import Options, field_descriptions

MODULES = [importlib.import_module(info.name) for info in pkgutil.walk_packages(components.__path__, "components.")]

RESTATED_DEFAULT = re.compile(r"\bDefault:|\bDefaults? to\b")
"""How a description restates a default (the old convention was ``Default: <value>.``)."""


def models_of(module) -> list[type[BaseModel]]:
    return [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, BaseModel) and obj is not Options and obj.__module__ == module.__name__
    ]


def typed_dict_args(module) -> list[str]:
    """The TypedDict Args classes a module still defines."""
    return sorted(
        name
        for name, obj in vars(module).items()
        if name.endswith("Args") and inspect.isclass(obj) and is_typeddict(obj) and obj.__module__ == module.__name__
    )


def own_fields(model: type[BaseModel]) -> list[str]:
    """Fields ``model`` declares itself (not those it inherits)."""
    return [name for name in model.__dict__.get("__annotations__", {}) if name in model.model_fields]


MODELS = [model for module in MODULES for model in models_of(module)]
FIELDS = [
    pytest.param(model, name, id=f"{model.__module__.removeprefix('components.')}.{model.__name__}.{name}")
    for model in MODELS
    for name in own_fields(model)
]


def description_problems(description: str | None) -> list[str]:
    if not description or not description.strip():
        return ["no description (an attribute docstring under the field)"]
    if RESTATED_DEFAULT.search(description):
        return [f"description restates the default (the field holds it; docs are generated from it): {description!r}"]
    return []


def test_the_models_are_found():
    names = {model.__name__ for model in MODELS}
    assert {"GpuNodePoolOptions", "GpuNodePoolArgs"} <= names


@pytest.mark.parametrize(("model", "name"), FIELDS)
def test_every_field_has_a_description_that_does_not_restate_its_default(model, name):
    assert description_problems(field_descriptions(model).get(name)) == []


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        (None, "no description"),
        ("  ", "no description"),
        ("Most nodes. Default: 2.", "restates the default"),
        ("Defaults to ``single``.", "restates the default"),
    ],
)
def test_the_description_check_catches(description, expected):
    [problem] = description_problems(description)
    assert expected in problem


def test_the_description_check_accepts_a_context_default():
    assert description_problems("Unset: ``s3`` on EKS, ``minio`` on an existing cluster.") == []


# ---------------------------------------------------------------- no DEFAULTS dicts


def defaults_problems(source: str) -> list[str]:
    """Module-level ``DEFAULTS``-style dicts and ``with_defaults(...)`` calls in a module's source."""
    found = []
    tree = ast.parse(source)
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        value = getattr(node, "value", None)
        is_dict = isinstance(value, ast.Dict) or (isinstance(value, ast.Call) and getattr(value.func, "id", None) == "dict")
        for target in targets:
            if is_dict and isinstance(target, ast.Name) and re.fullmatch(r"(\w+_)?DEFAULTS", target.id):
                found.append(f"defines {target.id}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if called == "with_defaults":
                found.append(f"calls with_defaults (line {node.lineno})")
    return found


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.removeprefix("components."))
def test_no_module_keeps_a_defaults_dict(module):
    assert defaults_problems(inspect.getsource(module)) == []


def test_no_component_is_left_on_typeddict_args():
    assert {module.__name__: typed_dict_args(module) for module in MODULES if typed_dict_args(module)} == {}


def test_the_defaults_check_catches():
    source = "DEFAULTS = {'a': 1}\nPOOL_DEFAULTS: dict = dict(a=1)\nDCGM_DEFAULTS = 'https://...'\ndef f(a):\n    return util.with_defaults(a, DEFAULTS)\n"
    assert defaults_problems(source) == ["defines DEFAULTS", "defines POOL_DEFAULTS", "calls with_defaults (line 5)"]
    assert defaults_problems("def with_defaults(args, defaults):\n    return {**defaults, **args}\n") == []


# ---------------------------------------------------------------- no second copy of a default

STACK_ONLY = {
    "enabled": "whether the stack deploys the component at all; no component has it",
    "name": "the resource name the stack gives the component (a component gets it as its first argument)",
    "tags": "tags the stack adds to every AWS resource (passed to components as an injected value)",
    "provider": "cluster.provider picks the component (EksCluster or ExistingCluster); no component has it",
    "protect": "the per-environment protect default is the stack's (on for EKS stacks); the component gets a bool",
    "gpu_pool": "names a pool of gpuPools; the stack resolves it to the GpuNodePool object the component takes",
}
"""Keys only the stack has, and why: they are declared in stacks/config.py, once."""


def sections(root: type[BaseModel]) -> list[type[BaseModel]]:
    """Every model reachable from ``root``'s fields (``root`` itself excluded)."""
    found: list[type[BaseModel]] = []

    def leaves(t):
        yield t
        for arg in get_args(t):
            yield from leaves(arg)

    def walk(model):
        for info in model.model_fields.values():
            for leaf in leaves(info.annotation):
                if inspect.isclass(leaf) and issubclass(leaf, BaseModel) and leaf not in found and get_origin(leaf) is None:
                    found.append(leaf)
                    walk(leaf)

    walk(root)
    return found


def declared_in(model: type[BaseModel], name: str) -> list[type]:
    """The classes of ``model``'s MRO that declare ``name`` (in their own annotations)."""
    return [cls for cls in model.__mro__ if name in cls.__dict__.get("__annotations__", {})]


STACK_KEYS = {
    ("ClusterConfig", "kubeconfig_context"): (
        "components.cluster.existing_cluster.ExistingClusterArgs.context",
        "provider existing: the stack passes it as ExistingCluster's context, unset: kind-<cluster name>",
    ),
    ("VpcConfig", "availability_zones"): (
        "components.cluster.eks_cluster.EksClusterArgs.availability_zones",
        "the stack derives the zones from the region unless set; EksCluster takes them as a top-level injected input",
    ),
    ("KServeConfig", "local_model_pools"): (
        "components.serving.kserve.KServeArgs.local_model_pools",
        "names pools of gpuPools; the stack resolves them to the GpuNodePool objects the component takes",
    ),
    ("AccessConfig", "deployer_role_arns"): (
        "components.cluster.eks_cluster.EksClusterArgs.group_role_arns",
        "EKS access entries: the stack maps them to the cluster's group_role_arns under the first deployer group",
    ),
    ("AccessConfig", "viewer_role_arns"): (
        "components.cluster.eks_cluster.EksClusterArgs.group_role_arns",
        "EKS access entries: the stack maps them to the cluster's group_role_arns under the first viewer group",
    ),
}
"""(section, key) -> (the component field the stack feeds from it, why the key is the stack's): keys of
one section that another component takes, in another shape (names for objects, one list for a map)."""


def is_section_link(model: type[BaseModel], name: str) -> bool:
    """A field whose value is another section (``kserve.ingressGateway``): it holds no default of its own."""
    annotation = model.model_fields[name].annotation
    return any(inspect.isclass(leaf) and issubclass(leaf, BaseModel) for leaf in (annotation, *typing.get_args(annotation)))


def _section_shape(annotation) -> tuple[str, type[BaseModel]] | None:
    """``("one", M)`` for a section model ``M``, ``("list", M)`` for a list or Sequence of one, else None."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return "one", annotation
    args = get_args(annotation)
    if get_origin(annotation) in (list, abc.Sequence) and len(args) == 1 and inspect.isclass(args[0]) and issubclass(args[0], BaseModel):
        return "list", args[0]
    return None


def narrows(model: type[BaseModel], name: str) -> bool:
    """The stack redeclares a component's section field only to narrow its type to a subclass of the
    component's section model (or a list of one: ``vpc: VpcConfig``, ``worker_groups:
    Sequence[RayWorkerGroupConfig]``), with the same default: the subclass's keys are checked as a
    section of their own, and no default is restated."""
    owners = declared_in(model, name)
    if len(owners) != 2 or owners[0].__module__.startswith("components.") or not owners[1].__module__.startswith("components."):
        return False
    mine, theirs = owners[0].model_fields[name], owners[1].model_fields[name]
    narrow, wide = _section_shape(mine.annotation), _section_shape(theirs.annotation)
    if narrow is None or wide is None or narrow[0] != wide[0] or narrow[1] is wide[1] or not issubclass(narrow[1], wide[1]):
        return False

    def dump(value):
        if isinstance(value, BaseModel):
            return {k: v for k, v in value.model_dump().items() if k in wide[1].model_fields}
        return [dump(v) for v in value] if isinstance(value, (list, tuple)) else value

    if mine.is_required() or theirs.is_required():
        return mine.is_required() == theirs.is_required()
    return dump(mine.get_default(call_default_factory=True)) == dump(theirs.get_default(call_default_factory=True))


def second_copies(model: type[BaseModel]) -> list[str]:
    """Fields of a config section declared more than once, or declared outside ``components/``
    without being a stack-only key."""
    found = []
    for name in model.model_fields:
        owners = declared_in(model, name)
        where = [f"{cls.__module__}.{cls.__qualname__}" for cls in owners]
        if len(owners) > 1 and not narrows(model, name):
            found.append(f"{name}: declared in {' and '.join(where)} (one default, one place)")
        elif len(owners) == 1 and not owners[0].__module__.startswith("components."):
            if name not in STACK_ONLY and (model.__name__, name) not in STACK_KEYS and not is_section_link(model, name):
                found.append(f"{name}: declared in {where[0]}, not in a component's model")
    return found


def _config_sections() -> list[type[BaseModel]]:
    from stacks.config import PlatformConfig

    return sections(PlatformConfig)


SECTIONS = _config_sections()


@pytest.mark.parametrize("model", SECTIONS, ids=lambda m: m.__name__)
def test_each_config_key_is_declared_once_in_its_component(model):
    assert second_copies(model) == []


@pytest.mark.parametrize(("section", "name"), sorted(STACK_KEYS))
def test_each_stack_key_feeds_a_component_field_and_shadows_none(section, name):
    by_name = {model.__name__: model for model in SECTIONS}
    model = by_name[section]
    assert declared_in(model, name) == [model], "a stack key must not redeclare a field of the section's component"
    module, cls, field = STACK_KEYS[section, name][0].rsplit(".", 2)
    assert field in getattr(importlib.import_module(module), cls).model_fields


def test_the_gpu_pool_section_is_the_components_options():
    from components.cluster.gpu_node_pool import GpuNodePoolOptions
    from stacks.config import GpuPoolConfig

    assert GpuPoolConfig in SECTIONS
    assert issubclass(GpuPoolConfig, GpuNodePoolOptions)
    assert second_copies(GpuPoolConfig) == []
    assert declared_in(GpuPoolConfig, "max_size") == [GpuNodePoolOptions]


def test_a_planted_second_copy_fails():
    from components.cluster.gpu_node_pool import GpuNodePoolOptions

    class PlantedPoolConfig(GpuNodePoolOptions):
        name: str
        """Stack-only."""
        max_size: int = 3
        """The stack's own copy of the pool's default."""
        spare_nodes: int = 1
        """A key only the stack declares."""

    PlantedPoolConfig.__module__ = "stacks.config"
    found = second_copies(PlantedPoolConfig)
    assert found == [
        "max_size: declared in stacks.config.test_a_planted_second_copy_fails.<locals>.PlantedPoolConfig and "
        "components.cluster.gpu_node_pool.GpuNodePoolOptions (one default, one place)",
        "spare_nodes: declared in stacks.config.test_a_planted_second_copy_fails.<locals>.PlantedPoolConfig, not in a component's model",
    ]
    with pytest.raises(AssertionError):
        test_each_config_key_is_declared_once_in_its_component(PlantedPoolConfig)


def test_narrowing_a_section_passes_only_with_the_components_default():
    from components.cluster.eks_cluster import EksClusterOptions
    from components.cluster.vpc import VpcOptions

    class PlantedVpc(VpcOptions):
        zones_hint: str | None = None
        """Stack-only, in the narrowed section."""

    class Narrowed(EksClusterOptions):
        vpc: PlantedVpc = PlantedVpc()  # pyright: ignore[reportIncompatibleVariableOverride]
        """The network, narrowed."""

    class Redefaulted(EksClusterOptions):
        vpc: PlantedVpc = PlantedVpc(cidr="10.9.0.0/16")  # pyright: ignore[reportIncompatibleVariableOverride]
        """The network, with the stack's own default."""

    class Restated(EksClusterOptions):
        vpc: VpcOptions = VpcOptions()
        """The same type again: a second copy, not a narrowing."""

    class PlainKey(EksClusterOptions):
        availability_zones: list[str] = []
        """A stack key in a section STACK_KEYS does not name it for."""

    for planted in (Narrowed, Redefaulted, Restated, PlainKey, PlantedVpc):
        planted.__module__ = "stacks.config"
    assert second_copies(Narrowed) == []
    assert [p.split(":")[0] for p in second_copies(Redefaulted)] == ["vpc"]
    assert [p.split(":")[0] for p in second_copies(Restated)] == ["vpc"]
    assert second_copies(PlainKey) == [
        "availability_zones: declared in stacks.config.test_narrowing_a_section_passes_only_with_the_components_default.<locals>.PlainKey, "
        "not in a component's model"
    ]
    assert [p.split(":")[0] for p in second_copies(PlantedVpc)] == ["zones_hint"]
