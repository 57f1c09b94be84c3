//! The fuzz harness, shared by the cargo-fuzz targets (fuzz/fuzz_targets/*.rs, nightly or
//! RUSTC_BOOTSTRAP) and by the corpus replay that `cargo test` runs on stable
//! (crates/sts-session-token/tests/fuzz_corpus.rs includes this file with `#[path]`).
//!
//! One input is one whole module run, offline: the args file (or the options and environment
//! decoded from the input bytes) goes through `ansible_module::execute` with the real
//! sts_session_token spec, value checks and body (`sts_session_token::run`), whose connection
//! gets a canned HTTP client instead of the network (`aws_connect::testing::Replay`, with
//! sleeps that return at once, so retries cost nothing). Nothing here opens a socket.
//!
//! After each run [`check_report`] asserts the module's contract for every input:
//! - the result is one JSON object, serialisable on one line;
//! - `failed: true` with a non-empty `msg` and exit status 1, or `changed` and exit status 0;
//! - no "Internal error" (the options struct and the spec disagree);
//! - no no_log value (as `ansible_module::validate` collects them) appears in any value of the
//!   result outside `sts_creds` (issued credentials are returned whole by design);
//! - and no panic anywhere (libFuzzer and the replay both catch one).

#![allow(dead_code)]

use ansible_module::coerce::{expand_path, to_str};
use ansible_module::spec::Type;
use ansible_module::{execute, validate, Context, Failure, Outcome, Report, PLACEHOLDER};
use aws_connect::testing::{Answer, Replay};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

// ------------------------------------------------------------------------------------------
// The module under test: sts_session_token's own spec, options, value checks and body.

use sts_session_token::{spec, Options};

// ------------------------------------------------------------------------------------------
// The canned STS: what the connector answers, chosen by the input.

const CREDS_XML: &str = r#"<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetSessionTokenResult><Credentials>
    <SessionToken>FwoGZXIvYXdzEFuzzCannedSessionToken0000</SessionToken>
    <SecretAccessKey>fuzzCannedSecret/Key+000000000000000000</SecretAccessKey>
    <Expiration>2031-02-03T04:05:06.789Z</Expiration>
    <AccessKeyId>ASIAFUZZCANNED000001</AccessKeyId>
  </Credentials></GetSessionTokenResult>
  <ResponseMetadata><RequestId>fuzz-0001</RequestId></ResponseMetadata>
</GetSessionTokenResponse>"#;

const NO_CREDS_XML: &str = r#"<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetSessionTokenResult></GetSessionTokenResult>
</GetSessionTokenResponse>"#;

fn error_xml(kind: &str, code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>\
         </Error><RequestId>fuzz-err</RequestId></ErrorResponse>"
    )
}

const STATUSES: &[u16] = &[200, 301, 400, 403, 404, 429, 500, 502, 503, 504];

/// The answer every request of the run gets (retries included).
pub type Reply = Answer;

fn reply(selector: u8, raw_status: u8, raw_body: Vec<u8>) -> Reply {
    match selector % 11 {
        0 => Answer::Http(200, CREDS_XML.into()),
        1 => Answer::Http(200, Vec::new()),
        2 => Answer::Http(200, b"<not xml".to_vec()),
        3 => Answer::Http(
            403,
            error_xml("Sender", "AccessDenied", "not authorized").into(),
        ),
        4 => Answer::Http(
            400,
            error_xml("Sender", "Throttling", "Rate exceeded").into(),
        ),
        5 => Answer::Http(500, error_xml("Receiver", "InternalError", "oops").into()),
        6 => Answer::Http(503, Vec::new()),
        7 => Answer::Http(200, NO_CREDS_XML.into()),
        8 => Answer::Http(STATUSES[raw_status as usize % STATUSES.len()], raw_body),
        9 => Answer::Io,
        _ => Answer::Timeout,
    }
}

