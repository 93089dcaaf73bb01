//! `gate-server tail` against the real broker on 127.0.0.1:5672: the binary
//! is run as an operator would, and its output read line by line.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use lapin::options::{BasicPublishOptions, ExchangeDeleteOptions};
use lapin::BasicProperties;

const WAIT: Duration = Duration::from_secs(20);

/// A running `tail` with its output as channels of lines; killed on drop.
struct Tail {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Tail {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gate-server"))
            .arg("tail")
            .args(args)
            .env_remove("AMQP_URL")
            .env("RUST_LOG", "off")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run gate-server tail");
        let stdout = lines(child.stdout.take().expect("stdout"));
        let stderr = lines(child.stderr.take().expect("stderr"));
        Self {
            child,
            stdout,
            stderr,
        }
    }

    /// Wait for the line saying the queue is bound (so that a message
    /// published now is seen).
    fn wait_ready(&self) {
        let line = self
            .stderr
            .recv_timeout(WAIT)
            .expect("tail did not report its binding");
        assert!(line.starts_with("tail: "), "{line}");
    }

    /// Exit status after the process ends by itself.
    fn wait(mut self) -> (i32, String) {
        let status = self.child.wait().expect("wait");
        // The reader thread may still be forwarding the last lines: read
        // until it closes the channel at the pipe's end.
        let mut stderr = Vec::new();
        while let Ok(line) = self.stderr.recv_timeout(WAIT) {
            stderr.push(line);
        }
        (status.code().unwrap_or(-1), stderr.join("\n"))
    }

