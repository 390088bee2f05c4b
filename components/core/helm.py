"""Helm releases of the pinned charts in ``components.versions``."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..versions import Chart
from .namespace import platform_namespace
from .network_policy import Isolation
from .util import explicit_depends_on


def helm_release(
    name: str,
    chart: Chart,
    *,
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource],
    timeout: int = 600,
    protect: bool = False,
) -> k8s.helm.v3.Release:
    """One release of ``chart`` at its pinned version; Helm waits until its workloads are ready."""
    # An OCI registry has no index.yaml: the chart is addressed by its full reference instead.
    oci = chart.repo.startswith("oci://")
    return k8s.helm.v3.Release(
        name,
        name=name,
        chart=f"{chart.repo.rstrip('/')}/{chart.name}" if oci else chart.name,
        version=chart.version,
        repository_opts=None if oci else {"repo": chart.repo},
        namespace=namespace,
        values=values,
        timeout=timeout,
        # protect: a release that owns volumes; kept on delete too, as Helm would delete them.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on, protect=protect, retain_on_delete=protect),
    )


def release_in_own_namespace(
    owner: pulumi.ComponentResource,
    name: str,
    chart: Chart,
    *,
    namespace: str,
    isolation: Isolation,
    values: pulumi.Input[dict[str, Any]],
    opts: pulumi.ResourceOptions | None,
) -> tuple[pulumi.Output[str], k8s.helm.v3.Release]:
    """A release of ``chart`` in a restricted, isolated namespace of its own, after the namespace and
    the owner's ``depends_on``: the namespace's name and the release."""
    created = platform_namespace(namespace, pod_security="restricted", isolation=isolation, parent=owner)
    release = helm_release(
        name,
        chart,
        namespace=created.metadata["name"],
        values=values,
        parent=owner,
        depends_on=[created, *explicit_depends_on(opts)],
    )
    return created.metadata["name"], release
