"""The managed-login pages of a user-pool domain (spec vii.5), driven as a browser drives
them with `requests.Session`: sign-up, the code from the outbox, confirm (and resend), sign
in and back to the app with a code; the forgotten password; the new-password challenge of an
invited user; the pool's settings followed (admin-only sign-up, the sign-in name, required
attributes, the password policy); and every form's refusals (CSRF, a wrong code, a weak
password, a tampered client) showing a message and issuing nothing."""
import html
import re
import secrets
import urllib.parse

import pytest
import requests

CALLBACK = "http://localhost:8080/callback"
PASSWORD = "Passw0rd!long"


def make_domain(idp, server, unique, **pool_args):
    pool = idp.create_user_pool(PoolName=unique("hp-"), **pool_args)["UserPool"]["Id"]
    domain = unique("hp-")
    idp.create_user_pool_domain(UserPoolId=pool, Domain=domain)
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="web", GenerateSecret=True,
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "profile"], CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["COGNITO"])["UserPoolClient"]
    query = {"response_type": "code", "client_id": client["ClientId"],
             "redirect_uri": CALLBACK, "state": "st-" + secrets.token_hex(4),
             "scope": "openid email"}
    return {"pool": pool, "domain": domain, "id": client["ClientId"],
            "secret": client["ClientSecret"], "base": f"{server.url}/{domain}",
            "query": query}


@pytest.fixture
def site(idp, server, unique):
    return make_domain(idp, server, unique, AutoVerifiedAttributes=["email"],
                       Schema=[{"Name": "email", "AttributeDataType": "String",
                                "Required": True, "Mutable": True}])


class Browser:
    """A person at a browser: opens pages, fills in the form it shows, presses its button."""

    def __init__(self, site):
        self.site = site
        self.http = requests.Session()
        self.page = None

    def open(self, path, **extra):
        query = dict(self.site["query"], **extra)
        self.page = self.http.get(f"{self.site['base']}/{path}", params=query)
        assert self.page.status_code == 200, self.page.text
        assert self.page.headers["Content-Type"].startswith("text/html")
        return self

    def forms(self):
        return re.findall(r'<form method="post" action="([^"]*)"[^>]*>(.*?)</form>',
                          self.page.text, re.S)

    def submit(self, fields, form=0, follow=True):
        """Posts form number `form` with its hidden fields and `fields`; follows the
        redirect within the site (not to the app)."""
        action, body = self.forms()[form]
        data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
        data = {k: html.unescape(v) for k, v in data.items()}
        data.update(fields)
        url = urllib.parse.urljoin(self.page.url, html.unescape(action))
        r = self.http.post(url, data=data, allow_redirects=False)
        if follow and r.status_code == 303:
            r = self.http.get(urllib.parse.urljoin(url, r.headers["Location"]),
                              allow_redirects=False)
        self.page = r
        return r

    def title(self):
        return html.unescape(re.search(r"<h1>(.*?)</h1>", self.page.text).group(1))

    def message(self):
        m = re.search(r'<p class="(error|notice)" role="(?:alert|status)">(.*?)</p>',
                      self.page.text)
        return m and (m.group(1), html.unescape(m.group(2)))

    def labels(self):
        return [html.unescape(l) for l in re.findall(r'<label for="[^"]+">(.*?)</label>',
                                                     self.page.text)]


def code_of(response):
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "?"), location
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def exchange(site, code):
    r = requests.post(f"{site['base']}/oauth2/token", auth=(site["id"], site["secret"]),
                      data={"grant_type": "authorization_code", "code": code,
                            "redirect_uri": CALLBACK})
    assert r.status_code == 200, r.text
    return r.json()


