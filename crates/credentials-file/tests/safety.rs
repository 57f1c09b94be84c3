//! Modes, symbolic links, crashes at every step, parallel writers.
//!
//! Crash and process tests re-run this test binary as a child that executes `child_helper` only
//! (it does nothing unless `CREDFILE_TEST_CHILD` is set).

#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::{Arc, Barrier};

use common::{entries, listing, read, TempDir};
use credentials_file::{CredentialsFile, Step, WriteOptions, STOP_AT_ENV};

const CHILD_ENV: &str = "CREDFILE_TEST_CHILD";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// Runs in a child process: writes profile `CREDFILE_PROFILE` with `entries(CREDFILE_TAG)` into
/// `CREDFILE_PATH`, after `CREDFILE_GO` exists if that is set.
#[test]
fn child_helper() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let var = |name: &str| std::env::var(name).expect("child variable");
    if let Ok(go) = std::env::var("CREDFILE_GO") {
        while !Path::new(&go).exists() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    CredentialsFile::at(var("CREDFILE_PATH"))
        .write_profile(
            &var("CREDFILE_PROFILE"),
            &entries(&var("CREDFILE_TAG")),
            WriteOptions::default(),
        )
        .expect("child write");
}

fn child(path: &Path, profile: &str, tag: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args(["--exact", "child_helper", "--test-threads=1", "--quiet"])
        .env(CHILD_ENV, "1")
        .env("CREDFILE_PATH", path)
        .env("CREDFILE_PROFILE", profile)
        .env("CREDFILE_TAG", tag)
        .env_remove(STOP_AT_ENV)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    command
}

#[test]
fn file_is_0600_and_created_directories_0700() {
    let dir = TempDir::new("modes");
    let nested = dir.path().join("a").join("b");
    let path = nested.join("credentials");
    CredentialsFile::at(&path)
        .write_profile("p", &entries("P"), WriteOptions::default())
        .expect("write");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&nested), 0o700);
    assert_eq!(mode(&dir.path().join("a")), 0o700);
    let lock = nested.join("credentials.lock");
    assert_eq!(mode(&lock), 0o600);

    // An existing world-readable file becomes 0600.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    CredentialsFile::at(&path)
        .write_profile("q", &entries("Q"), WriteOptions::default())
        .expect("write");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(listing(&nested), ["credentials", "credentials.lock"]);
}

#[test]
fn a_symlink_is_kept_and_its_target_written() {
    let dir = TempDir::new("symlink");
    let real_dir = dir.path().join("real");
    std::fs::create_dir(&real_dir).expect("mkdir");
    let target = real_dir.join("creds");
    std::fs::write(&target, "[other]\nk = v\n").expect("write");
    // link2 -> link1 -> real/creds, link1 relative.
    let link1 = dir.path().join("link1");
    let link2 = dir.path().join("link2");
    std::os::unix::fs::symlink("real/creds", &link1).expect("symlink");
    std::os::unix::fs::symlink(&link1, &link2).expect("symlink");

    CredentialsFile::at(&link2)
        .write_profile("p", &entries("P"), WriteOptions::default())
        .expect("write");
    for link in [&link1, &link2] {
        assert!(std::fs::symlink_metadata(link)
            .expect("lstat")
            .file_type()
            .is_symlink());
    }
    let text = String::from_utf8(read(&target)).expect("utf-8");
    assert!(text.starts_with("[other]\nk = v\n[p]\n"), "{text}");
    assert_eq!(mode(&target), 0o600);
    assert!(real_dir.join("creds.lock").exists());
    let stored = credentials_file::read_profile(&link2, "p")
        .expect("read")
        .expect("present");
    assert_eq!(stored.get("aws_access_key_id"), Some("ASIAP"));
}

const OLD: &str =
    "# keep\n[p]\naws_access_key_id = ASIAOLD\nx_rustaws_creds_managed = true\n\n[q]\nk = v\n";

/// The text a successful write of `p` with tag NEW gives.
fn expected_new() -> Vec<u8> {
    let dir = TempDir::new("expected");
    let path = dir.path().join("credentials");
    std::fs::write(&path, OLD).expect("write");
    CredentialsFile::at(&path)
        .write_profile("p", &entries("NEW"), WriteOptions::default())
        .expect("write");
    read(&path)
}

fn temp_files(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|name| name.contains(".tmp-"))
        .collect()
}

#[test]
fn a_process_killed_at_any_step_leaves_the_old_or_the_new_file() {
    let new = expected_new();
    for step in Step::ALL {
        let dir = TempDir::new("crash");
        let path = dir.path().join("credentials");
        std::fs::write(&path, OLD).expect("write");
        let status: ExitStatus = child(&path, "p", "NEW")
            .env(STOP_AT_ENV, step.name())
            .status()
            .expect("run the child");
        assert_eq!(
            status.signal(),
            Some(6),
            "{step}: the child should have aborted (SIGABRT), got {status}"
        );
        let after = read(&path);
        let before_rename = matches!(
            step,
            Step::Locked | Step::Read | Step::TempWritten | Step::TempSynced
        );
        if before_rename {
            assert_eq!(after, OLD.as_bytes(), "{step}");
        } else {
            assert_eq!(after, new, "{step}");
        }
        if matches!(step, Step::TempWritten | Step::TempSynced) {
            assert_eq!(
                temp_files(dir.path()).len(),
                1,
                "{step}: a leftover is expected"
            );
        }

        // The next write works and clears the leftover.
        CredentialsFile::at(&path)
            .write_profile("r", &entries("R"), WriteOptions::default())
            .expect("the next write");
        let stored = credentials_file::read_profile(&path, "r")
            .expect("read")
            .expect("present");
        assert_eq!(stored.get("aws_access_key_id"), Some("ASIAR"));
        assert!(temp_files(dir.path()).is_empty(), "{step}");
        assert_eq!(mode(&path), 0o600);
    }
}

