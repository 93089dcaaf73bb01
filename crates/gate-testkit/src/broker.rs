//! A private RabbitMQ node for the fault tests and the soak run: they stop
//! and start it at will without disturbing the shared broker other tests
//! use. Test support: it panics with a clear message when the node cannot
//! be managed.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct PrivateBroker {
    pub port: u16,
    node: String,
    dir: PathBuf,
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
        .is_ok()
}

impl PrivateBroker {
    /// Start a node on an AMQP port below 32768 derived from the process id.
    pub fn start() -> Self {
        let pid = std::process::id();
        let port = (10_000 + (pid % 9_000) * 2) as u16;
        assert!(
            !port_open(port),
            "port {port} is taken; cannot start the private broker"
        );
        let node = format!("gatefault{pid}@localhost");
        let dir = std::env::temp_dir().join(format!("gate-fault-broker-{pid}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("broker dir");
        std::fs::write(dir.join("enabled_plugins"), "[].").expect("plugins file");
        // rabbitmq-server drops to the rabbitmq user, which must own its files.
        let chown = Command::new("chown")
            .args(["-R", "rabbitmq:rabbitmq"])
            .arg(&dir)
            .status();
        assert!(
            chown.is_ok_and(|s| s.success()),
            "cannot chown {} to rabbitmq",
            dir.display()
        );
        let status = Command::new("rabbitmq-server")
            .arg("-detached")
            .env("RABBITMQ_NODENAME", &node)
            .env("RABBITMQ_NODE_PORT", port.to_string())
            .env("RABBITMQ_DIST_PORT", (port + 1).to_string())
            .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins"))
            .env("RABBITMQ_PID_FILE", dir.join("pid"))
            .env("RABBITMQ_CONFIG_FILE", dir.join("none"))
            .status()
            .expect("rabbitmq-server must be installed for the fault tests (scripts/ensure-services.sh installs it)");
        assert!(status.success(), "rabbitmq-server -detached failed");
        let broker = Self { port, node, dir };
        broker.wait_until(true, Duration::from_secs(90));
        broker
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// Stop the broker application: connections are closed, the port shuts.
    pub fn stop_app(&self) {
        self.ctl(&["stop_app"]);
        self.wait_until(false, Duration::from_secs(30));
    }

    pub fn start_app(&self) {
        self.ctl(&["start_app"]);
        self.wait_until(true, Duration::from_secs(60));
    }

    fn ctl(&self, args: &[&str]) {
        let status = Command::new("rabbitmqctl")
            .arg("-n")
            .arg(&self.node)
            .args(args)
            .output()
            .expect("rabbitmqctl");
        assert!(
            status.status.success(),
            "rabbitmqctl {args:?}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    }

    fn wait_until(&self, open: bool, limit: Duration) {
        let started = Instant::now();
        while port_open(self.port) != open {
            assert!(
                started.elapsed() < limit,
                "broker port {} not {} after {limit:?}",
                self.port,
                if open { "open" } else { "closed" }
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        let _ = Command::new("rabbitmqctl")
            .arg("-n")
            .arg(&self.node)
            .arg("stop")
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
