//! What the STS modules share: the credentials and user they return, shaped as the Python
//! modules shape them, and the options, checks and result of a role assumption.

use crate::errors::{error_code, xml_tag};
use crate::{limits, sdk_failure, Aws};
use ansible_module::{Failure, Opt, Outcome, Type};
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
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

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

/// Reads back what [`iso8601`] writes (the SDK's parser takes `Z` only).
pub fn parse_iso8601(text: &str) -> Option<DateTime> {
    let utc = match text.strip_suffix("+00:00") {
        Some(base) => format!("{base}Z"),
        None => text.to_owned(),
    };
    DateTime::from_str(&utc, Format::DateTime).ok()
}

/// `sts_creds`: temporary credentials, keys in the Python modules' order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StsCredentials {
    pub access_key: String,
    pub secret_key: String,
    pub session_token: String,
    pub expiration: String,
}

impl From<&Credentials> for StsCredentials {
    fn from(c: &Credentials) -> Self {
        StsCredentials {
            access_key: c.access_key_id().to_owned(),
            secret_key: c.secret_access_key().to_owned(),
            session_token: c.session_token().to_owned(),
            expiration: iso8601(c.expiration()),
        }
    }
}

/// `sts_user`: the assumed role's ID and ARN.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StsUser {
    pub assumed_role_id: String,
    pub arn: String,
}

impl From<&AssumedRoleUser> for StsUser {
    fn from(u: &AssumedRoleUser) -> Self {
        StsUser {
            assumed_role_id: u.assumed_role_id().to_owned(),
            arn: u.arn().to_owned(),
        }
    }
}

/// `env`: the credentials as the environment variables the AWS CLI and SDKs read, for a later
/// task's `environment:`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CredentialsEnv {
    #[serde(rename = "AWS_ACCESS_KEY_ID")]
    pub access_key_id: String,
    #[serde(rename = "AWS_SECRET_ACCESS_KEY")]
    pub secret_access_key: String,
    #[serde(rename = "AWS_SESSION_TOKEN")]
    pub session_token: String,
    #[serde(rename = "AWS_CREDENTIAL_EXPIRATION")]
    pub expiration: String,
}

impl From<&StsCredentials> for CredentialsEnv {
    fn from(c: &StsCredentials) -> Self {
        CredentialsEnv {
            access_key_id: c.access_key.clone(),
            secret_access_key: c.secret_key.clone(),
            session_token: c.session_token.clone(),
            expiration: c.expiration.clone(),
        }
    }
}

/// Whole seconds from `now` until `expiration`; 0 once it has passed.
pub fn expires_in(expiration: &DateTime, now: SystemTime) -> i64 {
    let now = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    (expiration.secs() - now).max(0)
}

/// Credentials a call returned, with the other result keys that came with them (`sts_user`,
/// `source_identity`, …; none secret): all a result is made of, so that it can be stored in a
/// profile and given again from there.
#[derive(Debug, Clone, PartialEq)]
pub struct Minted {
    pub creds: StsCredentials,
    pub details: Map<String, Value>,
}

impl Minted {
    pub fn new(operation: &str, credentials: Option<&Credentials>) -> Result<Self, Failure> {
        let credentials = credentials
            .ok_or_else(|| Failure::new(format!("{operation} answered without credentials")))?;
        Ok(Minted {
            creds: StsCredentials::from(credentials),
            details: Map::new(),
        })
    }

