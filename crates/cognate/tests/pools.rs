#![allow(clippy::unwrap_used, clippy::expect_used)]
//! User pools and app clients through the real Rust AWS SDK.

mod common;

use aws_sdk_cognitoidentityprovider::types::{
    AliasAttributeType, DeletionProtectionType, UsernameAttributeType, VerifiedAttributeType,
};
use common::*;

#[tokio::test]
async fn create_and_describe_pool_shows_aws_defaults() {
    let server = Server::start().await;
    let c = server.client();
    let created = c
        .create_user_pool()
        .pool_name("defaults")
        .send()
        .await
        .unwrap();
    let pool = created.user_pool().unwrap();
    let id = pool.id().unwrap();
    assert!(id.starts_with("us-east-1_"), "{id}");
    assert_eq!(id.len(), "us-east-1_".len() + 9);
    assert_eq!(
        pool.arn().unwrap(),
        format!("arn:aws:cognito-idp:us-east-1:000000000000:userpool/{id}")
    );

    let described = c
        .describe_user_pool()
        .user_pool_id(id)
        .send()
        .await
        .unwrap();
    let pool = described.user_pool().unwrap();
    assert_eq!(pool.name(), Some("defaults"));
    let policy = pool.policies().unwrap().password_policy().unwrap();
    assert_eq!(policy.minimum_length(), Some(8));
    assert!(policy.require_uppercase());
    assert!(policy.require_symbols());
    assert_eq!(policy.temporary_password_validity_days(), 7);
    let template = pool.verification_message_template().unwrap();
    assert_eq!(
        template.email_message(),
        Some("Your verification code is {####}. ")
    );
    assert_eq!(template.email_subject(), Some("Your verification code"));
    assert_eq!(pool.mfa_configuration().map(|m| m.as_str()), Some("OFF"));
    assert_eq!(
        pool.deletion_protection(),
        Some(&DeletionProtectionType::Inactive)
    );
    assert_eq!(pool.estimated_number_of_users(), 0);
    let names: Vec<&str> = pool
        .schema_attributes()
        .iter()
        .filter_map(|a| a.name())
        .collect();
    for n in [
        "sub",
        "email",
        "email_verified",
        "phone_number",
        "updated_at",
    ] {
        assert!(names.contains(&n), "schema lacks {n}: {names:?}");
    }
    assert!(pool.creation_date().is_some());
    assert!(!pool
        .admin_create_user_config()
        .unwrap()
        .allow_admin_create_user_only());
}

