"""Tests for tests/schemas.py, the strict validator used by the rest of the suite."""

import copy
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests import schemas

K8S = "1.35"


def deployment() -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "ai", "labels": {"app": "api"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {
                    "containers": [
                        {
                            "name": "api",
                            "image": "api:1.0",
                            "ports": [{"containerPort": 8080}],
                        }
                    ]
                },
            },
        },
    }


def ray_cluster() -> dict:
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayCluster",
        "metadata": {"name": "ray", "namespace": "ray"},
        "spec": {
            "rayVersion": "2.9.0",
            "headGroupSpec": {
                "rayStartParams": {"dashboard-host": "0.0.0.0"},
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "ray-head",
                                "image": "rayproject/ray:2.9.0",
                                "resources": {"limits": {"cpu": 1, "memory": "2Gi"}},
                            }
                        ]
                    }
                },
            },
        },
    }


def prometheus_rule() -> dict:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "ray-alerts",
            "namespace": "monitoring",
            "labels": {"release": "prometheus"},
        },
        "spec": {
            "groups": [
                {
                    "name": "ray",
                    "rules": [
                        {
                            "alert": "RayHeadDown",
                            "expr": 'up{job="ray-head"} == 0',
                            "for": "5m",
                            "labels": {"severity": "critical"},
                            "annotations": {"summary": "Ray head is down"},
                        }
                    ],
                }
            ]
        },
    }


def service_monitor(target_port) -> dict:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "ray", "namespace": "monitoring"},
        "spec": {
            "selector": {"matchLabels": {"app": "ray"}},
            "endpoints": [{"targetPort": target_port, "path": "/metrics", "interval": "30s"}],
        },
    }


