"""Account recovery and attribute changes through real clients (boto3, the AWS CLI and
pycognito): ForgotPassword / ConfirmForgotPassword (codes, expiry, hourly limits, user
existence, recovery settings, secret clients, password history), AdminResetUserPassword,
AdminSetUserPassword, and the attribute operations (UpdateUserAttributes,
AdminUpdateUserAttributes, DeleteUserAttributes, AdminDeleteUserAttributes,
GetUserAttributeVerificationCode, VerifyUserAttribute) with verification, aliases, write
permissions and schema rules. Codes are read from the developer outbox."""
import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess

import boto3
import jwt
import pytest
from botocore.exceptions import ClientError
from pycognito import Cognito

from conftest import Server
from test_signin_flows import (NEW_PASSWORD, PASSWORD, PASSWORD_FLOWS, advance_clock, error,
                               password_auth, pool_with_user, sign_in)

AWS = os.environ.get("COGNATE_AWS_CLI") or shutil.which("aws")

THIRD_PASSWORD = "Th1rd-Passw0rd!"
LIMIT = ("LimitExceededException", "Attempt limit exceeded, please try after some time.")
MISMATCH = ("CodeMismatchException", "Invalid verification code provided, please try again.")
EXPIRED = ("ExpiredCodeException", "Invalid code provided, please request a code again.")
WRONG_PASSWORD = ("NotAuthorizedException", "Incorrect username or password.")
NOT_FOUND = ("UserNotFoundException", "Username/client id combination not found.")
NO_CONTACT = ("InvalidParameterException",
              "Cannot reset password for the user as there is no registered/verified email or "
              "phone_number")
HISTORY = ("PasswordHistoryPolicyViolationException", "Password has previously been used")
UNAUTHORIZED_WRITE = ("NotAuthorizedException",
                      "A client attempted to write unauthorized attribute")
TOO_SHORT = ("InvalidPasswordException",
             "Password did not conform with policy: Password not long enough")


# ------------------------------------------------------------------------------ helpers


def plain(response):
    """The response without botocore's ResponseMetadata."""
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def email_delivery(destination):
    return {"Destination": destination, "DeliveryMedium": "EMAIL", "AttributeName": "email"}


def masked(address):
    """AWS's mask of an email address: `u***@e***`."""
    local, domain = address.split("@")
    return f"{local[0]}***@{domain[0]}***"


def other_code(code):
    """A six-digit code that is not `code`."""
    return "000000" if code != "000000" else "111111"


def new_pool(idp, **kwargs):
    kwargs.setdefault("AutoVerifiedAttributes", ["email"])
    return idp.create_user_pool(PoolName="py-recovery", **kwargs)["UserPool"]["Id"]


def new_client(idp, pool, flows=PASSWORD_FLOWS, **kwargs):
    return idp.create_user_pool_client(UserPoolId=pool, ClientName="py", ExplicitAuthFlows=flows,
                                       **kwargs)["UserPoolClient"]


def confirmed_user(idp, server, pool, client_id, username, email=None, attributes=()):
    """`username` signed up through `client_id` and confirmed with its emailed code (the pool
    auto-verifies email, so the email ends up verified)."""
    email = email or f"{username}@example.com"
    idp.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": email}, *attributes])
    idp.confirm_sign_up(ClientId=client_id, Username=username,
                        ConfirmationCode=server.last_code(pool, username))
    return email


def unverified_user(idp, pool, client_id, username):
    """A user confirmed by an administrator in a pool without AutoVerifiedAttributes: its
    email is never verified."""
    idp.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}])
    idp.admin_confirm_sign_up(UserPoolId=pool, Username=username)
    attributes = admin_attributes(idp, pool, username)
    assert attributes["email"] == f"{username}@example.com"
    assert attributes.get("email_verified", "false") == "false"


def attributes_of(idp, access_token):
    return {a["Name"]: a["Value"] for a in idp.get_user(AccessToken=access_token)["UserAttributes"]}


def admin_attributes(idp, pool, username):
    user = idp.admin_get_user(UserPoolId=pool, Username=username)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def status(idp, pool, username):
    return idp.admin_get_user(UserPoolId=pool, Username=username)["UserStatus"]


def id_claims(tokens):
    return jwt.decode(tokens["IdToken"], options={"verify_signature": False})


def secret_hash(secret, username, client_id):
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def forgot(idp, server, pool, client_id, username):
    """ForgotPassword; returns the emailed code."""
    before = len(server.outbox(pool, username))
    response = idp.forgot_password(ClientId=client_id, Username=username)
    assert plain(response) == {
        "CodeDeliveryDetails": email_delivery(masked(f"{username}@example.com"))}
    messages = server.outbox(pool, username)
    assert len(messages) == before + 1
    return messages[-1]["Code"]


