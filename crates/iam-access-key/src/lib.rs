//! iam_access_key: create, rotate, enable, disable and delete the access keys of an IAM user.
//! A drop-in for amazon.aws.iam_access_key.

use ansible_module::{Context, Failure, Lit, ModuleOptions, ModuleSpec, Opt, Outcome, RequiredIf};
use aws_connect::iam::{self, AccessKey};
use aws_connect::{sdk_failure, Aws, AwsOptions};
use aws_credential_types::provider::ProvideCredentials;
use serde::Deserialize;

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
    .required_if(RequiredIf {
        key: "state",
        value: Lit::Str("absent"),
        requires: &["id"],
        any: false,
    })
    .supports_check_mode()
}

#[derive(Debug, Deserialize, PartialEq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum State {
    Present,
    Absent,
}

#[derive(Debug, Deserialize)]
struct Options {
    #[serde(flatten)]
    aws: AwsOptions,
    user_name: String,
    id: Option<String>,
    state: State,
    active: Option<bool>,
    rotate_keys: bool,
}

impl ModuleOptions for Options {
    /// amazon.aws makes rotate_keys and id mutually exclusive by presence, so even
    /// `rotate_keys: false` next to an id fails there. Only a rotation asked for alongside an
    /// id is contradictory; `false` is accepted (documented in the README).
    fn check(&self) -> Result<(), Failure> {
        aws_connect::validate::user_name("user_name", &self.user_name)?;
        if self.rotate_keys && self.id.is_some() {
            return Err(Failure::new(
                "parameters are mutually exclusive: rotate_keys|id",
            ));
        }
        Ok(())
    }
}

const CREATE: &str = "Failed to create access key for user";
const UPDATE: &str = "Failed to update access key for user";
const DELETE: &str = "Failed to delete access key for user";

async fn delete_key(ctx: &Context, aws: &Aws, o: &Options, id: &str) -> Result<Outcome, Failure> {
    let iam = iam::client(aws);
    let (keys, _) = iam::list_access_keys(aws, &iam, &o.user_name).await?;
    if id.is_empty() || !keys.iter().any(|k| k.access_key_id == id) {
        return Ok(Outcome::changed(false));
    }
    if ctx.check_mode() {
        return Ok(Outcome::changed(true));
    }
    match iam
        .delete_access_key()
        .user_name(&o.user_name)
        .access_key_id(id)
        .send()
        .await
    {
        Ok(_) => Ok(Outcome::changed(true)),
        // Deleted by someone else since the listing: the state asked for holds.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            Ok(Outcome::changed(false))
        }
        Err(e) => Err(sdk_failure(aws, "iam", "DeleteAccessKey", Some(DELETE), e)),
    }
}

async fn update_key(ctx: &Context, aws: &Aws, o: &Options, id: &str) -> Result<Outcome, Failure> {
    let iam = iam::client(aws);
    let (keys, _) = iam::list_access_keys(aws, &iam, &o.user_name).await?;
    let Some(key) = keys.into_iter().find(|k| k.access_key_id == id) else {
        return Err(Failure::new(format!(
            "Access key \"{id}\" not found attached to User \"{}\"",
            o.user_name
        )));
    };
    let Some(active) = o.active else {
        return Ok(Outcome::changed(false).with("access_key", key));
    };
    if key.is_active() == active {
        return Ok(Outcome::changed(false).with("access_key", key));
    }
    let status = iam::status(active);
    // In check mode the result shows the status the real run will leave.
    if !ctx.check_mode() {
        iam.update_access_key()
            .user_name(&o.user_name)
            .access_key_id(id)
            .status(status.clone())
            .send()
            .await
            .map_err(|e| sdk_failure(aws, "iam", "UpdateAccessKey", Some(UPDATE), e))?;
    }
    Ok(Outcome::changed(true).with("access_key", key.with_status(&status)))
}

/// The access key id this task signs its requests with, if it can be told.
async fn signing_key_id(aws: &Aws) -> Option<String> {
    let provider = aws.config.credentials_provider()?;
    let creds = provider.provide_credentials().await.ok()?;
    Some(creds.access_key_id().to_owned())
}

