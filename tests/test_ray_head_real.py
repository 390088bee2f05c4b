"""A real Ray head, started with the rayStartParams that RayCluster renders for its head group,
reports the resources the config promises.

Ray runs in two subprocesses this test owns: ``ray start --head --block`` (GCS, raylet, object
store) and a driver that connects with ``ray.init(address=...)``. Keeping Ray out of the pytest
process leaves no Ray state or threads behind for other tests. Stopping terminates only the head
process this test started (and, as a backstop, its own process group), never ``ray stop``, which
would kill every Ray process on the machine.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.compute.ray_cluster import RAY_VERSION
from tests.conftest import run_components

# Sized for a small CI runner (2 cores): 1 CPU, and 30% of 2 GiB for the object store (614 MiB).
pytestmark = pytest.mark.integration  # a real Ray head

HEAD = {"cpu": 1, "memory_gib": 2}
EXPECTED = {"CPU": 1.0, "GPU": 0.0, "object_store_memory": float(614 * 2**20)}
START_TIMEOUT_S = 90
# Ray's switch for single-machine mode: the head advertises and listens on 127.0.0.1 only.
LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}

DRIVER = """
import json, sys
import ray

ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)

@ray.remote(num_cpus=1)
def runs_on_the_head():
    return ray.get(ray.put(b"x" * (8 * 1024 * 1024))).__len__()

print(json.dumps({"resources": ray.cluster_resources(), "task": ray.get(runs_on_the_head.remote(), timeout=60)}))
ray.shutdown()
"""


def _require_ray() -> None:
    if importlib.util.find_spec("ray") is None:
        message = f"ray is not installed: pip install 'ray[default]=={RAY_VERSION}' (components.compute.ray_cluster.RAY_VERSION)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def rendered_head_start_params() -> dict[str, str]:
    """The head group's rayStartParams, as the RayCluster component renders them under mocks."""
    from components.compute.kuberay_operator import KubeRayOperator
    from components.compute.ray_cluster import RayCluster

    recording = run_components(lambda: RayCluster("head-test", {"operator": KubeRayOperator("kuberay"), "head": HEAD}))
    cluster = recording.named("kubernetes:ray.io/v1:RayCluster", "head-test")
    return cluster.inputs["spec"]["headGroupSpec"]["rayStartParams"]


def start_flags(params: dict[str, str]) -> list[str]:
    """rayStartParams as ``ray start`` flags, the way KubeRay passes them (``--key=value``)."""
    return [f"--{key}={value}" for key, value in sorted(params.items())]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray_cli() -> str:
    beside_python = Path(sys.executable).with_name("ray")
    return str(beside_python) if beside_python.exists() else (shutil.which("ray") or "ray")


def _wait_for_port(port: int, head: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if head.poll() is not None:
            pytest.fail(f"ray start exited with {head.returncode}:\n{log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the Ray head did not listen on 127.0.0.1:{port} within {START_TIMEOUT_S}s:\n{log.read_text()[-3000:]}")


def _stop(head: subprocess.Popen) -> None:
    head.terminate()  # `ray start --block` drains the node and stops the processes it started
    try:
        head.wait(timeout=30)
    except subprocess.TimeoutExpired:
        head.kill()
        head.wait(timeout=10)
    try:
        os.killpg(head.pid, signal.SIGKILL)  # leftovers of our own session only (start_new_session)
    except ProcessLookupError:
        pass


@pytest.fixture
def ray_head() -> Iterator[tuple[str, dict[str, str]]]:
    """A Ray head on 127.0.0.1 started with the rendered head params; yields (address, params)."""
    _require_ray()
    params = rendered_head_start_params()
    temp_dir = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))  # short: Ray's socket paths have a length limit
    port = _free_port()
    command = [
        _ray_cli(),
        "start",
        "--head",
        "--block",
        "--node-ip-address=127.0.0.1",
        f"--port={port}",
        f"--temp-dir={temp_dir}",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--dashboard-port={_free_port()}",
        f"--dashboard-agent-listen-port={_free_port()}",
        f"--ray-client-server-port={_free_port()}",
        *start_flags(params),
    ]
    log = temp_dir / "ray-start.log"
    with log.open("w") as out:
        head = subprocess.Popen(command, env={**os.environ, **LOOPBACK_ENV}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_port(port, head, log)
        yield f"127.0.0.1:{port}", params
    finally:
        _stop(head)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_start_flags_are_the_rendered_params():
    params = rendered_head_start_params()
    assert params == {"num-cpus": "1", "num-gpus": "0", "object-store-memory": str(614 * 2**20)}
    assert start_flags(params) == ["--num-cpus=1", "--num-gpus=0", f"--object-store-memory={614 * 2**20}"]


def test_a_real_head_reports_the_configured_resources(ray_head):
    address, params = ray_head
    started = time.monotonic()
    driver = subprocess.run(
        [sys.executable, "-c", DRIVER, address],
        env={**os.environ, **LOOPBACK_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert driver.returncode == 0, driver.stderr[-3000:]
    report = json.loads(driver.stdout.strip().splitlines()[-1])
    resources = report["resources"]
    measured = {"CPU": resources.get("CPU", 0.0), "GPU": resources.get("GPU", 0.0), "object_store_memory": resources["object_store_memory"]}
    print(f"\nRay head resources {measured}; connected and measured in {time.monotonic() - started:.1f}s")
    assert measured == EXPECTED
    assert measured == {
        "CPU": float(params["num-cpus"]),
        "GPU": float(params["num-gpus"]),
        "object_store_memory": float(params["object-store-memory"]),
    }
    assert report["task"] == 8 * 1024 * 1024, "a task ran on the head's CPU and used its object store"
