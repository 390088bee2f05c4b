"""Vpc: a three-AZ network for an EKS cluster, with public and private subnets."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field

from ..core.args import Options, parse_args
from ..core.problems import Problem
from ..core.types import Cidr


class VpcOptions(Options):
    """What a caller or a stack file sets for the cluster's network (``cluster.vpc``)."""

    cidr: Cidr = "10.0.0.0/16"
    """IPv4 range of the VPC, /16 to /20; split into one private and one public subnet per zone."""
    nat_gateways: Literal["onePerAz", "single"] = "onePerAz"
    """``onePerAz`` survives an AZ outage; ``single`` costs less."""


class VpcArgs(VpcOptions):
    """The network's options plus what the cluster passes in."""

    availability_zones: list[str] = Field(min_length=1, max_length=3)
    """Availability zones (at most three: the range splits in quarters), one private and one public
    subnet in each."""
    cluster_name: str
    """EKS cluster the subnets serve; used in the load balancer discovery tags."""
    tags: dict[str, str] = {}
    """Tags for every resource."""


def problems(options: VpcOptions) -> list[Problem]:
    """What the subnet split cannot do with the range; pure, so stack config validation runs it too."""
    prefix = ipaddress.IPv4Network(options.cidr).prefixlen
    if not 16 <= prefix <= 20:
        return [Problem(("cidr",), f"prefix must be /16 to /20 (got /{prefix})")]
    return []


def split_cidr(cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """Private and public subnet ranges: a quarter of the VPC per private subnet, the last
    quarter shared by the public ones (they only hold NAT gateways and load balancers)."""
    network = ipaddress.IPv4Network(cidr)
    quarters = list(network.subnets(prefixlen_diff=2))
    private = [str(q) for q in quarters[:zones]]
    public = [str(s) for s in list(quarters[3].subnets(prefixlen_diff=2))[:zones]]
    return private, public


class Vpc(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: VpcArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        a = parse_args(VpcArgs, args, component="Vpc", name=name, problems=problems)
        super().__init__("aiplatform:index:Vpc", name, None, opts)
        zones = list(a.availability_zones)
        self._tags = a.tags
        self._child = pulumi.ResourceOptions(parent=self)
        cluster_tag = {f"kubernetes.io/cluster/{a.cluster_name}": "shared"}

        vpc = aws.ec2.Vpc(
            name,
            cidr_block=a.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=self._tagged(name),
            opts=self._child,
        )
        # Strip the default security group's rules so nothing can use it by accident.
        aws.ec2.DefaultSecurityGroup(f"{name}-default", vpc_id=vpc.id, tags=self._tagged(f"{name}-default"), opts=self._child)
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=self._tagged(f"{name}-igw"), opts=self._child)

        private_cidrs, public_cidrs = split_cidr(a.cidr, len(zones))
        public = [
            self._subnet(f"{name}-public-{zone}", vpc, cidr, zone, {**cluster_tag, "kubernetes.io/role/elb": "1"})
            for zone, cidr in zip(zones, public_cidrs, strict=True)
        ]
        private = [
            self._subnet(f"{name}-private-{zone}", vpc, cidr, zone, {**cluster_tag, "kubernetes.io/role/internal-elb": "1"})
            for zone, cidr in zip(zones, private_cidrs, strict=True)
        ]
        self._route_public(name, vpc, gateway, public)
        nat_subnets = public if a.nat_gateways == "onePerAz" else public[:1]
        nats = [self._nat(f"{name}-nat-{zone}", subnet, gateway) for zone, subnet in zip(zones, nat_subnets, strict=False)]
        for index, (zone, subnet) in enumerate(zip(zones, private, strict=True)):
            self._route_private(f"{name}-private-{zone}", vpc, subnet, nats[min(index, len(nats) - 1)])

        self.vpc_id = vpc.id
        self.private_subnet_ids = [s.id for s in private]
        self.public_subnet_ids = [s.id for s in public]
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
            }
        )

    def _tagged(self, name: str, extra: dict | None = None) -> dict[str, str]:
        return {**self._tags, "Name": name, **(extra or {})}

    def _subnet(self, name: str, vpc: aws.ec2.Vpc, cidr: str, zone: str, tags: dict) -> aws.ec2.Subnet:
        return aws.ec2.Subnet(
            name,
            vpc_id=vpc.id,
            cidr_block=cidr,
            availability_zone=zone,
            map_public_ip_on_launch=False,
            tags=self._tagged(name, tags),
            opts=self._child,
        )

    def _route_public(self, name, vpc, gateway, subnets) -> None:
        table = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
            tags=self._tagged(f"{name}-public"),
            opts=self._child,
        )
        for index, subnet in enumerate(subnets):
            aws.ec2.RouteTableAssociation(f"{name}-public-{index}", subnet_id=subnet.id, route_table_id=table.id, opts=self._child)

    def _nat(self, name: str, subnet: aws.ec2.Subnet, gateway: aws.ec2.InternetGateway) -> aws.ec2.NatGateway:
        eip = aws.ec2.Eip(name, domain="vpc", tags=self._tagged(name), opts=self._child)
        return aws.ec2.NatGateway(
            name,
            allocation_id=eip.id,
            subnet_id=subnet.id,
            tags=self._tagged(name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
        )

    def _route_private(self, name, vpc, subnet, nat) -> None:
        table = aws.ec2.RouteTable(
            name,
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}],
            tags=self._tagged(name),
            opts=self._child,
        )
        aws.ec2.RouteTableAssociation(name, subnet_id=subnet.id, route_table_id=table.id, opts=self._child)
