//! The AWS side shared by every module: the common options (with the names amazon.aws and
//! community.aws used over the years), an SDK configuration built from them, and AWS errors
//! turned into module failures.

mod client_config;
mod errors;
pub mod http;
pub mod iam;
mod retry;
mod sts;
pub mod validate;

pub use sts::{
    role_credentials, role_failure, session_policies, sts_creds, sts_user, RoleIdFallback,
};

pub use errors::{connection_failure, sdk_failure};

use ansible_module::{Context, Failure, Lit, ModuleSpec, Opt, Type};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::future::Future;

/// The collection the modules ship in; named in deprecations.
pub const COLLECTION: &str = "rustaws.creds";

/// The region IAM and STS sign with when none is configured: the global endpoints' region.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Environment variables the common options read, in one place.
pub mod env {
    pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
    pub const AWS_ACCESS_KEY: &str = "AWS_ACCESS_KEY";
    pub const EC2_ACCESS_KEY: &str = "EC2_ACCESS_KEY";
    pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
    pub const AWS_SECRET_KEY: &str = "AWS_SECRET_KEY";
    pub const EC2_SECRET_KEY: &str = "EC2_SECRET_KEY";
    pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
    pub const AWS_SECURITY_TOKEN: &str = "AWS_SECURITY_TOKEN";
    pub const EC2_SECURITY_TOKEN: &str = "EC2_SECURITY_TOKEN";
    pub const AWS_PROFILE: &str = "AWS_PROFILE";
    pub const AWS_DEFAULT_PROFILE: &str = "AWS_DEFAULT_PROFILE";
    pub const AWS_URL: &str = "AWS_URL";
    pub const EC2_URL: &str = "EC2_URL";
    pub const S3_URL: &str = "S3_URL";
    pub const AWS_CA_BUNDLE: &str = "AWS_CA_BUNDLE";
    pub const ANSIBLE_DEBUG_BOTOCORE_LOGS: &str = "ANSIBLE_DEBUG_BOTOCORE_LOGS";
    pub const AWS_REGION: &str = "AWS_REGION";
    pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
    pub const EC2_REGION: &str = "EC2_REGION";
    /// Read by the SDK itself (not options); named here for messages.
    pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
    pub const AWS_ENDPOINT_URL_STS: &str = "AWS_ENDPOINT_URL_STS";
    pub const AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: &str = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";
}

/// The options every module takes (amazon.aws's common spec, plus the older names its
/// documentation once promised, which still work and add a deprecation).
pub const COMMON_OPTIONS: &[Opt] = &[
    Opt::str("access_key")
        .aliases(&["aws_access_key_id", "aws_access_key"])
        .deprecated_aliases(&["ec2_access_key"])
        .env(&[
            env::AWS_ACCESS_KEY_ID,
            env::AWS_ACCESS_KEY,
            env::EC2_ACCESS_KEY,
        ])
        .deprecated_env(&[env::EC2_ACCESS_KEY]),
    Opt::str("secret_key")
        .aliases(&["aws_secret_access_key", "aws_secret_key"])
        .deprecated_aliases(&["ec2_secret_key"])
        .env(&[
            env::AWS_SECRET_ACCESS_KEY,
            env::AWS_SECRET_KEY,
            env::EC2_SECRET_KEY,
        ])
        .deprecated_env(&[env::EC2_SECRET_KEY])
        .no_log(),
    Opt::str("session_token")
        .aliases(&["aws_session_token"])
        .deprecated_aliases(&["security_token", "aws_security_token", "access_token"])
        .env(&[
            env::AWS_SESSION_TOKEN,
            env::AWS_SECURITY_TOKEN,
            env::EC2_SECURITY_TOKEN,
        ])
        .deprecated_env(&[env::AWS_SECURITY_TOKEN, env::EC2_SECURITY_TOKEN])
        .no_log(),
    Opt::str("profile")
        .aliases(&["aws_profile"])
        .deprecated_aliases(&["boto_profile"])
        .env(&[env::AWS_PROFILE, env::AWS_DEFAULT_PROFILE]),
    Opt::str("endpoint_url")
        .aliases(&["aws_endpoint_url"])
        .deprecated_aliases(&["ec2_url", "s3_url", "endpoint"])
        .env(&[env::AWS_URL, env::EC2_URL, env::S3_URL])
        .deprecated_env(&[env::EC2_URL, env::S3_URL]),
    Opt::bool("validate_certs").default(Lit::Bool(true)),
    Opt::new("aws_ca_bundle", Type::Path).env(&[env::AWS_CA_BUNDLE]),
    Opt::new("aws_config", Type::Dict),
    Opt::bool("debug_botocore_endpoint_logs")
        .default(Lit::Bool(false))
        .env(&[env::ANSIBLE_DEBUG_BOTOCORE_LOGS]),
    Opt::str("region")
        .aliases(&["aws_region"])
        .deprecated_aliases(&["ec2_region"])
        .env(&[env::AWS_REGION, env::AWS_DEFAULT_REGION, env::EC2_REGION])
        .deprecated_env(&[env::EC2_REGION]),
];

