//! Calling billing for the desk: with the caller's own token, and what billing's refusals
//! become.

use clinic_common::client::is_unreachable;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::{Request, Status};

use super::DeskError;
use crate::domain::CollectionsError;

/// The caller's own credentials, passed on with a call to billing made on their behalf, so
/// billing applies its own role rules to the person and its records name who acted.
#[derive(Debug, Clone)]
pub(crate) struct OnBehalf {
    token: Option<MetadataValue<Ascii>>,
}

impl OnBehalf {
    /// The credentials `incoming` came with.
    pub(crate) fn of<T>(incoming: &Request<T>) -> Self {
        OnBehalf {
            token: incoming.metadata().get("authorization").cloned(),
        }
    }

    /// `message` as a request to billing on the caller's behalf.
    pub(super) fn request<U>(&self, message: U) -> Request<U> {
        let mut outgoing = Request::new(message);
        if let Some(token) = &self.token {
            outgoing
                .metadata_mut()
                .insert("authorization", token.clone());
        }
        outgoing
    }
}

/// Billing's refusal of a call: its answer about the caller's own request is passed on;
/// unreachability is `BillingUnavailable`.
pub(super) fn billing_refusal(status: Status) -> DeskError {
    if is_unreachable(&status) {
        tracing::warn!(code = ?status.code(), "billing is unreachable");
        DeskError::Collections(CollectionsError::BillingUnavailable)
    } else {
        DeskError::Billing(status)
    }
}
