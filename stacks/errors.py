"""One clean message for every problem in a stack's configuration."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

NAMESPACE = "ai-platform"


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    """Full config key path, e.g. ``ai-platform:gpuPools[1].maxSize`` or ``aws:region``."""
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def key_path(*parts: str | int) -> str:
    """``key_path("gpuPools", 1, "maxSize")`` -> ``ai-platform:gpuPools[1].maxSize``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return f"{NAMESPACE}:{text}"


class ConfigError(pulumi.RunError):
    """Invalid stack configuration.

    A ``RunError`` so that ``pulumi up`` prints the message without a Python traceback.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        count = len(self.problems)
        lines = [f"invalid stack configuration ({count} problem{'s' if count > 1 else ''}):"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))
