"""GpuOperator: the NVIDIA GPU Operator, with MIG, time-slicing and DCGM metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import yaml

from .. import versions
from ..core.helm import helm_release
from ..core.namespace import platform_namespace
from ..core.network_policy import API_SERVER, Isolation
from ..core.util import GPU_TOLERATION, explicit_depends_on, with_defaults

if TYPE_CHECKING:
    from ..cluster.gpu_node_pool import GpuNodePool

DEVICE_PLUGIN_CONFIG = "device-plugin-config"
# The operator and NFD talk only to the API server; Prometheus scrapes DCGM (allowed by the base).
ISOLATION = Isolation(egress=[API_SERVER])
DEFAULT_SHARING = "default"


class GpuOperatorArgs(TypedDict, total=False):
    namespace: str
    """Namespace of the operator and its daemonsets. Default: ``gpu-operator``."""
    driver_preinstalled: bool
    """The node image ships the driver and container toolkit (EKS AL2023 NVIDIA AMI), so the
    operator installs neither. Default: true."""
    mig_strategy: str
    """``none``, ``single`` or ``mixed``; anything but ``none`` runs the MIG manager. Default: ``none``."""
    dcgm_exporter: bool
    """Run the DCGM exporter for GPU metrics. Default: true."""
    service_monitor: bool
    """Create the DCGM exporter's ServiceMonitor; only when the monitoring CRDs exist, so pass the
    monitoring stack in ``opts.depends_on`` too. Default: false."""
    node_pools: Sequence["GpuNodePool"]
    """GPU pools whose time-slicing settings go into the device plugin config. Default: none."""
    default_time_slicing_replicas: int | None
    """Time-slicing for GPU nodes outside any pool (a local GPU machine). Default: none."""
    controller_node_selector: dict[str, str]
    """Where the operator and NFD master run (the system nodes). Default: none (any Linux node)."""


DEFAULTS = {
    "namespace": "gpu-operator",
    "driver_preinstalled": True,
    "mig_strategy": "none",
    "dcgm_exporter": True,
    "service_monitor": False,
    "node_pools": [],
    "default_time_slicing_replicas": None,
    "controller_node_selector": {},
}


def _resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def sharing_config(mig_strategy: str, resources: Sequence[str], replicas: int | None) -> str:
    """One entry of the device plugin config map (the plugin's v1 config file format)."""
    config: dict[str, Any] = {"version": "v1", "flags": {"migStrategy": mig_strategy}}
    if replicas:
        config["sharing"] = {
            "timeSlicing": {
                "renameByDefault": False,
                # A pod asking for two slices would get no more compute than for one.
                "failRequestsGreaterThanOne": True,
                "resources": [{"name": name, "replicas": replicas} for name in resources],
            }
        }
    return yaml.safe_dump(config, sort_keys=True)


def device_plugin_configs(a: dict) -> dict[str, str]:
    configs = {DEFAULT_SHARING: sharing_config(a["mig_strategy"], ["nvidia.com/gpu"], a["default_time_slicing_replicas"])}
    for pool in a["node_pools"]:
        if pool.device_plugin_config:
            configs[pool.device_plugin_config] = sharing_config(a["mig_strategy"], sorted(pool.gpu_resources), pool.time_slicing_replicas)
    return configs


def chart_values(a: dict) -> dict[str, Any]:
    """Helm values for the gpu-operator chart (keys from its values.yaml at the pinned version)."""
    controller = {"nodeSelector": {"kubernetes.io/os": "linux", **a["controller_node_selector"]}}
    mig = a["mig_strategy"] != "none"
    return {
        "operator": {**controller, "resources": _resources("200m", "256Mi", "500m", "512Mi")},
        "driver": {"enabled": not a["driver_preinstalled"]},
        "toolkit": {"enabled": not a["driver_preinstalled"]},
        "cdi": {"enabled": True},
        "daemonsets": {"tolerations": [GPU_TOLERATION]},
        "devicePlugin": {
            "enabled": True,
            "config": {"create": False, "name": DEVICE_PLUGIN_CONFIG, "default": DEFAULT_SHARING},
            "resources": _resources("50m", "64Mi", "200m", "256Mi"),
        },
        "gfd": {"enabled": True, "resources": _resources("50m", "64Mi", "200m", "256Mi")},
        "dcgmExporter": {
            "enabled": a["dcgm_exporter"],
            "resources": _resources("100m", "256Mi", "500m", "1Gi"),
            "serviceMonitor": {"enabled": a["dcgm_exporter"] and a["service_monitor"], "interval": "15s"},
        },
        "mig": {"strategy": a["mig_strategy"] if mig else "single"},
        "migManager": {"enabled": mig, "resources": _resources("50m", "64Mi", "200m", "256Mi")},
        "nfd": {"enabled": True},
        "node-feature-discovery": {
            "master": {**controller, "resources": _resources("100m", "128Mi", "500m", "512Mi")},
            "worker": {
                "tolerations": [GPU_TOLERATION],
                "resources": _resources("50m", "64Mi", "200m", "256Mi"),
            },
            "gc": {**controller, "resources": _resources("10m", "64Mi", "100m", "128Mi")},
        },
    }


class GpuOperator(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    namespace: pulumi.Output[str]

    def __init__(self, name: str, args: GpuOperatorArgs | None = None, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aiplatform:index:GpuOperator", name, None, opts)
        a = with_defaults(args, DEFAULTS)
        after = explicit_depends_on(opts)
        # privileged: the operands load kernel settings, mount host paths and reach GPU devices.
        namespace = platform_namespace(a["namespace"], pod_security="privileged", isolation=ISOLATION, parent=self)
        config = k8s.core.v1.ConfigMap(
            f"{name}-device-plugin",
            metadata={"name": DEVICE_PLUGIN_CONFIG, "namespace": namespace.metadata["name"]},
            data=device_plugin_configs(a),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.release = helm_release(
            name,
            versions.GPU_OPERATOR,
            namespace=namespace.metadata["name"],
            values=chart_values(a),
            timeout=900,  # the operator waits for NFD and its validator before reporting ready
            parent=self,
            depends_on=[config, *after],
        )
        self.namespace = namespace.metadata["name"]
        self.register_outputs({"namespace": self.namespace, "release": self.release.name})
