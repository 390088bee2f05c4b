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
from policy.kubernetes_rules import POD_SECURITY_EXEMPTIONS
from policy.offline import Violation, mandatory, run

ROOT = Path(__file__).resolve().parents[1]
STACK_POLICIES = {
    "ebs-encrypted",
    "imds-hop-limit-one",
    "k8s-namespace-isolated",
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
KMS_KEY = "aws:kms/key:Key"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
SERVICE = "kubernetes:core/v1:Service"
ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
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


def split_rules(port: int, cidrs: list[str]) -> Mutation:
    """One ingress rule per CIDR on the database's security group, all on ``port``."""

    def mutate(registrations):
        rules = [
            security_group_rule(registrations, f"db-{i}", "model-registry-db", protocol="tcp", fromPort=port, toPort=port, cidrBlocks=[c])
            for i, c in enumerate(cidrs)
        ]
        return [*registrations, *rules]

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
WILDCARD_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
NOT_ACTION_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": ["*"]}]})
WORLD_HTTPS = {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}

VIOLATIONS = [
    # S3 (stack policies)
    Case(
        "s3-no-encryption-config",
        "prod",
        drop(SSE, "object-store-models"),
        "s3-bucket-encrypted",
        "'object-store-models' has no server-side encryption",
    ),
    Case(
        "s3-sse-s3-not-kms",
        "prod",
        edit(SSE, "object-store-models", _set("rules.0.applyServerSideEncryptionByDefault", {"sseAlgorithm": "AES256"})),
        "s3-bucket-encrypted",
        "not SSE-KMS",
    ),
    Case(
        "s3-no-versioning",
        "prod",
        drop(VERSIONING, "object-store-datasets"),
        "s3-bucket-versioned",
        "'object-store-datasets' has no versioning",
    ),
    Case(
        "s3-versioning-suspended",
        "prod",
        edit(VERSIONING, "object-store-datasets", _set("versioningConfiguration.status", "Suspended")),
        "s3-bucket-versioned",
        "'Suspended'",
    ),
    Case(
        "s3-no-public-access-block",
        "prod",
        drop(PUBLIC_ACCESS_BLOCK, "object-store-models"),
        "s3-bucket-public-access-blocked",
        "has no public access block",
    ),
    Case(
        "s3-public-access-partly-blocked",
        "prod",
        edit(PUBLIC_ACCESS_BLOCK, "object-store-models", _set("restrictPublicBuckets", False)),
        "s3-bucket-public-access-blocked",
        "leaves restrictPublicBuckets off",
    ),
    Case("s3-no-bucket-policy", "prod", drop(BUCKET_POLICY, "object-store-models"), "s3-bucket-tls-only", "has no bucket policy"),
    Case(
        "s3-policy-without-tls-deny",
        "prod",
        edit(BUCKET_POLICY, "object-store-models", _set("policy", INSECURE_POLICY)),
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
        "launch-template-no-http-tokens",
        "prod",
        edit(LAUNCH_TEMPLATE, "ai-prod-system", _set("metadataOptions.httpTokens", None)),
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
        "Deployment 'model-registry' (namespace 'mlflow'): container 'mlflow' (spec.template.spec.containers[0]) is privileged",
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


# The issue's classes of injected violation (issue 13, section 3) -> the cases that inject one.
INJECTED = {
    "pod security: host namespaces": ["host-network-deployment", "host-pid-ray-worker"],
    "pod security: added capabilities": ["added-capability"],
    "pod security: root": ["uid-0-container", "job-without-run-as-non-root", "inference-run-as-non-root-false"],
    "pod security: privilege escalation": ["deployment-escalation-unset", "ray-worker-escalation-true"],
    "pod security: privileged": ["privileged-deployment", "privileged-ray-worker"],
    "exposed Service (LoadBalancer / NodePort)": ["service-load-balancer", "service-node-port", "helm-values-service-node-port"],
    "exposed gateway proxies": ["envoy-proxy-default-service", "envoy-proxy-node-port"],
    "unencrypted EBS: launch template": ["launch-template-unencrypted-volume", "launch-template-no-volumes"],
    "unencrypted EBS: StorageClass": ["storage-class-unencrypted"],
    "RDS publicly accessible": ["rds-public"],
    "KMS rotation off": ["kms-rotation-off", "kms-rotation-unset"],
    "IAM wildcard actions on wildcard resources": ["iam-service-wildcard", "iam-not-action", "iam-admin-attachment"],
    "IMDS hop limit above 1 on nodes": ["imds-hop-limit-2", "imds-hop-limit-unset"],
    "public endpoint CIDRs covering the internet": [
        "eks-public-to-world",
        "eks-cidr-union-covers-ipv4",
        "eks-ipv6-world",
        "sg-rules-together-cover-ipv4",
    ],
    "namespace without default-deny or Pod Security label": [
        "namespace-without-default-deny",
        "default-deny-allows",
        "namespace-without-psa",
    ],
    "Helm values: default credentials": [
        "helm-grafana-admin-password",
        "helm-minio-user-secret-key",
        "helm-minio-default-users",
        "helm-minioadmin",
    ],
    "Helm values: privileged settings": ["helm-values-escalation", "helm-values-host-network", "helm-values-root"],
}

VIOLATIONS += [
    # Public endpoints: any set of CIDRs that covers an address family
    Case(
        "eks-cidr-union-covers-ipv4",
        "prod",
        edit(EKS, "ai-prod", _set("vpcConfig.publicAccessCidrs", ["0.0.0.0/1", "128.0.0.0/1"])),
        "eks-endpoint-restricted",
        "which cover 0.0.0.0/0",
    ),
    Case(
        "eks-ipv6-world",
        "prod",
        edit(EKS, "ai-prod", _set("vpcConfig.publicAccessCidrs", ["203.0.113.0/24", "::/0"])),
        "eks-endpoint-restricted",
        "which cover ::/0",
    ),
    Case(
        "sg-rules-together-cover-ipv4",
        "prod",
        split_rules(5432, ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"]),
        "no-world-open-ingress",
        "'db-2' admits ['128.0.0.0/1'] on tcp 5432-5432 (with the group's other rules on these ports, together 0.0.0.0/0)",
    ),
    # RDS, KMS, IAM
    Case(
        "rds-public", "prod", edit(RDS, "model-registry-db", _set("publiclyAccessible", True)), "rds-not-public", "is publicly accessible"
    ),
    Case(
        "kms-rotation-off",
        "prod",
        edit(KMS_KEY, "object-store-buckets", _set("enableKeyRotation", False)),
        "kms-key-rotation",
        "KMS key 'object-store-buckets' does not rotate",
    ),
    Case(
        "kms-rotation-unset",
        "prod",
        edit(KMS_KEY, "ai-prod-secrets", _set("enableKeyRotation", None)),
        "kms-key-rotation",
        "does not rotate",
    ),
    Case(
        "iam-service-wildcard",
        "prod",
        edit(ROLE_POLICY, "training-ray", _set("policy", WILDCARD_POLICY)),
        "iam-no-wildcard-permissions",
        "policy allows s3:* on every resource",
    ),
    Case(
        "iam-not-action",
        "prod",
        edit(ROLE_POLICY, "chat-llm-model", _set("policy", NOT_ACTION_POLICY)),
        "iam-no-wildcard-permissions",
        "allows NotAction iam:* on every resource",
    ),
    Case(
        "iam-admin-attachment",
        "prod",
        edit(ROLE_POLICY_ATTACHMENT, "ai-prod-node-0", _set("policyArn", "arn:aws:iam::aws:policy/AdministratorAccess")),
        "iam-no-wildcard-permissions",
        "attaches arn:aws:iam::aws:policy/AdministratorAccess",
    ),
    # Node metadata hop limit
    Case(
        "imds-hop-limit-2",
        "prod",
        edit(LAUNCH_TEMPLATE, "inference", _set("metadataOptions.httpPutResponseHopLimit", 2)),
        "imds-hop-limit-one",
        "'inference' of EKS nodes has metadataOptions.httpPutResponseHopLimit 2, not 1",
    ),
    Case(
        "imds-hop-limit-unset",
        "prod",
        edit(LAUNCH_TEMPLATE, "ai-prod-system", _set("metadataOptions.httpPutResponseHopLimit", None)),
        "imds-hop-limit-one",
        "httpPutResponseHopLimit None, not 1",
    ),
    # EBS encryption
    Case(
        "launch-template-unencrypted-volume",
        "prod",
        edit(LAUNCH_TEMPLATE, "training", _set("blockDeviceMappings.0.ebs.encrypted", "false")),
        "ebs-encrypted",
        "'training' volume '/dev/xvda' is not encrypted",
    ),
    Case(
        "launch-template-no-volumes",
        "prod",
        edit(LAUNCH_TEMPLATE, "mig", _set("blockDeviceMappings", None)),
        "ebs-encrypted",
        "'mig' declares no EBS volume",
    ),
    Case(
        "storage-class-unencrypted",
        "prod",
        edit(STORAGE_CLASS, "ai-prod-gp3", _set("parameters.encrypted", None)),
        "ebs-encrypted",
        "'ai-prod-gp3' provisions EBS volumes without parameters.encrypted 'true'",
    ),
    # Pod Security (restricted fields)
    Case(
        "host-network-deployment",
        "dev",
        edit(DEPLOYMENT, "model-registry", _set(f"{POD_SPEC}.hostNetwork", True)),
        "k8s-no-host-namespaces",
        "Deployment 'model-registry' (namespace 'mlflow'): spec.template.spec.hostNetwork is true",
    ),
    Case(
        "host-pid-ray-worker",
        "prod",
        edit(RAY_CLUSTER, "training", _set("spec.workerGroupSpecs.1.template.spec.hostPID", True)),
        "k8s-no-host-namespaces",
        "spec.workerGroupSpecs[1].template.spec.hostPID is true",
    ),
    Case(
        "added-capability",
        "dev",
        edit(STATEFUL_SET, "model-registry-db", _set(f"{MAIN}.securityContext.capabilities.add", ["NET_BIND_SERVICE", "SYS_ADMIN"])),
        "k8s-no-added-capabilities",
        "adds capabilities ['SYS_ADMIN']",
    ),
    Case(
        "uid-0-container",
        "prod",
        edit(DEPLOYMENT, "model-registry", _set(f"{MAIN}.securityContext.runAsUser", 0)),
        "k8s-run-as-non-root",
        "container 'mlflow' (spec.template.spec.containers[0]) runs as uid 0",
    ),
    Case(
        "job-without-run-as-non-root",
        "dev",
        edit(JOB, "iris-model-minio-user", _set(f"{POD_SPEC}.securityContext.runAsNonRoot", None)),
        "k8s-run-as-non-root",
        "may run as root: runAsNonRoot is None, not true",
    ),
    Case(
        "inference-run-as-non-root-false",
        "prod",
        edit(INFERENCE_SERVICE, "chat-llm", _set("spec.canary.0.predictor.securityContext.runAsNonRoot", False)),
        "k8s-run-as-non-root",
        "(spec.canary[0].predictor.model) may run as root: runAsNonRoot is False",
    ),
    Case(
        "deployment-escalation-unset",
        "dev",
        edit(DEPLOYMENT, "model-registry", _set(f"{MAIN}.securityContext.allowPrivilegeEscalation", None)),
        "k8s-no-privilege-escalation",
        "container 'mlflow' (spec.template.spec.containers[0]) allowPrivilegeEscalation is None, not false",
    ),
    Case(
        "ray-worker-escalation-true",
        "prod",
        edit(RAY_CLUSTER, "training", _set(f"{RAY_WORKER}.securityContext.allowPrivilegeEscalation", True)),
        "k8s-no-privilege-escalation",
        "allowPrivilegeEscalation is True",
    ),
    # Exposure outside the cluster
    Case(
        "service-load-balancer",
        "prod",
        edit(SERVICE, "model-registry-service", _set("spec.type", "LoadBalancer")),
        "k8s-no-external-services",
        "Service 'model-registry-service' (namespace 'mlflow') is of type 'LoadBalancer'",
    ),
    Case(
        "service-node-port",
        "dev",
        edit(SERVICE, "model-registry-db", _set("spec.type", "NodePort")),
        "k8s-no-external-services",
        "'NodePort'",
    ),
    Case(
        "helm-values-service-node-port",
        "dev",
        edit(RELEASE, "observability", _set("values.prometheus.service.type", "NodePort")),
        "k8s-no-external-services",
        "values.prometheus.service.type is 'NodePort'",
    ),
    Case(
        "envoy-proxy-default-service",
        "prod",
        edit(ENVOY_PROXY, "envoy-gateway-proxy-config", _set("spec.provider.kubernetes.envoyService", None)),
        "k8s-no-external-services",
        "gives the gateway proxies a 'LoadBalancer' Service",
    ),
    Case(
        "envoy-proxy-node-port",
        "prod",
        edit(ENVOY_PROXY, "envoy-gateway-proxy-config", _set("spec.provider.kubernetes.envoyService.type", "NodePort")),
        "k8s-no-external-services",
        "a 'NodePort' Service",
    ),
    # Namespace isolation
    Case(
        "namespace-without-default-deny",
        "dev",
        drop(NETWORK_POLICY, "mlflow-default-deny"),
        "k8s-namespace-isolated",
        "Namespace 'mlflow' has no default-deny NetworkPolicy",
    ),
    Case(
        "default-deny-allows",
        "prod",
        edit(NETWORK_POLICY, "mlflow-default-deny", _set("spec.ingress", [{}])),
        "k8s-namespace-isolated",
        "Namespace 'mlflow' has no default-deny",
    ),
    Case(
        "namespace-without-psa",
        "prod",
        edit(NAMESPACE, "mlflow", _set("metadata.labels", {"ai-platform.io/platform": "true"})),
        "k8s-namespace-isolated",
        "Namespace 'mlflow' has no Pod Security label pod-security.kubernetes.io/enforce (is None)",
    ),
    # Helm values: credentials and privileged settings
    Case(
        "helm-grafana-admin-password",
        "prod",
        edit(RELEASE, "observability", _set("values.grafana.adminPassword", "s3cret-but-literal")),
        "helm-values-no-credentials",
        "values.grafana.adminPassword sets a credential",
    ),
    Case(
        "helm-minio-user-secret-key",
        "dev",
        edit(RELEASE, "object-store", _set("values.users", [{"accessKey": "ml", "secretKey": "ml-secret-key", "policy": "readwrite"}])),
        "helm-values-no-credentials",
        "values.users[0].secretKey sets a credential",
    ),
    Case(
        "helm-minio-default-users",
        "dev",
        edit(RELEASE, "object-store", _set("values.users", None)),
        "helm-values-no-credentials",
        "values.users is not set, so the chart's values.yaml (5.4.0) creates user 'console'",
    ),
    Case(
        "helm-minioadmin",
        "dev",
        edit(RELEASE, "object-store", _set("values.rootUser", "minioadmin")),
        "helm-values-no-credentials",
        "values.rootUser is the published default credential 'minioadmin'",
    ),
    Case(
        "helm-values-escalation",
        "dev",
        edit(RELEASE, "kuberay-operator", _set("values.securityContext.allowPrivilegeEscalation", True)),
        "helm-values-not-privileged",
        "values.securityContext.allowPrivilegeEscalation is true",
    ),
    Case(
        "helm-values-host-network",
        "prod",
        edit(RELEASE, "metrics-server", _set("values.hostNetwork.enabled", True)),
        "helm-values-not-privileged",
        "values.hostNetwork is on",
    ),
    Case(
        "helm-values-root",
        "prod",
        edit(RELEASE, "cert-manager", _set("values.webhook.securityContext.runAsUser", 0)),
        "helm-values-not-privileged",
        "values.webhook.securityContext.runAsUser is 0 (root)",
    ),
]


@dataclass(frozen=True)
class Compliant:
    """A change next to a policy's line that stays on the allowed side of it."""

    id: str
    stack: str
    mutate: Mutation
    policy: str
    config: dict | None = None


def _exemption(kind: str, namespace: str, name: str, *fields: str) -> dict:
    return {"kind": kind, "namespace": namespace, "name": name, "fields": list(fields), "why": "test"}


NODE_INSTANCE_POLICY = json.dumps(
    {"Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "arn:aws:ec2:us-west-2:123456789012:instance/*"}]}
)
COMPLIANT = [
    Compliant("sse-dsse-kms", "prod", edit(SSE, "object-store-models", _set("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm", "aws:kms:dsse")), "s3-bucket-encrypted"),
    Compliant("versioning-enabled", "prod", edit(VERSIONING, "object-store-datasets", _set("versioningConfiguration.status", "Enabled")), "s3-bucket-versioned"),
    Compliant(
        "account-public-access-block",
        "prod",
        lambda rs: [
            *drop(PUBLIC_ACCESS_BLOCK, "object-store-models")(rs),
            resource("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "account", dict.fromkeys(["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"], True)),
        ],
        "s3-bucket-public-access-blocked",
    ),
    Compliant("tls-deny-with-star-action", "prod", edit(BUCKET_POLICY, "object-store-models", lambda i: i.update(policy=i["policy"].replace('"s3:*"', '"*"'))), "s3-bucket-tls-only"),
    Compliant("eks-cidrs-short-of-ipv4", "prod", edit(EKS, "ai-prod", _set("vpcConfig.publicAccessCidrs", ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3"])), "eks-endpoint-restricted"),
    Compliant("eks-private", "prod", edit(EKS, "ai-prod", lambda i: i["vpcConfig"].update(endpointPublicAccess=False, publicAccessCidrs=["0.0.0.0/0"])), "eks-endpoint-restricted"),
    Compliant("eks-secrets-and-more", "prod", edit(EKS, "ai-prod", _set("encryptionConfig.resources", ["secrets", "configmaps"])), "eks-secrets-encrypted"),
    Compliant("eks-security-logs-only", "prod", edit(EKS, "ai-prod", _set("enabledClusterLogTypes", ["api", "audit", "authenticator"])), "eks-control-plane-logs"),
    Compliant("imds-disabled", "prod", edit(LAUNCH_TEMPLATE, "training", _set("metadataOptions", {"httpEndpoint": "disabled"})), "imdsv2-required"),
    Compliant("rds-seven-days", "prod", edit(RDS, "model-registry-db", _set("backupRetentionPeriod", 7)), "rds-backups"),
    Compliant("rds-encrypted-aurora-member", "prod", add(lambda rs: resource(RDS, "aurora-1", {"clusterIdentifier": "aurora"})), "rds-storage-encrypted"),
    Compliant("rds-protected-aurora-member", "prod", add(lambda rs: resource(RDS, "aurora-2", {"clusterIdentifier": "aurora", "deletionProtection": False})), "rds-deletion-protection"),
    Compliant("rds-private-aurora-member", "prod", add(lambda rs: resource("aws:rds/clusterInstance:ClusterInstance", "aurora-3", {"publiclyAccessible": False})), "rds-not-public"),
    Compliant(
        "kms-asymmetric-key-without-rotation",
        "prod",
        add(lambda rs: resource(KMS_KEY, "signing", {"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"})),
        "kms-key-rotation",
    ),
    Compliant("iam-partial-wildcard-on-arns", "prod", edit(ROLE_POLICY, "training-ray", _set("policy", NODE_INSTANCE_POLICY)), "iam-no-wildcard-permissions"),
    Compliant(
        "imds-hop-limit-2-off-the-nodes",
        "prod",
        add(lambda rs: resource(LAUNCH_TEMPLATE, "bastion", {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2}, "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}]})),
        "imds-hop-limit-one",
    ),
    Compliant(
        "ebs-encrypted-by-default",
        "prod",
        lambda rs: [
            *edit(LAUNCH_TEMPLATE, "training", _set("blockDeviceMappings.0.ebs.encrypted", "false"))(rs),
            resource("aws:ebs/encryptionByDefault:EncryptionByDefault", "account", {"enabled": True}),
        ],
        "ebs-encrypted",
    ),
    Compliant("sg-halves-on-different-ports", "prod", lambda rs: split_rules(5432, ["0.0.0.0/1"])(split_rules(5433, ["128.0.0.0/1"])(rs)), "no-world-open-ingress"),
    Compliant(
        "privileged-exempted-workload",
        "dev",
        edit(DEPLOYMENT, "model-registry", _set(f"{MAIN}.securityContext.privileged", True)),
        "k8s-no-privileged-containers",
        {"k8s-no-privileged-containers": {"exemptions": [_exemption("Deployment", "mlflow", "mlflow", "privileged")]}},
    ),
    Compliant(
        "host-path-exempted-workload",
        "dev",
        edit(JOB, "iris-model-minio-user", lambda i: container(i, POD_SPEC)["volumes"].append({"name": "h", "hostPath": {"path": "/"}})),
        "k8s-no-host-path",
        {"k8s-no-host-path": {"exemptions": [_exemption("Job", "minio", "iris-model-minio-user", "hostPath")]}},
    ),
    Compliant("host-network-false", "dev", edit(DEPLOYMENT, "model-registry", _set(f"{POD_SPEC}.hostNetwork", False)), "k8s-no-host-namespaces"),
    Compliant(
        "net-bind-service-only",
        "dev",
        edit(STATEFUL_SET, "model-registry-db", _set(f"{MAIN}.securityContext.capabilities.add", ["NET_BIND_SERVICE"])),
        "k8s-no-added-capabilities",
    ),
    Compliant(
        "non-root-from-the-pod-with-a-uid",
        "dev",
        edit(DEPLOYMENT, "model-registry", _set(f"{MAIN}.securityContext.runAsUser", 1000)),
        "k8s-run-as-non-root",
    ),
    Compliant(
        "custom-resource-leaves-escalation-to-its-controller",
        "prod",
        edit(INFERENCE_SERVICE, "chat-llm", _set("spec.predictor.model.securityContext", {"capabilities": {"drop": ["ALL"]}})),
        "k8s-no-privilege-escalation",
    ),
    Compliant("limits-equal-requests", "dev", edit(STATEFUL_SET, "model-registry-db", lambda i: container(i, MAIN)["resources"].update(limits=dict(container(i, MAIN)["resources"]["requests"]))), "k8s-requests-and-limits"),
    Compliant("digest-pinned", "dev", edit(STATEFUL_SET, "model-registry-db", _set(f"{MAIN}.image", "postgres@sha256:" + "0" * 64)), "k8s-image-pinned"),
    Compliant(
        "gateway-exposed-by-opt-in",
        "prod",
        edit(ENVOY_PROXY, "envoy-gateway-proxy-config", _set("spec.provider.kubernetes.envoyService.type", "LoadBalancer")),
        "k8s-no-external-services",
        {"k8s-no-external-services": {"exposeGatewayProxies": True}},
    ),
    Compliant("namespace-baseline-label", "dev", edit(NAMESPACE, "mlflow", lambda i: i["metadata"]["labels"].update({"pod-security.kubernetes.io/enforce": "baseline"})), "k8s-namespace-isolated"),
    Compliant("helm-local-chart-without-version", "dev", edit(RELEASE, "kuberay-operator", lambda i: i.update(chart="./charts/kuberay-operator", version=None)), "helm-release-pinned"),
    Compliant(
        "helm-credential-from-existing-secret",
        "dev",
        edit(RELEASE, "object-store", _set("values.users", [{"accessKey": "ml", "existingSecret": "ml-user", "existingSecretKey": "password"}])),
        "helm-values-no-credentials",
    ),
    Compliant("helm-values-host-network-off", "prod", edit(RELEASE, "metrics-server", _set("values.hostNetwork.enabled", False)), "helm-values-not-privileged"),
]  # fmt: skip


# ---- the pack ----------------------------------------------------------------------------------


def test_pack_has_every_policy_mandatory():
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names)) == 30
    assert POLICIES == AWS_POLICIES + KUBERNETES_POLICIES
    assert all(p.enforcement_level == EnforcementLevel.MANDATORY for p in POLICIES)
    assert {p.name for p in POLICIES if isinstance(p, StackValidationPolicy)} == STACK_POLICIES


def test_every_policy_has_a_violation_case():
    assert {c.policy for c in VIOLATIONS} == {p.name for p in POLICIES}
    assert len({c.id for c in VIOLATIONS}) == len(VIOLATIONS)


def test_every_issue_class_has_injected_cases():
    ids = {c.id for c in VIOLATIONS}
    assert all(INJECTED.values())
    assert {case for cases in INJECTED.values() for case in cases} <= ids


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_rendered_stack_passes_every_policy(stacks, stack):
    violations = run(POLICIES, stacks[stack])
    assert violations == [], "\n".join(map(str, violations))


def test_every_policy_has_a_compliant_case():
    assert {c.policy for c in COMPLIANT} == {p.name for p in POLICIES}


@pytest.mark.parametrize("case", COMPLIANT, ids=lambda c: c.id)
def test_policy_allows(stacks, case):
    assert run(POLICIES, case.mutate(stacks[case.stack]), case.config) == []


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
        replace(find(prod, t, "object-store-models"), name="scratch", urn=urn(t, "scratch"), property_dependencies={})
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
    without = drop(PUBLIC_ACCESS_BLOCK, "object-store-models")(stacks["prod"])
    assert _passes([*without, account]) == []


def test_exemptions_are_per_workload_and_field(stacks):
    """An exemption names one workload (kind, namespace, name) and its fields: the same setting on
    another workload of the namespace, or another field on the same workload, is still caught."""
    mlflow = {"kind": "Deployment", "namespace": "mlflow", "name": "mlflow", "fields": ["privileged"], "why": "test"}
    privileged = edit(DEPLOYMENT, "model-registry", _set(f"{MAIN}.securityContext.privileged", True))(stacks["dev"])
    assert _passes(privileged, {"k8s-no-privileged-containers": {"exemptions": [mlflow]}}) == []
    other_name = {**mlflow, "name": "postgres"}
    assert {v.policy for v in _passes(privileged, {"k8s-no-privileged-containers": {"exemptions": [other_name]}})} == {
        "k8s-no-privileged-containers"
    }
    host_pid = edit(DEPLOYMENT, "model-registry", _set(f"{POD_SPEC}.hostPID", True))(stacks["dev"])
    assert {v.policy for v in _passes(host_pid, {"k8s-no-host-namespaces": {"exemptions": [mlflow]}})} == {"k8s-no-host-namespaces"}
    assert _passes(host_pid, {"k8s-no-host-namespaces": {"exemptions": [{**mlflow, "fields": ["hostPID"]}]}}) == []


def test_exemptions_are_few_and_each_says_why():
    assert 0 < len(POD_SECURITY_EXEMPTIONS) <= 6
    workloads = [(e.kind, e.namespace, e.name) for e in POD_SECURITY_EXEMPTIONS]
    assert len(set(workloads)) == len(workloads)
    assert all(e.fields and len(e.why) > 40 for e in POD_SECURITY_EXEMPTIONS)


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


# ---- what the stack config opts into ----------------------------------------------------------


def _prod_config(**gateway: Any):
    from policy.offline import stack_file_config

    return stack_file_config("prod", lambda platform: platform["kserve"]["ingressGateway"].update(gateway))


@pytest.mark.parametrize("service_type", ["LoadBalancer", "NodePort"])
def test_gateway_exposure_is_allowed_only_when_the_stack_config_opts_in(stacks, service_type):
    """kserve.ingressGateway.serviceType reaches the pack as policy config: the proxies' Service may then
    leave the cluster; by default (ClusterIP) the same EnvoyProxy is a violation."""
    from stacks.policy_config import policy_config

    exposed = edit(ENVOY_PROXY, "envoy-gateway-proxy-config", _set("spec.provider.kubernetes.envoyService.type", service_type))(
        stacks["prod"]
    )
    assert run(POLICIES, exposed, policy_config(_prod_config(serviceType=service_type))) == []
    default = policy_config(_prod_config())
    assert {v.policy for v in run(POLICIES, exposed, default)} == {"k8s-no-external-services"}
    # The opt-in covers the gateway's proxies only, not other Services.
    service = edit(SERVICE, "model-registry-service", _set("spec.type", service_type))(stacks["prod"])
    assert {v.policy for v in run(POLICIES, service, policy_config(_prod_config(serviceType=service_type)))} == {"k8s-no-external-services"}


# ---- the objects the charts render --------------------------------------------------------------


POD_SECURITY_AND_EXPOSURE = {
    "k8s-no-privileged-containers",
    "k8s-no-host-path",
    "k8s-no-host-namespaces",
    "k8s-no-added-capabilities",
    "k8s-run-as-non-root",
    "k8s-no-privilege-escalation",
    "k8s-no-external-services",
}


@pytest.fixture(scope="module")
def with_charts(stacks, expanded):
    from policy.offline import chart_objects

    def get(stack: str) -> list:
        objects = [o for name, e in expanded(stack).items() for o in chart_objects(name, e.objects)]
        assert len(objects) > 100
        return [*stacks[stack], *objects]

    return get


def _chart_violations(registrations, config=None) -> list[Violation]:
    policies = [p for p in POLICIES if p.name in POD_SECURITY_AND_EXPOSURE]
    return [v for v in mandatory(run(policies, registrations, config)) if v.urn and v.urn.startswith("urn:pulumi:chart::")]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_rendered_charts_pass_pod_security_and_exposure(with_charts, stack):
    violations = _chart_violations(with_charts(stack))
    assert violations == [], "\n".join(map(str, violations))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_whole_pack_passes_the_stacks_with_their_chart_objects(with_charts, stack):
    registrations = with_charts(stack)
    assert any(r.urn.startswith("urn:pulumi:chart::") for r in registrations), "the chart objects are in"
    from offline.scheduling import parse_stack
    from stacks.policy_config import policy_config

    violations = mandatory(run(POLICIES, registrations, policy_config(parse_stack(stack))))
    assert violations == [], "\n".join(map(str, violations))


FIELD_POLICIES = {
    "privileged": "k8s-no-privileged-containers",
    "hostPath": "k8s-no-host-path",
    "hostNetwork": "k8s-no-host-namespaces",
    "hostPID": "k8s-no-host-namespaces",
    "hostIPC": "k8s-no-host-namespaces",
    "capabilities": "k8s-no-added-capabilities",
    "runAsNonRoot": "k8s-run-as-non-root",
    "allowPrivilegeEscalation": "k8s-no-privilege-escalation",
    "resources": "k8s-requests-and-limits",
}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_chart_workloads_pass_only_through_their_exemptions(with_charts, stack):
    """Without the exemptions, exactly the exempted workloads are caught, by the policies of their fields."""

    policies = [p for p in POLICIES if p.name in set(FIELD_POLICIES.values())]

    def caught(config=None) -> set[tuple[str, str]]:
        # a chart object's urn ends in <release>/<namespace>/<name>
        found = mandatory(run(policies, with_charts(stack), config))
        return {("/".join(str(v.urn).rsplit("/", 2)[-2:]), v.policy) for v in found if str(v.urn).startswith(CHART)}

    no_exemptions = {name: {"exemptions": []} for name in set(FIELD_POLICIES.values())}
    expected = {(f"{e.namespace}/{e.name}", FIELD_POLICIES[f]) for e in POD_SECURITY_EXEMPTIONS for f in e.fields}
    assert caught(no_exemptions) - caught() == expected


CHART = "urn:pulumi:chart::"


def _edit_chart(kind: str, name: str, change: Callable[[dict], Any]) -> Mutation:
    def mutate(registrations):
        (target,) = [
            r for r in registrations if r.urn.startswith(CHART) and r.type.endswith(f":{kind}") and r.inputs["metadata"]["name"] == name
        ]
        inputs = copy.deepcopy(target.inputs)
        change(inputs)
        return [replace(r, inputs=inputs) if r is target else r for r in registrations]

    return mutate


@pytest.mark.parametrize(
    ("mutate", "policy", "expect"),
    [
        (
            _edit_chart("Deployment", "kserve-controller-manager", _set(f"{POD_SPEC}.hostNetwork", True)),
            "k8s-no-host-namespaces",
            "hostNetwork is true",
        ),
        (
            _edit_chart("Deployment", "gpu-operator", _set(f"{MAIN}.securityContext", {"privileged": True})),
            "k8s-no-privileged-containers",
            "container 'gpu-operator' (spec.template.spec.containers[0]) is privileged",
        ),
        (_edit_chart("Service", "observability-grafana", _set("spec.type", "LoadBalancer")), "k8s-no-external-services", "'LoadBalancer'"),
    ],
    ids=["chart-host-network", "chart-privileged-exempt-for-other-fields", "chart-service-load-balancer"],
)
def test_injected_violations_in_chart_objects_are_caught(with_charts, mutate, policy, expect):
    before = set(map(str, _chart_violations(with_charts("prod"))))
    new = [v for v in _chart_violations(mutate(with_charts("prod"))) if str(v) not in before]
    assert {v.policy for v in new} == {policy}, "\n".join(map(str, new))
    assert any(expect in v.message for v in new)


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
