//! The system calls the walk and the write go through, on a directory descriptor and one name in
//! that directory (`openat(2)`, `fstatat(2)`, `readlinkat(2)`, `mkdirat(2)`, `renameat(2)`,
//! `unlinkat(2)`, reading the directory's entries): the kernel looks the name up in the directory
//! already opened and checked, never again along its path. Errors are `std::io::Error`s, as the
//! standard library would give them.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use rustix::fs::{AtFlags, Dev, Dir, FileType, Mode, OFlags, RawMode, Stat, CWD};
use rustix::io::Errno;

/// A directory: read-only, never through a link in its last component, without blocking.
const DIR: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::NONBLOCK);

/// The name as the system calls take it; a NUL byte in it is refused as the standard library
/// refuses it.
fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "file name contained an unexpected NUL byte",
        )
    })
}

/// Opens `name` in `dir` with `flags` (and `O_CLOEXEC`), `mode` for a file that `O_CREAT` makes.
pub(crate) fn open(dir: &File, name: &OsStr, flags: OFlags, mode: Mode) -> io::Result<File> {
    open_at(dir, &c_name(name)?, flags, mode)
}

/// Opens the directory `name` in `dir`.
pub(crate) fn open_dir(dir: &File, name: &OsStr) -> io::Result<File> {
    open(dir, name, DIR, Mode::empty())
}

/// Opens the root directory, `/`.
pub(crate) fn open_root() -> io::Result<File> {
    open_at(CWD, c"/", DIR, Mode::empty())
}

/// `openat(2)` as the standard library's `File::open` does it: `O_CLOEXEC` added, and tried
/// again when a signal interrupts it.
fn open_at(dir: impl AsFd, name: &CStr, flags: OFlags, mode: Mode) -> io::Result<File> {
    loop {
        match rustix::fs::openat(&dir, name, flags | OFlags::CLOEXEC, mode) {
            Err(Errno::INTR) => continue,
            opened => return Ok(File::from(opened?)),
        }
    }
}

/// `name` itself in `dir`, a link not followed.
pub(crate) fn status(dir: &File, name: &OsStr) -> io::Result<Stat> {
    let name = c_name(name)?;
    Ok(rustix::fs::statat(dir, &name, AtFlags::SYMLINK_NOFOLLOW)?)
}

/// The target of the symbolic link `name` in `dir`.
pub(crate) fn read_link(dir: &File, name: &OsStr) -> io::Result<PathBuf> {
    let target = rustix::fs::readlinkat(dir, &c_name(name)?, Vec::new())?;
    Ok(PathBuf::from(OsString::from_vec(target.into_bytes())))
}

/// Creates the directory `name` in `dir`, mode 0700 (less the umask).
pub(crate) fn create_dir(dir: &File, name: &OsStr) -> io::Result<()> {
    Ok(rustix::fs::mkdirat(dir, &c_name(name)?, Mode::RWXU)?)
}

/// Renames `from` to `to`, both in `dir`, replacing `to` atomically.
pub(crate) fn rename(dir: &File, from: &OsStr, to: &OsStr) -> io::Result<()> {
    let (from, to) = (c_name(from)?, c_name(to)?);
    Ok(rustix::fs::renameat(dir, &from, dir, &to)?)
}

/// Removes the file `name` from `dir`.
pub(crate) fn remove(dir: &File, name: &OsStr) -> io::Result<()> {
    Ok(rustix::fs::unlinkat(dir, &c_name(name)?, AtFlags::empty())?)
}

/// The names in `dir` (`.` and `..` among them), as far as they can be read.
pub(crate) fn names(dir: &File) -> io::Result<impl Iterator<Item = OsString>> {
    let entries = Dir::read_from(dir)?;
    Ok(entries
        .flatten()
        .map(|entry| OsString::from_vec(entry.file_name().to_bytes().to_vec())))
}

/// What the checks read of a file's status, alike from the [`Stat`] of a name looked at in its
/// directory and from the [`Metadata`] of an opened file.
pub(crate) trait Status {
    fn kind(&self) -> FileType;
    fn owner(&self) -> u32;
    fn group(&self) -> u32;
    /// The permission bits.
    fn perms(&self) -> Mode;
    /// Device and inode number: the same pair is the same file.
    fn id(&self) -> (Dev, u64);
}

impl Status for Stat {
    fn kind(&self) -> FileType {
        FileType::from_raw_mode(self.st_mode)
    }
    fn owner(&self) -> u32 {
        self.st_uid
    }
    fn group(&self) -> u32 {
        self.st_gid
    }
    fn perms(&self) -> Mode {
        Mode::from_raw_mode(self.st_mode)
    }
    fn id(&self) -> (Dev, u64) {
        (self.st_dev, self.st_ino)
    }
}

// `st_mode` and `st_dev` are narrower on some systems than `Metadata` gives them: cast back.
impl Status for Metadata {
    fn kind(&self) -> FileType {
        FileType::from_raw_mode(self.mode() as RawMode)
    }
    fn owner(&self) -> u32 {
        self.uid()
    }
    fn group(&self) -> u32 {
        self.gid()
    }
    fn perms(&self) -> Mode {
        Mode::from_raw_mode(self.mode() as RawMode)
    }
    fn id(&self) -> (Dev, u64) {
        (self.dev() as Dev, self.ino())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `Stat` of a name and the `Metadata` of the file opened by that name say the same; a
    /// link is not opened with `O_NOFOLLOW` (`ELOOP`).
    #[test]
    fn a_name_and_its_opened_file_agree() {
        let path = std::env::temp_dir().join(format!("credentials-file-at-{}", std::process::id()));
        std::fs::create_dir(&path).expect("mkdir");
        std::fs::write(path.join("f"), "x").expect("write");
        std::os::unix::fs::symlink("f", path.join("l")).expect("symlink");
        let dir = File::open(&path).expect("open the directory");
        for name in [".", "f"] {
            let (name, flags) = (OsStr::new(name), OFlags::RDONLY | OFlags::NOFOLLOW);
            let stat = status(&dir, name).expect("stat");
            let meta = open(&dir, name, flags, Mode::empty())
                .and_then(|file| file.metadata())
                .expect("open");
            assert!(stat.kind() == meta.kind() && stat.perms() == meta.perms());
            assert_eq!((stat.owner(), stat.group()), (meta.owner(), meta.group()));
            assert_eq!(stat.id(), meta.id());
        }
        let link = OsStr::new("l");
        assert_eq!(status(&dir, link).expect("stat").kind(), FileType::Symlink);
        let refused = open(&dir, link, OFlags::RDONLY | OFlags::NOFOLLOW, Mode::empty());
        assert_eq!(
            refused.err().and_then(|e| e.raw_os_error()),
            Some(Errno::LOOP.raw_os_error())
        );
        std::fs::remove_dir_all(&path).expect("clean up");
    }
}
