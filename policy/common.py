"""Helpers shared by the rule modules: how a rule becomes a mandatory policy, and reading props.

Policies see properties in the engine's wire form: camelCase keys, every number a float (the engine
sends a protobuf Struct), nested values wrapped in pulumi-policy's read-only proxies (``Mapping`` and
``Sequence``, not ``dict`` and ``list``), and an unknown value (during preview) raising
``UnknownValueError`` when read. So rules test ``isinstance(x, Mapping)``, never ``dict``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

MANDATORY = EnforcementLevel.MANDATORY


def resource_policy(
    name: str,
    description: str,
    types: Iterable[str] | Callable[[str], bool],
    *,
    config: Mapping[str, Any] | None = None,
) -> Callable[[Callable[[ResourceValidationArgs, ReportViolation], None]], ResourceValidationPolicy]:
    """Decorator: a mandatory resource validation policy that runs ``check`` on resources of ``types``
    (type tokens, or a predicate on the type token).

    ``config`` maps option names to JSON schemas with a ``default`` (the engine fills defaults in)."""
    applies = types if callable(types) else frozenset(types).__contains__

    def wrap(check):
        def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
            if applies(args.resource_type):
                check(args, report)

        return ResourceValidationPolicy(
            name=name,
            description=description,
            validate=validate,
            enforcement_level=MANDATORY,
            config_schema=PolicyConfigSchema(properties=dict(config)) if config else None,
        )

    return wrap


def stack_policy(name: str, description: str) -> Callable[[Callable[[StackValidationArgs, ReportViolation], None]], StackValidationPolicy]:
    """Decorator: a mandatory stack validation policy (for checks that span resources)."""

    def wrap(check):
        return StackValidationPolicy(name=name, description=description, validate=check, enforcement_level=MANDATORY)

    return wrap


def option(args: ResourceValidationArgs, key: str, default: Any) -> Any:
    """A policy config option: the configured value, else ``default`` (also the schema's default)."""
    value = args.get_config().get(key)
    return default if value is None else value


def get(value: Any, *path: str | int, default: Any = None) -> Any:
    """``value[path[0]][path[1]]...``, or ``default`` where a step is missing or of the wrong shape."""
    for step in path:
        if isinstance(step, int):
            if not is_list(value) or not -len(value) <= step < len(value):
                return default
        elif not isinstance(value, Mapping) or step not in value:
            return default
        value = value[step]
    return default if value is None else value


def known(value: Any, *path: str | int, default: Any = None) -> Any:
    """Like ``get``, but an unknown value (preview) reads as ``default`` instead of raising."""
    try:
        return get(value, *path, default=default)
    except UnknownValueError:
        return default


def as_list(value: Any) -> list:
    """A list property that the provider also accepts as a single object (maxItems 1 blocks)."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    return list(value) if is_list(value) else [value]


WORLDS = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


def worlds_covered(cidrs: Iterable[Any]) -> list[str]:
    """``0.0.0.0/0`` and/or ``::/0``: each address family whose whole space the CIDRs cover together
    (``0.0.0.0/0`` itself, or a union such as ``0.0.0.0/1`` + ``128.0.0.0/1``). Invalid CIDRs are skipped."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(str(cidr), strict=False))
        except ValueError:
            continue
    covered = []
    for world in WORLDS:
        family = [n for n in networks if n.version == world.version]
        if family and list(ipaddress.collapse_addresses(family)) == [world]:  # type: ignore[arg-type]
            covered.append(str(world))
    return covered


def number(value: Any) -> Any:
    """A number for messages: the engine sends every number as a float (443.0 -> 443)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def plain(value: Any) -> Any:
    """A proxied property as plain ``dict``/``list`` values (to compare or serialize it)."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if is_list(value):
        return [plain(v) for v in value]
    return value


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)
