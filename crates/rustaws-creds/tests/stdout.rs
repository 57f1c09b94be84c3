//! What `--list-modules` and `--print-spec` do when their standard output cannot take what they
//! print: a reader that has gone (`rustaws-creds --print-spec | head -1`) ends the program
//! quietly with status 1; any other write error is one line on standard error, status 1.

use std::process::{Command, Output, Stdio};

const EXE: &str = env!("CARGO_BIN_EXE_rustaws-creds");

fn run(flag: &str, stdout: impl Into<Stdio>) -> Output {
    Command::new(EXE)
        .arg(flag)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("the executable runs")
}

/// A pipe whose reading end is closed before the program starts, so its first write fails.
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    writer
}

#[test]
fn a_closed_pipe_ends_the_listing_quietly() {
    for flag in ["--list-modules", "--print-spec"] {
        let out = run(flag, closed_pipe());
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{flag}");
        assert_eq!(out.status.code(), Some(1), "{flag}");
    }
}

#[test]
fn a_full_disk_is_said_on_stderr() {
    for flag in ["--list-modules", "--print-spec"] {
        let full = std::fs::File::create("/dev/full").expect("/dev/full");
        let out = run(flag, full);
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "rustaws-creds: cannot write to standard output: No space left on device (os error 28)\n",
            "{flag}"
        );
        assert_eq!(out.status.code(), Some(1), "{flag}");
    }
}

#[test]
fn an_open_pipe_gets_the_whole_listing() {
    let out = run("--list-modules", Stdio::piped());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "aws_caller_info\niam_access_key\niam_access_key_info\nsso_login\nsts_assume_role\n\
         sts_assume_role_with_web_identity\nsts_assume_roles\nsts_session_token\n"
    );
    let out = run("--print-spec", Stdio::piped());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
    let spec: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(spec["modules"].as_object().map(|m| m.len()), Some(8));
}
