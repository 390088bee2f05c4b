"""AWS rules: S3 buckets, the EKS control plane, node metadata (IMDSv2, hop limit), EBS encryption,
RDS, KMS rotation, IAM wildcards and security groups.

Checks that span resources (a bucket and its encryption, versioning, public access block and
policy; a security group, its rules and the load balancer it belongs to; a node group and its
launch template; volumes and the account's EBS encryption default) are stack policies; they link
resources through ``property_dependencies`` (known during preview too), falling back to the
bucket name when a companion names its bucket by a literal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs

from .common import as_list, get, known, number, plain, resource_policy, stack_policy, worlds_covered

BUCKET = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
BUCKET_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
BUCKET_PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
ACCOUNT_PUBLIC_ACCESS_BLOCK = ("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",)
BUCKET_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
EKS_CLUSTER = ("aws:eks/cluster:Cluster",)
EKS_NODE_GROUP = ("aws:eks/nodeGroup:NodeGroup",)
LAUNCH_TEMPLATE = ("aws:ec2/launchTemplate:LaunchTemplate",)
EC2_INSTANCE = ("aws:ec2/instance:Instance",)
RDS_INSTANCE = ("aws:rds/instance:Instance",)
RDS_CLUSTER = ("aws:rds/cluster:Cluster",)
RDS_CLUSTER_INSTANCE = ("aws:rds/clusterInstance:ClusterInstance",)
KMS_KEY = ("aws:kms/key:Key",)
IAM_POLICY_DOCUMENTS = (  # resources whose ``policy`` input is a policy document
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
IAM_ROLE = ("aws:iam/role:Role",)
IAM_ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
EBS_VOLUME = ("aws:ebs/volume:Volume",)
EBS_ENCRYPTION_BY_DEFAULT = ("aws:ebs/encryptionByDefault:EncryptionByDefault",)
STORAGE_CLASS = ("kubernetes:storage.k8s.io/v1:StorageClass",)
EC2_NODE_CLASS = ("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",)
SECURITY_GROUP = ("aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
SECURITY_GROUP_RULE = ("aws:ec2/securityGroupRule:SecurityGroupRule",)
SECURITY_GROUP_INGRESS_RULE = ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",)
LOAD_BALANCER = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer", "aws:elb/loadBalancer:LoadBalancer")

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
REQUIRED_CLUSTER_LOGS = ("api", "audit", "authenticator")  # the security-relevant control plane logs
MIN_BACKUP_RETENTION_DAYS = 7
# AWS managed policies that allow every action on every resource.
ADMIN_POLICY_ARNS = ("arn:aws:iam::aws:policy/AdministratorAccess",)
# Automatic rotation exists only for symmetric encryption keys (AWS KMS "Rotating AWS KMS keys").
ROTATABLE_KEY_SPECS = ("SYMMETRIC_DEFAULT",)
# The EBS provisioners of StorageClasses: the EBS CSI driver and the removed in-tree plugin; both read
# the ``encrypted`` parameter (aws-ebs-csi-driver docs/parameters.md: "encrypted", default false).
EBS_PROVISIONERS = ("ebs.csi.aws.com", "kubernetes.io/aws-ebs")


# ---- S3 (stack policies: a bucket's settings are separate resources) ----------------------------


def _of(args: StackValidationArgs, types: tuple[str, ...]) -> list[PolicyResource]:
    return [r for r in args.resources if r.resource_type in types]


def _configures(resource: PolicyResource, bucket: PolicyResource) -> bool:
    """Whether ``resource`` (an encryption, versioning, ... resource) applies to ``bucket``."""
    if any(dep.urn == bucket.urn for dep in resource.property_dependencies.get("bucket", [])):
        return True
    name = known(bucket.props, "bucket")
    return name is not None and known(resource.props, "bucket") == name


def _check_buckets(args: StackValidationArgs, report: ReportViolation, types: tuple[str, ...], kind: str, problem) -> None:
    """Every bucket needs a ``kind`` resource (of ``types``); ``problem(props)`` says what is wrong with one."""
    companions = _of(args, types)
    for bucket in _of(args, BUCKET):
        attached = [c for c in companions if _configures(c, bucket)]
        if not attached:
            report(f"S3 bucket '{bucket.name}' has no {kind}", bucket.urn)
        for companion in attached:
            if why := problem(companion.props):
                report(f"S3 bucket '{bucket.name}': {kind} '{companion.name}' {why}", bucket.urn)


@stack_policy("s3-bucket-encrypted", "Every S3 bucket has a server-side encryption configuration using SSE-KMS.")
def s3_bucket_encrypted(args: StackValidationArgs, report: ReportViolation) -> None:
    def problem(props):
        algorithms = [get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") for rule in as_list(get(props, "rules"))]
        if not algorithms or any(a not in KMS_ALGORITHMS for a in algorithms):
            return f"uses {algorithms or 'no algorithm'}, not SSE-KMS ({' or '.join(KMS_ALGORITHMS)})"
        return None

    _check_buckets(args, report, BUCKET_ENCRYPTION, "server-side encryption configuration", problem)


@stack_policy("s3-bucket-versioned", "Every S3 bucket has versioning enabled.")
def s3_bucket_versioned(args: StackValidationArgs, report: ReportViolation) -> None:
    def problem(props):
        status = get(props, "versioningConfiguration", "status")
        return None if status == "Enabled" else f"has status {status!r}, not 'Enabled'"

    _check_buckets(args, report, BUCKET_VERSIONING, "versioning configuration", problem)


@stack_policy(
    "s3-bucket-public-access-blocked",
    "Every S3 bucket has a public access block with all four settings on (or the account has one).",
)
def s3_bucket_public_access_blocked(args: StackValidationArgs, report: ReportViolation) -> None:
    def problem(props):
        off = [flag for flag in PUBLIC_ACCESS_FLAGS if get(props, flag) is not True]
        return f"leaves {', '.join(off)} off" if off else None

    if any(problem(account.props) is None for account in _of(args, ACCOUNT_PUBLIC_ACCESS_BLOCK)):
        return
    _check_buckets(args, report, BUCKET_PUBLIC_ACCESS_BLOCK, "public access block", problem)


def _denies_insecure_transport(statement: Mapping) -> bool:
    actions = as_list(statement.get("Action"))
    secure_transport = as_list(get(statement, "Condition", "Bool", "aws:SecureTransport"))
    return (
        statement.get("Effect") == "Deny"
        and statement.get("Principal") in ("*", {"AWS": "*"})
        and ("s3:*" in actions or "*" in actions)
        and any(str(value).lower() == "false" for value in secure_transport)
    )


@stack_policy("s3-bucket-tls-only", "Every S3 bucket has a policy denying all S3 actions over plain HTTP (aws:SecureTransport false).")
def s3_bucket_tls_only(args: StackValidationArgs, report: ReportViolation) -> None:
    def problem(props):
        document = props.get("policy")
        document = json.loads(document) if isinstance(document, str) else plain(document)
        if not any(_denies_insecure_transport(s) for s in as_list(get(document, "Statement"))):
            return "has no statement denying s3:* to every principal when aws:SecureTransport is false"
        return None

    _check_buckets(args, report, BUCKET_POLICY, "bucket policy", problem)


# ---- EKS ---------------------------------------------------------------------------------------


@resource_policy(
    "eks-endpoint-restricted",
    "The EKS API endpoint is private, or public only to listed CIDRs that together cover neither 0.0.0.0/0 nor ::/0.",
    EKS_CLUSTER,
)
def eks_endpoint_restricted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    vpc = args.props.get("vpcConfig") or {}
    if vpc.get("endpointPublicAccess", True) is False:  # AWS default: public
        return
    cidrs = list(vpc.get("publicAccessCidrs") or ["0.0.0.0/0"])  # AWS default: everywhere
    if covered := worlds_covered(cidrs):
        report(
            f"EKS cluster '{args.name}' has a public API endpoint open to {cidrs}, which cover {', '.join(covered)}: "
            "set endpointPublicAccess false or list narrower publicAccessCidrs",
            args.urn,
        )


@resource_policy("eks-secrets-encrypted", "EKS envelope-encrypts Kubernetes secrets with a KMS key.", EKS_CLUSTER)
def eks_secrets_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    configs = as_list(args.props.get("encryptionConfig"))
    if not any("secrets" in as_list(c.get("resources")) and get(c, "provider", "keyArn") for c in configs):
        report(f"EKS cluster '{args.name}' has no encryptionConfig with a KMS key for resources ['secrets']", args.urn)


@resource_policy(
    "eks-control-plane-logs",
    f"EKS sends the {', '.join(REQUIRED_CLUSTER_LOGS)} control plane logs to CloudWatch.",
    EKS_CLUSTER,
)
def eks_control_plane_logs(args: ResourceValidationArgs, report: ReportViolation) -> None:
    enabled = set(as_list(args.props.get("enabledClusterLogTypes")))
    if missing := [t for t in REQUIRED_CLUSTER_LOGS if t not in enabled]:
        report(f"EKS cluster '{args.name}' does not enable control plane logs {missing} (enabledClusterLogTypes)", args.urn)


# ---- Node metadata -----------------------------------------------------------------------------


@resource_policy(
    "imdsv2-required",
    "Launch templates and instances require IMDSv2 (httpTokens 'required'); EKS node groups use a launch template.",
    LAUNCH_TEMPLATE + EC2_INSTANCE + EKS_NODE_GROUP,
)
def imdsv2_required(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in EKS_NODE_GROUP:
        if not args.props.get("launchTemplate"):
            report(f"EKS node group '{args.name}' has no launchTemplate, so nothing enforces IMDSv2 on its nodes", args.urn)
        return
    metadata = args.props.get("metadataOptions") or {}
    if metadata.get("httpEndpoint") == "disabled":
        return  # no metadata service at all
    if metadata.get("httpTokens") != "required":
        kind = "Launch template" if args.resource_type in LAUNCH_TEMPLATE else "Instance"
        report(
            f"{kind} '{args.name}' allows IMDSv1: set metadataOptions.httpTokens to 'required' (is {metadata.get('httpTokens')!r})",
            args.urn,
        )


def _node_launch_templates(args: StackValidationArgs) -> list[PolicyResource]:
    """The launch templates EKS node groups use (the nodes that run pods)."""
    used = {dep.urn for group in _of(args, EKS_NODE_GROUP) for dep in group.property_dependencies.get("launchTemplate", [])}
    names = {known(group.props, "launchTemplate", "name") for group in _of(args, EKS_NODE_GROUP)} - {None}
    return [t for t in _of(args, LAUNCH_TEMPLATE) if t.urn in used or known(t.props, "name") in names]


@stack_policy(
    "imds-hop-limit-one",
    "Nodes that run pods (launch templates of EKS node groups, Karpenter EC2NodeClasses) answer metadata "
    "requests at one hop only (httpPutResponseHopLimit 1), so pods cannot take the node's IAM role.",
)
def imds_hop_limit_one(args: StackValidationArgs, report: ReportViolation) -> None:
    for template in _node_launch_templates(args):
        metadata = template.props.get("metadataOptions") or {}
        if metadata.get("httpEndpoint") != "disabled" and metadata.get("httpPutResponseHopLimit") != 1:
            # Unset, the AMI's default applies: 2 for AMIs registered with ImdsSupport v2.0 (EKS AL2023 AMIs).
            hops = number(metadata.get("httpPutResponseHopLimit"))
            report(
                f"Launch template '{template.name}' of EKS nodes has metadataOptions.httpPutResponseHopLimit {hops!r}, not 1", template.urn
            )
    for node_class in _of(args, EC2_NODE_CLASS):
        hops = get(node_class.props, "spec", "metadataOptions", "httpPutResponseHopLimit")
        if hops is not None and hops != 1:  # Karpenter's default is 1
            report(
                f"EC2NodeClass '{node_class.name}' has spec.metadataOptions.httpPutResponseHopLimit {number(hops)!r}, not 1", node_class.urn
            )


# ---- EBS (stack policy: the account may encrypt every volume by default) ------------------------


def _truthy(value) -> bool:
    """True for true and "true" (the provider sends launch template booleans as strings)."""
    return value is True or str(value).lower() == "true"


def _unencrypted_volumes(resource: PolicyResource) -> Iterator[str]:
    props = resource.props
    if resource.resource_type in LAUNCH_TEMPLATE:
        mappings = [m for m in as_list(props.get("blockDeviceMappings")) if isinstance(m, Mapping) and m.get("ebs") is not None]
        if not mappings:
            yield "declares no EBS volume, so its root volume follows the AMI's mapping (unencrypted unless the account encrypts by default)"
        for mapping in mappings:
            if not _truthy(get(mapping, "ebs", "encrypted")):
                yield f"volume {mapping.get('deviceName')!r} is not encrypted (blockDeviceMappings[].ebs.encrypted)"
    elif resource.resource_type in EBS_VOLUME and not _truthy(props.get("encrypted")):
        yield "is not encrypted (encrypted)"
    elif resource.resource_type in STORAGE_CLASS and props.get("provisioner") in EBS_PROVISIONERS:
        if not _truthy(get(props, "parameters", "encrypted")):
            yield f"provisions EBS volumes without parameters.encrypted 'true' ({props.get('provisioner')})"


@stack_policy(
    "ebs-encrypted",
    "EBS volumes are encrypted: launch template volumes, EBS volumes and EBS StorageClasses "
    "(unless the stack turns on EBS encryption by default for the account).",
)
def ebs_encrypted(args: StackValidationArgs, report: ReportViolation) -> None:
    if any(_truthy(r.props.get("enabled", True)) for r in _of(args, EBS_ENCRYPTION_BY_DEFAULT)):
        return
    for resource in _of(args, LAUNCH_TEMPLATE + EBS_VOLUME + STORAGE_CLASS):
        for problem in _unencrypted_volumes(resource):
            report(f"'{resource.name}' {problem}", resource.urn)


# ---- RDS ---------------------------------------------------------------------------------------


def _rds_settings(args: ResourceValidationArgs):
    """The RDS instance or cluster to judge, or None for an instance inside an Aurora cluster (its
    cluster owns storage encryption, backups and deletion protection)."""
    if args.resource_type in RDS_INSTANCE and args.props.get("clusterIdentifier"):
        return None
    return args.props


@resource_policy("rds-storage-encrypted", "RDS instances and clusters encrypt their storage.", RDS_INSTANCE + RDS_CLUSTER)
def rds_storage_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = _rds_settings(args)
    if props is not None and props.get("storageEncrypted") is not True:
        report(f"RDS '{args.name}' does not encrypt its storage (storageEncrypted)", args.urn)


@resource_policy(
    "rds-backups",
    f"RDS instances and clusters keep automated backups for at least {MIN_BACKUP_RETENTION_DAYS} days.",
    RDS_INSTANCE + RDS_CLUSTER,
)
def rds_backups(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = _rds_settings(args)
    if props is not None and (props.get("backupRetentionPeriod") or 0) < MIN_BACKUP_RETENTION_DAYS:
        days = number(props.get("backupRetentionPeriod"))
        report(
            f"RDS '{args.name}' keeps backups for {days!r} days (backupRetentionPeriod), fewer than {MIN_BACKUP_RETENTION_DAYS}", args.urn
        )


@resource_policy("rds-deletion-protection", "RDS instances and clusters have deletion protection on.", RDS_INSTANCE + RDS_CLUSTER)
def rds_deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = _rds_settings(args)
    if props is not None and props.get("deletionProtection") is not True:
        report(f"RDS '{args.name}' has no deletion protection (deletionProtection)", args.urn)


@resource_policy(
    "rds-not-public",
    "RDS instances (and Aurora cluster members) are not publicly accessible.",
    RDS_INSTANCE + RDS_CLUSTER_INSTANCE,
)
def rds_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("publiclyAccessible") is True:
        report(f"RDS '{args.name}' is publicly accessible (publiclyAccessible): keep databases in private subnets only", args.urn)


# ---- KMS and IAM -------------------------------------------------------------------------------


@resource_policy("kms-key-rotation", "Symmetric KMS keys rotate their key material (enableKeyRotation).", KMS_KEY)
def kms_key_rotation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = args.props.get("customerMasterKeySpec") or args.props.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec in ROTATABLE_KEY_SPECS and args.props.get("enableKeyRotation") is not True:
        report(f"KMS key '{args.name}' does not rotate its key material (enableKeyRotation)", args.urn)


def _document(value) -> Mapping:
    """A policy document given as JSON text or as an object."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return plain(value) if isinstance(value, Mapping) else {}


