//! IAM access keys as amazon.aws's iam_access_key and iam_access_key_info see them.

use crate::{sdk_failure, sts::iso8601, Aws};
use ansible_module::Failure;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_iam::types::{AccessKeyMetadata, StatusType};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::DateTime;
use serde::Serialize;

/// An IAM client with amazon.aws's extra retry codes.
pub fn client(aws: &Aws) -> aws_sdk_iam::Client {
    let config = aws_sdk_iam::config::Builder::from(&aws.config)
        .retry_classifier(crate::retry::PeerTransientCodes)
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

/// One access key, as the modules return it (keys in this order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessKey {
    pub access_key_id: String,
    pub create_date: String,
    #[serde(serialize_with = "status_text")]
    pub status: StatusType,
    pub user_name: String,
    #[serde(skip)]
    created: Option<DateTime>,
}

impl AccessKey {
    pub fn new(
        access_key_id: &str,
        created: Option<DateTime>,
        status: &StatusType,
        user_name: &str,
    ) -> Self {
        AccessKey {
            access_key_id: access_key_id.to_owned(),
            create_date: created.as_ref().map(iso8601).unwrap_or_default(),
            status: status.clone(),
            user_name: user_name.to_owned(),
            created,
        }
    }

    fn from_metadata(m: &AccessKeyMetadata, user: &str) -> Self {
        AccessKey::new(
            m.access_key_id().unwrap_or_default(),
            m.create_date().copied(),
            m.status().unwrap_or(&StatusType::Active),
            m.user_name().unwrap_or(user),
        )
    }

    /// When the key was created, as IAM said (None only for a key not seen from AWS).
    pub fn created(&self) -> Option<DateTime> {
        self.created
    }

    pub fn is_active(&self) -> bool {
        self.status == StatusType::Active
    }

    /// The same key with another status.
    pub fn with_status(self, status: StatusType) -> Self {
        AccessKey { status, ..self }
    }
}

fn status_text<S: serde::Serializer>(status: &StatusType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(status.as_str())
}

/// The status an `active` option asks for.
pub fn status(active: bool) -> StatusType {
    if active {
        StatusType::Active
    } else {
        StatusType::Inactive
    }
}

/// The answer to a call on a named IAM entity (a user, a key): found, or NoSuchEntity.
pub enum Lookup<T> {
    /// The call succeeded.
    Found(T),
    /// IAM answered NoSuchEntity.
    NoSuchEntity,
}

/// Tells IAM's NoSuchEntity apart from the other errors of a call on a user or a key; the other
/// errors become failures of `operation`, prefixed with `context`.
pub fn unless_missing<T, E>(
    aws: &Aws,
    operation: &str,
    context: &str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<Lookup<T>, Failure>
where
    E: NoSuchEntity + ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(value) => Ok(Lookup::Found(value)),
        Err(e)
            if e.as_service_error()
                .is_some_and(NoSuchEntity::no_such_entity) =>
        {
            Ok(Lookup::NoSuchEntity)
        }
        Err(e) => Err(sdk_failure(aws, "iam", operation, Some(context), e)),
    }
}

/// The IAM errors that can say NoSuchEntity.
pub trait NoSuchEntity {
    fn no_such_entity(&self) -> bool;
}

macro_rules! no_such_entity {
    ($($error:ty),*) => {$(
        impl NoSuchEntity for $error {
            fn no_such_entity(&self) -> bool {
                self.is_no_such_entity_exception()
            }
        }
    )*};
}

no_such_entity!(
    aws_sdk_iam::operation::list_access_keys::ListAccessKeysError,
    aws_sdk_iam::operation::delete_access_key::DeleteAccessKeyError,
    aws_sdk_iam::operation::update_access_key::UpdateAccessKeyError
);

/// GetAccessKeyLastUsed models no errors: NoSuchEntity comes only as a code.
impl NoSuchEntity for aws_sdk_iam::operation::get_access_key_last_used::GetAccessKeyLastUsedError {
    fn no_such_entity(&self) -> bool {
        self.code() == Some("NoSuchEntity")
    }
}

/// A user's access keys, oldest first. An unknown user has none (as in amazon.aws).
#[derive(Debug, Clone, Default)]
pub struct UserKeys {
    pub keys: Vec<AccessKey>,
    /// Whether IAM knew the user.
    pub user_exists: bool,
}

