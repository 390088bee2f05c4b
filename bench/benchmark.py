"""Benchmark of the program's own cost: what every `pulumi preview` pays before the engine works.

    .venv/bin/python bench/benchmark.py [--runs 5]

Measures, each as the median of --runs whole-process runs (a fresh interpreter each time, as
Pulumi starts one per preview):
- the offline render of dev and prod, against the floor: a process that only imports the Pulumi
  SDK modules the program uses (the ratio is what our own code adds);
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


def measure(command: list[str], runs: int, cwd: Path = ROOT) -> tuple[float, float]:
    """Median wall seconds and median peak RSS (MiB) of ``command`` over ``runs`` fresh processes."""
    seconds, peaks = [], []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        seconds.append(time.perf_counter() - started)
        if os.waitstatus_to_exitcode(status) != 0:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise SystemExit(f"{' '.join(command)} failed: {stderr[-2000:]}")
        peaks.append(usage.ru_maxrss / 1024)  # Linux reports KiB
    return statistics.median(seconds), statistics.median(peaks)


def render_command(stack: str, root: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "offline.render", stack, "--root", str(root), "--out", str(out)]


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
    values["ai-platform:gpuPools"] = [{**copy.deepcopy(base_pools[i % len(base_pools)]), "name": f"pool-{i}"} for i in range(pools)]
    model = values["ai-platform:inferenceServices"][0]
    values["ai-platform:inferenceServices"] = [
        {**copy.deepcopy(model), "name": f"model-{i}", "gpuPool": "pool-0", "canaries": []} for i in range(models)
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
        print("\nstack  render s  floor s  ratio  resources  ms/resource  peak MiB (render/floor)")
        for stack in ("dev", "prod"):
            render_s, render_mb = measure(render_command(stack, ROOT, tmp / stack), runs)
            floor_s, floor_mb = measure([*env_python, floor_imports(stack, tmp)], runs)
            count = resource_count(stack, ROOT)
            print(
                f"{stack:5s}  {render_s:8.2f}  {floor_s:7.2f}  {render_s / floor_s:5.2f}  {count:9d}  "
                f"{1000 * render_s / count:11.2f}  {render_mb:.0f}/{floor_mb:.0f}"
            )
        print("\nscaled prod (GPU pools x inference services): time per registered resource")
        print("pools  models  resources  render s  ms/resource  marginal ms/resource  peak MiB")
        previous = None
        for pools, models in ((5, 25), (10, 50), (20, 100)):
            name = f"scaled{pools}"
            root = scaled_root(tmp, name, pools, models)
            seconds, peak = measure(render_command(name, root, tmp / f"{name}-out"), runs)
            count = resource_count(name, root)
            marginal = "" if previous is None else f"{1000 * (seconds - previous[0]) / (count - previous[1]):.2f}"
            print(f"{pools:5d}  {models:6d}  {count:9d}  {seconds:8.2f}  {1000 * seconds / count:11.2f}  {marginal:>20s}  {peak:8.0f}")
            previous = (seconds, count)


if __name__ == "__main__":
    main()
