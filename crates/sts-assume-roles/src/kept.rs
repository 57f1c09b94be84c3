//! Entries with `output_profile`: their credentials are written into that profile of the
//! shared credentials file and reused from it by later runs, as the single-role STS modules do
//! (credential_store). An entry whose profile answers its request makes no call.

use crate::entries::Entry;
use ansible_module::{Context, Failure};
use aws_connect::sts::{AssumeRoleRequest, Minted};
use aws_connect::AwsOptions;
use credential_store::{Decision, Request, Slot, StoreOptions};
use std::time::SystemTime;

/// What an entry needs: nothing (its profile answers), or a call, with the profile to write.
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
    store: &StoreOptions,
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
            let params = AssumeRoleRequest {
                mfa_serial_number: mfa_serial.map(str::to_owned),
                ..e.request()
            }
            .params();
            let request = Request::signed(ctx, "AssumeRole", aws, params)?;
            let named = |f: Failure| f.map_msg(|m| format!("{}: {m}", e.name));
            match credential_store::decide(store, profile, request, now).map_err(named)? {
                Decision::Reuse(minted) => Ok(Need::Reused(minted)),
                Decision::Refresh(slot) => Ok(Need::Call(Some(slot))),
            }
        })
        .collect()
}
