//! Ansible's type conversions (`ansible.module_utils.common.validation.check_type_*`).
//!
//! Ad hoc arguments (`-a 'x=1 y=yes'`) and `environment:` values arrive as strings, YAML gives
//! native types; AnsibleModule converts both to the option's type, and so do we. Error texts
//! are AnsibleModule's, so users recognise them.

use crate::spec::Type;
use serde_json::{Map, Value};

/// Converts `value` to `kind`. The error is the text after "unable to convert to X: ".
pub fn coerce(kind: Type, value: &Value) -> Result<Value, String> {
    match kind {
        Type::Str => Ok(Value::String(to_str(value))),
        Type::Path => Ok(Value::String(expand_path(&to_str(value)))),
        Type::Int => to_int(value).map(Value::from),
        Type::Float => to_float(value).map(Value::from),
        Type::Bool => to_bool(value).map(Value::Bool),
        Type::List => to_list(value),
        Type::Dict => to_dict(value),
        Type::Raw => Ok(value.clone()),
    }
}

/// Python's type name of a JSON value, as in "argument 'x' is of type str".
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn class(value: &Value) -> String {
    format!("<class '{}'>", type_name(value))
}

/// Python's `repr()` of a JSON value, close enough for messages.
pub fn py_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let quote = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::with_capacity(s.len() + 2);
            out.push(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr(&Value::String(k.clone())), py_repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// Python's `str()`: what a non-string value becomes in a `str` option.
pub fn to_str(value: &Value) -> String {
    match value {
        // AnsibleModule turns None into '' for a str option that must be checked.
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

fn to_int(value: &Value) -> Result<i64, String> {
    let err = || format!("\"{}\" cannot be converted to an int", py_repr(value));
    match value {
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ok(i),
            None => whole_number(n.as_f64().ok_or_else(err)?).ok_or_else(err),
        },
        // Python's Decimal(): surrounding blanks, a sign, a fraction of zero and an exponent pass.
        Value::String(s) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                return Ok(i);
            }
            let is_decimal = !t.is_empty()
                && t.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
                && t.chars().any(|c| c.is_ascii_digit());
            if !is_decimal {
                return Err(err());
            }
            t.parse::<f64>().ok().and_then(whole_number).ok_or_else(err)
        }
        _ => Err(err()),
    }
}

fn whole_number(f: f64) -> Option<i64> {
    // i64::MAX as f64 rounds up to 2^63, which is out of range: keep strictly below it.
    (f.is_finite() && f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64)
        .then_some(f as i64)
}

fn to_float(value: &Value) -> Result<f64, String> {
    let err = || format!("{} cannot be converted to a float", class(value));
    match value {
        Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::Number(n) => n.as_f64().ok_or_else(err),
        Value::String(s) => {
            let t = s.trim();
            // JSON cannot carry inf or nan: refuse them rather than produce invalid output.
            match t.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(f),
                _ => Err(err()),
            }
        }
        _ => Err(err()),
    }
}

const BOOLEANS_TRUE: [&str; 6] = ["y", "yes", "on", "1", "true", "t"];
const BOOLEANS_FALSE: [&str; 6] = ["n", "no", "off", "0", "false", "f"];

/// Python's `boolean()`: yes/no, on/off, true/false, y/n, t/f, 1/0, any case.
pub fn to_bool(value: &Value) -> Result<bool, String> {
    let invalid = |shown: String| {
        format!(
            "The value '{shown}' is not a valid boolean. Valid booleans include: \
             'y', 'yes', 'on', '1', 'true', 't', 1, 1.0, True, \
             'n', 'no', 'off', '0', 'false', 'f', 0, 0.0, False"
        )
    };
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => {
            let norm = s.trim().to_lowercase();
            if BOOLEANS_TRUE.contains(&norm.as_str()) {
                Ok(true)
            } else if BOOLEANS_FALSE.contains(&norm.as_str()) {
                Ok(false)
            } else {
                Err(invalid(s.clone()))
            }
        }
        Value::Number(n) => match n.as_f64() {
            Some(1.0) => Ok(true),
            Some(0.0) => Ok(false),
            _ => Err(invalid(n.to_string())),
        },
        other => Err(format!("{} cannot be converted to a bool", class(other))),
    }
}

