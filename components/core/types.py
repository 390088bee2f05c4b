"""Field types shared by the Args models: each checks its value and says what is allowed."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


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


Name = Annotated[str, dns_label(40)]
InstanceType = Annotated[str, matches(_INSTANCE_TYPE, "an EC2 instance type such as m7i.xlarge")]
RoleArn = Annotated[str, matches(_ROLE_ARN, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")]
LabelKey = Annotated[str, matches(_LABEL_KEY, "a Kubernetes label key")]
Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]
Size = Annotated[str, matches(re.compile(r"^\d+(Mi|Gi|Ti)$"), "a size such as 100Gi")]
