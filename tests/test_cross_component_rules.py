"""Config rules that join two sections (Ray, serving, access, observability, data): each rule is
shown firing on the key it names and staying quiet on the nearest valid config.

Only the public entry point is used: ``parse_stack_config`` with camelCase raw config, and the
``ConfigError`` problems it raises (key path and message).
"""

from __future__ import annotations

import copy

import pytest

from stacks.config import parse_stack_config
from stacks.errors import ConfigError
from tests.conftest import TEST_RECEIVER

ARN = "arn:aws:iam::123456789012:role/ml"
EKS = {
    "cluster": {
        "provider": "eks",
        "name": "ai-test",
        "endpoint": {"publicAccess": False},
        # Ray heads and CPU workers need a home: the system nodes (m7i.xlarge) are too small.
        "cpuNodeGroup": {"maxSize": 4},
    },
    "observability": {"alertReceivers": [TEST_RECEIVER]},
    "gpuPools": [
        # one node of g6e.xlarge has 1 GPU; p5.48xlarge has 8
        {"name": "inference", "instanceTypes": ["g6e.xlarge"], "maxSize": 4},
        {"name": "training", "instanceTypes": ["p5.48xlarge"], "maxSize": 2},
    ],
}
EXISTING = {"cluster": {"provider": "existing", "name": "laptop"}}


def problems(raw: dict, *, region: str | None = "us-west-2") -> dict[str, list[str]]:
    """Key path -> messages of every problem in ``raw``; {} when the config is valid."""
    try:
        parse_stack_config(copy.deepcopy(raw), stack="test", region=region)
    except ConfigError as error:
        found: dict[str, list[str]] = {}
        for key, message in error.problems:
            found.setdefault(key, []).append(message)
        return found
    return {}


def only(raw: dict, **kwargs) -> tuple[str, str]:
    """The single problem of ``raw`` as (key path, message)."""
    found = problems(raw, **kwargs)
    assert len(found) == 1 and len(next(iter(found.values()))) == 1, found
    ((path, (message,)),) = found.items()
    return path, message


def with_(base: dict, **sections) -> dict:
    return {**copy.deepcopy(base), **sections}


def test_the_base_configs_are_valid():
    assert problems(EKS) == {}
    assert problems(EXISTING, region=None) == {}


# ---------------------------------------------------------------- access


@pytest.mark.parametrize("key", ["deployerRoleArns", "viewerRoleArns"])
def test_access_role_arns_need_an_eks_cluster(key):
    path, message = only(with_(EXISTING, access={key: [ARN]}), region=None)
    assert path == f"ai-platform:access.{key}"
    assert message.startswith("IAM roles map to groups through EKS access entries")


@pytest.mark.parametrize(("arns", "groups"), [("deployerRoleArns", "deployerGroups"), ("viewerRoleArns", "viewerGroups")])
def test_access_role_arns_need_a_group_to_join(arns, groups):
    assert only(with_(EKS, access={arns: [ARN], groups: []})) == (
        f"ai-platform:access.{arns}",
        "needs a group to join: set the matching *Groups list",
    )
    assert problems(with_(EKS, access={arns: [ARN]})) == {}  # the default group is there
    assert problems(with_(EKS, access={groups: []})) == {}  # no roles: no group needed


def test_access_checks_each_role_list_against_its_own_groups():
    assert only(with_(EKS, access={"deployerRoleArns": [ARN], "deployerGroups": [], "viewerGroups": ["v"]}))[0] == (
        "ai-platform:access.deployerRoleArns"
    )
    assert problems(with_(EKS, access={"viewerRoleArns": [ARN], "deployerGroups": []})) == {}


# ---------------------------------------------------------------- observability


@pytest.mark.parametrize("seconds", [0.3, 2, 0.001])
def test_latency_objective_must_be_a_kserve_histogram_bucket(seconds):
    path, message = only(with_(EKS, observability={"inferenceLatencySeconds": seconds, "alertReceivers": [TEST_RECEIVER]}))
    assert path == "ai-platform:observability.inferenceLatencySeconds"
    assert message.startswith(
        "must be a bucket of KServe's latency histogram: 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10"
    )
    assert message.endswith(f"(got {seconds:g})")


@pytest.mark.parametrize("seconds", [0.005, 0.25, 1, 2.5, 10])
def test_latency_objective_on_a_bucket_is_accepted(seconds):
    assert problems(with_(EKS, observability={"inferenceLatencySeconds": seconds, "alertReceivers": [TEST_RECEIVER]})) == {}


