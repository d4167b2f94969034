//! Threads owned by the bridge that run executions off the Node event loop, and the instance
//! slots that bound how many executions run or stay parked at once (maxInstances). A job that needs
//! a slot waits in the queue until one frees up; resuming a parked execution reuses the slot it
//! already holds, so parked handlers can always be resumed and the queue cannot deadlock.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};

use crate::engine::WORKER_STACK_BYTES;
use crate::sched;

type Work = Box<dyn FnOnce(Option<Slot>) + Send>;

struct Job {
    needs_slot: bool,
    work: Work,
}

struct Queue {
    jobs: VecDeque<Job>,
    free_slots: u32,
    /// Workers waiting for work.
    idle: u32,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
    slots: u32,
}

/// One of maxInstances instance slots; dropping it frees the slot.
pub struct Slot {
    shared: Arc<Shared>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut queue = self.shared.queue.lock().unwrap();
        queue.free_slots += 1;
        // Wake a worker only for work that waited for this slot: most slots are freed on the
        // caller's thread after a short execution, and waking idle workers for nothing costs
        // more than the execution did.
        let waited = queue.jobs.iter().any(|job| job.needs_slot);
        drop(queue);
        if waited {
            self.shared.changed.notify_one();
        }
    }
}

pub struct WorkerPool {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl WorkerPool {
    pub fn new(workers: u32, slots: u32) -> Self {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                free_slots: slots,
                idle: 0,
                closed: false,
            }),
            changed: Condvar::new(),
            slots,
        });
        let threads = (0..workers)
            .map(|i| {
                let shared = shared.clone();
                thread::Builder::new()
                    .name(format!("nexus-worker-{i}"))
                    .stack_size(WORKER_STACK_BYTES)
                    .spawn(move || {
                        sched::threads::lower_priority();
                        work(shared)
                    })
                    .expect("spawn a bridge worker thread")
            })
            .collect();
        WorkerPool {
            shared,
            threads: Mutex::new(threads),
        }
    }

    /// Queues `work`; with `needs_slot` it runs once a slot is free and receives it.
    pub fn submit(&self, needs_slot: bool, work: impl FnOnce(Option<Slot>) + Send + 'static) {
        self.shared.queue.lock().unwrap().jobs.push_back(Job {
            needs_slot,
            work: Box::new(work),
        });
        // Any idle worker can take it; busy ones look at the queue again when they finish.
        self.shared.changed.notify_one();
    }

    /// A free slot right now, unless the queued work that needs slots would be left without one
    /// (it goes first). Work queued only because every bridge thread is busy does not stop a
    /// short execution on the caller's thread.
    pub fn try_take_slot(&self) -> Option<Slot> {
        let mut queue = self.shared.queue.lock().unwrap();
        let waiting = queue.jobs.iter().filter(|job| job.needs_slot).count();
        if queue.closed || queue.free_slots as usize <= waiting {
            return None;
        }
        queue.free_slots -= 1;
        Some(Slot {
            shared: self.shared.clone(),
        })
    }

    /// Whether a worker waits for work (and nothing queued is waiting for a worker).
    pub fn has_idle_worker(&self) -> bool {
        let queue = self.shared.queue.lock().unwrap();
        queue.idle as usize > queue.jobs.len()
    }

    pub fn free_slots(&self) -> u32 {
        self.shared.queue.lock().unwrap().free_slots
    }

    pub fn queued(&self) -> usize {
        self.shared.queue.lock().unwrap().jobs.len()
    }

    pub fn slots(&self) -> u32 {
        self.shared.slots
    }

    /// Lets queued jobs finish, then stops the threads (without waiting for them).
    pub fn close(&self) {
        self.shared.queue.lock().unwrap().closed = true;
        self.shared.changed.notify_all();
    }

    /// Closes the pool and waits for its threads; call from a thread that is not a worker.
    pub fn join(&self) {
        self.close();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap());
        for thread in threads {
            let _ = thread.join();
        }
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        // Never join here: the last reference may be dropped on a worker thread.
        self.close();
    }
}

fn work(shared: Arc<Shared>) {
    loop {
        let (job, slot) = {
            let mut queue = shared.queue.lock().unwrap();
            loop {
                let free = queue.free_slots;
                if let Some(index) = queue
                    .jobs
                    .iter()
                    .position(|job| !job.needs_slot || free > 0)
                {
                    let job = queue.jobs.remove(index).expect("index from position");
                    let slot = job.needs_slot.then(|| {
                        queue.free_slots -= 1;
                        Slot {
                            shared: shared.clone(),
                        }
                    });
                    break (job, slot);
                }
                if queue.closed && queue.jobs.is_empty() {
                    return;
                }
                queue.idle += 1;
                queue = shared.changed.wait(queue).unwrap();
                queue.idle -= 1;
            }
        };
        (job.work)(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn jobs_beyond_the_slots_wait_for_a_free_slot() {
        let pool = WorkerPool::new(2, 1);
        let (held_tx, held_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        pool.submit(true, move |slot| held_tx.send(slot.unwrap()).unwrap());
        let held = held_rx.recv().unwrap();
        pool.submit(true, move |_| done_tx.send(()).unwrap());
        assert!(
            done_rx.recv_timeout(Duration::from_millis(100)).is_err(),
            "ran without a slot"
        );
        drop(held);
        done_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("ran once the slot was freed");
        pool.join();
    }

    #[test]
    fn jobs_without_a_slot_overtake_jobs_waiting_for_one() {
        let pool = WorkerPool::new(1, 1);
        let (held_tx, held_rx) = mpsc::channel();
        pool.submit(true, move |slot| held_tx.send(slot.unwrap()).unwrap());
        let held = held_rx.recv().unwrap();
        let (order_tx, order_rx) = mpsc::channel();
        let waiting = order_tx.clone();
        pool.submit(true, move |_| waiting.send("needed a slot").unwrap());
        pool.submit(false, move |_| order_tx.send("resumed").unwrap());
        assert_eq!(
            order_rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            "resumed"
        );
        drop(held);
        assert_eq!(
            order_rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            "needed a slot"
        );
        pool.join();
    }

    #[test]
    fn the_caller_takes_a_slot_unless_queued_work_needs_it() {
        let pool = WorkerPool::new(1, 2);
        // The one worker is busy until released: the next job waits for it, not for a slot.
        let (release_tx, release_rx) = mpsc::channel::<()>();
        pool.submit(false, move |_| release_rx.recv().unwrap());
        pool.submit(true, |_| {});
        let first = pool
            .try_take_slot()
            .expect("a slot beyond the one queued work needs");
        assert!(
            pool.try_take_slot().is_none(),
            "the last free slot is kept for the queued job"
        );
        drop(first);
        release_tx.send(()).unwrap();
        pool.join();
    }
}
