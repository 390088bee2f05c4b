"""What the pinned charts make of the values the stacks give them (offline/charts.py expands every Helm
release with the Helm SDK) passes the checks the program's own objects pass: strict schemas for the
stack's Kubernetes version, the CRDs the stack installs, the Pod Security level of the namespace each pod
lands in, and no credential a chart ships as a default. checkov on these objects: tests/test_checkov.py.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline import charts
from offline.render import helm_releases, kubernetes_objects
from tests import pod_security
from tests.schemas import installed_crd_validators, validate_installed

STACKS = ["dev", "prod"]
ENFORCE = "pod-security.kubernetes.io/enforce"
# Namespaces pods land in that the program does not create, with the level they have there and why.
FOREIGN_NAMESPACES = {
    # EKS runs PodSecurity with the upstream default (privileged) and does not label kube-system;
    # the cluster autoscaler runs there because that is where the chart's RBAC for its leader lease goes.
    "kube-system": "privileged",
}
# Credentials that charts and their docs use as defaults (matched as whole tokens in every string).
KNOWN_DEFAULT_CREDENTIALS = {"console123", "minio123", "minioadmin", "prom-operator", "strongpassword", "changeme", "admin123"}
# A values key that holds a credential itself (not the name of a key or Secret that holds one).
CREDENTIAL_KEY = re.compile(r"(?i)(password|passwd|secretkey|secret_key|token|apikey|api_key)$")


def _objects(expansions) -> list[tuple[str, str, dict[str, Any]]]:
    return [(name, e.namespace, o) for name, e in expansions.items() for o in e.objects]


def _id(release: str, obj: dict[str, Any]) -> str:
    return f"{release}: {obj['kind']}/{obj.get('metadata', {}).get('name')}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_release_is_expanded_with_its_pinned_chart(rendered, expanded, stack):
    releases, expansions = helm_releases(rendered(stack)), expanded(stack)
    assert sorted(expansions) == sorted(releases)
    for name, release in releases.items():
        assert expansions[name].chart == f"{release['chart']}-{release['version']}"
        assert expansions[name].objects, name


@pytest.mark.parametrize("stack", STACKS)
def test_chart_objects_are_valid_for_the_stack_kubernetes_version_and_installed_crds(rendered, expanded, stack):
    version, expansions = rendered(stack).outputs["kubernetesVersion"], expanded(stack)
    validators = installed_crd_validators([crd for e in expansions.values() for crd in e.crds()])
    assert validators, "the stack installs CRDs"
    problems = {_id(r, o): errors for r, _, o in _objects(expansions) if (errors := validate_installed(o, version, validators))}
    assert problems == {}


def test_the_chart_object_check_rejects_what_the_api_server_would(expanded):
    expansions = expanded("dev")
    validators = installed_crd_validators([crd for e in expansions.values() for crd in e.crds()])
    (deployment,) = [o for o in expansions["kuberay-operator"].objects if o["kind"] == "Deployment"]
    runtime = next(o for o in expansions["kserve-runtime-configs"].objects if o["kind"] == "ClusterServingRuntime")
    for obj, where in ((deployment, "spec"), (runtime, "spec")):
        bad = copy.deepcopy(obj)
        bad[where]["replicaz"] = 1
        assert validate_installed(bad, "1.35", validators), obj["kind"]


def _levels(recording) -> dict[str, str]:
    namespaces = [o for objects in kubernetes_objects(recording).values() for o in objects if o["kind"] == "Namespace"]
    return {o["metadata"]["name"]: (o["metadata"].get("labels") or {}).get(ENFORCE, "privileged") for o in namespaces}


@pytest.mark.parametrize("stack", STACKS)
def test_every_chart_pod_is_admitted_by_its_namespace_pod_security_level(rendered, expanded, stack):
    levels = {**FOREIGN_NAMESPACES, **_levels(rendered(stack))}
    pods, refused = 0, {}
    for release, namespace, obj in _objects(expanded(stack)):
        spec = pod_security.pod_spec(obj)
        if spec is None:
            continue
        pods += 1
        landing = obj.get("metadata", {}).get("namespace") or namespace
        assert landing in levels, f"{_id(release, obj)} lands in {landing}, which the program does not create"
        template = (obj.get("spec", {}).get("template") or {}).get("metadata") or {}
        if found := pod_security.violations(levels[landing], spec, template.get("annotations")):
            refused[f"{_id(release, obj)} in {landing} ({levels[landing]})"] = found
    assert pods > 10, "the charts' workloads were found"
    assert refused == {}


def test_the_pod_security_evaluator_refuses_what_admission_would():
    good = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "c", "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}],
        "volumes": [{"name": "v", "emptyDir": {}}],
    }
    assert pod_security.violations("restricted", good) == []
    cases = {
        "restricted": [
            ("securityContext", {"runAsNonRoot": True}),  # no seccomp profile
            ("volumes", [{"name": "h", "hostPath": {"path": "/"}}]),
            ("containers", [{"name": "c", "securityContext": {"allowPrivilegeEscalation": False}}]),  # drops nothing
        ],
        "baseline": [("hostNetwork", True), ("containers", [{"name": "c", "securityContext": {"privileged": True}}])],
    }
    for level, changes in cases.items():
        for key, value in changes:
            assert pod_security.violations(level, {**good, key: value}), (level, key)
    assert pod_security.violations("baseline", {**good, "securityContext": {}}) == []
    assert pod_security.violations("privileged", {**good, "hostPID": True}) == []


def _strings(node: Any):
    """Every string in ``node``; a Secret's ``data`` values also base64-decoded."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value)
            if key == "data" and isinstance(value, dict):
                for encoded in value.values():
                    try:
                        yield base64.b64decode(str(encoded), validate=True).decode(errors="replace")
                    except (binascii.Error, ValueError):
                        pass
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def _leaves(node: Any, key: str = ""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, str(k))
    elif isinstance(node, list):
        for v in node:
            yield from _leaves(v, key)
    else:
        yield key, node


