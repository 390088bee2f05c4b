"""The policy pack (``policy/``): the same policy objects ``pulumi preview --policy-pack policy`` loads,
run offline (``policy.offline``) on the registrations of both rendered stacks.

Both stacks pass every policy; each rule catches a violation in a mutated copy of a rendered
resource or a hand-made one (``VIOLATIONS``: one case per rule variant, and each case must trip
that policy and no other); and the pack, started the way the CLI starts it, answers the engine's
Analyze/AnalyzeStack calls over gRPC with exactly the violations the offline harness reports.
"""

from __future__ import annotations

import copy
import json
import os
import select
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel, StackValidationPolicy

from offline.mockruntime import Registration
from policy import AWS_POLICIES, KUBERNETES_POLICIES, PACK_NAME, POLICIES
from policy.offline import Violation, mandatory, run

ROOT = Path(__file__).resolve().parents[1]
STACK_POLICIES = {
    "s3-bucket-encrypted",
    "s3-bucket-versioned",
    "s3-bucket-public-access-blocked",
    "s3-bucket-tls-only",
    "no-world-open-ingress",
}


@pytest.fixture(scope="module")
def stacks(rendered):
    return {"dev": rendered("dev").registrations, "prod": rendered("prod").registrations}


# ---- building resources ------------------------------------------------------------------------


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:test::ai-platform::{type_}::{name}"


def resource(type_: str, name: str, inputs: dict, **options: Any) -> Registration:
    """A hand-made registration, shaped like a recorded one."""
    fields = {
        "parent": "",
        "custom": True,
        "provider": "",
        "dependencies": [],
        "property_dependencies": {},
        "protect": False,
        "retain_on_delete": False,
        "ignore_changes": [],
        "delete_before_replace": False,
        "aliases": 0,
    }
    return Registration(urn=urn(type_, name), type=type_, name=name, inputs=inputs, **{**fields, **options})


def find(registrations: list[Registration], type_: str, name: str) -> Registration:
    (found,) = [r for r in registrations if r.type == type_ and r.name == name]
    return found


Mutation = Callable[[list[Registration]], list[Registration]]


def edit(type_: str, name: str, change: Callable[[dict], Any]) -> Mutation:
    """Copy of the stack where ``change`` rewrote the inputs of one resource."""

    def mutate(registrations):
        target = find(registrations, type_, name)
        inputs = copy.deepcopy(target.inputs)
        change(inputs)
        return [replace(r, inputs=inputs) if r is target else r for r in registrations]

    return mutate


def drop(type_: str, name: str) -> Mutation:
    def mutate(registrations):
        out = [r for r in registrations if not (r.type == type_ and r.name == name)]
        assert len(out) == len(registrations) - 1, f"no {type_} named {name!r}"
        return out

    return mutate


def add(make: Callable[[list[Registration]], Registration]) -> Mutation:
    """Copy of the stack with one more resource; ``make`` may refer to the stack's resources."""
    return lambda registrations: [*registrations, make(registrations)]


def container(inputs: dict, path: str) -> dict:
    """The container at a dotted path with [i] indexes, e.g. ``spec.template.spec.containers[0]``."""
    node: Any = inputs
    for step in path.replace("[", ".").replace("]", "").split("."):
        node = node[int(step)] if step.isdigit() else node[step]
    return node


# ---- the rendered resources the cases change ---------------------------------------------------

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
EKS = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
RDS = "aws:rds/instance:Instance"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
JOB = "kubernetes:batch/v1:Job"
RAY_CLUSTER = "kubernetes:ray.io/v1:RayCluster"
INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
PERSISTENT_VOLUME = "kubernetes:core/v1:PersistentVolume"
RELEASE = "kubernetes:helm.sh/v3:Release"
POD_SPEC = "spec.template.spec"
MAIN = f"{POD_SPEC}.containers[0]"
RAY_WORKER = "spec.workerGroupSpecs[0].template.spec.containers[0]"


def security_group_rule(registrations, name, group, **inputs):
    """An ingress SecurityGroupRule on the rendered security group ``group``."""
    target = find(registrations, SECURITY_GROUP, group)
    body = {"type": "ingress", "securityGroupId": f"{group}-id", **inputs}
    return resource(SG_RULE, name, body, property_dependencies={"securityGroupId": [target.urn]})


