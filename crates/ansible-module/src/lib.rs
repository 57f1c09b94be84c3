//! The Ansible binary-module protocol, and nothing else.
//!
//! ansible-core runs a binary module as `<module> <args file>`; the file holds one JSON object:
//! the task's options followed by `_ansible_*` keys. The module must print exactly one JSON
//! object on stdout. [`run`] does all of that around a module's body: it reads and validates
//! the options against a [`ModuleSpec`] the way AnsibleModule does, handles check mode, hands
//! the body a typed options struct, masks no_log values, and is the only place that prints a
//! result and sets the exit status, for every path including a panic.

pub mod coerce;
pub mod mask;
pub mod spec;
mod validate;

pub use mask::{Secrets, PLACEHOLDER};
pub use spec::{Lit, ModuleSpec, Opt, RequiredIf, Type};
pub use validate::{validate, Validation};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::sync::Mutex;

/// A deprecation notice, in the plain form ansible-core accepts (only these four keys).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deprecation {
    pub msg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection_name: Option<String>,
}

/// What ansible-core says about the run besides the options. Every key is optional, since
/// ansible-core 2.16 to 2.21 send different sets; unknown keys are ignored.
#[derive(Debug, Default, Clone)]
pub struct Internal {
    pub check_mode: bool,
    pub diff: bool,
    pub verbosity: u64,
    pub module_name: Option<String>,
    pub version: Option<String>,
    pub ignore_unknown_opts: bool,
    /// ansible-core 2.21 sends `_ansible_inject_invocation`; older versions always want it.
    pub inject_invocation: Option<bool>,
}

impl Internal {
    fn from_args(args: &Map<String, Value>) -> Self {
        let flag = |k: &str| args.get(k).and_then(Value::as_bool).unwrap_or(false);
        let text = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_owned);
        Internal {
            check_mode: flag("_ansible_check_mode"),
            diff: flag("_ansible_diff"),
            verbosity: args
                .get("_ansible_verbosity")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            module_name: text("_ansible_module_name"),
            version: text("_ansible_version"),
            ignore_unknown_opts: flag("_ansible_ignore_unknown_opts"),
            inject_invocation: args
                .get("_ansible_inject_invocation")
                .and_then(Value::as_bool),
        }
    }
}

/// What the module's body can see and say besides its options.
#[derive(Debug)]
pub struct Context {
    internal: Internal,
    module_name: String,
    warnings: Vec<String>,
    deprecations: Vec<Deprecation>,
    env_sources: BTreeMap<String, &'static str>,
    collection: &'static str,
    /// no_log values so far: the options' and those the module learnt (see `add_secret`).
    secrets: Vec<String>,
}

impl Context {
    /// The environment variable an option's value came from, if it was not a task argument.
    pub fn env_source(&self, option: &str) -> Option<&str> {
        self.env_sources.get(option).copied()
    }
    pub fn check_mode(&self) -> bool {
        self.internal.check_mode
    }
    pub fn diff(&self) -> bool {
        self.internal.diff
    }
    pub fn verbosity(&self) -> u64 {
        self.internal.verbosity
    }
    /// The name the task used for the module (FQCN or short), for messages.
    pub fn module_name(&self) -> &str {
        &self.module_name
    }
    /// The ansible-core version, when the controller sent it.
    pub fn ansible_version(&self) -> Option<&str> {
        self.internal.version.as_deref()
    }
    /// A secret the module read from somewhere other than a no_log option (a token file, say):
    /// it is hidden from the result like a no_log value.
    pub fn add_secret(&mut self, value: impl Into<String>) {
        self.secrets.push(value.into());
        if let Ok(mut guard) = PANIC_SECRETS.lock() {
            *guard = Some(Secrets::new(self.secrets.iter().cloned()));
        }
    }
    pub fn warn(&mut self, msg: impl Into<String>) {
        self.warnings.push(msg.into());
    }
    pub fn deprecate(&mut self, msg: impl Into<String>) {
        self.deprecations.push(Deprecation {
            msg: msg.into(),
            version: None,
            date: None,
            collection_name: Some(self.collection.to_owned()),
        });
    }
}

/// Keys and values a module returns, some of which may be secrets the module obtained.
#[derive(Debug, Default, Clone)]
struct Fields {
    values: Map<String, Value>,
    /// Keys holding values the module obtained (new credentials): returned as they are, never
    /// masked, even if an option's no_log value happens to occur inside them.
    issued: BTreeSet<String>,
}

impl Fields {
    fn set(&mut self, key: &str, value: impl Serialize, issued: bool) {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.values.insert(key.to_owned(), value);
        if issued {
            self.issued.insert(key.to_owned());
        }
    }
}

