//! The README's option tables against the executable's own spec (`rustaws-creds --print-spec`),
//! row by row, so that they cannot drift from what the modules accept.
//!
//! Every table whose first column is `Option` must be in a section this test knows:
//! - "Common options (every module)": `Option | Aliases | Environment | Notes`. One row per common
//!   option, every common option once; the aliases and variables exactly, in the spec's order,
//!   deprecated ones in italics; `no_log` (one of the notes' `; `-separated parts) exactly for
//!   no_log options, and `default `X`` exactly for options with a default.
//! - a module's section (`## <module>`): `Option | Type | Notes`, every option of the module
//!   that is not common exactly once. The type cell is `TYPE[, required][, default `X`]` (TYPE:
//!   `str`, `int`, `bool`, `path`, `dict`, `raw`, `list of TYPE`, optionally followed by words in
//!   parentheses), or the choices `` `a` (default), `b` ``; a row of several options gives one
//!   such cell for all, or one per option separated by `; `, or none when the notes say where
//!   the options are described (`as for `<module>`` or the section on `output_profile`), in which
//!   case the options must have that description's type. Required and default are stated
//!   exactly when the spec has them. The notes say `no_log` (as for the common options) exactly
//!   for no_log options, and name every alias (`alias `x``) and environment variable.
//! - "Credentials that outlive the task": the options of the `output_profile` fragment, as a
//!   module's section.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

const COMMON_SECTION: &str = "Common options (every module)";
const OUTPUT_SECTION: &str = "Credentials that outlive the task";
const OUTPUT_ANCHOR: &str = "(#credentials-that-outlive-the-task)";

struct Table {
    section: String,
    header: Vec<String>,
    rows: Vec<Row>,
}

struct Row {
    line: usize,
    cells: Vec<String>,
}

fn spec() -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_rustaws-creds"))
        .arg("--print-spec")
        .output()
        .expect("the executable runs");
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).expect("--print-spec prints JSON")
}

fn readme_tables() -> Vec<Table> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let text = std::fs::read_to_string(&path).expect("README.md");
    let mut tables: Vec<Table> = Vec::new();
    let mut section = String::new();
    let mut in_table = false;
    let mut in_code = false;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("```") {
            in_code = !in_code;
        }
        if in_code {
            in_table = false;
            continue;
        }
        if let Some(title) = line.strip_prefix("## ") {
            section = title.trim().to_owned();
        }
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        let cells: Vec<String> = line
            .trim()
            .trim_start_matches('|')
            .trim_end_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect();
        if !in_table {
            in_table = true;
            tables.push(Table {
                section: section.clone(),
                header: cells,
                rows: Vec::new(),
            });
        } else if !cells.iter().all(|c| c.chars().all(|ch| ch == '-')) {
            let table = tables.last_mut().expect("a table was started");
            table.rows.push(Row { line: i + 1, cells });
        }
    }
    tables
}

/// The texts between backticks.
fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().expect("a name").to_owned())
        .collect()
}

/// How the README writes a default: the value between backticks.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether the notes say `no_log` as one of their `; `-separated parts.
fn says_no_log(notes: &str) -> bool {
    notes.split("; ").any(|part| part == "no_log")
}

