//! Client connections a service keeps open, and when it lets them go.
//!
//! HTTP/2 keepalive pings (and TCP keepalive underneath) find a peer that went away without
//! closing: a kiosk unplugged, a laptop that slept, a NAT that forgot the flow. A peer that is
//! there but makes no calls is closed after [`IDLE_TIMEOUT`]: a call in flight (a queue watch
//! streams for hours) keeps its connection open however long it lasts, and a client that calls
//! again after the close simply connects anew.
//!
//! Each accepted socket is wrapped in a [`TrackedStream`] whose [`Activity`] reaches the
//! request's extensions (as its connection info); [`crate::rpc::RpcLayer`] counts every call on
//! it from the request until the last byte of its response body.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// How long a connection with no call in flight stays open.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// How often a service pings each client over HTTP/2, and how long it waits for the answer
/// before it closes the connection.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(60);
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// The calls on one connection: how many are in flight and when the last one began or ended.
#[derive(Debug)]
pub struct Activity {
    calls: Mutex<(usize, Instant)>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            calls: Mutex::new((0, Instant::now())),
        }
    }

    /// Counts a call until the returned guard is dropped.
    pub fn begin(self: &Arc<Self>) -> CallOnConnection {
        let mut calls = self.lock();
        calls.0 += 1;
        calls.1 = Instant::now();
        CallOnConnection(Arc::clone(self))
    }

    /// When the connection became idle, or `None` while a call is in flight.
    fn idle_since(&self) -> Option<Instant> {
        let calls = self.lock();
        (calls.0 == 0).then_some(calls.1)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, Instant)> {
        // The counts stay consistent even if a holder panicked: every update is one assignment.
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One call in flight on a connection; dropping it ends the call.
#[derive(Debug)]
pub struct CallOnConnection(Arc<Activity>);

impl Drop for CallOnConnection {
    fn drop(&mut self) {
        let mut calls = self.0.lock();
        calls.0 = calls.0.saturating_sub(1);
        calls.1 = Instant::now();
    }
}

/// What a request learns of its connection: the peer's address and the connection's calls.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    pub tcp: TcpConnectInfo,
    pub activity: Arc<Activity>,
}

/// An accepted socket that reads as closed once it has been idle for `idle`: the server then
/// drops the connection.
pub struct TrackedStream {
    inner: TcpStream,
    activity: Arc<Activity>,
    idle: Duration,
    check: Pin<Box<Sleep>>,
}

impl TrackedStream {
    pub fn new(inner: TcpStream, idle: Duration) -> TrackedStream {
        TrackedStream {
            inner,
            activity: Arc::new(Activity::new()),
            idle,
            check: Box::pin(tokio::time::sleep(idle)),
        }
    }

    /// Whether the connection has been idle for its whole allowance; otherwise sets the next
    /// check to when it would have been, and asks to be woken then.
    fn idle_too_long(&mut self, cx: &mut Context<'_>) -> bool {
        while self.check.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            match self.activity.idle_since() {
                Some(since) if now.duration_since(since) >= self.idle => return true,
                Some(since) => self.check.as_mut().reset(since + self.idle),
                None => self.check.as_mut().reset(now + self.idle),
            }
        }
        false
    }
}

impl Connected for TrackedStream {
    type ConnectInfo = ConnectionInfo;

    fn connect_info(&self) -> ConnectionInfo {
        ConnectionInfo {
            tcp: self.inner.connect_info(),
            activity: Arc::clone(&self.activity),
        }
    }
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // The server always has a read pending on a live connection, so this is where an
        // idle one notices: reading nothing is the end of the stream.
        if self.idle_too_long(cx) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A response body that keeps its call counted on the connection until it has been sent.
pub struct CountedBody<B> {
    inner: B,
    call: Option<CallOnConnection>,
}

impl<B> CountedBody<B> {
    pub fn new(inner: B, call: Option<CallOnConnection>) -> CountedBody<B> {
        CountedBody { inner, call }
    }
}

impl<B> http_body::Body for CountedBody<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, B::Error>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if frame.is_none() {
            self.call = None;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::oneshot;
    use tonic::service::Routes;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

    use crate::db::Database;
    use crate::server::{BoundService, GrpcService};

    const IDLE: Duration = Duration::from_millis(300);

    /// A service that answers only health and reflection, closing idle connections after
    /// [`IDLE`]; it stops when the sender is dropped.
    async fn serving() -> (std::net::SocketAddr, oneshot::Sender<()>, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("idle.db").display());
        let database = Database::connect(&url).await.expect("SQLite opens");
        let service = GrpcService {
            name: "clinic.test.v1.Idle",
            routes: Routes::default(),
            file_descriptor_set: tonic_health::pb::FILE_DESCRIPTOR_SET,
            database,
        };
        let bound = BoundService::bind("127.0.0.1:0".parse().expect("an address"), service)
            .await
            .expect("bound")
            .with_idle_timeout(IDLE);
        let addr = bound.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(bound.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        (addr, stop, dir)
    }

    #[tokio::test]
    async fn a_connection_that_makes_no_calls_is_closed_after_the_idle_time() {
        let (addr, _stop, _dir) = serving().await;
        let mut socket = TcpStream::connect(addr).await.expect("connected");
        // The HTTP/2 preface and an empty SETTINGS frame: a client that then says nothing.
        socket
            .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
            .await
            .expect("written");

        let closed = tokio::time::timeout(Duration::from_secs(10), async {
            let mut buffer = [0_u8; 1024];
            loop {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;

        assert!(
            closed.is_ok(),
            "the idle connection was still open after 10 s"
        );
    }

    #[tokio::test]
    async fn a_call_in_flight_keeps_its_connection_open_past_the_idle_time() {
        let (addr, _stop, _dir) = serving().await;
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .expect("a URL")
            .connect()
            .await
            .expect("connected");
        let mut health = HealthClient::new(channel);
        let mut watch = health
            .watch(HealthCheckRequest::default())
            .await
            .expect("watching")
            .into_inner();
        let first = watch.message().await.expect("an answer").expect("a status");
        assert_eq!(first.status(), ServingStatus::Serving);

        tokio::time::sleep(IDLE * 4).await;

        // Nothing new to say, and the stream has not ended or failed.
        let next = tokio::time::timeout(Duration::from_millis(200), watch.message()).await;
        assert!(next.is_err(), "the watch ended: {next:?}");
        // The same connection still answers a call.
        let checked = health
            .check(HealthCheckRequest::default())
            .await
            .expect("answered");
        assert_eq!(checked.into_inner().status(), ServingStatus::Serving);
    }
}
