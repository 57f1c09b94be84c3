//! The roles a task asks for: the `roles` entries and the `profiles` of the AWS config file, the
//! top-level options filled in as defaults, every value checked (naming the entry) before the
//! first call.

use ansible_module::coerce::to_str;
use ansible_module::Failure;
use aws_connect::limits;
use aws_connect::sts::{AssumeRoleRequest, RoleSession};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The per-role options: what an entry of `roles` may hold, and (but `name` and `role_arn`) the
/// top-level options that are every entry's defaults.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoleOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Entries only: the profile of the credentials file this role's credentials are kept in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_profile: Option<String>,
    pub role_session_name: Option<String>,
    /// An int, or its text (Jinja gives text).
    pub duration_seconds: Option<Value>,
    pub external_id: Option<String>,
    pub policy: Option<Value>,
    pub policy_arns: Option<Vec<String>>,
    pub tags: Option<Map<String, Value>>,
    pub transitive_tag_keys: Option<Vec<String>>,
    pub source_identity: Option<String>,
}

impl RoleOptions {
    /// This entry's values, the defaults' where it has none.
    fn or(self, defaults: &RoleOptions) -> RoleOptions {
        let d = defaults.clone();
        RoleOptions {
            name: self.name,
            role_arn: self.role_arn,
            output_profile: self.output_profile,
            role_session_name: self.role_session_name.or(d.role_session_name),
            duration_seconds: self.duration_seconds.or(d.duration_seconds),
            external_id: self.external_id.or(d.external_id),
            policy: self.policy.or(d.policy),
            policy_arns: self.policy_arns.or(d.policy_arns),
            tags: self.tags.or(d.tags),
            transitive_tag_keys: self.transitive_tag_keys.or(d.transitive_tag_keys),
            source_identity: self.source_identity.or(d.source_identity),
        }
    }
}

/// One role to assume, checked.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key of its result.
    pub name: String,
    pub session: RoleSession,
    pub external_id: Option<String>,
    pub tags: Vec<(String, String)>,
    pub transitive_tag_keys: Option<Vec<String>>,
    pub source_identity: Option<String>,
    /// The profile its credentials are written to and reused from.
    pub output_profile: Option<String>,
}

impl Entry {
    /// Its AssumeRole request (no MFA: an MFA session signs instead).
    pub fn request(&self) -> AssumeRoleRequest<'_> {
        AssumeRoleRequest {
            session: Some(&self.session),
            external_id: self.external_id.clone(),
            tags: self.tags.clone(),
            transitive_tag_keys: self.transitive_tag_keys.clone(),
            source_identity: self.source_identity.clone(),
            ..AssumeRoleRequest::default()
        }
    }
}

/// The entries of `roles` (each a dict) then of `profiles`, with the defaults filled in and
/// every value checked. `config_file` is where profiles are read.
pub fn entries(
    roles: &[Value],
    profiles: &[String],
    defaults: &RoleOptions,
    config_file: impl Fn() -> PathBuf,
) -> Result<Vec<Entry>, Failure> {
    let mut out = Vec::with_capacity(roles.len() + profiles.len());
    for (i, value) in roles.iter().enumerate() {
        let at = format!("roles[{i}]");
        let options: RoleOptions = serde_json::from_value(value.clone())
            .map_err(|e| Failure::new(format!("{at}: {e}")))?;
        let name = options
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                Failure::new(format!("{at}: name is required (the key of its result)"))
            })?;
        out.push(entry(
            &format!("{at} ({name})"),
            name,
            options.or(defaults),
        )?);
    }
    if !profiles.is_empty() {
        let path = config_file();
        for (i, name) in profiles.iter().enumerate() {
            let at = format!("profiles[{i}] ({name})");
            let options = from_profile(&at, name, &path)?;
            out.push(entry(&at, name.clone(), options.or(defaults))?);
        }
    }
    let mut seen = BTreeSet::new();
    if let Some(twice) = out.iter().find(|e| !seen.insert(e.name.as_str())) {
        return Err(Failure::new(format!(
            "Two entries are named {}: names are the keys of the result and must differ",
            twice.name
        )));
    }
    Ok(out)
}

