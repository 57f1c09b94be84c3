//! iam_access_key: create, rotate, enable, disable and delete the access keys of an IAM user.
//! A drop-in for amazon.aws.iam_access_key.

use ansible_module::{
    Context, Failure, Lit, Module, ModuleOptions, ModuleSpec, Opt, Outcome, RequiredIf,
};
use aws_connect::iam::{self, UserKeys};
use aws_connect::{limits, AwsOptions, Io};
use aws_sdk_iam::types::StatusType;
use serde::{Deserialize, Serialize};

mod keys;
mod rotation_plan;
mod rotation_steps;
mod verify;

use keys::{create, failure_with_rotated_out, Keys, UPDATE};
use rotation_plan::{RotationOptions, ROTATION_OPTIONS};

/// The module, for the multi-call executable's table.
pub const MODULE: Module = Module {
    spec,
    main,
    options_round_trip: ansible_module::options_round_trip::<Options>,
};

fn spec() -> ModuleSpec {
    aws_connect::module_spec(
        "iam_access_key",
        &[
            Opt::str("user_name").required().aliases(&["username"]),
            Opt::str("id"),
            Opt::str("state")
                .default(Lit::Str("present"))
                .choices(&["present", "absent"]),
            Opt::bool("active").aliases(&["enabled"]),
            Opt::bool("rotate_keys").default(Lit::Bool(false)),
        ],
    )
    .options(ROTATION_OPTIONS)
    .required_by("credentials_file", &["output_profile"])
    .required_if(RequiredIf {
        key: "state",
        value: Lit::Str("absent"),
        requires: &["id"],
        any: false,
    })
    .supports_check_mode()
}

#[derive(Debug, Deserialize, Serialize, PartialEq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum State {
    Present,
    Absent,
}

#[derive(Debug, Deserialize, Serialize)]
struct Options {
    #[serde(flatten)]
    aws: AwsOptions,
    user_name: String,
    id: Option<String>,
    state: State,
    active: Option<bool>,
    rotate_keys: bool,
    #[serde(flatten)]
    rotation: RotationOptions,
}

impl Options {
    /// Whether the task creates a key (state present, no id).
    fn creating(&self) -> bool {
        self.state == State::Present && self.id.as_deref().is_none_or(str::is_empty)
    }
}

impl ModuleOptions for Options {
    /// amazon.aws makes rotate_keys and id mutually exclusive by presence, so even
    /// `rotate_keys: false` next to an id fails there. Only a rotation asked for alongside an
    /// id is contradictory; `false` is accepted (documented in the README).
    fn check(&self) -> Result<(), Failure> {
        limits::user_name("user_name", &self.user_name)?;
        if self.rotate_keys && self.id.is_some() {
            return Err(Failure::new(
                "parameters are mutually exclusive: rotate_keys|id",
            ));
        }
        self.rotation.check(
            self.creating(),
            self.rotate_keys,
            self.active == Some(false),
        )
    }
}

async fn delete_key(ctx: &Context, keys: &Keys<'_>, id: &str) -> Result<Outcome, Failure> {
    let listed = keys.list().await?;
    if id.is_empty() || !listed.keys.iter().any(|k| k.access_key_id == id) {
        return Ok(Outcome::changed(false));
    }
    if ctx.check_mode() {
        return Ok(Outcome::changed(true));
    }
    // Deleted by someone else since the listing: the state asked for holds.
    Ok(Outcome::changed(keys.delete(id).await?))
}

async fn update_key(
    ctx: &Context,
    keys: &Keys<'_>,
    id: &str,
    active: Option<bool>,
) -> Result<Outcome, Failure> {
    let listed = keys.list().await?;
    let Some(key) = listed.keys.into_iter().find(|k| k.access_key_id == id) else {
        return Err(Failure::new(format!(
            "Access key \"{id}\" not found attached to User \"{}\"",
            keys.user
        )));
    };
    let status = match active {
        Some(active) if key.is_active() != active => iam::status(active),
        _ => return Ok(Outcome::changed(false).with("access_key", key)),
    };
    // In check mode the result shows the status the real run will leave.
    if !ctx.check_mode() {
        keys.set_status(id, status.clone(), Some(UPDATE)).await?;
    }
    Ok(Outcome::changed(true).with("access_key", key.with_status(status)))
}

/// What a create will do to the user's existing keys.
struct CreatePlan {
    listed: UserKeys,
    /// The oldest key, which a rotation at AWS's limit of two deletes to make room.
    rotated_out: Option<String>,
}

async fn plan_create(keys: &Keys<'_>, rotate: bool) -> Result<CreatePlan, Failure> {
    let listed = keys.list().await?;
    let rotated_out = match &listed.keys[..] {
        [oldest, _, ..] if rotate => Some(oldest.access_key_id.clone()),
        _ => None,
    };
    if let Some(old) = &rotated_out {
        if keys.signing.as_deref() == Some(old.as_str()) {
            return Err(Failure::new(format!(
                "rotate_keys would delete the oldest access key {old} of user {}, but that is \
                 the key this task signs its requests with: the create that follows would then \
                 be refused and the user left with one key. Nothing was changed. Run the task \
                 with other credentials (another user's, or a role's).",
                keys.user
            )));
        }
    }
    Ok(CreatePlan {
        listed,
        rotated_out,
    })
}

