"""SigV4 on the signed (admin) operations, as boto3, botocore's signer and the AWS CLI sign
them: with access keys configured (here through the environment) the server verifies every
signature and answers AWS's errors; operations the model leaves unsigned ignore signatures."""
import json
import os
import shutil
import subprocess

import urllib.error
import urllib.request

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import Server

KEY, SECRET = "AKIDCOGNATEADMIN", "s3cret-admin-key"
MISMATCH = ("InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check "
            "your AWS Secret Access Key and signing method. Consult the service documentation for "
            "details.")
AWS = os.environ.get("COGNATE_AWS_CLI") or shutil.which("aws")


@pytest.fixture(scope="module")
def signed_server():
    s = Server(extra_env={"COGNATE_ACCESS_KEY_ID": KEY, "COGNATE_SECRET_ACCESS_KEY": SECRET})
    yield s
    s.stop()


def client(server, key=KEY, secret=SECRET, token=None):
    return boto3.client("cognito-idp", endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token, config=Config(retries={"max_attempts": 1}))


def error(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_boto3_with_the_configured_key(signed_server):
    idp = client(signed_server)
    pool = idp.create_user_pool(PoolName="signed")["UserPool"]["Id"]
    assert idp.describe_user_pool(UserPoolId=pool)["UserPool"]["Name"] == "signed"
    # A session token is signed along (and so checked as part of the signature).
    assert "UserPools" in client(signed_server, token="a-session-token").list_user_pools(MaxResults=1)


def test_boto3_refusals(signed_server):
    assert error(lambda: client(signed_server, secret="wrong").list_user_pools(MaxResults=1)) == MISMATCH
    assert error(lambda: client(signed_server, key="AKIDUNKNOWN").list_user_pools(MaxResults=1)) == (
        "UnrecognizedClientException", "The security token included in the request is invalid.")
    # A forged Authorization header with any key runs nothing.
    request = urllib.request.Request(
        signed_server.url, method="POST", data=b'{"MaxResults": 1}',
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools",
                 "X-Amz-Date": "20261206T120000Z",
                 "Authorization": f"AWS4-HMAC-SHA256 Credential={KEY}/20261206/us-east-1/cognito-idp/"
                                  "aws4_request, SignedHeaders=host;x-amz-date, Signature=00"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request)
    assert json.load(e.value)["__type"] == "InvalidSignatureException"


def signed_request(server, url_suffix, headers, body, secret=SECRET, scope_region="us-east-1"):
    """A request signed by botocore's own SigV4 signer, sent as it is."""
    request = AWSRequest(method="POST", url=server.url + url_suffix, data=body, headers=headers)
    SigV4Auth(Credentials(KEY, secret), "cognito-idp", scope_region).add_auth(request)
    prepared = request.prepare()
    raw = urllib.request.Request(prepared.url, method="POST", data=body, headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(raw) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def test_query_strings_and_header_casing_are_canonicalised(signed_server):
    headers = {"CONTENT-TYPE": "application/x-amz-json-1.1",
               "x-AMZ-target": "AWSCognitoIdentityProviderService.ListUserPools",
               "X-Custom-Header": "  spaced   value  "}
    body = b'{"MaxResults": 1}'
    status, answer = signed_request(signed_server, "/?b=2&a=1&a=0&empty=", headers, body)
    assert status == 200, answer
    assert "UserPools" in answer
    status, answer = signed_request(signed_server, "/?b=2", headers, body, secret="wrong")
    assert (status, answer["__type"]) == (400, "InvalidSignatureException")
    status, answer = signed_request(signed_server, "/", headers, body, scope_region="eu-west-1")
    assert (status, answer["__type"], answer["message"]) == (
        400, "InvalidSignatureException", "Credential should be scoped to a valid region. ")


def test_unsigned_operations_ignore_signatures(signed_server):
    stranger = client(signed_server, key="AKIDUNKNOWN", secret="x")
    assert error(lambda: stranger.initiate_auth(
        ClientId="nosuchclient", AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "a", "PASSWORD": "b"}))[0] == "ResourceNotFoundException"


@pytest.mark.skipif(AWS is None, reason="AWS CLI not installed")
def test_aws_cli_signs_with_its_credentials(signed_server, tmp_path):
    def run(key, secret):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_MAX_ATTEMPTS="1",
                   AWS_CONFIG_FILE=str(tmp_path / "config"),
                   AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"))
        return subprocess.run([AWS, "cognito-idp", "list-user-pools", "--max-results", "5",
                               "--endpoint-url", signed_server.url, "--output", "json"],
                              env=env, capture_output=True, text=True, timeout=60)
    ok = run(KEY, SECRET)
    assert ok.returncode == 0, ok.stderr
    assert "UserPools" in json.loads(ok.stdout)
    refused = run(KEY, "wrong")
    assert refused.returncode != 0
    assert "InvalidSignatureException" in refused.stderr
