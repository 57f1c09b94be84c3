//! The `aws_config` option: botocore's `Config` keywords, mapped onto the SDK's settings.
//! Keys this SDK can honour are honoured; botocore keys that mean nothing here are accepted with
//! a warning (a playbook written for the Python modules keeps running); anything else fails.

use ansible_module::coerce::{coerce, to_str};
use ansible_module::{Context, Failure, Type};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use serde_json::{Map, Value};
use std::time::Duration;

/// Used when `aws_config` does not set them: fail an unreachable endpoint fast, and never wait
/// forever for an answer.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);

const HONOURED: &[&str] = &[
    "connect_timeout",
    "read_timeout",
    "retries",
    "use_fips_endpoint",
    "use_dualstack_endpoint",
];

/// botocore Config keywords with no meaning for these modules.
const NO_EFFECT: &[&str] = &[
    "account_id_endpoint_mode",
    "auth_scheme_preference",
    "client_cert",
    "client_context_params",
    "defaults_mode",
    "disable_request_compression",
    "endpoint_discovery_enabled",
    "ignore_configured_endpoint_urls",
    "inject_host_prefix",
    "max_pool_connections",
    "parameter_validation",
    "proxies",
    "proxies_config",
    "region_name",
    "request_checksum_calculation",
    "request_min_compression_size_bytes",
    "response_checksum_validation",
    "s3",
    "sigv4a_signing_region_set",
    "signature_version",
    "tcp_keepalive",
    "user_agent",
    "user_agent_appid",
    "user_agent_extra",
];

#[derive(Debug, Clone)]
pub struct Settings {
    pub retry: RetryConfig,
    pub timeout: TimeoutConfig,
    pub use_fips: Option<bool>,
    pub use_dual_stack: Option<bool>,
}

fn seconds(key: &str, value: &Value) -> Result<Duration, Failure> {
    let n = coerce(Type::Float, value)
        .ok()
        .and_then(|v| v.as_f64())
        .filter(|n| *n > 0.0 && *n <= 86_400.0)
        .ok_or_else(|| {
            Failure::new(format!(
                "aws_config.{key} must be a number of seconds between 0 and 86400, got {}",
                to_str(value)
            ))
        })?;
    Ok(Duration::from_secs_f64(n))
}

fn flag(key: &str, value: &Value) -> Result<bool, Failure> {
    coerce(Type::Bool, value)
        .ok()
        .and_then(|v| v.as_bool())
        .ok_or_else(|| {
            Failure::new(format!(
                "aws_config.{key} must be a boolean, got {}",
                to_str(value)
            ))
        })
}

fn count(key: &str, value: &Value, min: i64) -> Result<u32, Failure> {
    coerce(Type::Int, value)
        .ok()
        .and_then(|v| v.as_i64())
        .filter(|n| (min..=100).contains(n))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            Failure::new(format!(
                "aws_config.retries.{key} must be a whole number from {min} to 100, got {}",
                to_str(value)
            ))
        })
}

fn retries(value: &Value) -> Result<RetryConfig, Failure> {
    let map = coerce(Type::Dict, value)
        .map_err(|e| Failure::new(format!("aws_config.retries must be a dictionary: {e}")))?;
    let Value::Object(map) = map else {
        return Err(Failure::new("aws_config.retries must be a dictionary"));
    };
    let mut config = RetryConfig::standard();
    if let Some(mode) = map.get("mode") {
        config = match to_str(mode).as_str() {
            // adaptive is accepted and runs as standard: its client-side rate limiter learns
            // across the calls of one long-lived client, and in a one-call process it only
            // delays the retry after a throttling answer (measured: 8 to 20 s).
            "standard" | "legacy" | "adaptive" => RetryConfig::standard(),
            other => {
                return Err(Failure::new(format!(
                "aws_config.retries.mode must be one of: legacy, standard, adaptive, got: {other}"
            )))
            }
        };
    }
    for (key, v) in &map {
        config = match key.as_str() {
            "mode" => config,
            // botocore: max_attempts counts retries, total_max_attempts counts every attempt.
            "max_attempts" => config.with_max_attempts(count(key, v, 0)? + 1),
            "total_max_attempts" => config.with_max_attempts(count(key, v, 1)?),
            other => {
                return Err(Failure::new(format!(
                    "aws_config.retries has an unsupported key '{other}'. Supported keys: \
                     max_attempts, total_max_attempts, mode."
                )))
            }
        };
    }
    Ok(config)
}

