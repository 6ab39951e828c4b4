//! A batch loader: the keys a request asks for while it is busy become one call of a batch
//! function, released when [`Batching`] says the batch is complete.
//!
//! It replaces async-graphql's `DataLoader`, whose every batch waits on a `futures-timer`
//! delay served by a separate timer thread (even a zero delay is a round trip through that
//! thread), and whose every key costs a set, a channel and a map of cloned values. Here a
//! batch is one shared slot: callers register their key, the released batch fetches once,
//! and each caller takes its value (moved out for the last caller of a key, cloned before).

use std::{
    collections::HashMap,
    future::Future,
    hash::Hash,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard},
};

use futures_util::FutureExt;
use tokio::sync::Notify;

use super::batching::Batching;
use crate::{Error, Result};

/// Most keys in one batch; more start another batch.
const MAX_BATCH: usize = 1000;

/// What a batch function returns: the value of each key found.
pub type LoadFuture<K, V> = Pin<Box<dyn Future<Output = Result<HashMap<K, V>>> + Send>>;

type Fetch<K, V> = dyn Fn(Vec<K>) -> LoadFuture<K, V> + Send + Sync;

/// Loads values by key, batching the keys of one request.
pub struct BatchLoader<K, V> {
    inner: Arc<Inner<K, V>>,
}

struct Inner<K, V> {
    fetch: Box<Fetch<K, V>>,
    batching: Batching,
    /// The batch that still takes keys, if any.
    open: Mutex<Option<Arc<Batch<K, V>>>>,
}

/// One batch: the keys asked for, then the batch function's answer.
struct Batch<K, V> {
    state: Mutex<State<K, V>>,
    answered: Notify,
}

struct State<K, V> {
    /// Each key with how many callers still wait for it.
    wanted: HashMap<K, usize>,
    answer: Option<Result<HashMap<K, V>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<K, V> BatchLoader<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A loader calling `fetch` once per batch, batches completed as `batching` says.
    pub fn new<F, Fut>(batching: &Batching, fetch: F) -> Self
    where
        F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<HashMap<K, V>>> + Send + 'static,
    {
        Self {
            inner: Arc::new(Inner {
                fetch: Box::new(move |keys| Box::pin(fetch(keys))),
                batching: batching.clone(),
                open: Mutex::new(None),
            }),
        }
    }

    /// The value of `key`, `None` if the batch function did not find it.
    pub async fn load_one(&self, key: K) -> Result<Option<V>> {
        let batch = self.join(&key);
        batch.wait(&key).await
    }

    /// The values of `keys` that were found, by key.
    pub async fn load_many(&self, keys: impl IntoIterator<Item = K>) -> Result<HashMap<K, V>> {
        let joined: Vec<(K, Arc<Batch<K, V>>)> = keys
            .into_iter()
            .map(|key| {
                let batch = self.join(&key);
                (key, batch)
            })
            .collect();
        let mut found = HashMap::with_capacity(joined.len());
        for (key, batch) in joined {
            if let Some(value) = batch.wait(&key).await? {
                found.insert(key, value);
            }
        }
        Ok(found)
    }

    /// Adds `key` to the open batch, opening (and scheduling) one if none takes keys.
    fn join(&self, key: &K) -> Arc<Batch<K, V>> {
        let mut open = lock(&self.inner.open);
        let batch = match open.as_ref() {
            Some(batch) => batch.clone(),
            None => {
                let batch = Arc::new(Batch {
                    state: Mutex::new(State {
                        wanted: HashMap::new(),
                        answer: None,
                    }),
                    answered: Notify::new(),
                });
                *open = Some(batch.clone());
                self.schedule(batch.clone());
                batch
            }
        };
        let size = {
            let mut state = lock(&batch.state);
            *state.wanted.entry(key.clone()).or_insert(0) += 1;
            state.wanted.len()
        };
        if size >= MAX_BATCH {
            *open = None;
        }
        batch
    }

