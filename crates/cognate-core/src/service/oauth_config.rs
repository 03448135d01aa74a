//! The OAuth 2.0 configuration of a pool (spec vii.1): its user-pool domains
//! (Create/Describe/Update/DeleteUserPoolDomain) and resource servers with their custom
//! scopes (Create/Describe/Update/Delete/ListResourceServers).

use super::pools::decode_token;
use super::signup::pool_not_found;
use super::Service;
use crate::error::{DomainError, DomainResult, Invalid};
use crate::records::{
    DomainInsert, DomainRecord, ResourceServerInsert, ResourceServerRecord, ScopeRecord,
};

/// A pool may have at most 25 resource servers (spec vii.1, AWS's quota).
const MAX_RESOURCE_SERVERS: i64 = 25;
/// ListResourceServers' `MaxResults` is 1–50; absent means a full page.
const MAX_RESOURCE_SERVER_PAGE: i32 = 50;

/// What CreateUserPoolDomain and UpdateUserPoolDomain name.
#[derive(Clone, Debug, Default)]
pub struct DomainInput {
    pub pool_id: String,
    pub domain: String,
    pub managed_login_version: Option<i32>,
    /// `CustomDomainConfig`: a certificate makes the domain a custom one.
    pub certificate_arn: Option<String>,
    pub security_policy: Option<String>,
}

/// A domain as DescribeUserPoolDomain shows it.
#[derive(Clone, Debug)]
pub struct DomainDescription {
    pub record: DomainRecord,
    pub account_id: String,
    /// AWS's form of a CloudFront host (`d` and 13 characters), stable per domain name.
    pub cloudfront_distribution: String,
    /// The time of the last change as `yyyyMMddHHmmss` (UTC), as AWS's `Version` reads.
    pub version: String,
}

/// What CreateResourceServer and UpdateResourceServer name.
#[derive(Clone, Debug, Default)]
pub struct ResourceServerInput {
    pub pool_id: String,
    pub identifier: String,
    pub name: String,
    pub scopes: Vec<ScopeRecord>,
}

/// A stable, AWS-shaped CloudFront host for a domain: Cognate serves no CloudFront, but
/// tools (Terraform's `cloudfront_distribution`) read the field and expect a host there.
pub fn cloudfront_distribution(domain: &str) -> String {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in domain.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut label = String::with_capacity(14);
    label.push('d');
    for _ in 0..13 {
        label.push(char::from(ALPHABET[(hash % 36) as usize]));
        hash /= 36;
    }
    format!("{label}.cloudfront.net")
}

