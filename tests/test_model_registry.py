"""ModelRegistry: MLflow wiring, in-cluster PostgreSQL for dev, protected RDS for prod, and the
launcher's two ways to get the database password."""

from __future__ import annotations

import json

import pytest

from components.data import mlflow_launcher
from offline.render import kubernetes_objects


def _deployment(recording):
    (deployment,) = [d for d in recording.of_type("kubernetes:apps/v1:Deployment") if d.inputs["metadata"]["name"] == "mlflow"]
    return deployment


def _container(recording):
    return _deployment(recording).inputs["spec"]["template"]["spec"]["containers"][0]


def _env(recording) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in _container(recording)["env"]}


def test_dev_runs_mlflow_on_in_cluster_postgres_and_minio(rendered):
    dev = rendered("dev")
    container = _container(dev)
    assert container["image"] == "burakince/mlflow:3.15.1"
    args = container["args"]
    assert args[args.index("--artifacts-destination") + 1] == "s3://ai-platform-models/mlflow"
    assert "--serve-artifacts" in args
    env = _env(dev)
    assert env["DB_HOST"] == "model-registry-db.mlflow.svc.cluster.local"
    assert env["MLFLOW_S3_ENDPOINT_URL"] == "http://minio.minio.svc.cluster.local:9000"
    assert env["AWS_ACCESS_KEY_ID"] == {"secretKeyRef": {"name": "model-registry-artifacts-s3", "key": "AWS_ACCESS_KEY_ID"}}
    assert "DB_SECRET_ARN" not in env
    (statefulset,) = dev.of_type("kubernetes:apps/v1:StatefulSet")
    assert statefulset.inputs["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "10Gi"


def test_prod_runs_mlflow_on_protected_rds_with_a_managed_password(rendered):
    prod = rendered("prod")
    (instance,) = prod.of_type("aws:rds/instance:Instance")
    inputs = instance.inputs
    assert inputs["manageMasterUserPassword"] is True
    assert "password" not in inputs
    assert inputs["storageEncrypted"] is True and inputs["publiclyAccessible"] is False
    assert inputs["deletionProtection"] is True and inputs["multiAz"] is True
    assert inputs["backupRetentionPeriod"] >= 7
    assert inputs["skipFinalSnapshot"] is False
    assert instance.protect and instance.retain_on_delete
    env = _env(prod)
    assert env["DB_SECRET_ARN"].startswith("arn:aws:secretsmanager:")
    assert env["DB_SSLMODE"] == "require"
    assert "MLFLOW_S3_ENDPOINT_URL" not in env, "on AWS the SDK's own S3 endpoint is used"
    policy = json.loads(prod.named("aws:iam/rolePolicy:RolePolicy", "model-registry-role").inputs["policy"])
    assert policy["Statement"] == [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": env["DB_SECRET_ARN"]}]


def test_prod_database_accepts_only_the_cluster(rendered):
    prod = rendered("prod")
    (group,) = [g for g in prod.of_type("aws:ec2/securityGroup:SecurityGroup") if g.name == "model-registry-db"]
    assert "ingress" not in group.inputs
    (rule,) = [
        r for r in prod.of_type("aws:ec2/securityGroupRule:SecurityGroupRule") if r.inputs.get("securityGroupId") == group.name + "-id"
    ]
    assert (rule.inputs["type"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("ingress", 5432, 5432)
    assert "cidrBlocks" not in rule.inputs and rule.inputs["sourceSecurityGroupId"].startswith("sg-")


def test_prod_database_does_not_wait_for_the_cluster(rendered):
    prod = rendered("prod")
    (instance,) = prod.of_type("aws:rds/instance:Instance")
    cluster = prod.named("aws:eks/cluster:Cluster", "ai-prod").urn
    assert cluster not in instance.dependencies


def test_one_role_carries_both_the_secret_and_the_artifacts_grant(rendered):
    prod = rendered("prod")
    role = prod.named("aws:iam/role:Role", "model-registry-role")
    artifacts = prod.named("aws:iam/rolePolicy:RolePolicy", "model-registry-artifacts")
    assert role.urn in artifacts.property_dependencies["role"]
    associations = [
        a for a in prod.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation") if a.inputs["serviceAccount"] == "mlflow"
    ]
    assert len(associations) == 1
    deployment = _deployment(prod)
    assert {role.urn, artifacts.urn, associations[0].urn} <= set(deployment.dependencies)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_mlflow_is_cluster_internal_probed_and_hardened(rendered, stack):
    recording = rendered(stack)
    objects = kubernetes_objects(recording)["model-registry"]
    services = [o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == "mlflow"]
    assert services[0]["spec"]["type"] == "ClusterIP"
    container = _container(recording)
    assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(container)
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    pod = _deployment(recording).inputs["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    namespaces = [o for o in objects if o["kind"] == "Namespace"]
    assert namespaces[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_launcher_reads_the_password_file_and_quotes_it(tmp_path):
    (tmp_path / "password").write_text("p@ss/word:1\n")
    env = {"DB_PASSWORD_FILE": str(tmp_path / "password"), "DB_USER": "mlflow", "DB_HOST": "db", "DB_NAME": "mlflow"}
    assert mlflow_launcher.backend_store_uri(env) == "postgresql+psycopg2://mlflow:p%40ss%2Fword%3A1@db:5432/mlflow"


def test_launcher_reads_the_rds_managed_secret():
    moto = pytest.importorskip("moto")
    import boto3

    with moto.mock_aws():
        client = boto3.client("secretsmanager", region_name="us-west-2")
        arn = client.create_secret(Name="rds!db", SecretString=json.dumps({"username": "mlflow", "password": "x%y"}))["ARN"]
        env = {
            "DB_SECRET_ARN": arn,
            "DB_USER": "mlflow",
            "DB_HOST": "db",
            "DB_NAME": "mlflow",
            "DB_SSLMODE": "require",
            "AWS_DEFAULT_REGION": "us-west-2",
        }
        import os

        os.environ.setdefault("AWS_DEFAULT_REGION", "us-west-2")
        assert mlflow_launcher.backend_store_uri(env) == "postgresql+psycopg2://mlflow:x%25y@db:5432/mlflow?sslmode=require"


def test_launcher_refuses_to_start_without_a_password_source():
    with pytest.raises(SystemExit, match="DB_PASSWORD_FILE or DB_SECRET_ARN"):
        mlflow_launcher.backend_store_uri({"DB_USER": "u", "DB_HOST": "h", "DB_NAME": "d"})


def test_database_key_outlives_the_database_for_its_final_snapshot():
    from components.data.rds_postgres import RdsPostgres
    from tests.conftest import run_components

    recording = run_components(
        lambda: RdsPostgres("db", {"subnet_ids": ["s-1", "s-2"], "vpc_id": "vpc-1", "client_security_group_id": "sg-1", "protect": False})
    )
    key = recording.named("aws:kms/key:Key", "db-storage")
    instance = recording.named("aws:rds/instance:Instance", "db")
    assert key.retain_on_delete and not key.protect
    assert not instance.protect and instance.inputs["finalSnapshotIdentifier"].startswith("db-final-")


def test_rds_without_a_cluster_is_rejected_before_anything_registers():
    from components.core.problems import InputError
    from components.data.model_registry import ModelRegistry
    from offline.mockruntime import Recording, run_program

    recording = Recording(stack="test")
    with pytest.raises(InputError, match=r"cluster: required with database 'rds'"):
        run_program(lambda: ModelRegistry("registry", {"store": object(), "database": "rds"}), stack="test", config={}, recording=recording)
    assert recording.registrations == []


def test_database_follows_the_cluster_when_unset():
    from components.data.model_registry import ModelRegistryArgs

    assert ModelRegistryArgs.model_validate({"store": object()}).effective_database == "in-cluster"
    assert ModelRegistryArgs.model_validate({"store": object(), "cluster": object()}).effective_database == "rds"
    chosen = ModelRegistryArgs.model_validate({"store": object(), "cluster": object(), "database": "in-cluster", "protect": False})
    assert (chosen.effective_database, chosen.effective_protect) == ("in-cluster", False)


def test_a_database_connection_names_exactly_one_password_source():
    from components.core.contracts import DatabaseConnection

    with pytest.raises(ValueError, match="exactly one password source"):
        DatabaseConnection(kind="rds", host="h", port=5432, name="d", user="u")
    with pytest.raises(ValueError, match="exactly one password source"):
        DatabaseConnection(kind="rds", host="h", port=5432, name="d", user="u", password_secret="s", password_secret_arn="arn")
