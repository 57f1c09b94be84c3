//! One module run from options to printed result: validation, check mode, the module's body,
//! masking, and the one place that prints and exits.
use crate::args::ArgsSource;
use crate::context::{Context, Internal};
use crate::emit::{emit, failed};
use crate::mask::{remember_secrets, Secrets, PLACEHOLDER};
use crate::outcome::{Failure, Outcome, Report};
use crate::panic::install_panic_hook;
use crate::rules::validate;
use crate::spec::ModuleSpec;
use crate::ModuleOptions;
use serde_json::{Map, Value};

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
    let (args, internal) = match args {
        Ok(args) => split_internal(args),
        Err(msg) => return failed(msg, Map::new()),
    };
    let module_name = internal
        .module_name
        .clone()
        .unwrap_or_else(|| spec.name.to_owned());
    let mut validation = validate(spec, args, env, &module_name, internal.ignore_unknown_opts);
    let secrets = Secrets::new(validation.no_log_values.iter().cloned());
    remember_secrets(secrets.clone());
    let invocation = (internal.inject_invocation != Some(false))
        .then(|| invocation(spec, &validation.params, &secrets));
    let error = validation.error.take();
    let params = std::mem::take(&mut validation.params);
    let mut ctx = Context {
        internal,
        module_name,
        warnings: validation.warnings,
        deprecations: validation.deprecations,
        env_sources: validation.env_sources,
        collection: spec.collection,
        secrets: validation.no_log_values,
    };
    let outcome = match error {
        Some(msg) => Err(Failure::new(msg)),
        None => {
            let runs_in_check_mode = spec.runs_in_check_mode(&params);
            typed_options::<T>(&ctx, params).and_then(|options| {
                if ctx.check_mode() && !runs_in_check_mode {
                    return Ok(check_mode_skip(&ctx));
                }
                body(&mut ctx, options)
            })
        }
    };
    report(outcome, ctx, invocation)
}

/// The task's options apart from ansible-core's `_ansible_*` settings.
fn split_internal(mut args: Map<String, Value>) -> (Map<String, Value>, Internal) {
    let internal_keys: Vec<String> = args
        .keys()
        .filter(|k| k.starts_with("_ansible_"))
        .cloned()
        .collect();
    let mut internal = Map::new();
    for k in internal_keys {
        if let Some(v) = args.remove(&k) {
            internal.insert(k, v);
        }
    }
    (args, Internal::from_args(&internal))
}

/// `invocation.module_args`: the validated options, no_log ones as the placeholder and their
/// values masked anywhere else.
fn invocation(spec: &ModuleSpec, params: &Map<String, Value>, secrets: &Secrets) -> Value {
    let mut args = params.clone();
    for (name, value) in args.iter_mut() {
        if spec.option(name).is_some_and(|o| o.no_log) && !value.is_null() {
            *value = Value::String(PLACEHOLDER.to_owned());
        }
    }
    let mut args = Value::Object(args);
    secrets.mask(&mut args);
    serde_json::json!({ "module_args": args })
}

/// The validated options read into the module's struct, then its value checks.
fn typed_options<T: ModuleOptions>(
    ctx: &Context,
    params: Map<String, Value>,
) -> Result<T, Failure> {
    let options = serde_json::from_value::<T>(Value::Object(params)).map_err(|e| {
        Failure::new(format!(
            "Internal error in module {}: its options do not fit its option types: {e}",
            ctx.module_name
        ))
    })?;
    options.check()?;
    Ok(options)
}

/// AnsibleModule's answer in check mode for a module that does not support it.
fn check_mode_skip(ctx: &Context) -> Outcome {
    Outcome::changed(false).with("skipped", true).with(
        "msg",
        format!(
            "remote module ({}) does not support check mode",
            ctx.module_name
        ),
    )
}

/// The JSON to print: `changed` or `failed`/`msg`, the module's keys, warnings and
/// deprecations, all masked; then the issued values and the invocation, which are not.
fn report(outcome: Result<Outcome, Failure>, ctx: Context, invocation: Option<Value>) -> Report {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Opt;
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
    fn check_mode_can_depend_on_an_option() {
        let spec = spec().supports_check_mode_with("name");
        let run = |args: Value| {
            execute(&spec, Ok(obj(args)), &|_| None, |_, _: Opts| {
                Ok(Outcome::changed(true))
            })
            .json
        };
        let with = run(json!({"name": "n", "_ansible_check_mode": true}));
        assert_eq!(
            (&with["changed"], with.get("skipped")),
            (&json!(true), None)
        );
        for name in [json!(null), json!("")] {
            let without = run(json!({"name": name, "_ansible_check_mode": true}));
            assert_eq!(without["skipped"], true);
        }
        assert_eq!(run(json!({}))["changed"], true);
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
    fn an_unreadable_args_file_is_one_failure() {
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
