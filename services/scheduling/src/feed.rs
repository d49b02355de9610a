//! Announcing changes to the live queue to everyone watching it.
//!
//! A store write that changes the queue returns a [`QueueChange`]; the handler publishes it here
//! once the transaction has committed, so a watcher that re-reads the queue always sees the
//! change. Watchers receive only "something changed" and re-read the whole day's queue, so a
//! watcher that falls behind loses nothing by skipping to the latest state.
//!
//! Within one process changes travel on a `tokio::sync::broadcast` channel. On PostgreSQL,
//! where several replicas of the service may share one database, [`QueueFeed::publish`] also
//! sends `pg_notify('queue_changes', '<replica> <day> <queue entry id>')`, and every replica keeps
//! a connection that `LISTEN`s on `queue_changes` and forwards each notification from another
//! replica into its own broadcast channel. A replica's own changes reach its watchers through
//! the channel directly, once: the listener skips notifications carrying its own replica id.
//!
//! Notifications are not stored: those sent while the listening connection is down are lost.
//! So when that connection drops, the listener reconnects and, once it listens again, tells
//! every watcher it missed changes ([`Heard::Missed`]), and each re-reads the queue. SQLite has
//! one process and no notifications; its feed is the channel alone.

use std::time::Duration;

use chrono::NaiveDate;
use clinic_common::ids::QueueEntryId;
use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The PostgreSQL notification channel queue changes travel on between replicas.
const CHANNEL: &str = "queue_changes";

/// How long the listener waits before trying again after failing to reconnect.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// How many changes a slow watcher may fall behind before it is told it missed some. Watchers
/// re-read the whole queue anyway, so a small buffer is enough.
const BUFFERED_CHANGES: usize = 64;

/// One change to a day's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueChange {
    pub day: NaiveDate,
    pub queue_entry_id: QueueEntryId,
}

/// What travels on the broadcast channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Announcement {
    Changed(QueueChange),
    /// Changes may have been lost (the listening connection dropped): everyone should re-read.
    Missed,
}

/// The service's queue change feed. Cheap to clone; every clone publishes to the same watchers.
#[derive(Debug, Clone)]
pub struct QueueFeed {
    changes: broadcast::Sender<Announcement>,
    /// Cancelled when the server begins to shut down, ending every watch so that the server's
    /// graceful shutdown is not held open by streams that never finish on their own.
    stopping: CancellationToken,
    /// On PostgreSQL: where this replica tells the others of its changes.
    replicas: Option<Replicas>,
}

/// This replica's place among the replicas sharing one PostgreSQL database.
#[derive(Debug, Clone)]
struct Replicas {
    pool: PgPool,
    /// Marks this replica's notifications, so that its listener can skip them.
    replica_id: Uuid,
}

impl QueueFeed {
    /// A feed within this process alone (SQLite).
    pub fn new(stopping: CancellationToken) -> Self {
        let (changes, _) = broadcast::channel(BUFFERED_CHANGES);
        QueueFeed {
            changes,
            stopping,
            replicas: None,
        }
    }

    /// A feed shared by every replica on the PostgreSQL database behind `pool`. Returns once
    /// this replica listens, so that no change published after it starts serving is missed; the
    /// listener holds one of the pool's connections and lets go of it when `stopping` is
    /// cancelled.
    pub async fn across_replicas(
        stopping: CancellationToken,
        pool: PgPool,
    ) -> anyhow::Result<Self> {
        let mut feed = QueueFeed::new(stopping);
        let replica_id = Uuid::new_v4();
        let listener = listen(&pool).await?;
        tokio::spawn(forward_notifications(
            listener,
            pool.clone(),
            replica_id,
            feed.changes.clone(),
            feed.stopping.clone(),
        ));
        feed.replicas = Some(Replicas { pool, replica_id });
        Ok(feed)
    }

    /// Announces a committed change, to this replica's watchers and, on PostgreSQL, to the other
    /// replicas'. A failed notification is logged, not returned: the change is committed, and the
    /// other replicas' watchers still see it at their next change or refresh.
    pub async fn publish(&self, change: QueueChange) {
        // Sending fails only when nobody is watching, which is fine.
        let _ = self.changes.send(Announcement::Changed(change));
        if let Some(replicas) = &self.replicas {
            let payload = payload(replicas.replica_id, change);
            let notified = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(&payload)
                .execute(&replicas.pool)
                .await;
            if let Err(error) = notified {
                tracing::warn!(%error, "could not tell the other replicas of a queue change");
            }
        }
    }

