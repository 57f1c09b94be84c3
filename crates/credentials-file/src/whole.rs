//! Whole files other than the credentials file (an SSO token cache, say), read, replaced and
//! removed with the same walk, trust rules, lock, temporary file, fsync and rename as a profile
//! write: what another local user planted on the path is refused the same way.

use crate::at::{self, Status};
use crate::error::Error;
use crate::file::LOCK_TIMEOUT;
use crate::{replace, walk};
use std::fs::File;
use std::io;
use std::path::Path;
use std::time::Duration;

/// The file's bytes (no lock): `None` if it or its directory does not exist.
pub fn read_file(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    walk::read_file(path)
}

/// Replaces the file with what `compute` makes of its old bytes (`None`: no file yet), under
/// its lock; the directories on the path are made (mode 0700) when missing, the file is 0600.
pub fn replace_file<T>(
    path: &Path,
    compute: impl FnOnce(Option<&[u8]>) -> Result<(Vec<u8>, T), Error>,
) -> Result<T, Error> {
    replace::locked_replace(path, None, LOCK_TIMEOUT, compute)
}

/// Removes the file if it is there; a file of another kind, or one another user could have
/// planted, is refused as a write would refuse it.
pub fn remove_file(path: &Path) -> Result<(), Error> {
    let Some(loc) = walk::locate(path, false)? else {
        return Ok(());
    };
    let Some(entry) = &loc.entry else {
        return Ok(());
    };
    if entry.kind() != rustix::fs::FileType::RegularFile {
        return Err(loc.not_regular(walk::kind_of(entry)));
    }
    loc.owner_for_write(entry)?;
    match at::remove(&loc.dir, &loc.name) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::io("remove", &loc.given, source)),
    }
}

/// The exclusive lock of `path` (the file `<path>.lock`), held until dropped.
#[derive(Debug)]
pub struct Held {
    _lock: File,
}

/// Takes the lock of `path`, waiting up to `timeout` for another holder: made through the same
/// walk as a write (missing directories 0700, no link another user planted followed, the lock
/// itself never a link), so it can coordinate runs over a long wait (an SSO sign-in) without
/// creating anything where another user points.
pub fn lock(path: &Path, timeout: Duration) -> Result<Held, Error> {
    let Some(loc) = walk::locate(path, true)? else {
        return Err(Error::Changed { path: path.into() });
    };
    let shown = loc.shown_of(&replace::lock_name(&loc.name));
    let Some(lock) = replace::open_lock(&loc, true)? else {
        return Err(Error::Changed { path: shown });
    };
    replace::wait_for_lock(&lock, &shown, timeout)?;
    Ok(Held { _lock: lock })
}
