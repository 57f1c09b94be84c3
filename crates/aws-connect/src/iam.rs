//! IAM access keys as amazon.aws's iam_access_key and iam_access_key_info see them.

use crate::{sdk_failure, sts::iso8601, Aws};
use ansible_module::Failure;
use aws_sdk_iam::types::{AccessKeyMetadata, StatusType};
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
    pub status: String,
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
            status: status.as_str().to_owned(),
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

    pub fn is_active(&self) -> bool {
        self.status == StatusType::Active.as_str()
    }

    /// The same key with another status.
    pub fn with_status(&self, status: &StatusType) -> Self {
        AccessKey {
            status: status.as_str().to_owned(),
            ..self.clone()
        }
    }
}

/// The status an `active` option asks for.
pub fn status(active: bool) -> StatusType {
    if active {
        StatusType::Active
    } else {
        StatusType::Inactive
    }
}

/// The user's access keys, oldest first. An unknown user has none (as in amazon.aws); the
/// second value says whether IAM knew the user.
pub async fn list_access_keys(
    aws: &Aws,
    iam: &aws_sdk_iam::Client,
    user: &str,
) -> Result<(Vec<AccessKey>, bool), Failure> {
    let mut keys = Vec::new();
    let mut marker = None;
    loop {
        let page = match iam
            .list_access_keys()
            .user_name(user)
            .set_marker(marker)
            .send()
            .await
        {
            Ok(page) => page,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                return Ok((Vec::new(), false))
            }
            Err(e) => {
                return Err(sdk_failure(
                    aws,
                    "iam",
                    "ListAccessKeys",
                    Some("Failed to get access keys for user"),
                    e,
                ))
            }
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
    Ok((keys, true))
}
