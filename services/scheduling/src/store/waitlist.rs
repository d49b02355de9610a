//! The waitlist's tables: entries, and the offers made to them when time frees up.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use clinic_common::auth::Caller;
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::{AppointmentId, PatientId, ProviderId, RequestId};
use clinic_common::{in_transaction, with_db};
use uuid::Uuid;

use super::{SchedulingStore, sql_offset};
use crate::domain::waitlist::{
    NewOffer, OfferStatus, WaitlistEntry, WaitlistOffer, WaitlistStatus, WaitlistWish,
    weekdays_from_text, weekdays_to_text,
};
use crate::domain::{AppointmentTypeId, Note, SchedulingError, SlotPreferences};

const CREATE_WAITLIST_ENTRY: &str = "create_waitlist_entry";

macro_rules! entry_columns {
    () => {
        "SELECT waitlist_entry_id, patient_id, provider_id, \
     appointment_type_id, duration_minutes, earliest_start_minute, latest_end_minute, weekdays, \
     first_day, last_day, note, status, appointment_id, created_at FROM waitlist_entries "
    };
}

macro_rules! offer_columns {
    () => {
        "SELECT o.waitlist_offer_id, o.waitlist_entry_id, e.patient_id, \
     o.provider_id, o.start_at, o.end_at, o.rank, o.status, o.freed_by, o.expires_at, \
     o.appointment_id, o.created_at \
     FROM waitlist_offers o JOIN waitlist_entries e ON e.waitlist_entry_id = o.waitlist_entry_id "
    };
}