def confirm(idp, client_id, username, code, password=NEW_PASSWORD):
    return idp.confirm_forgot_password(ClientId=client_id, Username=username,
                                       ConfirmationCode=code, Password=password)


# ---------------------------------------------------------- ForgotPassword / Confirm...


def test_forgot_password_resets_the_password_and_revokes_tokens(idp, server, unique):
    name = unique("fp")
    pool, client_id = pool_with_user(idp, server, name)
    tokens = sign_in(idp, client_id, name)
    advance_clock(server, 2)  # the old tokens' iat is strictly before the reset
    code = forgot(idp, server, pool, client_id, name)
    assert plain(confirm(idp, client_id, name, code)) == {}

    assert status(idp, pool, name) == "CONFIRMED"
    after = sign_in(idp, client_id, name, NEW_PASSWORD)
    assert idp.get_user(AccessToken=after["AccessToken"])["Username"] == name
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, PASSWORD)
    assert error(e) == WRONG_PASSWORD
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                          AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    assert error(e) == ("NotAuthorizedException", "Refresh Token has been revoked")
    with pytest.raises(ClientError) as e:
        idp.get_user(AccessToken=tokens["AccessToken"])
    assert error(e) == ("NotAuthorizedException", "Access Token has been revoked")


def test_wrong_code_changes_nothing(idp, server, unique):
    name = unique("fw")
    pool, client_id = pool_with_user(idp, server, name)
    code = forgot(idp, server, pool, client_id, name)
    with pytest.raises(ClientError) as e:
        confirm(idp, client_id, name, other_code(code))
    assert error(e) == MISMATCH
    sign_in(idp, client_id, name, PASSWORD)
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, NEW_PASSWORD)
    assert error(e) == WRONG_PASSWORD
    assert status(idp, pool, name) == "CONFIRMED"


def test_code_is_single_use(idp, server, unique):
    name = unique("fs")
    pool, client_id = pool_with_user(idp, server, name)
    code = forgot(idp, server, pool, client_id, name)
    confirm(idp, client_id, name, code)
    with pytest.raises(ClientError) as e:
        confirm(idp, client_id, name, code, password=THIRD_PASSWORD)
    assert error(e) == EXPIRED
    sign_in(idp, client_id, name, NEW_PASSWORD)
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, THIRD_PASSWORD)
    assert error(e) == WRONG_PASSWORD


def test_confirm_without_a_requested_code(idp, server, unique):
    name = unique("fn")
    _, client_id = pool_with_user(idp, server, name)
    with pytest.raises(ClientError) as e:
        confirm(idp, client_id, name, "123456")
    assert error(e) == EXPIRED
    sign_in(idp, client_id, name, PASSWORD)


def test_code_expires_after_an_hour(idp, server, unique):
    name = unique("fx")
    pool, client_id = pool_with_user(idp, server, name)
    code = forgot(idp, server, pool, client_id, name)
    advance_clock(server, 3601)
    with pytest.raises(ClientError) as e:
        confirm(idp, client_id, name, code)
    assert error(e) == EXPIRED
    sign_in(idp, client_id, name, PASSWORD)


def test_a_new_request_replaces_the_code(idp, server, unique):
    name = unique("fr")
    pool, client_id = pool_with_user(idp, server, name)
    first = forgot(idp, server, pool, client_id, name)
    second = forgot(idp, server, pool, client_id, name)
    assert first != second  # 1 in a million to collide
    with pytest.raises(ClientError) as e:
        confirm(idp, client_id, name, first)
    assert error(e) == MISMATCH
    sign_in(idp, client_id, name, PASSWORD)
    confirm(idp, client_id, name, second)
    sign_in(idp, client_id, name, NEW_PASSWORD)


def test_weak_password_does_not_use_the_code(idp, server, unique):
    name = unique("fk")
    pool, client_id = pool_with_user(idp, server, name)
    code = forgot(idp, server, pool, client_id, name)
    with pytest.raises(ClientError) as e:
        confirm(idp, client_id, name, code, password="Ab1!")
    assert error(e) == TOO_SHORT
    sign_in(idp, client_id, name, PASSWORD)
    confirm(idp, client_id, name, code)
    sign_in(idp, client_id, name, NEW_PASSWORD)