    /// Adds a result key (not a secret: details are stored in the clear).
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.details.insert(key.to_owned(), value);
        self
    }

    /// The result: `changed`, `sts_creds`, for handing them to later tasks `env` and
    /// `expires_in`, then the details. Credentials are returned whole (they are new secrets,
    /// never masked).
    pub fn outcome(&self, changed: bool, now: SystemTime) -> Outcome {
        let mut outcome = Outcome::changed(changed)
            .with_issued("sts_creds", &self.creds)
            .with_issued("env", CredentialsEnv::from(&self.creds))
            .with("expires_in", self.expires_in(now));
        for (key, value) in &self.details {
            outcome = outcome.with(key, value);
        }
        outcome
    }

    /// The result's keys as one JSON object (for a module returning several credentials).
    pub fn result_map(&self, now: SystemTime) -> Map<String, Value> {
        let mut map = Map::new();
        let mut put = |key: &str, value: Value| {
            map.insert(key.to_owned(), value);
        };
        put(
            "sts_creds",
            serde_json::to_value(&self.creds).unwrap_or(Value::Null),
        );
        let env = CredentialsEnv::from(&self.creds);
        put("env", serde_json::to_value(env).unwrap_or(Value::Null));
        put("expires_in", Value::from(self.expires_in(now)));
        for (key, value) in &self.details {
            put(key, value.clone());
        }
        map
    }

    /// The credentials as the SDK signs with them.
    pub fn signing_credentials(&self) -> aws_credential_types::Credentials {
        let expiry =
            parse_iso8601(&self.creds.expiration).and_then(|t| SystemTime::try_from(t).ok());
        aws_credential_types::Credentials::new(
            &self.creds.access_key,
            &self.creds.secret_key,
            Some(self.creds.session_token.clone()),
            expiry,
            "issued by STS in this run",
        )
    }

    /// A failure after the credentials were obtained still hands them over.
    pub fn attach_to(&self, failure: Failure) -> Failure {
        failure
            .with_issued("sts_creds", &self.creds)
            .with_issued("env", CredentialsEnv::from(&self.creds))
    }

    /// Whole seconds from `now` until the credentials expire; 0 once expired or unreadable.
    pub fn expires_in(&self, now: SystemTime) -> i64 {
        parse_iso8601(&self.creds.expiration).map_or(0, |t| expires_in(&t, now))
    }
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

/// The options every role assumption takes; both role modules declare them through this list.
pub const ROLE_SESSION_OPTIONS: &[Opt] = &[
    Opt::str("role_arn").required(),
    Opt::str("role_session_name").required(),
    Opt::new("policy", Type::Raw),
    Opt::list("policy_arns", Type::Str),
    Opt::int("duration_seconds"),
];

/// [`ROLE_SESSION_OPTIONS`] after validation. Flatten it into a role module's options struct.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RoleSession {
    pub role_arn: String,
    pub role_session_name: String,
    /// An inline session policy: a JSON string, or a dict sent as JSON.
    pub policy: Option<Value>,
    /// Managed session policies.
    pub policy_arns: Option<Vec<String>>,
    pub duration_seconds: Option<i64>,
}

impl RoleSession {
    /// AWS's limits: the role's ARN, a session name, a duration of 900 to 43200 seconds, and
    /// the session policies. Run once, before any call and in check mode.
    pub fn check(&self) -> Result<(), Failure> {
        limits::role_arn("role_arn", &self.role_arn)?;
        limits::session_name("role_session_name", &self.role_session_name)?;
        if let Some(d) = self.duration_seconds {
            limits::duration("duration_seconds", "DurationSeconds", d, 900, 43_200)?;
        }
        if let Some(policy) = &self.policy {
            limits::policy_document("policy", policy)?;
        }
        if let Some(arns) = &self.policy_arns {
            limits::policy_arns("policy_arns", arns)?;
        }
        Ok(())
    }

    /// The inline policy as the request takes it (checked by [`RoleSession::check`]).
    pub fn policy_document(&self) -> Option<String> {
        self.policy.as_ref().map(limits::policy_text)
    }

    /// The managed policies as the request takes them; none when the list is empty.
    pub fn policy_descriptors(&self) -> Option<Vec<PolicyDescriptorType>> {
        let arns = self.policy_arns.as_ref().filter(|a| !a.is_empty())?;
        Some(
            arns.iter()
                .map(|arn| PolicyDescriptorType::builder().arn(arn).build())
                .collect(),
        )
    }

    /// What of the session the request asks for, for recognising the request again: the
    /// policy as sent, so that a dict and its JSON text are the same request.
    pub fn request_params(&self) -> Value {
        serde_json::json!({
            "role_arn": self.role_arn,
            "role_session_name": self.role_session_name,
            "policy": self.policy_document(),
            "policy_arns": self.policy_arns,
            "duration_seconds": self.duration_seconds,
        })
    }

    /// The duration as the request takes it (in range after [`RoleSession::check`]).
    pub fn duration(&self) -> Option<i32> {
        self.duration_seconds.and_then(|d| i32::try_from(d).ok())
    }
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

/// One AssumeRole request: the session and the options beside it.
#[derive(Debug, Clone, Default)]
pub struct AssumeRoleRequest<'a> {
    pub session: Option<&'a RoleSession>,
    pub external_id: Option<String>,
    pub mfa_serial_number: Option<String>,
    pub mfa_token: Option<String>,
    pub tags: Vec<(String, String)>,
    pub transitive_tag_keys: Option<Vec<String>>,
    pub source_identity: Option<String>,
}

