"""RayCluster: a KubeRay ``ray.io/v1`` RayCluster with CPU and GPU worker groups, the in-tree
autoscaler, object store access through a service account, and optional GCS fault tolerance.

The custom resource is built by the small pure functions below (``head_group``, ``worker_group``,
``ray_start_params``, ...), and :func:`problems` checks the rules KubeRay would enforce
after the fact, so stack config validation can reject a bad cluster before ``pulumi up``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BeforeValidator, SkipValidation

from .. import versions
from ..core.args import Options, parse_args
from ..core.contracts import NodePool, RayOperator
from ..core.namespace import SHARED, platform_namespace
from ..core.network_policy import API_SERVER, AWS_APIS, MLFLOW_CLIENT_LABEL, Allow, Isolation, allow_pod_identity_agent
from ..core.problems import Problem, escape
from ..core.util import explicit_depends_on, output_fields
from ..data.storage_access import MODELS_BUCKET, BucketAccess, ObjectStoreLike, StoreAccess

RAY_VERSION = versions.RAY_VERSION
RAY_CPU_IMAGE = versions.RAY_CPU_IMAGE
RAY_GPU_IMAGE = versions.RAY_GPU_IMAGE
RAY_UID, RAY_GID = 1000, 100
"""The ``ray`` user and ``users`` group of the rayproject images."""

MAX_NAME_LENGTH = 53
"""KubeRay's limit: 63 minus ``-serve-svc``, the longest suffix it appends for its services."""
OBJECT_STORE_PERCENT = 30
"""Ray's own default share of a node's memory for the object store."""
MIN_OBJECT_STORE_MIB = 75
"""Ray refuses to start with a smaller object store."""
MIB = 1024 * 1024
GPU_RESOURCE = "nvidia.com/gpu"
UPSCALING_MODES = ("Default", "Conservative", "Aggressive")
SHM_VOLUME = "shared-mem"
HEAD_SERVICE_TYPE = "ClusterIP"
"""The head service (GCS, dashboard, client) stays inside the cluster; reach it with port-forward."""
DASHBOARD_PORT, CLIENT_PORT = 8265, 10001
RAY_ISOLATION = Isolation(
    ingress=[Allow("kuberay-operator", (DASHBOARD_PORT,), "KubeRay polls the dashboard for job status")],
    egress=[
        API_SERVER,  # the in-tree autoscaler on the head scales the RayCluster through it
        AWS_APIS,
        Allow("platform", (9000, 5000), "MinIO's S3 API (dev) and the MLflow tracking server"),
    ],
)
HEAD_PORTS = [
    {"name": "gcs-server", "containerPort": 6379},
    {"name": "dashboard", "containerPort": DASHBOARD_PORT},
    {"name": "client", "containerPort": CLIENT_PORT},
    {"name": "metrics", "containerPort": 8080},
    # Scraped by Observability's PodMonitor: the autoscaler's and the dashboard's own metrics.
    {"name": "as-metrics", "containerPort": 44217},
    {"name": "dash-metrics", "containerPort": 44227},
]

POD_SECURITY_CONTEXT = {
    "runAsNonRoot": True,
    "runAsUser": RAY_UID,
    "runAsGroup": RAY_GID,
    "fsGroup": RAY_GID,
    "seccompProfile": {"type": "RuntimeDefault"},
}
RAY_CONTAINER_SECURITY_CONTEXT = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    # Ray writes its session directory under /tmp and runtime envs under $HOME, where the image
    # also keeps its Python; neither can become a volume without hiding the image's files.
    "readOnlyRootFilesystem": False,
}
AUTOSCALER_RESOURCES = {"cpu": "500m", "memory": "512Mi"}

_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_REDIS_ADDRESS = re.compile(r"^(rediss?://)?[A-Za-z0-9.-]+:\d{1,5}$")
_PINNED_IMAGE = re.compile(r"^[^\s@]+(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$")


def _checked(test: Any, what: str) -> BeforeValidator:
    """A field check that reports ``what`` and the value as given (before pydantic coerces it)."""

    def check(value: Any) -> Any:
        if value is not None and not test(value):
            raise ValueError(f"{what} (got {value!r})")
        return value

    return BeforeValidator(check)


