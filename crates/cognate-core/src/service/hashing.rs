//! Password hashing on a few long-lived threads (one per core). Argon2id is CPU-bound and
//! allocates a large block array per hash; keeping it on a fixed set of threads bounds both
//! the concurrency and the memory (each thread's allocator arena holds at most one array),
//! where spawn_blocking spread the arrays over many short-lived threads' arenas. Each thread
//! also reuses its Argon2 work area from hash to hash. Sign-in's password checks run here too.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use cognate_crypto::password::PasswordHasher;
use cognate_crypto::srp::Verifier;
use cognate_crypto::CryptoError;
use tokio::sync::oneshot;

enum Job {
    Hash {
        pool_name: String,
        user_id_for_srp: String,
        password: String,
        reply: oneshot::Sender<Result<(String, Verifier), CryptoError>>,
    },
    Verify {
        password: String,
        phc: String,
        reply: oneshot::Sender<bool>,
    },
}

pub struct HashWorkers {
    jobs: mpsc::Sender<Job>,
}

impl HashWorkers {
    pub fn start(hasher: PasswordHasher, threads: usize) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        // Workers take turns at the queue; the lock is held only while waiting for a job,
        // never by a request task.
        let queue = Arc::new(Mutex::new(queue));
        let hasher = Arc::new(hasher);
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            let hasher = hasher.clone();
            std::thread::Builder::new()
                .name(format!("cognate-hash-{n}"))
                .spawn(move || {
                    let mut work = cognate_crypto::password::HashWorkArea::default();
                    loop {
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        match job {
                            Job::Hash {
                                pool_name,
                                user_id_for_srp,
                                password,
                                reply,
                            } => {
                                let result = hasher.hash_with(&password, &mut work).map(|hash| {
                                    let verifier = cognate_crypto::srp::compute_verifier(
                                        &pool_name,
                                        &user_id_for_srp,
                                        &password,
                                    );
                                    (hash, verifier)
                                });
                                let _ = reply.send(result);
                            }
                            Job::Verify {
                                password,
                                phc,
                                reply,
                            } => {
                                let _ = reply.send(hasher.verify_with(&password, &phc, &mut work));
                            }
                        }
                    }
                })?;
        }
        Ok(Self { jobs })
    }

    /// The argon2id PHC hash and the SRP verifier of a password.
    pub async fn hash(
        &self,
        pool_name: &str,
        user_id_for_srp: &str,
        password: &str,
    ) -> Result<(String, Verifier), String> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Hash {
                pool_name: pool_name.to_string(),
                user_id_for_srp: user_id_for_srp.to_string(),
                password: password.to_string(),
                reply,
            })
            .map_err(|_| "hash workers stopped".to_string())?;
        answer
            .await
            .map_err(|_| "hash worker dropped the job".to_string())?
            .map_err(|e| e.to_string())
    }

    /// Whether `password` matches the stored PHC hash (argon2id, constant time).
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool, String> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Verify {
                password: password.to_string(),
                phc: phc.to_string(),
                reply,
            })
            .map_err(|_| "hash workers stopped".to_string())?;
        answer
            .await
            .map_err(|_| "hash worker dropped the job".to_string())
    }
}
