//! The options of every module that keeps credentials in a profile, declared once: the spec's
//! entries, the typed structs the modules flatten in, and their checks.

use ansible_module::{Failure, Lit, ModuleSpec, Opt, Type};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The documentation fragment of [`OUTPUT_OPTIONS`].
pub const OUTPUT_FRAGMENT: &str = "output_profile";

/// What `min_ttl` is when not given: botocore and granted refresh 15 minutes before expiry.
pub const DEFAULT_MIN_TTL: i64 = 900;

/// The longest any STS credentials live (GetSessionToken's 36 hours), so the largest useful
/// `min_ttl`.
const MAX_MIN_TTL: i64 = 129_600;

/// The profile of the shared credentials file credentials are written to and reused from.
pub const OUTPUT_PROFILE: Opt = Opt::str("output_profile");
/// The file `output_profile` is in (default: [`credentials_file_path`]).
pub const CREDENTIALS_FILE: Opt = Opt::new("credentials_file", Type::Path);
/// Kept credentials are reused only while they stay valid longer than this.
pub const MIN_TTL: Opt = Opt::int("min_ttl").default(Lit::Int(DEFAULT_MIN_TTL));
/// New credentials even when the kept ones could be reused.
pub const FORCE_REFRESH: Opt = Opt::bool("force_refresh").default(Lit::Bool(false));
/// Replace a profile this collection did not write.
pub const OVERWRITE_UNMANAGED_PROFILE: Opt =
    Opt::bool("overwrite_unmanaged_profile").default(Lit::Bool(false));

/// How profiles are kept, whichever profile: [`StoreOptions`]' options (sts_assume_roles takes
/// these at the top and a profile per entry).
pub const STORE_OPTIONS: &[Opt] = &[
    CREDENTIALS_FILE,
    MIN_TTL,
    FORCE_REFRESH,
    OVERWRITE_UNMANAGED_PROFILE,
];

/// The options of every single-role STS module for keeping credentials in a profile:
/// [`OutputOptions`]' options.
pub const OUTPUT_OPTIONS: &[Opt] = &[
    OUTPUT_PROFILE,
    CREDENTIALS_FILE,
    MIN_TTL,
    FORCE_REFRESH,
    OVERWRITE_UNMANAGED_PROFILE,
];

/// Adds [`OUTPUT_OPTIONS`] to an STS module's spec; check mode is supported with
/// `output_profile` (it says whether a run would refresh) and skipped without it.
pub fn with_output_options(spec: ModuleSpec) -> ModuleSpec {
    spec.shared_options(OUTPUT_FRAGMENT, OUTPUT_OPTIONS)
        .required_by("credentials_file", &["output_profile"])
        .supports_check_mode_with("output_profile")
}

/// [`STORE_OPTIONS`] after validation.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StoreOptions {
    pub credentials_file: Option<String>,
    pub min_ttl: i64,
    pub force_refresh: bool,
    pub overwrite_unmanaged_profile: bool,
}

impl StoreOptions {
    /// `min_ttl` within 0 and the longest credentials STS issues.
    pub fn check(&self) -> Result<(), Failure> {
        if (0..=MAX_MIN_TTL).contains(&self.min_ttl) {
            return Ok(());
        }
        Err(Failure::new(format!(
            "min_ttl must be 0 to {MAX_MIN_TTL} seconds, got {}",
            self.min_ttl
        )))
    }

    /// Where `profile` is kept.
    pub fn destination(&self, profile: &str) -> Destination {
        Destination {
            profile: profile.to_owned(),
            file: credentials_file_path(self.credentials_file.as_deref()),
            overwrite_unmanaged: self.overwrite_unmanaged_profile,
        }
    }
}

/// [`OUTPUT_OPTIONS`] after validation. Flatten it into an STS module's options struct.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OutputOptions {
    pub output_profile: Option<String>,
    #[serde(flatten)]
    pub store: StoreOptions,
}

impl OutputOptions {
    /// The profile's name (`''` counts as not set) and `min_ttl` in range.
    pub fn check(&self) -> Result<(), Failure> {
        if let Some(profile) = self.profile() {
            check_profile_name("output_profile", profile)?;
        }
        self.store.check()
    }

    pub fn profile(&self) -> Option<&str> {
        self.output_profile.as_deref().filter(|p| !p.is_empty())
    }
}

/// A profile name the credentials file can hold; `option` names where it came from.
pub fn check_profile_name(option: &str, profile: &str) -> Result<(), Failure> {
    credentials_file::check_profile_name(profile)
        .map_err(|e| Failure::new(format!("{option}: {e}")))
}

/// Which profile of which file, and whether a profile this collection did not write may be
/// replaced.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    pub profile: String,
    pub file: PathBuf,
    pub overwrite_unmanaged: bool,
}

/// `credentials_file` when given (not `''`), else the shared credentials file the SDKs read on
/// this host.
pub fn credentials_file_path(given: Option<&str>) -> PathBuf {
    match given.filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => aws_connect::sdk_credentials_file(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked() {
        let mut o = OutputOptions {
            output_profile: Some("daily".to_owned()),
            store: StoreOptions {
                credentials_file: None,
                min_ttl: DEFAULT_MIN_TTL,
                force_refresh: false,
                overwrite_unmanaged_profile: false,
            },
        };
        assert!(o.check().is_ok());
        o.store.min_ttl = -1;
        let e = o.check().err().map(|f| f.msg).unwrap_or_default();
        assert_eq!(e, "min_ttl must be 0 to 129600 seconds, got -1");
        o.store.min_ttl = 0;
        o.output_profile = Some("a]b".to_owned());
        let e = o.check().err().map(|f| f.msg).unwrap_or_default();
        assert!(e.starts_with("output_profile: invalid profile name"), "{e}");
        o.output_profile = Some(String::new());
        assert!(o.check().is_ok() && o.profile().is_none());
    }
}