def test_forgot_password_hourly_limit(idp, server, unique):
    name = unique("fl")
    pool, client_id = pool_with_user(idp, server, name)
    for _ in range(5):
        forgot(idp, server, pool, client_id, name)
    sent = len(server.outbox(pool, name))
    with pytest.raises(ClientError) as e:
        idp.forgot_password(ClientId=client_id, Username=name)
    assert error(e) == LIMIT
    assert len(server.outbox(pool, name)) == sent
    advance_clock(server, 3601)
    code = forgot(idp, server, pool, client_id, name)
    confirm(idp, client_id, name, code)
    sign_in(idp, client_id, name, NEW_PASSWORD)


def test_confirm_forgot_password_hourly_limit(idp, server, unique):
    name = unique("fc")
    pool, client_id = pool_with_user(idp, server, name)
    code = forgot(idp, server, pool, client_id, name)
    for _ in range(10):
        with pytest.raises(ClientError) as e:
            confirm(idp, client_id, name, other_code(code))
        assert error(e) == MISMATCH
    with pytest.raises(ClientError) as e:
        confirm(idp, client_id, name, code)
    assert error(e) == LIMIT
    sign_in(idp, client_id, name, PASSWORD)
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, NEW_PASSWORD)
    assert error(e) == WRONG_PASSWORD


def test_unknown_user_with_legacy_existence_errors(idp, server, unique):
    name = unique("fu")
    _, client_id = pool_with_user(idp, server, name)
    with pytest.raises(ClientError) as e:
        idp.forgot_password(ClientId=client_id, Username="ghost-" + name)
    assert error(e) == NOT_FOUND
    with pytest.raises(ClientError) as e:
        confirm(idp, client_id, "ghost-" + name, "123456")
    assert error(e) == NOT_FOUND


def test_unknown_user_with_existence_errors_prevented(idp, server, unique):
    name = unique("fh")
    pool, _ = pool_with_user(idp, server, name)
    client_id = new_client(idp, pool, PreventUserExistenceErrors="ENABLED")["ClientId"]
    response = idp.forgot_password(ClientId=client_id, Username="ghost@example.com")
    assert plain(response) == {"CodeDeliveryDetails": email_delivery("g***@e***")}
    with pytest.raises(ClientError) as e:
        confirm(idp, client_id, "ghost@example.com", "123456")
    assert error(e) == MISMATCH
    # The real user is served as usual through the same client.
    code = forgot(idp, server, pool, client_id, name)
    confirm(idp, client_id, name, code)
    sign_in(idp, client_id, name, NEW_PASSWORD)


def test_user_without_a_verified_contact(idp, server, unique):
    name = unique("fv")
    pool = new_pool(idp, AutoVerifiedAttributes=[])
    client_id = new_client(idp, pool)["ClientId"]
    unverified_user(idp, pool, client_id, name)
    with pytest.raises(ClientError) as e:
        idp.forgot_password(ClientId=client_id, Username=name)
    assert error(e) == NO_CONTACT
    assert server.outbox(pool, name) == []
    sign_in(idp, client_id, name, PASSWORD)


def test_admin_only_account_recovery(idp, server, unique):
    name = unique("fa")
    pool = new_pool(idp, AccountRecoverySetting={
        "RecoveryMechanisms": [{"Priority": 1, "Name": "admin_only"}]})
    client_id = new_client(idp, pool)["ClientId"]
    confirmed_user(idp, server, pool, client_id, name)
    sent = len(server.outbox(pool, name))
    with pytest.raises(ClientError) as e:
        idp.forgot_password(ClientId=client_id, Username=name)
    assert error(e) == ("NotAuthorizedException", "Contact administrator to reset password.")
    assert len(server.outbox(pool, name)) == sent


def test_force_change_password_user_cannot_reset(idp, server, unique):
    name = unique("ff")
    pool, client_id = pool_with_user(idp, server, name)
    idp.admin_set_user_password(UserPoolId=pool, Username=name, Password="Temp-Passw0rd!",
                                Permanent=False)
    with pytest.raises(ClientError) as e:
        idp.forgot_password(ClientId=client_id, Username=name)
    assert error(e) == ("NotAuthorizedException",
                        "User password cannot be reset in the current state.")
    assert status(idp, pool, name) == "FORCE_CHANGE_PASSWORD"


def test_secret_client_needs_the_secret_hash(idp, server, unique):
    name = unique("fsh")
    pool, plain_client = pool_with_user(idp, server, name)
    client = new_client(idp, pool, GenerateSecret=True)
    client_id, secret = client["ClientId"], client["ClientSecret"]
    with pytest.raises(ClientError) as e:
        idp.forgot_password(ClientId=client_id, Username=name)
    assert error(e) == ("NotAuthorizedException",
                        f"Client {client_id} is configured for secret but secret was not received")
    sh = secret_hash(secret, name, client_id)
    response = idp.forgot_password(ClientId=client_id, Username=name, SecretHash=sh)
    assert plain(response) == {"CodeDeliveryDetails": email_delivery(masked(f"{name}@example.com"))}
    idp.confirm_forgot_password(ClientId=client_id, Username=name, SecretHash=sh,
                                ConfirmationCode=server.last_code(pool, name),
                                Password=NEW_PASSWORD)
    sign_in(idp, plain_client, name, NEW_PASSWORD)


