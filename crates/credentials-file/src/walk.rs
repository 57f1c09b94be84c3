//! Finding and reading the file safely: the path walked one component at a time through
//! directory descriptors, symbolic links followed only when trusted, only regular files opened,
//! reads bounded.
//!
//! Every operation after the walk names its file by the descriptor of the directory holding it
//! and the file's name in it (`openat(2)` and its kin, in the `at` module): the kernel looks the
//! name up in the directory already opened and checked, never again along its path, so renaming
//! or replacing a directory on the way (a race) cannot move a write elsewhere.

use std::ffi::{OsStr, OsString};
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

use crate::at::{self, Status};
use crate::error::{Error, ForeignReason};
use crate::limits::MAX_FILE_SIZE;
use crate::trust::{dir_private_to, euid, link_trusted, user_name};

/// Symbolic links followed before giving up (Linux's own limit).
const MAX_SYMLINKS: usize = 40;

/// Directories created or entered again after a race, at most, in one walk.
const MAX_RETRIES: usize = 64;

/// How a file is opened: never through a link in the last component, never becoming the
/// controlling terminal, never blocking (on a FIFO).
pub(crate) const SAFE: OFlags = OFlags::NOFOLLOW
    .union(OFlags::NOCTTY)
    .union(OFlags::NONBLOCK);

/// `O_NOFOLLOW` met a symbolic link: `ELOOP` on Linux and macOS alike. (With `O_DIRECTORY` as
/// well, Linux answers `ENOTDIR` instead, and macOS still `ELOOP`.)
pub(crate) fn is_eloop(e: &io::Error) -> bool {
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

/// Where a path leads: the directory holding the file, opened, and the file's name in it.
pub(crate) struct Located {
    /// The path as given (for messages).
    pub(crate) given: PathBuf,
    /// The directory holding the file; every later step goes through this descriptor.
    pub(crate) dir: File,
    /// The directory's path as resolved (for messages).
    pub(crate) dir_path: PathBuf,
    /// `dir` as opened.
    dir_meta: Metadata,
    pub(crate) name: OsString,
    /// The entry as found (not followed), `None` when missing.
    pub(crate) entry: Option<Stat>,
}

impl Located {
    /// The resolved path of the file (for messages).
    fn resolved(&self) -> PathBuf {
        self.dir_path.join(&self.name)
    }

    pub(crate) fn shown_of(&self, name: &OsStr) -> PathBuf {
        self.dir_path.join(name)
    }

    pub(crate) fn not_regular(&self, kind: &'static str) -> Error {
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
    pub(crate) fn owner_for_write(&self, file: &impl Status) -> Result<Option<(u32, u32)>, Error> {
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
pub(crate) fn open_regular(loc: &Located) -> Result<Option<(File, Metadata)>, Error> {
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
pub(crate) fn read_bounded(loc: &Located, file: File, meta: &Metadata) -> Result<Vec<u8>, Error> {
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
