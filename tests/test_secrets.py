"""No generated secret and no well-known default credential appears in what the render writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline.mockruntime import _digest
from offline.render import write
from tests.conftest import run_components

DEFAULT_CREDENTIALS = ["minioadmin", "prom-operator", "admin/admin", "changeme", "password123", "rootpass123"]


def _texts(out: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(out.rglob("*")) if p.is_file())


def _leaks(recording, out: Path) -> list[str]:
    """URNs of generated secrets whose value appears in the files ``write`` puts in ``out``."""
    write(recording, out)
    text = _texts(out)
    generated = [r for r in recording.registrations if r.type.startswith("random:")]
    # what the mocks gave each random resource as its result (offline/mockruntime.py)
    return [r.urn for r in generated if f"mock-{_digest(r.name, 'random')}" in text]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_generated_secrets_stay_out_of_plan_and_manifests(rendered, stack, tmp_path):
    recording = rendered(stack)
    generated = [r for r in recording.registrations if r.type.startswith("random:")]
    assert len(generated) >= (5 if stack == "dev" else 1)  # dev: MinIO root, PostgreSQL, Grafana, per-grant keys
    assert _leaks(recording, tmp_path) == []
    assert "[secret]" in _texts(tmp_path)


def _program_that_copies_a_password(secret: bool):
    """A password whose value a ConfigMap copies: marked secret as the components do, or in the clear."""
    import pulumi
    import pulumi_kubernetes as k8s
    import pulumi_random as random

    def build():
        password = random.RandomPassword("leaky-password", length=24, special=False)
        value = pulumi.Output.secret(password.result) if secret else pulumi.Output.unsecret(password.result)
        k8s.core.v1.ConfigMap("leaky", metadata={"name": "leaky", "namespace": "default"}, data={"password": value})

    return run_components(build)


def test_the_leak_check_sees_a_secret_copied_in_the_clear(tmp_path):
    """The check is not vacuous: a program that unwraps a generated password is caught."""
    leaked = _program_that_copies_a_password(secret=False)
    assert [urn.rsplit("::", 1)[-1] for urn in _leaks(leaked, tmp_path / "leaked")] == ["leaky-password"]
    kept = _program_that_copies_a_password(secret=True)
    assert _leaks(kept, tmp_path / "kept") == []
    assert "[secret]" in _texts(tmp_path / "kept")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_default_credentials(rendered, stack, tmp_path):
    write(rendered(stack), tmp_path)
    text = _texts(tmp_path).lower()
    for credential in DEFAULT_CREDENTIALS:
        assert credential not in text, credential
