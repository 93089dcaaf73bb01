//! Hostile clients against a running gate-server, for scripts/hostile-bench.sh.
//!
//! `hostile_bench connections ADDR SECRET BODY SILENT SLOWLORIS PREFACE REQUESTS`
//!   holds SILENT + SLOWLORIS + PREFACE connections open from 127.0.0.1
//!   (reopening each as soon as the server closes it, after 1 s) while a
//!   signed sender on 127.0.0.2 posts REQUESTS pushes one after the other,
//!   each on a new connection; prints how many were answered 200 within 2 s.
//! `hostile_bench bodies ADDR PID SECRET COUNT MIB (bad|signed) BODY`
//!   posts COUNT bodies of MIB MiB at once (a bad signature, or signed GitHub
//!   pushes padded to that size) and samples the server's RSS (PID) during
//!   and after; prints the statuses, the peak and the RSS that remains.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
const SENDER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    match args.first().map(String::as_str) {
        Some("connections") if args.len() == 8 => runtime.block_on(connections(&args[1..])),
        Some("bodies") if args.len() == 8 => runtime.block_on(bodies(&args[1..])),
        _ => {
            eprintln!("usage: see the top of gate-server/examples/hostile_bench.rs");
            std::process::exit(2);
        }
    }
}

fn number(text: &str) -> usize {
    text.parse()
        .unwrap_or_else(|_| panic!("not a number: {text}"))
}

fn signature(secret: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    format!(
        "sha256={}",
        hex::encode(ring::hmac::sign(&key, body).as_ref())
    )
}

async fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(to).await
}

/// Read until the server closes (or `limit`); the bytes received.
async fn until_closed(stream: &mut TcpStream, limit: Duration) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let _ = tokio::time::timeout(limit, async {
        while let Ok(n) = stream.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buffer[..n]);
        }
    })
    .await;
    received
}

#[derive(Clone, Copy)]
enum Attack {
    Silent,
    Slowloris,
    Preface,
}

