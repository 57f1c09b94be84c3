//! Carries out a rotation [`Plan`]: delete an undelivered key, make room, create, verify,
//! write the profile, retire, in that order. Check mode reports the plan after the reads.
//! Every failure after the create carries the new key and its secret.

use crate::keys::{create, Keys, NewKey};
use crate::rotation_plan::{plan, Plan, Retire, RotationOptions, Situation};
use ansible_module::{Context, Failure, Outcome};
use aws_sdk_iam::types::StatusType;
use credential_store::{credentials_file_path, digest, Destination, Profile, Unwritten};
use credentials_file::{Entries, ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The profile the new key is written to, as read before the run changes anything; a profile
/// this collection did not write is refused before any change.
fn open_profile(r: &RotationOptions) -> Result<Option<Profile>, Failure> {
    let Some(profile) = r.profile() else {
        return Ok(None);
    };
    let profile = Profile::read(Destination {
        profile: profile.to_owned(),
        file: credentials_file_path(r.credentials_file.as_deref()),
        overwrite_unmanaged: r.overwrite_unmanaged_profile,
    })?;
    profile.refuse_unmanaged()?;
    Ok(Some(profile))
}

/// The key the profile holds, if this collection wrote it.
fn delivered(profile: &Profile) -> Option<(&str, &str)> {
    let s = profile.managed()?;
    Some((s.get(ACCESS_KEY_ID)?, s.get(SECRET_ACCESS_KEY)?))
}

/// What the profile holds for the new key.
fn entries(keys: &Keys<'_>, new: &NewKey) -> Entries {
    Entries {
        access_key_id: new.key.access_key_id.clone(),
        secret_access_key: new.secret.clone(),
        session_token: None,
        expiration: None,
        request_digest: digest(&json!({"operation": "CreateAccessKey", "user": keys.user})),
        result: None,
    }
}

/// A rotation with the options of [`RotationOptions`].
pub(crate) async fn rotate(
    ctx: &mut Context,
    keys: &Keys<'_>,
    r: &RotationOptions,
) -> Result<Outcome, Failure> {
    let listed = keys.list().await?;
    let profile = open_profile(r)?;
    let delivered = profile.as_ref().and_then(delivered);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let situation = Situation {
        keys: &listed.keys,
        now,
        delivered: delivered.map(|(id, _)| id),
        signing: keys.signing.as_deref(),
    };
    let plan = plan(r, keys.user, &situation)?;
    for warning in &plan.warnings {
        ctx.warn(warning.clone());
    }
    if let Some(profile) = profile.as_ref().filter(|_| plan.create) {
        profile.check_ready()?;
    }
    if ctx.check_mode() {
        return Ok(report(preview(&plan), &plan, profile.as_ref()));
    }
    if let Some(lost) = &plan.undelivered {
        keys.delete(lost).await?;
    }
    if !plan.create {
        return finish(keys, r, &plan, delivered).await;
    }
    if let Some(old) = &plan.make_room {
        keys.delete(old).await?;
    }
    let new = create(keys, plan.make_room.as_deref()).await?;
    let new = verify_and_write(keys, r, profile.as_ref(), new)
        .await
        .map_err(|f| report_failure(f, &plan))?;
    if let Err(f) = retire(keys, r.retire, &plan.retire).await {
        let f = f.map_msg(|m| {
            format!(
                "Created access key {} for user {} (verified and written as asked), but \
                 retiring the other keys failed: {m}",
                new.key.access_key_id, keys.user
            )
        });
        return Err(report_failure(new.with_failure(f), &plan));
    }
    let outcome = report(new.into_outcome(), &plan, profile.as_ref());
    Ok(outcome.with("verified", r.verify))
}

/// Verify (when asked), then write the profile (when asked); on a failure the new key is
/// deleted if it was never accepted, kept if only the write failed, and nothing is retired.
async fn verify_and_write(
    keys: &Keys<'_>,
    r: &RotationOptions,
    profile: Option<&Profile>,
    new: NewKey,
) -> Result<NewKey, Failure> {
    if r.verify {
        let timeout = Duration::from_secs(u64::try_from(r.verify_timeout).unwrap_or(60));
        let id = new.key.access_key_id.clone();
        if let Err(why) =
            crate::verify::accepted(keys.aws, &id, &new.secret, keys.user, timeout).await
        {
            let deleted = keys.delete(&id).await;
            let fate = match deleted {
                Ok(_) => "it was deleted",
                Err(_) => "deleting it failed too: delete it by hand",
            };
            let msg = format!(
                "Created access key {id} for user {}, but {why}; {fate}, and every other key was \
                 left as it was.",
                keys.user
            );
            return Err(new.with_failure(Failure::new(msg)));
        }
    }
    if let Some(profile) = profile {
        if let Err(Unwritten { why, saved }) = profile.write(&entries(keys, &new)) {
            let lead = format!(
                "Created access key {} for user {}, but could not write it to profile [{}] of \
                 {}: {why}. No key was retired;",
                new.key.access_key_id,
                keys.user,
                profile.name(),
                profile.path()
            );
            return Err(match saved.ok() {
                Some(saved) => new
                    .without_secret(Failure::new(format!(
                    "{lead} the new key and its secret were saved to {saved} (mode 0600, that one \
                     profile); the secret is not in this result."
                )))
                    .with("unsaved_credentials_file", saved),
                None => new.with_failure(Failure::new(format!(
                    "{lead} saving the secret to a file of its own failed too, so the new key \
                     and its secret are in this result."
                ))),
            });
        }
    }
    Ok(new)
}

/// No new key: the kept key's job is finished (verify it when asked, then retire the others).
async fn finish(
    keys: &Keys<'_>,
    r: &RotationOptions,
    plan: &Plan,
    delivered: Option<(&str, &str)>,
) -> Result<Outcome, Failure> {
    if plan.finishing && r.verify {
        if let Some((id, secret)) = delivered {
            let timeout = Duration::from_secs(u64::try_from(r.verify_timeout).unwrap_or(60));
            crate::verify::accepted(keys.aws, id, secret, keys.user, timeout)
                .await
                .map_err(|why| {
                    Failure::new(format!(
                        "The delivered access key {id} of user {}: {why}. No key was retired.",
                        keys.user
                    ))
                })?;
        }
    }
    retire(keys, r.retire, &plan.retire).await?;
    let changed = plan.undelivered.is_some() || !plan.retire.is_empty();
    let outcome = Outcome::changed(changed).with("access_key", &plan.kept);
    Ok(report(outcome, plan, None))
}

async fn retire(keys: &Keys<'_>, how: Retire, ids: &[String]) -> Result<(), Failure> {
    for id in ids {
        match how {
            Retire::None => {}
            Retire::Deactivate => {
                let context = format!("Failed to deactivate access key {id} of user {}", keys.user);
                keys.set_status(id, StatusType::Inactive, Some(&context))
                    .await?;
            }
            Retire::Delete => {
                keys.delete(id).await?;
            }
        }
    }
    Ok(())
}

/// Check mode: a create is a change; so is any deletion or retirement.
fn preview(plan: &Plan) -> Outcome {
    let changed = plan.create || plan.undelivered.is_some() || !plan.retire.is_empty();
    let outcome = Outcome::changed(changed);
    match &plan.kept {
        Some(kept) if !plan.create => outcome.with("access_key", kept),
        _ => outcome,
    }
}

/// The keys a rotation adds to a result: what was (or would be) deleted and retired.
fn report(outcome: Outcome, plan: &Plan, profile: Option<&Profile>) -> Outcome {
    let mut outcome = outcome.with("retired_access_key_ids", &plan.retire);
    if let Some(old) = &plan.make_room {
        outcome = outcome.with("deleted_access_key_id", old);
    }
    if let Some(lost) = &plan.undelivered {
        outcome = outcome.with("undelivered_access_key_id", lost);
    }
    if let Some(profile) = profile {
        outcome = outcome.with("credentials_file", profile.path());
    }
    outcome
}

fn report_failure(failure: Failure, plan: &Plan) -> Failure {
    match &plan.make_room {
        Some(old) => failure.with("deleted_access_key_id", old),
        None => failure,
    }
}
