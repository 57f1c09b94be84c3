//! sts_assume_role_with_web_identity: temporary credentials of a role for an OpenID Connect
//! token (STS AssumeRoleWithWebIdentity). The call is not signed: it needs no AWS credentials,
//! only the token, given directly or read from a file (as on EKS or with external-secrets).

use ansible_module::{Context, Failure, Module, ModuleOptions, ModuleSpec, Opt, Outcome, Type};
use aws_connect::sts::{self, Minted, RoleAnswer, RoleSession};
use aws_connect::{limits, AwsOptions, Io};
use credential_store::{OutputOptions, Request};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The module, for the multi-call executable's table.
pub const MODULE: Module = Module {
    spec,
    main,
    options_round_trip: ansible_module::options_round_trip::<Options>,
};

fn spec() -> ModuleSpec {
    let spec = aws_connect::module_spec(
        "sts_assume_role_with_web_identity",
        sts::ROLE_SESSION_OPTIONS,
    )
    .options(&[
        Opt::str("web_identity_token").no_log(),
        Opt::new("web_identity_token_file", Type::Path),
        Opt::str("provider_id"),
    ])
    .mutually_exclusive(&["web_identity_token", "web_identity_token_file"])
    .required_one_of(&["web_identity_token", "web_identity_token_file"]);
    credential_store::with_output_options(spec)
}

#[derive(Debug, Deserialize, Serialize)]
struct Options {
    #[serde(flatten)]
    aws: AwsOptions,
    #[serde(flatten)]
    session: RoleSession,
    web_identity_token: Option<String>,
    web_identity_token_file: Option<String>,
    provider_id: Option<String>,
    #[serde(flatten)]
    output: OutputOptions,
}

impl ModuleOptions for Options {
    fn check(&self) -> Result<(), Failure> {
        self.session.check()?;
        if let Some(token) = &self.web_identity_token {
            token_length(token).map_err(|f| f.map_msg(|m| format!("web_identity_token {m}")))?;
        } else if self.token_file().is_none() {
            // web_identity_token_file: '' counts as not set, as for the common options.
            return Err(Failure::new(
                "one of the following is required: web_identity_token, web_identity_token_file",
            ));
        }
        if let Some(id) = &self.provider_id {
            limits::length("provider_id", "ProviderId", id, 4, 2048)?;
        }
        self.output.check()
    }
}

impl Options {
    fn token_file(&self) -> Option<&str> {
        self.web_identity_token_file
            .as_deref()
            .filter(|p| !p.is_empty())
    }
}

/// AWS takes tokens of 4 to 20000 characters. The token itself is never repeated.
fn token_length(token: &str) -> Result<(), Failure> {
    let n = token.chars().count();
    if (4..=20_000).contains(&n) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "must be 4 to 20000 characters long, got {n}"
    )))
}

/// The token: the option, or the file's content without the trailing newline many tools
/// write. A token read from a file is a secret like the option. The file is read only when
/// the module runs: in check mode an earlier task may not have written it.
fn read_token(ctx: &mut Context, o: &Options) -> Result<String, Failure> {
    if let Some(token) = &o.web_identity_token {
        return Ok(token.clone());
    }
    let path = o.token_file().unwrap_or_default();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::new(format!(
            "web_identity_token_file: could not read '{path}': {e}"
        ))
    })?;
    let token = text.trim_end().to_owned();
    ctx.add_secret(token.clone());
    if token.is_empty() {
        return Err(Failure::new(format!(
            "web_identity_token_file: '{path}' is empty"
        )));
    }
    token_length(&token).map_err(|f| {
        f.map_msg(|m| format!("web_identity_token_file '{path}': the token it holds {m}"))
    })?;
    Ok(token)
}

/// One AssumeRoleWithWebIdentity call, or the credentials kept in `output_profile`. The call
/// is unsigned: the token (its file, or an inline token) stands for the signer.
async fn run(ctx: &mut Context, o: Options, io: &Io) -> Result<Outcome, Failure> {
    let identity = match o.token_file() {
        Some(path) => format!("web identity token file {path}"),
        None => "web identity token".to_owned(),
    };
    let params = json!({"session": o.session.request_params(), "provider_id": o.provider_id});
    let request = |_: &Context| {
        Ok(Request::unsigned(
            "AssumeRoleWithWebIdentity",
            identity,
            &o.aws,
            params,
        ))
    };
    credential_store::reuse_or_mint(ctx, &o.output, request, async |ctx| {
        assume_role_with_web_identity(ctx, &o, io).await
    })
    .await
}

async fn assume_role_with_web_identity(
    ctx: &mut Context,
    o: &Options,
    io: &Io,
) -> Result<Minted, Failure> {
    let token = read_token(ctx, o)?;
    let aws = aws_connect::configure(ctx, &o.aws, io, aws_connect::STS_RETRIES).await?;
    // Unsigned: without a credentials provider the SDK sends the request anonymously.
    let mut config = aws_sdk_sts::config::Builder::from(&aws.config);
    config.set_credentials_provider(None);
    let config = config.build();
    let role_id = sts::RoleIdFallback::default();
    let response = aws_sdk_sts::Client::from_conf(config)
        .assume_role_with_web_identity()
        .role_arn(&o.session.role_arn)
        .role_session_name(&o.session.role_session_name)
        .web_identity_token(token)
        .set_provider_id(o.provider_id.clone())
        .set_policy(o.session.policy_document())
        .set_policy_arns(o.session.policy_descriptors())
        .set_duration_seconds(o.session.duration())
        .customize()
        .interceptor(role_id.clone())
        .send()
        .await
        .map_err(|e| sts::role_failure(&aws, "AssumeRoleWithWebIdentity", e))?;
    let mut minted = sts::role_credentials(RoleAnswer {
        operation: "AssumeRoleWithWebIdentity",
        credentials: response.credentials.as_ref(),
        user: response.assumed_role_user.as_ref(),
        source_identity: response.source_identity,
        role_id: &role_id,
    })?;
    for (key, value) in [
        ("provider", response.provider),
        ("audience", response.audience),
        (
            "subject_from_web_identity_token",
            response.subject_from_web_identity_token,
        ),
    ] {
        if let Some(value) = value {
            minted = minted.with(key, value);
        }
    }
    Ok(minted)
}

