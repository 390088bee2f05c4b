"""ModelRegistry: the MLflow tracking server and model registry.

Runs and registered models live in PostgreSQL (RDS in prod, in-cluster in dev); artifacts are
proxied by the server (``--serve-artifacts``) into the ObjectStore's ``models`` bucket.

Given an EKS ``cluster``, pass no Kubernetes provider and no ``depends_on`` in its options: its
Kubernetes children take the cluster's provider and wait for its ``workload_ready`` themselves,
so the database, its key and the IAM role are created while the cluster is (see ``on_cluster``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import AfterValidator, Field, SkipValidation

from .. import versions
from ..core.args import Options, parse_args
from ..core.contracts import DatabaseConnection, DatabaseKind, EksClusterLike, KubernetesCluster, ObjectStoreLike, StoreAccess
from ..core.namespace import platform_namespace
from ..core.network_policy import AWS_APIS, MLFLOW_CLIENT_LABEL, Allow, Isolation, allow_pod_identity_agent
from ..core.problems import Problem
from ..core.types import MoreThanZero, Name, matches
from ..core.util import IMAGE_BY_TAG, checkov_skips, explicit_depends_on, output_fields
from .storage_access import MODELS_BUCKET

PORT = 5000
SERVICE = "mlflow"
SERVICE_ACCOUNT = "mlflow"
"""MLflow reads and writes only this bucket (the models it registers are served from it)."""
LAUNCHER = Path(__file__).with_name("mlflow_launcher.py")
LAUNCHER_DIR = "/opt/ai-platform"
METRICS_DIR = "/tmp/mlflow-metrics"
ISOLATION = Isolation(
    # No authentication in MLflow: only namespaces that log to it (Ray clusters label theirs).
    # KServe never calls it (it downloads from the store: inference_service.py refuses MLflow URIs).
    ingress=[Allow(f"label:{MLFLOW_CLIENT_LABEL}", (PORT,), "tracking and registry clients: Ray jobs")],
    egress=[
        AWS_APIS,
        Allow("platform", (9000,), "MinIO's S3 API (dev)"),
        # RDS lives in the VPC's private subnets; its security group admits only the cluster.
        Allow("anywhere", (5432,), "PostgreSQL on RDS"),
    ],
)


def _holds_wal(size: str) -> str:
    """PostgreSQL keeps up to ``max_wal_size`` (1GB by default) of WAL: a smaller volume fills with it."""
    if size.endswith("Mi") and int(size[:-2]) < 1024:
        raise ValueError(f"must be at least 1Gi: PostgreSQL alone keeps up to 1GB of WAL (got {size!r})")
    return size


class ModelRegistryOptions(Options):
    """What a caller or a stack file sets for the model registry (``modelRegistry``)."""

    database: DatabaseKind | None = None
    """Where runs and registered models live: ``rds`` (PostgreSQL on RDS in the cluster's private
    subnets) or ``in-cluster`` (a PostgreSQL StatefulSet); unset: decided by context, ``rds`` when
    an EKS ``cluster`` is given (EKS stacks), ``in-cluster`` otherwise (existing clusters)."""
    multi_az: bool = True
    """RDS standby in a second AZ (``rds``)."""
    workers: int = Field(default=2, ge=1, le=16)
    """Server worker processes."""
    database_storage_size: Annotated[
        str, matches(re.compile(r"^\d+(Mi|Gi|Ti)$"), "a size such as 10Gi"), MoreThanZero, AfterValidator(_holds_wal)
    ] = "10Gi"
    """Volume of the in-cluster database (``in-cluster``)."""
    protect: bool | None = None
    """Protect the database from deletion and keep it on destroy; unset: decided by context, on
    when an EKS ``cluster`` is given (EKS stacks), off otherwise."""


class ModelRegistryArgs(ModelRegistryOptions):
    """The registry's options plus what the composition injects."""

    store: SkipValidation[ObjectStoreLike]
    """Object store whose ``models`` bucket holds the artifacts."""
    cluster: SkipValidation[EksClusterLike | None] = None
    """The EKS cluster (``rds``: its VPC, private subnets and security group; IAM for the pod); its
    presence also decides ``database`` and ``protect`` when they are unset."""
    namespace: Name = "mlflow"
    """Namespace of MLflow (and of the in-cluster database)."""
    artifacts_path: str = "mlflow"
    """Prefix of the artifacts inside the ``models`` bucket."""

    @property
    def effective_database(self) -> DatabaseKind:
        """``database``, or the one the context decides."""
        return self.database or ("rds" if self.cluster is not None else "in-cluster")

    @property
    def effective_protect(self) -> bool:
        """``protect``, or what the context decides."""
        return self.cluster is not None if self.protect is None else self.protect


