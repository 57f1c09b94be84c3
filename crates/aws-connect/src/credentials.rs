//! Which credentials a module signs with: keys given as options, a named profile, or the SDK's
//! default chain, settled the way amazon.aws settles them (with one deliberate difference: a task
//! argument beats an environment variable).

use crate::options::{given, AwsOptions};
use ansible_module::{Context, Failure};
use std::path::{Path, PathBuf};

/// Which credentials to use, after settling a profile against keys.
#[derive(Debug, PartialEq)]
pub(crate) enum Source<'a> {
    Keys {
        access_key: &'a str,
        secret_key: &'a str,
        session_token: Option<&'a str>,
    },
    Profile(&'a str),
    Default,
}

pub(crate) fn credential_source<'a>(
    ctx: &Context,
    o: &'a AwsOptions,
) -> Result<Source<'a>, Failure> {
    let key_options: Vec<&str> = [
        ("access_key", &o.access_key),
        ("secret_key", &o.secret_key),
        ("session_token", &o.session_token),
    ]
    .iter()
    .filter(|(_, v)| given(v).is_some())
    .map(|(n, _)| *n)
    .collect();
    let profile = given(&o.profile);
    let use_keys = match (profile, key_options.is_empty()) {
        (_, true) => false,
        (None, false) => true,
        (Some(_), false) => keys_over_profile(ctx, &key_options)?,
    };
    if !use_keys {
        return Ok(profile.map_or(Source::Default, Source::Profile));
    }
    key_pair(o)
}

/// Who a request is signed as, in terms that stay the same from run to run and hold no secret,
/// so that a request can be recognised on a later run without a call.
#[derive(Debug, Clone, PartialEq)]
pub struct Signer {
    /// The access key ID of keys given as options or variables; or the profile (the default
    /// chain reads `default`) with the access key ID the shared credentials file holds for it.
    identity: String,
    /// The profile of the shared credentials file the SDK signs with, if any.
    profile: Option<String>,
}

impl Signer {
    /// Who signs, as the request digest names them (no secret).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// For a call that is not signed: `identity` says what stands for the signer.
    pub fn unsigned(identity: String) -> Self {
        Signer {
            identity,
            profile: None,
        }
    }

    /// Credentials written into the profile this task signs with would sign the next run, which
    /// would then ask for different credentials with temporary ones: refused.
    pub fn refuse_profile(&self, output_profile: &str, file: &Path) -> Result<(), Failure> {
        let read_by_sdk = sdk_credentials_file();
        if self.profile.as_deref() != Some(output_profile) || file != read_by_sdk {
            return Ok(());
        }
        Err(Failure::new(format!(
            "output_profile {output_profile} is the profile this task signs with; credentials \
             written there would sign the next run in its place. Choose another output_profile."
        )))
    }
}

/// The shared credentials file the SDK reads on this host.
pub fn sdk_credentials_file() -> PathBuf {
    credentials_file::default_path(|v| std::env::var(v).ok(), None)
}

/// The [`Signer`] of a module's calls, settled as [`credential_source`] settles it.
pub fn signer(ctx: &Context, o: &AwsOptions) -> Result<Signer, Failure> {
    let (kind, profile) = match credential_source(ctx, o)? {
        Source::Keys { access_key, .. } => {
            return Ok(Signer {
                identity: format!("keys {access_key}"),
                profile: None,
            })
        }
        Source::Profile(name) => ("profile", name),
        Source::Default => ("default chain", "default"),
    };
    let key_id = credentials_file::read_profile(&sdk_credentials_file(), profile)
        .ok()
        .flatten()
        .and_then(|p| p.get(credentials_file::ACCESS_KEY_ID).map(str::to_owned))
        .unwrap_or_default();
    Ok(Signer {
        identity: format!("{kind} {profile} {key_id}"),
        profile: Some(profile.to_owned()),
    })
}

