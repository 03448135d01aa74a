"""Operability: Prometheus metrics at /metrics (requests by operation and outcome, latency,
delivery errors) and the liveness/readiness split of /health."""
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Server, free_port


def get(server, path):
    with urllib.request.urlopen(server.url + path, timeout=5) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def metric(text, name, labels):
    """The value of one sample, or None."""
    want = name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
    for line in text.splitlines():
        if line.startswith(want + " "):
            return float(line.split(" ")[1])
    return None


@pytest.fixture(scope="module")
def failing_smtp_server():
    # Nothing listens on this port, so every email fails to deliver.
    s = Server(extra_args=["--smtp-url", f"smtp://127.0.0.1:{free_port()}",
                           "--email-from", "no-reply@example.com"])
    yield s
    s.stop()


def test_requests_are_counted_by_operation_and_outcome(server, idp, unique):
    pool = idp.create_user_pool(PoolName=unique())["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]
    _, _, before = get(server, "/metrics")
    ok_before = metric(before, "cognate_requests_total",
                       {"operation": "SignUp", "outcome": "ok"}) or 0
    idp.sign_up(ClientId=client["ClientId"], Username="m1", Password="Passw0rd!x")
    with pytest.raises(ClientError):
        idp.sign_up(ClientId=client["ClientId"], Username="m1", Password="Passw0rd!x")
    status, content_type, text = get(server, "/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
    assert metric(text, "cognate_requests_total",
                  {"operation": "SignUp", "outcome": "ok"}) == ok_before + 1
    assert metric(text, "cognate_requests_total",
                  {"operation": "SignUp", "outcome": "UsernameExistsException"}) >= 1
    assert metric(text, "cognate_request_duration_seconds_count",
                  {"operation": "SignUp"}) >= 2
    assert "cognate_store_errors_total 0" in text


def test_delivery_errors_are_counted(failing_smtp_server, unique):
    idp = boto3.client("cognito-idp", endpoint_url=failing_smtp_server.url,
                       region_name="us-east-1", aws_access_key_id="AKIDTEST",
                       aws_secret_access_key="secret", config=Config(retries={"max_attempts": 1}))
    pool = idp.create_user_pool(PoolName=unique(), AutoVerifiedAttributes=["email"])
    pool = pool["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=client["ClientId"], Username="d1", Password="Passw0rd!x",
                    UserAttributes=[{"Name": "email", "Value": "d1@example.com"}])
    assert e.value.response["Error"]["Code"] == "CodeDeliveryFailureException"
    _, _, text = get(failing_smtp_server, "/metrics")
    assert metric(text, "cognate_delivery_errors_total", {"medium": "email"}) == 1


def test_liveness_and_readiness(server):
    assert get(server, "/health/live")[0] == 200
    status, _, body = get(server, "/health/ready")
    assert status == 200 and '"ok"' in body
    assert get(server, "/health")[0] == 200
