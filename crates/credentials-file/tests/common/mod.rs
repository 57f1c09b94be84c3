//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use credentials_file::Entries;

/// A fresh directory under the system temp dir, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "credentials-file-test-{}-{n}-{nanos}-{tag}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).expect("create the test directory");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn entries(tag: &str) -> Entries {
    Entries {
        access_key_id: format!("ASIA{tag}"),
        secret_access_key: format!("secret/{tag}+x="),
        session_token: Some(format!("token-{tag}")),
        expiration: Some("2030-01-02T03:04:05Z".to_string()),
        request_digest: "0123abcdef".to_string(),
        result: None,
    }
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read the credentials file")
}

/// Names of the files in `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list the directory")
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// `text` with the section `[name]` (header line up to the next header line or the end) cut
/// out. Independent of the crate's parser on purpose.
pub fn cut_section(text: &[u8], name: &str) -> Vec<u8> {
    let header = format!("[{name}]");
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.split_inclusive(|&b| b == b'\n') {
        let trimmed = String::from_utf8_lossy(line);
        let trimmed = trimmed.trim();
        if trimmed.starts_with('[') {
            inside = trimmed == header;
        }
        if !inside {
            out.extend_from_slice(line);
        }
    }
    out
}
