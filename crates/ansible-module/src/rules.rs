//! AnsibleModule's rules for options, in its order (`ArgumentSpecValidator.validate`): environment
//! fallbacks, aliases, no_log values, unsupported names, mutually_exclusive, defaults, required,
//! types, choices, required_together, required_one_of, required_if, required_by. As in
//! AnsibleModule, the first error found is the one reported; unsupported names come last.

use crate::coerce::{coerce, py_repr, to_str, type_name};
use crate::spec::{ModuleSpec, Type};
use crate::Deprecation;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What validation found. On success `error` is `None` and `params` holds every option of the
/// spec under its canonical name, converted to its type, `null` where unset.
#[derive(Debug, Default)]
pub struct Validation {
    pub params: Map<String, Value>,
    pub no_log_values: Vec<String>,
    pub warnings: Vec<String>,
    pub deprecations: Vec<Deprecation>,
    /// Options whose value came from an environment variable, with that variable's name.
    pub env_sources: BTreeMap<String, &'static str>,
    pub error: Option<String>,
}

/// One stage of validation: it reads and updates the run's state, and may add errors.
type Stage = fn(&mut Run<'_>);

/// AnsibleModule's stages, in its order (`ArgumentSpecValidator.validate`).
const STAGES: &[Stage] = &[
    env_fallbacks,
    aliases,
    no_log_values,
    unsupported_names,
    mutually_exclusive,
    defaults,
    required,
    types,
    choices,
    required_together,
    required_one_of,
    required_if,
    required_by,
    report_unsupported,
];

/// The state the stages share.
struct Run<'a> {
    spec: &'a ModuleSpec,
    args: Map<String, Value>,
    env: &'a dyn Fn(&str) -> Option<String>,
    module_name: &'a str,
    ignore_unknown: bool,
    unsupported: Vec<String>,
    errors: Vec<String>,
    found: Validation,
}

impl Run<'_> {
    fn deprecate(&mut self, msg: String) {
        self.found.deprecations.push(Deprecation {
            msg,
            version: None,
            date: None,
            collection_name: Some(self.spec.collection.to_owned()),
        });
    }
    fn present(&self, name: &str) -> bool {
        self.args.contains_key(name)
    }
}

/// Validates `args` (the user's options, `_ansible_*` keys removed). `env` looks up environment
/// variables, so tests can pass their own.
pub fn validate(
    spec: &ModuleSpec,
    args: Map<String, Value>,
    env: &dyn Fn(&str) -> Option<String>,
    module_name: &str,
    ignore_unknown: bool,
) -> Validation {
    let mut run = Run {
        spec,
        args,
        env,
        module_name,
        ignore_unknown,
        unsupported: Vec::new(),
        errors: Vec::new(),
        found: Validation::default(),
    };
    for stage in STAGES {
        stage(&mut run);
    }
    // Every option appears in the result, in spec order, null where unset.
    for opt in &spec.options {
        let value = run.args.remove(opt.name).unwrap_or(Value::Null);
        run.found.params.insert(opt.name.to_owned(), value);
    }
    run.found.error = run.errors.into_iter().next();
    run.found
}

/// Environment fallbacks, for options not given under any of their names.
fn env_fallbacks(run: &mut Run<'_>) {
    for opt in &run.spec.options {
        if opt.names().any(|n| run.args.contains_key(n)) {
            continue;
        }
        let Some((var, value)) = opt
            .env
            .iter()
            .find_map(|var| (run.env)(var).map(|val| (*var, val)))
        else {
            continue;
        };
        if opt.deprecated_env.contains(&var) {
            let current: Vec<&str> = opt
                .env
                .iter()
                .copied()
                .filter(|e| !opt.deprecated_env.contains(e))
                .collect();
            run.deprecate(format!(
                "Environment variable {var} (option {}) is deprecated; use {} instead.",
                opt.name,
                current.join(" or ")
            ));
        }
        run.args.insert(opt.name.to_owned(), Value::String(value));
        run.found.env_sources.insert(opt.name.to_owned(), var);
    }
}

