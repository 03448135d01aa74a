"""User-pool domains and resource servers through real clients (boto3 and the AWS CLI):
CreateUserPoolDomain, DescribeUserPoolDomain, UpdateUserPoolDomain, DeleteUserPoolDomain
(prefix and custom domains, names unique across pools, one domain of each kind per pool, an
unknown name described as empty, the pool's `Domain`/`CustomDomain`), CreateResourceServer,
DescribeResourceServer, UpdateResourceServer, DeleteResourceServer and ListResourceServers
(exact outputs, duplicates, unknown names, the per-pool limit, pages), and that both go with
their pool."""
import re

import pytest
from botocore.exceptions import ClientError

from test_admin_more import unchecked_client
from test_cli import aws  # noqa: F401  (the AWS CLI runner fixture)
from test_recovery import plain
from test_signin_flows import error

NO_SUCH_DOMAIN = ("InvalidParameterException", "No such domain or user pool exists.")
DOMAIN_TAKEN = ("InvalidParameterException", "Domain already associated with another user pool.")
POOL_HAS_DOMAIN = ("InvalidParameterException", "User pool already has a domain configured.")
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f3c2a1e-1111-2222-3333-444455556666"
CLOUDFRONT = re.compile(r"^d[a-z0-9]{13}\.cloudfront\.net$")
VERSION = re.compile(r"^20\d{12}$")
ACCOUNT = re.compile(r"^\d{12}$")

READ = {"ScopeName": "read", "ScopeDescription": "Read the orders"}
WRITE = {"ScopeName": "write", "ScopeDescription": "Change the orders"}


def new_pool(idp, name="py-oauth"):
    return idp.create_user_pool(PoolName=name)["UserPool"]["Id"]


def server_type(pool, identifier, name, scopes):
    return {"ResourceServer": {"UserPoolId": pool, "Identifier": identifier, "Name": name,
                               "Scopes": scopes}}


# ------------------------------------------------------------------------------ domains


def test_prefix_domain_create_describe_update_delete(idp, unique):
    pool = new_pool(idp)
    domain = unique("app-")
    assert plain(idp.create_user_pool_domain(UserPoolId=pool, Domain=domain)) == {
        "ManagedLoginVersion": 1}

    described = plain(idp.describe_user_pool_domain(Domain=domain))
    d = described["DomainDescription"]
    assert set(d) == {"UserPoolId", "AWSAccountId", "Domain", "CloudFrontDistribution",
                      "Version", "Status", "ManagedLoginVersion"}
    assert (d["UserPoolId"], d["Domain"], d["Status"], d["ManagedLoginVersion"]) == (
        pool, domain, "ACTIVE", 1)
    assert CLOUDFRONT.match(d["CloudFrontDistribution"]), d
    assert VERSION.match(d["Version"]), d
    assert ACCOUNT.match(d["AWSAccountId"]), d
    # The same name always gets the same CloudFront host.
    assert plain(idp.describe_user_pool_domain(Domain=domain)) == described

    assert idp.describe_user_pool(UserPoolId=pool)["UserPool"]["Domain"] == domain

    assert plain(idp.update_user_pool_domain(UserPoolId=pool, Domain=domain,
                                             ManagedLoginVersion=2)) == {"ManagedLoginVersion": 2}
    assert idp.describe_user_pool_domain(Domain=domain)["DomainDescription"][
        "ManagedLoginVersion"] == 2
    # What an update does not name stays.
    assert plain(idp.update_user_pool_domain(UserPoolId=pool, Domain=domain)) == {
        "ManagedLoginVersion": 2}

    assert plain(idp.delete_user_pool_domain(UserPoolId=pool, Domain=domain)) == {}
    assert plain(idp.describe_user_pool_domain(Domain=domain)) == {"DomainDescription": {}}
    assert "Domain" not in idp.describe_user_pool(UserPoolId=pool)["UserPool"]
    with pytest.raises(ClientError) as e:
        idp.delete_user_pool_domain(UserPoolId=pool, Domain=domain)
    assert error(e) == NO_SUCH_DOMAIN


def test_unknown_domain_is_described_as_empty(idp, unique):
    assert plain(idp.describe_user_pool_domain(Domain=unique("none-"))) == {
        "DomainDescription": {}}