impl SchedulingStore {
    /// Adds a waitlist entry, or returns the one a first call with `request_id` added.
    pub async fn create_waitlist_entry(
        &self,
        wish: &WaitlistWish,
        request_id: &RequestId,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<WaitlistEntry, SchedulingError> {
        let fingerprint = wish.fingerprint();
        let key = IdempotencyKey::new(CREATE_WAITLIST_ENTRY, request_id, &fingerprint);
        let entry_id = retrying("a waitlist entry", || {
            self.try_create_waitlist_entry(wish, &key, caller, now)
        })
        .await?;
        self.waitlist_entry(entry_id).await?.ok_or_else(|| {
            anyhow::anyhow!("waitlist entry {entry_id} vanished after insert").into()
        })
    }

    async fn try_create_waitlist_entry(
        &self,
        wish: &WaitlistWish,
        key: &IdempotencyKey<'_>,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<Uuid, Attempt<SchedulingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(entry_id) = tx.earlier_result(key).await? {
                return Ok(entry_id);
            }
            let entry_id = Uuid::new_v4();
            let preferences = &wish.preferences;
            sqlx::query(
                "INSERT INTO waitlist_entries (waitlist_entry_id, patient_id, provider_id, \
                 appointment_type_id, duration_minutes, earliest_start_minute, \
                 latest_end_minute, weekdays, first_day, last_day, note, status, \
                 created_at, created_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'waiting', $12, $13, $12)",
            )
            .bind(entry_id.to_string())
            .bind(wish.patient_id.to_string())
            .bind(wish.provider_id.map(|id| id.to_string()))
            .bind(wish.appointment_type_id.map(|id| id.to_string()))
            .bind(i32::try_from(wish.length.num_minutes()).unwrap_or(i32::MAX))
            .bind(preferences.earliest_start_minute.map(i32::from))
            .bind(preferences.latest_end_minute.map(i32::from))
            .bind(weekdays_to_text(&preferences.weekdays))
            .bind(wish.first_day)
            .bind(wish.last_day)
            .bind(wish.note.as_ref().map(Note::as_str))
            .bind(now)
            .bind(caller.subject.as_str())
            .execute(&mut *tx)
            .await
            .context("failed to insert a waitlist entry")?;
            tx.claim(key, &entry_id.to_string(), now).await?;
            Ok::<_, Attempt<SchedulingError>>(entry_id)
        })
    }

    pub async fn waitlist_entry(
        &self,
        entry_id: Uuid,
    ) -> Result<Option<WaitlistEntry>, SchedulingError> {
        const QUERY: &str = concat!(entry_columns!(), " WHERE waitlist_entry_id = $1");
        let row: Option<EntryRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(QUERY)
                .bind(entry_id.to_string())
                .fetch_optional(pool)
                .await
        })
        .context("failed to read a waitlist entry")?;
        Ok(row.map(EntryRow::into_entry).transpose()?)
    }

    /// Entries oldest first, optionally of one patient, the closed ones too when asked.
    pub async fn waitlist_entries(
        &self,
        patient_id: Option<PatientId>,
        show_closed: bool,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<WaitlistEntry>, SchedulingError> {
        const QUERY: &str = concat!(
            entry_columns!(),
            " WHERE ($1 IS NULL OR patient_id = $1) \
             AND ($2 OR status = 'waiting') \
             ORDER BY created_at, waitlist_entry_id LIMIT $3 OFFSET $4"
        );
        let rows: Vec<EntryRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(QUERY)
                .bind(patient_id.map(|id| id.to_string()))
                .bind(show_closed)
                .bind(i64::from(limit))
                .bind(sql_offset(offset))
                .fetch_all(pool)
                .await
        })
        .context("failed to list waitlist entries")?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            entries.push(row.into_entry()?);
        }
        Ok(entries)
    }

    /// Waiting entries whose days reach `from_day` or later and that could take time of
    /// `provider_id` (they name it, or anyone), oldest first.
    pub async fn waiting_entries_for(
        &self,
        provider_id: ProviderId,
        from_day: NaiveDate,
    ) -> Result<Vec<WaitlistEntry>, SchedulingError> {
        const QUERY: &str = concat!(
            entry_columns!(),
            " WHERE status = 'waiting' AND last_day >= $1 \
             AND (provider_id IS NULL OR provider_id = $2) \
             ORDER BY created_at, waitlist_entry_id"
        );
        let rows: Vec<EntryRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(QUERY)
                .bind(from_day)
                .bind(provider_id.to_string())
                .fetch_all(pool)
                .await
        })
        .context("failed to read the waitlist")?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            entries.push(row.into_entry()?);
        }
        Ok(entries)
    }

    /// Takes an entry off the waitlist and withdraws its open offers. A removed entry stays
    /// removed; a booked one cannot be removed.
    pub async fn remove_waitlist_entry(
        &self,
        entry_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<WaitlistEntry, SchedulingError> {
        let entry = self
            .waitlist_entry(entry_id)
            .await?
            .ok_or_else(|| entry_not_found(entry_id))?;
        match entry.status {
            WaitlistStatus::Removed => return Ok(entry),
            WaitlistStatus::Booked => {
                return Err(SchedulingError::FlowClosed {
                    what: "waitlist entry",
                    id: entry_id.to_string(),
                    state: "booked",
                    action: "removed",
                });
            }
            WaitlistStatus::Waiting => {}
        }
        let outcome: Result<(), SchedulingError> = in_transaction!(&self.db, |tx| {
            sqlx::query(
                "UPDATE waitlist_entries SET status = 'removed', updated_at = $2 \
                 WHERE waitlist_entry_id = $1 AND status = 'waiting'",
            )
            .bind(entry_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("failed to remove a waitlist entry")?;
            sqlx::query(
                "UPDATE waitlist_offers SET status = 'withdrawn', decided_at = $2 \
                 WHERE waitlist_entry_id = $1 AND status = 'open'",
            )
            .bind(entry_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("failed to withdraw waitlist offers")?;
            Ok(())
        });
        outcome?;
        self.waitlist_entry(entry_id)
            .await?
            .ok_or_else(|| entry_not_found(entry_id))
    }

    /// Records offers; an entry already offered the same start of the same provider keeps the
    /// first offer. Returns how many were new.
    pub async fn record_offers(
        &self,
        offers: &[NewOffer],
        now: DateTime<Utc>,
    ) -> Result<u64, SchedulingError> {
        let mut added = 0;
        for offer in offers {
            let inserted = with_db!(&self.db, |pool| {
                sqlx::query(
                    "INSERT INTO waitlist_offers (waitlist_offer_id, waitlist_entry_id, \
                     provider_id, start_at, end_at, rank, status, freed_by, expires_at, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9) \
                     ON CONFLICT (waitlist_entry_id, provider_id, start_at) DO NOTHING",
                )
                .bind(Uuid::new_v4().to_string())
                .bind(offer.waitlist_entry_id.to_string())
                .bind(offer.provider_id.to_string())
                .bind(offer.start)
                .bind(offer.end)
                .bind(i32::try_from(offer.rank).unwrap_or(i32::MAX))
                .bind(offer.freed_by.as_str())
                .bind(offer.expires_at)
                .bind(now)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
            })
            .context("failed to record a waitlist offer")?;
            added += inserted;
        }
        Ok(added)
    }

    /// Marks open offers past their expiry as expired.
    async fn expire_offers(&self, now: DateTime<Utc>) -> Result<(), SchedulingError> {
        with_db!(&self.db, |pool| {
            sqlx::query(
                "UPDATE waitlist_offers SET status = 'expired', decided_at = expires_at \
                 WHERE status = 'open' AND expires_at <= $1",
            )
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("failed to expire waitlist offers")?;
        Ok(())
    }

    /// Offers by freed time (provider, start) then rank, after expiring those past their time.
    pub async fn waitlist_offers(
        &self,
        entry_id: Option<Uuid>,
        open_only: bool,
        (limit, offset): (u32, u64),
        now: DateTime<Utc>,
    ) -> Result<Vec<WaitlistOffer>, SchedulingError> {
        self.expire_offers(now).await?;
        const QUERY: &str = concat!(
            offer_columns!(),
            " WHERE ($1 IS NULL OR o.waitlist_entry_id = $1) \
             AND (NOT $2 OR o.status = 'open') \
             ORDER BY o.start_at, o.provider_id, o.rank, o.waitlist_offer_id LIMIT $3 OFFSET $4"
        );
        let rows: Vec<OfferRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(QUERY)
                .bind(entry_id.map(|id| id.to_string()))
                .bind(open_only)
                .bind(i64::from(limit))
                .bind(sql_offset(offset))
                .fetch_all(pool)
                .await
        })
        .context("failed to list waitlist offers")?;
        let mut offers = Vec::with_capacity(rows.len());
        for row in rows {
            offers.push(row.into_offer()?);
        }
        Ok(offers)
    }

    /// One offer, expired first if its time has passed.
    pub async fn waitlist_offer(
        &self,
        offer_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<WaitlistOffer, SchedulingError> {
        self.expire_offers(now).await?;
        const QUERY: &str = concat!(offer_columns!(), " WHERE o.waitlist_offer_id = $1");
        let row: Option<OfferRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(QUERY)
                .bind(offer_id.to_string())
                .fetch_optional(pool)
                .await
        })
        .context("failed to read a waitlist offer")?;
        match row {
            Some(row) => Ok(row.into_offer()?),
            None => Err(SchedulingError::FlowNotFound {
                what: "waitlist offer",
                id: offer_id.to_string(),
            }),
        }
    }

    /// Closes an open offer as `status` (declined or taken); an offer already closed so is
    /// returned as it is.
    pub async fn close_offer(
        &self,
        offer_id: Uuid,
        status: OfferStatus,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<WaitlistOffer, SchedulingError> {
        let offer = self.waitlist_offer(offer_id, now).await?;
        if offer.status == status {
            return Ok(offer);
        }
        if offer.status != OfferStatus::Open {
            return Err(offer_closed(&offer, "declined"));
        }
        with_db!(&self.db, |pool| {
            sqlx::query(
                "UPDATE waitlist_offers SET status = $2, decided_at = $3, decided_by = $4 \
                 WHERE waitlist_offer_id = $1 AND status = 'open'",
            )
            .bind(offer_id.to_string())
            .bind(status.as_str())
            .bind(now)
            .bind(caller.subject.as_str())
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("failed to close a waitlist offer")?;
        self.waitlist_offer(offer_id, now).await
    }

    /// Records that `offer_id` was accepted and booked as `appointment_id`: the entry is booked,
    /// its other open offers are withdrawn, and other entries' open offers overlapping the
    /// booked time of the same provider are taken.
    pub async fn offer_accepted(
        &self,
        offer: &WaitlistOffer,
        appointment_id: AppointmentId,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<WaitlistOffer, SchedulingError> {
        let outcome: Result<(), SchedulingError> = in_transaction!(&self.db, |tx| {
            sqlx::query(
                "UPDATE waitlist_offers SET status = 'accepted', appointment_id = $2, \
                 decided_at = $3, decided_by = $4 WHERE waitlist_offer_id = $1",
            )
            .bind(offer.waitlist_offer_id.to_string())
            .bind(appointment_id.to_string())
            .bind(now)
            .bind(caller.subject.as_str())
            .execute(&mut *tx)
            .await
            .context("failed to accept a waitlist offer")?;
            sqlx::query(
                "UPDATE waitlist_entries SET status = 'booked', appointment_id = $2, \
                 updated_at = $3 WHERE waitlist_entry_id = $1",
            )
            .bind(offer.waitlist_entry_id.to_string())
            .bind(appointment_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("failed to mark a waitlist entry booked")?;
            sqlx::query(
                "UPDATE waitlist_offers SET status = 'withdrawn', decided_at = $2 \
                 WHERE waitlist_entry_id = $1 AND status = 'open'",
            )
            .bind(offer.waitlist_entry_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("failed to withdraw waitlist offers")?;
            sqlx::query(
                "UPDATE waitlist_offers SET status = 'taken', decided_at = $4 \
                 WHERE provider_id = $1 AND status = 'open' AND start_at < $3 AND end_at > $2",
            )
            .bind(offer.provider_id.to_string())
            .bind(offer.start)
            .bind(offer.end)
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("failed to close competing waitlist offers")?;
            Ok(())
        });
        outcome?;
        self.waitlist_offer(offer.waitlist_offer_id, now).await
    }
}

fn entry_not_found(entry_id: Uuid) -> SchedulingError {
    SchedulingError::FlowNotFound {
        what: "waitlist entry",
        id: entry_id.to_string(),
    }
}

/// An offer that is no longer open cannot be `action`.
pub fn offer_closed(offer: &WaitlistOffer, action: &'static str) -> SchedulingError {
    SchedulingError::FlowClosed {
        what: "waitlist offer",
        id: offer.waitlist_offer_id.to_string(),
        state: offer.status.as_str(),
        action,
    }
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    waitlist_entry_id: String,
    patient_id: String,
    provider_id: Option<String>,
    appointment_type_id: Option<String>,
    duration_minutes: i32,
    earliest_start_minute: Option<i32>,
    latest_end_minute: Option<i32>,
    weekdays: String,
    first_day: NaiveDate,
    last_day: NaiveDate,
    note: Option<String>,
    status: String,
    appointment_id: Option<String>,
    created_at: DateTime<Utc>,
}

impl EntryRow {
    fn into_entry(self) -> anyhow::Result<WaitlistEntry> {
        let corrupt = |field: &str| {
            anyhow::anyhow!(
                "waitlist_entries.{field} of {} is corrupt",
                self.waitlist_entry_id
            )
        };
        let minute = |value: Option<i32>, field: &str| -> anyhow::Result<Option<u16>> {
            value
                .map(|value| u16::try_from(value).map_err(|_| corrupt(field)))
                .transpose()
        };
        Ok(WaitlistEntry {
            waitlist_entry_id: Uuid::parse_str(&self.waitlist_entry_id)
                .map_err(|_| corrupt("waitlist_entry_id"))?,
            wish: WaitlistWish {
                patient_id: PatientId::parse(&self.patient_id)
                    .map_err(|_| corrupt("patient_id"))?,
                provider_id: self
                    .provider_id
                    .as_deref()
                    .map(ProviderId::parse)
                    .transpose()
                    .map_err(|_| corrupt("provider_id"))?,
                appointment_type_id: self
                    .appointment_type_id
                    .as_deref()
                    .map(AppointmentTypeId::parse)
                    .transpose()
                    .map_err(|_| corrupt("appointment_type_id"))?,
                length: TimeDelta::minutes(i64::from(self.duration_minutes)),
                preferences: SlotPreferences {
                    earliest_start_minute: minute(
                        self.earliest_start_minute,
                        "earliest_start_minute",
                    )?,
                    latest_end_minute: minute(self.latest_end_minute, "latest_end_minute")?,
                    weekdays: weekdays_from_text(&self.weekdays)
                        .ok_or_else(|| corrupt("weekdays"))?,
                },
                first_day: self.first_day,
                last_day: self.last_day,
                note: self
                    .note
                    .as_deref()
                    .map(Note::parse)
                    .transpose()
                    .map_err(|_| corrupt("note"))?,
            },
            status: WaitlistStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            appointment_id: self
                .appointment_id
                .as_deref()
                .map(AppointmentId::parse)
                .transpose()
                .map_err(|_| corrupt("appointment_id"))?,
            created_at: self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct OfferRow {
    waitlist_offer_id: String,
    waitlist_entry_id: String,
    patient_id: String,
    provider_id: String,
    start_at: DateTime<Utc>,
    end_at: DateTime<Utc>,
    rank: i32,
    status: String,
    freed_by: String,
    expires_at: DateTime<Utc>,
    appointment_id: Option<String>,
    created_at: DateTime<Utc>,
}

impl OfferRow {
    fn into_offer(self) -> anyhow::Result<WaitlistOffer> {
        let corrupt = |field: &str| {
            anyhow::anyhow!(
                "waitlist_offers.{field} of {} is corrupt",
                self.waitlist_offer_id
            )
        };
        Ok(WaitlistOffer {
            waitlist_offer_id: Uuid::parse_str(&self.waitlist_offer_id)
                .map_err(|_| corrupt("waitlist_offer_id"))?,
            waitlist_entry_id: Uuid::parse_str(&self.waitlist_entry_id)
                .map_err(|_| corrupt("waitlist_entry_id"))?,
            patient_id: PatientId::parse(&self.patient_id).map_err(|_| corrupt("patient_id"))?,
            provider_id: ProviderId::parse(&self.provider_id)
                .map_err(|_| corrupt("provider_id"))?,
            start: self.start_at,
            end: self.end_at,
            rank: u32::try_from(self.rank).map_err(|_| corrupt("rank"))?,
            status: OfferStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            freed_by: self.freed_by,
            expires_at: self.expires_at,
            appointment_id: self
                .appointment_id
                .as_deref()
                .map(AppointmentId::parse)
                .transpose()
                .map_err(|_| corrupt("appointment_id"))?,
            created_at: self.created_at,
        })
    }
}
