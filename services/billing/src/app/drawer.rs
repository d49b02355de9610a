//! Closing a cash drawer: the blind count against what the drawer should hold, with a
//! difference over the clinic's limit left for a manager to approve.

use chrono::{DateTime, Utc};
use clinic_common::auth::Caller;

use super::Billing;
use crate::domain::{BillingError, CloseDrawer, DrawerSession, Operation};

impl Billing {
    /// Closes the terminal's drawer from `close`'s count for `caller`, or returns the session a
    /// first call with its request id closed.
    pub async fn close_drawer(
        &self,
        caller: &Caller,
        close: CloseDrawer,
        now: DateTime<Utc>,
    ) -> Result<DrawerSession, BillingError> {
        // A retry is answered before the drawer is looked at: the first call closed it.
        if let Some(session) = self
            .store
            .earlier_drawer_session(
                Operation::CloseCashDrawer,
                &close.request_id,
                &close.fingerprint(),
            )
            .await?
        {
            return Ok(session);
        }
        let session = self
            .store
            .close_drawer(
                &close,
                &caller.subject,
                self.settings.drawer_difference_limit_minor,
                now,
            )
            .await?;
        tracing::info!(
            session_id = %session.session_id,
            state = session.state.as_str(),
            "cash drawer closed"
        );
        Ok(session)
    }
}
