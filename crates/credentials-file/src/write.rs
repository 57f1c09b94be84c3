//! Finding, reading and replacing the file safely: the path walked one component at a time
//! through directory descriptors, symbolic links followed only when trusted, only regular files
//! opened, reads bounded, the owner of the result decided, the lock waited for a bounded time,
//! and the locked, atomic read-modify-write itself.
//!
//! Every operation after the walk names its file by the descriptor of the directory holding it
//! and the file's name in it (`openat(2)` and its kin, in the `at` module): the kernel looks the
//! name up in the directory already opened and checked, never again along its path, so renaming
//! or replacing a directory on the way (a race) cannot move a write elsewhere.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::fs::{fchown, MetadataExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustix::fs::{FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

use crate::at::{self, Status};
use crate::{Error, ForeignReason, Step, StepHook, MAX_FILE_SIZE, STOP_AT_ENV};

/// Symbolic links followed before giving up (Linux's own limit).
const MAX_SYMLINKS: usize = 40;

/// Directories created or entered again after a race, at most, in one walk.
const MAX_RETRIES: usize = 64;

/// How a file is opened: never through a link in the last component, never becoming the
/// controlling terminal, never blocking (on a FIFO).
const SAFE: OFlags = OFlags::NOFOLLOW
    .union(OFlags::NOCTTY)
    .union(OFlags::NONBLOCK);

/// Mode 0600, for the files created.
const PRIVATE: Mode = Mode::RUSR.union(Mode::WUSR);

/// The effective user ID.
pub(crate) fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// `O_NOFOLLOW` met a symbolic link: `ELOOP` on Linux and macOS alike. (With `O_DIRECTORY` as
/// well, Linux answers `ENOTDIR` instead, and macOS still `ELOOP`.)
fn is_eloop(e: &io::Error) -> bool {
    e.raw_os_error() == Some(Errno::LOOP.raw_os_error())
}

/// What a file that is not regular is, for messages.
pub(crate) fn kind_of(meta: &impl Status) -> &'static str {
    match meta.kind() {
        FileType::Directory => "a directory",
        FileType::Symlink => "a symbolic link",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Fifo => "a named pipe (FIFO)",
        FileType::Socket => "a socket",
        _ => "not a regular file",
    }
}

/// Writable by its owner alone (no group or other write permission).
fn owner_only_writes(dir: &impl Status) -> bool {
    !dir.perms().intersects(Mode::WGRP | Mode::WOTH)
}

/// The rule for following a symbolic link (in the spirit of the kernel's `protected_symlinks`,
/// stricter): the link belongs to the running user or to root, or the directory holding it
/// belongs to the running user or to root and no one else can write it.
fn link_trusted(link: &impl Status, dir: &impl Status, euid: u32) -> bool {
    [euid, 0].contains(&link.owner())
        || ([euid, 0].contains(&dir.owner()) && owner_only_writes(dir))
}

/// The directory belongs to `uid`, and no one else (but root) can write it: it is that user's
/// own place, and only they or root can have put a file there.
fn dir_private_to(dir: &impl Status, uid: u32) -> bool {
    dir.owner() == uid && owner_only_writes(dir)
}

/// The user name of `uid` from `/etc/passwd`, if any.
pub(crate) fn user_name(uid: u32) -> Option<String> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_owned())
    })
}

/// Where a path leads: the directory holding the file, opened, and the file's name in it.
pub(crate) struct Located {
    /// The path as given (for messages).
    given: PathBuf,
    /// The directory holding the file; every later step goes through this descriptor.
    dir: File,
    /// The directory's path as resolved (for messages).
    dir_path: PathBuf,
    /// `dir` as opened.
    dir_meta: Metadata,
    name: OsString,
    /// The entry as found (not followed), `None` when missing.
    entry: Option<Stat>,
}

impl Located {
    /// The resolved path of the file (for messages).
    fn resolved(&self) -> PathBuf {
        self.dir_path.join(&self.name)
    }

    fn shown_of(&self, name: &OsStr) -> PathBuf {
        self.dir_path.join(name)
    }

    fn not_regular(&self, kind: &'static str) -> Error {
        let resolved = self.resolved();
        Error::NotRegular {
            target: (resolved != self.given).then_some(resolved),
            path: self.given.clone(),
            kind,
        }
    }

    fn foreign(&self, owner: u32, reason: ForeignReason) -> Error {
        Error::ForeignOwner {
            path: self.given.clone(),
            uid: owner,
            user: user_name(owner),
            dir: self.dir_path.clone(),
            reason,
        }
    }

