"""More user-pool administration through boto3: the auth events a pool with threat protection
(AdvancedSecurityMode AUDIT) records (AdminListUserAuthEvents with its pages,
AdminUpdateAuthEventFeedback, UpdateAuthEventFeedback, and the refusals of a pool without the
add-on), AddCustomAttributes and the pool's EstimatedNumberOfUsers, ListUsers filters (the
grammar, escapes, case-insensitive usernames and statuses, refused filters), its pages in
username order and AttributesToGet, and the temporary-password validity taken from the
legacy AdminCreateUserConfig.UnusedAccountValidityDays."""
import datetime

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from test_admin_create_user import EXPIRED, USER_NOT_FOUND, challenge
from test_groups import usernames
from test_recovery import admin_attributes, new_client, plain
from test_signin_flows import (NEW_PASSWORD, PASSWORD, advance_clock, error, password_auth,
                               sign_in)

NO_RISK = {"RiskDecision": "NoRisk", "RiskLevel": "Low", "CompromisedCredentialsDetected": False}
NOT_ENABLED = ("UserPoolAddOnNotEnabledException",
               "The user pool does not have advanced security features enabled.")
EVENT_NOT_FOUND = ("ResourceNotFoundException", "Auth event not found.")
FORGED_TOKEN = ("NotAuthorizedException", "Invalid feedback token.")
PARSE_ERROR = ("InvalidParameterException", "Error while parsing filter.")
NO_POOL = "us-east-1_nope"
POOL_NOT_FOUND = ("ResourceNotFoundException", f"User pool {NO_POOL} does not exist.")
FLOW = [("ForgotPassword", "Pass"), ("PasswordChange", "Pass"), ("SignIn", "Fail"),
        ("SignIn", "Pass"), ("SignUp", "Pass"), ("SignUp", "Pass")]


# ------------------------------------------------------------------------------ helpers


def unchecked_client(server):
    """A boto3 client that leaves the validation of parameters to the server."""
    return boto3.client("cognito-idp", endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id="AKIDCOGNATETEST",
                        aws_secret_access_key="cognate-test-secret",
                        config=Config(parameter_validation=False))


def audited_pool(idp, mode="AUDIT"):
    """A pool auto-verifying email with AdvancedSecurityMode `mode` (None: no add-on) and a
    USER_PASSWORD_AUTH + refresh client; (pool, client)."""
    kwargs = {"UserPoolAddOns": {"AdvancedSecurityMode": mode}} if mode else {}
    pool = idp.create_user_pool(PoolName="py-events", AutoVerifiedAttributes=["email"],
                                **kwargs)["UserPool"]["Id"]
    return pool, new_client(idp, pool)["ClientId"]


def signed_up(idp, server, pool, client_id, username, **kwargs):
    """`username` signed up (with `kwargs`) and confirmed with its emailed code."""
    idp.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}], **kwargs)
    idp.confirm_sign_up(ClientId=client_id, Username=username,
                        ConfirmationCode=server.last_code(pool, username))


def auth_events(idp, pool, username, **kwargs):
    return idp.admin_list_user_auth_events(UserPoolId=pool, Username=username,
                                           **kwargs)["AuthEvents"]


def kinds(events):
    return [(e["EventType"], e["EventResponse"]) for e in events]


def the_full_flow(idp, server, pool, client_id, username):
    """Sign-up, confirmation, sign-in, a wrong password, ChangePassword and ForgotPassword:
    the six events of FLOW (newest first)."""
    signed_up(idp, server, pool, client_id, username)
    access = sign_in(idp, client_id, username)["AccessToken"]
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, username, "Wr0ng-password")
    assert error(e) == ("NotAuthorizedException", "Incorrect username or password.")
    assert plain(idp.change_password(AccessToken=access, PreviousPassword=PASSWORD,
                                     ProposedPassword=NEW_PASSWORD)) == {}
    idp.forgot_password(ClientId=client_id, Username=username)


def listing_pool(idp, **kwargs):
    """A pool whose usernames are case-insensitive and a password client; (pool, client)."""
    pool = idp.create_user_pool(PoolName="py-list", UsernameConfiguration={"CaseSensitive": False},
                                **kwargs)["UserPool"]["Id"]
    return pool, new_client(idp, pool)["ClientId"]


def enrol(idp, pool, client_id, username, confirmed=True):
    """`username` signed up with the email `<lowercase username>@example.com`, confirmed by
    the administrator unless `confirmed` is false."""
    idp.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": f"{username.lower()}@example.com"}])
    if confirmed:
        idp.admin_confirm_sign_up(UserPoolId=pool, Username=username)
    return username


