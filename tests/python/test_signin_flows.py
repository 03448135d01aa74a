"""Sign-in flows beyond the password and SRP basics, through boto3: USER_AUTH, CUSTOM_AUTH with
webhook triggers, revocation and sign-out, refresh (with and without rotation), ChangePassword
and DeleteUser, NEW_PASSWORD_REQUIRED and the lockout. Codes and messages are the ones the
README's "Compatibility notes" state."""
import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import Server

PASSWORD = "Passw0rd!"
NEW_PASSWORD = "N3w-Passw0rd!"
PASSWORD_FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

DEFINE_ARN = "arn:aws:lambda:us-east-1:123456789012:function:define"
CREATE_ARN = "arn:aws:lambda:us-east-1:123456789012:function:create"
VERIFY_ARN = "arn:aws:lambda:us-east-1:123456789012:function:verify"


def error(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def client_for(server):
    return boto3.client(
        "cognito-idp",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDCOGNATETEST",
        aws_secret_access_key="cognate-test-secret",
    )


def advance_clock(server, seconds):
    request = urllib.request.Request(
        f"{server.url}/_cognate/test/clock", method="POST",
        data=json.dumps({"AdvanceSeconds": seconds}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        assert r.status == 200


def pool_with_user(idp, server, username, flows=PASSWORD_FLOWS, lambda_config=None):
    """A pool, a client with `flows`, and `username` signed up and confirmed by its code."""
    kwargs = {"LambdaConfig": lambda_config} if lambda_config else {}
    pool = idp.create_user_pool(PoolName="py-flows", AutoVerifiedAttributes=["email"],
                                **kwargs)["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool, ClientName="py",
                                            ExplicitAuthFlows=flows)["UserPoolClient"]["ClientId"]
    idp.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}])
    idp.confirm_sign_up(ClientId=client_id, Username=username,
                        ConfirmationCode=server.last_code(pool, username))
    return pool, client_id


def password_auth(idp, client_id, username, password=PASSWORD):
    return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": username, "PASSWORD": password})


def sign_in(idp, client_id, username, password=PASSWORD):
    return password_auth(idp, client_id, username, password)["AuthenticationResult"]


def assert_tokens(idp, result, username):
    tokens = result["AuthenticationResult"]
    assert tokens["TokenType"] == "Bearer"
    assert {"AccessToken", "IdToken", "RefreshToken"} <= tokens.keys()
    assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == username
    return tokens


# ------------------------------------------------------------------------------ USER_AUTH


def test_user_auth_with_preferred_password(idp, server, unique):
    name = unique("ua")
    _, client_id = pool_with_user(idp, server, name, flows=["ALLOW_USER_AUTH"])
    result = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH",
                               AuthParameters={"USERNAME": name, "PREFERRED_CHALLENGE": "PASSWORD",
                                               "PASSWORD": PASSWORD})
    assert "ChallengeName" not in result
    assert_tokens(idp, result, name)
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH",
                          AuthParameters={"USERNAME": name, "PREFERRED_CHALLENGE": "PASSWORD",
                                          "PASSWORD": "Wr0ng-password"})
    assert error(e) == ("NotAuthorizedException", "Incorrect username or password.")


def test_user_auth_select_challenge_is_single_use(idp, server, unique):
    name = unique("uas")
    _, client_id = pool_with_user(idp, server, name, flows=["ALLOW_USER_AUTH"])
    challenge = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH",
                                  AuthParameters={"USERNAME": name})
    assert challenge["ChallengeName"] == "SELECT_CHALLENGE"
    assert challenge["AvailableChallenges"] == ["PASSWORD_SRP", "PASSWORD"]
    assert challenge["Session"]
    assert "AuthenticationResult" not in challenge
    answer = dict(ClientId=client_id, ChallengeName="SELECT_CHALLENGE", Session=challenge["Session"],
                  ChallengeResponses={"USERNAME": name, "ANSWER": "PASSWORD", "PASSWORD": PASSWORD})
    assert_tokens(idp, idp.respond_to_auth_challenge(**answer), name)
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(**answer)
    assert error(e) == ("NotAuthorizedException",
                        "Invalid session for the user, session can only be used once.")


def test_user_auth_select_challenge_with_an_answer_not_offered(idp, server, unique):
    name = unique("uax")
    _, client_id = pool_with_user(idp, server, name, flows=["ALLOW_USER_AUTH"])
    challenge = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH",
                                  AuthParameters={"USERNAME": name})
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="SELECT_CHALLENGE", Session=challenge["Session"],
            ChallengeResponses={"USERNAME": name, "ANSWER": "EMAIL_OTP"})
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"