def test_sign_up_confirm_and_sign_in(site, server, idp, unique):
    user = unique("person-")
    b = Browser(site).open("login")
    assert b.title() == "Sign in" and b.labels() == ["Username", "Password"]
    signup = re.search(r'<a href="([^"]*signup[^"]*)">Sign up</a>', b.page.text).group(1)
    b.page = b.http.get(urllib.parse.urljoin(b.page.url, html.unescape(signup)))
    assert b.title() == "Sign up"
    # The pool's required attribute and its policy, in words.
    assert b.labels() == ["Username", "Email", "Password"]
    assert ("Use at least 8 characters, with a lowercase letter, an uppercase letter, "
            "a number and a special character.") in b.page.text
    # A weak password: the API's message, the typed values kept, no user made.
    b.submit({"username": user, "email": f"{user}@example.com", "password": "short"})
    assert b.page.status_code == 400 and b.message()[0] == "error"
    assert "Password did not conform with policy" in b.message()[1]
    assert f'value="{user}@example.com"' in b.page.text
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=site["pool"], Username=user)

    b.submit({"username": user, "email": f"{user}@example.com", "password": PASSWORD})
    assert b.title() == "Confirm your account", b.page.text
    assert b.message() == ("notice", "We have sent a code by email. Enter it below.")
    assert f'value="{user}"' in b.page.text
    first = server.last_code(site["pool"], user)

    # Resend, then a wrong code, then the right one.
    b.submit({}, form=1)
    assert b.message() == ("notice", "We have sent you a new code.")
    code = server.last_code(site["pool"], user)
    assert code != first or len(server.outbox(site["pool"], user)) == 2
    wrong = "000000" if code != "000000" else "111111"
    b.submit({"username": user, "code": wrong})
    assert b.message() == ("error", "Invalid verification code provided, please try again.")
    b.submit({"username": user, "code": code})
    assert b.title() == "Sign in"
    assert b.message() == ("notice", "Your account is confirmed. Sign in to continue.")
    assert idp.admin_get_user(UserPoolId=site["pool"], Username=user)["UserStatus"] == \
        "CONFIRMED"

    r = b.submit({"username": user, "password": PASSWORD}, follow=False)
    got = code_of(r)
    assert got["state"] == site["query"]["state"]
    cookie = r.headers["Set-Cookie"]
    assert "cognate_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    tokens = exchange(site, got["code"])
    assert {"id_token", "access_token", "refresh_token"} <= tokens.keys()
    # The ID token binds the access token issued with it (OIDC Core 3.1.3.6).
    import base64
    import hashlib
    import jwt
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    half = hashlib.sha256(tokens["access_token"].encode()).digest()[:16]
    assert claims["at_hash"] == base64.urlsafe_b64encode(half).rstrip(b"=").decode()


def test_an_unconfirmed_user_signing_in_is_sent_to_confirm(site, server, idp, unique):
    user = unique("late-")
    idp.sign_up(ClientId=site["id"], Username=user, Password=PASSWORD,
                SecretHash=secret_hash(site, user),
                UserAttributes=[{"Name": "email", "Value": f"{user}@example.com"}])
    b = Browser(site).open("login")
    b.submit({"username": user, "password": PASSWORD})
    assert b.title() == "Confirm your account"
    assert b.message()[0] == "notice"
    b.submit({"username": user, "code": server.last_code(site["pool"], user)})
    assert b.title() == "Sign in"
    code_of(b.submit({"username": user, "password": PASSWORD}, follow=False))


def secret_hash(site, user):
    import base64
    import hashlib
    import hmac
    mac = hmac.new(site["secret"].encode(), (user + site["id"]).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def confirmed_user(idp, site, unique, password=PASSWORD, permanent=True):
    user = unique("u-")
    idp.admin_create_user(UserPoolId=site["pool"], Username=user, MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": f"{user}@example.com"},
                                          {"Name": "email_verified", "Value": "true"}])
    idp.admin_set_user_password(UserPoolId=site["pool"], Username=user, Password=password,
                                Permanent=permanent)
    return user


