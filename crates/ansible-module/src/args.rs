//! Where a run's options come from: Ansible's args file, or the action plugin's invocation on
//! standard input.
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::Read;

/// Where a run's arguments come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgsSource {
    /// Ansible's standard way: the args file whose path is argv[1] of `AnsiballZ_<module>`
    /// (None when the program was started without one). When the action plugin sends a task
    /// there, the task's environment is in the arguments under [`ENVIRONMENT_KEY`] rather than on
    /// the command line: taken out of the arguments and set as the invocation's is.
    File(Option<std::ffi::OsString>),
    /// The collection's action plugin: an invocation on standard input, the JSON object
    /// `{"args": {options}, "environment": {name: value}}` ("environment" optional). The
    /// environment is the task's `environment:`, which ansible-core would put on the command
    /// line, where -vvv shows it; here it is set in the module's own process before anything
    /// reads it.
    Stdin,
}

impl ArgsSource {
    /// The options object; the error is a complete failure message.
    pub fn read(self) -> Result<Map<String, Value>, String> {
        match self {
            ArgsSource::File(path) => {
                let mut args = read_args_file(path)?;
                let environment = take_environment(&mut args)?;
                set_environment(&environment);
                Ok(args)
            }
            ArgsSource::Stdin => {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .lock()
                    .read_to_end(&mut bytes)
                    .map_err(|e| {
                        format!("Could not read the module invocation from standard input: {e}")
                    })?;
                let invocation = parse_invocation(&bytes)
                    .map_err(|e| format!("The module invocation on standard input {e}"))?;
                set_environment(&invocation.environment);
                Ok(invocation.args)
            }
        }
    }
}

/// What the action plugin sends on standard input.
#[derive(Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Invocation {
    args: Map<String, Value>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
}

fn parse_invocation(bytes: &[u8]) -> Result<Invocation, String> {
    let invocation: Invocation = serde_json::from_slice(bytes).map_err(|e| {
        format!("is not the JSON object {{\"args\": {{...}}, \"environment\": {{...}}}} it must be ({e})")
    })?;
    check_environment(&invocation.environment)?;
    Ok(invocation)
}

/// The argument under which the action plugin sends the task's environment in an args file
/// (ansible-core's standard path, which would otherwise put it on the module's command line).
pub const ENVIRONMENT_KEY: &str = "_rustaws_creds_environment";

/// Takes [`ENVIRONMENT_KEY`] out of an args file's arguments: the environment to set, empty
/// when the key is absent. The error is a complete failure message.
fn take_environment(args: &mut Map<String, Value>) -> Result<BTreeMap<String, String>, String> {
    let Some(value) = args.remove(ENVIRONMENT_KEY) else {
        return Ok(BTreeMap::new());
    };
    let environment: BTreeMap<String, String> = serde_json::from_value(value).map_err(|_| {
        format!(
            "The module argument {ENVIRONMENT_KEY} is not the JSON object of strings it must be"
        )
    })?;
    check_environment(&environment)
        .map_err(|e| format!("The module argument {ENVIRONMENT_KEY} {e}"))?;
    Ok(environment)
}

fn check_environment(environment: &BTreeMap<String, String>) -> Result<(), String> {
    if let Some(bad) = environment
        .keys()
        .find(|k| k.is_empty() || k.contains(['=', '\0']))
    {
        return Err(format!(
            "names an environment variable {bad:?} that cannot exist"
        ));
    }
    if environment.values().any(|v| v.contains('\0')) {
        return Err("holds an environment value with a NUL byte".to_owned());
    }
    Ok(())
}

/// Sets the task's environment in this process, before anything reads it (the options'
/// environment fallbacks, the AWS configuration).
fn set_environment(environment: &BTreeMap<String, String>) {
    for (name, value) in environment {
        std::env::set_var(name, value);
    }
}

/// Reads and parses the args file named by argv[1]; the error is a complete failure message.
pub fn read_args_file(path: Option<std::ffi::OsString>) -> Result<Map<String, Value>, String> {
    let path = path.ok_or_else(|| {
        "No module arguments file provided: a binary module is run by Ansible as \
         '<module> <args file>'"
            .to_owned()
    })?;
    let shown = path.to_string_lossy().into_owned();
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("Could not read the module arguments file {shown}: {e}"))?;
    parse_args(&bytes).map_err(|e| format!("The module arguments file {shown} {e}"))
}