    /// A file whose owner is the running user or root, or owns its directory alone, may be
    /// read: no one else can have planted it.
    fn check_readable(&self, file: &impl Status) -> Result<(), Error> {
        let owner = file.owner();
        if [euid(), 0].contains(&owner) || dir_private_to(&self.dir_meta, owner) {
            return Ok(());
        }
        Err(self.foreign(owner, ForeignReason::Planted))
    }

    /// Who owns the result: `None` for the running user; the file's owner and group when root
    /// writes a user's own file (see [`ForeignReason`] for the refusals).
    fn owner_for_write(&self, file: &impl Status) -> Result<Option<(u32, u32)>, Error> {
        let (owner, me) = (file.owner(), euid());
        if owner == me {
            return Ok((me == 0).then_some((owner, file.group())));
        }
        if !dir_private_to(&self.dir_meta, owner) {
            return Err(self.foreign(owner, ForeignReason::Planted));
        }
        if me != 0 {
            return Err(self.foreign(owner, ForeignReason::NotRoot));
        }
        Ok(Some((owner, file.group())))
    }
}

enum Part {
    Root,
    Up,
    Name(OsString),
}

fn parts(path: &Path) -> Vec<Part> {
    path.components()
        .filter_map(|c| match c {
            Component::RootDir => Some(Part::Root),
            Component::ParentDir => Some(Part::Up),
            Component::Normal(name) => Some(Part::Name(name.to_owned())),
            Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

/// Walks `path` from `/`, one component at a time through directory descriptors, following
/// symbolic links only when [`link_trusted`]. With `create`, missing directories are created
/// (mode 0700); without, a missing directory or one that is a file gives `None` (no file can
/// be there).
pub(crate) fn locate(path: &Path, create: bool) -> Result<Option<Located>, Error> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|source| Error::io("find the current directory for", path, source))?
            .join(path)
    };
    let me = euid();
    let inspect = |shown: &Path, source: io::Error| Error::io("inspect", shown, source);
    let root = |shown: &Path| -> Result<(File, Metadata), Error> {
        let dir = at::open_root().map_err(|e| inspect(shown, e))?;
        let meta = dir.metadata().map_err(|e| inspect(shown, e))?;
        Ok((dir, meta))
    };
    let mut todo: Vec<Part> = parts(&absolute);
    todo.reverse();
    let (mut dir, mut dir_meta) = root(path)?;
    let mut dir_path = PathBuf::from("/");
    let mut links = 0;
    let mut retries = 0;
    while let Some(part) = todo.pop() {
        let last = todo.is_empty();
        let name = match part {
            Part::Root => {
                (dir, dir_meta) = root(path)?;
                dir_path = PathBuf::from("/");
                continue;
            }
            Part::Up => {
                dir = at::open_dir(&dir, OsStr::new("..")).map_err(|e| inspect(&dir_path, e))?;
                dir_meta = dir.metadata().map_err(|e| inspect(&dir_path, e))?;
                dir_path.pop();
                continue;
            }
            Part::Name(name) => name,
        };
        let shown = dir_path.join(&name);
        match at::status(&dir, &name) {
            Ok(link) if link.kind() == FileType::Symlink => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Error::SymlinkLoop {
                        path: path.to_path_buf(),
                    });
                }
                if !link_trusted(&link, &dir_meta, me) {
                    return Err(Error::UntrustedSymlink {
                        link: shown,
                        uid: link.owner(),
                        user: user_name(link.owner()),
                        dir: dir_path.clone(),
                    });
                }
                let target = at::read_link(&dir, &name)
                    .map_err(|source| Error::io("read the symbolic link", &shown, source))?;
                // A link cannot change; the same inode, still trusted, is the same link.
                let again = at::status(&dir, &name).map_err(|e| inspect(&shown, e))?;
                if again.id() != link.id() || !link_trusted(&again, &dir_meta, me) {
                    return Err(Error::Changed { path: shown });
                }
                let mut more = parts(&target);
                more.reverse();
                todo.extend(more);
            }
            Ok(entry) if last => {
                return Ok(Some(Located {
                    given: path.to_path_buf(),
                    dir,
                    dir_path,
                    dir_meta,
                    name,
                    entry: Some(entry),
                }))
            }
            Ok(entry) if entry.kind() == FileType::Directory => {
                let opened = at::open_dir(&dir, &name).map_err(|e| {
                    if is_eloop(&e) {
                        Error::Changed {
                            path: shown.clone(),
                        }
                    } else {
                        inspect(&shown, e)
                    }
                })?;
                let meta = opened.metadata().map_err(|e| inspect(&shown, e))?;
                if meta.id() != entry.id() {
                    return Err(Error::Changed { path: shown });
                }
                dir = opened;
                dir_meta = meta;
                dir_path = shown;
            }
            Ok(_) if !create => return Ok(None),
            Ok(_) => {
                let source = io::Error::from(io::ErrorKind::NotADirectory);
                return Err(inspect(path, source));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && last => {
                return Ok(Some(Located {
                    given: path.to_path_buf(),
                    dir,
                    dir_path,
                    dir_meta,
                    name,
                    entry: None,
                }))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && !create => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                retries += 1;
                if retries > MAX_RETRIES {
                    return Err(Error::Changed { path: shown });
                }
                match at::create_dir(&dir, &name) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(source) => return Err(Error::io("create the directory", &shown, source)),
                }
                // Enter it (or whatever raced in) through the same checks.
                todo.push(Part::Name(name));
            }
            Err(e) if e.kind() == io::ErrorKind::NotADirectory && !create => return Ok(None),
            Err(source) => return Err(inspect(&shown, source)),
        }
    }
    // The path ends at a directory ("/", "..").
    let source = io::Error::from(io::ErrorKind::IsADirectory);
    Err(Error::io("use as a file", path, source))
}

