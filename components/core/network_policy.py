"""Network isolation of a platform namespace: deny everything, then allow what the workload needs.

Every namespace a component creates gets the same base (traffic inside the namespace, DNS,
scraping from the monitoring namespace) plus the allows the component states, so each exception
is written once, next to the workload that needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

PLATFORM_LABEL = "ai-platform.io/platform"
"""Set on every namespace the platform creates; allows can name "the platform's namespaces"."""
MONITORING_NAMESPACE = "monitoring"
ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class Allow:
    """Traffic to or from a set of peers on some TCP ports (no ports: every port)."""

    peers: str
    """``platform`` (namespaces the platform created), ``anywhere`` (any address, also outside the
    cluster: API server, webhooks' caller, AWS APIs), or a namespace name."""
    ports: Sequence[int] = ()
    why: str = ""


@dataclass(frozen=True)
class Isolation:
    ingress: Sequence[Allow] = field(default_factory=tuple)
    egress: Sequence[Allow] = field(default_factory=tuple)


API_SERVER = Allow("anywhere", (443,), "the Kubernetes API server (outside the pod network on EKS)")
AWS_APIS = Allow("anywhere", (443,), "AWS APIs (S3, STS, Secrets Manager) and the API server")
WEBHOOK_CALLS = "the API server calls the admission webhook from outside the pod network"


def _peer(peers: str) -> k8s.networking.v1.NetworkPolicyPeerArgsDict:
    if peers == "anywhere":
        return {"ip_block": {"cidr": ANYWHERE}}
    if peers == "platform":
        return {"namespace_selector": {"match_labels": {PLATFORM_LABEL: "true"}}}
    return {"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": peers}}}


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


def policy_specs(isolation: Isolation) -> dict[str, k8s.networking.v1.NetworkPolicySpecArgsDict]:
    """NetworkPolicy name -> spec: the default deny, the shared base, and the workload's allows."""
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
            "ingress": [_ingress(a) for a in isolation.ingress],
            "egress": [_egress(a) for a in isolation.egress],
        },
    }


def isolate_namespace(
    namespace: k8s.core.v1.Namespace, isolation: Isolation, *, parent: pulumi.Resource, opts: pulumi.ResourceOptions | None = None
) -> list[k8s.networking.v1.NetworkPolicy]:
    """The namespace's NetworkPolicies (named ``<namespace>-<policy>`` in Pulumi); ``opts`` is
    added to each one's (see ``platform_namespace``)."""
    name = namespace.metadata["name"]
    return [
        k8s.networking.v1.NetworkPolicy(
            f"{namespace._name}-{policy}",
            metadata={"name": policy, "namespace": name},
            spec=spec,
            opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=parent, depends_on=[namespace]), opts),
        )
        for policy, spec in policy_specs(isolation).items()
    ]
