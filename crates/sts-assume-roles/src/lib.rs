//! sts_assume_roles: the credentials of many roles in one task. The AssumeRole calls run
//! concurrently over one run's connections (`max_concurrency`); with an MFA device, one
//! GetSessionToken call takes the code and signs every AssumeRole; with `chain`, each role is
//! assumed with the credentials of the one before.

mod entries;
mod kept;

use ansible_module::{
    Context, Failure, Lit, Module, ModuleOptions, ModuleSpec, Opt, Outcome, Type,
};
use aws_connect::sts::{self, Minted};
use aws_connect::{limits, Aws, AwsOptions, Io, RetryDefaults};
use credential_store::{StoreOptions, STORE_OPTIONS};
use entries::{Entry, RoleOptions};
use kept::Need;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// The module, for the multi-call executable's table.
pub const MODULE: Module = Module {
    spec,
    main,
    options_round_trip: ansible_module::options_round_trip::<Options>,
};

/// The longest session of a role assumed with temporary credentials: role chaining, and (as
/// AWS documents for MFA sessions used to assume roles) credentials from GetSessionToken.
const CHAINED_MAX: i64 = 3600;
/// What AWS grants when DurationSeconds is not sent.
const DEFAULT_DURATION: i64 = 3600;
/// The MFA session only has to outlive this run's calls: the shortest AWS allows.
const MFA_SESSION_SECONDS: i32 = 900;
/// Throttling of a burst of calls is expected: a few more attempts than a single call gets.
const FAN_OUT_RETRIES: RetryDefaults = RetryDefaults { max_attempts: 5 };

fn spec() -> ModuleSpec {
    aws_connect::module_spec(
        "sts_assume_roles",
        &[
            Opt::list("roles", Type::Dict),
            Opt::list("profiles", Type::Str),
            Opt::str("role_session_name"),
            Opt::int("duration_seconds"),
            Opt::str("external_id"),
            Opt::new("policy", Type::Raw),
            Opt::list("policy_arns", Type::Str),
            Opt::new("tags", Type::Dict),
            Opt::list("transitive_tag_keys", Type::Str),
            Opt::str("source_identity"),
            Opt::str("mfa_serial_number"),
            Opt::str("mfa_token").no_log(),
            Opt::bool("chain").default(Lit::Bool(false)),
            Opt::int("max_concurrency").default(Lit::Int(8)),
        ],
    )
    .options(STORE_OPTIONS)
    .required_one_of(&["roles", "profiles"])
}

#[derive(Debug, Deserialize, Serialize)]
struct Options {
    #[serde(flatten)]
    aws: AwsOptions,
    roles: Option<Vec<Value>>,
    profiles: Option<Vec<String>>,
    #[serde(flatten)]
    defaults: RoleOptions,
    mfa_serial_number: Option<String>,
    mfa_token: Option<String>,
    chain: bool,
    max_concurrency: i64,
    #[serde(flatten)]
    store: StoreOptions,
}

impl ModuleOptions for Options {
    /// Everything but the profiles (read from the config file when the module runs) is
    /// checked here, so a bad entry fails in check mode too.
    fn check(&self) -> Result<(), Failure> {
        let entries = entries::entries(self.roles(), &[], &self.defaults, PathBuf::new)?;
        let kept = entries
            .iter()
            .filter(|e| e.output_profile.is_some())
            .count();
        if self.chain && kept > 0 {
            return Err(Failure::new(
                "output_profile in entries does not go with chain: each hop is signed with the \
                 credentials of the one before, whichever run got them",
            ));
        }
        // A serial number alone is enough while every entry's profile is reused.
        let all_kept = kept > 0 && kept == entries.len() && self.profiles.is_none();
        limits::mfa(
            self.mfa_serial_number.as_deref(),
            self.mfa_token.as_deref(),
            all_kept,
        )?;
        self.store.check()?;
        if !(1..=100).contains(&self.max_concurrency) {
            return Err(Failure::new(format!(
                "max_concurrency must be 1 to 100, got {}",
                self.max_concurrency
            )));
        }
        self.session_limits(&entries)
    }
}

impl Options {
    fn roles(&self) -> &[Value] {
        self.roles.as_deref().unwrap_or_default()
    }

    fn mfa(&self) -> Option<(&str, &str)> {
        Some((
            self.mfa_serial_number.as_deref()?,
            self.mfa_token.as_deref()?,
        ))
    }

    /// Every entry, profiles included, checked.
    fn entries(&self) -> Result<Vec<Entry>, Failure> {
        let profiles = self.profiles.as_deref().unwrap_or_default();
        let entries = entries::entries(self.roles(), profiles, &self.defaults, config_file)?;
        self.session_limits(&entries)?;
        Ok(entries)
    }

