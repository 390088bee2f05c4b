"""The GitHub workflows are valid by GitHub's workflow schema and do what the lifecycle needs:
pull requests get tests, an offline render with its diff and a `pulumi preview` per stack; main
gets `pulumi up` per environment, prod last and behind its environment's approval. They hold the
keys to prod, so zizmor (a static analyser for GitHub Actions) finds nothing in them: no template
injection into scripts, no persisted checkout credentials, no secrets inherited wholesale."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.local_servers import missing

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
PULUMI_ACTION = "pulumi/actions@"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
SELF_REPOSITORY = ("$/", "./")  # this repository at the running commit: nothing to pin
# An inline suppression names its rules and then says why, e.g. `# zizmor: ignore[rule] the reason`.
ZIZMOR_IGNORE = re.compile(r"#\s*zizmor:\s*ignore\[[^\]]*\](?P<reason>.*)$")


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    return workflow.get("on") or workflow[True]  # YAML 1.1 reads a bare `on` as true


def steps_using(job: dict, action: str) -> list[dict]:
    return [s for s in job.get("steps", []) if s.get("uses", "").startswith(action)]


def runs(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in job.get("steps", []))


def dev_tool(name: str) -> str:
    """A tool of requirements-dev.txt, from this venv first: skipped where it is missing, a failure in CI."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    return found or missing(f"{name} (requirements-dev.txt)")


def test_workflows_validate_against_the_github_workflow_schema():
    tool = dev_tool("check-jsonschema")
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert len(files) == 3
    result = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path):
    tool = dev_tool("check-jsonschema")
    broken = tmp_path / "broken.yml"
    broken.write_text("on: pull_request\njobs:\n  test:\n    runs_on: ubuntu-24.04\n    steps:\n      - run: true\n")
    result = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", str(broken)], capture_output=True, text=True)
    assert result.returncode == 1 and "runs_on" in result.stdout


