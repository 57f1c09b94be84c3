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
use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
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

/// The run without `wait`: reuse, refresh, or start (or share) a device authorization.
pub async fn begin(
    aws: &Aws,
    session: &Session,
    files: &Files,
    min_ttl: i64,
) -> Result<Answer, Failure> {
    let cached: Option<Token> = cache::read(&files.token)?;
    if let Some(token) = fresh(cached.clone(), min_ttl) {
        return Ok(answer(State::Valid, false, Some(token), None));
    }
    let client = oidc::client(aws, session);
    if let Some(old) = cached.as_ref().filter(|t| refreshable(t)) {
        if let Some(new) = oidc::refresh(aws, &client, old).await? {
            cache::write(&files.token, &new)?;
            return Ok(answer(State::Refreshed, true, Some(new), None));
        }
    }
    if let Some(pending) = live_pending(files, session)? {
        return Ok(answer(State::Pending, false, None, Some(pending)));
    }
    let registration = match cached.as_ref().and_then(Token::registration) {
        Some(r) if seconds(&r.expires_at).is_some_and(|at| at - now() > REGISTRATION_MARGIN) => r,
        _ => oidc::register(aws, &client, session).await?,
    };
    let pending = oidc::start(aws, &client, session, registration).await?;
    cache::write(&files.pending, &pending)?;
    Ok(answer(State::Pending, true, None, Some(pending)))
}

/// The run with `wait`: the token another run cached meanwhile, or the pending sign-in polled
/// until it is approved, refused or `deadline` passes.
pub async fn finish(
    aws: &Aws,
    session: &Session,
    files: &Files,
    min_ttl: i64,
    deadline: Instant,
) -> Result<Answer, Failure> {
    if let Some(token) = fresh(cache::read(&files.token)?, min_ttl) {
        return Ok(answer(State::Valid, false, Some(token), None));
    }
    let Some(pending) = live_pending(files, session)? else {
        return Err(Failure::new(format!(
            "No sign-in to {} is pending: run the task without wait first, to get the code to \
             approve",
            session.describe()
        )));
    };
    let client = oidc::client(aws, session);
    let mut interval = pending.interval;
    loop {
        match oidc::poll(aws, &client, &pending).await {
            Ok(Poll::Token(token)) => {
                cache::write(&files.token, &token)?;
                cache::remove(&files.pending)?;
                return Ok(answer(State::SignedIn, true, Some(token), None));
            }
            Ok(Poll::Pending) => {}
            Ok(Poll::SlowDown) => interval += 5,
            Ok(Poll::Ended(why)) => {
                cache::remove(&files.pending)?;
                return Err(why);
            }
            Err(f) => return Err(f),
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

fn answer(state: State, changed: bool, token: Option<Token>, pending: Option<Pending>) -> Answer {
    Answer {
        state,
        changed,
        token,
        pending,
    }
}

/// What check mode reports: the state a run would reach first, changing nothing.
pub fn preview(
    files: &Files,
    session: &Session,
    min_ttl: i64,
    wait: bool,
) -> Result<Answer, Failure> {
    let cached: Option<Token> = cache::read(&files.token)?;
    if let Some(token) = fresh(cached.clone(), min_ttl) {
        return Ok(answer(State::Valid, false, Some(token), None));
    }
    if cached.as_ref().is_some_and(refreshable) {
        return Ok(answer(State::Refreshed, true, None, None));
    }
    let pending = live_pending(files, session)?;
    let state = if wait {
        State::SignedIn
    } else {
        State::Pending
    };
    Ok(answer(state, wait || pending.is_none(), None, pending))
}

/// The session's sign-in lock, held for the whole decision; released on drop.
pub struct SignInLock {
    _held: File,
}

impl SignInLock {
    /// Waits for the lock until `deadline`.
    pub fn acquire(path: &Path, deadline: Instant) -> Result<Self, Failure> {
        let dir = path.parent().unwrap_or(Path::new("/"));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Failure::new(format!("Cannot create {}: {e}", dir.display())))?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .mode(0o600)
            .custom_flags(nofollow())
            .open(path)
            .map_err(|e| Failure::new(format!("Cannot open the lock {}: {e}", path.display())))?;
        let meta = file
            .metadata()
            .map_err(|e| Failure::new(format!("Cannot inspect {}: {e}", path.display())))?;
        if !meta.is_file() || meta.uid() != rustix::process::geteuid().as_raw() {
            return Err(Failure::new(format!(
                "Refusing the lock {}: it is not a regular file of the user this task runs as",
                path.display()
            )));
        }
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(SignInLock { _held: file }),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Failure::new(format!(
                        "Another run held the sign-in lock {} for longer than wait_timeout",
                        path.display()
                    )))
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Failure::new(format!("Cannot lock {}: {e}", path.display())))
                }
            }
        }
    }
}

fn nofollow() -> i32 {
    i32::try_from(rustix::fs::OFlags::NOFOLLOW.bits()).unwrap_or(0)
}

/// Hides the session's secrets in anything the run reports, should one ever reach a message.
pub fn register_secrets(ctx: &mut Context, token: Option<&Token>, pending: Option<&Pending>) {
    if let Some(t) = token {
        ctx.add_secret(t.access_token.clone());
        for secret in [&t.refresh_token, &t.client_secret].into_iter().flatten() {
            ctx.add_secret(secret.clone());
        }
    }
    if let Some(p) = pending {
        ctx.add_secret(p.device_code.clone());
        ctx.add_secret(p.registration.client_secret.clone());
    }
}
