"""KServe: cert-manager, the KServe CRDs, controller and ClusterServingRuntimes, and a namespace for models.

Four Helm releases, each waiting only for what it needs: cert-manager (the webhook certificates),
``kserve-crd``, ``kserve-resources`` (controller and admission webhooks; after the CRDs and
cert-manager) and ``kserve-runtime-configs`` (the ClusterServingRuntimes; after the CRDs and the
webhook that admits them). An InferenceService waits for :attr:`KServe.crds_ready`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BeforeValidator, SkipValidation

from .. import versions
from ..core.args import Options, parse_args
from ..core.contracts import GatewayImplementation, NodePool
from ..core.helm import helm_release
from ..core.namespace import SHARED, platform_namespace
from ..core.network_policy import API_SERVER, AWS_APIS, WEBHOOK_CALLS, Allow, Isolation
from ..core.problems import Problem
from ..core.types import DnsName, Name, Size
from ..core.util import GPU_TOLERATION, LABEL_PREFIX, explicit_depends_on

CERT_MANAGER_ISOLATION = Isolation(ingress=[Allow("anywhere", (10250,), f"cert-manager's webhook: {WEBHOOK_CALLS}")], egress=[API_SERVER])
CONTROLLER_ISOLATION = Isolation(
    ingress=[Allow("anywhere", (9443,), f"KServe's webhooks: {WEBHOOK_CALLS}")],
    # The local model agent and its jobs download models like the storage initializer does.
    egress=[API_SERVER, AWS_APIS, Allow("platform", (9000,), "MinIO's S3 API (dev)")],
)
# Ingress to the models comes from models-ingress (below); their storage initializer downloads
# from S3, MinIO or the Hugging Face Hub, never from MLflow (inference_service.py refuses its URIs).
MODELS_ISOLATION = Isolation(egress=[AWS_APIS, Allow("platform", (9000,), "MinIO's S3 API")])

STANDARD = "Standard"
KNATIVE = "Knative"
DEPLOYMENT_MODES = (STANDARD, KNATIVE)
LEGACY_MODES = {"RawDeployment": STANDARD, "Serverless": KNATIVE}

POOL_LABEL = f"{LABEL_PREFIX}/pool"
INFERENCE_CLIENT_LABEL = f"{LABEL_PREFIX}/inference-client"
"""Label a namespace with ``"true"`` to let its pods call the models."""
LOCAL_MODEL_PATH = "/mnt/k8s-disks/0/kserve-models"
"""On the GPU pools' NVMe RAID0 array (nodeadm mounts it at /mnt/k8s-disks/0)."""
LOCAL_MODEL_JOBS_NAMESPACE = "kserve-localmodel-jobs"
"""Where KServe runs the jobs that download a LocalModelCache (the chart's default)."""
LOCAL_MODEL_STORAGE_CLASS = "kserve-local-models"


_GATEWAY = re.compile(r"^[a-z0-9-]+/[a-z0-9-]+$")


def _deployment_mode(mode: Any) -> Any:
    if mode not in DEPLOYMENT_MODES:
        hint = f"; {mode!r} is now called {LEGACY_MODES[mode]!r}" if mode in LEGACY_MODES else ""
        raise ValueError(f"must be one of {', '.join(DEPLOYMENT_MODES)} (got {mode!r}){hint}")
    return mode


def _gateway(gateway: Any) -> Any:
    if gateway is not None and not (isinstance(gateway, str) and _GATEWAY.match(gateway)):
        raise ValueError(f"must be 'namespace/name' (got {gateway!r})")
    return gateway


class KServeOptions(Options):
    """What a caller or a stack file sets for KServe (``kserve``)."""

    deployment_mode: Annotated[Literal["Standard", "Knative"], BeforeValidator(_deployment_mode)] = STANDARD
    """``Standard`` (Deployments, Services and HPAs; formerly RawDeployment) or ``Knative``
    (formerly Serverless; expects Knative Serving already in the cluster)."""
    gateway: Annotated[str | None, BeforeValidator(_gateway)] = None
    """Gateway API Gateway (``namespace/name``) the InferenceServices' HTTPRoutes attach to; the
    Gateway API CRDs and the Gateway must exist. Standard-mode canaries split traffic only through
    these routes. Unset: no Ingress or HTTPRoute; models are reachable in the cluster only."""
    ingress_domain: DnsName = "example.com"
    """Domain of the hostnames KServe gives the routes when there is a gateway."""
    model_namespace: Name = "models"
    """Namespace created for InferenceServices: restricted Pod Security, ingress denied except from
    itself, the gateway and namespaces labelled ``ai-platform.io/inference-client: "true"``."""
    local_model_cache_size: Size = "500Gi"
    """Space each node of the local model pools gives to cached models."""


