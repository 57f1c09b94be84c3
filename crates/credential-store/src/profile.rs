//! One profile of a credentials file, as read before a module decides anything: what it holds,
//! whether it may be written, the write (saving to a file of its own when it fails), the diff.

use crate::options::Destination;
use ansible_module::{Failure, Outcome};
use credentials_file::{
    CredentialsFile, Entries, StoredProfile, WriteOptions, ACCESS_KEY_ID, EXPIRATION, MANAGED_KEY,
    REQUEST_KEY, RESULT_KEY, SECRET_ACCESS_KEY, SESSION_TOKEN,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A profile as read before the run changes anything.
pub struct Profile {
    file: CredentialsFile,
    destination: Destination,
    stored: Option<StoredProfile>,
}

/// A write that failed: why, and the file of its own the credentials were saved to instead
/// (`Err` with why that failed too).
#[derive(Debug)]
pub struct Unwritten {
    pub why: String,
    pub saved: Result<String, String>,
}

impl Profile {
    /// Reads the profile (it need not exist).
    pub fn read(destination: Destination) -> Result<Self, Failure> {
        let file = CredentialsFile::at(destination.file.clone());
        let stored = file
            .read_profile(&destination.profile)
            .map_err(|e| destination.failure(e))?;
        Ok(Profile {
            file,
            destination,
            stored,
        })
    }

    pub fn name(&self) -> &str {
        &self.destination.profile
    }

    /// The file's path, as results and messages show it.
    pub fn path(&self) -> String {
        self.file.path().display().to_string()
    }

    /// What the profile held when read; `None` if it did not exist.
    pub fn stored(&self) -> Option<&StoredProfile> {
        self.stored.as_ref()
    }

    /// What the profile held when read, if this collection wrote it.
    pub fn managed(&self) -> Option<&StoredProfile> {
        self.stored.as_ref().filter(|s| s.managed)
    }

    /// Whether the write can go ahead: [`Self::refuse_unmanaged`], then [`Self::check_ready`].
    /// Checked before any call or change (and in check mode, which then says the run would
    /// fail), so that what would refuse the write refuses the task first.
    pub fn check_writable(&self) -> Result<(), Failure> {
        self.refuse_unmanaged()?;
        self.check_ready()
    }

    /// A profile this collection did not write is replaced only when the task says so.
    pub fn refuse_unmanaged(&self) -> Result<(), Failure> {
        if self.stored.as_ref().is_none_or(|s| s.managed) || self.destination.overwrite_unmanaged {
            return Ok(());
        }
        let profile = self.name();
        Err(Failure::new(format!(
            "output_profile {profile}: profile [{profile}] in {} was not written by this \
             collection, so it is left alone. Choose another output_profile, or set \
             overwrite_unmanaged_profile: true to replace it.",
            self.path()
        )))
    }

    /// The file's kind and owner, the links on its path and a lock that comes free in time
    /// allow the write. Creates nothing; the writer checks all of it again under its lock.
    pub fn check_ready(&self) -> Result<(), Failure> {
        self.file
            .check_writable()
            .map_err(|e| self.destination.failure(e))
    }

    /// Writes `entries`. Credentials that exist must not be lost: when the write fails they are
    /// saved to a file of their own in the home directory of the user the module runs as.
    pub fn write(&self, entries: &Entries) -> Result<(), Unwritten> {
        let options = WriteOptions {
            overwrite_unmanaged: self.destination.overwrite_unmanaged,
        };
        match self.file.write_profile(self.name(), entries, options) {
            Ok(_) => Ok(()),
            Err(why) => Err(Unwritten {
                why: why.to_string(),
                saved: credentials_file::save_unwritten(
                    self.name(),
                    entries,
                    |v| std::env::var(v).ok(),
                    None,
                )
                .map(|path| path.display().to_string())
                .map_err(|e| e.to_string()),
            }),
        }
    }

    /// `credentials_file` and `refresh_reason`, which every answer with a profile carries.
    pub fn report(&self, outcome: Outcome, refresh_reason: Option<&str>) -> Outcome {
        outcome
            .with("credentials_file", self.path())
            .with("refresh_reason", refresh_reason)
    }

    /// `diff`: the profile's keys before and after writing `after`, secrets hidden.
    pub fn diff(&self, after: &Entries) -> Value {
        let old = self.stored.as_ref().map(|s| &s.keys);
        let after: BTreeMap<String, String> = after
            .pairs()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let header = format!("{} [{}]", self.path(), self.name());
        let none = BTreeMap::new();
        json!({
            "before": old.map(|keys| shown(keys, None)).unwrap_or_default(),
            "after": shown(&after, Some(old.unwrap_or(&none))),
            "before_header": header,
            "after_header": header,
        })
    }
}

impl Destination {
    /// A failure about this profile.
    fn failure(&self, e: credentials_file::Error) -> Failure {
        Failure::new(format!("output_profile {}: {e}", self.profile))
    }
}

/// The order a write uses; other keys follow, sorted.
const KEY_ORDER: [&str; 7] = [
    ACCESS_KEY_ID,
    SECRET_ACCESS_KEY,
    SESSION_TOKEN,
    EXPIRATION,
    MANAGED_KEY,
    REQUEST_KEY,
    RESULT_KEY,
];

/// `key = value` lines, secrets as `<hidden>` (every key [`credentials_file::is_secret_key`]
/// names: the secret key, the session token and its legacy name `aws_security_token`,
/// `credential_process`, any key that says secret, token or password); with `old`, a secret that
/// differs from the old one reads `<hidden, new>`, so the diff shows that it changes without
/// showing it.
fn shown(keys: &BTreeMap<String, String>, old: Option<&BTreeMap<String, String>>) -> String {
    let known = KEY_ORDER.iter().filter_map(|k| keys.get_key_value(*k));
    let others = keys
        .iter()
        .filter(|(k, _)| !KEY_ORDER.contains(&k.as_str()));
    let mut text = String::new();
    for (key, value) in known.chain(others) {
        let value = if !credentials_file::is_secret_key(key) {
            value.as_str()
        } else if old.is_none_or(|old| old.get(key) == Some(value)) {
            // Before, or after with the value it had before.
            "<hidden>"
        } else {
            "<hidden, new>"
        };
        text.push_str(&format!("{key} = {value}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_hides_secrets_and_says_which_changed() {
        let old: BTreeMap<String, String> = [
            ("aws_access_key_id", "ASIAOLD"),
            ("aws_secret_access_key", "old-secret"),
            ("aws_session_token", "same-token"),
            ("aws_security_token", "legacy-token"),
            ("credential_process", "/bin/creds --secret process-secret"),
            ("region", "eu-west-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let mut new = old.clone();
        new.insert("aws_secret_access_key".to_owned(), "new-secret".to_owned());
        assert_eq!(
            shown(&old, None),
            "aws_access_key_id = ASIAOLD\naws_secret_access_key = <hidden>\n\
             aws_session_token = <hidden>\naws_security_token = <hidden>\n\
             credential_process = <hidden>\nregion = eu-west-1\n"
        );
        assert_eq!(
            shown(&new, Some(&old)),
            "aws_access_key_id = ASIAOLD\naws_secret_access_key = <hidden, new>\n\
             aws_session_token = <hidden>\naws_security_token = <hidden>\n\
             credential_process = <hidden>\nregion = eu-west-1\n"
        );
    }
}
