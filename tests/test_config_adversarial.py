"""Adversarial stack configs: every one is refused before a resource registers, with one message naming
its key, or (the edge values at the end) accepted, so the rules are not over-eager.

Config cases run ``__main__.py`` under the mocks (``run_main``), stack-file cases run the offline
render's entry (``offline.render.render``) on a written ``Pulumi.<stack>.yaml``: both the program's
own path from config to ``load_stack_config``.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from offline.mockruntime import Recording
from stacks.errors import ConfigError
from tests.conftest import ROOT, TEST_RECEIVER, run_main

ARN = "arn:aws:iam::123456789012:role/"

EKS: dict[str, Any] = {
    "cluster": {
        "provider": "eks",
        "name": "ai-test",
        "endpoint": {"publicAccess": True, "publicAccessCidrs": ["198.51.100.0/24"]},
    },
    "observability": {"alertReceivers": [TEST_RECEIVER]},
    "gpuPools": [
        {"name": "inference", "instanceTypes": ["g6e.xlarge"], "capacityType": "spot", "maxSize": 4},
        {"name": "training", "instanceTypes": ["p5.48xlarge"], "efa": True, "maxSize": 2},
    ],
    "inferenceServices": [
        {
            "name": "chat",
            "modelFormat": "huggingface",
            "modelPath": "llm/v1",
            "cpu": "2",
            "memory": "16Gi",
            "gpus": 1,
            "gpuPool": "inference",
        }
    ],
    "rayClusters": [
        {"name": "train", "workerGroups": [{"name": "gpu", "cpu": 16, "memoryGib": 64, "gpus": 8, "gpuPool": "training", "maxReplicas": 2}]}
    ],
}
EXISTING: dict[str, Any] = {
    "cluster": {"provider": "existing", "name": "laptop"},
    "inferenceServices": [{"name": "iris", "modelFormat": "sklearn", "modelPath": "sklearn/iris/v1", "cpu": "500m", "memory": "1Gi"}],
    "rayClusters": [{"name": "ray-dev"}],
}


def edit(base: dict, *changes: tuple[str, Any]) -> dict:
    """A deep copy of ``base`` with each ``(path, value)`` set ("gpuPools.1.maxSize"); missing maps are made."""
    config = copy.deepcopy(base)
    for path, value in changes:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node = config
        for part in parents:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
        node[last] = value
    return config


@dataclass
class Bad:
    config: dict
    key: str
    fragment: str
    region: str | None = "us-west-2"


def pool_labels(labels: dict[str, str]) -> dict:
    return edit(EKS, ("gpuPools.0.labels", labels))


def buckets(base: dict, *names: str, prefix: str | None = None) -> dict:
    store: dict[str, Any] = {"buckets": ["models", "datasets", *names]}
    if prefix is not None:
        store["bucketPrefix"] = prefix
    return edit(base, ("objectStore", store))


def public_cidrs(*cidrs: str) -> dict:
    return edit(EKS, ("cluster.endpoint.publicAccessCidrs", list(cidrs)))


def mig_on_used_pool(profile: str, strategy: str = "single") -> dict:
    """A MIG profile on the pool the model runs on (inference: g6e, L40S without MIG) or the Ray GPU
    workers run on (training: p5, H100)."""
    return edit(EKS, ("gpuPools.1.migProfile", profile), ("gpuOperator", {"migStrategy": strategy}))


LONG = "a" * 30
FIXED_SIZE_POOLS = edit(
    EKS, *((f"gpuPools.{i}.{key}", size) for i, size in ((0, 1), (1, 2)) for key in ("minSize", "desiredSize", "maxSize"))
)
"""Pools the cluster-autoscaler need not grow: the Ray GPU group's two workers fit the fixed training pool."""

