//! Error codes amazon.aws retries that the SDK's own classifiers do not know.
//!
//! The SDK already retries throttling codes (Throttling, RequestLimitExceeded,
//! TooManyRequestsException, ...) and HTTP 500/502/503/504. amazon.aws's `AWSRetry` also retries
//! InternalFailure, InternalError, Unavailable and ServiceUnavailable whatever the status: this
//! classifier adds those, reading the code from the XML error body (the query protocol IAM and
//! STS use), so it works for every operation without knowing its error type.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};

/// Codes retried as transient errors.
pub const TRANSIENT_CODES: &[&str] = &[
    "InternalFailure",
    "InternalError",
    "Unavailable",
    "ServiceUnavailable",
];

#[derive(Debug, Default, Clone, Copy)]
pub struct PeerTransientCodes;

/// The first `<Code>` of an XML error body.
fn error_code(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = text[start..].find("</Code>")? + start;
    Some(text[start..end].trim())
}

impl ClassifyRetry for PeerTransientCodes {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(response) = ctx.response() else {
            return RetryAction::NoActionIndicated;
        };
        if response.status().is_success() {
            return RetryAction::NoActionIndicated;
        }
        match response.body().bytes().and_then(error_code) {
            Some(code) if TRANSIENT_CODES.contains(&code) => RetryAction::transient_error(),
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "amazon.aws transient error codes"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_from_the_body() {
        let body = b"<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code></Error></ErrorResponse>";
        assert_eq!(error_code(body), Some("ServiceUnavailable"));
        assert_eq!(error_code(b"<Code></Code>"), Some(""));
        assert_eq!(error_code(b"not xml"), None);
        assert_eq!(error_code(&[0xff, 0xfe]), None);
    }
}
