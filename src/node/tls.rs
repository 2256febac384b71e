//! TLS configuration with rustls and its `ring` provider only: the server's
//! certificate chain and key from PEM files, the client's trust roots from a
//! peer's CA file (`peer add --ca`) or the system's roots.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::node::home::HomeError;

/// Largest certificate or key PEM file read.
pub const MAX_PEM_BYTES: u64 = 1 << 20;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn invalid(msg: String) -> HomeError {
    HomeError::Invalid(msg)
}

fn read_pem(path: &Path) -> Result<Vec<u8>, HomeError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|source| HomeError::Io { path: path.to_path_buf(), source })?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| HomeError::Io { path: path.to_path_buf(), source })?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(invalid(format!("{} is larger than {MAX_PEM_BYTES} bytes: not a PEM file", path.display())));
    }
    Ok(bytes)
}

/// The certificates of a PEM file (at least one), for a CA file.
pub fn parse_ca(bytes: &[u8], path: &Path) -> Result<Vec<CertificateDer<'static>>, HomeError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(format!("{}: not a PEM certificate file ({e})", path.display())))?;
    if certs.is_empty() {
        return Err(invalid(format!("{}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path.display())));
    }
    let mut roots = rustls::RootCertStore::empty();
    for c in &certs {
        roots
            .add(c.clone())
            .map_err(|e| invalid(format!("{}: a certificate cannot be used as a trust root ({e})", path.display())))?;
    }
    Ok(certs)
}

/// The server's TLS configuration: the certificate chain of `cert` and the
/// private key of `key` (PEM), TLS 1.2 and 1.3, HTTP/1.1.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, HomeError> {
    let cert_bytes = read_pem(cert)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(format!("{}: not a PEM certificate file ({e})", cert.display())))?;
    if chain.is_empty() {
        return Err(invalid(format!("{}: holds no PEM certificate", cert.display())));
    }
    let key_bytes = read_pem(key)?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_bytes)
        .map_err(|e| invalid(format!("{}: not a PEM private key ({e})", key.display())))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| {
            invalid(format!("{} and {}: the key does not fit the certificate ({e})", cert.display(), key.display()))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The client's TLS configuration: trust exactly the CA certificates of
/// `ca` when given, else the system's trust roots.
pub fn client_config(ca: Option<&Path>) -> Result<rustls::ClientConfig, HomeError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(path) => {
            for c in parse_ca(&read_pem(path)?, path)? {
                roots.add(c).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for c in found.certs {
                let _ = roots.add(c);
            }
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}
