//! Credentials that outlive the task. With `output_profile`, an STS module writes the
//! credentials it gets into a profile of the AWS shared credentials file, and later runs answer
//! from that profile, without calling STS, while the credentials were obtained for the same
//! request and stay valid for more than `min_ttl` seconds.
//!
//! The request is recognised by a digest of everything that makes credentials fit it (the
//! operation, who signs, the endpoint, the region and the module's request options), stored
//! beside the credentials. Nothing secret goes into it.

use crate::options::{OutputOptions, StoreOptions};
use crate::profile::{Profile, Unwritten};
use ansible_module::{Context, Failure, Outcome};
use aws_connect::sts::{Minted, StsCredentials};
use aws_connect::{signer, AwsOptions, Signer};
use credentials_file::{Entries, StoredProfile, ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::time::SystemTime;

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
            endpoint_url: given(&aws.endpoint_url),
            region: given(&aws.region),
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
            "signer": self.signer.identity(),
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

/// An option's value, `''` counting as not set.
fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A profile read for a request, whose credentials do not answer it: where the new ones go.
pub struct Slot {
    profile: Profile,
    request: Request,
    min_ttl: i64,
    /// Why new credentials are needed.
    pub refresh_reason: String,
}

/// What a request needs: nothing (the profile answers it), or a call.
pub enum Decision {
    Reuse(Minted),
    Refresh(Box<Slot>),
}

/// Reads `profile` and decides: the credentials it holds when they answer `request`, else a
/// [`Slot`] for new ones, once the write is known to be able to go ahead (see
/// [`Profile::check_writable`]).
pub fn decide(
    store: &StoreOptions,
    profile: &str,
    request: Request,
    now: SystemTime,
) -> Result<Decision, Failure> {
    let destination = store.destination(profile);
    request.signer.refuse_profile(profile, &destination.file)?;
    let profile = Profile::read(destination)?;
    match reusable(&profile, store, &request.digest(), now) {
        Ok(minted) => Ok(Decision::Reuse(minted)),
        Err(refresh_reason) => {
            profile.check_writable()?;
            Ok(Decision::Refresh(Box::new(Slot {
                profile,
                request,
                min_ttl: store.min_ttl,
                refresh_reason,
            })))
        }
    }
}

/// The stored credentials when they answer this request, or why not.
fn reusable(
    profile: &Profile,
    store: &StoreOptions,
    digest: &str,
    now: SystemTime,
) -> Result<Minted, String> {
    let Some(stored) = profile.stored() else {
        return Err("the profile does not exist yet".to_owned());
    };
    if !stored.managed {
        return Err("the profile was not written by this collection".to_owned());
    }
    if stored.request_digest.as_deref() != Some(digest) {
        return Err("the profile holds credentials obtained for another request".to_owned());
    }
    let minted = minted_from(stored)
        .ok_or_else(|| "the profile lacks a key this collection writes".to_owned())?;
    let left = minted.expires_in(now);
    if left <= store.min_ttl {
        return Err(format!(
            "the credentials in the profile expire in {left} s, within min_ttl ({} s)",
            store.min_ttl
        ));
    }
    if store.force_refresh {
        return Err("force_refresh is set".to_owned());
    }
    Ok(minted)
}

/// Credentials as a profile written by [`Slot::write`] holds them, or None when a key is
/// missing or the details cannot be read.
fn minted_from(stored: &StoredProfile) -> Option<Minted> {
    let details = match stored.result.as_deref() {
        Some(line) => match serde_json::from_str(line).ok()? {
            Value::Object(map) => map,
            _ => return None,
        },
        None => Map::new(),
    };
    Some(Minted {
        creds: StsCredentials {
            access_key: stored.get(ACCESS_KEY_ID)?.to_owned(),
            secret_key: stored.get(SECRET_ACCESS_KEY)?.to_owned(),
            session_token: stored.get(SESSION_TOKEN)?.to_owned(),
            expiration: stored.expiration.clone()?,
        },
        details,
    })
}

/// What a profile holds for `minted`: the credentials, the request's digest, and the other
/// result keys as one line of JSON.
fn entries(minted: &Minted, digest: String) -> Entries {
    let c = &minted.creds;
    Entries {
        access_key_id: c.access_key.clone(),
        secret_access_key: c.secret_key.clone(),
        session_token: Some(c.session_token.clone()),
        expiration: Some(c.expiration.clone()),
        request_digest: digest,
        result: (!minted.details.is_empty())
            .then(|| Value::Object(minted.details.clone()).to_string()),
    }
}

/// What check mode's diff shows for a value it cannot know yet.
const PENDING: &str = "(new)";

impl Slot {
    /// The keys every answer with a profile adds.
    pub fn report(&self, outcome: Outcome) -> Outcome {
        self.profile.report(outcome, Some(&self.refresh_reason))
    }

    /// `diff` for the new credentials, or before they exist (check mode).
    pub fn diff(&self, new: Option<&Minted>) -> Value {
        let after = match new {
            Some(minted) => entries(minted, self.request.digest()),
            None => Entries {
                access_key_id: PENDING.to_owned(),
                secret_access_key: PENDING.to_owned(),
                session_token: Some(PENDING.to_owned()),
                expiration: Some(PENDING.to_owned()),
                request_digest: PENDING.to_owned(),
                result: None,
            },
        };
        self.profile.diff(&after)
    }

    /// Writes the new credentials. They exist now, so a failed write does not lose them: they
    /// are saved to a file of their own, named in the failure, and returned in it only when
    /// that fails too (failures are printed).
    pub fn write(&self, minted: &Minted) -> Result<(), Failure> {
        let Err(Unwritten { why, saved }) =
            self.profile.write(&entries(minted, self.request.digest()))
        else {
            return Ok(());
        };
        let lead = format!(
            "Got new credentials from {} but could not write them to profile [{}] of {}: {why}.",
            self.request.operation,
            self.profile.name(),
            self.profile.path()
        );
        Err(match saved {
            Ok(saved) => Failure::new(format!(
                "{lead} They were saved to {saved} instead (mode 0600, that one profile); they \
                 are not in this result."
            ))
            .with("unsaved_credentials_file", saved),
            Err(why) => minted.attach_to(Failure::new(format!(
                "{lead} Saving them to a file of their own failed too ({why}), so they are \
                 returned in sts_creds and env."
            ))),
        })
    }

    /// Fresh credentials that already expire within `min_ttl` are refreshed by every run.
    fn warn_if_short_lived(&self, ctx: &mut Context, minted: &Minted, now: SystemTime) {
        let left = minted.expires_in(now);
        if left <= self.min_ttl {
            ctx.warn(format!(
                "The new credentials expire in {left} s, within min_ttl ({} s): every run will \
                 get new ones. Ask for a longer duration_seconds or set a lower min_ttl.",
                self.min_ttl
            ));
        }
    }
}

/// Runs one STS module: without `output_profile`, `mint` is called and its credentials returned
/// (`changed: true`); with it, the profile is reused or refreshed (see the module docs).
pub async fn reuse_or_mint(
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
    let request = request(ctx)?;
    let mfa_code_missing = request.mfa_code_missing;
    let now = SystemTime::now();
    let slot = match decide(&output.store, profile, request, now)? {
        Decision::Reuse(minted) => {
            for secret in [&minted.creds.secret_key, &minted.creds.session_token] {
                ctx.add_secret(secret.clone());
            }
            let destination = output.store.destination(profile);
            let outcome = minted.outcome(false, now);
            return Ok(outcome
                .with("credentials_file", destination.file.display().to_string())
                .with("refresh_reason", None::<&str>));
        }
        Decision::Refresh(slot) => slot,
    };
    if ctx.check_mode() {
        let diff = ctx.diff().then(|| slot.diff(None));
        return Ok(with_diff(slot.report(Outcome::changed(true)), diff));
    }
    if mfa_code_missing {
        return Err(Failure::new(format!(
            "output_profile {profile}: new credentials are needed ({}), and with \
             mfa_serial_number set they need an MFA code: give the code the device shows now \
             as mfa_token.",
            slot.refresh_reason
        ))
        .with("refresh_reason", &slot.refresh_reason));
    }
    let minted = mint(ctx).await?;
    slot.write(&minted)?;
    let outcome = minted.outcome(true, now);
    slot.warn_if_short_lived(ctx, &minted, now);
    let diff = ctx.diff().then(|| slot.diff(Some(&minted)));
    Ok(with_diff(slot.report(outcome), diff))
}

fn with_diff(outcome: Outcome, diff: Option<Value>) -> Outcome {
    match diff {
        Some(diff) => outcome.with("diff", diff),
        None => outcome,
    }
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
}
