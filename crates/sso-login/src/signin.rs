//! One run's decision, under the session's sign-in lock: the cached token reused, refreshed,
//! or a device authorization started (first run) or waited for (`wait`). Whoever holds the lock
//! decides for everyone: twenty forks that need the session at once start one device
//! authorization and share its code, and while one run waits for the approval the others wait
//! for its result.

use crate::cache::{self, now, seconds, Files, Pending, Token};
use crate::oidc::{self, Poll};
use crate::settings::Session;
use ansible_module::{Context, Failure};
use aws_connect::Aws;
use std::time::{Duration, Instant};

/// A registration is renewed this long before it expires (as the AWS CLI renews its own).
const REGISTRATION_MARGIN: i64 = 15 * 60;

/// What a run did, or (check mode) would do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum State {
    /// The cached token stays valid beyond `min_ttl`: nothing to do.
    Valid,
    /// A new access token from the cached refresh token.
    Refreshed,
    /// A device authorization waits for the user's approval.
    Pending,
    /// The user approved: the token is cached.
    SignedIn,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Valid => "valid",
            State::Refreshed => "refreshed",
            State::Pending => "pending",
            State::SignedIn => "signed_in",
        }
    }
}

/// The answer: what happened, whether it changed anything, and the token or the pending code.
pub struct Answer {
    pub state: State,
    pub changed: bool,
    pub token: Option<Token>,
    pub pending: Option<Pending>,
}

/// The token when it stays valid for longer than `min_ttl` seconds.
pub fn fresh(token: Option<Token>, min_ttl: i64) -> Option<Token> {
    token.filter(|t| seconds(&t.expires_at).is_some_and(|at| at - now() > min_ttl))
}

/// Whether the token's registration and refresh token can give a new token without a human.
pub fn refreshable(token: &Token) -> bool {
    token.refresh_token.is_some()
        && token
            .registration()
            .and_then(|r| seconds(&r.expires_at))
            .is_some_and(|at| at > now())
}

/// A pending sign-in for this session whose code has not expired.
pub fn live_pending(files: &Files, session: &Session) -> Result<Option<Pending>, Failure> {
    let pending: Option<Pending> = cache::read(&files.pending)?;
    Ok(pending.filter(|p| {
        p.start_url == session.start_url
            && p.region == session.region
            && seconds(&p.expires_at).is_some_and(|at| at > now())
    }))
}

/// What the cached token does for a run: answers it (still fresh, or refreshed now), or not.
enum Kept {
    Answered(Box<Answer>),
    Not(Option<Token>),
}

/// The cached token reused while fresh, else refreshed when its refresh token allows (a refused
/// refresh leaves it to a sign-in).
async fn kept(
    ctx: &mut Context,
    aws: &Aws,
    session: &Session,
    files: &Files,
    min_ttl: i64,
) -> Result<Kept, Failure> {
    let cached: Option<Token> = cache::read(&files.token)?;
    hide_token(ctx, cached.as_ref());
    if let Some(token) = fresh(cached.clone(), min_ttl) {
        return Ok(answered(State::Valid, false, token));
    }
    if let Some(old) = cached.as_ref().filter(|t| refreshable(t)) {
        let client = oidc::client(aws, session);
        if let Some(new) = oidc::refresh(aws, &client, old).await? {
            hide_token(ctx, Some(&new));
            cache::write(&files.token, &new)?;
            return Ok(answered(State::Refreshed, true, new));
        }
    }
    Ok(Kept::Not(cached))
}

fn answered(state: State, changed: bool, token: Token) -> Kept {
    Kept::Answered(Box::new(answer(state, changed, Some(token), None)))
}

/// The run without `wait`: reuse, refresh, or start (or share) a device authorization.
pub async fn begin(
    ctx: &mut Context,
    aws: &Aws,
    session: &Session,
    files: &Files,
    min_ttl: i64,
) -> Result<Answer, Failure> {
    let cached = match kept(ctx, aws, session, files, min_ttl).await? {
        Kept::Answered(done) => return Ok(*done),
        Kept::Not(cached) => cached,
    };
    let client = oidc::client(aws, session);
    let pending = live_pending(files, session)?;
    hide_pending(ctx, pending.as_ref());
    if let Some(pending) = pending {
        return Ok(answer(State::Pending, false, None, Some(pending)));
    }
    let kept = cached
        .as_ref()
        .and_then(Token::registration)
        .filter(|r| seconds(&r.expires_at).is_some_and(|at| at - now() > REGISTRATION_MARGIN));
    let started = match kept {
        Some(registration) => oidc::start(aws, &client, session, registration).await?,
        None => None,
    };
    // A registration the service refuses (or none kept): a new one, once.
    let pending = match started {
        Some(pending) => pending,
        None => {
            let registration = oidc::register(aws, &client, session).await?;
            ctx.add_secret(registration.client_secret.clone());
            oidc::start(aws, &client, session, registration)
                .await?
                .ok_or_else(|| {
                    Failure::new(format!(
                        "IAM Identity Center refused the client registration it had just made \
                         for {}",
                        session.describe()
                    ))
                })?
        }
    };
    hide_pending(ctx, Some(&pending));
    cache::write(&files.pending, &pending)?;
    Ok(answer(State::Pending, true, None, Some(pending)))
}

