//! The application layer: what a request does when it takes more than one step. A booking asks
//! the patient registry for initials and reads what the appointment type needs before its
//! transaction; a cancellation announces the queue change and offers the freed time to the
//! waitlist once committed; a walk-in is triaged from the patient's past visits and the
//! consultants' loads. The gRPC handlers convert, authorise and call one function here; the
//! rules stay in `domain`, each transaction in `store`.
//!
//! - `booking`: booking, cancelling, rescheduling, no-shows.
//! - `slots`: finding free slots.
//! - `hours`: changes of working hours and exceptions, which may free time for the waitlist.
//! - `waitlist`: entries, offers of freed time, accepting an offer.
//! - `planned`: planned visits and booking them.
//! - `arrivals`: triage, walk-ins, check-in at the desk or the kiosk, the kiosk's lookup.
//! - `messages`: the outbox, patients' replies to reminders, tomorrow's calls.

mod arrivals;
mod booking;
mod hours;
mod messages;
mod planned;
mod slots;
mod waitlist;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use clinic_common::clock::SharedClock;
use clinic_common::time::local_date;

use crate::config::Settings;
use crate::feed::QueueFeed;
use crate::grpc::PatientRegistry;
use crate::store::SchedulingStore;

pub use messages::{ReplyRequest, ReplyTarget};
pub use planned::{BookPlannedVisit, PlannedVisitDraft};
pub use waitlist::WaitlistDraft;

/// Everything a request's steps use: the store, the patient registry, the queue feed, the clock
/// and the clinic's settings.
#[derive(Clone)]
pub struct Scheduling {
    store: SchedulingStore,
    registry: PatientRegistry,
    feed: QueueFeed,
    clock: SharedClock,
    settings: Arc<Settings>,
}

impl Scheduling {
    pub fn new(
        store: SchedulingStore,
        registry: PatientRegistry,
        feed: QueueFeed,
        clock: SharedClock,
        settings: Arc<Settings>,
    ) -> Self {
        Scheduling {
            store,
            registry,
            feed,
            clock,
            settings,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn time_zone(&self) -> Tz {
        self.settings.clinic.time_zone
    }

    /// Today in the clinic.
    pub fn today(&self) -> NaiveDate {
        local_date(self.now(), self.time_zone())
    }
}