/// The module's own body against the canned answer; on success the result also echoes what
/// the module saw, so that masking of every option is exercised too.
async fn body(ctx: &mut Context, o: Options, answer: Reply) -> Result<Outcome, Failure> {
    let echo = json!({
        "secret_key": o.aws.secret_key,
        "session_token": o.aws.session_token,
        "mfa_token": o.mfa_token,
        "mfa_serial_number": o.mfa_serial_number,
        "region": o.aws.region,
    });
    let io = Replay::new([answer]).io();
    let outcome = sts_session_token::run(ctx, o, &io).await?;
    Ok(outcome.with("echo", echo))
}

// ------------------------------------------------------------------------------------------
// The process environment the SDK reads, and files the inputs can point at.

struct Fixture {
    dir: PathBuf,
    /// The paths an input can give as aws_ca_bundle (options target) by index.
    paths: Vec<String>,
}

/// Removes the files [`fixture`] made, for a caller that runs the harness in a process that
/// lives on (the corpus replay under `cargo test`); the fuzzer's own processes never call it.
#[allow(dead_code)] // not by the fuzz targets
pub fn remove_fixture() {
    let _ = std::fs::remove_dir_all(&fixture().dir);
}

const FUZZ_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBNjCB3qADAgECAgEBMAoGCCqGSM49BAMCMBoxGDAWBgNVBAMMD3J1c3Rhd3Mg
ZnV6eiBDQTAgFw0yNjAxMDEwMDAwMDBaGA8yMTI1MTIwODAwMDAwMFowGjEYMBYG
A1UEAwwPcnVzdGF3cyBmdXp6IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
iQ+nZof/CtBhw2BSDc5CMeakE5p7Un/cXHaj8Kzr/zFeZno7gaTJjkBUE9U+rLla
zRBRNw2LThRKC/TyIdOej6MTMBEwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQD
AgNHADBEAiAF/PdI0XsWxmwBE7ZczaVfNnKmcMfbCFkSdTu84JL5TgIgTxu58iHP
iB1myxrQfKhvAKyc4MJHJQaSxOaF0gB8TE8=
-----END CERTIFICATE-----
";

/// Static keys only: a profile that assumes a role, uses SSO or runs a credential_process
/// would reach the network or run a command.
const AWS_CONFIG: &str = "[profile p1]
aws_access_key_id = AKIDFUZZPROFILE00001
aws_secret_access_key = fuzzProfileSecretKey0000000000000000000
[profile p2]
region = eu-west-3
aws_access_key_id = AKIDFUZZPROFILE00002
aws_secret_access_key = fuzzProfileSecretKey0000000000000000002
[profile nokeys]
region = us-west-2
";

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // The SDK reads the process environment (region, profile, endpoint, config files);
        // nothing of the caller's may reach it, and the metadata service stays off.
        let names: Vec<_> = std::env::vars_os().map(|(k, _)| k).collect();
        for name in names {
            let text = name.to_string_lossy().to_string();
            let upper = text.to_ascii_uppercase();
            if upper.starts_with("AWS_")
                || upper.starts_with("EC2_")
                || upper.starts_with("SSL_CERT_")
                || upper.ends_with("_PROXY")
            {
                std::env::remove_var(&name);
            }
        }
        let dir = std::env::temp_dir().join(format!("rustaws-creds-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a-directory")).expect("a temporary directory");
        let files: &[(&str, &str)] = &[
            ("ca.pem", FUZZ_CA),
            ("empty.pem", ""),
            ("text.pem", "this is not a certificate bundle\n"),
            (
                "broken.pem",
                "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
            ),
            (
                "not-der.pem",
                "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
            ),
            ("config", AWS_CONFIG),
        ];
        for (name, content) in files {
            std::fs::write(dir.join(name), content).expect("a fixture file");
        }
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_CONFIG_FILE", dir.join("config"));
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"));
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let paths = vec![
            path("ca.pem"),
            path("empty.pem"),
            path("text.pem"),
            path("broken.pem"),
            path("not-der.pem"),
            path("a-directory"),
            path("missing.pem"),
            "relative/ca.pem".to_owned(),
            "~/no-such-ca.pem".to_owned(),
        ];
        Fixture { dir, paths }
    })
}

