//! iam_access_key_info: the access keys of an IAM user, oldest first.
//! A drop-in for amazon.aws.iam_access_key_info.

use ansible_module::{Context, Failure, Module, ModuleOptions, ModuleSpec, Opt, Outcome};
use aws_connect::{iam, limits, AwsOptions, Io};
use serde::{Deserialize, Serialize};

/// The module, for the multi-call executable's table.
pub const MODULE: Module = Module {
    spec,
    main,
    options_round_trip: ansible_module::options_round_trip::<Options>,
};

fn spec() -> ModuleSpec {
    aws_connect::module_spec(
        "iam_access_key_info",
        &[Opt::str("user_name").required().aliases(&["username"])],
    )
    .supports_check_mode()
}

#[derive(Debug, Deserialize, Serialize)]
struct Options {
    #[serde(flatten)]
    aws: AwsOptions,
    user_name: String,
}

impl ModuleOptions for Options {
    fn check(&self) -> Result<(), Failure> {
        limits::user_name("user_name", &self.user_name)
    }
}

async fn run(ctx: &mut Context, o: Options, io: &Io) -> Result<Outcome, Failure> {
    let aws = aws_connect::connect(ctx, &o.aws, io, aws_connect::IAM_RETRIES).await?;
    // An unknown user has no keys, as in amazon.aws.
    let listed = iam::list_access_keys(&aws, &iam::client(&aws), &o.user_name).await?;
    Ok(Outcome::changed(false).with("access_keys", listed.keys))
}

/// Runs the module (reads its arguments, prints the result, exits).
fn main(source: ansible_module::ArgsSource) -> ! {
    aws_connect::run_module(&spec(), source, run)
}