def _admin_statements(document: Mapping) -> Iterator[Mapping]:
    """Allow statements granting wildcard actions (``*``, ``s3:*``, ``ec2:Delete*``, or NotAction) on
    every resource (``*`` or NotResource)."""
    for statement in as_list(document.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        wildcard_action = "NotAction" in statement or any("*" in str(a) for a in as_list(statement.get("Action")))
        every_resource = "NotResource" in statement or "*" in as_list(statement.get("Resource"))
        if wildcard_action and every_resource:
            yield statement


@resource_policy(
    "iam-no-wildcard-permissions",
    "No IAM policy allows wildcard actions on every resource (Action with '*' or NotAction, on Resource '*'), "
    "and no identity gets AdministratorAccess.",
    IAM_POLICY_DOCUMENTS + IAM_ROLE + IAM_ATTACHMENTS,
)
def iam_no_wildcard_permissions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    documents = {"policy": args.props.get("policy")} if args.resource_type in IAM_POLICY_DOCUMENTS else {}
    for i, inline in enumerate(as_list(args.props.get("inlinePolicies"))):
        documents[f"inlinePolicies[{i}]"] = get(inline, "policy")
    for where, document in documents.items():
        for statement in _admin_statements(_document(document)):
            actions = statement.get("Action", f"NotAction {statement.get('NotAction')}")
            report(f"IAM '{args.name}': {where} allows {actions} on every resource: list the actions and resources it needs", args.urn)
    arns = as_list(args.props.get("policyArn")) + as_list(args.props.get("managedPolicyArns"))
    for arn in [a for a in arns if a in ADMIN_POLICY_ARNS]:
        report(f"IAM '{args.name}' attaches {arn}: grant only the permissions it needs", args.urn)


# ---- Security groups (stack policy: the exception depends on the load balancer using the group) --


def _ingress(resource: PolicyResource) -> Iterator[tuple[str | None, Mapping, list]]:
    """(security group urn, rule, cidrs) of every ingress rule that ``resource`` declares."""
    props = resource.props
    if resource.resource_type in SECURITY_GROUP:
        for rule in as_list(props.get("ingress")):
            yield resource.urn, rule, as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks"))
        return
    group = next((dep.urn for dep in resource.property_dependencies.get("securityGroupId", [])), None)
    if resource.resource_type in SECURITY_GROUP_RULE and props.get("type") == "ingress":
        yield group, props, as_list(props.get("cidrBlocks")) + as_list(props.get("ipv6CidrBlocks"))
    elif resource.resource_type in SECURITY_GROUP_INGRESS_RULE:
        yield group, props, as_list(props.get("cidrIpv4")) + as_list(props.get("cidrIpv6"))


def _is_https(rule: Mapping) -> bool:
    protocol = str(rule.get("protocol", rule.get("ipProtocol", ""))).lower()
    return protocol in ("tcp", "6") and rule.get("fromPort") == 443 and rule.get("toPort") == 443


def _ports(rule: Mapping) -> str:
    return f"{rule.get('protocol', rule.get('ipProtocol'))} {number(rule.get('fromPort'))}-{number(rule.get('toPort'))}"


@stack_policy(
    "no-world-open-ingress",
    "No security group admits the whole IPv4 or IPv6 space on a port (0.0.0.0/0, ::/0, or CIDRs whose union covers it, "
    "across the group's rules), except 443/tcp on a load balancer's security group.",
)
def no_world_open_ingress(args: StackValidationArgs, report: ReportViolation) -> None:
    load_balancer_groups = {sg.urn for lb in _of(args, LOAD_BALANCER) for sg in lb.property_dependencies.get("securityGroups", [])}
    # (group, protocol and ports) -> the rules admitting sources there, so CIDRs split over rules add up.
    openings: dict[tuple[str | None, str], list[tuple[PolicyResource, Mapping, list]]] = {}
    for resource in args.resources:
        for group, rule, cidrs in _ingress(resource):
            if cidrs:
                openings.setdefault((group or resource.urn, _ports(rule)), []).append((resource, rule, cidrs))
    for (group, ports), rules in openings.items():
        covered = worlds_covered(cidr for _, _, cidrs in rules for cidr in cidrs)
        if not covered or (group in load_balancer_groups and all(_is_https(rule) for _, rule, _ in rules)):
            continue
        alone = [r for r in rules if worlds_covered(r[2])]
        for resource, _, cidrs in alone or rules:
            together = "" if alone else f" (with the group's other rules on these ports, together {', '.join(covered)})"
            report(
                f"'{resource.name}' admits {cidrs} on {ports}{together}: only 443/tcp of a load balancer's security group may be open to the world",
                resource.urn,
            )


POLICIES = [
    s3_bucket_encrypted,
    s3_bucket_versioned,
    s3_bucket_public_access_blocked,
    s3_bucket_tls_only,
    eks_endpoint_restricted,
    eks_secrets_encrypted,
    eks_control_plane_logs,
    imdsv2_required,
    rds_storage_encrypted,
    rds_backups,
    rds_deletion_protection,
    rds_not_public,
    kms_key_rotation,
    iam_no_wildcard_permissions,
    imds_hop_limit_one,
    ebs_encrypted,
    no_world_open_ingress,
]
