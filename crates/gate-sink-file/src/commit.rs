//! Group commit: records that arrive while a write+fsync is under way wait
//! for the next one, which carries all of them. Each caller is answered only
//! once the commit that holds its record has returned, so "answer after
//! fsync" holds at one fsync per group instead of one per record.
//!
//! One writer thread per file owns it (no lock is held across the fsync).
//! After answering a group it waits briefly (`FOLLOWER_WAIT`) until the
//! callers it answered are back with their next records, joining those
//! already queued: without that, the first caller back starts a commit
//! alone and the others queue behind it, so groups split, stay split, and
//! each fsync carries a fraction of the callers.

use std::fs::File;
use std::io::{self, IoSlice, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// How long a commit is held back, at most, for the previous group's
/// callers (with fsync only). It covers a client's turnaround (answer
/// read, next request sent, checked and encoded): 2-3 ms on the loaded
/// 2-core test machine. When they do not come back (the load dropped) it is
/// what one commit pays once.
const FOLLOWER_WAIT: Duration = Duration::from_millis(5);

/// The appending end of one file, shared by every request of a sink.
/// Dropping it lets the writer thread finish the queued records and end.
#[derive(Debug)]
pub struct Committer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when the writer's wait condition may hold.
    arrived: Condvar,
    records: AtomicU64,
    commits: AtomicU64,
}

/// Records waiting for the next commit.
#[derive(Debug)]
struct Queue {
    records: Vec<Vec<u8>>,
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
    /// Queue length at which the writer wants a signal (`usize::MAX` while
    /// it commits: it looks at the queue anyway when done).
    wake_at: usize,
    /// No more records will come (the committer was dropped).
    closed: bool,
    /// The writer thread is gone (it panicked): fail at once.
    dead: bool,
}

impl Committer {
    /// Start the writer thread of `file`.
    pub fn new(file: File, fsync: bool) -> io::Result<Self> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                records: Vec::new(),
                waiters: Vec::new(),
                wake_at: 1,
                closed: false,
                dead: false,
            }),
            arrived: Condvar::new(),
            records: AtomicU64::new(0),
            commits: AtomicU64::new(0),
        });
        let writer = Writer {
            shared: Arc::clone(&shared),
        };
        std::thread::Builder::new()
            .name("file-sink".into())
            .spawn(move || writer.run(file, fsync))?;
        Ok(Self { shared })
    }

    /// Append one record (a whole line) and wait until it is written, and
    /// fsynced when the sink asks for it. The error is the I/O failure of
    /// the commit that carried the record.
    pub async fn append(&self, record: Vec<u8>) -> Result<(), String> {
        let (done, answer) = oneshot::channel();
        {
            let mut queue = lock(&self.shared.queue);
            if queue.dead {
                return Err(WRITER_STOPPED.to_owned());
            }
            queue.records.push(record);
            queue.waiters.push(done);
            if queue.records.len() >= queue.wake_at {
                self.shared.arrived.notify_one();
            }
        }
        answer
            .await
            .unwrap_or_else(|_| Err(WRITER_STOPPED.to_owned()))
    }

    /// (records written, commits made): the ratio is the group size.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.shared.records.load(Ordering::Relaxed),
            self.shared.commits.load(Ordering::Relaxed),
        )
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        lock(&self.shared.queue).closed = true;
        self.shared.arrived.notify_one();
    }
}

const WRITER_STOPPED: &str = "the file writer stopped";

/// The writer thread. Dropped without having finished (it panicked), it
/// fails the waiting callers and any later ones rather than leave them
/// waiting forever.
struct Writer {
    shared: Arc<Shared>,
}

impl Writer {
    fn run(self, mut file: File, fsync: bool) {
        // Without fsync a write takes microseconds: splitting costs nothing.
        let wait = if fsync { FOLLOWER_WAIT } else { Duration::ZERO };
        // Callers active at the last answer (those answered, who usually
        // come back, and those already queued), and when.
        let mut callers = 0;
        let mut answered_at = Instant::now();
        loop {
            let Some((records, waiters)) = self.next_group(callers, answered_at + wait) else {
                return;
            };
            let outcome = commit(&mut file, &records, fsync).map_err(|e| e.to_string());
            if outcome.is_ok() {
                self.shared
                    .records
                    .fetch_add(records.len() as u64, Ordering::Relaxed);
                self.shared.commits.fetch_add(1, Ordering::Relaxed);
            }
            let answered = records.len();
            drop(records);
            for waiter in waiters {
                // A caller that gave up (deadline) no longer listens.
                let _ = waiter.send(outcome.clone());
            }
            answered_at = Instant::now();
            // Waiting for all of them merges groups that split (a slow
            // fsync, a caller late once) back into one.
            callers = answered + lock(&self.shared.queue).records.len();
        }
    }

    /// Wait for records, then until `followers` of them are queued or
    /// `until` passes; `None` once closed and empty.
    #[allow(clippy::type_complexity)]
    fn next_group(
        &self,
        followers: usize,
        until: Instant,
    ) -> Option<(Vec<Vec<u8>>, Vec<oneshot::Sender<Result<(), String>>>)> {
        let mut queue = lock(&self.shared.queue);
        loop {
            let now = Instant::now();
            let enough = queue.records.len() >= followers || now >= until;
            if !queue.records.is_empty() && (enough || queue.closed) {
                break;
            }
            if queue.records.is_empty() && queue.closed {
                return None;
            }
            queue = if queue.records.is_empty() || now >= until {
                queue.wake_at = 1;
                self.shared
                    .arrived
                    .wait(queue)
                    .unwrap_or_else(|p| p.into_inner())
            } else {
                queue.wake_at = followers;
                self.shared
                    .arrived
                    .wait_timeout(queue, until - now)
                    .map_or_else(|p| p.into_inner().0, |(q, _)| q)
            };
        }
        queue.wake_at = usize::MAX;
        Some((
            std::mem::take(&mut queue.records),
            std::mem::take(&mut queue.waiters),
        ))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let mut queue = lock(&self.shared.queue);
        queue.dead = true;
        // Dropping the senders answers their callers "writer stopped".
        queue.records.clear();
        queue.waiters.clear();
    }
}

/// One write of every record, then one fdatasync. On failure the file is
/// cut back to where the group started, so a half-written group (disk
/// full) leaves no partial line for the next one to be glued to.
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data stays consistent across a panic (none is expected).
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
