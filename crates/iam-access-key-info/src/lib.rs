//! iam_access_key_info: the access keys of an IAM user, or of every user of the account, oldest
//! first, with each key's age, last use, and whether the task signs with it. A drop-in for
//! amazon.aws.iam_access_key_info, which returns only the first four fields of each key.

use ansible_module::{Context, Failure, Lit, Module, ModuleOptions, ModuleSpec, Opt, Outcome};
use aws_connect::iam::{self, AccessKey, LastUsed, Lookup};
use aws_connect::{limits, Aws, AwsOptions, Io};
use aws_smithy_types::DateTime;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// The module, for the multi-call executable's table.
pub const MODULE: Module = Module {
    spec,
    main,
    options_round_trip: ansible_module::options_round_trip::<Options>,
};

fn spec() -> ModuleSpec {
    aws_connect::module_spec(
        "iam_access_key_info",
        &[
            Opt::str("user_name").aliases(&["username"]),
            Opt::bool("all_users").default(Lit::Bool(false)),
            Opt::int("older_than_days"),
        ],
    )
    .supports_check_mode()
}

#[derive(Debug, Deserialize, Serialize)]
struct Options {
    #[serde(flatten)]
    aws: AwsOptions,
    user_name: Option<String>,
    all_users: bool,
    older_than_days: Option<i64>,
}

impl ModuleOptions for Options {
    /// user_name was required (amazon.aws's message is kept for a task without either); it is
    /// refused next to `all_users: true` rather than read as a filter, so that a task can never
    /// be taken for a one-user listing when it lists everyone, or the reverse.
    fn check(&self) -> Result<(), Failure> {
        match (&self.user_name, self.all_users) {
            (Some(_), true) => {
                return Err(Failure::new(
                    "parameters are mutually exclusive: user_name|all_users. all_users: true \
                     lists the keys of every user; give user_name alone to list one user's.",
                ))
            }
            (Some(user), false) => limits::user_name("user_name", user)?,
            (None, true) => {}
            (None, false) => {
                return Err(Failure::new(
                    "missing required arguments: user_name (or all_users: true, to list the \
                     keys of every user)",
                ))
            }
        }
        match self.older_than_days {
            Some(days) if days < 0 => Err(Failure::new(format!(
                "older_than_days must be 0 or more, got {days}"
            ))),
            _ => Ok(()),
        }
    }
}

const SECONDS_PER_DAY: i64 = 86_400;

/// One key as the module returns it: amazon.aws's four keys, then ours.
#[derive(Debug, Serialize)]
struct KeyInfo {
    #[serde(flatten)]
    key: AccessKey,
    /// Whole days since create_date; None for a key without a date (never seen from AWS).
    age_days: Option<i64>,
    /// None when IAM did not tell (see [`Unknown`]), or the key was deleted meanwhile.
    last_used: Option<LastUsed>,
    is_signing_key: bool,
}

/// Whole days from `created` to `now` (0 for a date ahead of this host's clock).
fn age_days(created: DateTime, now: i64) -> i64 {
    (now.saturating_sub(created.secs()) / SECONDS_PER_DAY).max(0)
}

/// Whether a key created at `created` is older than `days` days: created more than `days` × 24
/// hours before `now`. A key without a date is kept: an audit must not hide what it cannot date.
fn older_than(created: Option<DateTime>, days: i64, now: i64) -> bool {
    let Some(created) = created else {
        return true;
    };
    match days.checked_mul(SECONDS_PER_DAY) {
        Some(span) => now.saturating_sub(created.secs()) > span,
        None => false,
    }
}

const LIST_CONTEXT: &str = "Failed to get access keys for user";

