//! Which IAM Identity Center session to sign in to: from the options, from an `[sso-session]`
//! section of the AWS config file, or from a profile that names one (or carries the legacy
//! `sso_start_url` and `sso_region` itself), as the AWS CLI v2 reads them.

use ansible_module::Failure;
use credentials_file::StoredProfile;
use sha1::{Digest, Sha1};
use std::path::{Path, PathBuf};

/// The scope the AWS CLI's `aws configure sso` writes, asked for when none is configured: only
/// a registration with scopes gets refresh tokens.
pub const DEFAULT_SCOPE: &str = "sso:account:access";

/// A session's settings, and where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The `[sso-session]` name; `None` for the legacy form (a start URL in a profile).
    pub name: Option<String>,
    pub start_url: String,
    pub region: String,
    pub scopes: Vec<String>,
}

impl Session {
    /// The token cache's key, as the AWS CLI v2, botocore and the SDKs compute it: the session
    /// name, or the start URL exactly as configured for the legacy form.
    pub fn cache_key(&self) -> String {
        let hashed = self.name.as_deref().unwrap_or(&self.start_url);
        Sha1::digest(hashed.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// How messages name the session.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("sso-session {name} ({})", self.start_url),
            None => self.start_url.clone(),
        }
    }
}

/// What the task says about the session.
pub struct Asked<'a> {
    pub sso_session: Option<&'a str>,
    pub profile: Option<&'a str>,
    pub start_url: Option<&'a str>,
    pub sso_region: Option<&'a str>,
    pub scopes: Option<&'a [String]>,
    pub config_file: &'a Path,
}

/// Settles the session: options first (a start URL with its region), then the config file's
/// `[sso-session NAME]`, then the profile's settings.
pub fn settle(asked: &Asked<'_>) -> Result<Session, Failure> {
    let scopes = |configured: Option<Vec<String>>| -> Vec<String> {
        let scopes = asked.scopes.map(<[String]>::to_vec).or(configured);
        match scopes {
            Some(s) if !s.is_empty() => s,
            _ => vec![DEFAULT_SCOPE.to_owned()],
        }
    };
    if let Some(start_url) = asked.start_url {
        let region = asked.sso_region.ok_or_else(|| {
            Failure::new("start_url is set but sso_region is not: give the region of the IAM Identity Center instance too")
        })?;
        return Ok(Session {
            name: asked.sso_session.map(str::to_owned),
            start_url: start_url.to_owned(),
            region: region.to_owned(),
            scopes: scopes(None),
        });
    }
    if let Some(name) = asked.sso_session {
        return from_section(name, asked.config_file, &scopes);
    }
    let profile = asked.profile.unwrap_or("default");
    let section = if profile == "default" {
        profile.to_owned()
    } else {
        format!("profile {profile}")
    };
    let stored = read(asked.config_file, &section)?.ok_or_else(|| {
        Failure::new(format!(
            "The AWS config file {} has no profile {profile}: name an sso_session, or give \
             start_url and sso_region",
            asked.config_file.display()
        ))
    })?;
    if let Some(name) = stored.get("sso_session") {
        return from_section(name, asked.config_file, &scopes);
    }
    match (stored.get("sso_start_url"), stored.get("sso_region")) {
        (Some(start_url), Some(region)) => Ok(Session {
            name: None,
            start_url: start_url.to_owned(),
            region: region.to_owned(),
            scopes: scopes(None),
        }),
        _ => Err(Failure::new(format!(
            "Profile {profile} in {} has no SSO settings (sso_session, or sso_start_url and \
             sso_region)",
            asked.config_file.display()
        ))),
    }
}

fn from_section(
    name: &str,
    config_file: &Path,
    scopes: &dyn Fn(Option<Vec<String>>) -> Vec<String>,
) -> Result<Session, Failure> {
    let section = format!("sso-session {name}");
    let stored = read(config_file, &section)?.ok_or_else(|| {
        Failure::new(format!(
            "The AWS config file {} has no [sso-session {name}] section",
            config_file.display()
        ))
    })?;
    let key = |k: &str| {
        stored.get(k).map(str::to_owned).ok_or_else(|| {
            Failure::new(format!(
                "[sso-session {name}] in {} has no {k}",
                config_file.display()
            ))
        })
    };
    let configured = stored.get("sso_registration_scopes").map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    });
    Ok(Session {
        name: Some(name.to_owned()),
        start_url: key("sso_start_url")?,
        region: key("sso_region")?,
        scopes: scopes(configured),
    })
}

fn read(config_file: &Path, section: &str) -> Result<Option<StoredProfile>, Failure> {
    credentials_file::read_profile(config_file, section)
        .map_err(|e| Failure::new(format!("Cannot read the AWS config file: {e}")))
}

/// `config_file` when given (not `''`), else the AWS config file the CLI and SDKs read.
pub fn config_file_path(given: Option<&str>) -> PathBuf {
    match given.filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => credentials_file::default_config_path(|v| std::env::var(v).ok(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keys_are_those_of_the_aws_cli_and_the_sdks() {
        let session = |name: Option<&str>, url: &str| Session {
            name: name.map(str::to_owned),
            start_url: url.to_owned(),
            region: "us-east-1".to_owned(),
            scopes: Vec::new(),
        };
        assert_eq!(
            session(Some("admin"), "https://x").cache_key(),
            "d033e22ae348aeb5660fc2140aec35850c4da997"
        );
        assert_eq!(
            session(None, "https://d-92671207e4.awsapps.com/start").cache_key(),
            "13f9d35043871d073ab260e020f0ffde092cb14b"
        );
    }
}
