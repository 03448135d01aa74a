"""Request-rate quotas by AWS's categories (--quotas): per pool, TooManyRequestsException
with AWS's message once a category's rate is used up, boto3's view of it, and off by
default."""
import subprocess
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import BIN, Server

PASSWORD = "Passw0rd!x"


@pytest.fixture(scope="module")
def throttled():
    s = Server(extra_args=["--quotas", "UserCreation=3,UserList=2,UserAuthentication=2"])
    yield s
    s.stop()


def no_retry_client(server):
    # boto3 retries throttling errors; one attempt shows what the server answered.
    return boto3.client("cognito-idp", endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id="AKIDTEST", aws_secret_access_key="secret",
                        config=Config(retries={"total_max_attempts": 1}))


def pool_with_clients(idp, unique, clients=1):
    pool = idp.create_user_pool(PoolName=unique())["UserPool"]["Id"]
    ids = [idp.create_user_pool_client(
        UserPoolId=pool, ClientName=f"c{i}",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"] for i in range(clients)]
    return pool, ids


def sign_up(idp, client, name):
    return idp.sign_up(ClientId=client, Username=name, Password=PASSWORD,
                       UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])


def assert_throttled(call):
    with pytest.raises(ClientError) as e:
        call()
    err = e.value.response
    assert err["Error"]["Code"] == "TooManyRequestsException"
    assert err["Error"]["Message"] == "Rate exceeded"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_category_is_throttled_per_pool_and_refills(throttled, unique):
    idp = no_retry_client(throttled)
    pool_a, (client_a,) = pool_with_clients(idp, unique)
    pool_b, (client_b,) = pool_with_clients(idp, unique)
    for i in range(3):
        sign_up(idp, client_a, f"a{i}")
    assert_throttled(lambda: sign_up(idp, client_a, "a3"))
    # Nothing was written by the refused call.
    with pytest.raises(ClientError) as e:
        idp.admin_get_user(UserPoolId=pool_a, Username="a3")
    assert e.value.response["Error"]["Code"] == "UserNotFoundException"
    # Another pool has its own allowance; so has another category of the same pool.
    sign_up(idp, client_b, "b0")
    idp.admin_get_user(UserPoolId=pool_a, Username="a0")
    # The bucket refills at the configured rate.
    time.sleep(1.1)
    sign_up(idp, client_a, "a4")


def test_the_clients_of_one_pool_share_its_allowance(throttled, unique):
    idp = no_retry_client(throttled)
    pool, (c1, c2) = pool_with_clients(idp, unique, clients=2)
    idp.admin_create_user(UserPoolId=pool, Username="u", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="u", Password=PASSWORD, Permanent=True)
    time.sleep(1.1)  # AdminCreateUser used UserCreation, not UserAuthentication; start clean
    auth = {"USERNAME": "u", "PASSWORD": PASSWORD}
    idp.initiate_auth(ClientId=c1, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=auth)
    idp.initiate_auth(ClientId=c2, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=auth)
    assert_throttled(lambda: idp.initiate_auth(ClientId=c1, AuthFlow="USER_PASSWORD_AUTH",
                                               AuthParameters=auth))


def test_list_users_has_its_own_category(throttled, unique):
    idp = no_retry_client(throttled)
    pool, _ = pool_with_clients(idp, unique)
    idp.list_users(UserPoolId=pool)
    idp.list_users(UserPoolId=pool)
    assert_throttled(lambda: idp.list_users(UserPoolId=pool))


def test_boto3_with_its_default_retries_rides_out_a_short_burst(throttled, unique):
    idp = no_retry_client(throttled)
    pool, (client,) = pool_with_clients(idp, unique)
    retrying = boto3.client("cognito-idp", endpoint_url=throttled.url, region_name="us-east-1",
                            aws_access_key_id="AKIDTEST", aws_secret_access_key="secret",
                            config=Config(retries={"mode": "standard", "total_max_attempts": 6}))
    for i in range(5):
        sign_up(retrying, client, f"r{i}")
    assert len(idp.list_users(UserPoolId=pool)["Users"]) == 5


def test_quotas_are_off_by_default(idp, unique):
    pool, (client,) = pool_with_clients(idp, unique)
    for i in range(60):
        sign_up(idp, client, f"n{i}")


def test_a_bad_quota_specification_refuses_to_start():
    out = subprocess.run([BIN, "serve", "--quotas", "UserCreation=fast"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode != 0
    assert "UserCreation=fast" in out.stderr


def test_the_token_endpoint_is_throttled_by_grant_with_429_and_retry_after(unique):
    """`POST /oauth2/token` counts per pool: client_credentials against ClientAuthentication,
    refresh_token against UserAuthentication. Over the rate it answers 429 with
    `Retry-After: 1` and `{"error": "too_many_requests"}`, which HTTP clients retry."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    server = Server(extra_args=["--quotas", "ClientAuthentication=2,UserAuthentication=2"])
    try:
        idp = no_retry_client(server)

        def machine_client():
            pool = idp.create_user_pool(PoolName=unique())["UserPool"]["Id"]
            domain = unique("q-")
            idp.create_user_pool_domain(UserPoolId=pool, Domain=domain)
            idp.create_resource_server(UserPoolId=pool, Identifier="api", Name="api",
                                       Scopes=[{"ScopeName": "read",
                                                "ScopeDescription": "Read"}])
            c = idp.create_user_pool_client(
                UserPoolId=pool, ClientName="m", GenerateSecret=True,
                AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["client_credentials"],
                AllowedOAuthScopes=["api/read"])["UserPoolClient"]
            return f"{server.url}/{domain}/oauth2/token", (c["ClientId"], c["ClientSecret"])

        url, auth = machine_client()
        other_url, other_auth = machine_client()
        grant = {"grant_type": "client_credentials"}
        for _ in range(2):
            r = requests.post(url, data=grant, auth=auth)
            assert r.status_code == 200, r.text
        r = requests.post(url, data=grant, auth=auth)
        assert r.status_code == 429, r.text
        assert r.headers["Retry-After"] == "1"
        assert r.headers["Content-Type"] == "application/json;charset=UTF-8"
        assert r.json() == {"error": "too_many_requests", "error_description": "Rate exceeded"}
        # Another pool has its own allowance.
        assert requests.post(other_url, data=grant, auth=other_auth).status_code == 200
        # The refresh grant counts against UserAuthentication, not ClientAuthentication.
        refresh = {"grant_type": "refresh_token", "refresh_token": "unknown"}
        for _ in range(2):
            r = requests.post(url, data=refresh, auth=auth)
            assert (r.status_code, r.json()) == (400, {"error": "invalid_grant"}), r.text
        assert requests.post(url, data=refresh, auth=auth).status_code == 429
        # The bucket refills at the configured rate.
        time.sleep(1.1)
        assert requests.post(url, data=grant, auth=auth).status_code == 200

        # A client that honours Retry-After (urllib3's Retry) rides out a burst.
        time.sleep(1.1)
        session = requests.Session()
        session.mount("http://", HTTPAdapter(max_retries=Retry(
            total=5, status_forcelist=[429], allowed_methods=None,
            respect_retry_after_header=True, backoff_factor=0)))
        started = time.monotonic()
        for _ in range(5):
            r = session.post(url, data=grant, auth=auth)
            assert r.status_code == 200, r.text
        assert time.monotonic() - started >= 1
    finally:
        server.stop()


def test_managed_login_forms_count_as_their_operations(throttled, unique):
    """A page's form counts against its pool as the API operation it performs: three
    sign-up forms use UserCreation=3 (shared with the API's SignUp), the fourth gets 429
    and the page again with a message; no user is made by it."""
    import re
    import requests
    idp = no_retry_client(throttled)
    pool = idp.create_user_pool(PoolName=unique())["UserPool"]["Id"]
    domain = unique("q-")
    idp.create_user_pool_domain(UserPoolId=pool, Domain=domain)
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="web", AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"],
        CallbackURLs=["http://localhost/cb"],
        SupportedIdentityProviders=["COGNITO"])["UserPoolClient"]["ClientId"]
    query = {"response_type": "code", "client_id": client,
             "redirect_uri": "http://localhost/cb"}
    url = f"{throttled.url}/{domain}/signup"
    browser = requests.Session()
    statuses = []
    for i in range(4):
        page = browser.get(url, params=query)
        csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
        r = browser.post(page.url, data={"_csrf": csrf, "username": f"p{i}",
                                         "password": PASSWORD}, allow_redirects=False)
        statuses.append(r.status_code)
    assert statuses == [303, 303, 303, 429], statuses
    assert r.headers["Retry-After"] == "1"
    assert "Too many requests" in r.text
    names = {u["Username"] for u in idp.list_users(UserPoolId=pool)["Users"]}
    assert names == {"p0", "p1", "p2"}
