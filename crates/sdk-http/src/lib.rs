//! The HTTP(S) connector every SDK call goes through: HTTP/1.1 over hyper-util, TLS by rustls
//! with the ring provider.
//!
//! Why our own: the SDK's client cannot turn certificate verification off (`validate_certs:
//! false`), panics on a malformed CA bundle, ignores `AWS_CA_BUNDLE`, and its default crypto
//! (aws-lc) spends ~40 ms of CPU seeding entropy in every short-lived process. One connector
//! for all three trust modes keeps a single code path, exercised by every test.

use aws_smithy_runtime_api::client::http::{
    http_client_fn, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Which server certificates to accept.
#[derive(Debug, Clone)]
pub enum Trust {
    /// The system's roots (honouring `SSL_CERT_FILE` and `SSL_CERT_DIR`).
    System,
    /// Only the certificates of a CA bundle, already checked by [`read_ca_bundle`].
    Bundle(Vec<CertificateDer<'static>>),
    /// Any certificate (`validate_certs: false`); handshake signatures are still checked.
    Any,
}

/// The largest CA bundle read (Debian's whole system bundle is about 220 KB).
const MAX_CA_BUNDLE: u64 = 16 << 20;

/// The largest response body accepted (STS and IAM answers are a few KB).
const MAX_BODY: usize = 8 << 20;

/// Reads a PEM bundle and checks that every certificate in it can serve as a trust anchor.
/// `source` names where the path came from (the option or the environment variable). Only a
/// regular file of at most 16 MiB is read, so a FIFO or a device fails instead of blocking.
pub fn read_ca_bundle(path: &str, source: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let unreadable = |why: String| format!("Could not read the CA bundle {path} ({source}): {why}");
    let meta = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?;
    if !meta.is_file() {
        return Err(unreadable("not a regular file".into()));
    }
    if meta.len() > MAX_CA_BUNDLE {
        return Err(unreadable(format!(
            "{} bytes, more than the {MAX_CA_BUNDLE} a CA bundle may have",
            meta.len()
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            std::io::Read::read_to_end(&mut std::io::Read::take(f, MAX_CA_BUNDLE), &mut bytes)
        })
        .map_err(|e| unreadable(e.to_string()))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("The CA bundle {path} ({source}) is not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "The CA bundle {path} ({source}) holds no PEM certificate \
             (no '-----BEGIN CERTIFICATE-----' block)"
        ));
    }
    let mut roots = RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        roots.add(cert.clone()).map_err(|e| {
            format!(
                "The CA bundle {path} ({source}): certificate {} of {} cannot be used: {e}",
                i + 1,
                certs.len()
            )
        })?;
    }
    Ok(certs)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_config(trust: &Trust) -> Result<ClientConfig, String> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    let config = match trust {
        Trust::Any => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth(),
        Trust::Bundle(certs) => {
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(certs.iter().cloned());
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::System => {
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(system_roots());
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(config)
}

/// The system's roots, read the same way on every platform: the files `SSL_CERT_FILE` and
/// `SSL_CERT_DIR` (a `:`-separated list of directories) name, when either names something that
/// exists, as OpenSSL reads them; otherwise the system's bundle file alone (it holds what the
/// hashed directory beside it links to, and reading that directory too costs ~300 files per
/// run: 3 ms, 40 % of a run); otherwise the system's certificate directories.
fn system_roots() -> Vec<CertificateDer<'static>> {
    let existing = |name| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.exists())
    };
    let file = existing("SSL_CERT_FILE");
    let dirs: Vec<PathBuf> = std::env::var_os("SSL_CERT_DIR")
        .map(|d| std::env::split_paths(&d).filter(|p| p.exists()).collect())
        .unwrap_or_default();
    if file.is_some() || !dirs.is_empty() {
        return roots_from(file.as_deref(), &dirs);
    }
    let certs = roots_from(system_bundle().as_deref(), &[]);
    if !certs.is_empty() {
        return certs;
    }
    roots_from(None, &openssl_probe::probe().cert_dir)
}

/// The system's bundle of roots in PEM. On macOS, /etc/ssl/cert.pem: the copy of the system's
/// roots that macOS keeps for OpenSSL-style clients (curl, LibreSSL); the keychain itself needs
/// Security.framework, which the macOS builds do not link (docs/platforms.md). Elsewhere, the
/// file openssl-probe finds (Debian's /etc/ssl/certs/ca-certificates.crt, RHEL's
/// tls-ca-bundle.pem, ...).
fn system_bundle() -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        Some(PathBuf::from("/etc/ssl/cert.pem"))
    } else {
        openssl_probe::probe().cert_file
    }
}

