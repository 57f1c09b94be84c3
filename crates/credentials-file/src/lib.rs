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
mod edit;
mod error;
mod file;
mod ini;
mod keys;
mod limits;
mod lines;
mod paths;
mod profile;
mod replace;
mod step;
mod trust;
mod walk;
mod whole;

pub use error::{Error, ForeignReason};
pub use file::{read_profile, CredentialsFile, WriteOptions, WriteOutcome, LOCK_TIMEOUT};
pub use keys::{
    is_secret_key, ACCESS_KEY_ID, EXPIRATION, MANAGED_KEY, REQUEST_KEY, RESULT_KEY,
    SECRET_ACCESS_KEY, SECRET_KEYS, SESSION_TOKEN,
};
pub use limits::MAX_FILE_SIZE;
pub use paths::{default_config_path, default_path, save_unwritten};
pub use profile::{check_profile_name, Entries, StoredProfile};
pub use step::{Step, STOP_AT_ENV};
pub use whole::{lock, read_file, remove_file, replace_file, Held};
