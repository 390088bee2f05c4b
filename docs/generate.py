"""Component reference: ``docs/components/<Component>.md``, generated from the code.

    python docs/generate.py          # rewrite docs/components/
    python docs/generate.py --check  # exit 1 when the committed files differ from the code

Inputs come from each ``<Component>Args`` TypedDict (evaluated annotations, field docstrings,
``Required`` and the module's ``DEFAULTS``), outputs from the component's annotated attributes,
the cross-language names and Python-only fields from ``provider.host`` (what
``pulumi package add`` sees). Each page ends with an example that ``tests/test_component_docs.py``
runs under Pulumi's mocks, so neither the tables nor the examples can drift from the code.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any, get_args, get_origin, is_typeddict

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
        EKS, ("", 'pool = cluster.add_gpu_pool("inference", {"instance_types": ["g6e.xlarge"], "capacity_type": "SPOT", "max_size": 4})\n')
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
            "from components.serving.inference_service import InferenceService\nfrom components.serving.kserve import KServe",
            'kserve = KServe("kserve", {}, on_cluster)\n'
            'model = InferenceService("iris", {"kserve": kserve, "store": store, "model_format": "sklearn", "model_path": "sklearn/iris/v1"}, on_cluster)\n'
            'pulumi.export("modelUri", model.storage_uri)\n',
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


def field_docs(cls: type) -> dict[str, str]:
    """Attribute -> the docstring after it in ``cls``'s body."""
    tree = ast.parse(inspect.getsource(inspect.getmodule(cls)))
    body = next(node.body for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == cls.__name__)
    docs = {}
    for stmt, after in zip(body, [*body[1:], None], strict=True):
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
                docs[stmt.target.id] = inspect.cleandoc(after.value.value)
    return docs


def defaults_of(cls: type) -> dict[str, Any]:
    """The DEFAULTS dict of an Args class (``SYSTEM_NODE_GROUP_DEFAULTS`` for ``SystemNodeGroupArgs``)."""
    module = inspect.getmodule(cls)
    stem = "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(cls.__name__.removesuffix("Args"))).upper()
    return getattr(module, f"{stem}_DEFAULTS", None) or getattr(module, "DEFAULTS", {})


def type_name(t: Any) -> str:
    """A readable name for an evaluated annotation."""
    from pulumi.provider.experimental.analyzer import is_input, unwrap_input

    origin, args = get_origin(t), get_args(t)
    if origin in (typing.Required, typing.NotRequired):
        return type_name(args[0])
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


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(value: Any) -> str:
    return "—" if value is None or value == {} or value == [] else f"`{json.dumps(value)}`"


def _args_table(cls: type, hidden: dict[str, str]) -> tuple[list[str], list[type]]:
    from pulumi.provider.experimental.util import camel_case

    from provider.host import _nested, annotations, is_required

    docs, defaults, nested = field_docs(cls), defaults_of(cls), []
    rows = ["| input | other languages | type | default | description |", "| --- | --- | --- | --- | --- |"]
    for field, t in annotations(cls).items():
        reason = hidden.get(f"{cls.__name__}.{field}")
        schema = f"Python only: {reason}" if reason else f"`{camel_case(field)}`"
        default = "**required**" if is_required(t) else _default(defaults.get(field))
        rows.append(f"| `{field}` | {_cell(schema)} | `{_cell(type_name(t))}` | {default} | {_cell(docs.get(field, ''))} |")
        nested += [n for n in _nested(t) if is_typeddict(n) and n not in nested]
    return rows, nested


def component_page(component: type, hidden: dict[str, str]) -> str:
    from pulumi.provider.experimental.util import camel_case

    from provider.host import PACKAGE, annotations, args_class, schema_description

    name = component.__name__
    args = args_class(component)
    module = component.__module__
    lines = [f"# {name}", "", "<!-- Generated by docs/generate.py from the code; do not edit. -->", ""]
    lines += [schema_description(component), ""]
    lines += [
        f"- Python: `from {module} import {name}`; `{name}(name, args: {args.__name__}, opts)`",
        f"- Type token: `{PACKAGE}:index:{name}`; source: [`{module.replace('.', '/')}.py`](../../{module.replace('.', '/')}.py)",
        "",
        "## Inputs",
        "",
        f"`{args.__name__}`: a dict; leave a key out (or pass `None`) for its default.",
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
    for field, t in annotations(component).items():
        reason = hidden.get(f"{name}.{field}")
        schema = "Python only" if reason else f"`{camel_case(field)}`"
        lines.append(f"| `{field}` | {schema} | `{_cell(type_name(t))}` | {_cell(docs.get(field, ''))} |")
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


def render_all() -> dict[str, str]:
    """File name (under docs/components) -> content."""
    from provider.host import component_classes, python_only_fields

    components = component_classes()
    hidden = python_only_fields()
    pages = {f"{c.__name__}.md": component_page(c, hidden) for c in components}
    pages["README.md"] = index_page(components)
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    options = parser.parse_args(argv)
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    pages = render_all()
    if options.check:
        committed = {p.name: p.read_text() for p in OUT.glob("*.md")}
        stale = sorted(n for n in set(pages) | set(committed) if pages.get(n) != committed.get(n))
        for name in stale:
            print(f"docs/components/{name} differs from the code: run python docs/generate.py", file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.md"):
        if old.name not in pages:
            old.unlink()
    for name, text in pages.items():
        (OUT / name).write_text(text)
    print(f"wrote {len(pages)} files to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
