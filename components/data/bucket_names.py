"""What S3 (and MinIO, which follows it) accepts as a bucket name.

The general-purpose bucket naming rules of the S3 User Guide ("Bucket naming rules"): 3 to 63
characters of lowercase letters, digits, '.' and '-', a letter or digit at both ends, no '..', not
an IP address, and none of the prefixes and suffixes S3 keeps for access points, Object Lambda,
directory and table buckets. MinIO's ``CheckValidBucketNameStrict`` refuses the same lengths and
characters.
"""

from __future__ import annotations

import ipaddress
import re

MIN_LENGTH, MAX_LENGTH = 3, 63
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_CHARACTERS = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")


def prefix_problem(name: str) -> str | None:
    """Why a bucket name that starts like ``name`` is refused, or None."""
    reserved = next((p for p in RESERVED_PREFIXES if name.startswith(p)), None)
    return f"S3 keeps bucket names starting with {reserved!r} for itself" if reserved else None


def name_problem(name: str) -> str | None:
    """Why S3 refuses the bucket name ``name``, or None."""
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        return f"bucket name {name!r} has {len(name)} characters; S3 allows {MIN_LENGTH} to {MAX_LENGTH}"
    if not _CHARACTERS.match(name) or ".." in name:
        return f"bucket name {name!r} may hold only lowercase letters, digits, '.' and '-', with a letter or digit at both ends"
    if _is_ip_address(name):
        return f"bucket name {name!r} looks like an IP address"
    reserved = next((s for s in RESERVED_SUFFIXES if name.endswith(s)), None)
    if reserved:
        return f"S3 keeps bucket names ending with {reserved!r} for itself (got {name!r})"
    return prefix_problem(name)


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True
