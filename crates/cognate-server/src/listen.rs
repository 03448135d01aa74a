//! The accept loop: plain HTTP or TLS (rustls), HTTP/1.1 and HTTP/2, with the connection
//! hygiene a server on a network needs, and a bounded graceful shutdown.
//!
//! `axum::serve` has no header read timeout, no connection limit and no TLS, so a slow client
//! could hold connections open until the file descriptors ran out. Here:
//! - a request head (and an idle keep-alive connection's next head) must arrive within the
//!   header read timeout, and a TLS handshake within the same bound;
//! - at most `max_connections` connections are served at once: beyond that, new ones wait in
//!   the kernel's backlog instead of costing descriptors and memory;
//! - a request head is bounded in size (HTTP/1.1 answers 431; HTTP/2 refuses the stream);
//! - on shutdown the listener closes at once, in-flight requests get `shutdown_grace` to
//!   finish, and then the remaining connections are dropped.
//!
//! Body read timeouts are applied where the body is read (`http::api`).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// How connections are accepted and bounded.
#[derive(Clone)]
pub struct ListenOptions {
    /// TLS configuration; `None` serves plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// A request head, an idle connection's next head and a TLS handshake must arrive within
    /// this.
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// The largest request head accepted, in bytes.
    pub max_header_bytes: usize,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace: Duration,
}

/// hyper refuses HTTP/1 read buffers smaller than this.
const HYPER_MIN_BUF: usize = 8192;

/// Loads a PEM certificate chain and private key into a rustls server configuration that
/// offers HTTP/2 and HTTP/1.1 (ALPN). The key's text never reaches an error message.
pub fn load_tls(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("reading the certificate {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("no certificate in {}", cert.display()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .map_err(|_| format!("no readable PEM private key in {}", key.display()))?;
    // Both ring and aws-lc-rs are linked (through the AWS SDKs), so the provider is named.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| format!("the certificate and key do not form a usable pair: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `router` on `listener` until `shutdown` completes, then drains within the grace
/// period.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ListenOptions,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(options.max_header_bytes.max(HYPER_MIN_BUF));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(options.max_header_bytes).unwrap_or(u32::MAX))
        // An HTTP/2 connection that stops answering pings is closed.
        .keep_alive_interval(Some(options.header_read_timeout))
        .keep_alive_timeout(options.header_read_timeout);
    // hyper-util's protocol detection waits for the first bytes without a bound, so it is
    // used only after a first byte has arrived in time (plain HTTP); over TLS, ALPN names the
    // protocol and no detection is needed.
    let builders = Arc::new(Builders {
        h1: builder.clone().http1_only(),
        h2: builder.clone().http2_only(),
        detect: builder,
    });
    let acceptor = options.tls.clone().map(TlsAcceptor::from);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // Wait for a free slot before accepting, so excess clients queue in the backlog.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: not fatal.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = hyper::service::service_fn({
            let router = router.clone();
            move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                tower_service::Service::call(&mut router.clone(), request)
            }
        });
        let watcher = graceful.watcher();
        let builders = builders.clone();
        let acceptor = acceptor.clone();
        let first_bytes_within = options.header_read_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            let result = match acceptor {
                None => {
                    if !first_byte_arrives(&stream, first_bytes_within).await {
                        return;
                    }
                    let conn = builders
                        .detect
                        .serve_connection_with_upgrades(TokioIo::new(stream), service);
                    watcher.watch(conn.into_owned()).await
                }
                Some(acceptor) => {
                    let Some(tls) = handshake(acceptor, stream, peer, first_bytes_within).await
                    else {
                        return;
                    };
                    let builder = if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                        &builders.h2
                    } else {
                        &builders.h1
                    };
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
                    watcher.watch(conn.into_owned()).await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!(
        grace_ms = options.shutdown_grace.as_millis() as u64,
        "shutting down: no new connections; finishing in-flight requests"
    );
    if tokio::time::timeout(options.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace period over: closing the remaining connections");
    }
    Ok(())
}

struct Builders {
    h1: auto::Builder<TokioExecutor>,
    h2: auto::Builder<TokioExecutor>,
    detect: auto::Builder<TokioExecutor>,
}

/// Whether the client sends something within `within` (a connection that never speaks is
/// closed instead of holding a slot).
async fn first_byte_arrives(stream: &TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(within, stream.peek(&mut byte)).await,
        Ok(Ok(n)) if n > 0
    )
}

async fn handshake(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    peer: SocketAddr,
    within: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(within, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => Some(tls),
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            None
        }
    }
}
