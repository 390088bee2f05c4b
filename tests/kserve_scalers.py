"""What KServe v0.20.0 creates to scale a Standard-mode InferenceService, modelled for the tests from
its source (github.com/kserve/kserve at tag v0.20.0), independently of the code that renders the CR:

- pkg/controller/v1beta1/inferenceservice/reconcilers/autoscaler/autoscaler_reconciler.go: the class
  comes from the component's annotation ``serving.kserve.io/autoscalerClass`` (default ``hpa``); hpa
  makes an HPA, keda a ScaledObject, none and external neither (hpa_reconciler.go shouldCreateHPA);
- components/predictor.go buildObjectMeta: a predictor's own annotations override the service's;
  reconcileCanaryDeployments reconciles each canary with no autoScaling and a fixed replica count;
- reconcilers/keda/keda_reconciler.go createKedaScaledObject and getKedaMetrics: an External metric
  becomes a trigger of type ``backend`` with serverAddress, query and threshold (the target value).
"""

from __future__ import annotations

import math
from typing import Any

AUTOSCALER_CLASS = "serving.kserve.io/autoscalerClass"


def predictor_deployment(isvc: dict[str, Any], predictor_name: str | None = None) -> str:
    """constants.PredictorServiceName: ``<service>-predictor`` or ``<service>-<name>-predictor``."""
    base = isvc["metadata"]["name"]
    return f"{base}-{predictor_name}-predictor" if predictor_name else f"{base}-predictor"


def autoscaler_class(isvc: dict[str, Any], predictor: dict[str, Any]) -> str:
    annotations = {**isvc["metadata"].get("annotations", {}), **predictor.get("annotations", {})}
    return annotations.get(AUTOSCALER_CLASS, "hpa")


def _canary_replicas(stable: dict[str, Any], canary: dict[str, Any]) -> int:
    if "minReplicas" in canary["predictor"]:
        return canary["predictor"]["minReplicas"]
    return math.ceil(stable.get("minReplicas", 1) * canary["trafficPercent"] / 100)


def _trigger(metric: dict[str, Any]) -> dict[str, Any]:
    if metric["type"] == "External":
        external = metric["external"]
        source = external["metric"]
        metadata = {
            "serverAddress": source.get("serverAddress", ""),
            "query": source.get("query", ""),
            "threshold": str(external["target"].get("value", "0")),
        }
        if source["backend"] == "prometheus" and source.get("namespace"):
            metadata["namespace"] = source["namespace"]
        return {"type": source["backend"], "metadata": metadata}
    resource = metric["resource"]
    target = resource["target"]
    value = target.get("averageUtilization", 80 if resource["name"] == "cpu" else 0)
    return {"type": resource["name"], "metadata": {"value": str(value)}, "metricType": target["type"]}


def scaled_object(isvc: dict[str, Any]) -> dict[str, Any]:
    """The ScaledObject KServe creates for the stable predictor under autoscalerClass keda."""
    predictor = isvc["spec"]["predictor"]
    minimum = predictor.get("minReplicas", 1)
    canaries = isvc["spec"].get("canary", [])
    if canaries:  # components/predictor.go: the stable predictor gives the canaries their replicas
        minimum = max(minimum - sum(_canary_replicas(predictor, c) for c in canaries), 1)
    triggers = [_trigger(m) for m in predictor.get("autoScaling", {}).get("metrics", [])]
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": predictor_deployment(isvc), "namespace": isvc["metadata"]["namespace"]},
        "spec": {
            "scaleTargetRef": {"name": predictor_deployment(isvc)},
            "triggers": triggers,
            "minReplicaCount": minimum,
            "maxReplicaCount": max(predictor.get("maxReplicas", 0), minimum),
        },
    }


def scalers(isvc: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Deployment -> (autoscaler class, the stable predictor's or a canary's predictor spec) of a
    Standard-mode InferenceService."""
    stable = isvc["spec"]["predictor"]
    found = {predictor_deployment(isvc): (autoscaler_class(isvc, stable), stable)}
    for canary in isvc["spec"].get("canary", []):
        found[predictor_deployment(isvc, canary["predictor"]["name"])] = (autoscaler_class(isvc, canary["predictor"]), canary["predictor"])
    return found