def test_password_history(idp, server, unique):
    name = unique("ph")
    pool = new_pool(idp, Policies={"PasswordPolicy": {
        "MinimumLength": 8, "RequireUppercase": True, "RequireLowercase": True,
        "RequireNumbers": True, "RequireSymbols": True, "PasswordHistorySize": 2}})
    client_id = new_client(idp, pool)["ClientId"]
    confirmed_user(idp, server, pool, client_id, name)

    # ConfirmForgotPassword with the current password: refused, the code stays usable.
    code = forgot(idp, server, pool, client_id, name)
    with pytest.raises(ClientError) as e:
        confirm(idp, client_id, name, code, password=PASSWORD)
    assert error(e) == HISTORY
    confirm(idp, client_id, name, code, password=NEW_PASSWORD)  # PASSWORD -> NEW_PASSWORD

    access = sign_in(idp, client_id, name, NEW_PASSWORD)["AccessToken"]
    with pytest.raises(ClientError) as e:
        idp.change_password(AccessToken=access, PreviousPassword=NEW_PASSWORD,
                            ProposedPassword=NEW_PASSWORD)
    assert error(e) == HISTORY
    with pytest.raises(ClientError) as e:
        idp.admin_set_user_password(UserPoolId=pool, Username=name, Password=NEW_PASSWORD,
                                    Permanent=True)
    assert error(e) == HISTORY
    # The previous password is in the history (size 2: the current one and one before).
    with pytest.raises(ClientError) as e:
        idp.change_password(AccessToken=access, PreviousPassword=NEW_PASSWORD,
                            ProposedPassword=PASSWORD)
    assert error(e) == HISTORY
    sign_in(idp, client_id, name, NEW_PASSWORD)

    idp.change_password(AccessToken=access, PreviousPassword=NEW_PASSWORD,
                        ProposedPassword=THIRD_PASSWORD)
    # PASSWORD is now two changes ago, out of the history.
    idp.change_password(AccessToken=access, PreviousPassword=THIRD_PASSWORD,
                        ProposedPassword=PASSWORD)
    sign_in(idp, client_id, name, PASSWORD)
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, THIRD_PASSWORD)
    assert error(e) == WRONG_PASSWORD


# ---------------------------------------------------------------- AdminResetUserPassword


def test_admin_reset_user_password(idp, server, unique):
    name = unique("ar")
    pool, client_id = pool_with_user(idp, server, name)
    sent = len(server.outbox(pool, name))
    assert plain(idp.admin_reset_user_password(UserPoolId=pool, Username=name)) == {}
    assert status(idp, pool, name) == "RESET_REQUIRED"
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, PASSWORD)
    assert error(e) == ("PasswordResetRequiredException", "Password reset required for the user")
    messages = server.outbox(pool, name)
    assert len(messages) == sent + 1
    assert messages[-1]["Destination"] == masked(f"{name}@example.com")

    assert plain(confirm(idp, client_id, name, messages[-1]["Code"])) == {}
    assert status(idp, pool, name) == "CONFIRMED"
    sign_in(idp, client_id, name, NEW_PASSWORD)
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, PASSWORD)
    assert error(e) == WRONG_PASSWORD


def test_admin_reset_user_password_refusals(idp, server, unique):
    name = unique("arx")
    pool = new_pool(idp, AutoVerifiedAttributes=[])
    client_id = new_client(idp, pool)["ClientId"]
    with pytest.raises(ClientError) as e:
        idp.admin_reset_user_password(UserPoolId=pool, Username="ghost-" + name)
    assert error(e) == ("UserNotFoundException", "User does not exist.")
    unverified_user(idp, pool, client_id, name)
    with pytest.raises(ClientError) as e:
        idp.admin_reset_user_password(UserPoolId=pool, Username=name)
    assert error(e) == NO_CONTACT
    assert status(idp, pool, name) == "CONFIRMED"
    sign_in(idp, client_id, name, PASSWORD)


# ------------------------------------------------------------------ AdminSetUserPassword


