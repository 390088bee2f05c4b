"""Kubernetes rules: privileged containers, requests and limits, pinned images, hostPath volumes.

Kubernetes objects reach policies as resources of type ``kubernetes:<group>/<version>:<Kind>`` with
the object as inputs. Containers are found wherever a workload keeps them: ``containers``,
``initContainers`` and ``ephemeralContainers`` lists at any depth (Pods, Deployments, Jobs, CronJobs,
RayCluster groups, InferenceService components, ServingRuntimes), plus the container-shaped fields
of a few custom resources (``CONTAINER_FIELDS``).

A Helm release (``kubernetes:helm.sh/v3:Release``) renders its objects inside the provider, so
policies never see them: for releases we check what the program decides, namely that the chart
version is exact and that every image set in the values is pinned.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from .common import get, is_list, option, resource_policy

NOT_OBJECTS = ("kubernetes:helm.sh/", "kubernetes:yaml/", "kubernetes:kustomize/")
HELM_RELEASE = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")

# Namespaces whose pods may run privileged or mount host paths: the GPU Operator (driver, toolkit,
# device plugin and DCGM run privileged on every GPU node) and the node exporter (reads /proc, /sys).
PRIVILEGED_NAMESPACES = ["gpu-operator"]
HOST_PATH_NAMESPACES = ["gpu-operator", "monitoring-node-exporter"]

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
# Fields that hold one container-shaped object, per kind (besides the container lists).
KSERVE_MODELS = (
    "model",
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "huggingface",
    "pmml",
    "lightgbm",
    "paddle",
    "art",
)
CONTAINER_FIELDS = {
    "InferenceService": KSERVE_MODELS,
    "RayCluster": ("autoscalerOptions",),
    "RayService": ("autoscalerOptions",),
    "RayJob": ("autoscalerOptions",),
    "EnvoyProxy": ("container",),
}
RESOURCE_KEYS = ("requests", "limits")
RESOURCE_NAMES = ("cpu", "memory")
EXACT_CHART_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$")


def is_object(resource_type: str) -> bool:
    """Whether a resource type is a Kubernetes object (every ``kubernetes:`` type but Helm, YAML, Kustomize)."""
    return resource_type.startswith("kubernetes:") and not resource_type.startswith(NOT_OBJECTS)


def kind_of(resource_type: str) -> str:
    return resource_type.rsplit(":", 1)[-1]


def namespace_of(args: ResourceValidationArgs) -> str | None:
    return get(args.props, "metadata", "namespace")


def containers(args: ResourceValidationArgs) -> Iterator[tuple[str, Mapping]]:
    """(path, container) of every container the object declares."""
    fields = CONTAINER_FIELDS.get(kind_of(args.resource_type), ())

    def walk(node: Any, path: str) -> Iterator[tuple[str, Mapping]]:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in CONTAINER_LISTS and is_list(value):
                    yield from ((f"{path}.{key}[{i}]", c) for i, c in enumerate(value) if isinstance(c, Mapping))
                elif key in fields and isinstance(value, Mapping):
                    yield f"{path}.{key}", value
                yield from walk(value, f"{path}.{key}")
        elif is_list(node):
            for i, item in enumerate(node):
                yield from walk(item, f"{path}[{i}]")

    for key, value in args.props.items():
        if key != "metadata":
            yield from walk(value, key)


def _label(path: str, container: Mapping) -> str:
    name = container.get("name")
    return f"container '{name}' ({path})" if name else path


def image_problem(image: str) -> str | None:
    """Why ``image`` is not pinned, or None: a digest or a tag other than ``latest`` pins it."""
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag"
    if last.rsplit(":", 1)[1] in ("", "latest"):
        return "uses the 'latest' tag"
    return None


# ---- Kubernetes objects ------------------------------------------------------------------------


@resource_policy(
    "k8s-no-privileged-containers",
    "No privileged container outside the allowed namespaces (default: the GPU Operator's).",
    is_object,
    config={"allowedNamespaces": {"type": "array", "items": {"type": "string"}, "default": PRIVILEGED_NAMESPACES}},
)
def k8s_no_privileged_containers(args: ResourceValidationArgs, report: ReportViolation) -> None:
    namespace = namespace_of(args)
    if namespace in option(args, "allowedNamespaces", PRIVILEGED_NAMESPACES):
        return
    for path, container in containers(args):
        if get(container, "securityContext", "privileged") is True:
            report(
                f"{kind_of(args.resource_type)} '{args.name}': {_label(path, container)} is privileged in namespace {namespace!r}", args.urn
            )


@resource_policy(
    "k8s-requests-and-limits",
    "Every container sets cpu and memory requests and limits.",
    is_object,
)
def k8s_requests_and_limits(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for path, container in containers(args):
        missing = [f"{k}.{n}" for k in RESOURCE_KEYS for n in RESOURCE_NAMES if get(container, "resources", k, n) is None]
        if missing:
            report(
                f"{kind_of(args.resource_type)} '{args.name}': {_label(path, container)} has no resources {', '.join(missing)}", args.urn
            )


@resource_policy(
    "k8s-image-pinned",
    "Every container image has a tag other than 'latest', or a digest.",
    is_object,
)
def k8s_image_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for path, container in containers(args):
        image = container.get("image")
        if isinstance(image, str) and (why := image_problem(image)):
            report(f"{kind_of(args.resource_type)} '{args.name}': {_label(path, container)} image {image!r} {why}", args.urn)


@resource_policy(
    "k8s-no-host-path",
    "No hostPath volume outside the allowed namespaces (default: the GPU Operator's and the node exporter's).",
    is_object,
    config={"allowedNamespaces": {"type": "array", "items": {"type": "string"}, "default": HOST_PATH_NAMESPACES}},
)
def k8s_no_host_path(args: ResourceValidationArgs, report: ReportViolation) -> None:
    namespace = namespace_of(args)
    if namespace in option(args, "allowedNamespaces", HOST_PATH_NAMESPACES):
        return
    kind = kind_of(args.resource_type)
    if kind == "PersistentVolume" and get(args.props, "spec", "hostPath"):
        report(f"PersistentVolume '{args.name}' is a hostPath volume", args.urn)

    def walk(node: Any, path: str) -> Iterator[str]:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "volumes" and is_list(value):
                    for i, volume in enumerate(value):
                        if isinstance(volume, Mapping) and volume.get("hostPath"):
                            yield f"{path}.volumes[{i}] ('{volume.get('name')}' -> {get(volume, 'hostPath', 'path')})"
                yield from walk(value, f"{path}.{key}")
        elif is_list(node):
            for i, item in enumerate(node):
                yield from walk(item, f"{path}[{i}]")

    for found in walk(args.props.get("spec"), "spec"):
        report(f"{kind} '{args.name}': hostPath volume {found} in namespace {namespace!r}", args.urn)


# ---- Helm releases -----------------------------------------------------------------------------


def value_images(values: Any, path: str = "values") -> Iterator[tuple[str, str]]:
    """(path, image reference) of every image the values set: an ``image``/``*Image`` string, or an
    image map's ``repository`` with its ``tag``/``digest``. A repository without tag or digest keeps
    the chart's own tag, which the pinned chart version fixes, so it is not reported."""
    if isinstance(values, Mapping):
        tag, digest = values.get("tag"), values.get("digest")
        suffix = (f":{tag}" if tag not in (None, "") else "") + (f"@{digest}" if digest else "")
        for key, value in values.items():
            if isinstance(value, str) and (key == "image" or key.endswith("Image")):
                yield f"{path}.{key}", value + suffix
            elif key == "repository" and isinstance(value, str) and (suffix or ":" in value.rsplit("/", 1)[-1]):
                yield f"{path}.{key}", value + suffix
            else:
                yield from value_images(value, f"{path}.{key}")
    elif is_list(values):
        for i, item in enumerate(values):
            yield from value_images(item, f"{path}[{i}]")


@resource_policy(
    "helm-release-pinned",
    "Helm releases pin an exact chart version, and every image their values set is pinned (no 'latest', no untagged image).",
    HELM_RELEASE,
)
def helm_release_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    chart, version = str(args.props.get("chart") or ""), args.props.get("version")
    local_chart = chart.startswith((".", "/"))
    if not local_chart and not EXACT_CHART_VERSION.match(str(version or "")):
        report(f"Helm release '{args.name}' of chart {chart!r} has no exact chart version (version {version!r})", args.urn)
    for path, image in value_images(args.props.get("values")):
        if why := image_problem(image):
            report(f"Helm release '{args.name}': {path} image {image!r} {why}", args.urn)


POLICIES = [
    k8s_no_privileged_containers,
    k8s_requests_and_limits,
    k8s_image_pinned,
    k8s_no_host_path,
    helm_release_pinned,
]
