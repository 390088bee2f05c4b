"""Entrypoint of the MLflow container: resolve the database password, then exec ``mlflow server``.

Shipped into the pod as a ConfigMap and run with the image's Python. The password comes from a
mounted Secret file (in-cluster PostgreSQL) or from the RDS-managed secret in Secrets Manager, so
no password is ever in the pod spec or in Pulumi state for RDS. Arguments are passed through to
``mlflow server``. Standard library only (boto3 is in the MLflow image for the RDS case).
"""

import json
import os
import sys
from urllib.parse import quote


def database_password(env) -> str:
    if env.get("DB_PASSWORD_FILE"):
        with open(env["DB_PASSWORD_FILE"]) as handle:
            return handle.read().strip()
    if env.get("DB_SECRET_ARN"):
        import boto3

        secret = boto3.client("secretsmanager").get_secret_value(SecretId=env["DB_SECRET_ARN"])
        return json.loads(secret["SecretString"])["password"]
    raise SystemExit("mlflow launcher: set DB_PASSWORD_FILE or DB_SECRET_ARN")


def backend_store_uri(env) -> str:
    password = quote(database_password(env), safe="")
    user = quote(env["DB_USER"], safe="")
    # The driver is named: SQLAlchemy's default for postgresql:// changes between releases,
    # and the image ships psycopg2.
    uri = f"postgresql+psycopg2://{user}:{password}@{env['DB_HOST']}:{env.get('DB_PORT', '5432')}/{env['DB_NAME']}"
    return f"{uri}?sslmode={env['DB_SSLMODE']}" if env.get("DB_SSLMODE") else uri


def main(argv) -> None:
    os.environ["MLFLOW_BACKEND_STORE_URI"] = backend_store_uri(os.environ)
    os.execvp("mlflow", ["mlflow", "server", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