    /// Ctrl-c, as a terminal would send it.
    fn interrupt(mut self) -> i32 {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        let status = self.child.wait().expect("wait");
        status.code().unwrap_or(-1)
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

async fn publish(exchange: &str, key: &str, body: &str, timestamp: Option<u64>) {
    publish_with_id(exchange, key, body, timestamp, None).await;
}

async fn publish_with_id(
    exchange: &str,
    key: &str,
    body: &str,
    timestamp: Option<u64>,
    message_id: Option<&str>,
) {
    let connection = common::amqp::connect().await;
    let channel = connection.create_channel().await.expect("channel");
    let mut properties = BasicProperties::default().with_content_type("application/json".into());
    if let Some(timestamp) = timestamp {
        properties = properties.with_timestamp(timestamp);
    }
    if let Some(id) = message_id {
        properties = properties.with_message_id(id.into());
    }
    channel
        .basic_publish(
            exchange.into(),
            key.into(),
            BasicPublishOptions::default(),
            body.as_bytes(),
            properties,
        )
        .await
        .expect("publish")
        .await
        .expect("confirm");
    let _ = connection.close(200, "done".into()).await;
}

async fn delete_exchange(exchange: &str) {
    let connection = common::amqp::connect().await;
    let channel = connection.create_channel().await.expect("channel");
    let _ = channel
        .exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
        .await;
    let _ = connection.close(200, "done".into()).await;
}

#[tokio::test]
async fn prints_each_notification_as_a_line_and_exits_0_on_ctrl_c() {
    let exchange = common::unique("tail");
    let tail = Tail::start(&[
        "--exchange",
        &exchange,
        "--url",
        common::AMQP_URL,
        "--bind",
        "acme.#",
        "--bind",
        "*.*.jenkins.*",
    ]);
    tail.wait_ready();

    let pushed = r#"{"service":"GitHub","project":"acme","group":"ci","type":"push","text":"octocat pushed 1 commit to main","link":"https://github.com/acme/widgets/commit/862a51f","rawContent":{}}"#;
    // 2026-11-25 12:00:00 UTC
    publish(
        &exchange,
        "acme.ci.github.push",
        pushed,
        Some(1_795_608_000),
    )
    .await;
    let line = tail
        .stdout
        .recv_timeout(WAIT)
        .expect("a line for the message");
    assert_eq!(
        line,
        "[Nov 25 12:00:00] <acme/ci> octocat pushed 1 commit to main — https://github.com/acme/widgets/commit/862a51f"
    );

    // Not bound: other project, not jenkins. Then a bound one without link.
    publish(&exchange, "other.ci.github.push", pushed, Some(0)).await;
    let built = r#"{"service":"Jenkins","project":"other","group":"ci","type":"started","text":"Build #7 of nightly started","link":"","rawContent":{}}"#;
    publish(&exchange, "other.ci.jenkins.started", built, Some(0)).await;
    let line = tail
        .stdout
        .recv_timeout(WAIT)
        .expect("a line for the message");
    assert_eq!(
        line,
        "[Jan 01 00:00:00] <other/ci> Build #7 of nightly started"
    );

    assert_eq!(tail.interrupt(), 0);
    delete_exchange(&exchange).await;
}

#[tokio::test]
async fn json_mode_prints_the_body_and_the_time_defaults_to_now() {
    let exchange = common::unique("tail-json");
    let tail = Tail::start(&["--exchange", &exchange, "--url", common::AMQP_URL, "--json"]);
    tail.wait_ready();
    let body = r#"{"service":"DockerHub","project":"acme","group":"docker","type":"push","text":"t","link":"","rawContent":{"a":1}}"#;
    publish(&exchange, "acme.docker.dockerhub.push", body, None).await;
    let line = tail.stdout.recv_timeout(WAIT).expect("a line");
    assert_eq!(line, body);
    assert_eq!(tail.interrupt(), 0);

    // Without a timestamp property the line carries the current time.
    let tail = Tail::start(&["--exchange", &exchange, "--url", common::AMQP_URL]);
    tail.wait_ready();
    let before = utc_day();
    publish(&exchange, "acme.docker.dockerhub.push", body, None).await;
    let line = tail.stdout.recv_timeout(WAIT).expect("a line");
    // Either side of midnight, if the test runs across it.
    let days: Vec<String> = [&before, &utc_day()]
        .iter()
        .map(|day| format!("[{day} "))
        .collect();
    assert!(days.iter().any(|d| line.starts_with(d)), "{line}");
    assert!(line.ends_with("] <acme/docker> t"), "{line}");
    drop(tail);
    delete_exchange(&exchange).await;
}

#[tokio::test]
async fn a_copy_published_again_after_a_lost_confirm_is_shown_once() {
    let exchange = common::unique("tail-dup");
    let body = |text: &str| {
        format!(
            r#"{{"service":"GitHub","project":"acme","group":"ci","type":"push","text":"{text}","link":"","rawContent":{{}}}}"#
        )
    };
    let key = "acme.ci.github.push";
    for (flags, expected) in [
        (&[][..], vec!["first", "second"]),
        (&["--show-duplicates"][..], vec!["first", "first", "second"]),
    ] {
        let mut args = vec!["--exchange", exchange.as_str(), "--url", common::AMQP_URL];
        args.extend_from_slice(flags);
        let tail = Tail::start(&args);
        tail.wait_ready();
        publish_with_id(&exchange, key, &body("first"), Some(0), Some("d-1")).await;
        publish_with_id(&exchange, key, &body("first"), Some(0), Some("d-1")).await;
        publish_with_id(&exchange, key, &body("second"), Some(0), Some("d-2")).await;
        // A message without an id is never taken for a copy.
        publish(&exchange, key, &body("end"), Some(0)).await;
        let mut shown = Vec::new();
        loop {
            let line = tail.stdout.recv_timeout(WAIT).expect("a line");
            let text = line.rsplit("> ").next().unwrap_or_default().to_owned();
            if text == "end" {
                break;
            }
            shown.push(text);
        }
        assert_eq!(shown, expected, "{flags:?}");
        assert_eq!(tail.interrupt(), 0);
    }
    delete_exchange(&exchange).await;
}

/// `Nov 25`: today in UTC as `date` prints it.
fn utc_day() -> String {
    let out = Command::new("date")
        .args(["-u", "+%b %d"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn bad_credentials_are_a_clear_error_with_their_own_exit_code() {
    let tail = Tail::start(&[
        "--exchange",
        "notifications",
        "--url",
        "amqp://guest:wrong-password@127.0.0.1:5672/%2f",
    ]);
    let (code, stderr) = tail.wait();
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("refused the login"), "{stderr}");
    assert!(stderr.contains("ACCESS_REFUSED"), "{stderr}");
    assert!(!stderr.contains("wrong-password"), "{stderr}");
}

#[test]
fn an_unreachable_broker_is_a_clear_error_with_its_own_exit_code() {
    // Port 1 on loopback: nothing listens there.
    let tail = Tail::start(&["--url", "amqp://guest:guest@127.0.0.1:1/%2f"]);
    let (code, stderr) = tail.wait();
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("cannot reach the broker at amqp://guest@127.0.0.1:1/%2f"),
        "{stderr}"
    );
}
