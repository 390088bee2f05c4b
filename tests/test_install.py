"""`pip install ai-platform` gives a user's program one import package, `ai_platform` (the
repository's components/ folder), and nothing a program's own folders could shadow or be shadowed
by: a program with its own `components/` package imports both its own modules and ours.

The wheel is built from this checkout and installed into a folder of its own (tests/installed.py);
the programs run in a fresh interpreter that does not see this repository.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from offline.render import HELM_RELEASE
from tests.installed import ROOT, installed, installed_editable, run_installed, wheel_names

COMPONENTS = ROOT / "components"
K8S_PROVIDER = "pulumi:providers:kubernetes"

# A user's Pulumi program in the conventional layout: its own `components` package beside __main__.py.
USER_PROGRAM = {
    "Pulumi.yaml": """\
        name: acme-serving
        runtime:
          name: python
          options:
            toolchain: pip
            virtualenv: venv
        """,
    "requirements.txt": """\
        ai-platform @ git+https://github.com/example/ai-platform
        """,
    "components/__init__.py": """\
        \"\"\"The program's own components.\"\"\"
        """,
    "components/naming.py": """\
        def name(base: str) -> str:
            return f"acme-{base}"
        """,
    "__main__.py": """\
        import pulumi

        from ai_platform.cluster.existing_cluster import ExistingCluster
        from ai_platform.data.object_store import ObjectStore
        from ai_platform.serving.kserve import KServe
        from components.naming import name

        cluster = ExistingCluster(name("cluster"), {"context": "kind-acme"})
        on_cluster = pulumi.ResourceOptions(provider=cluster.k8s_provider)
        store = ObjectStore(name("store"), {"backend": "minio", "buckets": ["models"], "storage_size": "10Gi"}, on_cluster)
        kserve = KServe(name("kserve"), {"deployment_mode": "Standard"}, on_cluster)

        pulumi.export("objectStoreEndpoint", store.endpoint_url)
        pulumi.export("modelNamespace", kserve.model_namespace)
        """,
}


@pytest.fixture(scope="module")
def wheel_files() -> list[str]:
    return wheel_names(installed().wheel)


@pytest.fixture(scope="module")
def user_program(tmp_path_factory) -> Path:
    program = tmp_path_factory.mktemp("acme-serving")
    for name, text in USER_PROGRAM.items():
        (program / name).parent.mkdir(parents=True, exist_ok=True)
        (program / name).write_text(textwrap.dedent(text))
    return program


@pytest.fixture(scope="module")
def user_run(user_program):
    return run_installed(user_program, project="acme-serving")


def test_the_wheel_installs_one_import_package_ai_platform(wheel_files):
    top_level = {PurePosixPath(n).parts[0] for n in wheel_files}
    dist_info = {t for t in top_level if t.endswith(".dist-info")}
    assert top_level - dist_info == {"ai_platform"}
    assert not any(n.startswith(("components/", "stacks/", "offline/", "provider/", "tests/")) for n in wheel_files)
    [info] = dist_info
    with zipfile.ZipFile(installed().wheel) as z:
        assert z.read(f"{info}/top_level.txt").decode().split() == ["ai_platform"]


def test_the_wheel_holds_every_file_of_the_components_folder_as_ai_platform(wheel_files):
    """Every module and subpackage of components/ (and any data file next to them) is shipped, under ai_platform/."""
    shipped = {n.removeprefix("ai_platform/") for n in wheel_files if n.startswith("ai_platform/")}
    in_repo = {
        p.relative_to(COMPONENTS).as_posix()
        for p in COMPONENTS.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}
    }
    assert in_repo >= {"__init__.py", "versions.py", "cluster/eks_cluster.py", "core/args.py", "data/mlflow_launcher.py"}
    assert shipped == in_repo


def test_the_install_brings_ai_platform_and_no_components_or_stacks_package(tmp_path):
    site = installed().site
    probe = "import importlib.util as u; print([m for m in ('ai_platform', 'components', 'stacks', 'offline') if u.find_spec(m)])"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env={"PYTHONPATH": str(site)}, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "['ai_platform']"
    assert {p.name for p in site.iterdir() if not p.name.endswith(".dist-info")} == {"ai_platform"}


def test_a_program_with_its_own_components_package_imports_both_its_own_and_ours(user_run, user_program):
    site = installed().site
    assert Path(user_run.imported["ai_platform"]).is_relative_to(site)
    assert Path(user_run.imported["components"]) == user_program / "components" / "__init__.py"
    assert "stacks" not in user_run.imported and "offline" not in user_run.imported


def test_a_user_program_registers_our_components_with_their_type_tokens(user_run):
    recording = user_run.recording
    components = {(r.type, r.name) for r in recording.registrations if not r.custom}
    assert components >= {
        ("aiplatform:index:ExistingCluster", "acme-cluster"),
        ("aiplatform:index:ObjectStore", "acme-store"),
        ("aiplatform:index:KServe", "acme-kserve"),
    }
    [provider] = recording.of_type(K8S_PROVIDER)
    assert provider.inputs == {"context": "kind-acme"}
    charts = {r.name: r.inputs["chart"].rsplit("/", 1)[-1] for r in recording.of_type(HELM_RELEASE)}
    assert charts == {
        "acme-store": "minio",
        "cert-manager": "cert-manager",
        "acme-kserve-crd": "kserve-crd",
        "acme-kserve-resources": "kserve-resources",
        "acme-kserve-runtime-configs": "kserve-runtime-configs",
    }
    kubernetes = [r for r in recording.registrations if r.custom and r.type.startswith("kubernetes:")]
    assert kubernetes and {r.provider for r in kubernetes} == {provider.urn}
    assert recording.outputs["modelNamespace"] == "models"


def test_an_editable_install_also_gives_ai_platform_beside_a_programs_own_components(user_program, tmp_path):
    """The examples install this repository with ``-e ../..``: the editable install maps ``ai_platform`` to
    components/ too, and brings no ``components`` or ``stacks`` of its own."""
    site_dir = installed_editable()
    probe = textwrap.dedent(
        f"""\
        import importlib.util, site, sys
        sys.path[0] = {str(user_program)!r}
        site.addsitedir({str(site_dir)!r})
        import ai_platform.cluster.existing_cluster as ours
        import components.naming as theirs
        print(ours.__file__)
        print(theirs.__file__)
        print(importlib.util.find_spec("stacks"))
        """
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ours, theirs, stacks = done.stdout.splitlines()
    assert Path(ours).parts[-3:] == ("components", "cluster", "existing_cluster.py")  # the checkout's folder, as ai_platform
    assert not Path(ours).is_relative_to(user_program)
    assert Path(theirs) == user_program / "components" / "naming.py"
    assert stacks == "None"


def test_the_readmes_example_runs_against_the_installed_wheel(tmp_path):
    section = (ROOT / "README.md").read_text().split("## Using the components in your program", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(r"```python\n(.*?)```", section, re.S)
    assert "from ai_platform." in code
    (tmp_path / "__main__.py").write_text(code)
    recording = run_installed(tmp_path, project="readme", config={"aws:region": "us-west-2"}).recording
    components = {r.type for r in recording.registrations if not r.custom}
    assert {"aiplatform:index:EksCluster", "aiplatform:index:GpuNodePool", "aiplatform:index:GpuOperator"} <= components
