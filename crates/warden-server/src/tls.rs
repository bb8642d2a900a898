//! TLS when Warden terminates it itself: a certificate chain and a private key in PEM files,
//! loaded at start and again on demand (SIGHUP in `warden serve`) without dropping a connection —
//! connections made before a reload keep the certificate they began with, new ones get the new
//! one. A reload that fails keeps the certificate in use. ALPN offers HTTP/2 and HTTP/1.1.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the certificate chain `{path}`: {message}")]
    Certificate { path: String, message: String },
    #[error("cannot read the private key `{path}`: {message}")]
    Key { path: String, message: String },
    #[error("the certificate and key cannot be used together: {0}")]
    Config(String),
}

/// The certificate in use and where it came from.
#[derive(Debug)]
pub struct Tls {
    certificate: PathBuf,
    key: PathBuf,
    config: ArcSwap<ServerConfig>,
}

impl Tls {
    pub fn load(certificate: &Path, key: &Path) -> Result<Arc<Tls>, TlsError> {
        let config = server_config(certificate, key)?;
        Ok(Arc::new(Tls {
            certificate: certificate.to_path_buf(),
            key: key.to_path_buf(),
            config: ArcSwap::from_pointee(config),
        }))
    }

    /// Reads the files again; on failure the certificate in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = server_config(&self.certificate, &self.key)?;
        self.config.store(Arc::new(config));
        Ok(())
    }

    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.load_full())
    }
}

fn server_config(certificate: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let shown = |path: &Path| path.display().to_string();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
        .and_then(Iterator::collect)
        .map_err(|e| TlsError::Certificate {
            path: shown(certificate),
            message: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Certificate {
            path: shown(certificate),
            message: "no `CERTIFICATE` block in it".to_owned(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: shown(key),
        message: e.to_string(),
    })?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