def test_admin_set_permanent_password(idp, server, unique):
    name = unique("sp")
    pool, client_id = pool_with_user(idp, server, name)
    assert plain(idp.admin_set_user_password(UserPoolId=pool, Username=name,
                                             Password=NEW_PASSWORD, Permanent=True)) == {}
    assert status(idp, pool, name) == "CONFIRMED"
    sign_in(idp, client_id, name, NEW_PASSWORD)
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, PASSWORD)
    assert error(e) == WRONG_PASSWORD


def test_admin_set_temporary_password_and_its_expiry(idp, server, unique):
    name = unique("st")
    pool, client_id = pool_with_user(idp, server, name)
    idp.admin_set_user_password(UserPoolId=pool, Username=name, Password="Temp-Passw0rd!",
                                Permanent=False)
    assert status(idp, pool, name) == "FORCE_CHANGE_PASSWORD"
    challenge = password_auth(idp, client_id, name, "Temp-Passw0rd!")
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert "AuthenticationResult" not in challenge
    advance_clock(server, 7 * 86400 + 1)
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, "Temp-Passw0rd!")
    assert error(e) == ("NotAuthorizedException",
                        "Temporary password has expired and must be reset by an administrator.")


def test_admin_set_weak_password(idp, server, unique):
    name = unique("sw")
    pool, client_id = pool_with_user(idp, server, name)
    with pytest.raises(ClientError) as e:
        idp.admin_set_user_password(UserPoolId=pool, Username=name, Password="Ab1!",
                                    Permanent=True)
    assert error(e) == TOO_SHORT
    assert status(idp, pool, name) == "CONFIRMED"
    sign_in(idp, client_id, name, PASSWORD)


# ---------------------------------------------------------------------------- Attributes


def test_update_a_plain_attribute(idp, server, unique):
    name = unique("ua")
    pool, client_id = pool_with_user(idp, server, name)
    access = sign_in(idp, client_id, name)["AccessToken"]
    sent = len(server.outbox(pool, name))
    response = idp.update_user_attributes(AccessToken=access,
                                          UserAttributes=[{"Name": "name", "Value": "Ann"}])
    assert "CodeDeliveryDetailsList" not in response
    assert len(server.outbox(pool, name)) == sent
    attributes = attributes_of(idp, access)
    assert attributes["name"] == "Ann"
    assert attributes["email"] == f"{name}@example.com"
    assert attributes["email_verified"] == "true"
    assert id_claims(sign_in(idp, client_id, name))["name"] == "Ann"


def test_update_email_and_verify_it(idp, server, unique):
    name = unique("ue")
    pool, client_id = pool_with_user(idp, server, name)
    access = sign_in(idp, client_id, name)["AccessToken"]
    new_email = f"new-{name}@example.org"
    response = idp.update_user_attributes(AccessToken=access,
                                          UserAttributes=[{"Name": "email", "Value": new_email}])
    assert response["CodeDeliveryDetailsList"] == [email_delivery(masked(new_email))]
    attributes = attributes_of(idp, access)
    assert (attributes["email"], attributes["email_verified"]) == (new_email, "false")
    messages = server.outbox(pool, name)
    assert messages[-1]["Destination"] == masked(new_email)

    again = idp.get_user_attribute_verification_code(AccessToken=access, AttributeName="email")
    assert plain(again) == {"CodeDeliveryDetails": email_delivery(masked(new_email))}
    code = server.last_code(pool, name)
    with pytest.raises(ClientError) as e:
        idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=other_code(code))
    assert error(e) == MISMATCH
    assert attributes_of(idp, access)["email_verified"] == "false"
    assert plain(idp.verify_user_attribute(AccessToken=access, AttributeName="email",
                                           Code=code)) == {}
    attributes = attributes_of(idp, access)
    assert (attributes["email"], attributes["email_verified"]) == (new_email, "true")


def test_email_kept_until_the_new_one_is_verified(idp, server, unique):
    name = unique("uk")
    pool = new_pool(idp, UserAttributeUpdateSettings={
        "AttributesRequireVerificationBeforeUpdate": ["email"]})
    client_id = new_client(idp, pool)["ClientId"]
    old_email = confirmed_user(idp, server, pool, client_id, name)
    access = sign_in(idp, client_id, name)["AccessToken"]
    new_email = f"new-{name}@example.org"
    idp.update_user_attributes(AccessToken=access,
                               UserAttributes=[{"Name": "email", "Value": new_email}])
    attributes = attributes_of(idp, access)
    assert (attributes["email"], attributes["email_verified"]) == (old_email, "true")
    assert id_claims(sign_in(idp, client_id, name))["email"] == old_email
    message = server.outbox(pool, name)[-1]
    assert message["Destination"] == masked(new_email)

    idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=message["Code"])
    attributes = attributes_of(idp, access)
    assert (attributes["email"], attributes["email_verified"]) == (new_email, "true")
    assert id_claims(sign_in(idp, client_id, name))["email"] == new_email


