//! One executable for every module of the collection, the way a multi-call binary (busybox,
//! uutils' coreutils) works: `plugins/modules/<name>` are symbolic links to it, Ansible copies
//! the file to the managed host as `AnsiballZ_<name>`, and the name it runs under picks the
//! module. One file instead of one per module keeps the collection small and the build short.
//!
//! `rustaws-creds --list-modules` prints the module names (used by scripts/build).

use std::ffi::OsStr;
use std::path::Path;

/// Every module of the collection: its name and its entry point.
const MODULES: &[(&str, fn() -> !)] = &[
    ("aws_caller_info", aws_caller_info::main),
    ("iam_access_key", iam_access_key::main),
    ("iam_access_key_info", iam_access_key_info::main),
    ("sts_assume_role", sts_assume_role::main),
    (
        "sts_assume_role_with_web_identity",
        sts_assume_role_with_web_identity::main,
    ),
    ("sts_session_token", sts_session_token::main),
];

/// The module a program path names: its file name, without Ansible's `AnsiballZ_` prefix.
fn module_name(program: &OsStr) -> Option<&str> {
    let file = Path::new(program).file_name()?.to_str()?;
    Some(file.strip_prefix("AnsiballZ_").unwrap_or(file))
}

fn main() {
    let mut args = std::env::args_os();
    let program = args.next().unwrap_or_default();
    if args.next().as_deref() == Some(OsStr::new("--list-modules")) {
        for (name, _) in MODULES {
            println!("{name}");
        }
        return;
    }
    let name = module_name(&program);
    match MODULES.iter().find(|(n, _)| Some(*n) == name) {
        Some((_, module)) => module(),
        None => {
            let known: Vec<&str> = MODULES.iter().map(|(n, _)| *n).collect();
            ansible_module::fail_early(format!(
                "This program runs the module it is named after, and '{}' is none of: {}. \
                 Call it through a link named after the module (as plugins/modules/ has them).",
                program.to_string_lossy(),
                known.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_file_name() {
        assert_eq!(
            module_name(OsStr::new("/tmp/x/AnsiballZ_sts_session_token")),
            Some("sts_session_token")
        );
        assert_eq!(
            module_name(OsStr::new("plugins/modules/iam_access_key")),
            Some("iam_access_key")
        );
        assert_eq!(module_name(OsStr::new("")), None);
    }

    #[test]
    fn every_module_is_documented_and_every_document_is_a_module() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/modules");
        let mut documented: Vec<String> = std::fs::read_dir(&dir)
            .expect("plugins/modules exists")
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                name.strip_suffix(".yml").map(str::to_owned)
            })
            .collect();
        documented.sort();
        let modules: Vec<&str> = MODULES.iter().map(|(n, _)| *n).collect();
        assert_eq!(documented, modules, "plugins/modules/*.yml vs MODULES");
    }
}
