"""Small helpers shared by the components."""

from __future__ import annotations

import json
from typing import Any

LABEL_PREFIX = "ai-platform.io"
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
"""What a pod needs to run on a GPU node (GpuNodePool taints them all)."""


def policy_document(statements: list[dict[str, Any]]) -> str:
    """An IAM policy document as stable JSON (no invoke, so previews need no AWS call)."""
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def assume_role_policy(service: str) -> str:
    return policy_document([{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}])


def explicit_depends_on(opts: Any) -> list:
    """A component's own ``depends_on``, for the children that run pods: Pulumi does not hand a
    component's dependencies down to its children."""
    deps = getattr(opts, "depends_on", None)
    if deps is None:
        return []
    return list(deps) if isinstance(deps, (list, tuple)) else [deps]


IMAGE_BY_TAG = "pinned by tag in components/versions.py, the one place versions change; a digest would pin one architecture"


def checkov_skips(**reasons: str) -> dict[str, str]:
    """Annotations that tell checkov which checks do not apply here, each with its reason."""
    return {f"checkov.io/skip{i}": f"{check}={reason}" for i, (check, reason) in enumerate(sorted(reasons.items()), start=1)}


def output_fields(value: Any) -> dict[str, Any] | None:
    """A dataclass contract (``StoreAccess``, ``DatabaseConnection``) as an output value: its fields
    by name, values untouched (Pulumi serializes mappings, not dataclasses). None stays None."""
    import dataclasses

    if value is None:
        return None
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