def matching(idp, pool, expression):
    return usernames(idp.list_users(UserPoolId=pool, Filter=expression)["Users"])


def custom_names(idp, pool):
    schema = idp.describe_user_pool(UserPoolId=pool)["UserPool"]["SchemaAttributes"]
    return sorted(a["Name"] for a in schema if a["Name"].startswith("custom:"))


# ---------------------------------------------------------------------------- auth events


def test_auth_events_of_the_account_flows(idp, server, unique):
    name = unique("ev")
    pool, client_id = audited_pool(idp)
    the_full_flow(idp, server, pool, client_id, name)

    response = idp.admin_list_user_auth_events(UserPoolId=pool, Username=name)
    assert set(plain(response)) == {"AuthEvents"}
    events = response["AuthEvents"]
    assert kinds(events) == FLOW
    assert len({e["EventId"] for e in events}) == len(events)
    for event in events:
        assert set(event) == {"EventId", "EventType", "CreationDate", "EventResponse",
                              "EventRisk", "ChallengeResponses", "EventContextData"}, event
        assert isinstance(event["EventId"], str) and event["EventId"]
        assert isinstance(event["CreationDate"], datetime.datetime)
        assert event["EventRisk"] == NO_RISK
        assert event["ChallengeResponses"] == []
        context = event["EventContextData"]
        assert context["IpAddress"] == "127.0.0.1"
        assert context["DeviceName"].startswith("Boto3/"), context
    dates = [e["CreationDate"] for e in events]
    assert dates == sorted(dates, reverse=True)


def test_auth_event_address_from_user_context_data(idp, server, unique):
    name = unique("ip")
    pool, client_id = audited_pool(idp)
    signed_up(idp, server, pool, client_id, name,
              UserContextData={"IpAddress": "203.0.113.9"})
    events = auth_events(idp, pool, name)
    assert kinds(events) == [("SignUp", "Pass"), ("SignUp", "Pass")]
    # The confirmation (newest) came without UserContextData, the sign-up (oldest) with it.
    assert [e["EventContextData"]["IpAddress"] for e in events] == ["127.0.0.1", "203.0.113.9"]


def test_auth_events_pages(idp, server, unique):
    name = unique("pg")
    pool, client_id = audited_pool(idp)
    the_full_flow(idp, server, pool, client_id, name)
    everything = auth_events(idp, pool, name)
    assert kinds(everything) == FLOW

    pages, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = idp.admin_list_user_auth_events(UserPoolId=pool, Username=name, MaxResults=2,
                                               **kwargs)
        pages.append(page["AuthEvents"])
        token = page.get("NextToken")
        if not token:
            break
        assert len(pages) < 10, pages
    assert [len(p) for p in pages] == [2, 2, 2]
    assert [e for p in pages for e in p] == everything


def test_admin_update_auth_event_feedback(idp, server, unique):
    name = unique("fb")
    pool, client_id = audited_pool(idp)
    the_full_flow(idp, server, pool, client_id, name)
    before = auth_events(idp, pool, name)
    failed = before[2]
    assert kinds([failed]) == [("SignIn", "Fail")]

    assert plain(idp.admin_update_auth_event_feedback(
        UserPoolId=pool, Username=name, EventId=failed["EventId"], FeedbackValue="Invalid")) == {}
    after = auth_events(idp, pool, name)
    assert [e["EventId"] for e in after] == [e["EventId"] for e in before]
    feedback = after[2]["EventFeedback"]
    assert set(feedback) == {"FeedbackValue", "Provider", "FeedbackDate"}
    assert (feedback["FeedbackValue"], feedback["Provider"]) == ("Invalid", "Admin")
    assert isinstance(feedback["FeedbackDate"], datetime.datetime)
    for index, event in enumerate(after):
        if index != 2:
            assert "EventFeedback" not in event, event
            assert event == before[index]

    with pytest.raises(ClientError) as e:
        idp.admin_update_auth_event_feedback(UserPoolId=pool, Username=name,
                                             EventId="00000000-0000-0000-0000-000000000000",
                                             FeedbackValue="Valid")
    assert error(e) == EVENT_NOT_FOUND
    assert auth_events(idp, pool, name) == after


