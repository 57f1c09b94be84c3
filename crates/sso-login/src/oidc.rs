//! The three SSO OIDC calls of a sign-in (RegisterClient, StartDeviceAuthorization, CreateToken)
//! and what their answers mean. All three are unsigned.

use crate::cache::{now, timestamp, Pending, Registration, Token};
use crate::settings::Session;
use ansible_module::Failure;
use aws_connect::{sdk_failure, Aws};
use aws_sdk_ssooidc::config::http::HttpResponse;
use aws_sdk_ssooidc::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssooidc::operation::create_token::CreateTokenError;
use aws_sdk_ssooidc::operation::start_device_authorization::StartDeviceAuthorizationError;
use aws_sdk_ssooidc::Client;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The service's client for the session's region.
pub fn client(aws: &Aws, session: &Session) -> Client {
    let config = aws_sdk_ssooidc::config::Builder::from(&aws.config)
        .region(aws_sdk_ssooidc::config::Region::new(session.region.clone()))
        .build();
    Client::from_conf(config)
}

/// A new public client registration for the session's scopes.
pub async fn register(
    aws: &Aws,
    oidc: &Client,
    session: &Session,
) -> Result<Registration, Failure> {
    let name = match &session.name {
        Some(name) => format!("rustaws-creds-{name}"),
        None => format!("rustaws-creds-{}", now()),
    };
    let answer = oidc
        .register_client()
        .client_name(name)
        .client_type("public")
        .set_scopes(Some(session.scopes.clone()))
        .send()
        .await
        .map_err(|e| failure(aws, "RegisterClient", e))?;
    Ok(Registration {
        client_id: answer.client_id().unwrap_or_default().to_owned(),
        client_secret: answer.client_secret().unwrap_or_default().to_owned(),
        expires_at: timestamp(answer.client_secret_expires_at()),
    })
}

/// Starts a device authorization: the code the user approves, and what the wait polls with;
/// `None` when the service refuses the client registration (expired, revoked).
pub async fn start(
    aws: &Aws,
    oidc: &Client,
    session: &Session,
    registration: Registration,
) -> Result<Option<Pending>, Failure> {
    let sent = oidc
        .start_device_authorization()
        .client_id(&registration.client_id)
        .client_secret(&registration.client_secret)
        .start_url(&session.start_url)
        .send()
        .await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(e) => {
            return match e.as_service_error() {
                Some(
                    StartDeviceAuthorizationError::InvalidClientException(_)
                    | StartDeviceAuthorizationError::UnauthorizedClientException(_),
                ) => Ok(None),
                _ => Err(failure(aws, "StartDeviceAuthorization", e)),
            }
        }
    };
    let text = |v: Option<&str>| v.unwrap_or_default().to_owned();
    Ok(Some(Pending {
        start_url: session.start_url.clone(),
        region: session.region.clone(),
        registration,
        device_code: text(answer.device_code()),
        user_code: text(answer.user_code()),
        verification_uri: text(answer.verification_uri()),
        verification_uri_complete: text(answer.verification_uri_complete()),
        expires_at: timestamp(now() + i64::from(answer.expires_in())),
        interval: i64::from(answer.interval()).max(1),
    }))
}

/// What one poll of a device authorization says.
pub enum Poll {
    Token(Token),
    /// Not approved yet: poll again after the interval.
    Pending,
    /// Too fast: poll again after a longer interval.
    SlowDown,
    /// The sign-in is over without a token (expired, denied): why.
    Ended(Failure),
}

/// One CreateToken poll of a pending device authorization.
pub async fn poll(aws: &Aws, oidc: &Client, pending: &Pending) -> Result<Poll, Failure> {
    let r = &pending.registration;
    let sent = oidc
        .create_token()
        .client_id(&r.client_id)
        .client_secret(&r.client_secret)
        .grant_type(DEVICE_GRANT)
        .device_code(&pending.device_code)
        .send()
        .await;
    match sent {
        Ok(answer) => Ok(Poll::Token(token(
            pending.start_url.clone(),
            pending.region.clone(),
            r,
            answer.access_token(),
            answer.expires_in(),
            answer.refresh_token(),
        )?)),
        Err(e) => match e.as_service_error() {
            Some(CreateTokenError::AuthorizationPendingException(_)) => Ok(Poll::Pending),
            Some(CreateTokenError::SlowDownException(_)) => Ok(Poll::SlowDown),
            Some(CreateTokenError::ExpiredTokenException(_)) => {
                Ok(Poll::Ended(Failure::new(format!(
                    "The sign-in with code {} expired before it was approved: run the task again \
                 without wait to get a new code",
                    pending.user_code
                ))))
            }
            Some(CreateTokenError::AccessDeniedException(_)) => Ok(Poll::Ended(Failure::new(
                format!("The sign-in with code {} was denied", pending.user_code),
            ))),
            _ => Err(failure(aws, "CreateToken", e)),
        },
    }
}

/// A new access token from the refresh token the cache holds; `None` when the service refuses
/// it (expired, revoked), so that a sign-in must follow.
pub async fn refresh(aws: &Aws, oidc: &Client, old: &Token) -> Result<Option<Token>, Failure> {
    let (Some(registration), Some(refresh_token)) = (old.registration(), &old.refresh_token) else {
        return Ok(None);
    };
    let sent = oidc
        .create_token()
        .client_id(&registration.client_id)
        .client_secret(&registration.client_secret)
        .grant_type("refresh_token")
        .refresh_token(refresh_token)
        .send()
        .await;
    match sent {
        Ok(answer) => {
            let mut new = token(
                old.start_url.clone(),
                old.region.clone(),
                &registration,
                answer.access_token(),
                answer.expires_in(),
                answer.refresh_token(),
            )?;
            // As the SDKs do: the old refresh token stays when the answer brings none.
            new.refresh_token = new.refresh_token.or_else(|| old.refresh_token.clone());
            Ok(Some(new))
        }
        Err(e) => match e.as_service_error() {
            Some(
                CreateTokenError::InvalidGrantException(_)
                | CreateTokenError::InvalidClientException(_)
                | CreateTokenError::ExpiredTokenException(_)
                | CreateTokenError::AccessDeniedException(_),
            ) => Ok(None),
            _ => Err(failure(aws, "CreateToken", e)),
        },
    }
}

fn token(
    start_url: String,
    region: String,
    registration: &Registration,
    access_token: Option<&str>,
    expires_in: i32,
    refresh_token: Option<&str>,
) -> Result<Token, Failure> {
    let access_token = access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Failure::new("CreateToken answered without an access token"))?;
    Ok(Token {
        start_url,
        region,
        access_token: access_token.to_owned(),
        expires_at: timestamp(now() + i64::from(expires_in)),
        refresh_token: refresh_token.map(str::to_owned),
        client_id: Some(registration.client_id.clone()),
        client_secret: Some(registration.client_secret.clone()),
        registration_expires_at: Some(registration.expires_at.clone()),
    })
}

fn failure<E>(aws: &Aws, operation: &str, e: SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    sdk_failure(aws, "sso-oidc", operation, None, e)
}
