"""USER_SRP_AUTH with a real SRP client: pycognito's AWSSRP (the client pycognito's Cognito
class signs in with), pointed at the server through its boto3 client."""
import pytest
from botocore.exceptions import ClientError
from pycognito import Cognito
from pycognito.aws_srp import AWSSRP

PASSWORD = "Passw0rd!"
FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def error(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def pool_with_user(idp, server, username, secret=False, **client_kwargs):
    pool = idp.create_user_pool(PoolName="py-srp", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="py", ExplicitAuthFlows=FLOWS,
                                         GenerateSecret=secret, **client_kwargs)["UserPoolClient"]
    kwargs = {}
    if secret:
        kwargs["SecretHash"] = AWSSRP.get_secret_hash(username, client["ClientId"], client["ClientSecret"])
    idp.sign_up(ClientId=client["ClientId"], Username=username, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}], **kwargs)
    idp.admin_confirm_sign_up(UserPoolId=pool, Username=username)
    return pool, client


def test_pycognito_signs_in_with_srp(idp, server, unique):
    name = unique("srp")
    pool, client = pool_with_user(idp, server, name)
    srp = AWSSRP(username=name, password=PASSWORD, pool_id=pool, client_id=client["ClientId"],
                 client=idp)
    tokens = srp.authenticate_user()["AuthenticationResult"]
    me = idp.get_user(AccessToken=tokens["AccessToken"])
    assert me["Username"] == name
    # The same through pycognito's Cognito class, which also verifies both tokens itself:
    # against the JWKS and the issuer under its endpoint URL (`{endpoint}/{poolId}`).
    user = Cognito(pool, client["ClientId"], username=name, user_pool_region="us-east-1",
                   boto3_client_kwargs={"endpoint_url": server.url,
                                        "aws_access_key_id": "AKIDCOGNATETEST",
                                        "aws_secret_access_key": "cognate-test-secret"})
    user.authenticate(password=PASSWORD)
    assert user.token_type == "Bearer"
    user.verify_tokens()
    assert user.id_claims["cognito:username"] == name
    assert user.access_claims["token_use"] == "access"
    assert user.get_user().username == name


def test_srp_with_a_secret_client_and_wrong_passwords(idp, server, unique):
    name = unique("srps")
    pool, client = pool_with_user(idp, server, name, secret=True)
    srp = AWSSRP(username=name, password=PASSWORD, pool_id=pool, client_id=client["ClientId"],
                 client_secret=client["ClientSecret"], client=idp)
    assert "AccessToken" in srp.authenticate_user()["AuthenticationResult"]
    wrong = AWSSRP(username=name, password="Wr0ng-password", pool_id=pool, client_id=client["ClientId"],
                   client_secret=client["ClientSecret"], client=idp)
    with pytest.raises(ClientError) as e:
        wrong.authenticate_user()
    assert error(e) == ("NotAuthorizedException", "Incorrect username or password.")


def test_srp_for_a_missing_user_when_existence_is_hidden(idp, server, unique):
    name = unique("srph")
    pool, client = pool_with_user(idp, server, name, PreventUserExistenceErrors="ENABLED")
    ghost = AWSSRP(username="ghost-" + name, password=PASSWORD, pool_id=pool,
                   client_id=client["ClientId"], client=idp)
    with pytest.raises(ClientError) as e:
        ghost.authenticate_user()
    assert error(e) == ("NotAuthorizedException", "Incorrect username or password.")
    # The simulated challenge is stable for the same name.
    first = idp.initiate_auth(ClientId=client["ClientId"], AuthFlow="USER_SRP_AUTH",
                              AuthParameters={"USERNAME": "ghost-" + name, "SRP_A": "abc123"})
    again = idp.initiate_auth(ClientId=client["ClientId"], AuthFlow="USER_SRP_AUTH",
                              AuthParameters={"USERNAME": "ghost-" + name, "SRP_A": "abc123"})
    assert first["ChallengeName"] == "PASSWORD_VERIFIER"
    for key in ("SALT", "USER_ID_FOR_SRP"):
        assert first["ChallengeParameters"][key] == again["ChallengeParameters"][key]
    assert first["ChallengeParameters"]["SRP_B"] != again["ChallengeParameters"]["SRP_B"]


def test_srp_sessions_are_single_use(idp, server, unique):
    name = unique("srpu")
    pool, client = pool_with_user(idp, server, name)
    srp = AWSSRP(username=name, password=PASSWORD, pool_id=pool, client_id=client["ClientId"], client=idp)
    challenge = idp.initiate_auth(ClientId=client["ClientId"], AuthFlow="USER_SRP_AUTH",
                                  AuthParameters=srp.get_auth_params())
    responses = srp.process_challenge(challenge["ChallengeParameters"], srp.get_auth_params())
    answer = dict(ClientId=client["ClientId"], ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses)
    assert "AccessToken" in idp.respond_to_auth_challenge(**answer)["AuthenticationResult"]
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(**answer)
    assert error(e) == ("NotAuthorizedException",
                        "Invalid session for the user, session can only be used once.")
    tampered = dict(answer, ChallengeResponses=dict(responses, PASSWORD_CLAIM_SECRET_BLOCK="AAAA"))
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(**tampered)
    assert error(e) == ("NotAuthorizedException", "Invalid session for the user.")