/// The user's access keys, every page, oldest first.
pub async fn list_access_keys(
    aws: &Aws,
    iam: &aws_sdk_iam::Client,
    user: &str,
) -> Result<UserKeys, Failure> {
    let mut keys = Vec::new();
    let mut marker = None;
    loop {
        let sent = iam
            .list_access_keys()
            .user_name(user)
            .set_marker(marker)
            .send()
            .await;
        let page = match unless_missing(
            aws,
            "ListAccessKeys",
            "Failed to get access keys for user",
            sent,
        )? {
            Lookup::Found(page) => page,
            Lookup::NoSuchEntity => return Ok(UserKeys::default()),
        };
        keys.extend(
            page.access_key_metadata()
                .iter()
                .map(|m| AccessKey::from_metadata(m, user)),
        );
        match page.marker() {
            Some(next) if page.is_truncated() => marker = Some(next.to_owned()),
            _ => break,
        }
    }
    // Oldest first; a key without a date (never seen from AWS) sorts first, like None in Python.
    keys.sort_by_key(|k| k.created.map(|d| (d.secs(), d.subsec_nanos())));
    Ok(UserKeys {
        keys,
        user_exists: true,
    })
}

/// The access key id this task signs its requests with, if it can be told (the one the
/// connection's credentials provider gives now), and the connection pinned to those
/// credentials, so that a profile's role, process or SSO runs once for both (the provider,
/// called directly, caches nothing). When the provider gives none, the connection is returned
/// as it was: its first call then fails with the SDK's own message.
pub async fn pin_signing_key(aws: &Aws) -> (Aws, Option<String>) {
    let Ok(credentials) = crate::resolve::resolve(aws).await else {
        return (aws.clone(), None);
    };
    let id = credentials.access_key_id().to_owned();
    let mut pinned = aws.clone();
    pinned.config = aws
        .config
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build();
    (pinned, Some(id))
}

/// The names of the account's IAM users, every page, in IAM's order.
pub async fn list_user_names(aws: &Aws, iam: &aws_sdk_iam::Client) -> Result<Vec<String>, Failure> {
    let mut names = Vec::new();
    let mut marker = None;
    loop {
        let page = iam
            .list_users()
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| sdk_failure(aws, "iam", "ListUsers", Some("Failed to list users"), e))?;
        names.extend(page.users().iter().map(|u| u.user_name().to_owned()));
        match page.marker() {
            Some(next) if page.is_truncated() => marker = Some(next.to_owned()),
            _ => break,
        }
    }
    Ok(names)
}

/// When and where an access key was last used, as IAM's GetAccessKeyLastUsed says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastUsed {
    /// RFC 3339, whole seconds, `+00:00`; None for a key never used.
    pub date: Option<String>,
    /// As IAM sends it: `N/A` for a key never used.
    pub service_name: String,
    /// As IAM sends it: `N/A` for a key never used.
    pub region: String,
}

impl LastUsed {
    /// What IAM says of a key never used.
    pub fn never() -> Self {
        LastUsed {
            date: None,
            service_name: "N/A".to_owned(),
            region: "N/A".to_owned(),
        }
    }
}

