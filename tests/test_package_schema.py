"""The components as a Pulumi component package: the schema ``pulumi package add`` gets, built
offline by Pulumi's own analyzer from the component classes, and served by the plugin's entry point."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, Required, TypedDict

import pulumi
import pytest
import yaml
from pydantic import AfterValidator, Field, SkipValidation

from components.core.args import Options
from provider.host import PACKAGE, VERSION, component_classes, package_schema, python_only_fields, schema_view

ROOT = Path(__file__).resolve().parents[1]
SEVEN = ["GpuNodePool", "GpuOperator", "ObjectStore", "ModelRegistry", "RayCluster", "InferenceService", "Observability"]

# Inputs other languages cannot pass: they hold Python objects (see provider/host.py).
# A field leaves this list when its component accepts plain values instead (docs/components says which).
PYTHON_ONLY_INPUTS = {
    "GpuNodePoolArgs.cluster",
    "GpuOperatorArgs.node_pools",
    "ObjectStoreArgs.cluster",
    "ModelRegistryArgs.store",
    "ModelRegistryArgs.cluster",
    "RayClusterArgs.operator",
    "RayClusterArgs.store",
    "RayWorkerGroupArgs.gpu_pool",
    "InferenceServiceArgs.kserve",
    "InferenceServiceArgs.store",
    "InferenceServiceArgs.gpu_pool",
    "InferenceServiceArgs.prometheus",
    "InferenceServiceArgs.keda",
    "ObservabilityArgs.gpu_pools",
}
# Outputs of the seven without a docstring yet: may shrink, must not grow.
UNDOCUMENTED_OUTPUTS = {
    "GpuNodePool": {"nodeGroup", "timeSlicingReplicas"},
    "GpuOperator": set(),
    "ObjectStore": set(),
    "ModelRegistry": {"deployment", "namespace"},
    "RayCluster": {"namespace", "serviceAccount"},
    "InferenceService": {"serviceAccount", "storageUri"},
    "Observability": {
        "alertmanagerUrl",
        "grafanaAdminPassword",
        "grafanaAdminSecret",
        "grafanaUrl",
        "namespace",
        "prometheusUrl",
        "release",
    },
}


@pytest.fixture(scope="module")
def schema():
    return package_schema()


def resource(schema, name):
    return schema["resources"][f"{PACKAGE}:index:{name}"]


def test_the_package_is_aiplatform_at_the_projects_version(schema):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert (schema["name"], schema["version"], VERSION) == (PACKAGE, project["version"], project["version"])
    assert set(schema["resources"]) == {f"{PACKAGE}:index:{c.__name__}" for c in component_classes()}


@pytest.mark.parametrize("name", SEVEN)
def test_each_of_the_seven_components_has_documented_inputs_and_outputs(schema, name):
    spec = resource(schema, name)
    assert spec["isComponent"] is True
    assert spec["description"]
    inputs, outputs = spec["inputProperties"], spec["properties"]
    assert len(inputs) >= 7 and outputs
    assert {k for k, p in inputs.items() if not p.get("description")} == set()
    assert set(spec.get("requiredInputs", [])) <= set(inputs)
    undocumented = {k for k, p in outputs.items() if not p.get("description")}
    assert undocumented <= UNDOCUMENTED_OUTPUTS[name], "document the new outputs (a docstring under the attribute)"


def test_inputs_keep_their_documented_defaults_and_types(schema):
    pool = resource(schema, "GpuNodePool")
    assert pool["requiredInputs"] == ["instanceTypes"]
    assert pool["inputProperties"]["maxSize"] == {
        "description": "Most nodes the autoscaler may start.",
        "type": "integer",
        "plain": True,
        "default": 2,
    }
    assert pool["inputProperties"]["capacityType"]["default"] == "onDemand"
    assert "default" not in pool["inputProperties"]["labels"]  # the schema's default takes primitives only
    assert pool["inputProperties"]["labels"]["additionalProperties"]["type"] == "string"
    store = resource(schema, "ObjectStore")
    # backend is decided by context when unset (s3 with an EKS cluster, minio otherwise): optional, no stated default.
    assert store.get("requiredInputs", []) == []
    assert store["inputProperties"]["backend"]["type"] == "string" and "default" not in store["inputProperties"]["backend"]
    assert store["inputProperties"]["noncurrentVersionDays"]["default"] == 30
    assert store["inputProperties"]["buckets"]["items"]["type"] == "string"
    ray = resource(schema, "RayCluster")
    assert ray["inputProperties"]["workerGroups"]["items"]["$ref"] == f"#/types/{PACKAGE}:index:RayWorkerGroupArgs"
    assert "gpuPool" not in schema["types"][f"{PACKAGE}:index:RayWorkerGroupArgs"]["properties"]
    # Resource outputs are references into the providers' own schemas.
    assert resource(schema, "GpuOperator")["properties"]["release"]["$ref"].startswith("/kubernetes/v")
    assert {d["name"] for d in schema["dependencies"]} == {"aws", "kubernetes"}


def test_python_only_inputs_are_named_in_the_description(schema):
    hidden = python_only_fields()
    inputs = {k for k in hidden if k.split(".")[0].endswith("Args")}
    seven_args = {f"{n}Args" for n in SEVEN} | {"RayWorkerGroupArgs", "RayHeadGroupArgs", "CanaryArgs"}
    assert {k for k in inputs if k.split(".")[0] in seven_args} == PYTHON_ONLY_INPUTS
    assert "Python programs only: it needs cluster" in resource(schema, "GpuNodePool")["description"]
    assert "Python programs only: it needs kserve" in resource(schema, "InferenceService")["description"]
    assert "(left out here): node_pools." in resource(schema, "GpuOperator")["description"]
    for name in SEVEN:
        assert not {field.split(".")[1] for field in PYTHON_ONLY_INPUTS if field.startswith(f"{name}Args.")} & set(
            resource(schema, name)["inputProperties"]
        )


# Two small components, one per kind of Args: a pydantic model (how components declare their
# inputs) and a TypedDict (how they did before; the package reads both during the conversion).
class _Protocol(Protocol):
    name: str


class _GroupOptions(Options):
    """A nested group."""

    name: str
    """The group's name."""
    size: int = Field(default=2, ge=1)
    """Members."""


