//! The upstream's completions, read by the generation's own task over HTTP/1.1: plain TCP
//! for an `http://` upstream (a model server on the same host or network, the bench's fake
//! upstream), TLS for `https://` (DeepSeek).
//!
//! reqwest runs every connection in a task of its own and hands each chunk to the reader
//! through a channel: one more task woken per token. Here hyper's HTTP/1 client connection is
//! polled by the response body itself ([`PooledBody`]), and rustls decrypts in that same
//! poll, so a chunk goes from the socket to the SSE decoder in one task (figures in
//! `openai.rs`). Connections whose response was read to its end wait in a pool for the next
//! request. Only HTTP/1.1 is spoken (ALPN `http/1.1`): one connection per concurrent reply,
//! where reqwest over TLS would multiplex replies on HTTP/2 connections. TLS trusts the same
//! roots reqwest was built with (webpki-roots).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::http::{HeaderMap, Request, Response};
use bytes::Bytes;
use futures_util::{FutureExt, Stream, StreamExt};
use http_body_util::Full;
use hyper::body::Body as _;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;
use tokio_util::either::Either;

/// Most connections kept between requests. Each request gives its connection back, so the
/// pool holds at most the peak of concurrent requests (`RELAY_MAX_UPSTREAM`); this bounds it
/// whatever that is set to.
const MAX_IDLE: usize = 4096;

/// How long a body dropped before its end may take to finish in the background, so that its
/// connection can serve another request. The generation stops reading at the answer's
/// `[DONE]`, and the body's last chunk follows it at once; a body still streaming after this
/// is closed, which tells the upstream to stop.
const FINISH_WITHIN: Duration = Duration::from_millis(250);

/// A connection's byte stream: TCP, or TLS over TCP.
type Transport = Either<TcpStream, TlsStream<TcpStream>>;

type Connection = Pin<Box<http1::Connection<TokioIo<Transport>, Full<Bytes>>>>;

/// A connection and its request half, between two requests.
struct Idle {
    sender: SendRequest<Full<Bytes>>,
    connection: Connection,
}

