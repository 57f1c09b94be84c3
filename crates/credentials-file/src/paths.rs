//! Where the files are: the default credentials and config files, and a file of its own for
//! credentials that could not be written where they were asked for.

use std::path::PathBuf;

use crate::error::Error;
use crate::file::{CredentialsFile, WriteOptions};
use crate::profile::Entries;

/// Saves credentials that could not be written where they were asked for, so that they are not
/// lost and need not be printed: a new file of their own holding that one profile,
/// `~/.rustaws-creds/unsaved/<profile>-<Unix time>-<pid>`, written as every profile is (mode
/// 0600 in a directory of mode 0700, with the same checks). `home` as in [`default_path`].
pub fn save_unwritten(
    profile: &str,
    entries: &Entries,
    env: impl Fn(&str) -> Option<String>,
    home: Option<PathBuf>,
) -> Result<PathBuf, Error> {
    let home = home
        .or_else(|| {
            env("HOME")
                .filter(|h| h.starts_with('/'))
                .map(PathBuf::from)
        })
        .ok_or(Error::InvalidValue {
            key: "HOME",
            reason: "is not an absolute path: no home directory to save the credentials in",
        })?;
    let stem: String = profile
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let path = home
        .join(".rustaws-creds")
        .join("unsaved")
        .join(format!("{stem}-{seconds}-{}", std::process::id()));
    CredentialsFile::at(&path).write_profile(profile, entries, WriteOptions::default())?;
    Ok(path)
}

/// The shared credentials file botocore uses: `AWS_SHARED_CREDENTIALS_FILE` (a leading `~` or
/// `~/` expanded to the home directory) if set and not empty, else `~/.aws/credentials`. The
/// home directory is `home`, else `HOME` from `env`; without either, `~` stays literal.
pub fn default_path(env: impl Fn(&str) -> Option<String>, home: Option<PathBuf>) -> PathBuf {
    default_file(
        env,
        home,
        "AWS_SHARED_CREDENTIALS_FILE",
        "~/.aws/credentials",
    )
}

/// The AWS config file as botocore finds it: `AWS_CONFIG_FILE` (expanded as in
/// [`default_path`]) if set and not empty, else `~/.aws/config`.
pub fn default_config_path(env: impl Fn(&str) -> Option<String>, home: Option<PathBuf>) -> PathBuf {
    default_file(env, home, "AWS_CONFIG_FILE", "~/.aws/config")
}

fn default_file(
    env: impl Fn(&str) -> Option<String>,
    home: Option<PathBuf>,
    variable: &str,
    fallback: &str,
) -> PathBuf {
    let home = home.or_else(|| env("HOME").filter(|h| !h.is_empty()).map(PathBuf::from));
    let expand = |path: &str| -> PathBuf {
        let rest = if path == "~" {
            Some("")
        } else {
            path.strip_prefix("~/")
        };
        match (rest, &home) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(path),
        }
    };
    match env(variable).filter(|p| !p.is_empty()) {
        Some(path) => expand(&path),
        None => expand(fallback),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_path_expands_tilde() {
        let home = Some(PathBuf::from("/home/u"));
        let env = |v: &str| (v == "AWS_SHARED_CREDENTIALS_FILE").then(|| "~/x/creds".to_string());
        assert_eq!(
            default_path(env, home.clone()),
            PathBuf::from("/home/u/x/creds")
        );
        assert_eq!(
            default_path(|_| None, home),
            PathBuf::from("/home/u/.aws/credentials")
        );
        let env = |v: &str| (v == "HOME").then(|| "/h".to_string());
        assert_eq!(
            default_path(env, None),
            PathBuf::from("/h/.aws/credentials")
        );
        let env = |v: &str| (v == "AWS_SHARED_CREDENTIALS_FILE").then(|| "/abs".to_string());
        assert_eq!(default_path(env, None), PathBuf::from("/abs"));
    }
}
