//! A plain hyper 1 server that owns its listener and serves the gateway
//! beside its own routes. The application keeps control of the accept loop,
//! connection settings and shutdown; the gateway is a running
//! [`gate_server::Gate`] (spool, redelivery, deduplication, reload), called
//! through [`GatewayTower::route`] for the requests it should answer.

use bytes::Bytes;
use gate_server::GatewayTower;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use tokio::net::TcpListener;

/// Accept connections until `shutdown` completes, then wait for the
/// requests in flight. The caller shuts the gate down afterwards.
pub async fn serve(
    listener: TcpListener,
    gateway: GatewayTower,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Usually out of file descriptors: pause, do not spin.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let gateway = gateway.clone();
                let service = service_fn(move |request| {
                    handle(gateway.clone(), peer.ip(), request)
                });
                let connection = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The application's routing: its own `/hello`, the gateway for the rest.
/// The peer address is passed on for sources with IP allow-lists.
async fn handle(
    gateway: GatewayTower,
    peer: IpAddr,
    request: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    if request.uri().path() == "/hello" {
        return Ok(http::Response::new(Full::new(Bytes::from_static(
            b"hello from the hyper application\n",
        ))));
    }
    Ok(gateway.route(request, Some(peer)).await)
}