def test_update_auth_event_feedback_with_a_forged_token(idp, server, unique):
    name = unique("ft")
    pool, client_id = audited_pool(idp)
    signed_up(idp, server, pool, client_id, name)
    before = auth_events(idp, pool, name)
    with pytest.raises(ClientError) as e:
        idp.update_auth_event_feedback(UserPoolId=pool, Username=name,
                                       EventId=before[0]["EventId"], FeedbackToken="forged",
                                       FeedbackValue="Valid")
    assert error(e) == FORGED_TOKEN
    assert auth_events(idp, pool, name) == before


def auth_event_calls(idp, pool, username, event_id):
    return {
        "AdminListUserAuthEvents": lambda: idp.admin_list_user_auth_events(
            UserPoolId=pool, Username=username),
        "AdminUpdateAuthEventFeedback": lambda: idp.admin_update_auth_event_feedback(
            UserPoolId=pool, Username=username, EventId=event_id, FeedbackValue="Invalid"),
        "UpdateAuthEventFeedback": lambda: idp.update_auth_event_feedback(
            UserPoolId=pool, Username=username, EventId=event_id, FeedbackToken="forged",
            FeedbackValue="Valid"),
    }


OPERATIONS = ["AdminListUserAuthEvents", "AdminUpdateAuthEventFeedback",
              "UpdateAuthEventFeedback"]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_auth_event_operations_for_an_unknown_user(idp, server, unique, operation):
    name = unique("ue")
    pool, client_id = audited_pool(idp)
    signed_up(idp, server, pool, client_id, name)
    event_id = auth_events(idp, pool, name)[0]["EventId"]
    with pytest.raises(ClientError) as e:
        auth_event_calls(idp, pool, unique("ghost"), event_id)[operation]()
    assert error(e) == USER_NOT_FOUND


