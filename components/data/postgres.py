"""InClusterPostgres: a single PostgreSQL StatefulSet with a volume and a generated password (dev)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pydantic import SkipValidation

from ..core.args import Options, parse_args
from ..core.contracts import DatabaseConnection
from ..core.types import matches
from ..core.util import IMAGE_BY_TAG, checkov_skips

POSTGRES_IMAGE = "postgres:17.2-bookworm"
POSTGRES_UID = 999  # the postgres user of the Debian-based official image
PORT = 5432
PASSWORD_KEY = "password"


class InClusterPostgresArgs(Options):
    """Inputs of an in-cluster PostgreSQL (ModelRegistry builds one for ``database: in-cluster``)."""

    namespace: SkipValidation[str | pulumi.Output[str]]
    """Namespace of the database (and of its clients, which mount the password Secret)."""
    database: str = "mlflow"
    """Database and owner name."""
    storage_size: Annotated[str, matches(re.compile(r"^\d+(Mi|Gi|Ti)$"), "a size such as 10Gi")] = "10Gi"
    """Size of the data volume."""
    storage_class: str | None = None
    """StorageClass of the data volume; unset: the cluster default."""
    protect: bool = False
    """Protect the StatefulSet in Pulumi and keep it on delete (its volume is kept regardless:
    ``persistentVolumeClaimRetentionPolicy`` Retain), so an edit that would replace it (a new
    ``storage_size`` changes ``volumeClaimTemplates``) is refused instead of recreating it."""


def _container(database: str, secret_name: pulumi.Input[str]) -> k8s.core.v1.ContainerArgsDict:
    ready = ["pg_isready", "-h", "127.0.0.1", "-U", database, "-d", database]
    return {
        "name": "postgres",
        "image": POSTGRES_IMAGE,
        "image_pull_policy": "Always",
        "ports": [{"name": "postgres", "container_port": PORT}],
        "env": [
            {"name": "POSTGRES_USER", "value": database},
            {"name": "POSTGRES_DB", "value": database},
            {"name": "POSTGRES_PASSWORD_FILE", "value": f"/run/secrets/db/{PASSWORD_KEY}"},
            {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
        ],
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "readiness_probe": {"exec_": {"command": ready}, "period_seconds": 10},
        "liveness_probe": {"exec_": {"command": ready}, "initial_delay_seconds": 30, "period_seconds": 20, "failure_threshold": 6},
        "security_context": {
            "allow_privilege_escalation": False,
            "read_only_root_filesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volume_mounts": [
            {"name": "data", "mount_path": "/var/lib/postgresql/data"},
            {"name": "password", "mount_path": "/run/secrets/db", "read_only": True},
            {"name": "run", "mount_path": "/var/run/postgresql"},
            {"name": "tmp", "mount_path": "/tmp"},
        ],
    }


def statefulset_spec(a: InClusterPostgresArgs, secret_name: pulumi.Input[str], service: str) -> k8s.apps.v1.StatefulSetSpecArgsDict:
    labels = {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/part-of": "ai-platform"}
    claim: k8s.core.v1.PersistentVolumeClaimSpecArgsDict = {
        "access_modes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": a.storage_size}},
    }
    if a.storage_class:
        claim["storage_class_name"] = a.storage_class
    return {
        "service_name": service,
        "replicas": 1,
        "selector": {"match_labels": labels},
        # The data volume stays when the StatefulSet goes (Kubernetes' default, made explicit).
        "persistent_volume_claim_retention_policy": {"when_deleted": "Retain", "when_scaled": "Retain"},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "automount_service_account_token": False,
                "security_context": {
                    "run_as_non_root": True,
                    "run_as_user": POSTGRES_UID,
                    "run_as_group": POSTGRES_UID,
                    "fs_group": POSTGRES_UID,
                    "seccomp_profile": {"type": "RuntimeDefault"},
                },
                "containers": [_container(a.database, secret_name)],
                "volumes": [
                    {"name": "password", "secret": {"secret_name": secret_name}},
                    {"name": "run", "empty_dir": {}},
                    {"name": "tmp", "empty_dir": {}},
                ],
            },
        },
        "volume_claim_templates": [{"metadata": {"name": "data"}, "spec": claim}],
    }


class InClusterPostgres(pulumi.ComponentResource):
    host: pulumi.Output[str]
    """Cluster DNS name of the database service."""
    port: int
    database: str
    username: str
    password_secret: pulumi.Output[str]
    """Secret (in the database's namespace) whose ``password`` key holds the generated password."""
    ready: list[pulumi.Resource]
    connection: DatabaseConnection
    """How clients connect: a password file from ``password_secret``."""

    def __init__(self, name: str, args: InClusterPostgresArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        a = parse_args(InClusterPostgresArgs, args, component="InClusterPostgres", name=name)
        super().__init__("aiplatform:index:InClusterPostgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        password = random.RandomPassword(f"{name}-password", length=32, special=False, opts=child)
        secret = k8s.core.v1.Secret(
            f"{name}-password",
            metadata={"name": f"{name}-password", "namespace": a.namespace},
            string_data={PASSWORD_KEY: password.result},
            opts=child,
        )
        labels = {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/part-of": "ai-platform"}
        service = k8s.core.v1.Service(
            name,
            metadata={"name": name, "namespace": a.namespace},
            spec={"type": "ClusterIP", "selector": labels, "ports": [{"name": "postgres", "port": PORT, "target_port": "postgres"}]},
            opts=child,
        )
        statefulset = k8s.apps.v1.StatefulSet(
            name,
            metadata={
                "name": name,
                "namespace": a.namespace,
                "annotations": checkov_skips(
                    CKV_K8S_43=IMAGE_BY_TAG,
                    CKV_K8S_40="the image's postgres user (uid 999) owns its runtime directories; it runs unprivileged and non-root",
                ),
            },
            spec=statefulset_spec(a, secret.metadata["name"], name),
            opts=pulumi.ResourceOptions(parent=self, protect=a.protect, retain_on_delete=a.protect),
        )
        self.host = pulumi.Output.concat(name, ".", a.namespace, ".svc.cluster.local")
        self.port = PORT
        self.database = self.username = a.database
        self.password_secret = secret.metadata["name"]
        self.ready = [statefulset, service]
        self.connection = DatabaseConnection(
            kind="in-cluster",
            host=self.host,
            port=self.port,
            name=self.database,
            user=self.username,
            password_secret=self.password_secret,
            ready=tuple(self.ready),
        )
        self.register_outputs(
            {
                "host": self.host,
                "port": self.port,
                "database": self.database,
                "username": self.username,
                "password_secret": self.password_secret,
            }
        )
