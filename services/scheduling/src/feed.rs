//! Announcing changes to the live queue to everyone watching it.
//!
//! A store write that changes the queue returns a [`QueueChange`]; the handler publishes it here
//! once the transaction has committed, so a watcher that re-reads the queue always sees the
//! change. Watchers receive only "something changed" and re-read the whole day's queue, so a
//! watcher that falls behind loses nothing by skipping to the latest state.
//!
//! Today changes travel on an in-process `tokio::sync::broadcast` channel, which is all one
//! process needs (SQLite, or a single PostgreSQL replica).
//! TODO(scheduling): with several replicas on PostgreSQL, [`QueueFeed::publish`] should also
//! `SELECT pg_notify('queue_changes', …)` and a task per replica should `LISTEN queue_changes`
//! (sqlx `PgListener`) and forward each notification into this same broadcast channel; watchers
//! need no change.

use chrono::NaiveDate;
use clinic_common::ids::QueueEntryId;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// How many changes a slow watcher may fall behind before it is told it missed some. Watchers
/// re-read the whole queue anyway, so a small buffer is enough.
const BUFFERED_CHANGES: usize = 64;

/// One change to a day's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueChange {
    pub day: NaiveDate,
    pub queue_entry_id: QueueEntryId,
}

/// The service's queue change feed. Cheap to clone; every clone publishes to the same watchers.
#[derive(Debug, Clone)]
pub struct QueueFeed {
    changes: broadcast::Sender<QueueChange>,
    /// Cancelled when the server begins to shut down, ending every watch so that the server's
    /// graceful shutdown is not held open by streams that never finish on their own.
    stopping: CancellationToken,
}

impl QueueFeed {
    pub fn new(stopping: CancellationToken) -> Self {
        let (changes, _) = broadcast::channel(BUFFERED_CHANGES);
        QueueFeed { changes, stopping }
    }

    /// Announces a committed change.
    pub fn publish(&self, change: QueueChange) {
        // Sending fails only when nobody is watching, which is fine.
        let _ = self.changes.send(change);
    }

    /// How many watchers are subscribed (for tests).
    #[cfg(test)]
    pub fn watchers(&self) -> usize {
        self.changes.receiver_count()
    }

    /// Follows changes from now on. Subscribe before reading the first snapshot, so that no
    /// change falls between the two.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            changes: self.changes.subscribe(),
            stopping: self.stopping.clone(),
        }
    }
}

/// What a watcher hears next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    Changed(QueueChange),
    /// The watcher fell behind and some changes were dropped: it should re-read the queue.
    Missed,
    /// The service is stopping: the watch should end.
    Stopping,
}

/// One watcher's view of the feed. Dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    changes: broadcast::Receiver<QueueChange>,
    stopping: CancellationToken,
}

impl Subscription {
    /// Waits for the next change, or for the service to stop.
    pub async fn next(&mut self) -> Heard {
        tokio::select! {
            biased;
            () = self.stopping.cancelled() => Heard::Stopping,
            received = self.changes.recv() => match received {
                Ok(change) => Heard::Changed(change),
                Err(RecvError::Lagged(_)) => Heard::Missed,
                Err(RecvError::Closed) => Heard::Stopping,
            },
        }
    }

    /// Resolves when the service begins to stop.
    pub async fn stopping(&self) {
        self.stopping.cancelled().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> QueueChange {
        QueueChange {
            day: NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid"),
            queue_entry_id: QueueEntryId::new(),
        }
    }

    #[tokio::test]
    async fn watchers_hear_changes_published_after_they_subscribed() {
        let feed = QueueFeed::new(CancellationToken::new());
        feed.publish(change());
        let mut subscription = feed.subscribe();
        let published = change();
        feed.publish(published);
        assert_eq!(subscription.next().await, Heard::Changed(published));
    }

    #[tokio::test]
    async fn a_watcher_that_falls_behind_is_told_it_missed_changes() {
        let feed = QueueFeed::new(CancellationToken::new());
        let mut subscription = feed.subscribe();
        for _ in 0..=BUFFERED_CHANGES {
            feed.publish(change());
        }
        assert_eq!(subscription.next().await, Heard::Missed);
        assert!(matches!(subscription.next().await, Heard::Changed(_)));
    }

    #[tokio::test]
    async fn stopping_the_service_ends_every_watch() {
        let stopping = CancellationToken::new();
        let feed = QueueFeed::new(stopping.clone());
        let mut subscription = feed.subscribe();
        feed.publish(change());
        stopping.cancel();
        assert_eq!(subscription.next().await, Heard::Stopping);
    }

    #[tokio::test]
    async fn dropping_a_subscription_unsubscribes() {
        let feed = QueueFeed::new(CancellationToken::new());
        let subscription = feed.subscribe();
        assert_eq!(feed.changes.receiver_count(), 1);
        drop(subscription);
        assert_eq!(feed.changes.receiver_count(), 0);
    }
}
