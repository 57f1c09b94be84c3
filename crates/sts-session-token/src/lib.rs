//! sts_session_token: temporary credentials for the calling IAM user (STS GetSessionToken),
//! optionally with MFA. A drop-in for community.aws.sts_session_token.

use ansible_module::{Context, Failure, ModuleOptions, ModuleSpec, Opt, Outcome};
use aws_connect::{sts_creds, AwsOptions};
use serde::Deserialize;

/// The module's options (public for the fuzz harness, which runs them offline).
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

#[derive(Debug, Deserialize)]
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
        use aws_connect::validate as v;
        if let Some(d) = self.duration_seconds {
            v::duration("duration_seconds", "DurationSeconds", d, 900, 129_600)?;
        }
        if let Some(serial) = &self.mfa_serial_number {
            v::mfa_serial("mfa_serial_number", serial)?;
        }
        if let Some(code) = &self.mfa_token {
            v::mfa_token("mfa_token", code)?;
        }
        Ok(())
    }
}

async fn run(ctx: &mut Context, o: Options) -> Result<Outcome, Failure> {
    let aws = aws_connect::connect(ctx, &o.aws).await?;
    let sts = aws_sdk_sts::Client::new(&aws.config);
    let response = sts
        .get_session_token()
        .set_duration_seconds(o.duration_seconds.map(|d| d as i32))
        .set_serial_number(o.mfa_serial_number)
        .set_token_code(o.mfa_token)
        .send()
        .await
        .map_err(|e| aws_connect::sdk_failure(&aws, "sts", "GetSessionToken", None, e))?;
    let creds = response
        .credentials
        .ok_or_else(|| Failure::new("GetSessionToken answered without credentials"))?;
    Ok(Outcome::changed(true).with_issued("sts_creds", sts_creds(&creds)))
}

/// Runs the module (reads its arguments, prints the result, exits).
pub fn main(source: ansible_module::ArgsSource) -> ! {
    aws_connect::run_module(&spec(), source, run)
}