# ---------------------------------------------------------------- CUSTOM_AUTH via webhooks


class ChallengeHooks:
    """Define/Create/Verify auth challenge as webhooks: POST /define, /create, /verify, each
    answering with the event it got, `response` filled in. The question is 2+2."""

    def __init__(self):
        self.events = []
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                event = json.loads(body)
                hooks.events.append((self.path, event))
                handler = {"/define": hooks.define, "/create": hooks.create,
                           "/verify": hooks.verify}.get(self.path)
                if handler is None:
                    self.send_error(404)
                    return
                handler(event["request"], event["response"])
                out = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def define(request, response):
        session = request["session"]
        if session and session[-1]["challengeName"] == "CUSTOM_CHALLENGE" \
                and session[-1]["challengeResult"]:
            response["issueTokens"] = True
        elif sum(1 for r in session if not r["challengeResult"]) >= 2:
            response["failAuthentication"] = True
        else:
            response["challengeName"] = "CUSTOM_CHALLENGE"

    @staticmethod
    def create(request, response):
        response["publicChallengeParameters"] = {"question": "2+2"}
        response["privateChallengeParameters"] = {"answer": "4"}

    @staticmethod
    def verify(request, response):
        response["answerCorrect"] = \
            request["challengeAnswer"] == request["privateChallengeParameters"]["answer"]

    def webhooks(self):
        return {DEFINE_ARN: f"{self.url}/define", CREATE_ARN: f"{self.url}/create",
                VERIFY_ARN: f"{self.url}/verify"}

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


class WebhookServer(Server):
    """conftest's Server (same binary, --test-clock, cheap argon2, temp data dir,
    COGNATE_TEST_DATABASE_URL and its shared master key) with `--trigger-webhook ARN=URL` for
    each of `webhooks`."""

    def __init__(self, webhooks):
        args = []
        for arn, url in webhooks.items():
            args += ["--trigger-webhook", f"{arn}={url}"]
        super().__init__(extra_args=args)


@pytest.fixture(scope="module")
def hooks():
    h = ChallengeHooks()
    yield h
    h.stop()


@pytest.fixture(scope="module")
def hooked_server(hooks):
    s = WebhookServer(hooks.webhooks())
    yield s
    s.stop()


@pytest.fixture
def custom(hooked_server, unique):
    """(client, pool, client id, username) on the webhook server, with a confirmed user."""
    idp = client_for(hooked_server)
    name = unique("ca")
    pool, client_id = pool_with_user(
        idp, hooked_server, name, flows=["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        lambda_config={"DefineAuthChallenge": DEFINE_ARN, "CreateAuthChallenge": CREATE_ARN,
                       "VerifyAuthChallengeResponse": VERIFY_ARN})
    return idp, pool, client_id, name


def start_custom(idp, client_id, name):
    challenge = idp.initiate_auth(ClientId=client_id, AuthFlow="CUSTOM_AUTH",
                                  AuthParameters={"USERNAME": name})
    assert challenge["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert challenge["ChallengeParameters"]["question"] == "2+2"
    assert challenge["Session"]
    assert "AuthenticationResult" not in challenge
    return challenge


def answer_custom(idp, client_id, name, challenge, answer):
    return idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="CUSTOM_CHALLENGE", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": name, "ANSWER": answer})


def test_custom_auth_right_answer(custom, hooks):
    idp, _, client_id, name = custom
    challenge = start_custom(idp, client_id, name)
    assert_tokens(idp, answer_custom(idp, client_id, name, challenge, "4"), name)
    verified = [e for path, e in hooks.events
                if path == "/verify" and e["request"]["userAttributes"].get("email") == f"{name}@example.com"]
    assert [e["request"]["challengeAnswer"] for e in verified] == ["4"]
    assert verified[0]["triggerSource"] == "VerifyAuthChallengeResponse_Authentication"


def test_custom_auth_wrong_then_right(custom):
    idp, _, client_id, name = custom
    first = start_custom(idp, client_id, name)
    second = answer_custom(idp, client_id, name, first, "5")
    assert second["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert second["ChallengeParameters"]["question"] == "2+2"
    assert second["Session"] and second["Session"] != first["Session"]
    assert "AuthenticationResult" not in second
    assert_tokens(idp, answer_custom(idp, client_id, name, second, "4"), name)


def test_custom_auth_two_wrong_answers_fail(custom):
    idp, _, client_id, name = custom
    first = start_custom(idp, client_id, name)
    second = answer_custom(idp, client_id, name, first, "5")
    assert second["ChallengeName"] == "CUSTOM_CHALLENGE"
    with pytest.raises(ClientError) as e:
        answer_custom(idp, client_id, name, second, "22")
    assert error(e) == ("NotAuthorizedException", "Incorrect username or password.")


def test_custom_auth_without_triggers(idp, server, unique):
    name = unique("cn")
    _, client_id = pool_with_user(idp, server, name, flows=["ALLOW_CUSTOM_AUTH"])
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=client_id, AuthFlow="CUSTOM_AUTH",
                          AuthParameters={"USERNAME": name})
    assert error(e) == ("InvalidUserPoolConfigurationException",
                        "Custom auth lambda trigger is not configured for the user pool.")


# ------------------------------------------------------------------------ Revocation


def assert_revoked(idp, client_id, tokens):
    with pytest.raises(ClientError) as e:
        idp.get_user(AccessToken=tokens["AccessToken"])
    assert error(e) == ("NotAuthorizedException", "Access Token has been revoked")
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                          AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    assert error(e) == ("NotAuthorizedException", "Refresh Token has been revoked")
    with pytest.raises(ClientError) as e:
        idp.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=tokens["RefreshToken"])
    assert error(e) == ("NotAuthorizedException", "Refresh Token has been revoked")