BAD: dict[str, Bad] = {
    # ------------------------------------------------ names too long for what the providers build
    "EKS cluster name makes a 64+ char IAM role": Bad(edit(EKS, ("cluster.name", "c" * 38)), "ai-platform:cluster.name", "IAM role"),
    "EKS cluster name of 40": Bad(edit(EKS, ("cluster.name", "c" * 40)), "ai-platform:cluster.name", "at most 37"),
    "model name makes a 64+ char IAM role": Bad(
        edit(EKS, ("inferenceServices.0.name", "m" * 51)), "ai-platform:inferenceServices[0].name", "IAM role"
    ),
    "Ray cluster name makes a 64+ char IAM role": Bad(
        edit(EKS, ("rayClusters.0.name", "r" * 53)), "ai-platform:rayClusters[0].name", "IAM role"
    ),
    "bucket prefix plus bucket over 63": Bad(buckets(EKS, LONG, prefix="p" * 40), "ai-platform:objectStore.buckets[2]", "63"),
    "cluster name as prefix plus bucket over 63": Bad(
        buckets(edit(EKS, ("cluster.name", "c" * 37)), "b" * 30), "ai-platform:objectStore.buckets[2]", "bucketPrefix"
    ),
    "MinIO bucket over 63 too": Bad(buckets(EXISTING, LONG, prefix="p" * 40), "ai-platform:objectStore.buckets[2]", "63"),
    "bucket prefix xn--": Bad(buckets(EKS, prefix="xn--team"), "ai-platform:objectStore.bucketPrefix", "xn--"),
    "bucket prefix sthree-": Bad(buckets(EKS, prefix="sthree-team"), "ai-platform:objectStore.bucketPrefix", "sthree-"),
    "bucket prefix amzn-s3-demo-": Bad(buckets(EKS, prefix="amzn-s3-demo-x"), "ai-platform:objectStore.bucketPrefix", "amzn-s3-demo-"),
    "cluster name xn-- as bucket prefix": Bad(edit(EKS, ("cluster.name", "xn--ai")), "ai-platform:objectStore.bucketPrefix", "xn--"),
    "bucket suffix -s3alias": Bad(buckets(EKS, "s3alias"), "ai-platform:objectStore.buckets[2]", "-s3alias"),
    "bucket suffix --ol-s3": Bad(buckets(EKS, "x--ol-s3"), "ai-platform:objectStore.buckets[2]", "--ol-s3"),
    "bucket suffix --x-s3": Bad(buckets(EKS, "x--x-s3"), "ai-platform:objectStore.buckets[2]", "--x-s3"),
    "bucket suffix --table-s3": Bad(buckets(EKS, "x--table-s3"), "ai-platform:objectStore.buckets[2]", "--table-s3"),
    "MinIO bucket suffix -s3alias": Bad(buckets(EXISTING, "s3alias"), "ai-platform:objectStore.buckets[2]", "-s3alias"),
    # ------------------------------------------------ namespaces
    "Ray cluster named default": Bad(edit(EKS, ("rayClusters.0.name", "default")), "ai-platform:rayClusters[0].name", "'default'"),
    "Ray cluster named kube-public": Bad(edit(EKS, ("rayClusters.0.name", "kube-public")), "ai-platform:rayClusters[0].name", "Kubernetes"),
    "Ray cluster named kube-node-lease": Bad(
        edit(EXISTING, ("rayClusters.0.name", "kube-node-lease")), "ai-platform:rayClusters[0].name", "Kubernetes"
    ),
    "Ray cluster named kube-anything": Bad(edit(EXISTING, ("rayClusters.0.name", "kube-ray")), "ai-platform:rayClusters[0].name", "kube-"),
    "Ray cluster named monitoring": Bad(edit(EKS, ("rayClusters.0.name", "monitoring")), "ai-platform:rayClusters[0].name", "platform"),
    "Ray cluster named envoy-gateway-system": Bad(
        edit(EKS, ("rayClusters.0.name", "envoy-gateway-system")), "ai-platform:rayClusters[0].name", "platform"
    ),
    "Ray cluster named metrics-server": Bad(
        edit(EXISTING, ("rayClusters.0.name", "metrics-server")), "ai-platform:rayClusters[0].name", "platform"
    ),
    "Ray cluster named monitoring-node-exporter": Bad(
        edit(EXISTING, ("rayClusters.0.name", "monitoring-node-exporter")), "ai-platform:rayClusters[0].name", "platform"
    ),
    "Ray cluster named mlflow": Bad(edit(EXISTING, ("rayClusters.0.name", "mlflow")), "ai-platform:rayClusters[0].name", "platform"),
    "Ray cluster named like the model namespace": Bad(
        edit(EXISTING, ("rayClusters.0.name", "models")), "ai-platform:rayClusters[0].name", "kserve.modelNamespace"
    ),
    "model namespace named like a Ray cluster": Bad(
        edit(EXISTING, ("kserve.modelNamespace", "ray-dev")), "ai-platform:rayClusters[0].name", "kserve.modelNamespace"
    ),
    "model namespace monitoring": Bad(edit(EKS, ("kserve.modelNamespace", "monitoring")), "ai-platform:kserve.modelNamespace", "platform"),
    "model namespace cert-manager": Bad(
        edit(EXISTING, ("kserve.modelNamespace", "cert-manager")), "ai-platform:kserve.modelNamespace", "platform"
    ),
    "model namespace gpu-operator": Bad(
        edit(EXISTING, ("kserve.modelNamespace", "gpu-operator")), "ai-platform:kserve.modelNamespace", "platform"
    ),
    "model namespace default": Bad(edit(EXISTING, ("kserve.modelNamespace", "default")), "ai-platform:kserve.modelNamespace", "'default'"),
    "model namespace kube-system": Bad(
        edit(EXISTING, ("kserve.modelNamespace", "kube-system")), "ai-platform:kserve.modelNamespace", "Kubernetes"
    ),
    "Ray namespace nothing creates": Bad(
        edit(EXISTING, ("rayClusters.0.namespace", "team-a")), "ai-platform:rayClusters[0].namespace", "nothing in this stack creates"
    ),
    "Ray namespace default": Bad(
        edit(EXISTING, ("rayClusters.0.namespace", "default")), "ai-platform:rayClusters[0].namespace", "'default'"
    ),
    "Ray namespace of the platform": Bad(
        edit(EXISTING, ("rayClusters.0.namespace", "kserve")), "ai-platform:rayClusters[0].namespace", "platform"
    ),
    "Ray namespace shared with another Ray cluster": Bad(
        edit(EXISTING, ("rayClusters", [{"name": "ray-dev"}, {"name": "ray-two", "namespace": "ray-dev"}])),
        "ai-platform:rayClusters[1].namespace",
        "rayClusters[0]",
    ),
    "Ray namespace the model namespace": Bad(
        edit(EXISTING, ("rayClusters.0.namespace", "models")), "ai-platform:rayClusters[0].namespace", "kserve.modelNamespace"
    ),
    # ------------------------------------------------ access
    "group both deployer and viewer": Bad(
        edit(EKS, ("access", {"deployerGroups": ["ml"], "viewerGroups": ["ml"]})), "ai-platform:access.viewerGroups[0]", "deployerGroups"
    ),
    "deployer group twice": Bad(edit(EKS, ("access", {"deployerGroups": ["ml", "ml"]})), "ai-platform:access.deployerGroups[1]", "twice"),
    "viewer group twice": Bad(edit(EXISTING, ("access", {"viewerGroups": ["a", "a"]})), "ai-platform:access.viewerGroups[1]", "twice"),
    "role both deployer and viewer": Bad(
        edit(EKS, ("access", {"deployerRoleArns": [ARN + "ml"], "viewerRoleArns": [ARN + "ml"]})),
        "ai-platform:access.viewerRoleArns[0]",
        "deployerRoleArns",
    ),
    "role both admin and deployer": Bad(
        edit(EKS, ("cluster.adminRoleArns", [ARN + "ml"]), ("access", {"deployerRoleArns": [ARN + "ml"]})),
        "ai-platform:access.deployerRoleArns[0]",
        "cluster.adminRoleArns",
    ),
    "role both admin and viewer": Bad(
        edit(EKS, ("cluster.adminRoleArns", [ARN + "ml"]), ("access", {"viewerRoleArns": [ARN + "ml"]})),
        "ai-platform:access.viewerRoleArns[0]",
        "cluster.adminRoleArns",
    ),
    "deployer role twice": Bad(
        edit(EKS, ("access", {"deployerRoleArns": [ARN + "ml", ARN + "ml"]})), "ai-platform:access.deployerRoleArns[1]", "twice"
    ),
    "admin role twice": Bad(edit(EKS, ("cluster.adminRoleArns", [ARN + "a", ARN + "a"])), "ai-platform:cluster.adminRoleArns[1]", "twice"),
    "system:masters deployers": Bad(
        edit(EKS, ("access", {"deployerGroups": ["system:masters"]})), "ai-platform:access.deployerGroups[0]", "system:"
    ),
    "system:authenticated viewers": Bad(
        edit(EXISTING, ("access", {"viewerGroups": ["system:authenticated"]})), "ai-platform:access.viewerGroups[0]", "system:"
    ),
    "system:serviceaccounts deployers": Bad(
        edit(EXISTING, ("access", {"deployerGroups": ["ops", "system:serviceaccounts"]})), "ai-platform:access.deployerGroups[1]", "system:"
    ),
    # ------------------------------------------------ labels
    "pool label kubernetes.io/": Bad(
        pool_labels({"kubernetes.io/role": "gpu"}), "ai-platform:gpuPools[0].labels.kubernetes.io/role", "reserved"
    ),
    "pool label k8s.io/": Bad(pool_labels({"k8s.io/team": "ml"}), "ai-platform:gpuPools[0].labels.k8s.io/team", "reserved"),
    "pool label sub.kubernetes.io/": Bad(
        pool_labels({"topology.kubernetes.io/zone": "x"}), "ai-platform:gpuPools[0].labels.topology.kubernetes.io/zone", "reserved"
    ),
    "pool label kubernetes.io/hostname": Bad(
        pool_labels({"kubernetes.io/hostname": "x"}), "ai-platform:gpuPools[0].labels.kubernetes.io/hostname", "reserved"
    ),
    "pool label overrides the pool selector": Bad(
        pool_labels({"ai-platform.io/pool": "training"}), "ai-platform:gpuPools[0].labels.ai-platform.io/pool", "selector"
    ),
    "pool label overrides the accelerator label": Bad(
        pool_labels({"ai-platform.io/accelerator": "h100"}), "ai-platform:gpuPools[0].labels.ai-platform.io/accelerator", "ai-platform.io/"
    ),
    "pool label overrides the MIG config": Bad(
        pool_labels({"nvidia.com/mig.config": "all-disabled"}), "ai-platform:gpuPools[0].labels.nvidia.com/mig.config", "nvidia.com/"
    ),
    "pool label value too long": Bad(pool_labels({"team": "v" * 64}), "ai-platform:gpuPools[0].labels.team", "63"),
    "pool label value with a space": Bad(pool_labels({"team": "ml team"}), "ai-platform:gpuPools[0].labels.team", "label value"),
    "pool label value with a slash": Bad(pool_labels({"team": "ml/infra"}), "ai-platform:gpuPools[0].labels.team", "label value"),
    "pool label value starts with a dash": Bad(pool_labels({"team": "-ml"}), "ai-platform:gpuPools[0].labels.team", "label value"),
    "pool label name part over 63": Bad(pool_labels({"k" * 64: "x"}), f"ai-platform:gpuPools[0].labels.{'k' * 64}", "63"),
    "pool label prefix over 253": Bad(pool_labels({f"{'d' * 250}.com/x": "y"}), f"ai-platform:gpuPools[0].labels.{'d' * 250}.com/x", "253"),
    "pool label key uppercase prefix": Bad(
        pool_labels({"Example.com/x": "y"}), "ai-platform:gpuPools[0].labels.Example.com/x", "label key"
    ),
    "pool label key empty name": Bad(pool_labels({"example.com/": "y"}), "ai-platform:gpuPools[0].labels.example.com/", "label key"),
    # ------------------------------------------------ sizes
    "MinIO volume of zero": Bad(edit(EXISTING, ("objectStore.storageSize", "0Gi")), "ai-platform:objectStore.storageSize", "more than 0"),
    "database volume of zero": Bad(
        edit(EXISTING, ("modelRegistry.databaseStorageSize", "0Mi")), "ai-platform:modelRegistry.databaseStorageSize", "more than 0"
    ),
    "database volume too small for PostgreSQL": Bad(
        edit(EXISTING, ("modelRegistry.databaseStorageSize", "10Mi")), "ai-platform:modelRegistry.databaseStorageSize", "at least 1Gi"
    ),
    "Prometheus volume of zero": Bad(
        edit(EXISTING, ("observability.prometheusStorageSize", "0Gi")), "ai-platform:observability.prometheusStorageSize", "more than 0"
    ),
    "Prometheus retention of zero": Bad(
        edit(EXISTING, ("observability.prometheusRetention", "0d")), "ai-platform:observability.prometheusRetention", "more than 0"
    ),
    "local model cache of zero": Bad(
        edit(EKS, ("kserve", {"localModelPools": ["inference"], "localModelCacheSize": "0Gi"})),
        "ai-platform:kserve.localModelCacheSize",
        "more than 0",
    ),
    "model cache of zero": Bad(
        edit(EKS, ("kserve", {"localModelPools": ["inference"]}), ("inferenceServices.0.modelCacheSize", "0Gi")),
        "ai-platform:inferenceServices[0].modelCacheSize",
        "positive",
    ),
    "model cpu of zero": Bad(edit(EXISTING, ("inferenceServices.0.cpu", "0")), "ai-platform:inferenceServices[0].cpu", "positive"),
    "model memory of zero": Bad(
        edit(EXISTING, ("inferenceServices.0.memory", "0Gi")), "ai-platform:inferenceServices[0].memory", "positive"
    ),
    "model memory negative": Bad(
        edit(EXISTING, ("inferenceServices.0.memory", "-1Gi")), "ai-platform:inferenceServices[0].memory", "positive"
    ),
    "model memory in GB": Bad(edit(EXISTING, ("inferenceServices.0.memory", "2GB")), "ai-platform:inferenceServices[0].memory", "quantity"),
    "model memory without unit too small": Bad(
        edit(EXISTING, ("inferenceServices.0.memory", "512")), "ai-platform:inferenceServices[0].memory", "bytes"
    ),
    "model gpus negative": Bad(edit(EXISTING, ("inferenceServices.0.gpus", -1)), "ai-platform:inferenceServices[0].gpus", "0 or more"),
    "model max replicas zero": Bad(
        edit(EXISTING, ("inferenceServices.0.maxReplicas", 0)), "ai-platform:inferenceServices[0].maxReplicas", "1 or more"
    ),
    "Ray worker of zero cores": Bad(
        edit(EXISTING, ("rayClusters.0.workerGroups", [{"name": "cpu", "cpu": 0}])),
        "ai-platform:rayClusters[0].workerGroups[0].cpu",
        ">= 1",
    ),
    "Ray head of zero GiB": Bad(
        edit(EXISTING, ("rayClusters.0.head", {"memoryGib": 0})), "ai-platform:rayClusters[0].head.memoryGib", ">= 1"
    ),
    "Ray object store of zero": Bad(
        edit(EXISTING, ("rayClusters.0.head", {"objectStoreGib": 0})), "ai-platform:rayClusters[0].head.objectStoreGib", "at least"
    ),
    "Ray worker max below min": Bad(
        edit(EXISTING, ("rayClusters.0.workerGroups", [{"name": "cpu", "cpu": 1, "memoryGib": 2, "minReplicas": 3, "maxReplicas": 1}])),
        "ai-platform:rayClusters[0].workerGroups[0].maxReplicas",
        ">= minReplicas",
    ),
    "pool root volume too small": Bad(edit(EKS, ("gpuPools.0.rootVolumeGib", 0)), "ai-platform:gpuPools[0].rootVolumeGib", "50"),
    "node capacity of zero CPUs": Bad(edit(EXISTING, ("cluster.nodeCapacity", {"cpu": 0})), "ai-platform:cluster.nodeCapacity.cpu", "1"),
    "registry of zero workers": Bad(edit(EXISTING, ("modelRegistry.workers", 0)), "ai-platform:modelRegistry.workers", "1"),
    "gateway of zero replicas": Bad(
        edit(EKS, ("kserve.ingressGateway", {"enabled": True, "proxyReplicas": 0})),
        "ai-platform:kserve.ingressGateway.proxyReplicas",
        ">= 1",
    ),
    # ------------------------------------------------ model sources
    "model path that is an s3 URI": Bad(
        edit(EXISTING, ("inferenceServices.0.modelPath", "s3://laptop-models/iris")),
        "ai-platform:inferenceServices[0].modelPath",
        "storageUri",
    ),
    "model path that is an hf URI": Bad(
        edit(EKS, ("inferenceServices.0.modelPath", "hf://Qwen/Qwen2.5-7B")), "ai-platform:inferenceServices[0].modelPath", "storageUri"
    ),
    "model path that names the bucket": Bad(
        edit(EKS, ("inferenceServices.0.modelPath", "s3:/ai-test-models/llm")), "ai-platform:inferenceServices[0].modelPath", "storageUri"
    ),
    "canary path that is a URI": Bad(
        edit(
            EKS,
            ("kserve.ingressGateway", {"enabled": True}),
            ("inferenceServices.0.canaries", [{"name": "v2", "trafficPercent": 10, "modelPath": "s3://ai-test-models/llm/v2"}]),
        ),
        "ai-platform:inferenceServices[0].canaries[0].modelPath",
        "storageUri",
    ),
    "storage URI in a bucket the model cannot read": Bad(
        edit(EKS, ("inferenceServices.0", {**EKS["inferenceServices"][0], "modelPath": None, "storageUri": "s3://someone-else/llm"})),
        "ai-platform:inferenceServices[0].storageUri",
        "ai-test-models",
    ),
    "MinIO storage URI outside the store": Bad(
        edit(
            EXISTING, ("inferenceServices.0", {**EXISTING["inferenceServices"][0], "modelPath": None, "storageUri": "s3://elsewhere/iris"})
        ),
        "ai-platform:inferenceServices[0].storageUri",
        "laptop-models",
    ),
    "canary storage URI outside the store": Bad(
        edit(
            EKS,
            ("kserve.ingressGateway", {"enabled": True}),
            ("inferenceServices.0.canaries", [{"name": "v2", "trafficPercent": 10, "storageUri": "s3://other-bucket/llm/v2"}]),
        ),
        "ai-platform:inferenceServices[0].canaries[0].storageUri",
        "ai-test-models",
    ),
    "s3 storage URI without a store": Bad(
        edit(
            EXISTING,
            ("objectStore.enabled", False),
            ("modelRegistry.enabled", False),
            ("rayClusters", []),
            ("inferenceServices.0", {**EXISTING["inferenceServices"][0], "modelPath": None, "storageUri": "s3://somewhere/iris"}),
        ),
        "ai-platform:inferenceServices[0].storageUri",
        "object store",
    ),
    "storage URI of a bare bucket": Bad(
        edit(EKS, ("inferenceServices.0", {**EKS["inferenceServices"][0], "modelPath": None, "storageUri": "s3://"})),
        "ai-platform:inferenceServices[0].storageUri",
        "name a model",
    ),
    # ------------------------------------------------ domains and regions
    "ingress domain with a space": Bad(
        edit(EKS, ("kserve.ingressGateway", {"enabled": True}), ("kserve.ingressDomain", "my domain.com")),
        "ai-platform:kserve.ingressDomain",
        "DNS",
    ),
    "ingress domain as a URL": Bad(
        edit(EKS, ("kserve.ingressGateway", {"enabled": True}), ("kserve.ingressDomain", "https://models.example.com")),
        "ai-platform:kserve.ingressDomain",
        "DNS",
    ),
    "ingress domain uppercase": Bad(
        edit(EKS, ("kserve.ingressGateway", {"enabled": True}), ("kserve.ingressDomain", "Models.Example.com")),
        "ai-platform:kserve.ingressDomain",
        "lowercase",
    ),
    "ingress domain with an empty label": Bad(
        edit(EKS, ("kserve.ingressGateway", {"enabled": True}), ("kserve.ingressDomain", "models..example.com")),
        "ai-platform:kserve.ingressDomain",
        "DNS",
    ),
    "ingress domain label starts with a dash": Bad(
        edit(EKS, ("kserve.ingressGateway", {"enabled": True}), ("kserve.ingressDomain", "-models.example.com")),
        "ai-platform:kserve.ingressDomain",
        "DNS",
    ),
    "ingress domain label over 63": Bad(
        edit(EKS, ("kserve.ingressGateway", {"enabled": True}), ("kserve.ingressDomain", "m" * 64 + ".example.com")),
        "ai-platform:kserve.ingressDomain",
        "63",
    ),
    "ingress domain over 253": Bad(
        edit(EKS, ("kserve.ingressGateway", {"enabled": True}), ("kserve.ingressDomain", ".".join(["d" * 60] * 5))),
        "ai-platform:kserve.ingressDomain",
        "253",
    ),
    "ingress domain with a trailing dot": Bad(
        edit(EKS, ("kserve.ingressGateway", {"enabled": True}), ("kserve.ingressDomain", "example.com.")),
        "ai-platform:kserve.ingressDomain",
        "DNS",
    ),
    "region missing its number": Bad(EKS, "aws:region", "AWS region", region="us-west"),
    "region without dashes": Bad(EKS, "aws:region", "AWS region", region="uswest2"),
    "region uppercase": Bad(EKS, "aws:region", "AWS region", region="US-WEST-2"),
    "region as an AZ": Bad(EKS, "aws:region", "AWS region", region="us-west-2a"),
    "region of another cloud": Bad(EKS, "aws:region", "AWS region", region="europe-west1"),
    "region on an existing cluster": Bad(EXISTING, "aws:region", "AWS region", region="mars-1"),
    # ------------------------------------------------ CIDRs
    "public endpoint 0.0.0.0/0": Bad(public_cidrs("0.0.0.0/0"), "ai-platform:cluster.endpoint.publicAccessCidrs", "internet"),
    "public endpoint two halves": Bad(
        public_cidrs("0.0.0.0/1", "128.0.0.0/1"), "ai-platform:cluster.endpoint.publicAccessCidrs", "internet"
    ),
    "public endpoint four quarters": Bad(
        public_cidrs("0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"), "ai-platform:cluster.endpoint.publicAccessCidrs", "internet"
    ),
    "public endpoint uneven cover": Bad(
        public_cidrs("0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/3"), "ai-platform:cluster.endpoint.publicAccessCidrs", "internet"
    ),
    "public endpoint overlapping cover": Bad(
        public_cidrs("10.0.0.0/8", "0.0.0.0/1", "128.0.0.0/1"), "ai-platform:cluster.endpoint.publicAccessCidrs", "internet"
    ),
    # ------------------------------------------------ switches that break GPU scheduling
    "GPU Operator off with GPU pools": Bad(edit(EKS, ("gpuOperator.enabled", False)), "ai-platform:gpuOperator.enabled", "nvidia.com/gpu"),
    "autoscaler off with pools that scale from zero": Bad(
        edit(EKS, ("clusterAutoscaler.enabled", False)), "ai-platform:clusterAutoscaler.enabled", "gpuPools[0]"
    ),
    "time-slicing with the operator off": Bad(
        edit(EKS, ("gpuOperator.enabled", False), ("gpuPools.0.timeSlicingReplicas", 2)), "ai-platform:gpuOperator.enabled", "must be true"
    ),
    # ------------------------------------------------ MIG profiles on pools that workloads use
    "MIG profile of another GPU on a used pool": Bad(mig_on_used_pool("all-1g.5gb"), "ai-platform:gpuPools[1].migProfile", "all-1g.10gb"),
    "MIG profile unknown on a used pool": Bad(mig_on_used_pool("all-7g.500gb"), "ai-platform:gpuPools[1].migProfile", "all-1g.10gb"),
    "MIG profile garbage on a used pool": Bad(mig_on_used_pool("bogus"), "ai-platform:gpuPools[1].migProfile", "all-1g.10gb"),
    "MIG on a GPU without MIG used by a model": Bad(
        edit(EKS, ("gpuPools.0.migProfile", "all-1g.10gb"), ("gpuOperator", {"migStrategy": "single"})),
        "ai-platform:gpuPools[0].migProfile",
        "does not support MIG",
    ),
    "balanced MIG with single strategy on a used pool": Bad(
        mig_on_used_pool("all-balanced"), "ai-platform:gpuPools[1].migProfile", "'mixed'"
    ),
    # ------------------------------------------------ settings the selected mode ignores
    "database size with RDS": Bad(
        edit(EKS, ("modelRegistry.databaseStorageSize", "20Gi")), "ai-platform:modelRegistry.databaseStorageSize", "in-cluster"
    ),
    "multi-AZ with the in-cluster database": Bad(
        edit(EXISTING, ("modelRegistry.multiAz", False)), "ai-platform:modelRegistry.multiAz", "rds"
    ),
    "MinIO volume with S3": Bad(edit(EKS, ("objectStore.storageSize", "100Gi")), "ai-platform:objectStore.storageSize", "minio"),
    "MinIO volume with explicit S3": Bad(
        edit(EKS, ("objectStore", {"backend": "s3", "storageSize": "100Gi"})), "ai-platform:objectStore.storageSize", "minio"
    ),
    "ingress domain without a gateway": Bad(
        edit(EKS, ("kserve.ingressDomain", "models.example.com")), "ai-platform:kserve.ingressDomain", "gateway"
    ),
    "cache size without cache pools": Bad(
        edit(EKS, ("kserve.localModelCacheSize", "100Gi")), "ai-platform:kserve.localModelCacheSize", "localModelPools"
    ),
    "canary percent in Standard mode": Bad(
        edit(EKS, ("inferenceServices.0.canaryTrafficPercent", 10)), "ai-platform:inferenceServices[0].canaryTrafficPercent", "Knative"
    ),
    "a model path in a bucket the store lacks": Bad(
        edit(EXISTING, ("objectStore.buckets", ["datasets"]), ("modelRegistry.enabled", False)),
        "ai-platform:inferenceServices[0].modelPath",
        "is a path in the 'models' bucket, which objectStore.buckets lacks",
    ),
    "a canary's model path in a bucket the store lacks": Bad(
        edit(
            EKS,
            ("objectStore.buckets", ["datasets"]),
            ("modelRegistry.enabled", False),
            ("inferenceServices.0.modelPath", None),
            ("inferenceServices.0.storageUri", "hf://org/llm"),
            ("inferenceServices.0.canaries", [{"name": "v2", "modelPath": "llm/v2", "trafficPercent": 10}]),
        ),
        "ai-platform:inferenceServices[0].canaries[0].modelPath",
        "'models' bucket",
    ),
    "a serving signal the LLM's server does not export": Bad(
        edit(EKS, ("inferenceServices.0.scaleMetric", "rps")),
        "ai-platform:inferenceServices[0].scaleMetric",
        "use concurrency, cpu or memory",
    ),
    "scale to zero on a serving signal": Bad(
        edit(EKS, ("inferenceServices.0.minReplicas", 0)), "ai-platform:inferenceServices[0].minReplicas", "use 1 or more"
    ),
    "scale to zero in Standard mode": Bad(
        edit(EKS, ("inferenceServices.0.minReplicas", 0), ("inferenceServices.0.scaleMetric", "cpu")),
        "ai-platform:inferenceServices[0].minReplicas",
        "Knative",
    ),
    "Standard canaries in Knative mode": Bad(
        edit(
            EXISTING,
            ("kserve.deploymentMode", "Knative"),
            ("inferenceServices.0.canaries", [{"name": "v2", "trafficPercent": 10, "modelPath": "sklearn/iris/v2"}]),
        ),
        "ai-platform:inferenceServices[0].canaries",
        "Standard mode",
    ),
    "autoscaler settings on an existing cluster": Bad(
        edit(EXISTING, ("clusterAutoscaler.expander", "random")), "ai-platform:clusterAutoscaler.expander", "eks"
    ),
    "autoscaler settings while it is off": Bad(
        edit(FIXED_SIZE_POOLS, ("clusterAutoscaler", {"enabled": False, "expander": "random"})),
        "ai-platform:clusterAutoscaler.expander",
        "enabled",
    ),
    "operator settings while it is off": Bad(
        edit(EXISTING, ("gpuOperator", {"enabled": False, "defaultTimeSlicingReplicas": 4})),
        "ai-platform:gpuOperator.defaultTimeSlicingReplicas",
        "enabled",
    ),
    "store settings while it is off": Bad(
        edit(
            EXISTING,
            ("rayClusters", []),
            ("inferenceServices", []),
            ("modelRegistry.enabled", False),
            ("objectStore", {"enabled": False, "storageSize": "9Gi"}),
        ),
        "ai-platform:objectStore.storageSize",
        "enabled",
    ),
    "registry settings while it is off": Bad(
        edit(EXISTING, ("modelRegistry", {"enabled": False, "workers": 4})), "ai-platform:modelRegistry.workers", "enabled"
    ),
    "observability settings while it is off": Bad(
        edit(EXISTING, ("observability", {"enabled": False, "prometheusRetention": "30d"})),
        "ai-platform:observability.prometheusRetention",
        "enabled",
    ),
    "KServe settings while it is off": Bad(
        edit(EXISTING, ("inferenceServices", []), ("kserve", {"enabled": False, "modelNamespace": "serving"})),
        "ai-platform:kserve.modelNamespace",
        "enabled",
    ),
    "gateway settings while it is off": Bad(
        edit(EKS, ("kserve.ingressGateway", {"proxyReplicas": 3})), "ai-platform:kserve.ingressGateway.proxyReplicas", "enabled"
    ),
    "metrics-server settings while it is off": Bad(
        edit(EXISTING, ("metricsServer", {"enabled": False, "replicas": 3})), "ai-platform:metricsServer.replicas", "enabled"
    ),
    "Redis secret without Redis": Bad(
        edit(EXISTING, ("rayClusters.0.redisPasswordSecret", "redis")), "ai-platform:rayClusters[0].redisPasswordSecret", "redisAddress"
    ),
}


