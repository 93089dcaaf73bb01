//! Doors that need no credential serve loopback peers only, whatever the
//! listen address, unless they say `insecure_allow_remote = true`; `config
//! check` and `serve` warn about each of them on a non-loopback address.

mod common;

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

/// This machine's address on its default route (no packet is sent).
fn non_loopback_address() -> IpAddr {
    let socket = UdpSocket::bind("0.0.0.0:0").expect("udp bind");
    socket.connect("192.0.2.254:9").expect(
        "this test needs a non-loopback IPv4 route to reach the server from a non-loopback address",
    );
    let ip = socket.local_addr().expect("local addr").ip();
    assert!(
        !ip.is_loopback() && !ip.is_unspecified(),
        "no non-loopback address on this machine ({ip})"
    );
    ip
}

/// POST a minimal JSON body from `from` to `to`: status line and body.
async fn post_from(from: IpAddr, to: SocketAddr, path: &str, headers: &str, body: &str) -> String {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(from, 0)).expect("bind");
    let mut stream = socket.connect(to).await.expect("connect");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
        .await
        .expect("answered in time")
        .expect("read");
    answer
}

const JENKINS_BODY: &str =
    r#"{"name":"job","url":"job/job/","build":{"number":1,"phase":"STARTED","url":"job/job/1/"}}"#;

/// The stock binary with its embedded default configuration (unsigned
/// `demo` doors), told to listen on every address: a real peer from this
/// machine's non-loopback address is refused, loopback is served, and
/// the start log names every insecure door.
#[tokio::test]
async fn the_default_demo_doors_refuse_a_non_loopback_peer() {
    let remote = non_loopback_address();
    let port = common::process::free_addr().port();
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("serve.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .arg("serve")
        .current_dir(dir.path())
        .env_remove("GATE_CONFIG")
        .env("GATE__SERVER__LISTEN", format!("0.0.0.0:{port}"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn");
    let loopback = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    while std::net::TcpStream::connect(loopback).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let to_remote = SocketAddr::new(remote, port);
    let jenkins = "/gate/Jenkins/demo";
    let refused = post_from(remote, to_remote, jenkins, "", JENKINS_BODY).await;
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
    assert!(refused.contains("remote_not_allowed"), "{refused}");
    assert!(refused.contains("only from the local machine"), "{refused}");
    let github = post_from(
        remote,
        to_remote,
        "/gate/GitHub/demo",
        "X-GitHub-Event: ping\r\nX-GitHub-Delivery: r-1\r\n",
        "{}",
    )
    .await;
    assert!(github.starts_with("HTTP/1.1 403"), "{github}");

    let local = IpAddr::from([127, 0, 0, 1]);
    let served = post_from(local, loopback, jenkins, "", JENKINS_BODY).await;
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    // Docker Hub's demo door has a token: not anonymous, served to anyone
    // who has it.
    let hub = post_from(
        remote,
        to_remote,
        "/gate/DockerHub/demo?token=wrong-token-for-this-door",
        "",
        "{}",
    )
    .await;
    assert!(hub.starts_with("HTTP/1.1 403"), "{hub}");
    assert!(!hub.contains("remote_not_allowed"), "{hub}");

    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log).expect("log");
    for door in ["GitHub", "Jenkins", "Notification", "Phabricator"] {
        assert!(
            log.lines().any(
                |line| line.contains(&format!("sources.{door}.doors.demo: "))
                    && line.contains("accepts requests with no credential")
            ),
            "{door}: {log}"
        );
    }
    assert!(!log.contains("sources.DockerHub.doors.demo"), "{log}");
}

#[tokio::test]
async fn a_door_may_allow_remote_peers_explicitly() {
    let gateway = common::gateway(
        "[server]\nlisten = \"0.0.0.0:8080\"\ndefault_sinks = [\"log\"]\n[sinks.log]\nkind = \"file\"\nlog = true\n\
         [sources.Jenkins.doors.open]\ninsecure_no_token = true\ninsecure_allow_remote = true\n\
         [sources.Jenkins.doors.closed]\ninsecure_no_token = true\n",
    );
    let remote = Some(IpAddr::from([203, 0, 113, 9]));
    let mapped: Option<IpAddr> = Some("::ffff:127.0.0.1".parse().expect("ip"));
    for (door, peer, status) in [
        ("open", remote, 200),
        ("closed", remote, 403),
        ("closed", None, 403),
        ("closed", mapped, 200),
        ("closed", Some(IpAddr::from([127, 0, 0, 1])), 200),
    ] {
        let request = common::request(
            "POST",
            &format!("/gate/Jenkins/{door}"),
            &[("content-type", "application/json")],
            JENKINS_BODY,
        );
        let response = gate_server::route(&gateway, request, peer).await;
        assert_eq!(response.status().as_u16(), status, "{door} from {peer:?}");
    }
    let warnings = gateway.warnings();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].starts_with("sources.Jenkins.doors.closed: ")
            && warnings[0].contains("answers 403 to every peer but loopback"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].starts_with("sources.Jenkins.doors.open: ")
            && warnings[1].contains("from ANY address"),
        "{warnings:?}"
    );
}

#[test]
fn config_check_warns_about_every_insecure_door_on_a_public_address() {
    let run = |listen: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
            .args(["config", "check"])
            .env_remove("GATE_CONFIG")
            .env("GATE__SERVER__LISTEN", listen)
            .output()
            .expect("run");
        assert!(output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let public = run("0.0.0.0:8080");
    let warnings: Vec<&str> = public
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 4, "{public}");
    for door in ["GitHub", "Jenkins", "Notification", "Phabricator"] {
        assert!(
            warnings.iter().any(|line| line
                .starts_with(&format!("warning: sources.{door}.doors.demo: "))
                && line.contains("accepts requests with no credential; listening on 0.0.0.0")),
            "{public}"
        );
    }
    // On loopback the insecure switches are still named (issue 12), but
    // nothing is said of remote peers: none can reach the doors.
    let local = run("127.0.0.1:8080");
    assert!(!local.contains("listening on"), "{local}");
}