def head_container(obj: dict) -> dict:
    return obj["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]


def assert_error(errors: list[str], *fragments: str) -> None:
    """At least one error mentions every fragment (e.g. its JSON path and the reason)."""
    assert any(all(f in e for f in fragments) for e in errors), errors


# --- built-in kinds (kubernetes-validate) --------------------------------------------


def test_valid_deployment_passes():
    assert schemas.validate_object(deployment(), K8S) == []


def test_deployment_unknown_field_fails():
    obj = deployment()
    obj["spec"]["replicaz"] = 3
    assert_error(schemas.validate_object(obj, K8S), "$.spec:", "replicaz")


def test_deployment_wrong_type_fails():
    obj = deployment()
    obj["spec"]["replicas"] = "two"
    assert_error(schemas.validate_object(obj, K8S), "$.spec.replicas:", "integer")


def test_unknown_builtin_kind_fails_with_no_schema():
    obj = {"apiVersion": "v1", "kind": "Frobnicator", "metadata": {"name": "x"}}
    assert_error(schemas.validate_object(obj, K8S), "no schema", "Frobnicator")


def test_missing_api_version_fails():
    assert_error(schemas.validate_object({"kind": "Deployment"}, K8S), "apiVersion")


# --- custom resources (upstream CRDs vendored in upstream/crds) ---------------------------


def test_known_custom_groups():
    assert {
        "ray.io",
        "monitoring.coreos.com",
        "serving.kserve.io",
        "nvidia.com",
        "gateway.networking.k8s.io",
        "gateway.envoyproxy.io",
    } <= schemas.known_custom_groups()


def test_valid_ray_cluster_passes():
    assert schemas.validate_object(ray_cluster(), K8S) == []


def test_ray_cluster_unknown_spec_field_fails():
    obj = ray_cluster()
    obj["spec"]["headGroupSpecs"] = obj["spec"]["headGroupSpec"]
    assert_error(schemas.validate_object(obj, K8S), "$.spec:", "headGroupSpecs")


def test_ray_cluster_unknown_nested_field_fails():
    obj = ray_cluster()
    head_container(obj)["imagePullPolicyy"] = "Always"
    path = "$.spec.headGroupSpec.template.spec.containers[0]:"
    assert_error(schemas.validate_object(obj, K8S), path, "imagePullPolicyy")


def test_ray_cluster_string_for_integer_fails():
    obj = ray_cluster()
    worker = copy.deepcopy(obj["spec"]["headGroupSpec"])
    worker.update(groupName="gpu", replicas="2", minReplicas=0, maxReplicas=4)
    obj["spec"]["workerGroupSpecs"] = [worker]
    assert_error(
        schemas.validate_object(obj, K8S),
        "$.spec.workerGroupSpecs[0].replicas:",
        "integer",
    )


@pytest.mark.parametrize("cpu", [1, "500m", "1.5"])
def test_ray_int_or_string_quantity_accepts_int_and_string(cpu):
    obj = ray_cluster()
    head_container(obj)["resources"]["limits"]["cpu"] = cpu
    assert schemas.validate_object(obj, K8S) == []


@pytest.mark.parametrize("cpu", [True, 1.5, "lots"])
def test_ray_int_or_string_quantity_rejects_others(cpu):
    obj = ray_cluster()
    head_container(obj)["resources"]["limits"]["cpu"] = cpu
    path = "$.spec.headGroupSpec.template.spec.containers[0].resources.limits.cpu:"
    assert_error(schemas.validate_object(obj, K8S), path)


def test_ray_cluster_missing_name_fails():
    obj = ray_cluster()
    del obj["metadata"]["name"]
    assert_error(
        schemas.validate_object(obj, K8S),
        "$.metadata:",
        "'name' is a required property",
    )


def test_ray_cluster_non_string_label_fails():
    obj = ray_cluster()
    obj["metadata"]["labels"] = {"replicas": 3}
    assert_error(schemas.validate_object(obj, K8S), "$.metadata.labels.replicas:", "string")


def test_unknown_version_of_known_group_fails():
    obj = ray_cluster()
    obj["apiVersion"] = "ray.io/v9"
    assert_error(schemas.validate_object(obj, K8S), "no schema", "ray.io/v9")


def test_valid_prometheus_rule_passes():
    assert schemas.validate_object(prometheus_rule(), K8S) == []


def test_prometheus_rule_missing_expr_fails():
    obj = prometheus_rule()
    del obj["spec"]["groups"][0]["rules"][0]["expr"]
    assert_error(
        schemas.validate_object(obj, K8S),
        "$.spec.groups[0].rules[0]:",
        "'expr' is a required",
    )


def test_prometheus_rule_unknown_key_fails():
    obj = prometheus_rule()
    obj["spec"]["groups"][0]["rules"][0]["severity"] = "critical"
    assert_error(schemas.validate_object(obj, K8S), "$.spec.groups[0].rules[0]:", "severity")


def test_prometheus_rule_go_inline_regex_flag_is_honoured():
    # The CRD pattern is "^(?i)(abort|warn)?$", which Python cannot compile as written.
    obj = prometheus_rule()
    obj["spec"]["groups"][0]["partial_response_strategy"] = "WARN"
    assert schemas.validate_object(obj, K8S) == []
    obj["spec"]["groups"][0]["partial_response_strategy"] = "explode"
    assert_error(schemas.validate_object(obj, K8S), "$.spec.groups[0].partial_response_strategy:")


@pytest.mark.parametrize("target_port", [8080, "metrics"])
def test_service_monitor_target_port_is_int_or_string(target_port):
    assert schemas.validate_object(service_monitor(target_port), K8S) == []


def test_service_monitor_target_port_rejects_list():
    assert_error(
        schemas.validate_object(service_monitor([8080]), K8S),
        "$.spec.endpoints[0].targetPort:",
    )


# --- OpenAPI -> JSON Schema conversion (no CRD files needed) --------------------------


def errors_for(openapi: dict, instance) -> list[str]:
    validator = jsonschema.Draft202012Validator(schemas._to_json_schema(openapi))
    return [e.message for e in validator.iter_errors(instance)]


def test_conversion_properties_are_strict():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert errors_for(schema, {"a": "x"}) == []
    assert errors_for(schema, {"a": "x", "b": 1}) != []


def test_conversion_bare_object_is_strict_because_apiserver_prunes_it():
    assert errors_for({"type": "object"}, {}) == []
    assert errors_for({"type": "object"}, {"labels": {}}) != []


def test_conversion_junctor_branches_stay_open():
    # Structural schemas declare every field outside anyOf/allOf; branches only add
    # value checks on some of them, so making a branch strict would reject valid data.
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
        "anyOf": [{"properties": {"a": {"minLength": 2}}}],
    }
    assert errors_for(schema, {"a": "xx", "b": 1}) == []
    assert errors_for(schema, {"a": "x", "b": 1}) != []


def test_conversion_preserve_unknown_fields():
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "x-kubernetes-preserve-unknown-fields": True,
    }
    assert errors_for(schema, {"a": "x", "anything": {"goes": 1}}) == []
    assert errors_for(schema, {"a": 1}) != []


def test_conversion_nullable():
    schema = {"type": "string", "enum": ["a"], "nullable": True}
    assert errors_for(schema, None) == []
    assert errors_for(schema, "b") != []
    assert errors_for({"type": "string"}, None) != []


def test_conversion_embedded_resource():
    schema = {
        "type": "object",
        "x-kubernetes-embedded-resource": True,
        "x-kubernetes-preserve-unknown-fields": True,
    }
    assert (
        errors_for(
            schema,
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"a": "b"}}},
        )
        == []
    )
    assert errors_for(schema, {"kind": "Pod"}) != []  # apiVersion is required
    assert (
        errors_for(
            schema,
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"a": 1}}},
        )
        != []
    )


def test_conversion_int_or_string():
    # Without the anyOf that newer generators add, so only the extension constrains it.
    schema = {"x-kubernetes-int-or-string": True}
    assert errors_for(schema, 1) == errors_for(schema, "1") == []
    assert errors_for(schema, 1.5) != []


def test_crds_are_loaded_lazily():
    code = "import tests.schemas as s; assert s._crd_schemas.cache_info().currsize == 0"
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
