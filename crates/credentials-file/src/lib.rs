//! Writes temporary AWS credentials into one profile of an AWS shared credentials file, safely,
//! and reads them back.
//!
//! # File format
//!
//! The file is INI as botocore reads it (`configparser.RawConfigParser`): `[name]` section
//! headers (no `profile ` prefix in the credentials file; text after the `]` ignored),
//! `key = value` or `key: value` lines (split at the first `=`/`:`, both sides trimmed, keys
//! lowercased as botocore does), full-line `#`/`;` comments, indented continuation lines that
//! extend the previous value, and `\n`, `\r\n` or a lone `\r` ending a line. The exact rules
//! are in the `ini` module. A file botocore cannot read (a duplicate section or key, a line that
//! is none of these, invalid UTF-8, a byte order mark, …) is refused with [`Error::Format`], for
//! reading and writing alike; so is a write that a `[DEFAULT]` section would add keys to.
//!
//! Writing a profile changes only that profile's section; every other byte of the file (other
//! sections, comments, blank lines, order, CRLF line ends, a missing final newline) stays
//! identical:
//!
//! * An existing section keeps its header line. All its key lines (and continuation lines) are
//!   removed, and the new key lines go right after the header. Its comment and blank lines are
//!   kept, in their order, after the new keys (a comment that stood between two keys moves below
//!   them; comments and blank lines at the end of the section, usually about the next section,
//!   stay where they are).
//! * A missing section is appended at the end. If the file lacks a final newline, the new
//!   section starts with a line ending and itself ends without one: the old text stays an exact
//!   prefix and the file still lacks a final newline.
//! * New lines use the file's line ending (that of its first line; `\n` for an empty file).
//!
//! A profile we write holds, in this order: `aws_access_key_id`, `aws_secret_access_key`,
//! `aws_session_token` and `expiration` (the last two when given), then the ownership marker
//! [`MANAGED_KEY`]` = true`, [`REQUEST_KEY`]` = <digest>` and, when given, [`RESULT_KEY`]` = <text>`
//! (what else the caller needs to answer from the profile later; never a secret). botocore
//! ignores the unknown keys.
//! A section without the marker is never replaced unless [`WriteOptions::overwrite_unmanaged`]
//! is set.
//!
//! # Safety of a write
//!
//! 1. The path is walked from `/` one component at a time, each directory opened and every
//!    later step done through that descriptor (`openat(2)`, `fstatat(2)`, `renameat(2)`, …,
//!    given the directory's descriptor and a name in it), so a directory or link replaced during
//!    the walk cannot move the write elsewhere.
//!    Symbolic links (in any component) are followed only when trusted (see "Who is trusted");
//!    a missing directory is created, mode 0700. The links stay; their target is replaced.
//! 2. Only a regular file, or none, is used: a directory, device, FIFO or socket (or a link to
//!    one, such as `~/.aws/credentials -> /dev/null`) is refused ([`Error::NotRegular`])
//!    before anything is opened or created; the file is opened with `O_NOFOLLOW`,
//!    `O_NONBLOCK` and `O_NOCTTY` and checked again on the opened descriptor. At most
//!    [`MAX_FILE_SIZE`] bytes are read ([`Error::TooLarge`]).
//! 3. An exclusive lock is taken on `<real file>.lock` beside it (opened with `O_NOFOLLOW`,
//!    mode 0600, created if missing, never deleted; a link or anything but a regular file is
//!    refused, [`Error::BadLock`]), waiting at most the lock timeout ([`LOCK_TIMEOUT`], then
//!    [`Error::LockTimeout`]), and held for the whole read-modify-write, so parallel writers
//!    (threads or processes) never lose each other's profiles. ([`Step::Locked`])
//! 4. The current file is read, and its owner checked (see "Who is trusted"). ([`Step::Read`])
//!    Temporary files that a crashed writer left (ours, regular) are removed now (with the lock
//!    held no other writer can own one).
//! 5. The new text goes to a new temporary file `.<name>.tmp-…` in the same directory
//!    (`O_EXCL`, mode 0600, owned as "Who is trusted" says). ([`Step::TempWritten`])
//! 6. The temporary file is fsynced ([`Step::TempSynced`]), renamed over the real file
//!    ([`Step::Renamed`]), and the directory fsynced ([`Step::DirSynced`]).
//!
//! If a step fails the temporary file is removed and the old file is untouched; the error names
//! the step and the path, never a value. Readers need no lock: a rename is atomic.
//! [`CredentialsFile::check_writable`] runs the checks of steps 1 to 4 without creating
//! anything (the lock taken and released at once), for callers to run before an action that
//! cannot be undone (an STS call, a new access key).
//!
//! # Who is trusted
//!
//! Another user of the same host may plant files, directories and links where they can write,
//! and hold locks. "You" below is the running (effective) user.
//!
//! * A symbolic link is followed only when it belongs to you or to root, or when the directory
//!   holding it belongs to you or to root and has no group or other write permission (stricter
//!   than the kernel's `protected_symlinks`, which trusts a link of the directory's owner: as
//!   root, a link another user made in their own home is not followed). Otherwise
//!   [`Error::UntrustedSymlink`].
//! * The result belongs to you, with one exception: when root writes a file that belongs to
//!   another user, and that user owns the directory the file is in, which has no group or
//!   other write permission (their own `~/.aws`), the file stays theirs (owner and group).
//!   A file of another user anywhere else (one they made in `/tmp` or another shared
//!   directory), or any file of another user when you are not root, is refused
//!   ([`Error::ForeignOwner`]): writing into it would hand them the credentials. A new file
//!   is yours.
//! * A file is read (for reuse, or to be rewritten) only when it belongs to you, to root, or to
//!   a user who owns its directory alone, as above: a profile planted by someone else could
//!   hold their keys.
//!
//! Not covered: a directory the other user made in a shared place counts as theirs (root
//! writing `/tmp/theirs/credentials`, a file they made in a directory they made, keeps them
//! its owner); ACLs and group membership are not considered (any group write permission makes a
//! directory shared); a lock file another user made in a shared directory can be held by them
//! (the writer then gives up after the lock timeout).
//!
//! # Test hooks
//!
//! [`CredentialsFile::with_step_hook`] installs a callback run after each [`Step`] (it may panic
//! to simulate a failure). The environment variable [`STOP_AT_ENV`]
//! (`RUSTAWS_CREDS_TEST_STOP_AT=<step name>`, e.g. `TempSynced`) makes the process abort at that
//! step, for end-to-end crash tests, in builds with debug assertions only (cargo's dev and test
//! profiles): the release build, the one that ships, ignores it.

