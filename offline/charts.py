"""The chart cache: pinned charts unpacked as ``<chart>-<version>/`` for offline rendering with the Helm SDK.

The directory is ``$AI_PLATFORM_CHART_CACHE`` or ``.cache/charts`` in the repository (git-ignored).
Fill it with ``python tools/chart_cache.py fill`` (pulls the pinned charts; needs network) or
``python tools/chart_cache.py seed --from ../shared/charts/src`` (copies unpacked charts).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.versions import Chart

ROOT = Path(__file__).resolve().parents[1]
ENV = "AI_PLATFORM_CHART_CACHE"
FILL_HINT = "fill it with `python tools/chart_cache.py fill` (network) or `python tools/chart_cache.py seed --from ../shared/charts/src`"


class ChartCacheMissError(FileNotFoundError):
    """A pinned chart is not in the chart cache."""


def cache_dir() -> Path:
    """Where the unpacked charts are: ``$AI_PLATFORM_CHART_CACHE``, else ``.cache/charts`` in the repository."""
    configured = os.environ.get(ENV)
    return Path(configured).expanduser().resolve() if configured else ROOT / ".cache" / "charts"


def is_empty() -> bool:
    """True when the cache holds no chart at all."""
    directory = cache_dir()
    return not directory.is_dir() or not any(p.joinpath("Chart.yaml").is_file() for p in directory.iterdir())


def missing_tools() -> list[str]:
    """The packages chart expansion needs that are not installed (they come with requirements-dev.txt,
    not with the program's requirements.txt)."""
    import importlib.util

    return [name for name in ("helm_python", "kubernetes_validate") if importlib.util.find_spec(name) is None]


def missing(releases: dict[str, dict[str, Any]]) -> list[str]:
    """``<chart>-<version>`` of every release whose chart the cache lacks."""
    wanted = {f"{c.name}-{c.version}" for c in (release_chart(r) for r in releases.values())}
    return sorted(name for name in wanted if not (cache_dir() / name / "Chart.yaml").is_file())


def chart_path(chart: Chart) -> Path:
    """The unpacked ``chart`` at its pinned version; :class:`ChartCacheMissError` says how to fill the cache."""
    path = cache_dir() / f"{chart.name}-{chart.version}"
    if (path / "Chart.yaml").is_file():
        return path
    state = "is empty" if is_empty() else f"has no {path.name}"
    raise ChartCacheMissError(f"the chart cache {cache_dir()} {state} (${ENV} sets its place): {FILL_HINT}")


def load(chart: Chart):
    """The pinned ``chart`` loaded with the Helm SDK (a ``helm_python.Chart``; close it when done)."""
    import helm_python

    return helm_python.Chart.load(chart_path(chart))


# --- expansion: every Helm release rendered with its real chart ------------------------------

# Helm splits a rendered template on "---" the same way (releaseutil.SplitManifests: `(?:^|\s*\n)---\s*`),
# so "---# comment" (cert-manager's rbac.yaml) starts a new document.
_SPLIT = re.compile(r"(?:^|\n)---")  # the same parts, up to whitespace; Helm's pattern is slow in Python's re
# Kubernetes >= 1.24 enables no new beta API by default (KEP-3136), and no cluster of ours enables alpha
# APIs: the built-in API versions a stack's cluster serves are the GA ones of its Kubernetes version.
_GA = re.compile(r"^v\d+$")
_NOT_RESOURCES = {"DeleteOptions", "WatchEvent", "Status", "APIGroup", "APIGroupList", "APIResourceList", "APIVersions"}


# Cluster-scoped built-in kinds (`kubectl api-resources --namespaced=false` on Kubernetes 1.35, GA and beta
# groups); every other built-in kind is namespaced. A custom kind's scope is its CRD's spec.scope.
CLUSTER_SCOPED = {
    ("", "Namespace"), ("", "Node"), ("", "PersistentVolume"), ("", "ComponentStatus"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"), ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"), ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"), ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"), ("apiregistration.k8s.io", "APIService"),
    ("certificates.k8s.io", "CertificateSigningRequest"), ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"), ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("networking.k8s.io", "IngressClass"), ("networking.k8s.io", "IPAddress"), ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"), ("rbac.authorization.k8s.io", "ClusterRole"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("resource.k8s.io", "DeviceClass"), ("resource.k8s.io", "ResourceSlice"), ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "CSIDriver"), ("storage.k8s.io", "CSINode"), ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "VolumeAttachment"), ("storage.k8s.io", "VolumeAttributesClass"),
    ("storagemigration.k8s.io", "StorageVersionMigration"),
}  # fmt: skip


def _group_kind(obj: dict[str, Any]) -> tuple[str, str]:
    return str(obj.get("apiVersion", "")).rpartition("/")[0], str(obj.get("kind", ""))


@dataclass
class Expansion:
    """The objects ``helm install`` would create for one release: rendered templates (hooks included,
    test hooks not: ``helm test`` runs those) and the chart's ``crds/`` files (Helm applies them first)."""

    release: str
    chart: str  # <name>-<version>
    namespace: str
    objects: list[dict[str, Any]] = field(default_factory=list)

    def crds(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if o.get("kind") == "CustomResourceDefinition"]


