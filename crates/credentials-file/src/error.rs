//! Why reading or writing failed.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::keys::MANAGED_KEY;

/// Why reading or writing failed. No variant carries a credential value.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file-system operation failed: `op` says which (e.g. "lock", "fsync the directory").
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// The profile exists without our marker and overwriting it was not allowed.
    UnmanagedProfile { profile: String, path: PathBuf },
    /// The profile's section appears more than once (botocore refuses such a file).
    DuplicateProfile {
        profile: String,
        path: PathBuf,
        count: usize,
    },
    /// The profile name cannot be written as a section header.
    InvalidProfileName {
        profile: String,
        reason: &'static str,
    },
    /// A value cannot be written (the value itself is not reported).
    InvalidValue {
        key: &'static str,
        reason: &'static str,
    },
    /// The symbolic links starting at `path` loop or nest too deep.
    SymlinkLoop { path: PathBuf },
    /// The file (or what its symbolic links lead to, `target`) is not a regular file: `kind`
    /// says what it is ("a character device", ...).
    NotRegular {
        path: PathBuf,
        target: Option<PathBuf>,
        kind: &'static str,
    },
    /// The file is larger than [`MAX_FILE_SIZE`] (`limit`).
    ///
    /// [`MAX_FILE_SIZE`]: crate::limits::MAX_FILE_SIZE
    TooLarge { path: PathBuf, limit: u64 },
    /// A symbolic link on the way that someone else may have planted (see the crate docs for
    /// the rule): it belongs to `uid` (`user`), in `dir`, which others can write.
    UntrustedSymlink {
        link: PathBuf,
        uid: u32,
        user: Option<String>,
        dir: PathBuf,
    },
    /// The file belongs to another user, `uid` (`user`), who may not hold what is written or
    /// may have planted it; `dir` is the directory it is in.
    ForeignOwner {
        path: PathBuf,
        uid: u32,
        user: Option<String>,
        dir: PathBuf,
        reason: ForeignReason,
    },
    /// The lock file is not a regular file (`kind`: "a symbolic link", ...).
    BadLock { path: PathBuf, kind: &'static str },
    /// The lock stayed held by another process for `timeout`.
    LockTimeout {
        path: PathBuf,
        timeout: std::time::Duration,
    },
    /// A symbolic link or a directory on the way changed while it was being checked.
    Changed { path: PathBuf },
    /// botocore cannot read the file, or would read the written profile differently; `line`
    /// (1-based) is where, `reason` says why and never holds a value.
    Format {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// Why a file of another user is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForeignReason {
    /// Its owner does not own its directory alone (group or others can write it, or it
    /// belongs to someone else): the file may have been planted there for us to fill.
    Planted,
    /// Only root can keep another user the owner of a file it writes.
    NotRoot,
}

fn describe_user(uid: u32, user: &Option<String>) -> String {
    match user {
        Some(name) => format!("user {name} (uid {uid})"),
        None => format!("uid {uid}"),
    }
}

impl Error {
    pub(crate) fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { op, path, source } => {
                write!(f, "cannot {op} {}: {source}", path.display())
            }
            Error::UnmanagedProfile { profile, path } => write!(
                f,
                "profile [{profile}] in {} was not written by this collection (it has no \
                 {MANAGED_KEY} key); refusing to overwrite it unless overwriting unmanaged \
                 profiles is allowed",
                path.display()
            ),
            Error::DuplicateProfile {
                profile,
                path,
                count,
            } => write!(
                f,
                "profile [{profile}] appears {count} times in {}; remove the duplicates first",
                path.display()
            ),
            Error::InvalidProfileName { profile, reason } => {
                write!(f, "invalid profile name {profile:?}: {reason}")
            }
            Error::InvalidValue { key, reason } => write!(f, "invalid value for {key}: {reason}"),
            Error::SymlinkLoop { path } => {
                write!(f, "too many symbolic links starting at {}", path.display())
            }
            Error::NotRegular { path, target, kind } => {
                write!(f, "{}", path.display())?;
                if let Some(target) = target {
                    write!(f, " leads to {}, which", target.display())?;
                }
                write!(
                    f,
                    " is {kind}, not a regular file: refusing to read or replace it (only a \
                     regular file, or none yet, can hold credentials)"
                )
            }
            Error::TooLarge { path, limit } => write!(
                f,
                "{} is larger than {limit} bytes, too large for a credentials file: refusing \
                 to read it",
                path.display()
            ),
            Error::UntrustedSymlink {
                link,
                uid,
                user,
                dir,
            } => write!(
                f,
                "refusing to follow the symbolic link {}: it belongs to {}, not to you or \
                 root, and {} is not a directory only you or root can write, so the link may \
                 have been planted to redirect this file. Give the path it points to instead, \
                 if that file is meant",
                link.display(),
                describe_user(*uid, user),
                dir.display()
            ),
            Error::ForeignOwner {
                path,
                uid,
                user,
                dir,
                reason: ForeignReason::Planted,
            } => write!(
                f,
                "{} belongs to {}, who does not own {} alone: the file may have been planted \
                 there, and writing credentials into it would hand them to that user. \
                 Refusing; remove the file, or choose a file in a directory that only its \
                 owner can write",
                path.display(),
                describe_user(*uid, user),
                dir.display()
            ),
            Error::ForeignOwner {
                path,
                uid,
                user,
                reason: ForeignReason::NotRoot,
                ..
            } => write!(
                f,
                "{} belongs to {}, not to you: only root writes a file that stays another \
                 user's. Refusing; remove the file, or choose another",
                path.display(),
                describe_user(*uid, user)
            ),
            Error::BadLock { path, kind } => write!(
                f,
                "the lock file {} is {kind}, not a regular file: refusing to use it; remove it",
                path.display()
            ),
            Error::LockTimeout { path, timeout } => write!(
                f,
                "the lock file {} stayed locked by another process for {}: giving up. \
                 Retry later, or find the process holding it (fuser {})",
                path.display(),
                if timeout.subsec_millis() == 0 {
                    format!("{} s", timeout.as_secs())
                } else {
                    format!("{} ms", timeout.as_millis())
                },
                path.display()
            ),
            Error::Changed { path } => write!(
                f,
                "{} changed while it was being checked (a link or a directory was replaced): \
                 refusing to go on; retry",
                path.display()
            ),
            Error::Format { path, line, reason } => {
                write!(f, "{} line {line}: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