def test_domain_names_are_unique_across_pools_and_a_pool_has_one_prefix(idp, unique):
    first, second = new_pool(idp), new_pool(idp)
    domain = unique("shared-")
    idp.create_user_pool_domain(UserPoolId=first, Domain=domain)

    with pytest.raises(ClientError) as e:
        idp.create_user_pool_domain(UserPoolId=second, Domain=domain)
    assert error(e) == DOMAIN_TAKEN
    with pytest.raises(ClientError) as e:
        idp.create_user_pool_domain(UserPoolId=first, Domain=unique("other-"))
    assert error(e) == POOL_HAS_DOMAIN
    with pytest.raises(ClientError) as e:
        idp.create_user_pool_domain(UserPoolId=first, Domain=domain)
    assert error(e) == POOL_HAS_DOMAIN

    # Another pool cannot update or delete it, and it stays with its pool.
    for call in (idp.update_user_pool_domain, idp.delete_user_pool_domain):
        with pytest.raises(ClientError) as e:
            call(UserPoolId=second, Domain=domain)
        assert error(e) == NO_SUCH_DOMAIN
    assert idp.describe_user_pool_domain(Domain=domain)["DomainDescription"][
        "UserPoolId"] == first

    # Once deleted, the name is free for any pool.
    idp.delete_user_pool_domain(UserPoolId=first, Domain=domain)
    assert plain(idp.create_user_pool_domain(UserPoolId=second, Domain=domain)) == {
        "ManagedLoginVersion": 1}


def test_custom_domain_with_a_certificate(idp, unique):
    pool = new_pool(idp)
    prefix, custom = unique("pre-"), unique("auth-")
    idp.create_user_pool_domain(UserPoolId=pool, Domain=prefix)
    created = plain(idp.create_user_pool_domain(
        UserPoolId=pool, Domain=custom, ManagedLoginVersion=2,
        CustomDomainConfig={"CertificateArn": CERTIFICATE}))
    assert set(created) == {"ManagedLoginVersion", "CloudFrontDomain"}
    assert created["ManagedLoginVersion"] == 2
    assert CLOUDFRONT.match(created["CloudFrontDomain"]), created

    d = idp.describe_user_pool_domain(Domain=custom)["DomainDescription"]
    assert d["CustomDomainConfig"] == {"CertificateArn": CERTIFICATE}
    assert d["CloudFrontDistribution"] == created["CloudFrontDomain"]
    pool_type = idp.describe_user_pool(UserPoolId=pool)["UserPool"]
    assert (pool_type["Domain"], pool_type["CustomDomain"]) == (prefix, custom)

    renewed = CERTIFICATE.replace("0f3c2a1e", "9a8b7c6d")
    updated = plain(idp.update_user_pool_domain(
        UserPoolId=pool, Domain=custom,
        CustomDomainConfig={"CertificateArn": renewed, "SecurityPolicy": "TLS_V1_2_2021"}))
    assert updated == created
    assert idp.describe_user_pool_domain(Domain=custom)["DomainDescription"][
        "CustomDomainConfig"] == {"CertificateArn": renewed, "SecurityPolicy": "TLS_V1_2_2021"}

    with pytest.raises(ClientError) as e:
        idp.create_user_pool_domain(UserPoolId=pool, Domain=unique("auth-"),
                                    CustomDomainConfig={"CertificateArn": CERTIFICATE})
    assert error(e) == POOL_HAS_DOMAIN
    # A prefix domain takes no certificate.
    with pytest.raises(ClientError) as e:
        idp.update_user_pool_domain(UserPoolId=pool, Domain=prefix,
                                    CustomDomainConfig={"CertificateArn": CERTIFICATE})
    assert error(e) == ("InvalidParameterException",
                        "CustomDomainConfig can only be set for a custom domain.")


def test_domain_errors(idp, server, unique):
    pool = new_pool(idp)
    with pytest.raises(ClientError) as e:
        idp.create_user_pool_domain(UserPoolId="us-east-1_nope", Domain=unique("x-"))
    assert error(e) == ("ResourceNotFoundException", "User pool us-east-1_nope does not exist.")
    with pytest.raises(ClientError) as e:
        idp.update_user_pool_domain(UserPoolId=pool, Domain=unique("x-"))
    assert error(e) == NO_SUCH_DOMAIN
    with pytest.raises(ClientError) as e:
        idp.delete_user_pool_domain(UserPoolId="us-east-1_nope", Domain=unique("x-"))
    assert error(e) == NO_SUCH_DOMAIN
    with pytest.raises(ClientError) as e:
        idp.create_user_pool_domain(UserPoolId=pool, Domain=unique("x-"), ManagedLoginVersion=3)
    assert error(e) == ("InvalidParameterException", "ManagedLoginVersion must be 1 or 2.")

    with pytest.raises(ClientError) as e:
        unchecked_client(server).create_user_pool_domain(UserPoolId=pool, Domain="My_App")
    assert error(e) == (
        "InvalidParameterException",
        "1 validation error detected: Value 'My_App' at 'domain' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$")