def assert_live(idp, client_id, tokens, username):
    assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == username
    refreshed = idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                  AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    assert "AccessToken" in refreshed["AuthenticationResult"]


def test_revoke_token(idp, server, unique):
    name = unique("rv")
    _, client_id = pool_with_user(idp, server, name)
    tokens = sign_in(idp, client_id, name)
    other = sign_in(idp, client_id, name)
    # An access token minted from the refresh token is revoked with it.
    minted = idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                               AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    minted_access = minted["AuthenticationResult"]["AccessToken"]
    idp.revoke_token(ClientId=client_id, Token=tokens["RefreshToken"])
    assert_revoked(idp, client_id, tokens)
    with pytest.raises(ClientError) as e:
        idp.get_user(AccessToken=minted_access)
    assert error(e) == ("NotAuthorizedException", "Access Token has been revoked")
    # Another sign-in of the same user is untouched.
    assert_live(idp, client_id, other, name)


def test_global_sign_out(idp, server, unique):
    name = unique("gs")
    _, client_id = pool_with_user(idp, server, name)
    tokens = sign_in(idp, client_id, name)
    other = sign_in(idp, client_id, name)
    idp.global_sign_out(AccessToken=tokens["AccessToken"])
    assert_revoked(idp, client_id, tokens)
    assert_revoked(idp, client_id, other)
    assert_live(idp, client_id, sign_in(idp, client_id, name), name)


def test_admin_user_global_sign_out(idp, server, unique):
    name = unique("ags")
    pool, client_id = pool_with_user(idp, server, name)
    tokens = sign_in(idp, client_id, name)
    other = sign_in(idp, client_id, name)
    idp.admin_user_global_sign_out(UserPoolId=pool, Username=name)
    assert_revoked(idp, client_id, tokens)
    assert_revoked(idp, client_id, other)
    assert_live(idp, client_id, sign_in(idp, client_id, name), name)


def test_global_sign_out_without_token_revocation(idp, server, unique):
    """Tokens of a client with EnableTokenRevocation off carry no origin_jti; a global
    sign-out still refuses the access tokens issued before it."""
    name = unique("gsn")
    pool, _ = pool_with_user(idp, server, name)
    client_id = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="no-revocation", ExplicitAuthFlows=PASSWORD_FLOWS,
        EnableTokenRevocation=False)["UserPoolClient"]["ClientId"]
    tokens = sign_in(idp, client_id, name)
    idp.get_user(AccessToken=tokens["AccessToken"])
    advance_clock(server, 1)
    idp.admin_user_global_sign_out(UserPoolId=pool, Username=name)
    with pytest.raises(ClientError) as e:
        idp.get_user(AccessToken=tokens["AccessToken"])
    assert error(e) == ("NotAuthorizedException", "Access Token has been revoked")
    after = sign_in(idp, client_id, name)
    assert idp.get_user(AccessToken=after["AccessToken"])["Username"] == name


# ------------------------------------------------------------------ GetTokensFromRefreshToken


