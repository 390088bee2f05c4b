"""Re-create ``upstream/``: the upstream contracts the tests check against, at the pinned versions.

``upstream/crds/`` holds the CRD of every custom resource kind the program creates (and the few the
schema-check tests use); ``upstream/charts/<chart>-<version>/`` holds each pinned chart's
``values.yaml``, its ``values.schema.json`` where the chart has one, and the ``values.yaml`` of the
subcharts whose values the stacks set. Versions come from ``components/versions.py``; the table
below says where each file comes from, and ``upstream/README.md`` is generated from it.

    python tools/refresh_upstream.py --from ../shared      # from unpacked charts and CRD copies
    python tools/refresh_upstream.py                       # from upstream: needs network

``--from DIR`` reads ``DIR/charts/src/<chart>-<version>/`` (charts unpacked, as ``tools/chart_cache.py``
seeds them), ``DIR/charts/<chart>-<version>.values.yaml`` for a chart without an unpacked copy, and
``DIR/schemas/crds/<file>`` for the CRDs that no pinned chart ships. Without ``--from`` the charts are
pulled with the Helm SDK (helm_python) from their repositories and those CRDs are downloaded from
GitHub at the release tag.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from components import versions  # noqa: E402
from components.versions import Chart  # noqa: E402

DEFAULT_OUT = ROOT / "upstream"
INSTANCE_TYPES = "instance-types.json"


@dataclass(frozen=True)
class ChartSource:
    chart: Chart
    repo: str
    """The GitHub repository and folder the chart is built from (for the README)."""
    ref: str
    """The release tag (``{version}`` is the pinned chart version)."""
    subcharts: tuple[str, ...] = ()
    """Subcharts whose values.yaml is vendored (their values are set by the stacks)."""

    @property
    def key(self) -> str:
        return f"{self.chart.name}-{self.chart.version}"


@dataclass(frozen=True)
class CrdSource:
    file: str
    """File name under ``upstream/crds/``."""
    path: str
    """Path inside the chart (``chart`` set) or inside the GitHub repository at ``tag``."""
    chart: Chart | None = None
    document: str | None = None
    """``metadata.name`` of the CRD inside a multi-document file (Gateway API's bundle)."""
    template: bool = False
    """``path`` is one of the chart's templates (KEDA ships its CRDs so): vendored as the chart
    renders it with its default values, the way ``helm install`` creates it."""
    repo: str = ""
    tag: str = ""


CHARTS = [
    ChartSource(versions.GPU_OPERATOR, "NVIDIA/gpu-operator deployments/gpu-operator", "{version}", ("node-feature-discovery",)),
    ChartSource(
        versions.CLUSTER_AUTOSCALER,
        "kubernetes/autoscaler cluster-autoscaler/charts/cluster-autoscaler",
        "cluster-autoscaler-chart-{version}",
    ),
    ChartSource(versions.MINIO, "minio/minio helm/minio", "commit 'update helm release v{version}' (no chart tag)"),
    ChartSource(versions.MLFLOW, "community-charts/helm-charts charts/mlflow", "mlflow-{version}"),
    ChartSource(versions.KUBERAY_OPERATOR, "ray-project/kuberay helm-chart/kuberay-operator", "v{version}"),
    ChartSource(versions.CERT_MANAGER, "cert-manager/cert-manager deploy/charts/cert-manager", "{version}"),
    ChartSource(versions.KSERVE_CRD, "kserve/kserve charts/kserve-crd", "{version}"),
    ChartSource(versions.KSERVE_RESOURCES, "kserve/kserve charts/kserve-resources", "{version}"),
    ChartSource(versions.KSERVE_RUNTIME_CONFIGS, "kserve/kserve charts/kserve-runtime-configs", "{version}"),
    ChartSource(
        versions.KUBE_PROMETHEUS_STACK,
        "prometheus-community/helm-charts charts/kube-prometheus-stack",
        "kube-prometheus-stack-{version}",
        ("grafana", "kube-state-metrics", "prometheus-node-exporter"),
    ),
    ChartSource(versions.ENVOY_GATEWAY, "envoyproxy/gateway charts/gateway-helm", "{version}"),
    ChartSource(versions.METRICS_SERVER, "kubernetes-sigs/metrics-server charts/metrics-server", "metrics-server-helm-chart-{version}"),
    ChartSource(versions.KEDA, "kedacore/charts keda", "v{version}"),
]

_KPS_CRDS = "charts/crds/crds"
CRDS = [
    CrdSource("ray.io_rayclusters.yaml", "crds/ray.io_rayclusters.yaml", versions.KUBERAY_OPERATOR),
    CrdSource("serving.kserve.io_inferenceservices.yaml", "templates/serving.kserve.io_inferenceservices.yaml", versions.KSERVE_CRD),
    # LocalModelCache and LocalModelNodeGroup are in no chart of KServe v0.20.0: from the repository.
    CrdSource(
        "serving.kserve.io_localmodelcaches.yaml",
        "config/crd/full/serving.kserve.io_localmodelcaches.yaml",
        repo="kserve/kserve",
        tag=versions.KSERVE_CRD.version,
    ),
    CrdSource(
        "serving.kserve.io_localmodelnodegroups.yaml",
        "config/crd/full/serving.kserve.io_localmodelnodegroups.yaml",
        repo="kserve/kserve",
        tag=versions.KSERVE_CRD.version,
    ),
    CrdSource("monitoring.coreos.com_podmonitors.yaml", f"{_KPS_CRDS}/crd-podmonitors.yaml", versions.KUBE_PROMETHEUS_STACK),
    CrdSource("monitoring.coreos.com_prometheusrules.yaml", f"{_KPS_CRDS}/crd-prometheusrules.yaml", versions.KUBE_PROMETHEUS_STACK),
    CrdSource("monitoring.coreos.com_servicemonitors.yaml", f"{_KPS_CRDS}/crd-servicemonitors.yaml", versions.KUBE_PROMETHEUS_STACK),
    CrdSource("nvidia.com_clusterpolicies.yaml", "crds/nvidia.com_clusterpolicies.yaml", versions.GPU_OPERATOR),
    CrdSource(
        "gateway.networking.k8s.io_gatewayclasses.yaml",
        "crds/gatewayapi-crds.yaml",
        versions.ENVOY_GATEWAY,
        document="gatewayclasses.gateway.networking.k8s.io",
    ),
    CrdSource("gateway.envoyproxy.io_envoyproxies.yaml", "crds/generated/gateway.envoyproxy.io_envoyproxies.yaml", versions.ENVOY_GATEWAY),
    # KServe creates the ScaledObjects of the models that scale on a serving signal.
    CrdSource("keda.sh_scaledobjects.yaml", "templates/crds/crd-scaledobjects.yaml", versions.KEDA, template=True),
]


# --- where the charts come from ------------------------------------------------------------


class LocalCharts:
    """Unpacked charts under ``DIR/charts/src`` and loose CRD copies under ``DIR/schemas/crds``."""

    def __init__(self, source: Path):
        self.source = source

    def chart_dir(self, chart: Chart) -> Path | None:
        path = self.source / "charts" / "src" / f"{chart.name}-{chart.version}"
        return path if path.is_dir() else None

    def loose_values(self, chart: Chart, file: str) -> Path:
        """A chart without an unpacked copy: ``DIR/charts/<chart>-<version>.values.yaml`` (or .values.schema.json)."""
        return self.source / "charts" / f"{chart.name}-{chart.version}.{file}"

    def crd(self, crd: CrdSource) -> bytes:
        return (self.source / "schemas" / "crds" / crd.file).read_bytes()


class RemoteCharts:
    """Charts pulled with the Helm SDK; CRDs outside the charts from GitHub at the release tag."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self._pulled: dict[str, Path] = {}

    def chart_dir(self, chart: Chart) -> Path | None:
        key = f"{chart.name}-{chart.version}"
        if key not in self._pulled:
            self._pulled[key] = pull_chart(chart, self.workdir / key)
        return self._pulled[key]

    def loose_values(self, chart: Chart, file: str) -> Path:
        raise FileNotFoundError(f"{chart.name} {chart.version}: pulled chart has no {file.removeprefix('values.')}")

    def crd(self, crd: CrdSource) -> bytes:
        url = f"https://raw.githubusercontent.com/{crd.repo}/{crd.tag}/{crd.path}"
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (fixed https URL)
            return response.read()


def pull_chart(chart: Chart, into: Path) -> Path:
    """Pull ``chart`` at its pinned version with the Helm SDK and unpack it (subcharts too) under ``into``."""
    import helm_python

    into.mkdir(parents=True, exist_ok=True)
    if chart.repo.startswith("oci://"):
        result = helm_python.pull(f"{chart.repo.rstrip('/')}/{chart.name}", version=chart.version, destination=into)
    else:
        result = helm_python.pull(chart.name, repo_url=chart.repo, version=chart.version, destination=into)
    archive = Path(result.get("output") or next(into.glob("*.tgz")))
    if not archive.is_absolute():
        archive = into / archive
    helm_python.expand(into, archive)
    unpacked = into / chart.name
    _expand_subcharts(unpacked)
    return unpacked


def _expand_subcharts(chart_dir: Path) -> None:
    import helm_python

    charts = chart_dir / "charts"
    for archive in sorted(charts.glob("*.tgz")) if charts.is_dir() else []:
        helm_python.expand(charts, archive)
        archive.unlink()


# --- writing ---------------------------------------------------------------------------------


def refresh(out: Path, source: LocalCharts | RemoteCharts) -> list[Path]:
    """Write every vendored file under ``out`` (emptied first); return the files written."""
    # instance-types.json has its own tool (tools/refresh_instance_types.py, from other sources): kept.
    kept = (out / INSTANCE_TYPES).read_bytes() if (out / INSTANCE_TYPES).is_file() else None
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    written = []
    if kept is not None:
        (out / INSTANCE_TYPES).write_bytes(kept)
    for entry in CHARTS:
        written += _write_chart(out / "charts" / entry.key, entry, source)
    for crd in CRDS:
        target = out / "crds" / crd.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_crd_bytes(crd, source))
        written.append(target)
    readme = out / "README.md"
    readme.write_text(readme_text(out))
    written.append(readme)
    return written


def _write_chart(target: Path, entry: ChartSource, source: LocalCharts | RemoteCharts) -> list[Path]:
    chart_dir = source.chart_dir(entry.chart)
    files = {"values.yaml": True, "values.schema.json": False}  # name -> required
    files |= {f"charts/{sub}/values.yaml": True for sub in entry.subcharts}
    written = []
    for name, required in files.items():
        origin = chart_dir / name if chart_dir else None
        if origin is None and "/" not in name:
            origin = source.loose_values(entry.chart, name)
        if origin is None or not origin.is_file():
            if required:
                raise FileNotFoundError(f"{entry.key}: {name} not found (looked at {origin or chart_dir})")
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin, target / name)
        written.append(target / name)
    return written


def _crd_bytes(crd: CrdSource, source: LocalCharts | RemoteCharts) -> bytes:
    if crd.chart is None:
        return source.crd(crd)
    chart_dir = source.chart_dir(crd.chart)
    if chart_dir is None:
        raise FileNotFoundError(f"{crd.file}: chart {crd.chart.name}-{crd.chart.version} not found")
    data = _rendered_template(chart_dir, crd) if crd.template else (chart_dir / crd.path).read_text()
    if crd.document:
        data = crd_document(data, crd.document)
    return data.encode()


def _rendered_template(chart_dir: Path, crd: CrdSource) -> str:
    """``crd.path`` as the chart renders it with its default values (Helm SDK, no cluster)."""
    import helm_python

    assert crd.chart is not None
    with helm_python.Chart.load(chart_dir) as chart:
        rendered = chart.render(values={}, name=crd.chart.name, namespace=crd.chart.name, is_install=True)
    text = rendered[f"{crd.chart.name}/{crd.path}"].strip("\n")
    return text + "\n"


def crd_document(bundle: str, name: str) -> str:
    """The CRD named ``name`` out of a multi-document YAML file, verbatim (its leading comment dropped)."""
    for doc in re.split(r"^---\s*$\n?", bundle, flags=re.M):
        if re.search(rf"^kind: CustomResourceDefinition$.*?^  name: {re.escape(name)}$", doc, flags=re.M | re.S):
            doc = re.sub(r"\A(#.*\n)+", "", doc.lstrip("\n"))
            return doc if doc.endswith("\n") else doc + "\n"
    raise KeyError(f"no CustomResourceDefinition {name} in the bundle")


def readme_text(out: Path) -> str:
    lines = [
        "# Upstream contracts",
        "",
        "Files published by the projects whose charts and custom resources this program uses, at the",
        "versions pinned in `components/versions.py`. The tests check what the program renders against",
        "them: custom resources against `crds/` (tests/schemas.py), Helm values against the keys of",
        "`charts/<chart>-<version>/values.yaml` and the subcharts' values below it (tests/upstream.py).",
        "Generated by `python tools/refresh_upstream.py` (from upstream, with network) or",
        "`python tools/refresh_upstream.py --from ../shared` (from local copies); do not edit by hand.",
        "tests/test_upstream.py checks the vendored chart values against the chart cache.",
        "",
        "## Chart values",
        "",
        "| files | chart (repository) | version | built from (GitHub repository and path) | release |",
        "|---|---|---|---|---|",
    ]
    for entry in CHARTS:
        folder = out / "charts" / entry.key
        files = sorted(str(f.relative_to(folder)) for f in folder.rglob("*") if f.is_file())
        lines.append(
            f"| charts/{entry.key}/: {', '.join(files)} | {entry.chart.name} ({entry.chart.repo}) | {entry.chart.version} "
            f"| github.com/{entry.repo} | {entry.ref.format(version=entry.chart.version)} |"
        )
    lines += ["", "## Custom resource definitions", "", "| file | source | version |", "|---|---|---|"]
    for crd in CRDS:
        if crd.chart is not None:
            where = f"chart {crd.chart.name}, `{crd.path}`" + (f" (document `{crd.document}`)" if crd.document else "")
            where += " (rendered with the chart's default values)" if crd.template else ""
            lines.append(f"| crds/{crd.file} | {where} | {crd.chart.version} |")
        else:
            lines.append(f"| crds/{crd.file} | github.com/{crd.repo} `{crd.path}` | tag {crd.tag} |")
    lines += [
        "",
        "## EC2 instance facts",
        "",
        f"`{INSTANCE_TYPES}`: vCPU, memory and GPUs per instance type from github.com/kubernetes/autoscaler",
        "`cluster-autoscaler/cloudprovider/aws/ec2_instance_types.go` (tag cluster-autoscaler-1.35.0, commit",
        "25fc5c74f6b0f2382b65f76edc08e15ac9f41da7), ENIs and IPv4 addresses per ENI from github.com/awslabs/amazon-eks-ami",
        "`nodeadm/internal/kubelet/instance-info.jsonl` (commit 81fec2e895854f599974fe4d3d72f61c0a9aaffa); only the",
        "types of the GPU catalog and the system / CPU node groups. Made by `python tools/refresh_instance_types.py`",
        "(kept as is by this tool); the sources and commits are also in the file.",
    ]
    lines += ["", "All are Apache-2.0 licensed by their projects.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])  # no docstring under python -OO
    parser.add_argument("--from", dest="source", type=Path, help="local folder with charts/src and schemas/crds (e.g. ../shared)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to (re)create (default: upstream/)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        source = LocalCharts(args.source) if args.source else RemoteCharts(Path(tmp))
        written = refresh(args.out, source)
    print(f"wrote {len(written)} files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
