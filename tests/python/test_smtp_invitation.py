"""An AdminCreateUser invitation over real SMTP (aiosmtpd as the mail server), end to end: the
administrator creates a user in a group with a role, the emailed invitation carries the
temporary password, pycognito's SRP sign-in meets NEW_PASSWORD_REQUIRED and answers it with a
new password, and the ID token it gets verifies with PyJWT against the pool's JWKS and names
the group and its role."""
import os
import re
import subprocess
import tempfile
import time
import urllib.request

import boto3
import jwt
import pytest
from aiosmtpd.controller import Controller
from pycognito import Cognito
from pycognito.exceptions import ForceChangePasswordException

from conftest import BIN, free_port
from test_smtp_recovery import Collect

NEW_PASSWORD = "N3w-Passw0rd!"
ROLE = "arn:aws:iam::123456789012:role/staff"
CREDENTIALS = {"aws_access_key_id": "AKIDCOGNATETEST",
               "aws_secret_access_key": "cognate-test-secret"}


@pytest.fixture
def mail():
    """(server URL, the aiosmtpd handler): a Cognate sending email through aiosmtpd. Its
    clock is the wall clock (no --test-clock), as pycognito's SRP timestamps need."""
    handler = Collect()
    smtp = Controller(handler, hostname="127.0.0.1", port=free_port())
    smtp.start()
    data = tempfile.TemporaryDirectory()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(os.path.join(data.name, "server.log"), "w")
    env = {k: v for k, v in os.environ.items() if k != "COGNATE_DATABASE_URL"}
    proc = subprocess.Popen(
        [BIN, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(data.name, "d"),
         "--argon2-memory-kib", "1024", "--argon2-iterations", "1",
         "--smtp-url", f"smtp://127.0.0.1:{smtp.port}",
         "--email-from", "Cognate <no-reply@example.com>"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/health", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("cognate did not start: " + open(log.name).read())
                time.sleep(0.05)
        yield url, handler
    finally:
        proc.kill()
        proc.wait()
        smtp.stop()
        log.close()
        data.cleanup()


def test_invitation_over_real_email_then_new_password_with_pycognito(mail):
    url, handler = mail
    idp = boto3.client("cognito-idp", endpoint_url=url, region_name="us-east-1", **CREDENTIALS)
    pool = idp.create_user_pool(PoolName="mail-invite")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="c",
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH",
                           "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.create_group(UserPoolId=pool, GroupName="staff", Precedence=1, RoleArn=ROLE)

    user = idp.admin_create_user(
        UserPoolId=pool, Username="invitee",
        UserAttributes=[{"Name": "email", "Value": "invitee@example.com"},
                        {"Name": "email_verified", "Value": "true"}],
        DesiredDeliveryMediums=["EMAIL"])["User"]
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert len(handler.messages) == 1, "delivered before the call answered"
    idp.admin_add_user_to_group(UserPoolId=pool, Username="invitee", GroupName="staff")

    rcpt, msg = handler.messages[0]
    assert rcpt == ["invitee@example.com"]
    assert "no-reply@example.com" in msg["From"]
    assert msg["Subject"] == "Your temporary password"
    body = msg.get_payload(decode=True).decode()
    temporary = re.search(r"temporary password is (\S+)\. ", body).group(1)
    assert body.strip() == f"Your username is invitee and temporary password is {temporary}."
    assert len(temporary) >= 8

    cognito = Cognito(pool, client_id, username="invitee", user_pool_region="us-east-1",
                      boto3_client_kwargs={"endpoint_url": url, **CREDENTIALS})
    with pytest.raises(ForceChangePasswordException):
        cognito.authenticate(password=temporary)
    assert idp.admin_get_user(UserPoolId=pool, Username="invitee")["UserStatus"] == \
        "FORCE_CHANGE_PASSWORD"
    cognito.new_password_challenge(password=temporary, new_password=NEW_PASSWORD)
    assert cognito.id_token and cognito.access_token and cognito.refresh_token
    assert idp.admin_get_user(UserPoolId=pool, Username="invitee")["UserStatus"] == "CONFIRMED"

    token = cognito.id_token
    key = jwt.PyJWKClient(f"{url}/{pool}/.well-known/jwks.json").get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=client_id,
                        issuer=f"{url}/{pool}")
    assert claims["token_use"] == "id"
    assert claims["cognito:username"] == "invitee"
    assert claims["email"] == "invitee@example.com"
    assert claims["cognito:groups"] == ["staff"]
    assert claims["cognito:preferred_role"] == ROLE
    assert idp.get_user(AccessToken=cognito.access_token)["Username"] == "invitee"

    # The new password is the password now: SRP signs in without a challenge.
    cognito.authenticate(password=NEW_PASSWORD)
    assert cognito.id_claims["cognito:groups"] == ["staff"]
    assert len(handler.messages) == 1
