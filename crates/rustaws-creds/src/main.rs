//! One executable for every module of the collection, the way a multi-call binary (busybox,
//! uutils' coreutils) works. It runs a module in two ways:
//!
//! - `<module> ARGS_FILE`: as Ansible runs a binary module. `plugins/modules/<name>` are symbolic
//!   links to this file, Ansible copies it to the managed host as `AnsiballZ_<name>`, and the name
//!   it runs under picks the module; the arguments are in the file. Standard input is never read
//!   (ssh gives such a run a terminal).
//! - `rustaws-creds <module> [ARGS_FILE]`: as the collection's action plugin runs it, in place on
//!   the controller or from its cache on a managed host; without ARGS_FILE it reads
//!   `{"args": {...}, "environment": {...}}` on standard input (see [`ArgsSource::Stdin`]), so
//!   neither the arguments nor the task's environment is written to a file or a command line.
//!
//! `rustaws-creds --list-modules` prints the module names (used by scripts/build, and by the
//! action plugin to check that a newly uploaded copy runs at all); `rustaws-creds --print-spec`
//! prints every module's spec as JSON, which the tests compare with the documentation.

use ansible_module::{ArgsSource, Module};
use serde_json::{json, Map, Value};
use std::ffi::{OsStr, OsString};
use std::io::{ErrorKind, Write};
use std::path::Path;

// `MODULES`, written by build.rs: each crate's `MODULE`. A module's name, options and entry
// point come from its crate; the table only says which crates are served.
include!(concat!(env!("OUT_DIR"), "/modules.rs"));

/// Every module's spec, keyed by name.
fn specs() -> Value {
    let specs: Vec<_> = MODULES.iter().map(|m| (m.spec)()).collect();
    let collection = specs.first().map(|s| s.collection);
    let modules: Map<String, Value> = specs
        .iter()
        .map(|spec| (spec.name.to_owned(), spec.to_json()))
        .collect();
    json!({"collection": collection, "modules": modules})
}

/// What a command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    ListModules,
    PrintSpec,
    Run {
        module: &'static str,
        source: ArgsSource,
    },
    Unknown(String),
}

/// The module a program path names: its file name, without Ansible's `AnsiballZ_` prefix.
fn module_name(program: &OsStr) -> Option<&str> {
    let file = Path::new(program).file_name()?.to_str()?;
    Some(file.strip_prefix("AnsiballZ_").unwrap_or(file))
}

/// The module of that name.
fn find(name: Option<&str>) -> Option<&'static Module> {
    let name = name?;
    MODULES.iter().find(|m| m.name() == name)
}

fn parse(mut args: impl Iterator<Item = OsString>) -> Command {
    let program = args.next().unwrap_or_default();
    let first = args.next();
    if let Some(module) = find(module_name(&program)) {
        return Command::Run {
            module: module.name(),
            source: ArgsSource::File(first),
        };
    }
    match first {
        Some(flag) if flag == "--list-modules" => Command::ListModules,
        Some(flag) if flag == "--print-spec" => Command::PrintSpec,
        Some(name) => match find(name.to_str()) {
            Some(module) => Command::Run {
                module: module.name(),
                source: args
                    .next()
                    .map_or(ArgsSource::Stdin, |f| ArgsSource::File(Some(f))),
            },
            None => Command::Unknown(name.to_string_lossy().into_owned()),
        },
        None => Command::Unknown(program.to_string_lossy().into_owned()),
    }
}

/// Writes `text` to standard output. When the reader has gone (`rustaws-creds --print-spec |
/// head -1`) the program ends without a word, with status 1, like a program that a closed pipe
/// stops; any other write error is said on standard error, with status 1 too.
fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != ErrorKind::BrokenPipe {
            let _ = writeln!(
                std::io::stderr(),
                "rustaws-creds: cannot write to standard output: {e}"
            );
        }
        std::process::exit(1);
    }
}