def load_balancer_with_group(ingress: list[dict]) -> Mutation:
    """A load balancer and its own security group with ``ingress`` rules."""

    def mutate(registrations):
        group = resource(SECURITY_GROUP, "ingress-lb", {"description": "ingress load balancer", "ingress": ingress})
        lb = resource(
            LOAD_BALANCER,
            "ingress",
            {"loadBalancerType": "application", "securityGroups": ["ingress-lb-id"]},
            property_dependencies={"securityGroups": [group.urn]},
        )
        return [*registrations, group, lb]

    return mutate


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """A change that sets ``path`` (dotted, [i] indexes) to ``value``; ``None`` deletes the key."""

    def change(inputs: dict) -> None:
        *parents, last = path.split(".")
        node = container(inputs, ".".join(parents)) if parents else inputs
        if value is None:
            del node[last]
        else:
            node[last] = value

    return change


@dataclass(frozen=True)
class Case:
    id: str
    stack: str
    mutate: Mutation
    policy: str
    expect: str  # a substring of the violation message


INSECURE_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}
)
WORLD_HTTPS = {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}

VIOLATIONS = [
    # S3 (stack policies)
    Case(
        "s3-no-encryption-config",
        "prod",
        drop(SSE, "ai-prod-models"),
        "s3-bucket-encrypted",
        "'ai-prod-models' has no server-side encryption",
    ),
    Case(
        "s3-sse-s3-not-kms",
        "prod",
        edit(SSE, "ai-prod-models", _set("rules.0.applyServerSideEncryptionByDefault", {"sseAlgorithm": "AES256"})),
        "s3-bucket-encrypted",
        "not SSE-KMS",
    ),
    Case("s3-no-versioning", "prod", drop(VERSIONING, "ai-prod-datasets"), "s3-bucket-versioned", "'ai-prod-datasets' has no versioning"),
    Case(
        "s3-versioning-suspended",
        "prod",
        edit(VERSIONING, "ai-prod-datasets", _set("versioningConfiguration.status", "Suspended")),
        "s3-bucket-versioned",
        "'Suspended'",
    ),
    Case(
        "s3-no-public-access-block",
        "prod",
        drop(PUBLIC_ACCESS_BLOCK, "ai-prod-models"),
        "s3-bucket-public-access-blocked",
        "has no public access block",
    ),
    Case(
        "s3-public-access-partly-blocked",
        "prod",
        edit(PUBLIC_ACCESS_BLOCK, "ai-prod-models", _set("restrictPublicBuckets", False)),
        "s3-bucket-public-access-blocked",
        "leaves restrictPublicBuckets off",
    ),
    Case("s3-no-bucket-policy", "prod", drop(BUCKET_POLICY, "ai-prod-models"), "s3-bucket-tls-only", "has no bucket policy"),
    Case(
        "s3-policy-without-tls-deny",
        "prod",
        edit(BUCKET_POLICY, "ai-prod-models", _set("policy", INSECURE_POLICY)),
        "s3-bucket-tls-only",
        "aws:SecureTransport is false",
    ),
    # EKS
    Case(
        "eks-public-to-world",
        "prod",
        edit(EKS, "ai-prod", _set("vpcConfig.publicAccessCidrs", ["0.0.0.0/0"])),
        "eks-endpoint-restricted",
        "open to ['0.0.0.0/0']",
    ),
    Case(
        "eks-public-without-cidrs",
        "prod",
        edit(EKS, "ai-prod", _set("vpcConfig.publicAccessCidrs", None)),
        "eks-endpoint-restricted",
        "open to ['0.0.0.0/0']",
    ),
    Case(
        "eks-no-secrets-encryption",
        "prod",
        edit(EKS, "ai-prod", _set("encryptionConfig", None)),
        "eks-secrets-encrypted",
        "no encryptionConfig",
    ),
    Case(
        "eks-encrypts-other-resources",
        "prod",
        edit(EKS, "ai-prod", _set("encryptionConfig.resources", ["configmaps"])),
        "eks-secrets-encrypted",
        "no encryptionConfig",
    ),
    Case(
        "eks-api-log-only",
        "prod",
        edit(EKS, "ai-prod", _set("enabledClusterLogTypes", ["api"])),
        "eks-control-plane-logs",
        "['audit', 'authenticator']",
    ),
    # IMDSv2
    Case(
        "launch-template-imdsv1",
        "prod",
        edit(LAUNCH_TEMPLATE, "training", _set("metadataOptions.httpTokens", "optional")),
        "imdsv2-required",
        "Launch template 'training' allows IMDSv1",
    ),
    Case(
        "launch-template-no-metadata-options",
        "prod",
        edit(LAUNCH_TEMPLATE, "ai-prod-system", _set("metadataOptions", None)),
        "imdsv2-required",
        "'ai-prod-system' allows IMDSv1: set metadataOptions.httpTokens to 'required' (is None)",
    ),
    Case(
        "node-group-without-launch-template",
        "prod",
        edit(NODE_GROUP, "inference", _set("launchTemplate", None)),
        "imdsv2-required",
        "'inference' has no launchTemplate",
    ),
    # RDS
    Case(
        "rds-unencrypted",
        "prod",
        edit(RDS, "model-registry-db", _set("storageEncrypted", False)),
        "rds-storage-encrypted",
        "does not encrypt",
    ),
    Case("rds-short-backups", "prod", edit(RDS, "model-registry-db", _set("backupRetentionPeriod", 3)), "rds-backups", "for 3 days"),
    Case(
        "rds-no-backup-retention", "prod", edit(RDS, "model-registry-db", _set("backupRetentionPeriod", None)), "rds-backups", "None days"
    ),
    Case(
        "rds-no-deletion-protection",
        "prod",
        edit(RDS, "model-registry-db", _set("deletionProtection", False)),
        "rds-deletion-protection",
        "no deletion protection",
    ),
    # Security groups (stack policy)
    Case(
        "sg-rule-ssh-from-world",
        "prod",
        add(
            lambda rs: security_group_rule(
                rs, "db-ssh", "model-registry-db", protocol="tcp", fromPort=22, toPort=22, cidrBlocks=["0.0.0.0/0"]
            )
        ),
        "no-world-open-ingress",
        "'db-ssh' admits ['0.0.0.0/0'] on tcp 22-22",
    ),
    Case(
        "sg-inline-all-from-ipv6-world",
        "prod",
        edit(SECURITY_GROUP, "training-efa", _set("ingress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"]}])),
        "no-world-open-ingress",
        "admits ['::/0']",
    ),
    Case(
        "sg-https-from-world-not-a-load-balancer",
        "prod",
        add(
            lambda rs: resource(
                SG_INGRESS_RULE,
                "db-https",
                {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0", "securityGroupId": "model-registry-db-id"},
                property_dependencies={"securityGroupId": [find(rs, SECURITY_GROUP, "model-registry-db").urn]},
            )
        ),
        "no-world-open-ingress",
        "'db-https' admits ['0.0.0.0/0'] on tcp 443-443",
    ),
    Case(
        "sg-load-balancer-http-from-world",
        "prod",
        load_balancer_with_group([WORLD_HTTPS, {**WORLD_HTTPS, "fromPort": 80, "toPort": 80}]),
        "no-world-open-ingress",
        "on tcp 80-80",
    ),
    # Kubernetes: privileged containers
    Case(
        "privileged-deployment",
        "dev",
        edit(DEPLOYMENT, "model-registry", _set(f"{MAIN}.securityContext.privileged", True)),
        "k8s-no-privileged-containers",
        "container 'mlflow' (spec.template.spec.containers[0]) is privileged in namespace 'mlflow'",
    ),
    Case(
        "privileged-ray-worker",
        "prod",
        edit(RAY_CLUSTER, "training", _set(f"{RAY_WORKER}.securityContext.privileged", True)),
        "k8s-no-privileged-containers",
        "container 'ray-worker'",
    ),
    # Kubernetes: requests and limits
    Case(
        "no-limits",
        "dev",
        edit(STATEFUL_SET, "model-registry-db", _set(f"{MAIN}.resources.limits", None)),
        "k8s-requests-and-limits",
        "has no resources limits.cpu, limits.memory",
    ),
    Case(
        "no-cpu-request",
        "dev",
        edit(JOB, "iris-model-minio-user", _set(f"{MAIN}.resources.requests.cpu", None)),
        "k8s-requests-and-limits",
        "has no resources requests.cpu",
    ),
    Case(
        "inference-model-without-resources",
        "prod",
        edit(INFERENCE_SERVICE, "chat-llm", _set("spec.canary.0.predictor.model.resources", None)),
        "k8s-requests-and-limits",
        "(spec.canary[0].predictor.model) has no resources",
    ),
    Case(
        "ray-autoscaler-without-resources",
        "dev",
        edit(RAY_CLUSTER, "ray-dev", _set("spec.autoscalerOptions.resources", None)),
        "k8s-requests-and-limits",
        "spec.autoscalerOptions has no resources",
    ),
    # Kubernetes: pinned images
    Case(
        "untagged-image",
        "dev",
        edit(STATEFUL_SET, "model-registry-db", _set(f"{MAIN}.image", "postgres")),
        "k8s-image-pinned",
        "image 'postgres' has no tag",
    ),
    Case(
        "untagged-image-registry-port",
        "dev",
        edit(STATEFUL_SET, "model-registry-db", _set(f"{MAIN}.image", "registry.local:5000/postgres")),
        "k8s-image-pinned",
        "has no tag",
    ),
    Case(
        "latest-image",
        "prod",
        edit(RAY_CLUSTER, "training", _set(f"{RAY_WORKER}.image", "docker.io/rayproject/ray:latest")),
        "k8s-image-pinned",
        "uses the 'latest' tag",
    ),
    # Kubernetes: hostPath
    Case(
        "host-path-in-job",
        "dev",
        edit(
            JOB,
            "iris-model-minio-user",
            lambda i: i["spec"]["template"]["spec"]["volumes"].append({"name": "host", "hostPath": {"path": "/"}}),
        ),
        "k8s-no-host-path",
        "'host' -> /",
    ),
    Case(
        "host-path-persistent-volume",
        "dev",
        add(
            lambda rs: resource(
                PERSISTENT_VOLUME, "scratch", {"metadata": {"name": "scratch"}, "spec": {"hostPath": {"path": "/mnt/scratch"}}}
            )
        ),
        "k8s-no-host-path",
        "PersistentVolume 'scratch' is a hostPath volume",
    ),
    # Helm releases
    Case(
        "helm-no-chart-version",
        "dev",
        edit(RELEASE, "kuberay-operator", _set("version", None)),
        "helm-release-pinned",
        "no exact chart version",
    ),
    Case("helm-chart-version-range", "prod", edit(RELEASE, "cert-manager", _set("version", "~1.18")), "helm-release-pinned", "'~1.18'"),
    Case(
        "helm-values-latest-tag",
        "dev",
        edit(RELEASE, "object-store", _set("values.mcImage.tag", "latest")),
        "helm-release-pinned",
        "values.mcImage.repository image 'quay.io/minio/mc:latest'",
    ),
    Case(
        "helm-values-untagged-image",
        "prod",
        edit(RELEASE, "envoy-gateway", _set("values.global.images.envoyGateway.image", "docker.io/envoyproxy/gateway")),
        "helm-release-pinned",
        "has no tag",
    ),
]


