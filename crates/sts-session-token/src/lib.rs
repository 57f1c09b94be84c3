//! sts_session_token: temporary credentials for the calling IAM user (STS GetSessionToken),
//! optionally with MFA. A drop-in for community.aws.sts_session_token.

use ansible_module::{Context, Failure, Module, ModuleOptions, ModuleSpec, Opt, Outcome};
use aws_connect::{limits, sts, AwsOptions, Io};
use serde::{Deserialize, Serialize};

/// The module, for the multi-call executable's table.
pub const MODULE: Module = Module {
    spec,
    main,
    options_round_trip: ansible_module::options_round_trip::<Options>,
};

/// The module's options (public, like [`Options`] and [`run`], for the fuzz harness, which
/// runs the module offline).
pub fn spec() -> ModuleSpec {
    aws_connect::module_spec(
        "sts_session_token",
        &[
            Opt::int("duration_seconds"),
            Opt::str("mfa_serial_number"),
            Opt::str("mfa_token").no_log(),
        ],
    )
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Options {
    #[serde(flatten)]
    pub aws: AwsOptions,
    pub duration_seconds: Option<i64>,
    pub mfa_serial_number: Option<String>,
    pub mfa_token: Option<String>,
}

/// AWS's limits for GetSessionToken, checked before the call so that every STS
/// implementation (and moto, which checks nothing) gives the same answer.
impl ModuleOptions for Options {
    fn check(&self) -> Result<(), Failure> {
        if let Some(d) = self.duration_seconds {
            limits::duration("duration_seconds", "DurationSeconds", d, 900, 129_600)?;
        }
        limits::mfa_pair(self.mfa_serial_number.as_deref(), self.mfa_token.as_deref())?;
        if let Some(serial) = &self.mfa_serial_number {
            limits::mfa_serial("mfa_serial_number", serial)?;
        }
        if let Some(code) = &self.mfa_token {
            limits::mfa_token("mfa_token", code)?;
        }
        Ok(())
    }
}

/// One GetSessionToken call.
pub async fn run(ctx: &mut Context, o: Options, io: &Io) -> Result<Outcome, Failure> {
    let aws = aws_connect::connect(ctx, &o.aws, io, aws_connect::STS_RETRIES).await?;
    let sts = aws_sdk_sts::Client::new(&aws.config);
    let response = sts
        .get_session_token()
        .set_duration_seconds(o.duration_seconds.and_then(|d| i32::try_from(d).ok()))
        .set_serial_number(o.mfa_serial_number)
        .set_token_code(o.mfa_token)
        .send()
        .await
        .map_err(|e| aws_connect::sdk_failure(&aws, "sts", "GetSessionToken", None, e))?;
    sts::issued("GetSessionToken", response.credentials.as_ref())
}

/// Runs the module (reads its arguments, prints the result, exits).
fn main(source: ansible_module::ArgsSource) -> ! {
    aws_connect::run_module(&spec(), source, run)
}
