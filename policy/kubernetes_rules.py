"""Kubernetes rules: the Pod Security `restricted` fields, requests and limits, pinned images,
exposure outside the cluster, namespace isolation, and Helm release values.

Kubernetes objects reach policies as resources of type ``kubernetes:<group>/<version>:<Kind>`` with
the object as inputs. Containers are found wherever a workload keeps them: ``containers``,
``initContainers`` and ``ephemeralContainers`` lists at any depth (Pods, Deployments, Jobs, CronJobs,
RayCluster groups, InferenceService components, ServingRuntimes), plus the container-shaped fields
of a few custom resources (``CONTAINER_FIELDS``). Pod security exceptions are per workload and
field (``POD_SECURITY_EXEMPTIONS``), never per namespace.

A Helm release (``kubernetes:helm.sh/v3:Release``) renders its objects inside the provider, so under
the engine policies never see them: for releases we check what the program decides (exact chart
version, pinned images, no credentials, no privileged settings, no exposed Service types in the
values). ``python -m policy.offline`` also runs these policies over the objects the pinned charts
render (``policy.offline.chart_objects``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs

from .common import as_list, get, is_list, known, option, plain, resource_policy, stack_policy

NOT_OBJECTS = ("kubernetes:helm.sh/", "kubernetes:yaml/", "kubernetes:kustomize/")
HELM_RELEASE = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
NAMESPACE = "kubernetes:core/v1:Namespace"

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


def pod_containers(args: ResourceValidationArgs) -> Iterator[tuple[str, Mapping, Mapping]]:
    """(path, container, pod) of every container the object declares; ``pod`` is the mapping that
    holds it (a pod spec, or the component of a custom resource), whose ``securityContext`` applies."""
    fields = CONTAINER_FIELDS.get(kind_of(args.resource_type), ())

    def walk(node: Any, path: str) -> Iterator[tuple[str, Mapping, Mapping]]:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in CONTAINER_LISTS and is_list(value):
                    yield from ((f"{path}.{key}[{i}]", c, node) for i, c in enumerate(value) if isinstance(c, Mapping))
                elif key in fields and isinstance(value, Mapping):
                    yield f"{path}.{key}", value, node
                yield from walk(value, f"{path}.{key}")
        elif is_list(node):
            for i, item in enumerate(node):
                yield from walk(item, f"{path}[{i}]")

    for key, value in args.props.items():
        if key != "metadata":
            yield from walk(value, key)


def containers(args: ResourceValidationArgs) -> Iterator[tuple[str, Mapping]]:
    """(path, container) of every container the object declares."""
    return ((path, container) for path, container, _ in pod_containers(args))


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
    "k8s-image-pinned",
    "Every container image has a tag other than 'latest', or a digest.",
    is_object,
)
def k8s_image_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for path, container in containers(args):
        image = container.get("image")
        if isinstance(image, str) and (why := image_problem(image)):
            report(f"{kind_of(args.resource_type)} '{args.name}': {_label(path, container)} image {image!r} {why}", args.urn)


# ---- Pod Security: the `restricted` profile's fields ------------------------------------------
# (Kubernetes "Pod Security Standards", restricted: no privileged containers, host namespaces,
# hostPath volumes or added capabilities but NET_BIND_SERVICE; runAsNonRoot true and no uid 0;
# allowPrivilegeEscalation false.)


@dataclass(frozen=True)
class Exemption:
    """One workload allowed some fields of the restricted profile (or to go without ``resources``), and why."""

    kind: str
    namespace: str
    name: str
    fields: tuple[str, ...]
    why: str


NO_SECURITY_CONTEXT = "its chart template sets no securityContext and has no value for one"
# Kept small: each entry is one workload of a rendered chart (``python -m policy.offline <stack>`` runs the
# pod security policies over the charts' objects too) and the fields it needs, with the reason.
POD_SECURITY_EXEMPTIONS = (
    Exemption("DaemonSet", "monitoring-node-exporter", "observability-prometheus-node-exporter", ("hostNetwork", "hostPID", "hostPath"),
              "node metrics come from the host's network interfaces, /proc and /sys (prometheus-node-exporter values.yaml: "
              "hostNetwork and hostPID true); its namespace is the only other privileged one"),
    Exemption("DaemonSet", "gpu-operator", "gpu-operator-node-feature-discovery-worker", ("hostPath",),
              "node-feature-discovery reads the host's /boot, /sys, /lib and os-release to label GPU nodes, which the "
              "GPU Operator schedules its daemonsets by"),
    Exemption("Deployment", "gpu-operator", "gpu-operator", ("runAsNonRoot", "allowPrivilegeEscalation"),
              f"gpu-operator v26.7.0: {NO_SECURITY_CONTEXT} (templates/operator.yaml)"),
    Exemption("Job", "gpu-operator", "gpu-operator-upgrade-crd", ("runAsNonRoot", "allowPrivilegeEscalation", "resources"),
              f"gpu-operator v26.7.0 pre-upgrade hook: {NO_SECURITY_CONTEXT} or resources (templates/upgrade_crd.yaml)"),
    Exemption("Job", "gpu-operator", "gpu-operator-cleanup-gpucluster", ("runAsNonRoot", "allowPrivilegeEscalation", "resources"),
              f"gpu-operator v26.7.0 pre-delete hook: {NO_SECURITY_CONTEXT} or resources (templates/cleanup_gpucluster.yaml)"),
)  # fmt: skip

RESTRICTED_ADDABLE_CAPABILITIES = ("NET_BIND_SERVICE",)
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
# Kinds whose pod template becomes pods as written: Pod Security admission judges them as they are, so
# an unset field fails it. A custom resource's controller builds its pods and may set fields itself.
BUILT_IN_WORKLOADS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob")


def _exemption_config(*fields: str) -> dict[str, Any]:
    """The ``exemptions`` option of a policy judging ``fields``: the entries that name one of them."""
    default = [{**asdict(e), "fields": list(e.fields)} for e in POD_SECURITY_EXEMPTIONS if set(e.fields) & set(fields)]
    text = {"type": "string"}
    item = {
        "type": "object",
        "properties": {"kind": text, "namespace": text, "name": text, "fields": {"type": "array", "items": text}, "why": text},
        "required": ["kind", "namespace", "name", "fields", "why"],
    }
    return {"exemptions": {"type": "array", "items": item, "default": default}}


def exempt(args: ResourceValidationArgs, field: str) -> bool:
    """Whether the policy's ``exemptions`` allow this workload ``field``."""
    workload = (kind_of(args.resource_type), namespace_of(args) or "", get(args.props, "metadata", "name", default=args.name))
    entries = option(args, "exemptions", [])
    return any((e.get("kind"), e.get("namespace"), e.get("name")) == workload and field in (e.get("fields") or []) for e in entries)


