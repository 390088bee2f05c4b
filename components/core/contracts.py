"""What components hand each other: the declared contracts between them.

A component takes another through one of these Protocols (a cluster, a node pool, an object
store), never by reaching into its private attributes, so a stand-in that has the same
attributes (``ExistingEksCluster`` for ``EksCluster``, a test double) works everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import pulumi


@runtime_checkable
class KubernetesCluster(Protocol):
    """Any cluster the platform installs into (kind, an existing cluster, EKS)."""

    k8s_provider: pulumi.ProviderResource
    """Every Kubernetes object is created through it, so destroy removes them before the cluster."""
    kubernetes_version: str
    workload_ready: list[pulumi.Resource]
    """What a pod must wait for: nodes to run on, DNS, the CNI (empty for an existing cluster)."""


@runtime_checkable
class NodePool(Protocol):
    """A pool of GPU nodes that workloads select (GpuNodePool)."""

    name: str
    """The pool's name: the value of its ``ai-platform.io/pool`` label."""
    labels: Mapping[str, str]
    node_selector: Mapping[str, str]
    tolerations: Sequence[Mapping[str, str]]
    gpu_resources: Mapping[str, int]
    """Extended resources one node offers (``nvidia.com/gpu`` or MIG devices), after sharing."""
    time_slicing_replicas: int | None
    device_plugin_config: str | None


@runtime_checkable
class IdentityCluster(Protocol):
    """What service-account IAM roles need of a cluster: its name and how pods get credentials
    (Pod Identity, or IRSA through its OIDC provider)."""

    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    """The cluster's ARN: Pod Identity roles trust only sessions tagged with it."""
    workload_identity: str
    """``podIdentity`` or ``irsa``."""
    oidc_provider_arn: pulumi.Output[str] | None
    oidc_issuer: pulumi.Output[str] | None
    tags: dict[str, str]


@runtime_checkable
class EksClusterLike(KubernetesCluster, IdentityCluster, Protocol):
    """An EKS cluster that GPU pools join and service accounts get IAM roles on (EksCluster,
    ExistingEksCluster)."""

    node_role_arn: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    vpc_id: pulumi.Output[str] | None
    cluster_security_group_id: pulumi.Output[str] | None
    vpc_cni: pulumi.Resource
    """GPU nodes join only once the CNI add-on exists."""


# ---------------------------------------------------------------- cluster layer


@runtime_checkable
class EksClusterWithKubeconfig(EksClusterLike, Protocol):
    """An EKS cluster this program reaches by kubeconfig (EksCluster, ExistingEksCluster, both
    through ``components/cluster/eks_base.py``): what the stack exports and what IAM policies
    name without waiting for the cluster."""

    cluster_name_value: str
    """The cluster's name as a plain value (IAM policy conditions must not wait for the cluster)."""
    endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    """Secret kubeconfig that authenticates with ``aws eks get-token``."""


# ---------------------------------------------------------------- data
# The object store and its grants (ObjectStore, and RayCluster, InferenceService, ModelRegistry that
# use it), and a database's connection (InClusterPostgres, RdsPostgres, and ModelRegistry that uses it).

from dataclasses import dataclass, field  # noqa: E402
from typing import Any, Literal  # noqa: E402

ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID"
SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY"