def test_get_tokens_from_refresh_token_without_rotation(idp, server, unique):
    name = unique("gt")
    _, client_id = pool_with_user(idp, server, name)
    tokens = sign_in(idp, client_id, name)
    for _ in range(2):
        refreshed = idp.get_tokens_from_refresh_token(ClientId=client_id,
                                                      RefreshToken=tokens["RefreshToken"])
        result = refreshed["AuthenticationResult"]
        assert "RefreshToken" not in result
        assert {"AccessToken", "IdToken"} <= result.keys()
        assert idp.get_user(AccessToken=result["AccessToken"])["Username"] == name


def test_get_tokens_from_refresh_token_with_rotation(idp, server, unique):
    name = unique("gtr")
    pool, client_id = pool_with_user(idp, server, name)
    idp.update_user_pool_client(UserPoolId=pool, ClientId=client_id, ClientName="py",
                                ExplicitAuthFlows=PASSWORD_FLOWS,
                                RefreshTokenRotation={"Feature": "ENABLED",
                                                      "RetryGracePeriodSeconds": 0})
    described = idp.describe_user_pool_client(UserPoolId=pool, ClientId=client_id)["UserPoolClient"]
    assert described["RefreshTokenRotation"]["Feature"] == "ENABLED"

    first = sign_in(idp, client_id, name)["RefreshToken"]
    second = idp.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=first)
    second_rt = second["AuthenticationResult"]["RefreshToken"]
    assert second_rt and second_rt != first
    assert idp.get_user(AccessToken=second["AuthenticationResult"]["AccessToken"])["Username"] == name
    third = idp.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=second_rt)
    third_rt = third["AuthenticationResult"]["RefreshToken"]
    assert third_rt and third_rt not in (first, second_rt)

    for old in (first, second_rt):
        with pytest.raises(ClientError) as e:
            idp.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=old)
        assert error(e) == ("RefreshTokenReuseException", "Refresh Token has been reused.")
    # REFRESH_TOKEN_AUTH is refused on a rotating client.
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                          AuthParameters={"REFRESH_TOKEN": third_rt})
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    # The newest one still works.
    fourth = idp.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=third_rt)
    assert fourth["AuthenticationResult"]["RefreshToken"] not in (first, second_rt, third_rt)


# ------------------------------------------------------------ ChangePassword and DeleteUser


def test_change_password(idp, server, unique):
    name = unique("cp")
    _, client_id = pool_with_user(idp, server, name)
    access = sign_in(idp, client_id, name)["AccessToken"]
    with pytest.raises(ClientError) as e:
        idp.change_password(AccessToken=access, PreviousPassword="Wr0ng-password",
                            ProposedPassword=NEW_PASSWORD)
    assert error(e) == ("NotAuthorizedException", "Incorrect username or password.")
    with pytest.raises(ClientError) as e:
        idp.change_password(AccessToken=access, PreviousPassword=PASSWORD, ProposedPassword="Sh0rt!a")
    assert error(e) == ("InvalidPasswordException",
                        "Password did not conform with policy: Password not long enough")
    # Neither failed change changed the password.
    sign_in(idp, client_id, name)

    idp.change_password(AccessToken=access, PreviousPassword=PASSWORD, ProposedPassword=NEW_PASSWORD)
    assert_tokens(idp, password_auth(idp, client_id, name, NEW_PASSWORD), name)
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, PASSWORD)
    assert error(e) == ("NotAuthorizedException", "Incorrect username or password.")
    # ChangePassword does not sign other sessions out.
    assert idp.get_user(AccessToken=access)["Username"] == name


def test_delete_user(idp, server, unique):
    name = unique("du")
    pool, client_id = pool_with_user(idp, server, name)
    tokens = sign_in(idp, client_id, name)
    idp.delete_user(AccessToken=tokens["AccessToken"])
    with pytest.raises(ClientError) as e:
        idp.get_user(AccessToken=tokens["AccessToken"])
    assert error(e) == ("UserNotFoundException", "User does not exist.")
    with pytest.raises(ClientError) as e:
        idp.admin_get_user(UserPoolId=pool, Username=name)
    assert error(e) == ("UserNotFoundException", "User does not exist.")
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name)
    assert error(e) == ("UserNotFoundException", "User does not exist.")


# ------------------------------------------------------------------- NEW_PASSWORD_REQUIRED


