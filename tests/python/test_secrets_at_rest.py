"""Secrets at rest: signing keys, client secrets and server secrets are sealed with the master
key (generated owner-only in the data directory on first start, or given by
--master-key-file); the API still works through them; a server with another key refuses to
start; `cognate rotate-master-key` re-seals under a new key and the server works on."""
import base64
import hashlib
import hmac
import os
import shutil
import sqlite3
import stat
import subprocess
import tempfile

import jwt
import pytest

from conftest import BIN, Server

POSTGRES = os.environ.get("COGNATE_TEST_DATABASE_URL")
PASSWORD = "Passw0rd!x"


def rows(server, sql):
    """Rows of the server's database, blobs as bytes."""
    if POSTGRES:
        out = subprocess.run(["psql", POSTGRES, "-At", "-F", "\t", "-c", sql], check=True,
                             capture_output=True, text=True).stdout
        return [tuple(bytes.fromhex(v[2:]) if v.startswith("\\x") else v
                      for v in line.split("\t")) for line in out.splitlines()]
    with sqlite3.connect(os.path.join(server.data_dir, "cognate.db")) as db:
        return [tuple(bytes(v) if isinstance(v, (bytes, memoryview)) else v for v in r)
                for r in db.execute(sql).fetchall()]


def secret_hash(username, client_id, secret):
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def pool_client_user(idp, unique):
    pool = idp.create_user_pool(PoolName=unique())["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="c", GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    idp.admin_create_user(UserPoolId=pool, Username="sealed-user", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="sealed-user", Password=PASSWORD,
                                Permanent=True)
    return pool, client


def sign_in(idp, pool, client):
    return idp.admin_initiate_auth(
        UserPoolId=pool, ClientId=client["ClientId"], AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "sealed-user", "PASSWORD": PASSWORD,
                        "SECRET_HASH": secret_hash("sealed-user", client["ClientId"],
                                                   client["ClientSecret"])},
    )["AuthenticationResult"]


def verified_claims(server, pool, token):
    keys = jwt.PyJWKClient(f"{server.url}/{pool}/.well-known/jwks.json")
    return jwt.decode(token, keys.get_signing_key_from_jwt(token).key, algorithms=["RS256"],
                      options={"verify_aud": False})


def test_secrets_are_sealed_in_the_database_and_work_through_the_api(server, idp, unique):
    pool, client = pool_client_user(idp, unique)
    tokens = sign_in(idp, pool, client)
    assert verified_claims(server, pool, tokens["AccessToken"])["username"] == "sealed-user"
    described = idp.describe_user_pool_client(UserPoolId=pool, ClientId=client["ClientId"])
    assert described["UserPoolClient"]["ClientSecret"] == client["ClientSecret"]

    (config,), = rows(server, f"SELECT config FROM user_pool_clients "
                              f"WHERE client_id = '{client['ClientId']}'")
    assert client["ClientSecret"] not in config
    assert '"ClientSecret":"sealed:v1:' in config
    keys = rows(server, f"SELECT private_key FROM signing_keys WHERE pool_id = '{pool}'")
    assert keys and all(k.startswith(b"CGS1") for (k,) in keys)
    secrets = rows(server, "SELECT value FROM server_secrets")
    assert secrets and all(v.startswith(b"CGS1") for (v,) in secrets)


@pytest.mark.skipif(bool(POSTGRES), reason="a shared PostgreSQL database has the suite's key")
def test_a_first_start_generates_an_owner_only_master_key_in_the_data_directory(server):
    path = os.path.join(server.data_dir, "master.key")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    lines = [l for l in open(path).read().splitlines() if l and not l.startswith("#")]
    assert len(lines) == 1
    key_id, key = lines[0].split()
    assert len(base64.b64decode(key)) == 32
    # The key never reaches the log.
    assert key not in open(server.log.name).read()


@pytest.mark.skipif(bool(POSTGRES), reason="restarts on one SQLite data directory")
def test_another_master_key_refuses_to_start_and_a_rotation_keeps_everything_working(unique):
    import boto3
    from botocore.config import Config
    data = tempfile.mkdtemp()
    try:
        first = Server(data_dir=data)
        idp = boto3.client("cognito-idp", endpoint_url=first.url, region_name="us-east-1",
                           aws_access_key_id="AKIDTEST", aws_secret_access_key="secret",
                           config=Config(retries={"max_attempts": 1}))
        pool, client = pool_client_user(idp, unique)
        old_tokens = sign_in(idp, pool, client)
        first.stop()

        # Another key file: the start stops at the first sealed secret, naming only key ids.
        other = os.path.join(data, "other.key")
        out = subprocess.run([BIN, "rotate-master-key", "--data-dir", data,
                              "--master-key-file", other], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode != 0  # no such file to rotate
        open(other, "w").write("kother " + base64.b64encode(os.urandom(32)).decode() + "\n")
        refused = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", data,
                                  "--master-key-file", other], capture_output=True, text=True,
                                 timeout=60)
        assert refused.returncode != 0
        own_key = open(os.path.join(data, "master.key")).read().split()[-1]
        assert "master key" in refused.stderr + refused.stdout
        assert own_key not in refused.stderr + refused.stdout

        rotated = subprocess.run([BIN, "rotate-master-key", "--data-dir", data],
                                 capture_output=True, text=True, timeout=60)
        assert rotated.returncode == 0, rotated.stderr
        assert "re-sealed 1 server secret(s), 2 signing key(s), 1 client secret(s)" in \
            rotated.stdout
        lines = [l for l in open(os.path.join(data, "master.key")).read().splitlines()
                 if l and not l.startswith("#")]
        assert len(lines) == 2
        new_id = lines[0].split()[0]
        with sqlite3.connect(os.path.join(data, "cognate.db")) as db:
            for (value,) in db.execute("SELECT private_key FROM signing_keys"):
                assert bytes(value)[5:5 + len(new_id)] == new_id.encode()

        again = Server(data_dir=data)
        try:
            idp = boto3.client("cognito-idp", endpoint_url=again.url, region_name="us-east-1",
                               aws_access_key_id="AKIDTEST", aws_secret_access_key="secret",
                               config=Config(retries={"max_attempts": 1}))
            described = idp.describe_user_pool_client(UserPoolId=pool, ClientId=client["ClientId"])
            assert described["UserPoolClient"]["ClientSecret"] == client["ClientSecret"]
            # Tokens signed before the rotation still verify; new sign-ins work.
            assert verified_claims(again, pool, old_tokens["IdToken"])["cognito:username"] == \
                "sealed-user"
            assert sign_in(idp, pool, client)["AccessToken"]
        finally:
            again.stop()
    finally:
        shutil.rmtree(data, ignore_errors=True)