mod at;
mod ini;
mod write;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ini::Document;

/// The key marking a profile as written (and owned) by this collection.
pub const MANAGED_KEY: &str = "x_rustaws_creds_managed";
/// The key holding the caller's digest of the request that produced the credentials.
pub const REQUEST_KEY: &str = "x_rustaws_creds_request";
/// The key holding what else the caller returned with the credentials (not secret).
pub const RESULT_KEY: &str = "x_rustaws_creds_result";
/// Test hook: the process aborts when a write reaches the step of this name (debug builds only).
pub const STOP_AT_ENV: &str = "RUSTAWS_CREDS_TEST_STOP_AT";

/// The access key ID, as every AWS tool reads it.
pub const ACCESS_KEY_ID: &str = "aws_access_key_id";
/// The secret access key.
pub const SECRET_ACCESS_KEY: &str = "aws_secret_access_key";
/// The session token of temporary credentials.
pub const SESSION_TOKEN: &str = "aws_session_token";
/// When temporary credentials expire (RFC 3339), as botocore's credential file provider ignores
/// it and granted, aws-vault and this collection read it.
pub const EXPIRATION: &str = "expiration";
/// The keys of a profile whose values are secret, as botocore reads the file: the secret key,
/// the session token, its legacy name `aws_security_token` (botocore still reads it), and
/// `credential_process` (a command line, which often carries a secret or a path to one). Their
/// values never appear in `Debug` output, nor in a diff (see [`is_secret_key`]).
pub const SECRET_KEYS: [&str; 4] = [
    SECRET_ACCESS_KEY,
    SESSION_TOKEN,
    "aws_security_token",
    "credential_process",
];

/// Whether a key's value must be hidden: one of [`SECRET_KEYS`], or any key (compared
/// lowercased, as the file's keys are read) whose name says secret, token or password, so that
/// a key botocore or another tool adds later is hidden too.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str())
        || ["secret", "token", "password", "passwd"]
            .iter()
            .any(|word| key.contains(word))
}