# ------------------------------------------------------------------------------ resource servers


def test_resource_server_create_describe_update_delete(idp):
    pool = new_pool(idp)
    identifier = "https://orders.example.com"
    created = plain(idp.create_resource_server(UserPoolId=pool, Identifier=identifier,
                                               Name="Orders API", Scopes=[READ, WRITE]))
    assert created == server_type(pool, identifier, "Orders API", [READ, WRITE])
    assert plain(idp.describe_resource_server(UserPoolId=pool, Identifier=identifier)) == created

    updated = plain(idp.update_resource_server(UserPoolId=pool, Identifier=identifier,
                                               Name="Orders", Scopes=[WRITE]))
    assert updated == server_type(pool, identifier, "Orders", [WRITE])
    assert plain(idp.describe_resource_server(UserPoolId=pool, Identifier=identifier)) == updated
    # Scopes left out of an update are removed.
    assert plain(idp.update_resource_server(UserPoolId=pool, Identifier=identifier,
                                            Name="Orders")) == server_type(
        pool, identifier, "Orders", [])

    assert plain(idp.delete_resource_server(UserPoolId=pool, Identifier=identifier)) == {}
    for call in (idp.describe_resource_server, idp.delete_resource_server):
        with pytest.raises(ClientError) as e:
            call(UserPoolId=pool, Identifier=identifier)
        assert error(e) == ("ResourceNotFoundException",
                            f"Resource server {identifier} does not exist.")


def test_resource_server_without_scopes_and_in_two_pools(idp):
    first, second = new_pool(idp), new_pool(idp)
    for pool in (first, second):
        assert plain(idp.create_resource_server(UserPoolId=pool, Identifier="billing",
                                                Name="Billing")) == server_type(
            pool, "billing", "Billing", [])
    # Identifiers are case-sensitive.
    assert plain(idp.create_resource_server(UserPoolId=first, Identifier="Billing",
                                            Name="Billing 2"))["ResourceServer"][
        "Identifier"] == "Billing"


def test_resource_server_errors(idp, server):
    pool = new_pool(idp)
    idp.create_resource_server(UserPoolId=pool, Identifier="orders", Name="Orders", Scopes=[READ])
    with pytest.raises(ClientError) as e:
        idp.create_resource_server(UserPoolId=pool, Identifier="orders", Name="Again")
    assert error(e) == ("InvalidParameterException",
                        "A resource server with identifier orders already exists in the user pool.")
    assert idp.describe_resource_server(UserPoolId=pool, Identifier="orders")[
        "ResourceServer"]["Name"] == "Orders"

    with pytest.raises(ClientError) as e:
        idp.create_resource_server(UserPoolId=pool, Identifier="twice", Name="Twice",
                                   Scopes=[READ, dict(READ, ScopeDescription="again")])
    assert error(e) == ("InvalidParameterException",
                        "Duplicate scope name read in the resource server.")
    with pytest.raises(ClientError) as e:
        idp.update_resource_server(UserPoolId=pool, Identifier="nothing", Name="Nothing")
    assert error(e) == ("ResourceNotFoundException", "Resource server nothing does not exist.")
    with pytest.raises(ClientError) as e:
        idp.create_resource_server(UserPoolId="us-east-1_nope", Identifier="x", Name="x")
    assert error(e) == ("ResourceNotFoundException", "User pool us-east-1_nope does not exist.")
    with pytest.raises(ClientError) as e:
        idp.list_resource_servers(UserPoolId="us-east-1_nope", MaxResults=10)
    assert error(e) == ("ResourceNotFoundException", "User pool us-east-1_nope does not exist.")

    # A scope name may not hold "/" (the model's pattern, checked by the server).
    with pytest.raises(ClientError) as e:
        unchecked_client(server).create_resource_server(
            UserPoolId=pool, Identifier="slash", Name="Slash",
            Scopes=[{"ScopeName": "a/b", "ScopeDescription": "d"}])
    code, message = error(e)
    assert code == "InvalidParameterException"
    assert message.startswith("1 validation error detected: Value 'a/b' at "
                              "'scopes.1.member.scopeName' failed to satisfy constraint: "
                              "Member must satisfy regular expression pattern"), message