impl AssumeRoleRequest<'_> {
    /// What the request asks for, to recognise it on a later run: everything but the MFA code.
    pub fn params(&self) -> Value {
        serde_json::json!({
            "session": self.session.map(RoleSession::request_params),
            "external_id": self.external_id,
            "mfa_serial_number": self.mfa_serial_number,
            "tags": self.tags,
            "transitive_tag_keys": self.transitive_tag_keys,
            "source_identity": self.source_identity,
        })
    }
}

/// One AssumeRole call signed as `signer` says (the connection's credentials, or others).
pub async fn assume_role(
    aws: &Aws,
    signer: &aws_types::SdkConfig,
    r: AssumeRoleRequest<'_>,
) -> Result<Minted, Failure> {
    let session = r
        .session
        .ok_or_else(|| Failure::new("Internal error: AssumeRole without a role session"))?;
    let tags = r
        .tags
        .iter()
        .map(|(k, v)| {
            aws_sdk_sts::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| Failure::new(format!("Could not build the tags of the request: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let role_id = RoleIdFallback::default();
    let response = aws_sdk_sts::Client::new(signer)
        .assume_role()
        .role_arn(&session.role_arn)
        .role_session_name(&session.role_session_name)
        .set_policy(session.policy_document())
        .set_policy_arns(session.policy_descriptors())
        .set_duration_seconds(session.duration())
        .set_external_id(r.external_id)
        .set_serial_number(r.mfa_serial_number)
        .set_token_code(r.mfa_token)
        .set_tags((!tags.is_empty()).then_some(tags))
        .set_transitive_tag_keys(r.transitive_tag_keys.filter(|k| !k.is_empty()))
        .set_source_identity(r.source_identity)
        .customize()
        .interceptor(role_id.clone())
        .send()
        .await
        .map_err(|e| role_failure(aws, "AssumeRole", e))?;
    role_credentials(RoleAnswer {
        operation: "AssumeRole",
        credentials: response.credentials.as_ref(),
        user: response.assumed_role_user.as_ref(),
        source_identity: response.source_identity,
        role_id: &role_id,
    })
}

/// What a role assumption answered, in the parts the result is made of.
pub struct RoleAnswer<'a> {
    pub operation: &'a str,
    pub credentials: Option<&'a Credentials>,
    pub user: Option<&'a AssumedRoleUser>,
    pub source_identity: Option<String>,
    pub role_id: &'a RoleIdFallback,
}

/// What a role assumption returns: `sts_creds` and `sts_user` as amazon.aws returns them, plus
/// `source_identity` when AWS sent one.
pub fn role_credentials(answer: RoleAnswer<'_>) -> Result<Minted, Failure> {
    let mut minted = Minted::new(answer.operation, answer.credentials)?;
    if let Some(user) = answer.user {
        let mut sts_user = StsUser::from(user);
        if sts_user.assumed_role_id.is_empty() {
            if let Some(id) = answer.role_id.take() {
                sts_user.assumed_role_id = id;
            }
        }
        minted = minted.with("sts_user", sts_user);
    }
    if let Some(id) = answer.source_identity {
        minted = minted.with("source_identity", id);
    }
    Ok(minted)
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
    fn expiration_reads_back() {
        let t = DateTime::from_secs(1_795_339_109);
        assert_eq!(parse_iso8601(&iso8601(&t)), Some(t));
        assert_eq!(parse_iso8601("2026-11-22T09:18:29Z"), Some(t));
        assert_eq!(parse_iso8601("yesterday"), None);
    }

    #[test]
    fn expires_in_whole_seconds_never_negative() {
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_000_500);
        assert_eq!(expires_in(&DateTime::from_secs(4_600), now), 3_600);
        assert_eq!(expires_in(&DateTime::from_secs(10), now), 0);
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
        let keys: Vec<String> = serde_json::to_value(StsCredentials::from(&c))
            .expect("serialisable")
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            ["access_key", "secret_key", "session_token", "expiration"]
        );
    }
}
