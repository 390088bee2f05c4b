"""A model of how long ``pulumi up`` takes from an empty account: the critical path through the
dependency graph the program declares, weighted by typical create durations per resource type.

The engine creates a resource as soon as everything it depends on exists, so the deploy takes
(at least) as long as the heaviest chain of dependencies. Durations are typical, not worst case:

- EKS control plane 10 min: AWS, "Create an Amazon EKS cluster" ("cluster provisioning takes
  several minutes", 8-12 min observed widely); managed node group 4 min and add-ons 1-2 min:
  AWS EKS user guide and terraform-aws-eks issue reports.
- RDS PostgreSQL Multi-AZ 12 min, single-AZ 8 min: AWS RDS user guide ("creating a DB instance
  can take several minutes"), typical console timings.
- NAT gateway 2 min: AWS VPC user guide; KMS, IAM, S3, subnets: seconds.
- Helm releases wait for their workloads: 1-5 min depending on the chart (images pulled on new
  nodes); Kubernetes objects: seconds; Jobs: until they complete.

When a resource starts is decided by the SDK before the engine sees it. ``prepare_resource`` in
pulumi/runtime/resource.py (SDK 3.x) sends a registration only after

- every ``depends_on`` URN and every resource its inputs come from has resolved; a custom
  resource's URN and outputs resolve when its create finishes (the engine answers the
  registration then);
- its parent's URN has resolved: a component's when it registers, so a child starts no earlier
  than its parent component;
- for a custom resource, its provider's reference (``_create_provider_ref``: URN and id); for a
  component, the reference of every provider in its options (``provider``/``providers``), even
  one none of its children uses. A Kubernetes provider's id exists only once its kubeconfig
  does, i.e. after the EKS cluster (and its access entries): a component given the cluster's
  Kubernetes provider holds back all its children, its S3 buckets and RDS included.

So a resource starts at the latest finish among its dependencies, its parent, its provider and,
for a component, its providers; a component and a provider take no time of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

SECONDS = {
    "aws:eks/cluster:Cluster": 600,
    "aws:eks/nodeGroup:NodeGroup": 240,
    "aws:eks/addon:Addon": 90,
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": 5,
    "aws:eks/accessEntry:AccessEntry": 5,
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": 5,
    "aws:ec2/natGateway:NatGateway": 120,
    "aws:ec2/eip:Eip": 5,
    "aws:ec2/launchTemplate:LaunchTemplate": 5,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": 5,
    "aws:kms/key:Key": 10,
    "aws:rds/instance:Instance": 720,
    "aws:rds/subnetGroup:SubnetGroup": 5,
    "aws:cloudwatch/logGroup:LogGroup": 2,
    "kubernetes:batch/v1:Job": 30,
    "kubernetes:apps/v1:Deployment": 60,
    "kubernetes:apps/v1:StatefulSet": 60,
}
HELM_SECONDS = {"gpu-operator": 300, "kube-prometheus-stack": 180, "cert-manager": 90}
DEFAULT_AWS = 5
DEFAULT_KUBERNETES = 2
DEFAULT_HELM = 120


@dataclass(frozen=True)
class Step:
    urn: str
    type: str
    name: str
    seconds: int
    finishes_at: int


def duration(registration) -> int:
    """Typical seconds to create one resource (components and providers take none)."""
    if not registration.custom or registration.type.startswith("pulumi:providers:"):
        return 0
    if registration.type == "kubernetes:helm.sh/v3:Release":
        return HELM_SECONDS.get(registration.inputs.get("chart", ""), DEFAULT_HELM)
    if registration.type == "aws:rds/instance:Instance" and not registration.inputs.get("multiAz"):
        return 480
    if registration.type in SECONDS:
        return SECONDS[registration.type]
    return DEFAULT_KUBERNETES if registration.type.startswith("kubernetes:") else DEFAULT_AWS


def critical_path(recording) -> list[Step]:
    """The chain of resources that ends last, in creation order (components and providers appear
    where the chain waits for them to register)."""
    by_urn = recording.by_urn()
    finish: dict[str, int] = {}
    before: dict[str, str | None] = {}

    def visit(urn: str, trail: frozenset = frozenset()) -> int:
        if urn in finish:
            return finish[urn]
        if urn in trail:
            raise ValueError(f"dependency cycle through {urn}")
        registration = by_urn[urn]
        waits = sorted((visit(dep, trail | {urn}), dep) for dep in waits_for(registration) if dep in by_urn)
        start, previous = max(waits, default=(0, None))
        before[urn] = previous
        finish[urn] = start + duration(registration)
        return finish[urn]

    last = max(sorted(by_urn), key=visit, default=None)
    chain = []
    while last is not None:
        registration = by_urn[last]
        if duration(registration) or finish[last]:
            chain.append(Step(last, registration.type, registration.name, duration(registration), finish[last]))
        last = before[last]
    return chain[::-1]


def waits_for(registration) -> set[str]:
    """What the SDK waits for before it registers ``registration`` (see the module's docstring)."""
    deps = set(registration.dependencies)
    for urns in registration.property_dependencies.values():
        deps.update(urns)
    if registration.parent:
        deps.add(registration.parent)
    if registration.provider:
        deps.add(registration.provider)
    deps.update(getattr(registration, "providers", ()))
    return deps


def report(recording) -> str:
    chain = critical_path(recording)
    total = chain[-1].finishes_at if chain else 0
    lines = [f"modeled deploy from empty: {total / 60:.1f} min (critical path, typical durations)"]
    lines += [f"  {s.finishes_at / 60:5.1f} min  +{s.seconds:>4d}s  {_kind(s.type)} {s.name}" for s in chain]
    return "\n".join(lines)


def _kind(type_: str) -> str:
    if type_.startswith("pulumi:providers:"):
        return f"provider {type_.split(':')[-1]}"
    return type_.split(":")[-1]
