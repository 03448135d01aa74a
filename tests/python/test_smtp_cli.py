"""With SMTP configured, `aws cognito-idp sign-up` sends a real email whose code confirms the
user (aiosmtpd as the mail server)."""
import email
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

import pytest
from aiosmtpd.controller import Controller

from conftest import BIN, free_port

AWS = os.environ.get("COGNATE_AWS_CLI") or shutil.which("aws")
pytestmark = pytest.mark.skipif(AWS is None, reason="AWS CLI not installed")


class Collect:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


def test_cli_sign_up_sends_real_email():
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
         "--smtp-url", f"smtp://127.0.0.1:{smtp.port}", "--email-from", "Cognate <no-reply@example.com>"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        cli_env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y", AWS_DEFAULT_REGION="us-east-1",
                       AWS_PAGER="", AWS_CONFIG_FILE=os.path.join(data.name, "c"),
                       AWS_SHARED_CREDENTIALS_FILE=os.path.join(data.name, "k"))

        def aws(*args):
            p = subprocess.run([AWS, "cognito-idp", *args, "--endpoint-url", url, "--output", "json"],
                               env=cli_env, capture_output=True, text=True, timeout=60)
            assert p.returncode == 0, p.stderr
            return json.loads(p.stdout) if p.stdout.strip() else {}

        pool = aws("create-user-pool", "--pool-name", "mail", "--auto-verified-attributes", "email")["UserPool"]
        client = aws("create-user-pool-client", "--user-pool-id", pool["Id"], "--client-name", "c")["UserPoolClient"]
        out = aws("sign-up", "--client-id", client["ClientId"], "--username", "mailer", "--password", "Passw0rd!",
                  "--user-attributes", "Name=email,Value=mailer@example.com")
        assert out["CodeDeliveryDetails"] == {"Destination": "m***@e***", "DeliveryMedium": "EMAIL",
                                              "AttributeName": "email"}
        assert len(handler.messages) == 1, "delivered before the call answered"
        rcpt, msg = handler.messages[0]
        assert rcpt == ["mailer@example.com"]
        assert msg["Subject"] == "Your verification code"
        assert "no-reply@example.com" in msg["From"]
        code = re.search(r"\b(\d{6})\b", msg.get_payload(decode=True).decode()).group(1)
        aws("confirm-sign-up", "--client-id", client["ClientId"], "--username", "mailer", "--confirmation-code", code)
        user = aws("admin-get-user", "--user-pool-id", pool["Id"], "--username", "mailer")
        assert user["UserStatus"] == "CONFIRMED"
    finally:
        proc.kill()
        proc.wait()
        smtp.stop()
        log.close()
        data.cleanup()