    /// Sessions signed with temporary credentials last at most an hour: every hop of a chain
    /// after the first, and every role when an MFA session signs.
    fn session_limits(&self, entries: &[Entry]) -> Result<(), Failure> {
        for (i, e) in entries.iter().enumerate() {
            let signed_by = match (self.chain && i > 0, self.mfa().is_some()) {
                (true, _) => "the role before it in the chain",
                (false, true) => "the MFA session (GetSessionToken)",
                (false, false) => continue,
            };
            let duration = e.session.duration_seconds.unwrap_or(DEFAULT_DURATION);
            if duration > CHAINED_MAX {
                return Err(Failure::new(format!(
                    "{}: duration_seconds is {duration}, but a role assumed with temporary \
                     credentials ({signed_by}) gets a session of at most {CHAINED_MAX} seconds \
                     (AWS: \"The requested DurationSeconds exceeds the 1 hour session limit for \
                     roles assumed by role chaining\"). Nothing was called.",
                    e.name
                )));
            }
        }
        Ok(())
    }
}

/// The AWS config file the profiles are read from, as the SDK finds it.
fn config_file() -> PathBuf {
    credentials_file::default_config_path(|v| std::env::var(v).ok(), None)
}

/// One AssumeRole call for an entry, signed as `signer` says.
async fn assume(aws: &Aws, signer: &aws_types::SdkConfig, e: &Entry) -> Result<Minted, Failure> {
    sts::assume_role(aws, signer, e.request()).await
}

/// The configuration `base` signing with `credentials`.
fn signed_with(base: &aws_types::SdkConfig, minted: &Minted) -> aws_types::SdkConfig {
    base.to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                minted.signing_credentials(),
            ),
        )
        .build()
}

/// One GetSessionToken call with the MFA code: the session every AssumeRole is signed with.
async fn mfa_session(aws: &Aws, serial: &str, code: &str) -> Result<Minted, Failure> {
    let response = aws_sdk_sts::Client::new(&aws.config)
        .get_session_token()
        .serial_number(serial)
        .token_code(code)
        .duration_seconds(MFA_SESSION_SECONDS)
        .send()
        .await
        .map_err(|e| {
            aws_connect::sdk_failure(
                aws,
                "sts",
                "GetSessionToken",
                Some("The MFA session that signs the role assumptions failed"),
                e,
            )
        })?;
    Minted::new("GetSessionToken", response.credentials.as_ref())
}

type Results = Vec<(String, Result<Minted, Failure>)>;

/// Every entry at once, `max_concurrency` calls in flight, in entry order in the result.
async fn fan_out(
    aws: &Aws,
    signer: aws_types::SdkConfig,
    entries: Vec<Entry>,
    max_concurrency: usize,
) -> Results {
    let count = entries.len();
    let queue = Arc::new(Mutex::new(
        entries.into_iter().enumerate().collect::<VecDeque<_>>(),
    ));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..max_concurrency.min(count) {
        let (aws, signer, queue) = (aws.clone(), signer.clone(), Arc::clone(&queue));
        workers.spawn(async move {
            let mut done = Vec::new();
            while let Some((i, entry)) = next(&queue) {
                let result = assume(&aws, &signer, &entry).await;
                done.push((i, entry.name, result));
            }
            done
        });
    }
    let mut results: Vec<Option<(String, Result<Minted, Failure>)>> =
        (0..count).map(|_| None).collect();
    while let Some(joined) = workers.join_next().await {
        for (i, name, result) in joined.unwrap_or_default() {
            results[i] = Some((name, result));
        }
    }
    results.into_iter().flatten().collect()
}

fn next(queue: &Mutex<VecDeque<(usize, Entry)>>) -> Option<(usize, Entry)> {
    queue.lock().ok()?.pop_front()
}

/// The entries in order, each signed with the credentials of the one before; after a failed
/// hop the rest are not attempted.
async fn chain(aws: &Aws, first: aws_types::SdkConfig, entries: Vec<Entry>) -> Results {
    let mut signer = first;
    let mut results = Vec::with_capacity(entries.len());
    let mut broken: Option<String> = None;
    for entry in entries {
        if let Some(at) = &broken {
            let msg = format!("not attempted: the hop before it, {at}, failed");
            results.push((entry.name, Err(Failure::new(msg))));
            continue;
        }
        let result = assume(aws, &signer, &entry).await;
        match &result {
            Ok(minted) => signer = signed_with(&signer, minted),
            Err(_) => broken = Some(entry.name.clone()),
        }
        results.push((entry.name, result));
    }
    results
}