/// The upstream's address and the connections kept alive to it.
pub struct Http1Pool {
    /// The host to connect to: a name or an address (an IPv6 one without brackets).
    host: String,
    port: u16,
    /// `host:port`, for the `Host` header (an IPv6 address in brackets).
    authority: String,
    /// For `https://`: the TLS client and the name the upstream's certificate must carry.
    tls: Option<(TlsConnector, ServerName<'static>)>,
    connect_timeout: Duration,
    idle: Mutex<Vec<Idle>>,
}

impl std::fmt::Debug for Http1Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http1Pool")
            .field("authority", &self.authority)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
pub enum Http1Error {
    #[error("connect: {0}")]
    Connect(std::io::Error),
    #[error("connect: no connection within {0:?}")]
    ConnectTimeout(Duration),
    #[error("tls: {0}")]
    Tls(std::io::Error),
    #[error("{0}")]
    Http(#[from] hyper::Error),
    #[error("the connection closed before the response")]
    Closed,
    #[error("request: {0}")]
    Request(#[from] axum::http::Error),
}

/// The roots an `https://` upstream's certificate must chain to: webpki-roots, and `extra`
/// (`DEEPSEEK_CA_FILE`, checked usable when the configuration was read).
pub fn trusted_roots(extra: &[CertificateDer<'static>]) -> RootCertStore {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    roots.add_parsable_certificates(extra.iter().cloned());
    roots
}

impl Http1Pool {
    /// For an `http://` or `https://` URL's host and port (`https://` trusting `roots`);
    /// `None` for any other scheme or a host TLS cannot name.
    pub fn for_url(
        url: &reqwest::Url,
        connect_timeout: Duration,
        roots: RootCertStore,
    ) -> Option<Arc<Http1Pool>> {
        let authority_host = url.host_str()?;
        let host = authority_host.trim_matches(['[', ']']).to_owned();
        let tls = match url.scheme() {
            "http" => None,
            "https" => Some((
                tls_connector(roots)?,
                ServerName::try_from(host.clone()).ok()?,
            )),
            _ => return None,
        };
        let port = url.port_or_known_default()?;
        Some(Arc::new(Http1Pool {
            authority: format!("{authority_host}:{port}"),
            host,
            port,
            tls,
            connect_timeout,
            idle: Mutex::default(),
        }))
    }

    /// `POST`s `body` to `path` (origin form, `/v1/chat/completions`) with `headers`, on a
    /// kept-alive connection when one is still open, else on a new one.
    pub async fn post(
        self: &Arc<Self>,
        path: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Response<PooledBody>, Http1Error> {
        loop {
            let (idle, kept) = match self.take_idle() {
                Some(idle) => (idle, true),
                None => (self.connect().await?, false),
            };
            match send(idle, self.request(path, headers, body.clone())?).await {
                Ok((response, idle)) => return Ok(self.pooled(response, idle)),
                // The upstream closed a kept one while it waited: nothing was sent, so try
                // the next.
                Err(Sent::NotSent) if kept => continue,
                Err(Sent::NotSent) => return Err(Http1Error::Closed),
                Err(Sent::Failed(error)) => return Err(error),
            }
        }
    }

    fn request(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Request<Full<Bytes>>, Http1Error> {
        let mut request = Request::post(path)
            .header(axum::http::header::HOST, &self.authority)
            .body(Full::new(body))?;
        request.headers_mut().extend(headers.clone());
        Ok(request)
    }

    fn pooled(
        self: &Arc<Self>,
        response: Response<hyper::body::Incoming>,
        idle: Option<Idle>,
    ) -> Response<PooledBody> {
        response.map(|body| PooledBody {
            body: Some(body),
            idle,
            pool: Arc::clone(self),
            finishing: false,
        })
    }

    async fn connect(&self) -> Result<Idle, Http1Error> {
        let transport = tokio::time::timeout(self.connect_timeout, self.open())
            .await
            .map_err(|_| Http1Error::ConnectTimeout(self.connect_timeout))??;
        let (sender, connection) = http1::handshake(TokioIo::new(transport)).await?;
        Ok(Idle {
            sender,
            connection: Box::pin(connection),
        })
    }

    /// A TCP connection to the upstream, with TLS over it for `https://`.
    async fn open(&self) -> Result<Transport, Http1Error> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(Http1Error::Connect)?;
        // One event per token: each should leave as soon as it is read.
        tcp.set_nodelay(true).map_err(Http1Error::Connect)?;
        let Some((connector, server_name)) = &self.tls else {
            return Ok(Either::Left(tcp));
        };
        let tls = connector
            .connect(server_name.clone(), tcp)
            .await
            .map_err(Http1Error::Tls)?;
        Ok(Either::Right(tls))
    }

    fn take_idle(&self) -> Option<Idle> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    fn keep(&self, idle: Idle) {
        let mut pool = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < MAX_IDLE {
            pool.push(idle);
        }
    }
}

/// A TLS client trusting `roots`, speaking HTTP/1.1 only; `None` if rustls refuses its
/// defaults (it does not with ring).
fn tls_connector(roots: RootCertStore) -> Option<TlsConnector> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Some(TlsConnector::from(Arc::new(config)))
}

/// How a request on a connection failed.
enum Sent {
    /// The connection had closed before the request could go out.
    NotSent,
    Failed(Http1Error),
}

/// Sends `request` on `idle`, polling its connection meanwhile; gives the connection back
/// with the response while it is still open.
async fn send(
    mut idle: Idle,
    request: Request<Full<Bytes>>,
) -> Result<(Response<hyper::body::Incoming>, Option<Idle>), Sent> {
    // A connection whose last response was read to its end is ready once polled; one the
    // upstream closed in the meantime ends here.
    if idle.connection.as_mut().now_or_never().is_some() {
        return Err(Sent::NotSent);
    }
    match drive(&mut idle.connection, idle.sender.ready()).await {
        Ok((Ok(()), Open::Yes)) => {}
        _ => return Err(Sent::NotSent),
    }
    match drive(&mut idle.connection, idle.sender.send_request(request)).await {
        Ok((Ok(response), Open::Yes)) => Ok((response, Some(idle))),
        // The whole response came with the connection's end (`Connection: close`).
        Ok((Ok(response), Open::No)) => Ok((response, None)),
        Ok((Err(error), _)) if error.is_canceled() => Err(Sent::NotSent),
        Ok((Err(error), _)) => Err(Sent::Failed(error.into())),
        Err(error) => Err(Sent::Failed(error)),
    }
}

/// Whether a connection is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Yes,
    No,
}

/// Polls `future` and the connection that carries it together, until `future` is done;
/// says whether the connection is still open then. An error when the connection ended
/// without it. (An ended connection is not polled again.)
async fn drive<F: Future>(
    connection: &mut Connection,
    future: F,
) -> Result<(F::Output, Open), Http1Error> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok((output, Open::Yes)));
        }
        let ended = ready!(connection.as_mut().poll(cx));
        // What the connection read before it ended may have finished the future.
        Poll::Ready(match (future.as_mut().poll(cx), ended) {
            (Poll::Ready(output), _) => Ok((output, Open::No)),
            (Poll::Pending, Ok(())) => Err(Http1Error::Closed),
            (Poll::Pending, Err(error)) => Err(error.into()),
        })
    })
    .await
}

