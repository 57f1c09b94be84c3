//! Key rotation as one task: a new key only when the newest Active key is older than
//! `max_age_days`, checked with STS before anything relies on it (`verify`), written into a
//! profile of the credentials file (`output_profile`), and only then the user's other Active
//! keys retired (`retire`). The steps run in that order, so a run stopped anywhere leaves every
//! key that was delivered working; with `output_profile`, the next run finishes the job.
//!
//! [`plan`] decides from the listing alone (pure, so every case is a unit test); [`Rotation`]
//! carries the plan out.

use ansible_module::{Failure, Lit, Opt};
use aws_connect::iam::AccessKey;
use credential_store::{CREDENTIALS_FILE, OUTPUT_PROFILE, OVERWRITE_UNMANAGED_PROFILE};
use serde::{Deserialize, Serialize};

/// The options of an age-driven, verified rotation (none of them changes a task that does not
/// use them).
pub(crate) const ROTATION_OPTIONS: &[Opt] = &[
    Opt::int("max_age_days"),
    Opt::bool("verify").default(Lit::Bool(false)),
    Opt::int("verify_timeout").default(Lit::Int(60)),
    Opt::str("retire")
        .default(Lit::Str("none"))
        .choices(&["none", "deactivate", "delete"]),
    Opt::bool("delete_active_to_make_room").default(Lit::Bool(false)),
    OUTPUT_PROFILE,
    CREDENTIALS_FILE,
    OVERWRITE_UNMANAGED_PROFILE,
];

/// The longest `verify_timeout`: an hour.
const MAX_VERIFY_TIMEOUT: i64 = 3600;

/// What happens to the user's other Active keys once the new key is in place.
#[derive(Debug, Deserialize, Serialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Retire {
    None,
    Deactivate,
    Delete,
}

/// [`ROTATION_OPTIONS`] after validation; flattened into the module's options.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct RotationOptions {
    pub(crate) max_age_days: Option<i64>,
    pub(crate) verify: bool,
    pub(crate) verify_timeout: i64,
    pub(crate) retire: Retire,
    pub(crate) delete_active_to_make_room: bool,
    pub(crate) output_profile: Option<String>,
    pub(crate) credentials_file: Option<String>,
    pub(crate) overwrite_unmanaged_profile: bool,
}

impl RotationOptions {
    /// Whether the task uses any of the options that change how a key is created.
    pub(crate) fn in_use(&self) -> bool {
        self.max_age_days.is_some()
            || self.verify
            || self.retire != Retire::None
            || self.profile().is_some()
    }

    /// `output_profile`, `''` counting as not set.
    pub(crate) fn profile(&self) -> Option<&str> {
        self.output_profile.as_deref().filter(|p| !p.is_empty())
    }

    /// The values, and that they fit the task: they are about creating a key.
    pub(crate) fn check(
        &self,
        creating: bool,
        rotate_keys: bool,
        inactive: bool,
    ) -> Result<(), Failure> {
        if let Some(days) = self.max_age_days {
            if !(0..=36_500).contains(&days) {
                return Err(Failure::new(format!(
                    "max_age_days must be 0 to 36500, got {days}"
                )));
            }
            if !rotate_keys {
                return Err(Failure::new(
                    "max_age_days decides when rotate_keys creates a key: set rotate_keys: true",
                ));
            }
        }
        if !(1..=MAX_VERIFY_TIMEOUT).contains(&self.verify_timeout) {
            return Err(Failure::new(format!(
                "verify_timeout must be 1 to {MAX_VERIFY_TIMEOUT} seconds, got {}",
                self.verify_timeout
            )));
        }
        if let Some(profile) = self.profile() {
            credentials_file::check_profile_name(profile)
                .map_err(|e| Failure::new(format!("output_profile: {e}")))?;
        }
        if self.in_use() && !creating {
            return Err(Failure::new(
                "max_age_days, verify, retire and output_profile are about creating a key: they \
                 do not go with id or state: absent",
            ));
        }
        if self.in_use() && inactive {
            return Err(Failure::new(
                "A key created inactive cannot be verified, delivered or replace other keys: \
                 active: false does not go with max_age_days, verify, retire or output_profile",
            ));
        }
        Ok(())
    }
}

