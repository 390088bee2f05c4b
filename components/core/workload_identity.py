"""IAM roles for Kubernetes service accounts, through EKS Pod Identity or IRSA.

Consumers describe what a service account may do; this module writes the trust policy that
matches the cluster's identity mode and, for Pod Identity, the association.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .contracts import IdentityCluster

POD_IDENTITY = "podIdentity"
IRSA = "irsa"


@dataclass
class ServiceAccountRole:
    role: aws.iam.Role
    service_account_annotations: dict[str, pulumi.Output[str]]
    """Annotations the service account needs (IRSA's role ARN; none for Pod Identity)."""
    grants: list[pulumi.Resource]
    """The role, its policies and the association: a pod using the role must wait for all."""
    pod_identity_agent: bool = False
    """Pods get the credentials from the EKS Pod Identity agent (an association exists), so an
    isolated namespace must let them reach it (``network_policy.allow_pod_identity_agent``)."""


def _irsa_trust(oidc_arn: str, issuer: str, namespace: str, service_account: str) -> str:
    host = issuer.removeprefix("https://")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": oidc_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{host}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


def pod_identity_trust(cluster_arn: str, namespace: str, service_account: str) -> str:
    """EKS Pod Identity may assume the role only for ``namespace/service_account`` on this cluster.

    Pod Identity tags every session it opens with the cluster's ARN, the namespace and the
    service account (EKS User Guide, "Create IAM role with trust policy required by EKS Pod
    Identity", pod-id-role, and the session tags of pod-id-abac); without conditions on them any
    association in the account, on any cluster, could assume the role.
    """
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "pods.eks.amazonaws.com"},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                    "Condition": {
                        "StringEquals": {
                            "aws:RequestTag/eks-cluster-arn": cluster_arn,
                            "aws:RequestTag/kubernetes-namespace": namespace,
                            "aws:RequestTag/kubernetes-service-account": service_account,
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


def service_account_role(
    name: str,
    cluster: IdentityCluster,
    namespace: str,
    service_account: str,
    *,
    policy_json: pulumi.Input[str] | None = None,
    managed_policy_arns: tuple[str, ...] = (),
    associate: bool = True,
    parent: pulumi.Resource,
) -> ServiceAccountRole:
    """A role only ``namespace/service_account`` can assume, with the given permissions.

    ``associate=False`` skips the Pod Identity association, for EKS add-ons that bind it themselves.
    """
    child = pulumi.ResourceOptions(parent=parent)
    if cluster.workload_identity == IRSA:
        trust = pulumi.Output.all(cluster.oidc_provider_arn, cluster.oidc_issuer).apply(
            lambda v: _irsa_trust(v[0], v[1], namespace, service_account)
        )
    else:
        trust = cluster.cluster_arn.apply(lambda arn: pod_identity_trust(arn, namespace, service_account))
    role = aws.iam.Role(name, assume_role_policy=trust, tags=cluster.tags, opts=child)
    grants: list[pulumi.Resource] = [role]
    if policy_json is not None:
        grants.append(aws.iam.RolePolicy(name, role=role.id, policy=policy_json, opts=child))
    for index, arn in enumerate(managed_policy_arns):
        grants.append(aws.iam.RolePolicyAttachment(f"{name}-{index}", role=role.name, policy_arn=arn, opts=child))
    if cluster.workload_identity == IRSA:
        return ServiceAccountRole(role, {"eks.amazonaws.com/role-arn": role.arn}, grants)
    if associate:
        grants.append(
            aws.eks.PodIdentityAssociation(
                name,
                cluster_name=cluster.cluster_name,
                namespace=namespace,
                service_account=service_account,
                role_arn=role.arn,
                tags=cluster.tags,
                opts=child,
            )
        )
    return ServiceAccountRole(role, {}, grants, pod_identity_agent=associate)
