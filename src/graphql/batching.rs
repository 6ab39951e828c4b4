//! When a loader's batch is complete: as soon as the request's resolvers have asked for every
//! key they can, not after a fixed wait.
//!
//! A timed window splits batches under load: async-graphql resolves a list through
//! `FuturesUnordered`, which yields to the scheduler after every 32 items, and on a busy machine
//! the rest of the list may be polled only after the window has closed. So an HTTP request runs
//! its schema future inside [`Settle::drive`], which notices each poll that ends with nothing
//! left to do (pending, not woken during the poll, and no batch still handing out its rows) and
//! releases the batches queued so far. Each nesting level then costs exactly one statement, at
//! any load, without idle waiting.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    task::{Context, Poll, Wake, Waker},
    time::Duration,
};

use futures_util::future::BoxFuture;
use tokio::sync::Notify;

/// How the loaders of one request decide that a batch is complete.
#[derive(Clone)]
pub enum Batching {
    /// After a fixed window from the first key (for callers that are not driven by a
    /// [`Settle`], such as WebSocket operations).
    Window(Duration),
    /// When the driven request settles, plus an optional extra window.
    Settled(Arc<Signal>, Duration),
}

impl Batching {
    /// The wait async-graphql adds before taking the batch's keys.
    pub fn window(&self) -> Duration {
        match self {
            Batching::Window(window) | Batching::Settled(_, window) => *window,
        }
    }

    /// Starts a batch task: at once for a window, after the request settles otherwise. The
    /// notification is armed here, while the request is still being polled, so a settle that
    /// follows this poll cannot be missed.
    pub fn spawn(&self, task: BoxFuture<'static, ()>) {
        match self {
            Batching::Window(_) => {
                tokio::spawn(task);
            }
            Batching::Settled(signal, _) => {
                let mut notified = Box::pin(signal.settled.clone().notified_owned());
                notified.as_mut().enable();
                let signal = signal.clone();
                tokio::spawn(async move {
                    notified.await;
                    signal.delivering.fetch_add(1, Ordering::AcqRel);
                    task.await;
                    // Every row is handed out: let the request look again at what it can ask.
                    signal.delivering.fetch_sub(1, Ordering::AcqRel);
                    signal.wake_request();
                });
            }
        }
    }
}

/// What a request's batches and its driver share.
#[derive(Default)]
pub struct Signal {
    /// Released batches wait on this.
    settled: Arc<Notify>,
    /// Batches loading or handing out rows: while one is, the request is not settled, since
    /// the rows it has not handed out yet will ask for more keys.
    delivering: AtomicUsize,
    /// The request's task, woken when a batch has handed out all its rows.
    request: Mutex<Option<Waker>>,
}

impl Signal {
    fn wake_request(&self) {
        let waker = self.request.lock().ok().and_then(|mut w| w.take());
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The settle signal of one request.
#[derive(Default)]
pub struct Settle {
    signal: Arc<Signal>,
}

impl Settle {
    /// A signal for one request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Batching for this request's loaders, with `extra` added after each settle.
    pub fn batching(&self, extra: Duration) -> Batching {
        Batching::Settled(self.signal.clone(), extra)
    }

    /// Runs `future`, releasing queued batches whenever it can make no more progress on its own,
    /// and once more when it ends or is dropped (so no batch task outlives its request).
    pub async fn drive<F: Future>(&self, future: F) -> F::Output {
        Driven {
            future: Box::pin(future),
            signal: self.signal.clone(),
        }
        .await
    }
}

/// A future that reports when its inner future is idle.
struct Driven<F> {
    future: Pin<Box<F>>,
    signal: Arc<Signal>,
}

impl<F: Future> Future for Driven<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let woken = Arc::new(Flagged {
            woken: AtomicBool::new(false),
            inner: cx.waker().clone(),
        });
        let waker = Waker::from(woken.clone());
        if let Ok(mut request) = self.signal.request.lock() {
            *request = Some(cx.waker().clone());
        }
        let poll = self.future.as_mut().poll(&mut Context::from_waker(&waker));
        // Woken during its own poll means it yielded with work left (FuturesUnordered does
        // after 32 items): more keys may still come, so the batches wait. So they do while a
        // batch is still handing out rows; it wakes the request when it is done.
        let idle = !woken.woken.load(Ordering::Acquire)
            && self.signal.delivering.load(Ordering::Acquire) == 0;
        if poll.is_pending() && idle {
            self.signal.settled.notify_waiters();
        }
        poll
    }
}

impl<F> Drop for Driven<F> {
    fn drop(&mut self) {
        self.signal.settled.notify_waiters();
    }
}

/// Forwards wake-ups to the task, remembering that one happened.
struct Flagged {
    woken: AtomicBool,
    inner: Waker,
}

impl Wake for Flagged {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.inner.wake_by_ref();
    }
}