/// The value given under an alias becomes the option's (the last alias wins).
fn aliases(run: &mut Run<'_>) {
    for opt in &run.spec.options {
        for alias in opt.aliases.iter().chain(opt.deprecated_aliases) {
            let Some(value) = run.args.remove(*alias) else {
                continue;
            };
            if run.args.contains_key(opt.name) {
                run.found.warnings.push(format!(
                    "Both option {} and its alias {alias} are set.",
                    opt.name
                ));
            }
            if opt.deprecated_aliases.contains(alias) {
                run.deprecate(format!(
                    "Alias '{alias}' is deprecated; use '{}' instead. See the module docs for more information",
                    opt.name
                ));
            }
            run.args.insert(opt.name.to_owned(), value);
        }
    }
}

/// The string forms of every no_log option's value (and of its elements), as AnsibleModule
/// collects them; empty and false values hide nothing.
fn no_log_values(run: &mut Run<'_>) {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Null | Value::Bool(false) => {}
            Value::String(s) if s.is_empty() => {}
            Value::Array(items) => items.iter().for_each(|x| walk(x, out)),
            Value::Object(map) => map.values().for_each(|x| walk(x, out)),
            Value::String(s) => out.push(s.clone()),
            other => out.push(py_repr(other)),
        }
    }
    let out = &mut run.found.no_log_values;
    for opt in run.spec.options.iter().filter(|o| o.no_log) {
        if let Some(value) = run.args.get(opt.name) {
            walk(value, out);
        }
    }
    out.sort();
    out.dedup();
}

/// Names the spec does not know are set aside; [`report_unsupported`] reports them last.
fn unsupported_names(run: &mut Run<'_>) {
    let mut names: Vec<String> = run
        .args
        .keys()
        .filter(|k| run.spec.option(k).is_none())
        .cloned()
        .collect();
    names.sort();
    for name in &names {
        run.args.remove(name);
    }
    run.unsupported = names;
}

fn mutually_exclusive(run: &mut Run<'_>) {
    for group in &run.spec.mutually_exclusive {
        if group.iter().filter(|n| run.present(n)).count() > 1 {
            run.errors.push(format!(
                "parameters are mutually exclusive: {}",
                group.join("|")
            ));
        }
    }
}

fn defaults(run: &mut Run<'_>) {
    for opt in &run.spec.options {
        if let (false, Some(default)) = (run.args.contains_key(opt.name), opt.default) {
            run.args.insert(opt.name.to_owned(), default.to_value());
        }
    }
}

fn required(run: &mut Run<'_>) {
    let mut missing: Vec<&str> = run
        .spec
        .options
        .iter()
        .filter(|o| o.required && !run.args.contains_key(o.name))
        .map(|o| o.name)
        .collect();
    if !missing.is_empty() {
        missing.sort_unstable();
        run.errors.push(format!(
            "missing required arguments: {}",
            missing.join(", ")
        ));
    }
}

/// Every given value converted to its option's type (and list elements to theirs).
fn types(run: &mut Run<'_>) {
    for opt in &run.spec.options {
        let Some(value) = run.args.get(opt.name) else {
            continue;
        };
        if value.is_null() && !opt.required && opt.default.is_none() {
            continue;
        }
        match coerce(opt.kind, value) {
            Ok(converted) => {
                let converted = match (opt.elements, converted) {
                    (Some(elem), Value::Array(items)) => {
                        Value::Array(coerce_elements(opt.name, elem, items, &mut run.errors))
                    }
                    (_, other) => other,
                };
                run.args.insert(opt.name.to_owned(), converted);
            }
            Err(e) => run.errors.push(format!(
                "argument '{}' is of type {} and we were unable to convert to {}: {e}",
                opt.name,
                type_name(value),
                opt.kind.name()
            )),
        }
    }
}

fn choices(run: &mut Run<'_>) {
    for opt in run.spec.options.iter().filter(|o| !o.choices.is_empty()) {
        let Some(value) = run.args.get(opt.name) else {
            continue;
        };
        let allowed = |x: &Value| x.as_str().is_some_and(|s| opt.choices.contains(&s));
        match value {
            Value::Array(items) => {
                let bad: Vec<String> = items.iter().filter(|x| !allowed(x)).map(to_str).collect();
                if !bad.is_empty() {
                    run.errors.push(format!(
                        "value of {} must be one or more of: {}. Got no match for: {}",
                        opt.name,
                        opt.choices.join(", "),
                        bad.join(", ")
                    ));
                }
            }
            other if !allowed(other) => run.errors.push(format!(
                "value of {} must be one of: {}, got: {}",
                opt.name,
                opt.choices.join(", "),
                if other.is_null() {
                    "None".to_owned()
                } else {
                    to_str(other)
                }
            )),
            _ => {}
        }
    }
}

