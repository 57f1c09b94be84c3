//! What a module's body sees besides its options: ansible-core's `_ansible_*` settings, and
//! where it records warnings, deprecations and secrets it learnt.
use crate::mask::{remember_secrets, Secrets};
use crate::outcome::Deprecation;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

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
    pub(crate) fn from_args(args: &Map<String, Value>) -> Self {
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
    pub(crate) internal: Internal,
    pub(crate) module_name: String,
    pub(crate) warnings: Vec<String>,
    pub(crate) deprecations: Vec<Deprecation>,
    pub(crate) env_sources: BTreeMap<String, &'static str>,
    pub(crate) collection: &'static str,
    /// no_log values so far: the options' and those the module learnt (see `add_secret`).
    pub(crate) secrets: Vec<String>,
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
        remember_secrets(Secrets::new(self.secrets.iter().cloned()));
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
