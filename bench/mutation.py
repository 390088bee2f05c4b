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
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# module to mutate -> the fast test files that check it (a mutant reruns those of them that execute
# the mutated function) and, optionally, which of its functions are rules ("only": globs of mutmut's
# function names: ``x_<function>``, ``xǁ<Class>ǁ<method>``; default: every function in the module).
TARGETS: dict[str, dict[str, Any]] = {
    # config rules: the cross-section rules, and the schema error conversion of stacks/config.py
    "stacks/rules.py": {
        "tests": ["tests/test_config.py", "tests/test_cross_component_rules.py", "tests/test_rule_messages.py"],
        "sample": (3, ["x_*"]),
    },
    "stacks/config.py": {
        "tests": ["tests/test_config.py", "tests/test_cross_component_rules.py", "tests/test_rule_messages.py"],
        "only": ["x__problem_from", "x__field_name", "x__allowed_keys", "x__model_in", "x_parse_stack_config"],
    },
    # config rules the components own: their pure problems() functions (the stack config calls them too)
    "components/cluster/gpu_node_pool.py": {
        "tests": [
            "tests/test_gpu_node_pool.py",
            "tests/test_config.py",
            "tests/test_cross_component_rules.py",
            "tests/test_rule_messages.py",
        ],
        "only": ["x_problems", "x_size_problems", "x__mig_problems", "x__efa_problems"],
    },
    "components/cluster/eks_cluster.py": {
        "tests": [
            "tests/test_eks_cluster.py",
            "tests/test_config.py",
            "tests/test_cross_component_rules.py",
            "tests/test_rule_messages.py",
        ],
        "only": ["x_problems", "x_endpoint_problems"],
    },
    "components/cluster/vpc.py": {
        "tests": [
            "tests/test_eks_cluster.py",
            "tests/test_config.py",
            "tests/test_cross_component_rules.py",
            "tests/test_rule_messages.py",
        ],
        "only": ["x_problems"],
    },
    "components/compute/ray_cluster.py": {
        "tests": [
            "tests/test_ray_cluster.py",
            "tests/test_config.py",
            "tests/test_cross_component_rules.py",
            "tests/test_rule_messages.py",
        ],
        "only": ["x_problems", "x__*_problems"],
    },
    "components/serving/inference_service.py": {
        "tests": [
            "tests/test_inference_service.py",
            "tests/test_config.py",
            "tests/test_cross_component_rules.py",
            "tests/test_rule_messages.py",
        ],
        "only": ["x_problems", "x__*_problem*", "x__esc", "x__lit"],
    },
    "components/serving/kserve.py": {
        "tests": ["tests/test_kserve.py", "tests/test_config.py", "tests/test_cross_component_rules.py", "tests/test_rule_messages.py"],
        "only": ["x_problems"],
    },
    "components/observability/observability.py": {
        "tests": [
            "tests/test_observability.py",
            "tests/test_config.py",
            "tests/test_cross_component_rules.py",
            "tests/test_rule_messages.py",
        ],
        "only": ["x_problems"],
    },
    # grants: the object store's problems(), the S3/KMS and MinIO policy documents and the grant methods
    "components/data/object_store.py": {
        "tests": [
            "tests/test_object_store.py",
            "tests/test_grants.py",
            "tests/test_config.py",
            "tests/test_cross_component_rules.py",
            "tests/test_rule_messages.py",
        ],
        "only": ["x_problems", "x_tls_only_policy", "xǁObjectStoreǁ*grant*"],
        "sample": (3, ["xǁObjectStoreǁ*grant*"]),
    },
    # grants: the S3/KMS and MinIO policy documents, scoped per bucket and prefix
    "components/data/storage_access.py": {"tests": ["tests/test_grants.py", "tests/test_object_store.py", "tests/test_least_privilege.py"]},
    # grants: the IAM role a pod assumes
    "components/core/workload_identity.py": {"tests": ["tests/test_grants.py", "tests/test_object_store.py", "tests/test_eks_cluster.py"]},
    # network policies
    "components/core/network_policy.py": {"tests": ["tests/test_network_isolation.py"]},
    # alert rules (the promtool tests skip without promtool; the rules-as-data tests run everywhere)
    # alert rules (the promtool tests skip without promtool; the rules-as-data tests run everywhere). The
    # group builders are ~600 mutants of PromQL and annotation text: every sixth one runs (see "sample").
    "components/observability/alert_rules.py": {"tests": ["tests/test_alert_rules.py"], "sample": (6, ["x_*_group"])},
}
# A target's "sample" (n, globs) names functions of which only every n-th mutant runs (mutants whose
# number is a multiple of n), to keep the run within about 45 minutes on 2 CPUs; the report counts
# only the selected mutants.
# Tests that need a network, real servers or minutes, deselected from every mutant's run.
DESELECT = [
    "tests/test_alert_rules.py::test_mlflow_exports_the_request_counter_the_rules_read",
    # seconds each and not aimed at the rules (every committed stack parses, the render CLI's exit
    # code, the upstream CRD schemas): they only slow down each surviving mutant's run
    "tests/test_config.py::test_committed_stacks_are_valid",
    "tests/test_config.py::test_render_command_exits_2_with_the_clean_message",
    "tests/test_inference_service.py::test_every_custom_resource_validates_against_the_upstream_crds",
]
# Test files with module-scoped fixtures that build components (see _restrict_tests).
SHARED_FIXTURE_FILES = ["tests/test_object_store.py", "tests/test_eks_cluster.py"]
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