/// Check mode: what the create would do, with a warning where the real run would fail.
fn preview_create(ctx: &mut Context, user: &str, plan: CreatePlan) -> Outcome {
    let count = plan.listed.keys.len();
    if !plan.listed.user_exists {
        ctx.warn(format!(
            "IAM user {user} was not found: creating its access key will fail unless the user \
             is created first."
        ));
    } else if count >= 2 && plan.rotated_out.is_none() {
        ctx.warn(format!(
            "IAM user {user} already has {count} access keys, the AWS limit: creating another \
             will fail unless rotate_keys is true or a key is deleted first."
        ));
    }
    with_rotated_out(Outcome::changed(true), plan.rotated_out.as_deref())
}

fn with_rotated_out(outcome: Outcome, rotated_out: Option<&str>) -> Outcome {
    match rotated_out {
        Some(old) => outcome.with("deleted_access_key_id", old),
        None => outcome,
    }
}

async fn create_key(ctx: &mut Context, keys: &Keys<'_>, o: &Options) -> Result<Outcome, Failure> {
    let plan = plan_create(keys, o.rotate_keys).await?;
    if ctx.check_mode() {
        return Ok(preview_create(ctx, keys.user, plan));
    }
    let rotated_out = plan.rotated_out.as_deref();
    if let Some(old) = rotated_out {
        keys.delete(old).await?;
    }
    let mut new = create(keys, rotated_out).await?;
    if o.active == Some(false) {
        let made_inactive = keys
            .set_status(&new.key.access_key_id, StatusType::Inactive, None)
            .await;
        if let Err(failure) = made_inactive {
            let failure = failure.map_msg(|m| {
                format!(
                    "Created access key {} for user {}, but failed to make it inactive; it is \
                     active, and its secret is in this result (secret_access_key): {m}",
                    new.key.access_key_id, keys.user
                )
            });
            let failure = new.into_failure(failure);
            return Err(failure_with_rotated_out(failure, rotated_out));
        }
        new.key = new.key.with_status(StatusType::Inactive);
    }
    Ok(with_rotated_out(new.into_outcome(), rotated_out))
}

async fn run(ctx: &mut Context, o: Options, io: &Io) -> Result<Outcome, Failure> {
    let aws = aws_connect::configure(ctx, &o.aws, io, aws_connect::IAM_RETRIES).await?;
    // A rotation must not delete the signing key: resolve the credentials once, for that check
    // and for the calls (a profile's role or process then runs once).
    let (aws, signing) = if o.creating() && (o.rotate_keys || o.rotation.in_use()) {
        iam::pin_signing_key(&aws).await
    } else {
        (aws, None)
    };
    let keys = Keys {
        aws: &aws,
        iam: iam::client(&aws),
        user: &o.user_name,
        signing,
    };
    match (o.state, o.id.as_deref()) {
        // required_if guarantees an id for absent.
        (State::Absent, id) => delete_key(ctx, &keys, id.unwrap_or_default()).await,
        (State::Present, Some(id)) if !id.is_empty() => update_key(ctx, &keys, id, o.active).await,
        (State::Present, _) if o.rotation.in_use() => {
            rotation_steps::rotate(ctx, &keys, &o.rotation).await
        }
        (State::Present, _) => create_key(ctx, &keys, &o).await,
    }
}

