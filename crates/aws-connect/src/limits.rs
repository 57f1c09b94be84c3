//! AWS's limits on request values, checked before any call so that a bad value gets a message
//! naming the option on every STS implementation (moto checks none of them).

use ansible_module::Failure;
use serde_json::Value;

/// A number of seconds within AWS's range for the call.
pub fn duration(
    option: &str,
    aws_name: &str,
    value: i64,
    min: i64,
    max: i64,
) -> Result<(), Failure> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{option} must be between {min} and {max} seconds, got {value} \
         (Invalid value for parameter {aws_name}, value: {value}, valid {}: {})",
        if value < min {
            "min value"
        } else {
            "max value"
        },
        if value < min { min } else { max },
    )))
}

/// An MFA device: its ARN or a hardware serial number, 9 to 256 characters of `[\w+=/:,.@-]`.
pub fn mfa_serial(option: &str, value: &str) -> Result<(), Failure> {
    length(option, "SerialNumber", value, 9, 256)?;
    pattern(option, value, "+=/:,.@-")
}

/// An MFA device and its code go together: a serial number alone would be sent without a code
/// (AWS refuses it; moto would not), and a code alone names no device.
pub fn mfa_pair(serial: Option<&str>, code: Option<&str>) -> Result<(), Failure> {
    match (serial, code) {
        (Some(_), None) => Err(Failure::new(
            "mfa_serial_number is set but mfa_token is not: an MFA device is used with the \
             six-digit code it shows now. Give both, or neither.",
        )),
        (None, Some(_)) => Err(Failure::new(
            "mfa_token is set but mfa_serial_number is not: the code must come with the serial \
             number or ARN of the MFA device that shows it. Give both, or neither.",
        )),
        _ => Ok(()),
    }
}

/// The MFA options of a module: each in AWS's format, checked first (a malformed value fails in
/// AWS's words whether or not the other one is given, as it does from the Python modules); then
/// both or neither (with `serial_alone`, the serial number may come without a code: credentials
/// kept in a profile need none until they are refreshed).
pub fn mfa(serial: Option<&str>, code: Option<&str>, serial_alone: bool) -> Result<(), Failure> {
    if let Some(serial) = serial {
        mfa_serial("mfa_serial_number", serial)?;
    }
    if let Some(code) = code {
        mfa_token("mfa_token", code)?;
    }
    if !(serial_alone && code.is_none()) {
        mfa_pair(serial, code)?;
    }
    Ok(())
}

/// The code shown by an MFA device: exactly six digits. The value is secret and not repeated.
pub fn mfa_token(option: &str, value: &str) -> Result<(), Failure> {
    if value.len() == 6 && value.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{option} must be the six-digit code shown by the MFA device \
         (Member must satisfy regular expression pattern: [\\d]* and have length 6)"
    )))
}

/// A text value's length in characters within AWS's limits for the request field.
pub fn length(
    option: &str,
    aws_name: &str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), Failure> {
    let n = value.chars().count();
    if (min..=max).contains(&n) {
        return Ok(());
    }
    let (which, limit) = if n < min { ("min", min) } else { ("max", max) };
    Err(Failure::new(format!(
        "{option} must be {min} to {max} characters long, got {n} \
         (Invalid length for parameter {aws_name}, value: {n}, valid {which} length: {limit})"
    )))
}

/// `\w` and the punctuation AWS allows in names such as a role session name.
fn word_or(extra: &'static str) -> impl Fn(char) -> bool {
    move |c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(c)
}

/// Every character allowed by AWS's pattern `[\w<extra>]*`.
fn pattern(option: &str, value: &str, extra: &'static str) -> Result<(), Failure> {
    if value.chars().all(word_or(extra)) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{option} may only contain letters, digits, _ and {extra}, got '{value}' \
         (Member must satisfy regular expression pattern: [\\w{extra}]*)"
    )))
}

