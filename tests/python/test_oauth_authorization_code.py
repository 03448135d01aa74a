"""The authorization-code flow of a user-pool domain (spec vii.2, vii.3): `GET
/{prefix}/oauth2/authorize` shows the managed-login form, its POST signs in and redirects
with a code, `POST /oauth2/token` exchanges it (PKCE S256) for tokens verified with PyJWT
against the pool's JWKS; a second authorize with the session cookie redirects at once; the
refresh grant; and the refusals, each with its OAuth error and nothing issued.
`requests.Session` is the browser."""
import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import urllib.parse
import urllib.request

import jwt
import pytest
import requests

CALLBACK = "http://localhost:8080/callback"
PASSWORD = "Passw0rd!long"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def setup(idp, server, unique):
    pool = idp.create_user_pool(PoolName=unique("ac-"))["UserPool"]["Id"]
    domain = unique("ac-")
    idp.create_user_pool_domain(UserPoolId=pool, Domain=domain)
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="web", GenerateSecret=True,
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "profile", "aws.cognito.signin.user.admin"],
        CallbackURLs=[CALLBACK], LogoutURLs=["http://localhost:8080/bye"],
        SupportedIdentityProviders=["COGNITO"])["UserPoolClient"]
    user = unique("user-")
    idp.admin_create_user(UserPoolId=pool, Username=user, MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": f"{user}@example.com"}])
    idp.admin_set_user_password(UserPoolId=pool, Username=user, Password=PASSWORD,
                                Permanent=True)
    base = f"{server.url}/{domain}"
    return {"pool": pool, "domain": domain, "id": client["ClientId"],
            "secret": client["ClientSecret"], "user": user, "base": base,
            "authorize": f"{base}/oauth2/authorize", "token": f"{base}/oauth2/token"}


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def params(setup, **extra):
    p = {"response_type": "code", "client_id": setup["id"], "redirect_uri": CALLBACK,
         "state": "st-" + secrets.token_hex(4), "nonce": "n-" + secrets.token_hex(4),
         "scope": "openid email"}
    p.update(extra)
    return {k: v for k, v in p.items() if v is not None}


def csrf_of(html):
    m = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def sign_in(browser, setup, query, password=PASSWORD):
    """The authorize endpoint sends the browser to `/login` with the same query (spec
    vii.2); its form shown, then posted to its action; answers the POST's response (not
    followed)."""
    r = browser.get(setup["authorize"], params=query, allow_redirects=False)
    assert r.status_code == 302, r.text
    login = urllib.parse.urljoin(r.url, r.headers["Location"])
    split = urllib.parse.urlsplit(login)
    assert split.path == f"/{setup['domain']}/login", login
    assert dict(urllib.parse.parse_qsl(split.query)) == query
    page = browser.get(login, allow_redirects=False)
    assert page.status_code == 200, page.text
    assert page.headers["Content-Type"].startswith("text/html")
    assert 'name="viewport"' in page.text and "<label" in page.text
    m = re.search(r'<form method="post" action="([^"]*)"', page.text)
    assert m, page.text
    action = urllib.parse.urljoin(login, html.unescape(m.group(1)))
    assert urllib.parse.urlsplit(action).path == split.path
    return browser.post(action, data={"_csrf": csrf_of(page.text), "username": setup["user"],
                                      "password": password}, allow_redirects=False)


def redirected(response):
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "?"), location
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def exchange(setup, code, verifier=None, redirect_uri=CALLBACK, secret=None):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    return requests.post(setup["token"], data=data,
                         auth=(setup["id"], secret or setup["secret"]))


def verify(server, pool, token, **kw):
    issuer = f"{server.url}/{pool}"
    key = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json").get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], issuer=issuer, **kw)


def refused(response, code):
    assert (response.status_code, response.json()) == (400, {"error": code}), response.text
    assert "access_token" not in response.text


