//! A credentials file at a path: its profiles read, and one profile written (see the crate
//! documentation for the format and the steps).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::Error;
use crate::ini::Document;
use crate::lines::split_lines;
use crate::profile::{check_profile_name, Entries, StoredProfile};
use crate::replace;
use crate::step::{Step, StepHook};
use crate::walk;

/// How long a writer waits for the lock before giving up ([`CredentialsFile::with_lock_timeout`]
/// changes it). A writer holds the lock only to read, write, fsync and rename (milliseconds,
/// never during a network call), so 10 s means a process keeps it held on purpose or is stuck.
pub const LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

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
        replace::check_writable(&self.path, self.lock_timeout)
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
    ///
    /// [`MAX_FILE_SIZE`]: crate::limits::MAX_FILE_SIZE
    pub fn read_profile(&self, name: &str) -> Result<Option<StoredProfile>, Error> {
        let Some(text) = walk::read_file(&self.path)? else {
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
        let Some(text) = walk::read_file(&self.path)? else {
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
        replace::locked_replace(&self.path, self.hook.as_ref(), self.lock_timeout, |old| {
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
        let written: Vec<&[u8]> = split_lines(key_lines)
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

/// [`CredentialsFile::read_profile`] on `path`.
pub fn read_profile(path: &Path, name: &str) -> Result<Option<StoredProfile>, Error> {
    CredentialsFile::at(path).read_profile(name)
}