/// Every certificate in `file` and in the files of `dirs`; what cannot be read or parsed is
/// passed over (a broken system bundle leaves no roots, and every https call then fails naming
/// the certificate it could not verify).
fn roots_from(file: Option<&Path>, dirs: &[PathBuf]) -> Vec<CertificateDer<'static>> {
    let in_dirs = dirs
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.is_file());
    file.map(Path::to_path_buf)
        .into_iter()
        .chain(in_dirs)
        .flat_map(|path| {
            CertificateDer::pem_file_iter(path)
                .map(|certs| certs.filter_map(Result::ok).collect())
                .unwrap_or_else(|_| Vec::new())
        })
        .collect()
}

/// The SDK's HTTP client, for every client of a run: the module's own and those aws-config
/// builds for itself (a profile's role, web identity, the container and instance metadata
/// credentials), which ask for connectors with timeouts of their own.
pub fn client(trust: Trust) -> SharedHttpClient {
    let shared = Arc::new(Shared {
        trust,
        tls: OnceLock::new(),
        pools: Mutex::new(HashMap::new()),
    });
    http_client_fn(move |settings: &HttpConnectorSettings, _components| {
        let connect_timeout = settings.connect_timeout();
        let pools = shared
            .pools
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(connect_timeout)
            .or_default()
            .clone();
        SharedHttpConnector::new(Connector {
            shared: shared.clone(),
            pools,
            connect_timeout,
            read_timeout: settings.read_timeout(),
        })
    })
}

type HttpsConnector = hyper_rustls::HttpsConnector<TcpConnector>;

/// What the connectors of one client (one per module run) share. The TLS configuration is
/// built once, at the first `https://` request: a run that fails before calling AWS, or calls a
/// plain `http://` endpoint, never loads the system's roots.
#[derive(Debug)]
struct Shared {
    trust: Trust,
    tls: OnceLock<Result<ClientConfig, String>>,
    /// By connect timeout, which a pool's connector carries: the credentials providers' 1 or
    /// 2 s must not become the module's own calls' timeout, nor the other way round.
    pools: Mutex<HashMap<Option<Duration>, Arc<Pools>>>,
}

/// Connection pools, one per scheme, shared by every call and retry with the same connect
/// timeout: a module that makes several calls (iam_access_key: list, delete, create) reuses one
/// connection instead of opening one per call, which against AWS saves a TCP and a TLS
/// handshake each. Each pool is built at its first request.
#[derive(Debug, Default)]
struct Pools {
    http: OnceLock<Client<TcpConnector, SdkBody>>,
    https: OnceLock<Result<Client<HttpsConnector, SdkBody>, String>>,
}

#[derive(Debug)]
struct Connector {
    shared: Arc<Shared>,
    pools: Arc<Pools>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
}

impl Connector {
    fn tcp(&self) -> TcpConnector {
        let mut tcp = TcpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(self.connect_timeout);
        tcp
    }

    fn https(&self) -> Result<Client<HttpsConnector, SdkBody>, String> {
        let tls = self
            .shared
            .tls
            .get_or_init(|| tls_config(&self.shared.trust))
            .clone()?;
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .wrap_connector(self.tcp());
        Ok(Client::builder(TokioExecutor::new()).build(https))
    }
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(r) => r,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        let read_timeout = self.read_timeout;
        if request.uri().scheme() != Some(&http::uri::Scheme::HTTPS) {
            let client = self
                .pools
                .http
                .get_or_init(|| Client::builder(TokioExecutor::new()).build(self.tcp()));
            return HttpConnectorFuture::new(exchange(client.clone(), request, read_timeout));
        }
        match self.pools.https.get_or_init(|| self.https()) {
            Ok(client) => HttpConnectorFuture::new(exchange(client.clone(), request, read_timeout)),
            Err(e) => HttpConnectorFuture::ready(Err(ConnectorError::user(e.clone().into()))),
        }
    }
}

