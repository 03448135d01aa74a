"""Administering users through real clients (boto3, the AWS CLI and PyJWT):
AdminDisableUser / AdminEnableUser (a disabled user cannot sign in, refresh or use the tokens
it had, and is still listed), the group operations (CreateGroup, GetGroup, UpdateGroup,
DeleteGroup, ListGroups with its paginator, AdminAddUserToGroup, AdminRemoveUserFromGroup,
ListUsersInGroup, AdminListGroupsForUser) with their errors, orderings and pages, and the
claims a user's groups put in tokens (`cognito:groups` in both tokens, `cognito:roles` and
`cognito:preferred_role` in the ID token), checked on tokens from sign-in and refresh and,
once, with PyJWT against the pool's published JWKS."""
import datetime

import boto3
import jwt
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from test_cli import aws  # noqa: F401  (the AWS CLI runner fixture)
from test_recovery import AWS, id_claims, new_client, plain
from test_signin_flows import PASSWORD, error, password_auth, sign_in

USER_NOT_FOUND = ("UserNotFoundException", "User does not exist.")
GROUP_NOT_FOUND = ("ResourceNotFoundException", "Group not found.")
GROUP_EXISTS = ("GroupExistsException", "A group with the name already exists.")
DISABLED = ("NotAuthorizedException", "User is disabled.")
ACCESS_REVOKED = ("NotAuthorizedException", "Access Token has been revoked")
REFRESH_REVOKED = ("NotAuthorizedException", "Refresh Token has been revoked")

ROLE_A = "arn:aws:iam::123456789012:role/admins"
ROLE_E = "arn:aws:iam::123456789012:role/editors"
ROLE_R = "arn:aws:iam::123456789012:role/readers"
GROUP_CLAIMS = ("cognito:groups", "cognito:roles", "cognito:preferred_role")


# ------------------------------------------------------------------------------ helpers


def group_pool(idp):
    """A pool auto-verifying email and a USER_PASSWORD_AUTH + refresh client; (pool, client)."""
    pool = idp.create_user_pool(PoolName="py-groups",
                                AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    return pool, new_client(idp, pool)["ClientId"]


def member(idp, pool, client_id, username):
    """`username` signed up with an email and confirmed by the administrator."""
    idp.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}])
    idp.admin_confirm_sign_up(UserPoolId=pool, Username=username)
    return username


def create_group(idp, pool, name, precedence=None, role=None, description=None):
    kwargs = {k: v for k, v in (("Precedence", precedence), ("RoleArn", role),
                                ("Description", description)) if v is not None}
    return idp.create_group(UserPoolId=pool, GroupName=name, **kwargs)["Group"]


def add(idp, pool, username, *groups):
    for group in groups:
        assert plain(idp.admin_add_user_to_group(UserPoolId=pool, Username=username,
                                                 GroupName=group)) == {}


def refresh(idp, client_id, refresh_token):
    return idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                             AuthParameters={"REFRESH_TOKEN": refresh_token}
                             )["AuthenticationResult"]


def access_claims(tokens):
    return jwt.decode(tokens["AccessToken"], options={"verify_signature": False})


def group_claims(tokens):
    """The group claims of (ID token, access token), only those present."""
    id_token, access = id_claims(tokens), access_claims(tokens)
    return ({k: id_token[k] for k in GROUP_CLAIMS if k in id_token},
            {k: access[k] for k in GROUP_CLAIMS if k in access})


def names(groups):
    return [g["GroupName"] for g in groups]


def usernames(users):
    return [u["Username"] for u in users]


def groups_of(idp, pool, username):
    return names(idp.admin_list_groups_for_user(UserPoolId=pool, Username=username)["Groups"])


def listed_user(idp, pool, username):
    users = idp.list_users(UserPoolId=pool)["Users"]
    matches = [u for u in users if u["Username"] == username]
    assert len(matches) == 1, users
    return matches[0]


# ------------------------------------------------------------ AdminDisableUser / Enable