def _problem_lines(error: ConfigError, key: str) -> list[str]:
    return [line for line in str(error).splitlines() if line.startswith(f"  - {key}: ")]


@pytest.mark.parametrize("case", sorted(BAD), ids=sorted(BAD))
def test_bad_config_is_refused_naming_its_key(case):
    bad = BAD[case]
    recording = Recording(stack="test")
    with pytest.raises(ConfigError) as raised:
        run_main(bad.config, region=bad.region, recording=recording)
    lines = _problem_lines(raised.value, bad.key)
    assert lines, f"no problem reported for {bad.key}:\n{raised.value}"
    assert any(bad.fragment in line for line in lines), f"{bad.fragment!r} not in {lines}"
    assert recording.registrations == []


# ---------------------------------------------------------------- the stack file itself

STACK = """\
config:
  aws:region: us-west-2
  ai-platform:cluster:
    provider: existing
    name: laptop
  ai-platform:gpuOperator:
    enabled: true
"""


@dataclass
class BadFile:
    text: str
    key: str
    fragment: str


def replaced(old: str, new: str) -> str:
    assert old in STACK
    return STACK.replace(old, new)


BAD_FILES: dict[str, BadFile] = {
    "top-level key twice": BadFile(STACK + "  ai-platform:cluster:\n    provider: eks\n", "ai-platform:cluster", "line 3"),
    "nested key twice": BadFile(
        replaced("    name: laptop\n", "    name: laptop\n    name: other\n"), "ai-platform:cluster.name", "line 5"
    ),
    "key twice in a list item": BadFile(
        STACK + "  ai-platform:rayClusters:\n    - name: a\n      name: b\n", "ai-platform:rayClusters[0].name", "already set at line"
    ),
    "key outside a namespace": BadFile(
        STACK + "  kserve:\n    enabled: true\n", "Pulumi.adversarial.yaml:8:3", "'kserve' is not of the form <namespace>:<name>"
    ),
    "key with two namespaces": BadFile(
        STACK + "  ai-platform:kserve:enabled: true\n", "Pulumi.adversarial.yaml:8:3", "'ai-platform:kserve:enabled' is not of the form"
    ),
    "namespace with an underscore": BadFile(
        STACK + "  ai_platform:kserve:\n    enabled: true\n", "ai_platform:kserve", "did you mean ai-platform"
    ),
    "namespace without the dash": BadFile(
        STACK + "  aiplatform:kserve:\n    enabled: true\n", "aiplatform:kserve", "did you mean ai-platform"
    ),
    "namespace missing a letter": BadFile(
        STACK + "  ai-plaform:kserve:\n    enabled: true\n", "ai-plaform:kserve", "did you mean ai-platform"
    ),
    "namespace with swapped letters": BadFile(STACK + "  ai-platfrom:kserve:\n    enabled: true\n", "ai-platfrom:kserve", "did you mean"),
    "namespace in capitals": BadFile(
        STACK + "  AI-Platform:kserve:\n    enabled: true\n", "AI-Platform:kserve", "did you mean ai-platform"
    ),
    "namespace with a trailing s": BadFile(STACK + "  ai-platforms:kserve:\n    enabled: true\n", "ai-platforms:kserve", "did you mean"),
    "bad indentation": BadFile(replaced("    name: laptop\n", "   name: laptop\n"), "Pulumi.adversarial.yaml:5:", ""),
    "unclosed flow list": BadFile(STACK + "  ai-platform:tags: [a, b\n", "Pulumi.adversarial.yaml:", "expected"),
    "tab indentation": BadFile(replaced("    name: laptop\n", "\tname: laptop\n"), "Pulumi.adversarial.yaml:5:", "tab"),
    "unterminated quote": BadFile(replaced("name: laptop", 'name: "laptop'), "Pulumi.adversarial.yaml:", "quoted"),
    "config is a list": BadFile("config:\n  - ai-platform:cluster\n", "Pulumi.adversarial.yaml", "mapping"),
    "document is a string": BadFile("just text\n", "Pulumi.adversarial.yaml", "mapping"),
}