@pytest.mark.parametrize("seconds", [3, 0.3, 0.0001])
def test_first_token_objective_must_be_a_vllm_histogram_bucket(seconds):
    path, message = only(with_(EKS, observability={"firstTokenSeconds": seconds, "alertReceivers": [TEST_RECEIVER]}))
    assert path == "ai-platform:observability.firstTokenSeconds"
    # vLLM 0.24.0 vllm/v1/metrics/loggers.py, vllm:time_to_first_token_seconds
    assert message.startswith("must be a bucket of vLLM's first-token histogram: 0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25")
    assert message.endswith(f"(got {seconds:g})")


@pytest.mark.parametrize("seconds", [0.5, 2.5, 5, 80])
def test_first_token_objective_on_a_bucket_is_accepted(seconds):
    assert problems(with_(EKS, observability={"firstTokenSeconds": seconds, "alertReceivers": [TEST_RECEIVER]})) == {}


# ---------------------------------------------------------------- Ray


def ray(*clusters, base=EKS, **more) -> dict:
    return with_(base, rayClusters=list(clusters), **more)


def test_ray_cluster_names_are_unique():
    assert only(ray({"name": "a"}, {"name": "b"}, {"name": "a"})) == ("ai-platform:rayClusters[2].name", "duplicate Ray cluster name 'a'")


@pytest.mark.parametrize(
    "namespace", ["kube-system", "gpu-operator", "monitoring", "kserve", "cert-manager", "kuberay-operator", "minio", "mlflow"]
)
def test_ray_cluster_stays_out_of_platform_namespaces(namespace):
    owner = "is Kubernetes' own" if namespace == "kube-system" else "belongs to the platform"
    key, message = only(ray({"name": "train", "namespace": namespace}))
    assert key == "ai-platform:rayClusters[0].namespace"
    assert message.startswith(f"namespace {namespace!r} {owner}") and message.endswith("; choose another")
    assert only(ray({"name": namespace})) == ("ai-platform:rayClusters[0].name", message)
    # an explicit namespace must be one the stack creates: none but the cluster's own
    assert only(ray({"name": namespace, "namespace": "training"})) == (
        "ai-platform:rayClusters[0].namespace",
        "nothing in this stack creates namespace 'training': remove namespace to run in one named after the cluster",
    )


def test_ray_bucket_must_be_one_of_the_stores_buckets():
    assert only(ray({"name": "train", "bucket": "scratch"})) == (
        "ai-platform:rayClusters[0].bucket",
        "must be one of objectStore.buckets: models, datasets (got 'scratch')",
    )
    assert problems(ray({"name": "train", "bucket": "models"})) == {}
    # the default bucket is 'datasets': a store without it needs an explicit bucket
    store = {"buckets": ["models"]}
    assert only(ray({"name": "train"}, objectStore=store)) == (
        "ai-platform:rayClusters[0].bucket",
        "must be one of objectStore.buckets: models (got 'datasets')",
    )
    # no store, nothing to check against
    assert problems(ray({"name": "train"}, objectStore={"enabled": False}, modelRegistry={"enabled": False})) == {}


def test_ray_worker_group_names_an_existing_gpu_pool():
    # 2 CPUs / 8 GiB: a g6e.xlarge node has 3.47 CPU free after its DaemonSets (the default 4 would not fit)
    group = {"name": "gpu", "gpus": 1, "cpu": 2, "memoryGib": 8, "gpuPool": "missing"}
    found = problems(ray({"name": "train", "workerGroups": [{"name": "cpu"}, group]}))
    assert found["ai-platform:rayClusters[0].workerGroups[1].gpuPool"] == ["no GPU pool named 'missing' (pools: inference, training)"]
    assert problems(ray({"name": "train", "workerGroups": [{"name": "cpu"}, {**group, "gpuPool": "inference"}]})) == {}


def test_ray_gpu_worker_fits_one_node_of_its_pool():
    fits = {"name": "gpu", "gpus": 8, "gpuPool": "training"}
    assert problems(ray({"name": "train", "workerGroups": [fits]})) == {}
    too_big = {"name": "gpu", "gpus": 2, "gpuPool": "inference"}
    assert only(ray({"name": "train", "workerGroups": [too_big]})) == (
        "ai-platform:rayClusters[0].workerGroups[0].gpus",
        "a node of the pool has 1 nvidia.com/gpu; a worker asking for 2 could never be scheduled",
    )


def test_ray_gpu_worker_needs_a_gpu_pool():
    path, message = only(ray({"name": "train", "workerGroups": [{"name": "gpu", "gpus": 1}]}))
    assert path == "ai-platform:rayClusters[0].workerGroups[0].gpuPool"
    assert message.startswith("a GPU group (gpus: 1) needs a GPU node pool")


