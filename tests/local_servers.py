"""Real servers on 127.0.0.1 for integration tests: PostgreSQL from Debian's packages and an
S3-compatible server (moto's). Each is a context manager that yields its port and stops the server."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require(condition: bool, what: str) -> None:
    """Skip locally when a tool is missing; in CI (CI=true) that is a failure, not a skip."""
    if not condition:
        missing(what)


def missing(what: str) -> NoReturn:
    """``require`` for a tool known to be missing."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing: .ci/run must install it")
    pytest.skip(f"{what} is not installed")


def wait_until(check, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except AssertionError:
            raise  # the thing we wait for failed for good
        except Exception:  # noqa: S110 - not up yet
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{what} did not come up within {timeout}s")


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status == 200


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres_user(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; CI runs as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], **kwargs) -> None:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


@contextlib.contextmanager
def postgres(*, user: str, password: str, database: str) -> Iterator[int]:
    bin_dir = _postgres_bin()
    if bin_dir is None:
        missing("PostgreSQL (Debian package postgresql)")
    # Not under pytest's tmp root: that is private to root, and the server runs as postgres.
    tmp = Path(tempfile.mkdtemp(prefix="ai-platform-pg-"))
    tmp.chmod(0o755)
    data, password_file = tmp / "data", tmp / "pwfile"
    password_file.write_text(password)
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
        shutil.chown(password_file, "postgres")
    port = free_port()
    run = lambda *cmd: _run(_as_postgres_user([str(bin_dir / cmd[0]), *cmd[1:]]))  # noqa: E731
    run("initdb", "-D", str(data), "-U", user, f"--pwfile={password_file}", "--auth=scram-sha-256")
    options = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1"
    run("pg_ctl", "-D", str(data), "-o", options, "-l", str(tmp / "log"), "-w", "start")
    try:
        env = {**os.environ, "PGPASSWORD": password}
        create = _as_postgres_user([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, database])
        _run(create, env=env)
        yield port
    finally:
        run("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def s3_server() -> Iterator[int]:
    require(shutil.which("moto_server") is not None or _has_module("moto.server"), "moto[server]")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/moto-api/"), "moto S3 server", 30)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def _has_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False