/// A profile of the AWS config file as an entry: its role_arn, external_id, duration_seconds
/// and role_session_name.
fn from_profile(at: &str, name: &str, path: &std::path::Path) -> Result<RoleOptions, Failure> {
    let section = if name == "default" {
        name.to_owned()
    } else {
        format!("profile {name}")
    };
    let stored = credentials_file::read_profile(path, &section)
        .map_err(|e| Failure::new(format!("{at}: {e}")))?
        .ok_or_else(|| Failure::new(format!("{at}: no such profile in {}", path.display())))?;
    let role_arn = stored.get("role_arn").map(str::to_owned).ok_or_else(|| {
        Failure::new(format!(
            "{at}: the profile in {} has no role_arn",
            path.display()
        ))
    })?;
    Ok(RoleOptions {
        role_arn: Some(role_arn),
        role_session_name: stored.get("role_session_name").map(str::to_owned),
        duration_seconds: stored
            .get("duration_seconds")
            .map(|d| Value::String(d.to_owned())),
        external_id: stored.get("external_id").map(str::to_owned),
        ..RoleOptions::default()
    })
}

/// One entry's values checked against AWS's limits, each named `<entry>.<option>`.
fn entry(at: &str, name: String, o: RoleOptions) -> Result<Entry, Failure> {
    let opt = |option: &str| format!("{at}.{option}");
    let role_arn = o
        .role_arn
        .ok_or_else(|| Failure::new(format!("{at}: role_arn is required")))?;
    let role_session_name = o.role_session_name.ok_or_else(|| {
        Failure::new(format!(
            "{at}: role_session_name is required (in the entry, the profile, or at the top level)"
        ))
    })?;
    let duration_seconds = match &o.duration_seconds {
        None | Some(Value::Null) => None,
        Some(v) => Some(int(&opt("duration_seconds"), v)?),
    };
    limits::role_arn(&opt("role_arn"), &role_arn)?;
    limits::session_name(&opt("role_session_name"), &role_session_name)?;
    if let Some(d) = duration_seconds {
        limits::duration(&opt("duration_seconds"), "DurationSeconds", d, 900, 43_200)?;
    }
    if let Some(policy) = &o.policy {
        limits::policy_document(&opt("policy"), policy)?;
    }
    if let Some(arns) = &o.policy_arns {
        limits::policy_arns(&opt("policy_arns"), arns)?;
    }
    if let Some(id) = &o.external_id {
        limits::external_id(&opt("external_id"), id)?;
    }
    let tags: Vec<(String, String)> = o
        .tags
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), to_str(v)))
        .collect();
    limits::tags(&opt("tags"), &tags)?;
    if let Some(keys) = &o.transitive_tag_keys {
        limits::transitive_tag_keys(&opt("transitive_tag_keys"), keys, &tags)?;
    }
    if let Some(id) = &o.source_identity {
        limits::source_identity(&opt("source_identity"), id)?;
    }
    let output_profile = o.output_profile.filter(|p| !p.is_empty());
    if let Some(profile) = &output_profile {
        credentials_file::check_profile_name(profile)
            .map_err(|e| Failure::new(format!("{}: {e}", opt("output_profile"))))?;
    }
    Ok(Entry {
        name,
        session: RoleSession {
            role_arn,
            role_session_name,
            policy: o.policy,
            policy_arns: o.policy_arns,
            duration_seconds,
        },
        external_id: o.external_id,
        tags,
        transitive_tag_keys: o.transitive_tag_keys,
        source_identity: o.source_identity,
        output_profile,
    })
}

