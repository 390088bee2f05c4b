"""ModelRegistry: the MLflow tracking server and model registry.

Runs and registered models live in PostgreSQL (RDS in prod, in-cluster in dev); artifacts are
proxied by the server (``--serve-artifacts``) into the ObjectStore's ``models`` bucket.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import versions
from ..core.namespace import platform_namespace
from ..core.network_policy import AWS_APIS, Allow, Isolation
from ..core.util import IMAGE_BY_TAG, checkov_skips, explicit_depends_on, with_defaults

if TYPE_CHECKING:
    from ..core.workload_identity import IdentityCluster
    from .storage_access import ObjectStoreLike, StoreAccess

PORT = 5000
SERVICE = "mlflow"
SERVICE_ACCOUNT = "mlflow"
LAUNCHER = Path(__file__).with_name("mlflow_launcher.py")
LAUNCHER_DIR = "/opt/ai-platform"
METRICS_DIR = "/tmp/mlflow-metrics"
ISOLATION = Isolation(
    ingress=[Allow("platform", (PORT,), "tracking and registry clients: Ray jobs, model serving, notebooks")],
    egress=[
        AWS_APIS,
        Allow("platform", (9000,), "MinIO's S3 API (dev)"),
        # RDS lives in the VPC's private subnets; its security group admits only the cluster.
        Allow("anywhere", (5432,), "PostgreSQL on RDS"),
    ],
)


class ModelRegistryArgs(TypedDict, total=False):
    store: Required["ObjectStoreLike"]
    """Object store whose ``models`` bucket holds the artifacts. Required."""
    database: str
    """``in-cluster`` (a PostgreSQL StatefulSet) or ``rds``. Default: ``in-cluster``."""
    cluster: Optional[Any]
    """The EKS cluster (``rds``: its VPC, private subnets and security group; IAM for the pod). Default: none."""
    namespace: str
    """Namespace of MLflow (and of the in-cluster database). Default: ``mlflow``."""
    artifacts_path: str
    """Prefix of the artifacts inside the ``models`` bucket. Default: ``mlflow``."""
    workers: int
    """Server worker processes. Default: 2."""
    database_storage_size: str
    """Volume of the in-cluster database. Default: ``10Gi``."""
    multi_az: bool
    """RDS standby in a second AZ. Default: true."""
    protect: bool
    """Protect the database from deletion and keep it on destroy. Default: false."""


DEFAULTS = {
    "database": "in-cluster",
    "cluster": None,
    "namespace": "mlflow",
    "artifacts_path": "mlflow",
    "workers": 2,
    "database_storage_size": "10Gi",
    "multi_az": True,
    "protect": False,
}


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


def database_env(db: Any) -> list[dict[str, Any]]:
    env = [
        {"name": "DB_HOST", "value": db.host},
        {"name": "DB_PORT", "value": str(db.port)},
        {"name": "DB_NAME", "value": db.database},
        {"name": "DB_USER", "value": db.username},
    ]
    if hasattr(db, "secret_arn"):
        return [*env, {"name": "DB_SECRET_ARN", "value": db.secret_arn}, {"name": "DB_SSLMODE", "value": "require"}]
    return [*env, {"name": "DB_PASSWORD_FILE", "value": "/run/secrets/db/password"}]


def mlflow_container(args: list[str], env: list[dict[str, Any]], password_mount: bool) -> dict[str, Any]:
    mounts = [
        {"name": "launcher", "mountPath": LAUNCHER_DIR, "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    if password_mount:
        mounts.append({"name": "db-password", "mountPath": "/run/secrets/db", "readOnly": True})
    probe = {"httpGet": {"path": "/health", "port": "http"}}
    return {
        "name": "mlflow",
        "image": versions.MLFLOW_IMAGE,
        "imagePullPolicy": "Always",
        "command": ["python", f"{LAUNCHER_DIR}/{LAUNCHER.name}"],
        "args": args,
        "env": env,
        "ports": [{"name": "http", "containerPort": PORT}],
        "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}},
        # The first start migrates the database schema: allow it minutes, not seconds.
        "startupProbe": {**probe, "periodSeconds": 10, "failureThreshold": 30},
        "readinessProbe": {**probe, "periodSeconds": 10},
        "livenessProbe": {**probe, "periodSeconds": 20, "failureThreshold": 3},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": mounts,
    }


class ModelRegistry(pulumi.ComponentResource):
    tracking_uri: pulumi.Output[str]
    """In-cluster URL of the tracking server and registry."""
    namespace: pulumi.Output[str]
    deployment: k8s.apps.v1.Deployment

    def __init__(self, name: str, args: ModelRegistryArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("aiplatform:index:ModelRegistry", name, None, opts)
        a = with_defaults(args, DEFAULTS)
        if a["database"] not in ("in-cluster", "rds"):
            raise ValueError(f"database must be 'in-cluster' or 'rds' (got {a['database']!r})")
        if a["database"] == "rds" and a["cluster"] is None:
            raise ValueError("database 'rds' needs the EKS cluster (its subnets and security group)")
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        namespace = platform_namespace(a["namespace"], pod_security="restricted", isolation=ISOLATION, parent=self)
        ns = a["namespace"]
        db = self._database(a, namespace)
        access = self._store_access(a, db, namespace)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={"name": SERVICE_ACCOUNT, "namespace": ns, "annotations": access.service_account_annotations},
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        launcher = k8s.core.v1.ConfigMap(
            f"{name}-launcher",
            metadata={"name": f"{name}-launcher", "namespace": ns},
            data={LAUNCHER.name: LAUNCHER.read_text()},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        destination = a["store"].bucket_uri("models", a["artifacts_path"])
        env = [*database_env(db), *self._store_env(access)]
        spec = self._deployment_spec(server_args(ns, destination, a["workers"]), env, db, launcher.metadata["name"])
        self.deployment = k8s.apps.v1.Deployment(
            name,
            metadata={
                "name": SERVICE,
                "namespace": ns,
                "labels": {"app.kubernetes.io/name": "mlflow"},
                "annotations": checkov_skips(**self._checkov_reasons(access)),
            },
            spec=spec,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[account, launcher, *getattr(db, "ready", [db]), *access.depends_on, *explicit_depends_on(opts)],
            ),
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": SERVICE, "namespace": ns, "labels": {"app.kubernetes.io/name": "mlflow"}},
            spec={
                "type": "ClusterIP",
                "selector": {"app.kubernetes.io/name": "mlflow"},
                "ports": [{"name": "http", "port": PORT, "targetPort": "http"}],
            },
            opts=child,
        )
        self.namespace = namespace.metadata["name"]
        self.tracking_uri = pulumi.Output.from_input(f"http://{SERVICE}.{ns}.svc.cluster.local:{PORT}")
        self.register_outputs({"tracking_uri": self.tracking_uri})

    def _database(self, a: dict, namespace: k8s.core.v1.Namespace) -> Any:
        if a["database"] == "rds":
            from .rds_postgres import RdsPostgres

            cluster = a["cluster"]
            return RdsPostgres(
                f"{self._name}-db",
                {
                    "subnet_ids": cluster.private_subnet_ids,
                    "vpc_id": cluster.vpc_id,
                    "client_security_group_id": cluster.cluster_security_group_id,
                    "multi_az": a["multi_az"],
                    "protect": a["protect"],
                    "tags": cluster.tags,
                },
                pulumi.ResourceOptions(parent=self),
            )
        from .postgres import InClusterPostgres

        return InClusterPostgres(
            f"{self._name}-db",
            {"namespace": namespace.metadata["name"], "storage_size": a["database_storage_size"]},
            pulumi.ResourceOptions(parent=self),
        )

    def _store_access(self, a: dict, db: Any, namespace: k8s.core.v1.Namespace) -> "StoreAccess":
        """The pod's one IAM role: read its database secret (RDS) and write the artifacts."""
        cluster: Optional["IdentityCluster"] = a["cluster"]
        role = None
        if cluster is not None and hasattr(db, "secret_arn"):
            from ..core.workload_identity import service_account_role

            policy = db.secret_arn.apply(_secret_read_policy)
            role = service_account_role(f"{self._name}-role", cluster, a["namespace"], SERVICE_ACCOUNT, policy_json=policy, parent=self)
            access = a["store"].grant_read_write(
                f"{self._name}-artifacts",
                namespace=a["namespace"],
                service_account=SERVICE_ACCOUNT,
                parent=self,
                role=role.role,
                depends_on=[namespace],
            )
            access.service_account_annotations = role.service_account_annotations
            access.depends_on = [*role.grants, *access.depends_on]
            return access
        return a["store"].grant_read_write(
            f"{self._name}-artifacts", namespace=a["namespace"], service_account=SERVICE_ACCOUNT, parent=self
        )

    @staticmethod
    def _checkov_reasons(access: "StoreAccess") -> dict[str, str]:
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
    def _store_env(access: "StoreAccess") -> list[dict[str, Any]]:
        # MLflow's S3 client reads its own variable for a non-AWS endpoint (MinIO).
        endpoint = [] if access.use_https else [{"name": "MLFLOW_S3_ENDPOINT_URL", "value": access.endpoint_url}]
        return [*access.env(), *endpoint, {"name": "HOME", "value": "/tmp"}]

    def _deployment_spec(self, args: list[str], env: list, db: Any, launcher: pulumi.Input[str]) -> dict[str, Any]:
        labels = {"app.kubernetes.io/name": "mlflow"}
        password_file = not hasattr(db, "secret_arn")
        volumes: list[dict[str, Any]] = [
            {"name": "launcher", "configMap": {"name": launcher}},
            {"name": "tmp", "emptyDir": {}},
        ]
        if password_file:
            volumes.append({"name": "db-password", "secret": {"secretName": db.password_secret}})
        return {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": SERVICE_ACCOUNT,
                    # Pod Identity and IRSA project their own token; MLflow never calls the Kubernetes API.
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 1000,
                        "runAsGroup": 1000,
                        "fsGroup": 1000,
                        "seccompProfile": {"type": "RuntimeDefault"},
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
