"""Strict schema validation of rendered Kubernetes objects, for the test suite.

Objects whose API group is defined by an upstream CRD in ``CRDS_DIR`` (upstream/crds) are checked
against that CRD's ``openAPIV3Schema``; everything else is checked against the
built-in Kubernetes schemas shipped with ``kubernetes-validate`` (strict mode).
Nothing is read at import time; CRD files are parsed once, on first use.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate import utils as _kv_utils
from kubernetes_validate.utils import VersionNotSupportedError

from tests.upstream import CRDS_DIR

# The API server validates ObjectMeta itself (CRD schemas only say "type: object"),
# so we check the fields our renderers set.
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA_FIELDS = {
    "name": {"type": "string", "minLength": 1},
    "namespace": {"type": "string"},
    "labels": _STRING_MAP,
    "annotations": _STRING_MAP,
}
_EMBEDDED_METADATA = {"type": "object", "properties": _METADATA_FIELDS}
_ROOT_METADATA = {**_EMBEDDED_METADATA, "required": ["name"]}

# Go's RE2 accepts inline flags anywhere (prometheus-operator uses "^(?i)(abort|warn)?$");
# Python 3.11+ rejects global flags that are not at the start of the pattern.
_INLINE_FLAGS = re.compile(r"\(\?([ims]+)\)")


def known_custom_groups() -> set[str]:
    """API groups defined by the vendored upstream CRDs."""
    return {group for group, _version, _kind in _crd_schemas()}


def validate_object(obj: dict, kubernetes_version: str) -> list[str]:
    """Return human-readable schema errors for ``obj``; an empty list means valid."""
    if not isinstance(obj, dict):
        return [f"$: expected a mapping, got {type(obj).__name__}"]
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return ["$: apiVersion and kind must both be set to strings"]
    group, _, version = api_version.rpartition("/")
    if group in known_custom_groups():
        return _validate_custom(obj, group, version, kind)
    return _validate_builtin(obj, kubernetes_version)


# --- custom resources -------------------------------------------------------------


def _validate_custom(obj: dict, group: str, version: str, kind: str) -> list[str]:
    validator = _crd_validator(group, version, kind)
    if validator is None:
        return [f"$: no schema for {kind} in {group}/{version} among the CRDs in {CRDS_DIR}"]
    errors = sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
    return [_format_error(e) for e in errors]


FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the CRDs are ~8 MB of YAML


def yaml_documents(path: Path) -> list:
    """The non-empty YAML documents of ``path``, parsed with libyaml where PyYAML has it."""
    with path.open() as fh:
        return [doc for doc in yaml.load_all(fh, Loader=FAST_LOADER) if doc]


@functools.cache  # = lru_cache(maxsize=None): parse the CRD files once
def _crd_schemas() -> dict[tuple[str, str, str], dict]:
    """(group, version, kind) -> openAPIV3Schema, for every served CRD version."""
    schemas = {}
    paths = sorted(CRDS_DIR.glob("*.yaml"))
    if not paths:
        raise FileNotFoundError(f"no CRDs in {CRDS_DIR}: run tools/refresh_upstream.py")
    documents = [doc for path in paths for doc in yaml_documents(path)]
    for doc in (d for d in documents if d.get("kind") == "CustomResourceDefinition"):
        spec = doc["spec"]
        for ver in spec["versions"]:
            schema = ver.get("schema", {}).get("openAPIV3Schema")
            if ver.get("served", True) and schema:
                schemas[(spec["group"], ver["name"], spec["names"]["kind"])] = schema
    return schemas


@functools.cache  # one converted schema per (group, version, kind)
def _crd_validator(group: str, version: str, kind: str) -> jsonschema.Draft202012Validator | None:
    schema = _crd_schemas().get((group, version, kind))
    return None if schema is None else _root_validator(schema)


def installed_crd_validators(crds: Iterable[dict]) -> dict[tuple[str, str, str], jsonschema.Draft202012Validator]:
    """(group, version, kind) -> validator, for every served version of ``crds`` (CRD objects a stack installs)."""
    validators = {}
    for crd in crds:
        spec = crd["spec"]
        for ver in spec["versions"]:
            schema = ver.get("schema", {}).get("openAPIV3Schema")
            if ver.get("served", True) and schema:
                validators[(spec["group"], ver["name"], spec["names"]["kind"])] = _root_validator(schema)
    return validators


def validate_installed(
    obj: dict, kubernetes_version: str, validators: dict[tuple[str, str, str], jsonschema.Draft202012Validator]
) -> list[str]:
    """Like :func:`validate_object`, but a custom resource whose CRD is among ``validators``
    (:func:`installed_crd_validators`) is checked against that CRD, the one the cluster will have."""
    group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
    validator = validators.get((group, version, str(obj.get("kind", ""))))
    if validator is None:
        return validate_object(obj, kubernetes_version)
    errors = sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
    return [_format_error(e) for e in errors]


def _root_validator(schema: dict) -> jsonschema.Draft202012Validator:
    root = _to_json_schema(schema)
    # The root always carries apiVersion/kind/metadata, whatever the CRD declares.
    root["properties"] = {
        **root.get("properties", {}),
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": _ROOT_METADATA,
    }
    root["required"] = sorted({*root.get("required", []), "apiVersion", "kind", "metadata"})
    return jsonschema.Draft202012Validator(root)


def _to_json_schema(node: dict, in_junctor: bool = False) -> dict:
    """Convert a structural OpenAPI v3 schema node to JSON Schema, strictly."""
    out = {k: v for k, v in node.items() if not k.startswith("x-kubernetes-") and k != "nullable"}
    if "properties" in node:
        out["properties"] = {k: _to_json_schema(v, in_junctor) for k, v in node["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            out[key] = _to_json_schema(node[key], in_junctor)
    for key in ("allOf", "anyOf", "oneOf"):
        if key in node:
            out[key] = [_to_json_schema(s, in_junctor=True) for s in node[key]]
    if "not" in node:
        out["not"] = _to_json_schema(node["not"], in_junctor=True)
    if "pattern" in node:
        out["pattern"] = _python_pattern(node["pattern"])

    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
    if node.get("x-kubernetes-embedded-resource"):
        _allow_embedded_resource(out)
    # Fields the schema does not declare are pruned by the API server, so they are
    # errors here. Junctor branches only add value checks on declared fields, so they
    # stay open. (A bare "type: object" also prunes everything, hence strict too.)
    is_object = out.get("type") == "object" or "properties" in out
    if is_object and "additionalProperties" not in out and not in_junctor:
        out["additionalProperties"] = bool(node.get("x-kubernetes-preserve-unknown-fields"))
    if node.get("nullable"):
        _allow_null(out)
    return out


def _allow_embedded_resource(out: dict) -> None:
    # An embedded resource implicitly has apiVersion, kind (both required) and metadata.
    out["properties"] = {
        **out.get("properties", {}),
        "apiVersion": {"type": "string", "minLength": 1},
        "kind": {"type": "string", "minLength": 1},
        "metadata": _EMBEDDED_METADATA,
    }
    out["required"] = sorted({*out.get("required", []), "apiVersion", "kind"})


def _allow_null(out: dict) -> None:
    if "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]


def _python_pattern(pattern: str) -> str:
    # Hoisting the flags widens a mid-pattern (?i) to the whole pattern: close enough.
    flags = "".join(_INLINE_FLAGS.findall(pattern))
    return f"(?{flags}){_INLINE_FLAGS.sub('', pattern)}" if flags else pattern


# --- built-in kinds -------------------------------------------------------------

# kubernetes-validate reads and parses its 1.5 MB _definitions.json on every validate() call (utils.py
# schema_contents, 1.37.0): parse each schema file once per process (it only reads the parsed schemas).
if not hasattr(_kv_utils.schema_contents, "cache_info"):
    _kv_utils.schema_contents = functools.cache(_kv_utils.schema_contents)


def _validate_builtin(obj: dict, kubernetes_version: str) -> list[str]:
    # kubernetes-validate raises on the first error only, so this yields at most one.
    try:
        kubernetes_validate.validate(obj, kubernetes_version, strict=True)
    except kubernetes_validate.ValidationError as err:
        return [_format_error(err)]
    except kubernetes_validate.SchemaNotFoundError as err:
        # A kind we cannot check is not valid: it may be a typo or a CRD missing from upstream/crds.
        return [f"$: no schema: {err.message}"]
    except (VersionNotSupportedError, kubernetes_validate.InvalidSchemaError) as err:
        return [f"$: {err.message}"]
    return []


def _format_error(err: jsonschema.ValidationError) -> str:
    return f"{_json_path(err.absolute_path)}: {err.message}"


def _json_path(parts: Iterable[str | int]) -> str:
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            path += f".{part}"
        else:
            path += f"[{part!r}]"  # e.g. annotation keys such as 'prometheus.io/port'
    return path