/// The keys of the user the options name, or of every user of the account, oldest first.
async fn listed_keys(
    aws: &Aws,
    client: &aws_sdk_iam::Client,
    o: &Options,
) -> Result<Vec<AccessKey>, Failure> {
    if !o.all_users {
        // An unknown user has no keys, as in amazon.aws.
        let user = o.user_name.as_deref().unwrap_or_default();
        return Ok(iam::list_access_keys(aws, client, user).await?.keys);
    }
    let mut keys = Vec::new();
    for user in iam::list_user_names(aws, client).await? {
        // A user deleted since ListUsers has no keys; a failure names the user.
        let listed = iam::list_access_keys(aws, client, &user)
            .await
            .map_err(|f| {
                f.map_msg(|m| m.replacen(LIST_CONTEXT, &format!("{LIST_CONTEXT} {user}"), 1))
            })?;
        keys.extend(listed.keys);
    }
    // Oldest first across users too (stable: IAM's order of users breaks ties).
    keys.sort_by_key(|k| k.created().map(|d| (d.secs(), d.subsec_nanos())));
    Ok(keys)
}

async fn run(ctx: &mut Context, o: Options, io: &Io) -> Result<Outcome, Failure> {
    let aws = aws_connect::configure(ctx, &o.aws, io, aws_connect::IAM_RETRIES).await?;
    // Resolved once: a profile's role or process runs once for the flag and the calls.
    let (aws, signing_key) = iam::pin_signing_key(&aws).await;
    let client = iam::client(&aws);
    let mut keys = listed_keys(&aws, &client, &o).await?;
    let now = now_secs();
    if let Some(days) = o.older_than_days {
        keys.retain(|k| older_than(k.created(), days, now));
    }
    let mut unknown = Unknown::default();
    let mut infos = Vec::with_capacity(keys.len());
    for key in keys {
        let last_used = unknown.last_used(&aws, &client, &key.access_key_id).await;
        infos.push(KeyInfo {
            age_days: key.created().map(|d| age_days(d, now)),
            is_signing_key: signing_key.as_deref() == Some(key.access_key_id.as_str()),
            last_used,
            key,
        });
    }
    unknown.warn(ctx);
    Ok(Outcome::changed(false).with("access_keys", infos))
}

/// The keys whose last use IAM did not tell. amazon.aws never calls GetAccessKeyLastUsed, so
/// no answer of that call fails a listing that works there: the key's `last_used` is null and
/// a warning says why.
#[derive(Default)]
struct Unknown {
    /// Refused (AccessDenied): a policy may allow some users' keys only, so the others are
    /// still asked about.
    refused: Vec<String>,
    /// Any other failure (throttled past the retries, unavailable, not implemented): its
    /// message, the key, and the keys after it, which are not asked about.
    failed: Option<(String, Vec<String>)>,
}

impl Unknown {
    async fn last_used(
        &mut self,
        aws: &Aws,
        client: &aws_sdk_iam::Client,
        id: &str,
    ) -> Option<LastUsed> {
        if let Some((_, skipped)) = &mut self.failed {
            skipped.push(id.to_owned());
            return None;
        }
        match iam::access_key_last_used(aws, client, id).await {
            Ok(Lookup::Found(used)) => Some(used),
            // Deleted since the listing.
            Ok(Lookup::NoSuchEntity) => None,
            Err(f) if error_code(&f) == Some("AccessDenied") => {
                self.refused.push(id.to_owned());
                None
            }
            Err(f) => {
                self.failed = Some((f.msg, vec![id.to_owned()]));
                None
            }
        }
    }

    fn warn(self, ctx: &mut Context) {
        if !self.refused.is_empty() {
            ctx.warn(format!(
                "IAM refused GetAccessKeyLastUsed (AccessDenied) for {} key(s): {}. Their \
                 last_used is null; allow iam:GetAccessKeyLastUsed to see when they were last \
                 used.",
                self.refused.len(),
                self.refused.join(", ")
            ));
        }
        if let Some((msg, keys)) = self.failed {
            ctx.warn(format!(
                "GetAccessKeyLastUsed failed, so last_used is null for {} key(s): {} (the keys \
                 after the first were not asked about). {msg}",
                keys.len(),
                keys.join(", ")
            ));
        }
    }
}