def args_problems(a: ModelRegistryArgs) -> list[Problem]:
    """What the registry cannot be given (its options need no check beyond their types)."""
    if a.effective_database == "rds" and a.cluster is None:
        return [Problem(("cluster",), "required with {database} 'rds': the EKS cluster (its subnets and security group)")]
    return []


def allowed_hosts(namespace: str) -> str:
    """Host headers MLflow accepts (it rejects others against DNS rebinding): the service's
    cluster names, loopback and pod IPs (probes)."""
    names = [SERVICE, f"{SERVICE}.{namespace}", f"{SERVICE}.{namespace}.svc", f"{SERVICE}.{namespace}.svc.cluster.local"]
    return ",".join([*names, *(f"{n}:{PORT}" for n in names), "localhost:*", "127.0.0.1:*", "10.*", "172.*", "192.168.*"])


def server_args(namespace: str, artifacts_destination: pulumi.Input[str], workers: int) -> list[Any]:
    """Arguments of ``mlflow server`` (the backend store URI comes from the launcher's environment)."""
    return [
        "--host",
        "0.0.0.0",
        "--port",
        str(PORT),
        "--workers",
        str(workers),
        "--serve-artifacts",
        "--artifacts-destination",
        artifacts_destination,
        "--allowed-hosts",
        allowed_hosts(namespace),
        "--expose-prometheus",
        METRICS_DIR,
    ]


def database_env(db: DatabaseConnection) -> list[dict[str, Any]]:
    """What the launcher reads to build the backend store URI (see mlflow_launcher.py)."""
    env: list[dict[str, Any]] = [
        {"name": "DB_HOST", "value": db.host},
        {"name": "DB_PORT", "value": str(db.port)},
        {"name": "DB_NAME", "value": db.name},
        {"name": "DB_USER", "value": db.user},
    ]
    if db.password_secret_arn is not None:
        env.append({"name": "DB_SECRET_ARN", "value": db.password_secret_arn})
    else:
        env.append({"name": "DB_PASSWORD_FILE", "value": "/run/secrets/db/password"})
    if db.require_tls:
        env.append({"name": "DB_SSLMODE", "value": "require"})
    return env


def mlflow_container(args: list[str], env: list[Any], password_mount: bool) -> k8s.core.v1.ContainerArgsDict:
    # env is in the Kubernetes API spelling (StoreAccess.env() also feeds custom resources); the SDK passes it through.
    mounts: list[k8s.core.v1.VolumeMountArgsDict] = [
        {"name": "launcher", "mount_path": LAUNCHER_DIR, "read_only": True},
        {"name": "tmp", "mount_path": "/tmp"},
    ]
    if password_mount:
        mounts.append({"name": "db-password", "mount_path": "/run/secrets/db", "read_only": True})
    probe: k8s.core.v1.ProbeArgsDict = {"http_get": {"path": "/health", "port": "http"}}
    return {
        "name": "mlflow",
        "image": versions.MLFLOW_IMAGE,
        "image_pull_policy": "Always",
        "command": ["python", f"{LAUNCHER_DIR}/{LAUNCHER.name}"],
        "args": args,
        "env": env,
        "ports": [{"name": "http", "container_port": PORT}],
        "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}},
        # The first start migrates the database schema: allow it minutes, not seconds.
        "startup_probe": {**probe, "period_seconds": 10, "failure_threshold": 30},
        "readiness_probe": {**probe, "period_seconds": 10},
        "liveness_probe": {**probe, "period_seconds": 20, "failure_threshold": 3},
        "security_context": {"allow_privilege_escalation": False, "read_only_root_filesystem": True, "capabilities": {"drop": ["ALL"]}},
        "volume_mounts": mounts,
    }


def on_cluster(cluster: KubernetesCluster | None) -> pulumi.ResourceOptions | None:
    """What the registry's Kubernetes children add to their options: the cluster's provider and
    ``workload_ready``, when a cluster is given; None leaves them the registry's own options.

    The SDK registers a component only after its ``depends_on`` and the ids of the providers in its
    options resolve, and its children only after it (pulumi/runtime/resource.py,
    ``prepare_resource`` and ``_create_provider_ref``); a Kubernetes provider's id exists only once
    the cluster does. Given the cluster, the registry therefore takes no Kubernetes provider and
    waits for nothing in its own options (the composition passes none): the database, its key and
    the IAM role start at once, and only the Kubernetes children wait for the cluster and its
    nodes, through the cluster's provider (so destroy still removes them before the cluster)."""
    if cluster is None:
        return None
    return pulumi.ResourceOptions(provider=cluster.k8s_provider, depends_on=list(cluster.workload_ready))


