"""How a workload reaches the object store: ``StoreAccess``, ``BucketAccess`` and ``ObjectStoreLike``,
and the policy documents a grant writes (IAM on S3, the same grammar on MinIO).

The contract itself is declared in :mod:`components.core.contracts` (section "data"); this module
re-exports it for the consumers that import it from the data layer.

A grant opens exactly the buckets, or the key prefixes, its ``BucketAccess`` list names: listing
is conditioned on ``s3:prefix`` and object actions name ``<bucket>/<prefix>/*``, so a model server
that reads ``llm/qwen/v1`` sees neither ``llm/qwen/v2`` nor another model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.contracts import ACCESS_KEY_ID, SECRET_ACCESS_KEY, BucketAccess, ObjectStoreLike, StoreAccess

MODELS_BUCKET = "models"
"""The bucket MLflow keeps its artifacts in, model servers read their models from and Ray reads models from."""

__all__ = [
    "ACCESS_KEY_ID",
    "SECRET_ACCESS_KEY",
    "BucketAccess",
    "ObjectStoreLike",
    "ResolvedAccess",
    "StoreAccess",
    "every_bucket",
    "kms_via_s3",
    "minio_policy",
    "s3_grant_policy",
]

S3_BUCKET_ACTIONS = ["s3:ListBucket", "s3:GetBucketLocation"]
S3_READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion"]
S3_WRITE_ACTIONS = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
KMS_READ_ACTIONS = ["kms:Decrypt"]
KMS_WRITE_ACTIONS = ["kms:Encrypt", "kms:GenerateDataKey"]


@dataclass(frozen=True)
class ResolvedAccess:
    """A ``BucketAccess`` with the bucket's ARN (``arn:aws:s3:::<physical name>``)."""

    bucket_arn: str
    prefix: str
    write: bool


def every_bucket(buckets: Sequence[str] | None, all_buckets: Sequence[str], prefix: str, write: bool) -> list[BucketAccess]:
    """``grant_read``/``grant_read_write``'s list: ``buckets`` (unset: every one), each under ``prefix``."""
    return [BucketAccess(bucket, prefix, write) for bucket in (all_buckets if buckets is None else buckets)]


def unknown_buckets(access: Sequence[BucketAccess], buckets: Sequence[str]) -> list[str]:
    return sorted({a.bucket for a in access} - set(buckets))


def _key_prefix(prefix: str) -> str:
    return prefix.strip("/")


def _objects(access: ResolvedAccess) -> list[str]:
    """The object ARNs of an access: the prefix itself (a model that is one file) and what is under it;
    ``<prefix>*`` would also open ``v10`` next to ``v1``."""
    prefix = _key_prefix(access.prefix)
    if not prefix:
        return [f"{access.bucket_arn}/*"]
    return [f"{access.bucket_arn}/{prefix}", f"{access.bucket_arn}/{prefix}/*"]


def _list_statements(access: Sequence[ResolvedAccess]) -> list[dict[str, Any]]:
    """Bucket-level actions; listing a prefix is allowed only for that prefix (``s3:prefix``)."""
    whole = sorted({a.bucket_arn for a in access if not _key_prefix(a.prefix)})
    statements: list[dict[str, Any]] = []
    if whole:
        statements.append({"Effect": "Allow", "Action": S3_BUCKET_ACTIONS, "Resource": whole})
    for arn in sorted({a.bucket_arn for a in access if _key_prefix(a.prefix)} - set(whole)):
        prefixes = sorted({_key_prefix(a.prefix) for a in access if a.bucket_arn == arn})
        statements.append({"Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": arn})
        statements.append(
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": arn,
                "Condition": {"StringLike": {"s3:prefix": [p for prefix in prefixes for p in (prefix, f"{prefix}/*")]}},
            }
        )
    return statements


def _object_statements(access: Sequence[ResolvedAccess]) -> list[dict[str, Any]]:
    read = sorted({arn for a in access for arn in _objects(a)})
    written = sorted({arn for a in access if a.write for arn in _objects(a)})
    statements = [{"Effect": "Allow", "Action": S3_READ_ACTIONS, "Resource": read}]
    if written:
        statements.append({"Effect": "Allow", "Action": S3_WRITE_ACTIONS, "Resource": written})
    return statements


def s3_statements(access: Sequence[ResolvedAccess]) -> list[dict[str, Any]]:
    if not access:
        raise ValueError("a grant opens at least one bucket")
    return [*_list_statements(access), *_object_statements(access)]


def kms_via_s3(region: str) -> dict[str, Any]:
    """The key is usable only in requests S3 makes for the caller (``kms:ViaService``), not directly."""
    return {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}


def s3_grant_policy(access: Sequence[ResolvedAccess], key_arn: str, region: str) -> str:
    """IAM policy: the listed buckets or prefixes, and their key only through S3 in ``region``."""
    kms = KMS_READ_ACTIONS + (KMS_WRITE_ACTIONS if any(a.write for a in access) else [])
    key = {"Effect": "Allow", "Action": kms, "Resource": key_arn, "Condition": kms_via_s3(region)}
    return json.dumps({"Version": "2012-10-17", "Statement": [*s3_statements(access), key]}, sort_keys=True)


def minio_policy(access: Sequence[ResolvedAccess]) -> str:
    """A MinIO policy for a consumer's access key: MinIO reads the S3 IAM grammar, ``s3:prefix`` included."""
    return json.dumps({"Version": "2012-10-17", "Statement": s3_statements(access)}, sort_keys=True)
