//! A profile's contents: the credentials to write ([`Entries`], checked before they are
//! written) and a profile as read back ([`StoredProfile`]).

use std::collections::BTreeMap;
use std::fmt;

use crate::error::Error;
use crate::keys::{
    is_secret_key, ACCESS_KEY_ID, EXPIRATION, MANAGED_KEY, REQUEST_KEY, RESULT_KEY,
    SECRET_ACCESS_KEY, SESSION_TOKEN,
};

/// The credentials to write into a profile.
#[derive(Clone, PartialEq, Eq)]
pub struct Entries {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Absent for long-term keys.
    pub session_token: Option<String>,
    /// RFC 3339, as the caller formats it; absent for long-term keys.
    pub expiration: Option<String>,
    /// The caller's hex digest of the request that produced these credentials.
    pub request_digest: String,
    /// One line of text the caller reads back with the credentials (never a secret).
    pub result: Option<String>,
}

impl fmt::Debug for Entries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entries")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<hidden>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<hidden>"),
            )
            .field("expiration", &self.expiration)
            .field("request_digest", &self.request_digest)
            .field("result", &self.result)
            .finish()
    }
}

impl Entries {
    /// The keys and values a write puts in the profile, in the order it writes them (unchecked:
    /// [`CredentialsFile::write_profile`] refuses a value that cannot be written).
    ///
    /// [`CredentialsFile::write_profile`]: crate::CredentialsFile::write_profile
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        let mut pairs = vec![
            (ACCESS_KEY_ID, self.access_key_id.as_str()),
            (SECRET_ACCESS_KEY, self.secret_access_key.as_str()),
        ];
        if let Some(token) = &self.session_token {
            pairs.push((SESSION_TOKEN, token));
        }
        if let Some(expiration) = &self.expiration {
            pairs.push((EXPIRATION, expiration));
        }
        pairs.push((MANAGED_KEY, "true"));
        pairs.push((REQUEST_KEY, &self.request_digest));
        if let Some(result) = &self.result {
            pairs.push((RESULT_KEY, result));
        }
        pairs
    }

    /// The key lines, validated, each ending with `\n` (replaced by the file's line ending).
    pub(crate) fn key_lines(&self) -> Result<Vec<u8>, Error> {
        if self.request_digest.is_empty()
            || !self.request_digest.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(Error::InvalidValue {
                key: REQUEST_KEY,
                reason: "must be a non-empty hex digest",
            });
        }
        let mut out = Vec::new();
        for (key, value) in self.pairs() {
            check_value(key, value)?;
            out.extend_from_slice(format!("{key} = {value}\n").as_bytes());
        }
        Ok(out)
    }
}

fn check_value(key: &'static str, value: &str) -> Result<(), Error> {
    let reason = if value.is_empty() {
        "is empty"
    } else if value.chars().any(char::is_control) {
        "contains a line break or another control character"
    } else if value.trim() != value {
        "starts or ends with white space, which the file format drops"
    } else {
        return Ok(());
    };
    Err(Error::InvalidValue { key, reason })
}

/// Whether `name` can be written as a profile's section header.
pub fn check_profile_name(name: &str) -> Result<(), Error> {
    let reason = if name.is_empty() {
        "is empty"
    } else if name.trim() != name {
        "starts or ends with white space"
    } else if name.contains(['[', ']']) || name.chars().any(char::is_control) {
        "contains a bracket, a line break or another control character"
    } else if name == "DEFAULT" {
        "[DEFAULT] is special to Python's configparser: its keys would apply to every profile"
    } else {
        return Ok(());
    };
    Err(Error::InvalidProfileName {
        profile: name.to_string(),
        reason,
    })
}

/// A profile as read from the file.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredProfile {
    pub name: String,
    /// Every key of the section (lowercased) with its value.
    pub keys: BTreeMap<String, String>,
    /// Whether [`MANAGED_KEY`] is `true`.
    pub managed: bool,
    /// The [`REQUEST_KEY`] value, if any.
    pub request_digest: Option<String>,
    /// The `expiration` value, if any, unparsed.
    pub expiration: Option<String>,
    /// The [`RESULT_KEY`] value, if any.
    pub result: Option<String>,
}

impl StoredProfile {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.keys.get(key).map(String::as_str)
    }

    pub(crate) fn from_keys(name: &str, keys: BTreeMap<String, String>) -> Self {
        StoredProfile {
            name: name.to_string(),
            managed: keys
                .get(MANAGED_KEY)
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            request_digest: keys.get(REQUEST_KEY).cloned(),
            expiration: keys.get(EXPIRATION).cloned(),
            result: keys.get(RESULT_KEY).cloned(),
            keys,
        }
    }
}

impl fmt::Debug for StoredProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: BTreeMap<&str, &str> = self
            .keys
            .iter()
            .map(|(k, v)| {
                let shown = if is_secret_key(k) {
                    "<hidden>"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("StoredProfile")
            .field("name", &self.name)
            .field("keys", &keys)
            .field("managed", &self.managed)
            .field("request_digest", &self.request_digest)
            .field("expiration", &self.expiration)
            .field("result", &self.result)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let entries = Entries {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: "SECRETSECRET".into(),
            session_token: Some("TOKENTOKEN".into()),
            expiration: None,
            request_digest: "ab".into(),
            result: None,
        };
        let shown = format!("{entries:?}");
        assert!(!shown.contains("SECRETSECRET") && !shown.contains("TOKENTOKEN"));
    }

    #[test]
    fn invalid_values_are_named_not_shown() {
        let entries = Entries {
            access_key_id: "AKIA".into(),
            secret_access_key: "SECRET\nINJECT".into(),
            session_token: None,
            expiration: None,
            request_digest: "ab".into(),
            result: None,
        };
        let err = entries.key_lines().err().map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.contains(SECRET_ACCESS_KEY), "{err}");
        assert!(
            !err.contains("SECRET\n") && !err.contains("INJECT"),
            "{err}"
        );
    }
}
