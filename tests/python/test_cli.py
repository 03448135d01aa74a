"""The exact commands from the AWS CLI reference, against a running Cognate."""
import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess

import pytest

AWS = os.environ.get("COGNATE_AWS_CLI") or shutil.which("aws")
pytestmark = pytest.mark.skipif(AWS is None, reason="AWS CLI not installed")


@pytest.fixture
def aws(server, tmp_path):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDCOGNATETEST", AWS_SECRET_ACCESS_KEY="cognate-test-secret",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_CONFIG_FILE=str(tmp_path / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"))

    def run(*args, ok=True):
        p = subprocess.run([AWS, "cognito-idp", *args, "--endpoint-url", server.url, "--output", "json"],
                           env=env, capture_output=True, text=True, timeout=60)
        if ok:
            assert p.returncode == 0, p.stderr
            return json.loads(p.stdout) if p.stdout.strip() else {}
        assert p.returncode != 0
        return p.stderr
    return run


def test_pool_and_client_commands(aws):
    pool = aws("create-user-pool", "--pool-name", "cli-pool", "--auto-verified-attributes", "email")["UserPool"]
    client = aws("create-user-pool-client", "--user-pool-id", pool["Id"], "--client-name", "cli",
                 "--generate-secret")["UserPoolClient"]
    assert len(client["ClientSecret"]) == 51
    described = aws("describe-user-pool", "--user-pool-id", pool["Id"])["UserPool"]
    assert described["Name"] == "cli-pool"
    assert described["Policies"]["PasswordPolicy"]["RequireSymbols"] is True
    # Follow NextToken by hand: other tests share this server, so there may be many pools.
    ids, token = [], None
    while True:
        extra = ["--next-token", token] if token else []
        listed = aws("list-user-pools", "--max-results", "10", *extra)
        assert len(listed["UserPools"]) <= 10
        ids += [p["Id"] for p in listed["UserPools"]]
        token = listed.get("NextToken")
        if not token:
            break
    assert pool["Id"] in ids


def test_sign_up_confirm_resend_commands(aws, server, unique):
    pool = aws("create-user-pool", "--pool-name", "cli-flow", "--auto-verified-attributes", "email")["UserPool"]
    client = aws("create-user-pool-client", "--user-pool-id", pool["Id"], "--client-name", "cli",
                 "--generate-secret")["UserPoolClient"]
    cid, secret = client["ClientId"], client["ClientSecret"]
    name = unique("cli")
    sh = base64.b64encode(hmac.new(secret.encode(), (name + cid).encode(), hashlib.sha256).digest()).decode()
    out = aws("sign-up", "--client-id", cid, "--secret-hash", sh, "--username", name, "--password", "Passw0rd!",
              "--user-attributes", "Name=email,Value=cli@example.com",
              "--client-metadata", "source=cli",
              "--user-context-data", "IpAddress=198.51.100.1,EncodedData=abc",
              "--analytics-metadata", "AnalyticsEndpointId=ep-1")
    assert out["UserConfirmed"] is False
    assert out["CodeDeliveryDetails"]["Destination"] == "c***@e***"
    resent = aws("resend-confirmation-code", "--client-id", cid, "--secret-hash", sh, "--username", name,
                 "--client-metadata", "source=cli", "--user-context-data", "IpAddress=198.51.100.1",
                 "--analytics-metadata", "AnalyticsEndpointId=ep-1")
    assert resent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    code = server.last_code(pool["Id"], name)
    err = aws("confirm-sign-up", "--client-id", cid, "--secret-hash", sh, "--username", name,
              "--confirmation-code", "000000" if code != "000000" else "111111", ok=False)
    assert "CodeMismatchException" in err
    aws("confirm-sign-up", "--client-id", cid, "--secret-hash", sh, "--username", name,
        "--confirmation-code", code, "--client-metadata", "source=cli",
        "--user-context-data", "IpAddress=198.51.100.1", "--analytics-metadata", "AnalyticsEndpointId=ep-1")
    user = aws("admin-get-user", "--user-pool-id", pool["Id"], "--username", name)
    assert user["UserStatus"] == "CONFIRMED"


def test_initiate_auth_and_admin_initiate_auth_commands(aws, server, unique):
    pool = aws("create-user-pool", "--pool-name", "cli-signin", "--auto-verified-attributes", "email")["UserPool"]
    client = aws("create-user-pool-client", "--user-pool-id", pool["Id"], "--client-name", "cli",
                 "--explicit-auth-flows", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                 "ALLOW_REFRESH_TOKEN_AUTH")["UserPoolClient"]
    cid, name = client["ClientId"], unique("cli")
    aws("sign-up", "--client-id", cid, "--username", name, "--password", "Passw0rd!",
        "--user-attributes", "Name=email,Value=signin@example.com")
    aws("confirm-sign-up", "--client-id", cid, "--username", name,
        "--confirmation-code", server.last_code(pool["Id"], name))
    out = aws("initiate-auth", "--client-id", cid, "--auth-flow", "USER_PASSWORD_AUTH",
              "--auth-parameters", f"USERNAME={name},PASSWORD=Passw0rd!")
    tokens = out["AuthenticationResult"]
    assert tokens["TokenType"] == "Bearer" and tokens["ExpiresIn"] == 3600
    me = aws("get-user", "--access-token", tokens["AccessToken"])
    assert me["Username"] == name
    admin = aws("admin-initiate-auth", "--user-pool-id", pool["Id"], "--client-id", cid,
                "--auth-flow", "ADMIN_USER_PASSWORD_AUTH",
                "--auth-parameters", f"USERNAME={name},PASSWORD=Passw0rd!")
    assert admin["AuthenticationResult"]["IdToken"].count(".") == 2
    err = aws("initiate-auth", "--client-id", cid, "--auth-flow", "USER_PASSWORD_AUTH",
              "--auth-parameters", f"USERNAME={name},PASSWORD=Wr0ng-password", ok=False)
    assert "NotAuthorizedException" in err and "Incorrect username or password." in err
