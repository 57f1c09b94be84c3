//! Credentials that outlive the task. With `output_profile`, an STS module writes the
//! credentials it gets into a profile of the AWS shared credentials file, and later runs answer
//! from that profile, without calling STS, while the credentials were obtained for the same
//! request and stay valid for more than `min_ttl` seconds.
//!
//! The request is recognised by a digest of everything that makes credentials fit it (the
//! operation, who signs, the endpoint, the region and the module's request options), stored
//! beside the credentials. Nothing secret goes into it.

use crate::credentials::{signer, Signer};
use crate::options::{given, AwsOptions};
use crate::sts::Minted;
use ansible_module::{Context, Failure, Lit, ModuleSpec, Opt, Outcome, Type};
use credentials_file::{CredentialsFile, Entries, StoredProfile, WriteOptions};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

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

/// The options of every single-role STS module for keeping credentials in a profile (other
/// modules take some of them, declared by these same constants).
pub const OUTPUT_OPTIONS: &[Opt] = &[
    OUTPUT_PROFILE,
    CREDENTIALS_FILE,
    MIN_TTL,
    FORCE_REFRESH,
    OVERWRITE_UNMANAGED_PROFILE,
];

/// `credentials_file` when given (not `''`), else the shared credentials file the SDKs read on
/// this host.
pub fn credentials_file_path(given: Option<&str>) -> PathBuf {
    match given.filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => credentials_file::default_path(|v| std::env::var(v).ok(), None),
    }
}

/// Saves credentials whose profile could not be written to a file of their own, in the home
/// directory of the user the module runs as; returns its path.
pub fn save_unwritten(profile: &str, entries: &Entries) -> Result<String, credentials_file::Error> {
    credentials_file::save_unwritten(profile, entries, |v| std::env::var(v).ok(), None)
        .map(|path| path.display().to_string())
}

/// `min_ttl` within 0 and the longest credentials STS issues.
pub fn check_min_ttl(min_ttl: i64) -> Result<(), Failure> {
    if (0..=MAX_MIN_TTL).contains(&min_ttl) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "min_ttl must be 0 to {MAX_MIN_TTL} seconds, got {min_ttl}"
    )))
}

