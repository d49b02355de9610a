//! Server streams that follow the queue: a snapshot on subscribe, then a fresh snapshot after
//! every change, and after [`REFRESH_EVERY`] without one, until the client goes away or the
//! server stops.

use std::future::Future;
use std::time::Duration;

use clinic_common::ids::QueueEntryId;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::feed::{Heard, Subscription};

/// Snapshots waiting to be sent to one client. A client that reads slowly holds its watch back,
/// never the service: the watch just reads a newer snapshot when it catches up.
const UNSENT_SNAPSHOTS: usize = 4;

/// How long a quiet watch waits before sending a fresh snapshot anyway: waits shown on the queue
/// grow with time, not only with changes. The watch sleeps in between; nothing polls.
pub const REFRESH_EVERY: Duration = Duration::from_secs(60);

/// A stream of snapshots, each made by `snapshot` with the id of the entry whose change prompted
/// it (`None` for the first, after missed changes, and for a refresh after [`REFRESH_EVERY`]
/// without a change). A task feeds the stream; it ends when
/// the client drops the stream, when the service stops, or after sending a failed snapshot.
pub fn follow<T, F, Fut>(
    mut subscription: Subscription,
    snapshot: F,
) -> ReceiverStream<Result<T, Status>>
where
    T: Send + 'static,
    F: Fn(Option<QueueEntryId>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, Status>> + Send,
{
    let (sender, receiver) = mpsc::channel(UNSENT_SNAPSHOTS);
    tokio::spawn(async move {
        let mut changed = None;
        loop {
            let message = snapshot(changed).await;
            let failed = message.is_err();
            tokio::select! {
                () = subscription.stopping() => return,
                sent = sender.send(message) => {
                    if sent.is_err() || failed {
                        return;
                    }
                }
            }
            changed = tokio::select! {
                // The client went away while nothing was happening.
                () = sender.closed() => return,
                () = tokio::time::sleep(REFRESH_EVERY) => None,
                heard = subscription.next() => match heard {
                    Heard::Changed(change) => Some(change.queue_entry_id),
                    Heard::Missed => None,
                    Heard::Stopping => return,
                },
            };
        }
    });
    ReceiverStream::new(receiver)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use tokio_stream::StreamExt;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::feed::{QueueChange, QueueFeed};

    /// Follows `feed` with snapshots that just report what prompted them.
    fn echo(feed: &QueueFeed) -> ReceiverStream<Result<Option<QueueEntryId>, Status>> {
        follow(feed.subscribe(), |changed| async move { Ok(changed) })
    }

    async fn next(
        stream: &mut ReceiverStream<Result<Option<QueueEntryId>, Status>>,
    ) -> Option<Option<QueueEntryId>> {
        tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("promptly")
            .map(|snapshot| snapshot.expect("a snapshot"))
    }

    async fn until_no_watchers(feed: &QueueFeed) {
        tokio::time::timeout(Duration::from_secs(5), async {
            while feed.watchers() > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the watch let go of the feed");
    }

    #[tokio::test]
    async fn a_watch_sends_a_snapshot_then_one_per_change() {
        let feed = QueueFeed::new(CancellationToken::new());
        let mut stream = echo(&feed);
        assert_eq!(next(&mut stream).await, Some(None));

        let queue_entry_id = QueueEntryId::new();
        feed.publish(QueueChange {
            day: NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid"),
            queue_entry_id,
        })
        .await;

        assert_eq!(next(&mut stream).await, Some(Some(queue_entry_id)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_watch_sends_a_fresh_snapshot_every_minute() {
        let feed = QueueFeed::new(CancellationToken::new());
        let mut stream = echo(&feed);
        assert_eq!(next(&mut stream).await, Some(None));

        let too_soon = tokio::time::timeout(Duration::from_secs(59), stream.next()).await;
        let refreshed = tokio::time::timeout(Duration::from_secs(2), stream.next()).await;

        assert!(too_soon.is_err(), "nothing before a minute has passed");
        assert!(matches!(refreshed, Ok(Some(Ok(None)))), "{refreshed:?}");
    }

    #[tokio::test]
    async fn a_watch_ends_when_its_client_goes_away() {
        let feed = QueueFeed::new(CancellationToken::new());
        let mut stream = echo(&feed);
        next(&mut stream).await;
        assert_eq!(feed.watchers(), 1);

        drop(stream);

        until_no_watchers(&feed).await;
    }

    #[tokio::test]
    async fn a_watch_ends_when_the_service_stops() {
        let stopping = CancellationToken::new();
        let feed = QueueFeed::new(stopping.clone());
        let mut stream = echo(&feed);
        next(&mut stream).await;

        stopping.cancel();

        assert_eq!(next(&mut stream).await, None);
        until_no_watchers(&feed).await;
    }

    #[tokio::test]
    async fn a_failed_snapshot_is_sent_and_ends_the_watch() {
        let feed = QueueFeed::new(CancellationToken::new());
        let mut stream = follow(feed.subscribe(), |_| async {
            Err::<(), _>(Status::internal("internal error"))
        });

        let first = stream.next().await.expect("one message");

        assert!(first.is_err());
        assert!(stream.next().await.is_none());
    }
}