def force_change_password(idp, server, name):
    pool, client_id = pool_with_user(idp, server, name)
    idp.admin_set_user_password(UserPoolId=pool, Username=name, Password="Temp-Passw0rd!",
                                Permanent=False)
    assert idp.admin_get_user(UserPoolId=pool, Username=name)["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    return pool, client_id


def new_password_challenge(idp, client_id, name):
    challenge = password_auth(idp, client_id, name, "Temp-Passw0rd!")
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert challenge["Session"]
    assert "AuthenticationResult" not in challenge
    return challenge


def test_new_password_required(idp, server, unique):
    name = unique("np")
    pool, client_id = force_change_password(idp, server, name)
    challenge = new_password_challenge(idp, client_id, name)
    params = challenge["ChallengeParameters"]
    assert params["USER_ID_FOR_SRP"] == name
    assert params["requiredAttributes"] == "[]"
    attributes = json.loads(params["userAttributes"])
    assert isinstance(params["userAttributes"], str) and isinstance(attributes, dict)
    assert attributes["email"] == f"{name}@example.com"

    result = idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": name, "NEW_PASSWORD": NEW_PASSWORD})
    assert_tokens(idp, result, name)
    assert idp.admin_get_user(UserPoolId=pool, Username=name)["UserStatus"] == "CONFIRMED"
    assert_tokens(idp, password_auth(idp, client_id, name, NEW_PASSWORD), name)


def test_new_password_required_refuses_non_mutable_attributes(idp, server, unique):
    name = unique("npm")
    pool, client_id = force_change_password(idp, server, name)
    challenge = new_password_challenge(idp, client_id, name)
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=challenge["Session"],
            ChallengeResponses={"USERNAME": name, "NEW_PASSWORD": NEW_PASSWORD,
                                "userAttributes.email_verified": "true"})
    assert error(e) == ("InvalidParameterException",
                        "Cannot modify the non-mutable attribute email_verified")
    assert idp.admin_get_user(UserPoolId=pool, Username=name)["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    # The refused answer used the session up; signing in again gives a fresh one.
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=challenge["Session"],
            ChallengeResponses={"USERNAME": name, "NEW_PASSWORD": NEW_PASSWORD})
    assert e.value.response["Error"]["Code"] == "NotAuthorizedException"
    again = new_password_challenge(idp, client_id, name)
    idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=again["Session"],
        ChallengeResponses={"USERNAME": name, "NEW_PASSWORD": NEW_PASSWORD})
    assert idp.admin_get_user(UserPoolId=pool, Username=name)["UserStatus"] == "CONFIRMED"


def test_temporary_password_expires(idp, server, unique):
    name = unique("npx")
    pool, client_id = force_change_password(idp, server, name)
    advance_clock(server, 7 * 86400 + 1)
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, "Temp-Passw0rd!")
    assert error(e) == ("NotAuthorizedException",
                        "Temporary password has expired and must be reset by an administrator.")
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, "Wrong-Passw0rd!")
    assert error(e) == ("NotAuthorizedException", "Incorrect username or password.")
    # An administrator's new temporary password starts a new validity.
    idp.admin_set_user_password(UserPoolId=pool, Username=name, Password="Temp-Passw0rd!",
                                Permanent=False)
    new_password_challenge(idp, client_id, name)


# ------------------------------------------------------------------------------ Lockout


def test_lockout_after_failed_passwords(idp, server, unique):
    name = unique("lo")
    _, client_id = pool_with_user(idp, server, name)
    # The fifth failure locks for 1 s, the sixth for 2 s, the seventh for 4 s; the clock moves
    # past the first two so that the sixth and seventh are real password checks.
    for failure in range(1, 8):
        with pytest.raises(ClientError) as e:
            password_auth(idp, client_id, name, "Wr0ng-password")
        assert error(e) == ("NotAuthorizedException", "Incorrect username or password."), failure
        if failure in (5, 6):
            advance_clock(server, 1 << (failure - 5))
    for _ in range(2):  # a check during the lockout does not extend it
        with pytest.raises(ClientError) as e:
            password_auth(idp, client_id, name)
        assert error(e) == ("NotAuthorizedException", "Password attempts exceeded")
    advance_clock(server, 4)
    assert_tokens(idp, password_auth(idp, client_id, name), name)
    # The right password reset the count: four more failures lock nothing.
    for _ in range(4):
        with pytest.raises(ClientError) as e:
            password_auth(idp, client_id, name, "Wr0ng-password")
        assert error(e) == ("NotAuthorizedException", "Incorrect username or password.")
    assert_tokens(idp, password_auth(idp, client_id, name), name)
