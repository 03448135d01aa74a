"""Account recovery over real SMTP (aiosmtpd as the mail server): a user signs up and confirms
with the code from the emailed sign-up message, ForgotPassword emails a second code, and that
code sets the new password through ConfirmForgotPassword; USER_PASSWORD_AUTH then accepts the
new password only. Driven with boto3."""
import email
import os
import re
import subprocess
import tempfile
import time
import urllib.request

import boto3
import pytest
from aiosmtpd.controller import Controller
from botocore.exceptions import ClientError

from conftest import BIN, free_port

PASSWORD = "Passw0rd!"
NEW_PASSWORD = "N3w-Passw0rd!"


class Collect:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


def emailed_code(message):
    return re.search(r"\b(\d{6})\b", message.get_payload(decode=True).decode()).group(1)


def test_forgot_password_over_real_email():
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
        idp = boto3.client("cognito-idp", endpoint_url=url, region_name="us-east-1",
                           aws_access_key_id="AKIDCOGNATETEST",
                           aws_secret_access_key="cognate-test-secret")
        pool = idp.create_user_pool(PoolName="mail-recovery",
                                    AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool, ClientName="c",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]

        signed_up = idp.sign_up(ClientId=client_id, Username="mailer", Password=PASSWORD,
                                UserAttributes=[{"Name": "email", "Value": "mailer@example.com"}])
        assert signed_up["CodeDeliveryDetails"] == {
            "Destination": "m***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
        assert len(handler.messages) == 1, "delivered before the call answered"
        rcpt, msg = handler.messages[0]
        assert rcpt == ["mailer@example.com"]
        assert "no-reply@example.com" in msg["From"]
        idp.confirm_sign_up(ClientId=client_id, Username="mailer",
                            ConfirmationCode=emailed_code(msg))
        user = idp.admin_get_user(UserPoolId=pool, Username="mailer")
        assert user["UserStatus"] == "CONFIRMED"
        assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]

        forgot = idp.forgot_password(ClientId=client_id, Username="mailer")
        assert forgot["CodeDeliveryDetails"] == {
            "Destination": "m***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
        assert len(handler.messages) == 2, "delivered before the call answered"
        rcpt, msg = handler.messages[1]
        assert rcpt == ["mailer@example.com"]
        assert "no-reply@example.com" in msg["From"]
        code = emailed_code(msg)
        assert code != emailed_code(handler.messages[0][1])  # 1 in a million to collide
        idp.confirm_forgot_password(ClientId=client_id, Username="mailer",
                                    ConfirmationCode=code, Password=NEW_PASSWORD)

        tokens = idp.initiate_auth(
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "mailer", "PASSWORD": NEW_PASSWORD})["AuthenticationResult"]
        assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == "mailer"
        with pytest.raises(ClientError) as e:
            idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": "mailer", "PASSWORD": PASSWORD})
        err = e.value.response["Error"]
        assert (err["Code"], err["Message"]) == ("NotAuthorizedException",
                                                 "Incorrect username or password.")
        assert len(handler.messages) == 2
    finally:
        proc.kill()
        proc.wait()
        smtp.stop()
        log.close()
        data.cleanup()