/// The ARN of the role to assume: 20 to 2048 characters (botocore's check, in its words), in
/// the shape `arn:<partition>:iam::<account>:role/<path/><name>`.
///
/// - partition: `[a-z-]+` (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso-b`, ...);
/// - account: AWS's are 12 digits, but any `[A-Za-z0-9_]*` is taken: AWS answers a shorter
///   number with AccessDenied, which amazon.aws's integration target asserts (it assumes
///   `arn:aws:iam::123456789:role/non-existing-role`), and Ceph RGW names roles with no account
///   (`arn:aws:iam:::role/<name>`), a tenant or an RGW account ID in that place;
/// - path: IAM's, printable ASCII, at most 512 characters with its leading `/`;
/// - name: 1 to 64 characters of `[\w+=,.@-]`.
pub fn role_arn(option: &str, value: &str) -> Result<(), Failure> {
    length(option, "RoleArn", value, 20, 2048)?;
    match role_arn_defect(value) {
        None => Ok(()),
        Some(defect) => Err(Failure::new(format!(
            "{option} must be a role ARN, arn:<partition>:iam::<account>:role/<name>, \
             got '{value}' ({defect})"
        ))),
    }
}

/// What keeps `value` from having the shape of a role ARN, in a few words; None when it has it.
fn role_arn_defect(value: &str) -> Option<&'static str> {
    let mut parts = value.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Some("not an ARN: arn: and five more parts, separated by colons");
    };
    if partition.is_empty()
        || !partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-')
    {
        return Some("the partition is lowercase letters and -, such as aws or aws-cn");
    }
    if service != "iam" {
        return Some("a role's service is iam");
    }
    if !region.is_empty() {
        return Some("an IAM ARN has no region: iam:: before the account");
    }
    if !account
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Some("the account is 12 digits");
    }
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        return Some("not a role: role/ must follow the account");
    };
    let (path, name) = match path_and_name.rfind('/') {
        Some(i) => path_and_name.split_at(i + 1),
        None => ("", path_and_name),
    };
    if name.is_empty() || name.chars().count() > 64 || !name.chars().all(word_or("+=,.@-")) {
        return Some("the role name is 1 to 64 letters, digits and _+=,.@-");
    }
    // The path as IAM writes it starts with the `/` the ARN leaves out.
    if path.len() + 1 > 512 || !path.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
        return Some("the role path is at most 512 printable ASCII characters without spaces");
    }
    None
}

/// A role session name: 2 to 64 characters of `[\w+=,.@-]`.
pub fn session_name(option: &str, value: &str) -> Result<(), Failure> {
    length(option, "RoleSessionName", value, 2, 64)?;
    pattern(option, value, "+=,.@-")
}

/// An IAM user name: 1 to 128 characters of `[\w+=,.@-]`. An empty one must never reach IAM,
/// which (like moto) may take it for the user signing the request.
pub fn user_name(option: &str, value: &str) -> Result<(), Failure> {
    length(option, "UserName", value, 1, 128)?;
    pattern(option, value, "+=,.@-")
}

/// An external id: 2 to 1224 characters of `[\w+=,.@:/-]`.
pub fn external_id(option: &str, value: &str) -> Result<(), Failure> {
    length(option, "ExternalId", value, 2, 1224)?;
    pattern(option, value, "+=,.@:/-")
}

/// A source identity: 2 to 64 characters of `[\w+=,.@-]` (so never AWS's reserved `aws:`).
pub fn source_identity(option: &str, value: &str) -> Result<(), Failure> {
    length(option, "SourceIdentity", value, 2, 64)?;
    pattern(option, value, "+=,.@-")
}