def builtin_api_versions(kubernetes_version: str) -> list[str]:
    """``group/version`` and ``group/version/Kind`` of every GA built-in kind of ``kubernetes_version``
    (from kubernetes-validate's schemas of that version, which the tests validate against too)."""
    import kubernetes_validate

    folder = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{kubernetes_version}.0-local-strict"
    definitions = json.loads((folder / "_definitions.json").read_text())["$defs"]
    found = set()
    for definition in definitions.values():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            kind, version = gvk["kind"], gvk["version"]
            if _GA.match(version) and kind not in _NOT_RESOURCES and not kind.endswith("List"):
                group_version = f"{gvk['group']}/{version}".lstrip("/")
                found |= {group_version, f"{group_version}/{kind}"}
    return sorted(found)


def crd_api_versions(crds: list[dict[str, Any]]) -> list[str]:
    """``group/version`` and ``group/version/Kind`` that ``crds`` add to the cluster (served versions)."""
    found = set()
    for crd in crds:
        spec = crd.get("spec", {})
        for version in spec.get("versions", []):
            if version.get("served", True):
                found |= {f"{spec['group']}/{version['name']}", f"{spec['group']}/{version['name']}/{spec['names']['kind']}"}
    return sorted(found)


def split_manifest(text: str) -> list[dict[str, Any]]:
    """The objects of one rendered template, split as Helm splits them and read with Helm's YAML reader
    (sigs.k8s.io/yaml, as the API machinery reads them; ~50x faster than PyYAML on the big CRDs);
    empty documents dropped."""
    import helm_python

    return [doc for part in _SPLIT.split(text) if part.strip() for doc in [helm_python.values_from_yaml(part)] if doc]


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> list[dict[str, Any]]:
    return split_manifest(text)


@functools.cache
def _crd_files(path: Path) -> tuple[tuple[str, str], ...]:
    """(file name, text) of the ``crds/`` files of the chart at ``path`` and its subcharts (not values-dependent)."""
    import helm_python

    with helm_python.Chart.load(path) as loaded:
        return tuple(sorted((c["filename"], c["data"]) for c in loaded.crds))


@functools.cache
def _asks_api_versions(path: Path) -> bool:
    """Whether a template of the chart at ``path`` (or a subchart) reads ``.Capabilities.APIVersions``."""
    return any("APIVersions" in p.read_text(errors="replace") for p in path.rglob("*") if p.is_file() and "templates" in p.parts)


def expand_release(name: str, release: dict[str, Any], *, kubernetes_version: str, api_versions: list[str]) -> Expansion:
    """Render ``release`` (as :func:`offline.render.helm_releases` records it) with its pinned chart from the
    cache, for ``kubernetes_version`` and a cluster serving ``api_versions`` (Helm adds its own defaults)."""
    import helm_python
    from helm_python import _native

    chart = release_chart(release)
    options = {
        "name": name,
        "namespace": release["namespace"],
        "is_install": True,
        "kube_version": f"v{kubernetes_version}.0",  # the Python wrapper has no option for these two
        "api_versions": api_versions,
    }
    # Rendering mutates the loaded chart (values coalesced into it): load it afresh every time.
    with helm_python.Chart.load(chart_path(chart)) as loaded:
        rendered = json.loads(_native.call_string("helm_render", loaded._raw(), json.dumps(release["values"] or {}), json.dumps(options)))
    expansion = Expansion(name, f"{chart.name}-{chart.version}", release["namespace"])
    # `helm install` applies the files under crds/ before the templates; they are not templated.
    for _filename, text in _crd_files(chart_path(chart)):
        expansion.objects += copy.deepcopy(_parsed(text))
    for template in sorted(rendered):
        if not template.endswith("NOTES.txt"):  # printed after install, not applied
            for obj in split_manifest(rendered[template]):
                hooks = ((obj.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook", "")
                if "test" not in hooks.replace(" ", "").split(","):
                    expansion.objects.append(obj)
    return expansion


def expand_releases(releases: dict[str, dict[str, Any]], kubernetes_version: str) -> dict[str, Expansion]:
    """Every release expanded for a cluster that serves the built-in GA APIs plus every CRD the releases
    install (a chart may ask ``.Capabilities.APIVersions`` for another chart's CRD): render until that
    set of API versions stops growing (twice when some CRDs come from templates)."""
    builtin = builtin_api_versions(kubernetes_version)
    served: list[str] = []
    expansions: dict[str, Expansion] = {}
    pending = sorted(releases)
    while pending:
        for name in pending:
            expansions[name] = expand_release(name, releases[name], kubernetes_version=kubernetes_version, api_versions=builtin + served)
        now = crd_api_versions([crd for e in expansions.values() for crd in e.crds()])
        if set(now) <= set(served):
            break
        served = sorted(set(served) | set(now))
        # Only a chart that asks .Capabilities.APIVersions can render differently with more API versions.
        pending = [n for n in sorted(releases) if _asks_api_versions(chart_path(release_chart(releases[n])))]
    # Helm creates a namespaced object a template leaves without a namespace in the release's namespace.
    crds = [crd for e in expansions.values() for crd in e.crds()]
    cluster_scoped = CLUSTER_SCOPED | {
        (c["spec"]["group"], c["spec"]["names"]["kind"]) for c in crds if c["spec"].get("scope") == "Cluster"
    }
    for expansion in expansions.values():
        for obj in expansion.objects:
            metadata = obj.setdefault("metadata", {})
            if _group_kind(obj) not in cluster_scoped and not metadata.get("namespace"):
                metadata["namespace"] = expansion.namespace
    return dict(sorted(expansions.items()))


def release_chart(release: dict[str, Any]) -> Chart:
    """The pinned chart of ``release`` (as :func:`offline.render.helm_releases` records it)."""
    return Chart(release["chart"], release["version"], release.get("repo") or "")