def test_a_pool_has_at_most_25_resource_servers(idp):
    pool = new_pool(idp)
    for i in range(25):
        idp.create_resource_server(UserPoolId=pool, Identifier=f"api-{i:02}", Name=f"API {i}")
    with pytest.raises(ClientError) as e:
        idp.create_resource_server(UserPoolId=pool, Identifier="api-25", Name="API 25")
    assert error(e) == ("LimitExceededException",
                        "A user pool cannot have more than 25 resource servers.")
    # A freed place can be taken again.
    idp.delete_resource_server(UserPoolId=pool, Identifier="api-00")
    assert idp.create_resource_server(UserPoolId=pool, Identifier="api-25", Name="API 25")[
        "ResourceServer"]["Identifier"] == "api-25"


def test_list_resource_servers_pages(idp):
    pool = new_pool(idp)
    identifiers = ["https://e.example", "a-api", "c-api", "b-api", "d-api"]
    for identifier in identifiers:
        idp.create_resource_server(UserPoolId=pool, Identifier=identifier, Name="API",
                                   Scopes=[READ])

    seen, token, pages = [], None, 0
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = plain(idp.list_resource_servers(UserPoolId=pool, MaxResults=2, **kwargs))
        pages += 1
        assert len(page["ResourceServers"]) <= 2
        seen += page["ResourceServers"]
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert [s["Identifier"] for s in seen] == sorted(identifiers)
    assert seen[0] == server_type(pool, "a-api", "API", [READ])["ResourceServer"]

    whole = plain(idp.list_resource_servers(UserPoolId=pool, MaxResults=50))
    assert whole == {"ResourceServers": seen}

    paginated = [s["Identifier"] for page in idp.get_paginator("list_resource_servers").paginate(
        UserPoolId=pool, PaginationConfig={"PageSize": 2}) for s in page["ResourceServers"]]
    assert paginated == sorted(identifiers)

    with pytest.raises(ClientError) as e:
        idp.list_resource_servers(UserPoolId=pool, MaxResults=2, NextToken="not-a-token!")
    assert error(e) == ("InvalidParameterException", "Invalid pagination token.")

    assert plain(idp.list_resource_servers(UserPoolId=new_pool(idp), MaxResults=10)) == {
        "ResourceServers": []}


# ------------------------------------------------------------------------------ with the pool


def test_deleting_a_pool_deletes_its_domains_and_resource_servers(idp, unique):
    pool = new_pool(idp)
    prefix, custom = unique("gone-"), unique("gone-auth-")
    idp.create_user_pool_domain(UserPoolId=pool, Domain=prefix)
    idp.create_user_pool_domain(UserPoolId=pool, Domain=custom,
                                CustomDomainConfig={"CertificateArn": CERTIFICATE})
    idp.create_resource_server(UserPoolId=pool, Identifier="orders", Name="Orders", Scopes=[READ])

    idp.delete_user_pool(UserPoolId=pool)
    for domain in (prefix, custom):
        assert plain(idp.describe_user_pool_domain(Domain=domain)) == {"DomainDescription": {}}
    with pytest.raises(ClientError) as e:
        idp.describe_resource_server(UserPoolId=pool, Identifier="orders")
    assert error(e) == ("ResourceNotFoundException", f"User pool {pool} does not exist.")

    # The names are free again.
    other = new_pool(idp)
    assert plain(idp.create_user_pool_domain(UserPoolId=other, Domain=prefix)) == {
        "ManagedLoginVersion": 1}


# ------------------------------------------------------------------------------ AWS CLI


def test_cli_domain_and_resource_server_commands(aws, unique):
    pool = aws("create-user-pool", "--pool-name", "cli-oauth")["UserPool"]["Id"]
    domain = unique("cli-")
    # The answer carries ManagedLoginVersion 1; a CLI whose bundled model predates managed
    # login (Debian's awscli) drops the member it does not know and prints {}.
    assert aws("create-user-pool-domain", "--user-pool-id", pool, "--domain", domain) in (
        {"ManagedLoginVersion": 1}, {})
    d = aws("describe-user-pool-domain", "--domain", domain)["DomainDescription"]
    assert (d["UserPoolId"], d["Domain"], d["Status"]) == (pool, domain, "ACTIVE")

    created = aws("create-resource-server", "--user-pool-id", pool, "--identifier", "orders",
                  "--name", "Orders", "--scopes",
                  "ScopeName=read,ScopeDescription=Read the orders")
    assert created == server_type(pool, "orders", "Orders", [READ])
    assert aws("list-resource-servers", "--user-pool-id", pool, "--max-results", "10") == {
        "ResourceServers": [created["ResourceServer"]]}
    assert aws("delete-resource-server", "--user-pool-id", pool, "--identifier", "orders") == {}
    assert aws("delete-user-pool-domain", "--user-pool-id", pool, "--domain", domain) == {}
