//! What a module's run produces: a success or a failure with its keys, and the report printed.
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

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

/// Keys and values a module returns, some of which may be secrets the module obtained.
#[derive(Debug, Default, Clone)]
pub(crate) struct Fields {
    pub(crate) values: Map<String, Value>,
    /// Keys holding values the module obtained (new credentials): returned as they are, never
    /// masked, even if an option's no_log value happens to occur inside them.
    pub(crate) issued: BTreeSet<String>,
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
    pub(crate) changed: bool,
    pub(crate) fields: Fields,
}

/// The keys a success and a failure carry besides their own: `with` adds a key, masked like
/// the rest of the result; `with_issued` adds a value the module obtained and must return
/// whole even when a no_log value equals it (new credentials, a new secret).
macro_rules! result_keys {
    ($result:ty) => {
        impl $result {
            pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
                self.fields.set(key, value, false);
                self
            }
            pub fn with_issued(mut self, key: &str, value: impl Serialize) -> Self {
                self.fields.set(key, value, true);
                self
            }
        }
    };
}

impl Outcome {
    pub fn changed(changed: bool) -> Self {
        Outcome {
            changed,
            fields: Fields::default(),
        }
    }
}

result_keys!(Outcome);

/// A failed result: `msg` plus any other keys.
#[derive(Debug, Clone)]
pub struct Failure {
    pub msg: String,
    pub(crate) fields: Fields,
}

impl Failure {
    pub fn new(msg: impl Into<String>) -> Self {
        Failure {
            msg: msg.into(),
            fields: Fields::default(),
        }
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

result_keys!(Failure);

/// The result of one run: the JSON object to print and the exit status.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub json: Value,
    pub exit_code: i32,
}