def test_ray_component_problems_are_spelled_in_camel_case():
    group = {"name": "cpu", "memoryGib": 4, "objectStoreGib": 4, "minReplicas": 3, "maxReplicas": 2}
    found = problems(ray({"name": "ok"}, {"name": "train", "workerGroups": [group]}))
    assert set(found) == {
        "ai-platform:rayClusters[1].workerGroups[0].objectStoreGib",
        "ai-platform:rayClusters[1].workerGroups[0].maxReplicas",
    }
    assert found["ai-platform:rayClusters[1].workerGroups[0].objectStoreGib"] == [
        "must be less than memoryGib (4): /dev/shm counts against the memory limit (got 4096 MiB)"
    ]


def test_a_ray_value_outside_its_choices_is_reported_by_the_schema_pass():
    # A key whose value the schema refuses stops the rule pass (the section cannot be built), so
    # it is reported on its own; the rules run once the schema accepts the config.
    found = problems(ray({"name": "ok"}, {"name": "train", "upscalingMode": "Eager"}))
    assert list(found) == ["ai-platform:rayClusters[1].upscalingMode"]
    assert "Default, Conservative, Aggressive" in found["ai-platform:rayClusters[1].upscalingMode"][0]


# ---------------------------------------------------------------- serving


def serving(*models, base=EKS, **more) -> dict:
    return with_(base, inferenceServices=list(models), **more)


IRIS = {"name": "iris", "modelFormat": "sklearn", "modelPath": "sklearn/iris"}


def test_local_model_pools_must_exist():
    assert only(with_(EKS, kserve={"localModelPools": ["training", "nvme"]})) == (
        "ai-platform:kserve.localModelPools[1]",
        "no GPU pool named 'nvme' (pools: inference, training)",
    )
    assert problems(with_(EKS, kserve={"localModelPools": ["training"]})) == {}


def test_gateway_and_ingress_gateway_exclude_each_other():
    both = {"gateway": "envoy/gw", "ingressGateway": {"enabled": True}}
    assert only(with_(EKS, kserve=both)) == (
        "ai-platform:kserve.gateway",
        "set gateway or ingressGateway.enabled, not both (the ingress gateway brings its own)",
    )
    assert problems(with_(EKS, kserve={"gateway": "envoy/gw"})) == {}
    assert problems(with_(EKS, kserve={"ingressGateway": {"enabled": True}})) == {}


def test_inference_services_need_kserve():
    assert only(serving(IRIS, kserve={"enabled": False})) == (
        "ai-platform:kserve.enabled",
        "must be true while inferenceServices are configured",
    )
    assert problems(serving(IRIS)) == {}
    assert problems(with_(EKS, kserve={"enabled": False})) == {}


def test_inference_service_names_are_unique():
    assert only(serving(IRIS, {**IRIS, "name": "other"}, IRIS)) == ("ai-platform:inferenceServices[2].name", "duplicate model name 'iris'")


def test_inference_service_names_an_existing_gpu_pool():
    model = {**IRIS, "gpus": 1, "gpuPool": "nvme"}
    assert only(serving(model)) == ("ai-platform:inferenceServices[0].gpuPool", "no GPU pool named 'nvme' (pools: inference, training)")


def test_inference_service_fits_one_node_of_its_pool():
    assert problems(serving({**IRIS, "gpus": 1, "gpuPool": "inference"})) == {}
    path, message = only(serving({**IRIS, "gpus": 2, "gpuPool": "inference"}))
    assert path == "ai-platform:inferenceServices[0].gpus"
    assert message == "a replica cannot span nodes: a node of pool 'inference' has 1 nvidia.com/gpu (asked 2)"


def test_inference_service_model_path_needs_the_object_store():
    no_store = {"objectStore": {"enabled": False}, "modelRegistry": {"enabled": False}}
    assert only(serving(IRIS, **no_store)) == (
        "ai-platform:inferenceServices[0].modelPath",
        "needs the object store that holds the models bucket",
    )
    uri = {"name": "iris", "modelFormat": "sklearn", "storageUri": "https://models.example.com/iris.joblib"}
    assert problems(serving(uri, **no_store)) == {}
    # s3:// is read with the store's credentials: without a store there are none
    s3 = {**uri, "storageUri": "s3://elsewhere/iris"}
    assert only(serving(s3, **no_store))[0] == "ai-platform:inferenceServices[0].storageUri"


def test_inference_service_component_problems_are_spelled_in_camel_case():
    path, message = only(serving({**IRIS, "minReplicas": 3, "maxReplicas": 2}))
    assert (path, message) == ("ai-platform:inferenceServices[0].maxReplicas", "must be >= minReplicas (3) (got 2)")


