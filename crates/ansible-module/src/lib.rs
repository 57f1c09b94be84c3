//! The Ansible binary-module protocol, and nothing else.
//!
//! ansible-core runs a binary module as `<module> <args file>`; the file holds one JSON object:
//! the task's options followed by `_ansible_*` keys. The module must print exactly one JSON
//! object on stdout. [`run`] does all of that around a module's body: it reads and validates
//! the options against a [`ModuleSpec`] the way AnsibleModule does, handles check mode, hands
//! the body a typed options struct, masks no_log values, and is the only place that prints a
//! result and sets the exit status, for every path including a panic.

mod args;
pub mod coerce;
mod context;
mod emit;
pub mod mask;
mod module;
mod outcome;
mod panic;
mod rules;
mod run;
pub mod spec;

pub use args::{read_args_file, ArgsSource};
pub use context::{Context, Internal};
pub use emit::{emit, fail_early};
pub use mask::{Secrets, PLACEHOLDER};
pub use module::{options_round_trip, Module, ModuleOptions};
pub use outcome::{Deprecation, Failure, Outcome, Report};
pub use rules::{validate, Validation};
pub use run::{execute, run, validation_error};
pub use spec::{Lit, ModuleSpec, Opt, RequiredIf, Type, COMMON_FRAGMENT};
