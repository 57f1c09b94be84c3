//! The SDK configuration a module's clients are built from: credentials, region, endpoint,
//! TLS trust, retries and timeouts from the common options. Nothing here calls AWS. The HTTP
//! client and the sleep the retries wait with can be injected ([`Io`]), so every step runs in
//! tests and in the fuzz harness without a network.

use crate::aws::{Aws, Io};
use crate::client_config::{self, Settings};
use crate::credentials::{credential_source, Source};
use crate::options::{env, given, AwsOptions};
use ansible_module::{Context, Failure};
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// The region IAM and STS sign with when none is configured: the global endpoints' region.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How hard a module's calls are retried when `aws_config` does not say.
#[derive(Debug, Clone, Copy)]
pub struct RetryDefaults {
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
}

/// STS calls: the SDK's standard mode (3 attempts). The Python STS modules do not retry at all.
pub const STS_RETRIES: RetryDefaults = RetryDefaults { max_attempts: 3 };

/// IAM calls: amazon.aws retries throttling and transient errors 10 times; so do we (11
/// attempts, with the SDK's jittered exponential backoff).
pub const IAM_RETRIES: RetryDefaults = RetryDefaults { max_attempts: 11 };

/// Builds the SDK configuration from the common options, with the module's retry defaults.
pub async fn configure(
    ctx: &mut Context,
    o: &AwsOptions,
    io: &Io,
    retries: RetryDefaults,
) -> Result<Aws, Failure> {
    let source = credential_source(ctx, o)?;
    let endpoint_url = given(&o.endpoint_url);
    if let Some(url) = endpoint_url {
        check_endpoint_url(url)?;
        route_internal_sts_calls(url);
    }
    let settings = client_config::parse(o.aws_config.as_ref(), retries.max_attempts, ctx)?;
    let trust = trust(ctx, o)?;
    let http_client = io
        .http_client
        .clone()
        .unwrap_or_else(|| sdk_http::client(trust));
    let mut loader = loader(&settings, http_client.clone(), io)?;
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = given(&o.region) {
        loader = loader.region(Region::new(region.to_owned()));
    }
    loader = match source {
        Source::Keys {
            access_key,
            secret_key,
            session_token,
        } => loader.credentials_provider(Credentials::new(
            access_key,
            secret_key,
            session_token.map(str::to_owned),
            None,
            "module options",
        )),
        Source::Profile(name) => {
            let provider = profile_credentials(name, o, &settings, http_client, io).await?;
            loader.profile_name(name).credentials_provider(provider)
        }
        Source::Default => loader,
    };
    let config = with_default_region(loader.load().await);
    let region = config.region().map_or_else(String::new, |r| r.to_string());
    Ok(Aws {
        config,
        endpoint_url: endpoint_url.map(str::to_owned),
        region,
    })
}

/// endpoint_url applies to every call the module makes, including the STS calls aws-config
/// makes by itself for a profile's role_arn / web_identity_token_file or for
/// AWS_WEB_IDENTITY_TOKEN_FILE. Those internal clients take endpoints only from the environment
/// and the config files, never from the loader's endpoint_url, so this process's environment is
/// the one way to reach them. (Edition 2021: single thread here, before any client exists.)
fn route_internal_sts_calls(url: &str) {
    std::env::set_var(env::AWS_ENDPOINT_URL_STS, url);
    std::env::remove_var(env::AWS_IGNORE_CONFIGURED_ENDPOINT_URLS);
}

/// The certificates TLS trusts: any (validate_certs: false), a bundle, or the system's.
fn trust(ctx: &Context, o: &AwsOptions) -> Result<sdk_http::Trust, Failure> {
    if !o.validate_certs {
        return Ok(sdk_http::Trust::Any);
    }
    let Some(path) = given(&o.aws_ca_bundle) else {
        return Ok(sdk_http::Trust::System);
    };
    let source = ctx.env_source("aws_ca_bundle").unwrap_or("aws_ca_bundle");
    let bundle = sdk_http::read_ca_bundle(path, source).map_err(Failure::new)?;
    Ok(sdk_http::Trust::Bundle(bundle))
}

