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
    "GpuNodePool": "components.gpu_node_pool",
    "GpuOperator": "components.gpu_operator",
    "ObjectStore": "components.object_store",
    "ModelRegistry": "components.model_registry",
    "RayCluster": "components.ray_cluster",
    "InferenceService": "components.inference_service",
    "Observability": "components.observability",
    # What they stand on.
    "EksCluster": "components.eks_cluster",
    "ExistingCluster": "components.existing_cluster",
    "ExistingEksCluster": "components.existing_eks_cluster",
    "ClusterAutoscaler": "components.cluster_autoscaler",
    "KServe": "components.kserve",
    "KubeRayOperator": "components.kuberay_operator",
    "IngressGateway": "components.ingress_gateway",
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


def _namespace() -> dict[str, Any]:
    """Names a postponed annotation may use: every class of ``components`` (including those a
    module imports only under ``TYPE_CHECKING``) and ``pulumi.Input``'s own forward reference."""
    import components

    names: dict[str, Any] = {"Output": pulumi.Output, "T": pulumi.output.T}
    for info in pkgutil.iter_modules(components.__path__, "components."):
        module = importlib.import_module(info.name)
        names.update({k: v for k, v in vars(module).items() if inspect.isclass(v) and v.__module__.startswith("components.")})
    return names


def _resolved(cls: type, names: dict[str, Any]) -> dict[str, Any]:
    """``cls``'s own annotations, evaluated."""
    own = SimpleNamespace(__annotations__=dict(cls.__dict__.get("__annotations__", {})))  # not the bases'
    return typing.get_type_hints(own, globalns=vars(sys.modules[cls.__module__]), localns=names, include_extras=True)


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


def _python_only(owner: type, field: str, t: Any) -> str | None:
    """Why ``owner.field`` cannot be expressed in the schema, or None."""
    if (owner.__name__, field) in PYTHON_OBJECT_FIELDS:
        return PYTHON_OBJECT_FIELDS[owner.__name__, field]
    for leaf in _leaves(t):
        if not inspect.isclass(leaf):
            continue
        if issubclass(leaf, pulumi.ComponentResource):
            return f"a {leaf.__name__} object"
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
    Python-only fields, and each component's docstring names the fields left out."""
    classes = classes or component_classes()
    names = _namespace()
    view = _View()
    seen: set[type] = set()

    def expose(cls: type) -> None:
        if cls in seen:
            return
        seen.add(cls)
        kept = {}
        for field, t in _resolved(cls, names).items():
            reason = _python_only(cls, field, t)
            if reason:
                view.hidden[f"{cls.__name__}.{field}"] = reason
                continue
            kept[field] = t
            for nested in _nested(t):
                expose(nested)
        view.set(cls, "__annotations__", kept)

    try:
        for component in classes:
            init = component.__init__
            args = _resolved_args(init, names)
            expose(args)
            expose(component)
            view.set(init, "__annotations__", {**init.__annotations__, "args": args})
            hidden = sorted(k.split(".", 1)[1] for k in view.hidden if k.startswith(f"{args.__name__}."))
            doc = (component.__doc__ or "").strip() or (sys.modules[component.__module__].__doc__ or "").strip()
            if hidden:
                doc += f"\n\nPython-only inputs, not in this schema: {', '.join(hidden)}."
            view.set(component, "__doc__", doc)
        yield view
    finally:
        view.restore()


def _resolved_args(init: Any, names: dict[str, Any]) -> type:
    """The Args class of ``__init__(self, name, args: XArgs | None, opts)``."""
    hints = typing.get_type_hints(init, globalns=init.__globals__, localns=names, include_extras=True)
    args = hints["args"]
    classes = [a for a in (get_args(args) or (args,)) if a is not type(None)]
    if len(classes) != 1 or not is_typeddict(classes[0]):
        raise TypeError(f"{init.__qualname__}: args must be one TypedDict, got {args}")
    return classes[0]


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