/// A section this collection did not write is replaced only when the task says so; checked
/// before any call, so a refusal costs nothing (the writer checks again under its lock).
pub fn refuse_unmanaged(
    stored: Option<&StoredProfile>,
    overwrite: bool,
    profile: &str,
    path: &Path,
) -> Result<(), Failure> {
    match stored {
        Some(s) if !s.managed && !overwrite => Err(Failure::new(format!(
            "output_profile {profile}: profile [{profile}] in {} was not written by this \
             collection, so it is left alone. Choose another output_profile, or set \
             overwrite_unmanaged_profile: true to replace it.",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Adds [`OUTPUT_OPTIONS`] to an STS module's spec; check mode is supported with
/// `output_profile` (it says whether a run would refresh) and skipped without it, as before.
pub fn with_output_options(spec: ModuleSpec) -> ModuleSpec {
    spec.shared_options(OUTPUT_FRAGMENT, OUTPUT_OPTIONS)
        .required_by("credentials_file", &["output_profile"])
        .supports_check_mode_with("output_profile")
}

/// [`OUTPUT_OPTIONS`] after validation. Flatten it into an STS module's options struct.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OutputOptions {
    pub output_profile: Option<String>,
    pub credentials_file: Option<String>,
    pub min_ttl: i64,
    pub force_refresh: bool,
    pub overwrite_unmanaged_profile: bool,
}

impl OutputOptions {
    /// The profile's name (`''` counts as not set) and `min_ttl` in range.
    pub fn check(&self) -> Result<(), Failure> {
        if let Some(profile) = self.profile() {
            credentials_file::check_profile_name(profile)
                .map_err(|e| Failure::new(format!("output_profile: {e}")))?;
        }
        check_min_ttl(self.min_ttl)
    }

    pub fn profile(&self) -> Option<&str> {
        given(&self.output_profile)
    }

    fn file(&self) -> PathBuf {
        credentials_file_path(self.credentials_file.as_deref())
    }
}

/// What credentials are asked for, by whom and from where; none of it secret.
#[derive(Debug, Clone)]
pub struct Request {
    operation: &'static str,
    signer: Signer,
    endpoint_url: Option<String>,
    region: Option<String>,
    params: Value,
    mfa_code_missing: bool,
}

impl Request {
    /// A signed call: the signer is settled from the common options as the call will be.
    pub fn signed(
        ctx: &Context,
        operation: &'static str,
        aws: &AwsOptions,
        params: Value,
    ) -> Result<Self, Failure> {
        Ok(Self::new(operation, signer(ctx, aws)?, aws, params))
    }

    /// An unsigned call (web identity): `identity` says what stands for the signer.
    pub fn unsigned(
        operation: &'static str,
        identity: String,
        aws: &AwsOptions,
        params: Value,
    ) -> Self {
        Self::new(operation, Signer::unsigned(identity), aws, params)
    }

    fn new(operation: &'static str, signer: Signer, aws: &AwsOptions, params: Value) -> Self {
        Request {
            operation,
            signer,
            endpoint_url: given(&aws.endpoint_url).map(str::to_owned),
            region: given(&aws.region).map(str::to_owned),
            params,
            mfa_code_missing: false,
        }
    }

    /// The MFA options: a serial number without a code can only be answered from the profile.
    pub fn mfa(mut self, serial: Option<&str>, code: Option<&str>) -> Self {
        self.mfa_code_missing = serial.is_some() && code.is_none();
        self
    }

    /// SHA-256 (hex) of the request in a canonical form: the same request gives the same digest
    /// on every run and host.
    pub fn digest(&self) -> String {
        let canonical = json!({
            "version": 1,
            "operation": self.operation,
            "signer": self.signer.identity,
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "params": self.params,
        });
        digest(&canonical)
    }
}

/// SHA-256 (hex) of a value's JSON text: the request digest a written profile keeps.
pub fn digest(value: &Value) -> String {
    let hash = Sha256::digest(value.to_string().as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs one STS module: without `output_profile`, `mint` is called and its credentials returned
/// (`changed: true`); with it, the profile is reused or refreshed (see the module docs).
pub async fn deliver(
    ctx: &mut Context,
    output: &OutputOptions,
    request: impl FnOnce(&Context) -> Result<Request, Failure>,
    mint: impl AsyncFnOnce(&mut Context) -> Result<Minted, Failure>,
) -> Result<Outcome, Failure> {
    let Some(profile) = output.profile() else {
        if ctx.check_mode() {
            // The spec skips check-mode runs without output_profile before they get here.
            return Err(Failure::new(
                "Internal error: check mode without output_profile",
            ));
        }
        let minted = mint(ctx).await?;
        return Ok(minted.outcome(true, SystemTime::now()));
    };
    let request = &request(ctx)?;
    let kept = Kept::read(output, profile, request)?;
    let now = SystemTime::now();
    let reason = match kept.reusable(output, &request.digest(), now) {
        Ok(minted) => {
            for secret in [&minted.creds.secret_key, &minted.creds.session_token] {
                ctx.add_secret(secret.clone());
            }
            return Ok(kept.report(minted.outcome(false, now), None));
        }
        Err(reason) => reason,
    };
    kept.check_writable(output)?;
    kept.check_ready()?;
    if ctx.check_mode() {
        let diff = ctx.diff().then(|| kept.diff(None));
        return Ok(with_diff(
            kept.report(Outcome::changed(true), Some(&reason)),
            diff,
        ));
    }
    if request.mfa_code_missing {
        return Err(Failure::new(format!(
            "output_profile {profile}: new credentials are needed ({reason}), and with \
             mfa_serial_number set they need an MFA code: give the code the device shows now \
             as mfa_token."
        ))
        .with("refresh_reason", &reason));
    }
    let minted = mint(ctx).await?;
    kept.write(output, request, &minted)?;
    let outcome = minted.outcome(true, now);
    warn_if_short_lived(ctx, output, &minted, now);
    let diff = ctx.diff().then(|| kept.diff(Some((&minted, request))));
    Ok(with_diff(kept.report(outcome, Some(&reason)), diff))
}

fn with_diff(outcome: Outcome, diff: Option<Value>) -> Outcome {
    match diff {
        Some(diff) => outcome.with("diff", diff),
        None => outcome,
    }
}

/// Fresh credentials that already expire within `min_ttl` are refreshed by every run.
fn warn_if_short_lived(
    ctx: &mut Context,
    output: &OutputOptions,
    minted: &Minted,
    now: SystemTime,
) {
    let left = minted.expires_in(now);
    if left <= output.min_ttl {
        ctx.warn(format!(
            "The new credentials expire in {left} s, within min_ttl ({} s): every run will \
             get new ones. Ask for a longer duration_seconds or set a lower min_ttl.",
            output.min_ttl
        ));
    }
}

/// The profile of the credentials file as read before the decision. Public for modules that
/// keep several profiles in one run (sts_assume_roles); the STS modules go through [`deliver`].
pub struct Kept {
    file: CredentialsFile,
    profile: String,
    stored: Option<StoredProfile>,
}

impl Kept {
    pub fn read(output: &OutputOptions, profile: &str, request: &Request) -> Result<Self, Failure> {
        let path = output.file();
        request.signer.refuse_profile(profile, &path)?;
        let file = CredentialsFile::at(path);
        let stored = file
            .read_profile(profile)
            .map_err(|e| Failure::new(format!("output_profile {profile}: {e}")))?;
        Ok(Kept {
            file,
            profile: profile.to_owned(),
            stored,
        })
    }

    /// The stored credentials when they answer this request, or why not.
    pub fn reusable(
        &self,
        output: &OutputOptions,
        digest: &str,
        now: SystemTime,
    ) -> Result<Minted, String> {
        let Some(stored) = &self.stored else {
            return Err("the profile does not exist yet".to_owned());
        };
        if !stored.managed {
            return Err("the profile was not written by this collection".to_owned());
        }
        if stored.request_digest.as_deref() != Some(digest) {
            return Err("the profile holds credentials obtained for another request".to_owned());
        }
        let minted = Minted::from_stored(stored)
            .ok_or_else(|| "the profile lacks a key this collection writes".to_owned())?;
        let left = minted.expires_in(now);
        if left <= output.min_ttl {
            return Err(format!(
                "the credentials in the profile expire in {left} s, within min_ttl ({} s)",
                output.min_ttl
            ));
        }
        if output.force_refresh {
            return Err("force_refresh is set".to_owned());
        }
        Ok(minted)
    }

    /// See [`refuse_unmanaged`].
    pub fn check_writable(&self, output: &OutputOptions) -> Result<(), Failure> {
        refuse_unmanaged(
            self.stored.as_ref(),
            output.overwrite_unmanaged_profile,
            &self.profile,
            self.file.path(),
        )
    }

    /// Whether the write after the call can go ahead (the file's kind and owner, the links on
    /// its path, a lock that comes free in time): checked before the call (and in check mode,
    /// which then says the run would fail), so that what would refuse the write refuses the
    /// task before any credentials exist. Creates nothing.
    pub fn check_ready(&self) -> Result<(), Failure> {
        self.file
            .check_writable()
            .map_err(|e| Failure::new(format!("output_profile {}: {e}", self.profile)))
    }

    /// Writes the new credentials. They exist now, so a failed write does not lose them: they
    /// are saved to a file of their own (`credentials_file::save_unwritten`), named in the
    /// failure, and returned in it only when that fails too (failures are printed).
    pub fn write(
        &self,
        output: &OutputOptions,
        request: &Request,
        minted: &Minted,
    ) -> Result<(), Failure> {
        let entries = Entries {
            access_key_id: minted.creds.access_key.clone(),
            secret_access_key: minted.creds.secret_key.clone(),
            session_token: Some(minted.creds.session_token.clone()),
            expiration: Some(minted.creds.expiration.clone()),
            request_digest: request.digest(),
            result: minted.details_line(),
        };
        let options = WriteOptions {
            overwrite_unmanaged: output.overwrite_unmanaged_profile,
        };
        self.file
            .write_profile(&self.profile, &entries, options)
            .map(|_| ())
            .map_err(|e| {
                let lead = format!(
                    "Got new credentials from {} but could not write them to profile [{}] of \
                     {}: {e}.",
                    request.operation,
                    self.profile,
                    self.file.path().display()
                );
                match save_unwritten(&self.profile, &entries) {
                    Ok(saved) => Failure::new(format!(
                        "{lead} They were saved to {saved} instead (mode 0600, that one \
                         profile); they are not in this result."
                    ))
                    .with("unsaved_credentials_file", saved),
                    Err(why) => minted.attach_to(Failure::new(format!(
                        "{lead} Saving them to a file of their own failed too ({why}), so they \
                         are returned in sts_creds and env."
                    ))),
                }
            })
    }

    /// The keys every answer with `output_profile` adds.
    fn report(&self, outcome: Outcome, refresh_reason: Option<&str>) -> Outcome {
        outcome
            .with("credentials_file", self.file.path().display().to_string())
            .with("refresh_reason", refresh_reason)
    }

    /// `diff`: the profile's keys before and after, secrets hidden. `new` is `None` for
    /// credentials not yet obtained (check mode).
    fn diff(&self, new: Option<(&Minted, &Request)>) -> Value {
        let old = self.stored.as_ref().map(|s| &s.keys);
        let after = match new {
            Some((minted, request)) => written_keys(minted, &request.digest()),
            None => written_keys(&Minted::placeholder(PENDING), PENDING),
        };
        let header = format!("{} [{}]", self.file.path().display(), self.profile);
        let none = BTreeMap::new();
        json!({
            "before": old.map(|keys| shown(keys, None)).unwrap_or_default(),
            "after": shown(&after, Some(old.unwrap_or(&none))),
            "before_header": header,
            "after_header": header,
        })
    }
}

/// What check mode's diff shows for a value it cannot know yet.
const PENDING: &str = "(new)";

/// The keys a write puts in the profile.
fn written_keys(minted: &Minted, digest: &str) -> BTreeMap<String, String> {
    let c = &minted.creds;
    let mut keys: BTreeMap<String, String> = [
        ("aws_access_key_id", c.access_key.as_str()),
        ("aws_secret_access_key", c.secret_key.as_str()),
        ("aws_session_token", c.session_token.as_str()),
        ("expiration", c.expiration.as_str()),
        (credentials_file::MANAGED_KEY, "true"),
        (credentials_file::REQUEST_KEY, digest),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if let Some(result) = minted.details_line() {
        keys.insert(credentials_file::RESULT_KEY.to_owned(), result);
    }
    keys
}

/// The order a write uses; other keys follow, sorted.
const KEY_ORDER: [&str; 7] = [
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "expiration",
    credentials_file::MANAGED_KEY,
    credentials_file::REQUEST_KEY,
    credentials_file::RESULT_KEY,
];

/// `key = value` lines, secrets as `<hidden>` (every key [`credentials_file::is_secret_key`]
/// names: the secret key, the session token and its legacy name `aws_security_token`,
/// `credential_process`, any key that says secret, token or password); with `old`, a secret that
/// differs from the old one reads `<hidden, new>`, so the diff shows that it changes without
/// showing it.
fn shown(keys: &BTreeMap<String, String>, old: Option<&BTreeMap<String, String>>) -> String {
    let known = KEY_ORDER.iter().filter_map(|k| keys.get_key_value(*k));
    let others = keys
        .iter()
        .filter(|(k, _)| !KEY_ORDER.contains(&k.as_str()));
    let mut text = String::new();
    for (key, value) in known.chain(others) {
        let value = if !credentials_file::is_secret_key(key) {
            value.as_str()
        } else if old.is_none_or(|old| old.get(key) == Some(value)) {
            // Before, or after with the value it had before.
            "<hidden>"
        } else {
            "<hidden, new>"
        };
        text.push_str(&format!("{key} = {value}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(params: Value) -> Request {
        Request {
            operation: "GetSessionToken",
            signer: Signer::unsigned("keys AKIAEXAMPLE".to_owned()),
            endpoint_url: None,
            region: None,
            params,
            mfa_code_missing: false,
        }
    }

    #[test]
    fn the_digest_is_stable_and_follows_every_part_of_the_request() {
        let base = request(json!({"duration_seconds": 3600}));
        assert_eq!(
            base.digest(),
            request(json!({"duration_seconds": 3600})).digest()
        );
        assert_eq!(base.digest().len(), 64);
        let mut others = vec![request(json!({"duration_seconds": 7200}))];
        let mut r = request(json!({"duration_seconds": 3600}));
        r.signer = Signer::unsigned("keys AKIAOTHER".to_owned());
        others.push(r);
        let mut r = request(json!({"duration_seconds": 3600}));
        r.endpoint_url = Some("http://127.0.0.1:1".to_owned());
        others.push(r);
        let mut r = request(json!({"duration_seconds": 3600}));
        r.region = Some("eu-west-1".to_owned());
        others.push(r);
        let mut r = request(json!({"duration_seconds": 3600}));
        r.operation = "AssumeRole";
        others.push(r);
        for other in others {
            assert_ne!(base.digest(), other.digest(), "{other:?}");
        }
    }

    #[test]
    fn a_diff_hides_secrets_and_says_which_changed() {
        let old: BTreeMap<String, String> = [
            ("aws_access_key_id", "ASIAOLD"),
            ("aws_secret_access_key", "old-secret"),
            ("aws_session_token", "same-token"),
            ("aws_security_token", "legacy-token"),
            ("credential_process", "/bin/creds --secret process-secret"),
            ("region", "eu-west-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let mut new = old.clone();
        new.insert("aws_secret_access_key".to_owned(), "new-secret".to_owned());
        assert_eq!(
            shown(&old, None),
            "aws_access_key_id = ASIAOLD\naws_secret_access_key = <hidden>\n\
             aws_session_token = <hidden>\naws_security_token = <hidden>\n\
             credential_process = <hidden>\nregion = eu-west-1\n"
        );
        let after = shown(&new, Some(&old));
        assert!(
            after.contains("aws_secret_access_key = <hidden, new>\n"),
            "{after}"
        );
        assert!(after.contains("aws_session_token = <hidden>\n"), "{after}");
        assert!(!after.contains("secret\n") && !after.contains("same-token"));
        for secret in ["legacy-token", "process-secret"] {
            assert!(!after.contains(secret), "{after}");
        }
    }

    #[test]
    fn options_are_checked() {
        let mut o = OutputOptions {
            output_profile: Some("daily".to_owned()),
            credentials_file: None,
            min_ttl: DEFAULT_MIN_TTL,
            force_refresh: false,
            overwrite_unmanaged_profile: false,
        };
        assert!(o.check().is_ok());
        o.min_ttl = -1;
        let e = o.check().err().map(|f| f.msg).unwrap_or_default();
        assert_eq!(e, "min_ttl must be 0 to 129600 seconds, got -1");
        o.min_ttl = 0;
        o.output_profile = Some("a]b".to_owned());
        let e = o.check().err().map(|f| f.msg).unwrap_or_default();
        assert!(e.starts_with("output_profile: invalid profile name"), "{e}");
        o.output_profile = Some(String::new());
        assert!(o.check().is_ok() && o.profile().is_none());
    }
}