class KServeArgs(KServeOptions):
    """KServe's options plus what the composition injects or decides."""

    namespace: str = "kserve"
    """Namespace of the KServe controller and its webhooks."""
    cert_manager_namespace: str = "cert-manager"
    """Namespace of cert-manager, which issues the webhook certificates."""
    ingress: SkipValidation[GatewayImplementation | None] = None
    """A Gateway API implementation (an ``IngressGateway``): the KServe chart creates its Gateway
    with that class and the InferenceServices route through it; excludes ``gateway``. Unset: none."""
    local_model_pools: SkipValidation[Sequence[NodePool]] = ()
    """GPU pools whose NVMe array caches models (a LocalModelNodeGroup each, and KServe's node
    agent on their nodes). Empty: no local model cache."""
    controller_node_selector: dict[str, str] = {}
    """Where cert-manager and the KServe controller run (the system nodes); empty: any Linux node."""
    autoscalers: SkipValidation[Sequence[pulumi.Resource]] = ()
    """Releases whose CRDs the controller must find when it starts (KEDA's): it watches the
    ScaledObjects it owns only if their CRD exists then (inferenceservice/controller.go
    SetupWithManager, IsCrdAvailable). Empty: none."""


def _resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def problems(args: KServeArgs) -> list[Problem]:
    """What KServe's arguments cannot mean together; pure."""
    if args.gateway is not None and args.ingress is not None:
        return [Problem(("gateway",), "set {gateway} or {ingress}, not both ({ingress} makes KServe create its own gateway)")]
    return []


def _node_selector(a: KServeArgs) -> dict[str, str]:
    return {"kubernetes.io/os": "linux", **a.controller_node_selector}


def cert_manager_values(a: KServeArgs) -> dict[str, Any]:
    """Helm values for cert-manager (``crds.enabled`` replaced ``installCRDs`` in v1.15)."""
    nodes = _node_selector(a)
    always = {"pullPolicy": "Always"}
    # The chart's pod securityContext default (runAsNonRoot, RuntimeDefault seccomp) plus a high uid: the
    # four static binaries run with a read-only root (containerSecurityContext) and write no files.
    pod = {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}}
    return {
        "crds": {"enabled": True, "keep": True},
        "image": always,
        "securityContext": pod,
        "nodeSelector": nodes,
        "resources": _resources("50m", "128Mi", "200m", "256Mi"),
        "webhook": {
            "image": always,
            "securityContext": pod,
            "nodeSelector": nodes,
            "resources": _resources("20m", "64Mi", "100m", "128Mi"),
        },
        "cainjector": {
            "image": always,
            "securityContext": pod,
            "nodeSelector": nodes,
            "resources": _resources("20m", "128Mi", "200m", "256Mi"),
        },
        "startupapicheck": {
            "image": always,
            "securityContext": pod,
            "nodeSelector": nodes,
            "resources": _resources("10m", "32Mi", "100m", "64Mi"),
        },
    }


def _gateway_values(a: KServeArgs) -> dict[str, Any]:
    gateway = effective_gateway(a)
    values: dict[str, Any] = {
        "domain": a.ingress_domain,
        # Without a gateway KServe would create Ingress objects nothing serves; with one, HTTPRoutes.
        "disableIngressCreation": gateway is None,
        # No Istio: in Knative mode route through Knative's own networking layer.
        "disableIstioVirtualHost": True,
        "ingressGateway": {"enableGatewayApi": gateway is not None, "createGateway": False},
    }
    if a.ingress is not None:
        values["ingressGateway"] = a.ingress.kserve_values(a.namespace)
    elif gateway is not None:
        values["ingressGateway"]["kserveGateway"] = gateway
    return values


