"""The sign-up confirmation flow and pool management through boto3."""
import base64
import hashlib
import hmac

import pytest
from botocore.exceptions import ClientError

PASSWORD = "Passw0rd!"


def secret_hash(secret, username, client_id):
    mac = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def error(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def make_pool(idp, secret=False, **kwargs):
    kwargs.setdefault("AutoVerifiedAttributes", ["email"])
    pool = idp.create_user_pool(PoolName="py", **kwargs)["UserPool"]
    client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="py", GenerateSecret=secret)
    return pool["Id"], client["UserPoolClient"]


def test_create_describe_list_pools(idp):
    pool = idp.create_user_pool(PoolName="listed")["UserPool"]
    assert pool["Id"].startswith("us-east-1_")
    described = idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert described["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    assert described["VerificationMessageTemplate"]["DefaultEmailOption"] == "CONFIRM_WITH_CODE"
    assert described["EstimatedNumberOfUsers"] == 0
    ids = []
    for page in idp.get_paginator("list_user_pools").paginate(MaxResults=2):
        ids += [p["Id"] for p in page["UserPools"]]
    assert pool["Id"] in ids


def test_client_secret_is_returned_by_describe(idp):
    pool_id, client = make_pool(idp, secret=True)
    assert len(client["ClientSecret"]) == 51
    described = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])
    assert described["UserPoolClient"]["ClientSecret"] == client["ClientSecret"]


def test_sign_up_confirm_flow(idp, server, unique):
    pool_id, client = make_pool(idp)
    name = unique("jane")
    out = idp.sign_up(ClientId=client["ClientId"], Username=name, Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": "jane@example.com"}])
    assert out["UserConfirmed"] is False
    assert out["CodeDeliveryDetails"] == {
        "Destination": "j***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    user = idp.admin_get_user(UserPoolId=pool_id, Username=name)
    assert user["UserStatus"] == "UNCONFIRMED"
    code = server.last_code(pool_id, name)
    idp.confirm_sign_up(ClientId=client["ClientId"], Username=name, ConfirmationCode=code)
    user = idp.admin_get_user(UserPoolId=pool_id, Username=name)
    assert user["UserStatus"] == "CONFIRMED"
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attrs["email_verified"] == "true"
    assert attrs["sub"] == out["UserSub"]


def test_errors_carry_aws_codes_and_messages(idp, server, unique):
    pool_id, client = make_pool(idp)
    name = unique("err")
    idp.sign_up(ClientId=client["ClientId"], Username=name, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": "e@example.com"}])
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=client["ClientId"], Username=name, Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "e@example.com"}])
    assert error(e) == ("UsernameExistsException", "User already exists")
    real = server.last_code(pool_id, name)
    with pytest.raises(ClientError) as e:
        idp.confirm_sign_up(ClientId=client["ClientId"], Username=name,
                            ConfirmationCode="000000" if real != "000000" else "111111")
    assert error(e) == ("CodeMismatchException", "Invalid verification code provided, please try again.")
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=client["ClientId"], Username=unique(), Password="weak",
                    UserAttributes=[{"Name": "email", "Value": "e@example.com"}])
    assert error(e) == ("InvalidPasswordException", "Password did not conform with policy: Password not long enough")
    with pytest.raises(ClientError) as e:
        idp.resend_confirmation_code(ClientId=client["ClientId"], Username="ghost")
    assert error(e) == ("UserNotFoundException", "Username/client id combination not found.")


def test_secret_hash(idp, server, unique):
    pool_id, client = make_pool(idp, secret=True)
    cid, secret = client["ClientId"], client["ClientSecret"]
    name = unique("sec")
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=cid, Username=name, Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "s@example.com"}])
    assert error(e) == ("NotAuthorizedException", f"Client {cid} is configured for secret but secret was not received")
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=cid, Username=name, Password=PASSWORD, SecretHash=secret_hash(secret, "x", cid),
                    UserAttributes=[{"Name": "email", "Value": "s@example.com"}])
    assert error(e) == ("NotAuthorizedException", f"Unable to verify secret hash for client {cid}")
    idp.sign_up(ClientId=cid, Username=name, Password=PASSWORD, SecretHash=secret_hash(secret, name, cid),
                UserAttributes=[{"Name": "email", "Value": "s@example.com"}])
    idp.confirm_sign_up(ClientId=cid, Username=name, SecretHash=secret_hash(secret, name, cid),
                        ConfirmationCode=server.last_code(pool_id, name))


def test_resend_limit(idp, server, unique):
    pool_id, client = make_pool(idp)
    name = unique("lim")
    idp.sign_up(ClientId=client["ClientId"], Username=name, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": "l@example.com"}])
    for _ in range(5):
        idp.resend_confirmation_code(ClientId=client["ClientId"], Username=name)
    with pytest.raises(ClientError) as e:
        idp.resend_confirmation_code(ClientId=client["ClientId"], Username=name)
    assert error(e) == ("LimitExceededException", "Attempt limit exceeded, please try after some time.")


def test_email_as_username(idp, server, unique):
    pool_id, client = make_pool(idp, UsernameAttributes=["email"])
    email = unique("mail") + "@example.com"
    out = idp.sign_up(ClientId=client["ClientId"], Username=email, Password=PASSWORD)
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=client["ClientId"], Username=email, Password=PASSWORD)
    assert error(e) == ("UsernameExistsException", "An account with the given email already exists.")
    idp.confirm_sign_up(ClientId=client["ClientId"], Username=email,
                        ConfirmationCode=server.last_code(pool_id, out["UserSub"]))
    user = idp.admin_get_user(UserPoolId=pool_id, Username=email)
    assert user["Username"] == out["UserSub"]
    assert user["UserStatus"] == "CONFIRMED"


def test_validation_error_format(idp):
    pool_id, client = make_pool(idp)
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=client["ClientId"], Username="u" * 129, Password=PASSWORD)
    assert error(e) == ("InvalidParameterException",
                        "1 validation error detected: Value at 'username' failed to satisfy constraint: "
                        "Member must have length less than or equal to 128")


def test_list_users_filter(idp, unique):
    pool_id, client = make_pool(idp)
    prefix = unique("grp")
    for i in range(3):
        idp.sign_up(ClientId=client["ClientId"], Username=f"{prefix}{i}", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": f"{i}@example.com"}])
    users = idp.list_users(UserPoolId=pool_id, Filter=f'username ^= "{prefix}"')["Users"]
    assert len(users) == 3
    users = idp.list_users(UserPoolId=pool_id, Filter='email = "1@example.com"')["Users"]
    assert [u["Username"] for u in users] == [f"{prefix}1"]
