//! The file format: bytes outside the written profile are preserved; managed, unmanaged and new
//! profiles.

mod common;

use common::{cut_section, entries, read, TempDir};
use credentials_file::{
    read_profile, CredentialsFile, Error, WriteOptions, WriteOutcome, MANAGED_KEY, REQUEST_KEY,
};

/// CRLF line ends, `#` and `;` comments, odd spacing, several profiles, no final newline.
const FIXTURE: &str = "# top comment\r\n\
; another comment\r\n\
\r\n\
[default]\r\n\
\x20 aws_access_key_id   =  AKIADEFAULT  \r\n\
aws_secret_access_key=defaultsecret\r\n\
\r\n\
# about work\r\n\
[work]\r\n\
# inside work\r\n\
aws_access_key_id = AKIAWORK\r\n\
; between keys\r\n\
aws_secret_access_key = worksecret\r\n\
\r\n\
[managed]\r\n\
aws_access_key_id = ASIAOLD\r\n\
aws_secret_access_key = oldsecret\r\n\
x_rustaws_creds_managed = true\r\n\
x_rustaws_creds_request = ff\r\n\
\r\n\
[last]\r\n\
aws_access_key_id = AKIALAST\r\n\
aws_secret_access_key = lastsecret";

fn fixture(dir: &TempDir) -> CredentialsFile {
    let path = dir.path().join("credentials");
    std::fs::write(&path, FIXTURE).expect("write the fixture");
    CredentialsFile::at(path)
}

fn force() -> WriteOptions {
    WriteOptions {
        overwrite_unmanaged: true,
    }
}

#[test]
fn replacing_a_section_preserves_every_other_byte() {
    for name in ["default", "work", "managed", "last"] {
        let dir = TempDir::new("preserve");
        let file = fixture(&dir);
        let outcome = file
            .write_profile(name, &entries("NEW"), force())
            .expect("write");
        assert_eq!(outcome, WriteOutcome::Replaced, "{name}");
        let after = read(file.path());
        assert_eq!(
            String::from_utf8_lossy(&cut_section(&after, name)),
            String::from_utf8_lossy(&cut_section(FIXTURE.as_bytes(), name)),
            "profile {name}"
        );
        // New lines use CRLF, no bare LF appears.
        let text = String::from_utf8(after.clone()).expect("utf-8");
        assert_eq!(text.matches('\n').count(), text.matches("\r\n").count());
        // A missing final newline stays missing.
        assert!(!text.ends_with('\n'), "{name}: {text:?}");

        let stored = file.read_profile(name).expect("read").expect("present");
        assert!(stored.managed);
        assert_eq!(stored.get("aws_access_key_id"), Some("ASIANEW"));
        assert_eq!(stored.get("aws_secret_access_key"), Some("secret/NEW+x="));
        assert_eq!(stored.get("aws_session_token"), Some("token-NEW"));
        assert_eq!(stored.expiration.as_deref(), Some("2030-01-02T03:04:05Z"));
        assert_eq!(stored.request_digest.as_deref(), Some("0123abcdef"));

        // Writing the same profile again changes nothing.
        let again = file
            .write_profile(name, &entries("NEW"), WriteOptions::default())
            .expect("write again");
        assert_eq!(again, WriteOutcome::Unchanged);
        assert_eq!(read(file.path()), after, "{name}: not idempotent");
    }
}

#[test]
fn comments_inside_a_replaced_section_are_kept() {
    let dir = TempDir::new("comments");
    let file = fixture(&dir);
    file.write_profile("work", &entries("W"), force())
        .expect("write");
    let text = String::from_utf8(read(file.path())).expect("utf-8");
    let expected = "[work]\r\n\
aws_access_key_id = ASIAW\r\n\
aws_secret_access_key = secret/W+x=\r\n\
aws_session_token = token-W\r\n\
expiration = 2030-01-02T03:04:05Z\r\n\
x_rustaws_creds_managed = true\r\n\
x_rustaws_creds_request = 0123abcdef\r\n\
# inside work\r\n\
; between keys\r\n\
\r\n\
[managed]\r\n";
    assert!(text.contains(expected), "{text}");
}