/// Both a profile and keys are set: whether the keys win. amazon.aws refuses the pair outright,
/// even when one side only comes from the environment (amazon.aws#1353). Here a task argument
/// beats an environment variable; when both sides are task arguments, or both come from the
/// environment, it is an error.
fn keys_over_profile(ctx: &Context, key_options: &[&str]) -> Result<bool, Failure> {
    let profile_env = ctx.env_source("profile");
    let keys_env: Vec<&str> = key_options
        .iter()
        .filter_map(|k| ctx.env_source(k))
        .collect();
    let keys_all_env = keys_env.len() == key_options.len();
    match (profile_env, keys_all_env) {
        (None, true) => Ok(false),
        (Some(_), false) => Ok(true),
        (None, false) => Err(Failure::new(
            "Passing both a profile and access tokens is not supported.",
        )),
        (Some(var), true) => Err(Failure::new(format!(
            "Passing both a profile and access tokens is not supported. Both come from the \
             environment: the profile from {var}, the keys from {}. Unset one of them, or \
             set the option you do not want to '' in the task.",
            keys_env.join(", ")
        ))),
    }
}

/// The keys to sign with, when keys were chosen: both halves of the pair, in header-safe text.
fn key_pair(o: &AwsOptions) -> Result<Source<'_>, Failure> {
    match (given(&o.access_key), given(&o.secret_key)) {
        (Some(access_key), Some(secret_key)) => {
            // Both travel in HTTP headers, where a control character cannot go (the SDK's
            // signer would panic on it). Neither value is repeated: a token is secret.
            for (option, value) in [
                ("access_key", Some(access_key)),
                ("session_token", given(&o.session_token)),
            ] {
                if value.is_some_and(|v| v.chars().any(|c| c.is_control() && c != '\t')) {
                    return Err(Failure::new(format!(
                        "{option} contains a control character (a line break, say); AWS \
                         credentials are printable text. Check where the value comes from."
                    )));
                }
            }
            Ok(Source::Keys {
                access_key,
                secret_key,
                session_token: given(&o.session_token),
            })
        }
        (Some(_), None) => Err(Failure::new(
            "access_key is set but secret_key is not: give both (session_token is optional), \
             or neither to use a profile or the default credential chain.",
        )),
        (None, Some(_)) => Err(Failure::new(
            "secret_key is set but access_key is not: give both (session_token is optional), \
             or neither to use a profile or the default credential chain.",
        )),
        (None, None) => Err(Failure::new(
            "session_token is set but access_key and secret_key are not: a session token is only \
             used together with the keys it belongs to.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::module_spec;
    use crate::testing::CommonOnly;
    use ansible_module::{execute, Outcome};
    use serde_json::{json, Value};

    /// Runs the option handling of a module with only the common options, and returns what
    /// `credential_source` decided, or the failure message.
    fn source_of(args: Value, env: &[(&str, &str)]) -> Result<String, String> {
        let spec = module_spec("t", &[]);
        let Value::Object(args) = args else {
            panic!("object expected")
        };
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let report = execute(&spec, Ok(args), &lookup, |ctx, o: CommonOnly| {
            let s = credential_source(ctx, &o.aws)?;
            Ok(Outcome::changed(false).with("source", format!("{s:?}")))
        });
        match report.json.get("source") {
            Some(s) => Ok(s.as_str().unwrap_or_default().to_owned()),
            None => Err(report.json["msg"].as_str().unwrap_or_default().to_owned()),
        }
    }

    #[test]
    fn control_characters_in_header_credentials_fail_cleanly() {
        let e = source_of(
            json!({"access_key": "AKID\n", "secret_key": "sekrit-value"}),
            &[],
        )
        .unwrap_err();
        assert!(
            e.starts_with("access_key contains a control character"),
            "{e}"
        );
        let e = source_of(
            json!({"access_key": "AKID", "secret_key": "sekrit-value", "session_token": "to\u{7f}ken"}),
            &[],
        )
        .unwrap_err();
        assert!(
            e.starts_with("session_token contains a control character"),
            "{e}"
        );
        let e = source_of(
            json!({}),
            &[
                ("AWS_ACCESS_KEY_ID", "AK\u{1}"),
                ("AWS_SECRET_ACCESS_KEY", "sekrit-value"),
            ],
        )
        .unwrap_err();
        assert!(e.starts_with("access_key contains"), "{e}");
        // A secret key only feeds the signature: any text works.
        assert!(source_of(json!({"access_key": "AKID", "secret_key": "s\n"}), &[]).is_ok());
    }

    #[test]
    fn keys_from_arguments() {
        let s = source_of(json!({"access_key": "AK", "secret_key": "SK"}), &[]).unwrap();
        assert!(s.starts_with("Keys"), "{s}");
    }

    #[test]
    fn profile_and_keys_as_arguments_conflict() {
        let e = source_of(
            json!({"profile": "p", "access_key": "AK", "secret_key": "SK"}),
            &[],
        )
        .unwrap_err();
        assert_eq!(
            e,
            "Passing both a profile and access tokens is not supported."
        );
    }

    #[test]
    fn an_argument_beats_the_environment() {
        let env = [("AWS_ACCESS_KEY_ID", "AK"), ("AWS_SECRET_ACCESS_KEY", "SK")];
        assert_eq!(
            source_of(json!({"profile": "p"}), &env).unwrap(),
            "Profile(\"p\")"
        );
        let s = source_of(
            json!({"access_key": "A2", "secret_key": "S2"}),
            &[("AWS_PROFILE", "p")],
        )
        .unwrap();
        assert!(s.starts_with("Keys"), "{s}");
    }

    #[test]
    fn both_from_the_environment_conflict_and_say_where() {
        let env = [
            ("AWS_PROFILE", "p"),
            ("AWS_ACCESS_KEY_ID", "AK"),
            ("AWS_SECRET_ACCESS_KEY", "SK"),
        ];
        let e = source_of(json!({}), &env).unwrap_err();
        assert!(
            e.starts_with("Passing both a profile and access tokens is not supported."),
            "{e}"
        );
        assert!(
            e.contains("AWS_PROFILE") && e.contains("AWS_ACCESS_KEY_ID"),
            "{e}"
        );
    }

    #[test]
    fn empty_keys_neutralise_the_environment() {
        let env = [
            ("AWS_PROFILE", "p"),
            ("AWS_ACCESS_KEY_ID", "AK"),
            ("AWS_SECRET_ACCESS_KEY", "SK"),
        ];
        let s = source_of(json!({"access_key": "", "secret_key": ""}), &env).unwrap();
        assert_eq!(s, "Profile(\"p\")");
    }

    #[test]
    fn half_a_key_pair_is_an_error() {
        let e = source_of(json!({"access_key": "AK"}), &[]).unwrap_err();
        assert!(
            e.starts_with("access_key is set but secret_key is not"),
            "{e}"
        );
        let e = source_of(json!({"session_token": "T"}), &[]).unwrap_err();
        assert!(e.starts_with("session_token is set but"), "{e}");
    }

    #[test]
    fn nothing_given_uses_the_default_chain() {
        assert_eq!(source_of(json!({}), &[]).unwrap(), "Default");
    }

    #[test]
    fn legacy_names_still_work() {
        // The secret values are no_log, so the debug text shows them masked.
        let s = source_of(
            json!({"ec2_access_key": "AK", "aws_secret_key": "SK", "security_token": "T"}),
            &[],
        )
        .unwrap();
        assert!(
            s.starts_with("Keys { access_key: \"AK\"") && s.contains("session_token: Some("),
            "{s}"
        );
        let env = [("EC2_ACCESS_KEY", "AK"), ("EC2_SECRET_KEY", "SK")];
        assert!(source_of(json!({}), &env).unwrap().starts_with("Keys"));
    }
}
