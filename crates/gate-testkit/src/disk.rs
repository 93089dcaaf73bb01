//! A small disk that tests can fill and free for real: a tmpfs of a given
//! size mounted on a fresh directory. Filling it writes a ballast file
//! until the kernel answers ENOSPC; freeing it deletes the ballast. The
//! mount is undone when the value is dropped.
//!
//! Mounting needs root (or CAP_SYS_ADMIN), which the CI machine has; where
//! it is missing the test fails and says so, it never skips.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A mounted tmpfs; unmounted (lazily, in case a file is still open) on drop.
#[derive(Debug)]
pub struct SmallDisk {
    root: PathBuf,
}

impl SmallDisk {
    /// Mount a tmpfs of `bytes` bytes. Panics with the reason when it
    /// cannot: a test that needs a full disk must not pass without one.
    pub fn mount(bytes: u64) -> Self {
        let root = std::env::temp_dir().join(format!(
            "gate-small-disk-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&root).expect("create the mount point");
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={bytes},mode=0700"))
            .arg("gate-small-disk")
            .arg(&root)
            .output()
            .expect("run mount (util-linux)");
        assert!(
            output.status.success(),
            "cannot mount a {bytes}-byte tmpfs on {} (this test needs root or CAP_SYS_ADMIN \
             to create a real full disk): {}",
            root.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
        Self { root }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    fn ballast(&self) -> PathBuf {
        self.root.join("ballast")
    }

    /// Write to a ballast file until the disk is full; the bytes written.
    pub fn fill(&self) -> u64 {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.ballast())
            .expect("open the ballast file");
        let chunk = vec![0xA5_u8; 4096];
        let mut written = 0;
        loop {
            match file.write(&chunk) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("filling the disk failed otherwise: {e}"),
            }
        }
        written
    }

    /// Delete the ballast: the space comes back.
    pub fn free(&self) {
        std::fs::remove_file(self.ballast()).expect("delete the ballast file");
    }

    /// Bytes still free, as the kernel reports them.
    pub fn available(&self) -> u64 {
        let output = Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(&self.root)
            .output()
            .expect("run df");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.root).status();
        let _ = std::fs::remove_dir(&self.root);
    }
}