/// The entries whose profiles answer are reused; the others are assumed (fanned out, or as a
/// chain), signed with the MFA session when there is one, and their profiles written.
async fn run(ctx: &mut Context, o: Options, io: &Io) -> Result<Outcome, Failure> {
    let entries = o.entries()?;
    let needs = kept::decide(
        ctx,
        &o.aws,
        &o.store,
        &entries,
        o.mfa_serial_number.as_deref(),
    )?;
    let (mut slots, mut to_call) = (Vec::new(), Vec::new());
    let mut done: Vec<(usize, RoleResult)> = Vec::with_capacity(entries.len());
    for (i, (entry, need)) in entries.into_iter().zip(needs).enumerate() {
        match need {
            Need::Reused(minted) => done.push((i, RoleResult::reused(entry.name, minted))),
            Need::Call(slot) => {
                slots.push((i, slot));
                to_call.push(entry);
            }
        }
    }
    if to_call.is_empty() {
        return report(done);
    }
    if o.mfa_serial_number.is_some() && o.mfa_token.is_none() {
        let names: Vec<&str> = to_call.iter().map(|e| e.name.as_str()).collect();
        return Err(Failure::new(format!(
            "New credentials are needed for {}, and with mfa_serial_number set they need an MFA \
             code: give the code the device shows now as mfa_token.",
            names.join(", ")
        )));
    }
    let aws = aws_connect::configure(ctx, &o.aws, io, FAN_OUT_RETRIES).await?;
    let signer = match o.mfa() {
        Some((serial, code)) => signed_with(&aws.config, &mfa_session(&aws, serial, code).await?),
        None => aws.config.clone(),
    };
    let results = if o.chain {
        chain(&aws, signer, to_call).await
    } else {
        let width = usize::try_from(o.max_concurrency).unwrap_or(1);
        fan_out(&aws, signer, to_call, width).await
    };
    for ((name, result), (i, slot)) in results.into_iter().zip(slots) {
        done.push((i, RoleResult::called(name, result, slot)));
    }
    report(done)
}

/// One entry's outcome: its credentials (reused or new), or why it has none; with
/// `output_profile`, why new ones were needed, and a failed write.
struct RoleResult {
    name: String,
    minted: Option<Minted>,
    failure: Option<String>,
    called: bool,
    /// With output_profile: why new credentials were needed (None when reused).
    refresh_reason: Option<Option<String>>,
}

impl RoleResult {
    fn reused(name: String, minted: Minted) -> Self {
        RoleResult {
            name,
            minted: Some(minted),
            failure: None,
            called: false,
            refresh_reason: Some(None),
        }
    }

    fn called(
        name: String,
        result: Result<Minted, Failure>,
        slot: Option<Box<credential_store::Slot>>,
    ) -> Self {
        let refresh_reason = slot.as_ref().map(|s| Some(s.refresh_reason.clone()));
        let (mut minted, mut failure) = match result {
            Ok(minted) => (Some(minted), None),
            Err(f) => (None, Some(f.msg)),
        };
        if let (Some(slot), Some(new)) = (&slot, &minted) {
            if let Err(f) = slot.write(new) {
                // Saved to a file of their own (the message names it), or else left in roles.
                if f.get("unsaved_credentials_file").is_some() {
                    minted = None;
                    failure = Some(format!(
                        "got new credentials, but could not keep them: {}",
                        f.msg
                    ));
                } else {
                    failure = Some(format!(
                        "got new credentials (in roles), but could not keep them: {}",
                        f.msg
                    ));
                }
            }
        }
        RoleResult {
            name,
            minted,
            failure,
            called: true,
            refresh_reason,
        }
    }
}

/// `roles` with every entry's credentials, `failed_roles` with every failure's message; a
/// failure of the task when any role failed, still carrying the credentials of the others.
/// Changed when any entry called STS.
fn report(mut results: Vec<(usize, RoleResult)>) -> Result<Outcome, Failure> {
    results.sort_by_key(|(i, _)| *i);
    let now = SystemTime::now();
    let total = results.len();
    let changed = results.iter().any(|(_, r)| r.called);
    let mut roles = Map::new();
    let mut failed = Map::new();
    for (_, r) in results.drain(..) {
        if let Some(minted) = &r.minted {
            let mut map = minted.result_map(now);
            if let Some(reason) = &r.refresh_reason {
                map.insert("refresh_reason".to_owned(), serde_json::json!(reason));
            }
            roles.insert(r.name.clone(), Value::Object(map));
        }
        if let Some(msg) = r.failure {
            failed.insert(r.name, Value::String(msg));
        }
    }
    if failed.is_empty() {
        return Ok(Outcome::changed(changed)
            .with_issued("roles", roles)
            .with("failed_roles", failed));
    }
    let names: Vec<&str> = failed.keys().map(String::as_str).collect();
    let msg = format!(
        "{} of {total} roles failed ({}); failed_roles has each message, roles the credentials \
         of the others",
        failed.len(),
        names.join(", ")
    );
    Err(Failure::new(msg)
        .with_issued("roles", roles)
        .with("failed_roles", failed))
}

/// Runs the module (reads its arguments, prints the result, exits).
fn main(source: ansible_module::ArgsSource) -> ! {
    aws_connect::run_async(&spec(), source, run)
}
