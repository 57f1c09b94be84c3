//! The locked, atomic read-modify-write of one file.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Step, StepHook, STOP_AT_ENV};

/// Symbolic links followed before giving up (Linux's own limit).
const MAX_SYMLINKS: usize = 40;

/// Follows a chain of symbolic links to the file that is really written. A dangling link
/// resolves to the path it points to (that file is then created).
pub(crate) fn resolve_symlinks(path: &Path) -> Result<PathBuf, Error> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&current)
                    .map_err(|source| Error::io("read the symbolic link", &current, source))?;
                current = match current.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(source) => return Err(Error::io("inspect", &current, source)),
        }
    }
    Err(Error::SymlinkLoop {
        path: path.to_path_buf(),
    })
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// `.<file name>.tmp-`: temporary files of the target start with this.
fn temp_prefix(target: &Path) -> Vec<u8> {
    let mut prefix = b".".to_vec();
    if let Some(name) = target.file_name() {
        prefix.extend_from_slice(name.as_encoded_bytes());
    }
    prefix.extend_from_slice(b".tmp-");
    prefix
}

fn step(hook: Option<&StepHook>, reached: Step) {
    if std::env::var_os(STOP_AT_ENV).is_some_and(|name| name == reached.name()) {
        std::process::abort();
    }
    if let Some(hook) = hook {
        hook(reached);
    }
}

/// Removes the temporary file when dropped, unless it has been renamed into place. This runs on
/// error returns and on panics (a hook that panics), not on `abort`.
struct TempGuard {
    path: PathBuf,
    armed: bool,
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(unix)]
fn create_dir_all_private(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir_all_private(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new().recursive(true).create(dir)
}

fn private_options(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Mode 0600 whatever the umask, and the old file's owner and group if they differ from ours
/// (possible only as root; a failure is an error rather than a silent change of owner).
#[cfg(unix)]
fn set_private_mode_and_owner(
    file: &File,
    old: Option<&fs::Metadata>,
) -> Result<(), (&'static str, io::Error)> {
    use std::os::unix::fs::{fchown, MetadataExt, PermissionsExt};
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(|e| ("set the mode of", e))?;
    if let Some(old) = old {
        let new = file.metadata().map_err(|e| ("inspect", e))?;
        if (new.uid(), new.gid()) != (old.uid(), old.gid()) {
            fchown(file, Some(old.uid()), Some(old.gid())).map_err(|e| ("set the owner of", e))?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_private_mode_and_owner(
    _file: &File,
    _old: Option<&fs::Metadata>,
) -> Result<(), (&'static str, io::Error)> {
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Removes temporary files a crashed writer left behind. Only called with the lock held: every
/// writer holds it while its temporary file exists, so any such file found now is a leftover.
fn remove_leftover_temps(dir: &Path, target: &Path) {
    let prefix = temp_prefix(target);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().as_encoded_bytes().starts_with(&prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn create_temp(dir: &Path, target: &Path) -> Result<(File, PathBuf), Error> {
    let prefix = String::from_utf8_lossy(&temp_prefix(target)).into_owned();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut last_error = None;
    for _ in 0..16 {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{prefix}{}-{n}-{nanos:09}", std::process::id()));
        match private_options(OpenOptions::new().write(true).create_new(true)).open(&path) {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some((e, path)),
            Err(source) => return Err(Error::io("create the temporary file", &path, source)),
        }
    }
    let (source, path) = match last_error {
        Some(found) => found,
        None => (io::Error::other("no name tried"), dir.to_path_buf()),
    };
    Err(Error::io("create the temporary file", &path, source))
}

/// Locks `<target>.lock`, reads the target (`None` if missing), lets `compute` produce the new
/// text, and replaces the target with it atomically. See the crate documentation for the steps.
pub(crate) fn locked_replace<T>(
    path: &Path,
    hook: Option<&StepHook>,
    compute: impl FnOnce(Option<&[u8]>) -> Result<(Vec<u8>, T), Error>,
) -> Result<T, Error> {
    let target = resolve_symlinks(path)?;
    let dir = parent_dir(&target);
    if !dir.is_dir() {
        create_dir_all_private(&dir)
            .map_err(|source| Error::io("create the directory", &dir, source))?;
    }

    let lock_path = with_suffix(&target, ".lock");
    let lock = private_options(OpenOptions::new().read(true).write(true).create(true))
        .truncate(false)
        .open(&lock_path)
        .map_err(|source| Error::io("open the lock file", &lock_path, source))?;
    lock.lock()
        .map_err(|source| Error::io("lock", &lock_path, source))?;
    step(hook, Step::Locked);

    let (old, old_meta) = match fs::read(&target) {
        Ok(bytes) => {
            let meta =
                fs::metadata(&target).map_err(|source| Error::io("inspect", &target, source))?;
            (Some(bytes), Some(meta))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => (None, None),
        Err(source) => return Err(Error::io("read", &target, source)),
    };
    step(hook, Step::Read);
    remove_leftover_temps(&dir, &target);

    let (new, result) = compute(old.as_deref())?;

    let (mut file, temp_path) = create_temp(&dir, &target)?;
    let mut guard = TempGuard {
        path: temp_path,
        armed: true,
    };
    file.write_all(&new)
        .map_err(|source| Error::io("write the temporary file", &guard.path, source))?;
    set_private_mode_and_owner(&file, old_meta.as_ref())
        .map_err(|(op, source)| Error::io(op, &guard.path, source))?;
    step(hook, Step::TempWritten);

    file.sync_all()
        .map_err(|source| Error::io("fsync the temporary file", &guard.path, source))?;
    drop(file);
    step(hook, Step::TempSynced);

    fs::rename(&guard.path, &target)
        .map_err(|source| Error::io("rename the temporary file over", &target, source))?;
    guard.armed = false;
    step(hook, Step::Renamed);

    sync_dir(&dir).map_err(|source| Error::io("fsync the directory", &dir, source))?;
    step(hook, Step::DirSynced);

    // Closing the lock file releases the lock too; an explicit unlock just says when.
    let _ = lock.unlock();
    Ok(result)
}