/// One request and its whole answer, headers and body, within the read timeout: a body that
/// stalls or trickles would otherwise hold the module far beyond it.
async fn exchange<C>(
    client: Client<C, SdkBody>,
    request: http::Request<SdkBody>,
    read_timeout: Option<Duration>,
) -> Result<HttpResponse, ConnectorError>
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let answer = async {
        let response = client.request(request).await.map_err(classify)?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_BODY).collect().await.map_err(|e| {
            let transient = find::<hyper::Error>(e.as_ref()).is_some();
            ConnectorError::other(
                Box::new(BodyError(e)),
                transient.then_some(ErrorKind::TransientError),
            )
        })?;
        Ok(http::Response::from_parts(
            parts,
            SdkBody::from(body.to_bytes()),
        ))
    };
    let response = match read_timeout {
        Some(limit) => tokio::time::timeout(limit, answer)
            .await
            .map_err(|_| ConnectorError::timeout(Box::new(ReadTimeout(limit))))??,
        None => answer.await?,
    };
    HttpResponse::try_from(response).map_err(|e| ConnectorError::other(e.into(), None))
}

/// No complete answer within the read timeout.
#[derive(Debug)]
pub struct ReadTimeout(pub Duration);

impl std::fmt::Display for ReadTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no complete response within the read timeout of {:?}",
            self.0
        )
    }
}

impl StdError for ReadTimeout {}

/// The response body could not be read: the connection broke or the body was too large.
#[derive(Debug)]
pub struct BodyError(BoxError);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if find::<LengthLimitError>(self.0.as_ref()).is_some() {
            write!(f, "the response body is larger than {MAX_BODY} bytes")
        } else {
            write!(f, "reading the response body failed")
        }
    }
}

impl StdError for BodyError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.0.as_ref())
    }
}

/// Sorts a transport error the way the SDK's retry logic expects: I/O errors (refused, reset,
/// TLS failures during connect) and timeouts are transient and retried.
fn classify(err: hyper_util::client::legacy::Error) -> ConnectorError {
    let is_connect = err.is_connect();
    let boxed: BoxError = Box::new(err);
    if is_connect || find::<std::io::Error>(boxed.as_ref()).is_some() {
        return ConnectorError::io(boxed);
    }
    if let Some(h) = find::<hyper_util::client::legacy::Error>(boxed.as_ref())
        .and_then(|e| find::<hyper::Error>(e))
    {
        if h.is_timeout() {
            return ConnectorError::timeout(boxed);
        }
        if h.is_incomplete_message() || h.is_closed() || h.is_canceled() {
            return ConnectorError::other(boxed, Some(ErrorKind::TransientError));
        }
    }
    ConnectorError::other(boxed, None)
}

/// The first error of type `E` in a chain, looking inside `io::Error` wrappers too.
pub fn find<'a, E: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    None
}

/// `validate_certs: false`: any certificate is accepted, but the handshake itself is still
/// verified against the certificate the server presented.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, content: &str) -> String {
        let dir = std::env::temp_dir().join(format!("aws-connect-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let path = dir.join(name);
        std::fs::write(&path, content).ok();
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn bad_bundles_are_clear_failures_not_panics() {
        assert_eq!(
            read_ca_bundle("/dev/null", "AWS_CA_BUNDLE").unwrap_err(),
            "Could not read the CA bundle /dev/null (AWS_CA_BUNDLE): not a regular file"
        );
        let missing = read_ca_bundle("/nonexistent/ca.pem", "aws_ca_bundle").unwrap_err();
        assert!(
            missing.starts_with("Could not read the CA bundle /nonexistent/ca.pem"),
            "{missing}"
        );

        let empty = write("empty.pem", "just text\n");
        assert!(read_ca_bundle(&empty, "aws_ca_bundle")
            .unwrap_err()
            .contains("holds no PEM certificate"));

        let broken = write(
            "broken.pem",
            "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
        );
        assert!(read_ca_bundle(&broken, "aws_ca_bundle")
            .unwrap_err()
            .contains("is not valid PEM"));

        let garbage_der = write(
            "garbage.pem",
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
        );
        let e = read_ca_bundle(&garbage_der, "aws_ca_bundle").unwrap_err();
        assert!(e.contains("certificate 1 of 1 cannot be used"), "{e}");
    }

    #[test]
    fn the_system_bundle_reads() {
        // Debian's bundle; present on these machines and in CI.
        let path = "/etc/ssl/certs/ca-certificates.crt";
        assert!(
            read_ca_bundle(path, "aws_ca_bundle")
                .map(|c| c.len())
                .unwrap_or(0)
                > 10
        );
    }

    #[test]
    fn tls_configs_build_for_every_trust_mode() {
        for trust in [Trust::System, Trust::Any, Trust::Bundle(Vec::new())] {
            let config = tls_config(&trust).map_err(|e| e.to_string());
            assert!(config.is_ok(), "{trust:?}: {config:?}");
        }
    }
}