def shipped_credentials(chart_dir: Path) -> set[str]:
    """Credentials a chart (or a subchart) sets in its values.yaml: string values of keys that hold one."""
    found = set()
    for path in chart_dir.rglob("values.yaml"):
        for key, value in _leaves(yaml.safe_load(path.read_text())):
            if CREDENTIAL_KEY.search(key) and isinstance(value, str) and len(value) >= 6:
                found.add(value)
    return found


def _credentials_in(objects, credentials: set[str]) -> dict[str, set[str]]:
    pattern = re.compile(r"(?<![\w-])(" + "|".join(sorted(map(re.escape, credentials))) + r")(?![\w-])")
    hits: dict[str, set[str]] = {}
    for release, _, obj in objects:
        for text in _strings(obj):
            for match in pattern.findall(text):
                hits.setdefault(_id(release, obj), set()).add(match)
    return hits


def test_the_minio_chart_ships_its_console_user_as_a_default():
    # The fact the next test relies on, from the chart itself: users[0] is console/console123.
    if charts.is_empty():
        pytest.skip(f"the chart cache {charts.cache_dir()} is empty: {charts.FILL_HINT}")
    from components import versions

    assert "console123" in shipped_credentials(charts.chart_path(versions.MINIO))


@pytest.mark.parametrize("stack", STACKS)
def test_no_chart_object_carries_a_default_credential(rendered, expanded, stack):
    expansions = expanded(stack)
    shipped = set().union(
        *(shipped_credentials(charts.chart_path(charts.release_chart(r))) for r in helm_releases(rendered(stack)).values())
    )
    assert _credentials_in(_objects(expansions), shipped | KNOWN_DEFAULT_CREDENTIALS) == {}


def test_the_credential_search_finds_a_default_user():
    objects = [("x", "ns", {"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": base64.b64encode(b"user=console123").decode()}})]
    objects += [("x", "ns", {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"s": "echo console123 >> $TMP"}})]
    assert _credentials_in(objects, {"console123"}) == {"x: Secret/s": {"console123"}, "x: ConfigMap/c": {"console123"}}
    assert (
        _credentials_in([("x", "ns", {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"s": "console1234"}})], {"console123"}) == {}
    )


def test_the_minio_bucket_job_runs_restricted_as_the_values_ask(expanded):
    # ObjectStore's values once set makeBucketJob.securityContext's uid/gid, which minio 5.4.0 reads nowhere:
    # the job ran as the image's user. The pod and container contexts now come from the keys the chart reads.
    (job,) = [o for o in expanded("dev")["object-store"].objects if o["kind"] == "Job"]
    spec = pod_security.pod_spec(job)
    assert spec is not None
    assert spec["securityContext"]["runAsUser"] >= 10000  # no user of the node (checkov CKV_K8S_40)
    assert pod_security.violations("restricted", spec) == []
    assert all(c["securityContext"]["readOnlyRootFilesystem"] for c in spec["containers"])


def _grafana_pod(expanded, stack: str) -> dict[str, Any]:
    (deployment,) = [
        o for o in expanded(stack)["observability"].objects if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("-grafana")
    ]
    spec = pod_security.pod_spec(deployment)
    assert spec is not None
    return spec


@pytest.mark.parametrize("stack", STACKS)
def test_grafana_reads_its_generated_admin_secret_from_files_only(rendered, expanded, stack):
    spec = _grafana_pod(expanded, stack)
    admin = {r.inputs["metadata"]["name"] for r in rendered(stack).of_type("kubernetes:core/v1:Secret") if "grafana-admin" in r.name}
    (volume,) = [v for v in spec["volumes"] if v.get("secret", {}).get("secretName") in admin]
    env = {c["name"]: {e["name"]: e for e in c.get("env", [])} for c in spec["containers"]}
    assert not [(c, n) for c, vs in env.items() for n, e in vs.items() if "secretKeyRef" in e.get("valueFrom", {})]
    file_vars = {
        "grafana": ("GF_SECURITY_ADMIN_USER__FILE", "GF_SECURITY_ADMIN_PASSWORD__FILE"),
        "grafana-sc-dashboard": ("REQ_USERNAME_FILE", "REQ_PASSWORD_FILE"),
        "grafana-sc-datasources": ("REQ_USERNAME_FILE", "REQ_PASSWORD_FILE"),
    }
    for container in spec["containers"]:
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
        paths = [env[container["name"]][var]["value"] for var in file_vars[container["name"]]]
        assert paths == [f"{mount['mountPath']}/admin-user", f"{mount['mountPath']}/admin-password"], container["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_grafana_sidecars_are_bound_to_a_role_that_reads_no_secret(rendered, expanded, stack):
    (binding,) = [
        o for o in expanded(stack)["observability"].objects if o["kind"] == "ClusterRoleBinding" and "grafana" in o["metadata"]["name"]
    ]
    roles = {
        r.inputs["metadata"]["name"]: r.inputs["rules"]
        for r in rendered(stack).of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
    }
    rules = roles[binding["roleRef"]["name"]]
    assert rules and all("secrets" not in rule["resources"] for rule in rules)
    sidecars = [c for c in _grafana_pod(expanded, stack)["containers"] if "-sc-" in c["name"]]
    assert len(sidecars) == 2
    assert all({"name": "RESOURCE", "value": "configmap"} in c["env"] for c in sidecars), "a sidecar watches Secrets"
