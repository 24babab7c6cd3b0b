//! The trust stores of the functions' TLS connections, compiled in instead of read from the
//! system: loading the system store reads and parses a PEM bundle (and, on some systems, a
//! directory of certificate files) in every cold start, once per HTTP client: 1 to 2 ms each,
//! measured by `make bench`.
//! - AWS API calls trust the roots AWS endpoints chain to (Amazon Trust Services' Amazon Root
//!   CA 1-4 and the Starfield root that cross-signs them): five certificates to parse instead
//!   of about 150.
//! - Webhook calls to customer endpoints trust Mozilla's roots (what browsers trust).
//!
//! Both come from `webpki-root-certs` and change only with an upgrade of it.

use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::AdapterError;

/// Subject names of the roots AWS endpoints chain to.
const AWS_ROOT_NAMES: [&str; 2] = [
    "Amazon Root CA ",
    "Starfield Services Root Certificate Authority - G2",
];

fn is_aws_root(certificate: &[u8]) -> bool {
    AWS_ROOT_NAMES.iter().any(|name| {
        certificate
            .windows(name.len())
            .any(|window| window == name.as_bytes())
    })
}

/// The AWS roots as one PEM document (the form the AWS SDK's trust store takes).
fn aws_roots_pem() -> String {
    let mut pem = String::new();
    for certificate in webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter(|certificate| is_aws_root(certificate))
    {
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        pem.push_str(&STANDARD.encode(certificate.as_ref()));
        pem.push_str("\n-----END CERTIFICATE-----\n");
    }
    pem
}

/// The AWS SDK's HTTPS client (hyper, rustls with aws-lc) trusting the AWS roots.
pub fn sdk_http_client() -> Result<SharedHttpClient, AdapterError> {
    sdk_http_client_trusting(aws_roots_pem())
}

/// The AWS SDK's HTTPS client trusting only the certificates of `roots_pem`.
pub(crate) fn sdk_http_client_trusting(roots_pem: String) -> Result<SharedHttpClient, AdapterError> {
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(roots_pem);
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|e| AdapterError::service("TLS context", e))?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https())
}

/// A rustls configuration (aws-lc, TLS 1.2 and 1.3) trusting Mozilla's roots, for calls to
/// customer endpoints.
pub fn rustls_client_config() -> Result<rustls::ClientConfig, AdapterError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AdapterError::service("TLS configuration", e))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aws_roots_are_the_four_amazon_roots_and_starfield() {
        let pem = aws_roots_pem();
        assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 5, "{pem}");
        let mut store = rustls::RootCertStore::empty();
        let aws: Vec<_> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter(|c| is_aws_root(c))
            .cloned()
            .collect();
        assert_eq!(store.add_parsable_certificates(aws), (5, 0));
    }

    #[test]
    fn every_compiled_in_root_is_usable() {
        let mut store = rustls::RootCertStore::empty();
        let (valid, invalid) =
            store.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
        assert!(valid > 100 && invalid == 0, "{valid} valid, {invalid} invalid");
        assert!(sdk_http_client().is_ok());
        assert!(rustls_client_config().is_ok());
    }
}
