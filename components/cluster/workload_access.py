"""WorkloadAccess: who may deploy and who may look, in the namespaces where models and Ray run.

Two namespace-scoped roles, bound to groups from the identity provider (on EKS, the groups that
access entries give IAM roles): deployers manage InferenceServices and Ray clusters and jobs and
read logs; viewers read them. Neither may read Secrets or exec into pods.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import SkipValidation

from ..core.args import Options, parse_args
from ..core.problems import Problem, escape
from ..core.types import matches
from ..core.util import explicit_depends_on

DEPLOYER_ROLE = "ai-platform-model-deployer"
VIEWER_ROLE = "ai-platform-viewer"
READ = ["get", "list", "watch"]
WRITE = [*READ, "create", "update", "patch", "delete"]
WORKLOADS = [
    {"apiGroups": ["serving.kserve.io"], "resources": ["inferenceservices", "inferenceservices/status"]},
    {"apiGroups": ["ray.io"], "resources": ["rayjobs", "rayclusters", "rayservices"]},
]
OBSERVED = [
    {"apiGroups": [""], "resources": ["pods", "pods/log", "services", "events", "configmaps"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "replicasets"]},
    {"apiGroups": ["batch"], "resources": ["jobs"]},
]


GroupName = Annotated[str, matches(re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.:@/]*$"), "a group name such as ml-deployers")]


class WorkloadAccessOptions(Options):
    """Who may deploy models and run Ray jobs, and who may only look (``access``)."""

    deployer_groups: list[GroupName] = ["ai-platform:deployers"]
    """Groups that deploy models and run Ray jobs; empty: the role exists, bound to no one."""
    viewer_groups: list[GroupName] = ["ai-platform:viewers"]
    """Groups that only look; empty: the role exists, bound to no one."""


class WorkloadAccessArgs(WorkloadAccessOptions):
    """The groups plus the namespaces the composition decides."""

    namespaces: SkipValidation[Sequence[str | pulumi.Output[str]]]
    """Namespaces of the models and Ray clusters."""


def problems(options: WorkloadAccessOptions) -> list[Problem]:
    """Groups that would bind a role to Kubernetes' own users, or to one group twice; pure, so stack
    config validation runs it too."""
    found = []
    first: dict[str, str] = {}
    for key in ("deployer_groups", "viewer_groups"):
        for index, group in enumerate(getattr(options, key)):
            if group.startswith("system:"):
                found.append(
                    Problem(
                        (key, index),
                        f"{escape(repr(group))}: 'system:' groups are Kubernetes' own (system:masters, every authenticated "
                        "user, every service account; EKS access entries refuse them); name a group of your identity provider",
                    )
                )
            elif group in first:
                where = "twice" if first[group] == key else f"in both {{{first[group]}}} and {{{key}}}: a group gets one role"
                found.append(Problem((key, index), f"{escape(repr(group))} is listed {where}"))
            first.setdefault(group, key)
    return found


def deployer_rules() -> list[dict[str, Any]]:
    return [{**rule, "verbs": WRITE} for rule in WORKLOADS] + [{**rule, "verbs": READ} for rule in OBSERVED]


def viewer_rules() -> list[dict[str, Any]]:
    return [{**rule, "verbs": READ} for rule in WORKLOADS + OBSERVED]


class WorkloadAccess(pulumi.ComponentResource):
    def __init__(self, name: str, args: WorkloadAccessArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        a = parse_args(WorkloadAccessArgs, args, component="WorkloadAccess", name=name, problems=problems)
        super().__init__("aiplatform:index:WorkloadAccess", name, None, opts)
        self._after = explicit_depends_on(opts)  # the namespaces must exist first
        roles = ((DEPLOYER_ROLE, deployer_rules(), a.deployer_groups), (VIEWER_ROLE, viewer_rules(), a.viewer_groups))
        for index, namespace in enumerate(a.namespaces):
            for role_name, rules, groups in roles:
                self._role(f"{name}-{index}-{role_name}", role_name, namespace, rules, groups)
        self.register_outputs({})

    def _role(self, resource_name: str, role_name: str, namespace: pulumi.Input[str], rules: list, groups: Sequence[str]) -> None:
        child = pulumi.ResourceOptions(parent=self, depends_on=self._after)
        role = k8s.rbac.v1.Role(resource_name, metadata={"name": role_name, "namespace": namespace}, rules=rules, opts=child)
        if not groups:
            return
        k8s.rbac.v1.RoleBinding(
            resource_name,
            metadata={"name": role_name, "namespace": namespace},
            role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": role.metadata["name"]},
            subjects=[{"kind": "Group", "api_group": "rbac.authorization.k8s.io", "name": group} for group in groups],
            opts=child,
        )