def test_disabled_user_cannot_sign_in_refresh_or_use_its_tokens(idp, unique):
    name = unique("dis")
    pool, client_id = group_pool(idp)
    member(idp, pool, client_id, name)
    before = sign_in(idp, client_id, name)
    assert idp.get_user(AccessToken=before["AccessToken"])["Username"] == name

    for _ in range(2):  # idempotent
        assert plain(idp.admin_disable_user(UserPoolId=pool, Username=name)) == {}
    with pytest.raises(ClientError) as e:
        password_auth(idp, client_id, name)
    assert error(e) == DISABLED
    with pytest.raises(ClientError) as e:
        idp.get_user(AccessToken=before["AccessToken"])
    assert error(e) == ACCESS_REVOKED
    with pytest.raises(ClientError) as e:
        refresh(idp, client_id, before["RefreshToken"])
    assert error(e) == REFRESH_REVOKED
    user = idp.admin_get_user(UserPoolId=pool, Username=name)
    assert (user["Enabled"], user["UserStatus"]) == (False, "CONFIRMED")
    assert listed_user(idp, pool, name)["Enabled"] is False

    for _ in range(2):  # idempotent
        assert plain(idp.admin_enable_user(UserPoolId=pool, Username=name)) == {}
    assert idp.admin_get_user(UserPoolId=pool, Username=name)["Enabled"] is True
    assert listed_user(idp, pool, name)["Enabled"] is True
    after = sign_in(idp, client_id, name)
    assert idp.get_user(AccessToken=after["AccessToken"])["Username"] == name
    assert "AccessToken" in refresh(idp, client_id, after["RefreshToken"])
    # What the disablement revoked stays revoked.
    with pytest.raises(ClientError) as e:
        idp.get_user(AccessToken=before["AccessToken"])
    assert error(e) == ACCESS_REVOKED
    with pytest.raises(ClientError) as e:
        refresh(idp, client_id, before["RefreshToken"])
    assert error(e) == REFRESH_REVOKED


def test_disable_and_enable_unknown_user(idp, unique):
    pool, _ = group_pool(idp)
    for call in (idp.admin_disable_user, idp.admin_enable_user):
        with pytest.raises(ClientError) as e:
            call(UserPoolId=pool, Username=unique("ghost"))
        assert error(e) == USER_NOT_FOUND


# ---------------------------------------------------------------------- group records


def test_create_get_update_and_delete_group(idp):
    pool, _ = group_pool(idp)
    response = idp.create_group(UserPoolId=pool, GroupName="Admins", Description="the admins",
                                RoleArn=ROLE_A, Precedence=1)
    group = response["Group"]
    assert set(plain(response)) == {"Group"}
    assert set(group) == {"GroupName", "UserPoolId", "Description", "RoleArn", "Precedence",
                          "LastModifiedDate", "CreationDate"}
    assert {k: group[k] for k in ("GroupName", "UserPoolId", "Description", "RoleArn",
                                  "Precedence")} == {
        "GroupName": "Admins", "UserPoolId": pool, "Description": "the admins",
        "RoleArn": ROLE_A, "Precedence": 1}
    assert isinstance(group["CreationDate"], datetime.datetime)
    assert isinstance(group["LastModifiedDate"], datetime.datetime)
    assert plain(idp.get_group(UserPoolId=pool, GroupName="Admins")) == {"Group": group}

    updated = idp.update_group(UserPoolId=pool, GroupName="Admins", Precedence=3)["Group"]
    assert updated["Precedence"] == 3
    assert (updated["Description"], updated["RoleArn"]) == ("the admins", ROLE_A)
    assert updated["CreationDate"] == group["CreationDate"]
    got = idp.get_group(UserPoolId=pool, GroupName="Admins")["Group"]
    assert (got["Precedence"], got["Description"], got["RoleArn"]) == (3, "the admins", ROLE_A)

    assert plain(idp.delete_group(UserPoolId=pool, GroupName="Admins")) == {}
    for call in (lambda: idp.get_group(UserPoolId=pool, GroupName="Admins"),
                 lambda: idp.update_group(UserPoolId=pool, GroupName="Admins", Precedence=4),
                 lambda: idp.delete_group(UserPoolId=pool, GroupName="Admins")):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == GROUP_NOT_FOUND
    assert idp.list_groups(UserPoolId=pool)["Groups"] == []