def test_forgotten_password(site, server, idp, unique):
    user = confirmed_user(idp, site, unique)
    b = Browser(site).open("login")
    link = re.search(r'<a href="([^"]*forgotPassword[^"]*)">', b.page.text).group(1)
    b.page = b.http.get(urllib.parse.urljoin(b.page.url, html.unescape(link)))
    assert b.title() == "Forgot your password?"
    b.submit({"username": user})
    assert b.title() == "Reset your password"
    assert b.message() == ("notice", "We have sent a code by email. Enter it below.")
    code = server.last_code(site["pool"], user)
    new = "N3w-Passw0rd!"
    b.submit({"username": user, "code": code, "password": new, "confirm_password": "other"})
    assert b.message() == ("error", "The passwords do not match.")
    b.submit({"username": user, "code": code, "password": new, "confirm_password": new})
    assert b.title() == "Sign in"
    assert b.message()[1].startswith("Your password has been changed.")
    b.submit({"username": user, "password": PASSWORD})
    assert b.message() == ("error", "Incorrect username or password.")
    code_of(b.submit({"username": user, "password": new}, follow=False))


def test_invited_user_chooses_a_new_password(idp, server, unique):
    site = make_domain(idp, server, unique)
    user = unique("inv-")
    idp.admin_create_user(UserPoolId=site["pool"], Username=user, MessageAction="SUPPRESS",
                          TemporaryPassword="Temp0rary!pw")
    b = Browser(site).open("login")
    b.submit({"username": user, "password": "Temp0rary!pw"})
    assert b.title() == "Change your password", b.page.text
    assert b.message() == ("notice", "You must change your password before you continue.")
    assert b.labels() == ["New password", "Enter the new password again"]
    # A weak password: the policy's message, and the same challenge still open.
    b.submit({"password": "weak", "confirm_password": "weak"})
    assert b.page.status_code == 400 and b.title() == "Change your password"
    assert "Password did not conform with policy" in b.message()[1]
    session_form = b.forms()[0]
    r = b.submit({"password": "Ch0sen!password", "confirm_password": "Ch0sen!password"},
                 follow=False)
    code_of(r)
    assert idp.admin_get_user(UserPoolId=site["pool"], Username=user)["UserStatus"] == \
        "CONFIRMED"
    # The challenge's session is single use: the same form posted again is refused.
    b.page = type("Page", (), {"text": f'<form method="post" action="{session_form[0]}">'
                                       f'{session_form[1]}</form>', "url": b.page.url})
    b.http.cookies.clear()
    b.open("login")
    csrf = re.search(r'name="_csrf" value="([^"]+)"', b.page.text).group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                             session_form[1]))
    hidden["_csrf"] = csrf
    r = b.http.post(urllib.parse.urljoin(b.page.url, html.unescape(session_form[0])),
                    data=dict(hidden, password="An0ther!password",
                              confirm_password="An0ther!password"), allow_redirects=False)
    assert r.status_code == 400 and "Location" not in r.headers, r.text
    # Signed in with the chosen password.
    b2 = Browser(site).open("login")
    code_of(b2.submit({"username": user, "password": "Ch0sen!password"}, follow=False))


def test_admin_only_pool_offers_no_sign_up(idp, server, unique):
    site = make_domain(idp, server, unique,
                       AdminCreateUserConfig={"AllowAdminCreateUserOnly": True})
    b = Browser(site).open("login")
    assert "Sign up" not in b.page.text
    b.open("signup")
    b.submit({"username": unique("x-"), "password": PASSWORD})
    assert b.page.status_code == 400
    assert b.message()[1].startswith("Sign-up is not available")
    assert idp.list_users(UserPoolId=site["pool"])["Users"] == []