/// A module's spec: the common options followed by the module's own.
pub fn module_spec(name: &'static str, options: &[Opt]) -> ModuleSpec {
    ModuleSpec::new(name, COLLECTION)
        .options(COMMON_OPTIONS)
        .options(options)
}

/// The common options after validation. Flatten it into a module's options struct.
#[derive(Debug, Clone, Deserialize)]
pub struct AwsOptions {
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub session_token: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub validate_certs: bool,
    pub aws_ca_bundle: Option<String>,
    pub aws_config: Option<Map<String, Value>>,
    pub debug_botocore_endpoint_logs: bool,
    pub region: Option<String>,
}

/// An empty string means "not set" (the documented way to neutralise an environment variable).
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}

/// A configured connection: the SDK config, and what to call the endpoint in messages.
#[derive(Debug, Clone)]
pub struct Aws {
    pub config: SdkConfig,
    endpoint_url: Option<String>,
    region: String,
}

impl Aws {
    /// How a message names the endpoint of `service` ("sts", "iam").
    pub fn endpoint_for(&self, service: &str) -> String {
        match &self.endpoint_url {
            Some(url) => format!("\"{url}\""),
            None => format!(
                "the AWS {} endpoint for region {}",
                service.to_uppercase(),
                self.region
            ),
        }
    }
}

/// Runs a module whose body is async: [`ansible_module::run`] on a single-threaded runtime.
pub fn run_module<T: ansible_module::ModuleOptions>(
    spec: &ModuleSpec,
    source: ansible_module::ArgsSource,
    body: impl AsyncFnOnce(&mut Context, T) -> Result<ansible_module::Outcome, Failure>,
) -> ! {
    ansible_module::run(spec, source, |ctx, options| block_on(body(ctx, options)))
}

/// Runs the module's async body on a single-threaded runtime.
pub fn block_on<T>(body: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(format!("Could not start the async runtime: {e}")))?;
    runtime.block_on(body)
}

/// Which credentials to use, after settling a profile against keys.
#[derive(Debug, PartialEq)]
enum Source<'a> {
    Keys {
        access_key: &'a str,
        secret_key: &'a str,
        session_token: Option<&'a str>,
    },
    Profile(&'a str),
    Default,
}

