"""One problem type for every input check, from a component's ``problems(args)`` to the stack config.

A problem names where it is, as a path of Args field names (snake_case) and list indices, and
says what is wrong with a message whose field names are written ``{field}``. The stack spells
both in camelCase config keys (``ai-platform:gpuPools[1].maxSize``); a Python caller sees them
as written in its Args (``max_size``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pulumi

Path = tuple[str | int, ...]


def _same(name: str) -> str:
    return name


@dataclass(frozen=True, order=True)
class Problem:
    path: Path
    """Where, in Args field names: ``("worker_groups", 1, "max_replicas")``; ``()`` for the whole input."""
    template: str
    """What is wrong; field names it mentions are written ``{field}`` (``{{`` and ``}}`` for braces)."""

    def message_as(self, key: Callable[[str], str] = _same) -> str:
        """The message with field names spelled by ``key`` (``to_camel`` for stack config keys)."""

        def spell(match: re.Match) -> str:
            return match[0][0] if match[1] is None else key(match[1])

        return re.sub(r"\{\{|\}\}|\{(\w+)\}", spell, self.template)

    @property
    def message(self) -> str:
        return self.message_as()

    def path_as(self, key: Callable[[str], str] = _same) -> Path:
        return tuple(key(part) if isinstance(part, str) else part for part in self.path)

    def under(self, *prefix: str | int) -> Problem:
        """The same problem seen from an enclosing input (``under("gpu_pools", 2)``)."""
        return Problem((*prefix, *self.path), self.template)

    def __str__(self) -> str:
        return f"{dotted(self.path) or '(input)'}: {self.message}"


def dotted(path: Path) -> str:
    """``("worker_groups", 1, "max_replicas")`` -> ``worker_groups[1].max_replicas``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def escape(value: Any) -> str:
    """A value quoted into a problem template (braces doubled, so they are not field names)."""
    return str(value).replace("{", "{{").replace("}", "}}")


class InputError(pulumi.RunError):
    """A component refused its inputs before registering anything.

    A ``RunError`` so that ``pulumi up`` prints the problems without a Python traceback.
    """

    def __init__(self, component: str, name: str, problems: Iterable[Problem]):
        self.problems = sorted(set(problems))
        lines = [f"{component} {name!r}: invalid input ({len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}):"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))
