"""Benchmark of the program's own cost: what every `pulumi preview` pays before the engine works.

    .venv/bin/python bench/benchmark.py [--runs 5]

Measures, each as the median of --runs whole-process runs (a fresh interpreter each time, as
Pulumi starts one per preview), in wall and CPU seconds (CPU time barely moves when other work
shares the machine):
- the program's render of dev and prod (``offline.render.render``: config validation and every
  resource registered under the mocks, what `pulumi preview` runs; not the chart expansion and the
  reports, which only the render tooling does), against the floor: a process that only imports the
  Pulumi SDK modules the program uses (the ratio is what our own code adds). The project's
  bytecode is compiled first, as it is after a first preview (this machine sets
  PYTHONDONTWRITEBYTECODE, which would otherwise recompile it on every run);
- scaled stacks generated from config (GPU pools and inference services multiplied), as time per
  registered resource, to show that the cost grows linearly;
- peak memory (max RSS) of each.
The deploy-time model (critical path of `pulumi up`) is printed by the render itself.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SDK_PACKAGES = ("pulumi_aws.", "pulumi_kubernetes.", "pulumi_random.")
LIST_SDK_MODULES = f"""
import contextlib, io, runpy, sys, warnings
warnings.filterwarnings("ignore")
sys.argv = ["render", sys.argv[1], "--out", sys.argv[2]]
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    runpy.run_module("offline.render", run_name="__main__")
loaded = [name for name, module in sys.modules.items() if type(module).__name__ != "_LazyModule"]
print(" ".join(sorted(m for m in loaded if m.startswith({SDK_PACKAGES!r}))))
"""


def floor_imports(stack: str, tmp: Path) -> str:
    """The Pulumi SDK modules a render of ``stack`` imports (the SDKs load submodules lazily, so
    importing only the top-level packages would understate the floor)."""
    run = subprocess.run(
        [sys.executable, "-c", LIST_SDK_MODULES, stack, str(tmp / f"{stack}-modules")], cwd=ROOT, capture_output=True, text=True, check=True
    )
    modules = run.stdout.split()
    return "import pulumi, pulumi.runtime.mocks, " + ", ".join(modules)


def measure(command: list[str], runs: int, cwd: Path = ROOT) -> tuple[float, float, float]:
    """Median wall seconds, median CPU seconds and median peak RSS (MiB) of ``command`` over ``runs`` fresh processes."""
    seconds, cpu, peaks = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        seconds.append(time.perf_counter() - started)
        if os.waitstatus_to_exitcode(status) != 0:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise SystemExit(f"{' '.join(command)} failed: {stderr[-2000:]}")
        cpu.append(usage.ru_utime + usage.ru_stime)
        peaks.append(usage.ru_maxrss / 1024)  # Linux reports KiB
    return statistics.median(seconds), statistics.median(cpu), statistics.median(peaks)


PROGRAM = "import sys; from pathlib import Path; from offline.render import render; render(sys.argv[1], Path(sys.argv[2]))"


def render_command(stack: str, root: Path) -> list[str]:
    """The program of ``stack`` under the mocks, as `pulumi preview` runs it (no chart expansion, no reports)."""
    return [sys.executable, "-W", "ignore", "-c", PROGRAM, stack, str(root)]


def compile_bytecode() -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", "components", "stacks", "offline", "provider"], cwd=ROOT, check=True)


def resource_count(stack: str, root: Path) -> int:
    sys.path.insert(0, str(ROOT))
    from offline.render import render

    recording = render(stack, root)
    return sum(1 for r in recording.registrations if r.custom)


def scaled_config(pools: int, models: int) -> dict:
    """prod with its GPU pools and models multiplied (names made unique)."""
    config = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    values = config["config"]
    base_pools = values["ai-platform:gpuPools"]
    # Pools as big as the models spread over them need (validation places every replica).
    model = values["ai-platform:inferenceServices"][0]
    base = next(p for p in base_pools if p["name"] == model["gpuPool"])
    max_size = model.get("maxReplicas", 1) * -(-models // pools)
    values["ai-platform:gpuPools"] = [{**copy.deepcopy(base), "name": f"pool-{i}", "maxSize": max_size} for i in range(pools)]
    values["ai-platform:inferenceServices"] = [
        {**copy.deepcopy(model), "name": f"model-{i}", "gpuPool": f"pool-{i % pools}", "canaries": []} for i in range(models)
    ]
    values["ai-platform:kserve"] = {"deploymentMode": "Standard"}
    values["ai-platform:rayClusters"] = [
        {**rc, "workerGroups": [g for g in rc["workerGroups"] if "gpuPool" not in g]} for rc in values["ai-platform:rayClusters"]
    ]
    return config


def scaled_root(tmp: Path, name: str, pools: int, models: int) -> Path:
    root = tmp / name
    root.mkdir()
    shutil.copy(ROOT / "__main__.py", root / "__main__.py")
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(scaled_config(pools, models)))
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {runs} runs each (median)")
    env_python = [sys.executable, "-c"]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        compile_bytecode()
        print("\nstack  render s (cpu)  floor s (cpu)  ratio (cpu)  resources  ms/resource  peak MiB (render/floor)")
        for stack in ("dev", "prod"):
            render_s, render_cpu, render_mb = measure(render_command(stack, ROOT), runs)
            floor_s, floor_cpu, floor_mb = measure([*env_python, floor_imports(stack, tmp)], runs)
            count = resource_count(stack, ROOT)
            print(
                f"{stack:5s}  {render_s:6.2f} ({render_cpu:4.2f})  {floor_s:5.2f} ({floor_cpu:4.2f})  "
                f"{render_s / floor_s:4.2f} ({render_cpu / floor_cpu:4.2f})  {count:9d}  "
                f"{1000 * render_s / count:11.2f}  {render_mb:.0f}/{floor_mb:.0f}"
            )
        print("\nscaled prod (GPU pools x inference services): time per registered resource")
        print("pools  models  resources  render s  ms/resource  marginal ms/resource  peak MiB")
        previous = None
        for pools, models in ((5, 25), (10, 50), (20, 100)):
            name = f"scaled{pools}"
            root = scaled_root(tmp, name, pools, models)
            seconds, _, peak = measure(render_command(name, root), runs)
            count = resource_count(name, root)
            marginal = "" if previous is None else f"{1000 * (seconds - previous[0]) / (count - previous[1]):.2f}"
            print(f"{pools:5d}  {models:6d}  {count:9d}  {seconds:8.2f}  {1000 * seconds / count:11.2f}  {marginal:>20s}  {peak:8.0f}")
            previous = (seconds, count)


if __name__ == "__main__":
    main()