fn required_together(run: &mut Run<'_>) {
    for group in &run.spec.required_together {
        let given = group.iter().filter(|n| run.present(n)).count();
        if given > 0 && given < group.len() {
            run.errors.push(format!(
                "parameters are required together: {}",
                group.join(", ")
            ));
        }
    }
}

fn required_one_of(run: &mut Run<'_>) {
    for group in &run.spec.required_one_of {
        if !group.iter().any(|n| run.present(n)) {
            run.errors.push(format!(
                "one of the following is required: {}",
                group.join(", ")
            ));
        }
    }
}

fn required_if(run: &mut Run<'_>) {
    for rule in &run.spec.required_if {
        if run.args.get(rule.key) != Some(&rule.value.to_value()) {
            continue;
        }
        let absent: Vec<&str> = rule
            .requires
            .iter()
            .copied()
            .filter(|n| !run.present(n))
            .collect();
        let fails = if rule.any {
            absent.len() == rule.requires.len()
        } else {
            !absent.is_empty()
        };
        if fails {
            run.errors.push(format!(
                "{} is {} but {} of the following are missing: {}",
                rule.key,
                rule.value.display(),
                if rule.any { "any" } else { "all" },
                absent.join(", ")
            ));
        }
    }
}

fn required_by(run: &mut Run<'_>) {
    for (key, requires) in &run.spec.required_by {
        if run.args.get(*key).is_none_or(Value::is_null) {
            continue;
        }
        let absent: Vec<&str> = requires
            .iter()
            .copied()
            .filter(|n| run.args.get(*n).is_none_or(Value::is_null))
            .collect();
        if !absent.is_empty() {
            run.errors.push(format!(
                "missing parameter(s) required by '{key}': {}",
                absent.join(", ")
            ));
        }
    }
}

/// Unsupported names come after every other error, as in AnsibleModule.
fn report_unsupported(run: &mut Run<'_>) {
    if run.unsupported.is_empty() || run.ignore_unknown {
        return;
    }
    let spec = run.spec;
    let mut names: Vec<&str> = spec.options.iter().map(|o| o.name).collect();
    names.sort_unstable();
    let mut aliases: Vec<&str> = spec
        .options
        .iter()
        .flat_map(|o| o.aliases.iter().chain(o.deprecated_aliases).copied())
        .collect();
    aliases.sort_unstable();
    let mut supported = names.join(", ");
    if !aliases.is_empty() {
        supported = format!("{supported} ({})", aliases.join(", "));
    }
    run.errors.push(format!(
        "Unsupported parameters for ({}) module: {}. Supported parameters include: {supported}.",
        run.module_name,
        run.unsupported.join(", ")
    ));
}

