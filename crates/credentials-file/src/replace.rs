//! Replacing the file safely, through the directory the walk opened (the `walk` module): the
//! owner of the result decided, the lock waited for a bounded time, and the locked, atomic
//! read-modify-write itself.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::fs::{fchown, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustix::fs::{FileType, Mode, OFlags};

use crate::at::{self, Status};
use crate::error::Error;
use crate::step::{step, Step, StepHook};
use crate::trust::euid;
use crate::walk::{is_eloop, kind_of, locate, open_regular, read_bounded, Located, SAFE};

/// Mode 0600, for the files created.
const PRIVATE: Mode = Mode::RUSR.union(Mode::WUSR);

/// Everything a write would check before changing anything, creating nothing: the path, the
/// kind and the owner of the file, and a lock that some other process keeps held (waited for
/// `lock_timeout` at most, then released at once).
pub(crate) fn check_writable(path: &Path, lock_timeout: Duration) -> Result<(), Error> {
    let Some(loc) = locate(path, false)? else {
        return Ok(());
    };
    if let Some(entry) = &loc.entry {
        if entry.kind() != FileType::RegularFile {
            return Err(loc.not_regular(kind_of(entry)));
        }
        loc.owner_for_write(entry)?;
    }
    if let Some(lock) = open_lock(&loc, false)? {
        wait_for_lock(&lock, &loc.shown_of(&lock_name(&loc.name)), lock_timeout)?;
        let _ = lock.unlock();
    }
    Ok(())
}

pub(crate) fn lock_name(name: &OsStr) -> OsString {
    let mut lock = name.to_owned();
    lock.push(".lock");
    lock
}

/// Opens `<name>.lock` beside the file without following a link (a link or anything but a
/// regular file is refused); `create` makes it (mode 0600) when missing, else `None`.
pub(crate) fn open_lock(loc: &Located, create: bool) -> Result<Option<File>, Error> {
    let name = lock_name(&loc.name);
    let shown = loc.shown_of(&name);
    let mut flags = OFlags::RDWR | SAFE;
    flags.set(OFlags::CREATE, create);
    let lock = match at::open(&loc.dir, &name, flags, PRIVATE) {
        Ok(lock) => lock,
        Err(e) if !create && e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if is_eloop(&e) => {
            return Err(Error::BadLock {
                path: shown,
                kind: "a symbolic link",
            })
        }
        Err(source) => return Err(Error::io("open the lock file", &shown, source)),
    };
    let meta = lock
        .metadata()
        .map_err(|source| Error::io("inspect", &shown, source))?;
    if !meta.is_file() {
        return Err(Error::BadLock {
            path: shown,
            kind: kind_of(&meta),
        });
    }
    Ok(Some(lock))
}

/// Takes the exclusive lock, polling (10 ms, doubling to 200 ms) until `timeout` has passed.
pub(crate) fn wait_for_lock(lock: &File, shown: &Path, timeout: Duration) -> Result<(), Error> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(source)) => {
                return Err(Error::io("lock", shown, source));
            }
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(Error::LockTimeout {
                path: shown.to_path_buf(),
                timeout,
            });
        }
        std::thread::sleep(pause.min(timeout - waited));
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// `.<file name>.tmp-`: temporary files of the target start with this.
fn temp_prefix(name: &OsStr) -> Vec<u8> {
    let mut prefix = b".".to_vec();
    prefix.extend_from_slice(name.as_bytes());
    prefix.extend_from_slice(b".tmp-");
    prefix
}

/// Removes the temporary file when dropped, unless it has been renamed into place. This runs on
/// error returns and on panics (a hook that panics), not on `abort`.
struct TempGuard<'a> {
    dir: &'a File,
    name: OsString,
    armed: bool,
}

impl Drop for TempGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = at::remove(self.dir, &self.name);
        }
    }
}

/// Mode 0600 whatever the umask, and the owner decided by [`Located::owner_for_write`] (a
/// failure is an error rather than a silent change of owner).
fn set_private_mode_and_owner(
    file: &File,
    owner: Option<(u32, u32)>,
) -> Result<(), (&'static str, io::Error)> {
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(|e| ("set the mode of", e))?;
    if let Some((uid, gid)) = owner {
        let new = file.metadata().map_err(|e| ("inspect", e))?;
        if (new.uid(), new.gid()) != (uid, gid) {
            fchown(file, Some(uid), Some(gid)).map_err(|e| ("set the owner of", e))?;
        }
    }
    Ok(())
}