/// Opens the located file for reading, only if it is a regular file (looked at afresh, since a
/// writer runs this with the lock held, and checked again on the opened descriptor, so nothing
/// can be swapped in between), without following a link and without blocking on a FIFO; `None`
/// when it does not exist.
fn open_regular(loc: &Located) -> Result<Option<(File, Metadata)>, Error> {
    match at::status(&loc.dir, &loc.name) {
        Ok(entry) if entry.kind() != FileType::RegularFile => {
            return Err(loc.not_regular(kind_of(&entry)))
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::io("inspect", &loc.given, source)),
    }
    let file = match at::open(&loc.dir, &loc.name, OFlags::RDONLY | SAFE, Mode::empty()) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if is_eloop(&e) => {
            return Err(Error::Changed {
                path: loc.resolved(),
            })
        }
        Err(source) => return Err(Error::io("open", &loc.given, source)),
    };
    let meta = file
        .metadata()
        .map_err(|source| Error::io("inspect", &loc.given, source))?;
    if !meta.is_file() {
        return Err(loc.not_regular(kind_of(&meta)));
    }
    Ok(Some((file, meta)))
}

/// The whole file, at most [`MAX_FILE_SIZE`] bytes (more is refused, never read).
fn read_bounded(loc: &Located, file: File, meta: &Metadata) -> Result<Vec<u8>, Error> {
    let too_large = || Error::TooLarge {
        path: loc.given.clone(),
        limit: MAX_FILE_SIZE,
    };
    if meta.len() > MAX_FILE_SIZE {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::io("read", &loc.given, source))?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The file's bytes for a reader (no lock): `None` if it or its directory does not exist.
pub(crate) fn read_file(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    let Some(loc) = locate(path, false)? else {
        return Ok(None);
    };
    let Some((file, meta)) = open_regular(&loc)? else {
        return Ok(None);
    };
    loc.check_readable(&meta)?;
    read_bounded(&loc, file, &meta).map(Some)
}

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

fn lock_name(name: &OsStr) -> OsString {
    let mut lock = name.to_owned();
    lock.push(".lock");
    lock
}

/// Opens `<name>.lock` beside the file without following a link (a link or anything but a
/// regular file is refused); `create` makes it (mode 0600) when missing, else `None`.
fn open_lock(loc: &Located, create: bool) -> Result<Option<File>, Error> {
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
fn wait_for_lock(lock: &File, shown: &Path, timeout: Duration) -> Result<(), Error> {
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

fn step(hook: Option<&StepHook>, reached: Step) {
    // Only builds with debug assertions (cargo's dev and test profiles) have the hook: the
    // release build that ships never reads the variable.
    if cfg!(debug_assertions)
        && std::env::var_os(STOP_AT_ENV).is_some_and(|name| name == reached.name())
    {
        std::process::abort();
    }
    if let Some(hook) = hook {
        hook(reached);
    }
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
