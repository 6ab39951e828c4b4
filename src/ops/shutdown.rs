//! Graceful shutdown: one signal that long-lived parts (WebSockets) watch, so SIGTERM closes
//! them with 1001 "going away" while in-flight HTTP requests finish.

use tokio::sync::watch;

/// The shutdown signal of one gateway.
#[derive(Clone)]
pub struct Shutdown {
    tx: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            tx: watch::channel(false).0,
        }
    }
}

impl Shutdown {
    /// Tells every watcher to wind down.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether shutdown has begun.
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once shutdown has been triggered.
    pub async fn triggered(&self) {
        let mut rx = self.tx.subscribe();
        // An error means the sender is gone, which only happens at the very end.
        let _ = rx.wait_for(|stop| *stop).await;
    }
}
