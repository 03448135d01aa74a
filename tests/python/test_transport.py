"""Transport: HTTPS with --tls-cert/--tls-key through boto3 and the AWS CLI, and the connection
hygiene that keeps slow or oversized clients from exhausting the server (header and body read
timeouts, a connection limit, a bounded request head, malformed chunked framing) and the
graceful shutdown. The slow and broken clients are hand-built on raw sockets: no SDK sends
them."""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import boto3
import pytest
from botocore.config import Config

from conftest import Server

AWS = os.environ.get("COGNATE_AWS_CLI") or shutil.which("aws")
TARGET = "AWSCognitoIdentityProviderService."


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="module")
def tls_server(certificate):
    cert, key = certificate
    s = Server(extra_args=["--tls-cert", cert, "--tls-key", key], ca_file=cert)
    yield s
    s.stop()


def test_boto3_over_https_verifies_the_certificate_and_runs_the_flow(tls_server, certificate,
                                                                     unique):
    idp = boto3.client("cognito-idp", endpoint_url=tls_server.url, region_name="us-east-1",
                       aws_access_key_id="AKIDTEST", aws_secret_access_key="secret",
                       verify=certificate[0], config=Config(retries={"max_attempts": 1}))
    pool = idp.create_user_pool(PoolName=unique())["UserPool"]
    client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="c")["UserPoolClient"]
    idp.sign_up(ClientId=client["ClientId"], Username="tls-user", Password="Passw0rd!x",
                UserAttributes=[{"Name": "email", "Value": "tls@example.com"}])
    user = idp.admin_get_user(UserPoolId=pool["Id"], Username="tls-user")
    assert user["UserStatus"] == "UNCONFIRMED"
    # The token issuer and JWKS address follow the scheme the server is reached by.
    config = json.loads(_https_get(tls_server, f"/{pool['Id']}/.well-known/openid-configuration",
                                   certificate[0]))
    assert config["jwks_uri"].startswith("https://")


def _https_get(server, path, cafile):
    import urllib.request
    with urllib.request.urlopen(server.url + path, timeout=5,
                                context=ssl.create_default_context(cafile=cafile)) as r:
        return r.read()


def test_an_untrusted_certificate_is_refused_by_the_client(tls_server):
    idp = boto3.client("cognito-idp", endpoint_url=tls_server.url, region_name="us-east-1",
                       aws_access_key_id="AKIDTEST", aws_secret_access_key="secret",
                       config=Config(retries={"max_attempts": 1}))
    with pytest.raises(Exception) as e:
        idp.list_user_pools(MaxResults=1)
    assert "SSL" in repr(e.value) or "certificate" in repr(e.value).lower()


def test_the_aws_cli_over_https(tls_server, certificate, unique):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="secret",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    name = unique()
    out = subprocess.run(
        [AWS, "cognito-idp", "create-user-pool", "--pool-name", name, "--endpoint-url",
         tls_server.url, "--ca-bundle", certificate[0], "--output", "json"],
        env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["UserPool"]["Name"] == name


def test_plain_http_to_the_tls_port_gets_no_answer(tls_server):
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            data = s.recv(100)
        except (ConnectionResetError, socket.timeout):
            data = b""
        assert not data.startswith(b"HTTP/1.1 200")


@pytest.fixture(scope="module")
def strict_server():
    s = Server(extra_args=["--header-read-timeout-ms", "600", "--body-read-timeout-ms", "600",
                           "--max-header-bytes", "16384"])
    yield s
    s.stop()


def raw(server, timeout=5):
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def read_all(sock):
    chunks = []
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def status_and_body(response):
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, body


def test_a_half_sent_request_head_is_closed_after_the_header_timeout(strict_server):
    with raw(strict_server) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Tar")
        started = time.monotonic()
        data = read_all(s)
        waited = time.monotonic() - started
    assert waited < 4, "the connection was closed by the server's timeout, not ours"
    assert not data.startswith(b"HTTP/1.1 200")


def test_an_idle_connection_is_closed_after_the_header_timeout(strict_server):
    with raw(strict_server) as s:
        started = time.monotonic()
        assert read_all(s) == b""
        assert time.monotonic() - started < 4


def test_a_half_sent_body_is_answered_with_a_request_timeout(strict_server):
    body = b'{"ClientId": "abc"}'
    with raw(strict_server) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
                  b"X-Amz-Target: " + TARGET.encode() + b"SignUp\r\n"
                  b"Content-Length: " + str(len(body) + 50).encode() + b"\r\n\r\n" + body)
        status, payload = status_and_body(read_all(s))
    assert status == 408
    assert json.loads(payload)["__type"] == "RequestTimeoutException"


