"""IngressGateway: Envoy Gateway, the Gateway API implementation behind KServe's HTTPRoutes.

KServe in ``Standard`` mode splits traffic between a model and its canaries (``spec.canary``) only
through weighted Gateway API HTTPRoutes, so without a Gateway API implementation canaries get no
traffic. This component installs Envoy Gateway (chart ``gateway-helm``, which also installs the
Gateway API CRDs), an EnvoyProxy that keeps the proxies' Service inside the cluster, and the
GatewayClass that names both. KServe's own chart then creates the Gateway
(``kserve-ingress-gateway`` in KServe's namespace): pass it :func:`kserve_ingress_gateway_values`
and make its controller wait for :attr:`IngressGateway.ready`.

Envoy Gateway v1.6 has no chart value for the proxies' defaults (the ``envoyProxy`` default in the
EnvoyGateway config arrived in v1.8), hence the EnvoyProxy custom resource.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BeforeValidator, Field

from .. import versions
from ..core.args import Options, parse_args
from ..core.helm import helm_release
from ..core.namespace import platform_namespace
from ..core.network_policy import API_SERVER, Allow, Isolation
from ..core.util import explicit_depends_on

CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
"""The controllerName Envoy Gateway claims GatewayClasses by (its ``config.envoyGateway.gateway`` default)."""
GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1"
ENVOY_PROXY_API_VERSION = "gateway.envoyproxy.io/v1alpha1"

# The controller image is the chart's own release (gateway-helm's appVersion equals its version);
# the shutdown-manager sidecar of every proxy runs the same image. Envoy v1.36.3 is the proxy
# Envoy Gateway v1.6.1 ships with (its release notes: "Bumped Envoy to 1.36.3").
ENVOY_GATEWAY_IMAGE = versions.ENVOY_GATEWAY_IMAGE
ENVOY_PROXY_IMAGE = versions.ENVOY_PROXY_IMAGE

KSERVE_GATEWAY_NAME = "kserve-ingress-gateway"
"""The Gateway kserve-resources creates with ``createGateway`` (the name is fixed by its template)."""

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _checked(test: Any, what: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if not test(value):
            raise ValueError(f"{what} (got {value!r})")
        return value

    return BeforeValidator(check)


def _label(pattern: re.Pattern) -> Any:
    return lambda value: isinstance(value, str) and bool(pattern.match(value))


class IngressGatewayOptions(Options):
    """What a caller or a stack file sets for the gateway (``kserve.ingressGateway``)."""

    proxy_replicas: Annotated[
        int, _checked(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "must be a whole number >= 1")
    ] = Field(default=2, le=20)
    """Envoy proxy pods per Gateway; with more than one, a PodDisruptionBudget keeps one serving
    while nodes drain."""
    service_type: Annotated[
        Literal["ClusterIP", "NodePort", "LoadBalancer"],
        _checked(lambda v: v in SERVICE_TYPES, f"must be one of {', '.join(SERVICE_TYPES)}"),
    ] = "ClusterIP"
    """Type of the proxies' Service: ``ClusterIP`` keeps the models inside the cluster; ``NodePort``
    and ``LoadBalancer`` expose them outside it."""
    service_annotations: dict[str, str] = {}
    """Annotations on the proxies' Service, e.g. the AWS load balancer scheme when it is a ``LoadBalancer``."""


class IngressGatewayArgs(IngressGatewayOptions):
    """The gateway's options plus what the composition decides."""

    namespace: Annotated[str, _checked(_label(_DNS_1123), "must be a DNS-1123 label")] = "envoy-gateway-system"
    """Namespace of the Envoy Gateway controller and of the Envoy proxies it runs for every Gateway
    of the class (Envoy Gateway's default deploy mode), so the namespace the models' network policy
    must admit."""
    gateway_class: Annotated[
        str, _checked(_label(_DNS_1035), "must be a DNS-1035 label: lower case letters, digits and '-', at most 63")
    ] = "envoy"
    """Name of the GatewayClass. KServe's chart puts it in the Gateway it creates (``className``);
    keep ``envoy``, the name KServe's Gateway template falls back to."""
    node_selector: dict[str, str] = {}
    """Where the controller, its certificate job and the Envoy proxies run (the system nodes); empty:
    any Linux node."""