/// The loader with what every module's configuration shares: HTTP client, sleep, app name,
/// retries, timeouts and the endpoint variants of `aws_config`.
fn loader(
    settings: &Settings,
    http_client: SharedHttpClient,
    io: &Io,
) -> Result<ConfigLoader, Failure> {
    let app_name =
        aws_config::AppName::new("rustaws.creds").map_err(|e| Failure::new(e.to_string()))?;
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .app_name(app_name)
        .retry_config(settings.retry.clone())
        .timeout_config(settings.timeout.clone());
    if let Some(sleep) = &io.sleep {
        loader = loader.sleep_impl(sleep.clone());
    }
    if let Some(fips) = settings.use_fips {
        loader = loader.use_fips(fips);
    }
    if let Some(dual) = settings.use_dual_stack {
        loader = loader.use_dual_stack(dual);
    }
    Ok(loader)
}

/// The named profile's own credentials, not the default chain: that chain reads
/// AWS_ACCESS_KEY_ID first and would sign as someone else when the profile was chosen over keys
/// from the environment. Its role_arn / web identity calls need a region too: the option (or
/// its environment variables), the profile's, us-east-1.
async fn profile_credentials(
    name: &str,
    o: &AwsOptions,
    settings: &Settings,
    http_client: SharedHttpClient,
    io: &Io,
) -> Result<aws_config::profile::ProfileFileCredentialsProvider, Failure> {
    let profile_region = check_profile(name).await?;
    let region = given(&o.region)
        .map(str::to_owned)
        .or(profile_region)
        .unwrap_or_else(|| DEFAULT_REGION.to_owned());
    let mut provider_config = aws_config::provider_config::ProviderConfig::default()
        .with_http_client(http_client)
        .with_retry_config(settings.retry.clone())
        .with_timeout_config(settings.timeout.clone())
        .with_region(Some(Region::new(region)));
    if let Some(sleep) = &io.sleep {
        provider_config = provider_config.with_sleep_impl(sleep.clone());
    }
    Ok(
        aws_config::profile::ProfileFileCredentialsProvider::builder()
            .configure(&provider_config)
            .profile_name(name)
            .build(),
    )
}

/// No region anywhere (option, environment, profile): IAM and STS are global services and any
/// STS implementation behind endpoint_url accepts any region; sign for us-east-1. (The SDK reads
/// AWS_REGION itself, where a present but empty value means "none" too.)
fn with_default_region(config: SdkConfig) -> SdkConfig {
    if config.region().is_some_and(|r| !r.as_ref().is_empty()) {
        return config;
    }
    config
        .to_builder()
        .region(Region::from_static(DEFAULT_REGION))
        .build()
}

fn check_endpoint_url(url: &str) -> Result<(), Failure> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            Failure::new(format!(
                "endpoint_url must be an http:// or https:// URL, got '{url}'"
            ))
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(Failure::new(format!(
            "endpoint_url '{url}' names no valid host"
        )));
    }
    url.parse::<http::Uri>()
        .map(|_| ())
        .map_err(|e| Failure::new(format!("endpoint_url '{url}' is not a valid URL: {e}")))
}

/// A named profile must exist: the SDK would otherwise fall through to the next credential
/// source (an instance role, say) and run as someone else. Returns the profile's region.
async fn check_profile(name: &str) -> Result<Option<String>, Failure> {
    use aws_runtime::env_config::file::EnvConfigFiles;
    use aws_types::os_shim_internal::{Env, Fs};
    let set =
        aws_config::profile::load(&Fs::real(), &Env::real(), &EnvConfigFiles::default(), None)
            .await
            .map_err(|e| {
                Failure::new(format!(
                    "Couldn't connect to AWS: the AWS config files could not be read: {e}"
                ))
            })?;
    if let Some(profile) = set.get_profile(name) {
        return Ok(profile
            .get("region")
            .filter(|r| !r.is_empty())
            .map(str::to_owned));
    }
    Err(Failure::new(format!(
        "Couldn't connect to AWS: The config profile ({name}) could not be found"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls() {
        assert!(check_endpoint_url("http://127.0.0.1:5000").is_ok());
        assert!(check_endpoint_url("https://sts.example.com/path").is_ok());
        assert_eq!(
            check_endpoint_url("127.0.0.1:5000").unwrap_err().msg,
            "endpoint_url must be an http:// or https:// URL, got '127.0.0.1:5000'"
        );
        assert!(check_endpoint_url("http://").is_err());
        assert!(check_endpoint_url("http://a b").is_err());
    }
}
