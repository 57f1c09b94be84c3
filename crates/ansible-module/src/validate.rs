//! Option validation in AnsibleModule's order (`ArgumentSpecValidator.validate`): environment
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

/// Validates `args` (the user's options, `_ansible_*` keys removed). `env` looks up environment
/// variables, so tests can pass their own.
pub fn validate(
    spec: &ModuleSpec,
    mut args: Map<String, Value>,
    env: &dyn Fn(&str) -> Option<String>,
    module_name: &str,
    ignore_unknown: bool,
) -> Validation {
    let mut v = Validation::default();
    let mut errors: Vec<String> = Vec::new();
    let deprecate = |msg: String| Deprecation {
        msg,
        version: None,
        date: None,
        collection_name: Some(spec.collection.to_owned()),
    };

    // Environment fallbacks, for options not given under any of their names.
    for opt in &spec.options {
        if opt.names().any(|n| args.contains_key(n)) {
            continue;
        }
        if let Some((var, value)) = opt
            .env
            .iter()
            .find_map(|var| env(var).map(|val| (*var, val)))
        {
            if opt.deprecated_env.contains(&var) {
                let current: Vec<&str> = opt
                    .env
                    .iter()
                    .copied()
                    .filter(|e| !opt.deprecated_env.contains(e))
                    .collect();
                v.deprecations.push(deprecate(format!(
                    "Environment variable {var} (option {}) is deprecated; use {} instead.",
                    opt.name,
                    current.join(" or ")
                )));
            }
            args.insert(opt.name.to_owned(), Value::String(value));
            v.env_sources.insert(opt.name.to_owned(), var);
        }
    }

    // Aliases: the value given under an alias becomes the option's (the last alias wins).
    for opt in &spec.options {
        for alias in opt.aliases.iter().chain(opt.deprecated_aliases) {
            if let Some(value) = args.remove(*alias) {
                if args.contains_key(opt.name) {
                    v.warnings.push(format!(
                        "Both option {} and its alias {alias} are set.",
                        opt.name
                    ));
                }
                if opt.deprecated_aliases.contains(alias) {
                    v.deprecations.push(deprecate(format!(
                        "Alias '{alias}' is deprecated; use '{}' instead. See the module docs for more information",
                        opt.name
                    )));
                }
                args.insert(opt.name.to_owned(), value);
            }
        }
    }

    collect_no_log_values(spec, &args, &mut v.no_log_values);

    // Unsupported names are reported after every other error, as AnsibleModule does.
    let unsupported: Vec<String> = {
        let mut names: Vec<String> = args
            .keys()
            .filter(|k| spec.option(k).is_none())
            .cloned()
            .collect();
        names.sort();
        names
    };
    for name in &unsupported {
        args.remove(name);
    }

    let present = |args: &Map<String, Value>, name: &str| args.contains_key(name);

    for group in &spec.mutually_exclusive {
        if group.iter().filter(|n| present(&args, n)).count() > 1 {
            errors.push(format!(
                "parameters are mutually exclusive: {}",
                group.join("|")
            ));
        }
    }

    for opt in &spec.options {
        if let (false, Some(default)) = (args.contains_key(opt.name), opt.default) {
            args.insert(opt.name.to_owned(), default.to_value());
        }
    }

    let mut missing: Vec<&str> = spec
        .options
        .iter()
        .filter(|o| o.required && !args.contains_key(o.name))
        .map(|o| o.name)
        .collect();
    if !missing.is_empty() {
        missing.sort_unstable();
        errors.push(format!(
            "missing required arguments: {}",
            missing.join(", ")
        ));
    }

    for opt in &spec.options {
        let Some(value) = args.get(opt.name) else {
            continue;
        };
        if value.is_null() && !opt.required && opt.default.is_none() {
            continue;
        }
        match coerce(opt.kind, value) {
            Ok(converted) => {
                let converted = match (opt.elements, converted) {
                    (Some(elem), Value::Array(items)) => {
                        Value::Array(coerce_elements(opt.name, elem, items, &mut errors))
                    }
                    (_, other) => other,
                };
                args.insert(opt.name.to_owned(), converted);
            }
            Err(e) => errors.push(format!(
                "argument '{}' is of type {} and we were unable to convert to {}: {e}",
                opt.name,
                type_name(value),
                opt.kind.name()
            )),
        }
    }

    for opt in spec.options.iter().filter(|o| !o.choices.is_empty()) {
        let Some(value) = args.get(opt.name) else {
            continue;
        };
        let allowed = |x: &Value| x.as_str().is_some_and(|s| opt.choices.contains(&s));
        match value {
            Value::Array(items) => {
                let bad: Vec<String> = items.iter().filter(|x| !allowed(x)).map(to_str).collect();
                if !bad.is_empty() {
                    errors.push(format!(
                        "value of {} must be one or more of: {}. Got no match for: {}",
                        opt.name,
                        opt.choices.join(", "),
                        bad.join(", ")
                    ));
                }
            }
            other if !allowed(other) => errors.push(format!(
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

    for group in &spec.required_together {
        let given = group.iter().filter(|n| present(&args, n)).count();
        if given > 0 && given < group.len() {
            errors.push(format!(
                "parameters are required together: {}",
                group.join(", ")
            ));
        }
    }

    for group in &spec.required_one_of {
        if !group.iter().any(|n| present(&args, n)) {
            errors.push(format!(
                "one of the following is required: {}",
                group.join(", ")
            ));
        }
    }

    for rule in &spec.required_if {
        if args.get(rule.key) != Some(&rule.value.to_value()) {
            continue;
        }
        let absent: Vec<&str> = rule
            .requires
            .iter()
            .copied()
            .filter(|n| !present(&args, n))
            .collect();
        let fails = if rule.any {
            absent.len() == rule.requires.len()
        } else {
            !absent.is_empty()
        };
        if fails {
            errors.push(format!(
                "{} is {} but {} of the following are missing: {}",
                rule.key,
                rule.value.display(),
                if rule.any { "any" } else { "all" },
                absent.join(", ")
            ));
        }
    }

    for (key, requires) in &spec.required_by {
        if args.get(*key).is_none_or(Value::is_null) {
            continue;
        }
        let absent: Vec<&str> = requires
            .iter()
            .copied()
            .filter(|n| args.get(*n).is_none_or(Value::is_null))
            .collect();
        if !absent.is_empty() {
            errors.push(format!(
                "missing parameter(s) required by '{key}': {}",
                absent.join(", ")
            ));
        }
    }

    if !unsupported.is_empty() && !ignore_unknown {
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
        errors.push(format!(
            "Unsupported parameters for ({module_name}) module: {}. Supported parameters include: {supported}.",
            unsupported.join(", ")
        ));
    }

    // Every option appears in the result, in spec order, null where unset.
    for opt in &spec.options {
        let value = args.remove(opt.name).unwrap_or(Value::Null);
        v.params.insert(opt.name.to_owned(), value);
    }
    v.error = errors.into_iter().next();
    v
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

/// The string forms of every no_log option's value (and of its elements), as AnsibleModule
/// collects them; empty and false values hide nothing.
fn collect_no_log_values(spec: &ModuleSpec, args: &Map<String, Value>, out: &mut Vec<String>) {
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
    for opt in spec.options.iter().filter(|o| o.no_log) {
        if let Some(value) = args.get(opt.name) {
            walk(value, out);
        }
    }
    out.sort();
    out.dedup();
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
