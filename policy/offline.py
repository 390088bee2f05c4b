"""Run the pack's policy objects without the Pulumi engine, on recorded resource registrations.

A registration is anything with the attributes of ``offline.mockruntime.Registration``: ``type``,
``name``, ``urn``, ``inputs`` (wire-format camelCase, as sent to the engine) and optionally
``parent``, ``provider`` (a provider URN), ``protect``, ``ignore_changes``,
``delete_before_replace``, ``dependencies``, ``property_dependencies`` (property -> URNs).

Each becomes the arguments pulumi-policy's analyzer builds from the engine's request
(``_PolicyAnalyzerServicer.Analyze`` / ``AnalyzeStack``): the inputs go through a protobuf ``Struct``
and ``MessageToDict`` (so numbers become floats, as from the engine), ``deserialize_properties`` and
``unknown_checking_proxy``; options, provider, parent and dependencies become the SDK's own
``PolicyResourceOptions``, ``PolicyProviderResource`` and ``PolicyResource`` objects. Masked
values stay masked (``"[secret]"``), and ``"[unknown]"`` becomes the engine's unknown sentinel, so
reading it raises ``UnknownValueError`` as in a preview.

Stack policies get every registration's inputs as ``props``; the engine passes outputs, which for
the properties these policies read are the same values.

The engine never shows a policy what a Helm release renders (the provider renders it). Offline, the
objects of each release expanded with its pinned chart (``offline.charts``) become registrations
too (:func:`chart_objects`), so the Kubernetes policies judge them as well:

    python -m policy.offline <stack> [--config-out FILE]

renders the stack, runs the pack with the policy config its stack config implies
(``stacks.policy_config``, written to FILE for ``pulumi preview --policy-pack-config``) over its
resources plus, when the chart cache and tools are there, its charts' objects, and exits 1 on any
mandatory violation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from inspect import isawaitable
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

UNKNOWN_MARKER = "[unknown]"
PACK_ENFORCEMENT = EnforcementLevel.MANDATORY


@dataclass(frozen=True)
class Violation:
    policy: str
    enforcement: EnforcementLevel
    message: str
    urn: str | None

    def __str__(self) -> str:
        return f"[{self.enforcement.value}] {self.policy}: {self.message} ({self.urn})"


def props_of(inputs: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Inputs as a policy sees them: through a protobuf Struct, deserialized, behind the proxy."""
    struct = struct_pb2.Struct()
    struct.update(_restore_unknowns(dict(inputs or {})))
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))


def _restore_unknowns(value: Any) -> Any:
    if value == UNKNOWN_MARKER:
        return UNKNOWN_STRING_VALUE
    if isinstance(value, Mapping):
        return {k: _restore_unknowns(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_restore_unknowns(v) for v in value]
    return value


def options_of(r: Any) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=bool(getattr(r, "protect", False)),
        ignore_changes=list(getattr(r, "ignore_changes", []) or []),
        delete_before_replace=getattr(r, "delete_before_replace", None),
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=getattr(r, "parent", None) or None,
    )


def default_config(policy: Policy) -> dict[str, Any]:
    """The policy's config as the engine hands it over when none is set: the schema's defaults."""
    schema = policy.config_schema
    if schema is None:
        return {}
    return {key: prop["default"] for key, prop in schema.properties.items() if "default" in prop}


class Stack:
    """Registrations converted once into what the analyzer builds from the engine's requests.

    Policies only read ``props``, so one conversion per resource serves every policy (the analyzer
    converts per call; the result is the same)."""

    def __init__(self, registrations: Iterable[Any]):
        self.registrations = list(registrations)
        self.by_urn = {r.urn: r for r in self.registrations}
        self.props = {r.urn: props_of(r.inputs) for r in self.registrations}

    def provider(self, r: Any) -> PolicyProviderResource | None:
        provider = self.by_urn.get(getattr(r, "provider", None) or "")
        if provider is None:
            return None
        return PolicyProviderResource(provider.type, self.props[provider.urn], provider.urn, provider.name)

    def resource_args(self, r: Any, config: Mapping[str, Any] | None = None) -> ResourceValidationArgs:
        """Like ``Analyze``: the arguments of a resource validation."""
        return ResourceValidationArgs(r.type, self.props[r.urn], r.urn, r.name, options_of(r), self.provider(r), config, {})

    def stack_args(self, config: Mapping[str, Any] | None = None) -> StackValidationArgs:
        """Like ``AnalyzeStack``: one ``PolicyResource`` per registration, parents and dependencies linked."""
        resources = {
            r.urn: PolicyResource(r.type, self.props[r.urn], r.urn, r.name, options_of(r), self.provider(r), None, [], {})
            for r in self.registrations
        }
        for r in self.registrations:
            resource = resources[r.urn]
            resource.parent = resources.get(getattr(r, "parent", None) or "")
            resource.dependencies = [resources[u] for u in getattr(r, "dependencies", []) or [] if u in resources]
            resource.property_dependencies = {
                key: [resources[u] for u in urns if u in resources] for key, urns in (getattr(r, "property_dependencies", {}) or {}).items()
            }
        return StackValidationArgs(list(resources.values()), config, {})