def namespace_lifecycle(a: ModelRegistryArgs) -> pulumi.ResourceOptions:
    """The namespace holds the in-cluster database's volume: deleting it deletes the data, so it is
    protected with the database. With RDS it holds nothing that cannot be recreated."""
    protect = a.effective_protect and a.effective_database == "in-cluster"
    return pulumi.ResourceOptions(protect=protect, retain_on_delete=protect)


class ModelRegistry(pulumi.ComponentResource):
    tracking_uri: pulumi.Output[str]
    """In-cluster URL of the tracking server and registry."""
    namespace: pulumi.Output[str]
    deployment: k8s.apps.v1.Deployment
    database: DatabaseConnection
    """The backend store's connection (RDS or in-cluster PostgreSQL)."""

    def __init__(self, name: str, args: ModelRegistryArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        a = parse_args(ModelRegistryArgs, args, component="ModelRegistry", name=name, problems=args_problems)
        super().__init__("aiplatform:index:ModelRegistry", name, None, opts)
        self._name = name
        self._on_cluster = on_cluster(a.cluster)
        child = self._k8s()
        namespace = platform_namespace(
            a.namespace,
            pod_security="restricted",
            isolation=ISOLATION,
            parent=self,
            opts=self._on_cluster,
            lifecycle=namespace_lifecycle(a),
        )
        ns = a.namespace
        db = self.database = self._database(a, namespace)
        access = self._store_access(a, db, namespace)
        reach_credentials = self._reach_credentials(access, namespace)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={"name": SERVICE_ACCOUNT, "namespace": ns, "annotations": access.service_account_annotations},
            automount_service_account_token=False,
            opts=self._k8s(depends_on=[namespace]),
        )
        launcher = k8s.core.v1.ConfigMap(
            f"{name}-launcher",
            metadata={"name": f"{name}-launcher", "namespace": ns},
            data={LAUNCHER.name: LAUNCHER.read_text()},
            opts=self._k8s(depends_on=[namespace]),
        )
        destination = a.store.bucket_uri("models", a.artifacts_path)
        env = [*database_env(db), *self._store_env(access)]
        spec = self._deployment_spec(server_args(ns, destination, a.workers), env, db, launcher.metadata["name"])
        self.deployment = k8s.apps.v1.Deployment(
            name,
            metadata={
                "name": SERVICE,
                "namespace": ns,
                "labels": {"app.kubernetes.io/name": "mlflow"},
                "annotations": checkov_skips(**self._checkov_reasons(access)),
            },
            spec=spec,
            opts=self._k8s(depends_on=[account, launcher, *db.ready, *access.depends_on, *reach_credentials, *explicit_depends_on(opts)]),
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": SERVICE, "namespace": ns, "labels": {"app.kubernetes.io/name": "mlflow"}},
            spec={
                "type": "ClusterIP",
                "selector": {"app.kubernetes.io/name": "mlflow"},
                "ports": [{"name": "http", "port": PORT, "target_port": "http"}],
            },
            opts=child,
        )
        self.namespace = namespace.metadata["name"]
        self.tracking_uri = pulumi.Output.from_input(f"http://{SERVICE}.{ns}.svc.cluster.local:{PORT}")
        self.register_outputs(
            {
                "tracking_uri": self.tracking_uri,
                "namespace": self.namespace,
                "deployment": self.deployment.id,
                "database": output_fields(self.database),
            }
        )

    def _reach_credentials(self, access: StoreAccess, namespace: k8s.core.v1.Namespace) -> list[pulumi.Resource]:
        """The NetworkPolicy to the Pod Identity agent, when the pod's credentials come from it."""
        if not access.pod_identity_agent:
            return []
        policy = allow_pod_identity_agent(
            f"{self._name}-pod-identity-agent",
            namespace.metadata["name"],
            SERVICE_ACCOUNT,
            parent=self,
            opts=self._k8s(depends_on=[namespace]),
        )
        return [policy]

    def _k8s(self, **options: Any) -> pulumi.ResourceOptions:
        """Options of a Kubernetes child: the cluster's provider and ``workload_ready`` when the
        registry was given an EKS cluster (see ``on_cluster``)."""
        return pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self, **options), self._on_cluster)

    def _database(self, a: ModelRegistryArgs, namespace: k8s.core.v1.Namespace) -> DatabaseConnection:
        if a.effective_database == "rds":
            from .rds_postgres import RdsPostgres

            cluster = a.cluster
            assert cluster is not None, "database 'rds' has a cluster (args_problems)"
            return RdsPostgres(
                f"{self._name}-db",
                {
                    "subnet_ids": cluster.private_subnet_ids,
                    "vpc_id": cluster.vpc_id,
                    "client_security_group_id": cluster.cluster_security_group_id,
                    "multi_az": a.multi_az,
                    "protect": a.effective_protect,
                    "tags": cluster.tags,
                },
                pulumi.ResourceOptions(parent=self),
            ).connection
        from .postgres import InClusterPostgres

        return InClusterPostgres(
            f"{self._name}-db",
            {"namespace": namespace.metadata["name"], "storage_size": a.database_storage_size, "protect": a.effective_protect},
            self._k8s(),
        ).connection

    def _store_access(self, a: ModelRegistryArgs, db: DatabaseConnection, namespace: k8s.core.v1.Namespace) -> StoreAccess:
        """The pod's one IAM role: read its database secret (RDS) and write the artifacts."""
        cluster = a.cluster
        if cluster is not None and db.password_secret_arn is not None:
            from ..core.workload_identity import service_account_role

            policy = pulumi.Output.from_input(db.password_secret_arn).apply(_secret_read_policy)
            role = service_account_role(f"{self._name}-role", cluster, a.namespace, SERVICE_ACCOUNT, policy_json=policy, parent=self)
            access = a.store.grant_read_write(
                f"{self._name}-artifacts",
                namespace=a.namespace,
                service_account=SERVICE_ACCOUNT,
                parent=self,
                role=role.role,
                buckets=[MODELS_BUCKET],
                depends_on=[namespace],
            )
            # The grant is the store's: a new one with the role's annotations and grants added.
            return dataclasses.replace(
                access,
                service_account_annotations=role.service_account_annotations,
                depends_on=[*role.grants, *access.depends_on],
                pod_identity_agent=role.pod_identity_agent,
            )
        return a.store.grant_read_write(
            f"{self._name}-artifacts", namespace=a.namespace, service_account=SERVICE_ACCOUNT, parent=self, buckets=[MODELS_BUCKET]
        )

    @staticmethod
    def _checkov_reasons(access: StoreAccess) -> dict[str, str]:
        reasons = {
            "CKV_K8S_43": IMAGE_BY_TAG,
            "CKV_K8S_40": "the image's own user (uid 1000) owns its Python environment; it runs unprivileged and non-root",
        }
        if access.credentials_secret is not None:
            reasons["CKV_K8S_35"] = (
                "MLflow's S3 client reads MinIO keys from the environment (dev only; on AWS the pod's role is the credential)"
            )
        return reasons

    @staticmethod
    def _store_env(access: StoreAccess) -> list[dict[str, Any]]:
        # MLflow's S3 client reads its own variable for a non-AWS endpoint (MinIO).
        endpoint = [] if access.use_https else [{"name": "MLFLOW_S3_ENDPOINT_URL", "value": access.endpoint_url}]
        return [*access.env(), *endpoint, {"name": "HOME", "value": "/tmp"}]

    def _deployment_spec(
        self, args: list[str], env: list[Any], db: DatabaseConnection, launcher: pulumi.Input[str]
    ) -> k8s.apps.v1.DeploymentSpecArgsDict:
        labels = {"app.kubernetes.io/name": "mlflow"}
        password_file = db.password_secret is not None
        volumes: list[k8s.core.v1.VolumeArgsDict] = [
            {"name": "launcher", "config_map": {"name": launcher}},
            {"name": "tmp", "empty_dir": {}},
        ]
        if password_file:
            volumes.append({"name": "db-password", "secret": {"secret_name": db.password_secret}})
        return {
            "replicas": 1,
            "selector": {"match_labels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "service_account_name": SERVICE_ACCOUNT,
                    # Pod Identity and IRSA project their own token; MLflow never calls the Kubernetes API.
                    "automount_service_account_token": False,
                    "security_context": {
                        "run_as_non_root": True,
                        "run_as_user": 1000,
                        "run_as_group": 1000,
                        "fs_group": 1000,
                        "seccomp_profile": {"type": "RuntimeDefault"},
                    },
                    "containers": [mlflow_container(args, env, password_file)],
                    "volumes": volumes,
                },
            },
        }


def _secret_read_policy(secret_arn: str) -> str:
    import json

    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_arn}]},
        sort_keys=True,
    )
