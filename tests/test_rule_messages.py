"""Whole messages and key paths of the config rules, at their boundaries.

The other rule tests assert a fragment of each message; these pin the complete text a user reads
(values quoted as given, the allowed values listed) and the exact edge where a rule starts to fire.
Found by mutation testing (docs/mutation-testing.md): each case fails for a changed message, key
path or comparison that the fragment tests let through.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest

from components.compute.ray_cluster import RayClusterOptions
from components.compute.ray_cluster import problems as ray_cluster_problems
from components.serving.inference_service import InferenceServiceOptions
from components.serving.inference_service import problems as inference_service_problems
from components.serving.kserve import KServeArgs
from components.serving.kserve import problems as kserve_problems
from stacks.config import parse_stack_config
from stacks.errors import ConfigError
from tests.conftest import TEST_RECEIVER

EKS = {
    "cluster": {"provider": "eks", "name": "ai-test", "endpoint": {"publicAccess": False}},
    "observability": {"alertReceivers": [TEST_RECEIVER]},
    "gpuPools": [
        {"name": "inference", "instanceTypes": ["g6e.xlarge"], "maxSize": 4},
        {"name": "training", "instanceTypes": ["p5.48xlarge"], "maxSize": 2},
    ],
}
SCHEMES = "s3://, gs://, hf://, oci://, pvc://, https://, http://, hdfs://, webhdfs://"
QUANTITY = "must be a positive Kubernetes quantity such as '500m', '2' or '4Gi'"


def config_problems(raw: dict) -> list[tuple[str, str]]:
    """(config key, message) of every problem in ``raw``, sorted; [] when it is valid."""
    try:
        parse_stack_config(copy.deepcopy(raw), stack="test", region="us-west-2")
    except ConfigError as error:
        return error.problems
    return []


def with_model(pool: dict, model: dict, **sections) -> dict:
    """EKS with one GPU pool, KServe on and one model on that pool."""
    base = {"name": "llm", "modelFormat": "huggingface", "storageUri": "hf://org/model", "gpuPool": pool["name"]}
    return {**EKS, "gpuPools": [pool], "kserve": {"enabled": True}, "inferenceServices": [{**base, **model}], **sections}


# ------------------------------------------------------------------ stack config


def test_an_existing_cluster_lists_every_eks_only_setting_with_the_versions_it_accepts():
    raw = {
        "cluster": {"provider": "existing", "name": "laptop", "kubernetesVersion": "1.20", "endpoint": {"publicAccess": False}},
        "gpuPools": EKS["gpuPools"],
    }
    assert config_problems(raw) == [
        ("ai-platform:cluster.endpoint", "only valid with cluster.provider 'eks'"),
        (
            "ai-platform:cluster.kubernetesVersion",
            "must be one of 1.25, 1.26, 1.27, 1.28, 1.29, 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36, 1.37 (got '1.20')",
        ),
        (
            "ai-platform:gpuPools",
            "GPU node pools are EKS managed node groups and need cluster.provider 'eks'; remove them for an existing cluster",
        ),
    ]


def test_a_map_key_is_reported_as_the_user_spelled_it():
    assert config_problems({**EKS, "tags": {"CostCenter": 5}}) == [
        ("ai-platform:tags.CostCenter", "Input should be a valid string (got 5)")
    ]


def test_a_validator_message_is_not_followed_by_the_value_twice():
    # a value error already quotes the value; only pydantic's own errors get "(got ...)"
    raw = {**EKS, "cluster": {**EKS["cluster"], "name": "AI_Prod"}}
    ((key, message),) = config_problems(raw)
    assert key == "ai-platform:cluster.name"
    assert message.count("AI_Prod") == 1, message


def test_unknown_key_in_a_list_inside_a_list_names_the_inner_section_keys():
    raw = {**EKS, "rayClusters": [{"name": "train", "workerGroups": [{"name": "cpu", "bogus": 1}]}]}
    assert config_problems(raw) == [
        (
            "ai-platform:rayClusters[0].workerGroups[0].bogus",
            "unknown key; allowed keys: cpu, gpuPool, gpus, maxReplicas, memoryGib, minReplicas, name, objectStoreGib",
        )
    ]


def test_a_replica_must_fit_the_smallest_instance_type_of_its_pool():
    pool = {"name": "mixed", "instanceTypes": ["g6e.12xlarge", "g6e.xlarge"], "maxSize": 2}
    assert config_problems(with_model(pool, {"gpus": 2})) == [
        ("ai-platform:inferenceServices[0].gpus", "a replica cannot span nodes: a node of pool 'mixed' has 1 nvidia.com/gpu (asked 2)")
    ]
    assert config_problems(with_model(pool, {"gpus": 1})) == []


def test_a_mig_pool_offers_the_devices_of_its_profile_under_the_mixed_strategy():
    pool = {"name": "mig", "instanceTypes": ["p4d.24xlarge"], "migProfile": "all-1g.5gb", "maxSize": 2}
    raw = with_model(pool, {"gpus": 1}, gpuOperator={"migStrategy": "mixed"})
    assert config_problems(raw) == [
        ("ai-platform:inferenceServices[0].gpuResource", "pool 'mig' offers nvidia.com/mig-1g.5gb, not 'nvidia.com/gpu'")
    ]
    raw["inferenceServices"][0]["gpuResource"] = "nvidia.com/mig-1g.5gb"
    assert config_problems(raw) == []


def test_time_slicing_multiplies_the_gpus_a_node_offers():
    pool = {"name": "shared", "instanceTypes": ["g6e.xlarge"], "timeSlicingReplicas": 4, "maxSize": 2}
    assert config_problems(with_model(pool, {"gpus": 4})) == []
    assert config_problems(with_model(pool, {"gpus": 5})) == [
        ("ai-platform:inferenceServices[0].gpus", "a replica cannot span nodes: a node of pool 'shared' has 4 nvidia.com/gpu (asked 5)")
    ]


NO_POOLS = {**EKS, "gpuPools": []}


@pytest.mark.parametrize(
    "raw, expected",
    [
        (
            {**NO_POOLS, "rayClusters": [{"name": "train", "workerGroups": [{"name": "gpu", "gpus": 1, "gpuPool": "a100"}]}]},
            [("ai-platform:rayClusters[0].workerGroups[0].gpuPool", "no GPU pool named 'a100' (pools: none)")],
        ),
        (
            {**NO_POOLS, "kserve": {"enabled": True, "localModelPools": ["nvme"]}},
            [("ai-platform:kserve.localModelPools[0]", "no GPU pool named 'nvme' (pools: none)")],
        ),
        (
            {
                **NO_POOLS,
                "kserve": {"enabled": True},
                "inferenceServices": [{"name": "llm", "modelFormat": "huggingface", "storageUri": "hf://org/model", "gpuPool": "l40s"}],
            },
            [("ai-platform:inferenceServices[0].gpuPool", "no GPU pool named 'l40s' (pools: none)")],
        ),
    ],
)
def test_a_pool_reference_without_any_pool_says_there_are_none(raw, expected):
    assert config_problems(raw) == expected


def test_a_model_cached_on_a_pool_with_a_local_model_cache_is_valid():
    raw = with_model(EKS["gpuPools"][0], {"gpus": 1, "modelCacheSize": "100Gi"})
    raw["kserve"]["localModelPools"] = ["inference"]
    assert config_problems(raw) == []


def test_three_zones_must_be_distinct():
    zones = ["us-west-2a", "us-west-2a", "us-west-2b"]
    raw = {**EKS, "cluster": {**EKS["cluster"], "vpc": {"availabilityZones": zones}}}
    assert config_problems(raw) == [("ai-platform:cluster.vpc.availabilityZones", f"must list 3 distinct zones (got {zones})")]


@pytest.mark.parametrize("prefix, valid", [(15, False), (16, True), (20, True), (21, False)])
def test_the_vpc_range_is_a_16_to_a_20(prefix, valid):
    raw = {**EKS, "cluster": {**EKS["cluster"], "vpc": {"cidr": f"10.0.0.0/{prefix}"}}}
    expected = [] if valid else [("ai-platform:cluster.vpc.cidr", f"prefix must be /16 to /20 (got /{prefix})")]
    assert config_problems(raw) == expected


NOT_A_GPU = (
    "is not a GPU instance type; allowed families: g4dn, g5, g6, g6e, p4d, p4de, p5, p5e, p5en, p6-b200 (e.g. g6e.2xlarge, p5.48xlarge)"
)
KEDA_FLOOR = "a serving signal comes from the model's own replicas: with none left nothing would scale it up again; use 1 or more"
MIG_PROFILES = "all-balanced, all-1g.5gb, all-1g.10gb, all-2g.10gb, all-3g.20gb, all-4g.20gb, all-7g.40gb"


@pytest.mark.parametrize(
    "section, expected",
    [
        (
            {"cluster": {**EKS["cluster"], "endpoint": {"publicAccess": False, "publicAccessCidrs": ["198.51.100.0/24"]}}},
            [("ai-platform:cluster.endpoint.publicAccessCidrs", "only valid with publicAccess: true")],
        ),
        (
            {"cluster": {**EKS["cluster"], "endpoint": {"publicAccess": True}}},
            [
                (
                    "ai-platform:cluster.endpoint.publicAccessCidrs",
                    "list the source CIDRs allowed on the public endpoint (required with publicAccess: true)",
                )
            ],
        ),
        (
            {"gpuPools": [{"name": "p", "instanceTypes": ["m5.xlarge", "c5.xlarge"], "maxSize": 2}]},
            [
                ("ai-platform:gpuPools[0].instanceTypes[0]", f"'m5.xlarge' {NOT_A_GPU}"),
                ("ai-platform:gpuPools[0].instanceTypes[1]", f"'c5.xlarge' {NOT_A_GPU}"),
            ],
        ),
        (
            {"gpuPools": [{"name": "p", "instanceTypes": ["g6e.xlarge", "g5.xlarge"], "maxSize": 2}]},
            [("ai-platform:gpuPools[0].instanceTypes", "all types of a pool must carry the same GPU model (got nvidia-a10g, nvidia-l40s)")],
        ),
        (
            {"gpuPools": [{"name": "p", "instanceTypes": ["g6e.xlarge", "g6e.2xlarge"], "efa": True, "maxSize": 2}]},
            [
                (
                    "ai-platform:gpuPools[0].efa",
                    "instance types without EFA: g6e.xlarge, g6e.2xlarge; EFA needs e.g. g6e.8xlarge+, p4d, p5, p6-b200",
                )
            ],
        ),
        (
            {"gpuPools": [{"name": "p", "instanceTypes": ["g6e.8xlarge", "g6e.48xlarge"], "efa": True, "maxSize": 2}]},
            [
                (
                    "ai-platform:gpuPools[0].efa",
                    "the launch template's EFA interfaces must match every type: use types with the same number of EFA network cards",
                )
            ],
        ),
        (
            {
                "gpuOperator": {"migStrategy": "mixed"},
                "gpuPools": [{"name": "p", "instanceTypes": ["p4d.24xlarge"], "migProfile": "bogus", "maxSize": 2}],
            },
            [("ai-platform:gpuPools[0].migProfile", f"must be one of {MIG_PROFILES} for nvidia-a100-40gb (got 'bogus')")],
        ),
    ],
)
def test_cluster_and_pool_rules_have_exact_messages(section, expected):
    assert config_problems({**EKS, **section}) == expected


def test_kserve_takes_a_gateway_or_an_ingress_not_both():
    args = KServeArgs.model_validate({"gateway": "istio-system/platform", "ingress": SimpleNamespace(gateway_class="istio")})
    assert [(p.path, p.message) for p in kserve_problems(args)] == [
        (("gateway",), "set gateway or ingress, not both (ingress makes KServe create its own gateway)")
    ]


# ------------------------------------------------------------------ InferenceService.problems


def model_problems(name: str = "llm", **options) -> list[tuple[tuple, str]]:
    s = InferenceServiceOptions(**{"model_format": "sklearn", "storage_uri": "s3://models/llm", **options})
    return [(p.path, p.message) for p in inference_service_problems(s, name=name, deployment_mode="Standard", gateway_api=True)]


@pytest.mark.parametrize(
    "options, path, message",
    [
        (
            {"model_format": "tensorflow2"},
            ("model_format",),
            "must be one of sklearn, xgboost, pytorch, onnx, huggingface, triton (got 'tensorflow2')",
        ),
        ({"memory": "4GB"}, ("memory",), f"{QUANTITY} (got '4GB')"),
        ({"cpu": "0e3"}, ("cpu",), f"{QUANTITY} (got '0e3')"),
        ({"cpu": "0E3"}, ("cpu",), f"{QUANTITY} (got '0E3')"),
        ({"gpus": -1}, ("gpus",), "must be 0 or more (got -1)"),
        ({"storage_uri": None}, (), "set exactly one of model_path (in the models bucket) or storage_uri"),
        ({"storage_uri": None, "model_path": "/"}, ("model_path",), "must name a path in the models bucket"),
        (
            {"storage_uri": "models:/llm/1"},
            ("storage_uri",),
            "KServe cannot download 'models:/llm/1': use the registered model's artifact location in the store (s3://...)",
        ),
        ({"storage_uri": "s3://"}, ("storage_uri",), f"must start with one of {SCHEMES} and name a model (got 's3://')"),
        ({"storage_uri": "ftp://host/llm"}, ("storage_uri",), f"must start with one of {SCHEMES} and name a model (got 'ftp://host/llm')"),
    ],
)
def test_model_problems_have_exact_messages(options, path, message):
    assert model_problems(**options) == [(path, message)]


def test_a_model_name_may_fill_its_predictor_service_name_exactly():
    assert model_problems(name="a" * 53) == []  # a-...-predictor: 63 characters, the DNS label limit
    assert model_problems(name="a" * 54) == [
        (("name",), f"too long: its Service '{'a' * 54}-predictor' would exceed 63 characters (at most 53)"),
    ]
    assert model_problems(name="Llm") == [
        (("name",), "must be lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (got 'Llm')")
    ]


def test_a_canary_name_may_fill_its_predictor_service_name_exactly():
    def canary(label: str) -> list[tuple[tuple, str]]:
        return model_problems(name="m" * 50, canaries=[{"name": label, "traffic_percent": 10, "storage_uri": "s3://models/next"}])

    assert canary("c" * 2) == []  # m...-cc-predictor: 63 characters
    assert canary("c" * 3) == [
        (("canaries", 0, "name"), f"too long: Service {'m' * 50}-ccc-predictor would exceed 63 characters"),
    ]


def test_canaries_need_a_gateway_unless_the_caller_says_there_is_one():
    s = InferenceServiceOptions.model_validate(
        {
            "model_format": "sklearn",
            "storage_uri": "s3://models/llm",
            "canaries": [{"name": "next", "traffic_percent": 10, "storage_uri": "s3://models/next"}],
        }
    )
    assert [p.path for p in inference_service_problems(s, name="llm", deployment_mode="Standard")] == [("canaries",)]


MIG_POOL = SimpleNamespace(name="mig", gpu_resources={"nvidia.com/mig-1g.5gb": 2, "nvidia.com/mig-2g.10gb": 1})


def next_model(**fields) -> dict:
    return {"name": "next", "traffic_percent": 10, "storage_uri": "s3://models/next", **fields}


@pytest.mark.parametrize(
    "case, expected",
    [
        ({"min_replicas": -1}, [(("min_replicas",), "must be 0 or more (got -1)")]),
        (
            {"min_replicas": 0},
            [(("min_replicas",), "Standard mode cannot scale to zero (its HPA keeps at least 1 replica); use Knative mode or 1")],
        ),
        ({"mode": "Knative", "min_replicas": 0}, []),
        ({"max_replicas": 0}, [(("max_replicas",), "must be 1 or more (got 0)")]),
        ({"min_replicas": 2, "max_replicas": 2}, []),
        (
            {"scale_metric": "qps"},
            [(("scale_metric",), "KServe in Standard mode scales on cpu or memory (an HPA) or concurrency or rps (KEDA) (got 'qps')")],
        ),
        ({"scale_metric": "rps"}, []),
        ({"scale_metric": "rps", "min_replicas": 0}, [(("min_replicas",), KEDA_FLOOR)]),
        ({"scale_metric": "rps", "min_replicas": 1}, []),
        ({"scale_metric": "rps", "scale_target": 101}, []),
        (
            {"scale_metric": "concurrency"},
            [
                (
                    ("scale_metric",),
                    "'concurrency' is read from the model server's metrics, which only model format huggingface exports (got 'sklearn'); use rps, cpu or memory",
                )
            ],
        ),
        (
            {"mode": "Knative", "scale_metric": "cpu"},
            [(("scale_metric",), "Knative's autoscaler in Knative mode scales on concurrency or rps (got 'cpu')")],
        ),
        ({"scale_target": 0}, [(("scale_target",), "must be 1 or more (got 0)")]),
        ({"scale_target": 1}, []),
        ({"scale_target": 100}, []),
        ({"scale_target": 101}, [(("scale_target",), "a cpu target is a utilization percentage, 1-100 (got 101)")]),
        (
            {"canary_traffic_percent": 10},
            [
                (
                    ("canary_traffic_percent",),
                    "only KServe's Knative reconciler reads canaryTrafficPercent; in Standard mode it is ignored and the new model silently takes all traffic: list canaries instead",
                )
            ],
        ),
        ({"mode": "Knative", "canary_traffic_percent": 0}, []),
        ({"mode": "Knative", "canary_traffic_percent": 100}, []),
        ({"mode": "Knative", "canary_traffic_percent": 101}, [(("canary_traffic_percent",), "must be 0-100 (got 101)")]),
        ({"mode": "Knative", "canary_traffic_percent": -1}, [(("canary_traffic_percent",), "must be 0-100 (got -1)")]),
        (
            {"mode": "Knative", "canaries": [next_model()]},
            [
                (
                    ("canaries",),
                    "KServe accepts spec.canary only in Standard mode; in Knative mode set canary_traffic_percent and change the model",
                )
            ],
        ),
        (
            {"gateway_api": False, "canaries": [next_model()]},
            [
                (
                    ("canaries",),
                    "Standard mode splits traffic only through Gateway API HTTPRoutes; without a KServe gateway the canaries would run but get no requests: give KServe a gateway or remove the canaries",
                )
            ],
        ),
        ({"canaries": [next_model(traffic_percent=60), next_model(name="other", traffic_percent=40)]}, []),
        (
            {"canaries": [next_model(traffic_percent=60), next_model(name="other", traffic_percent=41)]},
            [(("canaries",), "canary traffic percentages add up to 101; at most 100")],
        ),
        ({"gpu_pool": MIG_POOL, "gpus": 0}, []),
        (
            {"gpu_pool": MIG_POOL, "gpus": 1},
            [(("gpu_resource",), "pool 'mig' offers nvidia.com/mig-1g.5gb, nvidia.com/mig-2g.10gb, not 'nvidia.com/gpu'")],
        ),
        (
            {"model_cache_size": "0"},
            [
                (("model_cache_size",), "must be a positive Kubernetes quantity such as '500m', '2' or '4Gi' (got '0')"),
                (("model_cache_size",), "the model cache lives on a GPU pool's NVMe: set gpu_pool"),
            ],
        ),
        (
            {"gpu_pool": MIG_POOL, "gpus": 1, "gpu_resource": "nvidia.com/mig-1g.5gb", "model_cache_size": "100Gi"},
            [(("model_cache_size",), "pool 'mig' has no local model cache: add it to KServe's local_model_pools")],
        ),
    ],
)
def test_scaling_canary_resource_and_cache_rules_at_their_edges(case, expected):
    """Each rule on both sides of its edge (0 and 100 in, 101 out), with the whole message."""
    options = {k: v for k, v in case.items() if k not in ("mode", "gateway_api", "gpu_pool")}
    s = InferenceServiceOptions(**{"model_format": "sklearn", "storage_uri": "s3://models/llm", **options})
    found = inference_service_problems(
        s,
        name="llm",
        deployment_mode=case.get("mode", "Standard"),
        gateway_api=case.get("gateway_api", True),
        gpu_pool=case.get("gpu_pool"),
    )
    assert [(p.path, p.message) for p in found] == expected


# ------------------------------------------------------------------ RayCluster.problems


def test_a_fixed_size_worker_group_is_valid():
    options = RayClusterOptions.model_validate({"worker_groups": [{"name": "cpu", "min_replicas": 2, "max_replicas": 2}]})
    assert ray_cluster_problems(options, name="train") == []
    options = RayClusterOptions.model_validate({"worker_groups": [{"name": "cpu", "min_replicas": 3, "max_replicas": 2}]})
    assert [(p.path, p.message) for p in ray_cluster_problems(options, name="train")] == [
        (("worker_groups", 0, "max_replicas"), "must be >= min_replicas (3) (got 2)")
    ]


@pytest.mark.parametrize(
    "options, name, expected",
    [
        ({"redis_password_secret": "redis"}, "train", [(("redis_password_secret",), "only used with redis_address (GCS fault tolerance)")]),
        (
            {"redis_address": "redis:6379"},
            "train",
            [(("redis_password_secret",), "required with redis_address: the Secret holding the Redis password")],
        ),
        ({}, "a" * 53, []),
        ({}, "a" * 54, [(("name",), f"must be at most 53 characters, KubeRay's limit (got 54: '{'a' * 54}')")]),
        ({"head": {"object_store_gib": 75 / 1024}}, "train", []),
        ({"head": {"object_store_gib": 74 / 1024}}, "train", [(("head", "object_store_gib"), "Ray needs at least 75 MiB (got 74 MiB)")]),
    ],
)
def test_ray_cluster_rules_at_their_edges(options, name, expected):
    found = ray_cluster_problems(RayClusterOptions(**options), name=name)
    assert [(p.path, p.message) for p in found] == expected


def test_worker_groups_without_a_known_pool_are_checked_without_one():
    # gpu_pools may be shorter than the worker groups (or empty): the others have no pool
    options = RayClusterOptions.model_validate({"worker_groups": [{"name": "a"}, {"name": "b"}]})
    assert ray_cluster_problems(options, name="train") == []
    assert ray_cluster_problems(options, name="train", gpu_pools=[None]) == []