async fn attack(
    kind: Attack,
    server: SocketAddr,
    stop: Arc<AtomicBool>,
    held: Arc<AtomicUsize>,
    opened: Arc<AtomicUsize>,
) {
    let headers = b"POST /gate/GitHub/bench HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = connect_from(ATTACKER, server).await else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        opened.fetch_add(1, Ordering::Relaxed);
        held.fetch_add(1, Ordering::Relaxed);
        match kind {
            Attack::Silent => {
                until_closed(&mut stream, Duration::from_secs(3600)).await;
            }
            Attack::Preface => {
                if stream.write_all(PREFACE).await.is_ok() {
                    until_closed(&mut stream, Duration::from_secs(3600)).await;
                }
            }
            Attack::Slowloris => {
                for byte in headers.iter().cycle() {
                    if stop.load(Ordering::Relaxed) || stream.write_all(&[*byte]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        held.fetch_sub(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A signed push on a new connection from the sender's address: the status
/// and how long the whole exchange took.
async fn push(server: SocketAddr, secret: &str, body: &[u8], n: usize) -> Option<u16> {
    let mut stream = connect_from(SENDER, server).await.ok()?;
    let head = format!(
        "POST /gate/GitHub/bench HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n\
         X-GitHub-Event: push\r\nX-GitHub-Delivery: bench-{}-{n}\r\nX-Hub-Signature-256: {}\r\nContent-Length: {}\r\n\r\n",
        std::process::id(),
        signature(secret, body),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.ok()?;
    stream.write_all(body).await.ok()?;
    let answer = until_closed(&mut stream, Duration::from_secs(10)).await;
    std::str::from_utf8(answer.get(9..12)?).ok()?.parse().ok()
}

async fn connections(args: &[String]) {
    let server: SocketAddr = args[0].parse().expect("address");
    let secret = args[1].clone();
    let body = std::fs::read(&args[2]).expect("body file");
    let (silent, slowloris, preface, requests) = (
        number(&args[3]),
        number(&args[4]),
        number(&args[5]),
        number(&args[6]),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let held = Arc::new(AtomicUsize::new(0));
    let opened = Arc::new(AtomicUsize::new(0));
    for (kind, count) in [
        (Attack::Silent, silent),
        (Attack::Slowloris, slowloris),
        (Attack::Preface, preface),
    ] {
        for _ in 0..count {
            tokio::spawn(attack(
                kind,
                server,
                Arc::clone(&stop),
                Arc::clone(&held),
                Arc::clone(&opened),
            ));
        }
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    println!(
        "attack: {} sockets open after 5 s ({} connects so far)",
        held.load(Ordering::Relaxed),
        opened.load(Ordering::Relaxed)
    );
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut within = 0;
    for n in 0..requests {
        let sent = Instant::now();
        let status =
            tokio::time::timeout(Duration::from_secs(2), push(server, &secret, &body, n)).await;
        let took = sent.elapsed();
        if let Ok(Some(200)) = status {
            within += 1;
            latencies.push(took);
        }
    }
    let elapsed = started.elapsed();
    println!(
        "attack while sending: {} sockets open, {} connects in all",
        held.load(Ordering::Relaxed),
        opened.load(Ordering::Relaxed)
    );
    stop.store(true, Ordering::Relaxed);
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "sender: {within}/{requests} answered 200 within 2 s ({:.1}%) in {:.1} s; p50 {:?}, p99 {:?}, max {:?}",
        within as f64 * 100.0 / requests as f64,
        elapsed.as_secs_f64(),
        at(0.5),
        at(0.99),
        latencies.last().copied().unwrap_or_default()
    );
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

/// A GitHub push padded to `size` bytes with an extra field.
fn padded_push(template: &[u8], size: usize) -> Vec<u8> {
    let text = std::str::from_utf8(template).expect("utf-8").trim();
    let open = text.find('{').expect("object");
    let padding = size.saturating_sub(text.len() + 16);
    let mut body = String::with_capacity(size);
    body.push_str(&text[..=open]);
    body.push_str("\"padding\":\"");
    body.extend(std::iter::repeat_n('x', padding));
    body.push_str("\",");
    body.push_str(&text[open + 1..]);
    body.into_bytes()
}

async fn bodies(args: &[String]) {
    let server: SocketAddr = args[0].parse().expect("address");
    let pid: u32 = args[1].parse().expect("pid");
    let secret = args[2].clone();
    let (count, mib) = (number(&args[3]), number(&args[4]));
    let signed = args[5] == "signed";
    let size = mib * 1024 * 1024;
    let body: Arc<Vec<u8>> = Arc::new(if signed {
        padded_push(&std::fs::read(&args[6]).expect("body file"), size)
    } else {
        vec![b'x'; size]
    });
    let good_signature = signature(&secret, &body);
    let before = rss_kib(pid, "VmRSS:");
    let sampling = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (sampling, peak) = (Arc::clone(&sampling), Arc::clone(&peak));
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid, "VmRSS:") as usize, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let started = Instant::now();
    let tasks: Vec<_> = (0..count)
        .map(|n| {
            let body = Arc::clone(&body);
            let signature = if signed { good_signature.clone() } else { format!("sha256={}", "0".repeat(64)) };
            tokio::spawn(async move {
                // Senders spread over 127.1.0.0/16: the per-address cap is
                // not what this measures.
                let from = IpAddr::V4(Ipv4Addr::new(127, 1, (n / 200) as u8, (n % 200 + 1) as u8));
                let mut stream = connect_from(from, server).await.ok()?;
                let head = format!(
                    "POST /gate/GitHub/bench HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n\
                     X-GitHub-Event: push\r\nX-GitHub-Delivery: body-{}-{n}\r\nX-Hub-Signature-256: {signature}\r\nContent-Length: {}\r\n\r\n",
                    std::process::id(),
                    body.len()
                );
                stream.write_all(head.as_bytes()).await.ok()?;
                // The server may answer (503, 403) and close before the body is all sent.
                let _ = stream.write_all(&body).await;
                let answer = until_closed(&mut stream, Duration::from_secs(60)).await;
                std::str::from_utf8(answer.get(9..12)?).ok()?.parse::<u16>().ok()
            })
        })
        .collect();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for task in tasks {
        let status = task
            .await
            .ok()
            .flatten()
            .map_or("no answer".to_owned(), |s| s.to_string());
        *statuses.entry(status).or_default() += 1;
    }
    let took = started.elapsed();
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "{count} x {} MiB {} in {:.1} s: statuses {statuses:?}",
        size / (1024 * 1024),
        if signed {
            "signed pushes"
        } else {
            "bodies with a bad signature"
        },
        took.as_secs_f64()
    );
    println!(
        "server RSS: {:.0} MiB before, peak {:.0} MiB (VmHWM {:.0} MiB)",
        mib(before),
        mib(peak.load(Ordering::Relaxed) as u64),
        mib(rss_kib(pid, "VmHWM:"))
    );
    let mut after = Vec::new();
    for wait in [0u64, 1, 5, 15] {
        tokio::time::sleep(Duration::from_secs(
            wait.saturating_sub(after.last().map_or(0, |(w, _)| *w)),
        ))
        .await;
        after.push((wait, rss_kib(pid, "VmRSS:")));
    }
    let shown: Vec<String> = after
        .iter()
        .map(|(w, kib)| format!("{:.0} MiB after {w} s", mib(*kib)))
        .collect();
    println!("server RSS afterwards: {}", shown.join(", "));
}
