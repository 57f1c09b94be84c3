//! Hiding no_log values in a result, as AnsibleModule's `remove_values` does: a string equal to
//! a secret becomes `VALUE_SPECIFIED_IN_NO_LOG_PARAMETER`, a secret inside a longer string
//! becomes `********` (longest secrets first).

use serde_json::Value;
use std::sync::Mutex;

pub const PLACEHOLDER: &str = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER";
const STARS: &str = "********";

/// The secrets to hide, longest first so that one secret inside another is hidden whole.
#[derive(Debug, Default, Clone)]
pub struct Secrets(Vec<String>);

impl Secrets {
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut v: Vec<String> = values.into_iter().filter(|s| !s.is_empty()).collect();
        v.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        v.dedup();
        Secrets(v)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn mask_str(&self, s: &str) -> String {
        if self.0.iter().any(|secret| secret == s) {
            return PLACEHOLDER.to_owned();
        }
        let mut out = s.to_owned();
        for secret in &self.0 {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), STARS);
            }
        }
        out
    }

    pub fn mask(&self, value: &mut Value) {
        if self.0.is_empty() {
            return;
        }
        match value {
            Value::String(s) => *s = self.mask_str(s),
            Value::Number(n) => {
                let text = n.to_string();
                if self.0.contains(&text) {
                    *value = Value::String(PLACEHOLDER.to_owned());
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|x| self.mask(x)),
            Value::Object(map) => map.values_mut().for_each(|x| self.mask(x)),
            Value::Null | Value::Bool(_) => {}
        }
    }
}

/// The secrets known so far in this process (the options' and those the module learnt), for
/// messages made where no [`Context`](crate::Context) is at hand: the panic hook.
static KNOWN_SECRETS: Mutex<Option<Secrets>> = Mutex::new(None);

/// Replaces the secrets [`mask_known_secrets`] hides.
pub(crate) fn remember_secrets(secrets: Secrets) {
    if let Ok(mut guard) = KNOWN_SECRETS.lock() {
        *guard = Some(secrets);
    }
}

/// `text` with every secret remembered so far masked; never waits for the lock (a panic may
/// happen while it is held).
pub(crate) fn mask_known_secrets(text: String) -> String {
    match KNOWN_SECRETS.try_lock() {
        Ok(guard) => match guard.as_ref() {
            Some(secrets) => secrets.mask_str(&text),
            None => text,
        },
        Err(_) => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_values_become_the_placeholder_and_substrings_stars() {
        let s = Secrets::new(["123456".to_owned(), "hunter2".to_owned()]);
        let mut v = json!({
            "mfa_token": "123456",
            "serial": "arn:aws:iam::123456789012:mfa/u",
            "msg": "pw is hunter2",
            "n": 123456,
            "list": ["hunter2", true, null],
        });
        s.mask(&mut v);
        assert_eq!(
            v,
            json!({
                "mfa_token": PLACEHOLDER,
                "serial": "arn:aws:iam::********789012:mfa/u",
                "msg": "pw is ********",
                "n": PLACEHOLDER,
                "list": [PLACEHOLDER, true, null],
            })
        );
    }

    #[test]
    fn longest_secret_first_and_empty_ignored() {
        let s = Secrets::new(["abc".to_owned(), "abcdef".to_owned(), String::new()]);
        assert_eq!(s.mask_str("x abcdef y abc"), "x ******** y ********");
        assert_eq!(s.mask_str(""), "");
    }
}