/// A response body that polls its own connection. Read to its end, the connection goes back
/// to the pool; dropped before, it is finished in a task of its own for at most
/// [`FINISH_WITHIN`], then goes back to the pool or closes.
pub struct PooledBody {
    /// `None` once handed to the task that finishes it.
    body: Option<hyper::body::Incoming>,
    /// `None` once the connection ended.
    idle: Option<Idle>,
    pool: Arc<Http1Pool>,
    /// Whether this is the task's copy: dropped, it closes the connection.
    finishing: bool,
}

impl Drop for PooledBody {
    fn drop(&mut self) {
        if self.finishing || self.idle.is_none() {
            return;
        }
        let (Some(body), Ok(runtime)) = (self.body.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let rest = PooledBody {
            body: Some(body),
            idle: self.idle.take(),
            pool: Arc::clone(&self.pool),
            finishing: true,
        };
        runtime.spawn(async move {
            let read_to_end = rest.for_each(|_| std::future::ready(()));
            let _ = tokio::time::timeout(FINISH_WITHIN, read_to_end).await;
        });
    }
}

impl Stream for PooledBody {
    type Item = Result<Bytes, hyper::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(idle) = &mut self.idle {
            if let Poll::Ready(ended) = idle.connection.as_mut().poll(cx) {
                self.idle = None;
                if let Err(error) = ended {
                    return Poll::Ready(Some(Err(error)));
                }
            }
        }
        let Some(body) = &mut self.body else {
            return Poll::Ready(None);
        };
        loop {
            match ready!(Pin::new(&mut *body).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return Poll::Ready(Some(Ok(data)));
                    }
                }
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => {
                    if let Some(idle) = self.idle.take() {
                        self.pool.keep(idle);
                    }
                    return Poll::Ready(None);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::PrivateKeyDer;
    use tokio_rustls::rustls::ServerConfig;
    use tokio_rustls::TlsAcceptor;

    use super::*;

    /// A test-only CA, and a certificate it signed for `localhost` and `127.0.0.1`, valid
    /// for 100 years from December 2026 (how they were made: `relay/tests/fixtures/tls/`).
    const TEST_CA: &[u8] = include_bytes!("../../tests/fixtures/tls/ca.pem");
    const LOCALHOST_CERT: &[u8] = include_bytes!("../../tests/fixtures/tls/localhost.pem");
    const LOCALHOST_KEY: &[u8] = include_bytes!("../../tests/fixtures/tls/localhost.key");

    fn url(text: &str) -> reqwest::Url {
        text.parse().unwrap()
    }

    /// webpki-roots and the test CA, as `DEEPSEEK_CA_FILE` would give them.
    fn test_ca() -> RootCertStore {
        trusted_roots(&[CertificateDer::from_pem_slice(TEST_CA).unwrap()])
    }

    fn localhost_tls() -> TlsAcceptor {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cert = CertificateDer::from_pem_slice(LOCALHOST_CERT).unwrap();
        let key = PrivateKeyDer::from_pem_slice(LOCALHOST_KEY).unwrap();
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        TlsAcceptor::from(Arc::new(config))
    }

    #[test]
    fn http_and_https_base_urls_are_read_in_task() {
        let timeout = Duration::from_secs(1);
        let pool = |text| Http1Pool::for_url(&url(text), timeout, trusted_roots(&[]));
        let plain = pool("http://127.0.0.1:8080/v1").unwrap();
        assert_eq!(
            (plain.authority.as_str(), plain.tls.is_some()),
            ("127.0.0.1:8080", false)
        );
        assert_eq!(
            pool("http://models.local/v1").unwrap().authority,
            "models.local:80"
        );
        let ipv6 = pool("http://[::1]:8080/v1").unwrap();
        assert_eq!(
            (ipv6.host.as_str(), ipv6.authority.as_str()),
            ("::1", "[::1]:8080")
        );
        let deepseek = pool("https://api.deepseek.com").unwrap();
        assert_eq!(
            (deepseek.authority.as_str(), deepseek.tls.is_some()),
            ("api.deepseek.com:443", true)
        );
        assert!(pool("ftp://models.local/v1").is_none());
    }

    /// Answers every request on a connection with `body`, chunked, its last chunk in a write
    /// of its own, keeping the connection alive.
    async fn answer_keep_alive<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, body: &str) {
        let mut buf = vec![0; 4096];
        // Each test request arrives in one read: headers and a short body.
        while stream.read(&mut buf).await.is_ok_and(|n| n > 0) {
            let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
            let chunk = format!("{:x}\r\n{body}\r\n", body.len());
            let _ = stream.write_all(format!("{head}{chunk}").as_bytes()).await;
            let _ = stream.write_all(b"0\r\n\r\n").await;
            let _ = stream.flush().await;
        }
    }