@resource_policy(
    "k8s-requests-and-limits",
    "Every container sets cpu and memory requests and limits.",
    is_object,
    config=_exemption_config("resources"),
)
def k8s_requests_and_limits(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if exempt(args, "resources"):
        return
    for path, container in containers(args):
        missing = [f"{k}.{n}" for k in RESOURCE_KEYS for n in RESOURCE_NAMES if get(container, "resources", k, n) is None]
        if missing:
            report(
                f"{kind_of(args.resource_type)} '{args.name}': {_label(path, container)} has no resources {', '.join(missing)}", args.urn
            )


def _where(args: ResourceValidationArgs) -> str:
    return f"{kind_of(args.resource_type)} '{args.name}' (namespace {namespace_of(args)!r})"


def _setting(container: Mapping, pod: Mapping, key: str) -> Any:
    """A securityContext field as it applies to ``container``: its own, else the pod's."""
    own = get(container, "securityContext", key)
    return own if own is not None else get(pod, "securityContext", key)


@resource_policy(
    "k8s-no-privileged-containers",
    "No privileged container, except the exempted workloads (policy config 'exemptions').",
    is_object,
    config=_exemption_config("privileged"),
)
def k8s_no_privileged_containers(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if exempt(args, "privileged"):
        return
    for path, container in containers(args):
        if get(container, "securityContext", "privileged") is True:
            report(f"{_where(args)}: {_label(path, container)} is privileged", args.urn)


@resource_policy(
    "k8s-no-host-path",
    "No hostPath volume, except the exempted workloads (policy config 'exemptions').",
    is_object,
    config=_exemption_config("hostPath"),
)
def k8s_no_host_path(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if exempt(args, "hostPath"):
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
        report(f"{_where(args)}: hostPath volume {found}", args.urn)


def _host_namespaces(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field, path) of every hostNetwork/hostPID/hostIPC set true at any depth."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in HOST_NAMESPACES and value is True:
                yield key, f"{path}.{key}"
            yield from _host_namespaces(value, f"{path}.{key}")
    elif is_list(node):
        for i, item in enumerate(node):
            yield from _host_namespaces(item, f"{path}[{i}]")


@resource_policy(
    "k8s-no-host-namespaces",
    "No pod shares the host's network, PID or IPC namespace (hostNetwork, hostPID, hostIPC), except the exempted workloads.",
    is_object,
    config=_exemption_config(*HOST_NAMESPACES),
)
def k8s_no_host_namespaces(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for field, path in _host_namespaces(args.props.get("spec"), "spec"):
        if not exempt(args, field):
            report(f"{_where(args)}: {path} is true", args.urn)


@resource_policy(
    "k8s-no-added-capabilities",
    f"No container adds Linux capabilities other than {', '.join(RESTRICTED_ADDABLE_CAPABILITIES)}, except the exempted workloads.",
    is_object,
    config=_exemption_config("capabilities"),
)
def k8s_no_added_capabilities(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if exempt(args, "capabilities"):
        return
    for path, container in containers(args):
        added = [c for c in as_list(get(container, "securityContext", "capabilities", "add")) if c not in RESTRICTED_ADDABLE_CAPABILITIES]
        if added:
            report(f"{_where(args)}: {_label(path, container)} adds capabilities {added}", args.urn)


@resource_policy(
    "k8s-run-as-non-root",
    "No container runs as root: runAsUser is never 0, runAsNonRoot is never false, and built-in workloads set "
    "runAsNonRoot true (container or pod), except the exempted workloads.",
    is_object,
    config=_exemption_config("runAsNonRoot"),
)
def k8s_run_as_non_root(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if exempt(args, "runAsNonRoot"):
        return
    built_in = kind_of(args.resource_type) in BUILT_IN_WORKLOADS
    for path, container, pod in pod_containers(args):
        user, non_root = _setting(container, pod, "runAsUser"), _setting(container, pod, "runAsNonRoot")
        if user == 0:
            report(f"{_where(args)}: {_label(path, container)} runs as uid 0 (runAsUser)", args.urn)
        elif non_root is False or (built_in and non_root is not True):
            report(f"{_where(args)}: {_label(path, container)} may run as root: runAsNonRoot is {non_root!r}, not true", args.urn)


@resource_policy(
    "k8s-no-privilege-escalation",
    "No container allows privilege escalation: allowPrivilegeEscalation is never true, and false in built-in "
    "workloads, except the exempted workloads.",
    is_object,
    config=_exemption_config("allowPrivilegeEscalation"),
)
def k8s_no_privilege_escalation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if exempt(args, "allowPrivilegeEscalation"):
        return
    built_in = kind_of(args.resource_type) in BUILT_IN_WORKLOADS
    for path, container in containers(args):
        allowed = get(container, "securityContext", "allowPrivilegeEscalation")
        if allowed is True or (built_in and allowed is not False):
            report(f"{_where(args)}: {_label(path, container)} allowPrivilegeEscalation is {allowed!r}, not false", args.urn)


# ---- Exposure outside the cluster and namespace isolation --------------------------------------

EXPOSED_SERVICE_TYPES = ("LoadBalancer", "NodePort")
# Envoy Gateway makes each proxy Service a LoadBalancer unless the EnvoyProxy says otherwise
# (upstream/crds/gateway.envoyproxy.io_envoyproxies.yaml: envoyService.type "Defaults to LoadBalancer").
ENVOY_SERVICE_DEFAULT = "LoadBalancer"


def _exposed_values(values: Any, path: str = "values") -> Iterator[tuple[str, str]]:
    """(path, type) of every ``*service*.type`` in Helm values that exposes a Service outside the cluster."""
    if isinstance(values, Mapping):
        for key, value in values.items():
            if "service" in str(key).lower() and isinstance(value, Mapping) and value.get("type") in EXPOSED_SERVICE_TYPES:
                yield f"{path}.{key}.type", value["type"]
            yield from _exposed_values(value, f"{path}.{key}")
    elif is_list(values):
        for i, item in enumerate(values):
            yield from _exposed_values(item, f"{path}[{i}]")


@resource_policy(
    "k8s-no-external-services",
    "Nothing is exposed outside the cluster: no Service of type LoadBalancer or NodePort (also in Helm values), and "
    "gateway proxies (EnvoyProxy) stay ClusterIP unless the stack opts in (policy config 'exposeGatewayProxies', "
    "from kserve.ingressGateway.serviceType).",
    lambda t: is_object(t) or t in HELM_RELEASE,
    config={"exposeGatewayProxies": {"type": "boolean", "default": False}},
)
def k8s_no_external_services(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = kind_of(args.resource_type)
    if args.resource_type in HELM_RELEASE:
        for path, type_ in _exposed_values(args.props.get("values")):
            report(f"Helm release '{args.name}': {path} is {type_!r}, which exposes it outside the cluster", args.urn)
    elif kind == "Service" and (type_ := get(args.props, "spec", "type")) in EXPOSED_SERVICE_TYPES:
        report(f"{_where(args)} is of type {type_!r}, which exposes it outside the cluster", args.urn)
    elif kind == "EnvoyProxy" and not option(args, "exposeGatewayProxies", False):
        type_ = get(args.props, "spec", "provider", "kubernetes", "envoyService", "type", default=ENVOY_SERVICE_DEFAULT)
        if type_ in EXPOSED_SERVICE_TYPES:
            report(
                f"{_where(args)} gives the gateway proxies a {type_!r} Service (spec.provider.kubernetes.envoyService.type), "
                "but the stack does not opt in (kserve.ingressGateway.serviceType)",
                args.urn,
            )


PSA_LEVELS = ("privileged", "baseline", "restricted")
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"


def _denies_all(policy: PolicyResource) -> bool:
    """A NetworkPolicy that selects every pod and allows nothing in or out."""
    spec = policy.props.get("spec") or {}
    return (
        not plain(spec.get("podSelector"))
        and set(as_list(spec.get("policyTypes"))) >= {"Ingress", "Egress"}
        and not spec.get("ingress")
        and not spec.get("egress")
    )


@stack_policy(
    "k8s-namespace-isolated",
    f"Every namespace the stack creates has a Pod Security label ({PSA_ENFORCE}: {'|'.join(PSA_LEVELS)}) and a "
    "default-deny NetworkPolicy (every pod, Ingress and Egress, no rules).",
)
def k8s_namespace_isolated(args: StackValidationArgs, report: ReportViolation) -> None:
    denied = {
        known(r.props, "metadata", "namespace")
        for r in args.resources
        if is_object(r.resource_type) and kind_of(r.resource_type) == "NetworkPolicy" and _denies_all(r)
    }
    for namespace in args.resources:
        if namespace.resource_type != NAMESPACE:
            continue
        name = known(namespace.props, "metadata", "name", default=namespace.name)
        level = known(namespace.props, "metadata", "labels", PSA_ENFORCE)
        if level not in PSA_LEVELS:
            report(f"Namespace {name!r} has no Pod Security label {PSA_ENFORCE} (is {level!r})", namespace.urn)
        if name not in denied:
            report(f"Namespace {name!r} has no default-deny NetworkPolicy (podSelector {{}}, Ingress and Egress, no rules)", namespace.urn)


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


# A value under a key named like these is a credential (MinIO users[].secretKey, Grafana adminPassword, ...);
# ``existing*`` keys name a Secret or a key in one (MinIO users[].existingSecretKey).
CREDENTIAL_KEY = re.compile(r"^(?!existing).*(password|passwd|secretkey|secret_key|secretaccesskey)$", re.IGNORECASE)
# Published defaults, wherever they appear: MinIO's root user and password (its docs), the MinIO chart's
# console user's secretKey (minio 5.4.0 values.yaml), Grafana's admin password in older kube-prometheus-stack charts.
PUBLISHED_CREDENTIALS = ("minioadmin", "console123", "prom-operator")
# Values a chart needs set, or its own default credentials apply: chart name -> [(key, why)].
CHART_DEFAULT_CREDENTIALS = {
    "minio": [("users", "the chart's values.yaml (5.4.0) creates user 'console' with secretKey 'console123'")],
}


def _credentials(values: Any, path: str = "values") -> Iterator[str]:
    """Why each credential set in Helm values is one: a value under a credential key, or a published default."""
    if isinstance(values, Mapping):
        for key, value in values.items():
            if CREDENTIAL_KEY.search(str(key)) and isinstance(value, str) and value:
                yield f"{path}.{key} sets a credential"
            else:
                yield from _credentials(value, f"{path}.{key}")
    elif is_list(values):
        for i, item in enumerate(values):
            yield from _credentials(item, f"{path}[{i}]")
    elif isinstance(values, str) and values.lower() in PUBLISHED_CREDENTIALS:
        yield f"{path} is the published default credential {values!r}"


@resource_policy(
    "helm-values-no-credentials",
    "Helm values carry no credentials (keys named like password or secretKey, published defaults such as 'minioadmin') "
    "and override the charts' own default credentials; credentials come from Secrets (existingSecret).",
    HELM_RELEASE,
)
def helm_values_no_credentials(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # Secret values reach a policy unwrapped (pulumi-policy deserializes them as plain values), so a
    # generated password in the values looks like a literal one: neither belongs there.
    values = args.props.get("values") or {}
    for problem in _credentials(values):
        report(f"Helm release '{args.name}': {problem}: reference a Secret instead (existingSecret)", args.urn)
    chart = str(args.props.get("chart") or "").rsplit("/", 1)[-1]
    for key, why in CHART_DEFAULT_CREDENTIALS.get(chart, []):
        if key not in values:
            report(f"Helm release '{args.name}': values.{key} is not set, so {why}", args.urn)


def _privileged_values(values: Any, path: str = "values") -> Iterator[str]:
    """Every pod security setting in Helm values that the restricted profile forbids."""
    if is_list(values):
        for i, item in enumerate(values):
            yield from _privileged_values(item, f"{path}[{i}]")
    if not isinstance(values, Mapping):
        return
    for key, value in values.items():
        at = f"{path}.{key}"
        if key in ("privileged", "allowPrivilegeEscalation") and value is True:
            yield f"{at} is true"
        elif key in HOST_NAMESPACES and (value is True or get(value, "enabled") is True):
            yield f"{at} is on"
        elif key == "runAsUser" and value == 0:
            yield f"{at} is 0 (root)"
        elif key == "runAsNonRoot" and value is False:
            yield f"{at} is false"
        elif key == "capabilities" and (added := [c for c in as_list(get(value, "add")) if c not in RESTRICTED_ADDABLE_CAPABILITIES]):
            yield f"{at}.add adds {added}"
        else:
            yield from _privileged_values(value, at)


@resource_policy(
    "helm-values-not-privileged",
    "Helm values set no privileged pod settings (privileged, allowPrivilegeEscalation, host namespaces, uid 0, "
    "runAsNonRoot false, added capabilities); exempted workloads get them from their chart's defaults.",
    HELM_RELEASE,
)
def helm_values_not_privileged(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for problem in _privileged_values(args.props.get("values")):
        report(f"Helm release '{args.name}': {problem}", args.urn)


POLICIES = [
    k8s_no_privileged_containers,
    k8s_no_host_path,
    k8s_no_host_namespaces,
    k8s_no_added_capabilities,
    k8s_run_as_non_root,
    k8s_no_privilege_escalation,
    k8s_requests_and_limits,
    k8s_image_pinned,
    k8s_no_external_services,
    k8s_namespace_isolated,
    helm_release_pinned,
    helm_values_no_credentials,
    helm_values_not_privileged,
]
