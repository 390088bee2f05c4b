"""The components as a Pulumi component package, for TypeScript, Go, C#, Java and YAML programs.

``provider/__main__.py`` hosts them with ``component_provider_host`` (``pulumi package add
<repo>/provider``); ``package_schema()`` builds the same schema offline, for tests and docs.

Pulumi's analyzer (``pulumi.provider.experimental.analyzer``) reads each component's ``args``
annotation, the Args class and the component's annotated attributes. Two things in our classes
stop it, and :func:`schema_view` bridges both while the analyzer and the provider run:

- the modules use ``from __future__ import annotations``, so annotations are strings the analyzer
  does not evaluate: we resolve them (``typing.get_type_hints``);
- some fields hold Python objects another language cannot pass or read: another component
  (``cluster: EksCluster``), a protocol (``store: ObjectStoreLike``), untyped objects
  (:data:`PYTHON_OBJECT_FIELDS`) or bare ``pulumi.Resource`` lists. They are left out of the
  schema; :func:`python_only_fields` lists them and each component's description names them.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import pkgutil
import sys
import typing
from collections import abc
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, get_args, get_origin, is_typeddict

import pulumi
import pulumi.output

PACKAGE = "aiplatform"
"""Package name: the first part of every type token (``aiplatform:index:GpuNodePool``)."""
VERSION = "0.1.0"
"""Package version (``pyproject.toml``)."""

COMPONENTS = {
    # The design card's seven.
    "GpuNodePool": "components.cluster.gpu_node_pool",
    "GpuOperator": "components.compute.gpu_operator",
    "ObjectStore": "components.data.object_store",
    "ModelRegistry": "components.data.model_registry",
    "RayCluster": "components.compute.ray_cluster",
    "InferenceService": "components.serving.inference_service",
    "Observability": "components.observability.observability",
    # What they stand on.
    "EksCluster": "components.cluster.eks_cluster",
    "ExistingCluster": "components.cluster.existing_cluster",
    "ExistingEksCluster": "components.cluster.existing_eks_cluster",
    "ClusterAutoscaler": "components.cluster.cluster_autoscaler",
    "KServe": "components.serving.kserve",
    "KubeRayOperator": "components.compute.kuberay_operator",
    "IngressGateway": "components.serving.ingress_gateway",
}
"""Component class name -> module, in the package."""

PYTHON_OBJECT_FIELDS = {
    ("ModelRegistryArgs", "cluster"): "the EksCluster (annotated Any)",
    ("KServeArgs", "ingress"): "an IngressGateway (annotated Any)",
    ("RayWorkerGroupArgs", "gpu_pool"): "a GpuNodePool (annotated Any)",
}
"""Fields annotated ``Any`` that hold a Python object, not data; the analyzer would accept them as
``pulumi.json#/Any``, so they are named here."""


def component_classes() -> list[type[pulumi.ComponentResource]]:
    return [getattr(importlib.import_module(module), name) for name, module in COMPONENTS.items()]


@functools.cache
def _namespace() -> dict[str, Any]:
    """Names a postponed annotation may use: every class of ``components`` (including those a
    module imports only under ``TYPE_CHECKING``) and ``pulumi.Input``'s own forward reference."""
    import components

    names: dict[str, Any] = {"Output": pulumi.Output, "T": pulumi.output.T}
    for info in pkgutil.walk_packages(components.__path__, "components."):
        module = importlib.import_module(info.name)
        names.update({k: v for k, v in vars(module).items() if inspect.isclass(v) and v.__module__.startswith("components.")})
    return names


def annotations(cls: type) -> dict[str, Any]:
    """``cls``'s own annotations (not its bases'), evaluated; ``Required[...]`` is kept."""
    own = SimpleNamespace(__annotations__=dict(cls.__dict__.get("__annotations__", {})))
    return typing.get_type_hints(own, globalns=vars(sys.modules[cls.__module__]), localns=_namespace(), include_extras=True)


def args_class(component: type[pulumi.ComponentResource]) -> type:
    """The Args TypedDict of ``__init__(self, name, args: XArgs | None, opts)``."""
    init = component.__init__
    hints = typing.get_type_hints(init, globalns=init.__globals__, localns=_namespace(), include_extras=True)
    classes = [a for a in (get_args(hints["args"]) or (hints["args"],)) if a is not type(None)]
    if len(classes) != 1 or not is_typeddict(classes[0]):
        raise TypeError(f"{component.__name__}.__init__: args must be one TypedDict, got {hints['args']}")
    return classes[0]


def is_required(t: Any) -> bool:
    return get_origin(t) is typing.Required