/// `a`, `b` and *`c`*: the current names plain, the deprecated ones in italics, in order.
fn name_list(all: &Value, deprecated: &Value) -> String {
    let deprecated = names(deprecated);
    names(all)
        .iter()
        .map(|n| {
            if deprecated.contains(n) {
                format!("*`{n}`*")
            } else {
                format!("`{n}`")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_common(table: &Table, options: &BTreeMap<String, Value>, errors: &mut Vec<String>) {
    let header = [
        "Option",
        "Aliases (deprecated ones in *italics*)",
        "Environment, first present wins",
        "Notes",
    ];
    if table.header != header {
        errors.push(format!(
            "the common options table's columns are {header:?}, not {:?}",
            table.header
        ));
    }
    let mut seen = BTreeSet::new();
    for row in &table.rows {
        let line = row.line;
        let [name_cell, aliases, env, notes] = &row.cells[..] else {
            errors.push(format!("README.md:{line}: not four cells"));
            continue;
        };
        let name = match &backticked(name_cell)[..] {
            [name] => name.clone(),
            _ => {
                errors.push(format!("README.md:{line}: one option per row"));
                continue;
            }
        };
        let Some(opt) = options.get(&name) else {
            errors.push(format!("README.md:{line}: {name} is not a common option"));
            continue;
        };
        seen.insert(name.clone());
        let mut all_aliases = opt["aliases"].clone();
        let deprecated = opt["deprecated_aliases"].clone();
        if let (Some(a), Some(d)) = (all_aliases.as_array_mut(), deprecated.as_array()) {
            a.extend(d.iter().cloned());
        }
        let expected = name_list(&all_aliases, &deprecated);
        if *aliases != expected {
            errors.push(format!(
                "README.md:{line}: {name}'s aliases are {expected:?}, not {aliases:?}"
            ));
        }
        let expected = name_list(&opt["env"], &opt["deprecated_env"]);
        if *env != expected {
            errors.push(format!(
                "README.md:{line}: {name}'s variables are {expected:?}, not {env:?}"
            ));
        }
        check_no_log(line, &name, opt, notes, errors);
        let default = notes
            .split_once("default `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(value, _)| value.to_owned());
        let expected = (!opt["default"].is_null()).then(|| shown(&opt["default"]));
        if default != expected {
            errors.push(format!(
                "README.md:{line}: {name}'s default is {expected:?}, the notes say {default:?}"
            ));
        }
    }
    let all: BTreeSet<String> = options.keys().cloned().collect();
    if seen != all {
        errors.push(format!(
            "the common options table lists {seen:?}, the spec has {all:?}"
        ));
    }
}

fn check_no_log(line: usize, name: &str, opt: &Value, notes: &str, errors: &mut Vec<String>) {
    let no_log = opt["no_log"] == true;
    if says_no_log(notes) != no_log {
        errors.push(format!(
            "README.md:{line}: {name} is{} no_log, the notes say otherwise",
            if no_log { "" } else { " not" }
        ));
    }
}

/// What a type cell states about one option.
#[derive(Debug, PartialEq)]
struct Stated {
    kind: String,
    elements: Option<String>,
    required: bool,
    default: Option<String>,
    choices: Vec<String>,
}

fn parse_type(cell: &str) -> Result<Stated, String> {
    if cell.starts_with('`') {
        let mut stated = Stated {
            kind: "str".into(),
            elements: None,
            required: false,
            default: None,
            choices: Vec::new(),
        };
        for item in cell.split(", ") {
            let (choice, is_default) = match item.strip_suffix(" (default)") {
                Some(choice) => (choice, true),
                None => (item, false),
            };
            let choice = choice
                .strip_prefix('`')
                .and_then(|c| c.strip_suffix('`'))
                .ok_or_else(|| format!("a choice is written `x`: {item:?}"))?;
            if is_default {
                stated.default = Some(choice.to_owned());
            }
            stated.choices.push(choice.to_owned());
        }
        return Ok(stated);
    }
    let mut parts = cell.split(", ");
    let kind = parts.next().unwrap_or_default();
    let kind = kind.split_once(" (").map_or(kind, |(k, _)| k);
    let (kind, elements) = match kind.strip_prefix("list of ") {
        Some(elements) => ("list", Some(elements.to_owned())),
        None => (kind, None),
    };
    if !["str", "int", "bool", "path", "dict", "raw", "float", "list"].contains(&kind) {
        return Err(format!("unknown type {kind:?}"));
    }
    let mut stated = Stated {
        kind: kind.into(),
        elements,
        required: false,
        default: None,
        choices: Vec::new(),
    };
    for part in parts {
        if part == "required" {
            stated.required = true;
        } else if let Some(value) = part
            .strip_prefix("default `")
            .and_then(|v| v.strip_suffix('`'))
        {
            stated.default = Some(value.to_owned());
        } else {
            return Err(format!("{part:?} is neither `required` nor a default"));
        }
    }
    Ok(stated)
}

fn spec_stated(opt: &Value) -> Stated {
    Stated {
        kind: opt["type"].as_str().unwrap_or_default().to_owned(),
        elements: opt["elements"].as_str().map(str::to_owned),
        required: opt["required"] == true,
        default: (!opt["default"].is_null()).then(|| shown(&opt["default"])),
        choices: names(&opt["choices"]),
    }
}

fn check_options(
    table: &Table,
    what: &str,
    options: &BTreeMap<String, Value>,
    spec: &Value,
    errors: &mut Vec<String>,
) {
    if table.header.get(..2) != Some(&["Option".to_owned(), "Type".to_owned()][..]) {
        errors.push(format!(
            "{what}: the table's columns are Option, Type, Notes"
        ));
    }
    let mut seen = BTreeSet::new();
    for row in &table.rows {
        let line = row.line;
        let [name_cell, type_cell, notes] = &row.cells[..] else {
            errors.push(format!("README.md:{line}: not three cells"));
            continue;
        };
        let row_names = backticked(name_cell);
        let mut opts = Vec::new();
        for name in &row_names {
            match options.get(name) {
                Some(opt) if seen.insert(name.clone()) => opts.push((name.as_str(), opt)),
                Some(_) => errors.push(format!("README.md:{line}: {name} has two rows")),
                None => errors.push(format!("README.md:{line}: {what} has no option {name}")),
            }
        }
        if opts.len() != row_names.len() {
            continue;
        }
        if type_cell.is_empty() {
            // Described elsewhere: the options must be that description's.
            let elsewhere = notes
                .split_once("as for `")
                .and_then(|(_, rest)| rest.split_once('`'))
                .map(|(module, _)| module.to_owned());
            for (name, opt) in &opts {
                let other = match &elsewhere {
                    Some(module) => &spec["modules"][module]["options"][*name],
                    None if notes.contains(OUTPUT_ANCHOR) => {
                        &spec["modules"]["sts_session_token"]["options"][*name]
                    }
                    None => {
                        errors.push(format!(
                            "README.md:{line}: no type, and no `as for` or link saying where {name} is described"
                        ));
                        continue;
                    }
                };
                if other.is_null()
                    || other["type"] != opt["type"]
                    || other["elements"] != opt["elements"]
                {
                    errors.push(format!(
                        "README.md:{line}: {name} is not as described where the notes point"
                    ));
                }
            }
        } else {
            let cells: Vec<&str> = if opts.len() > 1 && type_cell.contains("; ") {
                type_cell.split("; ").collect()
            } else {
                vec![type_cell.as_str(); opts.len()]
            };
            if cells.len() != opts.len() {
                errors.push(format!(
                    "README.md:{line}: one type for each option, or one for all"
                ));
                continue;
            }
            for ((name, opt), cell) in opts.iter().zip(cells) {
                match parse_type(cell) {
                    Ok(stated) if stated == spec_stated(opt) => {}
                    Ok(stated) => errors.push(format!(
                        "README.md:{line}: {name}: the README says {stated:?}, the spec {:?}",
                        spec_stated(opt)
                    )),
                    Err(e) => errors.push(format!("README.md:{line}: {name}: {e}")),
                }
            }
        }
        for (name, opt) in &opts {
            let mut aliases = names(&opt["aliases"]);
            aliases.extend(names(&opt["deprecated_aliases"]));
            let expected = match &aliases[..] {
                [] => None,
                [alias] => Some(format!("alias `{alias}`")),
                many => Some(format!(
                    "aliases {}",
                    many.iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            match expected {
                Some(text) if opts.len() > 1 || !notes.contains(&text) => errors.push(format!(
                    "README.md:{line}: {name}'s row, its own, must say {text:?}"
                )),
                None if opts.len() == 1 && notes.contains("alias") => {
                    errors.push(format!("README.md:{line}: {name} has no alias"))
                }
                _ => {}
            }
            if opt["no_log"] == true && opts.len() > 1 {
                errors.push(format!(
                    "README.md:{line}: {name} is no_log: a row of its own"
                ));
            } else if opts.len() == 1 {
                check_no_log(line, name, opt, notes, errors);
            }
            for var in names(&opt["env"]) {
                if !notes.contains(&format!("`{var}`")) {
                    errors.push(format!("README.md:{line}: {name} falls back to {var}"));
                }
            }
        }
    }
    let all: BTreeSet<String> = options.keys().cloned().collect();
    if seen != all {
        errors.push(format!(
            "{what}: the README lists {seen:?}, the spec has {all:?}"
        ));
    }
}

fn options_where(module: &Value, keep: impl Fn(&Value) -> bool) -> BTreeMap<String, Value> {
    module["options"]
        .as_object()
        .expect("options")
        .iter()
        .filter(|(_, o)| keep(o))
        .map(|(n, o)| (n.clone(), o.clone()))
        .collect()
}

#[test]
fn the_readme_option_tables_say_what_the_spec_says() {
    let spec = spec();
    let modules = spec["modules"].as_object().expect("modules");
    let mut errors = Vec::new();
    let mut checked = BTreeSet::new();
    for table in readme_tables() {
        if table.header.first().map(String::as_str) != Some("Option") {
            continue;
        }
        let section = table.section.as_str();
        if !checked.insert(section.to_owned()) {
            errors.push(format!("two option tables in {section:?}"));
        }
        if section == COMMON_SECTION {
            let common = options_where(&modules["sts_session_token"], |o| o["common"] == true);
            for (name, module) in modules {
                let theirs = options_where(module, |o| o["common"] == true);
                assert_eq!(theirs, common, "{name}'s common options");
            }
            check_common(&table, &common, &mut errors);
        } else if section == OUTPUT_SECTION {
            let output = options_where(&modules["sts_session_token"], |o| {
                o["fragment"] == "output_profile"
            });
            assert_eq!(output.len(), 5);
            check_options(&table, section, &output, &spec, &mut errors);
        } else if let Some(module) = modules.get(section) {
            let own = options_where(module, |o| o["common"] != true);
            check_options(&table, section, &own, &spec, &mut errors);
        } else {
            errors.push(format!(
                "an option table in {section:?}, which this test does not know"
            ));
        }
    }
    let mut expected: BTreeSet<String> = modules.keys().cloned().collect();
    expected.extend([COMMON_SECTION.to_owned(), OUTPUT_SECTION.to_owned()]);
    // aws_caller_info has no options of its own, and no table.
    expected.remove("aws_caller_info");
    if checked != expected {
        errors.push(format!(
            "option tables in {checked:?}, expected {expected:?}"
        ));
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn type_cells_are_read_as_written() {
    let stated = |kind: &str, elements: Option<&str>, required, default: Option<&str>| Stated {
        kind: kind.into(),
        elements: elements.map(Into::into),
        required,
        default: default.map(Into::into),
        choices: Vec::new(),
    };
    assert_eq!(
        parse_type("str, required"),
        Ok(stated("str", None, true, None))
    );
    assert_eq!(
        parse_type("list of dict"),
        Ok(stated("list", Some("dict"), false, None))
    );
    assert_eq!(
        parse_type("int, default `60`"),
        Ok(stated("int", None, false, Some("60")))
    );
    assert_eq!(
        parse_type("raw (a JSON string or a dict)"),
        Ok(stated("raw", None, false, None))
    );
    assert_eq!(
        parse_type("`none` (default), `delete`"),
        Ok(Stated {
            choices: vec!["none".into(), "delete".into()],
            ..stated("str", None, false, Some("none"))
        })
    );
    assert_eq!(
        parse_type("bool, `false`"),
        Err("\"`false`\" is neither `required` nor a default".into())
    );
    assert_eq!(
        parse_type("JSON string or dict"),
        Err("unknown type \"JSON string or dict\"".into())
    );
}