async fn create_key(ctx: &mut Context, aws: &Aws, o: &Options) -> Result<Outcome, Failure> {
    let iam = iam::client(aws);
    let (keys, user_known) = iam::list_access_keys(aws, &iam, &o.user_name).await?;
    // At AWS's limit of two keys, rotation deletes the oldest to make room.
    let oldest = match &keys[..] {
        [oldest, _, ..] if o.rotate_keys => Some(oldest.access_key_id.clone()),
        _ => None,
    };

    if let Some(old) = &oldest {
        if signing_key_id(aws).await.as_deref() == Some(old.as_str()) {
            return Err(Failure::new(format!(
                "rotate_keys would delete the oldest access key {old} of user {}, but that is \
                 the key this task signs its requests with: the create that follows would then \
                 be refused and the user left with one key. Nothing was changed. Run the task \
                 with other credentials (another user's, or a role's).",
                o.user_name
            )));
        }
    }

    if ctx.check_mode() {
        if !user_known {
            ctx.warn(format!(
                "IAM user {} was not found: creating its access key will fail unless the user \
                 is created first.",
                o.user_name
            ));
        } else if keys.len() >= 2 && oldest.is_none() {
            ctx.warn(format!(
                "IAM user {} already has {} access keys, the AWS limit: creating another will \
                 fail unless rotate_keys is true or a key is deleted first.",
                o.user_name,
                keys.len()
            ));
        }
        let outcome = Outcome::changed(true);
        return Ok(match oldest {
            Some(old) => outcome.with("deleted_access_key_id", old),
            None => outcome,
        });
    }

    if let Some(old) = &oldest {
        match iam
            .delete_access_key()
            .user_name(&o.user_name)
            .access_key_id(old)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) => {}
            Err(e) => return Err(sdk_failure(aws, "iam", "DeleteAccessKey", Some(DELETE), e)),
        }
    }

    let created = match iam.create_access_key().user_name(&o.user_name).send().await {
        Ok(created) => created,
        Err(e) => {
            let failure = sdk_failure(aws, "iam", "CreateAccessKey", Some(CREATE), e);
            return Err(match &oldest {
                Some(old) => failure
                    .map_msg(|m| {
                        format!("{m} (the rotation had already deleted the oldest key {old})")
                    })
                    .with("deleted_access_key_id", old),
                None => failure,
            });
        }
    };
    let Some(new) = created.access_key() else {
        return Err(Failure::new(format!(
            "{CREATE}: CreateAccessKey answered without a key"
        )));
    };
    let mut key = AccessKey::new(
        new.access_key_id(),
        new.create_date().copied(),
        new.status(),
        new.user_name(),
    );
    let secret = new.secret_access_key().to_owned();

    // From here on the new secret exists only in this process: every result carries it.
    if o.active == Some(false) {
        let inactive = iam::status(false);
        if let Err(e) = iam
            .update_access_key()
            .user_name(&o.user_name)
            .access_key_id(&key.access_key_id)
            .status(inactive.clone())
            .send()
            .await
        {
            let failure = sdk_failure(aws, "iam", "UpdateAccessKey", None, e).map_msg(|m| {
                format!(
                    "Created access key {} for user {}, but failed to make it inactive; it is \
                     active, and its secret is in this result (secret_access_key): {m}",
                    key.access_key_id, o.user_name
                )
            });
            let failure = failure
                .with_issued("access_key_id", &key.access_key_id)
                .with_issued("secret_access_key", &secret)
                .with_issued("access_key", &key);
            return Err(match &oldest {
                Some(old) => failure.with("deleted_access_key_id", old),
                None => failure,
            });
        }
        key = key.with_status(&inactive);
    }

    let outcome = Outcome::changed(true)
        .with_issued("access_key_id", &key.access_key_id)
        .with_issued("secret_access_key", secret)
        .with_issued("access_key", &key);
    Ok(match oldest {
        Some(old) => outcome.with("deleted_access_key_id", old),
        None => outcome,
    })
}

async fn run(ctx: &mut Context, o: Options) -> Result<Outcome, Failure> {
    let aws = aws_connect::connect_with(ctx, &o.aws, aws_connect::IAM_RETRIES).await?;
    match (o.state, o.id.as_deref()) {
        // required_if guarantees an id for absent.
        (State::Absent, id) => delete_key(ctx, &aws, &o, id.unwrap_or_default()).await,
        (State::Present, Some(id)) if !id.is_empty() => update_key(ctx, &aws, &o, id).await,
        (State::Present, _) => create_key(ctx, &aws, &o).await,
    }
}

/// Runs the module (reads its arguments, prints the result, exits).
pub fn main(source: ansible_module::ArgsSource) -> ! {
    aws_connect::run_module(&spec(), source, run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

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