fn credential_source<'a>(ctx: &Context, o: &'a AwsOptions) -> Result<Source<'a>, Failure> {
    let keys = [
        ("access_key", given(&o.access_key)),
        ("secret_key", given(&o.secret_key)),
        ("session_token", given(&o.session_token)),
    ];
    let key_options: Vec<&str> = keys
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(n, _)| *n)
        .collect();
    let mut use_keys = !key_options.is_empty();
    let mut profile = given(&o.profile);

    if let (Some(_), true) = (profile, use_keys) {
        // amazon.aws refuses the pair outright, even when one side only comes from the
        // environment (amazon.aws#1353). Here a task argument beats an environment variable;
        // when both sides are task arguments, or both come from the environment, it is an error.
        let profile_env = ctx.env_source("profile");
        let keys_env: Vec<&str> = key_options
            .iter()
            .filter_map(|k| ctx.env_source(k))
            .collect();
        let keys_all_env = keys_env.len() == key_options.len();
        match (profile_env, keys_all_env) {
            (None, true) => use_keys = false,
            (Some(_), false) => profile = None,
            (None, false) => {
                return Err(Failure::new(
                    "Passing both a profile and access tokens is not supported.",
                ))
            }
            (Some(var), true) => {
                return Err(Failure::new(format!(
                    "Passing both a profile and access tokens is not supported. Both come from the \
                     environment: the profile from {var}, the keys from {}. Unset one of them, or \
                     set the option you do not want to '' in the task.",
                    keys_env.join(", ")
                )))
            }
        }
    }

    if !use_keys {
        return Ok(profile.map_or(Source::Default, Source::Profile));
    }
    match (given(&o.access_key), given(&o.secret_key)) {
        (Some(access_key), Some(secret_key)) => {
            // Both travel in HTTP headers, where a control character cannot go (the SDK's
            // signer would panic on it). Neither value is repeated: a token is secret.
            for (option, value) in [
                ("access_key", Some(access_key)),
                ("session_token", given(&o.session_token)),
            ] {
                if value.is_some_and(|v| v.chars().any(|c| c.is_control() && c != '\t')) {
                    return Err(Failure::new(format!(
                        "{option} contains a control character (a line break, say); AWS \
                         credentials are printable text. Check where the value comes from."
                    )));
                }
            }
            Ok(Source::Keys {
                access_key,
                secret_key,
                session_token: given(&o.session_token),
            })
        }
        (Some(_), None) => Err(Failure::new(
            "access_key is set but secret_key is not: give both (session_token is optional), \
             or neither to use a profile or the default credential chain.",
        )),
        (None, Some(_)) => Err(Failure::new(
            "secret_key is set but access_key is not: give both (session_token is optional), \
             or neither to use a profile or the default credential chain.",
        )),
        (None, None) => Err(Failure::new(
            "session_token is set but access_key and secret_key are not: a session token is only \
             used together with the keys it belongs to.",
        )),
    }
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
    url.parse::<::http::Uri>()
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

/// Builds the SDK configuration from the common options. Nothing here calls AWS.
pub async fn connect(ctx: &mut Context, o: &AwsOptions) -> Result<Aws, Failure> {
    connect_with(ctx, o, STS_RETRIES).await
}

