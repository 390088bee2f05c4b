"""Namespaces with Pod Security Admission labels."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

PSA_LEVELS = ("restricted", "baseline", "privileged")


def platform_namespace(name: str, *, pod_security: str, parent: pulumi.Resource, labels: dict | None = None) -> k8s.core.v1.Namespace:
    """A namespace that enforces, audits and warns at the given Pod Security Standard level."""
    if pod_security not in PSA_LEVELS:
        raise ValueError(f"pod_security must be one of {PSA_LEVELS} (got {pod_security!r})")
    psa = {f"pod-security.kubernetes.io/{mode}": pod_security for mode in ("enforce", "audit", "warn")}
    return k8s.core.v1.Namespace(
        name,
        metadata={"name": name, "labels": {**psa, **(labels or {})}},
        opts=pulumi.ResourceOptions(parent=parent),
    )