def test_email_sign_in_pool(idp, server, unique):
    site = make_domain(idp, server, unique, UsernameAttributes=["email"],
                       AutoVerifiedAttributes=["email"])
    b = Browser(site).open("signup")
    assert b.labels() == ["Email", "Password"]
    email = f"{unique('e-')}@example.com"
    b.submit({"email": email, "password": PASSWORD})
    assert b.title() == "Confirm your account", b.page.text
    sub = idp.list_users(UserPoolId=site["pool"])["Users"][0]["Username"]
    b.submit({"username": email, "code": server.last_code(site["pool"], sub)})
    assert b.title() == "Sign in" and b.labels() == ["Email", "Password"]
    code_of(b.submit({"username": email, "password": PASSWORD}, follow=False))


def test_every_form_wants_its_csrf_token(site, idp, unique):
    user = confirmed_user(idp, site, unique)
    for path, fields in (("login", {"username": user, "password": PASSWORD}),
                         ("signup", {"username": unique("c-"), "password": PASSWORD,
                                     "email": "c@example.com"}),
                         ("confirm", {"username": user, "code": "123456"}),
                         ("forgotPassword", {"username": user}),
                         ("confirmForgotPassword", {"username": user, "code": "123456",
                                                    "password": PASSWORD,
                                                    "confirm_password": PASSWORD})):
        b = Browser(site).open(path)
        for forged in ({"_csrf": "forged"}, {"_csrf": ""}):
            r = b.submit(dict(fields, **forged), follow=False)
            assert r.status_code == 403, (path, r.text)
            assert "Location" not in r.headers and "cognate_session" not in \
                r.headers.get("Set-Cookie", "")
            b.open(path)
    assert len(idp.list_users(UserPoolId=site["pool"])["Users"]) == 1


def test_pages_recheck_the_authorize_request(site, server):
    for path in ("login", "signup", "confirm", "forgotPassword", "confirmForgotPassword",
                 "newPassword"):
        bad = dict(site["query"], redirect_uri="http://localhost:8080/evil")
        r = requests.get(f"{site['base']}/{path}", params=bad, allow_redirects=False)
        assert r.status_code == 400 and "Location" not in r.headers, path
        r = requests.post(f"{site['base']}/{path}", params=bad, data={"username": "x"},
                          allow_redirects=False)
        assert r.status_code == 400 and "Location" not in r.headers, path
    # Notices are a fixed set: a link cannot make the page say something else.
    b = Browser(site).open("login", notice="<b>Your account is locked</b>")
    assert b.message() is None and "<b>Your" not in b.page.text
    b.open("login", username='"><script>alert(1)</script>')
    assert "<script>alert(1)" not in b.page.text
    # The pages are not framed and carry no script.
    assert b.page.headers["X-Frame-Options"] == "DENY"
    assert "script-src" not in b.page.headers["Content-Security-Policy"]


def test_pages_by_host(site, server, idp, unique):
    user = confirmed_user(idp, site, unique)
    host = f"{site['domain']}.auth.us-east-1.amazoncognito.com"
    http = requests.Session()
    http.headers["Host"] = host
    r = http.get(f"{server.url}/login", params=site["query"])
    assert r.status_code == 200
    action = html.unescape(re.search(r'action="([^"]*)"', r.text).group(1))
    assert action.startswith("/login?")
    assert 'href="/signup?' in r.text and 'href="/forgotPassword?' in r.text
    csrf = re.search(r'name="_csrf" value="([^"]+)"', r.text).group(1)
    r = http.post(f"{server.url}{action}", data={"_csrf": csrf, "username": user,
                                                  "password": PASSWORD},
                  allow_redirects=False)
    code_of(r)
    assert "Path=/;" in r.headers["Set-Cookie"]


