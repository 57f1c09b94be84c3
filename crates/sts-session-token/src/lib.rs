//! sts_session_token: temporary credentials for the calling IAM user (STS GetSessionToken),
//! optionally with MFA. A drop-in for community.aws.sts_session_token.

use ansible_module::{Context, Failure, Module, ModuleOptions, ModuleSpec, Opt, Outcome};
use aws_connect::sts::Minted;
use aws_connect::{limits, AwsOptions, Io};
use credential_store::{OutputOptions, Request};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The module, for the multi-call executable's table.
pub const MODULE: Module = Module {
    spec,
    main,
    options_round_trip: ansible_module::options_round_trip::<Options>,
};

/// The module's options (public, like [`Options`] and [`run`], for the fuzz harness, which
/// runs the module offline).
pub fn spec() -> ModuleSpec {
    credential_store::with_output_options(aws_connect::module_spec(
        "sts_session_token",
        &[
            Opt::int("duration_seconds"),
            Opt::str("mfa_serial_number"),
            Opt::str("mfa_token").no_log(),
        ],
    ))
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Options {
    #[serde(flatten)]
    pub aws: AwsOptions,
    pub duration_seconds: Option<i64>,
    pub mfa_serial_number: Option<String>,
    pub mfa_token: Option<String>,
    #[serde(flatten)]
    pub output: OutputOptions,
}

/// AWS's limits for GetSessionToken, checked before the call so that every STS
/// implementation (and moto, which checks nothing) gives the same answer.
impl ModuleOptions for Options {
    fn check(&self) -> Result<(), Failure> {
        if let Some(d) = self.duration_seconds {
            limits::duration("duration_seconds", "DurationSeconds", d, 900, 129_600)?;
        }
        limits::mfa(
            self.mfa_serial_number.as_deref(),
            self.mfa_token.as_deref(),
            self.output.profile().is_some(),
        )?;
        self.output.check()
    }
}

/// One GetSessionToken call, or the credentials kept in `output_profile`.
pub async fn run(ctx: &mut Context, o: Options, io: &Io) -> Result<Outcome, Failure> {
    let params = json!({
        "duration_seconds": o.duration_seconds,
        "mfa_serial_number": o.mfa_serial_number,
    });
    let request = |ctx: &Context| {
        Ok(Request::signed(ctx, "GetSessionToken", &o.aws, params)?
            .mfa(o.mfa_serial_number.as_deref(), o.mfa_token.as_deref()))
    };
    credential_store::reuse_or_mint(ctx, &o.output, request, async |ctx| {
        get_session_token(ctx, &o, io).await
    })
    .await
}

async fn get_session_token(ctx: &mut Context, o: &Options, io: &Io) -> Result<Minted, Failure> {
    let aws = aws_connect::configure(ctx, &o.aws, io, aws_connect::STS_RETRIES).await?;
    let credentials =
        aws_connect::long_term_credentials(ctx, &aws, &o.aws, "GetSessionToken").await?;
    let config = aws_sdk_sts::config::Builder::from(&aws.config)
        .credentials_provider(credentials)
        .build();
    let response = aws_sdk_sts::Client::from_conf(config)
        .get_session_token()
        .set_duration_seconds(o.duration_seconds.and_then(|d| i32::try_from(d).ok()))
        .set_serial_number(o.mfa_serial_number.clone())
        .set_token_code(o.mfa_token.clone())
        .send()
        .await
        .map_err(|e| aws_connect::sdk_failure(&aws, "sts", "GetSessionToken", None, e))?;
    Minted::new("GetSessionToken", response.credentials.as_ref())
}

/// Runs the module (reads its arguments, prints the result, exits).
fn main(source: ansible_module::ArgsSource) -> ! {
    aws_connect::run_async(&spec(), source, run)
}