def test_create_group_refusals(idp, server):
    pool, _ = group_pool(idp)
    create_group(idp, pool, "Admins", precedence=1, description="first")
    for duplicate in ("Admins", "admins", "ADMINS"):
        with pytest.raises(ClientError) as e:
            create_group(idp, pool, duplicate, precedence=7, description="second")
        assert error(e) == GROUP_EXISTS, duplicate
    groups = idp.list_groups(UserPoolId=pool)["Groups"]
    assert [(g["GroupName"], g["Precedence"], g["Description"]) for g in groups] == \
        [("Admins", 1, "first")]

    # boto3 itself refuses a negative Precedence; without its validation the server does.
    unchecked = boto3.client("cognito-idp", endpoint_url=server.url, region_name="us-east-1",
                             aws_access_key_id="AKIDCOGNATETEST",
                             aws_secret_access_key="cognate-test-secret",
                             config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as e:
        unchecked.create_group(UserPoolId=pool, GroupName="negative", Precedence=-1)
    assert error(e) == ("InvalidParameterException",
                        "1 validation error detected: Value '-1' at 'precedence' failed to "
                        "satisfy constraint: Member must have value greater than or equal to 0")
    assert names(idp.list_groups(UserPoolId=pool)["Groups"]) == ["Admins"]

    with pytest.raises(ClientError) as e:
        create_group(idp, "us-east-1_nope", "x")
    assert error(e) == ("ResourceNotFoundException", "User pool us-east-1_nope does not exist.")


def test_list_groups_pages_in_case_insensitive_name_order(idp):
    pool, _ = group_pool(idp)
    for name in ("Gamma", "beta", "Alpha"):  # byte order would be Alpha, Gamma, beta
        create_group(idp, pool, name)
    assert names(idp.list_groups(UserPoolId=pool)["Groups"]) == ["Alpha", "beta", "Gamma"]

    first = idp.list_groups(UserPoolId=pool, Limit=2)
    assert names(first["Groups"]) == ["Alpha", "beta"]
    assert first["NextToken"]
    second = idp.list_groups(UserPoolId=pool, Limit=2, NextToken=first["NextToken"])
    assert names(second["Groups"]) == ["Gamma"]
    assert "NextToken" not in second

    paginator = idp.get_paginator("list_groups")
    pages = list(paginator.paginate(UserPoolId=pool, PaginationConfig={"PageSize": 2}))
    assert [names(p["Groups"]) for p in pages] == [["Alpha", "beta"], ["Gamma"]]
    full = paginator.paginate(UserPoolId=pool, PaginationConfig={"PageSize": 1})
    assert names(full.build_full_result()["Groups"]) == ["Alpha", "beta", "Gamma"]


# ------------------------------------------------------------------------- membership


def test_add_and_remove_members(idp, unique):
    pool, client_id = group_pool(idp)
    name = member(idp, pool, client_id, unique("mb"))
    create_group(idp, pool, "staff")
    add(idp, pool, name, "staff", "staff")  # adding twice is fine
    assert groups_of(idp, pool, name) == ["staff"]
    assert usernames(idp.list_users_in_group(UserPoolId=pool, GroupName="staff")["Users"]) == \
        [name]

    for call in (idp.admin_add_user_to_group, idp.admin_remove_user_from_group):
        with pytest.raises(ClientError) as e:
            call(UserPoolId=pool, Username=name, GroupName="nosuch")
        assert error(e) == GROUP_NOT_FOUND
        with pytest.raises(ClientError) as e:
            call(UserPoolId=pool, Username=unique("ghost"), GroupName="staff")
        assert error(e) == USER_NOT_FOUND
    assert groups_of(idp, pool, name) == ["staff"]

    for _ in range(2):  # removing a non-member is fine too
        assert plain(idp.admin_remove_user_from_group(UserPoolId=pool, Username=name,
                                                      GroupName="staff")) == {}
    assert groups_of(idp, pool, name) == []
    assert idp.list_users_in_group(UserPoolId=pool, GroupName="staff")["Users"] == []


def test_list_users_in_group(idp, unique):
    pool, client_id = group_pool(idp)
    base = unique("lu")
    c, a, b, outsider = (member(idp, pool, client_id, f"{base}-{s}") for s in "cabx")
    create_group(idp, pool, "team")
    for name in (c, a, b):
        add(idp, pool, name, "team")

    users = idp.list_users_in_group(UserPoolId=pool, GroupName="team")["Users"]
    assert usernames(users) == [a, b, c]
    for user in users:
        attributes = {x["Name"]: x["Value"] for x in user["Attributes"]}
        assert attributes["email"] == f"{user['Username']}@example.com"
        assert attributes["sub"]
        assert (user["Enabled"], user["UserStatus"]) == (True, "CONFIRMED")
        assert isinstance(user["UserCreateDate"], datetime.datetime)
        assert isinstance(user["UserLastModifiedDate"], datetime.datetime)
        assert [user] == idp.list_users(UserPoolId=pool,
                                        Filter=f'username = "{user["Username"]}"')["Users"]

    first = idp.list_users_in_group(UserPoolId=pool, GroupName="team", Limit=2)
    assert usernames(first["Users"]) == [a, b]
    assert first["NextToken"]
    second = idp.list_users_in_group(UserPoolId=pool, GroupName="team", Limit=2,
                                     NextToken=first["NextToken"])
    assert usernames(second["Users"]) == [c]
    assert "NextToken" not in second
    assert outsider not in usernames(users)

    with pytest.raises(ClientError) as e:
        idp.list_users_in_group(UserPoolId=pool, GroupName="nosuch")
    assert error(e) == GROUP_NOT_FOUND


def test_admin_list_groups_for_user(idp, unique):
    pool, client_id = group_pool(idp)
    name = member(idp, pool, client_id, unique("lg"))
    for group in ("Gamma", "beta", "Alpha", "other"):
        create_group(idp, pool, group)
    add(idp, pool, name, "Gamma", "beta", "Alpha")

    groups = idp.admin_list_groups_for_user(UserPoolId=pool, Username=name)["Groups"]
    assert names(groups) == ["Alpha", "beta", "Gamma"]
    assert all(g["UserPoolId"] == pool for g in groups)
    first = idp.admin_list_groups_for_user(UserPoolId=pool, Username=name, Limit=2)
    assert names(first["Groups"]) == ["Alpha", "beta"]
    assert first["NextToken"]
    second = idp.admin_list_groups_for_user(UserPoolId=pool, Username=name, Limit=2,
                                            NextToken=first["NextToken"])
    assert names(second["Groups"]) == ["Gamma"]
    assert "NextToken" not in second

    with pytest.raises(ClientError) as e:
        idp.admin_list_groups_for_user(UserPoolId=pool, Username=unique("ghost"))
    assert error(e) == USER_NOT_FOUND


def test_deleting_a_group_with_members(idp, unique):
    pool, client_id = group_pool(idp)
    name = member(idp, pool, client_id, unique("dg"))
    create_group(idp, pool, "admins", precedence=1, role=ROLE_A)
    create_group(idp, pool, "staff", precedence=2)
    add(idp, pool, name, "admins", "staff")
    tokens = sign_in(idp, client_id, name)
    assert id_claims(tokens)["cognito:groups"] == ["admins", "staff"]

    assert plain(idp.delete_group(UserPoolId=pool, GroupName="admins")) == {}
    assert groups_of(idp, pool, name) == ["staff"]
    assert idp.admin_get_user(UserPoolId=pool, Username=name)["Enabled"] is True
    ids, access = group_claims(refresh(idp, client_id, tokens["RefreshToken"]))
    assert ids == {"cognito:groups": ["staff"]}
    assert access == {"cognito:groups": ["staff"]}
    ids, access = group_claims(sign_in(idp, client_id, name))
    assert ids == {"cognito:groups": ["staff"]}
    # A group of the same name created again starts empty.
    create_group(idp, pool, "admins")
    assert idp.list_users_in_group(UserPoolId=pool, GroupName="admins")["Users"] == []


# ----------------------------------------------------------------------------- tokens


def test_group_claims_in_tokens(idp, unique):
    pool, client_id = group_pool(idp)
    name = member(idp, pool, client_id, unique("tk"))
    loner = member(idp, pool, client_id, unique("tn"))
    create_group(idp, pool, "readers", role=ROLE_R)
    create_group(idp, pool, "staff", precedence=5)
    create_group(idp, pool, "editors", precedence=5, role=ROLE_E)
    create_group(idp, pool, "admins", precedence=1, role=ROLE_A)
    create_group(idp, pool, "unused", precedence=0, role="arn:aws:iam::123456789012:role/x")
    add(idp, pool, name, "readers", "staff", "editors", "admins")

    ids, access = group_claims(sign_in(idp, client_id, name))
    assert ids == {"cognito:groups": ["admins", "editors", "staff", "readers"],
                   "cognito:roles": [ROLE_A, ROLE_E, ROLE_R],
                   "cognito:preferred_role": ROLE_A}
    assert access == {"cognito:groups": ["admins", "editors", "staff", "readers"]}

    assert group_claims(sign_in(idp, client_id, loner)) == ({}, {})


def test_preferred_role_with_tied_precedence(idp, unique):
    pool, client_id = group_pool(idp)
    tied, same, unranked = (member(idp, pool, client_id, unique(p)) for p in ("pt", "ps", "pu"))
    create_group(idp, pool, "a", precedence=1, role=ROLE_A)
    create_group(idp, pool, "b", precedence=1, role=ROLE_E)
    create_group(idp, pool, "b2", precedence=1, role=ROLE_A)
    create_group(idp, pool, "c", precedence=0)
    create_group(idp, pool, "r", role=ROLE_R)
    add(idp, pool, tied, "b", "c", "a")
    add(idp, pool, same, "b2", "a")
    add(idp, pool, unranked, "r")

    ids, _ = group_claims(sign_in(idp, client_id, tied))
    # The best-ranked groups with a role (a and b, both 1) name different roles: no preference.
    assert ids == {"cognito:groups": ["c", "a", "b"], "cognito:roles": [ROLE_A, ROLE_E]}
    ids, _ = group_claims(sign_in(idp, client_id, same))
    assert ids == {"cognito:groups": ["a", "b2"], "cognito:roles": [ROLE_A, ROLE_A],
                   "cognito:preferred_role": ROLE_A}
    ids, _ = group_claims(sign_in(idp, client_id, unranked))
    assert ids == {"cognito:groups": ["r"], "cognito:roles": [ROLE_R],
                   "cognito:preferred_role": ROLE_R}


def test_membership_changes_reach_the_next_tokens_only(idp, unique):
    pool, client_id = group_pool(idp)
    name = member(idp, pool, client_id, unique("mc"))
    create_group(idp, pool, "admins", precedence=1, role=ROLE_A)
    create_group(idp, pool, "editors", precedence=2, role=ROLE_E)
    add(idp, pool, name, "admins")
    first = sign_in(idp, client_id, name)
    first_claims = group_claims(first)
    assert first_claims == ({"cognito:groups": ["admins"], "cognito:roles": [ROLE_A],
                             "cognito:preferred_role": ROLE_A},
                            {"cognito:groups": ["admins"]})

    add(idp, pool, name, "editors")
    assert group_claims(first) == first_claims
    assert idp.get_user(AccessToken=first["AccessToken"])["Username"] == name
    ids, access = group_claims(refresh(idp, client_id, first["RefreshToken"]))
    assert ids == {"cognito:groups": ["admins", "editors"], "cognito:roles": [ROLE_A, ROLE_E],
                   "cognito:preferred_role": ROLE_A}
    assert access == {"cognito:groups": ["admins", "editors"]}

    idp.admin_remove_user_from_group(UserPoolId=pool, Username=name, GroupName="admins")
    ids, access = group_claims(refresh(idp, client_id, first["RefreshToken"]))
    assert ids == {"cognito:groups": ["editors"], "cognito:roles": [ROLE_E],
                   "cognito:preferred_role": ROLE_E}
    assert access == {"cognito:groups": ["editors"]}

    idp.admin_remove_user_from_group(UserPoolId=pool, Username=name, GroupName="editors")
    assert group_claims(refresh(idp, client_id, first["RefreshToken"])) == ({}, {})
    assert group_claims(first) == first_claims


def test_id_token_verified_with_pyjwt_against_the_pool_jwks(idp, server, unique):
    pool, client_id = group_pool(idp)
    name = member(idp, pool, client_id, unique("jw"))
    create_group(idp, pool, "admins", precedence=1, role=ROLE_A)
    create_group(idp, pool, "staff")
    add(idp, pool, name, "staff", "admins")
    token = sign_in(idp, client_id, name)["IdToken"]

    keys = jwt.PyJWKClient(f"{server.url}/{pool}/.well-known/jwks.json")
    key = keys.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=client_id,
                        issuer=f"{server.url}/{pool}")
    assert claims["cognito:username"] == name
    assert claims["token_use"] == "id"
    assert claims["cognito:groups"] == ["admins", "staff"]
    assert claims["cognito:roles"] == [ROLE_A]
    assert claims["cognito:preferred_role"] == ROLE_A
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key.key, algorithms=["RS256"], audience="another-client",
                   issuer=f"{server.url}/{pool}")


