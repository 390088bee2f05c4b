"""Network isolation of a platform namespace: deny everything, then allow what the workload needs.

Every namespace a component creates gets the same base (traffic inside the namespace, DNS,
scraping from the monitoring namespace) plus the allows the component states, so each exception
is written once, next to the workload that needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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


def _peer(peers: str) -> dict[str, Any]:
    if peers == "anywhere":
        return {"ipBlock": {"cidr": ANYWHERE}}
    if peers == "platform":
        return {"namespaceSelector": {"matchLabels": {PLATFORM_LABEL: "true"}}}
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": peers}}}


def _rule(allow: Allow, direction: str) -> dict[str, Any]:
    rule: dict[str, Any] = {direction: [_peer(allow.peers)]}
    if allow.ports:
        rule["ports"] = [{"protocol": "TCP", "port": port} for port in allow.ports]
    return rule


DNS_EGRESS = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}


def policy_specs(isolation: Isolation) -> dict[str, dict[str, Any]]:
    """NetworkPolicy name -> spec: the default deny, the shared base, and the workload's allows."""
    same_namespace = {"podSelector": {}}
    base_ingress = [{"from": [same_namespace]}, {"from": [_peer(MONITORING_NAMESPACE)]}]
    base_egress = [{"to": [same_namespace]}, DNS_EGRESS]
    return {
        "default-deny": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        "allow-platform-base": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": base_ingress,
            "egress": base_egress,
        },
        "allow-workload": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [_rule(a, "from") for a in isolation.ingress],
            "egress": [_rule(a, "to") for a in isolation.egress],
        },
    }


def isolate_namespace(
    namespace: k8s.core.v1.Namespace, isolation: Isolation, *, parent: pulumi.Resource
) -> list[k8s.networking.v1.NetworkPolicy]:
    """The namespace's NetworkPolicies (named ``<namespace>-<policy>`` in Pulumi)."""
    name = namespace.metadata["name"]
    return [
        k8s.networking.v1.NetworkPolicy(
            f"{namespace._name}-{policy}",
            metadata={"name": policy, "namespace": name},
            spec=spec,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace]),
        )
        for policy, spec in policy_specs(isolation).items()
    ]