class _ModelArgs(Options):
    """Inputs declared as a model."""

    kinds: list[Annotated[str, AfterValidator(str.strip)]] = Field(min_length=1)
    """Kinds of thing."""
    mode: Literal["fast", "safe"] = "safe"
    """How to go."""
    ratio: float = 0.5
    """A share."""
    limit: int | None = None
    """Unset: no limit."""
    labels: dict[Annotated[str, AfterValidator(str.strip)], str] = {}
    """Extra labels."""
    groups: list[_GroupOptions] = []
    """Groups to make."""
    retention: Literal[7, 14] = 7
    """Days to keep."""
    endpoint: SkipValidation[str | pulumi.Output[str] | None] = None
    """A value or another stack's output."""
    owner: SkipValidation[_Protocol]
    """Injected by the composition."""
    peers: SkipValidation[Sequence[_Protocol]] = ()
    """Injected too."""
    fallback: SkipValidation[_Protocol | None] = None
    """Injected, optional."""


class _DictArgs(TypedDict, total=False):
    kinds: Required[Sequence[str]]
    """Kinds of thing."""
    ratio: float
    """A share."""
    owner: _Protocol
    """Injected by the composition."""


class _BaseComponent(pulumi.ComponentResource):
    """What two components share (outputs only)."""

    url: pulumi.Output[str]
    """Where it answers."""
    ready: list[pulumi.Resource]
    """What to wait for (Python objects)."""


