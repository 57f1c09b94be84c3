//! A panic still ends as one masked JSON failure on stdout.
use crate::emit::{emit, failed};
use crate::mask::mask_known_secrets;
use serde_json::Map;

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
        let msg = format!(
            "The module {module} stopped on an internal error ({what}{place}). \
             This is a bug; please report it with the task that triggered it."
        );
        let msg = mask_known_secrets(msg);
        emit(&failed(msg, Map::new()));
    }));
}
