"""ObjectStore: buckets for datasets and model versions, on S3 (prod) or MinIO (dev).

Consumers never write policy JSON or handle root keys: they call ``grant_read`` or
``grant_read_write`` and get a :class:`~components.data.storage_access.StoreAccess`.

With backend ``s3`` it creates no Kubernetes object: give it no Kubernetes provider, which would
hold its buckets and key back until the cluster exists (Pulumi registers a component only once
the ids of the providers in its options resolve).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pulumi
from pydantic import Field, SkipValidation

from .. import versions
from ..core.args import Options, parse_args
from ..core.contracts import ACCESS_KEY_ID, SECRET_ACCESS_KEY, EksClusterLike, StoreAccess
from ..core.network_policy import Allow, Isolation
from ..core.problems import InputError, Problem, escape
from ..core.types import MoreThanZero, Name, matches
from ..core.util import IMAGE_BY_TAG, checkov_skips, explicit_depends_on
from .storage_access import BucketAccess, ResolvedAccess, every_bucket, minio_policy, s3_grant_policy, unknown_buckets

if TYPE_CHECKING:
    import pulumi_kubernetes as k8s

MINIO_PORT = 9000
ROOT_SECRET = "minio-root"
SERVICE = "minio"
# Consumers are platform workloads; access is then decided by their keys and bucket policies.
MINIO_ISOLATION = Isolation(ingress=[Allow("platform", (MINIO_PORT,), "the S3 API for platform workloads")])


SIZE = re.compile(r"^\d+(Mi|Gi|Ti)$")


class ObjectStoreOptions(Options):
    """What a caller or a stack file sets for the object store (``objectStore``)."""

    backend: Literal["s3", "minio"] | None = None
    """``s3`` (AWS buckets encrypted with KMS, IAM grants) or ``minio`` (in the cluster, from the
    official chart); unset: decided by context, ``s3`` when an EKS ``cluster`` is given (EKS stacks),
    ``minio`` otherwise (existing clusters)."""
    buckets: list[Name] = Field(default=["models", "datasets"], min_length=1)
    """Logical bucket names; each gets a physical name ``<bucket_prefix>-<name>``."""
    bucket_prefix: Name | None = None
    """Prefix of physical bucket names (S3 names are global); unset: the cluster's name in a stack,
    the component's name for other callers. A bucket's name is permanent: while the store is
    protected Pulumi refuses an edit of it, so set it in a protected stack, or renaming the cluster
    renames every bucket."""
    noncurrent_version_days: int = Field(default=30, ge=1, le=3650)
    """Days a replaced object version is kept before expiry."""
    storage_size: Annotated[str, matches(SIZE, "a size such as 50Gi"), MoreThanZero] = "50Gi"
    """MinIO's persistent volume size (backend ``minio``)."""
    protect: bool | None = None
    """Protect buckets, KMS key and MinIO's namespace and release (its volume) from deletion and
    keep them on destroy (the KMS key is kept on destroy even unprotected); unset: decided by
    context, on when an EKS ``cluster`` is given (EKS stacks), off otherwise."""


class ObjectStoreArgs(ObjectStoreOptions):
    """The store's options plus what the composition injects."""

    cluster: SkipValidation[EksClusterLike | None] = None
    """The EKS cluster whose service accounts get IAM roles (required with backend ``s3``); its
    presence also decides ``backend`` and ``protect`` when they are unset."""
    region: str = "us-west-2"
    """AWS region of the buckets and of the S3 endpoint (a stack passes ``aws:region``)."""
    namespace: Name = "minio"
    """Namespace of MinIO (backend ``minio``)."""
    storage_class: str | None = None
    """StorageClass of MinIO's volume; unset: the cluster default."""

    @property
    def effective_backend(self) -> Literal["s3", "minio"]:
        """``backend``, or the one the context decides."""
        return self.backend or ("s3" if self.cluster is not None else "minio")

    @property
    def effective_protect(self) -> bool:
        """``protect``, or what the context decides."""
        return self.cluster is not None if self.protect is None else self.protect


def problems(options: ObjectStoreOptions) -> list[Problem]:
    """What the store cannot be given; pure, so stack config validation runs it too."""
    if len(set(options.buckets)) != len(options.buckets):
        return [Problem(("buckets",), f"bucket names repeat (got {escape(options.buckets)})")]
    return []


def args_problems(a: ObjectStoreArgs) -> list[Problem]:
    """``problems`` plus the checks on what the composition injects."""
    found = problems(a)
    if a.effective_backend == "s3" and a.cluster is None:
        found.append(Problem(("cluster",), "required with {backend} 's3': the EKS cluster whose service accounts get IAM roles"))
    return found


