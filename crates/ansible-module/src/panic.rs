//! A panic still ends as one masked JSON failure on stdout.
use crate::mask::Secrets;
use crate::run::{emit, failed};
use serde_json::Map;
use std::sync::Mutex;

/// Secrets known so far, for the panic hook.
static PANIC_SECRETS: Mutex<Option<Secrets>> = Mutex::new(None);

/// Replaces the secrets the panic hook masks.
pub(crate) fn remember_secrets(secrets: Secrets) {
    if let Ok(mut guard) = PANIC_SECRETS.lock() {
        *guard = Some(secrets);
    }
}

/// A panic still ends as one JSON object on stdout and exit status 1 (also with panic=abort,
/// since the hook exits before the abort).
pub(crate) fn install_panic_hook(module: &'static str) {
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
