//! What another local user can plant: special files, symbolic links, files they own, a lock
//! they hold. Each attack is refused with its whole message, and the legitimate use next to it
//! still works. Tests that need root (another owner, a device node) do nothing without it; the
//! integration tests (tests/integration/test_trust_writer.py) repeat them with a real user.

#![cfg(target_os = "linux")]

mod common;

use std::os::unix::fs::{lchown, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{entries, listing, read, TempDir};
use credentials_file::{
    is_secret_key, CredentialsFile, Error, WriteOptions, LOCK_TIMEOUT, MAX_FILE_SIZE,
};

/// Another user's uid for the tests run as root (nobody's, usually; no account is needed).
const OTHER: u32 = 65534;

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            line.split_whitespace().nth(2).map(|u| u == "0")
        })
        .unwrap_or(false)
}

fn user_of(uid: u32) -> String {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() > 2 && f[2] == uid.to_string()).then(|| format!("user {} (uid {uid})", f[0]))
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}

fn write(path: &Path) -> Result<(), Error> {
    CredentialsFile::at(path)
        .write_profile("p", &entries("P"), WriteOptions::default())
        .map(|_| ())
}

fn message(result: Result<impl std::fmt::Debug, Error>) -> String {
    result.expect_err("should be refused").to_string()
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn not_regular(path: &Path, target: Option<&Path>, kind: &str) -> String {
    let via = target.map_or(String::new(), |t| {
        format!(" leads to {}, which", t.display())
    });
    format!(
        "{}{via} is {kind}, not a regular file: refusing to read or replace it (only a regular \
         file, or none yet, can hold credentials)",
        path.display()
    )
}

fn run(program: &str, args: &[&Path]) {
    let status = Command::new(program).args(args).status().expect(program);
    assert!(status.success(), "{program} failed");
}

// --------------------------------------------------------------------------------------------
// 5. Special files

#[test]
fn a_fifo_is_refused_at_once_for_reading_and_writing() {
    let dir = TempDir::new("fifo");
    let fifo = dir.path().join("credentials");
    run("mkfifo", &[&fifo]);
    let expected = not_regular(&fifo, None, "a named pipe (FIFO)");
    assert_eq!(message(write(&fifo)), expected);
    assert_eq!(
        message(CredentialsFile::at(&fifo).read_profile("p")),
        expected
    );
    assert_eq!(
        message(CredentialsFile::at(&fifo).check_writable()),
        expected
    );
    // Through a link, the link is named with what it leads to.
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&fifo, &link).expect("symlink");
    assert_eq!(
        message(write(&link)),
        not_regular(&link, Some(&fifo), "a named pipe (FIFO)")
    );
    assert!(std::fs::symlink_metadata(&fifo)
        .expect("lstat")
        .file_type()
        .is_fifo());
    assert_eq!(listing(dir.path()), ["credentials", "link"]);
}

#[test]
fn a_link_to_dev_zero_or_dev_null_is_refused_when_reading() {
    let dir = TempDir::new("devzero");
    for device in ["/dev/zero", "/dev/null"] {
        let link = dir.path().join("credentials");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(device, &link).expect("symlink");
        assert_eq!(
            message(CredentialsFile::at(&link).read_profile("p")),
            not_regular(&link, Some(Path::new(device)), "a character device")
        );
    }
}

#[test]
fn a_character_device_is_never_replaced() {
    if !is_root() {
        return;
    }
    let dir = TempDir::new("chardev");
    // A null device of our own: a mistake here destroys only this node.
    let node = dir.path().join("credentials");
    let status = Command::new("mknod")
        .arg(&node)
        .args(["c", "1", "3"])
        .status()
        .expect("mknod");
    assert!(status.success());
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&node, &link).expect("symlink");
    assert_eq!(
        message(write(&node)),
        not_regular(&node, None, "a character device")
    );
    assert_eq!(
        message(write(&link)),
        not_regular(&link, Some(&node), "a character device")
    );
    let meta = std::fs::symlink_metadata(&node).expect("lstat");
    assert!(meta.file_type().is_char_device() && meta.rdev() == 0x103);
    assert_eq!(listing(dir.path()), ["credentials", "link"]);
}

#[test]
fn a_socket_is_refused() {
    let dir = TempDir::new("socket");
    let path = dir.path().join("credentials");
    let _listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
    assert_eq!(message(write(&path)), not_regular(&path, None, "a socket"));
}

#[test]
fn a_file_over_the_limit_is_not_read_and_one_at_the_limit_is() {
    let dir = TempDir::new("large");
    let path = dir.path().join("credentials");
    let line = b"# 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\n";
    let at_limit: Vec<u8> = line
        .iter()
        .copied()
        .cycle()
        .take(usize::try_from(MAX_FILE_SIZE).expect("size"))
        .collect();
    std::fs::write(&path, &at_limit).expect("write");
    assert_eq!(
        CredentialsFile::at(&path)
            .read_profile("p")
            .expect("at the limit"),
        None
    );
    let mut over = at_limit.clone();
    over.extend_from_slice(b"#\n");
    std::fs::write(&path, &over).expect("write");
    let expected = format!(
        "{} is larger than 1048576 bytes, too large for a credentials file: refusing to read it",
        path.display()
    );
    assert_eq!(
        message(CredentialsFile::at(&path).read_profile("p")),
        expected
    );
    assert_eq!(message(write(&path)), expected);
    assert_eq!(read(&path), over);
}

