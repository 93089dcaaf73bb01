//! Group commit: records that arrive while a write+fsync is under way wait
//! for the next one, which carries all of them. Each caller is answered only
//! once the commit that holds its record has returned, so "answer after
//! fsync" holds at one fsync per group instead of one per record.

use std::fs::File;
use std::io::{self, IoSlice, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

/// The appending end of one file, shared by every request of a sink.
#[derive(Debug)]
pub struct Committer {
    file: Mutex<File>,
    fsync: bool,
    queue: Mutex<Queue>,
    records: AtomicU64,
    commits: AtomicU64,
}

/// Records waiting for the next commit, and whether a writer is running.
#[derive(Debug, Default)]
struct Queue {
    records: Vec<Vec<u8>>,
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
    writing: bool,
}

impl Committer {
    pub fn new(file: File, fsync: bool) -> Arc<Self> {
        Arc::new(Self {
            file: Mutex::new(file),
            fsync,
            queue: Mutex::new(Queue::default()),
            records: AtomicU64::new(0),
            commits: AtomicU64::new(0),
        })
    }

    /// Append one record (a whole line) and wait until it is written, and
    /// fsynced when the sink asks for it. The error is the I/O failure of
    /// the commit that carried the record.
    pub async fn append(self: &Arc<Self>, record: Vec<u8>) -> Result<(), String> {
        let (done, answer) = oneshot::channel();
        let start_writer = {
            let mut queue = lock(&self.queue);
            queue.records.push(record);
            queue.waiters.push(done);
            !std::mem::replace(&mut queue.writing, true)
        };
        if start_writer {
            let writer = Writer {
                committer: Arc::clone(self),
                drained: false,
            };
            // Blocking file I/O: off the async workers. The writer drains the
            // queue until it finds it empty, so at most one runs at a time.
            drop(tokio::task::spawn_blocking(move || writer.run()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err("the file writer stopped".to_owned()))
    }

    /// (records written, commits made): the ratio is the group size.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.records.load(Ordering::Relaxed),
            self.commits.load(Ordering::Relaxed),
        )
    }

    fn drain(&self) {
        let mut file = lock(&self.file);
        loop {
            let (records, waiters) = {
                let mut queue = lock(&self.queue);
                if queue.records.is_empty() {
                    queue.writing = false;
                    return;
                }
                (
                    std::mem::take(&mut queue.records),
                    std::mem::take(&mut queue.waiters),
                )
            };
            let outcome = commit(&mut file, &records, self.fsync).map_err(|e| e.to_string());
            if outcome.is_ok() {
                self.records
                    .fetch_add(records.len() as u64, Ordering::Relaxed);
                self.commits.fetch_add(1, Ordering::Relaxed);
            }
            drop(records);
            for waiter in waiters {
                // A caller that gave up (deadline) no longer listens.
                let _ = waiter.send(outcome.clone());
            }
        }
    }
}

/// One write of every record, then one fsync. On failure the file is cut
/// back to where the group started, so a half-written group (disk full)
/// leaves no partial line for the next one to be glued to.
fn commit(file: &mut File, records: &[Vec<u8>], fsync: bool) -> io::Result<()> {
    let start = file.metadata()?.len();
    let written =
        write_all_vectored(file, records).and_then(
            |()| {
                if fsync {
                    file.sync_data()
                } else {
                    Ok(())
                }
            },
        );
    if written.is_err() {
        // Best effort: the records are reported failed either way.
        let _ = file.set_len(start);
    }
    written
}

fn write_all_vectored(file: &mut File, records: &[Vec<u8>]) -> io::Result<()> {
    // writev takes at most IOV_MAX (1024 on Linux) slices per call.
    for chunk in records.chunks(1024) {
        let mut slices: Vec<IoSlice<'_>> = chunk.iter().map(|r| IoSlice::new(r)).collect();
        let mut slices = &mut slices[..];
        while !slices.is_empty() {
            match file.write_vectored(slices) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut slices, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// The running writer. Dropped without having drained the queue (the
/// runtime shut down before it ran, or it panicked), it fails the waiting
/// callers rather than leave them waiting forever.
struct Writer {
    committer: Arc<Committer>,
    drained: bool,
}

impl Writer {
    fn run(mut self) {
        self.committer.drain();
        self.drained = true;
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.drained {
            let mut queue = lock(&self.committer.queue);
            queue.records.clear();
            queue.waiters.clear();
            queue.writing = false;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data stays consistent across a panic (none is expected).
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
