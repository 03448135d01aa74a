"""A client's OAuth settings through boto3 (spec vii.1): AllowedOAuthFlows, AllowedOAuthScopes,
AllowedOAuthFlowsUserPoolClient, CallbackURLs, DefaultRedirectURI, LogoutURLs and
SupportedIdentityProviders round-trip exactly through Create/Update/DescribeUserPoolClient,
and every setting AWS refuses is refused with AWS's error type and message, on create and on
update, leaving the stored client unchanged."""
import pytest
from botocore.exceptions import ClientError

from test_signin_flows import error

OAUTH_KEYS = ("AllowedOAuthFlows", "AllowedOAuthScopes", "AllowedOAuthFlowsUserPoolClient",
              "CallbackURLs", "DefaultRedirectURI", "LogoutURLs", "SupportedIdentityProviders")


@pytest.fixture
def pool(idp, unique):
    pool = idp.create_user_pool(PoolName=unique("oauth-"))["UserPool"]["Id"]
    idp.create_resource_server(
        UserPoolId=pool, Identifier="https://api.example.com", Name="api",
        Scopes=[{"ScopeName": "read", "ScopeDescription": "Read"},
                {"ScopeName": "write", "ScopeDescription": "Write"}])
    return pool


def oauth_view(client):
    return {k: client[k] for k in OAUTH_KEYS if k in client}


CODE_CLIENT = {
    "AllowedOAuthFlowsUserPoolClient": True,
    "AllowedOAuthFlows": ["code", "implicit"],
    "AllowedOAuthScopes": ["openid", "email", "phone", "profile",
                           "aws.cognito.signin.user.admin", "https://api.example.com/read"],
    "CallbackURLs": ["https://app.example.com/cb", "http://localhost:3000/cb",
                     "http://127.0.0.1:8080/cb", "http://[::1]/cb", "myapp://callback"],
    "DefaultRedirectURI": "https://app.example.com/cb",
    "LogoutURLs": ["https://app.example.com/bye", "http://localhost/bye"],
    "SupportedIdentityProviders": ["COGNITO"],
}


def test_valid_settings_round_trip_on_create_update_and_describe(idp, pool):
    created = idp.create_user_pool_client(UserPoolId=pool, ClientName="web", **CODE_CLIENT)
    client = created["UserPoolClient"]
    assert oauth_view(client) == CODE_CLIENT
    described = idp.describe_user_pool_client(UserPoolId=pool, ClientId=client["ClientId"])
    assert oauth_view(described["UserPoolClient"]) == CODE_CLIENT

    machine = {
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthFlows": ["client_credentials"],
        "AllowedOAuthScopes": ["https://api.example.com/read", "https://api.example.com/write"],
    }
    secret_client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="machine", GenerateSecret=True, **machine)["UserPoolClient"]
    assert oauth_view(secret_client) == machine
    described = idp.describe_user_pool_client(
        UserPoolId=pool, ClientId=secret_client["ClientId"])["UserPoolClient"]
    assert oauth_view(described) == machine

    # UpdateUserPoolClient replaces the settings; omitted ones return to their defaults.
    idp.update_user_pool_client(UserPoolId=pool, ClientId=client["ClientId"],
                                CallbackURLs=["https://other.example.com/cb"])
    described = idp.describe_user_pool_client(
        UserPoolId=pool, ClientId=client["ClientId"])["UserPoolClient"]
    assert oauth_view(described) == {"AllowedOAuthFlowsUserPoolClient": False,
                                     "CallbackURLs": ["https://other.example.com/cb"]}


def test_a_client_without_oauth_shows_the_switch_off(idp, pool):
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="sdk")["UserPoolClient"]
    assert oauth_view(client) == {"AllowedOAuthFlowsUserPoolClient": False}


SCOPE_MISSING = ("ScopeDoesNotExistException", "Invalid scope requested: {}")
NO_SECRET = ("InvalidOAuthFlowException",
             "client_credentials flow can not be selected if client does not have a client secret.")
NOT_ALONE = ("InvalidOAuthFlowException",
             "client_credentials flow can not be selected along with code flow or implicit flow.")
FLOWS_AND_SCOPES = ("InvalidParameterException",
                    "AllowedOAuthFlows and AllowedOAuthScopes are required if user pool client "
                    "is allowed to use OAuth flows.")
INSECURE = ("InvalidParameterException",
            "{} URL {} must use HTTPS; HTTP is allowed only for http://localhost, "
            "http://127.0.0.1 and http://[::1].")
FRAGMENT = ("InvalidParameterException", "{} URL {} must not contain a fragment.")
NOT_ABSOLUTE = ("InvalidParameterException", "{} URL {} is not an absolute URI.")
DEFAULT_REDIRECT = ("InvalidParameterException",
                    "DefaultRedirectURI must be one of the CallbackURLs.")
NO_PROVIDER = ("InvalidParameterException", "The provider {} does not exist for User Pool {}")

ON = {"AllowedOAuthFlowsUserPoolClient": True}