/// Removes temporary files a crashed writer left behind: regular files of the running user
/// whose names start with the prefix. Only called with the lock held: every writer holds it
/// while its temporary file exists, so any such file found now is a leftover.
fn remove_leftover_temps(loc: &Located) {
    let prefix = temp_prefix(&loc.name);
    let Ok(names) = at::names(&loc.dir) else {
        return;
    };
    for name in names {
        if !name.as_bytes().starts_with(&prefix) {
            continue;
        }
        let ours = at::status(&loc.dir, &name)
            .is_ok_and(|m| m.kind() == FileType::RegularFile && m.owner() == euid());
        if ours {
            let _ = at::remove(&loc.dir, &name);
        }
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new temporary file beside the target: `O_EXCL` (never an existing file or link), mode 0600.
fn create_temp(loc: &Located) -> Result<(File, OsString, PathBuf), Error> {
    let prefix = String::from_utf8_lossy(&temp_prefix(&loc.name)).into_owned();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut last_error = None;
    for _ in 0..16 {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = OsString::from(format!("{prefix}{}-{n}-{nanos:09}", std::process::id()));
        let shown = loc.shown_of(&name);
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW;
        match at::open(&loc.dir, &name, flags | OFlags::NOCTTY, PRIVATE) {
            Ok(file) => return Ok((file, name, shown)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some((e, shown)),
            Err(source) => return Err(Error::io("create the temporary file", &shown, source)),
        }
    }
    let (source, path) = match last_error {
        Some(found) => found,
        None => (io::Error::other("no name tried"), loc.dir_path.clone()),
    };
    Err(Error::io("create the temporary file", &path, source))
}

/// Locks `<target>.lock`, reads the target (`None` if missing), lets `compute` produce the new
/// text, and replaces the target with it atomically. See the crate documentation for the steps.
pub(crate) fn locked_replace<T>(
    path: &Path,
    hook: Option<&StepHook>,
    lock_timeout: Duration,
    compute: impl FnOnce(Option<&[u8]>) -> Result<(Vec<u8>, T), Error>,
) -> Result<T, Error> {
    let loc = match locate(path, true)? {
        Some(loc) => loc,
        None => return Err(Error::Changed { path: path.into() }),
    };
    // Refused before the lock file is made: a wrong kind or owner (checked again below, on the
    // opened file).
    if let Some(entry) = &loc.entry {
        if entry.kind() != FileType::RegularFile {
            return Err(loc.not_regular(kind_of(entry)));
        }
        loc.owner_for_write(entry)?;
    }

    let lock_shown = loc.shown_of(&lock_name(&loc.name));
    let lock = match open_lock(&loc, true)? {
        Some(lock) => lock,
        None => return Err(Error::Changed { path: lock_shown }),
    };
    wait_for_lock(&lock, &lock_shown, lock_timeout)?;
    step(hook, Step::Locked);

    let (old, owner) = match open_regular(&loc)? {
        Some((file, meta)) => {
            let owner = loc.owner_for_write(&meta)?;
            (Some(read_bounded(&loc, file, &meta)?), owner)
        }
        None => (None, None),
    };
    step(hook, Step::Read);
    remove_leftover_temps(&loc);

    let (new, result) = compute(old.as_deref())?;

    let (mut file, temp_name, temp_shown) = create_temp(&loc)?;
    let mut guard = TempGuard {
        dir: &loc.dir,
        name: temp_name,
        armed: true,
    };
    file.write_all(&new)
        .map_err(|source| Error::io("write the temporary file", &temp_shown, source))?;
    set_private_mode_and_owner(&file, owner)
        .map_err(|(op, source)| Error::io(op, &temp_shown, source))?;
    step(hook, Step::TempWritten);

    file.sync_all()
        .map_err(|source| Error::io("fsync the temporary file", &temp_shown, source))?;
    drop(file);
    step(hook, Step::TempSynced);

    at::rename(&loc.dir, &guard.name, &loc.name)
        .map_err(|source| Error::io("rename the temporary file over", &loc.given, source))?;
    guard.armed = false;
    step(hook, Step::Renamed);

    loc.dir
        .sync_all()
        .map_err(|source| Error::io("fsync the directory", &loc.dir_path, source))?;
    step(hook, Step::DirSynced);

    // Closing the lock file releases the lock too; an explicit unlock just says when.
    let _ = lock.unlock();
    Ok(result)
}