/// A path the module would read as a CA bundle, if reading it could hang or exhaust memory
/// (a FIFO, a device, /proc): the fuzzer is kept away from those (see fuzz/README.md).
fn unsafe_to_read(args: &Map<String, Value>, env: &[(String, String)]) -> bool {
    let given = args
        .get("aws_ca_bundle")
        .filter(|v| !v.is_null())
        .map(to_str)
        .or_else(|| {
            env.iter()
                .find(|(k, _)| k == "AWS_CA_BUNDLE")
                .map(|(_, v)| v.clone())
        });
    let Some(path) = given else {
        return false;
    };
    let path = expand_path(&path);
    if ["/dev", "/proc", "/sys", "/run"]
        .iter()
        .any(|p| path.starts_with(p))
    {
        return true;
    }
    match std::fs::metadata(&path) {
        Ok(m) => !(m.is_dir() || m.is_file() && m.len() < (1 << 20)),
        Err(_) => false,
    }
}

// ------------------------------------------------------------------------------------------
// Known bugs: inputs that break the contract for a reason already reported. The replay test
// keeps their reproducers in fuzz/known_bugs/ (and fails once they stop failing); while
// fuzzing, RUSTAWS_FUZZ_SKIP_KNOWN=1 skips them so that the fuzzer looks for new ones.

/// No known bug now. (Bug 1, an access key with a control character panicking in the SDK's
/// SigV4 signer, was fixed in aws-connect: such keys fail validation with a clear message;
/// its reproducers moved to corpus/.)
fn known_bug(_args: &Map<String, Value>, _env: &[(String, String)]) -> Option<&'static str> {
    None
}

// ------------------------------------------------------------------------------------------
// Running one input.

/// One run of the module: `args` (already parsed, or the args-file error), an environment,
/// and the canned answer. Checks the result and returns it.
pub fn run_checked(
    args: Result<Map<String, Value>, String>,
    env: &[(String, String)],
    answer: Reply,
) -> Option<Report> {
    let fixture = fixture();
    let mut args = args;
    if let Ok(map) = &mut args {
        // output_profile writes a file: only ever the fixture's, whatever the input names.
        if map.contains_key("credentials_file") || map.contains_key("output_profile") {
            let file = fixture.dir.join("written-credentials");
            map.insert("credentials_file".to_owned(), json!(file));
        }
    }
    if let Ok(map) = &args {
        if unsafe_to_read(map, env) {
            return None;
        }
        if std::env::var_os("RUSTAWS_FUZZ_SKIP_KNOWN").is_some() && known_bug(map, env).is_some() {
            return None;
        }
    }
    let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let spec = spec();
    // The no_log values, collected exactly as execute() collects them.
    let secrets = match &args {
        Ok(map) => {
            let mut options = map.clone();
            options.retain(|k, _| !k.starts_with("_ansible_"));
            let ignore = map
                .get("_ansible_ignore_unknown_opts")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            validate(&spec, options, &lookup, "sts_session_token", ignore).no_log_values
        }
        Err(_) => Vec::new(),
    };
    let report = execute(&spec, args, &lookup, |ctx, o: Options| {
        aws_connect::block_on(body(ctx, o, answer))
    });
    check_report(&report, &secrets);
    Some(report)
}

/// The args-file target: the bytes are the file ansible-core would write.
pub fn run_args_file(data: &[u8]) -> Option<Report> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let fixture = fixture();
    let path = fixture.dir.join(format!(
        "args-{}",
        COUNTER.fetch_add(1, Ordering::Relaxed) % 4
    ));
    std::fs::write(&path, data).expect("the args file is written");
    let args = ansible_module::read_args_file(Some(path.into_os_string()));
    run_checked(args, &[], reply(0, 0, Vec::new()))
}

