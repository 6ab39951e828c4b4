//! A TCP proxy the test controls, standing between a gateway and PostgreSQL: `cut()` drops
//! every open connection and refuses new ones (a database outage as the gateway sees it),
//! `restore()` lets connections through again. The shared PostgreSQL is never touched.

use std::net::SocketAddr;

use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
};

pub struct Proxy {
    pub addr: SocketAddr,
    cut: watch::Sender<bool>,
}

impl Proxy {
    /// Starts forwarding a fresh local port to `upstream` (call inside a runtime).
    pub fn start(upstream: String) -> Self {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("proxy addr");
        let listener = TcpListener::from_std(std_listener).expect("tokio listener");
        let (cut, watching) = watch::channel(false);
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if *watching.borrow() {
                    drop(inbound); // down: refuse by hanging up at once
                    continue;
                }
                tokio::spawn(forward(inbound, upstream.clone(), watching.clone()));
            }
        });
        Self { addr, cut }
    }

    /// Rewrites a database URL to go through this proxy; returns the upstream `host:port`.
    pub fn upstream_of(url: &str) -> String {
        let after_at = url.rsplit_once('@').map_or(url, |(_, rest)| rest);
        let after_scheme = after_at
            .split_once("://")
            .map_or(after_at, |(_, rest)| rest);
        after_scheme
            .split(['/', '?'])
            .next()
            .expect("host:port")
            .to_owned()
    }

    /// The URL with its `host:port` replaced by the proxy's.
    pub fn route(&self, url: &str) -> String {
        url.replacen(&Self::upstream_of(url), &self.addr.to_string(), 1)
    }

    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}

async fn forward(mut inbound: TcpStream, upstream: String, mut cut: watch::Receiver<bool>) {
    let Ok(mut outbound) = TcpStream::connect(&upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
        _ = cut.wait_for(|down| *down) => {} // both sockets drop here
    }
}
