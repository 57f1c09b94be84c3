//! Drives the crate from the command line, for the botocore cross-check
//! (tests/integration/test_credentials_format.py). Prints one JSON object on stdout.
//!
//! * `credfile read <path>`: `{"profiles": {name: {key: value}}}` or `{"error": message}`.
//! * `credfile write <path> <profile> <tag> [long-term]`: writes test credentials tagged `tag`
//!   (no session token nor expiration with `long-term`), overwriting unmanaged profiles;
//!   `{"outcome": "Created"|"Replaced"|"Unchanged"}` or `{"error": message}`.

use credentials_file::{CredentialsFile, Entries, WriteOptions};

fn json(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = match args.as_slice() {
        ["read", path] => match CredentialsFile::at(path).read_profiles() {
            Ok(profiles) => {
                let profiles: Vec<String> = profiles
                    .iter()
                    .map(|p| {
                        let keys: Vec<String> = p
                            .keys
                            .iter()
                            .map(|(k, v)| format!("{}: {}", json(k), json(v)))
                            .collect();
                        format!("{}: {{{}}}", json(&p.name), keys.join(", "))
                    })
                    .collect();
                format!("{{\"profiles\": {{{}}}}}", profiles.join(", "))
            }
            Err(e) => format!("{{\"error\": {}}}", json(&e.to_string())),
        },
        ["write", path, profile, tag, rest @ ..] => {
            let long_term = rest == ["long-term"];
            let entries = Entries {
                access_key_id: format!("ASIA{tag}"),
                secret_access_key: format!("secret/{tag}+x="),
                session_token: (!long_term).then(|| format!("token-{tag}")),
                expiration: (!long_term).then(|| "2030-01-02T03:04:05Z".to_string()),
                request_digest: "0123abcdef".to_string(),
                result: None,
            };
            let options = WriteOptions {
                overwrite_unmanaged: true,
            };
            match CredentialsFile::at(path).write_profile(profile, &entries, options) {
                Ok(outcome) => format!("{{\"outcome\": \"{outcome:?}\"}}"),
                Err(e) => format!("{{\"error\": {}}}", json(&e.to_string())),
            }
        }
        _ => {
            println!(
                "usage: credfile read <path> | credfile write <path> <profile> <tag> [long-term]"
            );
            std::process::exit(2);
        }
    };
    println!("{out}");
}