/// An int, or text holding one.
fn int(option: &str, value: &Value) -> Result<i64, Failure> {
    let n = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.ok_or_else(|| {
        Failure::new(format!(
            "{option}: {} cannot be converted to an int",
            to_str(value)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:iam::123456789012:role/r";

    fn of(roles: Value, defaults: Value) -> Result<Vec<Entry>, String> {
        let roles = roles.as_array().cloned().unwrap_or_default();
        let defaults: RoleOptions = serde_json::from_value(defaults).expect("defaults");
        entries(&roles, &[], &defaults, || PathBuf::from("/nonexistent")).map_err(|f| f.msg)
    }

    #[test]
    fn defaults_fill_in_and_entries_win() {
        let e = of(
            json!([{"name": "a", "role_arn": ARN}, {"name": "b", "role_arn": ARN, "duration_seconds": "1800"}]),
            json!({"role_session_name": "sess", "duration_seconds": 3600}),
        )
        .unwrap();
        assert_eq!(e[0].session.duration_seconds, Some(3600));
        assert_eq!(e[1].session.duration_seconds, Some(1800));
        assert_eq!(e[1].session.role_session_name, "sess");
    }

    #[test]
    fn a_bad_value_names_its_entry() {
        let mut roles: Vec<Value> = (0..100)
            .map(|i| json!({"name": format!("r{i}"), "role_arn": ARN}))
            .collect();
        roles[57]["duration_seconds"] = json!(100);
        let e = of(Value::Array(roles), json!({"role_session_name": "sess"})).unwrap_err();
        assert!(
            e.starts_with("roles[57] (r57).duration_seconds must be between 900 and 43200"),
            "{e}"
        );
    }

    #[test]
    fn names_are_required_unique_and_keys_known() {
        let e = of(
            json!([{"role_arn": ARN}]),
            json!({"role_session_name": "sess"}),
        )
        .unwrap_err();
        assert!(e.starts_with("roles[0]: name is required"), "{e}");
        let e = of(
            json!([{"name": "a", "role_arn": ARN}, {"name": "a", "role_arn": ARN}]),
            json!({"role_session_name": "sess"}),
        )
        .unwrap_err();
        assert!(e.starts_with("Two entries are named a"), "{e}");
        let e = of(
            json!([{"name": "a", "role_arn": ARN, "rol_session_name": "x"}]),
            json!({}),
        )
        .unwrap_err();
        assert!(
            e.starts_with("roles[0]: unknown field `rol_session_name`"),
            "{e}"
        );
        let e = of(json!([{"name": "a", "role_arn": ARN}]), json!({})).unwrap_err();
        assert!(
            e.starts_with("roles[0] (a): role_session_name is required"),
            "{e}"
        );
    }

    #[test]
    fn profiles_become_entries() {
        let dir = std::env::temp_dir().join(format!("sts-assume-roles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let config = dir.join("config");
        std::fs::write(
            &config,
            format!("[profile dev]\nrole_arn = {ARN}\nexternal_id = ext-1\nduration_seconds = 1800\n[profile plain]\nregion = eu-west-1\n"),
        )
        .expect("a config file");
        let defaults = RoleOptions {
            role_session_name: Some("sess".into()),
            ..RoleOptions::default()
        };
        let e = entries(&[], &["dev".into()], &defaults, || config.clone()).unwrap();
        assert_eq!(e[0].name, "dev");
        assert_eq!(e[0].external_id.as_deref(), Some("ext-1"));
        assert_eq!(e[0].session.duration_seconds, Some(1800));
        let e = entries(&[], &["plain".into()], &defaults, || config.clone()).unwrap_err();
        assert!(e.msg.contains("has no role_arn"), "{}", e.msg);
        let e = entries(&[], &["gone".into()], &defaults, || config.clone()).unwrap_err();
        assert!(
            e.msg.starts_with("profiles[0] (gone): no such profile"),
            "{}",
            e.msg
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