def _whole(minimum: int) -> Any:
    return lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _label(pattern: re.Pattern, max_length: int = 63) -> Any:
    return lambda value: isinstance(value, str) and len(value) <= max_length and bool(pattern.match(value))


def _pinned(image: Any) -> bool:
    return isinstance(image, str) and bool(_PINNED_IMAGE.match(image)) and not image.endswith(":latest")


Cores = Annotated[int, _checked(_whole(1), "must be a whole number of cores >= 1, as Ray's num-cpus")]
Gib = Annotated[int, _checked(_whole(1), "must be a whole number of GiB >= 1")]
Count = Annotated[int, _checked(_whole(0), "must be a whole number >= 0")]
PinnedImage = Annotated[str, _checked(_pinned, "must be pinned by a tag other than 'latest' or by digest")]


class RayHeadGroupArgs(Options):
    """The head pod (``rayClusters[].head``)."""

    cpu: Cores = 2
    """CPU cores of the head container (requests = limits); also Ray's ``num-cpus``."""
    memory_gib: Gib = 8
    """Memory of the head container in GiB (requests = limits)."""
    object_store_gib: float | None = None
    """Ray's object store, also the size of ``/dev/shm``; must fit in ``memory_gib``. Unset: 30% of
    ``memory_gib``, Ray's own share."""
    run_tasks: bool = True
    """Let tasks and actors run on the head; false sets ``num-cpus`` to 0 so they run on workers and
    the head keeps its CPU for the GCS, the dashboard and drivers."""


class RayWorkerGroupOptions(Options):
    """A worker group as a caller or a stack file sets it (``rayClusters[].workerGroups[]``)."""

    name: Annotated[
        str, _checked(_label(_DNS_1123), "must be a DNS-1123 label of at most 63 characters: lowercase letters, digits and '-'")
    ]
    """Group name, a DNS-1123 label unique within the cluster."""
    cpu: Cores = 4
    """CPU cores per worker (requests = limits); also Ray's ``num-cpus``."""
    memory_gib: Gib = 16
    """Memory per worker in GiB (requests = limits)."""
    gpus: Count = 0
    """``nvidia.com/gpu`` per worker (requests = limits) and Ray's ``num-gpus``; more than 0 needs
    a GPU pool and uses the GPU image."""
    min_replicas: Count = 0
    """Fewest workers; the group starts with this many."""
    max_replicas: Count = 2
    """Most workers the autoscaler may start."""
    object_store_gib: float | None = None
    """Ray's object store per worker, also the size of ``/dev/shm``. Unset: 30% of ``memory_gib``."""


class RayWorkerGroupArgs(RayWorkerGroupOptions):
    """A worker group plus the pool the composition places it on."""

    gpu_pool: SkipValidation[NodePool | None] = None
    """The GpuNodePool the workers run on: its ``node_selector`` places them, its ``tolerations``
    let them past the GPU taint. Unset: untainted nodes."""


class RayClusterOptions(Options):
    """What a caller or a stack file sets for a Ray cluster (``rayClusters[]``, with its ``name``)."""

    bucket: str = "datasets"
    """Logical bucket of the object store handed to the pods as ``DATASETS_URI``."""
    namespace: Annotated[str | None, _checked(_label(_DNS_1123), "must be a DNS-1123 label of at most 63 characters")] = None
    """An existing namespace to run in (pass what creates it in ``opts.depends_on``). Unset: a
    namespace named after the cluster, created here with the restricted Pod Security profile."""
    head: RayHeadGroupArgs = RayHeadGroupArgs()
    """The head pod."""
    worker_groups: Sequence[RayWorkerGroupOptions] = ()
    """CPU and GPU worker groups. Empty: the head alone."""
    autoscaling: bool = True
    """Run KubeRay's in-tree autoscaler (v2), which scales each group between its min and max
    replicas; without it every group runs ``min_replicas`` workers."""
    idle_timeout_seconds: Count = 60
    """How long a worker stays idle before the autoscaler removes it."""
    upscaling_mode: Annotated[
        Literal["Default", "Conservative", "Aggressive"],
        _checked(lambda mode: mode in UPSCALING_MODES, f"must be one of {', '.join(UPSCALING_MODES)}"),
    ] = "Default"
    """``Default``, ``Conservative`` (at most doubles the cluster per step) or ``Aggressive``."""
    redis_address: Annotated[
        str | None,
        _checked(
            lambda a: isinstance(a, str) and bool(_REDIS_ADDRESS.match(a)), "must be host:port, redis://host:port or rediss://host:port"
        ),
    ] = None
    """External Redis (``host:port``, ``redis://`` or ``rediss://``) for GCS fault tolerance: the
    head can restart without losing the cluster's state. Unset: off."""
    redis_password_secret: str | None = None
    """Secret in the cluster's namespace with the Redis password; required with ``redis_address``."""
    redis_password_key: str = "password"
    """Key of the password in ``redis_password_secret``."""
    image: PinnedImage | None = None
    """Image of the head and the CPU groups, built on the same Ray version. Unset: the pinned
    ``rayproject/ray:<RAY_VERSION>-py311``."""
    gpu_image: PinnedImage | None = None
    """Image of the GPU groups. Unset: the pinned ``rayproject/ray:<RAY_VERSION>-py311-gpu``."""


