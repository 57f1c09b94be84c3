//! What the STS modules return, shaped as the Python modules shape it.

use crate::errors::{error_code, xml_tag};
use crate::{sdk_failure, validate, Aws};
use ansible_module::{Failure, Outcome};
use aws_sdk_sts::types::{AssumedRoleUser, Credentials, PolicyDescriptorType};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::DateTime;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// RFC 3339 in whole seconds with `+00:00`, as Python's `isoformat()` prints AWS's dates
/// (moto sends microseconds and Ceph RGW nanoseconds; both are cut to the second).
pub fn iso8601(t: &DateTime) -> String {
    let whole = DateTime::from_secs(t.secs());
    let text = whole
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| t.secs().to_string());
    match text.strip_suffix('Z') {
        Some(base) => format!("{base}+00:00"),
        None => text,
    }
}

/// `sts_creds`: access_key, secret_key, session_token, expiration, in that order.
pub fn sts_creds(c: &Credentials) -> Value {
    json!({
        "access_key": c.access_key_id(),
        "secret_key": c.secret_access_key(),
        "session_token": c.session_token(),
        "expiration": iso8601(c.expiration()),
    })
}

/// `sts_user`: the assumed role's ID and ARN.
pub fn sts_user(u: &AssumedRoleUser) -> Value {
    json!({
        "assumed_role_id": u.assumed_role_id(),
        "arn": u.arn(),
    })
}

/// Ceph RGW names the assumed role's ID `<AssumeRoleId>` where AWS says `<AssumedRoleId>`, so
/// the SDK finds none. This interceptor, set on a role assumption, keeps RGW's element from the
/// raw answer (only that element: the answer also holds the secret key).
#[derive(Debug, Clone, Default)]
pub struct RoleIdFallback(Arc<Mutex<Option<String>>>);

impl RoleIdFallback {
    fn take(&self) -> Option<String> {
        self.0.lock().ok()?.take()
    }
}

impl Intercept for RoleIdFallback {
    fn name(&self) -> &'static str {
        "RoleIdFallback"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let found = context
            .response()
            .body()
            .bytes()
            .and_then(|b| xml_tag(&String::from_utf8_lossy(b), "AssumeRoleId"));
        if let Ok(mut slot) = self.0.lock() {
            *slot = found;
        }
        Ok(())
    }
}

/// The session policies of a role assumption, as the request takes them: the inline
/// `policy` (a JSON string, or a dict sent as JSON) and the managed `policy_arns`.
pub type SessionPolicies = (Option<String>, Option<Vec<PolicyDescriptorType>>);

pub fn session_policies(
    policy: Option<&Value>,
    arns: Option<&Vec<String>>,
) -> Result<SessionPolicies, Failure> {
    let policy = policy
        .map(|p| validate::policy_document("policy", p))
        .transpose()?;
    if let Some(arns) = arns {
        validate::policy_arns("policy_arns", arns)?;
    }
    let arns = arns.filter(|a| !a.is_empty()).map(|arns| {
        arns.iter()
            .map(|arn| PolicyDescriptorType::builder().arn(arn).build())
            .collect()
    });
    Ok((policy, arns))
}

/// A failed role assumption; a policy the service refuses reads as in amazon.aws.
pub fn role_failure<E>(aws: &Aws, operation: &str, err: SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    // The code as sdk_failure reads it: from the body too, where RGW's S3-shaped errors keep it.
    let malformed = error_code(&err).as_deref() == Some("MalformedPolicyDocument");
    let context = malformed.then_some("Invalid policy document provided");
    sdk_failure(aws, "sts", operation, context, err)
}

/// The result of a role assumption: `changed`, `sts_creds` and `sts_user` as amazon.aws
/// returns them, plus `source_identity` when AWS sent one.
pub fn role_credentials(
    operation: &str,
    credentials: Option<Credentials>,
    user: Option<AssumedRoleUser>,
    source_identity: Option<String>,
    role_id: &RoleIdFallback,
) -> Result<Outcome, Failure> {
    let credentials = credentials
        .ok_or_else(|| Failure::new(format!("{operation} answered without credentials")))?;
    let mut outcome = Outcome::changed(true).with_issued("sts_creds", sts_creds(&credentials));
    if let Some(user) = user {
        let mut user_json = sts_user(&user);
        if user.assumed_role_id().is_empty() {
            if let Some(id) = role_id.take() {
                user_json["assumed_role_id"] = Value::String(id);
            }
        }
        outcome = outcome.with("sts_user", user_json);
    }
    if let Some(id) = source_identity {
        outcome = outcome.with("source_identity", id);
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiration_is_whole_seconds_utc_offset() {
        let t = DateTime::from_fractional_secs(1_795_339_109, 0.123_456);
        assert_eq!(iso8601(&t), "2026-11-22T09:18:29+00:00");
        assert_eq!(
            iso8601(&DateTime::from_secs(0)),
            "1970-01-01T00:00:00+00:00"
        );
    }

    #[test]
    fn key_order_is_kept() {
        let c = Credentials::builder()
            .access_key_id("AK")
            .secret_access_key("SK")
            .session_token("ST")
            .expiration(DateTime::from_secs(0))
            .build()
            .expect("all required fields set");
        let keys: Vec<String> = sts_creds(&c)
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            ["access_key", "secret_key", "session_token", "expiration"]
        );
    }
}
