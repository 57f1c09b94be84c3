//! The options every module takes (amazon.aws's common spec, with the older names its
//! documentation once promised), the environment variables they read, and their typed form.

use ansible_module::{Lit, ModuleSpec, Opt, Type};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The collection the modules ship in; named in deprecations.
pub const COLLECTION: &str = "rustaws.creds";

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
        .shared_options(ansible_module::COMMON_FRAGMENT, COMMON_OPTIONS)
        .options(options)
}

/// The common options after validation. Flatten it into a module's options struct.
#[derive(Debug, Clone, Deserialize, Serialize)]
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
pub(crate) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}