def tls_only_policy(bucket_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
        sort_keys=True,
    )


MINIO_UID = 10001
"""User and group of MinIO's pods. Like the chart's default 1000, a uid the images have no file of their
own for: minio writes to the data volume, which belongs to the pod's fsGroup, and mc only to emptyDirs.
Above 10000 so it maps to no user of the node (checkov CKV_K8S_40). On a volume written as 1000 the
kubelet regroups the files for the new fsGroup (the chart's fsGroupChangePolicy OnRootMismatch)."""


def minio_values(a: ObjectStoreArgs, physical: dict[str, str]) -> dict[str, Any]:
    """Helm values for the minio chart (keys from its values.yaml at the pinned version)."""
    repository, tag = versions.MINIO_IMAGE.rsplit(":", 1)
    mc_repository, mc_tag = versions.MINIO_CLIENT_IMAGE.rsplit(":", 1)
    persistence: dict[str, Any] = {"enabled": True, "size": a.storage_size}
    if a.storage_class:
        persistence["storageClass"] = a.storage_class
    if a.effective_protect:
        persistence["annotations"] = {"helm.sh/resource-policy": "keep"}  # the volume outlives the release
    restricted = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    return {
        "fullnameOverride": SERVICE,
        "mode": "standalone",
        "replicas": 1,
        "image": {"repository": repository, "tag": tag, "pullPolicy": "Always"},
        "mcImage": {"repository": mc_repository, "tag": mc_tag, "pullPolicy": "Always"},
        "existingSecret": ROOT_SECRET,
        "persistence": persistence,
        "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
        "buckets": [{"name": name, "policy": "none", "purge": False, "versioning": True} for name in physical.values()],
        # The chart's values.yaml (5.4.0) ships `users: [{accessKey: console, secretKey: console123,
        # policy: consoleAdmin}]`, an admin with a published password; grants make their own users.
        "users": [],
        "service": {"type": "ClusterIP", "port": str(MINIO_PORT)},
        "consoleService": {"type": "ClusterIP"},
        "ingress": {"enabled": False},
        "consoleIngress": {"enabled": False},
        "securityContext": {"enabled": True, "runAsUser": MINIO_UID, "runAsGroup": MINIO_UID, "fsGroup": MINIO_UID},
        # MinIO writes its config under the data volume's parent; a read-only root breaks it.
        "containerSecurityContext": {"readOnlyRootFilesystem": False, **restricted},
        # The 5.4.0 post-job (templates/post-job.yaml) takes its pod securityContext from postJob.securityContext
        # (minus "enabled") and the bucket container's from makeBucketJob.containerSecurityContext (when
        # makeBucketJob.securityContext.enabled); makeBucketJob.securityContext's own uid/gid go nowhere.
        # mc writes only to the chart's emptyDirs (/etc/minio/mc, /tmp): a read-only root holds.
        "postJob": {
            "securityContext": {
                "enabled": True,
                "runAsUser": MINIO_UID,
                "runAsGroup": MINIO_UID,
                "fsGroup": MINIO_UID,
                "runAsNonRoot": True,
                "seccompProfile": {"type": "RuntimeDefault"},
            }
        },
        "makeBucketJob": {
            "securityContext": {"enabled": True},
            "containerSecurityContext": {"readOnlyRootFilesystem": True, **restricted},
            "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}},
        },
        "metrics": {"serviceMonitor": {"enabled": False}},
    }


