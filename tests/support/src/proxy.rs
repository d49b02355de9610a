//! A TCP proxy on loopback that a test can cut and restore, as a network fault or a database
//! restart would: cut, it drops every connection it carries and each new one as soon as it
//! arrives; restored, it forwards again.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

pub struct TcpProxy {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    carried: Arc<Mutex<Vec<AbortHandle>>>,
    accepting: JoinHandle<()>,
}

impl TcpProxy {
    /// A proxy forwarding every connection to `target`.
    pub async fn start(target: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the proxy binds");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let cut = Arc::new(AtomicBool::new(false));
        let carried = Arc::new(Mutex::new(Vec::new()));
        let accepting = tokio::spawn({
            let (cut, carried) = (Arc::clone(&cut), Arc::clone(&carried));
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if cut.load(Ordering::SeqCst) {
                        continue;
                    }
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        continue;
                    };
                    let forwarding = tokio::spawn(async move {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    });
                    carried
                        .lock()
                        .expect("the proxy's list")
                        .push(forwarding.abort_handle());
                }
            }
        });
        TcpProxy {
            addr,
            cut,
            carried,
            accepting,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Drops every connection and, until [`TcpProxy::restore`], each new one.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for connection in self.carried.lock().expect("the proxy's list").drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        self.accepting.abort();
    }
}

/// `url` (`scheme://user@host:port/database`) with its server replaced by `addr`.
pub fn url_through(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (user, rest) = rest.split_once('@').map_or(("", rest), |(u, r)| (u, r));
    let path = rest.find('/').map_or("", |slash| &rest[slash..]);
    let user = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    format!("{scheme}://{user}{addr}{path}")
}

/// The server of `url` (`scheme://user@host:port/database`).
pub async fn server_of(url: &str) -> SocketAddr {
    let (_, rest) = url.split_once("://").expect("a URL with a scheme");
    let rest = rest.split_once('@').map_or(rest, |(_, r)| r);
    let host_port = rest.split('/').next().expect("a server");
    tokio::net::lookup_host(host_port)
        .await
        .expect("the server's name resolves")
        .next()
        .expect("an address")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_goes_through_the_proxy_with_its_user_and_database() {
        let addr: SocketAddr = "127.0.0.1:40001".parse().expect("an address");
        assert_eq!(
            url_through("postgres://postgres@127.0.0.1:5432/clinic_test_1", addr),
            "postgres://postgres@127.0.0.1:40001/clinic_test_1"
        );
        assert_eq!(
            url_through("postgres://db.example:5432/x", addr),
            "postgres://127.0.0.1:40001/x"
        );
    }
}
