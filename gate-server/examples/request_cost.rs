//! The cost of requests without a socket: signed GitHub pushes through
//! `gate_server::route` one after the other, to a door whose sink only logs
//! (no subscriber here, so nothing is printed), so that
//! `valgrind --tool=callgrind` counts the gateway's own instructions
//! (bench/callgrind.sh subtracts a run of 0 requests from a run of N).
//!
//! Usage: request_cost REQUESTS [--glob-rules N] [--keyword-rules N]
//!        [--body FILE] [--file PATH]
//! `--glob-rules`/`--keyword-rules` add N group rules that never match;
//! `--file` delivers to an fsynced file instead of the log. Prints the peak
//! RSS growth (VmHWM after minus VmRSS before the requests) on stderr.

use std::fmt::Write as _;

use std::convert::Infallible;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use http_body_util::StreamBody;
use hyper::body::Frame;

const SECRET: &str = "bench-secret";
/// Bodies arrive from hyper in pieces; so they do here.
const CHUNK: usize = 64 * 1024;

struct Options {
    requests: usize,
    glob_rules: usize,
    keyword_rules: usize,
    body: std::path::PathBuf,
    file: Option<std::path::PathBuf>,
}

fn options() -> Result<Options> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        requests: args.next().context("REQUESTS")?.parse()?,
        glob_rules: 0,
        keyword_rules: 0,
        body: concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../payloads/github/push-forced.json"
        )
        .into(),
        file: None,
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--glob-rules" => options.glob_rules = value.parse()?,
            "--keyword-rules" => options.keyword_rules = value.parse()?,
            "--body" => options.body = value.into(),
            "--file" => options.file = Some(value.into()),
            other => bail!("unknown option {other}"),
        }
    }
    Ok(options)
}

fn config(options: &Options) -> String {
    let sink = match &options.file {
        Some(path) => format!("kind = \"file\"\npath = {:?}\nlog = false", path.display()),
        None => "kind = \"file\"\nlog = true".to_owned(),
    };
    let mut text = format!(
        "[sinks.out]\n{sink}\n[sources.GitHub.doors.bench]\nsinks = [\"out\"]\nsecrets = [\"{SECRET}\"]\n"
    );
    for i in 0..options.glob_rules {
        let _ = write!(
            text,
            "[[sources.GitHub.doors.bench.groups]]\ngroup = \"g{i}\"\nrepositories = [\"team-{i}-*\"]\n"
        );
    }
    for i in 0..options.keyword_rules {
        let _ = write!(
            text,
            "[[sources.GitHub.doors.bench.groups]]\ngroup = \"k{i}\"\nkeywords = [\"word{i}x\"]\n"
        );
    }
    text
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

type Chunks = futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>;

fn chunked(body: &Bytes) -> StreamBody<Chunks> {
    let frames: Vec<_> = (0..body.len())
        .step_by(CHUNK)
        .map(|start| {
            Ok(Frame::data(
                body.slice(start..body.len().min(start + CHUNK)),
            ))
        })
        .collect();
    StreamBody::new(futures_util::stream::iter(frames))
}

fn main() -> Result<()> {
    let options = options()?;
    let body = Bytes::from(std::fs::read(&options.body).context("body file")?);
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let signature = format!("sha256={}", hex::encode(ring::hmac::sign(&key, &body)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let registry = gate_server::registry()?;
        let config = gate_server::Config::parse("bench.toml", &config(&options), [])?;
        let gateway =
            gate_server::Gateway::build(config, registry).map_err(|e| anyhow::anyhow!("{e}"))?;
        let before = rss_kib("VmRSS:");
        for i in 0..options.requests {
            let request = http::Request::post("/gate/GitHub/bench")
                .header("content-type", "application/json")
                .header("content-length", body.len())
                .header("x-github-event", "push")
                .header("x-github-delivery", format!("cost-{i}"))
                .header("x-hub-signature-256", &signature)
                .body(chunked(&body))?;
            let response = gate_server::route(&gateway, request, None).await;
            if response.status() != http::StatusCode::OK {
                bail!("request {i}: status {}", response.status());
            }
        }
        eprintln!(
            "peak RSS growth: {:.1} MiB for a body of {:.1} MiB",
            rss_kib("VmHWM:").saturating_sub(before) as f64 / 1024.0,
            body.len() as f64 / 1_048_576.0
        );
        Ok(())
    })
}