# ---- the pack ----------------------------------------------------------------------------------


def test_pack_has_every_policy_mandatory():
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names)) == 17
    assert POLICIES == AWS_POLICIES + KUBERNETES_POLICIES
    assert all(p.enforcement_level == EnforcementLevel.MANDATORY for p in POLICIES)
    assert {p.name for p in POLICIES if isinstance(p, StackValidationPolicy)} == STACK_POLICIES


def test_every_policy_has_a_violation_case():
    assert {c.policy for c in VIOLATIONS} == {p.name for p in POLICIES}
    assert len({c.id for c in VIOLATIONS}) == len(VIOLATIONS)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_rendered_stack_passes_every_policy(stacks, stack):
    violations = run(POLICIES, stacks[stack])
    assert violations == [], "\n".join(map(str, violations))


@pytest.mark.parametrize("case", VIOLATIONS, ids=lambda c: c.id)
def test_policy_catches(stacks, case):
    violations = mandatory(run(POLICIES, case.mutate(stacks[case.stack])))
    assert {v.policy for v in violations} == {case.policy}, "\n".join(map(str, violations))
    assert any(case.expect in v.message for v in violations), "\n".join(map(str, violations))


# ---- what the rules allow ----------------------------------------------------------------------


def _passes(registrations, config=None) -> list[Violation]:
    return run(POLICIES, registrations, config)


