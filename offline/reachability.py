"""Who can reach whom: the reachability matrix computed from the rendered NetworkPolicies.

    python -m offline.reachability build/prod        # after python -m offline.render prod

Kubernetes NetworkPolicy semantics (networking.k8s.io/v1), at namespace granularity:

- a pod is isolated for a direction once any policy that selects it lists that direction in
  ``policyTypes``; a pod no policy isolates allows everything in that direction;
- what an isolated pod may do is the union of the rules of every policy that selects it;
- a connection needs both sides: the source's egress allows it and the destination's ingress does;
- a rule without ``ports`` allows every port; ``ipBlock`` peers match addresses outside the pod
  network (the API says to use them for cluster-external addresses), less their ``except``;
- a peer's ``podSelector`` narrows it to some pods: the matrix notes the selector.

Each namespace is one group of pods (every policy here selects ``podSelector: {}``; a policy that
selects fewer pods is treated as selecting all of them, which can only overstate reachability).
Besides namespaces, the matrix has egress classes, each probed at one address: ``dns`` (the
kube-dns pods on 53), ``api-server`` (the stack's API server address and port), ``cloud-apis``
(a public address on 443), ``metadata:imds`` (169.254.169.254:80), ``metadata:pod-identity``
(169.254.170.23:80 and [fd00:ec2::23]:80, both needed) and ``internet:<ports>`` (a public address
on any other port).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ANY = "*"
"""Every port."""
NAME_LABEL = "kubernetes.io/metadata.name"
KUBE_DNS = ("kube-system", {"k8s-app": "kube-dns"})
PUBLIC_ADDRESS = "52.94.0.1"
"""An AWS public address (S3's ranges), standing in for cloud APIs and the internet."""
METADATA = {
    "metadata:imds": [("169.254.169.254", 80)],
    "metadata:pod-identity": [("169.254.170.23", 80), ("fd00:ec2::23", 80)],
}
CLUSTER_NAMESPACES = ("default", "kube-system")
"""Namespaces every cluster has, destinations even though the program does not render them."""


@dataclass(frozen=True)
class ApiServer:
    """Where a stack's pods send their API calls, as the policy enforcer sees them."""

    address: str
    port: int


API_SERVERS = {
    # kind: kindnet matches after the kubernetes Service's DNAT: the control-plane node on 6443.
    "kind": ApiServer("172.18.0.2", 6443),
    # EKS: the VPC CNI's agent matches before DNAT: the kubernetes Service's ClusterIP on 443.
    "eks": ApiServer("172.20.0.1", 443),
}


# ------------------------------------------------------------------ policies


def _port_token(port: Mapping[str, Any]) -> str:
    protocol = port.get("protocol", "TCP")
    value = str(port.get("port", ANY))
    return value if protocol == "TCP" else f"{value}/{protocol.lower()}"


def rule_ports(rule: Mapping[str, Any]) -> frozenset[str]:
    """A rule's ports as tokens (``5000``, ``53/udp``); every port when it lists none."""
    ports = rule.get("ports") or []
    return frozenset(_port_token(p) for p in ports) if ports else frozenset({ANY})


def intersect(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    """Ports both sides allow (``*``: every port)."""
    if ANY in a:
        return b
    if ANY in b:
        return a
    return a & b


def union(sets: Iterable[frozenset[str]]) -> frozenset[str]:
    merged: set[str] = set()
    for s in sets:
        merged |= s
    return frozenset({ANY}) if ANY in merged else frozenset(merged)


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A label selector (matchLabels and matchExpressions In/NotIn/Exists/DoesNotExist) against labels."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        if (
            (operator == "In" and labels.get(key) not in values)
            or (operator == "NotIn" and present and labels[key] in values)
            or (operator == "Exists" and not present)
            or (operator == "DoesNotExist" and present)
        ):
            return False
    return True


def _selector_note(selector: Mapping[str, Any] | None) -> str:
    labels = (selector or {}).get("matchLabels") or {}
    expressions = (selector or {}).get("matchExpressions") or []
    parts = [f"{k}={v}" for k, v in sorted(labels.items())] + [f"{e['key']} {e['operator']}" for e in expressions]
    return ",".join(parts)


@dataclass(frozen=True)
class Policy:
    namespace: str
    name: str
    spec: Mapping[str, Any]

    @property
    def types(self) -> list[str]:
        explicit = self.spec.get("policyTypes")
        if explicit:
            return list(explicit)
        # The API's default: Ingress, plus Egress when the policy has egress rules.
        return ["Ingress", "Egress"] if self.spec.get("egress") else ["Ingress"]

    def rules(self, direction: str) -> list[Mapping[str, Any]]:
        return list(self.spec.get("ingress" if direction == "Ingress" else "egress") or [])


def _peers(rule: Mapping[str, Any], direction: str) -> list[Mapping[str, Any]]:
    key = "from" if direction == "Ingress" else "to"
    # No from/to: every peer (an empty selector for pods, 0.0.0.0/0 and ::/0 for addresses).
    return list(rule.get(key) or [{"namespaceSelector": {}}, {"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}])


def pod_peer_note(peer: Mapping[str, Any], policy_namespace: str, namespace: str, labels: Mapping[str, str]) -> str | None:
    """None when ``peer`` does not match pods of ``namespace``; else the podSelector note ('' for all pods)."""
    if "ipBlock" in peer:
        return None
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], labels):
            return None
    elif namespace != policy_namespace:
        return None
    return _selector_note(peer.get("podSelector"))


def address_matches(peer: Mapping[str, Any], address: str) -> bool:
    block = peer.get("ipBlock")
    if block is None:
        return False
    ip = ipaddress.ip_address(address)
    cidr = ipaddress.ip_network(block["cidr"], strict=False)
    if ip.version != cidr.version or ip not in cidr:
        return False
    return not any(
        ip in ipaddress.ip_network(e, strict=False)
        for e in block.get("except") or []
        if ipaddress.ip_network(e, strict=False).version == ip.version
    )


# ------------------------------------------------------------------ the matrix


@dataclass
class Cluster:
    namespaces: dict[str, dict[str, str]]
    """Namespace -> its labels (with ``kubernetes.io/metadata.name``)."""
    policies: list[Policy]
    api_server: ApiServer

    def selecting(self, namespace: str, direction: str) -> list[Policy]:
        return [p for p in self.policies if p.namespace == namespace and direction in p.types]

    def isolated(self, namespace: str, direction: str) -> bool:
        return bool(self.selecting(namespace, direction))

    def _allowed_to_pods(self, namespace: str, direction: str, other: str) -> dict[str, frozenset[str]]:
        """podSelector note -> ports that ``namespace``'s ``direction`` rules allow with ``other``'s pods."""
        found: dict[str, list[frozenset[str]]] = {}
        for policy in self.selecting(namespace, direction):
            for rule in policy.rules(direction):
                for peer in _peers(rule, direction):
                    note = pod_peer_note(peer, namespace, other, self.namespaces[other])
                    if note is not None:
                        found.setdefault(note, []).append(rule_ports(rule))
        return {note: union(ports) for note, ports in found.items()}

    def pod_reach(self, source: str, destination: str) -> dict[str, frozenset[str]]:
        """podSelector note on the destination side -> ports a ``source`` pod can open to ``destination`` pods."""
        everything = {"": frozenset({ANY})}
        egress = self._allowed_to_pods(source, "Egress", destination) if self.isolated(source, "Egress") else everything
        ingress = self._allowed_to_pods(destination, "Ingress", source) if self.isolated(destination, "Ingress") else everything
        ingress_ports = union(ingress.values())  # ingress rules select the source's pods, not the destination's
        reach = {note: intersect(ports, ingress_ports) for note, ports in egress.items()}
        return {note: ports for note, ports in reach.items() if ports}

    def address_reach(self, source: str, address: str) -> frozenset[str]:
        """Ports a ``source`` pod can open to ``address`` outside the pod network."""
        if not self.isolated(source, "Egress"):
            return frozenset({ANY})
        ports = [
            rule_ports(rule)
            for policy in self.selecting(source, "Egress")
            for rule in policy.rules("Egress")
            if any(address_matches(peer, address) for peer in _peers(rule, "Egress"))
        ]
        return union(ports)

    def row(self, source: str) -> list[str]:
        """Everything ``source`` reaches: ``namespace:ports`` entries and egress classes, sorted."""
        entries: list[str] = []
        for destination in sorted(self.namespaces):
            if destination == source:
                continue
            for note, ports in sorted(self.pod_reach(source, destination).items()):
                if (destination, note) == (KUBE_DNS[0], _selector_note({"matchLabels": KUBE_DNS[1]})) and {"53", "53/udp"} <= ports:
                    entries.append("dns")
                    ports = ports - {"53", "53/udp"}
                    if not ports:
                        continue
                where = f"{destination}[{note}]" if note else destination
                entries.append(f"{where}:{format_ports(ports)}")
        entries += self.classes(source)
        return sorted(entries)

    def classes(self, source: str) -> list[str]:
        found = []
        api = self.api_server
        if _allows(self.address_reach(source, api.address), api.port):
            found.append("api-server")
        public = self.address_reach(source, PUBLIC_ADDRESS)
        if _allows(public, 443):
            found.append("cloud-apis")
        other = public - {"443"}
        if other:
            found.append(f"internet:{format_ports(other)}")
        for name, endpoints in METADATA.items():
            if all(_allows(self.address_reach(source, address), port) for address, port in endpoints):
                found.append(name)
        return found

    def matrix(self, sources: Iterable[str]) -> dict[str, list[str]]:
        return {source: self.row(source) for source in sorted(sources)}


def _allows(ports: frozenset[str], port: int) -> bool:
    return ANY in ports or str(port) in ports


def format_ports(ports: Iterable[str]) -> str:
    def key(token: str) -> tuple[int, str]:
        head = token.split("/")[0]
        return (int(head), token) if head.isdigit() else (-1, token)

    return ",".join(sorted(ports, key=key))


# ------------------------------------------------------------------ from a render


def cluster_from_objects(objects: Sequence[Mapping[str, Any]], api_server: ApiServer) -> tuple[Cluster, list[str]]:
    """The cluster the objects describe, and the namespaces they create (the matrix's sources)."""
    created = sorted({o["metadata"]["name"] for o in objects if o.get("kind") == "Namespace"})
    namespaces = {name: {NAME_LABEL: name} for name in CLUSTER_NAMESPACES}
    for o in objects:
        if o.get("kind") == "Namespace":
            name = o["metadata"]["name"]
            namespaces[name] = {**(o["metadata"].get("labels") or {}), NAME_LABEL: name}
    policies = [Policy(o["metadata"]["namespace"], o["metadata"]["name"], o["spec"]) for o in objects if o.get("kind") == "NetworkPolicy"]
    for policy in policies:
        namespaces.setdefault(policy.namespace, {NAME_LABEL: policy.namespace})
    return Cluster(namespaces, policies, api_server), created


def render_objects(build: Path) -> list[dict[str, Any]]:
    """The program's objects (``manifests/``) and the charts' (``charts/*/objects.yaml``) of a render."""
    files = sorted(build.glob("manifests/*.yaml")) + sorted(build.glob("charts/*/objects.yaml"))
    return [d for f in files for d in yaml.safe_load_all(f.read_text()) if d]


EKS_TYPES = ("aiplatform:index:EksCluster", "aiplatform:index:ExistingEksCluster")


def api_server_of(resource_types: Iterable[str]) -> ApiServer:
    """The stack's API server, from the cluster component among its resources."""
    return API_SERVERS["eks" if any(t in EKS_TYPES for t in resource_types) else "kind"]


def stack_api_server(build: Path) -> ApiServer:
    plan = json.loads((build / "plan.json").read_text())
    return api_server_of(r["type"] for r in plan["resources"])


def matrix_of_render(build: Path) -> dict[str, list[str]]:
    cluster, sources = cluster_from_objects(render_objects(build), stack_api_server(build))
    return cluster.matrix(sources)


def documented(text: str) -> dict[str, dict[str, list[str]]]:
    """Stack -> the intended matrix, from the ``## <stack>`` tables of docs/network.md."""
    stacks: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = stacks.setdefault(line[3:].strip(), {}) if " " not in line[3:].strip() else None
        elif current is not None and line.startswith("| ") and not line.startswith("| source"):
            source, reaches = (cell.strip() for cell in line.strip("|").split("|", 1))
            current[source] = sorted(e.strip("`") for e in reaches.strip(" |").split() if e.startswith("`"))
    return {stack: rows for stack, rows in stacks.items() if rows}


def differences(stack: str, intended: Mapping[str, Sequence[str]], computed: Mapping[str, Sequence[str]]) -> list[str]:
    """What the policies allow that the docs do not say, and the reverse, one line per namespace."""
    found = []
    for source in sorted(set(computed) - set(intended)):
        found.append(f"{stack}: namespace {source} has no row in docs/network.md; it reaches {' '.join(computed[source]) or 'nothing'}")
    for source in sorted(set(intended) - set(computed)):
        found.append(f"{stack}: docs/network.md has a row for {source}, which the stack does not create")
    for source in sorted(set(intended) & set(computed)):
        extra, missing = set(computed[source]) - set(intended[source]), set(intended[source]) - set(computed[source])
        if extra:
            found.append(f"{stack}: {source} reaches {' '.join(sorted(extra))}, which docs/network.md does not intend")
        if missing:
            found.append(f"{stack}: {source} cannot reach {' '.join(sorted(missing))}, which docs/network.md intends")
    return found


def markdown(stack: str, matrix: Mapping[str, Sequence[str]]) -> str:
    lines = [
        f"# Reachability, stack {stack}",
        "",
        "Computed by offline/reachability.py from the rendered NetworkPolicies (see docs/network.md).",
        "",
        "| source | reaches |",
        "|---|---|",
    ]
    lines += [f"| {source} | {' '.join(f'`{e}`' for e in entries) or '(nothing)'} |" for source, entries in matrix.items()]
    return "\n".join(lines) + "\n"


def write(build: Path, stack: str) -> dict[str, list[str]]:
    """``reachability.md`` and ``reachability.json`` in ``build``; returns the matrix."""
    matrix = matrix_of_render(build)
    (build / "reachability.json").write_text(json.dumps(matrix, indent=2, sort_keys=True) + "\n")
    (build / "reachability.md").write_text(markdown(stack, matrix))
    return matrix


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.reachability", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("build", type=Path, help="a render's folder, e.g. build/prod")
    options = parser.parse_args(argv)
    print(markdown(options.build.name, write(options.build, options.build.name)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
