//! The file as botocore reads it: the reported `[prod]   ; production` case, lone CR line ends,
//! and the whole messages of files botocore cannot read (the per-rule tests are in `ini.rs`;
//! tests/integration/test_credentials_format.py checks the corpus against botocore itself).

mod common;

use common::{entries, read, TempDir};
use credentials_file::{CredentialsFile, Error, WriteOptions, WriteOutcome};

const SUFFIX: &str =
    "botocore cannot read this file, so none of its profiles works; fix the file first";

fn file_with(dir: &TempDir, text: &[u8]) -> CredentialsFile {
    let path = dir.path().join("credentials");
    std::fs::write(&path, text).expect("write the file");
    CredentialsFile::at(path)
}

fn force() -> WriteOptions {
    WriteOptions {
        overwrite_unmanaged: true,
    }
}

#[test]
fn a_header_with_a_comment_after_it_is_that_profile() {
    let dir = TempDir::new("inline");
    let text = "[prod]   ; production\naws_access_key_id = AKIAPROD\n\n[dev] # dev\nk = v\n";
    let file = file_with(&dir, text.as_bytes());
    let prod = file.read_profile("prod").expect("read").expect("present");
    assert_eq!(prod.get("aws_access_key_id"), Some("AKIAPROD"));

    // Writing another profile keeps prod's keys; writing prod replaces its one section.
    file.write_profile("dev", &entries("D"), force())
        .expect("write dev");
    let after = String::from_utf8(read(file.path())).expect("utf-8");
    assert!(
        after.starts_with("[prod]   ; production\naws_access_key_id = AKIAPROD\n\n[dev] # dev\n")
    );
    assert_eq!(
        file.write_profile("prod", &entries("P"), force())
            .expect("write prod"),
        WriteOutcome::Replaced
    );
    let after = String::from_utf8(read(file.path())).expect("utf-8");
    assert_eq!(after.matches("[prod]").count(), 1, "{after}");
    assert!(after.starts_with("[prod]   ; production\naws_access_key_id = ASIAP\n"));
    assert_eq!(
        file.read_profiles()
            .expect("read")
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["prod", "dev"]
    );
}

#[test]
fn lone_cr_line_ends_are_line_ends() {
    let dir = TempDir::new("cr");
    let text = b"[a]\rk = v\r[b]\rk = w\r";
    let file = file_with(&dir, text);
    assert_eq!(
        file.read_profile("b")
            .expect("read")
            .expect("present")
            .get("k"),
        Some("w")
    );
    file.write_profile("a", &entries("A"), force())
        .expect("write");
    let after = read(file.path());
    assert!(!after.contains(&b'\n'), "new lines end with CR too");
    assert!(after.ends_with(b"x_rustaws_creds_request = 0123abcdef\r[b]\rk = w\r"));
}

#[test]
fn files_botocore_cannot_read_are_refused_whole() {
    let dir = TempDir::new("refused");
    let cases: [(&[u8], &str); 7] = [
        (
            b"[a]\nk = 1\n[b]\nk = 2\n[b]\n",
            "line 5: section [b] appears again (first at line 3)",
        ),
        (
            b"[a]\nK = 1\nk = 2\n",
            "line 3: key k appears again in section [a] (first at line 2)",
        ),
        (
            b"\xef\xbb\xbf[a]\nk = 1\n",
            "line 1: a byte order mark (U+FEFF), which Python reads as text before the first \
             section header",
        ),
        (
            b"k = 1\n[a]\n",
            "line 1: text before the first section header",
        ),
        (
            b"[a]\r\nk = 1\r\naws_access_key_id\r\n",
            "line 3: neither a [section] header, a comment nor a \"key = value\" line",
        ),
        (b"[a]\nk = \xe9\n", "line 2: not valid UTF-8"),
        (
            b"[a]\ns3 =\n  signature_version\n",
            "line 2: key s3 has no value on its line and indented lines below it that \
             botocore reads as nested \"name = value\" pairs, but one has no \"=\"",
        ),
    ];
    for (text, what) in cases {
        let file = file_with(&dir, text);
        let expected = format!("{} {what}: {SUFFIX}", file.path().display());
        let err = file.read_profile("a").expect_err("read is refused");
        assert!(matches!(err, Error::Format { .. }), "{err:?}");
        assert_eq!(err.to_string(), expected);
        for name in ["a", "new"] {
            let err = file
                .write_profile(name, &entries("A"), force())
                .expect_err("write is refused");
            assert_eq!(err.to_string(), expected);
        }
        assert_eq!(read(file.path()), text, "the file is left alone");
    }
}

#[test]
fn default_keys_a_written_profile_would_inherit_stop_the_write() {
    let dir = TempDir::new("default");
    let text = b"[DEFAULT]\naws_access_key_id = AKIADEFAULT\naws_session_token = old\n[a]\nk = v\n";
    let file = file_with(&dir, text);
    // botocore gives every profile the [DEFAULT] keys it lacks; [DEFAULT] itself is none.
    let a = file.read_profile("a").expect("read").expect("present");
    assert_eq!(a.get("aws_session_token"), Some("old"));
    assert!(file.read_profile("DEFAULT").expect("read").is_none());

    let mut long_term = entries("L");
    long_term.session_token = None;
    long_term.expiration = None;
    let err = file
        .write_profile("a", &long_term, force())
        .expect_err("refused");
    assert_eq!(
        err.to_string(),
        format!(
            "{} line 3: the [DEFAULT] section gives every profile the keys it lacks, and \
             botocore would add aws_session_token to profile [a]; refusing to write it (move \
             them to the profiles that need them first)",
            file.path().display()
        )
    );
    assert_eq!(read(file.path()), text);
    // With a session token of its own the profile inherits nothing.
    file.write_profile("a", &entries("S"), force())
        .expect("write");
    let a = file.read_profile("a").expect("read").expect("present");
    assert_eq!(a.get("aws_session_token"), Some("token-S"));
}
