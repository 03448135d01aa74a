"""`POST /oauth2/token` with `grant_type=client_credentials` (spec vii.3) over plain HTTP, at
the path form `/{domain-prefix}/oauth2/token` and at `/oauth2/token` on a host named
`{prefix}.auth.{region}.amazoncognito.com`: a token for a confidential client, verified with
PyJWT against the pool's JWKS, with the claims AWS gives such tokens; Basic and form
authentication; and every refusal with its OAuth error code and status, without a token."""
import base64
import time
import uuid

import jwt
import pytest
import requests

API = "https://api.example.com"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def setup(idp, server, unique):
    pool = idp.create_user_pool(PoolName=unique("cc-"))["UserPool"]["Id"]
    domain = unique("cc-")
    idp.create_user_pool_domain(UserPoolId=pool, Domain=domain)
    idp.create_resource_server(
        UserPoolId=pool, Identifier=API, Name="api",
        Scopes=[{"ScopeName": "read", "ScopeDescription": "Read"},
                {"ScopeName": "write", "ScopeDescription": "Write"},
                {"ScopeName": "admin", "ScopeDescription": "Not for the client"}])
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="machine", GenerateSecret=True,
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=[f"{API}/read", f"{API}/write"],
        AccessTokenValidity=30, TokenValidityUnits={"AccessToken": "minutes"})["UserPoolClient"]
    return {"pool": pool, "domain": domain, "id": client["ClientId"],
            "secret": client["ClientSecret"], "url": f"{server.url}/{domain}/oauth2/token"}


def basic(client_id, secret):
    return {**FORM, "Authorization": "Basic " + base64.b64encode(
        f"{client_id}:{secret}".encode()).decode()}


def verify(server, pool, token):
    issuer = f"{server.url}/{pool}"
    key = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json").get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], issuer=issuer,
                      options={"require": ["exp", "iat", "iss", "sub"]})


def refused(response, status, code):
    assert (response.status_code, response.json()) == (status, {"error": code}), response.text
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert "access_token" not in response.text


def test_basic_authentication_gets_a_verifiable_token_with_all_allowed_scopes(setup, server):
    before = int(time.time())
    r = requests.post(setup["url"], data={"grant_type": "client_credentials"},
                      headers=basic(setup["id"], setup["secret"]))
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 1800)

    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256" and header["kid"]
    claims = verify(server, setup["pool"], body["access_token"])
    assert set(claims) == {"sub", "client_id", "token_use", "scope", "auth_time", "iss", "exp",
                           "iat", "version", "jti"}
    assert claims["sub"] == claims["client_id"] == setup["id"]
    assert claims["token_use"] == "access"
    assert claims["scope"] == f"{API}/read {API}/write"
    assert claims["version"] == 2
    assert claims["exp"] - claims["iat"] == 1800
    assert claims["auth_time"] == claims["iat"] and claims["iat"] >= before - 5
    uuid.UUID(claims["jti"])


def test_form_authentication_and_a_requested_scope(setup, server):
    r = requests.post(setup["url"], headers=FORM, data={
        "grant_type": "client_credentials", "client_id": setup["id"],
        "client_secret": setup["secret"], "scope": f"{API}/write"})
    assert r.status_code == 200, r.text
    claims = verify(server, setup["pool"], r.json()["access_token"])
    assert claims["scope"] == f"{API}/write"
    assert claims["client_id"] == setup["id"]


def test_the_domain_host_reaches_the_same_endpoint(setup, server):
    host = f"{setup['domain']}.auth.us-east-1.amazoncognito.com"
    r = requests.post(f"{server.url}/oauth2/token", data={"grant_type": "client_credentials"},
                      headers={**basic(setup["id"], setup["secret"]), "Host": host})
    assert r.status_code == 200, r.text
    assert verify(server, setup["pool"], r.json()["access_token"])["sub"] == setup["id"]
    # A host or a path naming no domain finds nothing.
    r = requests.post(f"{server.url}/oauth2/token", data={"grant_type": "client_credentials"},
                      headers={**basic(setup["id"], setup["secret"]),
                               "Host": "nosuchdomain.auth.us-east-1.amazoncognito.com"})
    assert r.status_code == 404 and "access_token" not in r.text
    r = requests.post(f"{server.url}/nosuchdomain/oauth2/token",
                      data={"grant_type": "client_credentials"},
                      headers=basic(setup["id"], setup["secret"]))
    assert r.status_code == 404 and "access_token" not in r.text