/// When the key was last used (GetAccessKeyLastUsed); NoSuchEntity (the key is gone) told apart
/// from the other errors, which fail naming the key.
pub async fn access_key_last_used(
    aws: &Aws,
    iam: &aws_sdk_iam::Client,
    access_key_id: &str,
) -> Result<Lookup<LastUsed>, Failure> {
    let sent = iam
        .get_access_key_last_used()
        .access_key_id(access_key_id)
        .send()
        .await;
    let context = format!("Failed to get when access key {access_key_id} was last used");
    Ok(
        match unless_missing(aws, "GetAccessKeyLastUsed", &context, sent)? {
            Lookup::Found(answer) => Lookup::Found(match answer.access_key_last_used() {
                Some(used) => LastUsed {
                    date: used.last_used_date().map(iso8601),
                    service_name: used.service_name().to_owned(),
                    region: used.region().to_owned(),
                },
                // IAM always sends the element; without it nothing says the key was used.
                None => LastUsed::never(),
            }),
            Lookup::NoSuchEntity => Lookup::NoSuchEntity,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{run_canned, Answer, CommonOnly, Replay};
    use crate::{configure, module_spec, IAM_RETRIES};
    use ansible_module::{Outcome, Report};
    use serde_json::json;

    fn page(keys: &[(&str, &str)], marker: Option<&str>) -> Answer {
        let members: String = keys
            .iter()
            .map(|(id, date)| {
                format!(
                    "<member><UserName>u</UserName><AccessKeyId>{id}</AccessKeyId>\
                     <Status>Active</Status><CreateDate>{date}</CreateDate></member>"
                )
            })
            .collect();
        let more = match marker {
            Some(m) => format!("<IsTruncated>true</IsTruncated><Marker>{m}</Marker>"),
            None => "<IsTruncated>false</IsTruncated>".to_owned(),
        };
        Answer::ok(format!(
            "<ListAccessKeysResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
             <ListAccessKeysResult><UserName>u</UserName><AccessKeyMetadata>{members}\
             </AccessKeyMetadata>{more}</ListAccessKeysResult></ListAccessKeysResponse>"
        ))
    }

    fn list(replay: &Replay) -> Report {
        let io = replay.io();
        run_canned(
            &module_spec("t", &[]),
            json!({}),
            async |ctx, o: CommonOnly| {
                let aws = configure(ctx, &o.aws, &io, IAM_RETRIES).await?;
                let listed = list_access_keys(&aws, &client(&aws), "u").await?;
                Ok(Outcome::changed(false)
                    .with("keys", listed.keys)
                    .with("user_exists", listed.user_exists))
            },
        )
    }

    #[test]
    fn every_page_is_read_and_keys_come_oldest_first() {
        let replay = Replay::new([
            page(&[("AKIANEWER", "2025-02-01T00:00:00Z")], Some("m1")),
            page(&[("AKIAOLDER", "2024-02-01T00:00:00Z")], None),
        ]);
        let r = list(&replay);
        assert_eq!(r.exit_code, 0, "{}", r.json);
        let ids: Vec<&str> = r.json["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k["access_key_id"].as_str())
            .collect();
        assert_eq!(ids, ["AKIAOLDER", "AKIANEWER"]);
        assert_eq!(
            r.json["keys"][0]["create_date"],
            "2024-02-01T00:00:00+00:00"
        );
        assert_eq!(r.json["keys"][0]["status"], "Active");
        assert_eq!(r.json["user_exists"], true);
        let sent = replay.sent();
        assert_eq!(sent.len(), 2);
        assert!(sent[1].contains("Marker=m1"), "{}", sent[1]);
    }

    #[test]
    fn an_unknown_user_has_no_keys() {
        let replay = Replay::new([Answer::error(404, "NoSuchEntity", "no user u")]);
        let r = list(&replay);
        assert_eq!(r.json["keys"], json!([]));
        assert_eq!(r.json["user_exists"], false);
    }

    #[test]
    fn a_service_error_reads_as_botocore_says_it() {
        let replay = Replay::new([Answer::error(403, "AccessDenied", "not allowed")]);
        let r = list(&replay);
        assert_eq!(r.exit_code, 1);
        assert_eq!(
            r.json["msg"],
            "Failed to get access keys for user: An error occurred (AccessDenied) when calling \
             the ListAccessKeys operation: not allowed"
        );
        assert_eq!(
            r.json["error"],
            json!({"code": "AccessDenied", "message": "not allowed"})
        );
        assert_eq!(
            r.json["response_metadata"],
            json!({"http_status_code": 403, "request_id": "req-AccessDenied"})
        );
        assert_eq!(replay.actions(), ["ListAccessKeys"], "no retry of a 403");
    }

    #[test]
    fn an_answer_without_a_code_shows_the_status_and_the_body() {
        let replay = Replay::new([Answer::Http(502, b"bad gateway".to_vec())]);
        let r = list(&replay);
        assert_eq!(
            r.json["msg"],
            "Failed to get access keys for user: The ListAccessKeys call to \
             \"http://127.0.0.1:9\" failed with HTTP status 502 and no error code in the \
             response: bad gateway"
        );
        assert_eq!(replay.sent().len(), 11, "IAM calls are tried 11 times");
    }

    #[test]
    fn no_connection_names_the_endpoint() {
        let r = list(&Replay::new([Answer::Io]));
        let msg = r.json["msg"].as_str().unwrap_or_default();
        assert!(
            msg.starts_with(
                "Failed to get access keys for user: Could not connect to the endpoint URL: \
                 \"http://127.0.0.1:9\""
            ),
            "{msg}"
        );
    }

    #[test]
    fn the_signing_key_and_a_gone_keys_last_use() {
        let replay = Replay::new([Answer::error(404, "NoSuchEntity", "no key AKIAGONE")]);
        let io = replay.io();
        let r = run_canned(
            &module_spec("t", &[]),
            json!({}),
            async |ctx, o: CommonOnly| {
                let aws = configure(ctx, &o.aws, &io, IAM_RETRIES).await?;
                let (pinned, id) = pin_signing_key(&aws).await;
                let gone = matches!(
                    access_key_last_used(&pinned, &client(&pinned), "AKIAGONE").await?,
                    Lookup::NoSuchEntity
                );
                Ok(Outcome::changed(false)
                    .with("id", id)
                    .with("plain", pin_signing_key(&aws).await.1)
                    .with("gone", gone))
            },
        );
        assert_eq!(r.exit_code, 0, "{}", r.json);
        assert_eq!(r.json["id"], crate::testing::CANNED_ACCESS_KEY);
        assert_eq!(r.json["plain"], crate::testing::CANNED_ACCESS_KEY);
        assert_eq!(r.json["gone"], true);
        assert_eq!(replay.actions(), ["GetAccessKeyLastUsed"]);
    }
}
