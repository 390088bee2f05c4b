"""How a workload reaches the object store: the contract between ObjectStore and its consumers.

ObjectStore's ``grant_read`` / ``grant_read_write`` return a :class:`StoreAccess`; RayCluster,
InferenceService and ModelRegistry take the store and ask it for one, so no consumer writes
policy JSON or handles keys itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi

ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID"
SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY"


@dataclass
class StoreAccess:
    """What a pod in ``namespace`` running as ``service_account`` needs to reach the store."""

    namespace: str
    service_account: str
    endpoint_url: pulumi.Input[str]
    """S3 API endpoint, e.g. ``https://s3.us-west-2.amazonaws.com`` or ``http://minio.minio.svc.cluster.local:9000``."""
    region: str
    use_https: bool
    service_account_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Annotations for the service account (IRSA's role ARN; empty for Pod Identity and MinIO)."""
    credentials_secret: pulumi.Input[str] | None = None
    """Secret in ``namespace`` holding ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY`` (MinIO
    only; on AWS the pod's role is the credential)."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """Grants (roles, policies, users) a pod must wait for."""

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


class ObjectStoreLike(Protocol):
    """The part of ObjectStore its consumers use."""

    endpoint_url: pulumi.Output[str]

    def bucket_uri(self, bucket: str, path: str = "") -> pulumi.Output[str]:
        """``s3://<bucket's physical name>/<path>`` for a logical bucket (``models``, ``datasets``)."""
        ...

    def grant_read(
        self, name: str, *, namespace: str, service_account: str, parent: pulumi.Resource, role=None, depends_on=()
    ) -> StoreAccess: ...

    def grant_read_write(
        self, name: str, *, namespace: str, service_account: str, parent: pulumi.Resource, role=None, depends_on=()
    ) -> StoreAccess: ...