#[test]
fn a_new_profile_is_appended_keeping_the_old_text_as_prefix() {
    let dir = TempDir::new("append");
    let file = fixture(&dir);
    let outcome = file
        .write_profile("fresh", &entries("F"), WriteOptions::default())
        .expect("write");
    assert_eq!(outcome, WriteOutcome::Created);
    let after = read(file.path());
    let rest = after
        .strip_prefix(FIXTURE.as_bytes())
        .expect("old text is a prefix");
    let rest = String::from_utf8(rest.to_vec()).expect("utf-8");
    assert!(rest.starts_with("\r\n[fresh]\r\naws_access_key_id = ASIAF\r\n"));
    assert!(
        !rest.ends_with('\n'),
        "the file still lacks a final newline"
    );
    let again = file
        .write_profile("fresh", &entries("F"), WriteOptions::default())
        .expect("write again");
    assert_eq!(again, WriteOutcome::Unchanged);
    assert_eq!(read(file.path()), after);

    // A file with a final LF newline: the section is appended after it, LF line ends.
    let path = dir.path().join("lf");
    std::fs::write(&path, "[a]\nk = v\n").expect("write");
    CredentialsFile::at(&path)
        .write_profile("b", &entries("B"), WriteOptions::default())
        .expect("write");
    let text = String::from_utf8(read(&path)).expect("utf-8");
    assert!(text.starts_with("[a]\nk = v\n[b]\naws_access_key_id = ASIAB\n"));
    assert!(text.ends_with("\n") && !text.contains('\r'));
}

#[test]
fn a_missing_file_is_created() {
    let dir = TempDir::new("missing");
    let path = dir.path().join("credentials");
    assert!(read_profile(&path, "p").expect("read").is_none());
    CredentialsFile::at(&path)
        .write_profile("p", &entries("P"), WriteOptions::default())
        .expect("write");
    let text = String::from_utf8(read(&path)).expect("utf-8");
    assert_eq!(
        text,
        format!(
            "[p]\naws_access_key_id = ASIAP\naws_secret_access_key = secret/P+x=\n\
             aws_session_token = token-P\nexpiration = 2030-01-02T03:04:05Z\n\
             {MANAGED_KEY} = true\n{REQUEST_KEY} = 0123abcdef\n"
        )
    );
    assert!(read_profile(&path, "other").expect("read").is_none());
}

#[test]
fn a_managed_profile_is_replaced_and_an_unmanaged_one_refused() {
    let dir = TempDir::new("unmanaged");
    let file = fixture(&dir);
    assert_eq!(
        file.write_profile("managed", &entries("M"), WriteOptions::default())
            .expect("managed is replaced"),
        WriteOutcome::Replaced
    );

    let before = read(file.path());
    let err = file
        .write_profile("work", &entries("W"), WriteOptions::default())
        .expect_err("unmanaged is refused");
    assert!(matches!(err, Error::UnmanagedProfile { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("[work]"), "{message}");
    assert!(
        message.contains(&file.path().display().to_string()),
        "{message}"
    );
    assert!(!message.contains("secret"), "{message}");
    assert_eq!(read(file.path()), before, "refusal leaves the file alone");
    let work = file.read_profile("work").expect("read").expect("present");
    assert!(!work.managed);
    assert_eq!(work.get("aws_secret_access_key"), Some("worksecret"));

    file.write_profile("work", &entries("W"), force())
        .expect("overwrite_unmanaged");
    let work = file.read_profile("work").expect("read").expect("present");
    assert!(work.managed);
    assert_eq!(work.get("aws_access_key_id"), Some("ASIAW"));
}

#[test]
fn reading_trims_and_lowercases_like_botocore() {
    assert!(FIXTURE.contains("\n  aws_access_key_id   =  AKIADEFAULT  \r\n"));
    let dir = TempDir::new("read");
    let file = fixture(&dir);
    let default = file
        .read_profile("default")
        .expect("read")
        .expect("present");
    assert!(!default.managed);
    assert_eq!(default.get("aws_access_key_id"), Some("AKIADEFAULT"));
    assert_eq!(default.get("aws_secret_access_key"), Some("defaultsecret"));
    let managed = file
        .read_profile("managed")
        .expect("read")
        .expect("present");
    assert!(managed.managed);
    assert_eq!(managed.request_digest.as_deref(), Some("ff"));
    assert!(managed.expiration.is_none());
    // Secrets stay out of Debug output.
    assert!(!format!("{managed:?}").contains("oldsecret"));
}

#[test]
fn duplicate_sections_and_bad_names_are_errors() {
    let dir = TempDir::new("dup");
    let path = dir.path().join("credentials");
    std::fs::write(&path, "[a]\nk = 1\n[a]\nk = 2\n").expect("write");
    let file = CredentialsFile::at(&path);
    assert!(matches!(
        file.read_profile("a"),
        Err(Error::DuplicateProfile { count: 2, .. })
    ));
    assert!(matches!(
        file.write_profile("a", &entries("A"), force()),
        Err(Error::DuplicateProfile { .. })
    ));
    for bad in ["", " a", "a]", "x\ny", "DEFAULT"] {
        assert!(
            matches!(
                file.write_profile(bad, &entries("A"), force()),
                Err(Error::InvalidProfileName { .. })
            ),
            "{bad:?}"
        );
    }
    assert_eq!(read(&path), b"[a]\nk = 1\n[a]\nk = 2\n");
}