#[test]
fn a_lock_file_that_is_a_link_or_a_fifo_is_refused_and_nothing_is_created() {
    let dir = TempDir::new("lock-link");
    let path = dir.path().join("credentials");
    let lock = dir.path().join("credentials.lock");
    // A dangling link: following it would create the file it names.
    let planted = dir.path().join("nologin");
    std::os::unix::fs::symlink(&planted, &lock).expect("symlink");
    let expected = format!(
        "the lock file {} is a symbolic link, not a regular file: refusing to use it; remove it",
        lock.display()
    );
    assert_eq!(message(write(&path)), expected);
    assert_eq!(
        message(CredentialsFile::at(&path).check_writable()),
        expected
    );
    assert!(!planted.exists() && !path.exists());
    std::fs::remove_file(&lock).expect("rm");
    run("mkfifo", &[&lock]);
    assert_eq!(
        message(write(&path)),
        format!(
            "the lock file {} is a named pipe (FIFO), not a regular file: refusing to use it; \
             remove it",
            lock.display()
        )
    );
    assert_eq!(listing(dir.path()), ["credentials.lock"]);
}

// --------------------------------------------------------------------------------------------
// 6. Symbolic links of another user

/// A directory anyone can write (sticky, as /tmp), holding a link owned by `OTHER`.
/// What a link another user planted in the shared directory `shared` is refused with.
fn planted_message(link: &Path, shared: &Path) -> String {
    format!(
        "refusing to follow the symbolic link {}: it belongs to {}, not to you or root, and {} \
         is not a directory only you or root can write, so the link may have been planted to \
         redirect this file. Give the path it points to instead, if that file is meant",
        link.display(),
        user_of(OTHER),
        shared.display()
    )
}

fn planted_link(dir: &TempDir, target: &Path) -> (PathBuf, PathBuf) {
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).expect("mkdir");
    chmod(&shared, 0o1777);
    let link = shared.join("credentials");
    std::os::unix::fs::symlink(target, &link).expect("symlink");
    lchown(&link, Some(OTHER), Some(OTHER)).expect("lchown");
    (shared, link)
}

#[test]
fn a_link_another_user_planted_is_not_followed() {
    if !is_root() {
        return;
    }
    let dir = TempDir::new("planted");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "[keep]\nk = v\n").expect("write");
    chmod(&victim, 0o644);
    let (shared, link) = planted_link(&dir, &victim);
    let expected = planted_message(&link, &shared);
    assert_eq!(message(write(&link)), expected);
    assert_eq!(
        message(CredentialsFile::at(&link).read_profile("p")),
        expected
    );
    assert_eq!(
        message(CredentialsFile::at(&link).check_writable()),
        expected
    );
    assert_eq!(read(&victim), b"[keep]\nk = v\n");
    assert_eq!(
        std::fs::metadata(&victim).expect("stat").mode() & 0o777,
        0o644
    );
    assert_eq!(listing(&shared), ["credentials"]);

    // The same link, ours: followed.
    lchown(&link, Some(0), Some(0)).expect("lchown");
    write(&link).expect("our own link");
    assert!(String::from_utf8(read(&victim))
        .expect("utf-8")
        .starts_with("[keep]\nk = v\n[p]\n"));
}

#[test]
fn a_link_of_another_user_in_a_directory_only_we_write_is_followed() {
    if !is_root() {
        return;
    }
    let dir = TempDir::new("private-link");
    let target = dir.path().join("real");
    let link = dir.path().join("credentials");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    lchown(&link, Some(OTHER), Some(OTHER)).expect("lchown");
    chmod(dir.path(), 0o755);
    write(&link).expect("a directory no one else writes");
    assert!(target.is_file());
}

#[test]
fn a_planted_link_on_the_way_to_the_file_is_not_followed_either() {
    if !is_root() {
        return;
    }
    let dir = TempDir::new("planted-dir");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    let (shared, link) = planted_link(&dir, &elsewhere);
    let path = link.join("credentials");
    let expected = planted_message(&link, &shared);
    assert_eq!(message(write(&path)), expected);
    assert!(listing(&elsewhere).is_empty());
}

// --------------------------------------------------------------------------------------------
// 7. Who owns the result

