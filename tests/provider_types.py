"""Check wire-format resource inputs against the input types of the installed provider SDKs.

The Python SDKs check top-level keyword names only. A nested input given as a plain dict is
serialized by ``pulumi.runtime.rpc.serialize_property``, which renames the snake_case keys the
nested input type knows to their wire (camelCase) names and passes every other key through as is,
so a typo there reaches the provider untouched and fails only at ``pulumi up``.

We therefore check what was actually sent: every object key of a resource's recorded inputs must
be a wire name of the input type the SDK serialized that object with. The names and types come
from the same ``pulumi._types`` helpers the serializer uses (``@pulumi.getter(name=...)`` metadata
and the getters' return annotations), so the checker agrees with the SDK by construction.
"""

from __future__ import annotations

import collections.abc
import difflib
import functools
import importlib
import sys
import typing
from collections.abc import Iterator
from typing import Any

from pulumi import _types
from pulumi.runtime import rpc

# Values the mock runtime records instead of the real ones (see stacks/mockruntime.mask):
# nothing inside them can be checked.
MASKED = ("[secret]", "[unknown]")

# (path, problem): one per object key checked; problem is None when the SDK knows the key.
Finding = tuple[str, str | None]


@functools.cache
def args_type(token: str) -> type:
    """The ``<Class>Args`` input type the SDK serializes a resource of type ``token`` with.

    The token -> (Python module, class) table is the one each provider SDK registers with the
    runtime to rehydrate resource references, so nested or irregular modules
    ("aws:ec2/launchTemplate" -> pulumi_aws.ec2, "random:index/..." -> pulumi_random) need no
    naming rules of ours. The resource's ``_internal_init`` builds its props as ``<Class>Args``
    (or ``<Class>InitArgs``).
    """
    package, module_name, _ = token.split(":")
    importlib.import_module(f"pulumi_{package}")  # importing the SDK registers its modules
    module = rpc.get_resource_module(package, module_name, "")
    # The SDKs' generated Module classes have mod_info; pulumi's ResourceModule base does not declare it.
    mod_info: dict[str, Any] = getattr(module, "mod_info", None) or {"classes": {}}
    if token not in mod_info["classes"]:
        raise LookupError(f"the installed pulumi_{package} SDK defines no resource {token}")
    python_module = importlib.import_module(mod_info["fqn"])
    resource = getattr(python_module, mod_info["classes"][token])
    # When a nested input type already has the name <Class>Args (pulumi_aws.s3.BucketVersioningArgs
    # is the legacy Bucket's block), the SDK names the resource's own inputs <Class>InitArgs.
    own_module = sys.modules[resource.__module__]
    args = getattr(own_module, resource.__name__ + "InitArgs", None) or getattr(own_module, resource.__name__ + "Args")
    assert _types.is_input_type(args), f"{args} is not a Pulumi input type"
    return args


def check_resource(token: str, inputs: dict[str, Any]) -> list[Finding]:
    """Every object key in a resource's recorded inputs, with a problem for each the SDK lacks."""
    return list(check(inputs, args_type(token), ""))


def check(value: Any, typ: Any, path: str) -> Iterator[Finding]:
    """Check ``value`` (wire format) against the SDK annotation ``typ`` of the property at ``path``."""
    typ = _types.unwrap_type(typ)  # Input[Optional[T]], Output[T], ... -> T
    if value is None or (isinstance(value, str) and value in MASKED) or typ is Any:
        return
    if _types.is_input_type(typ):
        yield from _check_object(value, typ, path)
    elif _origin(typ) in (collections.abc.Sequence, list):
        yield from _check_list(value, typing.get_args(typ)[0], path)
    elif _origin(typ) in (collections.abc.Mapping, dict):
        # Free-form keys (tags, labels, ...): only their values can have a type to check.
        if isinstance(value, dict):
            for key, item in value.items():
                yield from check(item, typing.get_args(typ)[1], f"{path}[{key!r}]")
    elif _types._is_union_type(typ):
        yield from _check_union(value, typing.get_args(typ), path)
    # Anything else is a scalar (str, int, bool, an enum): no keys. A dict given where the SDK
    # declares a string (an IAM policy) is serialized to JSON by the provider, so it is left alone.


def _origin(typ: Any) -> Any:
    return typ if typ in (list, dict) else typing.get_origin(typ)


def _check_object(value: Any, typ: type, path: str) -> Iterator[Finding]:
    if not isinstance(value, dict):
        yield path, f"expected an object ({typ.__name__}), got {type(value).__name__}"
        return
    known = wire_names(typ)
    types = _types.input_type_types(typ)  # wire name -> annotation
    for key, item in value.items():
        where = f"{path}.{key}" if path else key
        if key in known:
            yield where, None
            yield from check(item, types.get(key, Any), where)
        else:
            yield where, _unknown(key, typ, known)


def _check_list(value: Any, element: Any, path: str) -> Iterator[Finding]:
    if not isinstance(value, list):
        yield path, f"expected a list, got {type(value).__name__}"
        return
    for index, item in enumerate(value):
        yield from check(item, element, f"{path}[{index}]")


def _check_union(value: Any, members: tuple, path: str) -> Iterator[Finding]:
    """Union[str, PolicyDocumentArgs], Union[str, Tenancy], ...: the value is fine when a member
    accepts it; otherwise the problems it has with the best-fitting member are reported."""
    # typing flattens Input[Union[A, B]] into Union[A, B, Awaitable[...], Output[...]]; those
    # plumbing members only repeat A and B, and would accept anything if kept.
    members = tuple(m for m in members if m is not type(None) and not _types._is_plumbing_arg(m))
    if isinstance(value, dict | list):
        # An object or a list cannot be a str or an enum: judge it by the structured members.
        members = tuple(m for m in members if _is_structured(m)) or members
    candidates = [list(check(value, member, path)) for member in members]
    yield from min(candidates, key=_problem_count, default=[])


def _is_structured(typ: Any) -> bool:
    typ = _types.unwrap_type(typ)
    return _types.is_input_type(typ) or _origin(typ) in (collections.abc.Sequence, list, collections.abc.Mapping, dict)


def _problem_count(findings: list[Finding]) -> int:
    return sum(problem is not None for _, problem in findings)


def wire_names(typ: type) -> set[str]:
    """Wire names of an input type's properties: ``@pulumi.getter(name=...)``, else the Python name."""
    return set(_types.input_type_py_to_pulumi_names(typ).values())


def _unknown(key: str, typ: type, known: set[str]) -> str:
    hint = difflib.get_close_matches(key, sorted(known), n=1)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
    return f"unknown key {key!r} for {typ.__module__}.{typ.__name__}{suggestion}"