@pytest.fixture
def project(tmp_path):
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    return tmp_path


@pytest.mark.parametrize("case", sorted(BAD_FILES), ids=sorted(BAD_FILES))
def test_bad_stack_file_is_refused_naming_where(case, project):
    from offline.render import render

    bad = BAD_FILES[case]
    (project / "Pulumi.adversarial.yaml").write_text(bad.text)
    recording = Recording(stack="adversarial")
    with pytest.raises(ConfigError) as raised:
        render("adversarial", project, recording=recording)
    lines = [line for line in str(raised.value).splitlines() if line.startswith(f"  - {bad.key}")]
    assert lines, f"no problem reported for {bad.key}:\n{raised.value}"
    assert any(bad.fragment in line for line in lines), f"{bad.fragment!r} not in {lines}"
    assert recording.registrations == []


def test_case_count():
    assert len(BAD) + len(BAD_FILES) >= 100


# ---------------------------------------------------------------- edge values that stay accepted

GOOD: dict[str, tuple[dict, str | None]] = {
    "EKS base": (EKS, "us-west-2"),
    "existing base": (EXISTING, "us-west-2"),
    "EKS cluster name of 37": (edit(EKS, ("cluster.name", "c" * 37)), "us-west-2"),
    "model name of 50 on EKS": (edit(EKS, ("inferenceServices.0.name", "m" * 50)), "us-west-2"),
    "Ray cluster name of 52 on EKS": (edit(EKS, ("rayClusters.0.name", "r" * 52)), "us-west-2"),
    "bucket names of exactly 63": (buckets(EKS, "b" * 40, prefix="p" * 22), "us-west-2"),
    "namespace-like names that are free": (edit(EXISTING, ("rayClusters.0.name", "kubeflow"), ("kserve.modelNamespace", "serving")), None),
    "label values at their limits": (pool_labels({"team": "v" * 63, "empty": "", "example.com/a.b_c-d": "A.b_c-9"}), "us-west-2"),
    "node.kubernetes.io labels kubelet may set": (pool_labels({"node.kubernetes.io/lifecycle": "spot"}), "us-west-2"),
    "storage URI in the store": (
        edit(EKS, ("inferenceServices.0", {**EKS["inferenceServices"][0], "modelPath": None, "storageUri": "s3://ai-test-models/llm/v1"})),
        "us-west-2",
    ),
    "storage URI outside S3": (
        edit(
            EKS, ("inferenceServices.0", {**EKS["inferenceServices"][0], "modelPath": None, "storageUri": "hf://Qwen/Qwen2.5-7B-Instruct"})
        ),
        "us-west-2",
    ),
    "MinIO storage URI in the store": (
        edit(
            EXISTING,
            ("inferenceServices.0", {**EXISTING["inferenceServices"][0], "modelPath": None, "storageUri": "s3://laptop-models/iris"}),
        ),
        None,
    ),
    "ingress domain with a gateway": (
        edit(EKS, ("kserve.ingressGateway", {"enabled": True}), ("kserve.ingressDomain", "models.ml-team.example.com")),
        "us-west-2",
    ),
    "GovCloud region": (EKS, "us-gov-west-1"),
    "China region": (EKS, "cn-north-1"),
    "newer region": (
        edit(EKS, ("cluster.vpc.availabilityZones", ["ap-southeast-5a", "ap-southeast-5b", "ap-southeast-5c"])),
        "ap-southeast-5",
    ),
    "CIDRs that leave a gap": (public_cidrs("0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/3"), "us-west-2"),
    "GPU Operator off without GPU pools": (edit(EXISTING, ("gpuOperator.enabled", False)), None),
    "autoscaler off with fixed-size pools": (
        edit(FIXED_SIZE_POOLS, ("clusterAutoscaler.enabled", False)),
        "us-west-2",
    ),
    "MIG profile that fits the used pool": (mig_on_used_pool("all-1g.10gb"), "us-west-2"),
    "database size with the in-cluster database": (edit(EXISTING, ("modelRegistry.databaseStorageSize", "1Gi")), None),
    "in-cluster database on EKS with its size": (
        edit(EKS, ("modelRegistry", {"database": "in-cluster", "databaseStorageSize": "20Gi"})),
        "us-west-2",
    ),
    "model memory in plain bytes": (edit(EXISTING, ("inferenceServices.0.memory", "1073741824")), None),
    "switches restated at their defaults": (
        edit(EXISTING, ("kserve.enabled", True), ("gpuOperator.enabled", True), ("objectStore.enabled", True)),
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(GOOD), ids=sorted(GOOD))
def test_edge_config_is_accepted(case):
    config, region = GOOD[case]
    recording = run_main(config, region=region)
    assert recording.registrations


GOOD_FILES = {
    "other namespaces": STACK + "  kubernetes:context: kind-laptop\n  pulumi:tags:\n    team: ml\n",
    "secret in the namespace": STACK + "  ai-platform:someToken:\n    secure: v1:abc\n",
    "legacy config module form": STACK.replace("aws:region", "aws:config:region"),
    "an empty mapping": STACK + "  ai-platform:tags: {}\n",
}


@pytest.mark.parametrize("case", sorted(GOOD_FILES), ids=sorted(GOOD_FILES))
def test_edge_stack_file_is_accepted(case, project):
    from offline.render import render

    (project / "Pulumi.adversarial.yaml").write_text(GOOD_FILES[case])
    assert render("adversarial", project).registrations


# ---------------------------------------------------------------- the program's own entry


@pytest.mark.parametrize(
    "text",
    [
        STACK + "  ai-platform:cluster:\n    provider: eks\n",
        replaced("    name: laptop\n", "   name: laptop\n"),
        STACK + "  ai_platform:kserve:\n    enabled: false\n",
        STACK + "  ai-platform:rayClusters:\n    - name: default\n",
    ],
    ids=["duplicate key", "syntax error", "namespace typo", "rule"],
)
def test_render_prints_one_message_and_registers_nothing(text, project):
    (project / "Pulumi.adversarial.yaml").write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "offline.render", "adversarial", "--root", str(project), "--out", str(project / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: invalid stack configuration (1 problem):")
    assert result.stderr.count("error:") == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert not (project / "out").exists()


def test_names_at_their_limits_fit_what_aws_accepts():
    """The longest accepted names build IAM roles and buckets that AWS takes, with no room to spare."""
    config = edit(
        EKS,
        ("cluster.name", "c" * 37),
        ("inferenceServices.0.name", "m" * 50),
        ("rayClusters.0.name", "r" * 52),
        ("objectStore.buckets", ["models", "datasets", "b" * 25]),
    )
    recording = run_main(config)
    roles = [r.name for r in recording.of_type("aws:iam/role:Role")]
    buckets = [r.inputs["bucket"] for r in recording.of_type("aws:s3/bucket:Bucket")]
    assert roles and buckets
    # auto-naming adds '-' and 7 random characters; IAM role names have at most 64
    assert max(len(name) + 8 for name in roles) == 64, sorted(roles, key=len)[-3:]
    assert max(len(name) for name in buckets) == 63, buckets
