//! A TCP proxy in front of the shared broker: stopping it is a broker outage
//! for the gate under test, without disturbing other tests using the broker.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

pub struct Proxy {
    pub addr: SocketAddr,
    upstream: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        Self {
            addr,
            upstream,
            task: Some(tokio::spawn(run(listener, upstream))),
        }
    }

    /// Close the port and every proxied connection.
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Listen again on the same port.
    pub async fn resume(&mut self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("rebind proxy port");
        self.task = Some(tokio::spawn(run(listener, self.upstream)));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn run(listener: TcpListener, upstream: SocketAddr) {
    // Pipes live in the set: aborting this task drops it and closes them all.
    let mut pipes = JoinSet::new();
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            continue;
        };
        pipes.spawn(async move {
            if let Ok(mut server) = TcpStream::connect(upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        });
    }
}
