"""Helm releases of the pinned charts in ``components.versions``."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..versions import Chart


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