def _resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


CONTROLLER_RESOURCES = _resources("100m", "256Mi", "1", "1Gi")
CERTGEN_RESOURCES = _resources("10m", "32Mi", "100m", "128Mi")
PROXY_RESOURCES = _resources("100m", "256Mi", "2", "1Gi")
# Envoy Gateway gives the shutdown-manager sidecar requests only (10m, 32Mi) and no field for
# more: a strategic-merge patch of the proxy Deployment adds the limits.
SHUTDOWN_MANAGER_RESOURCES = _resources("10m", "32Mi", "100m", "64Mi")


def _node_selector(a: IngressGatewayArgs) -> dict[str, str]:
    return {"kubernetes.io/os": "linux", **a.node_selector}


def chart_values(a: IngressGatewayArgs) -> dict[str, Any]:
    """Helm values for gateway-helm (keys from the chart's values at v1.6, see the tests)."""
    nodes = _node_selector(a)
    return {
        "global": {"images": {"envoyGateway": {"image": ENVOY_GATEWAY_IMAGE, "pullPolicy": "Always"}}},
        "deployment": {"envoyGateway": {"resources": CONTROLLER_RESOURCES}, "pod": {"nodeSelector": nodes}},
        "certgen": {"job": {"resources": CERTGEN_RESOURCES, "nodeSelector": nodes}},
    }


def envoy_proxy_name(gateway_class: str) -> str:
    return f"{gateway_class}-proxy"


def envoy_proxy(a: IngressGatewayArgs) -> dict[str, Any]:
    """The EnvoyProxy the GatewayClass points at: pinned image, resources, placement, Service type."""
    shutdown_manager = {"name": "shutdown-manager", "resources": SHUTDOWN_MANAGER_RESOURCES}
    service: dict[str, Any] = {"type": a.service_type}
    if a.service_annotations:
        service["annotations"] = dict(a.service_annotations)
    kubernetes: dict[str, Any] = {
        "envoyDeployment": {
            "replicas": a.proxy_replicas,
            "container": {"image": ENVOY_PROXY_IMAGE, "resources": PROXY_RESOURCES},
            "pod": {"nodeSelector": _node_selector(a)},
            "patch": {"type": "StrategicMerge", "value": {"spec": {"template": {"spec": {"containers": [shutdown_manager]}}}}},
        },
        "envoyService": service,
    }
    if a.proxy_replicas > 1:
        kubernetes["envoyPDB"] = {"minAvailable": 1}
    return {
        "apiVersion": ENVOY_PROXY_API_VERSION,
        "kind": "EnvoyProxy",
        "metadata": {"name": envoy_proxy_name(a.gateway_class), "namespace": a.namespace},
        "spec": {"provider": {"type": "Kubernetes", "kubernetes": kubernetes}},
    }


def gateway_class(a: IngressGatewayArgs) -> dict[str, Any]:
    """The GatewayClass Envoy Gateway serves, configured by :func:`envoy_proxy`."""
    return {
        "apiVersion": GATEWAY_API_VERSION,
        "kind": "GatewayClass",
        "metadata": {"name": a.gateway_class},
        "spec": {
            "controllerName": CONTROLLER_NAME,
            "parametersRef": {
                "group": ENVOY_PROXY_API_VERSION.split("/")[0],
                "kind": "EnvoyProxy",
                "name": envoy_proxy_name(a.gateway_class),
                "namespace": a.namespace,
            },
        },
    }


