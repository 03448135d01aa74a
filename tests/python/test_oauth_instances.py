"""Managed login across two instances on one PostgreSQL database: a sign-in on one instance
is a session on the other, a code issued by one is exchanged on the other, and a code
exchanged at both at once is taken once. (On SQLite one process owns the database: skipped.)"""
import os
import re
import threading
import urllib.parse

import pytest
import requests

from conftest import Server

pytestmark = pytest.mark.skipif(not os.environ.get("COGNATE_TEST_DATABASE_URL"),
                                reason="two instances need the shared PostgreSQL database")

CALLBACK = "http://localhost:8080/callback"
PASSWORD = "Passw0rd!long"


@pytest.fixture(scope="module")
def second():
    s = Server()
    yield s
    s.stop()


def sign_in(browser, base, query, user):
    page = browser.get(f"{base}/login", params=query)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
    r = browser.post(page.url, data={"_csrf": csrf, "username": user, "password": PASSWORD},
                     allow_redirects=False)
    return code_of(r)


def code_of(r):
    assert r.status_code == 302, r.text
    assert r.headers["Location"].startswith(CALLBACK + "?"), r.headers["Location"]
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))


def test_sessions_and_codes_work_across_instances(idp, server, second, unique):
    pool = idp.create_user_pool(PoolName=unique("mi-"))["UserPool"]["Id"]
    domain = unique("mi-")
    idp.create_user_pool_domain(UserPoolId=pool, Domain=domain)
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="web", GenerateSecret=True,
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid"], CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["COGNITO"])["UserPoolClient"]
    user = unique("u-")
    idp.admin_create_user(UserPoolId=pool, Username=user, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username=user, Password=PASSWORD,
                                Permanent=True)
    query = {"response_type": "code", "client_id": client["ClientId"],
             "redirect_uri": CALLBACK, "scope": "openid", "state": "s1"}
    a, b = f"{server.url}/{domain}", f"{second.url}/{domain}"
    auth = (client["ClientId"], client["ClientSecret"])

    def exchange(base, code):
        return requests.post(f"{base}/oauth2/token", auth=auth,
                             data={"grant_type": "authorization_code", "code": code,
                                   "redirect_uri": CALLBACK})

    # Signed in on A; the code is exchanged on B, and then refused on A.
    browser = requests.Session()
    got = sign_in(browser, a, query, user)
    r = exchange(b, got["code"])
    assert r.status_code == 200 and "id_token" in r.json(), r.text
    r = exchange(a, got["code"])
    assert (r.status_code, r.json()) == (400, {"error": "invalid_grant"})

    # A's session cookie signs in silently on B (the cookie is the domain path's; the two
    # instances stand behind one address in a real deployment).
    session = browser.cookies.get("cognate_session")
    r = requests.get(f"{b}/oauth2/authorize", params=query, allow_redirects=False,
                     cookies={"cognate_session": session})
    got = code_of(r)
    r = exchange(a, got["code"])
    assert r.status_code == 200, r.text

    # Racing exchanges of one code on both instances: exactly one succeeds.
    for _ in range(5):
        r = requests.get(f"{a}/oauth2/authorize", params=query, allow_redirects=False,
                         cookies={"cognate_session": session})
        code = code_of(r)["code"]
        results = []
        start = threading.Barrier(2)

        def race(base):
            start.wait()
            results.append(exchange(base, code).status_code)

        threads = [threading.Thread(target=race, args=(base,)) for base in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [200, 400], results
