//! AWS errors as module failures: `msg` in botocore's words where users know them, plus
//! `error {code, message}` and `response_metadata {http_status_code, request_id}` for an
//! answer from the service; one clear sentence for everything that never got an answer.

use crate::aws::Aws;
use ansible_module::Failure;
use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use sdk_http::{find, BodyError, ReadTimeout};
use serde::Serialize;
use std::error::Error as StdError;

/// `error` in a failure: what the service said, as botocore's ClientError carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorDetails {
    pub code: Option<String>,
    pub message: Option<String>,
}

/// `response_metadata` in a failure: the answer's status and request id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseMetadata {
    pub http_status_code: u16,
    pub request_id: Option<String>,
}

/// Every message of an error chain, joined with ": ", each said once.
fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

fn prefixed(context: Option<&str>, text: String) -> String {
    match context {
        Some(c) => format!("{c}: {text}"),
        None => text,
    }
}

/// The text between `<tag>` and `</tag>` in an XML error body, for services whose errors the
/// SDK cannot parse (Ceph RGW answers STS calls with S3-shaped errors).
/// The `error_description` of an OAuth error body (SSO OIDC's), which the SDK does not read as
/// the message.
fn oauth_description(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    Some(value.get("error_description")?.as_str()?.to_owned())
}

pub(crate) fn xml_tag(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].trim().to_owned()).filter(|s| !s.is_empty())
}

fn raw_body(raw: &HttpResponse) -> String {
    raw.body()
        .bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

fn code_of<E: ProvideErrorMetadata>(e: &E, body: &str) -> Option<String> {
    e.code()
        .filter(|c| *c != "Unhandled")
        .map(str::to_owned)
        .or_else(|| xml_tag(body, "Code"))
}

/// The error code of a service error: the SDK's, or else the `<Code>` of the raw answer.
pub(crate) fn error_code<E: ProvideErrorMetadata>(
    err: &SdkError<E, HttpResponse>,
) -> Option<String> {
    match err {
        SdkError::ServiceError(s) => code_of(s.err(), &raw_body(s.raw())),
        _ => None,
    }
}

/// A failed SDK call of `operation` on `service` ("sts", "iam"); `context` prefixes the message
/// the way the Python modules do ("Failed to get access keys for user").
pub fn sdk_failure<E>(
    aws: &Aws,
    service: &str,
    operation: &str,
    context: Option<&str>,
    err: SdkError<E, HttpResponse>,
) -> Failure
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let SdkError::ServiceError(service_err) = err else {
        return connection_failure(aws, service, operation, context, &err);
    };
    let raw = service_err.raw();
    let status = raw.status().as_u16();
    let header_id = ["x-amzn-requestid", "x-amz-request-id"]
        .iter()
        .find_map(|h| raw.headers().get(*h))
        .map(str::to_owned);
    let body = raw_body(raw);
    let e = service_err.err();
    let code = code_of(e, &body);
    let message = e
        .message()
        .map(str::to_owned)
        .or_else(|| xml_tag(&body, "Message"))
        .or_else(|| oauth_description(&body));
    let request_id = e
        .meta()
        .extra("aws_request_id")
        .map(str::to_owned)
        .or(header_id)
        .or_else(|| xml_tag(&body, "RequestId"));

    let text = match &code {
        Some(code) => match &message {
            Some(message) => format!(
                "An error occurred ({code}) when calling the {operation} operation: {message}"
            ),
            // Ceph RGW sends an empty Message: the status is all there is to add.
            None => format!(
                "An error occurred ({code}) when calling the {operation} operation: HTTP status \
                 {status}, no message from {}",
                aws.endpoint_for(service)
            ),
        },
        None => {
            let snippet: String = body.chars().take(300).collect();
            format!(
                "The {operation} call to {} failed with HTTP status {status} and no error code \
                 in the response{}",
                aws.endpoint_for(service),
                if snippet.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", snippet.trim())
                }
            )
        }
    };
    Failure::new(prefixed(context, text))
        .with("error", ErrorDetails { code, message })
        .with(
            "response_metadata",
            ResponseMetadata {
                http_status_code: status,
                request_id,
            },
        )
}

/// No credentials to sign with: what to set, and what the providers said.
pub(crate) fn no_credentials(err: &CredentialsError) -> String {
    format!(
        "Unable to locate credentials: set access_key and secret_key (or AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY), or a profile, or run where an instance or container role is \
         available ({})",
        chain_text(err)
    )
}

/// A call that got no usable answer: no credentials, no connection, a rejected certificate, a
/// timeout, or a response that could not be read.
pub fn connection_failure<E, R>(
    aws: &Aws,
    service: &str,
    operation: &str,
    context: Option<&str>,
    err: &SdkError<E, R>,
) -> Failure
where
    E: StdError + 'static,
    R: std::fmt::Debug + 'static,
{
    let endpoint = aws.endpoint_for(service);
    let as_error: &(dyn StdError + 'static) = err;
    let detail = chain_text(as_error);
    let text = if let Some(creds) = find::<CredentialsError>(as_error) {
        no_credentials(creds)
    } else if let Some(tls) = find::<rustls::Error>(as_error) {
        match tls {
            rustls::Error::InvalidCertificate(why) => format!(
                "The TLS certificate of {endpoint} was rejected ({why:?}). If the endpoint uses a \
                 private CA, set aws_ca_bundle (or AWS_CA_BUNDLE) to its certificate; \
                 validate_certs: false turns verification off"
            ),
            other => format!("The TLS handshake with {endpoint} failed: {other}"),
        }
    } else {
        let connect_timed_out = find::<std::io::Error>(as_error)
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
        match err {
            _ if find::<ReadTimeout>(as_error).is_some() => {
                format!("Read timeout on endpoint URL: {endpoint} ({detail})")
            }
            _ if find::<BodyError>(as_error).is_some() => {
                format!("The response to {operation} from {endpoint} could not be read ({detail})")
            }
            SdkError::DispatchFailure(_) if connect_timed_out => {
                format!("Connect timeout on endpoint URL: {endpoint} ({detail})")
            }
            SdkError::DispatchFailure(d) if d.is_io() => {
                format!("Could not connect to the endpoint URL: {endpoint} ({detail})")
            }
            SdkError::TimeoutError(_) => {
                format!("The {operation} call to {endpoint} timed out ({detail})")
            }
            SdkError::ResponseError(_) => {
                format!("The response to {operation} from {endpoint} could not be read ({detail})")
            }
            _ => format!("The {operation} call to {endpoint} failed: {detail}"),
        }
    };
    Failure::new(prefixed(context, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_tags() {
        let body = "<Error><Code>AccessDenied</Code><Message> no </Message><RequestId>tx1</RequestId></Error>";
        assert_eq!(xml_tag(body, "Code").as_deref(), Some("AccessDenied"));
        assert_eq!(xml_tag(body, "Message").as_deref(), Some("no"));
        assert_eq!(xml_tag(body, "RequestId").as_deref(), Some("tx1"));
        assert_eq!(xml_tag(body, "Missing"), None);
        assert_eq!(xml_tag("<Code></Code>", "Code"), None);
    }
}
