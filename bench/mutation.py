"""Mutation testing of the rules that guard the platform (not run in CI): config rules, grants,
network policies and alert rules. Reports the kill rate and every surviving mutant's diff.

One-time setup, in a venv of its own so the project's venv stays untouched:

    python3 -m venv /work/venv-mut
    /work/venv-mut/bin/pip install -r requirements-dev.txt mutmut==3.8.1

Run (from the repository root; about 25 minutes on 2 CPUs):

    /work/venv-mut/bin/python bench/mutation.py [--workdir /tmp/mutation] [--max-children 4] [--out docs/mutation-run.json]

The run happens in a scratch copy of the working tree (``--workdir``), never in the repository:
mutmut writes its ``mutants/`` tree and a ``setup.cfg`` there. ``TARGETS`` below is the only list
to edit when the rules move (for example when stack-config rules migrate into the components'
``problems()`` functions): a module to mutate, and the fast test files that exercise it. mutmut
runs, for each mutant, only the tests among those that execute the mutated function.

mutmut 3 mutates code inside functions and methods; module-level constants (a policy document
written as a constant, say) are not mutated. docs/mutation-testing.md records a run and judges
its survivors.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# module to mutate -> the test files that check it (fast ones: a mutant reruns them)
TARGETS: dict[str, list[str]] = {
    # config rules
    "stacks/config.py": ["tests/test_config.py", "tests/test_cross_component_rules.py"],
    # grants: S3/KMS policies and MinIO users; the IAM roles pods assume
    "components/data/object_store.py": ["tests/test_object_store.py", "tests/test_grants.py"],
    "components/core/workload_identity.py": ["tests/test_object_store.py", "tests/test_grants.py", "tests/test_eks_cluster.py"],
    # network policies
    "components/core/network_policy.py": ["tests/test_network_isolation.py"],
    # alert rules (the promtool tests skip without promtool; the rule-as-data tests run everywhere)
    "components/observability/alert_rules.py": ["tests/test_alert_rules.py"],
}
# Code in the target modules that is not a rule (regexes on the line a def or class starts; mutmut
# skips the whole statement): the ObjectStore component's resource wiring and MinIO's Helm values,
# next to the grant documents (s3_grant_policy, tls_only_policy, minio_policy) that are mutated.
NOT_RULES = [r"^class ObjectStore\(", r"^def minio_values\("]
# Tests that need a network, real servers or minutes, deselected from every mutant's run.
DESELECT = ["tests/test_alert_rules.py::test_mlflow_exports_the_request_counter_the_rules_read"]
# Top-level packages that hold the targets: mutmut copies them whole into mutants/ so imports work.
SOURCE_PACKAGES = ["components", "stacks"]
# Everything else the tests read, copied beside them.
SKIP = {".git", "mutants", "build", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "setup.cfg"}


def _scratch_copy(workdir: Path) -> None:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    for name in listed:
        source = ROOT / name
        if source.is_file() and not SKIP & set(Path(name).parts):
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, workdir / name)
    # tests run inside <workdir>/mutants and read upstream data from ../shared when it exists
    shared = ROOT.parent / "shared"
    if shared.exists():
        (workdir / "shared").symlink_to(shared)


def _setup_cfg(targets: dict[str, list[str]]) -> str:
    tests = sorted({t for files in targets.values() for t in files if (ROOT / t).exists()})
    also_copy = sorted(
        {p.name for p in ROOT.iterdir() if p.name not in SKIP and p.name not in SOURCE_PACKAGES and p.name != "tests"} | {"tests"}
    )
    lines = [
        "[mutmut]",
        "source_paths=\n" + "\n".join(f"    {p}" for p in SOURCE_PACKAGES),
        "only_mutate=\n" + "\n".join(f"    {t}" for t in targets),
        "also_copy=\n" + "\n".join(f"    {p}" for p in also_copy),
        "pytest_add_cli_args_test_selection=\n" + "\n".join(f"    {t}" for t in tests),
        "pytest_add_cli_args=\n    -p\n    no:cacheprovider\n" + "".join(f"    --deselect\n    {d}\n" for d in DESELECT),
        # the Pulumi SDK loads grpc: fork mutants from a clean server process, not from the stats run
        "do_not_mutate_patterns=\n" + "\n".join(f"    {p}" for p in NOT_RULES),
        "process_isolation=forkserver",
        "use_git_change_detection=false",
    ]
    return "\n".join(lines) + "\n"


def _mutmut(workdir: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "mutmut"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([str(exe), *args], cwd=workdir, env=env, capture_output=capture, text=True)


def _summary(workdir: Path) -> dict:
    listed = _mutmut(workdir, "results", "--all", "true", capture=True).stdout
    status: dict[str, str] = {}
    for line in listed.splitlines():
        match = re.match(r"\s+(\S+): (.+)$", line)
        if match:
            status[match.group(1)] = match.group(2).strip()
    by_module: dict[str, dict[str, int]] = {}
    for name, state in status.items():
        module = name.split(".x")[0].split(".xǁ")[0]
        by_module.setdefault(module, {}).setdefault(state, 0)
        by_module[module][state] += 1
    survivors = {name: _mutmut(workdir, "show", name, capture=True).stdout for name, state in status.items() if state == "survived"}
    counts = {state: sum(1 for s in status.values() if s == state) for state in sorted(set(status.values()))}
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    tested = sum(counts.values()) - counts.get("skipped", 0) - counts.get("not checked", 0)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip())
    return {
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "targets": TARGETS,
        "not_rules": NOT_RULES,
        "total": len(status),
        "counts": counts,
        "kill_rate": round(killed / tested, 4) if tested else None,
        "by_module": by_module,
        "survivors": survivors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mutation"), help="scratch copy of the tree (deleted first)")
    parser.add_argument("--max-children", type=int, default=max(2, (os.cpu_count() or 2) * 2))
    parser.add_argument("--out", type=Path, help="write the summary (counts, kill rate, survivors' diffs) as JSON here")
    parser.add_argument("--report-only", action="store_true", help="summarise an earlier run in --workdir")
    args = parser.parse_args(argv)
    workdir = args.workdir.resolve()
    if not args.report_only:
        _scratch_copy(workdir)
        (workdir / "setup.cfg").write_text(_setup_cfg(TARGETS))
        _mutmut(workdir, "run", "--max-children", str(args.max_children))
    summary = _summary(workdir)
    text = json.dumps(summary, indent=2, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "survivors"}, indent=2, ensure_ascii=False))
    print(f"{len(summary['survivors'])} survivors" + (f"; diffs in {args.out}" if args.out else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
