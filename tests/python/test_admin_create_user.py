"""AdminCreateUser through real clients (boto3 and the AWS CLI): the created user and its
invitation (template, masked destination, generated temporary password), the
NEW_PASSWORD_REQUIRED sign-in that replaces the temporary password, refusals that create
nothing, delivery mediums (EMAIL, SMS and the SMS default), MessageAction SUPPRESS and
RESEND, the temporary password's validity, AllowAdminCreateUserOnly with a custom
InviteMessageTemplate, verified aliases with and without ForceAliasCreation, and pools whose
usernames are email addresses. Invitations are read from the developer outbox."""
import datetime
import re
import uuid

import pytest
from botocore.exceptions import ClientError

from test_cli import aws  # noqa: F401  (the AWS CLI runner fixture)
from test_recovery import AWS, admin_attributes, masked, new_client, status
from test_signin_flows import (NEW_PASSWORD, PASSWORD, advance_clock, assert_tokens, error,
                               password_auth, sign_in)

INVITE_SUBJECT = "Your temporary password"
USER_NOT_FOUND = ("UserNotFoundException", "User does not exist.")
WRONG_PASSWORD = ("NotAuthorizedException", "Incorrect username or password.")
EXPIRED = ("NotAuthorizedException",
           "Temporary password has expired and must be reset by an administrator.")
NO_EMAIL = ("InvalidParameterException",
            "No email provided but desired delivery medium was Email")
NO_PHONE = ("InvalidParameterException",
            "No phone_number provided but desired delivery medium was Sms")
PHONE = "+12065551234"


# ------------------------------------------------------------------------------ helpers


def invite_pool(idp, **kwargs):
    """A pool (with `kwargs`) and a USER_PASSWORD_AUTH + refresh client; (pool, client)."""
    pool = idp.create_user_pool(PoolName="py-invite", **kwargs)["UserPool"]["Id"]
    return pool, new_client(idp, pool)["ClientId"]


def email_attributes(address, verified="true"):
    return [{"Name": "email", "Value": address}, {"Name": "email_verified", "Value": verified}]


def create(idp, pool, username, attributes=(), **kwargs):
    return idp.admin_create_user(UserPoolId=pool, Username=username,
                                 UserAttributes=list(attributes), **kwargs)["User"]


def invite_by_email(idp, pool, username, **kwargs):
    """`username` created with a verified email and the invitation sent by email."""
    return create(idp, pool, username, email_attributes(f"{username}@example.com"),
                  DesiredDeliveryMediums=["EMAIL"], **kwargs)


def default_body(username, password):
    return f"Your username is {username} and temporary password is {password}. "


def assert_strong(password, minimum=8):
    assert len(password) >= max(minimum, 8), password
    assert re.search(r"[a-z]", password), password
    assert re.search(r"[A-Z]", password), password
    assert re.search(r"[0-9]", password), password
    assert re.search(r"[^A-Za-z0-9]", password), password


def emailed_password(server, pool, username):
    """The only invitation in the outbox for `username`, checked; its temporary password."""
    messages = server.outbox(pool, username)
    assert len(messages) == 1, messages
    message = messages[0]
    password = message["Code"]
    assert message["Medium"] == "EMAIL"
    assert message["Destination"] == masked(f"{username}@example.com")
    assert message["Subject"] == INVITE_SUBJECT
    assert message["Body"] == default_body(username, password)
    return password