/// The run with `wait`: the token another run cached meanwhile, or the pending sign-in polled
/// until it is approved, refused or `deadline` passes.
pub async fn finish(
    ctx: &mut Context,
    aws: &Aws,
    session: &Session,
    files: &Files,
    min_ttl: i64,
    deadline: Instant,
) -> Result<Answer, Failure> {
    if let Kept::Answered(done) = kept(ctx, aws, session, files, min_ttl).await? {
        return Ok(*done);
    }
    let pending = live_pending(files, session)?;
    hide_pending(ctx, pending.as_ref());
    let Some(pending) = pending else {
        return Err(nothing_pending(session));
    };
    let client = oidc::client(aws, session);
    let mut interval = pending.interval;
    loop {
        match oidc::poll(aws, &client, &pending).await? {
            Poll::Token(token) => {
                hide_token(ctx, Some(&token));
                cache::write(&files.token, &token)?;
                cache::remove(&files.pending)?;
                return Ok(answer(State::SignedIn, true, Some(token), None));
            }
            Poll::Pending => {}
            Poll::SlowDown => interval += 5,
            Poll::Ended(why) => {
                cache::remove(&files.pending)?;
                return Err(why);
            }
        }
        let pause = Duration::from_secs(u64::try_from(interval).unwrap_or(5));
        if Instant::now() + pause > deadline {
            return Err(Failure::new(format!(
                "The sign-in with code {} was not approved within wait_timeout; the code stays \
                 valid until {}: approve it and run the task with wait again",
                pending.user_code, pending.expires_at
            )));
        }
        tokio::time::sleep(pause).await;
    }
}

fn nothing_pending(session: &Session) -> Failure {
    Failure::new(format!(
        "No sign-in to {} is pending: run the task without wait first, to get the code to approve",
        session.describe()
    ))
}

fn answer(state: State, changed: bool, token: Option<Token>, pending: Option<Pending>) -> Answer {
    Answer {
        state,
        changed,
        token,
        pending,
    }
}

/// What check mode reports: the state a run would reach first, changing nothing. `pending` is
/// only a sign-in that waits already, with its code: one that a run would start has none yet.
pub fn preview(
    ctx: &mut Context,
    files: &Files,
    session: &Session,
    min_ttl: i64,
    wait: bool,
) -> Result<Answer, Failure> {
    let cached: Option<Token> = cache::read(&files.token)?;
    hide_token(ctx, cached.as_ref());
    if let Some(token) = fresh(cached.clone(), min_ttl) {
        return Ok(answer(State::Valid, false, Some(token), None));
    }
    if let Some(old) = cached.filter(refreshable) {
        return Ok(answer(State::Refreshed, true, Some(old), None));
    }
    let pending = live_pending(files, session)?;
    hide_pending(ctx, pending.as_ref());
    match (wait, pending) {
        (true, None) => Err(nothing_pending(session)),
        (true, Some(_)) => Ok(answer(State::SignedIn, true, None, None)),
        (false, Some(p)) => Ok(answer(State::Pending, false, None, Some(p))),
        (false, None) => Ok(answer(State::Pending, true, None, None)),
    }
}

/// The session's sign-in lock, held for the whole decision; released on drop.
pub fn lock(files: &Files, deadline: Instant) -> Result<credentials_file::Held, Failure> {
    let timeout = deadline.saturating_duration_since(Instant::now());
    credentials_file::lock(&files.lock, timeout)
        .map_err(|e| Failure::new(format!("Cannot take the sign-in lock: {e}")))
}

fn hide_token(ctx: &mut Context, token: Option<&Token>) {
    if let Some(t) = token {
        ctx.add_secret(t.access_token.clone());
        for secret in [&t.refresh_token, &t.client_secret].into_iter().flatten() {
            ctx.add_secret(secret.clone());
        }
    }
}

fn hide_pending(ctx: &mut Context, pending: Option<&Pending>) {
    if let Some(p) = pending {
        ctx.add_secret(p.device_code.clone());
        ctx.add_secret(p.registration.client_secret.clone());
    }
}
