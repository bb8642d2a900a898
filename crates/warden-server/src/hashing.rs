//! The one place where passwords and client secrets are hashed and checked with argon2id, and
//! the bound on what that costs.
//!
//! argon2id is slow and memory-hard by design (m = 19456 KiB, t = 2, p = 1: 19 MiB per
//! computation), and it runs before anyone is authenticated. So every computation goes through
//! [`Hashing`], a fixed pool:
//!
//! - [`HashingConfig::workers`] threads (by default one fewer than the machine has cores, so
//!   that hashing never takes every core from the requests being answered; at least 1, at most
//!   [`MAX_DEFAULT_WORKERS`]), each with ONE argon2 memory buffer allocated at its first job and
//!   reused for every later one: the memory for hashing is `workers × 19 MiB`, however many
//!   requests arrive;
//! - a queue of [`HashingConfig::queue`] jobs in front of them; when it is full, a new job is
//!   refused at once ([`Busy`]: the API answers 503 with `Retry-After`) rather than waiting;
//! - a job whose requester has gone (the client disconnected, so its receiver was dropped) is
//!   skipped when its turn comes, never started.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), as argon2's own
//! `PasswordHasher` writes them; a stored hash with other parameters is checked with them as
//! long as it fits the worker's buffer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine as _;
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

use crate::error::ApiError;

/// Workers by default at most: each holds 19 MiB for good.
pub const MAX_DEFAULT_WORKERS: usize = 4;
/// Jobs that may wait per worker by default. A job takes about 20–40 ms on one core, so the last
/// in a full queue waits about a quarter of a second.
pub const QUEUE_PER_WORKER: usize = 8;
/// What a refused job is told: retry after this many seconds.
pub const RETRY_AFTER_SECONDS: u64 = 1;
/// Bytes of random salt in a new hash.
const SALT_BYTES: usize = 16;
/// Bytes of a new hash's output (argon2's default).
const OUTPUT_BYTES: usize = 32;

/// The size of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingConfig {
    /// Threads hashing at the same time (at least 1).
    pub workers: usize,
    /// Jobs that may wait for a worker; more are refused (at least 1).
    pub queue: usize,
}

impl Default for HashingConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let workers = cores.saturating_sub(1).clamp(1, MAX_DEFAULT_WORKERS);
        HashingConfig {
            workers,
            queue: workers * QUEUE_PER_WORKER,
        }
    }
}

/// A job refused because the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    pub retry_after: u64,
}

impl From<Busy> for ApiError {
    fn from(busy: Busy) -> Self {
        ApiError::unavailable(
            "too many password and secret checks are waiting; nothing was changed, retry shortly",
            busy.retry_after,
        )
    }
}

#[derive(Debug)]
enum Work {
    Hash(String),
    Verify {
        secret: String,
        hash: String,
    },
    /// Says it started, then holds the worker until `release` sends or is dropped
    /// ([`Hashing::occupy`]).
    Hold {
        started: std::sync::mpsc::Sender<()>,
        release: std::sync::mpsc::Receiver<()>,
    },
}

#[derive(Debug)]
enum Done {
    Hashed(Result<String, String>),
    Verified(bool),
    Held,
}

#[derive(Debug)]
struct Job {
    work: Work,
    reply: oneshot::Sender<Done>,
}

/// What the pool has done, for tests and metrics.
#[derive(Debug, Default)]
pub struct HashingCounts {
    /// Jobs queued.
    pub submitted: AtomicU64,
    /// Jobs computed.
    pub completed: AtomicU64,
    /// Jobs skipped because their requester had gone.
    pub abandoned: AtomicU64,
    /// Jobs refused because the queue was full.
    pub refused: AtomicU64,
}

/// The pool (see the module's documentation). Cloning shares it.
#[derive(Debug, Clone)]
pub struct Hashing {
    queue: SyncSender<Job>,
    counts: Arc<HashingCounts>,
    config: HashingConfig,
}

