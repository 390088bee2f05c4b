"""Serve one model on a cluster you already run: MinIO holds it, KServe serves it.

Config (all optional): ``kubeconfigContext`` (default ``kind-ai-platform``), ``modelFormat``
(``sklearn``), ``modelPath`` (``sklearn/iris/v1``, in the ``models`` bucket), ``maxReplicas`` (2).
"""

import pulumi
from ai_platform.cluster.existing_cluster import ExistingCluster
from ai_platform.data.object_store import ObjectStore
from ai_platform.serving.inference_service import InferenceService
from ai_platform.serving.kserve import KServe

config = pulumi.Config()
cluster = ExistingCluster("cluster", {"context": config.get("kubeconfigContext") or "kind-ai-platform"})
on_cluster = pulumi.ResourceOptions(provider=cluster.k8s_provider)

store = ObjectStore("store", {"backend": "minio", "buckets": ["models"], "storage_size": "10Gi"}, on_cluster)
kserve = KServe("kserve", {"deployment_mode": "Standard"}, on_cluster)
model = InferenceService(
    "iris",
    {
        "kserve": kserve,
        "store": store,
        "model_format": config.get("modelFormat") or "sklearn",
        "model_path": config.get("modelPath") or "sklearn/iris/v1",
        "cpu": "500m",
        "memory": "1Gi",
        "max_replicas": config.get_int("maxReplicas") or 2,
        "scale_metric": "cpu",
        "scale_target": 70,
    },
    on_cluster,
)

pulumi.export("modelUri", model.storage_uri)
pulumi.export("objectStoreEndpoint", store.endpoint_url)
pulumi.export("modelNamespace", kserve.model_namespace)