fn to_list(value: &Value) -> Result<Value, String> {
    match value {
        Value::Array(_) => Ok(value.clone()),
        Value::String(s) => Ok(Value::Array(
            s.split(',').map(|p| Value::String(p.to_owned())).collect(),
        )),
        Value::Number(n) => Ok(Value::Array(vec![Value::String(n.to_string())])),
        other => Err(format!("{} cannot be converted to a list", class(other))),
    }
}

fn to_dict(value: &Value) -> Result<Value, String> {
    match value {
        Value::Object(_) => Ok(value.clone()),
        Value::String(s) if s.starts_with('{') => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err("unable to evaluate string as dictionary".to_owned()),
        },
        Value::String(s) if s.contains('=') => parse_key_values(s).map(Value::Object),
        Value::String(_) => {
            Err("dictionary requested, could not parse JSON or key=value".to_owned())
        }
        other => Err(format!("{} cannot be converted to a dict", class(other))),
    }
}

/// `k1=v1, k2=v2` or `k1=v1 k2=v2`, with quotes and backslash escapes, as Ansible splits it.
fn parse_key_values(s: &str) -> Result<Map<String, Value>, String> {
    let mut fields = Vec::new();
    let mut buf = String::new();
    let mut quote: Option<char> = None;
    let mut escape = false;
    for c in s.trim().chars() {
        if escape {
            buf.push(c);
            escape = false;
        } else if c == '\\' {
            escape = true;
        } else if quote.is_none() && (c == '\'' || c == '"') {
            quote = Some(c);
        } else if quote == Some(c) {
            quote = None;
        } else if quote.is_none() && (c == ',' || c == ' ') {
            if !buf.is_empty() {
                fields.push(std::mem::take(&mut buf));
            }
        } else {
            buf.push(c);
        }
    }
    if !buf.is_empty() {
        fields.push(buf);
    }
    let mut map = Map::new();
    for field in fields {
        let (k, v) = field.split_once('=').ok_or_else(|| {
            "unable to evaluate string in the \"key=value\" format as dictionary".to_owned()
        })?;
        map.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    Ok(map)
}

/// `os.path.expanduser(os.path.expandvars(value))`: `$VAR` and `${VAR}` when set, then `~`.
pub fn expand_path(value: &str) -> String {
    let expanded = expand_vars(value);
    match expanded.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => match std::env::var("HOME") {
            Ok(home) => format!("{}{rest}", home.trim_end_matches('/')),
            Err(_) => expanded,
        },
        _ => expanded,
    }
}