/// [`connect`], with the module's own retry defaults.
pub async fn connect_with(
    ctx: &mut Context,
    o: &AwsOptions,
    retries: RetryDefaults,
) -> Result<Aws, Failure> {
    let source = credential_source(ctx, o)?;
    let endpoint_url = given(&o.endpoint_url);
    if let Some(url) = endpoint_url {
        check_endpoint_url(url)?;
        // endpoint_url applies to every call the module makes, including the STS calls
        // aws-config makes by itself for a profile's role_arn / web_identity_token_file or for
        // AWS_WEB_IDENTITY_TOKEN_FILE. Those internal clients take endpoints only from the
        // environment and the config files, never from the loader's endpoint_url, so
        // this process's environment is the one way to reach them. (Edition 2021: single
        // thread here, before any client exists.)
        std::env::set_var(env::AWS_ENDPOINT_URL_STS, url);
        std::env::remove_var(env::AWS_IGNORE_CONFIGURED_ENDPOINT_URLS);
    }
    let settings = client_config::parse(o.aws_config.as_ref(), retries.max_attempts, ctx)?;

    let trust = if !o.validate_certs {
        http::Trust::Any
    } else if let Some(path) = given(&o.aws_ca_bundle) {
        let source = ctx.env_source("aws_ca_bundle").unwrap_or("aws_ca_bundle");
        http::Trust::Bundle(http::read_ca_bundle(path, source).map_err(Failure::new)?)
    } else {
        http::Trust::System
    };

    let http_client = http::client(trust);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client.clone())
        .app_name(
            aws_config::AppName::new("rustaws.creds").map_err(|e| Failure::new(e.to_string()))?,
        )
        .retry_config(settings.retry.clone())
        .timeout_config(settings.timeout.clone());
    if let Some(fips) = settings.use_fips {
        loader = loader.use_fips(fips);
    }
    if let Some(dual) = settings.use_dual_stack {
        loader = loader.use_dual_stack(dual);
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = given(&o.region) {
        loader = loader.region(Region::new(region.to_owned()));
    }
    match source {
        Source::Keys {
            access_key,
            secret_key,
            session_token,
        } => {
            loader = loader.credentials_provider(Credentials::new(
                access_key,
                secret_key,
                session_token.map(str::to_owned),
                None,
                "module options",
            ));
        }
        Source::Profile(p) => {
            let profile_region = check_profile(p).await?;
            // The profile's own credentials, not the default chain: that chain reads
            // AWS_ACCESS_KEY_ID first and would sign as someone else when the profile was
            // chosen over keys from the environment. Its role_arn / web identity calls need a
            // region too: the option (or its environment variables), the profile's, us-east-1.
            let region = given(&o.region)
                .map(str::to_owned)
                .or(profile_region)
                .unwrap_or_else(|| DEFAULT_REGION.to_owned());
            let provider_config = aws_config::provider_config::ProviderConfig::default()
                .with_http_client(http_client)
                .with_retry_config(settings.retry.clone())
                .with_timeout_config(settings.timeout.clone())
                .with_region(Some(Region::new(region)));
            let profile_credentials =
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .configure(&provider_config)
                    .profile_name(p)
                    .build();
            loader = loader
                .profile_name(p)
                .credentials_provider(profile_credentials);
        }
        Source::Default => {}
    }
    let mut config = loader.load().await;
    // No region anywhere (option, environment, profile): IAM and STS are global services and
    // any STS implementation behind endpoint_url accepts any region; sign for us-east-1.
    // (The SDK reads AWS_REGION itself, where a present but empty value means "none" too.)
    if config.region().is_none_or(|r| r.as_ref().is_empty()) {
        config = config
            .to_builder()
            .region(Region::from_static(DEFAULT_REGION))
            .build();
    }
    let region = config.region().map_or_else(String::new, |r| r.to_string());
    Ok(Aws {
        config,
        endpoint_url: endpoint_url.map(str::to_owned),
        region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ansible_module::{execute, Outcome};
    use serde_json::json;

    #[derive(Deserialize)]
    struct Opts {
        #[serde(flatten)]
        aws: AwsOptions,
    }

    impl ansible_module::ModuleOptions for Opts {}

    /// Runs the option handling of a module with only the common options, and returns what
    /// `credential_source` decided, or the failure message.
    fn source_of(args: Value, env: &[(&str, &str)]) -> Result<String, String> {
        let spec = module_spec("t", &[]);
        let Value::Object(args) = args else {
            panic!("object expected")
        };
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let report = execute(&spec, Ok(args), &lookup, |ctx, o: Opts| {
            let s = credential_source(ctx, &o.aws)?;
            Ok(Outcome::changed(false).with("source", format!("{s:?}")))
        });
        match report.json.get("source") {
            Some(s) => Ok(s.as_str().unwrap_or_default().to_owned()),
            None => Err(report.json["msg"].as_str().unwrap_or_default().to_owned()),
        }
    }

    #[test]
    fn control_characters_in_header_credentials_fail_cleanly() {
        let e = source_of(
            json!({"access_key": "AKID\n", "secret_key": "sekrit-value"}),
            &[],
        )
        .unwrap_err();
        assert!(
            e.starts_with("access_key contains a control character"),
            "{e}"
        );
        let e = source_of(
            json!({"access_key": "AKID", "secret_key": "sekrit-value", "session_token": "to\u{7f}ken"}),
            &[],
        )
        .unwrap_err();
        assert!(
            e.starts_with("session_token contains a control character"),
            "{e}"
        );
        let e = source_of(
            json!({}),
            &[
                ("AWS_ACCESS_KEY_ID", "AK\u{1}"),
                ("AWS_SECRET_ACCESS_KEY", "sekrit-value"),
            ],
        )
        .unwrap_err();
        assert!(e.starts_with("access_key contains"), "{e}");
        // A secret key only feeds the signature: any text works.
        assert!(source_of(json!({"access_key": "AKID", "secret_key": "s\n"}), &[]).is_ok());
    }

    #[test]
    fn keys_from_arguments() {
        let s = source_of(json!({"access_key": "AK", "secret_key": "SK"}), &[]).unwrap();
        assert!(s.starts_with("Keys"), "{s}");
    }

    #[test]
    fn profile_and_keys_as_arguments_conflict() {
        let e = source_of(
            json!({"profile": "p", "access_key": "AK", "secret_key": "SK"}),
            &[],
        )
        .unwrap_err();
        assert_eq!(
            e,
            "Passing both a profile and access tokens is not supported."
        );
    }

    #[test]
    fn an_argument_beats_the_environment() {
        let env = [("AWS_ACCESS_KEY_ID", "AK"), ("AWS_SECRET_ACCESS_KEY", "SK")];
        assert_eq!(
            source_of(json!({"profile": "p"}), &env).unwrap(),
            "Profile(\"p\")"
        );
        let s = source_of(
            json!({"access_key": "A2", "secret_key": "S2"}),
            &[("AWS_PROFILE", "p")],
        )
        .unwrap();
        assert!(s.starts_with("Keys"), "{s}");
    }

    #[test]
    fn both_from_the_environment_conflict_and_say_where() {
        let env = [
            ("AWS_PROFILE", "p"),
            ("AWS_ACCESS_KEY_ID", "AK"),
            ("AWS_SECRET_ACCESS_KEY", "SK"),
        ];
        let e = source_of(json!({}), &env).unwrap_err();
        assert!(
            e.starts_with("Passing both a profile and access tokens is not supported."),
            "{e}"
        );
        assert!(
            e.contains("AWS_PROFILE") && e.contains("AWS_ACCESS_KEY_ID"),
            "{e}"
        );
    }

    #[test]
    fn empty_keys_neutralise_the_environment() {
        let env = [
            ("AWS_PROFILE", "p"),
            ("AWS_ACCESS_KEY_ID", "AK"),
            ("AWS_SECRET_ACCESS_KEY", "SK"),
        ];
        let s = source_of(json!({"access_key": "", "secret_key": ""}), &env).unwrap();
        assert_eq!(s, "Profile(\"p\")");
    }

    #[test]
    fn half_a_key_pair_is_an_error() {
        let e = source_of(json!({"access_key": "AK"}), &[]).unwrap_err();
        assert!(
            e.starts_with("access_key is set but secret_key is not"),
            "{e}"
        );
        let e = source_of(json!({"session_token": "T"}), &[]).unwrap_err();
        assert!(e.starts_with("session_token is set but"), "{e}");
    }

    #[test]
    fn nothing_given_uses_the_default_chain() {
        assert_eq!(source_of(json!({}), &[]).unwrap(), "Default");
    }

    #[test]
    fn legacy_names_still_work() {
        // The secret values are no_log, so the debug text shows them masked.
        let s = source_of(
            json!({"ec2_access_key": "AK", "aws_secret_key": "SK", "security_token": "T"}),
            &[],
        )
        .unwrap();
        assert!(
            s.starts_with("Keys { access_key: \"AK\"") && s.contains("session_token: Some("),
            "{s}"
        );
        let env = [("EC2_ACCESS_KEY", "AK"), ("EC2_SECRET_KEY", "SK")];
        assert!(source_of(json!({}), &env).unwrap().starts_with("Keys"));
    }

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
