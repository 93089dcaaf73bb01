//! Whether a file could be written, without creating it or its folders:
//! `config check` must leave no trace. gate-server checks the spool path
//! with it too.

use std::path::Path;

/// `Ok` when `path` is a writable file, or when it does not exist and the
/// nearest existing folder above it is writable (so it, and any missing
/// folders, can be created). The error names the path and the reason.
pub fn check_creatable(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(format!("{} is a directory", path.display())),
        Ok(_) => writable(path).map_err(|e| format!("{} is not writable: {e}", path.display())),
        Err(_) => {
            let folder = path
                .ancestors()
                .skip(1)
                .map(|a| {
                    if a.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        a
                    }
                })
                .find(|a| a.exists())
                .unwrap_or(Path::new("."));
            if !folder.is_dir() {
                return Err(format!(
                    "cannot create {}: {} is not a directory",
                    path.display(),
                    folder.display()
                ));
            }
            writable(folder).map_err(|e| {
                format!(
                    "cannot create {}: {} is not writable: {e}",
                    path.display(),
                    folder.display()
                )
            })
        }
    }
}

#[cfg(unix)]
fn writable(path: &Path) -> Result<(), String> {
    use rustix::fs::{access, Access};
    let mode = if path.is_dir() {
        Access::WRITE_OK | Access::EXEC_OK
    } else {
        Access::WRITE_OK
    };
    access(path, mode).map_err(|e| e.to_string())
}

#[cfg(not(unix))]
fn writable(path: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.permissions().readonly() {
        Err("read-only".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creatable_paths_are_checked_without_creating_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let deep = dir.path().join("a/b/out.jsonl");
        check_creatable(&deep).expect("creatable below a writable folder");
        assert!(!dir.path().join("a").exists(), "nothing was created");

        let file = dir.path().join("f");
        std::fs::write(&file, "").expect("write");
        check_creatable(&file).expect("an existing writable file");
        let below_a_file = file.join("x.jsonl");
        assert!(check_creatable(&below_a_file)
            .unwrap_err()
            .contains("is not a directory"));
        assert!(check_creatable(dir.path())
            .unwrap_err()
            .ends_with("is a directory"));
    }
}
