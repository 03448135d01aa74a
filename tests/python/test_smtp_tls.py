"""SMTP over TLS for real: STARTTLS (`?tls=required`) and implicit TLS (`smtps://`) against
aiosmtpd with a certificate from a private CA, trusted through --smtp-ca-file; without the CA
the certificate is refused and the sign-up reports CodeDeliveryFailureException."""
import email
import os
import re
import ssl
import subprocess
import tempfile
import time
import urllib.request

import boto3
import pytest
from aiosmtpd.controller import Controller
from botocore.exceptions import ClientError

from conftest import BIN, free_port


def make_certs(d):
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Cognate Test CA",
        "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", f"{d}/server.key",
        "-out", f"{d}/server.csr")
    with open(f"{d}/ext.cnf", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", f"{d}/ext.cnf", "-out", f"{d}/server.pem")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(f"{d}/server.pem", f"{d}/server.key")
    return ctx


class Collect:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.messages.append((encrypted, email.message_from_bytes(envelope.content)))
        return "250 OK"


class Cognate:
    def __init__(self, d, smtp_url, ca=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [BIN, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", os.path.join(d, f"data{self.port}"),
                "--argon2-memory-kib", "1024", "--argon2-iterations", "1", "--smtp-url", smtp_url,
                "--email-from", "no-reply@example.com", "--delivery-timeout-ms", "3000"]
        if ca:
            args += ["--smtp-ca-file", ca]
        env = {k: v for k, v in os.environ.items() if k != "COGNATE_DATABASE_URL"}
        self.log = open(os.path.join(d, f"server{self.port}.log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        for _ in range(300):
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        self.idp = boto3.client("cognito-idp", endpoint_url=self.url, region_name="us-east-1",
                                aws_access_key_id="x", aws_secret_access_key="y")

    def sign_up(self, name):
        pool = self.idp.create_user_pool(PoolName="tls", AutoVerifiedAttributes=["email"])["UserPool"]
        client = self.idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="c")["UserPoolClient"]
        self.idp.sign_up(ClientId=client["ClientId"], Username=name, Password="Passw0rd!",
                         UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])
        return pool["Id"], client["ClientId"]

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def tls():
    d = tempfile.TemporaryDirectory()
    ctx = make_certs(d.name)
    yield d.name, ctx
    d.cleanup()


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_tls_delivery_with_a_private_ca(tls, mode):
    d, ctx = tls
    handler = Collect()
    port = free_port()
    if mode == "starttls":
        smtp = Controller(handler, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True)
        url = f"smtp://127.0.0.1:{port}?tls=required"
    else:
        smtp = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=ctx)
        url = f"smtps://127.0.0.1:{port}"
    smtp.start()
    server = Cognate(d, url, ca=f"{d}/ca.pem")
    try:
        pool_id, client_id = server.sign_up("tlsuser")
        assert len(handler.messages) == 1
        encrypted, msg = handler.messages[0]
        assert encrypted, "the message travelled over TLS"
        code = re.search(r"\b(\d{6})\b", msg.get_payload(decode=True).decode()).group(1)
        server.idp.confirm_sign_up(ClientId=client_id, Username="tlsuser", ConfirmationCode=code)
        assert server.idp.admin_get_user(UserPoolId=pool_id, Username="tlsuser")["UserStatus"] == "CONFIRMED"
    finally:
        server.stop()
        smtp.stop()


def test_untrusted_certificate_is_a_delivery_failure(tls):
    d, ctx = tls
    handler = Collect()
    port = free_port()
    smtp = Controller(handler, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True)
    smtp.start()
    server = Cognate(d, f"smtp://127.0.0.1:{port}?tls=required")
    try:
        with pytest.raises(ClientError) as e:
            server.sign_up("untrusted")
        assert e.value.response["Error"]["Code"] == "CodeDeliveryFailureException"
        assert handler.messages == []
    finally:
        server.stop()
        smtp.stop()