# ---------------------------------------------------------------------------- AWS CLI


@pytest.mark.skipif(AWS is None, reason="AWS CLI not installed")
def test_cli_group_commands(aws, idp, unique):  # noqa: F811
    pool, client_id = group_pool(idp)
    name = member(idp, pool, client_id, unique("cli"))

    created = aws("create-group", "--user-pool-id", pool, "--group-name", "editors",
                  "--description", "the editors", "--role-arn", ROLE_E,
                  "--precedence", "2")["Group"]
    assert {k: created[k] for k in ("GroupName", "UserPoolId", "Description", "RoleArn",
                                    "Precedence")} == {
        "GroupName": "editors", "UserPoolId": pool, "Description": "the editors",
        "RoleArn": ROLE_E, "Precedence": 2}
    assert {"CreationDate", "LastModifiedDate"} <= created.keys()
    aws("create-group", "--user-pool-id", pool, "--group-name", "Admins", "--precedence", "1")
    err = aws("create-group", "--user-pool-id", pool, "--group-name", "EDITORS", ok=False)
    assert "GroupExistsException" in err and "A group with the name already exists." in err

    for group in ("editors", "Admins"):
        assert aws("admin-add-user-to-group", "--user-pool-id", pool, "--username", name,
                   "--group-name", group) == {}
    err = aws("admin-add-user-to-group", "--user-pool-id", pool, "--username", name,
              "--group-name", "nosuch", ok=False)
    assert "ResourceNotFoundException" in err and "Group not found." in err

    listed = aws("admin-list-groups-for-user", "--user-pool-id", pool, "--username", name)
    assert names(listed["Groups"]) == ["Admins", "editors"]
    assert listed["Groups"][1]["RoleArn"] == ROLE_E
    err = aws("admin-list-groups-for-user", "--user-pool-id", pool, "--username",
              unique("ghost"), ok=False)
    assert "UserNotFoundException" in err and "User does not exist." in err

    ids, access = group_claims(sign_in(idp, client_id, name))
    assert ids == {"cognito:groups": ["Admins", "editors"], "cognito:roles": [ROLE_E],
                   "cognito:preferred_role": ROLE_E}
    assert access == {"cognito:groups": ["Admins", "editors"]}