fn coerce_elements(
    name: &str,
    kind: Type,
    items: Vec<Value>,
    errors: &mut Vec<String>,
) -> Vec<Value> {
    items
        .into_iter()
        .filter_map(|item| match coerce(kind, &item) {
            Ok(x) => Some(x),
            Err(e) => {
                errors.push(format!(
                    "Elements value for option '{name}' is of type {} and we were unable to convert to {}: {e}",
                    type_name(&item),
                    kind.name()
                ));
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Lit, Opt, RequiredIf};
    use serde_json::json;

    fn spec() -> ModuleSpec {
        ModuleSpec::new("demo", "ns.coll")
            .options(&[
                Opt::str("region")
                    .aliases(&["aws_region"])
                    .deprecated_aliases(&["ec2_region"])
                    .env(&["AWS_REGION", "EC2_REGION"])
                    .deprecated_env(&["EC2_REGION"]),
                Opt::str("secret").no_log(),
                Opt::int("count"),
                Opt::bool("flag"),
                Opt::str("state")
                    .choices(&["present", "absent"])
                    .default(Lit::Str("present")),
                Opt::str("id"),
                Opt::bool("rotate").default(Lit::Bool(false)),
                Opt::list("tags", Type::Int),
            ])
            .mutually_exclusive(&["rotate", "id"])
            .required_if(RequiredIf {
                key: "state",
                value: Lit::Str("absent"),
                requires: &["id"],
                any: false,
            })
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn run(args: Value) -> Validation {
        run_env(args, &no_env)
    }

    fn run_env(args: Value, env: &dyn Fn(&str) -> Option<String>) -> Validation {
        let Value::Object(map) = args else {
            panic!("object expected")
        };
        validate(&spec(), map, env, "demo", false)
    }

    #[test]
    fn defaults_types_and_nulls() {
        let v = run(json!({"count": "3", "flag": "yes"}));
        assert_eq!(v.error, None);
        assert_eq!(v.params["count"], json!(3));
        assert_eq!(v.params["flag"], json!(true));
        assert_eq!(v.params["state"], json!("present"));
        assert_eq!(v.params["rotate"], json!(false));
        assert_eq!(v.params["region"], json!(null));
        assert_eq!(v.params.len(), spec().options.len());
    }

    #[test]
    fn type_error_names_the_option() {
        let v = run(json!({"count": "invalid duration"}));
        assert_eq!(
            v.error.as_deref(),
            Some("argument 'count' is of type str and we were unable to convert to int: \"'invalid duration'\" cannot be converted to an int")
        );
    }

    #[test]
    fn list_elements_are_converted_and_checked() {
        assert_eq!(run(json!({"tags": "1,2"})).params["tags"], json!([1, 2]));
        let v = run(json!({"tags": ["1", "x"]}));
        assert_eq!(
            v.error.as_deref(),
            Some("Elements value for option 'tags' is of type str and we were unable to convert to int: \"'x'\" cannot be converted to an int")
        );
    }

    #[test]
    fn choices() {
        let v = run(json!({"state": "gone"}));
        assert_eq!(
            v.error.as_deref(),
            Some("value of state must be one of: present, absent, got: gone")
        );
    }

    #[test]
    fn env_fallback_first_present_wins_even_if_empty() {
        let env = |k: &str| match k {
            "AWS_REGION" => Some(String::new()),
            "EC2_REGION" => Some("eu-west-1".to_owned()),
            _ => None,
        };
        let v = run_env(json!({}), &env);
        assert_eq!(v.params["region"], json!(""));
        assert_eq!(v.env_sources["region"], "AWS_REGION");
        assert!(v.deprecations.is_empty());
    }

    #[test]
    fn deprecated_env_adds_a_deprecation() {
        let env = |k: &str| (k == "EC2_REGION").then(|| "eu-west-1".to_owned());
        let v = run_env(json!({}), &env);
        assert_eq!(v.params["region"], json!("eu-west-1"));
        assert_eq!(v.deprecations.len(), 1);
        assert!(v.deprecations[0].msg.contains("EC2_REGION"));
        assert!(v.deprecations[0].msg.contains("AWS_REGION"));
        assert_eq!(
            v.deprecations[0].collection_name.as_deref(),
            Some("ns.coll")
        );
    }

    #[test]
    fn an_argument_beats_the_environment() {
        let env = |k: &str| (k == "AWS_REGION").then(|| "from-env".to_owned());
        assert_eq!(
            run_env(json!({"region": "arg"}), &env).params["region"],
            json!("arg")
        );
        assert_eq!(
            run_env(json!({"aws_region": "alias"}), &env).params["region"],
            json!("alias")
        );
    }

    #[test]
    fn aliases_and_deprecated_aliases() {
        let v = run(json!({"aws_region": "a"}));
        assert_eq!(v.params["region"], json!("a"));
        assert!(v.deprecations.is_empty() && v.warnings.is_empty());
        let v = run(json!({"ec2_region": "b"}));
        assert_eq!(v.params["region"], json!("b"));
        assert_eq!(
            v.deprecations[0].msg,
            "Alias 'ec2_region' is deprecated; use 'region' instead. See the module docs for more information"
        );
        let v = run(json!({"region": "a", "aws_region": "b"}));
        assert_eq!(v.params["region"], json!("b"));
        assert_eq!(
            v.warnings,
            ["Both option region and its alias aws_region are set."]
        );
    }

    #[test]
    fn unsupported_lists_names_then_aliases() {
        let v = run(json!({"bogus": 1, "zzz": 2}));
        assert_eq!(
            v.error.as_deref(),
            Some("Unsupported parameters for (demo) module: bogus, zzz. Supported parameters include: count, flag, id, region, rotate, secret, state, tags (aws_region, ec2_region).")
        );
        let Value::Object(map) = json!({"bogus": 1}) else {
            unreachable!()
        };
        assert_eq!(validate(&spec(), map, &no_env, "demo", true).error, None);
    }

    #[test]
    fn unsupported_is_reported_after_other_errors() {
        let v = run(json!({"bogus": 1, "count": "x"}));
        assert!(v.error.unwrap().starts_with("argument 'count'"));
    }

    #[test]
    fn mutually_exclusive_counts_presence() {
        let v = run(json!({"rotate": false, "id": "k"}));
        assert_eq!(
            v.error.as_deref(),
            Some("parameters are mutually exclusive: rotate|id")
        );
        assert_eq!(run(json!({"id": "k"})).error, None);
    }

    #[test]
    fn required_if() {
        let v = run(json!({"state": "absent"}));
        assert_eq!(
            v.error.as_deref(),
            Some("state is absent but all of the following are missing: id")
        );
        assert_eq!(run(json!({"state": "absent", "id": ""})).error, None);
    }

    #[test]
    fn required_missing_are_sorted() {
        let s = ModuleSpec::new("m", "c").options(&[
            Opt::str("role_session_name").required(),
            Opt::str("role_arn").required(),
        ]);
        let v = validate(&s, Map::new(), &no_env, "m", false);
        assert_eq!(
            v.error.as_deref(),
            Some("missing required arguments: role_arn, role_session_name")
        );
    }

    #[test]
    fn required_together_one_of_and_by() {
        let s = ModuleSpec::new("m", "c")
            .options(&[Opt::str("a"), Opt::str("b"), Opt::str("c")])
            .required_together(&["a", "b"]);
        let Value::Object(args) = json!({"a": "1"}) else {
            unreachable!()
        };
        assert_eq!(
            validate(&s, args, &no_env, "m", false).error.as_deref(),
            Some("parameters are required together: a, b")
        );

        let s = ModuleSpec::new("m", "c")
            .options(&[Opt::str("a"), Opt::str("b")])
            .required_one_of(&["a", "b"]);
        assert_eq!(
            validate(&s, Map::new(), &no_env, "m", false)
                .error
                .as_deref(),
            Some("one of the following is required: a, b")
        );

        let s = ModuleSpec::new("m", "c")
            .options(&[Opt::str("a"), Opt::str("b"), Opt::str("c")])
            .required_by("a", &["b", "c"]);
        let Value::Object(args) = json!({"a": "1", "c": "3"}) else {
            unreachable!()
        };
        assert_eq!(
            validate(&s, args, &no_env, "m", false).error.as_deref(),
            Some("missing parameter(s) required by 'a': b")
        );
    }

    #[test]
    fn required_if_any() {
        let s = ModuleSpec::new("m", "c")
            .options(&[Opt::bool("on"), Opt::str("x"), Opt::str("y")])
            .required_if(RequiredIf {
                key: "on",
                value: Lit::Bool(true),
                requires: &["x", "y"],
                any: true,
            });
        let Value::Object(args) = json!({"on": "yes"}) else {
            unreachable!()
        };
        assert_eq!(
            validate(&s, args, &no_env, "m", false).error.as_deref(),
            Some("on is True but any of the following are missing: x, y")
        );
        let Value::Object(args) = json!({"on": "yes", "y": "1"}) else {
            unreachable!()
        };
        assert_eq!(validate(&s, args, &no_env, "m", false).error, None);
    }

    #[test]
    fn no_log_values_are_collected_from_args_and_env() {
        assert_eq!(run(json!({"secret": "hunter2"})).no_log_values, ["hunter2"]);
        assert!(run(json!({"secret": ""})).no_log_values.is_empty());
    }
}
