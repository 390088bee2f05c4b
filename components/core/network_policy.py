"""Network isolation of a platform namespace: deny everything, then allow what the workload needs.

Every namespace a component creates gets the same base (traffic inside the namespace, DNS,
scraping from the monitoring namespace) plus the allows the component states, so each exception
is written once, next to the workload that needs it.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

PLATFORM_LABEL = "ai-platform.io/platform"
"""Set on every namespace the platform creates; allows can name "the platform's namespaces"."""
MONITORING_NAMESPACE = "monitoring"
ANYWHERE = "0.0.0.0/0"
MLFLOW_CLIENT_LABEL = "ai-platform.io/mlflow-client"
"""Set to ``"true"`` on a namespace whose pods log to MLflow (the Ray clusters'); MLflow, which has
no authentication, admits only these namespaces."""
API_SERVER_PEER = "api-server"
"""``Allow.peers`` value resolved per cluster (:class:`ClusterNetwork`)."""


@dataclass(frozen=True)
class Allow:
    """Traffic to or from a set of peers on some TCP ports (no ports: every port)."""

    peers: str
    """``platform`` (namespaces the platform created), ``anywhere`` (any address, also outside the
    cluster: webhooks' caller, AWS APIs), ``api-server`` (the cluster's API server, as its
    :class:`ClusterNetwork` says), ``label:<key>`` (namespaces labelled ``<key>: "true"``), a CIDR
    (``169.254.170.23/32``), or a namespace name."""
    ports: Sequence[int] = ()
    why: str = ""


@dataclass(frozen=True)
class Isolation:
    ingress: Sequence[Allow] = field(default_factory=tuple)
    egress: Sequence[Allow] = field(default_factory=tuple)


API_SERVER = Allow(API_SERVER_PEER, why="the Kubernetes API server (where it is: the cluster's ClusterNetwork)")
AWS_APIS = Allow("anywhere", (443,), "AWS APIs (S3, STS, Secrets Manager)")
WEBHOOK_CALLS = "the API server calls the admission webhook from outside the pod network"

# EKS Pod Identity: the agent on every node serves credentials on a link-local address, IPv4 and
# IPv6, port 80 (EKS User Guide, "Set up the Amazon EKS Pod Identity Agent", Considerations:
# 169.254.170.23 and [fd00:ec2::23]; the SDKs' AWS_CONTAINER_CREDENTIALS_FULL_URI is
# http://169.254.170.23/v1/credentials).
POD_IDENTITY_AGENT_PORT = 80
POD_IDENTITY_AGENT_CIDRS = ("169.254.170.23/32", "fd00:ec2::23/128")


@dataclass(frozen=True)
class ClusterNetwork:
    """Where a cluster's pods reach its API server: each cluster component states it (a contract,
    not a guess in each component); :data:`API_SERVER` allows resolve to it."""

    api_server: Sequence[Allow]


UNKNOWN_CLUSTER = ClusterNetwork(
    api_server=(Allow("anywhere", (443, 6443), "the API server: its Service port (443) or kube-apiserver's own (6443)"),)
)
"""For a Kubernetes provider no platform cluster component made: either port, anywhere."""

_NETWORKS: weakref.WeakKeyDictionary[pulumi.ProviderResource, ClusterNetwork] = weakref.WeakKeyDictionary()


def register_cluster_network(provider: pulumi.ProviderResource, network: ClusterNetwork) -> None:
    """Called by a cluster component for the Kubernetes provider it creates: every namespace made
    through that provider resolves :data:`API_SERVER` with ``network``."""
    _NETWORKS[provider] = network


def cluster_network(parent: pulumi.Resource, opts: pulumi.ResourceOptions | None = None) -> ClusterNetwork:
    """The network of the cluster that objects created under ``parent`` with ``opts`` land on."""
    provider = opts.provider if opts is not None and isinstance(opts.provider, pulumi.ProviderResource) else None
    provider = provider or parent.get_provider("kubernetes:core/v1:Namespace")
    return _NETWORKS.get(provider, UNKNOWN_CLUSTER) if provider is not None else UNKNOWN_CLUSTER


def _peer(peers: str) -> k8s.networking.v1.NetworkPolicyPeerArgsDict:
    if peers == "anywhere":
        return {"ip_block": {"cidr": ANYWHERE}}
    if peers.startswith("label:"):
        return {"namespace_selector": {"match_labels": {peers.removeprefix("label:"): "true"}}}
    if "/" in peers:
        return {"ip_block": {"cidr": peers}}
    if peers == "platform":
        return {"namespace_selector": {"match_labels": {PLATFORM_LABEL: "true"}}}
    return {"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": peers}}}


def resolve(allows: Sequence[Allow], network: ClusterNetwork) -> list[Allow]:
    """``allows`` with each :data:`API_SERVER` replaced by the cluster's own."""
    return [resolved for a in allows for resolved in (network.api_server if a.peers == API_SERVER_PEER else (a,))]


