//! A private RabbitMQ node for the fault tests and the soak run: they stop
//! and start it at will without disturbing the shared broker other tests
//! use. Several may run in one process (failover tests), with TLS when
//! asked. Test support: it panics with a clear message when the node cannot
//! be managed.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct PrivateBroker {
    pub port: u16,
    /// The `amqps://` port when started with [`ServerTls`].
    pub tls_port: Option<u16>,
    node: String,
    dir: PathBuf,
}

/// The node's TLS listener: PEM texts written into the node's directory.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
    /// Refuse clients without a certificate signed by `ca_pem`.
    pub require_client_certificate: bool,
}

#[derive(Debug, Clone, Default)]
pub struct BrokerOptions {
    pub tls: Option<ServerTls>,
    /// Plugins to enable (e.g. `rabbitmq_auth_mechanism_ssl`).
    pub plugins: Vec<String>,
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
        .is_ok()
}

/// A port nobody listens on now (the OS picks it).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// Nodes started by this process so far (each gets its own name).
static STARTED: AtomicU32 = AtomicU32::new(0);

impl PrivateBroker {
    /// Start a node on an AMQP port below 32768 derived from the process id.
    pub fn start() -> Self {
        let pid = std::process::id();
        let port = (10_000 + (pid % 9_000) * 2) as u16;
        assert!(
            !port_open(port),
            "port {port} is taken; cannot start the private broker"
        );
        Self::launch(
            format!("gatefault{pid}"),
            port,
            port + 1,
            &BrokerOptions::default(),
        )
    }

    /// Start one more node (ports chosen by the OS), as `options` say.
    pub fn start_with(options: &BrokerOptions) -> Self {
        let pid = std::process::id();
        let index = STARTED.fetch_add(1, Ordering::Relaxed);
        Self::launch(
            format!("gatenode{pid}x{index}"),
            free_port(),
            free_port(),
            options,
        )
    }

    fn launch(name: String, port: u16, dist_port: u16, options: &BrokerOptions) -> Self {
        let node = format!("{name}@localhost");
        let dir = std::env::temp_dir().join(format!("gate-broker-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("broker dir");
        std::fs::write(
            dir.join("enabled_plugins"),
            format!("[{}].", options.plugins.join(",")),
        )
        .expect("plugins file");
        let mut conf = String::new();
        let tls_port = options.tls.as_ref().map(|tls| {
            let tls_port = free_port();
            for (file, pem) in [
                ("ca.pem", &tls.ca_pem),
                ("server.pem", &tls.cert_pem),
                ("server.key", &tls.key_pem),
            ] {
                std::fs::write(dir.join(file), pem).expect("tls file");
            }
            conf.push_str(&format!(
                "listeners.ssl.default = {tls_port}\n\
                 ssl_options.cacertfile = {}\n\
                 ssl_options.certfile = {}\n\
                 ssl_options.keyfile = {}\n\
                 ssl_options.verify = verify_peer\n\
                 ssl_options.fail_if_no_peer_cert = {}\n\
                 auth_mechanisms.1 = PLAIN\n\
                 auth_mechanisms.2 = AMQPLAIN\n\
                 auth_mechanisms.3 = EXTERNAL\n\
                 ssl_cert_login_from = common_name\n",
                dir.join("ca.pem").display(),
                dir.join("server.pem").display(),
                dir.join("server.key").display(),
                tls.require_client_certificate
            ));
            tls_port
        });
        std::fs::write(dir.join("rabbitmq.conf"), &conf).expect("config file");
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
            .env("RABBITMQ_DIST_PORT", dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins"))
            .env("RABBITMQ_PID_FILE", dir.join("pid"))
            .env("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq.conf"))
            .status()
            .expect("rabbitmq-server must be installed for the fault tests (scripts/ensure-services.sh installs it)");
        assert!(status.success(), "rabbitmq-server -detached failed");
        let broker = Self {
            port,
            tls_port,
            node,
            dir,
        };
        broker.wait_until(true, Duration::from_secs(90));
        if let Some(tls_port) = broker.tls_port {
            let started = Instant::now();
            while !port_open(tls_port) {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "TLS port {tls_port} not open; see {}",
                    broker.dir.join("log").display()
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        broker
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// The Erlang node name (for `rabbitmqctl -n`).
    pub fn node(&self) -> &str {
        &self.node
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

    /// Run `rabbitmqctl -n <node> <args>`; panics with its error output when
    /// it fails.
    pub fn ctl(&self, args: &[&str]) {
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
