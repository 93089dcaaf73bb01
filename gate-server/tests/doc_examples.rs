//! The shell examples of README.md and docs/*.md, exercised so that they
//! stay true. Every ```sh block is preceded by a marker comment:
//! - `<!-- example: run -->`: run as written with bash (`set -euo
//!   pipefail`) from the repository root, `gate-server` (this build) on the
//!   PATH and the embedded default gateway listening on 127.0.0.1:8080;
//! - `<!-- example: check -->`: for examples that need what a test cannot
//!   own (a production host, root installs, a remote Vault, a Docker daemon,
//!   a release build): bash parses it, every `gate-server` command names
//!   real subcommands, and every repository path it names exists.
//!
//! A block without a marker fails the test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Run,
    Check,
}

#[derive(Debug)]
struct Example {
    file: String,
    line: usize,
    mode: Option<Mode>,
    text: String,
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn documents() -> Vec<PathBuf> {
    let root = repository();
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

fn examples() -> Vec<Example> {
    let root = repository();
    let mut found = Vec::new();
    for path in documents() {
        let text = std::fs::read_to_string(&path).expect("read doc");
        let file = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            if lines[i].trim_start() == "```sh" {
                let marker = lines[..i]
                    .iter()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map(|l| l.trim());
                let mode = match marker {
                    Some("<!-- example: run -->") => Some(Mode::Run),
                    Some("<!-- example: check -->") => Some(Mode::Check),
                    _ => None,
                };
                let start = i + 1;
                let mut end = start;
                while end < lines.len() && lines[end].trim_start() != "```" {
                    end += 1;
                }
                let indent = lines[i].len() - lines[i].trim_start().len();
                let body: Vec<&str> = lines[start..end]
                    .iter()
                    .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
                    .collect();
                found.push(Example {
                    file: file.clone(),
                    line: i + 1,
                    mode,
                    text: body.join("\n") + "\n",
                });
                i = end;
            }
            i += 1;
        }
    }
    found
}

/// The embedded default gateway on 127.0.0.1:8080, in a scratch directory.
struct DefaultGateway {
    child: Child,
    _dir: tempfile::TempDir,
}

impl DefaultGateway {
    fn start() -> Self {
        assert!(
            std::net::TcpStream::connect("127.0.0.1:8080").is_err(),
            "127.0.0.1:8080 is taken: the README's examples need it for the default gateway"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let child = Command::new(env!("CARGO_BIN_EXE_gate-server"))
            .arg("serve")
            .env_remove("GATE_CONFIG")
            .env("RUST_LOG", "warn")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the default gateway");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect("127.0.0.1:8080").is_err() {
            assert!(
                Instant::now() < deadline,
                "the default gateway did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, _dir: dir }
    }
}

impl Drop for DefaultGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_gate-server"))
        .parent()
        .expect("bin dir")
        .to_path_buf()
}

fn run(example: &Example) -> Result<(), String> {
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &example.text])
        .current_dir(repository())
        .env("PATH", path)
        .env_remove("GATE_CONFIG")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run bash: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("still running after 120 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "exit {:?}\nstdout: {}\nstderr: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn check(example: &Example) -> Result<(), String> {
    let parsed = Command::new("bash")
        .args(["-n", "-c", &example.text])
        .output()
        .map_err(|e| e.to_string())?;
    if !parsed.status.success() {
        return Err(format!(
            "bash cannot parse it: {}",
            String::from_utf8_lossy(&parsed.stderr)
        ));
    }
    for line in example.text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        // `VAR=value gate-server ...`: the command after the assignments.
        let command = words
            .iter()
            .skip_while(|w| w.contains('=') && !w.starts_with('-'));
        let command: Vec<&str> = command.copied().collect();
        if command.first() == Some(&"gate-server") {
            check_subcommands(&command[1..])?;
        }
        for word in &words {
            check_path(word)?;
        }
    }
    Ok(())
}

/// `gate-server a b ...`: `a` is a command, and when `a` has commands of
/// its own, `b` is one of them.
fn check_subcommands(args: &[&str]) -> Result<(), String> {
    let Some(first) = args.first().filter(|a| !a.starts_with('-')) else {
        return Ok(());
    };
    let help = |path: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_gate-server"))
            .args(path)
            .arg("--help")
            .output()
            .map_err(|e| e.to_string())
    };
    let output = help(&[first])?;
    if !output.status.success() {
        return Err(format!("gate-server has no command {first:?}"));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    if let (Some(commands), Some(second)) = (text.split("Commands:").nth(1), args.get(1)) {
        let listed = commands
            .lines()
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .filter_map(|l| l.split_whitespace().next())
            .any(|name| name == *second);
        if !listed && !second.starts_with('-') {
            return Err(format!("gate-server {first} has no command {second:?}"));
        }
    }
    Ok(())
}

/// Words naming a file of the repository (`payloads/...`, `deploy/...`)
/// must name one that exists.
fn check_path(word: &str) -> Result<(), String> {
    const TOP: [&str; 8] = [
        "payloads/",
        "deploy/",
        "scripts/",
        "bench/",
        "examples/",
        "docs/",
        "crates/",
        "gate-server/",
    ];
    let word = word
        .trim_start_matches('@')
        .trim_matches(|c| c == '"' || c == '\'');
    if TOP.iter().any(|top| word.starts_with(top)) && !word.contains('*') && !word.contains("...") {
        let path = word.trim_end_matches([',', ';', ')']);
        if !repository().join(path).exists() {
            return Err(format!("{path} does not exist in the repository"));
        }
    }
    Ok(())
}

#[test]
fn every_shell_example_of_the_docs_holds() {
    let examples = examples();
    assert!(
        examples.len() >= 10,
        "found only {} examples",
        examples.len()
    );
    let _gateway = examples
        .iter()
        .any(|e| e.mode == Some(Mode::Run))
        .then(DefaultGateway::start);
    let mut failures = Vec::new();
    for example in &examples {
        let outcome = match example.mode {
            None => Err("no `<!-- example: run -->` or `<!-- example: check -->` marker".into()),
            Some(Mode::Run) => run(example),
            Some(Mode::Check) => check(example),
        };
        if let Err(why) = outcome {
            failures.push(format!(
                "{}:{}: {why}\n{}",
                example.file, example.line, example.text
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
