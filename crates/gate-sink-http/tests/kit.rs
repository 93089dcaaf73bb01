//! The HTTP sink checked by gate-core's sink kit: a local server on a real
//! socket as the working destination, a closed port as the failing one.

use async_trait::async_trait;
use gate_conduit::test_server::{Reply, TestServer};
use gate_core::sink_kit::{check_sink, SinkUnderTest};
use gate_sink_http::HttpSinkFactory;

const SECRET: &str = "http-kit-signing-secret-4d1e";

struct Endpoint {
    server: TestServer,
}

#[async_trait]
impl SinkUnderTest for Endpoint {
    fn working(&self) -> toml::Table {
        let mut table = toml::Table::new();
        table.insert("url".into(), format!("{}/hook", self.server.url()).into());
        table.insert("secret".into(), SECRET.into());
        table.insert("retries".into(), 0.into());
        table
    }

    fn failing(&self) -> toml::Table {
        let mut table = toml::Table::new();
        table.insert("url".into(), "http://127.0.0.1:1/hook".into());
        table.insert("secret".into(), SECRET.into());
        table.insert("retries".into(), 0.into());
        table.insert("timeout_ms".into(), 2000.into());
        table
    }

    fn secrets(&self) -> Vec<String> {
        vec![SECRET.into()]
    }

    async fn received(&self) -> Vec<String> {
        self.server
            .requests()
            .iter()
            .filter_map(|r| r.header("x-gate-delivery").map(str::to_owned))
            .collect()
    }
}

#[tokio::test]
async fn the_http_sink_passes_the_sink_kit() {
    let server = TestServer::start(|_| Reply::status(204))
        .await
        .expect("local server");
    check_sink::<HttpSinkFactory>(&Endpoint { server }).await;
}
