//! `verify`: a new access key is used only once STS accepts it. IAM takes a few seconds to make
//! a new key usable everywhere; until then STS answers InvalidClientTokenId. GetCallerIdentity
//! signed with the key is polled with growing waits until it answers, as the user, within the
//! timeout.

use aws_connect::Aws;
use aws_credential_types::Credentials;
use aws_smithy_async::rt::sleep::{AsyncSleep, SharedAsyncSleep, TokioSleep};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::time::{Duration, Instant};

/// The codes STS answers while a new key is not yet usable.
const NOT_YET: [&str; 2] = ["InvalidClientTokenId", "SignatureDoesNotMatch"];
const FIRST_WAIT: Duration = Duration::from_millis(500);
const LONGEST_WAIT: Duration = Duration::from_secs(5);

/// Polls GetCallerIdentity with the key until STS accepts it as `user`; the reason when it
/// does not within `timeout` (waits and calls both count), or answers as someone else.
pub(crate) async fn accepted(
    aws: &Aws,
    key_id: &str,
    secret: &str,
    user: &str,
    timeout: Duration,
) -> Result<(), String> {
    let config = aws_sdk_sts::config::Builder::from(&aws.config)
        .credentials_provider(Credentials::new(
            key_id,
            secret,
            None,
            None,
            "new access key",
        ))
        .build();
    let sts = aws_sdk_sts::Client::from_conf(config);
    let sleep = aws
        .config
        .sleep_impl()
        .unwrap_or_else(|| SharedAsyncSleep::new(TokioSleep::new()));
    let started = Instant::now();
    let (mut waited, mut wait) = (Duration::ZERO, FIRST_WAIT);
    loop {
        let code = match sts.get_caller_identity().send().await {
            Ok(identity) => return is_user(identity.arn().unwrap_or_default(), user),
            Err(e) => match e.code() {
                Some(code) if NOT_YET.contains(&code) => code.to_owned(),
                _ => {
                    let failure =
                        aws_connect::sdk_failure(aws, "sts", "GetCallerIdentity", None, e);
                    return Err(format!("GetCallerIdentity failed: {}", failure.msg));
                }
            },
        };
        if waited + wait > timeout || started.elapsed() + wait > timeout {
            return Err(format!(
                "STS did not accept it within {} s (it last answered {code})",
                timeout.as_secs()
            ));
        }
        sleep.sleep(wait).await;
        waited += wait;
        wait = (wait * 2).min(LONGEST_WAIT);
    }
}

/// The ARN names the user (`arn:<partition>:iam::<account>:user/<path/>name`).
fn is_user(arn: &str, user: &str) -> Result<(), String> {
    let named = arn.contains(":user/") && arn.rsplit('/').next() == Some(user);
    if named {
        Ok(())
    } else {
        Err(format!("STS says it belongs to {arn}, not to user {user}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arn_must_name_the_user() {
        assert!(is_user("arn:aws:iam::123456789012:user/alice", "alice").is_ok());
        assert!(is_user("arn:aws:iam::123456789012:user/ops/alice", "alice").is_ok());
        assert!(is_user("arn:aws:iam::123456789012:user/bob", "alice").is_err());
        assert!(is_user("arn:aws:sts::123456789012:assumed-role/r/alice", "alice").is_err());
    }
}