/// Unix seconds as `yyyyMMddHHmmss` in UTC.
pub fn domain_version(unix_secs: i64) -> String {
    const SECS_PER_DAY: i64 = 86_400;
    let days = unix_secs.div_euclid(SECS_PER_DAY);
    let secs = unix_secs.rem_euclid(SECS_PER_DAY);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn managed_login_version(version: Option<i32>) -> DomainResult<Option<i64>> {
    match version {
        None => Ok(None),
        Some(v @ (1 | 2)) => Ok(Some(i64::from(v))),
        Some(_) => Err(DomainError::Invalid(Invalid::ManagedLoginVersion)),
    }
}

fn check_scopes(scopes: &[ScopeRecord]) -> DomainResult<()> {
    let mut seen = std::collections::BTreeSet::new();
    for scope in scopes {
        if !seen.insert(scope.name.as_str()) {
            return Err(DomainError::Invalid(Invalid::DuplicateScope {
                name: scope.name.clone(),
            }));
        }
    }
    Ok(())
}

impl Service {
    fn describe_domain_record(&self, record: DomainRecord) -> DomainDescription {
        DomainDescription {
            cloudfront_distribution: cloudfront_distribution(&record.domain),
            version: domain_version(record.updated_at),
            account_id: self.settings.account_id.clone(),
            record,
        }
    }

    /// CreateUserPoolDomain: a prefix domain, or a custom one when a certificate is given; at
    /// most one of each per pool, and a name no other pool holds.
    pub async fn create_user_pool_domain(
        &self,
        input: DomainInput,
    ) -> DomainResult<DomainDescription> {
        let version = managed_login_version(input.managed_login_version)?;
        let pool = self.pool_settings(&input.pool_id).await?;
        let now = self.clock.now();
        let record = DomainRecord {
            domain: input.domain,
            pool_id: pool.id.clone(),
            certificate_arn: input.certificate_arn,
            security_policy: input.security_policy,
            // Domains made through the API start on the classic hosted UI unless told.
            managed_login_version: version.unwrap_or(1),
            created_at: now,
            updated_at: now,
        };
        match self.store.insert_domain(&record).await? {
            DomainInsert::Created => Ok(self.describe_domain_record(record)),
            DomainInsert::NoPool => Err(pool_not_found(&pool.id)),
            DomainInsert::Taken => Err(DomainError::DomainTaken),
            DomainInsert::PoolHasOne => Err(DomainError::PoolHasDomain),
        }
    }

    /// DescribeUserPoolDomain: None for a name no pool holds (AWS answers an empty
    /// description rather than an error).
    pub async fn describe_user_pool_domain(
        &self,
        domain: &str,
    ) -> DomainResult<Option<DomainDescription>> {
        Ok(self
            .store
            .get_domain(domain)
            .await?
            .map(|record| self.describe_domain_record(record)))
    }

    /// UpdateUserPoolDomain: the managed-login version and, for a custom domain, its
    /// certificate; what is not given stays.
    pub async fn update_user_pool_domain(
        &self,
        input: DomainInput,
    ) -> DomainResult<DomainDescription> {
        let version = managed_login_version(input.managed_login_version)?;
        let current = self
            .store
            .get_domain(&input.domain)
            .await?
            .filter(|d| d.pool_id == input.pool_id)
            .ok_or(DomainError::DomainNotFound)?;
        if input.certificate_arn.is_some() && !current.is_custom() {
            return Err(DomainError::Invalid(Invalid::CertificateForPrefixDomain));
        }
        let record = DomainRecord {
            managed_login_version: version.unwrap_or(current.managed_login_version),
            security_policy: if input.certificate_arn.is_some() {
                input.security_policy
            } else {
                current.security_policy.clone()
            },
            certificate_arn: input.certificate_arn.or(current.certificate_arn.clone()),
            updated_at: self.clock.now(),
            ..current
        };
        if !self.store.update_domain(&record).await? {
            return Err(DomainError::DomainNotFound);
        }
        Ok(self.describe_domain_record(record))
    }

    pub async fn delete_user_pool_domain(&self, pool_id: &str, domain: &str) -> DomainResult<()> {
        if !self.store.delete_domain(pool_id, domain).await? {
            return Err(DomainError::DomainNotFound);
        }
        Ok(())
    }

    // ------------------------------------------------------------------ resource servers

    pub async fn create_resource_server(
        &self,
        input: ResourceServerInput,
    ) -> DomainResult<ResourceServerRecord> {
        check_scopes(&input.scopes)?;
        let pool = self.pool_settings(&input.pool_id).await?;
        let now = self.clock.now();
        let server = ResourceServerRecord {
            pool_id: pool.id.clone(),
            identifier: input.identifier,
            name: input.name,
            scopes: input.scopes,
            created_at: now,
            updated_at: now,
        };
        match self
            .store
            .insert_resource_server(&server, MAX_RESOURCE_SERVERS)
            .await?
        {
            ResourceServerInsert::Created => Ok(server),
            ResourceServerInsert::NoPool => Err(pool_not_found(&pool.id)),
            ResourceServerInsert::Exists => Err(DomainError::ResourceServerExists {
                identifier: server.identifier,
            }),
            ResourceServerInsert::TooMany => Err(DomainError::TooManyResourceServers),
        }
    }

    pub async fn describe_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> DomainResult<ResourceServerRecord> {
        let pool = self.pool_settings(pool_id).await?;
        self.store
            .get_resource_server(&pool.id, identifier)
            .await?
            .ok_or_else(|| DomainError::ResourceServerNotFound {
                identifier: identifier.to_string(),
            })
    }

    /// UpdateResourceServer replaces the name and the scopes: scopes not sent are removed,
    /// as AWS resets whatever an update leaves out.
    pub async fn update_resource_server(
        &self,
        input: ResourceServerInput,
    ) -> DomainResult<ResourceServerRecord> {
        check_scopes(&input.scopes)?;
        let current = self
            .describe_resource_server(&input.pool_id, &input.identifier)
            .await?;
        let server = ResourceServerRecord {
            name: input.name,
            scopes: input.scopes,
            updated_at: self.clock.now(),
            ..current
        };
        if !self.store.update_resource_server(&server).await? {
            return Err(DomainError::ResourceServerNotFound {
                identifier: server.identifier,
            });
        }
        Ok(server)
    }

    pub async fn delete_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> DomainResult<()> {
        let pool = self.pool_settings(pool_id).await?;
        if !self
            .store
            .delete_resource_server(&pool.id, identifier)
            .await?
        {
            return Err(DomainError::ResourceServerNotFound {
                identifier: identifier.to_string(),
            });
        }
        Ok(())
    }

    /// Checks a client's OAuth settings (`config::check_oauth_settings`) against the pool's
    /// resource servers, read only when a scope is not a standard one.
    pub(crate) async fn check_client_oauth(
        &self,
        pool_id: &str,
        client: &cognate_wire::UserPoolClientType,
    ) -> DomainResult<()> {
        let scopes = client.allowed_oauth_scopes.as_deref().unwrap_or_default();
        let custom: std::collections::HashSet<String> =
            if scopes.iter().all(|s| crate::config::is_standard_scope(s)) {
                Default::default()
            } else {
                self.store
                    .list_resource_servers(pool_id, None, MAX_RESOURCE_SERVERS + 1)
                    .await?
                    .into_iter()
                    .flat_map(
                        |ResourceServerRecord {
                             identifier, scopes, ..
                         }| {
                            scopes
                                .into_iter()
                                .map(move |scope| format!("{identifier}/{}", scope.name))
                        },
                    )
                    .collect()
            };
        crate::config::check_oauth_settings(client, pool_id, |s| custom.contains(s))
    }

    pub async fn list_resource_servers(
        &self,
        pool_id: &str,
        max_results: Option<i32>,
        token: Option<&str>,
    ) -> DomainResult<(Vec<ResourceServerRecord>, Option<String>)> {
        let pool = self.pool_settings(pool_id).await?;
        let after = token.map(decode_token).transpose()?;
        let limit = i64::from(
            max_results
                .filter(|m| *m > 0)
                .unwrap_or(MAX_RESOURCE_SERVER_PAGE)
                .min(MAX_RESOURCE_SERVER_PAGE),
        );
        let mut servers = self
            .store
            .list_resource_servers(&pool.id, after.as_deref(), limit + 1)
            .await?;
        let next = super::pools::page_token(&mut servers, limit, |s| s.identifier.clone());
        Ok((servers, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_the_utc_time_of_the_change() {
        assert_eq!(domain_version(0), "19700101000000");
        assert_eq!(domain_version(1_725_347_109), "20240903070509");
        assert_eq!(domain_version(951_782_400), "20000229000000");
    }

    #[test]
    fn cloudfront_host_is_stable_and_aws_shaped() {
        let host = cloudfront_distribution("myapp");
        assert_eq!(host, cloudfront_distribution("myapp"));
        assert_ne!(host, cloudfront_distribution("myapp2"));
        let label = host.strip_suffix(".cloudfront.net").unwrap_or_default();
        assert_eq!(label.len(), 14);
        assert!(label.starts_with('d'));
        assert!(label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    }

    #[test]
    fn managed_login_versions_are_one_or_two_and_scopes_unique() {
        assert_eq!(managed_login_version(None), Ok(None));
        assert_eq!(managed_login_version(Some(2)), Ok(Some(2)));
        assert_eq!(
            managed_login_version(Some(3)),
            Err(DomainError::Invalid(Invalid::ManagedLoginVersion))
        );
        let scope = |n: &str| ScopeRecord {
            name: n.into(),
            description: "d".into(),
        };
        assert!(check_scopes(&[scope("read"), scope("write")]).is_ok());
        assert_eq!(
            check_scopes(&[scope("read"), scope("read")]),
            Err(DomainError::Invalid(Invalid::DuplicateScope {
                name: "read".into()
            }))
        );
    }
}
