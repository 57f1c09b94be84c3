//! The steps of a write, and the test hooks run after each.

use std::fmt;
use std::sync::Arc;

/// Test hook: the process aborts when a write reaches the step of this name (debug builds only).
pub const STOP_AT_ENV: &str = "RUSTAWS_CREDS_TEST_STOP_AT";

/// A step of a write, in order; the test hooks run after each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Locked,
    Read,
    TempWritten,
    TempSynced,
    Renamed,
    DirSynced,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Locked,
        Step::Read,
        Step::TempWritten,
        Step::TempSynced,
        Step::Renamed,
        Step::DirSynced,
    ];

    /// The name [`STOP_AT_ENV`] takes: `Locked`, `Read`, `TempWritten`, ….
    pub fn name(self) -> &'static str {
        match self {
            Step::Locked => "Locked",
            Step::Read => "Read",
            Step::TempWritten => "TempWritten",
            Step::TempSynced => "TempSynced",
            Step::Renamed => "Renamed",
            Step::DirSynced => "DirSynced",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub(crate) type StepHook = Arc<dyn Fn(Step) + Send + Sync>;

/// Runs the test hooks for the step a write has `reached`.
pub(crate) fn step(hook: Option<&StepHook>, reached: Step) {
    // Only builds with debug assertions (cargo's dev and test profiles) have the hook: the
    // release build that ships never reads the variable.
    if cfg!(debug_assertions)
        && std::env::var_os(STOP_AT_ENV).is_some_and(|name| name == reached.name())
    {
        std::process::abort();
    }
    if let Some(hook) = hook {
        hook(reached);
    }
}
