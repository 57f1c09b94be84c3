//! sts_assume_role: temporary credentials of a role (STS AssumeRole). A drop-in for
//! amazon.aws.sts_assume_role, plus managed session policies, session tags and a source
//! identity.

use ansible_module::coerce::to_str;
use ansible_module::{Context, Failure, Module, ModuleOptions, ModuleSpec, Opt, Outcome, Type};
use aws_connect::sts::{self, AssumeRoleRequest, RoleSession};
use aws_connect::{limits, AwsOptions, Io};
use credential_store::{OutputOptions, Request};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The module, for the multi-call executable's table.
pub const MODULE: Module = Module {
    spec,
    main,
    options_round_trip: ansible_module::options_round_trip::<Options>,
};

fn spec() -> ModuleSpec {
    credential_store::with_output_options(
        aws_connect::module_spec("sts_assume_role", sts::ROLE_SESSION_OPTIONS).options(&[
            Opt::str("external_id"),
            Opt::str("mfa_serial_number"),
            Opt::str("mfa_token").no_log(),
            Opt::new("tags", Type::Dict),
            Opt::list("transitive_tag_keys", Type::Str),
            Opt::str("source_identity"),
        ]),
    )
}

#[derive(Debug, Deserialize, Serialize)]
struct Options {
    #[serde(flatten)]
    aws: AwsOptions,
    #[serde(flatten)]
    session: RoleSession,
    external_id: Option<String>,
    mfa_serial_number: Option<String>,
    mfa_token: Option<String>,
    tags: Option<Map<String, Value>>,
    transitive_tag_keys: Option<Vec<String>>,
    source_identity: Option<String>,
    #[serde(flatten)]
    output: OutputOptions,
}

impl Options {
    /// Tags as text pairs (a number given as a tag value is sent as its text).
    fn tag_pairs(&self) -> Vec<(String, String)> {
        self.tags
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), to_str(v)))
            .collect()
    }
}

/// AWS's limits, checked before any call and in check mode, naming the option.
impl ModuleOptions for Options {
    fn check(&self) -> Result<(), Failure> {
        self.session.check()?;
        if let Some(id) = &self.external_id {
            limits::external_id("external_id", id)?;
        }
        limits::mfa(
            self.mfa_serial_number.as_deref(),
            self.mfa_token.as_deref(),
            self.output.profile().is_some(),
        )?;
        let tags = self.tag_pairs();
        limits::tags("tags", &tags)?;
        if let Some(keys) = &self.transitive_tag_keys {
            limits::transitive_tag_keys("transitive_tag_keys", keys, &tags)?;
        }
        if let Some(id) = &self.source_identity {
            limits::source_identity("source_identity", id)?;
        }
        self.output.check()
    }
}

/// One AssumeRole call, or the credentials kept in `output_profile`.
async fn run(ctx: &mut Context, o: Options, io: &Io) -> Result<Outcome, Failure> {
    let call = AssumeRoleRequest {
        session: Some(&o.session),
        external_id: o.external_id.clone(),
        mfa_serial_number: o.mfa_serial_number.clone(),
        mfa_token: o.mfa_token.clone(),
        tags: o.tag_pairs(),
        transitive_tag_keys: o.transitive_tag_keys.clone(),
        source_identity: o.source_identity.clone(),
    };
    let request = |ctx: &Context| {
        Ok(Request::signed(ctx, "AssumeRole", &o.aws, call.params())?
            .mfa(o.mfa_serial_number.as_deref(), o.mfa_token.as_deref()))
    };
    credential_store::reuse_or_mint(ctx, &o.output, request, async |ctx| {
        let aws = aws_connect::configure(ctx, &o.aws, io, aws_connect::STS_RETRIES).await?;
        sts::assume_role(&aws, &aws.config, call.clone()).await
    })
    .await
}