/// A successful result.
#[derive(Debug, Clone)]
pub struct Outcome {
    changed: bool,
    fields: Fields,
}

impl Outcome {
    pub fn changed(changed: bool) -> Self {
        Outcome {
            changed,
            fields: Fields::default(),
        }
    }
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.fields.set(key, value, false);
        self
    }
    /// A value the module obtained and must return whole, such as new credentials.
    pub fn with_issued(mut self, key: &str, value: impl Serialize) -> Self {
        self.fields.set(key, value, true);
        self
    }
}

/// A failed result: `msg` plus any other keys.
#[derive(Debug, Clone)]
pub struct Failure {
    pub msg: String,
    fields: Fields,
}

impl Failure {
    pub fn new(msg: impl Into<String>) -> Self {
        Failure {
            msg: msg.into(),
            fields: Fields::default(),
        }
    }
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.fields.set(key, value, false);
        self
    }
    /// A value obtained before the failure that must still reach the user (a new secret).
    pub fn with_issued(mut self, key: &str, value: impl Serialize) -> Self {
        self.fields.set(key, value, true);
        self
    }
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.values.get(key)
    }
    /// The same failure with its message rewritten.
    pub fn map_msg(mut self, f: impl FnOnce(String) -> String) -> Self {
        self.msg = f(self.msg);
        self
    }
}

/// The result of one run: the JSON object to print and the exit status.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub json: Value,
    pub exit_code: i32,
}

/// A module's typed options. `check` holds the value rules beyond types (ranges, formats);
/// it runs before the check-mode skip, so a bad value fails in `--check` runs too.
pub trait ModuleOptions: DeserializeOwned {
    fn check(&self) -> Result<(), Failure> {
        Ok(())
    }
}

/// Secrets known so far, for the panic hook.
static PANIC_SECRETS: Mutex<Option<Secrets>> = Mutex::new(None);

/// Where a run's arguments come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgsSource {
    /// Ansible's standard way: the args file whose path is argv[1] of `AnsiballZ_<module>`
    /// (None when the program was started without one).
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
            ArgsSource::File(path) => read_args_file(path),
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
                for (name, value) in &invocation.environment {
                    std::env::set_var(name, value);
                }
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
    if let Some(bad) = invocation
        .environment
        .keys()
        .find(|k| k.is_empty() || k.contains(['=', '\0']))
    {
        return Err(format!(
            "names an environment variable {bad:?} that cannot exist"
        ));
    }
    if invocation.environment.values().any(|v| v.contains('\0')) {
        return Err("holds an environment value with a NUL byte".to_owned());
    }
    Ok(invocation)
}

/// Runs a module: reads its arguments, validates, skips in check mode when the spec does not
/// support it, calls `body`, prints the one result and exits (0, or 1 on failure).
pub fn run<T, F>(spec: &ModuleSpec, source: ArgsSource, body: F) -> !
where
    T: ModuleOptions,
    F: FnOnce(&mut Context, T) -> Result<Outcome, Failure>,
{
    install_panic_hook(spec.name);
    let args = source.read();
    let report = execute(
        spec,
        args,
        &|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()),
        body,
    );
    emit(&report)
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

/// The message validation gives for `args` (the spec's types and rules, then the options'
/// `check`), or None when they pass. For tests of a module's options.
pub fn validation_error<T: ModuleOptions>(spec: &ModuleSpec, args: Value) -> Option<String> {
    let args = match args {
        Value::Object(map) => Ok(map),
        other => Err(format!("module arguments must be an object, got {other}")),
    };
    let report = execute(spec, args, &|_| None, |_, _: T| Ok(Outcome::changed(false)));
    (report.exit_code != 0).then(|| report.json["msg"].as_str().unwrap_or_default().to_owned())
}

