//! Canned AWS answers for tests and the fuzz harness (feature `test-util`): an HTTP client that
//! answers from a list and records what was sent, and a sleep that ends at once, so retries
//! cost nothing. No socket is opened.

use crate::aws::Io;
use crate::options::AwsOptions;
use crate::runtime::block_on;
use ansible_module::{Context, Failure, ModuleOptions, ModuleSpec, Outcome, Report};
use aws_smithy_async::rt::sleep::{AsyncSleep, SharedAsyncSleep, Sleep};
use aws_smithy_runtime_api::client::http::{
    http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use serde::Deserialize;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One answer of the canned service.
#[derive(Debug, Clone)]
pub enum Answer {
    /// An HTTP response: status and XML body.
    Http(u16, Vec<u8>),
    /// The connection failed (refused, reset): retried by the SDK.
    Io,
    /// No answer within the read timeout: retried by the SDK.
    Timeout,
}

impl Answer {
    /// A 200 response with this XML body.
    pub fn ok(xml: impl Into<String>) -> Self {
        Answer::Http(200, xml.into().into_bytes())
    }

    /// An AWS query-protocol error (`<ErrorResponse>`), as STS and IAM send it.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Answer::Http(
            status,
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
                 <Message>{message}</Message></Error><RequestId>req-{code}</RequestId>\
                 </ErrorResponse>"
            )
            .into_bytes(),
        )
    }
}

/// Answers requests in order; once the list is used up, the last answer is repeated (so one
/// answer serves every retry).
#[derive(Debug, Clone, Default)]
pub struct Replay {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    last: Arc<Mutex<Option<Answer>>>,
    sent: Arc<Mutex<Vec<String>>>,
}

impl Replay {
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> Self {
        Replay {
            answers: Arc::new(Mutex::new(answers.into_iter().collect())),
            ..Replay::default()
        }
    }

    /// Runs a module's `run` as [`run_canned`] does, with this replay as its [`Io`].
    pub fn run<T: ModuleOptions>(
        &self,
        spec: &ModuleSpec,
        args: Value,
        run: impl AsyncFnOnce(&mut Context, T, &Io) -> Result<Outcome, Failure>,
    ) -> Report {
        let io = self.io();
        run_canned(spec, args, async |ctx, options| {
            run(ctx, options, &io).await
        })
    }

    /// The [`Io`] a module's connection takes: this client and a sleep that ends at once.
    pub fn io(&self) -> Io {
        let replay = self.clone();
        Io {
            http_client: Some(http_client_fn(move |_, _| {
                SharedHttpConnector::new(replay.clone())
            })),
            sleep: Some(SharedAsyncSleep::new(InstantSleep)),
        }
    }

    /// The bodies of the requests sent so far (form-encoded, `Action=...&...`).
    pub fn sent(&self) -> Vec<String> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The `Action` of each request sent so far.
    pub fn actions(&self) -> Vec<String> {
        self.sent()
            .iter()
            .filter_map(|body| {
                body.split('&')
                    .find_map(|pair| pair.strip_prefix("Action="))
                    .map(str::to_owned)
            })
            .collect()
    }

    fn next(&self) -> Answer {
        let next = self.answers.lock().ok().and_then(|mut a| a.pop_front());
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        match next {
            Some(answer) => {
                *last = Some(answer.clone());
                answer
            }
            None => last
                .clone()
                .unwrap_or_else(|| Answer::error(500, "NoCannedAnswer", "no answer was canned")),
        }
    }
}

impl HttpConnector for Replay {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(body);
        }
        let result = match self.next() {
            Answer::Http(status, body) => {
                let status = status
                    .try_into()
                    .unwrap_or_else(|_| 500u16.try_into().unwrap_or_else(|_| unreachable!()));
                let mut response = HttpResponse::new(status, SdkBody::from(body));
                response.headers_mut().insert("content-type", "text/xml");
                Ok(response)
            }
            Answer::Io => Err(ConnectorError::io("connection reset by peer".into())),
            Answer::Timeout => Err(ConnectorError::timeout(
                "no response within the read timeout".into(),
            )),
        };
        HttpConnectorFuture::ready(result)
    }
}

/// A sleep that ends at once: retries back off through it.
#[derive(Debug)]
pub struct InstantSleep;

impl AsyncSleep for InstantSleep {
    fn sleep(&self, _duration: Duration) -> Sleep {
        Sleep::new(std::future::ready(()))
    }
}

/// The endpoint the canned runs name; nothing listens there and nothing dials it.
pub const CANNED_ENDPOINT: &str = "http://127.0.0.1:9";

/// The access key id the canned runs sign with.
pub const CANNED_ACCESS_KEY: &str = "AKIDCANNEDTESTING001";

/// Runs a module's option handling and `body` as one module run would, with keys, an endpoint
/// and a region added to `args` unless given, so that the SDK looks for no profile,
/// environment credentials or instance metadata, and every request goes to the [`Replay`] the
/// body's [`Io`] holds.
pub fn run_canned<T, F>(spec: &ModuleSpec, args: Value, body: F) -> Report
where
    T: ModuleOptions,
    F: AsyncFnOnce(&mut Context, T) -> Result<Outcome, Failure>,
{
    let Value::Object(mut args) = args else {
        panic!("module arguments are a JSON object")
    };
    for (name, value) in [
        ("access_key", CANNED_ACCESS_KEY),
        ("secret_key", "canned-secret-key"),
        ("endpoint_url", CANNED_ENDPOINT),
        ("region", "us-east-1"),
    ] {
        args.entry(name).or_insert_with(|| Value::from(value));
    }
    ansible_module::execute(spec, Ok(args), &|_| None, |ctx, options| {
        block_on(body(ctx, options))
    })
}

/// The options of a module that takes only the common ones, for tests of the shared code.
#[derive(Debug, Deserialize)]
pub struct CommonOnly {
    #[serde(flatten)]
    pub aws: AwsOptions,
}

impl ModuleOptions for CommonOnly {}