def test_alias_email_follows_the_verified_address(idp, server, unique):
    name = unique("al")
    pool = new_pool(idp, AliasAttributes=["email"])
    client_id = new_client(idp, pool)["ClientId"]
    old_email = confirmed_user(idp, server, pool, client_id, name)
    access = sign_in(idp, client_id, old_email)["AccessToken"]
    assert idp.get_user(AccessToken=access)["Username"] == name

    new_email = f"new-{name}@example.org"
    idp.update_user_attributes(AccessToken=access,
                               UserAttributes=[{"Name": "email", "Value": new_email}])
    # The old address is released: it no longer signs A in.
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, old_email)
    assert e.value.response["Error"]["Code"] in ("NotAuthorizedException",
                                                 "UserNotFoundException")
    idp.verify_user_attribute(AccessToken=access, AttributeName="email",
                              Code=server.last_code(pool, name))
    tokens = sign_in(idp, client_id, new_email)
    assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == name
    sign_in(idp, client_id, name)


def test_alias_email_taken_by_another_user(idp, server, unique):
    a, b = unique("ala"), unique("alb")
    pool = new_pool(idp, AliasAttributes=["email"])
    client_id = new_client(idp, pool)["ClientId"]
    a_email = confirmed_user(idp, server, pool, client_id, a)
    b_email = confirmed_user(idp, server, pool, client_id, b)
    access = sign_in(idp, client_id, a_email)["AccessToken"]
    before = attributes_of(idp, access)
    sent = len(server.outbox(pool, a))
    with pytest.raises(ClientError) as e:
        idp.update_user_attributes(AccessToken=access,
                                   UserAttributes=[{"Name": "email", "Value": b_email}])
    assert error(e) == ("AliasExistsException", "An account with the email already exists.")
    assert attributes_of(idp, access) == before
    assert len(server.outbox(pool, a)) == sent
    for email, owner in ((a_email, a), (b_email, b)):
        tokens = sign_in(idp, client_id, email)
        assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == owner


def test_refused_attribute_writes_change_nothing(idp, server, unique):
    name = unique("uw")
    pool, client_id = pool_with_user(idp, server, name)
    limited = new_client(idp, pool, WriteAttributes=["name"])["ClientId"]
    limited_access = sign_in(idp, limited, name)["AccessToken"]
    access = sign_in(idp, client_id, name)["AccessToken"]
    before = attributes_of(idp, access)

    refusals = [
        (limited_access, [{"Name": "given_name", "Value": "Ann"}], UNAUTHORIZED_WRITE),
        (access, [{"Name": "email_verified", "Value": "false"}], UNAUTHORIZED_WRITE),
        (access, [{"Name": "email", "Value": "not-an-email"}],
         ("InvalidParameterException", "Invalid email address format.")),
    ]
    for token, attributes, expected in refusals:
        with pytest.raises(ClientError) as e:
            idp.update_user_attributes(AccessToken=token, UserAttributes=attributes)
        assert error(e) == expected, attributes
        assert attributes_of(idp, access) == before
    with pytest.raises(ClientError) as e:
        idp.update_user_attributes(AccessToken=access,
                                   UserAttributes=[{"Name": "custom:nope", "Value": "x"}])
    code, message = error(e)
    assert code == "InvalidParameterException" and "custom:nope" in message
    assert attributes_of(idp, access) == before
    # The limited client may write what it was given.
    idp.update_user_attributes(AccessToken=limited_access,
                               UserAttributes=[{"Name": "name", "Value": "Ann"}])
    assert attributes_of(idp, access) == {**before, "name": "Ann"}


def test_immutable_custom_attribute(idp, server, unique):
    name = unique("im")
    pool = new_pool(idp, Schema=[{"Name": "team", "AttributeDataType": "String",
                                  "Mutable": False}])
    client_id = new_client(idp, pool)["ClientId"]
    confirmed_user(idp, server, pool, client_id, name,
                   attributes=[{"Name": "custom:team", "Value": "red"}])
    before = admin_attributes(idp, pool, name)
    assert before["custom:team"] == "red"
    with pytest.raises(ClientError) as e:
        idp.admin_update_user_attributes(UserPoolId=pool, Username=name,
                                         UserAttributes=[{"Name": "custom:team", "Value": "blue"}])
    assert error(e) == ("InvalidParameterException",
                        "user.custom:team: Attribute cannot be updated.")
    assert admin_attributes(idp, pool, name) == before