def challenge(idp, client_id, username, password):
    """USER_PASSWORD_AUTH with a temporary password: the NEW_PASSWORD_REQUIRED challenge."""
    result = password_auth(idp, client_id, username, password)
    assert result["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert result["Session"]
    assert "AuthenticationResult" not in result
    return result


def assert_absent(idp, pool, username):
    with pytest.raises(ClientError) as e:
        idp.admin_get_user(UserPoolId=pool, Username=username)
    assert error(e) == USER_NOT_FOUND


def user_of(idp, tokens):
    return idp.get_user(AccessToken=tokens["AccessToken"])["Username"]


# ----------------------------------------------------------------- the user and invitation


def test_create_user_with_an_email_invitation(idp, server, unique):
    name = unique("ac")
    pool, _ = invite_pool(idp)
    user = invite_by_email(idp, pool, name)
    assert set(user) == {"Username", "Attributes", "UserCreateDate", "UserLastModifiedDate",
                         "Enabled", "UserStatus"}
    assert user["Username"] == name
    assert (user["Enabled"], user["UserStatus"]) == (True, "FORCE_CHANGE_PASSWORD")
    assert isinstance(user["UserCreateDate"], datetime.datetime)
    assert isinstance(user["UserLastModifiedDate"], datetime.datetime)
    attributes = {a["Name"]: a["Value"] for a in user["Attributes"]}
    assert attributes["email"] == f"{name}@example.com"
    assert attributes["email_verified"] == "true"
    assert str(uuid.UUID(attributes["sub"])) == attributes["sub"]

    got = idp.admin_get_user(UserPoolId=pool, Username=name)
    assert (got["UserStatus"], got["Enabled"]) == ("FORCE_CHANGE_PASSWORD", True)
    assert admin_attributes(idp, pool, name) == attributes

    assert_strong(emailed_password(server, pool, name))


@pytest.mark.parametrize("minimum", [6, 14, 20])
def test_generated_password_meets_the_pool_policy(idp, server, unique, minimum):
    name = unique("al")
    pool, client_id = invite_pool(idp, Policies={"PasswordPolicy": {
        "MinimumLength": minimum, "RequireUppercase": True, "RequireLowercase": True,
        "RequireNumbers": True, "RequireSymbols": True}})
    invite_by_email(idp, pool, name)
    password = emailed_password(server, pool, name)
    assert_strong(password, minimum)
    challenge(idp, client_id, name, password)


def test_temporary_password_is_replaced_at_the_first_sign_in(idp, server, unique):
    name = unique("np")
    pool, client_id = invite_pool(idp)
    invite_by_email(idp, pool, name)
    temporary = emailed_password(server, pool, name)
    first = challenge(idp, client_id, name, temporary)
    result = idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=first["Session"],
        ChallengeResponses={"USERNAME": name, "NEW_PASSWORD": NEW_PASSWORD})
    assert "ChallengeName" not in result
    assert_tokens(idp, result, name)
    assert status(idp, pool, name) == "CONFIRMED"
    assert user_of(idp, sign_in(idp, client_id, name, NEW_PASSWORD)) == name
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, temporary)
    assert error(e) == WRONG_PASSWORD


# ------------------------------------------------------------------------------ refusals


def test_duplicate_username(idp, server, unique):
    name = unique("dup")
    pool, _ = invite_pool(idp)
    invite_by_email(idp, pool, name)
    with pytest.raises(ClientError) as e:
        invite_by_email(idp, pool, name)
    assert error(e) == ("UsernameExistsException", "User account already exists")
    assert len(server.outbox(pool, name)) == 1


def test_temporary_password_against_the_policy(idp, server, unique):
    name = unique("sh")
    pool, _ = invite_pool(idp)
    with pytest.raises(ClientError) as e:
        invite_by_email(idp, pool, name, TemporaryPassword="short")
    assert error(e) == ("InvalidPasswordException",
                        "Password did not conform with policy: Password not long enough")
    assert_absent(idp, pool, name)
    assert server.outbox(pool, name) == []


def test_desired_medium_without_its_address(idp, server, unique):
    pool, _ = invite_pool(idp)
    email_only = email_attributes("someone@example.com")
    cases = [(["EMAIL"], [{"Name": "phone_number", "Value": PHONE}], NO_EMAIL),
             (["EMAIL"], [], NO_EMAIL),
             (["SMS"], email_only, NO_PHONE),
             (["SMS", "EMAIL"], email_only, NO_PHONE)]
    for mediums, attributes, expected in cases:
        name = unique("nm")
        with pytest.raises(ClientError) as e:
            create(idp, pool, name, attributes, DesiredDeliveryMediums=mediums)
        assert error(e) == expected, (mediums, attributes)
        assert_absent(idp, pool, name)
        assert server.outbox(pool, name) == []


# ---------------------------------------------------------------------- delivery mediums


def test_default_medium_is_sms(idp, server, unique):
    pool, client_id = invite_pool(idp)
    texted = unique("sms")
    user = create(idp, pool, texted, [{"Name": "phone_number", "Value": PHONE},
                                      *email_attributes(f"{texted}@example.com")])
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    messages = server.outbox(pool, texted)
    assert len(messages) == 1, messages
    message = messages[0]
    assert (message["Medium"], message["Destination"]) == ("SMS", "+*******1234")
    assert message["Body"] == default_body(texted, message["Code"])
    challenge(idp, client_id, texted, message["Code"])

    # Without a phone number the default medium is skipped: no message and no error.
    silent = unique("nsms")
    user = create(idp, pool, silent, email_attributes(f"{silent}@example.com"))
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert server.outbox(pool, silent) == []
    assert status(idp, pool, silent) == "FORCE_CHANGE_PASSWORD"


