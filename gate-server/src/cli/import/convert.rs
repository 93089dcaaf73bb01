//! The original configuration turned into this gateway's TOML, with every
//! decision the import could not make alone said in words.

use std::collections::BTreeMap;

use super::glob;
use super::original::{Analyzer, Analyzers, Original, Service};
use super::toml_text::Table;

/// What the import produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub toml: String,
    /// For the operator to review; also written at the top of the file.
    pub decisions: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// `server.listen` (the original listened on port 80 of its container).
    pub listen: String,
    /// Whether this build links the `dockerhub` sink (Docker Hub build
    /// triggers on GitHub pushes); `import` asks the registry.
    pub dockerhub_sink: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:8080".into(),
            dockerhub_sink: false,
        }
    }
}

/// Name of the Docker Hub build-trigger sink.
const DOCKERHUB_SINK: &str = "dockerhub";

/// Name of the broker sink.
const BROKER_SINK: &str = "rabbit";

/// A door being written.
struct Door {
    source: &'static str,
    name: String,
    settings: Table,
    sinks: Option<Vec<String>>,
    admin_group: Option<String>,
    default_group: Option<String>,
    rules: Vec<Rule>,
}

struct Rule {
    group: String,
    /// `repositories` (GitHub, Jenkins) or `projects` (Phabricator).
    key: &'static str,
    patterns: Vec<String>,
    keywords: Vec<String>,
}

impl Door {
    fn new(source: &'static str, name: &str) -> Self {
        Self {
            source,
            name: name.to_owned(),
            settings: Table::new(&["sources", source, "doors", name]),
            sinks: None,
            admin_group: None,
            default_group: None,
            rules: Vec::new(),
        }
    }

    fn write(&self, out: &mut String) {
        let mut table = self.settings.clone();
        if let Some(sinks) = &self.sinks {
            table.list("sinks", sinks);
        }
        if let Some(admin) = &self.admin_group {
            table.str("admin_group", admin);
        }
        if let Some(default) = &self.default_group {
            table.str("default_group", default);
        }
        table.write(out);
        for rule in &self.rules {
            let mut item = Table::item(&["sources", self.source, "doors", &self.name, "groups"]);
            item.str("group", &rule.group);
            if !rule.patterns.is_empty() {
                item.list(rule.key, &rule.patterns);
            }
            if !rule.keywords.is_empty() {
                item.list("keywords", &rule.keywords);
            }
            item.write(out);
        }
    }
}

struct Import<'a> {
    original: &'a Original,
    /// The sink every door delivers to (the broker, or a file).
    broker: String,
    decisions: Vec<String>,
    sinks: Vec<Table>,
    doors: Vec<Door>,
    services: Vec<String>,
}

pub fn convert(original: &Original, options: &Options) -> Imported {
    let mut import = Import {
        original,
        broker: BROKER_SINK.into(),
        decisions: Vec::new(),
        sinks: Vec::new(),
        doors: Vec::new(),
        services: Vec::new(),
    };
    let broker = import.broker();
    import.broker.clone_from(&broker);
    import.credentials();
    import.analyzer_only_doors();
    import.open_sources();
    import.dockerhub_triggers(options.dockerhub_sink);
    import.decide(
        "doors without credentials also get insecure_allow_remote = true: the original's \
         senders reach them from other machines, and a door needing no credential otherwise \
         answers 403 to every peer but loopback; remove it with the insecure_* switch once \
         the door has a credential",
    );
    import.environment_notes();
    import.render(options, &broker)
}

