//! Entries with `output_profile`: their credentials are written into that profile of the
//! shared credentials file and reused from it by later runs, as the single-role STS modules do
//! (aws_connect::output_profile). An entry whose profile answers its request makes no call.

use crate::entries::Entry;
use ansible_module::{Context, Failure, Lit, Opt, Type};
use aws_connect::output_profile::{Kept, OutputOptions, Request, DEFAULT_MIN_TTL};
use aws_connect::sts::Minted;
use aws_connect::AwsOptions;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::SystemTime;

/// The top-level settings of every entry's `output_profile`.
pub const KEPT_OPTIONS: &[Opt] = &[
    Opt::new("credentials_file", Type::Path),
    Opt::int("min_ttl").default(Lit::Int(DEFAULT_MIN_TTL)),
    Opt::bool("force_refresh").default(Lit::Bool(false)),
    Opt::bool("overwrite_unmanaged_profile").default(Lit::Bool(false)),
];

#[derive(Debug, Deserialize, Serialize)]
pub struct KeptOptions {
    pub credentials_file: Option<String>,
    pub min_ttl: i64,
    pub force_refresh: bool,
    pub overwrite_unmanaged_profile: bool,
}

impl KeptOptions {
    /// The single-role modules' options for one entry's profile.
    fn for_profile(&self, profile: &str) -> OutputOptions {
        OutputOptions {
            output_profile: Some(profile.to_owned()),
            credentials_file: self.credentials_file.clone(),
            min_ttl: self.min_ttl,
            force_refresh: self.force_refresh,
            overwrite_unmanaged_profile: self.overwrite_unmanaged_profile,
        }
    }

    pub fn check(&self) -> Result<(), Failure> {
        self.for_profile("checked").check()
    }
}

/// One entry's profile: what it asks for, and why new credentials are needed.
pub struct Slot {
    output: OutputOptions,
    request: Request,
    pub refresh_reason: Option<String>,
}

/// What an entry needs: nothing (its profile answers), or a call.
pub enum Need {
    Reused(Minted),
    Call(Option<Slot>),
}

/// Decides for each entry, reading its profile; refuses a profile this collection did not write
/// (before any call).
pub fn decide(
    ctx: &Context,
    aws: &AwsOptions,
    o: &KeptOptions,
    entries: &[Entry],
    mfa_serial: Option<&str>,
) -> Result<Vec<Need>, Failure> {
    let now = SystemTime::now();
    entries
        .iter()
        .map(|e| {
            let Some(profile) = e.output_profile.as_deref() else {
                return Ok(Need::Call(None));
            };
            let output = o.for_profile(profile);
            let request = Request::signed(ctx, "AssumeRole", aws, params(e, mfa_serial))?;
            let kept = Kept::read(&output, profile, &request)
                .map_err(|f| f.map_msg(|m| format!("{}: {m}", e.name)))?;
            match kept.reusable(&output, &request.digest(), now) {
                Ok(minted) => Ok(Need::Reused(minted)),
                Err(reason) => {
                    kept.check_writable(&output)
                        .map_err(|f| f.map_msg(|m| format!("{}: {m}", e.name)))?;
                    Ok(Need::Call(Some(Slot {
                        output,
                        request,
                        refresh_reason: Some(reason),
                    })))
                }
            }
        })
        .collect()
}

/// Writes the new credentials into the entry's profile.
pub fn write(slot: &Slot, minted: &Minted) -> Result<(), Failure> {
    let profile = slot.output.output_profile.as_deref().unwrap_or_default();
    Kept::read(&slot.output, profile, &slot.request)?.write(&slot.output, &slot.request, minted)
}

/// What an entry asks for, none of it secret.
fn params(e: &Entry, mfa_serial: Option<&str>) -> Value {
    json!({
        "session": e.session.request_params(),
        "external_id": e.external_id,
        "tags": e.tags,
        "transitive_tag_keys": e.transitive_tag_keys,
        "source_identity": e.source_identity,
        "mfa_serial_number": mfa_serial,
    })
}