def test_both_mediums(idp, server, unique):
    name = unique("both")
    pool, client_id = invite_pool(idp)
    create(idp, pool, name, [{"Name": "phone_number", "Value": PHONE},
                             *email_attributes(f"{name}@example.com")],
           DesiredDeliveryMediums=["EMAIL", "SMS"])
    messages = server.outbox(pool, name)
    assert sorted(m["Medium"] for m in messages) == ["EMAIL", "SMS"]
    assert len({m["Code"] for m in messages}) == 1  # one temporary password, sent twice
    challenge(idp, client_id, name, messages[0]["Code"])


def test_suppress_with_a_given_temporary_password(idp, server, unique):
    name = unique("sup")
    pool, client_id = invite_pool(idp)
    user = invite_by_email(idp, pool, name, MessageAction="SUPPRESS",
                           TemporaryPassword="Temp-Passw0rd!")
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert server.outbox(pool, name) == []
    challenge(idp, client_id, name, "Temp-Passw0rd!")
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, "Other-Passw0rd!")
    assert error(e) == WRONG_PASSWORD


# ----------------------------------------------------------------------------- RESEND


def test_resend_replaces_the_temporary_password(idp, server, unique):
    name = unique("rs")
    pool, client_id = invite_pool(idp)
    invite_by_email(idp, pool, name)
    first = emailed_password(server, pool, name)

    user = invite_by_email(idp, pool, name, MessageAction="RESEND")
    assert (user["Username"], user["UserStatus"]) == (name, "FORCE_CHANGE_PASSWORD")
    messages = server.outbox(pool, name)
    assert len(messages) == 2, messages
    second = messages[1]["Code"]
    assert second != first
    assert messages[1]["Subject"] == INVITE_SUBJECT
    assert messages[1]["Body"] == default_body(name, second)
    assert_strong(second)

    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, first)
    assert error(e) == WRONG_PASSWORD
    challenge(idp, client_id, name, second)


def test_resend_refusals(idp, server, unique):
    pool, client_id = invite_pool(idp)
    ghost = unique("ghost")
    with pytest.raises(ClientError) as e:
        invite_by_email(idp, pool, ghost, MessageAction="RESEND")
    assert error(e) == USER_NOT_FOUND
    assert_absent(idp, pool, ghost)

    name = unique("rc")
    invite_by_email(idp, pool, name)
    idp.admin_set_user_password(UserPoolId=pool, Username=name, Password=PASSWORD,
                                Permanent=True)
    assert status(idp, pool, name) == "CONFIRMED"
    with pytest.raises(ClientError) as e:
        invite_by_email(idp, pool, name, MessageAction="RESEND")
    assert e.value.response["Error"]["Code"] == "UnsupportedUserStateException"
    assert len(server.outbox(pool, name)) == 1
    assert user_of(idp, sign_in(idp, client_id, name, PASSWORD)) == name


# ------------------------------------------------------------------ temporary validity


def test_temporary_password_validity_days(idp, server, unique):
    name = unique("tv")
    pool, client_id = invite_pool(idp, Policies={"PasswordPolicy": {
        "MinimumLength": 8, "TemporaryPasswordValidityDays": 1}})
    invite_by_email(idp, pool, name)
    first = emailed_password(server, pool, name)
    advance_clock(server, 86401)
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, first)
    assert error(e) == EXPIRED
    assert status(idp, pool, name) == "FORCE_CHANGE_PASSWORD"

    invite_by_email(idp, pool, name, MessageAction="RESEND")
    second = server.outbox(pool, name)[-1]["Code"]
    assert second != first
    pending = challenge(idp, client_id, name, second)
    assert_tokens(idp, idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=pending["Session"],
        ChallengeResponses={"USERNAME": name, "NEW_PASSWORD": NEW_PASSWORD}), name)


# ------------------------------------------------------------- admin-only pool, templates


def test_admin_only_pool_with_an_invite_template(idp, server, unique):
    pool, client_id = invite_pool(idp, AdminCreateUserConfig={
        "AllowAdminCreateUserOnly": True,
        "InviteMessageTemplate": {"EmailMessage": "Hi {username}, use {####}",
                                  "EmailSubject": "Welcome",
                                  "SMSMessage": "Welcome {username}, no password here"}})
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=client_id, Username=unique("su"), Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "su@example.com"}])
    assert error(e) == ("NotAuthorizedException", "SignUp is not permitted for this user pool")

    create(idp, pool, "ann", email_attributes("ann@example.com"),
           DesiredDeliveryMediums=["EMAIL"])
    messages = server.outbox(pool, "ann")
    assert len(messages) == 1, messages
    message = messages[0]
    assert (message["Subject"], message["Body"]) == ("Welcome", f"Hi ann, use {message['Code']}")
    assert message["Destination"] == "a***@e***"
    assert_strong(message["Code"])
    challenge(idp, client_id, "ann", message["Code"])

    # An SMS template without the password placeholder sends no SMS.
    user = create(idp, pool, "bob", [{"Name": "phone_number", "Value": PHONE}],
                  DesiredDeliveryMediums=["SMS"])
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert server.outbox(pool, "bob") == []