@pytest.mark.parametrize("mode", [None, "OFF"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_auth_event_operations_without_threat_protection(idp, server, unique, mode, operation):
    name = unique("off")
    pool, client_id = audited_pool(idp, mode)
    signed_up(idp, server, pool, client_id, name)
    sign_in(idp, client_id, name)
    with pytest.raises(ClientError) as e:
        auth_event_calls(idp, pool, name, "00000000-0000-0000-0000-000000000000")[operation]()
    assert error(e) == NOT_ENABLED


# ----------------------------------------------------------------------- AddCustomAttributes


def test_add_custom_attributes(idp, server, unique):
    name = unique("ca")
    pool, client_id = audited_pool(idp, None)
    signed_up(idp, server, pool, client_id, name)
    assert custom_names(idp, pool) == []

    assert plain(idp.add_custom_attributes(UserPoolId=pool, CustomAttributes=[
        {"Name": "team", "AttributeDataType": "String"},
        {"Name": "level", "AttributeDataType": "Number"}])) == {}
    schema = {a["Name"]: a for a in
              idp.describe_user_pool(UserPoolId=pool)["UserPool"]["SchemaAttributes"]}
    for attribute, kind in (("custom:team", "String"), ("custom:level", "Number")):
        entry = schema[attribute]
        assert (entry["AttributeDataType"], entry["Mutable"], entry["Required"],
                entry["DeveloperOnlyAttribute"]) == (kind, True, False, False), entry

    assert plain(idp.admin_update_user_attributes(
        UserPoolId=pool, Username=name,
        UserAttributes=[{"Name": "custom:team", "Value": "blue"},
                        {"Name": "custom:level", "Value": "3"}])) == {}
    attributes = admin_attributes(idp, pool, name)
    assert (attributes["custom:team"], attributes["custom:level"]) == ("blue", "3")


def test_add_custom_attributes_refusals(idp, server):
    pool, _ = audited_pool(idp, None)
    idp.add_custom_attributes(UserPoolId=pool, CustomAttributes=[
        {"Name": "team", "AttributeDataType": "String"}])
    before = idp.describe_user_pool(UserPoolId=pool)["UserPool"]["SchemaAttributes"]

    with pytest.raises(ClientError) as e:
        idp.add_custom_attributes(UserPoolId=pool, CustomAttributes=[
            {"Name": "team", "AttributeDataType": "Number"}])
    assert error(e) == ("InvalidParameterException",
                        "Existing attribute already has name custom:team.")

    # boto3 itself refuses a name over 20 characters; without its validation the server does.
    long_name = "a" * 21
    with pytest.raises(ClientError) as e:
        unchecked_client(server).add_custom_attributes(UserPoolId=pool, CustomAttributes=[
            {"Name": long_name, "AttributeDataType": "String"}])
    assert error(e) == ("InvalidParameterException",
                        f"1 validation error detected: Value '{long_name}' at "
                        "'customAttributes.1.member.name' failed to satisfy constraint: Member "
                        "must have length less than or equal to 20")

    with pytest.raises(ClientError) as e:
        idp.add_custom_attributes(UserPoolId=pool, CustomAttributes=[
            {"Name": "needed", "AttributeDataType": "String", "Required": True}])
    assert error(e) == ("InvalidParameterException",
                        "Required custom attributes are not supported currently.")

    assert idp.describe_user_pool(UserPoolId=pool)["UserPool"]["SchemaAttributes"] == before
    # Twenty characters is still a name.
    idp.add_custom_attributes(UserPoolId=pool, CustomAttributes=[
        {"Name": "b" * 20, "AttributeDataType": "String"}])
    assert custom_names(idp, pool) == ["custom:" + "b" * 20, "custom:team"]

    with pytest.raises(ClientError) as e:
        idp.add_custom_attributes(UserPoolId=NO_POOL, CustomAttributes=[
            {"Name": "team", "AttributeDataType": "String"}])
    assert error(e) == POOL_NOT_FOUND


def test_estimated_number_of_users(idp, server, unique):
    pool, client_id = audited_pool(idp, None)
    assert idp.describe_user_pool(UserPoolId=pool)["UserPool"]["EstimatedNumberOfUsers"] == 0
    for _ in range(3):
        name = unique("en")
        idp.sign_up(ClientId=client_id, Username=name, Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])
    assert idp.describe_user_pool(UserPoolId=pool)["UserPool"]["EstimatedNumberOfUsers"] == 3


# --------------------------------------------------------------------- ListUsers filters


def test_list_users_filters(idp):
    pool, client_id = listing_pool(idp)
    enrol(idp, pool, client_id, "ann")
    enrol(idp, pool, client_id, "Bob", confirmed=False)
    enrol(idp, pool, client_id, "carol")

    for expression in ('username = "bob"', 'username = "BOB"', 'username = "Bob"'):
        assert matching(idp, pool, expression) == ["Bob"], expression
    assert matching(idp, pool, 'username ^= "c"') == ["carol"]
    assert matching(idp, pool, 'email ^= "c"') == ["carol"]
    assert matching(idp, pool, 'email = "bob@example.com"') == ["Bob"]
    assert matching(idp, pool, 'email="ann@example.com"') == ["ann"]
    assert matching(idp, pool, 'email ^= "x"') == []
    assert matching(idp, pool, 'email ^= "example"') == []

    for value in ("unconfirmed", "UNCONFIRMED", "Unconfirmed"):
        assert matching(idp, pool, f'cognito:user_status = "{value}"') == ["Bob"], value
    assert matching(idp, pool, 'cognito:user_status = "confirmed"') == ["ann", "carol"]

    assert matching(idp, pool, 'status = "Enabled"') == ["ann", "Bob", "carol"]
    assert matching(idp, pool, 'status = "Disabled"') == []
    idp.admin_disable_user(UserPoolId=pool, Username="carol")
    assert matching(idp, pool, 'status = "Enabled"') == ["ann", "Bob"]
    assert matching(idp, pool, 'status = "Disabled"') == ["carol"]


def test_list_users_filter_values_with_quotes_and_operators(idp):
    pool, client_id = listing_pool(idp)
    for name in ("ann", "Bob", "carol"):
        enrol(idp, pool, client_id, name)
    idp.admin_update_user_attributes(UserPoolId=pool, Username="ann",
                                     UserAttributes=[{"Name": "given_name", "Value": 'Ann "A"'}])

    assert matching(idp, pool, 'given_name = "Ann \\"A\\""') == ["ann"]
    assert matching(idp, pool, 'given_name ^= "Ann \\""') == ["ann"]
    assert matching(idp, pool, 'given_name = "Ann"') == []
    # An operator inside the quoted value is part of the value.
    assert matching(idp, pool, 'given_name = "x ^= y"') == []
    idp.admin_update_user_attributes(UserPoolId=pool, Username="carol",
                                     UserAttributes=[{"Name": "given_name", "Value": "x ^= y"}])
    assert matching(idp, pool, 'given_name = "x ^= y"') == ["carol"]
    assert matching(idp, pool, 'given_name ^= "x ^="') == ["carol"]
    assert matching(idp, pool, 'given_name = "x = y"') == []


@pytest.mark.parametrize("expression", ['email = "x', 'email = "x" and name = "y"',
                                        'email == "x"', 'email = x'])
def test_list_users_broken_filters(idp, expression):
    pool, client_id = listing_pool(idp)
    enrol(idp, pool, client_id, "ann")
    with pytest.raises(ClientError) as e:
        idp.list_users(UserPoolId=pool, Filter=expression)
    assert error(e) == PARSE_ERROR


def test_list_users_filter_on_a_custom_attribute(idp):
    pool, client_id = listing_pool(idp)
    idp.add_custom_attributes(UserPoolId=pool, CustomAttributes=[
        {"Name": "team", "AttributeDataType": "String"}])
    enrol(idp, pool, client_id, "ann")
    idp.admin_update_user_attributes(UserPoolId=pool, Username="ann",
                                     UserAttributes=[{"Name": "custom:team", "Value": "x"}])
    with pytest.raises(ClientError) as e:
        idp.list_users(UserPoolId=pool, Filter='custom:team = "x"')
    assert error(e) == ("InvalidParameterException", "Invalid search attribute: custom:team")


# ------------------------------------------------------------------ ListUsers pages, fields


def every_page(idp, pool, token=None):
    """The usernames of each Limit=1 page from `token` on."""
    pages = []
    while True:
        kwargs = {"PaginationToken": token} if token else {}
        page = idp.list_users(UserPoolId=pool, Limit=1, **kwargs)
        pages.append(usernames(page["Users"]))
        token = page.get("PaginationToken")
        if not token:
            return pages
        assert len(pages) < 20, pages


def test_list_users_pages_in_username_order(idp):
    pool, client_id = listing_pool(idp)
    for name in ("carol", "ann", "Bob"):  # byte order would be Bob, ann, carol
        enrol(idp, pool, client_id, name)
    assert usernames(idp.list_users(UserPoolId=pool)["Users"]) == ["ann", "Bob", "carol"]
    assert every_page(idp, pool) == [["ann"], ["Bob"], ["carol"]]

    first = idp.list_users(UserPoolId=pool, Limit=1)
    assert usernames(first["Users"]) == ["ann"]
    token = first["PaginationToken"]
    # Users added after the first page: Amy sorts before the cut, Beth and dave after it.
    for name in ("dave", "Amy", "Beth"):
        enrol(idp, pool, client_id, name)
    assert every_page(idp, pool, token) == [["Beth"], ["Bob"], ["carol"], ["dave"]]
    assert usernames(idp.list_users(UserPoolId=pool)["Users"]) == \
        ["Amy", "ann", "Beth", "Bob", "carol", "dave"]


def test_list_users_attributes_to_get(idp):
    pool, client_id = listing_pool(idp)
    for name in ("ann", "Bob"):
        enrol(idp, pool, client_id, name)
    idp.admin_update_user_attributes(UserPoolId=pool, Username="ann",
                                     UserAttributes=[{"Name": "given_name", "Value": "Ann"}])
    users = idp.list_users(UserPoolId=pool, AttributesToGet=["email"])["Users"]
    assert usernames(users) == ["ann", "Bob"]
    # Only the asked attribute: no sub, no email_verified, no given_name.
    assert [u["Attributes"] for u in users] == [
        [{"Name": "email", "Value": "ann@example.com"}],
        [{"Name": "email", "Value": "bob@example.com"}]]
    for user in users:
        assert set(user) == {"Username", "Attributes", "UserCreateDate",
                             "UserLastModifiedDate", "Enabled", "UserStatus"}
    full = idp.list_users(UserPoolId=pool)["Users"]
    assert {a["Name"] for a in full[0]["Attributes"]} >= {"sub", "email", "given_name"}


# ------------------------------------------------------------ legacy temporary validity


def test_unused_account_validity_days_sets_the_temporary_password_validity(idp, server, unique):
    name = unique("uv")
    pool = idp.create_user_pool(PoolName="py-validity",
                                AdminCreateUserConfig={"UnusedAccountValidityDays": 2}
                                )["UserPool"]["Id"]
    client_id = new_client(idp, pool)["ClientId"]
    policy = idp.describe_user_pool(UserPoolId=pool)["UserPool"]["Policies"]["PasswordPolicy"]
    assert policy["TemporaryPasswordValidityDays"] == 2

    idp.admin_create_user(UserPoolId=pool, Username=name, TemporaryPassword="Temp-Passw0rd!",
                          MessageAction="SUPPRESS")
    advance_clock(server, 2 * 86400 - 60)
    challenge(idp, client_id, name, "Temp-Passw0rd!")
    advance_clock(server, 61)
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name, "Temp-Passw0rd!")
    assert error(e) == EXPIRED