def run(policies: Iterable[Policy], registrations: Iterable[Any], config: Mapping[str, Mapping[str, Any]] | None = None) -> list[Violation]:
    """Every violation the policies report on the registrations: resource policies on each
    registration, stack policies once on all of them. ``config`` overrides a policy's config by name.
    A policy that reads an unknown value yields an advisory violation, as the analyzer does."""
    stack = Stack(registrations)
    violations: list[Violation] = []
    for policy in policies:
        level = policy.enforcement_level or PACK_ENFORCEMENT
        policy_config = {**default_config(policy), **((config or {}).get(policy.name) or {})}
        # (urn of the resource validated or None for the stack, the policy's validate with its args bound)
        targets: list[tuple[str | None, Callable[[ReportViolation], Awaitable[Any] | None]]]
        if isinstance(policy, ResourceValidationPolicy):
            targets = [(r.urn, partial(policy.validate, stack.resource_args(r, policy_config))) for r in stack.registrations]
        elif isinstance(policy, StackValidationPolicy):
            targets = [(None, partial(policy.validate, stack.stack_args(policy_config)))]
        else:
            raise TypeError(f"unsupported policy type {type(policy).__name__}")
        for resource_urn, validate in targets:
            try:
                result = validate(_reporter(violations, policy.name, level, resource_urn))
                if isawaitable(result):
                    asyncio.run(_awaited(result))
            except UnknownValueError as error:
                violations.append(
                    Violation(policy.name, EnforcementLevel.ADVISORY, f"can't run during preview: {error.message}", resource_urn)
                )
    return violations


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def _reporter(violations: list[Violation], policy: str, level: EnforcementLevel, resource_urn: str | None):
    def report(message: str, urn: str | None = None) -> None:
        # Like the analyzer: a resource policy's violation is always about the resource it validates.
        violations.append(Violation(policy, level, message, resource_urn or urn))

    return report


def mandatory(violations: Iterable[Violation]) -> list[Violation]:
    return [v for v in violations if v.enforcement == EnforcementLevel.MANDATORY]


# ---- the objects Helm releases render -----------------------------------------------------------


@dataclass(frozen=True)
class ChartObject:
    """A Kubernetes object that a Helm release renders, shaped like a registration. The engine never
    registers these (the provider renders them), so only the offline runner can show them to the pack."""

    type: str
    name: str
    urn: str
    inputs: Mapping[str, Any]


def kubernetes_type(obj: Mapping[str, Any]) -> str:
    """The Pulumi type token of a Kubernetes object: ``kubernetes:<group or core>/<version>:<Kind>``."""
    group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{obj.get('kind')}"


def chart_objects(release: str, objects: Iterable[Mapping[str, Any]]) -> list[ChartObject]:
    """``objects`` of Helm release ``release`` as registrations, named ``<release>/<namespace>/<name>``."""
    found = []
    for obj in objects:
        metadata = obj.get("metadata") or {}
        name = f"{release}/{metadata.get('namespace') or '-'}/{metadata.get('name')}"
        type_ = kubernetes_type(obj)
        found.append(ChartObject(type_, name, f"urn:pulumi:chart::{release}::{type_}::{name}", obj))
    return found


def stack_file_config(stack: str, edit: Callable[[dict[str, Any]], None] | None = None):
    """The validated config of ``Pulumi.<stack>.yaml`` (``stacks.config.StackConfig``); ``edit`` may change
    the raw ``ai-platform`` keys first."""
    from offline.render import stack_config
    from stacks.config import parse_stack_config

    raw, secret_keys = stack_config(stack)
    prefix = "ai-platform:"
    platform = {k.removeprefix(prefix): _decoded(v) for k, v in raw.items() if k.startswith(prefix)}
    if edit:
        edit(platform)
    return parse_stack_config(
        platform, stack=stack, region=raw.get("aws:region"), secret_keys=[k.removeprefix(prefix) for k in secret_keys]
    )


def stack_registrations(stack: str) -> tuple[list[Any], dict[str, dict[str, Any]], str]:
    """The stack's registrations, plus its charts' objects when they can be expanded; the policy config
    its stack config implies; and a line saying whether the charts were included."""
    from offline import charts
    from offline.render import expand, helm_releases, render
    from stacks.policy_config import policy_config

    recording = render(stack)
    registrations: list[Any] = list(recording.registrations)
    if tools := charts.missing_tools():
        note = f"charts: not checked: {', '.join(tools)} not installed"
    elif absent := charts.missing(helm_releases(recording)):
        note = f"charts: not checked: the chart cache {charts.cache_dir()} lacks {', '.join(absent)}"
    else:
        expansions = expand(recording)
        registrations += [o for name, e in expansions.items() for o in chart_objects(name, e.objects)]
        note = f"charts: {len(registrations) - len(recording.registrations)} objects of {len(expansions)} releases checked"
    return registrations, policy_config(stack_file_config(stack)), note


def _decoded(value: str) -> Any:
    """A config value as the program reads it: structured values are JSON text."""
    import json

    try:
        return json.loads(value)
    except ValueError:
        return value


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json
    from pathlib import Path

    from policy import POLICIES

    parser = argparse.ArgumentParser(prog="python -m policy.offline", description="Run the policy pack on a rendered stack.")
    parser.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--config-out", type=Path, help="write the policy config (for pulumi preview --policy-pack-config)")
    options = parser.parse_args(argv)
    registrations, config, note = stack_registrations(options.stack)
    if options.config_out:
        options.config_out.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    violations = run(POLICIES, registrations, config)
    print("\n".join([*map(str, violations), note, f"{len(mandatory(violations))} mandatory violations, {len(POLICIES)} policies"]))
    return 1 if mandatory(violations) else 0


if __name__ == "__main__":
    import sys
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    sys.exit(main())
