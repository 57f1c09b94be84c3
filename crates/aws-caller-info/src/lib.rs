//! aws_caller_info: the account, ARN and user ID of the credentials in use (STS
//! GetCallerIdentity), and the account alias when the caller may read it. A drop-in for
//! amazon.aws.aws_caller_info.

use ansible_module::{Context, Failure, Module, ModuleOptions, ModuleSpec, Outcome};
use aws_connect::{iam, AwsOptions, Io};
use serde::{Deserialize, Serialize};

/// The module, for the multi-call executable's table.
pub const MODULE: Module = Module {
    spec,
    main,
    options_round_trip: ansible_module::options_round_trip::<Options>,
};

fn spec() -> ModuleSpec {
    aws_connect::module_spec("aws_caller_info", &[]).supports_check_mode()
}

#[derive(Debug, Deserialize, Serialize)]
struct Options {
    #[serde(flatten)]
    aws: AwsOptions,
}

impl ModuleOptions for Options {}

async fn run(ctx: &mut Context, o: Options, io: &Io) -> Result<Outcome, Failure> {
    let aws = aws_connect::configure(ctx, &o.aws, io, aws_connect::STS_RETRIES).await?;
    let identity = aws_sdk_sts::Client::new(&aws.config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| {
            aws_connect::sdk_failure(
                &aws,
                "sts",
                "GetCallerIdentity",
                Some("Failed to retrieve caller identity"),
                e,
            )
        })?;
    let mut outcome = Outcome::changed(false)
        .with("user_id", identity.user_id())
        .with("account", identity.account())
        .with("arn", identity.arn());
    // As amazon.aws: '' when the account has no alias, and no key at all when the caller may
    // not call iam:ListAccountAliases (or IAM cannot be reached).
    if let Ok(aliases) = iam::client(&aws).list_account_aliases().send().await {
        let alias = aliases
            .account_aliases()
            .first()
            .cloned()
            .unwrap_or_default();
        outcome = outcome.with("account_alias", alias);
    }
    Ok(outcome)
}

/// Runs the module (reads its arguments, prints the result, exits).
fn main(source: ansible_module::ArgsSource) -> ! {
    aws_connect::run_async(&spec(), source, run)
}
