//! `--upstream-tls`: the fake upstream speaks HTTPS with the relay's test certificate for
//! `127.0.0.1` (`relay/tests/fixtures/tls`), and the relay and the direct reader trust its
//! test CA (`DEEPSEEK_CA_FILE`), so the bench measures the path a DeepSeek reply takes.

use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// The test CA the upstream's certificate chains to, for `DEEPSEEK_CA_FILE`.
pub const CA_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../relay/tests/fixtures/tls/ca.pem"
);
const CA: &[u8] = include_bytes!("../../../relay/tests/fixtures/tls/ca.pem");
const CERT: &[u8] = include_bytes!("../../../relay/tests/fixtures/tls/localhost.pem");
const KEY: &[u8] = include_bytes!("../../../relay/tests/fixtures/tls/localhost.key");

/// The upstream's TLS server: the test certificate, HTTP/1.1 (ALPN `http/1.1`).
pub fn acceptor() -> Result<TlsAcceptor, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cert = CertificateDer::from_pem_slice(CERT).map_err(|e| format!("test cert: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(KEY).map_err(|e| format!("test key: {e}"))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| format!("test cert: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The test CA, for the direct reader's reqwest client.
pub fn ca_certificate() -> Result<reqwest::Certificate, String> {
    reqwest::Certificate::from_pem(CA).map_err(|e| format!("test CA: {e}"))
}
