//! Micro-benchmarks of the GitHub source: the signature check alone, and the
//! whole `receive` (headers, signature, typed parse, text, group) per event
//! type. `cargo bench -p gate-source-github`.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gate_core::signature::{sign_hmac_hex, verify_hmac_hex, HmacAlgorithm};
use gate_core::{DynSource, OpenDoor, Request, Secret};
use gate_source_github::GitHub;

const SECRET: &str = "bench-secret";
const EVENTS: [(&str, &str); 8] = [
    ("push", "push-forced"),
    ("push", "push-three-commits"),
    ("ping", "ping"),
    ("pull_request", "pull-request-opened"),
    ("issues", "issues-opened"),
    ("issue_comment", "issue-comment-created"),
    ("workflow_run", "workflow-run-completed-failure"),
    ("release", "release-published"),
];

/// The GitHub source never awaits: one poll completes it.
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the GitHub source does not wait"),
    }
}

fn payload(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../payloads/github/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("payload")
}

fn door(source: &dyn DynSource) -> OpenDoor {
    let table: toml::Table = toml::from_str(&format!(
        "secrets = [\"{SECRET}\"]\n[[groups]]\ngroup = \"web\"\nrepositories = [\"*-site\"]"
    ))
    .expect("toml");
    source.open_door("acme", table, "bench").expect("door")
}

fn signature(c: &mut Criterion) {
    let body = payload("push-forced");
    let tag = sign_hmac_hex(HmacAlgorithm::Sha256, SECRET.as_bytes(), &body);
    let secrets = [Secret::resolve(SECRET).expect("secret")];
    let mut group = c.benchmark_group("signature");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("hmac_sha256_verify_8k", |b| {
        b.iter(|| {
            assert!(verify_hmac_hex(
                HmacAlgorithm::Sha256,
                &secrets,
                &body,
                &tag
            ))
        })
    });
    group.finish();
}

fn receive(c: &mut Criterion) {
    let source = gate_core::erase(GitHub);
    let door = door(source.as_ref());
    let mut group = c.benchmark_group("receive");
    for (event, file) in EVENTS {
        let body = payload(file);
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", "application/json".parse().expect("header"));
        headers.insert("x-github-event", event.parse().expect("header"));
        headers.insert("x-github-delivery", "bench".parse().expect("header"));
        let signature = format!(
            "sha256={}",
            sign_hmac_hex(HmacAlgorithm::Sha256, SECRET.as_bytes(), &body)
        );
        headers.insert("x-hub-signature-256", signature.parse().expect("header"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(file, |b| {
            b.iter(|| {
                let request = Request {
                    headers: &headers,
                    body: &body,
                    query: None,
                    peer: None,
                };
                let received = ready(source.receive(&request, &door)).expect("accepted");
                assert_eq!(received.notifications.len(), 1);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, signature, receive);
criterion_main!(benches);
