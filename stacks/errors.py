"""One clean message for every problem in a stack's configuration.

Problems are the components' own type (:class:`components.core.problems.Problem`): a path in
snake_case field names under the ``ai-platform`` namespace, spelled as camelCase config keys here.
A path whose first part holds a colon (``aws:region``) is a key of another namespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pulumi
from pydantic.alias_generators import to_camel

from components.core.problems import Path, Problem

NAMESPACE = "ai-platform"


_FIELD_NAME = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def _spell(part: str) -> str:
    """A field name as its config key; anything else (a map key, ``aws:region``) as it is."""
    return to_camel(part) if _FIELD_NAME.match(part) else part


def key_path(*parts: str | int) -> str:
    """``key_path("gpu_pools", 1, "max_size")`` -> ``ai-platform:gpuPools[1].maxSize``."""
    if parts and isinstance(parts[0], str) and ":" in parts[0]:
        return parts[0] + "".join(f"[{p}]" if isinstance(p, int) else f".{_spell(p)}" for p in parts[1:])
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{_spell(part)}" if text else _spell(part)
    return f"{NAMESPACE}:{text}"


def config_key(problem: Problem) -> str:
    """The config key a problem is about, as a user types it."""
    return key_path(*problem.path)


def under(prefix: Path, problems: Iterable[Problem]) -> list[Problem]:
    """A component's problems (paths relative to its Args) placed under its config section."""
    return [p.under(*prefix) for p in problems]


class ConfigError(pulumi.RunError):
    """Invalid stack configuration.

    A ``RunError`` so that ``pulumi up`` prints the message without a Python traceback.
    """

    def __init__(self, problems: Iterable[Problem]):
        lines = sorted({(config_key(p), p.message_as(_spell)) for p in problems})
        self.problems = lines
        """``(config key, message)`` pairs, sorted."""
        count = len(lines)
        text = [f"invalid stack configuration ({count} problem{'s' if count > 1 else ''}):"]
        text += [f"  - {key}: {message}" for key, message in lines]
        super().__init__("\n".join(text))

    @property
    def keys(self) -> list[str]:
        return [key for key, _ in self.problems]