/// Runs the module (reads its arguments, prints the result, exits).
fn main(source: ansible_module::ArgsSource) -> ! {
    aws_connect::run_async(&spec(), source, run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The message of validation with `extra` over a valid role and session name.
    fn rejected(extra: Value) -> Option<String> {
        let mut args =
            json!({"role_arn": "arn:aws:iam::123456789012:role/r", "role_session_name": "sess"});
        if let (Some(a), Value::Object(e)) = (args.as_object_mut(), extra) {
            a.extend(e);
        }
        ansible_module::validation_error::<Options>(&spec(), args)
    }

    #[test]
    fn values_are_checked_before_any_call() {
        assert_eq!(rejected(json!({})), None);
        assert_eq!(
            rejected(
                json!({"policy": {"Version": "2012-10-17", "Statement": []}, "tags": {"a": 1}, "transitive_tag_keys": ["a"], "policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"], "source_identity": "alice", "external_id": "ext-1", "duration_seconds": "3600"})
            ),
            None
        );
        let cases = [
            (
                json!({"role_arn": "invalid role arn"}),
                "Invalid length for parameter RoleArn",
            ),
            (
                json!({"role_session_name": "x"}),
                "Invalid length for parameter RoleSessionName",
            ),
            (
                json!({"role_arn": "arn:aws:iam::123456789012:user/deploy"}),
                "role_arn must be a role ARN, arn:<partition>:iam::<account>:role/<name>, got \
                 'arn:aws:iam::123456789012:user/deploy'",
            ),
            (
                json!({"role_arn": "arn:aws:iam::1234-5678-9012:role/deploy"}),
                "the account is 12 digits",
            ),
            (
                json!({"policy": "invalid policy"}),
                "Invalid policy document provided: policy: The policy is not in the valid JSON \
                 format. (",
            ),
            (
                json!({"policy": "[{\"Version\": \"2012-10-17\"}]"}),
                "Invalid policy document provided: policy must be a JSON object",
            ),
            (
                json!({"policy": [{"Version": "2012-10-17"}]}),
                "Invalid policy document provided: policy must be a JSON policy document, as a \
                 string or a dictionary, got a list",
            ),
            (
                json!({"duration_seconds": "invalid duration"}),
                "cannot be converted to an int",
            ),
            (json!({"duration_seconds": 100}), "valid min value: 900"),
            (json!({"duration_seconds": 43201}), "valid max value: 43200"),
            (
                json!({"external_id": "invalid external id"}),
                "Member must satisfy regular expression pattern",
            ),
            (
                json!({"mfa_serial_number": "invalid serial number", "mfa_token": "123456"}),
                "mfa_serial_number may only contain letters, digits, _ and +=/:,.@-, got \
                 'invalid serial number' (Member must satisfy regular expression pattern",
            ),
            (
                json!({"mfa_serial_number": "arn:aws:iam::123456789012:mfa/u", "mfa_token": "invalid token code"}),
                "Member must satisfy regular expression pattern",
            ),
            (
                json!({"mfa_serial_number": "arn:aws:iam::123456789012:mfa/u"}),
                "mfa_serial_number is set but mfa_token is not",
            ),
            (
                json!({"mfa_token": "123456"}),
                "mfa_token is set but mfa_serial_number is not",
            ),
            (json!({"transitive_tag_keys": ["a"]}), "not a key of tags"),
            (json!({"source_identity": "aws:x"}), "Member must satisfy"),
        ];
        for (extra, want) in cases {
            let msg = rejected(extra.clone()).unwrap_or_default();
            assert!(msg.contains(want), "{extra}: {msg}");
        }
    }

    #[test]
    fn role_arns_of_every_partition_and_of_ceph_rgw_are_taken() {
        for arn in [
            "arn:aws-cn:iam::123456789012:role/r",
            "arn:aws-us-gov:iam::123456789012:role/path/to/r",
            "arn:aws:iam:::role/S3Access",
            "arn:aws:iam::123456789:role/non-existing-role",
        ] {
            assert_eq!(rejected(json!({ "role_arn": arn })), None, "{arn}");
        }
    }

    #[test]
    fn role_arn_and_session_name_are_required() {
        assert_eq!(
            ansible_module::validation_error::<Options>(&spec(), json!({"policy": "{}"}))
                .as_deref(),
            Some("missing required arguments: role_arn, role_session_name")
        );
    }

    #[test]
    fn check_mode_validates_then_skips() {
        let Value::Object(args) = json!({"role_arn": "arn:aws:iam::123456789012:role/r", "role_session_name": "sess", "_ansible_check_mode": true})
        else {
            unreachable!()
        };
        let report = ansible_module::execute(&spec(), Ok(args), &|_| None, |_, _: Options| {
            Err(Failure::new("must not run"))
        });
        assert_eq!(report.json["skipped"], true);
        assert_eq!(
            report.json["msg"],
            "remote module (sts_assume_role) does not support check mode"
        );
    }
}
