"""Bad stack config: one clean message naming each key, and not a single resource registered."""

from __future__ import annotations

import copy
import subprocess
import sys

import pulumi
import pytest
import yaml

from offline.mockruntime import Recording
from stacks.errors import ConfigError
from tests.conftest import ROOT, TEST_RECEIVER, run_main

EKS = {
    "cluster": {
        "provider": "eks",
        "name": "ai-test",
        "endpoint": {"publicAccess": True, "publicAccessCidrs": ["198.51.100.0/24"]},
    },
    "observability": {"alertReceivers": [TEST_RECEIVER]},
    "gpuPools": [
        {"name": "inference", "instanceTypes": ["g6e.xlarge"], "capacityType": "spot", "maxSize": 4},
        {"name": "training", "instanceTypes": ["p5.48xlarge"], "efa": True, "maxSize": 2},
    ],
}
EXISTING = {"cluster": {"provider": "existing", "name": "laptop"}}


def _with(base: dict, path: str, value) -> dict:
    """A deep copy of ``base`` with ``value`` at ``path`` ("gpuPools.1.maxSize"); DELETE removes it."""
    config = copy.deepcopy(base)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = config
    for part in parents:
        node = node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return config


DELETE = object()

# (config, expected key path, a fragment the message must contain)
BAD_CONFIGS = {
    "unknown top-level key": (_with(EKS, "gpuPool", []), "ai-platform:gpuPool", "allowed keys: access, cluster, clusterAutoscaler"),
    "cluster missing": (_with(EKS, "cluster", DELETE), "ai-platform:cluster", "required"),
    "provider missing": (_with(EKS, "cluster.provider", DELETE), "ai-platform:cluster.provider", "required"),
    "provider unknown": (_with(EKS, "cluster.provider", "gke"), "ai-platform:cluster.provider", "'eks' or 'existing'"),
    "cluster name not DNS": (_with(EKS, "cluster.name", "AI_Prod"), "ai-platform:cluster.name", "DNS-1123"),
    "cluster name too long": (_with(EKS, "cluster.name", "a" * 41), "ai-platform:cluster.name", "at most 40"),
    "EKS version too old": (
        _with(EKS, "cluster.kubernetesVersion", "1.33"),
        "ai-platform:cluster.kubernetesVersion",
        "1.34, 1.35, 1.36, 1.37",
    ),
    "EKS version too new": (
        _with(EKS, "cluster.kubernetesVersion", "1.38"),
        "ai-platform:cluster.kubernetesVersion",
        "1.34, 1.35, 1.36, 1.37",
    ),
    "unknown cluster key": (_with(EKS, "cluster.nodes", 3), "ai-platform:cluster.nodes", "allowed keys:"),
    "VPC CIDR invalid": (_with(EKS, "cluster.vpc", {"cidr": "10.0.0.0/33"}), "ai-platform:cluster.vpc.cidr", "IPv4 CIDR"),
    "VPC CIDR too small": (_with(EKS, "cluster.vpc", {"cidr": "10.0.0.0/24"}), "ai-platform:cluster.vpc.cidr", "/16 to /20"),
    "NAT mode unknown": (
        _with(EKS, "cluster.vpc", {"natGateways": "two"}),
        "ai-platform:cluster.vpc.natGateways",
        "'onePerAz' or 'single'",
    ),
    "two AZs": (
        _with(EKS, "cluster.vpc", {"availabilityZones": ["us-west-2a", "us-west-2b"]}),
        "ai-platform:cluster.vpc.availabilityZones",
        "3 distinct",
    ),
    "AZ of another region": (
        _with(EKS, "cluster.vpc", {"availabilityZones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}),
        "ai-platform:cluster.vpc.availabilityZones",
        "region us-west-2",
    ),
    "public endpoint open to the world": (
        _with(EKS, "cluster.endpoint.publicAccessCidrs", ["0.0.0.0/0"]),
        "ai-platform:cluster.endpoint.publicAccessCidrs",
        "0.0.0.0/0",
    ),
    "public endpoint without CIDRs": (
        _with(EKS, "cluster.endpoint.publicAccessCidrs", []),
        "ai-platform:cluster.endpoint.publicAccessCidrs",
        "required",
    ),
    "CIDRs on a private endpoint": (
        _with(EKS, "cluster.endpoint.publicAccess", False),
        "ai-platform:cluster.endpoint.publicAccessCidrs",
        "only valid",
    ),
    "admin role not an ARN": (_with(EKS, "cluster.adminRoleArns", ["admins"]), "ai-platform:cluster.adminRoleArns[0]", "IAM role ARN"),
    "workload identity unknown": (
        _with(EKS, "cluster.workloadIdentity", "kiam"),
        "ai-platform:cluster.workloadIdentity",
        "'podIdentity' or 'irsa'",
    ),
    "log type unknown": (_with(EKS, "cluster.controlPlaneLogs", ["api", "debug"]), "ai-platform:cluster.controlPlaneLogs[1]", "'audit'"),
    "system group min > desired": (
        _with(EKS, "cluster.systemNodeGroup", {"minSize": 3, "desiredSize": 2}),
        "ai-platform:cluster.systemNodeGroup.desiredSize",
        ">= minSize (3)",
    ),
    "pool max below min": (_with(EKS, "gpuPools.1.minSize", 3), "ai-platform:gpuPools[1].maxSize", "(got 2)"),
    "pool desired below min": (
        _with(_with(EKS, "gpuPools.0.minSize", 2), "gpuPools.0.desiredSize", 1),
        "ai-platform:gpuPools[0].desiredSize",
        ">= minSize (2)",
    ),
    "pool negative min": (_with(EKS, "gpuPools.0.minSize", -1), "ai-platform:gpuPools[0].minSize", "greater than or equal to 0"),
    "pool not a GPU type": (
        _with(EKS, "gpuPools.0.instanceTypes", ["g6e.xlarge", "m7i.large"]),
        "ai-platform:gpuPools[0].instanceTypes[1]",
        "not a GPU instance type",
    ),
    "pool mixes GPU models": (
        _with(EKS, "gpuPools.0.instanceTypes", ["g6e.xlarge", "g6.xlarge"]),
        "ai-platform:gpuPools[0].instanceTypes",
        "same GPU model",
    ),
    "pool with no types": (_with(EKS, "gpuPools.0.instanceTypes", []), "ai-platform:gpuPools[0].instanceTypes", "at least 1"),
    "pool capacity type unknown": (
        _with(EKS, "gpuPools.0.capacityType", "reserved"),
        "ai-platform:gpuPools[0].capacityType",
        "'onDemand' or 'spot'",
    ),
    "pool names repeat": (_with(EKS, "gpuPools.1.name", "inference"), "ai-platform:gpuPools[1].name", "duplicate"),
    "pool unknown key": (_with(EKS, "gpuPools.0.gpus", 2), "ai-platform:gpuPools[0].gpus", "instanceTypes"),
    "EFA on a type without it": (_with(EKS, "gpuPools.0.efa", True), "ai-platform:gpuPools[0].efa", "without EFA: g6e.xlarge"),
    "pool mixes GPU models across sizes": (
        _with(EKS, "gpuPools.1.instanceTypes", ["p5.48xlarge", "p5en.48xlarge"]),
        "ai-platform:gpuPools[1].instanceTypes",
        "same GPU model",
    ),
    "EFA with different card counts": (
        _with(EKS, "gpuPools.1.instanceTypes", ["p5e.48xlarge", "p5en.48xlarge"]),
        "ai-platform:gpuPools[1].efa",
        "same number of EFA network cards",
    ),
    "MIG on a GPU without MIG": (
        _with(_with(EKS, "gpuPools.0.migProfile", "all-1g.10gb"), "gpuOperator", {"migStrategy": "single"}),
        "ai-platform:gpuPools[0].migProfile",
        "does not support MIG",
    ),
    "MIG profile of another GPU": (
        _with(_with(EKS, "gpuPools.1.migProfile", "all-1g.5gb"), "gpuOperator", {"migStrategy": "single"}),
        "ai-platform:gpuPools[1].migProfile",
        "all-1g.10gb",
    ),
    "MIG profile with strategy none": (
        _with(EKS, "gpuPools.1.migProfile", "all-1g.10gb"),
        "ai-platform:gpuOperator.migStrategy",
        "'single' or 'mixed'",
    ),
    "balanced MIG with single strategy": (
        _with(_with(EKS, "gpuPools.1.migProfile", "all-balanced"), "gpuOperator", {"migStrategy": "single"}),
        "ai-platform:gpuPools[1].migProfile",
        "'mixed'",
    ),
    "MIG with the operator off": (
        _with(_with(EKS, "gpuPools.1.migProfile", "all-1g.10gb"), "gpuOperator", {"enabled": False, "migStrategy": "single"}),
        "ai-platform:gpuOperator.enabled",
        "must be true",
    ),
    "operator driver on the NVIDIA AMI": (
        _with(EKS, "gpuOperator", {"driver": "operator"}),
        "ai-platform:gpuOperator.driver",
        "'preinstalled'",
    ),
    "time-slicing of one": (
        _with(EKS, "gpuPools.0.timeSlicingReplicas", 1),
        "ai-platform:gpuPools[0].timeSlicingReplicas",
        "greater than or equal to 2",
    ),
    "MIG strategy unknown": (
        _with(EKS, "gpuOperator", {"migStrategy": "all"}),
        "ai-platform:gpuOperator.migStrategy",
        "'none', 'single' or 'mixed'",
    ),
    "autoscaler expander unknown": (
        _with(EKS, "clusterAutoscaler", {"expander": "cheapest"}),
        "ai-platform:clusterAutoscaler.expander",
        "least-waste",
    ),
    "GPU pools on an existing cluster": (
        {**EXISTING, "gpuPools": EKS["gpuPools"]},
        "ai-platform:gpuPools",
        "need cluster.provider 'eks'",
    ),
    "EKS-only key on an existing cluster": (
        _with(EXISTING, "cluster.vpc", {"cidr": "10.0.0.0/16"}),
        "ai-platform:cluster.vpc",
        "only valid with cluster.provider 'eks'",
    ),
    "existing cluster version unknown": (
        _with(EXISTING, "cluster.kubernetesVersion", "1.20"),
        "ai-platform:cluster.kubernetesVersion",
        "1.25",
    ),
    "add-on version not an EKS build": (
        _with(EKS, "cluster.addonVersions", {"vpc-cni": "latest"}),
        "ai-platform:cluster.addonVersions.vpc-cni",
        "v1.20.4-eksbuild.1",
    ),
    "add-on unknown": (
        _with(EKS, "cluster.addonVersions", {"istio": "v1.0.0-eksbuild.1"}),
        "ai-platform:cluster.addonVersions.istio",
        "vpc-cni",
    ),
    "S3 store on an existing cluster": (
        _with(EXISTING, "objectStore", {"backend": "s3"}),
        "ai-platform:objectStore.backend",
        "use 'minio'",
    ),
    "RDS on an existing cluster": (
        _with(EXISTING, "modelRegistry", {"database": "rds"}),
        "ai-platform:modelRegistry.database",
        "use 'in-cluster'",
    ),
    "registry without a models bucket": (
        _with(EKS, "objectStore", {"buckets": ["datasets"]}),
        "ai-platform:objectStore.buckets",
        "must include 'models'",
    ),
    "registry without a store": (
        _with(EKS, "objectStore", {"enabled": False}),
        "ai-platform:objectStore.enabled",
        "must be true while modelRegistry",
    ),
    "store backend unknown": (_with(EKS, "objectStore", {"backend": "gcs"}), "ai-platform:objectStore.backend", "'s3' or 'minio'"),
    "MinIO volume size malformed": (_with(EXISTING, "objectStore", {"storageSize": "50GB"}), "ai-platform:objectStore.storageSize", "50Gi"),
    "bucket names repeat": (
        _with(EKS, "objectStore", {"buckets": ["models", "models"]}),
        "ai-platform:objectStore.buckets",
        "bucket names repeat (got ['models', 'models'])",
    ),
    "latency bound not a KServe bucket": (
        _with(EKS, "observability", {"inferenceLatencySeconds": 0.3}),
        "ai-platform:observability.inferenceLatencySeconds",
        "must be a bucket of KServe's latency histogram: 0.005, 0.01",
    ),
    "placeholder section with a typo": (
        _with(EKS, "observability", {"enable": True}),
        "ai-platform:observability.enable",
        "allowed keys: alertReceivers, enabled,",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS), ids=sorted(BAD_CONFIGS))
def test_bad_config_is_reported_with_its_key_and_registers_nothing(case):
    config, path, fragment = BAD_CONFIGS[case]
    recording = Recording(stack="test")
    with pytest.raises(ConfigError) as raised:
        run_main(config, recording=recording)
    lines = [line for line in str(raised.value).splitlines() if line.startswith(f"  - {path}:")]
    assert lines, f"no problem reported for {path}:\n{raised.value}"
    assert any(fragment in line for line in lines), f"{fragment!r} not in {lines}"
    assert recording.registrations == []


def test_missing_region_is_reported_for_eks():
    with pytest.raises(ConfigError) as raised:
        run_main(EKS, region=None)
    assert "aws:region: required" in str(raised.value)


def test_every_problem_is_reported_at_once():
    config = _with(_with(_with(EKS, "cluster.kubernetesVersion", "1.30"), "gpuPools.0.minSize", 9), "gpuPools.1.efa", "maybe")
    with pytest.raises(ConfigError) as raised:
        run_main(config)
    # pydantic's pass stops at the malformed efa flag; a fixed flag then reveals the rest
    assert raised.value.keys == ["ai-platform:gpuPools[1].efa"]
    with pytest.raises(ConfigError) as raised:
        run_main(_with(config, "gpuPools.1.efa", True))
    assert set(raised.value.keys) == {
        "ai-platform:cluster.kubernetesVersion",
        "ai-platform:gpuPools[0].desiredSize",
        "ai-platform:gpuPools[0].maxSize",
    }


def test_config_error_prints_without_a_traceback_under_pulumi():
    # The Python language host prints a RunError's message alone, without a stack trace.
    assert issubclass(ConfigError, pulumi.RunError)


def test_render_command_exits_2_with_the_clean_message(tmp_path):
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    bad = {
        "config": {
            "ai-platform:cluster": {"provider": "eks", "name": "x", "kubernetesVersion": "1.20"},
            "ai-platform:observability": {"enabled": False},
            "aws:region": "us-west-2",
        }
    }
    (tmp_path / "Pulumi.bad.yaml").write_text(yaml.safe_dump(bad))
    result = subprocess.run(
        [sys.executable, "-m", "offline.render", "bad", "--root", str(tmp_path), "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid stack configuration (1 problem):")
    assert "ai-platform:cluster.kubernetesVersion: EKS standard support covers" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists()


def test_committed_stacks_are_valid(rendered):
    assert rendered("dev").registrations
    assert rendered("prod").registrations


def test_addon_versions_are_pinned_per_addon():
    recording = run_main(_with(EKS, "cluster.addonVersions", {"vpc-cni": "v1.20.4-eksbuild.1"}))
    addons = {a.inputs["addonName"]: a.inputs for a in recording.of_type("aws:eks/addon:Addon")}
    assert addons["vpc-cni"]["addonVersion"] == "v1.20.4-eksbuild.1"
    assert "addonVersion" not in addons["coredns"]


def test_access_role_arns_need_eks():
    with pytest.raises(ConfigError) as raised:
        run_main(_with(EXISTING, "access", {"deployerRoleArns": ["arn:aws:iam::123456789012:role/x"]}))
    assert "ai-platform:access.deployerRoleArns: IAM roles map to groups through EKS access entries" in str(raised.value)