fn expand_vars(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        match (name.is_empty(), std::env::var(name)) {
            (false, Ok(v)) => out.push_str(&v),
            _ => out.push_str(&rest[pos..pos + 1 + consumed]),
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ints_from_strings_and_whole_floats() {
        assert_eq!(coerce(Type::Int, &json!("42")).unwrap(), json!(42));
        assert_eq!(coerce(Type::Int, &json!(" 42 ")).unwrap(), json!(42));
        assert_eq!(coerce(Type::Int, &json!("1e3")).unwrap(), json!(1000));
        assert_eq!(coerce(Type::Int, &json!("3.0")).unwrap(), json!(3));
        assert_eq!(coerce(Type::Int, &json!(7.0)).unwrap(), json!(7));
        assert_eq!(coerce(Type::Int, &json!(true)).unwrap(), json!(1));
    }

    #[test]
    fn int_errors_read_like_ansible() {
        assert_eq!(
            coerce(Type::Int, &json!("invalid duration")).unwrap_err(),
            "\"'invalid duration'\" cannot be converted to an int"
        );
        assert_eq!(
            coerce(Type::Int, &json!(1.5)).unwrap_err(),
            "\"1.5\" cannot be converted to an int"
        );
        assert!(coerce(Type::Int, &json!("1.5")).is_err());
        assert!(coerce(Type::Int, &json!("")).is_err());
        assert!(coerce(Type::Int, &json!("0x10")).is_err());
        assert!(coerce(Type::Int, &json!([1])).is_err());
        assert!(coerce(Type::Int, &json!(null)).is_err());
        assert!(coerce(Type::Int, &json!("1e400")).is_err());
    }

    #[test]
    fn bools_accept_ansible_spellings() {
        for t in ["yes", "YES", " on ", "1", "true", "True", "t", "y"] {
            assert_eq!(to_bool(&json!(t)), Ok(true), "{t}");
        }
        for f in ["no", "off", "0", "false", "False", "f", "n"] {
            assert_eq!(to_bool(&json!(f)), Ok(false), "{f}");
        }
        assert_eq!(to_bool(&json!(1)), Ok(true));
        assert_eq!(to_bool(&json!(0.0)), Ok(false));
        let err = to_bool(&json!("maybe")).unwrap_err();
        assert!(
            err.starts_with("The value 'maybe' is not a valid boolean."),
            "{err}"
        );
        assert!(to_bool(&json!(2)).is_err());
        assert_eq!(
            to_bool(&json!([true])).unwrap_err(),
            "<class 'list'> cannot be converted to a bool"
        );
    }

    #[test]
    fn strings_from_other_types_use_python_str() {
        assert_eq!(coerce(Type::Str, &json!(5)).unwrap(), json!("5"));
        assert_eq!(coerce(Type::Str, &json!(true)).unwrap(), json!("True"));
        assert_eq!(coerce(Type::Str, &json!(null)).unwrap(), json!(""));
        assert_eq!(
            coerce(Type::Str, &json!(["a", 1])).unwrap(),
            json!("['a', 1]")
        );
    }

    #[test]
    fn floats() {
        assert_eq!(coerce(Type::Float, &json!("1.5")).unwrap(), json!(1.5));
        assert_eq!(coerce(Type::Float, &json!(2)).unwrap(), json!(2.0));
        assert_eq!(
            coerce(Type::Float, &json!("abc")).unwrap_err(),
            "<class 'str'> cannot be converted to a float"
        );
        assert!(coerce(Type::Float, &json!("nan")).is_err());
    }

    #[test]
    fn lists_split_on_commas() {
        assert_eq!(
            coerce(Type::List, &json!("a,b")).unwrap(),
            json!(["a", "b"])
        );
        assert_eq!(coerce(Type::List, &json!(3)).unwrap(), json!(["3"]));
        assert_eq!(coerce(Type::List, &json!(["x"])).unwrap(), json!(["x"]));
        assert_eq!(
            coerce(Type::List, &json!({"a": 1})).unwrap_err(),
            "<class 'dict'> cannot be converted to a list"
        );
    }

    #[test]
    fn dicts_from_json_and_key_values() {
        assert_eq!(
            coerce(Type::Dict, &json!("{\"a\": 1}")).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            coerce(Type::Dict, &json!("a=1, b='x y'")).unwrap(),
            json!({"a": "1", "b": "x y"})
        );
        assert_eq!(
            coerce(Type::Dict, &json!("{bad")).unwrap_err(),
            "unable to evaluate string as dictionary"
        );
        assert_eq!(
            coerce(Type::Dict, &json!("a=1, b")).unwrap_err(),
            "unable to evaluate string in the \"key=value\" format as dictionary"
        );
        assert_eq!(
            coerce(Type::Dict, &json!("plain")).unwrap_err(),
            "dictionary requested, could not parse JSON or key=value"
        );
        assert_eq!(
            coerce(Type::Dict, &json!(4)).unwrap_err(),
            "<class 'int'> cannot be converted to a dict"
        );
    }

    #[test]
    fn paths_expand_home_and_variables() {
        let home = std::env::var("HOME").unwrap_or_default();
        assert_eq!(
            expand_path("~/x"),
            format!("{}/x", home.trim_end_matches('/'))
        );
        assert_eq!(expand_path("a~b"), "a~b");
        assert_eq!(expand_path("$HOME/y"), format!("{home}/y"));
        assert_eq!(expand_path("${HOME}z"), format!("{home}z"));
        assert_eq!(
            expand_path("$NO_SUCH_VARIABLE_HOPEFULLY/x"),
            "$NO_SUCH_VARIABLE_HOPEFULLY/x"
        );
        assert_eq!(expand_path("cost$"), "cost$");
        assert_eq!(expand_path("${unclosed"), "${unclosed");
    }

    #[test]
    fn repr_quotes_like_python() {
        assert_eq!(py_repr(&json!("it's")), "\"it's\"");
        assert_eq!(py_repr(&json!("a'b\"c")), "'a\\'b\"c'");
        assert_eq!(
            py_repr(&json!({"k": [null, false]})),
            "{'k': [None, False]}"
        );
    }
}