impl Hashing {
    /// Starts the workers. They end when the last clone of the pool is dropped.
    pub fn start(config: HashingConfig) -> Hashing {
        let config = HashingConfig {
            workers: config.workers.max(1),
            queue: config.queue.max(1),
        };
        let (queue, jobs) = std::sync::mpsc::sync_channel::<Job>(config.queue);
        let jobs = Arc::new(Mutex::new(jobs));
        let counts = Arc::new(HashingCounts::default());
        for n in 0..config.workers {
            let jobs = Arc::clone(&jobs);
            let counts = Arc::clone(&counts);
            let spawned = std::thread::Builder::new()
                .name(format!("warden-hash-{n}"))
                .spawn(move || work(&jobs, &counts));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a hashing worker");
            }
        }
        Hashing {
            queue,
            counts,
            config,
        }
    }

    pub fn config(&self) -> HashingConfig {
        self.config
    }

    pub fn counts(&self) -> &HashingCounts {
        &self.counts
    }

    async fn run(&self, work: Work) -> Result<Done, Busy> {
        let (reply, answer) = oneshot::channel();
        match self.queue.try_send(Job { work, reply }) {
            Ok(()) => {
                self.counts.submitted.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counts.refused.fetch_add(1, Ordering::Relaxed);
                return Err(Busy {
                    retry_after: RETRY_AFTER_SECONDS,
                });
            }
        }
        // A worker always answers a job it takes; no answer means the pool is gone.
        answer.await.map_err(|_| Busy {
            retry_after: RETRY_AFTER_SECONDS,
        })
    }

    /// The argon2id PHC string of a new password or secret.
    pub async fn hash(&self, secret: String) -> Result<String, ApiError> {
        match self.run(Work::Hash(secret)).await? {
            Done::Hashed(Ok(hash)) => Ok(hash),
            Done::Hashed(Err(error)) => Err(ApiError::internal(format!(
                "cannot hash a password or secret: {error}"
            ))),
            _ => Err(ApiError::internal("the hashing pool answered another job")),
        }
    }

    /// Whether `secret` matches the stored PHC string `hash` (false for a malformed hash).
    pub async fn verify(&self, secret: String, hash: String) -> Result<bool, Busy> {
        match self.run(Work::Verify { secret, hash }).await? {
            Done::Verified(matched) => Ok(matched),
            _ => Ok(false),
        }
    }

    /// Queues a job that keeps a worker busy until the returned value is dropped: how tests
    /// fill the pool to see what a full one answers.
    #[doc(hidden)]
    pub fn occupy(&self) -> Result<Occupied, Busy> {
        let (started, on_start) = std::sync::mpsc::channel();
        let (release, held) = std::sync::mpsc::channel();
        let (reply, answer) = oneshot::channel();
        let work = Work::Hold {
            started,
            release: held,
        };
        self.queue.try_send(Job { work, reply }).map_err(|_| Busy {
            retry_after: RETRY_AFTER_SECONDS,
        })?;
        self.counts.submitted.fetch_add(1, Ordering::Relaxed);
        Ok(Occupied {
            _release: release,
            on_start,
            _answer: answer,
        })
    }
}

/// A worker held by [`Hashing::occupy`], released when this is dropped.
#[doc(hidden)]
#[derive(Debug)]
pub struct Occupied {
    _release: std::sync::mpsc::Sender<()>,
    on_start: std::sync::mpsc::Receiver<()>,
    _answer: oneshot::Receiver<Done>,
}

impl Occupied {
    /// Waits until a worker has taken the job (it may wait in the queue first).
    pub async fn started(&self) {
        while self.on_start.try_recv().is_err() {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
}

/// A worker: takes jobs until the pool is dropped, with one buffer for all of them.
fn work(jobs: &Mutex<Receiver<Job>>, counts: &HashingCounts) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = {
            let Ok(jobs) = jobs.lock() else { return };
            match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        if job.reply.is_closed() {
            counts.abandoned.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let done = match job.work {
            Work::Hash(secret) => Done::Hashed(hash_with(&mut memory, &secret)),
            Work::Verify { secret, hash } => {
                Done::Verified(verify_with(&mut memory, &secret, &hash))
            }
            Work::Hold { started, release } => {
                let _ = started.send(());
                let _ = release.recv();
                Done::Held
            }
        };
        counts.completed.fetch_add(1, Ordering::Relaxed);
        let _ = job.reply.send(done);
    }
}

/// The worker's buffer, grown once to `blocks` (19456 for the default parameters) and kept.
fn buffer(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
    memory.as_mut_slice()
}

fn hash_with(memory: &mut Vec<Block>, secret: &str) -> Result<String, String> {
    let params = Params::default();
    let mut salt = [0u8; SALT_BYTES];
    getrandom::fill(&mut salt).map_err(|e| format!("no randomness: {e}"))?;
    let mut out = [0u8; OUTPUT_BYTES];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            secret.as_bytes(),
            &salt,
            &mut out,
            buffer(memory, params.block_count()),
        )
        .map_err(|e| e.to_string())?;
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        b64.encode(salt),
        b64.encode(out)
    ))
}