#[test]
fn a_file_another_user_made_in_a_shared_directory_is_not_filled() {
    if !is_root() {
        return;
    }
    let dir = TempDir::new("foreign");
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).expect("mkdir");
    chmod(&shared, 0o1777);
    let path = shared.join("credentials");
    std::fs::write(&path, "").expect("write");
    std::os::unix::fs::chown(&path, Some(OTHER), Some(OTHER)).expect("chown");
    let expected = format!(
        "{} belongs to {}, who does not own {} alone: the file may have been planted there, and \
         writing credentials into it would hand them to that user. Refusing; remove the file, \
         or choose a file in a directory that only its owner can write",
        path.display(),
        user_of(OTHER),
        shared.display()
    );
    assert_eq!(message(write(&path)), expected);
    assert_eq!(
        message(CredentialsFile::at(&path).check_writable()),
        expected
    );
    // Nor trusted for reading: its profiles could be anyone's keys.
    assert_eq!(
        message(CredentialsFile::at(&path).read_profile("p")),
        expected
    );
    assert_eq!(read(&path), b"");
    assert_eq!(listing(&shared), ["credentials"]);

    // Our own file in the same directory is written, and stays ours.
    let ours = shared.join("ours");
    write(&ours).expect("our own file");
    assert_eq!(std::fs::metadata(&ours).expect("stat").uid(), 0);
}

#[test]
fn a_users_own_file_written_by_root_stays_theirs() {
    if !is_root() {
        return;
    }
    let dir = TempDir::new("theirs");
    let home = dir.path().join("home");
    std::fs::create_dir(&home).expect("mkdir");
    std::fs::write(home.join("credentials"), "[other]\nk = v\n").expect("write");
    for path in [&home, &home.join("credentials")] {
        std::os::unix::fs::chown(path, Some(OTHER), Some(OTHER)).expect("chown");
    }
    chmod(&home, 0o700);
    let path = home.join("credentials");
    write(&path).expect("the user's own file");
    let meta = std::fs::metadata(&path).expect("stat");
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o777),
        (OTHER, OTHER, 0o600)
    );
    let stored = CredentialsFile::at(&path)
        .read_profile("p")
        .expect("read")
        .expect("present");
    assert_eq!(stored.get("aws_access_key_id"), Some("ASIAP"));

    // The same directory writable by its group: no longer the user's alone.
    chmod(&home, 0o770);
    assert!(matches!(write(&path), Err(Error::ForeignOwner { .. })));
}

// --------------------------------------------------------------------------------------------
// 10. A lock held forever

#[test]
fn a_lock_held_by_another_process_is_waited_for_a_bounded_time() {
    let dir = TempDir::new("held");
    let path = dir.path().join("credentials");
    std::fs::write(&path, "[other]\nk = v\n").expect("write");
    let lock_path = dir.path().join("credentials.lock");
    let holder = std::fs::File::create(&lock_path).expect("lock file");
    holder.lock().expect("hold the lock");
    let file = CredentialsFile::at(&path).with_lock_timeout(Duration::from_millis(50));
    let expected = format!(
        "the lock file {} stayed locked by another process for 50 ms: giving up. Retry later, or \
         find the process holding it (fuser {})",
        lock_path.display(),
        lock_path.display()
    );
    assert_eq!(
        message(file.write_profile("p", &entries("P"), WriteOptions::default())),
        expected
    );
    assert_eq!(message(file.check_writable()), expected);
    assert_eq!(read(&path), b"[other]\nk = v\n");
    holder.unlock().expect("release");
    file.check_writable().expect("free now");
    file.write_profile("p", &entries("P"), WriteOptions::default())
        .expect("free now");
    assert_eq!(LOCK_TIMEOUT, Duration::from_secs(10));
}

#[test]
fn check_writable_creates_nothing() {
    let dir = TempDir::new("check");
    let path = dir.path().join("a").join("credentials");
    CredentialsFile::at(&path)
        .check_writable()
        .expect("nothing there yet");
    std::fs::create_dir(dir.path().join("a")).expect("mkdir");
    CredentialsFile::at(&path)
        .check_writable()
        .expect("no file yet");
    assert!(listing(&dir.path().join("a")).is_empty());
}

// --------------------------------------------------------------------------------------------
// 9. Secret keys

#[test]
fn every_credential_bearing_key_is_secret() {
    for key in [
        "aws_secret_access_key",
        "aws_session_token",
        "aws_security_token",
        "credential_process",
        "AWS_Security_Token",
        "sso_client_secret",
        "db_password",
    ] {
        assert!(is_secret_key(key), "{key}");
    }
    for key in [
        "aws_access_key_id",
        "region",
        "expiration",
        "x_rustaws_creds_managed",
        "role_arn",
    ] {
        assert!(!is_secret_key(key), "{key}");
    }
    let dir = TempDir::new("debug");
    let path = dir.path().join("credentials");
    std::fs::write(
        &path,
        "[p]\naws_security_token = LEGACYTOKEN\ncredential_process = /bin/get --key SECRETARG\n",
    )
    .expect("write");
    let stored = CredentialsFile::at(&path)
        .read_profile("p")
        .expect("read")
        .expect("present");
    let shown = format!("{stored:?}");
    assert!(
        !shown.contains("LEGACYTOKEN") && !shown.contains("SECRETARG"),
        "{shown}"
    );
}
