"""How every component declares its inputs: once, with their defaults, next to the code that uses them.

A component's inputs are one pydantic model, ``XArgs``. Its plain-value fields (what a stack file
or a caller writes) usually sit in ``XOptions``, which the stack config uses as its section for the
component, so a key, its type, its default and its documentation exist in exactly one place;
``XArgs(XOptions)`` adds the objects a composition injects (a cluster, a store, a pool). This is
CDK's split of Options (what a caller gives) from Props (what the construct needs), and
terraform-aws-eks's habit of passing optional variables through to the module that owns the
default.

Components accept the model or a plain ``dict`` (what Python callers and Pulumi's component
provider pass); :func:`parse_args` validates either, runs the component's own ``problems`` rules
and raises :class:`~components.core.problems.InputError` before anything is registered.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from .problems import InputError, Problem, escape

Model = TypeVar("Model", bound=BaseModel)


class Options(BaseModel):
    """Base of every Args and Options model: camelCase keys in stack files, snake_case in Python,
    unknown keys refused, immutable once built, field docstrings kept as descriptions."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        arbitrary_types_allowed=True,
    )
    # Field docstrings are read by ``attribute_docstrings`` where they are shown (docs, the package
    # schema), not with pydantic's use_attribute_docstrings, which parses every model's source on
    # each `pulumi preview` (about 0.06 s of CPU for nothing the program reads).


_FOREIGN = {"builtins", "typing", "typing_extensions", "pulumi", "pydantic", "abc"}


def declaring_classes(cls: type) -> list[type]:
    """``cls`` and the classes it inherits annotated attributes from, base first: its MRO without
    Pulumi's, pydantic's and Python's own classes."""
    return [c for c in reversed(cls.__mro__) if c.__module__.partition(".")[0] not in _FOREIGN]


@functools.cache
def attribute_docstrings(cls: type) -> dict[str, str]:
    """Attribute -> the docstring written under it in the body of ``cls`` or of the base that declares it."""
    docs: dict[str, str] = {}
    for owner in declaring_classes(cls):
        tree = ast.parse(inspect.getsource(sys.modules[owner.__module__]))
        body = next(node.body for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == owner.__name__)
        for stmt, after in zip(body, [*body[1:], None], strict=True):
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
                    docs[stmt.target.id] = inspect.cleandoc(after.value.value)
    return docs


def field_descriptions(model: type[BaseModel]) -> dict[str, str]:
    """Field -> its description: ``Field(description=...)`` or the docstring under it."""
    docs = attribute_docstrings(model)
    found = {name: inspect.cleandoc(info.description) if info.description else docs.get(name) for name, info in model.model_fields.items()}
    return {name: text for name, text in found.items() if text}


def validation_problems(error: ValidationError) -> list[Problem]:
    """pydantic's errors as problems, with paths in field names (not aliases)."""
    problems = []
    for e in error.errors():
        path = tuple(_field_name(part) for part in e["loc"] if part != "[key]")
        kind = e["type"]
        if kind == "extra_forbidden":
            problems.append(Problem(path, "unknown key"))
        elif kind == "missing":
            problems.append(Problem(path, "required key is missing"))
        else:
            message = escape(e["msg"].removeprefix("Value error, "))
            if kind != "value_error" and "input" in e:
                message += f" (got {escape(repr(e['input']))})"
            problems.append(Problem(path, message))
    return problems


def _field_name(part: str | int) -> str | int:
    """pydantic reports a location by alias when the input used it: back to the field name."""
    if isinstance(part, int):
        return part
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", part).lower()


def parse_args(
    cls: type[Model],
    args: Model | Mapping[str, Any] | None,
    *,
    component: str,
    name: str,
    problems: Callable[[Model], list[Problem]] | None = None,
) -> Model:
    """``args`` as a validated ``cls``; every problem at once as an :class:`InputError` otherwise."""
    if isinstance(args, cls):
        parsed = args
    else:
        try:
            parsed = cls.model_validate(dict(args or {}))
        except ValidationError as error:
            raise InputError(component, name, validation_problems(error)) from None
    found = problems(parsed) if problems else []
    if found:
        raise InputError(component, name, found)
    return parsed


def inject(cls: type[Model], options: BaseModel, **objects: Any) -> Model:
    """``cls`` built from a config section (every field the two share, passed through untouched)
    plus the objects the composition injects: the stack never re-types a key."""
    shared = {field: getattr(options, field) for field in type(options).model_fields if field in cls.model_fields}
    return cls.model_validate({**shared, **objects})