/// What the run knows before it changes anything.
#[derive(Debug)]
pub(crate) struct Situation<'a> {
    /// The user's keys, oldest first.
    pub(crate) keys: &'a [AccessKey],
    /// Seconds since the epoch.
    pub(crate) now: i64,
    /// The key the managed `output_profile` holds, if any.
    pub(crate) delivered: Option<&'a str>,
    /// The key this task signs with, if it can be told.
    pub(crate) signing: Option<&'a str>,
}

/// What a run will do, in order.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Plan {
    /// The newest key, created by a run that stopped before delivering it (its secret is lost):
    /// deleted first.
    pub(crate) undelivered: Option<String>,
    /// Deleted to make room under AWS's limit of two keys.
    pub(crate) make_room: Option<String>,
    /// Whether a key is created.
    pub(crate) create: bool,
    /// Without a create: the key the result shows (the newest Active one).
    pub(crate) kept: Option<AccessKey>,
    /// Without a create: the kept key is the delivered one, whose job is finished (verified
    /// when asked, then the others retired).
    pub(crate) finishing: bool,
    /// The other Active keys to deactivate or delete once the new or kept key is in place.
    pub(crate) retire: Vec<String>,
    pub(crate) warnings: Vec<String>,
}

/// Whole days since the key was created (0 for a key without a readable date).
pub(crate) fn age_days(key: &AccessKey, now: i64) -> i64 {
    key.created()
        .map_or(0, |t| (now - t.secs()).max(0) / 86_400)
}

/// Decides the run from the listing. Fails, changing nothing, where it cannot go on safely.
pub(crate) fn plan(o: &RotationOptions, user: &str, s: &Situation<'_>) -> Result<Plan, Failure> {
    let mut plan = Plan::default();
    let mut keys: Vec<&AccessKey> = s.keys.iter().collect();
    if let Some(lost) = undelivered(s) {
        plan.undelivered = Some(lost.access_key_id.clone());
        keys.retain(|k| k.access_key_id != lost.access_key_id);
    }
    let active: Vec<&AccessKey> = keys.iter().copied().filter(|k| k.is_active()).collect();
    let young = |k: &AccessKey| o.max_age_days.is_some_and(|d| age_days(k, s.now) < d);
    match active.last() {
        Some(newest) if young(newest) => {
            keep(&mut plan, o, user, s, newest, &active);
            Ok(plan)
        }
        _ => {
            plan.make_room = make_room(o, user, s, &keys)?;
            plan.create = true;
            if o.retire != Retire::None {
                plan.retire = active
                    .iter()
                    .filter(|k| plan.make_room.as_deref() != Some(k.access_key_id.as_str()))
                    .map(|k| k.access_key_id.clone())
                    .collect();
            }
            Ok(plan)
        }
    }
}

/// With a delivered key: the newest Active key when it is newer than the delivered one and not
/// in the profile (a run created it and stopped before the write).
fn undelivered<'a>(s: &Situation<'a>) -> Option<&'a AccessKey> {
    let delivered = s
        .keys
        .iter()
        .find(|k| Some(k.access_key_id.as_str()) == s.delivered)?;
    let newest = s.keys.iter().rev().find(|k| k.is_active())?;
    let newer = newest.create_date > delivered.create_date;
    let signing = Some(newest.access_key_id.as_str()) == s.signing;
    (newest.access_key_id != delivered.access_key_id && newer && !signing).then_some(newest)
}