/// The largest credentials file read (1 MiB): a profile takes under 2 KiB, so this leaves room
/// for hundreds of profiles and comments, and bounds what a file that grows without end could
/// make us read (a link to `/dev/zero` is refused anyway, as every file that is not regular).
pub const MAX_FILE_SIZE: u64 = 1 << 20;

/// How long a writer waits for the lock before giving up ([`CredentialsFile::with_lock_timeout`]
/// changes it). A writer holds the lock only to read, write, fsync and rename (milliseconds,
/// never during a network call), so 10 s means a process keeps it held on purpose or is stuck.
pub const LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A step of a write, in order; the test hooks run after each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Locked,
    Read,
    TempWritten,
    TempSynced,
    Renamed,
    DirSynced,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Locked,
        Step::Read,
        Step::TempWritten,
        Step::TempSynced,
        Step::Renamed,
        Step::DirSynced,
    ];

    /// The name [`STOP_AT_ENV`] takes: `Locked`, `Read`, `TempWritten`, ….
    pub fn name(self) -> &'static str {
        match self {
            Step::Locked => "Locked",
            Step::Read => "Read",
            Step::TempWritten => "TempWritten",
            Step::TempSynced => "TempSynced",
            Step::Renamed => "Renamed",
            Step::DirSynced => "DirSynced",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub(crate) type StepHook = Arc<dyn Fn(Step) + Send + Sync>;

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
    fn key_lines(&self) -> Result<Vec<u8>, Error> {
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

    fn from_keys(name: &str, keys: BTreeMap<String, String>) -> Self {
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

/// How a write may proceed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Replace a section that lacks our marker (it is refused otherwise).
    pub overwrite_unmanaged: bool,
}

/// What a write did to the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The section was appended.
    Created,
    /// The section existed and its text changed.
    Replaced,
    /// The section existed with exactly this text (the file was still rewritten, mode 0600).
    Unchanged,
}

/// A shared credentials file at a path (which need not exist yet).
#[derive(Clone)]
pub struct CredentialsFile {
    path: PathBuf,
    hook: Option<StepHook>,
    lock_timeout: std::time::Duration,
}

impl fmt::Debug for CredentialsFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsFile")
            .field("path", &self.path)
            .field("hook", &self.hook.is_some())
            .field("lock_timeout", &self.lock_timeout)
            .finish()
    }
}

impl CredentialsFile {
    pub fn at(path: impl Into<PathBuf>) -> Self {
        CredentialsFile {
            path: path.into(),
            hook: None,
            lock_timeout: LOCK_TIMEOUT,
        }
    }

