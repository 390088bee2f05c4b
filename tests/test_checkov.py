"""checkov's Kubernetes checks on the rendered manifests of both stacks: nothing fails, and every
skipped check is skipped by a ``checkov.io/skip`` annotation that gives its reason.

The chart objects (build/<stack>/charts, the Helm releases expanded with their pinned charts) are scanned
in the same run, so graph checks see the program's NetworkPolicies next to the charts' pods; an
annotation cannot carry a skip on them, so their findings are listed in tests/checkov_chart_findings.py
(REVIEWED with a reason, or OPEN) and must match that list exactly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from offline import charts
from offline.render import expand, write, write_charts
from tests import checkov_chart_findings
from tests.local_servers import require

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.integration  # checkov, from its own virtualenv


def _checkov() -> str | None:
    # CI installs checkov in its own virtualenv: its pins would fight the project's.
    local = ROOT / ".venv-checkov" / "bin" / "checkov"
    return str(local) if local.exists() else shutil.which("checkov")


@pytest.fixture(scope="module")
def scans(rendered, tmp_path_factory):
    binary = _checkov()
    require(binary is not None, "checkov (.ci/run installs it in .venv-checkov)")
    results = {}
    for stack in ("dev", "prod"):
        out = tmp_path_factory.mktemp(stack)
        write(rendered(stack), out)
        if not charts.is_empty():
            write_charts(expand(rendered(stack)), out)
        scanned = out / "scanned"  # the program's manifests and the charts' objects, nothing else
        scanned.mkdir()
        for folder in ("manifests", "charts"):
            if (out / folder).is_dir():
                shutil.copytree(out / folder, scanned / folder)
        command = [binary, "-d", str(scanned), "--framework", "kubernetes", "-o", "json", "--skip-download"]
        run = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, "BC_SKIP_MAPPING": "TRUE"})
        report = json.loads(run.stdout)
        report = report[0] if isinstance(report, list) else report
        objects = [o for f in (out / "manifests").glob("*.yaml") for o in yaml.safe_load_all(f.read_text()) if o]
        results[stack] = (report, objects)
    return results


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_check_fails(scans, stack):
    report, _ = scans[stack]
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"] if "/charts/" not in c["file_path"]]
    assert failed == []
    assert report["summary"]["passed"] > 50, "checkov read the manifests"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_skip_carries_its_reason_on_the_object(scans, stack):
    report, objects = scans[stack]
    annotations = {
        f"{o['kind']}.{o['metadata'].get('namespace', 'default')}.{o['metadata']['name']}": o["metadata"].get("annotations", {})
        for o in objects
    }
    for check in report["results"]["skipped_checks"]:
        skips = [v for k, v in annotations[check["resource"]].items() if k.startswith("checkov.io/skip")]
        reasons = [v.split("=", 1)[1] for v in skips if v.split("=", 1)[0] == check["check_id"]]
        assert reasons and len(reasons[0]) > 20, f"{check['resource']} skips {check['check_id']} without a reason"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_chart_objects_fail_only_the_listed_checks(scans, stack):
    if charts.is_empty():
        pytest.skip(f"the chart cache {charts.cache_dir()} is empty: {charts.FILL_HINT}")
    report, _ = scans[stack]
    found = {(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"] if "/charts/" in c["file_path"]}
    assert sum(1 for c in report["results"]["passed_checks"] if "/charts/" in c["file_path"]) > 500, "checkov read the charts"
    listed = set(checkov_chart_findings.REVIEWED) | {k for k, (_, stacks) in checkov_chart_findings.OPEN.items() if stack in stacks}
    assert sorted(found - listed) == [], "new findings on chart objects: fix the component's values, or review them"
    assert sorted(listed - found - set(checkov_chart_findings.REVIEWED)) == [], "fixed: drop these from OPEN"
    assert all(len(reason) > 40 for reason in checkov_chart_findings.REVIEWED.values())