class ObjectStore(pulumi.ComponentResource):
    endpoint_url: pulumi.Output[str]
    """S3 API endpoint the consumers use."""
    bucket_names: dict[str, pulumi.Output[str]]
    """Logical bucket name -> physical bucket name."""
    kms_key_arn: pulumi.Output[str] | None
    """Key that encrypts the S3 buckets (backend ``s3``)."""
    backend: str
    """``s3`` or ``minio``: the one given, or the one the context decided."""
    buckets: list[str]
    """Logical bucket names (what grants name)."""

    def __init__(self, name: str, args: ObjectStoreArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        a = parse_args(ObjectStoreArgs, args, component="ObjectStore", name=name, problems=args_problems)
        super().__init__("aiplatform:index:ObjectStore", name, None, opts)
        self.backend = a.effective_backend
        self.buckets = list(a.buckets)
        self._name = name
        self._a = a
        self._after = explicit_depends_on(opts)
        prefix = a.bucket_prefix or name
        physical = {bucket: f"{prefix}-{bucket}" for bucket in a.buckets}
        self.kms_key_arn = None
        if self.backend == "s3":
            self._s3(physical)
        else:
            self._minio(physical)
        self.register_outputs(
            {
                "endpoint_url": self.endpoint_url,
                "bucket_names": self.bucket_names,
                "kms_key_arn": self.kms_key_arn,
                "backend": self.backend,
                "buckets": self.buckets,
            }
        )

    def bucket_uri(self, bucket: str, path: str = "") -> pulumi.Output[str]:
        return self.bucket_names[bucket].apply(lambda b: f"s3://{b}/{path}".rstrip("/"))

    def grant(
        self,
        name: str,
        *,
        namespace: str,
        service_account: str,
        access: Sequence[BucketAccess],
        parent: pulumi.Resource,
        role=None,
        depends_on=(),
    ) -> StoreAccess:
        """What ``access`` lists, and nothing else, for ``namespace/service_account``.

        On S3, pass ``role`` when the service account already has one (a pod has one role);
        otherwise the grant creates it. ``depends_on``: what must exist first in the consumer's
        namespace (the namespace itself), for the credentials Secret MinIO puts there.
        """
        if not access or unknown_buckets(access, self.buckets):
            # a caller's input error: reported like any other component input, without a traceback
            wanted = [a.bucket for a in access]
            problem = Problem(("access",), f"grant {name!r} must name buckets of the store {list(self.buckets)} (got {wanted})")
            raise InputError("ObjectStore", self._name, [problem])
        if self.backend == "s3":
            return self._s3_grant(name, namespace, service_account, parent, role, list(access))
        return self._minio_grant(name, namespace, service_account, parent, list(depends_on), list(access))

    def grant_read(
        self, name: str, *, namespace: str, service_account: str, parent: pulumi.Resource, role=None, depends_on=(), buckets=None, prefix=""
    ) -> StoreAccess:
        """Read access to ``buckets`` (unset: every bucket) under ``prefix`` (see ``grant``)."""
        access = every_bucket(buckets, self.buckets, prefix, write=False)
        return self.grant(
            name, namespace=namespace, service_account=service_account, access=access, parent=parent, role=role, depends_on=depends_on
        )

    def grant_read_write(
        self, name: str, *, namespace: str, service_account: str, parent: pulumi.Resource, role=None, depends_on=(), buckets=None, prefix=""
    ) -> StoreAccess:
        """Read and write access to ``buckets`` (unset: every bucket) under ``prefix`` (see ``grant``)."""
        access = every_bucket(buckets, self.buckets, prefix, write=True)
        return self.grant(
            name, namespace=namespace, service_account=service_account, access=access, parent=parent, role=role, depends_on=depends_on
        )

    # ------------------------------------------------------------ S3

    def _cluster(self) -> EksClusterLike:
        assert self._a.cluster is not None, "backend 's3' has a cluster (args_problems)"
        return self._a.cluster

    def _protection(self, parent: pulumi.Resource | None = None) -> pulumi.ResourceOptions:
        protect = self._a.effective_protect
        return pulumi.ResourceOptions(parent=parent or self, protect=protect, retain_on_delete=protect)

    def _key_options(self) -> pulumi.ResourceOptions:
        """The bucket key outlives the store even unprotected: a bucket left behind (force_destroy is
        off, so a non-empty one always is) stays readable only while its key exists."""
        return pulumi.ResourceOptions(parent=self, protect=self._a.effective_protect, retain_on_delete=True)

    def _stable(self, logical: str, physical: str, opts: pulumi.ResourceOptions | None = None) -> tuple[str, pulumi.ResourceOptions]:
        """The Pulumi name of a bucket (and of its settings): from the component's name and the logical
        bucket, never from ``bucket_prefix`` or the cluster's name, so an edit of those is an in-place
        diff on the same URN (refused while protected) instead of a new bucket beside the old. The
        alias adopts state written when the Pulumi name was the physical one."""
        name = f"{self._name}-{logical}"
        aliases = [pulumi.Alias(name=physical)] if physical != name else []
        return name, pulumi.ResourceOptions.merge(opts or pulumi.ResourceOptions(parent=self), pulumi.ResourceOptions(aliases=aliases))

    def _s3(self, physical: dict[str, str]) -> None:
        import pulumi_aws as aws

        tags = self._a.cluster.tags if self._a.cluster is not None else {}
        key = aws.kms.Key(
            f"{self._name}-buckets",
            description=f"Encrypts the {self._name} buckets",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags,
            opts=self._key_options(),
        )
        self._key = key
        self.kms_key_arn = key.arn
        self._buckets = {logical: self._s3_bucket(aws, logical, name, key, tags) for logical, name in physical.items()}
        self.bucket_names = {logical: bucket.bucket for logical, bucket in self._buckets.items()}
        self.endpoint_url = pulumi.Output.from_input(f"https://s3.{self._a.region}.amazonaws.com")

    def _s3_bucket(self, aws, logical: str, bucket_name: str, key, tags: dict):
        name, protected = self._stable(logical, bucket_name, self._protection())
        bucket = aws.s3.Bucket(name, bucket=bucket_name, force_destroy=False, tags=tags, opts=protected)
        _, child = self._stable(logical, bucket_name)
        aws.s3.BucketOwnershipControls(name, bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)
        aws.s3.BucketPublicAccessBlock(
            name,
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketVersioning(name, bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            name,
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn},
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(name, bucket=bucket.id, policy=bucket.arn.apply(tls_only_policy), opts=child)
        aws.s3.BucketLifecycleConfiguration(
            name,
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-noncurrent-versions",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {"noncurrent_days": self._a.noncurrent_version_days},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            opts=child,
        )
        return bucket

    def _s3_grant(self, name, namespace, service_account, parent, role, access: list[BucketAccess]) -> StoreAccess:
        import pulumi_aws as aws

        from ..core.workload_identity import service_account_role

        arns = [self._buckets[a.bucket].arn for a in access]
        region = self._a.region
        policy = pulumi.Output.all(self._key.arn, *arns).apply(
            lambda v: s3_grant_policy([ResolvedAccess(arn, a.prefix, a.write) for arn, a in zip(v[1:], access, strict=True)], v[0], region)
        )
        if role is None:
            identity = service_account_role(name, self._cluster(), namespace, service_account, policy_json=policy, parent=parent)
            annotations, grants, agent = identity.service_account_annotations, identity.grants, identity.pod_identity_agent
        else:
            # The caller's role: its own association, and its own NetworkPolicy for the agent.
            annotations, agent = {}, False
            grants = [role, aws.iam.RolePolicy(name, role=role.id, policy=policy, opts=pulumi.ResourceOptions(parent=parent))]
        return StoreAccess(
            namespace=namespace,
            service_account=service_account,
            endpoint_url=self.endpoint_url,
            region=self._a.region,
            use_https=True,
            service_account_annotations=annotations,
            depends_on=grants,
            pod_identity_agent=agent,
        )

    # ------------------------------------------------------------ MinIO

    def _minio(self, physical: dict[str, str]) -> None:
        import pulumi_kubernetes as k8s
        import pulumi_random as random

        from ..core.helm import helm_release
        from ..core.namespace import platform_namespace

        # baseline: the chart's bucket-creation Job cannot be given the restricted profile's settings.
        namespace = platform_namespace(
            self._a.namespace, pod_security="baseline", isolation=MINIO_ISOLATION, parent=self, lifecycle=self._volume_lifecycle()
        )
        self._namespace = namespace.metadata["name"]
        # Generated root credentials: never MinIO's documented defaults.
        root_user = random.RandomString(
            f"{self._name}-root-user", length=16, special=False, upper=False, opts=pulumi.ResourceOptions(parent=self)
        )
        root_password = random.RandomPassword(
            f"{self._name}-root-password", length=40, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        root = k8s.core.v1.Secret(
            f"{self._name}-root",
            metadata={"name": ROOT_SECRET, "namespace": self._namespace},
            string_data={"rootUser": root_user.result, "rootPassword": root_password.result},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._physical = physical
        self.bucket_names = {logical: pulumi.Output.from_input(name) for logical, name in physical.items()}
        self._release = helm_release(
            self._name,
            versions.MINIO,
            namespace=self._namespace,
            values=minio_values(self._a, physical),
            parent=self,
            depends_on=[root, *self._after],
            protect=self._a.effective_protect,
        )
        self.endpoint_url = pulumi.Output.concat("http://", SERVICE, ".", self._namespace, ".svc.cluster.local:", str(MINIO_PORT))

    def _volume_lifecycle(self) -> pulumi.ResourceOptions:
        """MinIO's namespace holds its volume: protected with the store."""
        protect = self._a.effective_protect
        return pulumi.ResourceOptions(protect=protect, retain_on_delete=protect)

    def _minio_grant(self, name, namespace, service_account, parent, depends_on, access: list[BucketAccess]) -> StoreAccess:
        """A MinIO user with a bucket policy, created by a Job through MinIO's admin API; its keys
        are written to a Secret in MinIO's namespace (for the Job) and in the consumer's."""
        import pulumi_kubernetes as k8s
        import pulumi_random as random

        child = pulumi.ResourceOptions(parent=parent)
        # The store's Kubernetes provider, not the consumer's: a consumer may hold none of its own
        # (ModelRegistry on EKS gives its Kubernetes children the cluster's; see on_cluster there).
        on_store = pulumi.ResourceOptions(parent=parent, provider=self.get_provider("kubernetes:core/v1:Secret"))
        access_key = random.RandomString(f"{name}-access-key", length=20, special=False, upper=False, opts=child)
        secret_key = random.RandomPassword(f"{name}-secret-key", length=40, special=False, opts=child)
        keys = {ACCESS_KEY_ID: access_key.result, SECRET_ACCESS_KEY: secret_key.result}
        secret_name = f"{name}-s3"
        admin_copy = k8s.core.v1.Secret(
            f"{name}-minio-user", metadata={"name": secret_name, "namespace": self._namespace}, string_data=keys, opts=on_store
        )
        consumer_copy = k8s.core.v1.Secret(
            f"{name}-s3",
            metadata={"name": secret_name, "namespace": namespace},
            string_data=keys,
            opts=pulumi.ResourceOptions(parent=parent, provider=on_store.provider, depends_on=depends_on),
        )
        policy = k8s.core.v1.ConfigMap(
            f"{name}-minio-policy",
            metadata={"name": f"{name}-minio-policy", "namespace": self._namespace},
            data={
                "policy.json": minio_policy([ResolvedAccess(f"arn:aws:s3:::{self._physical[a.bucket]}", a.prefix, a.write) for a in access])
            },
            opts=on_store,
        )
        job = k8s.batch.v1.Job(
            f"{name}-minio-user",
            metadata={"name": f"{name}-minio-user", "namespace": self._namespace, "annotations": checkov_skips(CKV_K8S_43=IMAGE_BY_TAG)},
            spec=self._user_job_spec(name, secret_name, policy.metadata["name"]),
            opts=pulumi.ResourceOptions(parent=parent, provider=on_store.provider, depends_on=[self._release, admin_copy, policy]),
        )
        return StoreAccess(
            namespace=namespace,
            service_account=service_account,
            endpoint_url=self.endpoint_url,
            region=self._a.region,
            use_https=False,
            credentials_secret=consumer_copy.metadata["name"],
            depends_on=[job, consumer_copy],
        )

    def _user_job_spec(self, name: str, secret_name: str, policy_config_map: pulumi.Input[str]) -> k8s.batch.v1.JobSpecArgsDict:
        # Keys are read from mounted files, not environment variables (they would show in /proc).
        script = (
            'mc alias set platform "$MINIO_URL" "$(cat /root-keys/rootUser)" "$(cat /root-keys/rootPassword)" >/dev/null'
            ' && KEY="$(cat /user-keys/AWS_ACCESS_KEY_ID)"'
            f" && mc admin policy create platform {name} /policy/policy.json"
            ' && mc admin user add platform "$KEY" "$(cat /user-keys/AWS_SECRET_ACCESS_KEY)"'
            # attach fails when a re-run finds the policy attached already: accept only that case
            f' && {{ mc admin policy attach platform {name} --user "$KEY"'
            f' || mc admin user info platform "$KEY" | grep -q "PolicyName: {name}"; }}'
        )
        mounts = [("policy", "/policy"), ("root-keys", "/root-keys"), ("user-keys", "/user-keys"), ("tmp", "/tmp")]
        return {
            "backoff_limit": 6,
            "template": {
                "spec": {
                    "restart_policy": "OnFailure",
                    "automount_service_account_token": False,
                    # mc is a static binary: any unprivileged UID works (HOME is /tmp).
                    "security_context": {
                        "run_as_non_root": True,
                        "run_as_user": MINIO_UID,
                        "run_as_group": MINIO_UID,
                        "seccomp_profile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "create-user",
                            "image": versions.MINIO_CLIENT_IMAGE,
                            "image_pull_policy": "Always",
                            "command": ["/bin/sh", "-c", script],
                            "env": [{"name": "MINIO_URL", "value": self.endpoint_url}, {"name": "HOME", "value": "/tmp"}],
                            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
                            "security_context": {
                                "allow_privilege_escalation": False,
                                "read_only_root_filesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "volume_mounts": [
                                {"name": volume, "mount_path": path, "read_only": volume != "tmp"} for volume, path in mounts
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "policy", "config_map": {"name": policy_config_map}},
                        {"name": "root-keys", "secret": {"secret_name": ROOT_SECRET}},
                        {"name": "user-keys", "secret": {"secret_name": secret_name}},
                        {"name": "tmp", "empty_dir": {}},
                    ],
                }
            },
        }
