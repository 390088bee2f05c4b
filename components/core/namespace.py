"""Namespaces with Pod Security Admission labels and network isolation."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from .network_policy import PLATFORM_LABEL, Isolation, isolate_namespace

PSA_LEVELS = ("restricted", "baseline", "privileged")


def platform_namespace(
    name: str,
    *,
    pod_security: str,
    isolation: Isolation,
    parent: pulumi.Resource,
    labels: dict | None = None,
    opts: pulumi.ResourceOptions | None = None,
    lifecycle: pulumi.ResourceOptions | None = None,
) -> k8s.core.v1.Namespace:
    """A namespace that enforces, audits and warns at the given Pod Security Standard level, and
    denies all traffic but the base and ``isolation``'s allows (see components/core/network_policy.py).

    ``opts`` (``provider``, ``depends_on``) is added to every object's, for a parent that holds no
    Kubernetes provider of its own. ``lifecycle`` (``protect``, ``retain_on_delete``) is the
    Namespace's alone: deleting a namespace deletes everything in it, volumes included."""
    if pod_security not in PSA_LEVELS:
        raise ValueError(f"pod_security must be one of {PSA_LEVELS} (got {pod_security!r})")
    psa = {f"pod-security.kubernetes.io/{mode}": pod_security for mode in ("enforce", "audit", "warn")}
    namespace = k8s.core.v1.Namespace(
        name,
        metadata={"name": name, "labels": {**psa, PLATFORM_LABEL: "true", **(labels or {})}},
        opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=parent), opts), lifecycle),
    )
    isolate_namespace(namespace, isolation, parent=parent, opts=opts)
    return namespace


SHARED = pulumi.ResourceOptions(retain_on_delete=True)
"""``lifecycle`` of a namespace where people deploy by hand (model namespaces, Ray clusters'): Pulumi
forgets it on removal or rename instead of deleting it and everything deployers put there."""
