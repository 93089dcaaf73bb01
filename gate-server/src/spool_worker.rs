//! The thread every spool call runs on. redb runs one write transaction at
//! a time, so more threads would only wait; and each thread that allocates
//! makes glibc keep a malloc arena of its own, which it seldom gives back
//! (docs/performance.md, spool memory).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Sender};
use std::sync::OnceLock;

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// Run `work` on the spool thread; `Err` when it panicked or the thread
/// could not be started.
pub(crate) async fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (done, answer) = oneshot::channel();
    let job: Job = Box::new(move || {
        // A panic drops `done`: the caller gets an error, the thread lives on.
        if let Ok(value) = catch_unwind(AssertUnwindSafe(work)) {
            let _ = done.send(value);
        }
    });
    let Some(thread) = thread() else {
        return Err("the spool thread could not be started".to_owned());
    };
    thread
        .send(job)
        .map_err(|_| "the spool thread stopped".to_owned())?;
    answer
        .await
        .map_err(|_| "the spool call panicked".to_owned())
}

fn thread() -> Option<&'static Sender<Job>> {
    static THREAD: OnceLock<Option<Sender<Job>>> = OnceLock::new();
    THREAD
        .get_or_init(|| {
            let (jobs, queue) = channel::<Job>();
            std::thread::Builder::new()
                .name("spool".into())
                .spawn(move || {
                    for job in queue {
                        job();
                    }
                })
                .map_err(|e| tracing::error!(error = %e, "cannot start the spool thread"))
                .ok()
                .map(|_| jobs)
        })
        .as_ref()
}
