"""No generated secret and no well-known default credential appears in what the render writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline.mockruntime import _digest
from offline.render import write

DEFAULT_CREDENTIALS = ["minioadmin", "prom-operator", "admin/admin", "changeme", "password123", "rootpass123"]


def _texts(out: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(out.rglob("*")) if p.is_file())


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_generated_secrets_stay_out_of_plan_and_manifests(rendered, stack, tmp_path):
    recording = rendered(stack)
    generated = [r for r in recording.registrations if r.type.startswith("random:")]
    if stack == "dev":
        assert len(generated) >= 5  # MinIO root, PostgreSQL, Grafana, per-grant keys
    write(recording, tmp_path)
    text = _texts(tmp_path)
    for r in generated:
        value = f"mock-{_digest(r.name, 'random')}"  # what the mocks gave this resource as its result
        assert value not in text, f"the value of {r.urn} leaked into the render"
    assert "[secret]" in text


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_default_credentials(rendered, stack, tmp_path):
    write(rendered(stack), tmp_path)
    text = _texts(tmp_path).lower()
    for credential in DEFAULT_CREDENTIALS:
        assert credential not in text, credential


def test_the_leak_check_would_see_a_leak(rendered, tmp_path):
    recording = rendered("dev")
    (password,) = [r for r in recording.registrations if r.name == "model-registry-db-password" and r.type.startswith("random:")]
    write(recording, tmp_path)
    (tmp_path / "leak.txt").write_text(f"oops mock-{_digest(password.name, 'random')}")
    assert f"mock-{_digest(password.name, 'random')}" in _texts(tmp_path)