/// Everything [`run`] does except reading argv and printing, so it can be tested.
pub fn execute<T, F>(
    spec: &ModuleSpec,
    args: Result<Map<String, Value>, String>,
    env: &dyn Fn(&str) -> Option<String>,
    body: F,
) -> Report
where
    T: ModuleOptions,
    F: FnOnce(&mut Context, T) -> Result<Outcome, Failure>,
{
    let mut args = match args {
        Ok(args) => args,
        Err(msg) => return failed(msg, Map::new()),
    };
    let internal_keys: Vec<String> = args
        .keys()
        .filter(|k| k.starts_with("_ansible_"))
        .cloned()
        .collect();
    let mut internal_args = Map::new();
    for k in internal_keys {
        if let Some(v) = args.remove(&k) {
            internal_args.insert(k, v);
        }
    }
    let internal = Internal::from_args(&internal_args);
    let module_name = internal
        .module_name
        .clone()
        .unwrap_or_else(|| spec.name.to_owned());

    let validation = validate(spec, args, env, &module_name, internal.ignore_unknown_opts);
    let secrets = Secrets::new(validation.no_log_values.iter().cloned());
    if let Ok(mut guard) = PANIC_SECRETS.lock() {
        *guard = Some(secrets.clone());
    }
    let mut invocation = validation.params.clone();
    for (name, value) in invocation.iter_mut() {
        if spec.option(name).is_some_and(|o| o.no_log) && !value.is_null() {
            *value = Value::String(PLACEHOLDER.to_owned());
        }
    }
    let mut invocation = Value::Object(invocation);
    secrets.mask(&mut invocation);
    let invocation = (internal.inject_invocation != Some(false))
        .then(|| serde_json::json!({ "module_args": invocation }));

    let mut ctx = Context {
        internal,
        module_name,
        warnings: validation.warnings,
        deprecations: validation.deprecations,
        env_sources: validation.env_sources,
        collection: spec.collection,
        secrets: validation.no_log_values,
    };

    let options = match validation.error {
        Some(msg) => Err(Failure::new(msg)),
        None => serde_json::from_value::<T>(Value::Object(validation.params))
            .map_err(|e| {
                Failure::new(format!(
                    "Internal error in module {}: its options do not fit its option types: {e}",
                    ctx.module_name
                ))
            })
            .and_then(|options| options.check().map(|()| options)),
    };
    let outcome = match options {
        Err(failure) => Err(failure),
        Ok(_) if ctx.check_mode() && !spec.supports_check_mode => {
            Ok(Outcome::changed(false).with("skipped", true).with(
                "msg",
                format!(
                    "remote module ({}) does not support check mode",
                    ctx.module_name
                ),
            ))
        }
        Ok(options) => body(&mut ctx, options),
    };

    let (mut json, fields, exit_code) = match outcome {
        Ok(o) => {
            let mut m = Map::new();
            m.insert("changed".to_owned(), Value::Bool(o.changed));
            (m, o.fields, 0)
        }
        Err(f) => {
            let mut m = Map::new();
            m.insert("failed".to_owned(), Value::Bool(true));
            m.insert("msg".to_owned(), Value::String(f.msg));
            (m, f.fields, 1)
        }
    };
    let mut issued = Map::new();
    for (k, v) in fields.values {
        if fields.issued.contains(&k) {
            issued.insert(k, v);
        } else {
            json.insert(k, v);
        }
    }
    if !ctx.warnings.is_empty() {
        json.insert("warnings".to_owned(), serde_json::json!(ctx.warnings));
    }
    if !ctx.deprecations.is_empty() {
        json.insert(
            "deprecations".to_owned(),
            serde_json::json!(ctx.deprecations),
        );
    }
    let mut json = Value::Object(json);
    Secrets::new(ctx.secrets).mask(&mut json);
    if let Value::Object(map) = &mut json {
        map.extend(issued);
        if let Some(inv) = invocation {
            map.insert("invocation".to_owned(), inv);
        }
    }
    Report { json, exit_code }
}

