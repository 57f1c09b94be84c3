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
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::error::Error as StdError;
use std::sync::{Arc, OnceLock};
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

/// Reads a PEM bundle and checks that every certificate in it can serve as a trust anchor.
pub fn read_ca_bundle(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("Could not read the CA bundle {path} (aws_ca_bundle): {e}"))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("The CA bundle {path} (aws_ca_bundle) is not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "The CA bundle {path} (aws_ca_bundle) holds no PEM certificate \
             (no '-----BEGIN CERTIFICATE-----' block)"
        ));
    }
    let mut roots = RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        roots.add(cert.clone()).map_err(|e| {
            format!(
                "The CA bundle {path} (aws_ca_bundle): certificate {} of {} cannot be used: {e}",
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
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(config)
}

/// The SDK's HTTP client. The TLS configuration is built once, at the first request, so a run
/// that fails before calling AWS does not load the system's roots.
pub fn client(trust: Trust) -> SharedHttpClient {
    let tls: OnceLock<Result<ClientConfig, String>> = OnceLock::new();
    http_client_fn(move |settings: &HttpConnectorSettings, _components| {
        let tls = tls.get_or_init(|| tls_config(&trust)).clone();
        SharedHttpConnector::new(Connector::new(tls, settings))
    })
}

#[derive(Debug)]
struct Connector {
    client: Result<Client<hyper_rustls::HttpsConnector<TcpConnector>, SdkBody>, String>,
    read_timeout: Option<Duration>,
}

impl Connector {
    fn new(tls: Result<ClientConfig, String>, settings: &HttpConnectorSettings) -> Self {
        let client = tls.map(|tls| {
            let mut tcp = TcpConnector::new();
            tcp.enforce_http(false);
            tcp.set_nodelay(true);
            tcp.set_connect_timeout(settings.connect_timeout());
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_or_http()
                .enable_http1()
                .wrap_connector(tcp);
            Client::builder(TokioExecutor::new()).build(https)
        });
        Connector {
            client,
            read_timeout: settings.read_timeout(),
        }
    }
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = match &self.client {
            Ok(client) => client.clone(),
            Err(e) => {
                return HttpConnectorFuture::ready(Err(ConnectorError::user(e.clone().into())))
            }
        };
        let request = match request.try_into_http1x() {
            Ok(r) => r,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let pending = client.request(request);
            let response = match read_timeout {
                Some(limit) => match tokio::time::timeout(limit, pending).await {
                    Ok(r) => r,
                    Err(_) => {
                        return Err(ConnectorError::timeout(
                            format!("no response within the read timeout of {limit:?}").into(),
                        ))
                    }
                },
                None => pending.await,
            };
            let response = response.map_err(classify)?;
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
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
        let missing = read_ca_bundle("/nonexistent/ca.pem").unwrap_err();
        assert!(
            missing.starts_with("Could not read the CA bundle /nonexistent/ca.pem"),
            "{missing}"
        );

        let empty = write("empty.pem", "just text\n");
        assert!(read_ca_bundle(&empty)
            .unwrap_err()
            .contains("holds no PEM certificate"));

        let broken = write(
            "broken.pem",
            "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
        );
        assert!(read_ca_bundle(&broken)
            .unwrap_err()
            .contains("is not valid PEM"));

        let garbage_der = write(
            "garbage.pem",
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
        );
        let e = read_ca_bundle(&garbage_der).unwrap_err();
        assert!(e.contains("certificate 1 of 1 cannot be used"), "{e}");
    }

    #[test]
    fn the_system_bundle_reads() {
        // Debian's bundle; present on these machines and in CI.
        let path = "/etc/ssl/certs/ca-certificates.crt";
        assert!(read_ca_bundle(path).map(|c| c.len()).unwrap_or(0) > 10);
    }

    #[test]
    fn tls_configs_build_for_every_trust_mode() {
        for trust in [Trust::System, Trust::Any, Trust::Bundle(Vec::new())] {
            let config = tls_config(&trust).map_err(|e| e.to_string());
            assert!(config.is_ok(), "{trust:?}: {config:?}");
        }
    }
}