def test_private_endpoint_needs_no_cidrs(stacks):
    private = edit(EKS, "ai-prod", lambda i: i["vpcConfig"].update(endpointPublicAccess=False, publicAccessCidrs=[]))
    assert _passes(private(stacks["prod"])) == []


def test_load_balancer_may_take_https_from_the_world(stacks):
    assert _passes(load_balancer_with_group([WORLD_HTTPS, {**WORLD_HTTPS, "ipv6CidrBlocks": ["::/0"]}])(stacks["prod"])) == []


def test_bucket_settings_found_by_bucket_name_without_dependencies(stacks):
    """A bucket whose settings name it by a literal (no property dependency) still passes."""
    prod = stacks["prod"]
    bucket = resource(BUCKET, "scratch", {"bucket": "ai-prod-scratch"})
    settings = [
        replace(find(prod, t, "ai-prod-models"), name="scratch", urn=urn(t, "scratch"), property_dependencies={})
        for t in (SSE, VERSIONING, PUBLIC_ACCESS_BLOCK, BUCKET_POLICY)
    ]
    settings = [replace(s, inputs={**s.inputs, "bucket": "ai-prod-scratch"}) for s in settings]
    assert _passes([*prod, bucket, *settings]) == []
    assert {v.policy for v in _passes([*prod, bucket, *settings[1:]])} == {"s3-bucket-encrypted"}


