"""Component reference (``docs/components/<Component>.md``) and stack config reference
(``docs/config.md``), generated from the code.

    python docs/generate.py          # rewrite docs/components/ and docs/config.md
    python docs/generate.py --check  # exit 1 when the committed files differ from the code

Inputs come from each component's ``<Component>Args`` pydantic model (type, required, the field's
default, allowed values from ``Literal`` and constraints, the field's description); outputs from
the component's annotated attributes, its bases' included (``EksClusterBase``), the cross-language names and Python-only fields from ``provider.host`` (what
``pulumi package add`` sees). Each page ends with an example that ``tests/test_component_docs.py``
runs under Pulumi's mocks, so neither the tables nor the examples can drift from the code.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
import types
import typing
from collections import abc
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin, is_typeddict

from pydantic import AfterValidator, BaseModel
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "components"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def program(*parts: tuple[str, str]) -> str:
    """A small program from (imports, code) parts: the imports first, each once."""
    imports = sorted({line for lines, _ in parts for line in lines.splitlines()}, key=lambda line: (line != "import pulumi", line))
    return "\n".join(imports) + "\n\n" + "\n".join(code for _, code in parts)


CLUSTER = (
    "import pulumi\nfrom components.cluster.existing_cluster import ExistingCluster",
    'cluster = ExistingCluster("dev", {"context": "kind-ai-platform"})\non_cluster = pulumi.ResourceOptions(provider=cluster.k8s_provider)\n',
)
EKS = (
    "import pulumi\nfrom components.cluster.eks_cluster import EksCluster",
    'cluster = EksCluster("ml", {"cluster_name": "ml", "region": "us-west-2", "availability_zones": ["us-west-2a", "us-west-2b", "us-west-2c"]})\n'
    "on_cluster = pulumi.ResourceOptions(provider=cluster.k8s_provider, depends_on=cluster.workload_ready)\n",
)
MINIO = (
    "from components.data.object_store import ObjectStore",
    'store = ObjectStore("store", {"backend": "minio", "buckets": ["models", "datasets"]}, on_cluster)\n',
)
EXAMPLES = {
    "GpuNodePool": program(
        EKS, ("", 'pool = cluster.add_gpu_pool("inference", {"instance_types": ["g6e.xlarge"], "capacity_type": "spot", "max_size": 4})\n')
    ),
    "GpuOperator": program(
        EKS,
        (
            "from components.compute.gpu_operator import GpuOperator",
            'pool = cluster.add_gpu_pool("shared", {"instance_types": ["g6.xlarge"], "time_slicing_replicas": 4})\n'
            'GpuOperator("gpu-operator", {"node_pools": [pool]}, on_cluster)\n',
        ),
    ),
    "ObjectStore": program(CLUSTER, MINIO),
    "ModelRegistry": program(
        CLUSTER,
        MINIO,
        (
            "from components.data.model_registry import ModelRegistry",
            'registry = ModelRegistry("model-registry", {"store": store}, on_cluster)\npulumi.export("mlflowTrackingUri", registry.tracking_uri)\n',
        ),
    ),
    "RayCluster": program(
        CLUSTER,
        MINIO,
        (
            "from components.compute.kuberay_operator import KubeRayOperator\nfrom components.compute.ray_cluster import RayCluster",
            'operator = KubeRayOperator("kuberay-operator", {}, on_cluster)\n'
            "ray = RayCluster(\n"
            '    "ray",\n'
            '    {"operator": operator, "store": store, "worker_groups": [{"name": "cpu", "cpu": 2, "memory_gib": 4, "max_replicas": 3}]},\n'
            "    on_cluster,\n"
            ")\n"
            'pulumi.export("rayDashboard", ray.dashboard_url)\n',
        ),
    ),
    "InferenceService": program(
        CLUSTER,
        MINIO,
        (
            "from components.observability.observability import Observability\n"
            "from components.serving.inference_service import InferenceService\n"
            "from components.serving.keda import Keda\n"
            "from components.serving.kserve import KServe",
            'kserve = KServe("kserve", {}, on_cluster)\n'
            'model = InferenceService("iris", {"kserve": kserve, "store": store, "model_format": "sklearn", "model_path": "sklearn/iris/v1"}, on_cluster)\n'
            'pulumi.export("modelUri", model.storage_uri)\n'
            "# An LLM scales on vLLM's requests in flight: KServe has KEDA query Prometheus for them.\n"
            'monitoring = Observability("observability", {"prometheus_clients": ["keda"]}, on_cluster)\n'
            'keda = Keda("keda", {}, on_cluster)\n'
            "llm = InferenceService(\n"
            '    "chat",\n'
            "    {\n"
            '        "kserve": kserve,\n'
            '        "prometheus": monitoring,\n'
            '        "keda": keda,\n'
            '        "model_format": "huggingface",\n'
            '        "storage_uri": "hf://Qwen/Qwen2.5-0.5B-Instruct",\n'
            '        "max_replicas": 3,\n'
            '        "scale_target": 8,\n'
            "    },\n"
            "    on_cluster,\n"
            ")\n",
        ),
    ),
    "Observability": program(
        CLUSTER,
        (
            "from components.observability.observability import Observability",
            'monitoring = Observability("observability", {"prometheus_retention": "3d", "prometheus_storage_size": "10Gi"}, on_cluster)\n'
            'pulumi.export("grafanaUrl", monitoring.grafana_url)\n',
        ),
    ),
    "EksCluster": program(EKS, ("", 'pulumi.export("kubeconfig", cluster.kubeconfig)\n')),
    "ExistingCluster": program(CLUSTER),
    "ExistingEksCluster": program(
        (
            "import pulumi\nfrom components.cluster.existing_eks_cluster import ExistingEksCluster",
            "cluster = ExistingEksCluster(\n"
            '    "ml",\n'
            "    {\n"
            '        "cluster_name": "ml",\n'
            '        "region": "us-west-2",\n'
            '        "endpoint": "https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com",\n'
            '        "certificate_authority": "LS0tLS1CRUdJTi...",\n'
            '        "node_role_arn": "arn:aws:iam::123456789012:role/ml-nodes",\n'
            '        "private_subnet_ids": ["subnet-0a", "subnet-0b", "subnet-0c"],\n'
            "    },\n"
            ")\n"
            'pool = cluster.add_gpu_pool("gpu", {"instance_types": ["g6e.xlarge"]})\n'
            'pulumi.export("kubeconfig", cluster.kubeconfig)\n',
        )
    ),
    "ClusterAutoscaler": program(
        EKS,
        (
            "from components.cluster.cluster_autoscaler import ClusterAutoscaler",
            'ClusterAutoscaler("cluster-autoscaler", {"cluster": cluster, "region": "us-west-2"}, on_cluster)\n',
        ),
    ),
    "MetricsServer": program(
        CLUSTER,
        ("from components.cluster.metrics_server import MetricsServer", 'MetricsServer("metrics-server", {}, on_cluster)\n'),
    ),
    "Keda": program(
        CLUSTER,
        ("from components.serving.keda import Keda", 'Keda("keda", {"replicas": 2}, on_cluster)\n'),
    ),
    "KServe": program(
        CLUSTER,
        ("from components.serving.kserve import KServe", 'kserve = KServe("kserve", {"deployment_mode": "Standard"}, on_cluster)\n'),
    ),
    "KubeRayOperator": program(
        CLUSTER,
        (
            "from components.compute.kuberay_operator import KubeRayOperator",
            'operator = KubeRayOperator("kuberay-operator", {}, on_cluster)\n',
        ),
    ),
    "IngressGateway": program(
        CLUSTER,
        (
            "from components.serving.ingress_gateway import IngressGateway\nfrom components.serving.kserve import KServe",
            'gateway = IngressGateway("envoy-gateway", {}, on_cluster)\n'
            'KServe("kserve", {"ingress": gateway, "ingress_domain": "models.example.com"}, on_cluster)\n',
        ),
    ),
}
"""Component -> a small program using it (run under mocks by the docs test)."""


# ---------------------------------------------------------------- reading the code


class FieldDoc(typing.NamedTuple):
    """One input or config key, as the reference shows it."""

    name: str
    type: Any
    """The annotation (``Annotated`` constraints included)."""
    required: bool
    default: Any
    """The default value (MISSING when required, and for a TypedDict, which has none)."""
    description: str
    allowed: list[str] = []
    """Allowed values and constraints, readable (``"spot"``, ``>= 1``, ``length >= 1``)."""
    examples: list[Any] = []
    """``Field(examples=[...])``."""


MISSING = object()


def field_docs(cls: type) -> dict[str, str]:
    """Attribute -> the docstring after it in the body of ``cls`` or of the base that declares it
    (``EksCluster``'s outputs are declared in ``EksClusterBase``)."""
    from components.core.args import attribute_docstrings

    return attribute_docstrings(cls)


def is_model(cls: Any) -> bool:
    return inspect.isclass(cls) and issubclass(cls, BaseModel)


def fields_of(cls: type) -> list[FieldDoc]:
    """The fields of a pydantic model, or of another annotated class (a TypedDict: its docstrings, no defaults)."""
    if is_model(cls):
        from components.core.args import field_descriptions

        described = field_descriptions(cls)
        return [_model_field(name, info, described.get(name, "")) for name, info in cls.model_fields.items()]
    from provider.host import class_annotations, is_required

    docs = field_docs(cls)
    return [FieldDoc(name, t, is_required(t), MISSING, docs.get(name, "")) for name, t in class_annotations(cls).items()]


def _model_field(name: str, info: FieldInfo, description: str) -> FieldDoc:
    t = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    default = MISSING if info.is_required() else info.get_default(call_default_factory=True)
    return FieldDoc(name, t, info.is_required(), default, description, allowed(t), list(info.examples or []))


def _strip(t: Any) -> Any:
    """``t`` without ``Annotated`` metadata and ``Optional``."""
    while True:
        origin, args = get_origin(t), get_args(t)
        if origin is Annotated:
            t = args[0]
        elif origin in (typing.Union, types.UnionType) and type(None) in args and len(args) == 2:
            t = next(a for a in args if a is not type(None))
        elif origin in (typing.Required, typing.NotRequired):
            t = args[0]
        else:
            return t


def _rule(metadata: Any) -> str | None:
    """One constraint as a reader would say it."""
    if isinstance(metadata, AfterValidator):
        try:
            typing.cast(Any, metadata.func)("")
        except ValueError as error:  # the validator's own words: "must be ... (got '')"
            return str(error).split(" (got ")[0]
        except Exception:  # noqa: BLE001 - a validator for another kind of value
            return None
        return None
    words = {"ge": ">= {}", "gt": "> {}", "le": "<= {}", "lt": "< {}", "min_length": "length >= {}", "max_length": "length <= {}"}
    for attribute, text in words.items():
        value = getattr(metadata, attribute, None)
        if value is not None:
            return text.format(value)
    pattern = getattr(metadata, "pattern", None)
    return f"matches `{pattern}`" if pattern else None


def allowed(t: Any, prefix: str = "") -> list[str]:
    """Allowed values (``Literal``) and constraints of an annotation, items' and keys' too."""
    origin, args = get_origin(t), get_args(t)
    if origin is Annotated:
        rules = [r for r in (_rule(m) for m in t.__metadata__) if r]
        return [prefix + r for r in rules] + allowed(args[0], prefix)
    if origin is Literal:
        return [prefix + ", ".join(f"`{json.dumps(v)}`" for v in args)]
    if origin in (typing.Union, types.UnionType):
        return [r for a in args if a is not type(None) for r in allowed(a, prefix)]
    if origin in (list, abc.Sequence, set, tuple) and args:
        return allowed(args[0], "each: ")
    if origin in (dict, abc.Mapping) and len(args) == 2:
        return allowed(args[0], "keys: ") + allowed(args[1], "values: ")
    return []


def _alias_names() -> list[tuple[Any, str]]:
    """The named field types of ``components/core/types.py`` (``InstanceType``, ``Name``, ...)."""
    from components.core import types as field_types

    return [(v, k) for k, v in vars(field_types).items() if get_origin(v) is Annotated]


def type_name(t: Any) -> str:
    """A readable name for an evaluated annotation."""
    from pulumi.provider.experimental.analyzer import is_input, unwrap_input

    origin, args = get_origin(t), get_args(t)
    if origin is Annotated:
        named = next((name for alias, name in _alias_names() if alias == t), None)
        if named:
            return named
        return type_name(args[0])
    if origin in (typing.Required, typing.NotRequired):
        return type_name(args[0])
    if origin is Literal:
        return " | ".join(sorted({type(a).__name__ for a in args}))
    if is_input(t):
        return f"Input[{type_name(unwrap_input(t))}]"
    if origin in (typing.Union, types.UnionType):
        names = [type_name(a) for a in args if a is not type(None)]
        return " | ".join(names + (["None"] if type(None) in args else []))
    if origin is not None:
        return f"{type_name(origin)}[{', '.join(type_name(a) for a in args)}]"
    if t is Any:
        return "Any"
    if t is type(None):
        return "None"
    if isinstance(t, typing.ForwardRef):
        return t.__forward_arg__
    if getattr(t, "pulumi_type", None):
        return t.pulumi_type
    return getattr(t, "__name__", str(t))


def nested_models(t: Any) -> list[type]:
    """Pydantic models and component TypedDicts an annotation mentions (their fields get a table too)."""
    from provider.host import _leaves, model_of

    found = []
    for leaf in _leaves(t):
        if is_model(leaf) and leaf not in found:
            found.append(leaf)
        elif inspect.isclass(leaf) and is_typeddict(leaf) and leaf.__module__.startswith("components.") and model_of(leaf) is None:
            found.append(leaf)
    return found


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _value(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True)
    return f"`{json.dumps(value)}`"


def _default(f: FieldDoc) -> str:
    if f.required:
        return "**required**"
    if f.default is MISSING or f.default is None:
        return "—"
    if isinstance(f.default, BaseModel):
        return "see below"
    return _value(f.default)


def _args_table(cls: type, hidden: dict[str, str]) -> tuple[list[str], list[type]]:
    from pulumi.provider.experimental.util import camel_case

    nested: list[type] = []
    rows = ["| input | other languages | type | default | allowed | description |", "| --- | --- | --- | --- | --- | --- |"]
    for f in fields_of(cls):
        reason = hidden.get(f"{cls.__name__}.{f.name}")
        schema = f"Python only: {reason}" if reason else f"`{camel_case(f.name)}`"
        rows.append(
            f"| `{f.name}` | {_cell(schema)} | `{_cell(type_name(f.type))}` | {_default(f)} | {_cell('; '.join(f.allowed))} | {_cell(f.description)} |"
        )
        nested += [n for n in nested_models(f.type) if n not in nested]
    return rows, nested


def component_page(component: type, hidden: dict[str, str]) -> str:
    from pulumi.provider.experimental.util import camel_case

    from provider.host import PACKAGE, args_model, class_annotations, schema_description

    name = component.__name__
    args = args_model(component)
    module = component.__module__
    lines = [f"# {name}", "", "<!-- Generated by docs/generate.py from the code; do not edit. -->", ""]
    lines += [schema_description(component), ""]
    lines += [
        f"- Python: `from {module} import {name}`; `{name}(name, args: {args.__name__}, opts)`",
        f"- Type token: `{PACKAGE}:index:{name}`; source: [`{module.replace('.', '/')}.py`](../../{module.replace('.', '/')}.py)",
        "",
        "## Inputs",
        "",
        f"`{args.__name__}` (a pydantic model) or a dict of its fields; leave a key out for its default."
        if is_model(args)
        else f"`{args.__name__}`: a dict; leave a key out (or pass `None`) for its default.",
        "",
    ]
    rows, nested = _args_table(args, hidden)
    lines += rows
    seen = set()
    while nested:
        cls = nested.pop(0)
        if cls in seen:
            continue
        seen.add(cls)
        more_rows, more = _args_table(cls, hidden)
        lines += ["", f"### {cls.__name__}", "", *more_rows]
        nested += more
    docs = field_docs(component)
    lines += [
        "",
        "## Outputs",
        "",
        "Attributes of the component.",
        "",
        "| output | other languages | type | description |",
        "| --- | --- | --- | --- |",
    ]
    for attribute, t in class_annotations(component).items():
        reason = hidden.get(f"{name}.{attribute}")
        schema = "Python only" if reason else f"`{camel_case(attribute)}`"
        lines.append(f"| `{attribute}` | {schema} | `{_cell(type_name(t))}` | {_cell(docs.get(attribute, ''))} |")
    lines += ["", "## Example", "", "```python", EXAMPLES[name].rstrip(), "```", ""]
    return "\n".join(lines)


def index_page(components: list[type]) -> str:
    from provider.host import PACKAGE, schema_description

    lines = [
        "# Component reference",
        "",
        "<!-- Generated by docs/generate.py from the code; do not edit. -->",
        "",
        "Each component is a `pulumi.ComponentResource` in `components/`, importable from Python programs",
        "(`pip install` this repository) and, through the component package in `provider/`, from",
        f"TypeScript, Go, C#, Java and YAML (`pulumi package add <repo>/provider`; type tokens `{PACKAGE}:index:<Component>`).",
        "Inputs that hold Python objects (another component, a store) exist only in Python; a component",
        "that requires one is for Python programs only.",
        "",
        "| component | what | other languages |",
        "| --- | --- | --- |",
    ]
    for component in components:
        description = schema_description(component)
        summary = description.split("\n\n")[0].split(": ", 1)[-1]
        other = "Python only" if "Python programs only" in description else "yes"
        lines.append(f"| [{component.__name__}]({component.__name__}.md) | {_cell(summary)} | {other} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- stack config reference

CONFIG = ROOT / "docs" / "config.md"
STACK_FILES = [ROOT / "Pulumi.prod.yaml", ROOT / "Pulumi.dev.yaml", ROOT / "docs" / "stacks" / "Pulumi.staging.yaml"]
"""Where a key's example value comes from (the first stack file that sets it)."""


def _config_type(t: Any) -> str:
    """A config key's type in YAML words."""
    t = _strip(t)
    origin, args = get_origin(t), get_args(t)
    if origin is Literal:
        return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(type(args[0]), "string")
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_config_type(a) for a in args if a is not type(None))
    if origin in (list, abc.Sequence, set, tuple):
        return f"list of {_config_type(args[0])}"
    if origin in (dict, abc.Mapping):
        return f"map of {_config_type(args[1])}"
    if is_model(t):
        return "object"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(t, type_name(t))


def _stack_values() -> list[Any]:
    """The ``ai-platform:`` config of each stack file, as one tree per file."""
    import yaml

    trees = []
    for path in STACK_FILES:
        if path.exists():
            config = (yaml.safe_load(path.read_text()) or {}).get("config", {})
            trees.append({k.removeprefix("ai-platform:"): v for k, v in config.items() if k.startswith("ai-platform:")})
    return trees


def _lookup(tree: Any, path: list[str]) -> Any:
    """The value at ``path`` (``"[]"`` steps into each list item), MISSING when no stack sets it."""
    if not path:
        return tree
    step, rest = path[0], path[1:]
    if step == "[]":
        for item in tree if isinstance(tree, list) else []:
            found = _lookup(item, rest)
            if found is not MISSING:
                return found
        return MISSING
    if isinstance(tree, dict) and step in tree:
        return _lookup(tree[step], rest)
    return MISSING


def _example(f: FieldDoc, path: list[str], stacks: list[Any]) -> str:
    """The value a stack file sets for the key, else the field's own example, else a value it may take."""
    for tree in stacks:
        found = _lookup(tree, path)
        if found is not MISSING:
            return _value(found)
    if f.examples:
        return _value(f.examples[0])
    inner = _strip(f.type)
    if get_origin(inner) is Literal:
        values = [v for v in get_args(inner) if v != f.default] or list(get_args(inner))
        return _value(values[0])
    if get_origin(inner) in (list, abc.Sequence) and get_origin(_strip(get_args(inner)[0])) is Literal:
        return _value(list(get_args(_strip(get_args(inner)[0])))[:1])
    if inner is bool:
        return _value(not f.default)
    hint = re.search(r"such as (\S+)", " ".join(f.allowed))
    if hint:
        value = hint.group(1).rstrip(".,;")
        return _value([value] if get_origin(inner) in (list, abc.Sequence) else value)
    if f.default not in (MISSING, None, [], {}) and not isinstance(f.default, BaseModel):
        return _value(f.default)
    return "—"


def config_rows(model: type[BaseModel], prefix: list[str], stacks: list[Any], only: str | None = None) -> list[str]:
    """One row per key of ``model`` (and of the models below it), keys in camelCase; ``only`` one field."""
    from components.core.args import field_descriptions

    rows = []
    described = field_descriptions(model)
    for name, info in model.model_fields.items():
        if only is not None and name != only:
            continue
        f = _model_field(name, info, described.get(name, ""))
        path = [*prefix, info.alias or name]
        inner = _strip(f.type)
        origin, args = get_origin(inner), get_args(inner)
        child, child_path = None, path
        if is_model(inner):
            child = inner
        elif origin in (list, abc.Sequence) and is_model(_strip(args[0])):
            child, child_path = _strip(args[0]), [*path, "[]"]
        elif origin in (dict, abc.Mapping) and is_model(_strip(args[1])):
            child, child_path = _strip(args[1]), [*path, "<key>"]
        shown = ".".join(path).replace(".[]", "[]")
        example = "—" if child is not None else _example(f, path, stacks)
        rows.append(
            f"| `{shown}` | {_cell(_config_type(f.type))} | {_default(f)} | {_cell('; '.join(f.allowed))} | {_cell(f.description)} | {example} |"
        )
        if child is not None:
            rows += config_rows(child, child_path, stacks)
    return rows


def config_page() -> str:
    """``docs/config.md``: every key under ``ai-platform:``, from ``stacks.config.PlatformConfig``."""
    from stacks.config import PlatformConfig

    stacks = _stack_values()
    lines = [
        "# Stack configuration reference",
        "",
        "<!-- Generated by docs/generate.py from stacks/config.py and the component models; do not edit. -->",
        "",
        "Every key a stack file may set under the `ai-platform:` namespace (`ai-platform:<section>`), read and",
        "validated by `stacks/config.py` before any resource exists. A section that configures a component is",
        "that component's Options model, so its keys, types, defaults and descriptions are the component's own",
        "(see [the component reference](components/README.md)). `[]` marks a list item, `<key>` a map entry.",
        "Examples come from the stack files (`Pulumi.prod.yaml`, `Pulumi.dev.yaml`, `docs/stacks/Pulumi.staging.yaml`).",
        "",
    ]
    header = ["| key | type | default | allowed | description | example |", "| --- | --- | --- | --- | --- | --- |"]
    for name, info in PlatformConfig.model_fields.items():
        lines += [f"## `ai-platform:{info.alias or name}`", "", *header, *config_rows(PlatformConfig, [], stacks, only=name), ""]
    return "\n".join(lines)


def render_all() -> dict[str, str]:
    """File name (under docs/components) -> content."""
    from provider.host import component_classes, python_only_fields

    components = component_classes()
    hidden = python_only_fields()
    pages = {f"{c.__name__}.md": component_page(c, hidden) for c in components}
    pages["README.md"] = index_page(components)
    return pages


def outputs() -> dict[Path, str]:
    """Every generated file -> its content."""
    files = {OUT / name: text for name, text in render_all().items()}
    files[CONFIG] = config_page()
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    options = parser.parse_args(argv)
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    files = outputs()
    committed = {p: p.read_text() for p in [*OUT.glob("*.md"), CONFIG] if p.exists()}
    if options.check:
        stale = sorted(p for p in set(files) | set(committed) if files.get(p) != committed.get(p))
        for path in stale:
            shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            print(f"{shown} differs from the code: run python docs/generate.py", file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.md"):
        if old not in files:
            old.unlink()
    for path, text in files.items():
        path.write_text(text)
    print(f"wrote {len(files)} files: docs/config.md and docs/components/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