def kserve_gateway(kserve_namespace: str) -> str:
    """``namespace/name`` of the Gateway kserve-resources creates in its release namespace."""
    return f"{kserve_namespace}/{KSERVE_GATEWAY_NAME}"


def kserve_ingress_gateway_values(gateway_class: str, kserve_namespace: str) -> dict[str, Any]:
    """kserve-resources values under ``kserve.controller.gateway.ingressGateway``: HTTPRoutes on a
    Gateway of ``gateway_class`` that the chart creates in ``kserve_namespace``."""
    return {
        "enableGatewayApi": True,
        "createGateway": True,
        "className": gateway_class,
        "kserveGateway": kserve_gateway(kserve_namespace),
    }


def gateway_isolation(a: IngressGatewayArgs) -> Isolation:
    """Clients reach the proxies' listeners (80 and 443, shifted by 10000): platform namespaces
    while the Service is ClusterIP, anyone once the config exposes it."""
    clients = "platform" if a.service_type == "ClusterIP" else "anywhere"
    return Isolation(
        ingress=[Allow(clients, (10080, 10443), "inference requests")],
        egress=[API_SERVER, Allow("platform", why="the model servers behind the routes")],
    )


class IngressGateway(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    envoy_proxy: k8s.apiextensions.CustomResource
    gateway_class_resource: k8s.apiextensions.CustomResource
    gateway_class: str
    """Name of the GatewayClass, for the Gateways (and KServe's ``className``)."""
    namespace: str
    """Where the controller and the Envoy proxies run: the source of the Gateways' traffic."""
    ready: list[pulumi.Resource]
    """What a Gateway's owner (KServe's controller release) must wait for: the Gateway API CRDs
    and the controller (the release), the EnvoyProxy and the GatewayClass."""

    def __init__(self, name: str, args: IngressGatewayArgs | Mapping[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None):
        a = parse_args(IngressGatewayArgs, args, component="IngressGateway", name=name)
        super().__init__("aiplatform:index:IngressGateway", name, None, opts)
        after = explicit_depends_on(opts)
        self.gateway_class = a.gateway_class
        self.namespace = a.namespace

        # restricted: the controller, its certgen job and the proxies all run non-root with every
        # capability dropped, seccomp RuntimeDefault and no privilege escalation (the chart's
        # securityContext values; Envoy Gateway's defaults for the envoy and shutdown-manager
        # containers). Listeners on ports below 1024 are shifted by 10000, so no NET_BIND_SERVICE.
        ns = platform_namespace(a.namespace, pod_security="restricted", isolation=gateway_isolation(a), parent=self)
        self.release = helm_release(
            name,
            versions.ENVOY_GATEWAY,
            namespace=ns.metadata["name"],
            values=chart_values(a),
            parent=self,
            depends_on=[ns, *after],
        )
        proxy = envoy_proxy(a)
        self.envoy_proxy = k8s.apiextensions.CustomResource(
            f"{name}-proxy-config",
            api_version=proxy["apiVersion"],
            kind=proxy["kind"],
            metadata=proxy["metadata"],
            spec=proxy["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
        )
        # The class names its EnvoyProxy, so the first Gateway already gets a ClusterIP Service.
        cls = gateway_class(a)
        self.gateway_class_resource = k8s.apiextensions.CustomResource(
            f"{name}-class",
            api_version=cls["apiVersion"],
            kind=cls["kind"],
            metadata=cls["metadata"],
            spec=cls["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release, self.envoy_proxy]),
        )
        self.ready = [self.release, self.envoy_proxy, self.gateway_class_resource]
        self.register_outputs({"namespace": self.namespace, "gateway_class": self.gateway_class, "release": self.release.name})

    def kserve_values(self, kserve_namespace: str) -> dict[str, Any]:
        """The ``ingressGateway`` values for a KServe installed in ``kserve_namespace``."""
        return kserve_ingress_gateway_values(self.gateway_class, kserve_namespace)