def test_account_public_access_block_covers_every_bucket(stacks):
    account = resource(
        "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
        "account",
        dict.fromkeys(["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"], True),
    )
    without = drop(PUBLIC_ACCESS_BLOCK, "ai-prod-models")(stacks["prod"])
    assert _passes([*without, account]) == []


def test_gpu_operator_namespace_may_run_privileged_with_host_paths(stacks):
    def gpu_daemon(inputs):
        inputs["metadata"]["namespace"] = "gpu-operator"
        container(inputs, MAIN)["securityContext"]["privileged"] = True
        container(inputs, POD_SPEC)["volumes"].append({"name": "host", "hostPath": {"path": "/run/nvidia"}})

    assert _passes(edit(DEPLOYMENT, "model-registry", gpu_daemon)(stacks["dev"])) == []


def test_allowlists_are_policy_config(stacks):
    privileged = edit(DEPLOYMENT, "model-registry", _set(f"{MAIN}.securityContext.privileged", True))(stacks["dev"])
    assert _passes(privileged, {"k8s-no-privileged-containers": {"allowedNamespaces": ["mlflow"]}}) == []
    assert _passes(privileged, {"k8s-no-privileged-containers": {"allowedNamespaces": []}}) != []


def test_digest_pins_an_image(stacks):
    digest = "postgres@sha256:" + "0" * 64
    assert _passes(edit(STATEFUL_SET, "model-registry-db", _set(f"{MAIN}.image", digest))(stacks["dev"])) == []


def test_aurora_member_instances_are_judged_by_their_cluster(stacks):
    member = resource(RDS, "aurora-1", {"clusterIdentifier": "aurora", "engine": "aurora-postgresql", "instanceClass": "db.r7g.large"})
    cluster = resource(
        "aws:rds/cluster:Cluster", "aurora", {"storageEncrypted": True, "backupRetentionPeriod": 7, "deletionProtection": True}
    )
    assert _passes([*stacks["prod"], member, cluster]) == []
    assert {v.policy for v in _passes([*stacks["prod"], member, replace(cluster, inputs={})])} == {
        "rds-storage-encrypted",
        "rds-backups",
        "rds-deletion-protection",
    }