/// The options target: options, `_ansible_*` keys, environment and STS answer decoded from
/// the bytes (every byte string decodes to some input).
pub fn run_options(data: &[u8]) -> Option<Report> {
    let fixture = fixture();
    let (args, env, answer) = decode(data, &fixture.paths);
    run_checked(Ok(args), &env, answer)
}

// ------------------------------------------------------------------------------------------
// The checks.

fn is_checkable_secret(s: &str) -> bool {
    // Shorter values and values inside the masks themselves would be found by chance.
    s.chars().count() >= 3 && !s.contains('*') && !PLACEHOLDER.contains(s)
}

fn find_secret(value: &Value, secrets: &[&String], path: &str) -> Option<String> {
    match value {
        Value::String(s) => {
            let visible = s.replace(PLACEHOLDER, "\u{0}");
            secrets
                .iter()
                .find(|secret| visible.contains(secret.as_str()))
                .map(|secret| format!("{path} = {s:?} holds the no_log value {secret:?}"))
        }
        Value::Number(n) => {
            let text = n.to_string();
            secrets
                .iter()
                .find(|secret| **secret == &text)
                .map(|secret| format!("{path} = {n} is the no_log value {secret:?}"))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| find_secret(x, secrets, &format!("{path}[{i}]"))),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, x)| find_secret(x, secrets, &format!("{path}.{k}"))),
        Value::Null | Value::Bool(_) => None,
    }
}

/// Equal JSON, floats within a relative 1e-15: serde_json's default float parser (without its
/// `float_roundtrip` feature) can be one unit in the last place off on re-reading what it
/// printed, and Python's json, which the controller uses, reads it exactly.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x == y || ((x - y) / x.abs().max(y.abs())).abs() < 1e-15,
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && same_json(vx, vy))
        }
        _ => a == b,
    }
}

/// The contract of every run (see the top of this file). Panics when it is broken.
pub fn check_report(report: &Report, no_log_values: &[String]) {
    let obj = report
        .json
        .as_object()
        .expect("the result must be a JSON object");
    let line = serde_json::to_string(&report.json).expect("the result must serialise");
    assert!(!line.contains('\n'), "the result must fit on one line");
    let back: Value = serde_json::from_str(&line).expect("the printed result must parse back");
    assert!(
        same_json(&back, &report.json),
        "the printed result must parse back unchanged: {line}"
    );
    match obj.get("failed") {
        Some(Value::Bool(true)) => {
            assert_eq!(report.exit_code, 1, "a failure must exit 1: {line}");
            let msg = obj
                .get("msg")
                .and_then(Value::as_str)
                .expect("a failure must have a msg string");
            assert!(!msg.trim().is_empty(), "a failure's msg must say something");
            assert!(
                !msg.starts_with("Internal error"),
                "the options struct and the spec disagree: {msg}"
            );
        }
        None => {
            assert_eq!(report.exit_code, 0, "a success must exit 0: {line}");
            assert!(
                obj.get("changed").is_some_and(Value::is_boolean),
                "a success must say changed: {line}"
            );
        }
        Some(other) => panic!("failed must be true or absent, got {other}: {line}"),
    }
    let secrets: Vec<&String> = no_log_values
        .iter()
        .filter(|s| is_checkable_secret(s))
        .collect();
    for (key, value) in obj {
        if key == "sts_creds" {
            continue; // issued credentials: returned whole on purpose
        }
        if let Some(leak) = find_secret(value, &secrets, key) {
            panic!("a no_log value leaked: {leak}\nresult: {line}");
        }
    }
}

// ------------------------------------------------------------------------------------------
// Decoding bytes into options, environment and answer. Each byte steers one choice; past the
// end every byte reads as 0, so any input decodes.

struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        &items[self.byte() as usize % items.len()]
    }
    fn raw(&mut self, max: usize) -> Vec<u8> {
        let n = self.byte() as usize % (max + 1);
        (0..n).map(|_| self.byte()).collect()
    }
    fn raw_string(&mut self, max: usize) -> String {
        String::from_utf8_lossy(&self.raw(max)).into_owned()
    }
}

/// What the options target puts besides the module's own names: an option no module has,
/// and the `_ansible_*` keys ansible-core adds that change a run.
const OTHER_KEYS: &[&str] = &[
    "bogus",
    "_ansible_check_mode",
    "_ansible_diff",
    "_ansible_module_name",
    "_ansible_ignore_unknown_opts",
    "_ansible_inject_invocation",
    "_ansible_verbosity",
];

/// The keys the options target draws from: every name of every option of the module's spec
/// (name, aliases, deprecated aliases, in the spec's order), then [`OTHER_KEYS`]. A dict
/// option's names come three times, so that its nested keys ([`DICT_KEYS`]) are drawn more
/// often. Read from the spec, so an option added to the module is fuzzed without a word here.
pub fn option_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = Vec::new();
        for opt in spec().options {
            let draws = if opt.kind == Type::Dict { 3 } else { 1 };
            for _ in 0..draws {
                names.extend(opt.names());
            }
        }
        names.extend(OTHER_KEYS);
        names
    })
}

/// The environment variables the options target sets: every variable an option of the spec
/// falls back to, in the spec's order.
pub fn env_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        spec()
            .options
            .iter()
            .flat_map(|opt| opt.env.iter().copied())
            .collect()
    })
}

const DICT_KEYS: &[&str] = &[
    "retries",
    "retries",
    "connect_timeout",
    "read_timeout",
    "max_attempts",
    "total_max_attempts",
    "mode",
    "use_fips_endpoint",
    "use_dualstack_endpoint",
    "max_pool_connections",
    "region_name",
    "bogus",
];

const STRINGS: &[&str] = &[
    "",
    " ",
    "yes",
    "no",
    "True",
    "off",
    "0",
    "1",
    "1.5",
    "-1",
    "900",
    "899",
    "129600",
    "129601",
    "1e3",
    " 1000 ",
    "abc",
    "123456",
    "12345",
    "1234567",
    "\u{661}\u{662}\u{663}\u{664}\u{665}\u{666}",
    "arn:aws:iam::123456789012:mfa/user",
    "GAHT12345678",
    "invalid serial",
    "http://127.0.0.1:1",
    "https://127.0.0.1:1/path?x#y",
    "http://",
    "127.0.0.1:5000",
    "http://a b",
    "http://[::1]:5000",
    "http://h:99999",
    "ftp://x",
    "https://sts.amazonaws.com",
    "http://user:pw@127.0.0.1:1",
    "us-east-1",
    "eu-west-1",
    "us east 1",
    "cn-north-1",
    "us-gov-west-1",
    "p1",
    "p2",
    "nokeys",
    "nope",
    "default",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "FwoGZXIvYXdzEToken0001",
    "standard",
    "adaptive",
    "legacy",
    "fast",
    "connect_timeout=1 read_timeout=2",
    "max_attempts=2",
    "{\"retries\": {\"max_attempts\": 3, \"mode\": \"adaptive\"}}",
    "{bad",
    "a=b, c='d e'",
    "=x",
    "x=",
    "~",
    "~/ca.pem",
    "$HOME/x",
    "${HOME}",
    "${UNSET_FUZZ_VAR}/x",
    "$",
    "~root/x",
    "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER",
    "********",
    "\u{0}",
    "\u{e9}",
    "\\",
    "\"",
];

const INTS: &[i64] = &[
    0,
    1,
    -1,
    2,
    3,
    100,
    899,
    900,
    3600,
    129_600,
    129_601,
    123_456,
    86_400,
    86_401,
    i32::MAX as i64,
    i32::MAX as i64 + 1,
    i64::MAX,
    i64::MIN,
];