/// The largest buffer a stored hash may ask for: the default parameters' (hashes that Warden
/// did not make and that ask for more are refused rather than grow the worker's memory).
fn max_blocks() -> usize {
    Params::default().block_count()
}

fn verify_with(memory: &mut Vec<Block>, secret: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::new(parsed.algorithm.as_str()),
        Params::try_from(&parsed),
        parsed.salt.as_ref(),
        parsed.hash.as_ref(),
    ) else {
        return false;
    };
    let version = match parsed.version {
        Some(version) => match Version::try_from(version) {
            Ok(version) => version,
            Err(_) => return false,
        },
        None => Version::default(),
    };
    if params.block_count() > max_blocks() {
        tracing::warn!(
            m_cost = params.m_cost(),
            "a stored password hash asks for more memory than the hashing workers have; refused"
        );
        return false;
    }
    let expected = expected.as_bytes();
    let mut out = vec![0u8; expected.len()];
    let blocks = params.block_count();
    let computed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        secret.as_bytes(),
        salt.as_ref(),
        &mut out,
        buffer(memory, blocks),
    );
    computed.is_ok() && bool::from(out.as_slice().ct_eq(expected))
}

#[cfg(test)]
mod tests {
    use argon2::PasswordVerifier as _;

    use super::*;

    fn pool(workers: usize, queue: usize) -> Hashing {
        Hashing::start(HashingConfig { workers, queue })
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_argon2_itself_accepts() {
        let pool = pool(1, 4);
        let hash = pool.hash("correct horse battery".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        Argon2::default()
            .verify_password(b"correct horse battery", hash.as_str())
            .unwrap();
        assert!(
            pool.verify("correct horse battery".into(), hash.clone())
                .await
                .unwrap()
        );
        assert!(
            !pool
                .verify("correct horse batterz".into(), hash.clone())
                .await
                .unwrap()
        );
        assert!(!pool.verify("x".into(), "not a hash".into()).await.unwrap());
        // A hash made by argon2's own hasher (as Warden stored them before) still verifies.
        let theirs = argon2::PasswordHasher::hash_password(&Argon2::default(), b"older")
            .unwrap()
            .to_string();
        assert!(pool.verify("older".into(), theirs).await.unwrap());
        // Parameters beyond the workers' buffer are refused, not given more memory.
        let greedy = argon2::CustomizedPasswordHasher::hash_password_customized(
            &Argon2::default(),
            b"greedy",
            b"saltsaltsalt",
            None,
            None,
            Params::new(32 * 1024, 1, 1, None).unwrap(),
        )
        .unwrap()
        .to_string();
        assert!(!pool.verify("greedy".into(), greedy).await.unwrap());
        assert_eq!(pool.counts().completed.load(Ordering::Relaxed), 6);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_abandoned_jobs_are_skipped() {
        let pool = pool(1, 2);
        let held = pool.occupy().unwrap();
        held.started().await;
        // Two jobs whose requesters are already gone fill the queue behind the busy worker.
        for _ in 0..2 {
            drop(pool.occupy().unwrap());
        }
        let refused = pool.verify("x".into(), "y".into()).await;
        assert_eq!(refused, Err(Busy { retry_after: 1 }));
        assert_eq!(pool.counts().refused.load(Ordering::Relaxed), 1);
        drop(held);
        // The two waiting jobs had no receiver: skipped, not started.
        while pool.counts().abandoned.load(Ordering::Relaxed) < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let answered = pool.verify("x".into(), "not a hash".into()).await;
        assert_eq!(answered, Ok(false));
        assert_eq!(pool.counts().abandoned.load(Ordering::Relaxed), 2);
        assert_eq!(pool.counts().completed.load(Ordering::Relaxed), 2);
        assert_eq!(pool.counts().submitted.load(Ordering::Relaxed), 4);
    }
}