/// Parses the args file's content; also accepts AnsibleModule's `{"ANSIBLE_MODULE_ARGS": {...}}`.
fn parse_args(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("is empty; it must hold a JSON object of options".to_owned());
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("is not valid JSON ({e}); it must hold a JSON object of options"))?;
    match value {
        Value::Object(mut map) => match map.remove("ANSIBLE_MODULE_ARGS") {
            Some(Value::Object(inner)) if map.is_empty() => Ok(inner),
            Some(other) => {
                map.insert("ANSIBLE_MODULE_ARGS".to_owned(), other);
                Ok(map)
            }
            None => Ok(map),
        },
        other => Err(format!(
            "holds a JSON {}, not the JSON object of options it must hold",
            match other {
                Value::Array(_) => "array",
                Value::String(_) => "string",
                Value::Number(_) => "number",
                Value::Bool(_) => "boolean",
                _ => "null",
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("object expected"),
        }
    }

    #[test]
    fn an_invocation_carries_the_args_and_the_environment() {
        let inv = parse_invocation(br#"{"args": {"a": 1}, "environment": {"X": "y z"}}"#).unwrap();
        assert_eq!(inv.args.get("a"), Some(&json!(1)));
        assert_eq!(inv.environment.get("X").map(String::as_str), Some("y z"));
        let bare = parse_invocation(br#"{"args": {}}"#).unwrap();
        assert!(bare.environment.is_empty());
        for bad in [
            &br#"{"a": 1}"#[..],
            br#"{"args": [], "environment": {}}"#,
            br#"{"args": {}, "environment": {"X": 1}}"#,
            br#"{"args": {}, "environment": {"A=B": "c"}}"#,
            br#"{"args": {}, "environment": {"": "c"}}"#,
            b"",
        ] {
            let e = parse_invocation(bad).unwrap_err();
            assert!(!e.is_empty(), "{bad:?}");
        }
    }

    #[test]
    fn an_args_file_carries_the_environment_under_its_own_key() {
        let mut args =
            obj(json!({"a": 1, ENVIRONMENT_KEY: {"X": "y z", "AWS_REGION": "eu-west-1"}}));
        let env = take_environment(&mut args).unwrap();
        assert_eq!(
            args,
            obj(json!({"a": 1})),
            "the key is taken out of the arguments"
        );
        assert_eq!(
            env.into_iter().collect::<Vec<_>>(),
            [
                ("AWS_REGION".to_owned(), "eu-west-1".to_owned()),
                ("X".to_owned(), "y z".to_owned())
            ]
        );
        let mut plain = obj(json!({"a": 1}));
        assert!(take_environment(&mut plain).unwrap().is_empty());
        assert_eq!(plain, obj(json!({"a": 1})));
        for (bad, msg) in [
            (
                json!([]),
                "The module argument _rustaws_creds_environment is not the JSON object of strings it must be",
            ),
            (
                json!({"X": 1}),
                "The module argument _rustaws_creds_environment is not the JSON object of strings it must be",
            ),
            (
                json!({"A=B": "c"}),
                "The module argument _rustaws_creds_environment names an environment variable \"A=B\" that cannot exist",
            ),
            (
                json!({"X": "a\0b"}),
                "The module argument _rustaws_creds_environment holds an environment value with a NUL byte",
            ),
        ] {
            let mut args = obj(json!({ ENVIRONMENT_KEY: bad }));
            assert_eq!(take_environment(&mut args).unwrap_err(), msg);
        }
    }

    #[test]
    fn args_file_errors_are_clear() {
        assert!(read_args_file(None)
            .unwrap_err()
            .starts_with("No module arguments file provided"));
        let missing = read_args_file(Some("/nonexistent/args".into())).unwrap_err();
        assert!(
            missing.starts_with("Could not read the module arguments file /nonexistent/args:"),
            "{missing}"
        );
        assert!(parse_args(b"  \n").unwrap_err().starts_with("is empty"));
        assert!(parse_args(b"{\"a\": ")
            .unwrap_err()
            .starts_with("is not valid JSON"));
        assert!(parse_args(b"[1]").unwrap_err().contains("JSON array"));
        assert_eq!(
            parse_args(b"{\"ANSIBLE_MODULE_ARGS\": {\"a\": 1}}").unwrap(),
            obj(json!({"a": 1}))
        );
    }
}
