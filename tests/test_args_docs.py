"""Every ``*Args`` field of every component documents its default, and the docs match ``DEFAULTS``.

The convention: a field's docstring says ``Required.`` (the field is ``Required[...]`` and has no
DEFAULTS entry) or ``Default: <value>``, where <value> is the first token after "Default:":
``literal`` (a string, or a JSON list/dict), a bare JSON number or ``true``/``false``, or ``none``
(None, {} or []). Any explanation may follow the value.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
from typing import Any, is_typeddict

import pytest

import components

MISSING = object()
DEFAULT_RE = re.compile(r"Default:\s*(?:``(?P<literal>.*?)``|(?P<bare>\S+))", re.DOTALL)


def parse_default(doc: str) -> Any:
    """The value after "Default:" in ``doc``; MISSING when there is none. Raises ValueError if unparseable."""
    match = DEFAULT_RE.search(doc)
    if not match:
        return MISSING
    if match["literal"] is not None:
        literal = match["literal"]
        return json.loads(literal) if literal[:1] in "[{" else literal
    bare = match["bare"].rstrip(".,;:")
    return None if bare == "none" else json.loads(bare)


def matches(documented: Any, default: Any) -> bool:
    if documented is None:  # "none"
        return default in (None, {}, [])
    return type(documented) is type(default) and documented == default  # so true != 1


def problems(doc: str | None, required: bool, default: Any = MISSING) -> list[str]:
    """What is wrong with one field's docstring, given its DEFAULTS entry (MISSING when it has none)."""
    if not doc:
        return ["no docstring"]
    if required:
        found = [] if "Required." in doc else ["Required[...] field's docstring does not say 'Required.'"]
        return found + ([] if default is MISSING else [f"Required[...] field has a DEFAULTS entry {default!r}"])
    if default is MISSING:
        return ["optional field has no DEFAULTS entry"]
    try:
        documented = parse_default(doc)
    except ValueError:
        return [f"cannot parse the value after 'Default:' in {doc!r}"]
    if documented is MISSING:
        return ["optional field's docstring has no 'Default: <value>'"]
    if not matches(documented, default):
        return [f"docstring says Default: {documented!r}, DEFAULTS has {default!r}"]
    return []


def field_docs(cls: type) -> dict[str, tuple[str | None, bool]]:
    """field -> (docstring, is Required[...]) from the class source.

    ``Required`` is read from the source: with postponed annotations, ``__required_keys__`` misses it.
    """
    tree = ast.parse(inspect.getsource(inspect.getmodule(cls)))
    body = next(node.body for node in tree.body if isinstance(node, ast.ClassDef) and node.name == cls.__name__)
    fields = {}
    for stmt, after in zip(body, [*body[1:], None], strict=True):
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            is_doc = isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)
            required = isinstance(stmt.annotation, ast.Subscript) and ast.unparse(stmt.annotation.value).endswith("Required")
            fields[stmt.target.id] = (after.value.value if is_doc else None, required)
    return fields


def defaults_name(cls: type) -> str:
    """``DEFAULTS`` for a module's component, ``SYSTEM_NODE_GROUP_DEFAULTS`` for ``SystemNodeGroupArgs`` and so on."""
    nested = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__.removesuffix("Args")).upper() + "_DEFAULTS"
    module = inspect.getmodule(cls)
    return nested if hasattr(module, nested) else "DEFAULTS"


def args_classes() -> list[type]:
    found = []
    for info in pkgutil.walk_packages(components.__path__, "components."):
        module = importlib.import_module(info.name)
        found += [
            obj
            for name, obj in vars(module).items()
            if name.endswith("Args") and inspect.isclass(obj) and is_typeddict(obj) and obj.__module__ == module.__name__
        ]
    return found


ARGS = args_classes()
FIELDS = [
    pytest.param(cls, field, doc, required, id=f"{cls.__module__.removeprefix('components.')}.{cls.__name__}.{field}")
    for cls in ARGS
    for field, (doc, required) in field_docs(cls).items()
]


def test_every_component_args_class_is_found():
    names = {cls.__name__ for cls in ARGS}
    assert {"EksClusterArgs", "SystemNodeGroupArgs", "GpuNodePoolArgs", "GpuOperatorArgs", "ClusterAutoscalerArgs", "VpcArgs"} <= names


@pytest.mark.parametrize("cls", ARGS, ids=lambda cls: f"{cls.__module__.removeprefix('components.')}.{cls.__name__}")
def test_defaults_only_name_fields(cls):
    defaults = getattr(inspect.getmodule(cls), defaults_name(cls))
    assert set(defaults) <= set(field_docs(cls)), f"{defaults_name(cls)} keys that are not fields of {cls.__name__}"


@pytest.mark.parametrize(("cls", "field", "doc", "required"), FIELDS)
def test_field_docstring_states_its_default(cls, field, doc, required):
    defaults = getattr(inspect.getmodule(cls), defaults_name(cls))
    assert problems(doc, required, defaults.get(field, MISSING)) == []


@pytest.mark.parametrize(
    ("doc", "required", "default", "expected"),
    [
        ("Default: 3.", False, 2, "says Default: 3, DEFAULTS has 2"),
        ("Nodes at creation.", False, 2, "no 'Default: <value>'"),
        ("Default: all five.", False, ["api"], "cannot parse"),
        ("Default: false.", False, 0, "says Default: False"),
        ("Default: none.", False, "none", "says Default: None"),
        ("The cluster.", True, MISSING, "does not say 'Required.'"),
        ("The cluster. Required.", True, 1, "has a DEFAULTS entry"),
        (None, False, 2, "no docstring"),
    ],
)
def test_checker_catches_drift(doc, required, default, expected):
    [problem] = problems(doc, required, default)
    assert expected in problem


@pytest.mark.parametrize(
    ("doc", "default"),
    [
        ("Default: 90.", 90),
        ("Default: true.", True),
        ("Default: ``1.35``.", "1.35"),
        ("Default: ``none``.", "none"),
        ("Default: none (MIG off).", None),
        ("Default: none.", {}),
        ('Default: ``["m7i.xlarge"]``.', ["m7i.xlarge"]),
        ("Default: ``{}`` (2 to 4 m7i.xlarge nodes).", {}),
        ("Spread over two\n    lines. Default: false.", False),
    ],
)
def test_checker_accepts_the_convention(doc, default):
    assert problems(doc, False, default) == []