fn main() {
    match parse(std::env::args_os()) {
        Command::ListModules => {
            let names: String = MODULES.iter().map(|m| format!("{}\n", m.name())).collect();
            print(&names);
        }
        Command::PrintSpec => print(&format!("{:#}\n", specs())),
        Command::Run { module, source } => {
            if let Some(module) = find(Some(module)) {
                (module.main)(source)
            }
        }
        Command::Unknown(name) => {
            let known: Vec<&str> = MODULES.iter().map(Module::name).collect();
            ansible_module::fail_early(format!(
                "This program runs the module it is named after, or the one its first argument \
                 names, and '{name}' is none of: {}. Call it through a link named after the \
                 module (as plugins/modules/ has them) or as 'rustaws-creds <module>'.",
                known.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Command {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn ansible_runs_a_link_with_the_args_file() {
        assert_eq!(
            parsed(&["/tmp/t/AnsiballZ_sts_session_token", "/tmp/t/args"]),
            Command::Run {
                module: "sts_session_token",
                source: ArgsSource::File(Some("/tmp/t/args".into())),
            }
        );
        // No args file: the module fails, it does not wait for standard input.
        assert_eq!(
            parsed(&["plugins/modules/iam_access_key"]),
            Command::Run {
                module: "iam_access_key",
                source: ArgsSource::File(None),
            }
        );
    }

    #[test]
    fn the_action_plugin_names_the_module_and_sends_the_args_on_stdin() {
        assert_eq!(
            parsed(&["/home/u/.ansible/tmp/rustaws-creds/0123", "aws_caller_info"]),
            Command::Run {
                module: "aws_caller_info",
                source: ArgsSource::Stdin,
            }
        );
        assert_eq!(
            parsed(&["libexec/x/rustaws-creds", "aws_caller_info", "a.json"]),
            Command::Run {
                module: "aws_caller_info",
                source: ArgsSource::File(Some("a.json".into())),
            }
        );
        assert_eq!(
            parsed(&["rustaws-creds", "--list-modules"]),
            Command::ListModules
        );
        assert_eq!(
            parsed(&["rustaws-creds", "--print-spec"]),
            Command::PrintSpec
        );
        assert_eq!(
            parsed(&["rustaws-creds", "nope"]),
            Command::Unknown("nope".into())
        );
        assert_eq!(
            parsed(&["rustaws-creds"]),
            Command::Unknown("rustaws-creds".into())
        );
    }

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
        let modules: Vec<&str> = MODULES.iter().map(Module::name).collect();
        assert_eq!(documented, modules, "plugins/modules/*.yml vs MODULES");
    }

    #[test]
    fn every_crate_that_declares_a_module_is_served_in_name_order() {
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut declared: Vec<String> = std::fs::read_dir(&crates)
            .expect("crates/ exists")
            .filter_map(|e| {
                let dir = e.ok()?.path();
                let lib = std::fs::read_to_string(dir.join("src/lib.rs")).ok()?;
                lib.contains("\npub const MODULE: Module = ")
                    .then(|| dir.file_name()?.to_str().map(|n| n.replace('-', "_")))?
            })
            .collect();
        declared.sort();
        let served: Vec<&str> = MODULES.iter().map(Module::name).collect();
        assert_eq!(served, declared, "MODULES vs the crates declaring MODULE");
    }

    #[test]
    fn every_options_struct_reads_exactly_its_spec() {
        for module in MODULES {
            assert_eq!((module.options_round_trip)(&(module.spec)()), Ok(()));
        }
    }

    #[test]
    fn the_spec_lists_every_module_with_its_options() {
        let specs = specs();
        let modules = specs["modules"].as_object().expect("an object of modules");
        assert_eq!(modules.len(), MODULES.len());
        let token = &modules["sts_session_token"]["options"];
        assert_eq!(token["mfa_token"]["no_log"], true);
        assert_eq!(token["mfa_token"]["common"], false);
        assert_eq!(token["access_key"]["common"], true);
        assert_eq!(
            token["access_key"]["env"],
            json!(["AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "EC2_ACCESS_KEY"])
        );
        let key = &modules["iam_access_key"];
        assert_eq!(key["options"]["state"]["default"], "present");
        assert_eq!(
            key["required_if"],
            json!([{"key": "state", "value": "absent", "requires": ["id"], "any": false}])
        );
    }
}