    /// Hands the batch to the request's batching; when released, it closes and fetches.
    fn schedule(&self, batch: Arc<Batch<K, V>>) {
        let inner = self.inner.clone();
        let window = inner.batching.window();
        self.inner.batching.spawn(Box::pin(async move {
            if !window.is_zero() {
                tokio::time::sleep(window).await;
            }
            let keys = inner.close(&batch);
            // A panicking batch function must still answer its callers (with an error), or
            // they and their request would wait until the request timed out.
            let answer = AssertUnwindSafe((inner.fetch)(keys))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(Error::internal("batch loader", "the batch panicked")));
            lock(&batch.state).answer = Some(answer);
            batch.answered.notify_waiters();
        }));
    }
}

impl<K: Hash + Eq + Clone, V> Inner<K, V> {
    /// Stops `batch` taking keys and returns them.
    fn close(&self, batch: &Arc<Batch<K, V>>) -> Vec<K> {
        let mut open = lock(&self.open);
        if open.as_ref().is_some_and(|o| Arc::ptr_eq(o, batch)) {
            *open = None;
        }
        // Under the `open` lock: no caller can be adding a key to this batch now.
        lock(&batch.state).wanted.keys().cloned().collect()
    }
}

impl<K: Hash + Eq, V: Clone> Batch<K, V> {
    /// Waits for the answer and takes `key`'s value from it.
    async fn wait(&self, key: &K) -> Result<Option<V>> {
        loop {
            let answered = self.answered.notified();
            tokio::pin!(answered);
            // Registered before looking, so an answer stored meanwhile still wakes this.
            answered.as_mut().enable();
            if let Some(value) = self.take(key) {
                return value;
            }
            answered.await;
        }
    }

    /// `key`'s value once the answer is in: moved out for its last waiting caller.
    fn take(&self, key: &K) -> Option<Result<Option<V>>> {
        let mut state = lock(&self.state);
        let State { wanted, answer } = &mut *state;
        let values = match answer.as_mut()? {
            Ok(values) => values,
            Err(err) => return Some(Err(err.clone())),
        };
        let last = match wanted.get_mut(key) {
            Some(waiting) if *waiting > 1 => {
                *waiting -= 1;
                false
            }
            _ => true,
        };
        Some(Ok(if last {
            values.remove(key)
        } else {
            values.get(key).cloned()
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::atomic::{AtomicUsize, Ordering},
        time::Duration,
    };

    use super::*;

    fn counting(calls: Arc<AtomicUsize>) -> BatchLoader<i32, String> {
        BatchLoader::new(&Batching::Window(Duration::from_millis(5)), move |keys| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move { Ok(keys.into_iter().map(|k| (k, format!("v{k}"))).collect()) }
        })
    }

    #[tokio::test]
    async fn concurrent_keys_are_one_batch_and_each_caller_gets_its_value() {
        let calls = Arc::new(AtomicUsize::new(0));
        let loader = counting(calls.clone());
        let (a, b, again) =
            tokio::join!(loader.load_one(1), loader.load_one(2), loader.load_one(1));
        assert_eq!(a.ok().flatten().as_deref(), Some("v1"));
        assert_eq!(b.ok().flatten().as_deref(), Some("v2"));
        assert_eq!(again.ok().flatten().as_deref(), Some("v1"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_later_key_starts_a_new_batch() {
        let calls = Arc::new(AtomicUsize::new(0));
        let loader = counting(calls.clone());
        assert!(loader.load_one(1).await.is_ok());
        let many = loader.load_many([2, 3]).await.unwrap_or_default();
        assert_eq!(many.len(), 2);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_panicking_batch_answers_every_caller_with_an_error() {
        let loader: BatchLoader<i32, String> = BatchLoader::new(
            &Batching::Window(Duration::ZERO),
            |keys: Vec<i32>| async move {
                assert!(keys.is_empty(), "a batch function that panics");
                Ok(HashMap::new())
            },
        );
        let (a, b) = tokio::join!(loader.load_one(1), loader.load_one(2));
        assert!(a.is_err() && b.is_err());
    }

    #[tokio::test]
    async fn an_error_reaches_every_caller() {
        let loader: BatchLoader<i32, String> =
            BatchLoader::new(&Batching::Window(Duration::ZERO), |_keys| async {
                Err(crate::Error::bad_input("id", "broken"))
            });
        let (a, b) = tokio::join!(loader.load_one(1), loader.load_one(2));
        assert!(a.is_err() && b.is_err());
    }
}
