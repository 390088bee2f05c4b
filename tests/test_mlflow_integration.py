"""ModelRegistry proven with real parts: the MLflow container exactly as the dev stack renders it
(command, arguments, environment, launcher script), with cluster hostnames swapped for 127.0.0.1,
against real PostgreSQL and a real S3 API server. A wrong flag, variable or URI makes it fail."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.local_servers import free_port, http_ok, postgres, require, s3_server, wait_until

CLUSTER_HOST = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.svc\.cluster\.local")
TEST_KEYS = {"AWS_ACCESS_KEY_ID": "integration-test", "AWS_SECRET_ACCESS_KEY": "integration-test-secret"}
pytestmark = pytest.mark.integration  # PostgreSQL, an S3 server and the MLflow server, for real

DB_PASSWORD = "s3cr3t/with:reserved@chars"  # the launcher must URL-quote it


def _mlflow_parts(recording):
    (deployment,) = [d for d in recording.of_type("kubernetes:apps/v1:Deployment") if d.inputs["metadata"]["name"] == "mlflow"]
    (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    (launcher,) = [c for c in recording.of_type("kubernetes:core/v1:ConfigMap") if c.name == "model-registry-launcher"]
    return container, launcher.inputs["data"]


def _swap(value: str, ports: dict[int, int]) -> str:
    """Cluster DNS names -> 127.0.0.1, and their service ports -> the local servers' ports."""

    def local(match: re.Match) -> str:
        return "127.0.0.1"

    value = CLUSTER_HOST.sub(local, value)
    return re.sub(r"127\.0\.0\.1:(\d+)", lambda m: f"127.0.0.1:{ports.get(int(m.group(1)), m.group(1))}", value)


def _local_env(container: dict, ports: dict[int, int], password_file: Path, tmp: Path) -> dict[str, str]:
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for item in container["env"]:
        name = item["name"]
        if "valueFrom" in item:
            env[name] = TEST_KEYS[item["valueFrom"]["secretKeyRef"]["key"]]
        elif name == "DB_PASSWORD_FILE":
            env[name] = str(password_file)  # the mounted Secret, locally
        elif name == "DB_PORT":
            env[name] = str(ports[int(item["value"])])
        elif name == "HOME":
            env[name] = str(tmp)
        else:
            env[name] = _swap(str(item["value"]), ports)
    return env


def _local_command(container: dict, launcher_data: dict, ports: dict[int, int], tmp: Path) -> list[str]:
    mount = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == "launcher")
    launcher_dir = tmp / "launcher"
    launcher_dir.mkdir()
    for name, text in launcher_data.items():
        (launcher_dir / name).write_text(text)
    command = [sys.executable if part == "python" else part.replace(mount, str(launcher_dir)) for part in container["command"]]
    args = [_swap(arg, ports).replace("/tmp/", f"{tmp}/") for arg in container["args"]]
    port_flag = args.index("--port")
    args[port_flag + 1] = str(ports[int(args[port_flag + 1])])
    return command + args