def test_admin_update_email_as_verified(idp, server, unique):
    name = unique("au")
    pool, client_id = pool_with_user(idp, server, name)
    sent = len(server.outbox(pool, name))
    new_email = f"new-{name}@example.com"
    response = idp.admin_update_user_attributes(
        UserPoolId=pool, Username=name,
        UserAttributes=[{"Name": "email", "Value": new_email},
                        {"Name": "email_verified", "Value": "true"}])
    assert plain(response) == {}
    attributes = admin_attributes(idp, pool, name)
    assert (attributes["email"], attributes["email_verified"]) == (new_email, "true")
    assert len(server.outbox(pool, name)) == sent
    assert id_claims(sign_in(idp, client_id, name))["email"] == new_email


def test_delete_attributes(idp, server, unique):
    name = unique("da")
    pool = new_pool(idp, Schema=[{"Name": "email", "AttributeDataType": "String",
                                  "Required": True, "Mutable": True}])
    client_id = new_client(idp, pool)["ClientId"]
    confirmed_user(idp, server, pool, client_id, name,
                   attributes=[{"Name": "name", "Value": "Ann"},
                               {"Name": "given_name", "Value": "Annie"}])
    access = sign_in(idp, client_id, name)["AccessToken"]
    assert attributes_of(idp, access)["name"] == "Ann"
    assert plain(idp.delete_user_attributes(AccessToken=access, UserAttributeNames=["name"])) == {}
    attributes = attributes_of(idp, access)
    assert "name" not in attributes and attributes["given_name"] == "Annie"

    required = ("InvalidParameterException",
                "Attributes did not conform to the schema: email: The attribute is required")
    with pytest.raises(ClientError) as e:
        idp.delete_user_attributes(AccessToken=access, UserAttributeNames=["email"])
    assert error(e) == required
    assert attributes_of(idp, access) == attributes

    assert plain(idp.admin_delete_user_attributes(UserPoolId=pool, Username=name,
                                                  UserAttributeNames=["given_name"])) == {}
    attributes = admin_attributes(idp, pool, name)
    assert "given_name" not in attributes and attributes["email"] == f"{name}@example.com"
    with pytest.raises(ClientError) as e:
        idp.admin_delete_user_attributes(UserPoolId=pool, Username=name,
                                         UserAttributeNames=["email"])
    assert error(e) == required
    assert admin_attributes(idp, pool, name) == attributes


def test_verification_code_requests_hourly_limit(idp, server, unique):
    name = unique("vc")
    pool, client_id = pool_with_user(idp, server, name)
    access = sign_in(idp, client_id, name)["AccessToken"]
    with pytest.raises(ClientError) as e:
        idp.get_user_attribute_verification_code(AccessToken=access, AttributeName="name")
    code, message = error(e)
    assert code == "InvalidParameterException" and "name" in message
    sent = len(server.outbox(pool, name))
    for _ in range(5):
        response = idp.get_user_attribute_verification_code(AccessToken=access,
                                                             AttributeName="email")
        assert plain(response) == {
            "CodeDeliveryDetails": email_delivery(masked(f"{name}@example.com"))}
    assert len(server.outbox(pool, name)) == sent + 5
    with pytest.raises(ClientError) as e:
        idp.get_user_attribute_verification_code(AccessToken=access, AttributeName="email")
    assert error(e) == LIMIT
    assert len(server.outbox(pool, name)) == sent + 5


def test_verify_user_attribute_hourly_limit(idp, server, unique):
    name = unique("vl")
    pool, client_id = pool_with_user(idp, server, name)
    access = sign_in(idp, client_id, name)["AccessToken"]
    new_email = f"new-{name}@example.com"
    idp.update_user_attributes(AccessToken=access,
                               UserAttributes=[{"Name": "email", "Value": new_email}])
    code = server.last_code(pool, name)
    for _ in range(15):
        with pytest.raises(ClientError) as e:
            idp.verify_user_attribute(AccessToken=access, AttributeName="email",
                                      Code=other_code(code))
        assert error(e) == MISMATCH
    with pytest.raises(ClientError) as e:
        idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=code)
    assert error(e) == LIMIT
    assert attributes_of(idp, access)["email_verified"] == "false"


def test_attribute_operations_with_an_invalid_access_token(idp, server, unique):
    calls = [
        lambda t: idp.update_user_attributes(AccessToken=t,
                                             UserAttributes=[{"Name": "name", "Value": "A"}]),
        lambda t: idp.delete_user_attributes(AccessToken=t, UserAttributeNames=["name"]),
        lambda t: idp.get_user_attribute_verification_code(AccessToken=t, AttributeName="email"),
        lambda t: idp.verify_user_attribute(AccessToken=t, AttributeName="email", Code="123456"),
    ]
    for call in calls:
        for token in ("garbage", "a.b.c"):
            with pytest.raises(ClientError) as e:
                call(token)
            assert error(e) == ("NotAuthorizedException", "Invalid Access Token")