def test_implicit_grant_puts_tokens_in_the_fragment(idp, server, unique):
    import jwt
    site = make_domain(idp, server, unique)
    idp.update_user_pool_client(
        UserPoolId=site["pool"], ClientId=site["id"], AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["implicit"], AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[CALLBACK], SupportedIdentityProviders=["COGNITO"])
    user = confirmed_user(idp, site, unique)
    site["query"] = dict(site["query"], response_type="token", nonce="n-implicit")
    b = Browser(site).open("login")
    r = b.submit({"username": user, "password": PASSWORD}, follow=False)
    assert r.status_code == 302
    location = r.headers["Location"]
    assert location.startswith(CALLBACK + "#"), location
    got = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).fragment))
    assert set(got) == {"access_token", "id_token", "token_type", "expires_in", "state"}
    assert (got["token_type"], got["expires_in"], got["state"]) == \
        ("Bearer", "3600", site["query"]["state"])
    issuer = f"{server.url}/{site['pool']}"
    keys = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json")
    id_claims = jwt.decode(got["id_token"], keys.get_signing_key_from_jwt(got["id_token"]).key,
                           algorithms=["RS256"], audience=site["id"], issuer=issuer)
    assert id_claims["nonce"] == "n-implicit" and id_claims["cognito:username"] == user
    access = jwt.decode(got["access_token"], options={"verify_signature": False})
    assert access["scope"].split() == ["openid", "email"]
    doc = requests.get(f"{issuer}/.well-known/openid-configuration").json()
    assert "token" in doc["response_types_supported"]
    assert "implicit" in doc["grant_types_supported"]
    # A code request is not allowed for this client now; without openid no ID token.
    r = requests.get(f"{site['base']}/oauth2/authorize",
                     params=dict(site["query"], response_type="code"), allow_redirects=False)
    assert "error=unauthorized_client" in r.headers["Location"]
    site["query"] = dict(site["query"], scope="email")
    r = requests.get(f"{site['base']}/oauth2/authorize", params=site["query"],
                     allow_redirects=False)
    assert "error=invalid_scope" in r.headers["Location"]


def test_logout_to_the_sign_in_page(site, idp, unique):
    user = confirmed_user(idp, site, unique)
    b = Browser(site).open("login")
    code_of(b.submit({"username": user, "password": PASSWORD}, follow=False))
    logout = f"{site['base']}/logout"
    q = {"client_id": site["id"], "redirect_uri": CALLBACK, "response_type": "code",
         "scope": "openid", "state": "after-logout"}
    r = b.http.get(logout, params=q, allow_redirects=False)
    assert r.status_code == 302 and "Max-Age=0" in r.headers["Set-Cookie"]
    location = urllib.parse.urlsplit(r.headers["Location"])
    assert location.path == f"/{site['domain']}/login"
    assert dict(urllib.parse.parse_qsl(location.query)) == q
    # The session is gone: the sign-in form is shown, not a code.
    page = b.http.get(urllib.parse.urljoin(logout, r.headers["Location"]),
                      allow_redirects=False)
    assert page.status_code == 200 and "<form" in page.text
    # An unregistered redirect_uri, or none of the two, is the error page.
    for bad in (dict(q, redirect_uri="http://localhost:8080/evil"),
                {"client_id": site["id"]}, dict(q, response_type="")):
        r = requests.get(logout, params=bad, allow_redirects=False)
        assert r.status_code == 400 and "Location" not in r.headers, bad