fn failed(msg: String, extra: Map<String, Value>) -> Report {
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

/// A panic still ends as one JSON object on stdout and exit status 1 (also with panic=abort,
/// since the hook exits before the abort).
fn install_panic_hook(module: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_owned());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let mut msg = format!(
            "The module {module} stopped on an internal error ({what}{place}). \
             This is a bug; please report it with the task that triggered it."
        );
        if let Ok(guard) = PANIC_SECRETS.try_lock() {
            if let Some(secrets) = guard.as_ref() {
                msg = secrets.mask_str(&msg);
            }
        }
        emit(&failed(msg, Map::new()));
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Opts {
        name: Option<String>,
        token: Option<String>,
    }

    impl ModuleOptions for Opts {
        fn check(&self) -> Result<(), Failure> {
            match self.name.as_deref() {
                Some("bad") => Err(Failure::new("name must not be bad")),
                _ => Ok(()),
            }
        }
    }

    fn spec() -> ModuleSpec {
        ModuleSpec::new("demo", "ns.coll").options(&[Opt::str("name"), Opt::str("token").no_log()])
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("object expected"),
        }
    }

    fn exec(
        args: Value,
        body: impl FnOnce(&mut Context, Opts) -> Result<Outcome, Failure>,
    ) -> Report {
        execute(&spec(), Ok(obj(args)), &|_| None, body)
    }

    #[test]
    fn success_carries_invocation_with_no_log_hidden() {
        let r = exec(
            json!({"name": "n", "token": "s3cret", "_ansible_verbosity": 3}),
            |_, o| {
                Ok(Outcome::changed(true)
                    .with("msg", format!("used {}", o.token.unwrap_or_default()))
                    .with("name", o.name))
            },
        );
        assert_eq!(r.exit_code, 0);
        assert_eq!(
            r.json,
            json!({
                "changed": true,
                "msg": "used ********",
                "name": "n",
                "invocation": {"module_args": {"name": "n", "token": PLACEHOLDER}},
            })
        );
    }

    #[test]
    fn issued_values_are_never_masked() {
        let r = exec(json!({"token": "abc"}), |_, _| {
            Ok(Outcome::changed(true)
                .with_issued("creds", json!({"secret": "xxabcxx"}))
                .with("note", "abc"))
        });
        assert_eq!(r.json["creds"]["secret"], "xxabcxx");
        assert_eq!(r.json["note"], PLACEHOLDER);
    }

    #[test]
    fn secrets_learnt_by_the_module_are_masked() {
        let r = exec(json!({}), |ctx, _| {
            ctx.add_secret("file-token");
            Err(Failure::new("bad token file-token").with("echo", "file-token"))
        });
        assert_eq!(r.json["msg"], "bad token ********");
        assert_eq!(r.json["echo"], PLACEHOLDER);
    }

    #[test]
    fn failure_has_msg_and_exit_1() {
        let r = exec(json!({}), |_, _| {
            Err(Failure::new("boom").with("error", json!({"code": "X"})))
        });
        assert_eq!(r.exit_code, 1);
        assert_eq!(r.json["failed"], true);
        assert_eq!(r.json["msg"], "boom");
        assert_eq!(r.json["error"]["code"], "X");
    }

    #[test]
    fn validation_errors_fail_even_in_check_mode() {
        let r = exec(
            json!({"bogus": 1, "_ansible_check_mode": true, "_ansible_module_name": "ns.coll.demo"}),
            |_, _| unreachable!("the body must not run"),
        );
        assert_eq!(r.exit_code, 1);
        assert_eq!(
            r.json["msg"],
            "Unsupported parameters for (ns.coll.demo) module: bogus. Supported parameters include: name, token."
        );
    }

    #[test]
    fn value_checks_fail_even_in_check_mode() {
        let r = exec(
            json!({"name": "bad", "_ansible_check_mode": true}),
            |_, _| unreachable!(),
        );
        assert_eq!(
            (r.exit_code, r.json["msg"].as_str()),
            (1, Some("name must not be bad"))
        );
    }

    #[test]
    fn check_mode_skips_modules_without_support() {
        let r = exec(
            json!({"_ansible_check_mode": true, "_ansible_module_name": "ns.coll.demo"}),
            |_, _| unreachable!("the body must not run"),
        );
        assert_eq!(r.exit_code, 0);
        assert_eq!(r.json["skipped"], true);
        assert_eq!(r.json["changed"], false);
        assert_eq!(
            r.json["msg"],
            "remote module (ns.coll.demo) does not support check mode"
        );
    }

    #[test]
    fn check_mode_runs_modules_with_support() {
        let spec = spec().supports_check_mode();
        let r = execute(
            &spec,
            Ok(obj(json!({"_ansible_check_mode": true}))),
            &|_| None,
            |c: &mut Context, _: Opts| Ok(Outcome::changed(c.check_mode())),
        );
        assert_eq!(r.json["changed"], true);
    }

    #[test]
    fn unknown_internal_keys_are_ignored_and_invocation_can_be_declined() {
        let r = exec(
            json!({"_ansible_future_thing": {"x": 1}, "_ansible_inject_invocation": false, "_ansible_tmpdir": null}),
            |_, _| Ok(Outcome::changed(false)),
        );
        assert_eq!(r.json, json!({"changed": false}));
    }

    #[test]
    fn warnings_and_deprecations() {
        let r = exec(json!({}), |c, _| {
            c.warn("careful");
            c.deprecate("old thing");
            Ok(Outcome::changed(false))
        });
        assert_eq!(r.json["warnings"], json!(["careful"]));
        assert_eq!(
            r.json["deprecations"],
            json!([{"msg": "old thing", "collection_name": "ns.coll"}])
        );
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
        let r = execute(
            &spec(),
            Err("bad file".to_owned()),
            &|_| None,
            |_, _: Opts| unreachable!(),
        );
        assert_eq!(
            r,
            Report {
                json: json!({"failed": true, "msg": "bad file"}),
                exit_code: 1
            }
        );
    }
}