class RayClusterArgs(RayClusterOptions):
    """A Ray cluster's options plus what the composition injects."""

    operator: SkipValidation[RayOperator]
    """The KubeRay operator; the RayCluster waits for the release that installs its CRD."""
    store: SkipValidation[ObjectStoreLike | None] = None
    """Object store the pods reach through a grant for their service account: they read the
    ``models`` bucket and write only ``bucket`` (datasets, checkpoints). Unset: no store access."""
    worker_groups: Sequence[RayWorkerGroupArgs] = ()  # pyright: ignore[reportIncompatibleVariableOverride]
    """CPU and GPU worker groups, each with the pool it runs on. Empty: the head alone."""
    cpu_node_selector: dict[str, str] = {}
    """Node selector of the head and of the groups without a GPU pool (the stack's CPU node group).
    Empty: any untainted node that fits."""


def ray_store_access(bucket: str, store_buckets: Sequence[str]) -> list[BucketAccess]:
    """Ray reads the models (to fine-tune or evaluate them) and writes only its own ``bucket``:
    a job cannot overwrite or delete the models that serving reads."""
    read = [BucketAccess(MODELS_BUCKET)] if MODELS_BUCKET in store_buckets and bucket != MODELS_BUCKET else []
    return [*read, BucketAccess(bucket, write=True)]


# ---------------------------------------------------------------- validation


def problems(options: RayClusterOptions, *, name: str, gpu_pools: Sequence[NodePool | None] = ()) -> list[Problem]:
    """Everything KubeRay, Ray or the scheduler would reject about this cluster, all at once.

    Pure: needs no resource, so stack config validation calls it too. ``gpu_pools[i]`` is the pool
    of worker group ``i`` (or a stand-in with its ``gpu_resources``; empty when they are unknown).
    """
    found = _name_problems(name)
    found += _size_problems(options.head, ("head",))
    seen: set[str] = set()
    for index, group in enumerate(options.worker_groups):
        pool = gpu_pools[index] if index < len(gpu_pools) else None
        found += _worker_group_problems(group, pool, ("worker_groups", index), seen)
        seen.add(group.name)
    found += _fault_tolerance_problems(options)
    return found


def _name_problems(name: str) -> list[Problem]:
    if len(name) > MAX_NAME_LENGTH:
        return [
            Problem(("name",), f"must be at most {MAX_NAME_LENGTH} characters, KubeRay's limit (got {len(name)}: {escape(repr(name))})")
        ]
    if not _DNS_1035.match(name):
        return [
            Problem(
                ("name",), f"must be a DNS-1035 label: lowercase letters, digits and '-', starting with a letter (got {escape(repr(name))})"
            )
        ]
    return []


def _size_problems(group: RayHeadGroupArgs | RayWorkerGroupOptions, path: tuple) -> list[Problem]:
    store = object_store_mib(group)
    if store < MIN_OBJECT_STORE_MIB:
        return [Problem((*path, "object_store_gib"), f"Ray needs at least {MIN_OBJECT_STORE_MIB} MiB (got {store} MiB)")]
    if store >= group.memory_gib * 1024:
        return [
            Problem(
                (*path, "object_store_gib"),
                f"must be less than {{memory_gib}} ({group.memory_gib}): /dev/shm counts against the memory limit (got {store} MiB)",
            )
        ]
    return []