/// The text of a session policy given as a JSON string, or as a dictionary (serialised here,
/// where the Python module would have sent Python's repr of it).
pub fn policy_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a JSON value is, for a message: `a list`, `a number (5)`, ...
fn json_kind(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(_) => "a string".to_owned(),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// A session policy: a JSON object (a policy document), given as a string of JSON or as a
/// dictionary, of 1 to 2048 characters as sent. Text that is not JSON is refused in AWS's own
/// words, `The policy is not in the valid JSON format.`, which amazon.aws's integration target
/// asserts; every refusal starts as amazon.aws's does, `Invalid policy document provided: `.
pub fn policy_document(option: &str, value: &Value) -> Result<(), Failure> {
    let refuse = |what: String| {
        Err(Failure::new(format!(
            "Invalid policy document provided: {what}"
        )))
    };
    match value {
        Value::Object(_) => {}
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(_)) => {}
            Ok(other) => {
                return refuse(format!(
                    "{option} must be a JSON object, a policy document with Version and \
                     Statement, got a string holding {}",
                    json_kind(&other)
                ))
            }
            Err(e) => {
                return refuse(format!(
                    "{option}: The policy is not in the valid JSON format. ({e})"
                ))
            }
        },
        other => {
            return refuse(format!(
                "{option} must be a JSON policy document, as a string or a dictionary, got {}",
                json_kind(other)
            ))
        }
    }
    length(option, "Policy", &policy_text(value), 1, 2048)
}

/// Managed policy ARNs for the session: at most 10, each 20 to 2048 characters.
pub fn policy_arns(option: &str, arns: &[String]) -> Result<(), Failure> {
    if arns.len() > 10 {
        return Err(Failure::new(format!(
            "{option} may name at most 10 managed policies, got {}",
            arns.len()
        )));
    }
    arns.iter().try_for_each(|arn| {
        length(
            &format!("each of {option}"),
            "PolicyArns[].arn",
            arn,
            20,
            2048,
        )
    })
}