/// No new key: the newest Active one stays. It replaces the others only if this collection
/// delivered it (the profile holds it); otherwise nothing changes, with a warning where the
/// task asked for a retirement.
fn keep(
    plan: &mut Plan,
    o: &RotationOptions,
    user: &str,
    s: &Situation<'_>,
    newest: &AccessKey,
    active: &[&AccessKey],
) {
    plan.kept = Some(newest.clone());
    if let Some(profile) = o.profile() {
        if s.delivered != Some(newest.access_key_id.as_str()) {
            plan.warnings.push(format!(
                "output_profile {profile} does not hold the newest active key {} of user {user} \
                 (its secret is not known here); it gets the next key this task creates.",
                newest.access_key_id
            ));
        }
    }
    let others: Vec<String> = active
        .iter()
        .filter(|k| k.access_key_id != newest.access_key_id)
        .map(|k| k.access_key_id.clone())
        .collect();
    if o.retire == Retire::None || others.is_empty() {
        return;
    }
    if s.delivered == Some(newest.access_key_id.as_str()) {
        plan.finishing = true;
        plan.retire = others;
        return;
    }
    let why = match o.profile() {
        Some(_) => "the profile does not hold it".to_owned(),
        None => "this task did not create it (with output_profile, a later run can tell)".into(),
    };
    plan.warnings.push(format!(
        "User {user} has {} active access keys and the newest, {}, is younger than max_age_days \
         ({} days); the others were not retired in its favour, since {why}. Nothing was changed.",
        active.len(),
        newest.access_key_id,
        o.max_age_days.unwrap_or_default()
    ));
}