def _worker_group_problems(group: RayWorkerGroupOptions, pool: NodePool | None, path: tuple, seen: set[str]) -> list[Problem]:
    found = []
    if group.name in seen:
        found.append(Problem((*path, "name"), f"worker group names must be unique ({escape(repr(group.name))} repeats)"))
    found += _size_problems(group, path)
    if group.min_replicas > group.max_replicas:
        found.append(Problem((*path, "max_replicas"), f"must be >= {{min_replicas}} ({group.min_replicas}) (got {group.max_replicas})"))
    return found + _gpu_problems(group, pool, path)


def _gpu_problems(group: RayWorkerGroupOptions, pool: NodePool | None, path: tuple) -> list[Problem]:
    gpus = group.gpus
    if gpus == 0:
        return []
    if pool is None:
        return [
            Problem(
                (*path, "gpu_pool"),
                f"a GPU group (gpus: {gpus}) needs a GPU node pool: only its nodes have GPUs and let GPU pods past their taint",
            )
        ]
    offered = pool.gpu_resources
    if not offered:  # a stand-in for a pool whose capacity is unknown
        return []
    if GPU_RESOURCE not in offered:
        return [
            Problem(
                (*path, "gpu_pool"), f"the pool offers {escape(sorted(offered))}, not {GPU_RESOURCE}; the workers could never be scheduled"
            )
        ]
    if gpus > offered[GPU_RESOURCE]:
        return [
            Problem(
                (*path, "gpus"),
                f"a node of the pool has {offered[GPU_RESOURCE]} {GPU_RESOURCE}; a worker asking for {gpus} could never be scheduled",
            )
        ]
    return []


def _fault_tolerance_problems(a: RayClusterOptions) -> list[Problem]:
    if a.redis_address is None:
        if a.redis_password_secret is not None:
            return [Problem(("redis_password_secret",), "only used with {redis_address} (GCS fault tolerance)")]
        return []
    if not a.redis_password_secret:
        return [Problem(("redis_password_secret",), "required with {redis_address}: the Secret holding the Redis password")]
    return []


# ---------------------------------------------------------------- the custom resource


def object_store_mib(group: RayHeadGroupArgs | RayWorkerGroupOptions) -> int:
    """The group's object store in MiB: as configured, or Ray's default share of its memory."""
    if group.object_store_gib is not None:
        return round(group.object_store_gib * 1024)
    return group.memory_gib * 1024 * OBJECT_STORE_PERCENT // 100


def ray_start_params(*, cpu: int, gpus: int, object_store_mib: int) -> dict[str, str]:
    """``rayStartParams`` that tell Ray exactly what the container has, rather than letting it guess
    from the node. The group's ``resources`` map stays unset: KubeRay rejects both."""
    return {"num-cpus": str(cpu), "num-gpus": str(gpus), "object-store-memory": str(object_store_mib * MIB)}


def container_resources(*, cpu: int, memory_gib: int, gpus: int = 0) -> dict[str, dict[str, str]]:
    """Requests equal to limits: Ray sizes its workers to the container, so it must get all of it."""
    amounts = {"cpu": str(cpu), "memory": f"{memory_gib}Gi"}
    if gpus:
        amounts[GPU_RESOURCE] = str(gpus)
    return {"requests": dict(amounts), "limits": dict(amounts)}


def shm_volume(object_store_mib: int) -> dict[str, Any]:
    """``/dev/shm`` in memory, as large as the object store Ray keeps there (the default is 64 MiB)."""
    return {"name": SHM_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": f"{object_store_mib}Mi"}}


def ray_container(name: str, *, image: str, resources: dict, env: pulumi.Input[list], ports: list | None = None) -> dict[str, Any]:
    container = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": resources,
        "env": env,
        "securityContext": RAY_CONTAINER_SECURITY_CONTEXT,
        "volumeMounts": [{"name": SHM_VOLUME, "mountPath": "/dev/shm"}],
    }
    if ports:
        container["ports"] = ports
    return container


