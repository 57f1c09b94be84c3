//! One task's view of a user's access keys: list, delete, set a status, create.

use ansible_module::{Failure, Outcome};
use aws_connect::iam::{self, AccessKey, Lookup, UserKeys};
use aws_connect::{sdk_failure, Aws};
use aws_sdk_iam::types::StatusType;

const CREATE: &str = "Failed to create access key for user";
pub(crate) const UPDATE: &str = "Failed to update access key for user";
const DELETE: &str = "Failed to delete access key for user";

/// One task's view of a user's keys: the module's options, the connection and the client.
pub(crate) struct Keys<'a> {
    pub(crate) aws: &'a Aws,
    pub(crate) iam: aws_sdk_iam::Client,
    pub(crate) user: &'a str,
    /// The access key the task signs with, when a rotation needs to know it (resolved once,
    /// and the connection pinned to it).
    pub(crate) signing: Option<String>,
}

impl Keys<'_> {
    pub(crate) async fn list(&self) -> Result<UserKeys, Failure> {
        iam::list_access_keys(self.aws, &self.iam, self.user).await
    }

    /// Deletes a key; whether it existed (someone else may have deleted it since the listing).
    pub(crate) async fn delete(&self, id: &str) -> Result<bool, Failure> {
        let sent = self
            .iam
            .delete_access_key()
            .user_name(self.user)
            .access_key_id(id)
            .send()
            .await;
        let deleted = iam::unless_missing(self.aws, "DeleteAccessKey", DELETE, sent)?;
        Ok(matches!(deleted, Lookup::Found(_)))
    }

    /// Sets a key's status; `context` prefixes a failure's message.
    pub(crate) async fn set_status(
        &self,
        id: &str,
        status: StatusType,
        context: Option<&str>,
    ) -> Result<(), Failure> {
        self.iam
            .update_access_key()
            .user_name(self.user)
            .access_key_id(id)
            .status(status)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_failure(self.aws, "iam", "UpdateAccessKey", context, e))
    }
}

pub(crate) fn failure_with_rotated_out(failure: Failure, rotated_out: Option<&str>) -> Failure {
    match rotated_out {
        Some(old) => failure.with("deleted_access_key_id", old),
        None => failure,
    }
}

/// A key just created, with its secret, which exists nowhere else: every result from here on
/// carries it.
pub(crate) struct NewKey {
    pub(crate) key: AccessKey,
    pub(crate) secret: String,
}

impl NewKey {
    pub(crate) fn into_failure(self, failure: Failure) -> Failure {
        self.with_failure(failure)
    }
    pub(crate) fn with_failure(&self, failure: Failure) -> Failure {
        failure
            .with_issued("access_key_id", &self.key.access_key_id)
            .with_issued("secret_access_key", &self.secret)
            .with_issued("access_key", &self.key)
    }
    /// The failure with the new key but not its secret (saved elsewhere).
    pub(crate) fn without_secret(&self, failure: Failure) -> Failure {
        failure
            .with_issued("access_key_id", &self.key.access_key_id)
            .with_issued("access_key", &self.key)
    }
    pub(crate) fn into_outcome(self) -> Outcome {
        Outcome::changed(true)
            .with_issued("access_key_id", &self.key.access_key_id)
            .with_issued("secret_access_key", self.secret)
            .with_issued("access_key", self.key)
    }
}

pub(crate) async fn create(keys: &Keys<'_>, rotated_out: Option<&str>) -> Result<NewKey, Failure> {
    let created = match keys
        .iam
        .create_access_key()
        .user_name(keys.user)
        .send()
        .await
    {
        Ok(created) => created,
        Err(e) => {
            let failure = sdk_failure(keys.aws, "iam", "CreateAccessKey", Some(CREATE), e);
            let failure = match rotated_out {
                Some(old) => failure.map_msg(|m| {
                    format!("{m} (the rotation had already deleted the oldest key {old})")
                }),
                None => failure,
            };
            return Err(failure_with_rotated_out(failure, rotated_out));
        }
    };
    let Some(new) = created.access_key() else {
        return Err(Failure::new(format!(
            "{CREATE}: CreateAccessKey answered without a key"
        )));
    };
    Ok(NewKey {
        key: AccessKey::new(
            new.access_key_id(),
            new.create_date().copied(),
            new.status(),
            new.user_name(),
        ),
        secret: new.secret_access_key().to_owned(),
    })
}
