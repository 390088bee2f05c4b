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

# module to mutate -> the fast test files that check it (a mutant reruns those of them that execute
# the mutated function) and, optionally, which of its functions are rules ("only": globs of mutmut's
# function names: ``x_<function>``, ``xǁ<Class>ǁ<method>``; default: every function in the module).
TARGETS: dict[str, dict[str, list[str]]] = {
    # config rules
    "stacks/config.py": {"tests": ["tests/test_config.py", "tests/test_cross_component_rules.py"]},
    # grants: the S3/KMS and MinIO policy documents and the grant methods (not the rest of the component)
    "components/data/object_store.py": {
        "tests": ["tests/test_object_store.py", "tests/test_grants.py"],
        "only": ["x_s3_grant_policy", "x_tls_only_policy", "x_minio_policy", "xǁObjectStoreǁ*grant*"],
    },
    # grants: the IAM role a pod assumes
    "components/core/workload_identity.py": {"tests": ["tests/test_grants.py", "tests/test_object_store.py", "tests/test_eks_cluster.py"]},
    # network policies
    "components/core/network_policy.py": {"tests": ["tests/test_network_isolation.py"]},
    # alert rules (the promtool tests skip without promtool; the rules-as-data tests run everywhere)
    "components/observability/alert_rules.py": {"tests": ["tests/test_alert_rules.py"]},
}
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


def _mutant_globs(targets: dict[str, dict[str, list[str]]]) -> list[str]:
    """mutmut mutant-name globs: ``stacks.config.*`` or ``components.data.object_store.x_minio_policy__mutmut_*``."""
    globs = []
    for module, target in targets.items():
        dotted = module.removesuffix(".py").replace("/", ".")
        globs += [f"{dotted}.{f}__mutmut_*" for f in target["only"]] if target.get("only") else [f"{dotted}.*"]
    return globs


def _setup_cfg(targets: dict[str, dict[str, list[str]]]) -> str:
    tests = sorted({t for target in targets.values() for t in target["tests"] if (ROOT / t).exists()})
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
        if state == "not checked":  # outside TARGETS' "only" globs
            continue
        module = name.split(".x")[0].split(".xǁ")[0]
        by_module.setdefault(module, {}).setdefault(state, 0)
        by_module[module][state] += 1
    survivors = {name: _mutmut(workdir, "show", name, capture=True).stdout for name, state in status.items() if state == "survived"}
    counts = {state: sum(1 for s in status.values() if s == state) for state in sorted(set(status.values()))}
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    tested = sum(counts.values()) - counts.get("skipped", 0) - counts.get("not checked", 0)
    total = sum(counts.values()) - counts.get("not checked", 0)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip())
    return {
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "targets": TARGETS,
        "total": total,
        "counts": counts,
        "kill_rate": round(killed / tested, 4) if tested else None,
        "by_module": by_module,
        "survivors": survivors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mutation"), help="scratch copy of the tree (deleted first)")
    parser.add_argument("--max-children", type=int, default=max(2, (os.cpu_count() or 2) * 2))
    parser.add_argument("--out", type=Path, help="write the summary (counts, kill rate, survivors' diffs) as JSON here")
    parser.add_argument("--report-only", action="store_true", help="summarise an earlier run in --workdir")
    args = parser.parse_args(argv)
    workdir = args.workdir.resolve()
    if not args.report_only:
        _scratch_copy(workdir)
        (workdir / "setup.cfg").write_text(_setup_cfg(TARGETS))
        _mutmut(workdir, "run", "--max-children", str(args.max_children), *_mutant_globs(TARGETS))
    summary = _summary(workdir)
    text = json.dumps(summary, indent=2, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "survivors"}, indent=2, ensure_ascii=False))
    print(f"{len(summary['survivors'])} survivors" + (f"; diffs in {args.out}" if args.out else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
