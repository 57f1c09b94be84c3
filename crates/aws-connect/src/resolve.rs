//! The credentials a connection signs with, resolved before the first call: for the one call
//! AWS refuses with temporary credentials (GetSessionToken), and for pinning the signing key.

use crate::aws::Aws;
use crate::credentials::{credential_source, Source};
use crate::errors::no_credentials;
use crate::options::AwsOptions;
use ansible_module::{Context, Failure};
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use std::time::Duration;

/// How long resolving credentials may take (the SDK's identity cache allows as long).
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The credentials the connection's provider gives now (a profile's role, process or SSO runs
/// here), within the time the SDK's identity cache allows.
pub(crate) async fn resolve(aws: &Aws) -> Result<Credentials, Failure> {
    let provider = aws
        .config
        .credentials_provider()
        .ok_or_else(|| Failure::new("Unable to locate credentials: no credential provider"))?;
    tokio::time::timeout(RESOLVE_TIMEOUT, provider.provide_credentials())
        .await
        .map_err(|_| {
            Failure::new(format!(
                "Unable to locate credentials: the credential provider gave none within {} s",
                RESOLVE_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| Failure::new(no_credentials(&e)))
}

/// The long-term credentials the module's calls will be signed with, resolved now (a profile's
/// role, process or SSO runs once, here), for a call AWS refuses with temporary credentials:
/// GetSessionToken. Credentials carrying a session token fail before any call, naming where
/// they came from. Sign with the result (a fixed provider), so they are not resolved twice.
pub async fn long_term_credentials(
    ctx: &Context,
    aws: &Aws,
    o: &AwsOptions,
    operation: &str,
) -> Result<Credentials, Failure> {
    let credentials = resolve(aws).await?;
    if credentials.session_token().is_none() {
        return Ok(credentials);
    }
    let source = match credential_source(ctx, o)? {
        Source::Keys { .. } => match ctx.env_source("session_token") {
            Some(var) => format!("the session token in {var}"),
            None => "the session_token option".to_owned(),
        },
        Source::Profile(name) => format!("profile {name}"),
        Source::Default => "the default credential chain".to_owned(),
    };
    Err(Failure::new(format!(
        "Cannot call {operation} with session credentials: the credentials this task signs with \
         (from {source}) are temporary, and AWS refuses {operation} signed with them. Sign with \
         long-term access keys, or use sts_assume_role to get credentials from temporary ones."
    )))
}