@dataclass(frozen=True)
class StoreAccess:
    """What a pod in ``namespace`` running as ``service_account`` needs to reach the store.

    Immutable: a consumer that adds to a grant (its own role, more grants to wait for) builds a
    new one with ``dataclasses.replace``.
    """

    namespace: str
    service_account: str
    endpoint_url: pulumi.Input[str]
    """S3 API endpoint, e.g. ``https://s3.us-west-2.amazonaws.com`` or ``http://minio.minio.svc.cluster.local:9000``."""
    region: str
    use_https: bool
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Annotations for the service account (IRSA's role ARN; empty for Pod Identity and MinIO)."""
    credentials_secret: pulumi.Input[str] | None = None
    """Secret in ``namespace`` holding ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY`` (MinIO
    only; on AWS the pod's role is the credential)."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """Grants (roles, policies, users) a pod must wait for."""
    pod_identity_agent: bool = False
    """The credentials come from the EKS Pod Identity agent, which an isolated namespace must let
    its pods reach (``network_policy.allow_pod_identity_agent``)."""

    def env(self) -> list[dict[str, Any]]:
        """Container environment for the AWS SDKs (boto3, s3fs, the AWS CLI)."""
        env: list[dict[str, Any]] = [
            {"name": "AWS_REGION", "value": self.region},
            {"name": "AWS_DEFAULT_REGION", "value": self.region},
            {"name": "AWS_ENDPOINT_URL_S3", "value": self.endpoint_url},
        ]
        if self.credentials_secret is not None:
            env += [
                {"name": key, "valueFrom": {"secretKeyRef": {"name": self.credentials_secret, "key": key}}}
                for key in (ACCESS_KEY_ID, SECRET_ACCESS_KEY)
            ]
        return env


@dataclass(frozen=True)
class BucketAccess:
    """One bucket (or one key prefix in it) a grant opens, read-only or read-write."""

    bucket: str
    """Logical bucket name (``models``, ``datasets``)."""
    prefix: str = ""
    """Key prefix inside the bucket (``llm/qwen/v1``: that folder and nothing next to it); empty:
    the whole bucket."""
    write: bool = False


@runtime_checkable
class ObjectStoreLike(Protocol):
    """The part of ObjectStore its consumers use: where it is, its buckets, and grants by intent."""

    endpoint_url: pulumi.Output[str]
    buckets: Sequence[str]
    """Logical bucket names."""

    def bucket_uri(self, bucket: str, path: str = "") -> pulumi.Output[str]:
        """``s3://<bucket's physical name>/<path>`` for a logical bucket (``models``, ``datasets``)."""
        ...

    def grant(
        self,
        name: str,
        *,
        namespace: str,
        service_account: str,
        access: Sequence[BucketAccess],
        parent: pulumi.Resource,
        role: Any = None,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> StoreAccess:
        """What ``access`` lists, and nothing else, for ``namespace/service_account``; ``role``: the
        pod's existing IAM role to attach the policy to (S3), ``depends_on``: what the consumer's
        namespace needs first (MinIO writes a keys Secret there)."""
        ...

    def grant_read(
        self,
        name: str,
        *,
        namespace: str,
        service_account: str,
        parent: pulumi.Resource,
        role: Any = None,
        depends_on: Sequence[pulumi.Resource] = (),
        buckets: Sequence[str] | None = None,
        prefix: str = "",
    ) -> StoreAccess:
        """Read access to ``buckets`` (unset: every bucket), under ``prefix`` (see ``grant``)."""
        ...

    def grant_read_write(
        self,
        name: str,
        *,
        namespace: str,
        service_account: str,
        parent: pulumi.Resource,
        role: Any = None,
        depends_on: Sequence[pulumi.Resource] = (),
        buckets: Sequence[str] | None = None,
        prefix: str = "",
    ) -> StoreAccess:
        """Read and write access to ``buckets`` (unset: every bucket), under ``prefix`` (see ``grant``)."""
        ...


DatabaseKind = Literal["in-cluster", "rds"]


@dataclass(frozen=True)
class DatabaseConnection:
    """How a client reaches a PostgreSQL database, and where its password comes from: exactly one
    of ``password_secret`` (a Kubernetes Secret) and ``password_secret_arn`` (Secrets Manager)."""

    kind: DatabaseKind
    """``in-cluster`` (InClusterPostgres) or ``rds`` (RdsPostgres)."""
    host: pulumi.Input[str]
    port: int
    name: str
    """The database's name."""
    user: str
    password_secret: pulumi.Input[str] | None = None
    """Kubernetes Secret in the database's namespace whose ``password`` key holds the password
    (clients mount it as a file)."""
    password_secret_arn: pulumi.Input[str] | None = None
    """Secrets Manager secret with ``username`` and ``password`` (managed by RDS; clients need an
    IAM grant to read it)."""
    require_tls: bool = False
    """Clients must connect with ``sslmode=require``."""
    ready: Sequence[pulumi.Resource] = ()
    """What a client must wait for before it connects."""

    def __post_init__(self) -> None:
        if (self.password_secret is None) == (self.password_secret_arn is None):
            raise ValueError("a DatabaseConnection names exactly one password source: password_secret or password_secret_arn")


# ---------------------------------------------------------------- compute and serving


@runtime_checkable
class RayOperator(Protocol):
    """The KubeRay operator a RayCluster runs under (KubeRayOperator)."""

    crds_ready: list[pulumi.Resource]
    """What a Ray custom resource must wait for: the release that installs the CRDs and the operator."""


@runtime_checkable
class GatewayImplementation(Protocol):
    """A Gateway API implementation KServe routes through (IngressGateway)."""

    namespace: str
    """Where its proxies run: the source of the models' inbound traffic."""
    ready: list[pulumi.Resource]
    """What the owner of a Gateway of its class must wait for."""

    def kserve_values(self, kserve_namespace: str) -> Mapping[str, object]:
        """kserve-resources values under ``kserve.controller.gateway.ingressGateway``."""
        ...


@runtime_checkable
class ServingPlatform(Protocol):
    """A KServe installation that InferenceServices are created in (KServe)."""

    deployment_mode: str
    gateway_api: bool
    """InferenceServices get HTTPRoutes (and Standard-mode canaries a weighted split)."""
    model_namespace: str
    model_namespace_ready: list[pulumi.Resource]
    crds_ready: list[pulumi.Resource]
    local_model_node_groups: Mapping[str, pulumi.Resource]
    """LocalModelNodeGroup per pool name."""
    local_model_jobs_namespace: str


@runtime_checkable
class EventAutoscaler(Protocol):
    """KEDA (Keda): what turns a ScaledObject into an HPA on an external metric."""

    ready: list[pulumi.Resource]
    """What a ScaledObject's creator must wait for: the CRDs and the admission webhook."""


# ---------------------------------------------------------------- observability


@runtime_checkable
class MetricsBackend(Protocol):
    """The Prometheus that scrapes the platform (Observability)."""

    prometheus_url: pulumi.Output[str]
    """In-cluster address of its HTTP API (``http://<service>.<namespace>.svc.cluster.local:9090``)."""