def test_wrong_or_missing_client_credentials_are_invalid_client(setup, idp, unique):
    grant = {"grant_type": "client_credentials"}
    refused(requests.post(setup["url"], data=grant, headers=basic(setup["id"], "wrong")),
            400, "invalid_client")
    refused(requests.post(setup["url"], headers=FORM, data={
        **grant, "client_id": setup["id"], "client_secret": setup["secret"] + "x"}),
        400, "invalid_client")
    refused(requests.post(setup["url"], headers=FORM, data={**grant, "client_id": setup["id"]}),
            400, "invalid_client")
    refused(requests.post(setup["url"], data=grant, headers=basic("nosuchclient", "x")),
            400, "invalid_client")
    refused(requests.post(setup["url"], data=grant, headers=FORM), 400, "invalid_client")
    # A client of another pool is not a client of this domain.
    other = idp.create_user_pool(PoolName=unique("cc-other-"))["UserPool"]["Id"]
    foreign = idp.create_user_pool_client(UserPoolId=other, ClientName="f",
                                          GenerateSecret=True)["UserPoolClient"]
    refused(requests.post(setup["url"], data=grant,
                          headers=basic(foreign["ClientId"], foreign["ClientSecret"])),
            400, "invalid_client")


def test_unknown_or_unallowed_scopes_are_invalid_scope(setup):
    auth = basic(setup["id"], setup["secret"])
    for scope in ["nope", f"{API}/admin", f"{API}/read {API}/delete", "openid",
                  "aws.cognito.signin.user.admin"]:
        refused(requests.post(setup["url"], headers=auth,
                              data={"grant_type": "client_credentials", "scope": scope}),
                400, "invalid_scope")


def test_a_client_without_the_grant_is_unauthorized_client(setup, idp):
    auth_code = idp.create_user_pool_client(
        UserPoolId=setup["pool"], ClientName="web", GenerateSecret=True,
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", f"{API}/read"],
        CallbackURLs=["https://app.example.com/cb"])["UserPoolClient"]
    no_oauth = idp.create_user_pool_client(
        UserPoolId=setup["pool"], ClientName="sdk", GenerateSecret=True)["UserPoolClient"]
    for client in (auth_code, no_oauth):
        refused(requests.post(setup["url"], data={"grant_type": "client_credentials"},
                              headers=basic(client["ClientId"], client["ClientSecret"])),
                400, "unauthorized_client")
    public = idp.create_user_pool_client(UserPoolId=setup["pool"],
                                         ClientName="public")["UserPoolClient"]
    refused(requests.post(setup["url"], headers=FORM, data={
        "grant_type": "client_credentials", "client_id": public["ClientId"]}),
        400, "unauthorized_client")


def test_other_grant_types_and_malformed_requests(setup):
    auth = basic(setup["id"], setup["secret"])
    for grant in ["password", "urn:ietf:params:oauth:grant-type:jwt-bearer"]:
        refused(requests.post(setup["url"], data={"grant_type": grant}, headers=auth),
                400, "unsupported_grant_type")
    # A machine client has no code flow.
    refused(requests.post(setup["url"], data={"grant_type": "authorization_code"},
                          headers=auth), 400, "unauthorized_client")
    refused(requests.post(setup["url"], data={}, headers=auth), 400, "invalid_request")
    refused(requests.post(setup["url"], json={"grant_type": "client_credentials"},
                          headers={"Authorization": auth["Authorization"]}),
            400, "invalid_request")
    # Basic authentication and a form secret together are refused.
    refused(requests.post(setup["url"], headers=auth, data={
        "grant_type": "client_credentials", "client_secret": setup["secret"]}),
        400, "invalid_request")
