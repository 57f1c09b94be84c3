//! AWS's limits on request values, checked before any call so that a bad value gets a message
//! naming the option on every STS implementation (moto checks none of them).

use ansible_module::Failure;

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

/// AWS's `[\w+=/:,.@-]` character class (`\w` being ASCII letters, digits and `_`).
fn arn_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=/:,.@-".contains(c)
}

/// An MFA device: its ARN or a hardware serial number, 9 to 256 characters.
pub fn mfa_serial(option: &str, value: &str) -> Result<(), Failure> {
    let n = value.chars().count();
    if (9..=256).contains(&n) && value.chars().all(arn_char) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{option} must be the ARN or serial number of an MFA device: 9 to 256 characters of \
         letters, digits and _+=/:,.@- (such as arn:aws:iam::123456789012:mfa/user), got '{value}' \
         ({n} characters)"
    )))
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
}
