//! Whom to trust: the running user, root, and a user in a directory of their own (see "Who
//! is trusted" in the crate documentation).

use std::fs;

use rustix::fs::Mode;

use crate::at::Status;

/// The effective user ID.
pub(crate) fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Writable by its owner alone (no group or other write permission).
fn owner_only_writes(dir: &impl Status) -> bool {
    !dir.perms().intersects(Mode::WGRP | Mode::WOTH)
}

/// The rule for following a symbolic link (in the spirit of the kernel's `protected_symlinks`,
/// stricter): the link belongs to the running user or to root, or the directory holding it
/// belongs to the running user or to root and no one else can write it.
pub(crate) fn link_trusted(link: &impl Status, dir: &impl Status, euid: u32) -> bool {
    [euid, 0].contains(&link.owner())
        || ([euid, 0].contains(&dir.owner()) && owner_only_writes(dir))
}

/// The directory belongs to `uid`, and no one else (but root) can write it: it is that user's
/// own place, and only they or root can have put a file there.
pub(crate) fn dir_private_to(dir: &impl Status, uid: u32) -> bool {
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