    /// Has this replica's watchers re-read the queue, for news that is not a change to one
    /// entry (a kiosk locked after too many misses). Other replicas' watchers see it with their
    /// next change or their minutely refresh.
    pub fn nudge(&self) {
        let _ = self.changes.send(Announcement::Missed);
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
    changes: broadcast::Receiver<Announcement>,
    stopping: CancellationToken,
}

impl Subscription {
    /// Waits for the next change, or for the service to stop.
    pub async fn next(&mut self) -> Heard {
        tokio::select! {
            biased;
            () = self.stopping.cancelled() => Heard::Stopping,
            received = self.changes.recv() => match received {
                Ok(Announcement::Changed(change)) => Heard::Changed(change),
                Ok(Announcement::Missed) | Err(RecvError::Lagged(_)) => Heard::Missed,
                Err(RecvError::Closed) => Heard::Stopping,
            },
        }
    }

    /// Resolves when the service begins to stop.
    pub async fn stopping(&self) {
        self.stopping.cancelled().await;
    }
}

/// A connection listening on [`CHANNEL`].
async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Forwards the other replicas' changes into `changes` until `stopping` is cancelled. After the
/// listening connection drops, it listens again and announces [`Announcement::Missed`].
async fn forward_notifications(
    mut listener: PgListener,
    pool: PgPool,
    replica_id: Uuid,
    changes: broadcast::Sender<Announcement>,
    stopping: CancellationToken,
) {
    loop {
        let received = tokio::select! {
            biased;
            () = stopping.cancelled() => return,
            received = listener.try_recv() => received,
        };
        let announcement = match received {
            Ok(Some(notification)) => match parse(notification.payload()) {
                Some((from, _)) if from == replica_id => continue,
                Some((_, change)) => Announcement::Changed(change),
                None => {
                    tracing::warn!(
                        payload = notification.payload(),
                        "unreadable queue change notification"
                    );
                    Announcement::Missed
                }
            },
            // The connection dropped and the listener has already listened again on a new one.
            Ok(None) => {
                tracing::warn!("queue change notifications were interrupted; listening again");
                Announcement::Missed
            }
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => {
                tracing::warn!(%error, "lost the queue change notifications; listening again");
                drop(listener);
                listener = loop {
                    match listen(&pool).await {
                        Ok(listener) => break listener,
                        Err(sqlx::Error::PoolClosed) => return,
                        Err(error) => {
                            tracing::warn!(%error, "could not listen for queue changes");
                        }
                    }
                    tokio::select! {
                        () = stopping.cancelled() => return,
                        () = tokio::time::sleep(RECONNECT_EVERY) => {}
                    }
                };
                Announcement::Missed
            }
        };
        // Sending fails only when nobody is watching, which is fine.
        let _ = changes.send(announcement);
    }
}

/// A notification's payload: `<replica id> <day> <queue entry id>`.
fn payload(replica_id: Uuid, change: QueueChange) -> String {
    format!("{replica_id} {} {}", change.day, change.queue_entry_id)
}

/// The replica and change a payload names, or `None` if it is not one [`payload`] makes.
fn parse(payload: &str) -> Option<(Uuid, QueueChange)> {
    let mut parts = payload.split(' ');
    let replica_id = Uuid::parse_str(parts.next()?).ok()?;
    let day = NaiveDate::parse_from_str(parts.next()?, "%Y-%m-%d").ok()?;
    let queue_entry_id = QueueEntryId::parse(parts.next()?).ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some((
        replica_id,
        QueueChange {
            day,
            queue_entry_id,
        },
    ))
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
        feed.publish(change()).await;
        let mut subscription = feed.subscribe();
        let published = change();
        feed.publish(published).await;
        assert_eq!(subscription.next().await, Heard::Changed(published));
    }

    #[tokio::test]
    async fn a_watcher_that_falls_behind_is_told_it_missed_changes() {
        let feed = QueueFeed::new(CancellationToken::new());
        let mut subscription = feed.subscribe();
        for _ in 0..=BUFFERED_CHANGES {
            feed.publish(change()).await;
        }
        assert_eq!(subscription.next().await, Heard::Missed);
        assert!(matches!(subscription.next().await, Heard::Changed(_)));
    }

    #[tokio::test]
    async fn stopping_the_service_ends_every_watch() {
        let stopping = CancellationToken::new();
        let feed = QueueFeed::new(stopping.clone());
        let mut subscription = feed.subscribe();
        feed.publish(change()).await;
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

    #[test]
    fn a_payload_reads_back_as_the_change_and_replica_it_came_from() {
        let replica_id = Uuid::new_v4();
        let published = change();
        assert_eq!(
            parse(&payload(replica_id, published)),
            Some((replica_id, published))
        );
    }

    #[test]
    fn a_payload_of_anything_else_is_not_read_as_a_change() {
        let replica_id = Uuid::new_v4();
        let published = change();
        for unreadable in [
            String::new(),
            replica_id.to_string(),
            format!("{replica_id} {}", published.day),
            format!("{replica_id} 2026-13-01 {}", published.queue_entry_id),
            format!("not-a-uuid {} {}", published.day, published.queue_entry_id),
            format!("{} extra", payload(replica_id, published)),
        ] {
            assert_eq!(parse(&unreadable), None, "{unreadable:?}");
        }
    }
}