    /// A keep-alive HTTP/1.1 server (over TLS with `tls`) answering with `body`; the pool
    /// for its `localhost` URL, trusting `roots`, and a count of the connections accepted.
    async fn keep_alive_server(
        body: &'static str,
        tls: Option<TlsAcceptor>,
        roots: RootCertStore,
    ) -> (Arc<Http1Pool>, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let port = listener.local_addr().unwrap().port();
        let base_url = format!("{scheme}://localhost:{port}/v1");
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        None => answer_keep_alive(tcp, body).await,
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(tcp).await {
                                answer_keep_alive(stream, body).await;
                            }
                        }
                    }
                });
            }
        });
        let pool = Http1Pool::for_url(&url(&base_url), Duration::from_secs(5), roots).unwrap();
        (pool, accepted)
    }

    async fn try_post(pool: &Arc<Http1Pool>) -> Result<Response<PooledBody>, Http1Error> {
        let body = Bytes::from_static(b"{}");
        let headers = HeaderMap::new();
        pool.post("/v1/chat/completions", &headers, body).await
    }

    async fn post(pool: &Arc<Http1Pool>) -> Response<PooledBody> {
        try_post(pool).await.unwrap()
    }

    async fn read_body(mut body: PooledBody) -> String {
        let mut text = String::new();
        while let Some(chunk) = body.next().await {
            text.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        }
        text
    }

    /// Three requests, each body read to its end: all on one connection.
    async fn three_requests_on_one_connection(tls: Option<TlsAcceptor>) {
        let (pool, accepted) = keep_alive_server("data: [DONE]\n\n", tls, test_ca()).await;
        for _ in 0..3 {
            let response = post(&pool).await;
            assert_eq!(response.status(), 200);
            assert_eq!(read_body(response.into_body()).await, "data: [DONE]\n\n");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_gives_its_connection_to_the_next_request() {
        three_requests_on_one_connection(None).await;
    }

    #[tokio::test]
    async fn an_https_upstream_is_read_over_tls_on_kept_connections() {
        three_requests_on_one_connection(Some(localhost_tls())).await;
    }

    #[tokio::test]
    async fn an_https_upstream_whose_certificate_the_roots_do_not_trust_is_refused() {
        let (pool, _) = keep_alive_server(
            "data: [DONE]\n\n",
            Some(localhost_tls()),
            trusted_roots(&[]),
        )
        .await;
        let Err(error) = try_post(&pool).await else {
            panic!("a certificate from the test CA was accepted without it");
        };
        assert!(matches!(error, Http1Error::Tls(_)), "{error}");
        assert!(error.to_string().contains("certificate"), "{error}");
    }

    #[tokio::test]
    async fn a_body_dropped_just_before_its_end_is_finished_and_its_connection_kept() {
        let (pool, accepted) = keep_alive_server("data: [DONE]\n\n", None, test_ca()).await;
        for _ in 0..3 {
            let response = post(&pool).await;
            let mut body = response.into_body();
            // What the generation does: stop at `[DONE]`, before the last chunk.
            assert!(body.next().await.unwrap().is_ok());
            drop(body);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_connection_the_upstream_closed_while_idle_is_replaced() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        // One request per connection, then close, though the response says keep-alive.
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                let mut buf = vec![0; 4096];
                let _ = tcp.read(&mut buf).await;
                let _ = tcp
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    .await;
            }
        });
        let pool = Http1Pool::for_url(&url(&base_url), Duration::from_secs(5), trusted_roots(&[]))
            .unwrap();
        for _ in 0..2 {
            let response = post(&pool).await;
            assert_eq!(read_body(response.into_body()).await, "ok");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