def effective_gateway(a: KServeArgs) -> str | None:
    """The Gateway the routes attach to: the one the chart creates for ``ingress``, or ``gateway``."""
    if a.ingress is not None:
        from .ingress_gateway import kserve_gateway

        return kserve_gateway(a.namespace)
    return a.gateway


def _local_model_values(pools: Sequence[str]) -> dict[str, Any]:
    if not pools:
        return {"enabled": False}
    on_pools = {"key": POOL_LABEL, "operator": "In", "values": sorted(pools)}
    return {
        "enabled": True,
        "jobNamespace": LOCAL_MODEL_JOBS_NAMESPACE,
        "agent": {
            "hostPath": LOCAL_MODEL_PATH,
            "tolerations": [dict(GPU_TOLERATION)],
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [on_pools]}]}
                }
            },
        },
    }


def resources_values(a: KServeArgs) -> dict[str, Any]:
    """Helm values for kserve-resources (keys from its values.yaml at the pinned version)."""
    return {
        "kserve": {
            "controller": {
                "deploymentMode": a.deployment_mode,
                "nodeSelector": _node_selector(a),
                # The chart's pod securityContext (runAsNonRoot, RuntimeDefault) with the uid both images
                # (manager and kube-rbac-proxy, distroless "nonroot") run as.
                "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
                "resources": _resources("100m", "256Mi", "500m", "512Mi"),
                "gateway": _gateway_values(a),
            },
            "localmodel": _local_model_values([p.name for p in a.local_model_pools]),
        }
    }


def runtime_configs_values() -> dict[str, Any]:
    """Helm values for kserve-runtime-configs: the ClusterServingRuntimes, which the chart leaves off
    by default. The chart's standalone vLLM runtime stays disabled (huggingface models run on
    kserve-huggingfaceserver, vLLM backend, pinned to the KServe version), but the object is still
    created, so its image gets a pinned tag instead of the chart's ``latest``."""
    vllm = {"disabled": True, "tag": versions.VLLM_OPENAI_TAG}
    return {"kserve": {"servingruntime": {"enabled": True, "vllmserver": vllm}}}


def local_model_node_group(pool: str, size: str) -> dict[str, Any]:
    """A LocalModelNodeGroup: the NVMe path on every node of ``pool`` as a local volume."""
    access = {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem", "storageClassName": LOCAL_MODEL_STORAGE_CLASS}
    on_pool = {"matchExpressions": [{"key": POOL_LABEL, "operator": "In", "values": [pool]}]}
    return {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "LocalModelNodeGroup",
        "metadata": {"name": pool},
        "spec": {
            "storageLimit": size,
            "persistentVolumeSpec": {
                **access,
                "capacity": {"storage": size},
                "local": {"path": LOCAL_MODEL_PATH},
                "nodeAffinity": {"required": {"nodeSelectorTerms": [on_pool]}},
            },
            "persistentVolumeClaimSpec": {**access, "resources": {"requests": {"storage": size}}},
        },
    }


def model_namespace_policy(namespace: str, a: KServeArgs) -> dict[str, Any]:
    """Ingress to the model pods: from their own namespace, labelled client namespaces, the gateway
    (and Knative's activator in Knative mode). Egress stays open: models download from the store."""
    sources: list[dict[str, Any]] = [
        {"podSelector": {}},
        {"namespaceSelector": {"matchLabels": {INFERENCE_CLIENT_LABEL: "true"}}},
    ]
    allowed = []
    if a.ingress is not None:
        allowed.append(a.ingress.namespace)  # the Envoy proxies run in the controller's namespace
    elif a.gateway is not None:
        allowed.append(a.gateway.split("/")[0])
    if a.deployment_mode == KNATIVE:
        allowed.append("knative-serving")
    sources += [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}} for ns in allowed]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "models-ingress", "namespace": namespace},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": sources}]},
    }


