//! The AWS side shared by every module: the common options (with the names amazon.aws and
//! community.aws used over the years), an SDK configuration built from them, AWS's limits on
//! request values, and AWS errors turned into module failures.

mod aws;
mod client_config;
mod config;
mod credentials;
mod errors;
pub mod iam;
pub mod limits;
mod options;
mod resolve;
mod retry;
mod runtime;
pub mod sts;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;

pub use aws::{Aws, Io};
pub use config::{configure, RetryDefaults, DEFAULT_REGION, IAM_RETRIES, STS_RETRIES};
pub use credentials::{sdk_credentials_file, signer, Signer};
pub use errors::{connection_failure, sdk_failure};
pub use options::{env, module_spec, AwsOptions, COLLECTION, COMMON_OPTIONS};
pub use resolve::long_term_credentials;
pub use runtime::{block_on, run_async};