def advance(server, seconds):
    req = urllib.request.Request(
        f"{server.url}/_cognate/test/clock", method="POST",
        data=json.dumps({"AdvanceSeconds": seconds}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        assert r.status == 200


def test_code_flow_with_pkce_silent_sign_in_and_refresh(setup, server):
    browser = requests.Session()
    verifier, challenge = pkce()
    query = params(setup, code_challenge=challenge, code_challenge_method="S256")
    r = sign_in(browser, setup, query)
    got = redirected(r)
    assert got["state"] == query["state"] and got["code"]
    cookie = r.headers["Set-Cookie"]
    assert "cognate_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie

    t = exchange(setup, got["code"], verifier)
    assert t.status_code == 200, t.text
    body = t.json()
    assert set(body) == {"access_token", "id_token", "refresh_token", "expires_in",
                         "token_type"}
    assert body["token_type"] == "Bearer"
    claims = verify(server, setup["pool"], body["id_token"], audience=setup["id"])
    assert claims["nonce"] == query["nonce"]
    assert claims["cognito:username"] == setup["user"]
    assert claims["email"] == f"{setup['user']}@example.com"
    assert claims["token_use"] == "id"
    access = verify(server, setup["pool"], body["access_token"])
    assert set(access["scope"].split()) == {"openid", "email"}
    assert access["client_id"] == setup["id"]

    # The session signs in again without the form.
    verifier2, challenge2 = pkce()
    query2 = params(setup, code_challenge=challenge2, code_challenge_method="S256")
    advance(server, 60)
    again = browser.get(setup["authorize"], params=query2, allow_redirects=False)
    got2 = redirected(again)
    assert got2["state"] == query2["state"]
    second = exchange(setup, got2["code"], verifier2)
    assert second.status_code == 200
    # auth_time is the sign-in's, not the silent authorize's.
    second_claims = jwt.decode(second.json()["id_token"], options={"verify_signature": False})
    assert second_claims["auth_time"] == claims["auth_time"]
    assert second_claims["iat"] >= claims["iat"] + 60

    # The refresh grant at the token endpoint.
    r = requests.post(setup["token"], auth=(setup["id"], setup["secret"]),
                      data={"grant_type": "refresh_token",
                            "refresh_token": body["refresh_token"]})
    assert r.status_code == 200, r.text
    assert {"access_token", "id_token"} <= set(r.json())
    # (The test clock is a minute ahead of PyJWT's.)
    verify(server, setup["pool"], r.json()["id_token"], audience=setup["id"], leeway=120)
    refused(requests.post(setup["token"], auth=(setup["id"], setup["secret"]),
                          data={"grant_type": "refresh_token", "refresh_token": "nope"}),
            "invalid_grant")


def test_a_code_is_single_use_and_expires(setup, server):
    got = redirected(sign_in(requests.Session(), setup, params(setup)))
    assert exchange(setup, got["code"]).status_code == 200
    refused(exchange(setup, got["code"]), "invalid_grant")

    got = redirected(sign_in(requests.Session(), setup, params(setup)))
    advance(server, 301)
    refused(exchange(setup, got["code"]), "invalid_grant")
    refused(exchange(setup, "not-a-code"), "invalid_grant")


def test_wrong_verifier_redirect_uri_and_secret_are_refused(setup):
    verifier, challenge = pkce()
    query = params(setup, code_challenge=challenge, code_challenge_method="S256")
    got = redirected(sign_in(requests.Session(), setup, query))
    refused(exchange(setup, got["code"], pkce()[0]), "invalid_grant")
    # The code was spent by the failed attempt.
    refused(exchange(setup, got["code"], verifier), "invalid_grant")

    got = redirected(sign_in(requests.Session(), setup, query))
    refused(exchange(setup, got["code"], verifier, redirect_uri=CALLBACK + "x"),
            "invalid_grant")

    got = redirected(sign_in(requests.Session(), setup, params(setup)))
    refused(exchange(setup, got["code"], secret="wrong"), "invalid_client")
    # A missing verifier when a challenge was given.
    got = redirected(sign_in(requests.Session(), setup, query))
    refused(exchange(setup, got["code"]), "invalid_grant")


def test_unregistered_redirect_uri_and_unknown_client_get_an_error_page(setup):
    for query in (params(setup, redirect_uri="http://localhost:8080/evil"),
                  params(setup, client_id="nosuchclient")):
        r = requests.get(setup["authorize"], params=query, allow_redirects=False)
        assert r.status_code == 400
        assert "Location" not in r.headers
        assert r.headers["Content-Type"].startswith("text/html")


def test_other_errors_redirect_with_state(setup):
    cases = [
        (params(setup, scope="unknown/scope"), "invalid_scope"),
        (params(setup, response_type="id_token"), "unsupported_response_type"),
        # The implicit grant, which this client does not allow.
        (params(setup, response_type="token"), "unauthorized_client"),
        (params(setup, response_type=None), "invalid_request"),
        (params(setup, code_challenge="x" * 43), "invalid_request"),
        (params(setup, code_challenge="x" * 43, code_challenge_method="S384"),
         "invalid_request"),
    ]
    for query, error in cases:
        r = requests.get(setup["authorize"], params=query, allow_redirects=False)
        got = redirected(r)
        assert got == {"error": error, "state": query["state"]}, (query, got)


def test_wrong_password_and_csrf_issue_nothing(setup):
    browser = requests.Session()
    query = params(setup)
    r = sign_in(browser, setup, query, password="wrong-password")
    assert r.status_code == 400 and "Location" not in r.headers
    assert "Incorrect username or password." in r.text

    url = setup["authorize"] + "?" + urllib.parse.urlencode(query)
    page = browser.get(url)
    token = csrf_of(page.text)
    for data, cookies in (
            ({"username": setup["user"], "password": PASSWORD}, None),
            ({"_csrf": "forged" + token[6:], "username": setup["user"],
              "password": PASSWORD}, None),
            ({"_csrf": token, "username": setup["user"], "password": PASSWORD}, {})):
        session = browser if cookies is None else requests.Session()
        r = session.post(url, data=data, allow_redirects=False)
        assert r.status_code == 403 and "Location" not in r.headers, r.text
        assert "cognate_session" not in r.headers.get("Set-Cookie", "")


def test_host_form_and_html_escaping(setup, server):
    host = f"{setup['domain']}.auth.us-east-1.amazoncognito.com"
    r = requests.get(f"{server.url}/oauth2/authorize", headers={"Host": host},
                     params=params(setup), allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?"), r.text
    r = requests.get(f"{server.url}{r.headers['Location']}", headers={"Host": host},
                     allow_redirects=False)
    assert r.status_code == 200 and '<form method="post" action="/login?' in r.text
    r = requests.get(setup["authorize"],
                     params=params(setup, client_id="<script>x</script>"),
                     allow_redirects=False)
    assert "<script>" not in r.text


def tokens_for(setup, scope="openid email"):
    got = redirected(sign_in(requests.Session(), setup, params(setup, scope=scope)))
    r = exchange(setup, got["code"])
    assert r.status_code == 200, r.text
    return r.json()


def test_user_info_revoke_logout_and_discovery(setup, server, idp):
    body = tokens_for(setup)
    info_url = f"{setup['base']}/oauth2/userInfo"
    r = requests.get(info_url, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["email"] == f"{setup['user']}@example.com"
    assert info["username"] == setup["user"] and info["sub"]
    assert requests.post(info_url, headers={
        "Authorization": f"Bearer {body['access_token']}"}).status_code == 200
    r = requests.get(info_url)
    assert r.status_code == 400 and 'error="invalid_request"' in r.headers["WWW-Authenticate"]
    r = requests.get(info_url, headers={"Authorization": "Bearer x.y.z"})
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    revoke = f"{setup['base']}/oauth2/revoke"
    auth = (setup["id"], setup["secret"])
    r = requests.post(revoke, auth=auth, data={"token": body["access_token"]})
    assert (r.status_code, r.json()) == (400, {"error": "unsupported_token_type"})
    r = requests.post(revoke, auth=(setup["id"], "wrong"), data={"token": body["refresh_token"]})
    assert (r.status_code, r.json()) == (401, {"error": "invalid_client"})
    r = requests.post(revoke, auth=auth, data={})
    assert (r.status_code, r.json()) == (400, {"error": "invalid_request"})
    r = requests.post(revoke, auth=auth, data={"token": body["refresh_token"]})
    assert (r.status_code, r.text) == (200, "")
    refused(requests.post(setup["token"], auth=auth, data={
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"]}), "invalid_grant")
    assert requests.post(revoke, auth=auth, data={"token": "unknown"}).status_code == 200

    # Logout: a registered logout_uri only; the session is gone afterwards.
    browser = requests.Session()
    redirected(sign_in(browser, setup, params(setup)))
    logout = f"{setup['base']}/logout"
    r = browser.get(logout, params={"client_id": setup["id"],
                                    "logout_uri": "http://localhost:8080/evil"},
                    allow_redirects=False)
    assert r.status_code == 400 and "Location" not in r.headers
    r = browser.get(logout, params={"client_id": setup["id"],
                                    "logout_uri": "http://localhost:8080/bye"},
                    allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "http://localhost:8080/bye"
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    again = browser.get(setup["authorize"], params=params(setup), allow_redirects=False)
    assert again.status_code == 302 and "/login?" in again.headers["Location"]

    doc = requests.get(f"{server.url}/{setup['pool']}/.well-known/openid-configuration").json()
    assert doc["authorization_endpoint"] == setup["authorize"]
    assert doc["token_endpoint"] == setup["token"]
    assert doc["userinfo_endpoint"] == info_url
    assert doc["revocation_endpoint"] == revoke
    assert doc["end_session_endpoint"] == logout


def test_a_grant_without_openid_has_no_id_token_and_no_user_info(setup):
    body = tokens_for(setup, scope="aws.cognito.signin.user.admin email")
    assert "id_token" not in body and "refresh_token" in body
    assert jwt.decode(body["access_token"], options={"verify_signature": False})["scope"] == \
        "aws.cognito.signin.user.admin"
    r = requests.get(f"{setup['base']}/oauth2/userInfo",
                     headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.status_code == 400 and 'error="invalid_request"' in r.headers["WWW-Authenticate"]


def signed_in_code(s, query):
    """A managed-login sign-in as a browser makes it: the authorize redirects followed to the
    form, the form posted to its action; answers the callback's query."""
    browser = requests.Session()
    page = browser.get(s["authorize"], params=query)
    assert page.status_code == 200 and "<form" in page.text, page.text
    m = re.search(r'<form method="post" action="([^"]*)"', page.text)
    action = page.url
    if m and m.group(1):
        action = urllib.parse.urljoin(page.url, html.unescape(m.group(1)))
    r = browser.post(action, data={"_csrf": csrf_of(page.text), "username": s["user"],
                                   "password": PASSWORD}, allow_redirects=False)
    return redirected(r)


def test_refreshed_tokens_keep_the_grant_s_scopes_and_id_claims(setup, server, idp):
    """A code grant's refresh token remembers the granted scopes: refreshed access tokens
    (grant_type=refresh_token, and InitiateAuth REFRESH_TOKEN_AUTH) carry the same `scope`,
    refreshed ID tokens the same claims without `nonce`; the API sign-in's tokens keep
    `aws.cognito.signin.user.admin`, also when refreshed."""
    client = idp.create_user_pool_client(
        UserPoolId=setup["pool"], ClientName="web-api", GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "profile", "aws.cognito.signin.user.admin"],
        CallbackURLs=[CALLBACK], SupportedIdentityProviders=["COGNITO"])["UserPoolClient"]
    s = dict(setup, id=client["ClientId"], secret=client["ClientSecret"])
    auth = (s["id"], s["secret"])
    mac = hmac.new(s["secret"].encode(), (s["user"] + s["id"]).encode(), hashlib.sha256)
    secret_hash = base64.b64encode(mac.digest()).decode()

    def claims(token, **kw):
        # The module's test clock runs minutes ahead of PyJWT's.
        return verify(server, s["pool"], token, leeway=3600, **kw)

    volatile = {"jti", "iat", "exp", "event_id", "nonce", "at_hash"}

    def stable(c):
        return {k: v for k, v in c.items() if k not in volatile}

    scope = "openid email aws.cognito.signin.user.admin"
    query = params(s, scope=scope)
    got = signed_in_code(s, query)
    body = exchange(s, got["code"]).json()
    granted = set(scope.split())
    first_access = claims(body["access_token"])
    first_id = claims(body["id_token"], audience=s["id"])
    assert set(first_access["scope"].split()) == granted
    assert first_id["nonce"] == query["nonce"]

    r = requests.post(s["token"], auth=auth, data={"grant_type": "refresh_token",
                                                   "refresh_token": body["refresh_token"]})
    assert r.status_code == 200, r.text
    refreshed = r.json()
    assert set(refreshed) == {"access_token", "id_token", "expires_in", "token_type"}
    access = claims(refreshed["access_token"])
    assert set(access["scope"].split()) == granted
    assert stable(access) == stable(first_access)
    id_claims = claims(refreshed["id_token"], audience=s["id"])
    assert "nonce" not in id_claims
    assert stable(id_claims) == stable(first_id)

    result = idp.initiate_auth(
        ClientId=s["id"], AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": body["refresh_token"],
                        "SECRET_HASH": secret_hash})["AuthenticationResult"]
    assert "RefreshToken" not in result
    access = claims(result["AccessToken"])
    assert set(access["scope"].split()) == granted
    assert stable(access) == stable(first_access)
    id_claims = claims(result["IdToken"], audience=s["id"])
    assert "nonce" not in id_claims and stable(id_claims) == stable(first_id)

    # A grant without openid: its refresh answers no ID token, and the same scope.
    got = signed_in_code(s, params(s, scope="aws.cognito.signin.user.admin"))
    body = exchange(s, got["code"]).json()
    assert "id_token" not in body
    r = requests.post(s["token"], auth=auth, data={"grant_type": "refresh_token",
                                                   "refresh_token": body["refresh_token"]})
    assert r.status_code == 200, r.text
    assert "id_token" not in r.json()
    assert claims(r.json()["access_token"])["scope"] == "aws.cognito.signin.user.admin"

    # The API's sign-in keeps aws.cognito.signin.user.admin, refreshed too.
    result = idp.admin_initiate_auth(
        UserPoolId=s["pool"], ClientId=s["id"], AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": s["user"], "PASSWORD": PASSWORD,
                        "SECRET_HASH": secret_hash})["AuthenticationResult"]
    assert claims(result["AccessToken"])["scope"] == "aws.cognito.signin.user.admin"
    again = idp.initiate_auth(
        ClientId=s["id"], AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": result["RefreshToken"],
                        "SECRET_HASH": secret_hash})["AuthenticationResult"]
    assert claims(again["AccessToken"])["scope"] == "aws.cognito.signin.user.admin"
    r = requests.post(s["token"], auth=auth, data={"grant_type": "refresh_token",
                                                   "refresh_token": result["RefreshToken"]})
    assert r.status_code == 200, r.text
    assert "id_token" in r.json()
    assert claims(r.json()["access_token"])["scope"] == "aws.cognito.signin.user.admin"


def test_discovery_endpoints_follow_the_host_the_request_named(setup, server):
    """`issuer` and `jwks_uri` stay on --public-url (the tokens' `iss`); the domain's endpoints
    are at the origin the browser used (a well-formed `Host`), else at --public-url."""
    url = f"{server.url}/{setup['pool']}/.well-known/openid-configuration"
    issuer = f"{server.url}/{setup['pool']}"
    endpoints = {"authorization_endpoint": "oauth2/authorize", "token_endpoint": "oauth2/token",
                 "userinfo_endpoint": "oauth2/userInfo", "revocation_endpoint": "oauth2/revoke",
                 "end_session_endpoint": "logout"}
    for host, origin in ((f"localhost:{server.port}", f"http://localhost:{server.port}"),
                         (f"127.0.0.1:{server.port}", server.url),
                         ("auth.example.com", "http://auth.example.com"),
                         ("evil.example/x?", server.url),
                         ("user@evil.example", server.url)):
        doc = requests.get(url, headers={"Host": host}).json()
        assert doc["issuer"] == issuer and doc["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
        for name, path in endpoints.items():
            assert doc[name] == f"{origin}/{setup['domain']}/{path}", (host, doc)
    # The endpoints named through localhost work there, with tokens of the same issuer.
    doc = requests.get(url, headers={"Host": f"localhost:{server.port}"}).json()
    assert doc["authorization_endpoint"].startswith(f"http://localhost:{server.port}/")
    r = requests.get(doc["authorization_endpoint"], params=params(setup))
    assert r.status_code == 200 and "<form" in r.text, r.text