@pytest.fixture(scope="module")
def mlflow_server(rendered, tmp_path_factory):
    """The rendered dev MLflow container running against PostgreSQL and S3 on loopback."""
    require(
        subprocess.run([sys.executable, "-c", "import mlflow, boto3, psycopg2"], capture_output=True).returncode == 0,
        "mlflow, boto3, psycopg2",
    )
    import boto3

    container, launcher = _mlflow_parts(rendered("dev"))
    tmp = tmp_path_factory.mktemp("mlflow")
    env_by_name = {e["name"]: e.get("value") for e in container["env"]}
    db = {"user": env_by_name["DB_USER"], "password": DB_PASSWORD, "database": env_by_name["DB_NAME"]}
    with postgres(**db) as pg_port, s3_server() as s3_port:
        ports = {5432: pg_port, 9000: s3_port, 5000: free_port()}
        bucket_url = re.search(r"s3://([^/]+)/", " ".join(container["args"]))
        assert bucket_url, "the MLflow server's args name no s3:// artifact root"
        bucket = bucket_url.group(1)
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{s3_port}", region_name="us-east-1", **_boto_keys())
        s3.create_bucket(Bucket=bucket)
        password_file = tmp / "password"
        password_file.write_text(DB_PASSWORD + "\n")
        log = (tmp / "mlflow.log").open("w")
        process = subprocess.Popen(
            _local_command(container, launcher, ports, tmp),
            env=_local_env(container, ports, password_file, tmp),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{ports[5000]}"
        started = time.monotonic()
        try:
            wait_until(lambda: _alive(process, tmp) and http_ok(f"{url}/health"), "mlflow server", 120)
            yield {"url": url, "s3": s3, "bucket": bucket, "pg_port": pg_port, "db": db, "startup": time.monotonic() - started}
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()
            print((tmp / "mlflow.log").read_text()[-3000:])


def _alive(process: subprocess.Popen, tmp: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"mlflow server exited ({process.returncode}):\n{(tmp / 'mlflow.log').read_text()[-3000:]}")
    return True


def _boto_keys() -> dict[str, str]:
    return {"aws_access_key_id": TEST_KEYS["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": TEST_KEYS["AWS_SECRET_ACCESS_KEY"]}


def test_a_run_and_a_model_version_land_in_s3_and_postgres(mlflow_server, tmp_path):
    import mlflow
    import psycopg2
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server["url"])
    experiment = client.create_experiment("integration")
    run = client.create_run(experiment)
    payload = os.urandom(4096)
    (tmp_path / "weights.bin").write_bytes(payload)
    client.log_param(run.info.run_id, "alpha", "0.5")
    client.log_artifact(run.info.run_id, str(tmp_path / "weights.bin"), artifact_path="model")
    client.set_terminated(run.info.run_id)
    client.create_registered_model("churn")
    version = client.create_model_version("churn", f"runs:/{run.info.run_id}/model", run.info.run_id)
    assert version.version == "1"

    # The artifact went through the server's proxy into the models bucket, byte for byte.
    keys = [o["Key"] for o in mlflow_server["s3"].list_objects_v2(Bucket=mlflow_server["bucket"]).get("Contents", [])]
    (key,) = [k for k in keys if k.endswith(f"{run.info.run_id}/artifacts/model/weights.bin")]
    assert key.startswith("mlflow/"), "artifacts live under the configured prefix"
    assert mlflow_server["s3"].get_object(Bucket=mlflow_server["bucket"], Key=key)["Body"].read() == payload

    # The registry rows are in PostgreSQL, not in a local file store.
    db = mlflow_server["db"]
    with psycopg2.connect(
        host="127.0.0.1", port=mlflow_server["pg_port"], dbname=db["database"], user=db["user"], password=db["password"]
    ) as conn:
        with conn.cursor() as cursor:
            cursor.execute("select name, version, run_id from model_versions")
            assert cursor.fetchall() == [("churn", 1, run.info.run_id)]
            cursor.execute("select key, value from params where run_uuid = %s", (run.info.run_id,))
            assert cursor.fetchall() == [("alpha", "0.5")]
    assert mlflow.__version__ == "3.15.1", "the test must run the MLflow version the image pins"


def test_server_exposes_prometheus_metrics(mlflow_server):
    import urllib.request

    with urllib.request.urlopen(f"{mlflow_server['url']}/metrics", timeout=5) as response:
        body = response.read().decode()
    assert "flask_http_request" in body or "mlflow_http_request" in body


def test_server_rejects_unknown_host_headers(mlflow_server):
    import urllib.error
    import urllib.request

    # /health and /version answer any host (for probes); the API must not
    request = urllib.request.Request(
        f"{mlflow_server['url']}/api/2.0/mlflow/experiments/search?max_results=1", headers={"Host": "attacker.example.com"}
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code in (400, 403)