const FLOATS: &[f64] = &[
    0.0, -0.0, 0.5, 1.5, 1e-300, 1e300, 900.0, 900.5, 86_400.0, 86_400.5, 123_456.0, -3.0,
];

fn value(b: &mut Bytes, paths: &[String], depth: u8) -> Value {
    match b.byte() % 11 {
        0 => Value::Null,
        1 => Value::Bool(b.byte() & 1 == 1),
        2 => Value::from(*b.pick(INTS)),
        3 => match b.byte() % 4 {
            0 => Value::from(u64::MAX),
            _ => Value::from(*b.pick(FLOATS)),
        },
        4 | 5 => Value::from(*b.pick(STRINGS)),
        6 => Value::from(b.raw_string(24)),
        7 => Value::from(b.pick(paths).as_str()),
        8 if depth < 3 => {
            let n = b.byte() % 4;
            Value::Array((0..n).map(|_| value(b, paths, depth + 1)).collect())
        }
        9 | 10 if depth < 3 => {
            let n = b.byte() % 4;
            let mut map = Map::new();
            for _ in 0..n {
                let key = match b.byte() {
                    0..=229 => (*b.pick(DICT_KEYS)).to_owned(),
                    _ => b.raw_string(12),
                };
                map.insert(key, value(b, paths, depth + 1));
            }
            Value::Object(map)
        }
        _ => Value::from(*b.pick(STRINGS)),
    }
}

/// The options target's input: (args with `_ansible_*` keys, environment, STS answer).
pub fn decode(data: &[u8], paths: &[String]) -> (Map<String, Value>, Vec<(String, String)>, Reply) {
    let mut b = Bytes { data, pos: 0 };
    let selector = b.byte();
    let raw_status = b.byte();
    let raw_body = b.raw(64);
    let answer = reply(selector, raw_status, raw_body);
    let mut args = Map::new();
    for _ in 0..b.byte() % 10 {
        let name = match b.byte() {
            0..=239 => (*b.pick(option_names())).to_owned(),
            _ => b.raw_string(12),
        };
        let v = value(&mut b, paths, 0);
        args.insert(name, v);
    }
    let mut env = Vec::new();
    for _ in 0..b.byte() % 5 {
        let name = (*b.pick(env_names())).to_owned();
        let v = match b.byte() % 3 {
            0 => b.raw_string(16),
            1 => b.pick(paths).clone(),
            _ => (*b.pick(STRINGS)).to_owned(),
        };
        env.push((name, v));
    }
    (args, env, answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_options_target_draws_every_name_and_variable_of_the_spec() {
        let names = option_names();
        let vars = env_names();
        for opt in spec().options {
            for name in opt.names() {
                assert!(names.contains(&name), "{name} is never drawn");
            }
            for var in opt.env {
                assert!(vars.contains(var), "{var} is never set");
            }
        }
        for key in OTHER_KEYS {
            assert!(names.contains(key), "{key} is never drawn");
        }
        assert_eq!(names.iter().filter(|n| **n == "aws_config").count(), 3);
    }

    #[test]
    fn an_input_can_reach_the_output_profile_options() {
        for option in [
            "output_profile",
            "credentials_file",
            "min_ttl",
            "force_refresh",
            "overwrite_unmanaged_profile",
        ] {
            let index = option_names()
                .iter()
                .position(|n| *n == option)
                .unwrap_or_else(|| panic!("{option} is not drawn"));
            let index = u8::try_from(index).expect("fewer than 256 names");
            // answer 0, status 0, no raw body, one option: a name from the list, at `index`,
            // with STRINGS[0] as its value; no environment.
            let data = [0, 0, 0, 1, 0, index, 4, 0, 0];
            let (args, env, _) = decode(&data, &[]);
            assert_eq!(
                args.into_iter().collect::<Vec<_>>(),
                [(option.to_owned(), json!(""))]
            );
            assert!(env.is_empty());
        }
    }
}
