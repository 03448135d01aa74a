"""Sign-in through boto3, with the tokens checked by an independent verifier: PyJWT's
PyJWKClient fetches the pool's JWKS and checks signature, issuer, audience and expiry."""
import jwt
import pytest
from botocore.exceptions import ClientError

PASSWORD = "Passw0rd!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def error(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def confirmed_user(idp, server, username):
    pool = idp.create_user_pool(PoolName="py-signin", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="py", ExplicitAuthFlows=FLOWS)
    client_id = client["UserPoolClient"]["ClientId"]
    idp.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}])
    idp.confirm_sign_up(ClientId=client_id, Username=username,
                        ConfirmationCode=server.last_code(pool, username))
    return pool, client_id


def test_tokens_verify_with_pyjwt_against_the_jwks(idp, server, unique):
    name = unique("py")
    pool, client_id = confirmed_user(idp, server, name)
    result = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD})
    tokens = result["AuthenticationResult"]
    assert tokens["TokenType"] == "Bearer" and tokens["ExpiresIn"] == 3600

    issuer = f"{server.url}/{pool}"
    discovery = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json")
    id_key = discovery.get_signing_key_from_jwt(tokens["IdToken"])
    claims = jwt.decode(tokens["IdToken"], id_key.key, algorithms=["RS256"],
                        audience=client_id, issuer=issuer,
                        options={"require": ["exp", "iat", "sub", "token_use"]})
    assert claims["token_use"] == "id"
    assert claims["cognito:username"] == name
    assert claims["email_verified"] is True

    access_key = discovery.get_signing_key_from_jwt(tokens["AccessToken"])
    assert access_key.key_id != id_key.key_id
    access = jwt.decode(tokens["AccessToken"], access_key.key, algorithms=["RS256"], issuer=issuer,
                        options={"require": ["exp", "iat", "sub", "token_use"]})
    assert access["token_use"] == "access" and access["client_id"] == client_id
    assert access["scope"] == "aws.cognito.signin.user.admin"

    # A token signed by someone else is refused by the verifier and by the server.
    forged = jwt.encode({**access, "username": "mallory"}, "a forger's own 32-byte-or-longer HMAC key", algorithm="HS256",
                        headers={"kid": access_key.key_id})
    with pytest.raises(jwt.PyJWTError):
        jwt.decode(forged, access_key.key, algorithms=["RS256"], issuer=issuer)
    with pytest.raises(ClientError) as e:
        idp.get_user(AccessToken=forged)
    assert error(e) == ("NotAuthorizedException", "Invalid Access Token")

    me = idp.get_user(AccessToken=tokens["AccessToken"])
    assert me["Username"] == name
    assert {"Name": "email", "Value": f"{name}@example.com"} in me["UserAttributes"]

    refreshed = idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                  AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    assert "RefreshToken" not in refreshed["AuthenticationResult"]
    again = jwt.decode(refreshed["AuthenticationResult"]["IdToken"], id_key.key,
                       algorithms=["RS256"], audience=client_id, issuer=issuer)
    assert again["auth_time"] == claims["auth_time"]


def test_discovery_document_matches_the_tokens(idp, server, unique):
    import json
    import urllib.request
    name = unique("disc")
    pool, client_id = confirmed_user(idp, server, name)
    tokens = idp.admin_initiate_auth(UserPoolId=pool, ClientId=client_id,
                                     AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                     AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD})
    issuer = jwt.decode(tokens["AuthenticationResult"]["IdToken"],
                        options={"verify_signature": False})["iss"]
    with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration") as r:
        document = json.load(r)
    assert document["issuer"] == issuer
    assert document["jwks_uri"] == f"{issuer}/.well-known/jwks.json"


def test_sign_in_errors(idp, server, unique):
    name = unique("err")
    pool, client_id = confirmed_user(idp, server, name)
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": name, "PASSWORD": "Wr0ng-password"})
    assert error(e) == ("NotAuthorizedException", "Incorrect username or password.")
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": "nobody-" + name, "PASSWORD": PASSWORD})
    assert error(e) == ("UserNotFoundException", "User does not exist.")
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                          AuthParameters={"REFRESH_TOKEN": "garbage"})
    assert error(e) == ("NotAuthorizedException", "Invalid Refresh Token.")


def test_global_sign_out_with_the_token_of_a_deleted_user_is_refused_as_revoked(idp, server,
                                                                                unique):
    """Found by the wire fuzzer: this answered 500, since GlobalSignOut's model lists no
    UserNotFoundException."""
    name = unique("gone")
    pool, client_id = confirmed_user(idp, server, name)
    tokens = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD})
    access = tokens["AuthenticationResult"]["AccessToken"]
    idp.admin_delete_user(UserPoolId=pool, Username=name)
    with pytest.raises(ClientError) as e:
        idp.global_sign_out(AccessToken=access)
    assert error(e) == ("NotAuthorizedException", "Access Token has been revoked")