class KServe(pulumi.ComponentResource):
    cert_manager: k8s.helm.v3.Release
    crds: k8s.helm.v3.Release
    controller: k8s.helm.v3.Release
    runtimes: k8s.helm.v3.Release
    crds_ready: list[pulumi.Resource]
    """What an InferenceService must wait for: the CRDs, the controller with its webhooks, the runtimes."""
    deployment_mode: str
    gateway_api: bool
    """InferenceServices get HTTPRoutes (and Standard-mode canaries a weighted split)."""
    model_namespace: str
    model_namespace_ready: list[pulumi.Resource]
    """The model namespace and its network policy."""
    local_model_node_groups: dict[str, k8s.apiextensions.CustomResource]
    """LocalModelNodeGroup per pool name (its name is the pool's)."""
    local_model_jobs_namespace: str

    def __init__(self, name: str, args: KServeArgs | Mapping[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None):
        a = parse_args(KServeArgs, args, component="KServe", name=name, problems=problems)
        super().__init__("aiplatform:index:KServe", name, None, opts)
        after = explicit_depends_on(opts)
        self.deployment_mode = a.deployment_mode
        self.gateway_api = effective_gateway(a) is not None
        ingress_ready = list(a.ingress.ready) if a.ingress is not None else []
        self.local_model_jobs_namespace = LOCAL_MODEL_JOBS_NAMESPACE

        cm_ns = platform_namespace(a.cert_manager_namespace, pod_security="restricted", isolation=CERT_MANAGER_ISOLATION, parent=self)
        self.cert_manager = helm_release(
            "cert-manager",
            versions.CERT_MANAGER,
            namespace=cm_ns.metadata["name"],
            values=cert_manager_values(a),
            parent=self,
            depends_on=[cm_ns, *after],
        )
        # The local model agent mounts a host path, which only the privileged level admits.
        level = "privileged" if a.local_model_pools else "restricted"
        ns = platform_namespace(a.namespace, pod_security=level, isolation=CONTROLLER_ISOLATION, parent=self)
        namespace = ns.metadata["name"]
        # CRDs only: no pods, so no need to wait for nodes, only for the API server.
        self.crds = helm_release(f"{name}-crd", versions.KSERVE_CRD, namespace=namespace, values={}, parent=self, depends_on=[ns])
        self.controller = helm_release(
            f"{name}-resources",
            versions.KSERVE_RESOURCES,
            namespace=namespace,
            values=resources_values(a),
            parent=self,
            # The chart creates the Gateway: the Gateway API CRDs and the class must exist.
            depends_on=[ns, self.crds, self.cert_manager, *ingress_ready, *a.autoscalers, *after],
        )
        # The ClusterServingRuntimes pass the controller's admission webhook.
        self.runtimes = helm_release(
            f"{name}-runtime-configs",
            versions.KSERVE_RUNTIME_CONFIGS,
            namespace=namespace,
            values=runtime_configs_values(),
            parent=self,
            depends_on=[self.crds, self.controller, *after],
        )
        self.crds_ready = [self.crds, self.controller, self.runtimes]

        self.model_namespace = a.model_namespace
        models = platform_namespace(
            self.model_namespace, pod_security="restricted", isolation=MODELS_ISOLATION, parent=self, lifecycle=SHARED
        )
        policy = model_namespace_policy(self.model_namespace, a)
        network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-models-ingress",
            metadata=policy["metadata"],
            spec=policy["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[models]),
        )
        self.model_namespace_ready = [models, network_policy]

        self.local_model_node_groups = {}
        for pool in a.local_model_pools:
            group = pool.name
            manifest = local_model_node_group(group, a.local_model_cache_size)
            self.local_model_node_groups[group] = k8s.apiextensions.CustomResource(
                f"{name}-{group}-model-cache",
                api_version=manifest["apiVersion"],
                kind=manifest["kind"],
                metadata=manifest["metadata"],
                spec=manifest["spec"],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.crds, self.controller]),
            )

        self.register_outputs(
            {
                "deployment_mode": self.deployment_mode,
                "model_namespace": self.model_namespace,
                "controller": self.controller.name,
                "cert_manager": self.cert_manager,
                "crds": self.crds,
                "runtimes": self.runtimes,
                "gateway_api": self.gateway_api,
                "local_model_jobs_namespace": self.local_model_jobs_namespace,
            }
        )
