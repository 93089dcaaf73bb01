//! `gate-server config import <DIR> --output FILE`: the original PHP
//! service's configuration as deployed (its `storage/app` folder and its
//! environment) turned into an equivalent TOML file, with every decision
//! the import could not make alone printed for the operator.

mod convert;
mod glob;
mod original;
mod toml_text;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

pub use convert::{convert, Imported, Options};
pub use original::{parse_env, Original, ReadError, ENV_NAMES};

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The original's configuration folder (its `storage/app`): credentials.json,
    /// the *PayloadAnalyzer folders, DockerHubTokens.json.
    pub dir: PathBuf,
    /// Where to write the TOML file (created with mode 600: it holds secrets).
    #[arg(long, short)]
    pub output: PathBuf,
    /// The original's `.env` file (BROKER_*, CREDENTIALS, ...); variables of
    /// this process with the same names win, as in the original.
    #[arg(long)]
    pub env_file: Option<PathBuf>,
    /// `server.listen` of the new file.
    #[arg(long, default_value = "0.0.0.0:8080")]
    pub listen: String,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{0} exists: choose another --output or add --force")]
    Exists(String),
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("the imported configuration does not pass `config check` (please report it):\n{0}")]
    Invalid(String),
}

/// The variables the original would see: the `.env` file, then this
/// process's variables of the same names.
pub fn environment(
    env_file: Option<&Path>,
    process: impl IntoIterator<Item = (String, String)>,
) -> Result<BTreeMap<String, String>, ReadError> {
    let mut env = match env_file {
        Some(path) => original::read_env_file(path)?,
        None => BTreeMap::new(),
    };
    env.extend(
        process
            .into_iter()
            .filter(|(name, _)| ENV_NAMES.contains(&name.as_str())),
    );
    Ok(env)
}

/// Read and convert, then check the result as `config check` would.
pub fn import(
    dir: &Path,
    env: BTreeMap<String, String>,
    options: &Options,
) -> Result<Imported, ImportError> {
    let original = Original::read(dir, env)?;
    let registry = crate::registry().map_err(|e| ImportError::Invalid(e.to_string()))?;
    let options = Options {
        dockerhub_sink: registry.sink_kinds().contains(&"dockerhub"),
        ..options.clone()
    };
    let imported = convert(&original, &options);
    check(&imported.toml)?;
    Ok(imported)
}

/// The same validation as `config check` (nothing is started).
fn check(toml: &str) -> Result<(), ImportError> {
    let config = crate::Config::parse("imported configuration", toml, [])
        .map_err(|e| ImportError::Invalid(e.to_string()))?;
    crate::launch::check(config)
        .map(drop)
        .map_err(|e| ImportError::Invalid(crate::launch::describe(&e)))
}

/// The command: writes the file, prints the decisions.
pub async fn run(args: ImportArgs) -> Result<(), ImportError> {
    let env = environment(args.env_file.as_deref(), std::env::vars())?;
    let options = Options {
        listen: args.listen.clone(),
        ..Options::default()
    };
    // Absolute, so that the files the new configuration names (Docker Hub
    // triggers) are found wherever the gateway runs.
    let dir = std::fs::canonicalize(&args.dir).unwrap_or_else(|_| args.dir.clone());
    let imported = import(&dir, env, &options)?;
    write_private(&args.output, &imported.toml, args.force)?;
    println!("decisions to review (also at the top of the file):");
    for decision in &imported.decisions {
        println!("- {decision}");
    }
    println!(
        "wrote {}: `gate-server config check --config {}` passes; see docs/migration.md for the switch-over",
        args.output.display(),
        args.output.display()
    );
    Ok(())
}

/// Create the file readable by its owner only, refusing to replace one
/// unless asked.
fn write_private(path: &Path, text: &str, force: bool) -> Result<(), ImportError> {
    let error = |e: std::io::Error| ImportError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            ImportError::Exists(path.display().to_string())
        } else {
            error(e)
        }
    })?;
    #[cfg(unix)]
    {
        // An existing file (with --force) keeps its mode: narrow it.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(error)?;
    }
    file.write_all(text.as_bytes()).map_err(error)?;
    file.sync_all().map_err(error)
}