/// Runs the module (reads its arguments, prints the result, exits).
fn main(source: ansible_module::ArgsSource) -> ! {
    aws_connect::run_async(&spec(), source, run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn report(extra: Value) -> ansible_module::Report {
        let mut args =
            json!({"role_arn": "arn:aws:iam::123456789012:role/r", "role_session_name": "sess"});
        if let (Some(a), Value::Object(e)) = (args.as_object_mut(), extra) {
            a.extend(e);
        }
        let Value::Object(args) = args else {
            unreachable!()
        };
        ansible_module::execute(&spec(), Ok(args), &|_| None, |ctx, o: Options| {
            read_token(ctx, &o).map(|_| Outcome::changed(false))
        })
    }

    fn msg(extra: Value) -> String {
        report(extra).json["msg"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn one_token_source() {
        assert_eq!(
            msg(json!({})),
            "one of the following is required: web_identity_token, web_identity_token_file"
        );
        assert_eq!(
            msg(json!({"web_identity_token": "abcd", "web_identity_token_file": "/x"})),
            "parameters are mutually exclusive: web_identity_token|web_identity_token_file"
        );
        assert_eq!(report(json!({"web_identity_token": "abcd"})).exit_code, 0);
        assert_eq!(
            msg(json!({"web_identity_token": "abc"})),
            "web_identity_token must be 4 to 20000 characters long, got 3"
        );
        // An empty path counts as not set.
        assert_eq!(
            msg(json!({"web_identity_token_file": ""})),
            "one of the following is required: web_identity_token, web_identity_token_file"
        );
    }

    #[test]
    fn role_checks_are_those_of_sts_assume_role() {
        let token = json!({"web_identity_token": "header.payload.sig"});
        let with = |extra: Value| {
            let mut args = token.clone();
            if let (Some(a), Value::Object(e)) = (args.as_object_mut(), extra) {
                a.extend(e);
            }
            msg(args)
        };
        assert_eq!(
            with(json!({"role_arn": "arn:aws:iam::123456789012:oidc-provider/x"})),
            "role_arn must be a role ARN, arn:<partition>:iam::<account>:role/<name>, got \
             'arn:aws:iam::123456789012:oidc-provider/x' (not a role: role/ must follow the \
             account)"
        );
        assert_eq!(
            with(json!({"role_arn": "not an arn"})),
            "role_arn must be 20 to 2048 characters long, got 10 (Invalid length for parameter \
             RoleArn, value: 10, valid min length: 20)"
        );
        assert!(with(json!({"policy": "invalid policy"})).starts_with(
            "Invalid policy document provided: policy: The policy is not in the valid JSON \
             format. ("
        ));
        assert!(with(json!({"policy": "[]"}))
            .starts_with("Invalid policy document provided: policy must be a JSON object"));
        let ceph =
            report(json!({"role_arn": "arn:aws:iam:::role/app", "web_identity_token": "abcd"}));
        assert_eq!(ceph.exit_code, 0, "{}", ceph.json);
    }

    #[test]
    fn token_files() {
        let dir = std::env::temp_dir().join(format!("wit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("token");
        std::fs::write(&file, "header.payload.sig\n").expect("write token");
        let path = file.to_string_lossy().into_owned();
        let ok = report(json!({"web_identity_token_file": path}));
        assert_eq!(ok.exit_code, 0, "{}", ok.json);

        std::fs::write(&file, "\n").expect("write token");
        assert!(msg(json!({"web_identity_token_file": path})).ends_with("is empty"));
        std::fs::write(&file, "abc").expect("write token");
        let short = msg(json!({"web_identity_token_file": path}));
        assert_eq!(
            short,
            format!(
                "web_identity_token_file '{path}': the token it holds must be 4 to 20000 \
                 characters long, got 3"
            )
        );
        let missing = msg(json!({"web_identity_token_file": dir.join("nope").to_string_lossy()}));
        assert!(
            missing.starts_with("web_identity_token_file: could not read"),
            "{missing}"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn a_file_token_is_masked_like_an_option() {
        let dir = std::env::temp_dir().join(format!("wit-mask-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("token");
        std::fs::write(&file, "secret.jwt.value").expect("write token");
        let Value::Object(args) = json!({"role_arn": "arn:aws:iam::123456789012:role/r", "role_session_name": "sess", "web_identity_token_file": file.to_string_lossy()})
        else {
            unreachable!()
        };
        let r = ansible_module::execute(&spec(), Ok(args), &|_| None, |ctx, o: Options| {
            let token = read_token(ctx, &o)?;
            Err(Failure::new(format!("rejected {token}")))
        });
        assert_eq!(r.json["msg"], "rejected ********");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
