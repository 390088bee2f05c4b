"""The repository as a user gets it: a wheel built from this checkout, installed into a folder of
its own, and Pulumi programs run against it in a fresh interpreter whose path holds that folder
and the program's own folder, never this repository (so `components`, `stacks` and `offline`
are not importable there unless the program brings its own).

``installed()`` builds and installs once per test session; ``run_installed()`` runs one program
under Pulumi's mock runtime (``offline/mockruntime.py``, loaded from its file under a private
name) and returns the same :class:`~offline.mockruntime.Recording` an in-process run would.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from offline.mockruntime import Recording, Registration

ROOT = Path(__file__).resolve().parents[1]
MOCKRUNTIME = ROOT / "offline" / "mockruntime.py"
_NOT_COPIED = shutil.ignore_patterns(".git", ".venv*", "venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "node_modules")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    """The built wheel."""
    site: Path
    """The folder it was installed into (``pip install --target``): the only path entry that brings ``ai_platform``."""


class ProgramError(RuntimeError):
    """The program failed in its interpreter; the message carries that interpreter's stderr."""


@functools.cache
def installed() -> Installed:
    """Build a wheel of a copy of this checkout (no network: the venv's setuptools, no build isolation),
    then ``pip install --no-deps --target`` it; the dependencies come from the running venv."""
    work = Path(tempfile.mkdtemp(prefix="ai-platform-wheel-"))
    atexit.register(shutil.rmtree, work, True)
    source = work / "source"  # a copy, so the build's build/ and *.egg-info stay out of the checkout
    shutil.copytree(ROOT, source, ignore=_NOT_COPIED)
    dist, site = work / "dist", work / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    _check([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-cache-dir", "-w", str(dist), str(source)], "building the wheel")
    [wheel] = dist.glob("ai_platform-*.whl")
    _check([*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)], "installing the wheel")
    return Installed(wheel=wheel, site=site)


@functools.cache
def installed_editable() -> Path:
    """``pip install -e`` of a copy of this checkout (as the examples' requirements.txt does) into a prefix of its
    own; returns that prefix's site-packages folder, whose ``.pth`` file must be processed (``site.addsitedir``)."""
    work = Path(tempfile.mkdtemp(prefix="ai-platform-editable-"))
    atexit.register(shutil.rmtree, work, True)
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_COPIED)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    command = [*pip, "install", "--no-deps", "--no-build-isolation", "--no-index", "--prefix", str(work / "prefix"), "-e", str(source)]
    _check(command, "installing the checkout in editable mode")
    [pth] = (work / "prefix").rglob("__editable__*ai_platform*.pth")
    return pth.parent


def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        return z.namelist()


def _check(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


# Runs in the fresh interpreter: argv = program folder, project, stack, config JSON, mockruntime.py, output file.
_RUNNER = """
import importlib.util, json, runpy, sys
program, project, stack, config, mockruntime, out = sys.argv[1:]
sys.path[0] = program  # as Pulumi runs a program: its own folder first
spec = importlib.util.spec_from_file_location("_ai_platform_test_mockruntime", mockruntime)
mocks = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = mocks
spec.loader.exec_module(mocks)
recording = mocks.run_program(
    lambda: runpy.run_path(program + "/__main__.py", run_name="__main__"), stack=stack, config=json.loads(config), project=project
)
imported = {m: str(getattr(sys.modules[m], "__file__", None)) for m in ("ai_platform", "components", "stacks", "offline") if m in sys.modules}
with open(out, "w") as f:
    json.dump({"registrations": [r.to_json() for r in recording.registrations], "outputs": recording.outputs, "imported": imported}, f)
"""


@dataclass
class Run:
    recording: Recording
    imported: dict[str, str]
    """Top-level packages the program ended up importing -> their ``__file__``."""


def run_installed(program: Path, *, project: str, config: dict[str, str] | None = None, stack: str = "dev", timeout: float = 300) -> Run:
    """Run ``program/__main__.py`` against the installed wheel under Pulumi's mocks (``config`` keys are full, ``project:key``)."""
    site = installed().site
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(site)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryDirectory(prefix="ai-platform-run-") as tmp:
        out = Path(tmp) / "recording.json"
        args = [str(program.resolve()), project, stack, json.dumps(config or {}), str(MOCKRUNTIME), str(out)]
        done = subprocess.run([sys.executable, "-c", _RUNNER, *args], cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise ProgramError(f"{program.name} failed ({done.returncode}):\n{done.stderr}")
        data = json.loads(out.read_text())
    recording = Recording(stack=stack, registrations=[Registration(**r) for r in data["registrations"]], outputs=data["outputs"])
    return Run(recording=recording, imported=data["imported"])