def test_unknown_values_are_advisory_like_in_a_preview(stacks):
    unknown = edit(EKS, "ai-prod", _set("vpcConfig.publicAccessCidrs", "[unknown]"))(stacks["prod"])
    violations = _passes(unknown)
    assert mandatory(violations) == []
    assert [(v.policy, v.enforcement) for v in violations] == [("eks-endpoint-restricted", EnforcementLevel.ADVISORY)]


# ---- the pack as the CLI runs it ---------------------------------------------------------------


@pytest.fixture(scope="module")
def analyzer():
    """The pack started as the Pulumi CLI starts a Python policy pack, and a gRPC client to it."""
    import grpc
    from pulumi.runtime.proto import analyzer_pb2_grpc

    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(ROOT / "policy")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout, stderr = process.stdout, process.stderr
    assert stdout is not None and stderr is not None  # both piped
    try:
        ready, _, _ = select.select([stdout], [], [], 60)
        line = stdout.readline().decode().strip() if ready else ""
        assert line.isdigit(), f"policy pack did not start: {line!r} {os.read(stderr.fileno(), 65536).decode() if not ready else ''}"
        with grpc.insecure_channel(f"127.0.0.1:{line}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.wait()


@pytest.mark.integration
def test_cli_loads_the_pack_with_every_policy_mandatory(analyzer):
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import analyzer_pb2

    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == PACK_NAME
    assert [p.name for p in info.policies] == [p.name for p in POLICIES]
    assert {p.enforcementLevel for p in info.policies} == {analyzer_pb2.MANDATORY}


def _wire(r: Registration, by_urn: dict[str, Registration]):
    """``r`` as the engine sends it to an analyzer (AnalyzerResource)."""
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import analyzer_pb2

    def struct(inputs):
        value = struct_pb2.Struct()
        value.update(inputs)
        return value

    provider = by_urn.get(r.provider)
    return analyzer_pb2.AnalyzerResource(
        type=r.type,
        properties=struct(r.inputs),
        urn=r.urn,
        name=r.name,
        options=analyzer_pb2.AnalyzerResourceOptions(protect=r.protect, ignoreChanges=r.ignore_changes, parent=r.parent),
        provider=analyzer_pb2.AnalyzerProviderResource(
            type=provider.type, properties=struct(provider.inputs), urn=provider.urn, name=provider.name
        )
        if provider
        else None,
        parent=r.parent,
        dependencies=r.dependencies,
        propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v) for k, v in r.property_dependencies.items()},
    )


def _engine_violations(analyzer, registrations: list[Registration]) -> set[tuple[str, str, str]]:
    from pulumi.runtime.proto import analyzer_pb2

    by_urn = {r.urn: r for r in registrations}
    wire = [_wire(r, by_urn) for r in registrations]
    found = set()
    for resource_ in wire:
        request = analyzer_pb2.AnalyzeRequest(
            type=resource_.type, properties=resource_.properties, urn=resource_.urn, name=resource_.name, options=resource_.options
        )
        if resource_.HasField("provider"):
            request.provider.CopyFrom(resource_.provider)
        for d in analyzer.Analyze(request).diagnostics:
            found.add((d.policyName, d.urn or resource_.urn, d.message.split("\n", 1)[1]))
    for d in analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=wire)).diagnostics:
        found.add((d.policyName, d.urn, d.message.split("\n", 1)[1]))
    return found


@pytest.mark.integration
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_engine_path_reports_what_the_offline_harness_reports(analyzer, stacks, stack):
    """Each stack with its violation cases applied at once (a case whose target an earlier case
    removed or reshaped is left out): the pack's own gRPC servicer, fed as the engine feeds it, and
    the offline harness report the same violations, with the same messages, on the same resources."""
    registrations, applied = stacks[stack], set()
    for case in VIOLATIONS:
        if case.stack == stack:
            try:
                registrations = case.mutate(registrations)
            except (ValueError, KeyError, TypeError, IndexError):  # target gone or reshaped by an earlier case
                continue
            applied.add(case.policy)
    offline = {(v.policy, v.urn, v.message) for v in run(POLICIES, registrations)}
    assert {policy for policy, _, _ in offline} == applied
    assert _engine_violations(analyzer, registrations) == offline