fn error_code(f: &Failure) -> Option<&str> {
    f.get("error")?.get("code")?.as_str()
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
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

    const DAY: i64 = SECONDS_PER_DAY;
    const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

    #[test]
    fn age_is_whole_days_and_never_negative() {
        let now = 1_000 * DAY;
        let age = |secs| age_days(DateTime::from_secs(secs), now);
        assert_eq!(age(now), 0);
        assert_eq!(age(now - DAY + 1), 0);
        assert_eq!(age(now - DAY), 1);
        assert_eq!(age(now - 90 * DAY - 3600), 90);
        assert_eq!(age(now + 3 * DAY), 0);
    }

    #[test]
    fn older_than_counts_the_hours_past_the_days() {
        let now = 1_000 * DAY;
        let at = |secs| Some(DateTime::from_secs(secs));
        assert!(!older_than(at(now - 90 * DAY), 90, now));
        assert!(older_than(at(now - 90 * DAY - 1), 90, now));
        assert!(!older_than(at(now), 0, now));
        assert!(older_than(at(now - 1), 0, now));
        assert!(!older_than(at(now - 1), i64::MAX, now));
        assert!(older_than(None, 90, now), "an undated key is kept");
    }

    fn keys(user: &str, keys: &[(&str, &str)], marker: Option<&str>) -> Answer {
        let members: String = keys
            .iter()
            .map(|(id, date)| {
                format!(
                    "<member><UserName>{user}</UserName><AccessKeyId>{id}</AccessKeyId>\
                     <Status>Active</Status><CreateDate>{date}</CreateDate></member>"
                )
            })
            .collect();
        Answer::ok(format!(
            "<ListAccessKeysResponse xmlns=\"{IAM_NS}\"><ListAccessKeysResult>\
             <AccessKeyMetadata>{members}</AccessKeyMetadata>{}</ListAccessKeysResult>\
             </ListAccessKeysResponse>",
            more(marker)
        ))
    }

    fn users(names: &[&str], marker: Option<&str>) -> Answer {
        let members: String = names
            .iter()
            .map(|n| {
                format!(
                    "<member><Path>/</Path><UserName>{n}</UserName><UserId>AIDA{n}</UserId>\
                     <Arn>arn:aws:iam::123456789012:user/{n}</Arn>\
                     <CreateDate>2020-01-01T00:00:00Z</CreateDate></member>"
                )
            })
            .collect();
        Answer::ok(format!(
            "<ListUsersResponse xmlns=\"{IAM_NS}\"><ListUsersResult><Users>{members}</Users>\
             {}</ListUsersResult></ListUsersResponse>",
            more(marker)
        ))
    }

    fn more(marker: Option<&str>) -> String {
        match marker {
            Some(m) => format!("<IsTruncated>true</IsTruncated><Marker>{m}</Marker>"),
            None => "<IsTruncated>false</IsTruncated>".to_owned(),
        }
    }

    fn used(date: Option<&str>, service: &str, region: &str) -> Answer {
        let date = date.map_or_else(String::new, |d| format!("<LastUsedDate>{d}</LastUsedDate>"));
        Answer::ok(format!(
            "<GetAccessKeyLastUsedResponse xmlns=\"{IAM_NS}\"><GetAccessKeyLastUsedResult>\
             <UserName>u</UserName><AccessKeyLastUsed>{date}<ServiceName>{service}</ServiceName>\
             <Region>{region}</Region></AccessKeyLastUsed></GetAccessKeyLastUsedResult>\
             </GetAccessKeyLastUsedResponse>"
        ))
    }

    fn never() -> Answer {
        used(None, "N/A", "N/A")
    }

    fn task(args: Value, replay: &Replay) -> ansible_module::Report {
        replay.run(&spec(), args, run)
    }

    #[test]
    fn each_key_has_its_age_last_use_and_signing_flag() {
        let replay = Replay::new([
            keys(
                "u",
                &[
                    ("AKIANEWER", "2025-02-01T00:00:00Z"),
                    (CANNED_ACCESS_KEY, "2024-02-01T00:00:00.5Z"),
                ],
                None,
            ),
            used(Some("2026-01-02T03:04:05.678Z"), "s3", "eu-west-1"),
            never(),
        ]);
        let r = task(json!({"user_name": "u"}), &replay);
        assert_eq!(r.exit_code, 0, "{}", r.json);
        let listed = &r.json["access_keys"];
        let first = listed[0].as_object().cloned().unwrap_or_default();
        assert_eq!(
            first.keys().collect::<Vec<_>>(),
            [
                "access_key_id",
                "create_date",
                "status",
                "user_name",
                "age_days",
                "last_used",
                "is_signing_key"
            ]
        );
        assert_eq!(listed[0]["access_key_id"], CANNED_ACCESS_KEY);
        assert_eq!(listed[0]["is_signing_key"], true);
        assert_eq!(listed[1]["is_signing_key"], false);
        assert_eq!(
            listed[0]["last_used"],
            json!({"date": "2026-01-02T03:04:05+00:00", "service_name": "s3", "region": "eu-west-1"})
        );
        assert_eq!(
            listed[1]["last_used"],
            json!({"date": null, "service_name": "N/A", "region": "N/A"})
        );
        let created = DateTime::from_secs(1_706_745_600); // 2024-02-01T00:00:00Z
        assert_eq!(listed[0]["age_days"], age_days(created, now_secs()));
        assert_eq!(
            replay.actions(),
            [
                "ListAccessKeys",
                "GetAccessKeyLastUsed",
                "GetAccessKeyLastUsed"
            ]
        );
        let sent = replay.sent();
        assert!(
            sent[1].contains(&format!("AccessKeyId={CANNED_ACCESS_KEY}")),
            "oldest first: {}",
            sent[1]
        );
        assert!(sent[2].contains("AccessKeyId=AKIANEWER"), "{}", sent[2]);
    }

    #[test]
    fn all_users_reads_every_page_then_every_users_keys_oldest_first() {
        let replay = Replay::new([
            users(&["alice", "bob"], Some("m1")),
            users(&["carol"], None),
            keys("alice", &[("AKIAALICE", "2025-01-01T00:00:00Z")], None),
            keys("bob", &[], None),
            keys(
                "carol",
                &[("AKIACAROL", "2023-01-01T00:00:00Z")],
                Some("k1"),
            ),
            keys("carol", &[("AKIACAROL2", "2026-01-01T00:00:00Z")], None),
            never(),
        ]);
        let r = task(json!({"all_users": true, "older_than_days": 0}), &replay);
        assert_eq!(r.exit_code, 0, "{}", r.json);
        let ids: Vec<(&str, &str)> = r.json["access_keys"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| {
                (
                    k["user_name"].as_str().unwrap_or_default(),
                    k["access_key_id"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            ids,
            [
                ("carol", "AKIACAROL"),
                ("alice", "AKIAALICE"),
                ("carol", "AKIACAROL2")
            ]
        );
        let sent = replay.sent();
        assert!(sent[1].contains("Marker=m1"), "{}", sent[1]);
        assert!(sent[2].contains("UserName=alice"), "{}", sent[2]);
        assert!(
            sent[5].contains("UserName=carol") && sent[5].contains("Marker=k1"),
            "{}",
            sent[5]
        );
        assert_eq!(
            replay
                .actions()
                .iter()
                .filter(|a| *a == "GetAccessKeyLastUsed")
                .count(),
            3
        );
    }

    #[test]
    fn older_than_days_keeps_the_old_keys_and_asks_only_about_them() {
        let replay = Replay::new([
            keys(
                "u",
                &[
                    ("AKIAOLD", "2001-01-01T00:00:00Z"),
                    ("AKIAFUTURE", "2999-01-01T00:00:00Z"),
                ],
                None,
            ),
            never(),
        ]);
        let r = task(json!({"user_name": "u", "older_than_days": 90}), &replay);
        assert_eq!(r.exit_code, 0, "{}", r.json);
        assert_eq!(r.json["access_keys"].as_array().map(Vec::len), Some(1));
        assert_eq!(r.json["access_keys"][0]["access_key_id"], "AKIAOLD");
        assert_eq!(replay.actions(), ["ListAccessKeys", "GetAccessKeyLastUsed"]);
    }

    #[test]
    fn an_unanswered_last_use_is_null_with_a_warning() {
        let listed = || {
            keys(
                "u",
                &[
                    ("AKIAONE", "2020-01-01T00:00:00Z"),
                    ("AKIATWO", "2021-01-01T00:00:00Z"),
                    ("AKIATHREE", "2022-01-01T00:00:00Z"),
                ],
                None,
            )
        };
        // Refused for one key: the others are still asked about.
        let replay = Replay::new([
            listed(),
            Answer::error(403, "AccessDenied", "not this one"),
            never(),
            never(),
        ]);
        let r = task(json!({"user_name": "u"}), &replay);
        assert_eq!(r.exit_code, 0, "{}", r.json);
        let used: Vec<&Value> = (0..3)
            .map(|i| &r.json["access_keys"][i]["last_used"])
            .collect();
        assert_eq!(used[0], &Value::Null);
        assert_eq!(used[1]["service_name"], "N/A");
        assert_eq!(
            r.json["warnings"],
            json!([
                "IAM refused GetAccessKeyLastUsed (AccessDenied) for 1 key(s): AKIAONE. \
                    Their last_used is null; allow iam:GetAccessKeyLastUsed to see when they \
                    were last used."
            ])
        );
        assert_eq!(replay.actions().len(), 4);

        // Any other failure: no more calls after it.
        let replay = Replay::new([listed(), never(), Answer::error(400, "InvalidAction", "no")]);
        let r = task(json!({"user_name": "u"}), &replay);
        assert_eq!(r.exit_code, 0, "{}", r.json);
        assert_eq!(r.json["access_keys"][0]["last_used"]["region"], "N/A");
        assert_eq!(r.json["access_keys"][1]["last_used"], Value::Null);
        assert_eq!(r.json["access_keys"][2]["last_used"], Value::Null);
        assert_eq!(
            r.json["warnings"],
            json!([
                "GetAccessKeyLastUsed failed, so last_used is null for 2 key(s): AKIATWO, \
                    AKIATHREE (the keys after the first were not asked about). Failed to get \
                    when access key AKIATWO was last used: An error occurred (InvalidAction) \
                    when calling the GetAccessKeyLastUsed operation: no"
            ])
        );
        assert_eq!(
            replay.actions(),
            [
                "ListAccessKeys",
                "GetAccessKeyLastUsed",
                "GetAccessKeyLastUsed"
            ]
        );
    }

    #[test]
    fn a_users_refused_listing_names_the_user() {
        let replay = Replay::new([
            users(&["alice"], None),
            Answer::error(403, "AccessDenied", "not alice"),
        ]);
        let r = task(json!({"all_users": true}), &replay);
        assert_eq!(r.exit_code, 1);
        assert_eq!(
            r.json["msg"],
            "Failed to get access keys for user alice: An error occurred (AccessDenied) when \
             calling the ListAccessKeys operation: not alice"
        );
    }

    #[test]
    fn bad_values_fail_before_any_call() {
        for (args, msg) in [
            (
                json!({}),
                "missing required arguments: user_name (or all_users: true",
            ),
            (
                json!({"all_users": false}),
                "missing required arguments: user_name",
            ),
            (
                json!({"user_name": "u", "all_users": true}),
                "parameters are mutually exclusive: user_name|all_users",
            ),
            (json!({"user_name": ""}), "user_name"),
            (
                json!({"all_users": true, "older_than_days": -1}),
                "older_than_days must be 0 or more, got -1",
            ),
            (
                json!({"user_name": "u", "older_than_days": "many"}),
                "argument 'older_than_days' is of type",
            ),
        ] {
            let replay = Replay::new([never()]);
            let r = task(args.clone(), &replay);
            let got = r.json["msg"].as_str().unwrap_or_default();
            assert!(got.starts_with(msg), "{args}: {got}");
            assert!(replay.sent().is_empty(), "{args}");
        }
    }
}