def test_custom_domain_by_host(site, server, idp, unique):
    """A custom domain is reached by its own host name (the model's DomainType has no dots:
    a single-label name, as a container's)."""
    user = confirmed_user(idp, site, unique)
    custom = unique("login-")
    idp.create_user_pool_domain(
        UserPoolId=site["pool"], Domain=custom,
        CustomDomainConfig={"CertificateArn":
                            "arn:aws:acm:us-east-1:123456789012:certificate/abc"})
    http = requests.Session()
    http.headers["Host"] = f"{custom}:443"
    r = http.get(f"{server.url}/oauth2/authorize", params=site["query"],
                 allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?"), r.text
    r = http.get(f"{server.url}{r.headers['Location']}")
    assert r.status_code == 200
    action = html.unescape(re.search(r'action="([^"]*)"', r.text).group(1))
    csrf = re.search(r'name="_csrf" value="([^"]+)"', r.text).group(1)
    got = code_of(http.post(f"{server.url}{action}", allow_redirects=False,
                            data={"_csrf": csrf, "username": user, "password": PASSWORD}))
    r = http.post(f"{server.url}/oauth2/token", auth=(site["id"], site["secret"]),
                  data={"grant_type": "authorization_code", "code": got["code"],
                        "redirect_uri": CALLBACK})
    assert r.status_code == 200, r.text
    # Not under another name.
    r = requests.get(f"{server.url}/login", params=site["query"],
                     headers={"Host": "other-name"})
    assert r.status_code == 404


def test_prompt_login_and_none(site, idp, unique):
    user = confirmed_user(idp, site, unique)
    authorize = f"{site['base']}/oauth2/authorize"
    b = Browser(site)
    # prompt=none without a session: back to the app with login_required, no page.
    r = b.http.get(authorize, params=dict(site["query"], prompt="none"), allow_redirects=False)
    assert code_of(r) == {"error": "login_required", "state": site["query"]["state"]}
    b.open("login")
    code_of(b.submit({"username": user, "password": PASSWORD}, follow=False))
    # With the session: prompt=none is silent, prompt=login shows the form again and the
    # prompt is carried to /login.
    r = b.http.get(authorize, params=dict(site["query"], prompt="none"), allow_redirects=False)
    assert "code" in code_of(r)
    r = b.http.get(authorize, params=dict(site["query"], prompt="login"), allow_redirects=False)
    assert r.status_code == 302 and "prompt=login" in r.headers["Location"]
    page = b.http.get(urllib.parse.urljoin(authorize, r.headers["Location"]),
                      allow_redirects=False)
    assert page.status_code == 200 and "<form" in page.text



def test_a_reset_user_is_sent_to_reset_the_password(site, server, idp, unique):
    user = confirmed_user(idp, site, unique)
    idp.admin_reset_user_password(UserPoolId=site["pool"], Username=user)
    b = Browser(site).open("login")
    b.submit({"username": user, "password": PASSWORD})
    assert b.title() == "Forgot your password?", b.page.text
    assert b.message() == ("notice", "You must reset your password. We will send you a code.")
    b.submit({"username": user})
    assert b.title() == "Reset your password"
    code = server.last_code(site["pool"], user)
    new = "Aft3r-Reset!pw"
    b.submit({"username": user, "code": code, "password": new, "confirm_password": new})
    code_of(b.submit({"username": user, "password": new}, follow=False))


def test_pre_token_generation_runs_for_the_code_grant(unique):
    """Tokens of the authorization-code grant pass PreTokenGeneration (a webhook standing in
    for the Lambda) with triggerSource TokenGeneration_HostedAuth; its claims reach the ID
    token."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import boto3
    import jwt

    from conftest import Server

    events = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            events.append(event)
            event["response"] = {"claimsOverrideDetails": {
                "claimsToAddOrOverride": {"tier": "gold"}}}
            out = json.dumps(event).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    arn = "arn:aws:lambda:us-east-1:123456789012:function:pre-token"
    server = Server(extra_args=["--trigger-webhook",
                                f"{arn}=http://127.0.0.1:{httpd.server_address[1]}/"])
    try:
        idp = boto3.client("cognito-idp", endpoint_url=server.url, region_name="us-east-1",
                           aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
        site = make_domain(idp, server, unique, LambdaConfig={"PreTokenGeneration": arn})
        user = confirmed_user(idp, site, unique)
        b = Browser(site).open("login")
        got = code_of(b.submit({"username": user, "password": PASSWORD}, follow=False))
        tokens = exchange(site, got["code"])
        claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
        assert claims["tier"] == "gold"
        sources = [e["triggerSource"] for e in events]
        assert sources == ["TokenGeneration_HostedAuth"], sources
        assert events[0]["userName"] == user
    finally:
        server.stop()
        httpd.shutdown()
        httpd.server_close()
