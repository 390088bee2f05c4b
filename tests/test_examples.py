"""The programs in examples/ are independent Pulumi projects that import the components as a user's
program does, from the installed package `ai_platform`: each runs here under Pulumi's mocks as its
own project, against a wheel built from this checkout and installed apart (tests/installed.py; this
repository is not on its path), and provisions what its README says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from components import versions
from offline.render import HELM_RELEASE, helm_releases, kubernetes_objects
from tests.installed import installed, run_installed
from tests.schemas import validate_object

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
K8S_PROVIDER = "pulumi:providers:kubernetes"
ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
EKS = {
    "aws:region": "us-west-2",
    "clusterName": "ml",
    "endpoint": "https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com",
    "certificateAuthority": "bW9jay1jbHVzdGVyLWNh",
    "nodeRoleArn": "arn:aws:iam::123456789012:role/ml-nodes",
    "privateSubnetIds": ["subnet-0a", "subnet-0b", "subnet-0c"],
}


def run_example(name: str, config: dict | None = None):
    """Run ``examples/<name>/__main__.py`` as project ``name`` (keys without a namespace are its own)."""
    raw = {k if ":" in k else f"{name}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in (config or {}).items()}
    run = run_installed(EXAMPLES / name, project=name, config=raw)
    assert Path(run.imported["ai_platform"]).is_relative_to(installed().site)
    assert run.imported.keys() <= {"ai_platform"}  # not this repository's components, stacks or offline
    return run.recording


def custom(recording, prefix: str = ""):
    return [r for r in recording.registrations if r.custom and r.type.startswith(prefix)]


@pytest.fixture(scope="module")
def serve():
    return run_example("serve-model")


@pytest.fixture(scope="module")
def gpu():
    return run_example("gpu-pool-on-eks", EKS)


def test_each_example_is_its_own_python_pulumi_project_that_installs_this_repository():
    examples = sorted(p for p in EXAMPLES.iterdir() if p.is_dir())
    assert [p.name for p in examples] == ["gpu-pool-on-eks", "serve-model"]
    for example in examples:
        project = yaml.safe_load((example / "Pulumi.yaml").read_text())
        assert project["name"] == example.name
        assert project["runtime"]["name"] == "python"
        assert "-e ../.." in (example / "requirements.txt").read_text().splitlines()
        assert (example / "README.md").read_text().startswith(f"# {example.name}:")
        program = (example / "__main__.py").read_text()
        assert "from ai_platform." in program
        assert "components" not in program.replace("ai_platform", "") and "stacks" not in program


# ---------------------------------------------------------------- serve-model


def test_serve_model_creates_nothing_in_aws_and_everything_through_its_clusters_provider(serve):
    [provider] = serve.of_type(K8S_PROVIDER)
    assert provider.inputs == {"context": "kind-ai-platform"}
    assert custom(serve, "aws:") == []
    kubernetes = custom(serve, "kubernetes:")
    assert kubernetes and {r.provider for r in kubernetes} == {provider.urn}


def test_serve_model_installs_minio_and_kserve_at_the_pinned_charts(serve):
    releases = {name: (spec["chart"], spec["version"]) for name, spec in helm_releases(serve).items()}
    assert releases == {
        "store": ("minio", versions.MINIO.version),
        "cert-manager": ("cert-manager", versions.CERT_MANAGER.version),
        "kserve-crd": ("kserve-crd", versions.KSERVE_CRD.version),
        "kserve-resources": ("kserve-resources", versions.KSERVE_RESOURCES.version),
        "kserve-runtime-configs": ("kserve-runtime-configs", versions.KSERVE_RUNTIME_CONFIGS.version),
    }
    assert helm_releases(serve)["store"]["values"]["buckets"][0]["name"] == "store-models"


def test_serve_model_serves_the_model_from_minio_once_kserve_is_ready(serve):
    [isvc] = serve.of_type(ISVC)
    predictor = isvc.inputs["spec"]["predictor"]
    assert isvc.inputs["metadata"]["namespace"] == "models"
    assert predictor["model"]["modelFormat"] == {"name": "sklearn"}
    assert predictor["model"]["storageUri"] == "s3://store-models/sklearn/iris/v1"
    assert (predictor["minReplicas"], predictor["maxReplicas"], predictor["scaleMetric"]) == (1, 2, "cpu")
    releases = {r.urn: r.name for r in serve.of_type(HELM_RELEASE)}
    assert {"kserve-crd", "kserve-resources", "kserve-runtime-configs"} <= {releases.get(u) for u in isvc.dependencies}
    # The model server reads MinIO with its own keys (a user granted read access), not the root ones.
    account = serve.named("kubernetes:core/v1:ServiceAccount", predictor["serviceAccountName"])
    assert account.inputs["secrets"] == [{"name": "iris-model-s3"}]
    assert account.inputs["automountServiceAccountToken"] is False
    assert serve.outputs["modelUri"] == "s3://store-models/sklearn/iris/v1"


def test_serve_model_every_kubernetes_object_is_valid(serve):
    objects = [o for group in kubernetes_objects(serve).values() for o in group]
    assert {o["kind"] for o in objects} >= {"Namespace", "NetworkPolicy", "InferenceService", "ServiceAccount"}
    errors = {f"{o['kind']}/{o['metadata'].get('name')}": e for o in objects if (e := validate_object(o, "1.35"))}
    assert errors == {}


def test_serve_model_config_picks_the_context_and_the_model():
    recording = run_example(
        "serve-model", {"kubeconfigContext": "gpu-lab", "modelFormat": "xgboost", "modelPath": "xgb/v3", "maxReplicas": 5}
    )
    [provider] = recording.of_type(K8S_PROVIDER)
    assert provider.inputs == {"context": "gpu-lab"}
    [isvc] = recording.of_type(ISVC)
    predictor = isvc.inputs["spec"]["predictor"]
    assert predictor["model"]["modelFormat"] == {"name": "xgboost"}
    assert predictor["model"]["storageUri"] == "s3://store-models/xgb/v3"
    assert predictor["maxReplicas"] == 5


# ---------------------------------------------------------------- gpu-pool-on-eks


def test_gpu_pool_example_creates_no_cluster_network_or_cluster_role(gpu):
    types = {r.type for r in custom(gpu)}
    assert not types & {"aws:eks/cluster:Cluster", "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:eks/addon:Addon", "aws:kms/key:Key"}
    assert [r.name for r in gpu.of_type("aws:iam/role:Role")] == ["cluster-autoscaler-role"]


def test_gpu_pool_joins_the_given_cluster_and_scales_from_zero(gpu):
    [group] = gpu.of_type(NODE_GROUP)
    i = group.inputs
    assert (i["clusterName"], i["nodeRoleArn"], i["subnetIds"]) == ("ml", EKS["nodeRoleArn"], EKS["privateSubnetIds"])
    assert (i["amiType"], i["capacityType"], i["instanceTypes"]) == ("AL2023_x86_64_NVIDIA", "ON_DEMAND", ["g6e.xlarge"])
    assert i["scalingConfig"] == {"minSize": 0, "desiredSize": 0, "maxSize": 2}
    assert i["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert group.ignore_changes == ["scalingConfig.desiredSize"]
    [template] = gpu.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert template.inputs["metadataOptions"]["httpTokens"] == "required"
    # An empty group tells the autoscaler what its first node would offer.
    tags = {r.inputs["tag"]["key"]: r.inputs["tag"]["value"] for r in gpu.of_type("aws:autoscaling/tag:Tag")}
    assert tags["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"] == "1"
    assert tags["k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"] == "true:NoSchedule"


def test_gpu_pool_example_installs_the_gpu_operator_and_the_autoscaler_with_the_clusters_kubeconfig(gpu):
    [provider] = gpu.of_type(K8S_PROVIDER)
    assert provider.inputs == {"kubeconfig": "[secret]"}
    assert {r.provider for r in custom(gpu, "kubernetes:")} == {provider.urn}
    assert {r.provider for r in custom(gpu, "aws:")} == {""}  # the default AWS provider
    releases = helm_releases(gpu)
    assert (releases["gpu-operator"]["chart"], releases["gpu-operator"]["version"]) == ("gpu-operator", versions.GPU_OPERATOR.version)
    assert releases["gpu-operator"]["values"]["driver"] == {"enabled": False}  # the AMI ships the driver
    assert releases["cluster-autoscaler"]["values"]["autoDiscovery"] == {"clusterName": "ml"}
    assert gpu.outputs["gpuNodeSelector"] == {"ai-platform.io/pool": "gpu"}
    assert gpu.outputs["gpuNodeGroupArn"].startswith("arn:aws:eks:us-west-2:")


def test_gpu_pool_example_options():
    recording = run_example(
        "gpu-pool-on-eks",
        {**EKS, "spot": True, "maxSize": 6, "instanceTypes": ["g6.xlarge"], "timeSlicingReplicas": 4, "clusterAutoscaler": False},
    )
    [group] = recording.of_type(NODE_GROUP)
    assert (group.inputs["capacityType"], group.inputs["scalingConfig"]["maxSize"]) == ("SPOT", 6)
    assert group.inputs["labels"]["nvidia.com/device-plugin.config"] == "gpu"
    assert set(helm_releases(recording)) == {"gpu-operator"}
    assert recording.outputs["gpuResources"] == {"nvidia.com/gpu": 4}


def test_gpu_pool_example_names_missing_config():
    config = {k: v for k, v in EKS.items() if k != "nodeRoleArn"}
    with pytest.raises(Exception, match="gpu-pool-on-eks:nodeRoleArn"):
        run_example("gpu-pool-on-eks", config)