/// Runs the module (reads its arguments, prints the result, exits).
fn main(source: ansible_module::ArgsSource) -> ! {
    aws_connect::run_async(&spec(), source, run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_connect::testing::{Answer, Replay, CANNED_ACCESS_KEY};
    use serde_json::{json, Value};

    const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

    fn listed(ids: &[&str]) -> Answer {
        let members: String = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                format!(
                    "<member><UserName>u</UserName><AccessKeyId>{id}</AccessKeyId>\
                     <Status>Active</Status><CreateDate>202{i}-01-01T00:00:00Z</CreateDate>\
                     </member>"
                )
            })
            .collect();
        Answer::ok(format!(
            "<ListAccessKeysResponse xmlns=\"{IAM_NS}\"><ListAccessKeysResult>\
             <AccessKeyMetadata>{members}</AccessKeyMetadata><IsTruncated>false</IsTruncated>\
             </ListAccessKeysResult></ListAccessKeysResponse>"
        ))
    }

    fn created() -> Answer {
        Answer::ok(format!(
            "<CreateAccessKeyResponse xmlns=\"{IAM_NS}\"><CreateAccessKeyResult><AccessKey>\
             <UserName>u</UserName><AccessKeyId>AKIACREATED</AccessKeyId><Status>Active</Status>\
             <SecretAccessKey>new-secret-value</SecretAccessKey>\
             <CreateDate>2026-01-01T00:00:00Z</CreateDate></AccessKey></CreateAccessKeyResult>\
             </CreateAccessKeyResponse>"
        ))
    }

    fn done(operation: &str) -> Answer {
        Answer::ok(format!(
            "<{operation}Response xmlns=\"{IAM_NS}\"><ResponseMetadata><RequestId>r</RequestId>\
             </ResponseMetadata></{operation}Response>"
        ))
    }

    fn task(args: Value, replay: &Replay) -> ansible_module::Report {
        replay.run(&spec(), args, run)
    }

    #[test]
    fn a_failed_create_after_a_rotation_says_the_old_key_is_gone() {
        let replay = Replay::new([
            listed(&["AKIAOLDEST", "AKIANEWER"]),
            done("DeleteAccessKey"),
            Answer::error(409, "LimitExceeded", "too many keys"),
        ]);
        let r = task(json!({"user_name": "u", "rotate_keys": true}), &replay);
        assert_eq!(r.exit_code, 1);
        assert_eq!(
            r.json["msg"],
            "Failed to create access key for user: An error occurred (LimitExceeded) when \
             calling the CreateAccessKey operation: too many keys (the rotation had already \
             deleted the oldest key AKIAOLDEST)"
        );
        assert_eq!(r.json["deleted_access_key_id"], "AKIAOLDEST");
        assert_eq!(
            replay.actions(),
            ["ListAccessKeys", "DeleteAccessKey", "CreateAccessKey"]
        );
    }

    #[test]
    fn a_rotation_never_deletes_the_key_it_signs_with() {
        let replay = Replay::new([listed(&[CANNED_ACCESS_KEY, "AKIANEWER"])]);
        let r = task(json!({"user_name": "u", "rotate_keys": true}), &replay);
        let msg = r.json["msg"].as_str().unwrap_or_default();
        assert!(
            msg.starts_with(&format!(
                "rotate_keys would delete the oldest access key {CANNED_ACCESS_KEY}"
            )),
            "{msg}"
        );
        assert_eq!(replay.actions(), ["ListAccessKeys"]);
    }

    #[test]
    fn a_new_key_that_cannot_be_made_inactive_is_returned_with_its_secret() {
        let replay = Replay::new([
            listed(&[]),
            created(),
            Answer::error(403, "AccessDenied", "no UpdateAccessKey"),
        ]);
        let r = task(json!({"user_name": "u", "active": false}), &replay);
        assert_eq!(r.exit_code, 1);
        assert_eq!(
            r.json["msg"],
            "Created access key AKIACREATED for user u, but failed to make it inactive; it is \
             active, and its secret is in this result (secret_access_key): An error occurred \
             (AccessDenied) when calling the UpdateAccessKey operation: no UpdateAccessKey"
        );
        assert_eq!(r.json["secret_access_key"], "new-secret-value");
        assert_eq!(r.json["access_key"]["status"], "Active");
        assert_eq!(r.json.get("deleted_access_key_id"), None);
    }

    #[test]
    fn a_new_inactive_key() {
        let replay = Replay::new([listed(&[]), created(), done("UpdateAccessKey")]);
        let r = task(json!({"user_name": "u", "enabled": false}), &replay);
        assert_eq!(r.exit_code, 0, "{}", r.json);
        assert_eq!(r.json["changed"], true);
        assert_eq!(r.json["access_key_id"], "AKIACREATED");
        assert_eq!(r.json["access_key"]["status"], "Inactive");
        assert!(replay.sent()[2].contains("Status=Inactive"));
    }

    #[test]
    fn a_key_deleted_meanwhile_is_no_change() {
        let replay = Replay::new([
            listed(&["AKIAGONE"]),
            Answer::error(404, "NoSuchEntity", "no such key"),
        ]);
        let r = task(
            json!({"user_name": "u", "id": "AKIAGONE", "state": "absent"}),
            &replay,
        );
        assert_eq!((r.exit_code, &r.json["changed"]), (0, &json!(false)));
    }

    fn rejected(args: Value) -> Option<String> {
        ansible_module::validation_error::<Options>(&spec(), args)
    }

    #[test]
    fn rules() {
        assert_eq!(rejected(json!({"user_name": "u"})), None);
        assert_eq!(
            rejected(json!({"user_name": "u", "id": "AKIA", "rotate_keys": true})).as_deref(),
            Some("parameters are mutually exclusive: rotate_keys|id")
        );
        // Deliberately accepted (amazon.aws rejects it by presence).
        assert_eq!(
            rejected(json!({"user_name": "u", "id": "AKIA", "rotate_keys": false})),
            None
        );
        assert_eq!(
            rejected(json!({"user_name": "u", "state": "absent"})).as_deref(),
            Some("state is absent but all of the following are missing: id")
        );
        assert_eq!(
            rejected(json!({"username": "u", "enabled": "no", "rotate_keys": "yes"})),
            None
        );
        assert_eq!(
            rejected(json!({"id": "AKIA"})).as_deref(),
            Some("missing required arguments: user_name")
        );
        assert!(rejected(json!({"user_name": "u", "state": "gone"}))
            .is_some_and(|m| m.starts_with("value of state must be one of: present, absent")));
    }
}