    /// How long a write (and [`CredentialsFile::check_writable`]) waits for the lock; default
    /// [`LOCK_TIMEOUT`].
    pub fn with_lock_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Whether a write could go ahead, checked before anything that cannot be undone (an STS
    /// call, a new access key): the path's symbolic links, the file's kind and owner, and the
    /// lock, which must come free within the lock timeout (it is released at once). Creates
    /// nothing. A write checks all of it again.
    pub fn check_writable(&self) -> Result<(), Error> {
        write::check_writable(&self.path, self.lock_timeout)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Test hook: `hook` runs after each [`Step`] of a write, with the lock held. It may panic to
    /// simulate a failure at that point (the temporary file is then removed).
    pub fn with_step_hook(mut self, hook: impl Fn(Step) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// The profile `name`, or `None` if the file or the profile does not exist (also when a
    /// parent of the path is not a directory: no file can be there). Takes no lock. The path is
    /// walked as a write walks it (see "Who is trusted" above), and only a regular file of at
    /// most [`MAX_FILE_SIZE`] bytes, of a trusted owner, is read.
    pub fn read_profile(&self, name: &str) -> Result<Option<StoredProfile>, Error> {
        let Some(text) = write::read_file(&self.path)? else {
            return Ok(None);
        };
        let doc = self.parse(&text, name)?;
        Ok(doc
            .section(name)
            .map(|section| StoredProfile::from_keys(name, doc.keys(section))))
    }

    /// Every profile of the file, in file order, as botocore reads them (`[DEFAULT]` is none);
    /// empty if the file does not exist. Read as [`CredentialsFile::read_profile`] reads it.
    pub fn read_profiles(&self) -> Result<Vec<StoredProfile>, Error> {
        let Some(text) = write::read_file(&self.path)? else {
            return Ok(Vec::new());
        };
        let doc = self.parse(&text, "")?;
        Ok(doc
            .sections
            .iter()
            .map(|section| StoredProfile::from_keys(&section.name, doc.keys(section)))
            .collect())
    }

    /// The file read as botocore reads it, or why botocore cannot ([`Error::DuplicateProfile`]
    /// when `name` itself is the section that appears more than once).
    fn parse<'t>(&self, text: &'t [u8], name: &str) -> Result<Document<'t>, Error> {
        Document::parse(text).map_err(|problems| {
            let again = problems
                .iter()
                .filter(|p| p.duplicate_section.as_deref() == Some(name))
                .count();
            if again > 0 {
                return Error::DuplicateProfile {
                    profile: name.to_string(),
                    path: self.path.clone(),
                    count: again + 1,
                };
            }
            let first = problems.into_iter().next();
            let (line, reason) = first.map(|p| (p.line, p.reason)).unwrap_or_default();
            Error::Format {
                path: self.path.clone(),
                line,
                reason,
            }
        })
    }

    /// Writes `entries` into profile `name`, replacing only that section (see the crate
    /// documentation for the format and the steps).
    pub fn write_profile(
        &self,
        name: &str,
        entries: &Entries,
        options: WriteOptions,
    ) -> Result<WriteOutcome, Error> {
        check_profile_name(name)?;
        let key_lines = entries.key_lines()?;
        write::locked_replace(&self.path, self.hook.as_ref(), self.lock_timeout, |old| {
            let old = old.unwrap_or_default();
            let doc = self.parse(old, name)?;
            self.check_defaults(&doc, name, &key_lines)?;
            match doc.section(name) {
                None => Ok((
                    doc.append_section(old, name, &key_lines),
                    WriteOutcome::Created,
                )),
                Some(section) => {
                    // Ownership is the section's own marker, not one `[DEFAULT]` lends it.
                    let own = section
                        .keys
                        .iter()
                        .map(|(k, (v, _))| (k.clone(), v.clone()));
                    let existing = StoredProfile::from_keys(name, own.collect());
                    if !existing.managed && !options.overwrite_unmanaged {
                        return Err(Error::UnmanagedProfile {
                            profile: name.to_string(),
                            path: self.path.clone(),
                        });
                    }
                    let new = doc.replace_section(section, &key_lines);
                    let outcome = if new == old {
                        WriteOutcome::Unchanged
                    } else {
                        WriteOutcome::Replaced
                    };
                    Ok((new, outcome))
                }
            }
        })
    }

    /// Refuses a write when the file's `[DEFAULT]` section has keys the new profile lacks:
    /// botocore would add them to it (e.g. an old `aws_session_token` to long-term keys).
    fn check_defaults(
        &self,
        doc: &Document<'_>,
        name: &str,
        key_lines: &[u8],
    ) -> Result<(), Error> {
        let written: Vec<&[u8]> = ini::split_lines(key_lines)
            .iter()
            .filter_map(|line| line.content.split(|&b| b == b' ').next())
            .collect();
        let inherited: Vec<(&str, usize)> = doc
            .defaults
            .iter()
            .filter(|(key, _)| !written.contains(&key.as_bytes()))
            .map(|(key, (_, line))| (key.as_str(), *line))
            .collect();
        match inherited.iter().map(|(_, line)| *line).min() {
            None => Ok(()),
            Some(line) => {
                let keys: Vec<&str> = inherited.iter().map(|(key, _)| *key).collect();
                Err(Error::Format {
                    path: self.path.clone(),
                    line,
                    reason: format!(
                        "the [DEFAULT] section gives every profile the keys it lacks, and \
                         botocore would add {} to profile [{name}]; refusing to write it (move \
                         them to the profiles that need them first)",
                        keys.join(", ")
                    ),
                })
            }
        }
    }
}

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

/// [`CredentialsFile::read_profile`] on `path`.
pub fn read_profile(path: &Path, name: &str) -> Result<Option<StoredProfile>, Error> {
    CredentialsFile::at(path).read_profile(name)
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