#[test]
fn a_failure_at_any_step_removes_the_temporary_file() {
    let new = expected_new();
    for step in Step::ALL {
        let dir = TempDir::new("panic");
        let path = dir.path().join("credentials");
        std::fs::write(&path, OLD).expect("write");
        let file = CredentialsFile::at(&path).with_step_hook(move |reached| {
            if reached == step {
                panic!("simulated failure at {reached}");
            }
        });
        let result = catch_unwind(AssertUnwindSafe(|| {
            file.write_profile("p", &entries("NEW"), WriteOptions::default())
        }));
        assert!(result.is_err(), "{step}: the hook should have panicked");
        let after = read(&path);
        if matches!(step, Step::Renamed | Step::DirSynced) {
            assert_eq!(after, new, "{step}");
        } else {
            assert_eq!(after, OLD.as_bytes(), "{step}");
        }
        assert_eq!(
            listing(dir.path()),
            ["credentials", "credentials.lock"],
            "{step}"
        );
        // The lock was released by the unwinding.
        CredentialsFile::at(&path)
            .write_profile("p", &entries("NEW"), WriteOptions::default())
            .expect("the next write");
        assert_eq!(read(&path), new);
    }
}

#[test]
fn hooks_see_every_step_in_order() {
    let dir = TempDir::new("steps");
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    CredentialsFile::at(dir.path().join("credentials"))
        .with_step_hook(move |step| record.lock().expect("steps").push(step))
        .write_profile("p", &entries("P"), WriteOptions::default())
        .expect("write");
    assert_eq!(*seen.lock().expect("steps"), Step::ALL);
}

#[test]
fn errors_name_the_step_and_the_path() {
    let dir = TempDir::new("errors");
    // The "directory" is a regular file.
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "").expect("write");
    let path = blocker.join("credentials");
    let err = CredentialsFile::at(&path)
        .write_profile("p", &entries("P"), WriteOptions::default())
        .expect_err("cannot write under a file");
    let message = err.to_string();
    assert!(message.starts_with("cannot inspect "), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");

    // The "file" is a directory.
    let path = dir.path().join("isdir");
    std::fs::create_dir(&path).expect("mkdir");
    let err = CredentialsFile::at(&path)
        .write_profile("p", &entries("P"), WriteOptions::default())
        .expect_err("cannot replace a directory");
    let message = err.to_string();
    assert_eq!(
        message,
        format!(
            "{} is a directory, not a regular file: refusing to read or replace it (only a \
             regular file, or none yet, can hold credentials)",
            path.display()
        )
    );
    // Refused before the lock file is made.
    assert_eq!(listing(dir.path()), ["blocker", "isdir"]);
}

fn profiles() -> Vec<(String, String)> {
    (0..20)
        .map(|i| (format!("p{i}"), format!("T{i}")))
        .collect()
}

fn assert_all_present(path: &Path) {
    for (name, tag) in profiles() {
        let stored = credentials_file::read_profile(path, &name)
            .expect("read")
            .unwrap_or_else(|| panic!("profile {name} lost"));
        assert_eq!(
            stored.get("aws_access_key_id"),
            Some(format!("ASIA{tag}").as_str())
        );
        assert_eq!(
            stored.get("aws_session_token"),
            Some(format!("token-{tag}").as_str())
        );
    }
}

/// Twenty threads, released together, each write one of `profiles()` into `path`.
fn write_from_twenty_threads(path: &Path) {
    let barrier = Arc::new(Barrier::new(20));
    let handles: Vec<_> = profiles()
        .into_iter()
        .map(|(name, tag)| {
            let barrier = Arc::clone(&barrier);
            let path = path.to_path_buf();
            std::thread::spawn(move || {
                barrier.wait();
                CredentialsFile::at(path)
                    .write_profile(&name, &entries(&tag), WriteOptions::default())
                    .expect("thread write");
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("thread");
    }
}

#[test]
fn twenty_threads_lose_no_profile() {
    let dir = TempDir::new("threads");
    let path = dir.path().join("credentials");
    std::fs::write(&path, "[base]\nk = v\n").expect("write");
    write_from_twenty_threads(&path);
    assert_all_present(&path);
    assert_eq!(listing(dir.path()), ["credentials", "credentials.lock"]);
}

#[test]
fn twenty_threads_creating_the_file_lose_no_profile() {
    let dir = TempDir::new("threads-new");
    let path = dir.path().join("aws").join("credentials");
    write_from_twenty_threads(&path);
    assert_all_present(&path);
}

#[test]
fn twenty_processes_lose_no_profile() {
    let dir = TempDir::new("processes");
    let path = dir.path().join("credentials");
    std::fs::write(&path, "[base]\nk = v\n").expect("write");
    let go: PathBuf = dir.path().join("go");
    let mut children: Vec<_> = profiles()
        .into_iter()
        .map(|(name, tag)| {
            child(&path, &name, &tag)
                .env("CREDFILE_GO", &go)
                .spawn()
                .expect("spawn")
        })
        .collect();
    std::fs::write(&go, "").expect("start the children");
    for child in &mut children {
        assert!(child.wait().expect("wait").success(), "a child failed");
    }
    assert_all_present(&path);
    assert_eq!(
        listing(dir.path()),
        ["credentials", "credentials.lock", "go"]
    );
}
