//! A configured connection ([`Aws`]: the SDK configuration and how messages name its
//! endpoint) and what its requests go through ([`Io`]).

use aws_config::SdkConfig;
use aws_smithy_async::rt::sleep::SharedAsyncSleep;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// What a module's requests go through: the HTTP client and the sleep its retries wait with.
/// `Io::default()` is the real thing (our rustls client, tokio's sleep); tests and the fuzz
/// harness pass canned ones.
#[derive(Clone, Debug, Default)]
pub struct Io {
    pub http_client: Option<SharedHttpClient>,
    pub sleep: Option<SharedAsyncSleep>,
}

/// A configured connection: the SDK config, and what to call the endpoint in messages.
#[derive(Debug, Clone)]
pub struct Aws {
    pub config: SdkConfig,
    pub(crate) endpoint_url: Option<String>,
    pub(crate) region: String,
}

impl Aws {
    /// How a message names the endpoint of `service` ("sts", "iam").
    pub fn endpoint_for(&self, service: &str) -> String {
        match &self.endpoint_url {
            Some(url) => format!("\"{url}\""),
            None => format!(
                "the AWS {} endpoint for region {}",
                service.to_uppercase(),
                self.region
            ),
        }
    }
}
