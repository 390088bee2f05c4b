"""RdsPostgres: PostgreSQL on RDS in the cluster's private subnets (prod).

The master password is managed by RDS in Secrets Manager, so it never appears in Pulumi state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random
from pydantic import Field, SkipValidation

from ..core.args import Options, parse_args
from ..core.contracts import DatabaseConnection

ENGINE_MAJOR = "17"
"""Only the major version: with ``auto_minor_version_upgrade`` AWS picks and upgrades the minor, and
the provider reports it in ``engine_version_actual`` (pulumi-aws ``rds.Instance``: "If
``auto_minor_version_upgrade`` is enabled, you can provide a prefix of the version such as ``8.0``").
A full version pinned here turns AWS's first minor upgrade into a downgrade on every ``pulumi up``."""
PORT = 5432


class RdsPostgresArgs(Options):
    """Inputs of an RDS PostgreSQL (ModelRegistry builds one for ``database: rds``)."""

    subnet_ids: SkipValidation[Sequence[str | pulumi.Output[str]]]
    """Private subnets of the database (one per AZ)."""
    vpc_id: SkipValidation[str | pulumi.Output[str]]
    """VPC of the subnets."""
    client_security_group_id: SkipValidation[str | pulumi.Output[str]]
    """Security group of the clients (the EKS cluster's); only it reaches port 5432."""
    database: str = "mlflow"
    """Database name and master user."""
    instance_class: str = "db.m7g.large"
    """RDS instance class."""
    allocated_storage_gib: int = Field(default=50, ge=20, le=6553)
    """Initial gp3 storage; grows automatically up to 10x."""
    multi_az: bool = True
    """A synchronous standby in another AZ."""
    backup_retention_days: int = Field(default=14, ge=0, le=35)
    """Days of automated backups (0 turns them off)."""
    protect: bool = True
    """Deletion protection on RDS and ``protect`` in Pulumi; keep it on destroy."""
    tags: dict[str, str] = {}
    """Tags of every AWS resource."""


def final_snapshot_identifier(
    name: str, key: aws.kms.Key, subnets: aws.rds.SubnetGroup, opts: pulumi.ResourceOptions
) -> pulumi.Output[str]:
    """A final snapshot name no earlier deletion used: a fixed one makes the second deletion of the
    database (after a replace, or a destroy and a new ``up``) fail on the snapshot the first left.
    The suffix is new whenever the instance would be replaced (its keepers are the instance's
    replace-forcing inputs: engine, key, subnet group) and whenever the component is created anew."""
    suffix = random.RandomId(
        f"{name}-final-snapshot",
        byte_length=4,
        keepers={"engine": "postgres", "major": ENGINE_MAJOR, "kms_key": key.arn, "subnet_group": subnets.name},
        opts=opts,
    )
    return pulumi.Output.concat(name, "-final-", suffix.hex)


class RdsPostgres(pulumi.ComponentResource):
    host: pulumi.Output[str]
    port: int
    database: str
    username: str
    secret_arn: pulumi.Output[str]
    """Secrets Manager secret with the master ``username`` and ``password`` (managed by RDS)."""
    instance: aws.rds.Instance
    connection: DatabaseConnection
    """How clients connect: TLS, and the password from the RDS-managed secret."""

    def __init__(self, name: str, args: RdsPostgresArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        a = parse_args(RdsPostgresArgs, args, component="RdsPostgres", name=name)
        super().__init__("aiplatform:index:RdsPostgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        protected = pulumi.ResourceOptions(parent=self, protect=a.protect, retain_on_delete=a.protect)
        subnets = aws.rds.SubnetGroup(name, subnet_ids=list(a.subnet_ids), tags=a.tags, opts=child)
        group = aws.ec2.SecurityGroup(
            name, description=f"PostgreSQL {name}: clients of the EKS cluster only", vpc_id=a.vpc_id, tags=a.tags, opts=child
        )
        # A separate rule, so the database (12 minutes to create) does not wait for the cluster
        # whose security group it admits.
        aws.ec2.SecurityGroupRule(
            f"{name}-clients",
            type="ingress",
            security_group_id=group.id,
            source_security_group_id=a.client_security_group_id,
            protocol="tcp",
            from_port=PORT,
            to_port=PORT,
            description="PostgreSQL from the cluster",
            opts=child,
        )
        key = aws.kms.Key(
            f"{name}-storage",
            description=f"Encrypts the {name} database and its backups",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=a.tags,
            # Kept even when the database is deleted: its final snapshot is encrypted with it.
            opts=pulumi.ResourceOptions(parent=self, protect=a.protect, retain_on_delete=True),
        )
        self.instance = aws.rds.Instance(
            name,
            engine="postgres",
            engine_version=ENGINE_MAJOR,
            allow_major_version_upgrade=False,
            instance_class=a.instance_class,
            db_name=a.database,
            username=a.database,
            manage_master_user_password=True,
            allocated_storage=a.allocated_storage_gib,
            max_allocated_storage=a.allocated_storage_gib * 10,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=key.arn,
            multi_az=a.multi_az,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[group.id],
            publicly_accessible=False,
            backup_retention_period=a.backup_retention_days,
            copy_tags_to_snapshot=True,
            deletion_protection=a.protect,
            skip_final_snapshot=False,
            final_snapshot_identifier=final_snapshot_identifier(name, key, subnets, child),
            auto_minor_version_upgrade=True,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key.arn,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            tags=a.tags,
            opts=protected,
        )
        self.host = self.instance.address
        self.port = PORT
        self.database = self.username = a.database
        self.secret_arn = self.instance.master_user_secrets.apply(lambda s: (s[0].secret_arn or "") if s else "")
        self.connection = DatabaseConnection(
            kind="rds",
            host=self.host,
            port=self.port,
            name=self.database,
            user=self.username,
            password_secret_arn=self.secret_arn,
            require_tls=True,
            ready=(self,),
        )
        self.register_outputs(
            {"host": self.host, "port": self.port, "database": self.database, "username": self.username, "secret_arn": self.secret_arn}
        )