#[tokio::test]
async fn unknown_pool_is_resource_not_found() {
    let server = Server::start().await;
    let (code, msg) = err_of(
        server
            .client()
            .describe_user_pool()
            .user_pool_id("us-east-1_nothere1")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(msg, "User pool us-east-1_nothere1 does not exist.");
}

#[tokio::test]
async fn username_and_alias_attributes_cannot_be_combined() {
    let server = Server::start().await;
    let (code, msg) = err_of(
        server
            .client()
            .create_user_pool()
            .pool_name("both")
            .username_attributes(UsernameAttributeType::Email)
            .alias_attributes(AliasAttributeType::Email)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(
        msg.contains("aliasAttributes or usernameAttributes"),
        "{msg}"
    );
}

#[tokio::test]
async fn custom_attributes_and_settings_round_trip() {
    let server = Server::start().await;
    let c = server.client();
    let schema = aws_sdk_cognitoidentityprovider::types::SchemaAttributeType::builder()
        .name("tenant")
        .attribute_data_type(aws_sdk_cognitoidentityprovider::types::AttributeDataType::String)
        .mutable(true)
        .build();
    let pool = c
        .create_user_pool()
        .pool_name("custom")
        .schema(schema)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .user_pool_tags("team", "identity")
        .send()
        .await
        .unwrap();
    let id = pool.user_pool().unwrap().id().unwrap().to_string();
    let pool = c
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap();
    let pool = pool.user_pool().unwrap();
    assert!(pool
        .schema_attributes()
        .iter()
        .any(|a| a.name() == Some("custom:tenant")));
    assert_eq!(
        pool.auto_verified_attributes(),
        &[VerifiedAttributeType::Email]
    );
    assert_eq!(
        pool.user_pool_tags()
            .unwrap()
            .get("team")
            .map(String::as_str),
        Some("identity")
    );
}

#[tokio::test]
async fn update_pool_and_deletion_protection() {
    let server = Server::start().await;
    let c = server.client();
    let id = c
        .create_user_pool()
        .pool_name("protected")
        .deletion_protection(DeletionProtectionType::Active)
        .send()
        .await
        .unwrap()
        .user_pool()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    let (code, _) = err_of(c.delete_user_pool().user_pool_id(&id).send().await);
    assert_eq!(code, "InvalidParameterException");
    c.update_user_pool()
        .user_pool_id(&id)
        .deletion_protection(DeletionProtectionType::Inactive)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .send()
        .await
        .unwrap();
    let pool = c
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        pool.user_pool().unwrap().auto_verified_attributes(),
        &[VerifiedAttributeType::Email]
    );
    c.delete_user_pool().user_pool_id(&id).send().await.unwrap();
    let (code, _) = err_of(c.describe_user_pool().user_pool_id(&id).send().await);
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn list_user_pools_paginates() {
    let server = Server::start().await;
    let c = server.client();
    let mut ids = Vec::new();
    for i in 0..5 {
        let p = c
            .create_user_pool()
            .pool_name(format!("p{i}"))
            .send()
            .await
            .unwrap();
        ids.push(p.user_pool().unwrap().id().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = c
            .list_user_pools()
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.user_pools().len() <= 2);
        seen.extend(
            page.user_pools()
                .iter()
                .map(|p| p.id().unwrap().to_string()),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    // A shared PostgreSQL database may hold other tests' pools too.
    assert!(pages >= 3);
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no pool is listed twice");
    for id in &ids {
        assert!(seen.contains(id), "{id} missing from the listing");
    }
}

#[tokio::test]
async fn clients_with_generated_secret() {
    let server = Server::start().await;
    let c = server.client();
    let pool = c
        .create_user_pool()
        .pool_name("clients")
        .send()
        .await
        .unwrap();
    let pool_id = pool.user_pool().unwrap().id().unwrap();
    let created = c
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name("web")
        .generate_secret(true)
        .send()
        .await
        .unwrap();
    let client = created.user_pool_client().unwrap();
    let client_id = client.client_id().unwrap();
    assert_eq!(client_id.len(), 26);
    assert!(client_id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    let secret = client.client_secret().unwrap();
    assert_eq!(secret.len(), 51);
    let described = c
        .describe_user_pool_client()
        .user_pool_id(pool_id)
        .client_id(client_id)
        .send()
        .await
        .unwrap();
    let d = described.user_pool_client().unwrap();
    assert_eq!(d.client_secret(), Some(secret));
    assert_eq!(d.refresh_token_validity(), 30);
    assert_eq!(
        d.prevent_user_existence_errors().map(|p| p.as_str()),
        Some("LEGACY")
    );
    assert_eq!(d.explicit_auth_flows().len(), 3);

    let public = c
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name("spa")
        .send()
        .await
        .unwrap();
    assert!(public.user_pool_client().unwrap().client_secret().is_none());
    let listed = c
        .list_user_pool_clients()
        .user_pool_id(pool_id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.user_pool_clients().len(), 2);

    let updated = c
        .update_user_pool_client()
        .user_pool_id(pool_id)
        .client_id(client_id)
        .client_name("web2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.user_pool_client().unwrap().client_name(),
        Some("web2")
    );
    assert_eq!(
        updated.user_pool_client().unwrap().client_secret(),
        Some(secret)
    );

    c.delete_user_pool_client()
        .user_pool_id(pool_id)
        .client_id(client_id)
        .send()
        .await
        .unwrap();
    let (code, msg) = err_of(
        c.describe_user_pool_client()
            .user_pool_id(pool_id)
            .client_id(client_id)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(msg, format!("User pool client {client_id} does not exist."));
}

#[tokio::test]
async fn data_survives_kill_and_restart() {
    let mut server = Server::start().await;
    let id = server
        .client()
        .create_user_pool()
        .pool_name("durable")
        .send()
        .await
        .unwrap()
        .user_pool()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    server.kill_and_restart().await;
    let pool = server
        .client()
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(pool.user_pool().unwrap().name(), Some("durable"));
}

#[tokio::test]
async fn templates_without_the_code_placeholder_are_refused() {
    let server = Server::start().await;
    let template =
        aws_sdk_cognitoidentityprovider::types::VerificationMessageTemplateType::builder()
            .sms_message("Your code is coming")
            .build();
    let (code, msg) = err_of(
        server
            .client()
            .create_user_pool()
            .pool_name("bad-template")
            .verification_message_template(template)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(
        msg.contains("smsMessage") || msg.contains("SmsMessage"),
        "{msg}"
    );
    assert!(msg.contains("####"), "{msg}");
}

#[tokio::test]
async fn settings_changes_apply_to_the_next_request() {
    let server = Server::start().await;
    let c = server.client();
    common::settings_changes_apply_to_the_next_request(&c, &c).await;
}

#[tokio::test]
async fn resource_servers_are_created_and_listed_in_pages() {
    use aws_sdk_cognitoidentityprovider::types::ResourceServerScopeType;
    let server = Server::start().await;
    let c = server.client();
    let pool = c
        .create_user_pool()
        .pool_name("resource-servers")
        .send()
        .await
        .unwrap();
    let pool = pool.user_pool().unwrap().id().unwrap().to_string();
    let read = ResourceServerScopeType::builder()
        .scope_name("read")
        .scope_description("Read the orders")
        .build()
        .unwrap();
    for identifier in ["c-api", "a-api", "https://b.example"] {
        let created = c
            .create_resource_server()
            .user_pool_id(&pool)
            .identifier(identifier)
            .name("Orders")
            .scopes(read.clone())
            .send()
            .await
            .unwrap();
        let s = created.resource_server().unwrap();
        assert_eq!(s.user_pool_id(), Some(pool.as_str()));
        assert_eq!(s.identifier(), Some(identifier));
        assert_eq!(s.name(), Some("Orders"));
        assert_eq!(s.scopes(), std::slice::from_ref(&read));
    }
    let (code, msg) = err_of(
        c.create_resource_server()
            .user_pool_id(&pool)
            .identifier("a-api")
            .name("Again")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        msg,
        "A resource server with identifier a-api already exists in the user pool."
    );

    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = c
            .list_resource_servers()
            .user_pool_id(&pool)
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.resource_servers().len() <= 2);
        seen.extend(
            page.resource_servers()
                .iter()
                .map(|s| s.identifier().unwrap().to_string()),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen, ["a-api", "c-api", "https://b.example"]);
}

#[tokio::test]
async fn user_pool_domains_are_created_described_updated_and_deleted() {
    let server = Server::start().await;
    let c = server.client();
    let pool = c
        .create_user_pool()
        .pool_name("domains")
        .send()
        .await
        .unwrap();
    let pool = pool.user_pool().unwrap().id().unwrap().to_string();
    let prefix = format!("rust-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let created = c
        .create_user_pool_domain()
        .user_pool_id(&pool)
        .domain(&prefix)
        .send()
        .await
        .unwrap();
    assert_eq!(created.managed_login_version(), Some(1));
    assert_eq!(created.cloud_front_domain(), None);

    let described = c
        .describe_user_pool_domain()
        .domain(&prefix)
        .send()
        .await
        .unwrap();
    let d = described.domain_description().unwrap();
    assert_eq!(d.user_pool_id(), Some(pool.as_str()));
    assert_eq!(d.domain(), Some(prefix.as_str()));
    assert_eq!(d.status().map(|s| s.as_str()), Some("ACTIVE"));
    let p = c
        .describe_user_pool()
        .user_pool_id(&pool)
        .send()
        .await
        .unwrap();
    assert_eq!(p.user_pool().unwrap().domain(), Some(prefix.as_str()));

    // A second prefix for the same pool, and the same prefix for another pool, are refused.
    let (code, _) = err_of(
        c.create_user_pool_domain()
            .user_pool_id(&pool)
            .domain(format!("{prefix}-2"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    let other = c
        .create_user_pool()
        .pool_name("domains-2")
        .send()
        .await
        .unwrap();
    let other = other.user_pool().unwrap().id().unwrap().to_string();
    let (code, msg) = err_of(
        c.create_user_pool_domain()
            .user_pool_id(&other)
            .domain(&prefix)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(msg, "Domain already associated with another user pool.");

    let updated = c
        .update_user_pool_domain()
        .user_pool_id(&pool)
        .domain(&prefix)
        .managed_login_version(2)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.managed_login_version(), Some(2));

    c.delete_user_pool_domain()
        .user_pool_id(&pool)
        .domain(&prefix)
        .send()
        .await
        .unwrap();
    let gone = c
        .describe_user_pool_domain()
        .domain(&prefix)
        .send()
        .await
        .unwrap();
    assert!(gone
        .domain_description()
        .is_none_or(|d| d.domain().is_none()));
}

#[tokio::test]
async fn concurrent_add_custom_attributes_all_take_effect() {
    use aws_sdk_cognitoidentityprovider::types::{AttributeDataType, SchemaAttributeType};
    let server = Server::start().await;
    let c = server.client();
    let pool = c
        .create_user_pool()
        .pool_name("custom-race")
        .send()
        .await
        .unwrap();
    let pool = pool.user_pool().unwrap().id().unwrap().to_string();
    // Each call reads the settings, adds its attribute and stores them: without a
    // conditional store, racing calls overwrite each other's attribute.
    let calls: Vec<_> = (0..12)
        .map(|i| {
            let (c, pool) = (c.clone(), pool.clone());
            tokio::spawn(async move {
                c.add_custom_attributes()
                    .user_pool_id(pool)
                    .custom_attributes(
                        SchemaAttributeType::builder()
                            .name(format!("race{i}"))
                            .attribute_data_type(AttributeDataType::String)
                            .build(),
                    )
                    .send()
                    .await
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let described = c
        .describe_user_pool()
        .user_pool_id(&pool)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = described
        .user_pool()
        .unwrap()
        .schema_attributes()
        .iter()
        .filter_map(|a| a.name())
        .filter(|n| n.starts_with("custom:race"))
        .collect();
    assert_eq!(names.len(), 12, "{names:?}");
}
