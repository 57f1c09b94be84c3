//! The SSO token cache (`~/.aws/sso/cache/<key>.json`) as the AWS CLI v2 and botocore write it
//! and every SDK reads it, and this module's own private file of a pending sign-in beside it.
//! Both are written by `credentials-file`'s safe writer: locked, 0600, temporary file, fsync,
//! rename, nothing another local user planted on the path followed.

use ansible_module::Failure;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A token cache file. Times are RFC 3339 in whole seconds with `Z`, as botocore writes them
/// (the Rust SDK refuses offsets).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    pub start_url: String,
    pub region: String,
    pub access_token: String,
    pub expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_expires_at: Option<String>,
}

/// A client registration (from the token file or a pending sign-in).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub client_id: String,
    pub client_secret: String,
    pub expires_at: String,
}

/// A device authorization started and not yet approved: what the waiting run polls with.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pending {
    pub start_url: String,
    pub region: String,
    pub registration: Registration,
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_at: String,
    pub interval: i64,
}

impl Token {
    /// The registration a refresh needs, when the file holds one.
    pub fn registration(&self) -> Option<Registration> {
        Some(Registration {
            client_id: self.client_id.clone()?,
            client_secret: self.client_secret.clone()?,
            expires_at: self.registration_expires_at.clone()?,
        })
    }
}

/// Where a session's files are.
#[derive(Debug, Clone)]
pub struct Files {
    pub token: PathBuf,
    pub pending: PathBuf,
    pub lock: PathBuf,
}

impl Files {
    /// `~/.aws/sso/cache/<key>.json` and, beside it, this module's pending sign-in and lock.
    pub fn for_key(key: &str) -> Result<Self, Failure> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                Failure::new("HOME is not set: the SSO token cache is ~/.aws/sso/cache")
            })?;
        let dir = Path::new(&home).join(".aws").join("sso").join("cache");
        Ok(Files {
            token: dir.join(format!("{key}.json")),
            pending: dir.join(format!("{key}.rustaws-creds-pending")),
            lock: dir.join(format!("{key}.rustaws-creds-sign-in")),
        })
    }
}

/// The JSON file at `path`, if there is one that reads as `T`; `Ok(None)` for a missing or
/// unreadable one (as botocore treats a broken cache entry: absent).
pub fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, Failure> {
    let bytes = credentials_file::read_file(path)
        .map_err(|e| Failure::new(format!("Cannot read the SSO token cache: {e}")))?;
    Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
}

/// Replaces the JSON file at `path` with `value`.
pub fn write<T: Serialize>(path: &Path, value: &T) -> Result<(), Failure> {
    let mut text = serde_json::to_vec(value)
        .map_err(|e| Failure::new(format!("Cannot serialise {}: {e}", path.display())))?;
    text.push(b'\n');
    credentials_file::replace_file(path, |_| Ok((text, ())))
        .map_err(|e| Failure::new(format!("Cannot write the SSO token cache: {e}")))
}

/// Removes the file at `path`, if any.
pub fn remove(path: &Path) -> Result<(), Failure> {
    credentials_file::remove_file(path)
        .map_err(|e| Failure::new(format!("Cannot remove {}: {e}", path.display())))
}

/// `secs` since the epoch as the cache writes times.
pub fn timestamp(secs: i64) -> String {
    DateTime::from_secs(secs)
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| secs.to_string())
}

/// Seconds since the epoch of a cache time; `None` when it does not read as RFC 3339 with `Z`.
pub fn seconds(text: &str) -> Option<i64> {
    DateTime::from_str(text, Format::DateTime)
        .ok()
        .map(|t| t.secs())
}

/// Seconds since the epoch now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_whole_seconds_with_z_and_read_back() {
        assert_eq!(timestamp(1_765_000_000), "2025-12-06T05:46:40Z");
        assert_eq!(seconds("2025-12-06T05:46:40Z"), Some(1_765_000_000));
        assert_eq!(seconds("2025-12-06T05:46:40.5Z"), Some(1_765_000_000));
        assert_eq!(seconds("2025-12-06T05:46:40+00:00"), None);
    }

    #[test]
    fn a_token_file_has_the_aws_cli_keys() {
        let token = Token {
            start_url: "https://d-1.awsapps.com/start".to_owned(),
            region: "eu-west-1".to_owned(),
            access_token: "a".to_owned(),
            expires_at: "2025-12-06T05:46:40Z".to_owned(),
            refresh_token: None,
            client_id: Some("c".to_owned()),
            client_secret: Some("s".to_owned()),
            registration_expires_at: Some("2026-03-06T05:46:40Z".to_owned()),
        };
        assert_eq!(
            serde_json::to_string(&token).unwrap_or_default(),
            "{\"startUrl\":\"https://d-1.awsapps.com/start\",\"region\":\"eu-west-1\",\
             \"accessToken\":\"a\",\"expiresAt\":\"2025-12-06T05:46:40Z\",\"clientId\":\"c\",\
             \"clientSecret\":\"s\",\"registrationExpiresAt\":\"2026-03-06T05:46:40Z\"}"
        );
    }
}