def invalid_cases(pool):
    return [
        ({**ON, "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["openid", "nope"]},
         (SCOPE_MISSING[0], SCOPE_MISSING[1].format("nope"))),
        ({**ON, "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["Cognito"]},
         (SCOPE_MISSING[0], SCOPE_MISSING[1].format("Cognito"))),
        # a scope of a resource server that does not have it, and of one that does not exist
        ({**ON, "AllowedOAuthFlows": ["code"],
          "AllowedOAuthScopes": ["https://api.example.com/delete"]},
         (SCOPE_MISSING[0], SCOPE_MISSING[1].format("https://api.example.com/delete"))),
        ({**ON, "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["https://other/read"]},
         (SCOPE_MISSING[0], SCOPE_MISSING[1].format("https://other/read"))),
        ({**ON, "AllowedOAuthFlows": ["client_credentials"],
          "AllowedOAuthScopes": ["https://api.example.com/read"]}, NO_SECRET),
        ({**ON, "AllowedOAuthFlows": ["client_credentials", "code"],
          "AllowedOAuthScopes": ["https://api.example.com/read"]}, NOT_ALONE),
        ({**ON}, FLOWS_AND_SCOPES),
        ({**ON, "AllowedOAuthFlows": ["code"]}, FLOWS_AND_SCOPES),
        ({**ON, "AllowedOAuthScopes": ["openid"]}, FLOWS_AND_SCOPES),
        ({"CallbackURLs": ["http://app.example.com/cb"]},
         (INSECURE[0], INSECURE[1].format("Callback", "http://app.example.com/cb"))),
        ({"CallbackURLs": ["http://localhost.example.com/cb"]},
         (INSECURE[0], INSECURE[1].format("Callback", "http://localhost.example.com/cb"))),
        ({"LogoutURLs": ["http://app.example.com/bye"]},
         (INSECURE[0], INSECURE[1].format("Logout", "http://app.example.com/bye"))),
        ({"CallbackURLs": ["https://app.example.com/cb#top"]},
         (FRAGMENT[0], FRAGMENT[1].format("Callback", "https://app.example.com/cb#top"))),
        ({"CallbackURLs": ["/relative/cb"]},
         (NOT_ABSOLUTE[0], NOT_ABSOLUTE[1].format("Callback", "/relative/cb"))),
        ({"CallbackURLs": ["https://app.example.com/cb"],
          "DefaultRedirectURI": "https://app.example.com/other"}, DEFAULT_REDIRECT),
        ({"DefaultRedirectURI": "https://app.example.com/cb"}, DEFAULT_REDIRECT),
        ({"SupportedIdentityProviders": ["COGNITO", "Google"]},
         (NO_PROVIDER[0], NO_PROVIDER[1].format("Google", pool))),
    ]


def test_invalid_settings_are_refused_on_create(idp, pool):
    for settings, expected in invalid_cases(pool):
        with pytest.raises(ClientError) as e:
            idp.create_user_pool_client(UserPoolId=pool, ClientName="bad", **settings)
        assert error(e) == expected, settings
    # Nothing was created.
    assert idp.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"] == []


def test_invalid_settings_are_refused_on_update_and_leave_the_client(idp, pool):
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="web",
                                         **CODE_CLIENT)["UserPoolClient"]
    for settings, expected in invalid_cases(pool):
        with pytest.raises(ClientError) as e:
            idp.update_user_pool_client(UserPoolId=pool, ClientId=client["ClientId"], **settings)
        assert error(e) == expected, settings
    described = idp.describe_user_pool_client(
        UserPoolId=pool, ClientId=client["ClientId"])["UserPoolClient"]
    assert oauth_view(described) == CODE_CLIENT


def test_client_credentials_on_update_needs_the_secret(idp, pool):
    public = idp.create_user_pool_client(UserPoolId=pool, ClientName="p")["UserPoolClient"]
    machine = {**ON, "AllowedOAuthFlows": ["client_credentials"],
               "AllowedOAuthScopes": ["https://api.example.com/write"]}
    with pytest.raises(ClientError) as e:
        idp.update_user_pool_client(UserPoolId=pool, ClientId=public["ClientId"], **machine)
    assert error(e) == NO_SECRET
    confidential = idp.create_user_pool_client(UserPoolId=pool, ClientName="c",
                                               GenerateSecret=True)["UserPoolClient"]
    updated = idp.update_user_pool_client(UserPoolId=pool, ClientId=confidential["ClientId"],
                                          **machine)["UserPoolClient"]
    assert oauth_view(updated) == machine
    assert updated["ClientSecret"] == confidential["ClientSecret"]


def test_scopes_of_a_deleted_resource_server_no_longer_exist(idp, pool):
    idp.create_resource_server(UserPoolId=pool, Identifier="orders", Name="orders",
                               Scopes=[{"ScopeName": "list", "ScopeDescription": "List"}])
    settings = {**ON, "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["orders/list"],
                "CallbackURLs": ["https://a.example.com"]}
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="o", **settings)
    assert client["UserPoolClient"]["AllowedOAuthScopes"] == ["orders/list"]
    idp.delete_resource_server(UserPoolId=pool, Identifier="orders")
    with pytest.raises(ClientError) as e:
        idp.create_user_pool_client(UserPoolId=pool, ClientName="o2", **settings)
    assert error(e) == (SCOPE_MISSING[0], SCOPE_MISSING[1].format("orders/list"))