class _ModelComponent(_BaseComponent):
    """Made from a model."""

    count: int
    """How many."""

    def __init__(self, name: str, args: _ModelArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        super().__init__("aiplatform:index:_ModelComponent", name, None, opts)


class _DictComponent(pulumi.ComponentResource):
    """Made from a TypedDict."""

    count: int
    """How many."""

    def __init__(self, name: str, args: _DictArgs | None = None, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aiplatform:index:_DictComponent", name, None, opts)


def test_the_analyzer_reads_model_args_and_typeddict_args_alike():
    classes = [_ModelComponent, _DictComponent]
    with schema_view(classes) as view:
        schema = json.loads(view.provider(classes, PACKAGE, version=VERSION).schema)
    model, legacy = resource(schema, "_ModelComponent"), resource(schema, "_DictComponent")
    inputs = model["inputProperties"]
    assert model["requiredInputs"] == ["kinds"]
    assert inputs["kinds"] == {
        "description": "Kinds of thing.",
        "type": "array",
        "items": {"description": "Kinds of thing.", "type": "string", "plain": True},
        "plain": True,
    }
    assert inputs["mode"] == {"description": "How to go.", "type": "string", "plain": True, "default": "safe"}
    assert inputs["ratio"] == {"description": "A share.", "type": "number", "plain": True, "default": 0.5}
    assert inputs["limit"] == {"description": "Unset: no limit.", "type": "integer", "plain": True}
    assert inputs["labels"]["additionalProperties"]["type"] == "string"
    assert inputs["groups"]["items"]["$ref"] == f"#/types/{PACKAGE}:index:_GroupOptions"
    group = schema["types"][f"{PACKAGE}:index:_GroupOptions"]
    assert group["description"] == "A nested group."
    assert group["required"] == ["name"]
    assert group["properties"]["size"] == {"description": "Members.", "type": "integer", "plain": True, "default": 2}
    assert inputs["retention"] == {"description": "Days to keep.", "type": "integer", "plain": True, "default": 7}
    assert inputs["endpoint"] == {"description": "A value or another stack's output.", "type": "string"}  # an Input: not plain
    assert "owner" not in inputs and "Python programs only: it needs owner," in model["description"]
    assert not {"peers", "fallback"} & set(inputs)
    assert model["properties"]["count"] == {"description": "How many.", "type": "integer"}
    assert model["properties"]["url"] == {"description": "Where it answers.", "type": "string"}  # inherited
    assert "ready" not in model["properties"]
    # The TypedDict: the same types and descriptions, no defaults (it has none to state).
    assert legacy["requiredInputs"] == ["kinds"]
    assert legacy["inputProperties"]["kinds"] == inputs["kinds"]
    assert legacy["inputProperties"]["ratio"] == {"description": "A share.", "type": "number", "plain": True}
    assert "owner" not in legacy["inputProperties"] and "(left out here): owner." in legacy["description"]
    assert view.hidden == {
        "_ModelArgs.owner": "a Python object (_Protocol)",
        "_ModelArgs.peers": "a Python object (_Protocol)",
        "_ModelArgs.fallback": "a Python object (_Protocol)",
        "_ModelComponent.ready": "Python Resource objects",
        "_DictArgs.owner": "a Python object (_Protocol)",
    }


def test_building_the_schema_leaves_the_classes_as_they_were():
    from components.cluster.eks_base import EksClusterBase
    from components.cluster.eks_cluster import EksCluster
    from components.cluster.gpu_node_pool import GpuNodePool, GpuNodePoolArgs

    def state():
        return (
            dict(GpuNodePoolArgs.__annotations__),
            dict(GpuNodePool.__annotations__),
            GpuNodePool.__doc__,
            dict(GpuNodePool.__init__.__annotations__),
            dict(EksClusterBase.__dict__["__annotations__"]),  # a base the view exposes for EksCluster's outputs
            "__annotations__" in EksCluster.__dict__ and dict(EksCluster.__dict__["__annotations__"]),
        )

    before = state()
    package_schema()
    assert state() == before


def test_the_plugin_is_a_python_component_package():
    plugin = yaml.safe_load((ROOT / "provider" / "PulumiPlugin.yaml").read_text())
    assert plugin["runtime"]["name"] == "python"
    assert "-r ../requirements.txt" in (ROOT / "provider" / "requirements.txt").read_text().splitlines()
    assert "component_provider_host" in (ROOT / "provider" / "host.py").read_text()


@pytest.mark.integration
def test_the_plugin_entry_point_serves_the_same_schema_over_grpc(schema):
    """Start ``provider/`` the way the language host does (``python <dir> <engine>``) and ask it
    for its schema as ``pulumi package add`` would."""
    import grpc
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

    process = subprocess.Popen(
        [sys.executable, "-W", "ignore", str(ROOT / "provider"), "127.0.0.1:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT.parent,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), process.stderr.read()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            response = provider_pb2_grpc.ResourceProviderStub(channel).GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=60)
        assert json.loads(response.schema) == schema
    finally:
        process.terminate()
        process.wait(timeout=10)
