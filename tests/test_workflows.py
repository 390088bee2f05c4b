"""The GitHub workflows are valid by GitHub's workflow schema and do what the lifecycle needs:
pull requests get tests, an offline render with its diff and a `pulumi preview` per stack; main
gets `pulumi up` per environment, prod last and behind its environment's approval."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
PULUMI_ACTION = "pulumi/actions@"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    return workflow.get("on") or workflow[True]  # YAML 1.1 reads a bare `on` as true


def steps_using(job: dict, action: str) -> list[dict]:
    return [s for s in job.get("steps", []) if s.get("uses", "").startswith(action)]


def runs(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in job.get("steps", []))


def check_jsonschema() -> str | None:
    found = shutil.which("check-jsonschema") or shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if found is None and os.environ.get("CI") == "true":
        pytest.fail("check-jsonschema is not installed (requirements-dev.txt)")
    return found


def test_workflows_validate_against_the_github_workflow_schema():
    tool = check_jsonschema()
    if tool is None:
        pytest.skip("check-jsonschema not installed (pip install check-jsonschema)")
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert len(files) == 3
    result = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path):
    tool = check_jsonschema()
    if tool is None:
        pytest.skip("check-jsonschema not installed (pip install check-jsonschema)")
    broken = tmp_path / "broken.yml"
    broken.write_text("on: pull_request\njobs:\n  test:\n    runs_on: ubuntu-24.04\n    steps:\n      - run: true\n")
    result = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", str(broken)], capture_output=True, text=True)
    assert result.returncode == 1 and "runs_on" in result.stdout


def test_every_action_is_pinned_to_a_commit_with_its_release_in_a_comment():
    for path in WORKFLOWS.glob("*.yml"):
        for line in path.read_text().splitlines():
            ref = line.strip().removeprefix("- ").removeprefix("uses:").strip() if "uses:" in line else None
            if ref and not ref.startswith("./"):
                assert PINNED.match(ref), f"{path.name}: {line.strip()}"


def test_pull_requests_run_tests_and_the_offline_render_without_cloud_credentials():
    workflow = load("pull-request.yml")
    assert "pull_request" in triggers(workflow)
    assert workflow["permissions"] == {"contents": "read"}
    offline = workflow["jobs"]["offline"]
    text = yaml.safe_dump(offline)
    assert "secrets." not in text and "configure-aws-credentials" not in text
    assert "id-token" not in offline.get("permissions", {})
    assert "./.ci/run" in runs(offline)
    assert runs(offline).count("python -m offline.render") == 2  # this branch and the base branch
    assert "mandatory(run(POLICIES, render(" in runs(offline)  # the policy pack on every stack, offline
    assert any(
        s.get("with", {}).get("ref") == "${{ github.event.pull_request.base.sha }}" for s in steps_using(offline, "actions/checkout@")
    )
    assert "diff -ruN" in runs(offline)
    assert steps_using(offline, "actions/upload-artifact@")[0]["with"]["path"] == "render/"
    [comment] = steps_using(offline, "actions/github-script@")
    assert "manifests.diff" in comment["with"]["script"]


def test_pull_requests_preview_every_stack_with_the_pulumi_action_and_comment():
    workflow = load("pull-request.yml")
    preview = workflow["jobs"]["preview"]
    assert preview["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    assert "Pulumi.*.yaml" in runs(workflow["jobs"]["stacks"])
    [pulumi] = steps_using(preview, PULUMI_ACTION)
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"] == "policy"
    assert (ROOT / "policy" / "PulumiPolicy.yaml").exists()
    assert preview["permissions"]["pull-requests"] == "write"


def test_main_runs_up_for_every_environment_and_prod_last_in_its_protected_environment():
    deploy = load("deploy.yml")
    assert triggers(deploy)["push"]["branches"] == ["main"]
    jobs = deploy["jobs"]
    assert "grep -vx prod" in runs(jobs["stacks"])
    assert jobs["up"]["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.before_prod) }}"
    assert jobs["up"]["uses"] == jobs["up-prod"]["uses"] == "./.github/workflows/pulumi-up.yml"
    assert jobs["up-prod"]["with"] == {"stack": "prod"}
    assert jobs["up-prod"]["needs"] == "up"
    assert deploy["concurrency"]["cancel-in-progress"] is False

    called = load("pulumi-up.yml")
    assert "workflow_call" in triggers(called)
    [job] = called["jobs"].values()
    # The job runs in the GitHub environment named after the stack: prod's required reviewers
    # (Settings > Environments > prod) make it wait for a manual approval.
    assert job["environment"] == "${{ inputs.stack }}"
    [pulumi] = steps_using(job, PULUMI_ACTION)
    assert pulumi["with"]["command"] == "up"
    assert pulumi["with"]["suppress-outputs"] is True


def test_every_stack_file_is_picked_up_by_the_workflows():
    stacks = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
    assert {"dev", "prod"} <= set(stacks)
    listing = subprocess.run(
        ["bash", "-c", r"ls Pulumi.*.yaml | sed -E 's/^Pulumi\.(.*)\.yaml$/\1/'"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert listing.stdout.split() == stacks
