//! The HTTP sink checked by gate-core's sink kit: a local server on a real
//! socket as the working destination, a closed port as the failing one.

use async_trait::async_trait;
use gate_conduit::test_server::{Reply, TestServer};
use gate_core::sink_kit::{check_sink, SinkUnderTest};
use gate_sink_http::{HttpSinkConfig, HttpSinkFactory};

const SECRET: &str = "http-kit-signing-secret-4d1e";

struct Endpoint {
    server: TestServer,
}

#[async_trait]
impl SinkUnderTest for Endpoint {
    type Factory = HttpSinkFactory;

    fn working(&self) -> HttpSinkConfig {
        let url = format!("{}/hook", self.server.url());
        toml::from_str(&format!("url = {url:?}\nsecret = {SECRET:?}\nretries = 0"))
            .expect("http settings")
    }

    fn failing(&self) -> HttpSinkConfig {
        toml::from_str(&format!(
            "url = \"http://127.0.0.1:1/hook\"\nsecret = {SECRET:?}\nretries = 0\ntimeout_ms = 2000"
        ))
        .expect("http settings")
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