# ------------------------------------------------------------------------------ aliases


def test_verified_email_alias(idp, server, unique):
    a, b = unique("aa"), unique("ab")
    address = f"{a}@example.com"
    pool, client_id = invite_pool(idp, AliasAttributes=["email"])
    create(idp, pool, a, email_attributes(address))
    idp.admin_set_user_password(UserPoolId=pool, Username=a, Password=PASSWORD, Permanent=True)
    assert user_of(idp, sign_in(idp, client_id, address)) == a

    with pytest.raises(ClientError) as e:
        create(idp, pool, b, email_attributes(address))
    assert error(e) == ("UsernameExistsException", "An account with the given email already exists.")
    assert_absent(idp, pool, b)
    assert user_of(idp, sign_in(idp, client_id, address)) == a

    created = create(idp, pool, b, email_attributes(address), ForceAliasCreation=True)
    assert created["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    moved_from = admin_attributes(idp, pool, a)
    assert (moved_from["email"], moved_from["email_verified"]) == (address, "false")
    moved_to = admin_attributes(idp, pool, b)
    assert (moved_to["email"], moved_to["email_verified"]) == (address, "true")
    idp.admin_set_user_password(UserPoolId=pool, Username=b, Password=NEW_PASSWORD,
                                Permanent=True)
    assert user_of(idp, sign_in(idp, client_id, address, NEW_PASSWORD)) == b
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, address, PASSWORD)
    assert error(e) == WRONG_PASSWORD
    assert user_of(idp, sign_in(idp, client_id, a)) == a


def test_email_as_username(idp, server, unique):
    pool, client_id = invite_pool(idp, UsernameAttributes=["email"])
    address = "carol@example.com"
    user = create(idp, pool, address, [{"Name": "email_verified", "Value": "true"}],
                  TemporaryPassword="Temp-Passw0rd!", MessageAction="SUPPRESS")
    attributes = {a["Name"]: a["Value"] for a in user["Attributes"]}
    assert str(uuid.UUID(user["Username"])) == user["Username"]
    assert user["Username"] == attributes["sub"]
    assert attributes["email"] == address
    assert idp.admin_get_user(UserPoolId=pool, Username=address)["Username"] == user["Username"]
    challenge(idp, client_id, address, "Temp-Passw0rd!")

    name = unique("carol")
    with pytest.raises(ClientError) as e:
        create(idp, pool, name, TemporaryPassword="Temp-Passw0rd!", MessageAction="SUPPRESS")
    assert error(e) == ("InvalidParameterException", "Username should be an email.")


# ---------------------------------------------------------------------------- AWS CLI


@pytest.mark.skipif(AWS is None, reason="AWS CLI not installed")
def test_cli_admin_create_user(aws, idp, server, unique):  # noqa: F811
    name = unique("cli")
    pool, client_id = invite_pool(idp)
    out = aws("admin-create-user", "--user-pool-id", pool, "--username", name,
              "--user-attributes", f"Name=email,Value={name}@example.com",
              "Name=email_verified,Value=true", "--desired-delivery-mediums", "EMAIL")
    user = out["User"]
    assert (user["Username"], user["UserStatus"], user["Enabled"]) == \
        (name, "FORCE_CHANGE_PASSWORD", True)
    attributes = {a["Name"]: a["Value"] for a in user["Attributes"]}
    assert attributes["email"] == f"{name}@example.com" and attributes["sub"]
    temporary = emailed_password(server, pool, name)
    challenge(idp, client_id, name, temporary)

    err = aws("admin-create-user", "--user-pool-id", pool, "--username", name, ok=False)
    assert "UsernameExistsException" in err and "User account already exists" in err
    err = aws("admin-create-user", "--user-pool-id", pool, "--username", unique("clx"),
              "--desired-delivery-mediums", "EMAIL", ok=False)
    assert "InvalidParameterException" in err
    assert "No email provided but desired delivery medium was Email" in err

    resent = aws("admin-create-user", "--user-pool-id", pool, "--username", name,
                 "--message-action", "RESEND", "--desired-delivery-mediums", "EMAIL")
    assert resent["User"]["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert server.outbox(pool, name)[-1]["Code"] != temporary