def test_standard_mode_canaries_need_a_gateway():
    canary = {"name": "v2", "trafficPercent": 10, "modelPath": "sklearn/iris-v2"}
    model = {**IRIS, "canaries": [canary]}
    found = problems(serving(model))
    assert list(found) and all(p.startswith("ai-platform:inferenceServices[0].canaries") for p in found), found
    assert problems(serving(model, kserve={"gateway": "envoy/gw"})) == {}
    assert problems(serving(model, kserve={"ingressGateway": {"enabled": True}})) == {}


# ---------------------------------------------------------------- data


def test_s3_and_rds_need_eks():
    assert only(with_(EXISTING, objectStore={"backend": "s3"}), region=None) == (
        "ai-platform:objectStore.backend",
        "'s3' needs cluster.provider 'eks' (IAM roles for pods); use 'minio'",
    )
    assert only(with_(EXISTING, modelRegistry={"database": "rds"}), region=None) == (
        "ai-platform:modelRegistry.database",
        "'rds' needs cluster.provider 'eks'; use 'in-cluster'",
    )
    assert problems(with_(EKS, objectStore={"backend": "minio"}, modelRegistry={"database": "in-cluster"})) == {}


def test_bucket_names_do_not_repeat():
    assert only(with_(EKS, objectStore={"buckets": ["models", "datasets", "models"]})) == (
        "ai-platform:objectStore.buckets",
        "bucket names repeat (got ['models', 'datasets', 'models'])",
    )


# ---------------------------------------------------------------- GPU pools and the operator


def test_gpu_pool_names_are_unique():
    pools = [*EKS["gpuPools"], {"name": "inference", "instanceTypes": ["g6e.2xlarge"]}]
    assert only(with_(EKS, gpuPools=pools)) == ("ai-platform:gpuPools[2].name", "duplicate pool name 'inference'")


def test_a_mig_profile_needs_the_operator_and_a_mig_strategy():
    pools = [{"name": "mig", "instanceTypes": ["p5.48xlarge"], "migProfile": "all-1g.10gb"}]
    found = problems(with_(EKS, gpuPools=pools, gpuOperator={"enabled": False}))
    assert "must be true when a GPU pool sets migProfile (the MIG manager applies it)" in found["ai-platform:gpuOperator.enabled"]
    found = problems(with_(EKS, gpuPools=pools, gpuOperator={"migStrategy": "none"}))
    assert found == {"ai-platform:gpuOperator.migStrategy": ["must be 'single' or 'mixed' when a GPU pool sets migProfile (got 'none')"]}
    assert problems(with_(EKS, gpuPools=pools, gpuOperator={"migStrategy": "single"})) == {}


def test_zones_must_be_in_the_region():
    vpc = {"availabilityZones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}
    assert only(with_(EKS, cluster={**EKS["cluster"], "vpc": vpc})) == (
        "ai-platform:cluster.vpc.availabilityZones",
        "zones must be in region us-west-2 (got ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'])",
    )
    assert problems(with_(EKS, cluster={**EKS["cluster"], "vpc": vpc}), region="eu-west-1") == {}


@pytest.mark.parametrize(("sizes", "bound"), [({"desiredSize": 3, "maxSize": 2}, 3), ({"minSize": 4, "desiredSize": 4, "maxSize": 3}, 4)])
def test_node_group_max_covers_min_and_desired(sizes, bound):
    pools = [{"name": "inference", "instanceTypes": ["g6e.xlarge"], **sizes}]
    got = sizes["maxSize"]
    message = f"must be >= minSize and desiredSize ({bound}) (got {got})"
    assert only(with_(EKS, gpuPools=pools)) == ("ai-platform:gpuPools[0].maxSize", message)
    cluster = {**EKS["cluster"], "systemNodeGroup": sizes}
    assert only(with_(EKS, cluster=cluster)) == ("ai-platform:cluster.systemNodeGroup.maxSize", message)
    equal = {**sizes, "maxSize": bound}
    assert problems(with_(EKS, gpuPools=[{**pools[0], **equal}], cluster={**EKS["cluster"], "systemNodeGroup": equal})) == {}


# ---------------------------------------------------------------- schema messages


def test_schema_problems_have_exact_messages():
    assert only(with_(EKS, cluster={"name": "x"})) == ("ai-platform:cluster.provider", "required key is missing")
    path, message = only(with_(EKS, cluster={**EKS["cluster"], "name": "AI_Prod"}))
    assert path == "ai-platform:cluster.name"
    assert message.startswith("must be a DNS-1123 label of at most 40 characters") and message.endswith("(got 'AI_Prod')")
    path, message = only(with_(EKS, objectStore={"noncurrentVersionDays": 0}))
    assert (path, message) == ("ai-platform:objectStore.noncurrentVersionDays", "Input should be greater than or equal to 1 (got 0)")
