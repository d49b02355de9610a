//! An account as the desk opens it.

use clinic_proto::collections::v1 as pb;
use clinic_proto::money_to_proto;

use super::aging::buckets_to_proto;
use super::contact::{channel_to, contact_state_to_proto, contact_to_proto};
use super::days_to_proto;
use super::dispute::{dispute_to_proto, escalation_to_proto};
use super::plan::plan_view_to_proto;
use super::promise::promise_to_proto;
use crate::app::AccountView;
use crate::domain::CollectionsError;

pub fn account_view_to_proto(view: &AccountView) -> Result<pb::AccountOverview, CollectionsError> {
    let reach = view.reach.as_ref();
    Ok(pb::AccountOverview {
        patient_id: view.patient_id.to_string(),
        patient_name: view.patient_name.clone(),
        balance: Some(money_to_proto(view.balance)),
        aging: Some(buckets_to_proto(&view.aging)?),
        days_past_due: days_to_proto(view.days_past_due),
        phone: reach.map(|reach| reach.phone.clone()).unwrap_or_default(),
        email: reach.map(|reach| reach.email.clone()).unwrap_or_default(),
        preferred_language: reach
            .map(|reach| reach.preferred_language.clone())
            .unwrap_or_default(),
        time_zone: reach
            .map(|reach| reach.time_zone.name().to_owned())
            .unwrap_or_default(),
        consented_channels: reach
            .map(|reach| {
                reach
                    .consented
                    .iter()
                    .map(|channel| channel_to(*channel) as i32)
                    .collect()
            })
            .unwrap_or_default(),
        contact_state: Some(contact_state_to_proto(view.patient_id, view.state)),
        promise: view.promise.as_ref().map(promise_to_proto),
        plan: view.plan.as_ref().map(plan_view_to_proto),
        collector: view.collector.clone().unwrap_or_default(),
        escalations: view.escalations.iter().map(escalation_to_proto).collect(),
        open_dispute: view.open_dispute.as_ref().map(dispute_to_proto),
        recent_contacts: view.recent_contacts.iter().map(contact_to_proto).collect(),
    })
}