def _ports(allow: Allow) -> list[k8s.networking.v1.NetworkPolicyPortArgsDict]:
    return [{"protocol": "TCP", "port": port} for port in allow.ports]


def _ingress(allow: Allow) -> k8s.networking.v1.NetworkPolicyIngressRuleArgsDict:
    rule: k8s.networking.v1.NetworkPolicyIngressRuleArgsDict = {"from_": [_peer(allow.peers)]}
    if allow.ports:
        rule["ports"] = _ports(allow)
    return rule


def _egress(allow: Allow) -> k8s.networking.v1.NetworkPolicyEgressRuleArgsDict:
    rule: k8s.networking.v1.NetworkPolicyEgressRuleArgsDict = {"to": [_peer(allow.peers)]}
    if allow.ports:
        rule["ports"] = _ports(allow)
    return rule


DNS_EGRESS: k8s.networking.v1.NetworkPolicyEgressRuleArgsDict = {
    "to": [
        {
            "namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "kube-system"}},
            "pod_selector": {"match_labels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}


def policy_specs(isolation: Isolation, network: ClusterNetwork = UNKNOWN_CLUSTER) -> dict[str, k8s.networking.v1.NetworkPolicySpecArgsDict]:
    """NetworkPolicy name -> spec: the default deny, the shared base, and the workload's allows
    (:data:`API_SERVER` resolved with ``network``)."""
    same_namespace: k8s.networking.v1.NetworkPolicyPeerArgsDict = {"pod_selector": {}}
    base_ingress: list[k8s.networking.v1.NetworkPolicyIngressRuleArgsDict] = [
        {"from_": [same_namespace]},
        {"from_": [_peer(MONITORING_NAMESPACE)]},
    ]
    base_egress: list[k8s.networking.v1.NetworkPolicyEgressRuleArgsDict] = [{"to": [same_namespace]}, DNS_EGRESS]
    return {
        "default-deny": {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
        "allow-platform-base": {
            "pod_selector": {},
            "policy_types": ["Ingress", "Egress"],
            "ingress": base_ingress,
            "egress": base_egress,
        },
        "allow-workload": {
            "pod_selector": {},
            "policy_types": ["Ingress", "Egress"],
            "ingress": [_ingress(a) for a in resolve(isolation.ingress, network)],
            "egress": [_egress(a) for a in resolve(isolation.egress, network)],
        },
    }


def isolate_namespace(
    namespace: k8s.core.v1.Namespace, isolation: Isolation, *, parent: pulumi.Resource, opts: pulumi.ResourceOptions | None = None
) -> list[k8s.networking.v1.NetworkPolicy]:
    """The namespace's NetworkPolicies (named ``<namespace>-<policy>`` in Pulumi); ``opts`` is
    added to each one's (see ``platform_namespace``)."""
    name = namespace.metadata["name"]
    network = cluster_network(parent, opts)
    return [
        k8s.networking.v1.NetworkPolicy(
            f"{namespace._name}-{policy}",
            metadata={"name": policy, "namespace": name},
            spec=spec,
            opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=parent, depends_on=[namespace]), opts),
        )
        for policy, spec in policy_specs(isolation, network).items()
    ]


def allow_pod_identity_agent(
    name: str,
    namespace: pulumi.Input[str],
    service_account: str,
    *,
    parent: pulumi.Resource,
    opts: pulumi.ResourceOptions | None = None,
) -> k8s.networking.v1.NetworkPolicy:
    """Egress to the EKS Pod Identity agent from an isolated ``namespace`` where ``service_account``
    has a Pod Identity association: without it the pods' AWS SDKs find no credentials. A
    NetworkPolicy cannot select pods by service account, so it selects the namespace's pods; one
    per service account, so two identities in a namespace never claim the same name. ``opts``
    carries the provider and the namespace to wait for."""
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata={"name": f"allow-pod-identity-agent-{service_account}", "namespace": namespace},
        spec={
            "pod_selector": {},
            "policy_types": ["Egress"],
            "egress": [_egress(Allow(cidr, (POD_IDENTITY_AGENT_PORT,))) for cidr in POD_IDENTITY_AGENT_CIDRS],
        },
        opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=parent), opts),
    )
