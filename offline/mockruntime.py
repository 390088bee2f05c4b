"""Run the program under Pulumi's mock runtime and record every resource registration.

The real SDK serializes each resource exactly as it would for the engine; we keep what it sends
(type, name, parent, provider, dependencies, options and inputs, with secrets masked) and answer
with deterministic outputs, so two runs of the same stack record the same thing.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockMonitor

SECRET = "[secret]"
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
ACCOUNT = "123456789012"


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    provider: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    ignore_changes: list[str]
    delete_before_replace: bool
    aliases: int
    providers: list[str] = field(default_factory=list)
    """A component's providers (its options' ``provider``/``providers``): the SDK registers it, and
    so its children, only once each of their ids resolves (runtime/resource.py, prepare_resource)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Recording:
    stack: str
    registrations: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def by_urn(self) -> dict[str, Registration]:
        return {r.urn: r for r in self.registrations}

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def named(self, type_: str, name: str) -> Registration:
        found = [r for r in self.of_type(type_) if r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources of type {type_} named {name!r}")
        return found[0]


def mask(value: Any) -> Any:
    """Plain JSON from a serialized property value: secrets and unknowns become markers."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            return _secret_leaves(value.get("value"))
        if sig == _RESOURCE_SIG:
            return value.get("urn")
        return {k: mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if value == _UNKNOWN:
        return "[unknown]"
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf Struct carries every number as a double
    return value


def _secret_leaves(value: Any) -> Any:
    """A secret keeps its shape (the keys of a Secret's data stay visible); every value is masked."""
    if isinstance(value, dict) and _SIG not in value:
        return {k: _secret_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_secret_leaves(v) for v in value]
    return SECRET


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self._lock = threading.Lock()

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            with self._lock:
                self.registrations.append(self._record(request, response.urn))
        return response

    @staticmethod
    def _record(request, urn: str) -> Registration:
        return Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=request.custom,
            provider=request.provider.rsplit("::", 1)[0],  # "<urn>::<id>" -> the provider's urn
            dependencies=sorted(set(request.dependencies)),
            property_dependencies={k: sorted(set(v.urns)) for k, v in sorted(request.propertyDependencies.items()) if v.urns},
            inputs=mask(json_format.MessageToDict(request.object)),
            protect=request.protect,
            retain_on_delete=request.retainOnDelete,
            ignore_changes=list(request.ignoreChanges),
            delete_before_replace=request.deleteBeforeReplace,
            aliases=len(request.aliases) or len(request.aliasURNs),
            providers=sorted({ref.rsplit("::", 1)[0] for ref in request.providers.values()}),
        )


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


class PlatformMocks(pulumi.runtime.Mocks):
    """Deterministic outputs for the resource types the platform creates."""

    def __init__(self, region: str = "us-west-2"):
        self.region = region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        if not args.custom:
            return f"{args.name}-component", {}
        state = dict(args.inputs)
        state.setdefault("name", args.name)
        if args.typ.startswith("aws:"):
            state.setdefault("arn", self._arn(args))
        state.update(self._computed(args, state))
        return f"{args.name}-id", state

    def _arn(self, args) -> str:
        service = args.typ.split(":")[1].split("/")[0]
        return f"arn:aws:{service}:{self.region}:{ACCOUNT}:{args.name}"

    def _computed(self, args, state: dict) -> dict:
        name = state["name"]
        if args.typ == "aws:eks/cluster:Cluster":
            return {
                "endpoint": f"https://{_digest(name).upper()}.gr7.{self.region}.eks.amazonaws.com",
                "certificateAuthority": {"data": "bW9jay1jbHVzdGVyLWNh"},
                "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{self.region}.amazonaws.com/id/{_digest(name, 'oidc').upper()}"}]}],
                "vpcConfig": {**state.get("vpcConfig", {}), "clusterSecurityGroupId": f"sg-{_digest(name, 'cluster')}"},
            }
        if args.typ == "aws:eks/nodeGroup:NodeGroup":
            return {"resources": [{"autoscalingGroups": [{"name": f"eks-{name}-{_digest(name)}"}]}]}
        if args.typ == "aws:iam/role:Role":
            return {"arn": f"arn:aws:iam::{ACCOUNT}:role/{name}"}
        if args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
            return {"latestVersion": 1}
        if args.typ == "aws:kms/key:Key":
            return {"keyId": _digest(name, "kms")}
        if args.typ == "aws:s3/bucket:Bucket":
            return {"arn": f"arn:aws:s3:::{state.get('bucket', name)}", "bucket": state.get("bucket", name)}
        if args.typ == "aws:rds/instance:Instance":
            return {
                "address": f"{name}.{_digest(name, 'rds')}.{self.region}.rds.amazonaws.com",
                "masterUserSecrets": [{"secretArn": f"arn:aws:secretsmanager:{self.region}:{ACCOUNT}:secret:rds!db-{_digest(name)}"}],
            }
        if args.typ == "aws:rds/subnetGroup:SubnetGroup":
            return {"name": name}
        if args.typ.startswith("random:"):
            return {"result": f"mock-{_digest(name, 'random')}", "hex": _digest(name, "random")[:8]}
        return {}

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/deployer", "userId": "AIDAMOCK", "id": ACCOUNT}, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        return {}, []


def run_program(
    program: Callable[[], Any],
    *,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str] | None = None,
    project: str = "ai-platform",
    region: str = "us-west-2",
    recording: Recording | None = None,
    mocks: PlatformMocks | None = None,
) -> Recording:
    """Run ``program`` as ``pulumi up`` would (update mode, not preview) and record it.

    Pass ``recording`` to see what was registered even when the program raises, ``mocks`` to
    answer registrations differently (e.g. to hold one resource's create back).
    """
    from pulumi.runtime.sync_await import _sync_await

    monitor = RecordingMonitor(mocks or PlatformMocks(region))
    # each run starts a fresh stack (pulumi types the argument as Resource, but the variable holds Resource | None)
    settings.set_root_resource(None)  # pyright: ignore[reportArgumentType]
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(config, secret_keys or [])
    recording = recording or Recording(stack=stack)

    @pulumi.runtime.test
    def run():
        program()

    try:
        run()
    finally:
        recording.registrations = sorted(monitor.registrations, key=lambda r: r.urn)
    root = settings.get_root_resource()
    for key, value in sorted(getattr(root, "outputs", {}).items()):
        output = pulumi.Output.from_input(value)
        secret = _sync_await(output.is_secret())
        recording.outputs[key] = SECRET if secret else mask(_sync_await(output.future()))
    return recording
