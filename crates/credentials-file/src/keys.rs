//! The names of the keys a profile holds, and which of them are secret.

/// The key marking a profile as written (and owned) by this collection.
pub const MANAGED_KEY: &str = "x_rustaws_creds_managed";
/// The key holding the caller's digest of the request that produced the credentials.
pub const REQUEST_KEY: &str = "x_rustaws_creds_request";
/// The key holding what else the caller returned with the credentials (not secret).
pub const RESULT_KEY: &str = "x_rustaws_creds_result";

/// The access key ID, as every AWS tool reads it.
pub const ACCESS_KEY_ID: &str = "aws_access_key_id";
/// The secret access key.
pub const SECRET_ACCESS_KEY: &str = "aws_secret_access_key";
/// The session token of temporary credentials.
pub const SESSION_TOKEN: &str = "aws_session_token";
/// When temporary credentials expire (RFC 3339), as botocore's credential file provider ignores
/// it and granted, aws-vault and this collection read it.
pub const EXPIRATION: &str = "expiration";
/// The keys of a profile whose values are secret, as botocore reads the file: the secret key,
/// the session token, its legacy name `aws_security_token` (botocore still reads it), and
/// `credential_process` (a command line, which often carries a secret or a path to one). Their
/// values never appear in `Debug` output, nor in a diff (see [`is_secret_key`]).
pub const SECRET_KEYS: [&str; 4] = [
    SECRET_ACCESS_KEY,
    SESSION_TOKEN,
    "aws_security_token",
    "credential_process",
];

/// Whether a key's value must be hidden: one of [`SECRET_KEYS`], or any key (compared
/// lowercased, as the file's keys are read) whose name says secret, token or password, so that
/// a key botocore or another tool adds later is hidden too.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str())
        || ["secret", "token", "password", "passwd"]
            .iter()
            .any(|word| key.contains(word))
}
