"""GpuOperator: the NVIDIA GPU Operator, with MIG, time-slicing and DCGM metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pydantic import Field, SkipValidation

from .. import versions
from ..core.args import Options, parse_args
from ..core.contracts import NodePool
from ..core.helm import helm_release
from ..core.namespace import platform_namespace
from ..core.network_policy import API_SERVER, Isolation
from ..core.util import GPU_TOLERATION, explicit_depends_on

DEVICE_PLUGIN_CONFIG = "device-plugin-config"
# The operator and NFD talk only to the API server; Prometheus scrapes DCGM (allowed by the base).
ISOLATION = Isolation(egress=[API_SERVER])
DEFAULT_SHARING = "default"


class GpuOperatorOptions(Options):
    """What a caller or a stack file sets for the GPU Operator (``gpuOperator``)."""

    driver: Literal["preinstalled", "operator"] = "preinstalled"
    """``preinstalled``: the node image ships the driver and container toolkit (EKS AL2023 NVIDIA
    AMI), so the operator installs neither; ``operator``: the operator installs both."""
    mig_strategy: Literal["none", "single", "mixed"] = "none"
    """How MIG devices are offered: anything but ``none`` runs the MIG manager."""
    dcgm_exporter: bool = True
    """Run the DCGM exporter for GPU metrics."""
    default_time_slicing_replicas: int | None = Field(default=None, ge=2, le=64)
    """Time-slicing for GPU nodes outside any pool (a local GPU machine); unset: no sharing."""


class GpuOperatorArgs(GpuOperatorOptions):
    """The operator's options plus what the composition injects."""

    namespace: str = "gpu-operator"
    """Namespace of the operator and its daemonsets."""
    service_monitor: bool = False
    """Create the DCGM exporter's ServiceMonitor; only when the monitoring CRDs exist, so pass the
    monitoring stack in ``opts.depends_on`` too."""
    node_pools: SkipValidation[Sequence[NodePool]] = []
    """GPU pools whose time-slicing settings go into the device plugin config."""
    controller_node_selector: dict[str, str] = {}
    """Where the operator and NFD master run (the system nodes); empty: any Linux node."""


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


def device_plugin_configs(a: GpuOperatorArgs) -> dict[str, str]:
    configs = {DEFAULT_SHARING: sharing_config(a.mig_strategy, ["nvidia.com/gpu"], a.default_time_slicing_replicas)}
    for pool in a.node_pools:
        if pool.device_plugin_config:
            configs[pool.device_plugin_config] = sharing_config(a.mig_strategy, sorted(pool.gpu_resources), pool.time_slicing_replicas)
    return configs


NFD_SECURITY = {"runAsUser": 65534, "runAsGroup": 65534, "seccompProfile": {"type": "RuntimeDefault"}}
"""node-feature-discovery's pod securityContexts (master/worker/gc.podSecurityContext, {} in the chart),
also merged over master.securityContext, which the post-delete prune Job's container takes too
(templates/post-delete-job.yaml; that Job has no pod securityContext value). 65534 is the user the
v0.19.0 image already runs as (its Dockerfile: ``USER 65534:65534``), stated so checkov sees it (CKV_K8S_40)."""


def chart_values(a: GpuOperatorArgs) -> dict[str, Any]:
    """Helm values for the gpu-operator chart (keys from its values.yaml at the pinned version)."""
    controller = {"nodeSelector": {"kubernetes.io/os": "linux", **a.controller_node_selector}}
    mig = a.mig_strategy != "none"
    preinstalled = a.driver == "preinstalled"
    return {
        # imagePullPolicy also reaches the chart's hook Jobs (templates/cleanup_gpucluster.yaml, upgrade_crd.yaml).
        "operator": {**controller, "imagePullPolicy": "Always", "resources": _resources("200m", "256Mi", "500m", "512Mi")},
        "driver": {"enabled": not preinstalled},
        "toolkit": {"enabled": not preinstalled},
        "cdi": {"enabled": True},
        "daemonsets": {"tolerations": [GPU_TOLERATION]},
        "devicePlugin": {
            "enabled": True,
            "config": {"create": False, "name": DEVICE_PLUGIN_CONFIG, "default": DEFAULT_SHARING},
            "resources": _resources("50m", "64Mi", "200m", "256Mi"),
        },
        "gfd": {"enabled": True, "resources": _resources("50m", "64Mi", "200m", "256Mi")},
        "dcgmExporter": {
            "enabled": a.dcgm_exporter,
            "resources": _resources("100m", "256Mi", "500m", "1Gi"),
            "serviceMonitor": {"enabled": a.dcgm_exporter and a.service_monitor, "interval": "15s"},
        },
        "mig": {"strategy": a.mig_strategy if mig else "single"},
        "migManager": {"enabled": mig, "resources": _resources("50m", "64Mi", "200m", "256Mi")},
        "nfd": {"enabled": True},
        "node-feature-discovery": {
            "image": {"pullPolicy": "Always"},
            "master": {
                **controller,
                "podSecurityContext": NFD_SECURITY,
                "securityContext": NFD_SECURITY,
                "resources": _resources("100m", "128Mi", "500m", "512Mi"),
            },
            "worker": {
                "tolerations": [GPU_TOLERATION],
                "podSecurityContext": NFD_SECURITY,
                "resources": _resources("50m", "64Mi", "200m", "256Mi"),
            },
            "gc": {**controller, "podSecurityContext": NFD_SECURITY, "resources": _resources("10m", "64Mi", "100m", "128Mi")},
        },
    }


class GpuOperator(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    """The gpu-operator Helm release."""
    namespace: pulumi.Output[str]
    """Namespace of the operator and its daemonsets."""

    def __init__(self, name: str, args: GpuOperatorArgs | Mapping[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None):
        a = parse_args(GpuOperatorArgs, args, component="GpuOperator", name=name)
        super().__init__("aiplatform:index:GpuOperator", name, None, opts)
        after = explicit_depends_on(opts)
        # privileged: the operands load kernel settings, mount host paths and reach GPU devices.
        namespace = platform_namespace(a.namespace, pod_security="privileged", isolation=ISOLATION, parent=self)
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
