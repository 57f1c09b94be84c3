//! Replays the fuzz corpus (fuzz/corpus/<target>/) on the stable toolchain, so every input the
//! fuzzer found interesting stays checked by `cargo test`: each must end as one JSON result
//! that keeps the module's contract (see fuzz/harness.rs), with no panic.
//!
//! fuzz/known_bugs/<target>/ holds reproducers of reported bugs not fixed yet: each must still
//! break the contract (a strict "expected failure"). Once a fix lands, this test fails and
//! says which file to move into the corpus, where it then guards against a regression.
//!
//! One test function on purpose: the harness sets up the process environment the SDK reads
//! (no AWS_* variables of the caller, metadata service off) once, before any run.

#[path = "../../../fuzz/harness.rs"]
mod harness;

use ansible_module::Report;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

type Run = fn(&[u8]) -> Option<Report>;

const TARGETS: &[(&str, Run)] = &[
    ("args_file", harness::run_args_file),
    ("options", harness::run_options),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} cannot be read: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let data = std::fs::read(&path).expect("a corpus file");
            (path.display().to_string(), data)
        })
        .collect();
    files.sort();
    files
}

/// The last panic's message and place, kept by a quiet panic hook instead of printed.
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

/// Runs one input; the panic (message and place) if it broke the contract.
fn replay(run: Run, data: &[u8]) -> Result<Option<Report>, String> {
    catch_unwind(AssertUnwindSafe(|| run(data)))
        .map_err(|_| LAST_PANIC.lock().map(|s| s.clone()).unwrap_or_default())
}

#[test]
fn fuzz_corpus_replays_cleanly_and_known_bugs_still_fail() {
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = info.to_string();
        }
    }));
    let mut broken = Vec::new();
    let mut fixed = Vec::new();
    let mut counts = Vec::new();
    for (target, run) in TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(target));
        assert!(
            corpus.len() >= 10,
            "the {target} corpus holds only {} inputs",
            corpus.len()
        );
        let (mut ok, mut failed, mut kept_away) = (0, 0, 0);
        for (name, data) in &corpus {
            match replay(*run, data) {
                Ok(Some(report)) if report.exit_code == 0 => ok += 1,
                Ok(Some(_)) => failed += 1,
                Ok(None) => kept_away += 1,
                Err(why) => broken.push(format!("{name}: {why}")),
            }
        }
        // No known bug has no folder (git keeps no empty ones).
        let known_dir = fuzz_dir().join("known_bugs").join(target);
        let known = if known_dir.exists() {
            files(&known_dir)
        } else {
            Vec::new()
        };
        for (name, data) in &known {
            if replay(*run, data).is_ok() {
                fixed.push(name.clone());
            }
        }
        counts.push(format!(
            "{target}: {} inputs ({ok} succeeded, {failed} failed cleanly, {kept_away} kept away \
             from special files), {} known-bug reproducers still failing",
            corpus.len(),
            known.len()
        ));
    }
    // The default panic hook again, so that the assertions below are printed.
    drop(std::panic::take_hook());
    harness::remove_fixture();
    assert!(
        broken.is_empty(),
        "{} corpus inputs broke the contract:\n{}\n({})",
        broken.len(),
        broken.join("\n"),
        counts.join("; ")
    );
    assert!(
        fixed.is_empty(),
        "These known-bug reproducers keep the contract now: the bug is fixed. Move each into \
         fuzz/corpus/<target>/ (and drop its predicate in fuzz/harness.rs known_bug):\n{}",
        fixed.join("\n")
    );
    println!("{}", counts.join("\n"));
}