def zizmor(*paths: Path, options: tuple[str, ...] = ()) -> list[dict]:
    """zizmor's unsuppressed findings (its JSON v1 output). Offline: its online audits would need the
    network and a GitHub token. ``--no-exit-codes`` leaves a non-zero exit to the tool failing."""
    command = [dev_tool("zizmor"), "--offline", "--no-progress", "--no-exit-codes", "--format", "json", *options, *map(str, paths)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [f for f in json.loads(result.stdout) if not f["ignored"]]


def where(finding: dict) -> str:
    """``rule file:line`` of a finding's primary location, for a readable assertion message."""
    [primary] = [loc for loc in finding["locations"] if loc["symbolic"]["kind"] == "Primary"]
    path = Path(primary["symbolic"]["key"]["Local"]["verbatim_path"]).name
    return f"{finding['ident']} {path}:{primary['concrete']['location']['start_point']['row'] + 1}"


def test_zizmor_finds_nothing_in_the_workflows():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert len(files) == 3
    assert [where(f) for f in zizmor(*files)] == []


def with_dispatch_input_in_a_script(workflow: dict) -> None:
    triggers(workflow)["workflow_dispatch"] = {"inputs": {"x": {"type": "string"}}}
    workflow["jobs"]["stacks"]["steps"].append({"run": 'echo "${{ github.event.inputs.x }}"'})


def with_credentials_persisted(workflow: dict) -> None:
    [checkout] = steps_using(workflow["jobs"]["stacks"], "actions/checkout@")
    del checkout["with"]["persist-credentials"]


def with_every_secret_inherited(workflow: dict) -> None:
    workflow["jobs"]["up-prod"]["secrets"] = "inherit"


@pytest.mark.parametrize(
    ("plant", "rule"),
    [
        (with_dispatch_input_in_a_script, "template-injection"),
        (with_credentials_persisted, "artipacked"),
        (with_every_secret_inherited, "secrets-inherit"),
    ],
)
def test_zizmor_catches_a_finding_planted_in_a_copy_of_the_deploy_workflow(tmp_path, plant, rule):
    workflow = load("deploy.yml")
    workflow["on"] = workflow.pop(True)  # as GitHub reads it, not YAML 1.1's boolean
    plant(workflow)
    copy = tmp_path / "deploy.yml"
    copy.write_text(yaml.safe_dump(workflow, sort_keys=False))
    assert [f["ident"] for f in zizmor(copy)] == [rule]


def unjustified_suppressions(text: str) -> list[str]:
    """The inline zizmor suppressions that do not say why."""
    found = (ZIZMOR_IGNORE.search(line) for line in text.splitlines())
    return [m.group(0) for m in found if m and len(m.group("reason").strip(" -:")) < 10]


def test_every_zizmor_suppression_in_the_workflows_says_why():
    for path in WORKFLOWS.glob("*.yml"):
        assert unjustified_suppressions(path.read_text()) == [], path.name


def test_a_suppression_without_a_reason_is_caught():
    bare = "      - run: echo ${{ inputs.x }} # zizmor: ignore[template-injection]"
    justified = "      - run: echo ${{ inputs.x }} # zizmor: ignore[template-injection] x is a number the caller checks"
    assert unjustified_suppressions(f"{bare}\n{justified}\n") == ["# zizmor: ignore[template-injection]"]


def test_every_workflow_grants_nothing_by_default_and_each_job_names_its_permissions():
    for path in WORKFLOWS.glob("*.yml"):
        workflow = yaml.safe_load(path.read_text())
        assert workflow["permissions"] == {}, path.name
        for name, job in workflow["jobs"].items():
            assert job["permissions"].get("contents") == "read", f"{path.name}: {name}"


def test_the_deploy_passes_the_called_workflow_exactly_the_secrets_it_declares_and_uses():
    called = load("pulumi-up.yml")
    declared = set(triggers(called)["workflow_call"]["secrets"])
    used = set(re.findall(r"secrets\.(\w+)", (WORKFLOWS / "pulumi-up.yml").read_text()))
    assert declared == used == {"PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "KUBECONFIG"}
    for name in ("up", "up-prod"):
        passed = load("deploy.yml")["jobs"][name]["secrets"]
        assert passed == {secret: f"${{{{ secrets.{secret} }}}}" for secret in declared}, name


def test_every_action_is_pinned_to_a_commit_with_its_release_in_a_comment():
    for path in WORKFLOWS.glob("*.yml"):
        for line in path.read_text().splitlines():
            ref = line.strip().removeprefix("- ").removeprefix("uses:").strip() if "uses:" in line else None
            if ref and not ref.startswith(SELF_REPOSITORY):
                assert PINNED.match(ref), f"{path.name}: {line.strip()}"


@pytest.mark.parametrize(("workflow", "job"), [("pull-request.yml", "preview"), ("pulumi-up.yml", "up")])
def test_the_engines_policy_run_gets_the_config_the_stack_implies(workflow, job):
    steps = load(workflow)["jobs"][job]["steps"]
    [action] = [s for s in steps if s.get("uses", "").startswith("pulumi/actions@")]
    config = action["with"]["policyPackConfigs"]
    writer = [i for i, s in enumerate(steps) if "python -m policy.offline" in s.get("run", "") and "--config-out" in s.get("run", "")]
    assert writer and writer[0] < steps.index(action), "the config is written before the engine runs the pack"
    assert config.replace("${{ runner.temp }}", "$RUNNER_TEMP") in steps[writer[0]]["run"]


def test_pull_requests_run_tests_and_the_offline_render_without_cloud_credentials():
    workflow = load("pull-request.yml")
    assert "pull_request" in triggers(workflow)
    offline = workflow["jobs"]["offline"]
    text = yaml.safe_dump(offline)
    assert "secrets." not in text and "configure-aws-credentials" not in text
    assert "id-token" not in offline.get("permissions", {})
    assert "./.ci/run" in runs(offline)
    assert runs(offline).count("python -m offline.render") == 2  # this branch and the base branch
    assert 'python -m policy.offline "$stack"' in runs(offline)  # the policy pack on every stack (and its charts), offline
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
    assert jobs["up"]["uses"] == jobs["up-prod"]["uses"] == "$/.github/workflows/pulumi-up.yml"
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