def _leaves(t: Any) -> Iterator[Any]:
    """Every type mentioned in ``t`` (``Required[Sequence[X] | None]`` -> Required, Sequence, X, None)."""
    if get_origin(t) is not None:
        yield get_origin(t)
        for arg in get_args(t):
            yield from _leaves(arg)
    else:
        yield t


def _nested(t: Any) -> list[type]:
    """TypedDicts and dataclasses of ``components`` that ``t`` mentions (the analyzer follows them)."""
    return [
        leaf
        for leaf in _leaves(t)
        if inspect.isclass(leaf)
        and leaf.__module__.startswith("components.")
        and (is_typeddict(leaf) or hasattr(leaf, "__dataclass_fields__"))
    ]


def python_only(owner: type, field: str, t: Any) -> str | None:
    """Why ``owner.field`` (of type ``t``) cannot be expressed in the schema, or None."""
    if (owner.__name__, field) in PYTHON_OBJECT_FIELDS:
        return PYTHON_OBJECT_FIELDS[owner.__name__, field]
    for leaf in _leaves(t):
        if not inspect.isclass(leaf):
            continue
        if issubclass(leaf, pulumi.ComponentResource):
            return f"{leaf.__name__} object"
        if getattr(leaf, "_is_protocol", False):
            return f"a Python object ({leaf.__name__})"
        if leaf is abc.Callable:
            return "a Python callable"
        if issubclass(leaf, pulumi.Resource) and not getattr(leaf, "pulumi_type", None):
            return f"Python {leaf.__name__} objects"
    return None


def python_only_fields() -> dict[str, str]:
    """``Class.field`` -> why it is not in the schema, for every class the package exposes."""
    with schema_view() as view:
        return dict(view.hidden)


def schema_description(component: type[pulumi.ComponentResource]) -> str:
    """The component's description in the schema: its docstring (or its module's), and which
    inputs only Python programs can pass."""
    doc = (component.__doc__ or "").strip() or (sys.modules[component.__module__].__doc__ or "").strip()
    args = args_class(component)
    hidden = {f: t for f, t in annotations(args).items() if python_only(args, f, t)}
    required = sorted(f for f, t in hidden.items() if is_required(t))
    if required:
        doc += f"\n\nPython programs only: it needs {', '.join(required)}, which other languages cannot pass."
    elif hidden:
        doc += f"\n\nInputs only Python programs can pass (left out here): {', '.join(sorted(hidden))}."
    return doc


_MISSING = object()


class _View:
    def __init__(self) -> None:
        self.hidden: dict[str, str] = {}
        self._saved: list[tuple[Any, str, Any]] = []

    def set(self, obj: Any, attr: str, value: Any) -> None:
        """``setattr``, remembered: a class's own attribute (or its absence), a function's annotations."""
        old = obj.__dict__.get(attr, _MISSING) if isinstance(obj, type) else getattr(obj, attr)
        self._saved.append((obj, attr, old))
        setattr(obj, attr, value)

    def restore(self) -> None:
        for obj, attr, old in reversed(self._saved):
            if old is _MISSING:
                delattr(obj, attr)
            else:
                setattr(obj, attr, old)


@contextmanager
def schema_view(classes: list[type[pulumi.ComponentResource]] | None = None) -> Iterator[_View]:
    """While open, the component classes show the analyzer evaluated annotations without the
    Python-only fields, and their descriptions say what is left out; on exit they are as before."""
    classes = classes or component_classes()
    view = _View()
    seen: set[type] = set()

    def expose(cls: type) -> None:
        if cls in seen:
            return
        seen.add(cls)
        kept = {}
        for field, t in annotations(cls).items():
            reason = python_only(cls, field, t)
            if reason:
                view.hidden[f"{cls.__name__}.{field}"] = reason
                continue
            kept[field] = t
            for nested in _nested(t):
                expose(nested)
        view.set(cls, "__annotations__", kept)

    try:
        for component in classes:
            args, description = args_class(component), schema_description(component)
            expose(args)
            expose(component)
            view.set(component.__init__, "__annotations__", {**component.__init__.__annotations__, "args": args})
            view.set(component, "__doc__", description)
        yield view
    finally:
        view.restore()


def package_schema() -> dict[str, Any]:
    """The package schema ``pulumi package add`` gets, built offline by Pulumi's own analyzer."""
    from pulumi.provider.experimental.component import ComponentProvider

    with schema_view() as _:
        provider = ComponentProvider(component_classes(), PACKAGE, version=VERSION)
    return json.loads(provider.schema)


def host(argv: list[str] | None = None) -> None:
    """Serve the components to the Pulumi engine (the plugin's entry point)."""
    from pulumi.provider.experimental import component_provider_host

    if argv is not None:
        sys.argv[1:] = argv
    with schema_view() as _:
        component_provider_host(component_classes(), PACKAGE, version=VERSION)
