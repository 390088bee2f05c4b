"""The components as a Pulumi component package, for TypeScript, Go, C#, Java and YAML programs.

``provider/__main__.py`` hosts them with ``component_provider_host`` (``pulumi package add
<repo>/provider``); ``package_schema()`` builds the same schema offline, for tests and docs.

Pulumi's analyzer (``pulumi.provider.experimental.analyzer``) reads each component's ``args``
annotation, the Args class and the component's annotated attributes (over the MRO). Four things in
our classes stop it, and :func:`schema_view` bridges them while the analyzer and the provider run:

- a component's Args is a pydantic model (``components/core/args.py``), which the analyzer does
  not read (it walks annotations over the MRO and parses field docstrings from the class source):
  :func:`typed_dict_of` gives it an equivalent TypedDict of the same name (``Required`` for
  required fields, nested models as their own TypedDicts) and the view answers the analyzer's
  ``get_docstring`` with each field's pydantic description. Each primitive default becomes the
  property's ``default`` in the schema. (A hand-written TypedDict Args is read as it is.)
- the analyzer knows plain types, lists, dicts, ``Optional``, ``pulumi.Input``/``Output``, resources
  and classes: :func:`_plain` drops ``Annotated`` metadata (constraints, validators), reads
  ``Literal`` as the type of its values and ``X | Output[X]`` as ``pulumi.Input[X]``;
- the modules use ``from __future__ import annotations``, so annotations are strings the analyzer
  does not evaluate: we resolve them (``typing.get_type_hints``), in each class of the MRO
  (``EksCluster`` inherits its outputs from ``EksClusterBase``);
- some fields hold Python objects another language cannot pass or read: another component, a
  contract protocol (``store: ObjectStoreLike``, ``gpu_pool: NodePool``) or bare ``pulumi.Resource``
  lists. They are left out of the schema; :func:`python_only_fields` lists them and each
  component's description names them.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import pkgutil
import sys
import types
import typing
from collections import abc
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Annotated, Any, Literal, get_args, get_origin, is_typeddict

import pulumi
import pulumi.output
from pydantic import BaseModel

from components.core.args import declaring_classes
from components.core.args import field_descriptions as model_field_descriptions

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
    "MetricsServer": "components.cluster.metrics_server",
    "KServe": "components.serving.kserve",
    "Keda": "components.serving.keda",
    "KubeRayOperator": "components.compute.kuberay_operator",
    "IngressGateway": "components.serving.ingress_gateway",
}
"""Component class name -> module, in the package."""


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


# ``cls`` and the classes it inherits annotated attributes from, base first (``EksCluster`` gets its
# outputs from ``EksClusterBase``; the analyzer walks the MRO the same way).
bases = declaring_classes


def own_annotations(cls: type) -> dict[str, Any]:
    """``cls``'s own annotations (not its bases'), evaluated; ``Required[...]`` is kept."""
    own = SimpleNamespace(__annotations__=dict(cls.__dict__.get("__annotations__", {})))
    return typing.get_type_hints(own, globalns=vars(sys.modules[cls.__module__]), localns=_namespace(), include_extras=True)


def class_annotations(cls: type) -> dict[str, Any]:
    """``cls``'s annotations, its bases' included (see :func:`bases`), evaluated; ``Required[...]`` is kept."""
    merged: dict[str, Any] = {}
    for c in bases(cls):
        merged.update(own_annotations(c))
    return {k: v for k, v in merged.items() if not k.startswith("_")}


def args_model(component: type[pulumi.ComponentResource]) -> type:
    """The Args class of ``__init__(self, name, args: XArgs | Mapping[str, Any], opts)``: a pydantic
    model, or (until its component is converted) a TypedDict."""
    init = component.__init__
    hints = typing.get_type_hints(init, globalns=init.__globals__, localns=_namespace(), include_extras=True)
    classes = [
        a
        for a in (get_args(hints["args"]) or (hints["args"],))
        if a is not type(None) and get_origin(a) not in (abc.Mapping, dict) and a not in (abc.Mapping, dict)
    ]
    if len(classes) != 1 or not (is_typeddict(classes[0]) or is_model(classes[0])):
        raise TypeError(f"{component.__name__}.__init__: args must be one pydantic model or TypedDict, got {hints['args']}")
    return classes[0]


def args_class(component: type[pulumi.ComponentResource]) -> type:
    """The Args as the analyzer reads it: the TypedDict, or the one :func:`typed_dict_of` makes of the model."""
    cls = args_model(component)
    return typed_dict_of(cls) if is_model(cls) else cls


def is_model(cls: Any) -> bool:
    return inspect.isclass(cls) and issubclass(cls, BaseModel)


_MODELS: dict[type, type[BaseModel]] = {}
"""TypedDict made by :func:`typed_dict_of` -> its model."""


def model_of(cls: type) -> type[BaseModel] | None:
    """The pydantic model a TypedDict stands for, or None for a hand-written TypedDict."""
    return _MODELS.get(cls)


def _plain(t: Any) -> Any:
    """``t`` as the analyzer can read it: ``Annotated`` metadata dropped, ``Literal`` as the type
    of its values, ``X | Output[X]`` as ``pulumi.Input[X]``, pydantic models as their TypedDicts."""
    origin, args = get_origin(t), get_args(t)
    if origin is Annotated:
        return _plain(args[0])
    if origin is Literal:
        kinds = {type(v) for v in args}
        if len(kinds) != 1:
            raise TypeError(f"Literal{list(args)} mixes types; the schema needs one")
        return kinds.pop()
    if is_model(t):
        return typed_dict_of(t)
    if origin is None or not args:
        return t
    plain = tuple(_plain(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        unique = list(dict.fromkeys(plain))
        inner = {get_args(a)[0] for a in unique if get_origin(a) in (pulumi.Output, abc.Awaitable)}
        values = {a for a in unique if get_origin(a) not in (pulumi.Output, abc.Awaitable) and a is not type(None)}
        if len(inner) == 1 and values <= inner and any(get_origin(a) is pulumi.Output for a in unique):
            # A value or an Output of one: what ``pulumi.Input[X]`` says (the analyzer reads that form).
            value = pulumi.Input[inner.pop()]  # type: ignore[index]
            return typing.Optional[value] if type(None) in unique else value  # noqa: UP045
        return unique[0] if len(unique) == 1 else typing.Union[tuple(unique)]  # noqa: UP007
    try:
        return origin[plain]
    except TypeError:
        return t.copy_with(plain)


@functools.cache
def typed_dict_of(model: type[BaseModel]) -> type:
    """A TypedDict with ``model``'s name, module, docstring and fields (``Required`` where the
    model has no default): what the analyzer reads in place of the model."""
    fields = {
        name: typing.Required[_plain(info.annotation)] if info.is_required() else _plain(info.annotation)
        for name, info in model.model_fields.items()
    }
    td = typing.TypedDict(model.__name__, fields, total=False)  # type: ignore[operator]
    td.__module__, td.__qualname__, td.__doc__ = model.__module__, model.__qualname__, model.__doc__
    _MODELS[td] = model
    return td


def field_descriptions(cls: type) -> dict[str, str]:
    """Field -> description of a model or of the TypedDict made of one (``{}`` for others)."""
    model = cls if is_model(cls) else model_of(cls)
    if model is None:
        return {}
    return model_field_descriptions(model)


SCHEMA_DEFAULT_TYPES = (bool, int, float, str)
"""Defaults the schema can state (its ``default`` takes primitives only)."""


def schema_defaults(cls: type) -> dict[str, Any]:
    """Field -> default, for the fields of a model (or its TypedDict) whose default is a primitive."""
    model = cls if is_model(cls) else model_of(cls)
    if model is None:
        return {}
    return {
        name: info.default
        for name, info in model.model_fields.items()
        if not info.is_required() and info.default_factory is None and type(info.default) in SCHEMA_DEFAULT_TYPES
    }


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
    """TypedDicts (also those made of models) and dataclasses of ``components`` that ``t`` mentions
    (the analyzer follows them)."""
    return [
        leaf
        for leaf in _leaves(t)
        if inspect.isclass(leaf)
        and (
            model_of(leaf) is not None
            or (leaf.__module__.startswith("components.") and (is_typeddict(leaf) or hasattr(leaf, "__dataclass_fields__")))
        )
    ]


def python_only(owner: type, field: str, t: Any) -> str | None:
    """Why ``owner.field`` (of type ``t``) cannot be expressed in the schema, or None."""
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
    """The component's description in the schema: its module's docstring when that introduces the
    component (``EksCluster: ...``), else the class docstring; and which inputs only Python programs
    can pass."""
    module_doc = inspect.cleandoc(sys.modules[component.__module__].__doc__ or "")
    about_it = module_doc.startswith(f"{component.__name__}:")  # the module introduces the component for its users
    doc = module_doc if about_it else inspect.cleandoc(component.__doc__ or "") or module_doc
    args = args_class(component)
    hidden = {f: t for f, t in class_annotations(args).items() if python_only(args, f, t)}
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
        self.descriptions: dict[type, dict[str, str]] = {}
        """TypedDict made of a model -> its fields' descriptions (what the analyzer's ``get_docstring`` answers)."""
        self.defaults: dict[tuple[str, str], dict[str, Any]] = {}
        """(schema section, type token) -> property -> default, for :func:`add_defaults`."""
        self._saved: list[tuple[Any, str, Any]] = []
        self.provider: Any = None
        """Pulumi's ComponentProvider class, stating the defaults (``view.provider(classes, PACKAGE, version=...)``)."""

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

    def add_defaults(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` with each input's primitive default stated (``default``), where the input is in it."""
        for (section, token), defaults in self.defaults.items():
            spec = schema.get(section, {}).get(token)
            if spec is None:
                continue
            properties = spec["inputProperties" if section == "resources" else "properties"]
            for name, value in defaults.items():
                if name in properties:
                    properties[name]["default"] = value
        return schema


@contextmanager
def schema_view(classes: list[type[pulumi.ComponentResource]] | None = None) -> Iterator[_View]:
    """While open, the component classes show the analyzer evaluated annotations without the
    Python-only fields (pydantic Args as TypedDicts whose field docstrings are the models'
    descriptions), and their descriptions say what is left out; on exit they are as before."""
    from pulumi.provider.experimental import analyzer
    from pulumi.provider.experimental import host as pulumi_host
    from pulumi.provider.experimental.component import ComponentProvider
    from pulumi.provider.experimental.util import camel_case

    classes = classes or component_classes()
    view = _View()
    seen: set[type] = set()

    originals: dict[type, dict[str, Any]] = {}

    def original(cls: type) -> dict[str, Any]:
        """``cls``'s own annotations as they were before the view changed any class."""
        if cls not in originals:
            originals[cls] = {k: v for k, v in own_annotations(cls).items() if not k.startswith("_")}
        return originals[cls]

    def expose_own(cls: type) -> None:
        """Give ``cls`` its own annotations evaluated and readable, without the Python-only fields."""
        if cls in seen:
            return
        seen.add(cls)
        kept = {}
        for field, t in original(cls).items():
            if python_only(cls, field, t):
                continue
            kept[field] = _plain(t)
            for nested in _nested(t):
                expose(nested)
                if model_of(nested) is not None:
                    view.defaults["types", f"{PACKAGE}:index:{nested.__name__}"] = {
                        camel_case(k): v for k, v in schema_defaults(nested).items()
                    }
        if model_of(cls) is not None:
            view.descriptions[cls] = field_descriptions(cls)
        view.set(cls, "__annotations__", kept)

    def expose(cls: type) -> None:
        """Expose ``cls`` and the classes it inherits attributes from; name its Python-only fields."""
        if cls in seen:
            return
        for field, t in {k: v for base in bases(cls) for k, v in original(base).items()}.items():
            reason = python_only(cls, field, t)
            if reason:
                view.hidden[f"{cls.__name__}.{field}"] = reason
        for base in bases(cls):
            expose_own(base)

    get_docstring = analyzer.Analyzer.get_docstring

    def docstring(self: analyzer.Analyzer, typ: type, name: str) -> str | None:
        """The field's description (models), or the docstring under the attribute in the class
        that declares it (the analyzer looks in ``typ``'s own source only)."""
        if typ in view.descriptions:
            return view.descriptions[typ].get(name)
        for cls in reversed(bases(typ)) if inspect.isclass(typ) else [typ]:
            if name in originals.get(cls, {}) or cls is typ:
                found = get_docstring(self, cls, name)
                if found is not None:
                    return found
        return None

    class Provider(ComponentProvider):
        """Pulumi's component provider, with the inputs' defaults in its schema."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.schema = json.dumps(view.add_defaults(json.loads(self.schema or "{}")))

    try:
        view.set(analyzer.Analyzer, "get_docstring", docstring)
        view.set(pulumi_host, "ComponentProvider", Provider)
        view.provider = Provider
        for component in classes:
            args, description = args_class(component), schema_description(component)
            expose(args)
            expose(component)
            view.defaults["resources", f"{PACKAGE}:index:{component.__name__}"] = {
                camel_case(k): v for k, v in schema_defaults(args).items()
            }
            view.set(component.__init__, "__annotations__", {**component.__init__.__annotations__, "args": args})
            view.set(component, "__doc__", description)
        yield view
    finally:
        view.restore()


def package_schema() -> dict[str, Any]:
    """The package schema ``pulumi package add`` gets, built offline by Pulumi's own analyzer."""
    with schema_view() as view:
        provider = view.provider(component_classes(), PACKAGE, version=VERSION)
    return json.loads(provider.schema)


def host(argv: list[str] | None = None) -> None:
    """Serve the components to the Pulumi engine (the plugin's entry point)."""
    from pulumi.provider.experimental import component_provider_host

    if argv is not None:
        sys.argv[1:] = argv
    with schema_view() as _:
        component_provider_host(component_classes(), PACKAGE, version=VERSION)
