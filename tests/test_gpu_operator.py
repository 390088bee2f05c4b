"""GpuOperator: pinned chart, driver handling, MIG, time-slicing, DCGM metrics, tolerations."""

from __future__ import annotations

import pulumi
import yaml

from components import versions
from tests.conftest import run_components


def _operator(args=None, pools=(), depends_on=None):
    from components.compute.gpu_operator import GpuOperator

    def build():
        GpuOperator("gpu-operator", {**(args or {}), "node_pools": list(pools)}, pulumi.ResourceOptions(depends_on=depends_on))

    recording = run_components(build)
    (release,) = recording.of_type("kubernetes:helm.sh/v3:Release")
    (config_map,) = recording.of_type("kubernetes:core/v1:ConfigMap")
    return recording, release, config_map


class _Pool:
    """What GpuOperator reads from a GpuNodePool (the NodePool contract)."""

    def __init__(self, name, resources, replicas):
        self.name = name
        self.device_plugin_config = name if replicas else None
        self.gpu_resources = resources
        self.time_slicing_replicas = replicas


def test_chart_is_the_pinned_release():
    _, release, _ = _operator()
    assert (release.inputs["chart"], release.inputs["version"]) == ("gpu-operator", "v26.7.0")
    assert release.inputs["repositoryOpts"]["repo"] == versions.GPU_OPERATOR.repo == "https://helm.ngc.nvidia.com/nvidia"
    assert release.inputs["namespace"] == "gpu-operator"


def test_driver_and_toolkit_only_when_the_node_image_lacks_them():
    _, preinstalled, _ = _operator({"driver": "preinstalled"})
    _, managed, _ = _operator({"driver": "operator"})
    for key in ("driver", "toolkit"):
        assert preinstalled.inputs["values"][key]["enabled"] is False
        assert managed.inputs["values"][key]["enabled"] is True


def test_mig_strategy_runs_the_mig_manager():
    _, off, _ = _operator()
    _, mixed, _ = _operator({"mig_strategy": "mixed"})
    assert off.inputs["values"]["migManager"]["enabled"] is False
    assert mixed.inputs["values"]["migManager"]["enabled"] is True
    assert mixed.inputs["values"]["mig"]["strategy"] == "mixed"


def test_time_slicing_config_per_pool_and_default():
    pools = [_Pool("shared", {"nvidia.com/gpu": 4}, 4), _Pool("training", {"nvidia.com/gpu": 8}, None)]
    _, release, config_map = _operator({"default_time_slicing_replicas": None}, pools)
    plugin = release.inputs["values"]["devicePlugin"]["config"]
    assert plugin == {"create": False, "name": config_map.inputs["metadata"]["name"], "default": "default"}
    configs = {k: yaml.safe_load(v) for k, v in config_map.inputs["data"].items()}
    assert set(configs) == {"default", "shared"}, "pools without sharing use the default config"
    assert "sharing" not in configs["default"]
    slicing = configs["shared"]["sharing"]["timeSlicing"]
    assert slicing["resources"] == [{"name": "nvidia.com/gpu", "replicas": 4}]
    assert slicing["failRequestsGreaterThanOne"] is True
    assert configs["shared"]["version"] == "v1"
    assert config_map.urn in release.dependencies


def test_time_slicing_of_mig_devices_names_each_device_type():
    pool = _Pool("mig", {"nvidia.com/mig-1g.10gb": 16, "nvidia.com/mig-3g.40gb": 8}, 2)
    _, _, config_map = _operator({"mig_strategy": "mixed"}, [pool])
    config = yaml.safe_load(config_map.inputs["data"]["mig"])
    assert config["flags"]["migStrategy"] == "mixed"
    assert [r["name"] for r in config["sharing"]["timeSlicing"]["resources"]] == ["nvidia.com/mig-1g.10gb", "nvidia.com/mig-3g.40gb"]


def test_dcgm_service_monitor_only_when_asked():
    _, default, _ = _operator()
    _, monitored, _ = _operator({"service_monitor": True})
    _, no_exporter, _ = _operator({"service_monitor": True, "dcgm_exporter": False})
    assert default.inputs["values"]["dcgmExporter"]["enabled"] is True
    assert default.inputs["values"]["dcgmExporter"]["serviceMonitor"]["enabled"] is False
    assert monitored.inputs["values"]["dcgmExporter"]["serviceMonitor"]["enabled"] is True
    assert no_exporter.inputs["values"]["dcgmExporter"]["serviceMonitor"]["enabled"] is False


def test_operands_tolerate_the_gpu_taint():
    _, release, _ = _operator()
    values = release.inputs["values"]
    toleration = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    assert toleration in values["daemonsets"]["tolerations"]
    assert toleration in values["node-feature-discovery"]["worker"]["tolerations"]


def test_every_operand_has_requests_and_limits():
    _, release, _ = _operator()
    values = release.inputs["values"]
    sections = [values[k] for k in ("operator", "devicePlugin", "gfd", "dcgmExporter", "migManager")]
    sections += [values["node-feature-discovery"][k] for k in ("master", "worker", "gc")]
    for section in sections:
        assert set(section["resources"]) == {"requests", "limits"}


def test_namespace_allows_privileged_pods_only_for_the_operator():
    recording, release, _ = _operator()
    (namespace,) = recording.of_type("kubernetes:core/v1:Namespace")
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert namespace.urn in release.dependencies


def test_release_waits_for_what_the_component_depends_on():
    def build():
        from components.compute.gpu_operator import GpuOperator

        marker = pulumi.CustomResource("test:index:Marker", "nodes-ready")
        GpuOperator("gpu-operator", {}, pulumi.ResourceOptions(depends_on=[marker]))

    recording = run_components(build)
    marker = recording.named("test:index:Marker", "nodes-ready")
    (release,) = recording.of_type("kubernetes:helm.sh/v3:Release")
    assert marker.urn in release.dependencies