/// Unicode letters, separators and digits, and `_.:/=+-@`: AWS's pattern for tag keys and values.
fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// Session tags: at most 50, keys 1 to 128 characters, values up to 256, unique keys
/// regardless of case.
pub fn tags(option: &str, tags: &[(String, String)]) -> Result<(), Failure> {
    if tags.len() > 50 {
        return Err(Failure::new(format!(
            "{option} may hold at most 50 session tags, got {}",
            tags.len()
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (key, value) in tags {
        length(
            &format!("the {option} key '{key}'"),
            "Tags[].Key",
            key,
            1,
            128,
        )?;
        length(
            &format!("the value of {option} key '{key}'"),
            "Tags[].Value",
            value,
            0,
            256,
        )?;
        if let Some(bad) = key.chars().chain(value.chars()).find(|c| !tag_char(*c)) {
            return Err(Failure::new(format!(
                "{option} key '{key}': tag keys and values may only contain letters, digits, \
                 spaces and _.:/=+-@, found '{bad}'"
            )));
        }
        if !seen.insert(key.to_lowercase()) {
            return Err(Failure::new(format!(
                "{option} has the key '{key}' more than once (tag keys are compared without case)"
            )));
        }
    }
    Ok(())
}

/// Transitive tag keys: at most 50, each one of the session tags' keys.
pub fn transitive_tag_keys(
    option: &str,
    keys: &[String],
    tags: &[(String, String)],
) -> Result<(), Failure> {
    if keys.len() > 50 {
        return Err(Failure::new(format!(
            "{option} may hold at most 50 keys, got {}",
            keys.len()
        )));
    }
    for key in keys {
        if !tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            return Err(Failure::new(format!(
                "{option} names '{key}', which is not a key of tags: only session tags can be transitive"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert!(duration("d", "D", 900, 900, 129_600).is_ok());
        assert!(duration("d", "D", 129_600, 900, 129_600).is_ok());
        assert_eq!(
            duration("duration_seconds", "DurationSeconds", 100, 900, 129_600).unwrap_err().msg,
            "duration_seconds must be between 900 and 129600 seconds, got 100 (Invalid value for parameter DurationSeconds, value: 100, valid min value: 900)"
        );
        assert!(duration("d", "D", 129_601, 900, 129_600)
            .unwrap_err()
            .msg
            .contains("valid max value: 129600"));
    }

    #[test]
    fn user_names() {
        assert!(user_name("user_name", "deploy+ci@example.com").is_ok());
        assert_eq!(
            user_name("user_name", "").unwrap_err().msg,
            "user_name must be 1 to 128 characters long, got 0 \
             (Invalid length for parameter UserName, value: 0, valid min length: 1)"
        );
        assert!(user_name("user_name", &"u".repeat(129)).is_err());
        assert!(user_name("user_name", "two words").is_err());
    }

    #[test]
    fn serials() {
        assert!(mfa_serial("s", "arn:aws:iam::123456789012:mfa/user").is_ok());
        assert!(mfa_serial("s", "GAHT12345678").is_ok());
        assert!(mfa_serial("s", "short").is_err());
        assert!(mfa_serial("s", "invalid serial number").is_err());
        assert!(mfa_serial("s", &"a".repeat(257)).is_err());
        assert!(mfa_serial("mfa_serial_number", "x")
            .unwrap_err()
            .msg
            .starts_with("mfa_serial_number must be"));
    }

    #[test]
    fn names_and_ids() {
        assert!(session_name("s", "ok-name@x.y").is_ok());
        assert!(session_name("s", "a")
            .unwrap_err()
            .msg
            .contains("valid min length: 2"));
        assert!(session_name("s", "has space")
            .unwrap_err()
            .msg
            .contains("Member must satisfy regular expression pattern: [\\w+=,.@-]*"));
        assert!(external_id("e", "urn:x/y:z").is_ok());
        assert!(external_id("e", "invalid external id").is_err());
        assert!(source_identity("s", "alice").is_ok());
        assert!(source_identity("s", "aws:alice").is_err());
    }

    #[test]
    fn policies() {
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": []});
        assert!(policy_document("policy", &doc).is_ok());
        assert_eq!(
            policy_text(&doc),
            r#"{"Version":"2012-10-17","Statement":[]}"#
        );
        assert!(policy_document("policy", &Value::from(" {\"a\": 1} ")).is_ok());
        // Not JSON: amazon.aws's prefix, the option, then AWS's own words and the detail.
        assert_eq!(
            policy_document("policy", &Value::from("invalid policy"))
                .unwrap_err()
                .msg,
            "Invalid policy document provided: policy: The policy is not in the valid JSON \
             format. (expected value at line 1 column 1)"
        );
        assert!(
            policy_document("roles[57].policy", &Value::from("{\"Version\": "))
                .unwrap_err()
                .msg
                .starts_with(
                    "Invalid policy document provided: roles[57].policy: The policy is not in the \
                 valid JSON format. (EOF while parsing"
                )
        );
        // JSON, but not an object: as text, or as a value that is neither text nor a dictionary.
        for (text, kind) in [
            ("[]", "a list"),
            ("[{\"Version\": \"2012-10-17\"}]", "a list"),
            ("5", "a number (5)"),
            ("\"a policy\"", "a string"),
            ("null", "null"),
            ("true", "a boolean (true)"),
        ] {
            assert_eq!(
                policy_document("policy", &Value::from(text))
                    .unwrap_err()
                    .msg,
                format!(
                    "Invalid policy document provided: policy must be a JSON object, a policy \
                     document with Version and Statement, got a string holding {kind}"
                ),
                "{text}"
            );
        }
        for (value, kind) in [
            (serde_json::json!([doc]), "a list"),
            (Value::from(3), "a number (3)"),
            (Value::from(false), "a boolean (false)"),
        ] {
            assert_eq!(
                policy_document("policy", &value).unwrap_err().msg,
                format!(
                    "Invalid policy document provided: policy must be a JSON policy document, \
                     as a string or a dictionary, got {kind}"
                ),
            );
        }
        assert!(policy_document("policy", &Value::from("")).is_err());
        let long = format!("{{\"Sid\": \"{}\"}}", "a".repeat(2100));
        assert!(policy_document("policy", &Value::from(long))
            .unwrap_err()
            .msg
            .contains("Invalid length for parameter Policy"));
        let arns: Vec<String> = (0..11)
            .map(|i| format!("arn:aws:iam::aws:policy/P{i}"))
            .collect();
        assert!(policy_arns("policy_arns", &arns[..10]).is_ok());
        assert!(policy_arns("policy_arns", &arns).is_err());
        assert!(policy_arns("policy_arns", &["short".to_owned()]).is_err());
    }

    #[test]
    fn role_arns() {
        for good in [
            "arn:aws:iam::123456789012:role/r",
            "arn:aws:iam::123456789012:role/service-role/division_abc/Deploy+ci=1,a.b@c-d",
            "arn:aws-cn:iam::123456789012:role/r",
            "arn:aws-us-gov:iam::123456789012:role/r",
            "arn:aws-iso-b:iam::123456789012:role/r",
            // Ceph RGW: no account, a path, a tenant, an RGW account ID.
            "arn:aws:iam:::role/S3Access",
            "arn:aws:iam:::role/application_abc/component_xyz/S3Access1",
            "arn:aws:iam::testx:role/S3Access",
            "arn:aws:iam::RGW33567154695143645:role/S3Access",
            // amazon.aws's integration target: AWS answers AccessDenied, which it asserts.
            "arn:aws:iam::123456789:role/non-existing-role",
        ] {
            assert_eq!(role_arn("role_arn", good).map_err(|e| e.msg), Ok(()));
        }
        let name64 = format!("arn:aws:iam::123456789012:role/{}", "n".repeat(64));
        assert!(role_arn("role_arn", &name64).is_ok());
        let path = format!("arn:aws:iam::123456789012:role/{}/r", "p".repeat(509));
        assert!(
            role_arn("role_arn", &path).is_ok(),
            "a path of 511 with its /s"
        );

        let shape = "must be a role ARN, arn:<partition>:iam::<account>:role/<name>, got";
        for (bad, defect) in [
            ("deploy-role-for-production", "not an ARN"),
            ("arn:aws:iam::123456789012/role/r", "not an ARN"),
            ("arn:AWS:iam::123456789012:role/r", "the partition"),
            ("arn::iam::123456789012:role/deploy", "the partition"),
            ("arn:aws:sts::123456789012:role/r", "service is iam"),
            (
                "arn:aws:sts::123456789012:assumed-role/deploy/s1",
                "service is iam",
            ),
            ("arn:aws:iam:us-east-1:123456789012:role/r", "no region"),
            ("arn:aws:iam::1234-5678-9012:role/r", "12 digits"),
            ("arn:aws:iam::123456789012:user/deploy", "not a role"),
            ("arn:aws:iam::123456789012:deploy", "not a role"),
            ("arn:aws:iam::123456789012:role/", "the role name"),
            ("arn:aws:iam::123456789012:role/path/", "the role name"),
            ("arn:aws:iam::123456789012:role/has space", "the role name"),
            ("arn:aws:iam::123456789012:role/deploy\n", "the role name"),
            ("arn:aws:iam::123456789012:role/rôle", "the role name"),
            ("arn:aws:iam::123456789012:role/a b/r", "the role path"),
        ] {
            let msg = role_arn("role_arn", bad).unwrap_err().msg;
            assert!(
                msg.starts_with(&format!("role_arn {shape} '{bad}' (")),
                "{bad}: {msg}"
            );
            assert!(msg.contains(defect), "{bad}: {msg}");
        }
        assert_eq!(
            role_arn("roles[57].role_arn", "arn:aws:iam::123456789012:user/xyz")
                .unwrap_err()
                .msg,
            "roles[57].role_arn must be a role ARN, arn:<partition>:iam::<account>:role/<name>, \
             got 'arn:aws:iam::123456789012:user/xyz' (not a role: role/ must follow the account)"
        );
        let long_name = format!("arn:aws:iam::123456789012:role/{}", "n".repeat(65));
        assert!(role_arn("role_arn", &long_name)
            .unwrap_err()
            .msg
            .contains("the role name is 1 to 64"));
        let long_path = format!("arn:aws:iam::123456789012:role/{}/r", "p".repeat(511));
        assert!(role_arn("role_arn", &long_path)
            .unwrap_err()
            .msg
            .contains("the role path is at most 512"));
        // The length comes first, in botocore's words.
        assert_eq!(
            role_arn("role_arn", "invalid role arn").unwrap_err().msg,
            "role_arn must be 20 to 2048 characters long, got 16 (Invalid length for parameter \
             RoleArn, value: 16, valid min length: 20)"
        );
        let too_long = format!("arn:aws:iam::123456789012:role/a/{}", "p/".repeat(1010));
        assert!(role_arn("role_arn", &too_long)
            .unwrap_err()
            .msg
            .contains("valid max length: 2048"));
    }

    #[test]
    fn session_tags() {
        let t = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let ok = [t("Project", "blue sky"), t("cost-center", "12:34/5@x")];
        assert!(tags("tags", &ok).is_ok());
        assert!(tags("tags", &[t("", "v")]).is_err());
        assert!(tags("tags", &[t("k", &"v".repeat(257))]).is_err());
        assert!(tags("tags", &[t("k", "semi;colon")])
            .unwrap_err()
            .msg
            .contains("found ';'"));
        assert!(tags("tags", &[t("Key", "a"), t("key", "b")]).is_err());
        assert!(transitive_tag_keys("transitive_tag_keys", &["project".to_owned()], &ok).is_ok());
        assert!(transitive_tag_keys("transitive_tag_keys", &["other".to_owned()], &ok).is_err());
    }

    #[test]
    fn tokens() {
        assert!(mfa_token("t", "123456").is_ok());
        for bad in [
            "12345",
            "1234567",
            "12345a",
            "",
            "invalid token code",
            "١٢٣٤٥٦",
        ] {
            let e = mfa_token("mfa_token", bad).unwrap_err().msg;
            assert!(
                e.starts_with("mfa_token must be the six-digit code"),
                "{bad}: {e}"
            );
            assert!(
                bad.is_empty() || !e.contains(bad),
                "the secret must not be echoed"
            );
        }
    }

    #[test]
    fn mfa_values_before_the_pair_rule() {
        let serial = "arn:aws:iam::123456789012:mfa/u";
        let msg = |s, c, alone| mfa(s, c, alone).unwrap_err().msg;
        // amazon.aws's sts_assume_role target gives each malformed value alone.
        assert_eq!(
            msg(Some("invalid serial number"), None, false),
            "mfa_serial_number may only contain letters, digits, _ and +=/:,.@-, got 'invalid \
             serial number' (Member must satisfy regular expression pattern: [\\w+=/:,.@-]*)"
        );
        assert_eq!(
            msg(None, Some("invalid token code"), false),
            "mfa_token must be the six-digit code shown by the MFA device (Member must satisfy \
             regular expression pattern: [\\d]* and have length 6)"
        );
        // Well-formed values alone: the pair rule.
        assert!(msg(Some(serial), None, false).starts_with("mfa_serial_number is set but"));
        assert!(msg(None, Some("123456"), false).starts_with("mfa_token is set but"));
        assert!(msg(None, Some("123456"), true).starts_with("mfa_token is set but"));
        assert!(mfa(Some(serial), None, true).is_ok());
        assert!(mfa(Some(serial), Some("123456"), false).is_ok());
    }
}