def pod_template(
    container: dict,
    *,
    service_account: pulumi.Input[str],
    object_store_mib: int,
    gpu_pool: NodePool | None = None,
    node_selector: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "serviceAccountName": service_account,
        "securityContext": POD_SECURITY_CONTEXT,
        "containers": [container],
        "volumes": [shm_volume(object_store_mib)],
    }
    if gpu_pool is not None:
        spec["nodeSelector"] = dict(gpu_pool.node_selector)
        spec["tolerations"] = [dict(t) for t in gpu_pool.tolerations]
    elif node_selector:
        spec["nodeSelector"] = dict(node_selector)
    return {"spec": spec}


def head_group(
    h: RayHeadGroupArgs,
    *,
    image: str,
    service_account: pulumi.Input[str],
    env: pulumi.Input[list],
    node_selector: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    store = object_store_mib(h)
    resources = container_resources(cpu=h.cpu, memory_gib=h.memory_gib)
    container = ray_container("ray-head", image=image, resources=resources, env=env, ports=HEAD_PORTS)
    return {
        "serviceType": HEAD_SERVICE_TYPE,
        "enableIngress": False,
        "rayStartParams": ray_start_params(cpu=h.cpu if h.run_tasks else 0, gpus=0, object_store_mib=store),
        "template": pod_template(container, service_account=service_account, object_store_mib=store, node_selector=node_selector),
    }


def worker_group(
    g: RayWorkerGroupArgs,
    *,
    image: str,
    gpu_image: str,
    service_account: pulumi.Input[str],
    env: pulumi.Input[list],
    node_selector: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    store = object_store_mib(g)
    resources = container_resources(cpu=g.cpu, memory_gib=g.memory_gib, gpus=g.gpus)
    container = ray_container("ray-worker", image=gpu_image if g.gpus else image, resources=resources, env=env)
    # No `replicas`: KubeRay starts the group at minReplicas and the autoscaler owns the count from
    # then on; a value here would undo its work on every update.
    return {
        "groupName": g.name,
        "minReplicas": g.min_replicas,
        "maxReplicas": g.max_replicas,
        "rayStartParams": ray_start_params(cpu=g.cpu, gpus=g.gpus, object_store_mib=store),
        "template": pod_template(
            container, service_account=service_account, object_store_mib=store, gpu_pool=g.gpu_pool, node_selector=node_selector
        ),
    }


def autoscaler_options(*, idle_timeout_seconds: int, upscaling_mode: str) -> dict[str, Any]:
    """The autoscaler sidecar on the head (it runs the head's image)."""
    return {
        "version": "v2",
        "upscalingMode": upscaling_mode,
        "idleTimeoutSeconds": idle_timeout_seconds,
        "resources": {"requests": dict(AUTOSCALER_RESOURCES), "limits": dict(AUTOSCALER_RESOURCES)},
        "securityContext": RAY_CONTAINER_SECURITY_CONTEXT,
    }


def gcs_fault_tolerance(*, redis_address: str, password_secret: str, password_key: str) -> dict[str, Any]:
    return {
        "redisAddress": redis_address,
        "redisPassword": {"valueFrom": {"secretKeyRef": {"name": password_secret, "key": password_key}}},
    }


def ray_cluster_spec(a: RayClusterArgs, *, service_account: pulumi.Input[str], env: pulumi.Input[list]) -> dict[str, Any]:
    """The RayCluster ``spec`` for validated Args."""
    image = a.image or RAY_CPU_IMAGE
    gpu_image = a.gpu_image or RAY_GPU_IMAGE
    spec: dict[str, Any] = {
        "rayVersion": RAY_VERSION,
        "enableInTreeAutoscaling": a.autoscaling,
        "headGroupSpec": head_group(a.head, image=image, service_account=service_account, env=env, node_selector=a.cpu_node_selector),
        "workerGroupSpecs": [
            worker_group(g, image=image, gpu_image=gpu_image, service_account=service_account, env=env, node_selector=a.cpu_node_selector)
            for g in a.worker_groups
        ],
    }
    if a.autoscaling:
        spec["autoscalerOptions"] = autoscaler_options(idle_timeout_seconds=a.idle_timeout_seconds, upscaling_mode=a.upscaling_mode)
    if a.redis_address:
        spec["gcsFaultToleranceOptions"] = gcs_fault_tolerance(
            redis_address=a.redis_address, password_secret=a.redis_password_secret or "", password_key=a.redis_password_key
        )
    return spec


def store_env(access: StoreAccess | None, datasets_uri: pulumi.Input[str] | None) -> list[dict[str, Any]]:
    """What every Ray container needs to reach the object store (nothing without a store)."""
    if access is None:
        return []
    return [*access.env(), {"name": "DATASETS_URI", "value": datasets_uri}]


# ---------------------------------------------------------------- the component


class RayCluster(pulumi.ComponentResource):
    custom_resource: k8s.apiextensions.CustomResource
    service_account: k8s.core.v1.ServiceAccount
    access: StoreAccess | None
    """The store grant the pods use (None without a store)."""
    namespace: pulumi.Output[str]
    head_service: str
    """The head's ClusterIP service, created by KubeRay: ``<name>-head-svc``."""
    dashboard_url: pulumi.Output[str]
    """In-cluster URL of the dashboard and the job submission API."""
    client_address: pulumi.Output[str]
    """In-cluster Ray client address (``ray://``)."""

    def __init__(self, name: str, args: RayClusterArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        # Before anything is registered: bad input never half-applies.
        a = parse_args(
            RayClusterArgs,
            args,
            component="RayCluster",
            name=name,
            problems=lambda a: problems(a, name=name, gpu_pools=[g.gpu_pool for g in a.worker_groups]),
        )
        super().__init__("aiplatform:index:RayCluster", name, None, opts)
        after = explicit_depends_on(opts)

        created = self._namespace(name, a.namespace)
        namespace = created.metadata["name"] if created is not None else a.namespace
        service_account_name = f"{name}-ray"
        store = a.store
        self.access = None
        if store is not None:
            self.access = store.grant(
                f"{name}-ray",
                namespace=a.namespace or name,
                service_account=service_account_name,
                access=ray_store_access(a.bucket, store.buckets),
                parent=self,
                depends_on=[created] if created is not None else [],
            )
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-ray",
            metadata={
                "name": service_account_name,
                "namespace": namespace,
                "annotations": dict(self.access.service_account_annotations) if self.access else {},
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )
        env = store_env(self.access, store.bucket_uri(a.bucket) if store is not None else None)
        grants = [*(self.access.depends_on if self.access else []), *self._reach_credentials(created, service_account_name)]
        self.custom_resource = k8s.apiextensions.CustomResource(
            name,
            api_version="ray.io/v1",
            kind="RayCluster",
            metadata={"name": name, "namespace": namespace},
            spec=ray_cluster_spec(a, service_account=self.service_account.metadata["name"], env=env),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*a.operator.crds_ready, self.service_account, *grants, *after]),
        )
        self.namespace = pulumi.Output.from_input(namespace)
        self.head_service = f"{name}-head-svc"
        host = pulumi.Output.concat(self.head_service, ".", self.namespace, ".svc.cluster.local")
        self.dashboard_url = pulumi.Output.concat("http://", host, f":{DASHBOARD_PORT}")
        self.client_address = pulumi.Output.concat("ray://", host, f":{CLIENT_PORT}")
        self.register_outputs(
            {
                "namespace": self.namespace,
                "head_service": self.head_service,
                "dashboard_url": self.dashboard_url,
                "client_address": self.client_address,
                "service_account": self.service_account,
                "access": output_fields(self.access),
            }
        )

    def _reach_credentials(self, created: k8s.core.v1.Namespace | None, service_account: str) -> list[pulumi.Resource]:
        """The NetworkPolicy to the Pod Identity agent, in the namespace this cluster isolates,
        when the pods' credentials come from it (a given namespace keeps its owner's policies)."""
        if created is None or self.access is None or not self.access.pod_identity_agent:
            return []
        opts = pulumi.ResourceOptions(depends_on=[created])
        return [
            allow_pod_identity_agent(f"{self._name}-pod-identity-agent", created.metadata["name"], service_account, parent=self, opts=opts)
        ]

    def _namespace(self, name: str, given: str | None) -> k8s.core.v1.Namespace | None:
        """The cluster's own namespace, unless it was given one that exists already."""
        if given is not None:
            return None
        # restricted: the Ray containers, the autoscaler and KubeRay's init container run non-root
        # without privileges (the init container copies the worker's security context).
        return platform_namespace(
            name,
            pod_security="restricted",
            isolation=RAY_ISOLATION,
            parent=self,
            labels={MLFLOW_CLIENT_LABEL: "true"},
            lifecycle=SHARED,
        )