def _mutant_globs(targets: dict[str, dict[str, Any]]) -> list[str]:
    """mutmut mutant-name globs: ``stacks.config.*`` or ``components.data.object_store.x_minio_policy__mutmut_*``."""
    globs = []
    for module, target in targets.items():
        dotted = module.removesuffix(".py").replace("/", ".")
        globs += [f"{dotted}.{f}__mutmut_*" for f in target["only"]] if target.get("only") else [f"{dotted}.*"]
    return globs


def _mutant_names(workdir: Path, targets: dict[str, dict[str, Any]]) -> list[str]:
    """The mutants ``_mutant_globs`` selects, less the unsampled ones of "sample" functions."""
    names = []
    for module, target in targets.items():
        dotted = module.removesuffix(".py").replace("/", ".")
        source = (workdir / "mutants" / module).read_text()
        for function, number in re.findall(r"^\s*def (x\S*?)__mutmut_(\d+)\(", source, flags=re.MULTILINE):
            if target.get("only") and not any(fnmatch.fnmatchcase(function, f) for f in target["only"]):
                continue
            every, sampled = target.get("sample", (1, []))
            if any(fnmatch.fnmatchcase(function, f) for f in sampled) and int(number) % every:
                continue
            names.append(f"{dotted}.{function}__mutmut_{number}")
    return names


def _setup_cfg(targets: dict[str, dict[str, Any]]) -> str:
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


def _restrict_tests(workdir: Path, targets: dict[str, dict[str, Any]]) -> None:
    """Keep, for each target's functions, only the tests of its own test files in mutmut's stats.

    mutmut maps each function to every test that executed it (a network-policy helper runs in a
    hundred component tests); the per-target test files are the ones aimed at the rules, and they
    keep the run under an hour on 2 CPUs. mutmut reuses the edited stats on the next ``run``.
    """
    path = workdir / "mutants" / "mutmut-stats.json"
    stats = json.loads(path.read_text())
    for function, tests in stats["tests_by_mangled_function_name"].items():
        for module, target in targets.items():
            if function.startswith(module.removesuffix(".py").replace("/", ".") + "."):
                files = tuple(f"{t}::" for t in target["tests"])
                selected = {t for t in tests if t.startswith(files)}
                # a module-scoped fixture runs the code once, inside the first test that asks for it:
                # mutmut maps the function to that test only, so every test of such a file goes along
                shared = tuple(f"{f}::" for f in SHARED_FIXTURE_FILES if any(t.startswith(f"{f}::") for t in selected))
                selected |= {t for t in stats["duration_by_test"] if shared and t.startswith(shared) and t.startswith(files)}
                stats["tests_by_mangled_function_name"][function] = sorted(selected)
    path.write_text(json.dumps(stats))


def _mutmut(workdir: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "mutmut"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([str(exe), *args], cwd=workdir, env=env, capture_output=capture, text=True)


def _summary(workdir: Path, selected: set[str]) -> dict:
    listed = _mutmut(workdir, "results", "--all", "true", capture=True).stdout
    status: dict[str, str] = {}
    for line in listed.splitlines():
        match = re.match(r"\s+(\S+): (.+)$", line)
        if match and match.group(1) in selected:
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
    changes = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.splitlines()
    dirty = any(not line.endswith(" .venv") for line in changes)  # the worktree's venv symlink is not a change
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
    parser.add_argument("--mutants", nargs="+", metavar="NAME", help="run only these mutants (say, an earlier run's survivors)")
    args = parser.parse_args(argv)
    workdir = args.workdir.resolve()
    if not args.report_only:
        _scratch_copy(workdir)
        (workdir / "setup.cfg").write_text(_setup_cfg(TARGETS))
        # a first run that selects no mutant generates the mutants and collects the stats only
        _mutmut(workdir, "run", "--max-children", str(args.max_children), "none.x_none__mutmut_1")
        _restrict_tests(workdir, TARGETS)
    if not args.report_only:
        _mutmut(workdir, "run", "--max-children", str(args.max_children), *(args.mutants or _mutant_names(workdir, TARGETS)))
    summary = _summary(workdir, set(args.mutants or _mutant_names(workdir, TARGETS)))
    text = json.dumps(summary, indent=2, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "survivors"}, indent=2, ensure_ascii=False))
    print(f"{len(summary['survivors'])} survivors" + (f"; diffs in {args.out}" if args.out else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