/// `max_attempts` is the module's default, used when `aws_config.retries` is not given.
pub fn parse(
    config: Option<&Map<String, Value>>,
    max_attempts: u32,
    ctx: &mut Context,
) -> Result<Settings, Failure> {
    let mut settings = Settings {
        retry: RetryConfig::standard().with_max_attempts(max_attempts),
        timeout: TimeoutConfig::builder()
            .connect_timeout(DEFAULT_CONNECT_TIMEOUT)
            .read_timeout(DEFAULT_READ_TIMEOUT)
            .build(),
        use_fips: None,
        use_dual_stack: None,
    };
    let Some(config) = config else {
        return Ok(settings);
    };
    let mut timeout = TimeoutConfig::builder()
        .connect_timeout(DEFAULT_CONNECT_TIMEOUT)
        .read_timeout(DEFAULT_READ_TIMEOUT);
    let mut ignored = Vec::new();
    for (key, value) in config {
        match key.as_str() {
            "connect_timeout" => timeout = timeout.connect_timeout(seconds(key, value)?),
            "read_timeout" => timeout = timeout.read_timeout(seconds(key, value)?),
            "retries" => settings.retry = retries(value)?,
            "use_fips_endpoint" => settings.use_fips = Some(flag(key, value)?),
            "use_dualstack_endpoint" => settings.use_dual_stack = Some(flag(key, value)?),
            k if NO_EFFECT.contains(&k) => ignored.push(k.to_owned()),
            other => {
                return Err(Failure::new(format!(
                    "aws_config has an unsupported key '{other}'. Supported keys: {}.",
                    HONOURED.join(", ")
                )))
            }
        }
    }
    if !ignored.is_empty() {
        ctx.warn(format!(
            "aws_config keys with no effect in this module were ignored: {}",
            ignored.join(", ")
        ));
    }
    settings.timeout = timeout.build();
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ansible_module::{execute, ModuleSpec, Opt, Outcome};
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Opts {
        aws_config: Option<Map<String, Value>>,
    }

    impl ansible_module::ModuleOptions for Opts {}

    /// Parses `aws_config` inside a real module run; returns the settings' debug text and the
    /// warnings, or the failure message.
    fn run(config: Value) -> Result<(String, Value), String> {
        let spec = ModuleSpec::new("t", "c").options(&[Opt::new("aws_config", Type::Dict)]);
        let Value::Object(args) = json!({ "aws_config": config }) else {
            unreachable!()
        };
        let report = execute(&spec, Ok(args), &|_| None, |ctx, o: Opts| {
            let s = parse(o.aws_config.as_ref(), 3, ctx)?;
            Ok(Outcome::changed(false).with("s", format!("{s:?}")))
        });
        match report.json.get("s") {
            Some(s) => Ok((
                s.as_str().unwrap_or_default().to_owned(),
                report.json["warnings"].clone(),
            )),
            None => Err(report.json["msg"].as_str().unwrap_or_default().to_owned()),
        }
    }

    #[test]
    fn timeouts_and_retries_are_honoured() {
        let (s, _) = run(json!({"connect_timeout": "2.5", "read_timeout": 7, "retries": {"max_attempts": 4, "mode": "adaptive"}})).unwrap();
        assert!(s.contains("2.5s") && s.contains("7s"), "{s}");
        assert!(
            s.contains("max_attempts: 5") && s.contains("Standard"),
            "{s}"
        );
        let (s, _) = run(json!({"retries": {"total_max_attempts": 1}})).unwrap();
        assert!(s.contains("max_attempts: 1"), "{s}");
    }

    #[test]
    fn ad_hoc_string_form_works() {
        let (s, _) = run(json!("connect_timeout=3 read_timeout=4")).unwrap();
        assert!(s.contains("3s") && s.contains("4s"), "{s}");
    }

    #[test]
    fn botocore_keys_without_effect_warn() {
        let (_, w) = run(json!({"max_pool_connections": 20})).unwrap();
        assert_eq!(
            w,
            json!([
                "aws_config keys with no effect in this module were ignored: max_pool_connections"
            ])
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_fail_clearly() {
        assert_eq!(
            run(json!({"bogus": 1})).unwrap_err(),
            "aws_config has an unsupported key 'bogus'. Supported keys: connect_timeout, read_timeout, retries, use_fips_endpoint, use_dualstack_endpoint."
        );
        assert!(run(json!({"connect_timeout": "soon"}))
            .unwrap_err()
            .starts_with("aws_config.connect_timeout must be"));
        assert!(run(json!({"connect_timeout": -1})).is_err());
        assert!(run(json!({"retries": {"max_attempts": "x"}}))
            .unwrap_err()
            .starts_with("aws_config.retries.max_attempts"));
        assert!(run(json!({"retries": {"mode": "fast"}}))
            .unwrap_err()
            .contains("legacy, standard, adaptive"));
        assert!(run(json!({"retries": {"tries": 1}}))
            .unwrap_err()
            .contains("unsupported key 'tries'"));
        assert!(run(json!({"retries": 3}))
            .unwrap_err()
            .starts_with("aws_config.retries must be a dictionary"));
    }
}
