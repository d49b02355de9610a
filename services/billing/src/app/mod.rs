//! The application layer: what billing does for a request once the handler has read it into a
//! domain command and checked the caller's role. [`Billing`] holds what that work needs (the
//! store, the patient registry and scheduling as billing asks them, the CSD and the PAC, and the
//! clinic's settings); its methods, one module per area, compose store reads and writes, calls
//! to the other services and the domain's rules. Nothing here sees a protobuf type, and each
//! method takes the `now` its handler read once, so every date a request derives agrees.
//!
//! - `charging`: pricing a charge (its promotion, an ad hoc discount a manager authorises) and
//!   posting it, at the counter or from a visit scheduling reports.
//! - `payments`: payments and balances, with identity evidence checked first; refunds and
//!   receipts.
//! - `corrections`: adjustments, credit notes and write-offs of charges.
//! - `drawer`: closing a cash drawer.
//! - `daily_close`: the daily close report, its export, and closing a day.
//! - `invoicing`: CFDI documents assembled, sealed, numbered, stored and stamped.
//! - `registry` and `scheduling`: the patient registry and scheduling, as billing asks them.

mod charging;
mod corrections;
mod daily_close;
mod drawer;
mod invoicing;
mod payments;
mod registry;
mod scheduling;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::auth::TokenKey;
use clinic_common::time::local_date;

use crate::config::Settings;
use crate::pac::Pac;
use crate::seal::Csd;
use crate::store::BillingStore;

pub use invoicing::PendingComplement;
pub use registry::PatientRegistry;
pub use scheduling::Scheduling;

/// Billing's application layer.
pub struct Billing {
    store: BillingStore,
    registry: PatientRegistry,
    scheduling: Scheduling,
    /// Checks the manager tokens given to authorise discounts.
    key: TokenKey,
    /// The clinic's CSD, when it issues invoices.
    csd: Option<Arc<Csd>>,
    /// Who stamps them, when configured.
    pac: Option<Arc<dyn Pac>>,
    settings: Arc<Settings>,
}

impl Billing {
    pub fn new(
        store: BillingStore,
        registry: PatientRegistry,
        scheduling: Scheduling,
        key: TokenKey,
        csd: Option<Arc<Csd>>,
        pac: Option<Arc<dyn Pac>>,
        settings: Arc<Settings>,
    ) -> Self {
        Billing {
            store,
            registry,
            scheduling,
            key,
            csd,
            pac,
            settings,
        }
    }

    /// The clinic day `now` falls on, in the clinic's time zone.
    fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        local_date(now, self.settings.clinic.time_zone)
    }
}