/// Room for a new key under AWS's limit of two: an Inactive key goes first; an Active one only
/// when the task says so, and never the key the task signs with.
fn make_room(
    o: &RotationOptions,
    user: &str,
    s: &Situation<'_>,
    keys: &[&AccessKey],
) -> Result<Option<String>, Failure> {
    if keys.len() < 2 {
        return Ok(None);
    }
    if let Some(inactive) = keys.iter().find(|k| !k.is_active()) {
        return Ok(Some(inactive.access_key_id.clone()));
    }
    let oldest = &keys[0].access_key_id;
    if !o.delete_active_to_make_room {
        return Err(Failure::new(format!(
            "User {user} has two active access keys, AWS's limit, so no key can be created. \
             Nothing was changed. Set delete_active_to_make_room: true to delete the oldest \
             ({oldest}), or deactivate one of them first."
        )));
    }
    if s.signing == Some(oldest.as_str()) {
        return Err(Failure::new(format!(
            "delete_active_to_make_room would delete the oldest access key {oldest} of user \
             {user}, but that is the key this task signs with. Nothing was changed. Run the task \
             with other credentials, or deactivate the other key first."
        )));
    }
    Ok(Some(oldest.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::types::StatusType;
    use aws_smithy_types::DateTime;

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_800_000_000;

    fn key(id: &str, age_days: i64, active: bool) -> AccessKey {
        let status = if active {
            StatusType::Active
        } else {
            StatusType::Inactive
        };
        AccessKey::new(
            id,
            Some(DateTime::from_secs(NOW - age_days * DAY)),
            &status,
            "u",
        )
    }

    fn options(max_age_days: Option<i64>, retire: Retire) -> RotationOptions {
        RotationOptions {
            max_age_days,
            verify: true,
            verify_timeout: 60,
            retire,
            delete_active_to_make_room: false,
            output_profile: None,
            credentials_file: None,
            overwrite_unmanaged_profile: false,
        }
    }

    fn decide(
        o: &RotationOptions,
        keys: &[AccessKey],
        delivered: Option<&str>,
        signing: Option<&str>,
    ) -> Result<Plan, String> {
        let s = Situation {
            keys,
            now: NOW,
            delivered,
            signing,
        };
        plan(o, "u", &s).map_err(|f| f.msg)
    }

    #[test]
    fn a_young_key_means_nothing_to_do() {
        let keys = [key("OLD", 100, true), key("YOUNG", 10, true)];
        let p = decide(&options(Some(90), Retire::None), &keys, None, None).unwrap();
        assert!(!p.create && p.retire.is_empty() && p.warnings.is_empty());
        assert_eq!(p.kept.map(|k| k.access_key_id).as_deref(), Some("YOUNG"));
    }

    #[test]
    fn an_old_key_is_replaced_and_the_others_retired() {
        let keys = [key("OLD", 100, true)];
        let p = decide(&options(Some(90), Retire::Delete), &keys, None, None).unwrap();
        assert!(p.create && p.make_room.is_none());
        assert_eq!(p.retire, ["OLD"]);
        assert_eq!(age_days(&keys[0], NOW), 100);
    }

    #[test]
    fn at_the_limit_an_inactive_key_makes_room() {
        let keys = [key("ACTIVE", 200, true), key("INACTIVE", 100, false)];
        let p = decide(&options(Some(90), Retire::Deactivate), &keys, None, None).unwrap();
        assert_eq!(p.make_room.as_deref(), Some("INACTIVE"));
        assert_eq!(p.retire, ["ACTIVE"]);
    }

    #[test]
    fn two_active_keys_at_the_limit_fail_unless_told() {
        let keys = [key("A", 200, true), key("B", 100, true)];
        let o = options(Some(90), Retire::Delete);
        let e = decide(&o, &keys, None, None).unwrap_err();
        assert!(e.starts_with("User u has two active access keys"), "{e}");
        let mut o = o;
        o.delete_active_to_make_room = true;
        let p = decide(&o, &keys, None, None).unwrap();
        assert_eq!(
            (p.make_room.as_deref(), p.retire),
            (Some("A"), vec!["B".to_owned()])
        );
        let e = decide(&o, &keys, None, Some("A")).unwrap_err();
        assert!(e.contains("the key this task signs with"), "{e}");
    }

    #[test]
    fn without_a_profile_keys_are_not_retired_for_a_key_the_task_did_not_create() {
        let keys = [key("A", 200, true), key("B", 10, true)];
        let p = decide(&options(Some(90), Retire::Delete), &keys, None, None).unwrap();
        assert!(!p.create && p.retire.is_empty());
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(p.warnings[0].contains("this task did not create it"));
    }

    #[test]
    fn a_delivered_young_key_finishes_its_job() {
        let keys = [key("A", 200, true), key("B", 10, true)];
        let mut o = options(Some(90), Retire::Delete);
        o.output_profile = Some("p".into());
        let p = decide(&o, &keys, Some("B"), None).unwrap();
        assert!(!p.create && p.finishing);
        assert_eq!(p.retire, ["A"]);
    }

    #[test]
    fn an_undelivered_key_is_deleted_and_the_rotation_done_again() {
        let keys = [key("DELIVERED", 200, true), key("LOST", 0, true)];
        let mut o = options(Some(90), Retire::Deactivate);
        o.output_profile = Some("p".into());
        let p = decide(&o, &keys, Some("DELIVERED"), None).unwrap();
        assert_eq!(p.undelivered.as_deref(), Some("LOST"));
        assert!(p.create && p.make_room.is_none());
        assert_eq!(p.retire, ["DELIVERED"]);
        // The key the task signs with is never taken for a lost one.
        let p = decide(&o, &keys, Some("DELIVERED"), Some("LOST")).unwrap();
        assert_eq!(p.undelivered, None);
    }

    #[test]
    fn without_max_age_days_every_run_creates() {
        let keys = [key("A", 1, true)];
        let p = decide(&options(None, Retire::Delete), &keys, None, None).unwrap();
        assert!(p.create);
        assert_eq!(p.retire, ["A"]);
    }

    #[test]
    fn options_fit_the_task() {
        let o = options(Some(90), Retire::Delete);
        assert!(o.check(true, true, false).is_ok());
        let e = o.check(true, false, false).unwrap_err().msg;
        assert!(e.contains("set rotate_keys: true"), "{e}");
        let e = o.check(false, true, false).unwrap_err().msg;
        assert!(e.contains("do not go with id or state: absent"), "{e}");
        let e = o.check(true, true, true).unwrap_err().msg;
        assert!(e.contains("active: false"), "{e}");
        let mut o = options(Some(-1), Retire::None);
        assert!(o.check(true, true, false).is_err());
        o.max_age_days = None;
        o.verify_timeout = 0;
        assert!(o.check(true, false, false).is_err());
    }
}