# ------------------------------------------------------------------------------- AWS CLI


@pytest.mark.skipif(AWS is None, reason="AWS CLI not installed")
def test_cli_forgot_and_confirm_forgot_password(idp, server, unique, tmp_path):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDCOGNATETEST",
               AWS_SECRET_ACCESS_KEY="cognate-test-secret", AWS_DEFAULT_REGION="us-east-1",
               AWS_PAGER="", AWS_CONFIG_FILE=str(tmp_path / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"))

    def aws(*args, ok=True):
        p = subprocess.run([AWS, "cognito-idp", *args, "--endpoint-url", server.url,
                            "--output", "json"], env=env, capture_output=True, text=True,
                           timeout=60)
        if ok:
            assert p.returncode == 0, p.stderr
            return json.loads(p.stdout) if p.stdout.strip() else {}
        assert p.returncode != 0
        return p.stderr

    name = unique("cli")
    pool, client_id = pool_with_user(idp, server, name)
    out = aws("forgot-password", "--client-id", client_id, "--username", name)
    assert out == {"CodeDeliveryDetails": email_delivery(masked(f"{name}@example.com"))}
    code = server.last_code(pool, name)
    err = aws("confirm-forgot-password", "--client-id", client_id, "--username", name,
              "--confirmation-code", other_code(code), "--password", NEW_PASSWORD, ok=False)
    assert "CodeMismatchException" in err
    assert "Invalid verification code provided, please try again." in err
    assert aws("confirm-forgot-password", "--client-id", client_id, "--username", name,
               "--confirmation-code", code, "--password", NEW_PASSWORD) == {}
    sign_in(idp, client_id, name, NEW_PASSWORD)
    err = aws("forgot-password", "--client-id", client_id, "--username", "ghost-" + name, ok=False)
    assert "UserNotFoundException" in err
    assert "Username/client id combination not found." in err


# ---------------------------------------------------------------------------- pycognito


@pytest.fixture(scope="module")
def srp_server():
    """A server of its own whose test clock is never advanced: SRP refuses a TIMESTAMP more
    than 5 minutes from the server's clock, and pycognito sends the wall-clock time, so it
    cannot share the module's server once a test has moved that clock."""
    s = Server()
    yield s
    s.stop()


def test_pycognito_forgot_password_and_profile(srp_server, unique):
    server = srp_server
    idp = boto3.client("cognito-idp", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id="AKIDCOGNATETEST",
                       aws_secret_access_key="cognate-test-secret")
    name = unique("pc")
    pool = new_pool(idp)
    client_id = new_client(idp, pool, flows=["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH",
                                             "ALLOW_REFRESH_TOKEN_AUTH"])["ClientId"]
    confirmed_user(idp, server, pool, client_id, name)
    # pycognito builds its own boto3 client from boto3_client_kwargs; with an endpoint_url it
    # also takes `{endpoint_url}/{pool}` as the issuer and fetches the JWKS from there, which
    # is exactly where Cognate publishes them, so its token verification runs unmodified.
    user = Cognito(pool, client_id, username=name, user_pool_region="us-east-1",
                   boto3_client_kwargs={"endpoint_url": server.url,
                                        "aws_access_key_id": "AKIDCOGNATETEST",
                                        "aws_secret_access_key": "cognate-test-secret"})
    user.initiate_forgot_password()
    message = server.outbox(pool, name)[-1]
    assert message["Destination"] == masked(f"{name}@example.com")
    user.confirm_forgot_password(message["Code"], NEW_PASSWORD)
    with pytest.raises(ClientError) as e:
        user.authenticate(password=PASSWORD)
    assert error(e) == WRONG_PASSWORD
    user.authenticate(password=NEW_PASSWORD)
    assert user.id_claims["cognito:username"] == name

    user.update_profile({"name": "Ann"}, attr_map=None)
    assert user.get_user().name == "Ann"
    new_email = f"new-{name}@example.org"
    user.update_profile({"email": new_email}, attr_map=None)
    assert attributes_of(idp, user.access_token)["email_verified"] == "false"
    user.validate_verification(server.last_code(pool, name), attribute="email")
    attributes = attributes_of(idp, user.access_token)
    assert (attributes["email"], attributes["email_verified"], attributes["name"]) == \
        (new_email, "true", "Ann")
    user.authenticate(password=NEW_PASSWORD)
    assert user.id_claims["email"] == new_email and user.id_claims["name"] == "Ann"