def test_a_half_sent_oauth_form_is_answered_with_a_request_timeout(strict_server):
    """The OAuth POST routes read their bodies within --body-read-timeout-ms too, and answer
    in the token endpoint's JSON error form."""
    body = b"grant_type=client_credentials&client_id=abc"
    for path in (b"/some-domain/oauth2/token", b"/some-domain/oauth2/revoke",
                 b"/oauth2/token"):
        with raw(strict_server) as s:
            s.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: some-domain.localhost\r\n"
                      b"Content-Type: application/x-www-form-urlencoded\r\n"
                      b"Content-Length: " + str(len(body) + 50).encode() + b"\r\n\r\n" + body)
            started = time.monotonic()
            response = read_all(s)
            waited = time.monotonic() - started
        status, payload = status_and_body(response)
        assert status == 408, response
        assert json.loads(payload) == {"error": "invalid_request"}
        assert b"application/json;charset=UTF-8" in response.partition(b"\r\n\r\n")[0]
        assert waited < 4, "answered by the server's body timeout"


def test_a_half_sent_page_form_is_answered_with_a_request_timeout(strict_server):
    """The managed-login pages' forms are read within --body-read-timeout-ms too (the body
    is read before the domain is looked up), answered with the error page."""
    body = b"_csrf=x&username=u&password=p"
    for path in (b"/some-domain/login", b"/some-domain/signup", b"/oauth2/authorize"):
        with raw(strict_server) as s:
            s.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: some-domain.localhost\r\n"
                      b"Content-Type: application/x-www-form-urlencoded\r\n"
                      b"Content-Length: " + str(len(body) + 50).encode() + b"\r\n\r\n" + body)
            started = time.monotonic()
            response = read_all(s)
            waited = time.monotonic() - started
        status, payload = status_and_body(response)
        assert status == 408, response
        assert b"text/html" in response.partition(b"\r\n\r\n")[0]
        assert waited < 4, "answered by the server's body timeout"


def test_an_oversized_request_head_is_refused(strict_server):
    with raw(strict_server) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
        response = read_all(s)
    assert response.startswith(b"HTTP/1.1 431")


def test_a_malformed_chunk_size_is_a_malformed_request_not_a_size_error(strict_server):
    with raw(strict_server) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
                  b"X-Amz-Target: " + TARGET.encode() + b"SignUp\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
        response = read_all(s)
    if response:  # hyper may also just close a connection whose framing it cannot parse
        status, payload = status_and_body(response)
        assert status == 400
        assert json.loads(payload)["__type"] == "SerializationException"


def test_connections_beyond_the_limit_wait_until_a_slot_frees():
    server = Server(extra_args=["--max-connections", "2", "--header-read-timeout-ms", "30000"])
    try:
        idle = [raw(server), raw(server)]
        time.sleep(0.2)
        waiting = raw(server, timeout=10)
        waiting.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        waiting.settimeout(0.5)
        with pytest.raises(socket.timeout):
            waiting.recv(100)
        idle[0].close()
        waiting.settimeout(10)
        assert read_all(waiting).startswith(b"HTTP/1.1 200")
        waiting.close()
        idle[1].close()
    finally:
        server.stop()


def test_sigterm_finishes_the_request_in_flight_then_exits():
    server = Server(extra_args=["--shutdown-grace-ms", "5000"])
    try:
        body = json.dumps({"MaxResults": 1}).encode()
        s = raw(server, timeout=10)
        # The request is in flight: its head is read and the handler waits for the body.
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
                  b"X-Amz-Target: " + TARGET.encode() + b"ListUserPools\r\n"
                  b"Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/"
                  b"cognito-idp/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc\r\n"
                  b"X-Amz-Date: 20260101T000000Z\r\n"
                  b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:3])
        time.sleep(0.3)
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert server.proc.poll() is None, "the server waits for the request in flight"
        # New connections are no longer accepted.
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", server.port), timeout=2).recv(1)
        s.sendall(body[3:])
        status, _ = status_and_body(read_all(s))
        s.close()
        assert status in (200, 400)
        assert server.proc.wait(timeout=10) == 0
        assert "stopped" in open(server.log.name).read()
    finally:
        server.stop()


def test_sigterm_with_a_stuck_client_exits_after_the_grace_period():
    server = Server(extra_args=["--shutdown-grace-ms", "700"])
    try:
        s = raw(server, timeout=10)
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
                  b"X-Amz-Target: " + TARGET.encode() + b"SignUp\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(0.3)
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        s.close()
    finally:
        server.stop()


def test_many_half_sent_requests_do_not_lock_out_real_clients(unique):
    """The probe's attack: thousands of half-sent requests held open. The connection limit
    keeps the server's descriptors bounded and the header timeout frees the slots, so a real
    client is served within about one timeout."""
    server = Server(extra_args=["--max-connections", "200", "--header-read-timeout-ms", "1000"])
    attackers = []
    try:
        for _ in range(600):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Tar")
            attackers.append(s)
        idp = boto3.client("cognito-idp", endpoint_url=server.url, region_name="us-east-1",
                           aws_access_key_id="AKIDTEST", aws_secret_access_key="secret",
                           config=Config(retries={"max_attempts": 1}, read_timeout=30,
                                         connect_timeout=30))
        started = time.monotonic()
        idp.create_user_pool(PoolName=unique())
        assert time.monotonic() - started < 15
        open_fds = len(os.listdir(f"/proc/{server.proc.pid}/fd"))
        assert open_fds < 200 + 100, f"{open_fds} descriptors open in the server"
    finally:
        for s in attackers:
            s.close()
        server.stop()
