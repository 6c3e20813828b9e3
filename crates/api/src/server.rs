//! The HTTP server loop (spec §12.2, limits): every connection is bounded
//! in count and in time, so slow or many clients cannot take the API down.
//!
//! * at most [`MAX_CONNECTIONS`] open connections per node (beyond that the
//!   node stops accepting and new connections wait in the kernel's backlog);
//! * at most [`MAX_PER_ADDRESS`] per client IP address: more are closed at
//!   once, so one machine cannot hold every slot;
//! * a request head must arrive within [`HEADER_TIMEOUT`] (hyper's
//!   header-read timer: slow-loris clients are cut off), and a connection
//!   that sends nothing for [`IDLE_TIMEOUT`] is closed;
//! * body and handler together are bounded by the router's 15 s timeout
//!   (`super::REQUEST_TIMEOUT`).
//!
//! With a TLS acceptor (`crate::tls`) every connection is TLS; the
//! handshake has the same deadline as a request head.
//!
//! On shutdown the loop stops accepting, lets requests in flight finish
//! (at most [`DRAIN`]), and returns.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tower::ServiceExt as _;

/// Most open HTTP connections per node.
pub const MAX_CONNECTIONS: usize = 512;
/// Most open connections from one IP address.
pub const MAX_PER_ADDRESS: usize = 128;
/// Longest a client may take to send a request head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a connection may go without sending a byte (longer than the
/// longest long-poll, `GET /v1/warnings/events?wait=60`).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Longest the server waits for requests in flight at shutdown.
pub const DRAIN: Duration = Duration::from_secs(10);

/// The remote address of a connection (available to handlers as `ConnectInfo<PeerAddr>`).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// Open connections per IP address; a [`Slot`] gives its place back when dropped.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

struct Slot {
    ip: IpAddr,
    table: Arc<PerAddress>,
    _global: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut t = self.table.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = t.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                t.remove(&self.ip);
            }
        }
    }
}

impl PerAddress {
    fn take(self: &Arc<Self>, ip: IpAddr, global: tokio::sync::OwnedSemaphorePermit) -> Option<Slot> {
        let mut t = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = t.entry(ip).or_insert(0);
        if *n >= MAX_PER_ADDRESS {
            return None;
        }
        *n += 1;
        Some(Slot { ip, table: self.clone(), _global: global })
    }
}

/// Whether a request came over TLS (a request extension): how the node
/// names its own address in what it prints (the report's verify link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Serves `app` on `listener` (over TLS with `tls`) until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let global = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let per_address = Arc::new(PerAddress::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = global.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break, // never closed
            },
        };
        let (stream, addr) = tokio::select! {
            () = &mut shutdown => break,
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(target: "credex::api", error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(slot) = per_address.take(addr.ip(), permit) else {
            tracing::debug!(target: "credex::api", %addr, "too many connections from this address; closed");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut stop = stop_rx.clone();
        // finished connections are reaped as we go, so the set stays small
        while tasks.try_join_next().is_some() {}
        let tls = tls.clone();
        tasks.spawn(async move {
            let _slot = slot;
            let io = IdleTimeout::new(stream, IDLE_TIMEOUT);
            match tls {
                None => connection(TokioIo::new(io), app, addr, Scheme::Http, &mut stop).await,
                // the handshake is bounded like a request head
                Some(acceptor) => match tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(io)).await {
                    Ok(Ok(s)) => connection(TokioIo::new(s), app, addr, Scheme::Https, &mut stop).await,
                    Ok(Err(e)) => tracing::debug!(target: "credex::api", %addr, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(target: "credex::api", %addr, "TLS handshake timed out"),
                },
            }
        });
    }
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(DRAIN, async { while tasks.join_next().await.is_some() {} }).await;
    Ok(())
}

/// One HTTP/1.1 connection: requests with the peer's address, until it
/// ends or the server stops (then requests in flight finish, within [`DRAIN`]).
async fn connection<I>(
    io: I,
    app: Router,
    addr: SocketAddr,
    scheme: Scheme,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ConnectInfo(PeerAddr(addr)));
        req.extensions_mut().insert(scheme);
        app.clone().oneshot(req.map(axum::body::Body::new))
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT).keep_alive(true);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(target: "credex::api", %addr, error = %e, "connection ended");
            }
        }
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN, conn).await;
        }
    }
}

/// A stream that fails reads once no byte has arrived for `idle`: a
/// kept-alive connection cannot hold its slot forever. (Reads inside a
/// request head are bounded by hyper's header timer already.)
struct IdleTimeout {
    inner: tokio::net::TcpStream,
    idle: Duration,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl IdleTimeout {
    fn new(inner: tokio::net::TcpStream, idle: Duration) -> IdleTimeout {
        IdleTimeout { inner, idle, deadline: Box::pin(tokio::time::sleep(idle)) }
    }
}

impl tokio::io::AsyncRead for IdleTimeout {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        match std::pin::Pin::new(&mut self.inner).poll_read(cx, buf) {
            std::task::Poll::Ready(r) => {
                if buf.filled().len() > before {
                    let next = tokio::time::Instant::now() + self.idle;
                    self.deadline.as_mut().reset(next);
                }
                std::task::Poll::Ready(r)
            }
            std::task::Poll::Pending => match self.deadline.as_mut().poll(cx) {
                std::task::Poll::Ready(()) => std::task::Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connection idle too long",
                ))),
                std::task::Poll::Pending => std::task::Poll::Pending,
            },
        }
    }
}

impl tokio::io::AsyncWrite for IdleTimeout {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