impl Import<'_> {
    fn decide(&mut self, text: impl Into<String>) {
        self.decisions.push(text.into());
    }

    fn env(&self, name: &str) -> Option<&str> {
        self.original
            .env
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The AMQP sink from the BROKER_* variables, or a file sink when the
    /// original published nowhere. Returns the sink's name.
    fn broker(&mut self) -> String {
        let driver = self.env("BROKER_DRIVER").unwrap_or("amqp").to_owned();
        if driver != "amqp" {
            self.decide(format!(
                "BROKER_DRIVER={driver}: the original published nowhere (every publish failed); \
                 notifications go to a local file sink `local` (notifications.jsonl) instead: \
                 add an amqp sink to publish them"
            ));
            let mut sink = Table::new(&["sinks", "local"]);
            sink.str("kind", "file").str("path", "notifications.jsonl");
            self.sinks.push(sink);
            return "local".into();
        }
        let mut defaulted = Vec::new();
        let mut setting = |name: &str, default: &str| match self.env(name) {
            Some(value) => value.to_owned(),
            None => {
                defaulted.push(format!("{name}={default}"));
                default.to_owned()
            }
        };
        let host = setting("BROKER_HOST", "localhost");
        let port = setting("BROKER_PORT", "5672");
        let user = setting("BROKER_USERNAME", "guest");
        let password = setting("BROKER_PASSWORD", "guest");
        let vhost = setting("BROKER_VHOST", "/");
        if !defaulted.is_empty() {
            self.decide(format!(
                "broker: not set, so the original's defaults are used: {}",
                defaulted.join(", ")
            ));
        }
        let url = format!(
            "amqp://{}:{}@{}:{}/{}",
            percent_encode(&user),
            percent_encode(&password),
            host,
            port,
            percent_encode(&vhost)
        );
        let mut sink = Table::new(&["sinks", BROKER_SINK]);
        sink.str("kind", "amqp")
            .comment(
                "From BROKER_HOST, BROKER_PORT, BROKER_USERNAME, BROKER_PASSWORD, BROKER_VHOST.",
            )
            .str("url", &url)
            .str("exchange", "notifications")
            .comment("The exchange exists, declared plain by the original and its consumers (the CLI client declares it too).")
            .bool("alternate_exchange", false);
        self.sinks.push(sink);
        self.decide(
            "broker: the `notifications` exchange is declared plain (alternate_exchange = \
             false), as the original and its consumers declare it; a message no queue is \
             bound for is still kept, in the catch-all queue `notifications.unroutable`, \
             which the sink creates (the broker user needs configure rights on it)",
        );
        BROKER_SINK.into()
    }

    /// GitHub and Phabricator doors from `credentials.json`, in file order.
    fn credentials(&mut self) {
        let mut seen: Vec<(String, String)> = Vec::new();
        for service in self.original.services.clone() {
            let id = (service.gate.clone(), service.door.clone());
            let label = format!("credentials.json {}/{}", service.gate, service.door);
            if seen.contains(&id) {
                self.decide(format!(
                    "{label}: listed again; the original used the first entry, so does the import"
                ));
                continue;
            }
            seen.push(id);
            if let Err(why) = check_door_name(&service.door) {
                self.decide(format!("{label}: not imported: {why}"));
                continue;
            }
            match service.gate.as_str() {
                "GitHub" => self.github_door(&service, &label),
                "Phabricator" => self.phabricator_door(&service, &label),
                other => self.decide(format!(
                    "{label}: not imported: the original used credentials only for GitHub and \
                     Phabricator, not {other:?}"
                )),
            }
        }
    }

    fn github_door(&mut self, service: &Service, label: &str) {
        let mut door = Door::new("GitHub", &service.door);
        match service.secret.as_deref() {
            None => {
                self.decide(format!(
                    "{label}: not imported: no `secret` key (the original answered 500 to every \
                     delivery)"
                ));
                return;
            }
            Some("" | "0") => {
                door.settings
                    .bool("insecure_no_signature", true)
                    .bool("insecure_allow_remote", true);
                self.decide(format!(
                    "{label}: empty secret, so the original checked no signature: imported with \
                     insecure_no_signature = true; set `secrets` to the webhook's secret"
                ));
            }
            Some(secret) if is_reference(secret) => {
                self.decide(format!(
                    "{label}: not imported: the secret starts with env:, file: or vault:, which \
                     this gateway reads as a reference; write it in the door's `secrets` by \
                     reference"
                ));
                return;
            }
            Some(secret) => {
                door.settings
                    .list("secrets", &[secret.to_owned()])
                    .comment("The original checked X-Hub-Signature (SHA-1); GitHub sends X-Hub-Signature-256 too, which is preferred.")
                    .bool("allow_sha1", true);
            }
        }
        if let Some(phabricator) = self
            .original
            .services
            .iter()
            .find(|s| s.gate == "Phabricator" && s.door == service.door && conduit(s).is_some())
        {
            let sink = format!("phabricator-{}", service.door);
            if let Some((url, token)) = conduit(phabricator) {
                let mut table = Table::new(&["sinks", &sink]);
                table
                    .str("kind", "phabricator")
                    .comment("GitHub pushes make Diffusion fetch now, as the original's NotifyNewCommitsAction.")
                    .str("conduit_url", &url)
                    .str("token", &token);
                self.sinks.push(table);
            }
            door.sinks = Some(vec![self.broker.clone(), sink]);
        }
        let analyzers = self.original.github.clone();
        self.mapping(&mut door, &analyzers, "repositories");
        self.services.push(format!("GitHub/{}", service.door));
        self.doors.push(door);
    }

    fn phabricator_door(&mut self, service: &Service, label: &str) {
        let mut door = Door::new("Phabricator", &service.door);
        door.settings
            .bool("accept_feed_hooks", true)
            .bool("insecure_no_signature", true)
            .bool("insecure_allow_remote", true);
        self.decide(format!(
            "{label}: feed.http-hooks are accepted without a token, as by the original: add \
             `?token=<random>` to the instance's feed.http-hooks URL and set `token` (then \
             remove insecure_no_signature)"
        ));
        match conduit(service) {
            Some((url, token)) => {
                door.settings
                    .str("conduit_url", &url)
                    .str("conduit_token", &token);
            }
            None => self.decide(format!(
                "{label}: no instance or secret, so no Conduit: groups come from words and \
                 the default group only (the original failed on such stories)"
            )),
        }
        let analyzers = self.original.phabricator.clone();
        self.mapping(&mut door, &analyzers, "projects");
        self.services.push(format!("Phabricator/{}", service.door));
        self.doors.push(door);
    }

    /// GitHub analyzer files of doors without credentials (the original
    /// accepted those unsigned), and Phabricator ones (it refused them).
    fn analyzer_only_doors(&mut self) {
        let known = |gate: &str, door: &str| {
            self.original
                .services
                .iter()
                .any(|s| s.gate == gate && s.door == door)
        };
        let github: Vec<String> = self
            .original
            .github
            .doors
            .keys()
            .filter(|door| !known("GitHub", door))
            .cloned()
            .collect();
        let phabricator: Vec<String> = self
            .original
            .phabricator
            .doors
            .keys()
            .filter(|door| !known("Phabricator", door))
            .cloned()
            .collect();
        for name in github {
            let label = format!("{}/{name}.json", self.original.github.folder);
            if let Err(why) = check_door_name(&name) {
                self.decide(format!("{label}: not imported: {why}"));
                continue;
            }
            let mut door = Door::new("GitHub", &name);
            door.settings
                .bool("insecure_no_signature", true)
                .bool("insecure_allow_remote", true);
            self.decide(format!(
                "{label}: door {name} has no credentials, so the original accepted unsigned \
                 deliveries: imported with insecure_no_signature = true; set `secrets`"
            ));
            let analyzers = self.original.github.clone();
            self.mapping(&mut door, &analyzers, "repositories");
            self.doors.push(door);
        }
        for name in phabricator {
            self.decide(format!(
                "{}/{name}.json: not imported: door {name} has no Phabricator credentials, \
                 so the original refused its stories (404)",
                self.original.phabricator.folder
            ));
        }
        self.decide(
            "GitHub: the original also accepted unsigned deliveries to any door not in \
             credentials.json; not imported (add [sources.GitHub.doors.\"*\"] with \
             insecure_no_signature = true if a sender relies on it)",
        );
    }

    /// DockerHub, Jenkins and Notification: the original authenticated
    /// nothing and accepted any door name.
    fn open_sources(&mut self) {
        let jenkins = self.original.jenkins.clone();
        if jenkins.default.is_some() {
            let mut door = Door::new("Jenkins", "*");
            door.settings
                .bool("insecure_no_token", true)
                .bool("insecure_allow_remote", true);
            self.mapping(&mut door, &jenkins, "repositories");
            self.doors.push(door);
        } else {
            self.decide(format!(
                "Jenkins: no {}/default.json, so the original answered 500 to doors without \
                 their own file: no wildcard door",
                jenkins.folder
            ));
        }
        for name in jenkins.doors.keys() {
            let label = format!("{}/{name}.json", jenkins.folder);
            if let Err(why) = check_door_name(name) {
                self.decide(format!("{label}: not imported: {why}"));
                continue;
            }
            let mut door = Door::new("Jenkins", name);
            door.settings
                .bool("insecure_no_token", true)
                .bool("insecure_allow_remote", true);
            self.mapping(&mut door, &jenkins, "repositories");
            self.doors.push(door);
        }
        let wildcard = if jenkins.default.is_some() {
            " (the wildcard door \"*\" serves any other name)"
        } else {
            ""
        };
        self.decide(format!(
            "Jenkins: the original accepted any door without a token: imported as doors with \
             insecure_no_token = true{wildcard}; give each door a `token` and add `?token=` to \
             the jobs' notification URLs"
        ));
        let mut door = Door::new("DockerHub", "*");
        door.settings
            .bool("insecure_no_token", true)
            .bool("insecure_allow_remote", true);
        self.doors.push(door);
        self.decide(
            "DockerHub: the original accepted any door without a token: imported as the \
             wildcard door \"*\" with insecure_no_token = true (warned at start); give doors \
             a `token` and change the webhook URLs on Docker Hub",
        );
        let mut door = Door::new("Notification", "*");
        door.settings
            .bool("insecure_no_auth", true)
            .bool("insecure_allow_remote", true);
        self.doors.push(door);
        self.decide(
            "Notification: the original accepted native notifications on any door without \
             authentication: imported as the wildcard door \"*\" with insecure_no_auth = true; \
             give senders a bearer `tokens` entry",
        );
    }

    fn dockerhub_triggers(&mut self, linked: bool) {
        let tokens = self.original.dockerhub_tokens.clone();
        let triggers = self.original.dockerhub_triggers.clone();
        if tokens.is_none() && triggers.is_none() {
            return;
        }
        if !linked {
            return self.dockerhub_not_imported();
        }
        if !self.doors.iter().any(|d| d.source == "GitHub") {
            self.decide(
                "Docker Hub build triggers not imported: they fire on GitHub pushes and no \
                 GitHub door was imported",
            );
            return;
        }
        let mut sink = Table::new(&["sinks", DOCKERHUB_SINK]);
        sink.str("kind", "dockerhub").comment(
            "GitHub pushes trigger Docker Hub builds, as the original's TriggerDockerHubBuildAction.",
        );
        if let Some((path, tokens)) = &tokens {
            sink.str("tokens_file", &path.display().to_string());
            self.decide(format!(
                "{}: {} legacy build trigger(s) imported as the `dockerhub` sink's tokens_file \
                 (read from there: keep the file, or move it and change the path)",
                self.relative(path),
                tokens.len()
            ));
        }
        if let Some(path) = &triggers {
            sink.str("triggers_file", &path.display().to_string());
            self.decide(format!(
                "{}: imported as the `dockerhub` sink's triggers_file: its builds are now \
                 triggered, which the original never did (it never read this file)",
                self.relative(path)
            ));
        }
        self.sinks.push(sink);
        let broker = self.broker.clone();
        for door in self.doors.iter_mut().filter(|d| d.source == "GitHub") {
            let sinks = door.sinks.get_or_insert_with(|| vec![broker.clone()]);
            sinks.insert(1.min(sinks.len()), DOCKERHUB_SINK.to_owned());
        }
    }

    fn dockerhub_not_imported(&mut self) {
        if let Some((path, tokens)) = &self.original.dockerhub_tokens {
            self.decisions.push(format!(
                "{}: {} build trigger(s) not imported: this build has no Docker Hub trigger \
                 sink (the original's legacy trigger API is retired by Docker Hub)",
                self.relative(path),
                tokens.len()
            ));
        }
        if let Some(path) = &self.original.dockerhub_triggers {
            self.decisions.push(format!(
                "{}: not imported: this build has no Docker Hub trigger sink (the original \
                 never read this file)",
                self.relative(path)
            ));
        }
    }

    /// A path inside the original's folder, as the operator knows it.
    fn relative(&self, path: &std::path::Path) -> String {
        path.strip_prefix(&self.original.dir)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    fn environment_notes(&mut self) {
        if self.env("MAILGUN_SECRET").is_some() || self.env("MAILGUN_APIKEY").is_some() {
            self.decide(
                "MAILGUN_*: Docker Hub build failures relayed by Mailgun have no equivalent \
                 here; not imported",
            );
        }
        if self.env("SENTRY_DSN").is_some() {
            self.decide(
                "SENTRY_DSN: no Sentry reporting here; errors are logged and counted in /metrics",
            );
        }
    }

    /// Group rules of a door from its analyzer file (its own, else
    /// `default.json`).
    fn mapping(&mut self, door: &mut Door, analyzers: &Analyzers, key: &'static str) {
        let source = door.source;
        let lower = door.name.to_lowercase();
        let Some(analyzer) = analyzers.for_door(&door.name).cloned() else {
            if door.name != "*" {
                door.default_group = Some(lower);
            }
            self.decide(format!(
                "{source}/{}: no {}/{}.json nor default.json (the original answered 500): \
                 imported with the default group only",
                door.name, analyzers.folder, door.name
            ));
            return;
        };
        let file = if analyzers.doors.contains_key(&door.name) {
            format!("{}/{}.json", analyzers.folder, door.name)
        } else {
            format!("{}/default.json", analyzers.folder)
        };
        let here = format!("{source}/{} ({file})", door.name);
        self.default_group(door, &analyzer, &here);
        if source == "GitHub" {
            match analyzer
                .administrative_group
                .as_deref()
                .filter(|g| !g.is_empty())
            {
                Some(admin) => door.admin_group = Some(admin.to_owned()),
                None => self.decide(format!(
                    "{here}: no administrativeGroup: ping, membership and repository events \
                     follow the rules and the default group"
                )),
            }
        } else if analyzer.administrative_group.is_some() && source == "Phabricator" {
            self.decide(format!(
                "{here}: administrativeGroup ignored, as the original did for Phabricator"
            ));
        }
        if analyzer.map.is_none() {
            self.decide(format!(
                "{here}: no `map` (the original answered 500): no group rules imported"
            ));
        }
        for (index, mapping) in analyzer.map.iter().flatten().enumerate() {
            let rule_here = format!("{here} map[{index}] ({})", mapping.group);
            if mapping.group.trim().is_empty() {
                self.decide(format!("{rule_here}: not imported: empty group"));
                continue;
            }
            let mut patterns = Vec::new();
            let mut escaped = Vec::new();
            for item in &mapping.items {
                if item.is_empty() {
                    self.decide(format!("{rule_here}: empty item dropped"));
                    continue;
                }
                let (glob, changed) = glob::from_original(item);
                if changed {
                    escaped.push(format!("{item:?} → {glob:?}"));
                }
                patterns.push(glob);
            }
            if !escaped.is_empty() {
                self.decide(format!(
                    "{rule_here}: glob characters escaped (the original's items only know `*`): {}",
                    escaped.join(", ")
                ));
            }
            let keywords: Vec<String> = if source == "Phabricator" {
                mapping
                    .words
                    .iter()
                    .filter(|w| !w.trim().is_empty())
                    .cloned()
                    .collect()
            } else {
                if !mapping.words.is_empty() {
                    self.decide(format!(
                        "{rule_here}: `words` dropped: the original used them for Phabricator only"
                    ));
                }
                Vec::new()
            };
            if mapping.words_are_strong.is_some() {
                self.decide(format!(
                    "{rule_here}: wordsAreStrong ignored, as by the original (never implemented)"
                ));
            }
            if patterns.is_empty() && keywords.is_empty() {
                self.decide(format!(
                    "{rule_here}: not imported: nothing to match (it matched nothing in the original)"
                ));
                continue;
            }
            door.rules.push(Rule {
                group: mapping.group.clone(),
                key,
                patterns,
                keywords,
            });
        }
        if source == "Jenkins" && !analyzer.notify_only_on_failure.is_empty() {
            let jobs: Vec<String> = analyzer
                .notify_only_on_failure
                .iter()
                .map(|job| glob::from_original(job).0)
                .map(|glob| glob.replace('*', "[*]"))
                .collect();
            door.settings.list("only_failures", &jobs);
            self.decide(format!(
                "{here}: notifyOnlyOnFailure → only_failures (exact names); unlike the \
                 original, the first success after a failure still passes (\"back to normal\")"
            ));
        }
    }

    fn default_group(&mut self, door: &mut Door, analyzer: &Analyzer, here: &str) {
        match analyzer.default_group.as_deref().filter(|g| !g.is_empty()) {
            Some(group) => door.default_group = Some(group.to_owned()),
            None if door.name == "*" => self.decide(format!(
                "{here}: empty defaultGroup means the door name in lower case, which one \
                 wildcard door cannot follow: it uses the source's default group; add named \
                 doors where it matters"
            )),
            None => door.default_group = Some(door.name.to_lowercase()),
        }
    }

    fn render(mut self, options: &Options, broker: &str) -> Imported {
        self.decide(
            "compat: GET /config answers in the original's schema (services in \
             credentials.json order); this gateway's report is at /config?schema=full",
        );
        self.decide(
            "compat: spooled_status = 200: the original answered only 200 or 503 and its \
             senders (the Airflow job) fail on anything else; set 202 where senders allow it",
        );
        self.decide(format!(
            "server: listens on {} (the original listened on port 80 of its container); the \
             spool is spool/gate.redb under the working directory",
            options.listen
        ));
        self.decide(
            "secrets were copied inline, as in credentials.json: keep the file private \
             (written with mode 600) or move them to env:/file:/vault: references",
        );
        let mut out = String::new();
        out.push_str(
            "# Notifications Center configuration imported from the original service's\n\
             # configuration by `gate-server config import`. Decisions to review:\n",
        );
        for decision in &self.decisions {
            out.push_str("# - ");
            out.push_str(decision);
            out.push('\n');
        }
        out.push('\n');
        let mut server = Table::new(&["server"]);
        server
            .str("listen", &options.listen)
            .list("default_sinks", &[broker.to_owned()]);
        server.write(&mut out);
        let mut compat = Table::new(&["compat"]);
        compat
            .str("config_report", "original")
            .list("config_services", &self.services)
            .raw("spooled_status", "200".into());
        compat.write(&mut out);
        for sink in &self.sinks {
            sink.write(&mut out);
        }
        let order = [
            "GitHub",
            "Phabricator",
            "Jenkins",
            "DockerHub",
            "Notification",
        ];
        let mut doors: BTreeMap<(usize, String), &Door> = BTreeMap::new();
        for door in &self.doors {
            let rank = order
                .iter()
                .position(|s| *s == door.source)
                .unwrap_or(order.len());
            doors.insert((rank, door.name.clone()), door);
        }
        for door in doors.values() {
            door.write(&mut out);
        }
        let toml = out.trim_end().to_owned() + "\n";
        Imported {
            toml,
            decisions: self.decisions,
        }
    }
}

/// The Conduit URL and token of a Phabricator service, when both are set.
fn conduit(service: &Service) -> Option<(String, String)> {
    let url = service.instance.as_deref()?.trim_end_matches('/');
    let token = service.secret.as_deref()?;
    (!url.is_empty() && !token.is_empty() && !is_reference(token))
        .then(|| (url.to_owned(), token.to_owned()))
}

/// Values this gateway would read as a secret reference, not inline.
fn is_reference(secret: &str) -> bool {
    ["env:", "file:", "vault:"]
        .iter()
        .any(|p| secret.starts_with(p))
}

/// The gateway's door-name rule (one URL segment, no escaping needed).
fn check_door_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty door name".into());
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        Some(bad) => Err(format!(
            "door name {name:?} contains {bad:?} (doors are letters, digits, '-', '_', '.')"
        )),
        None => Ok(()),
    }
}

/// Percent-encoding for the user, password and vhost of an AMQP URL.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amqp_url_parts_are_encoded() {
        assert_eq!(percent_encode("/"), "%2f");
        assert_eq!(percent_encode("p@ss:w/rd"), "p%40ss%3aw%2frd");
        assert_eq!(percent_encode("dev"), "dev");
    }
}
