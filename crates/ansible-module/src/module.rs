//! What a module is to the executable that serves it: its spec, its typed options and its
//! entry point.

use crate::args::ArgsSource;
use crate::outcome::Failure;
use crate::spec::{ModuleSpec, Opt, Type};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// A module's typed options. `check` holds the value rules beyond types (ranges, formats);
/// it runs before the check-mode skip, so a bad value fails in `--check` runs too.
pub trait ModuleOptions: DeserializeOwned {
    fn check(&self) -> Result<(), Failure> {
        Ok(())
    }
}

/// A module of the collection: what it accepts and how it runs. The multi-call executable's
/// table is a list of these; every other description of the module (its name, `--print-spec`,
/// the documentation checks) is derived from `spec`.
#[derive(Clone, Copy)]
pub struct Module {
    /// The options, the rules between them and the module's name.
    pub spec: fn() -> ModuleSpec,
    /// Reads the arguments, runs the module, prints the result and exits.
    pub main: fn(ArgsSource) -> !,
    /// [`options_round_trip`] for the module's options struct, so a test can check every
    /// module of the table.
    pub options_round_trip: fn(&ModuleSpec) -> Result<(), String>,
}

impl Module {
    pub fn name(&self) -> &'static str {
        (self.spec)().name
    }
}

/// Checks that an options struct reads every option of `spec` and nothing else: the options
/// are read into `T` and written back, once with a sample value for each and once with only
/// the required ones and the defaults, and what comes back must be what went in. (A misspelt
/// optional field would otherwise read as `None` without a word.)
pub fn options_round_trip<T: DeserializeOwned + Serialize>(
    spec: &ModuleSpec,
) -> Result<(), String> {
    let all: Map<String, Value> = spec
        .options
        .iter()
        .map(|o| (o.name.to_owned(), sample(o)))
        .collect();
    let least: Map<String, Value> = spec
        .options
        .iter()
        .map(|o| {
            let value = match o.default {
                Some(default) => default.to_value(),
                None if o.required => sample(o),
                None => Value::Null,
            };
            (o.name.to_owned(), value)
        })
        .collect();
    for params in [all, least] {
        let options: T = serde_json::from_value(Value::Object(params.clone())).map_err(|e| {
            format!(
                "{}: the options struct cannot read {params:?}: {e}",
                spec.name
            )
        })?;
        let back = serde_json::to_value(&options).map_err(|e| e.to_string())?;
        let back = back.as_object().cloned().unwrap_or_default();
        for (name, given) in &params {
            match back.get(name) {
                Some(read) if read == given => {}
                Some(read) => {
                    return Err(format!(
                        "{}: option {name} was given {given} and read as {read}",
                        spec.name
                    ))
                }
                None => {
                    return Err(format!(
                        "{}: option {name} of the spec is not a field of the options struct",
                        spec.name
                    ))
                }
            }
        }
        if let Some(extra) = back.keys().find(|k| !params.contains_key(*k)) {
            return Err(format!(
                "{}: the options struct has a field {extra} that the spec does not declare",
                spec.name
            ));
        }
    }
    Ok(())
}

/// A value of the option's type, as validation leaves it (distinct per option where it can be).
fn sample(o: &Opt) -> Value {
    fn of(kind: Type, name: &str) -> Value {
        match kind {
            Type::Str | Type::Raw => json!(format!("sample-{name}")),
            Type::Path => json!(format!("/sample/{name}")),
            Type::Int => json!(901),
            Type::Float => json!(1.5),
            Type::Bool => json!(true),
            Type::List => json!([]),
            Type::Dict => json!({"sample": name}),
        }
    }
    match (o.kind, o.choices.first(), o.elements) {
        (_, Some(choice), _) => json!(choice),
        (Type::List, None, Some(elements)) => json!([of(elements, o.name)]),
        (kind, None, _) => of(kind, o.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    fn spec() -> ModuleSpec {
        ModuleSpec::new("demo", "ns.coll").options(&[
            Opt::str("name").required(),
            Opt::int("count"),
            Opt::list("tags", Type::Str),
        ])
    }

    #[derive(Deserialize, Serialize)]
    struct Right {
        name: String,
        count: Option<i64>,
        tags: Option<Vec<String>>,
    }

    #[derive(Deserialize, Serialize)]
    struct Misspelt {
        name: String,
        cuont: Option<i64>,
        tags: Option<Vec<String>>,
    }

    #[derive(Deserialize, Serialize)]
    struct Missing {
        name: String,
        tags: Option<Vec<String>>,
    }

    #[test]
    fn a_struct_that_reads_every_option_passes() {
        assert_eq!(options_round_trip::<Right>(&spec()), Ok(()));
    }

    #[test]
    fn a_misspelt_or_missing_field_fails() {
        let e = options_round_trip::<Misspelt>(&spec()).unwrap_err();
        assert!(e.contains("count"), "{e}");
        let e = options_round_trip::<Missing>(&spec()).unwrap_err();
        assert_eq!(
            e,
            "demo: option count of the spec is not a field of the options struct"
        );
    }
}
