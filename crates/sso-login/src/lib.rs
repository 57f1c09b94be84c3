//! sso_login: an IAM Identity Center (SSO) session for every later task and every AWS tool on
//! the machine. The token the AWS CLI v2 and the SDKs read (`~/.aws/sso/cache`) is reused while
//! it stays valid beyond `min_ttl`, refreshed without anyone when a refresh token allows, or
//! signed in with the OAuth device flow in two tasks: the first returns the code to approve, the
//! second (`wait: true`) waits for the approval.

mod cache;
mod oidc;
mod settings;
mod signin;

use ansible_module::{
    Context, Failure, Lit, Module, ModuleOptions, ModuleSpec, Opt, Outcome, Type,
};
use aws_connect::{AwsOptions, Io};
use serde::{Deserialize, Serialize};
use settings::{Asked, Session};
use signin::Answer;
use std::time::{Duration, Instant};

/// The module, for the multi-call executable's table.
pub const MODULE: Module = Module {
    spec,
    main,
    options_round_trip: ansible_module::options_round_trip::<Options>,
};

/// What `min_ttl` is when not given: botocore refreshes a token 15 minutes before it expires.
const DEFAULT_MIN_TTL: i64 = 900;
/// How long a run waits, by default, for the approval (and for another run's lock).
const DEFAULT_WAIT_TIMEOUT: i64 = 600;

fn spec() -> ModuleSpec {
    aws_connect::module_spec(
        "sso_login",
        &[
            Opt::str("sso_session"),
            Opt::str("start_url").aliases(&["sso_start_url"]),
            Opt::str("sso_region"),
            Opt::list("scopes", Type::Str).aliases(&["sso_registration_scopes"]),
            Opt::new("config_file", Type::Path).env(&["AWS_CONFIG_FILE"]),
            Opt::int("min_ttl").default(Lit::Int(DEFAULT_MIN_TTL)),
            Opt::bool("wait").default(Lit::Bool(false)),
            Opt::int("wait_timeout").default(Lit::Int(DEFAULT_WAIT_TIMEOUT)),
        ],
    )
    .required_by("start_url", &["sso_region"])
    .supports_check_mode()
}

/// The options; of the common ones, `profile` may name the session, `endpoint_url` is the SSO
/// OIDC endpoint, and the TLS and `aws_config` settings apply. The calls are unsigned: keys
/// (given, say, by `module_defaults` for the whole group) are not used.
#[derive(Debug, Deserialize, Serialize)]
struct Options {
    #[serde(flatten)]
    aws: AwsOptions,
    sso_session: Option<String>,
    start_url: Option<String>,
    sso_region: Option<String>,
    scopes: Option<Vec<String>>,
    config_file: Option<String>,
    min_ttl: i64,
    wait: bool,
    wait_timeout: i64,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

impl ModuleOptions for Options {
    fn check(&self) -> Result<(), Failure> {
        if !(0..=43_200).contains(&self.min_ttl) {
            return Err(Failure::new(format!(
                "min_ttl must be 0 to 43200 seconds, got {}",
                self.min_ttl
            )));
        }
        if !(1..=3_600).contains(&self.wait_timeout) {
            return Err(Failure::new(format!(
                "wait_timeout must be 1 to 3600 seconds, got {}",
                self.wait_timeout
            )));
        }
        if let Some(url) = given(&self.start_url) {
            if !url.starts_with("https://") {
                return Err(Failure::new(format!(
                    "start_url must be an https:// URL, got '{url}'"
                )));
            }
        }
        Ok(())
    }
}

impl Options {
    fn session(&self) -> Result<Session, Failure> {
        let config_file = settings::config_file_path(self.config_file.as_deref());
        settings::settle(&Asked {
            sso_session: given(&self.sso_session),
            profile: given(&self.aws.profile),
            start_url: given(&self.start_url),
            sso_region: given(&self.sso_region),
            scopes: self.scopes.as_deref(),
            config_file: &config_file,
        })
    }

    /// The common options the SDK configuration is built from: no keys (the calls are unsigned),
    /// the session's region, and the SSO OIDC endpoint the task names (`endpoint_url`), else
    /// the one `AWS_ENDPOINT_URL_SSO_OIDC` names, so that messages name what was called.
    fn connection(&self, session: &Session) -> AwsOptions {
        let endpoint_url = given(&self.aws.endpoint_url)
            .map(str::to_owned)
            .or_else(|| {
                std::env::var(OIDC_ENDPOINT_ENV)
                    .ok()
                    .filter(|v| !v.is_empty())
            });
        AwsOptions {
            access_key: None,
            secret_key: None,
            session_token: None,
            profile: None,
            endpoint_url,
            region: Some(session.region.clone()),
            ..self.aws.clone()
        }
    }
}

/// The SDKs' variable for the SSO OIDC endpoint.
const OIDC_ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_SSO_OIDC";

async fn run(ctx: &mut Context, o: Options, io: &Io) -> Result<Outcome, Failure> {
    let session = o.session()?;
    let files = cache::Files::for_key(&session.cache_key())?;
    let answer = if ctx.check_mode() {
        signin::preview(ctx, &files, &session, o.min_ttl, o.wait)?
    } else {
        let timeout = Duration::from_secs(u64::try_from(o.wait_timeout).unwrap_or(600));
        let deadline = Instant::now() + timeout;
        let connection = o.connection(&session);
        let aws = aws_connect::configure(ctx, &connection, io, aws_connect::STS_RETRIES).await?;
        let _lock = signin::lock(&files, deadline)?;
        if o.wait {
            signin::finish(ctx, &aws, &session, &files, o.min_ttl, deadline).await?
        } else {
            signin::begin(ctx, &aws, &session, &files, o.min_ttl).await?
        }
    };
    Ok(report(&answer, &files))
}

/// `state`, `pending`, the token's expiry and where it is cached; the code to approve while a
/// sign-in is pending. Never a token, a client secret or a device code.
fn report(answer: &Answer, files: &cache::Files) -> Outcome {
    let mut outcome = Outcome::changed(answer.changed)
        .with("state", answer.state.name())
        .with("pending", answer.pending.is_some())
        .with("cache_file", files.token.display().to_string());
    if let Some(token) = &answer.token {
        let left = cache::seconds(&token.expires_at).map(|at| (at - cache::now()).max(0));
        outcome = outcome
            .with("expires_at", &token.expires_at)
            .with("expires_in", left);
    }
    if let Some(p) = &answer.pending {
        let left = cache::seconds(&p.expires_at).map(|at| (at - cache::now()).max(0));
        outcome = outcome
            .with("user_code", &p.user_code)
            .with("verification_uri", &p.verification_uri)
            .with("verification_uri_complete", &p.verification_uri_complete)
            .with("code_expires_in", left);
    }
    outcome
}

/// Runs the module (reads its arguments, prints the result, exits).
fn main(source: ansible_module::ArgsSource) -> ! {
    aws_connect::run_async(&spec(), source, run)
}
