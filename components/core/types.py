"""Field types shared by the Args models: each checks its value and says what is allowed."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
# Kubernetes' syntax (apimachinery validation): a label name or value is at most 63 characters of
# letters, digits, '-', '_' and '.', alphanumeric at both ends; a key's optional prefix is a DNS-1123
# subdomain of at most 253 characters.
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_SUBDOMAIN_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_MAX, _SUBDOMAIN_MAX = 63, 253


def dns_label(max_length: int) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > max_length or not _DNS_LABEL.match(value):
            raise ValueError(
                f"must be a DNS-1123 label of at most {max_length} characters: lowercase "
                f"letters, digits and '-', starting with a letter (got {value!r})"
            )
        return value

    return AfterValidator(check)


def matches(pattern: re.Pattern, what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"must be {what} (got {value!r})")
        return value

    return AfterValidator(check)


def _ipv4_cidr(value: str) -> str:
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"must be an IPv4 CIDR such as 10.0.0.0/16 (got {value!r}: {error})") from None
    return value


def _label_key(value: str) -> str:
    prefix, slash, name = value.rpartition("/")
    if (slash and not is_dns_subdomain(prefix)) or len(name) > _LABEL_MAX or not _LABEL_NAME.match(name):
        raise ValueError(
            f"must be a Kubernetes label key: an optional prefix (a lowercase DNS subdomain of at most {_SUBDOMAIN_MAX} "
            f"characters) and '/', then a name of at most {_LABEL_MAX} letters, digits, '-', '_' or '.' that starts "
            f"and ends with a letter or digit (got {value!r})"
        )
    return value


def _label_value(value: str) -> str:
    if value and (len(value) > _LABEL_MAX or not _LABEL_NAME.match(value)):
        raise ValueError(
            f"must be a Kubernetes label value: empty, or at most {_LABEL_MAX} letters, digits, '-', '_' or '.' "
            f"that starts and ends with a letter or digit (got {value!r})"
        )
    return value


def is_dns_subdomain(value: str) -> bool:
    """A DNS-1123 subdomain: lowercase labels of at most 63 characters joined by '.', 253 in all."""
    labels = value.split(".")
    return 0 < len(value) <= _SUBDOMAIN_MAX and all(len(label) <= _LABEL_MAX and _DNS_SUBDOMAIN_LABEL.match(label) for label in labels)


def _dns_name(value: str) -> str:
    if not is_dns_subdomain(value):
        raise ValueError(
            f"must be a DNS name: lowercase labels of letters, digits and '-' (at most {_LABEL_MAX} characters "
            f"each, not starting or ending with '-') joined by '.', at most {_SUBDOMAIN_MAX} characters in all "
            f"(got {value!r})"
        )
    return value


def _more_than_zero(value: str) -> str:
    """A size or duration of zero: a volume that holds nothing, a retention that keeps nothing."""
    if not re.search(r"[1-9]", value):
        raise ValueError(f"must be more than 0 (got {value!r})")
    return value


MoreThanZero = AfterValidator(_more_than_zero)
"""After a size or duration pattern: refuses the zero values the pattern lets through."""

Name = Annotated[str, dns_label(40)]
InstanceType = Annotated[str, matches(_INSTANCE_TYPE, "an EC2 instance type such as m7i.xlarge")]
RoleArn = Annotated[str, matches(_ROLE_ARN, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")]
LabelKey = Annotated[str, AfterValidator(_label_key)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
DnsName = Annotated[str, AfterValidator(_dns_name)]
Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]
Size = Annotated[str, matches(re.compile(r"^\d+(Mi|Gi|Ti)$"), "a size such as 100Gi"), MoreThanZero]
