//! Entries with `output_profile`: their credentials are written into that profile of the
//! shared credentials file and reused from it by later runs, as the single-role STS modules do
//! (aws_connect::output_profile). An entry whose profile answers its request makes no call.

use crate::entries::Entry;
use ansible_module::{Context, Failure, Opt};
use aws_connect::output_profile::{
    self, Kept, OutputOptions, Request, CREDENTIALS_FILE, FORCE_REFRESH, MIN_TTL,
    OVERWRITE_UNMANAGED_PROFILE,
};
use aws_connect::sts::{AssumeRoleRequest, Minted};
use aws_connect::AwsOptions;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// The top-level settings of every entry's `output_profile`: the single-role modules' options.
pub const KEPT_OPTIONS: &[Opt] = &[
    CREDENTIALS_FILE,
    MIN_TTL,
    FORCE_REFRESH,
    OVERWRITE_UNMANAGED_PROFILE,
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
        output_profile::check_min_ttl(self.min_ttl)
    }
}

/// One entry's profile, as read before the calls: where the new credentials go, and why new
/// ones are needed.
pub struct Slot {
    output: OutputOptions,
    request: Request,
    kept: Kept,
    pub refresh_reason: String,
}

/// What an entry needs: nothing (its profile answers), or a call.
pub enum Need {
    Reused(Minted),
    Call(Option<Box<Slot>>),
}

/// Decides for each entry, reading its profile; refuses a profile this collection did not write,
/// and a file the write could not go ahead with (its kind, owner, links or a lock held), before
/// any call.
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
            let named = |f: Failure| f.map_msg(|m| format!("{}: {m}", e.name));
            let output = o.for_profile(profile);
            let params = AssumeRoleRequest {
                mfa_serial_number: mfa_serial.map(str::to_owned),
                ..e.request()
            }
            .params();
            let request = Request::signed(ctx, "AssumeRole", aws, params)?;
            let kept = Kept::read(&output, profile, &request).map_err(named)?;
            match kept.reusable(&output, &request.digest(), now) {
                Ok(minted) => Ok(Need::Reused(minted)),
                Err(refresh_reason) => {
                    kept.check_writable(&output).map_err(named)?;
                    kept.check_ready().map_err(named)?;
                    Ok(Need::Call(Some(Box::new(Slot {
                        output,
                        request,
                        kept,
                        refresh_reason,
                    }))))
                }
            }
        })
        .collect()
}

/// Writes the new credentials into the entry's profile.
pub fn write(slot: &Slot, minted: &Minted) -> Result<(), Failure> {
    slot.kept.write(&slot.output, &slot.request, minted)
}
