//! The one place that prints: a result or failure as one line of JSON on stdout, then exit.
use crate::outcome::Report;
use serde_json::{Map, Value};
use std::io::Write;

pub(crate) fn failed(msg: String, extra: Map<String, Value>) -> Report {
    let mut m = Map::new();
    m.insert("failed".to_owned(), Value::Bool(true));
    m.insert("msg".to_owned(), Value::String(msg));
    m.extend(extra);
    Report {
        json: Value::Object(m),
        exit_code: 1,
    }
}

/// Prints a failure that happened before any module could start, and exits 1.
pub fn fail_early(msg: impl Into<String>) -> ! {
    emit(&failed(msg.into(), Map::new()))
}

/// The one place that prints a result: one line of JSON on stdout, then exit.
pub fn emit(report: &Report) -> ! {
    let mut line = serde_json::to_string(&report.json).unwrap_or_else(|_| {
        r#"{"failed": true, "msg": "The module result could not be serialised"}"#.to_owned()
    });
    line.push('\n');
    let mut out = std::io::stdout().lock();
    // If stdout is gone there is no one left to tell; the exit status still says it.
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
    std::process::exit(report.exit_code)
}
