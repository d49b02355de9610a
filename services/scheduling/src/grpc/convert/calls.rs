//! Call tasks and their outcomes on the wire.

use clinic_proto::scheduling::v1 as pb;
use clinic_proto::timestamp_to_proto;

use crate::domain::calls::{CallOutcome, CallTask};

pub fn outcome_from_proto(outcome: i32) -> Result<CallOutcome, &'static str> {
    match pb::CallOutcome::try_from(outcome) {
        Ok(pb::CallOutcome::Coming) => Ok(CallOutcome::Coming),
        Ok(pb::CallOutcome::Reschedule) => Ok(CallOutcome::Reschedule),
        Ok(pb::CallOutcome::NotComing) => Ok(CallOutcome::NotComing),
        Ok(pb::CallOutcome::NoAnswer) => Ok(CallOutcome::NoAnswer),
        Ok(pb::CallOutcome::LeftMessage) => Ok(CallOutcome::LeftMessage),
        Ok(pb::CallOutcome::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known call outcome"),
    }
}

fn outcome_to_proto(outcome: CallOutcome) -> pb::CallOutcome {
    match outcome {
        CallOutcome::Coming => pb::CallOutcome::Coming,
        CallOutcome::Reschedule => pb::CallOutcome::Reschedule,
        CallOutcome::NotComing => pb::CallOutcome::NotComing,
        CallOutcome::NoAnswer => pb::CallOutcome::NoAnswer,
        CallOutcome::LeftMessage => pb::CallOutcome::LeftMessage,
    }
}

pub fn task_to_proto(task: &CallTask) -> pb::CallTask {
    pb::CallTask {
        call_task_id: task.call_task_id.to_string(),
        kind: task.kind.clone(),
        appointment_id: task.appointment_id.to_string(),
        patient_id: task.patient_id.to_string(),
        provider_id: task.provider_id.to_string(),
        appointment_start_time: Some(timestamp_to_proto(task.appointment_start)),
        patient_initials: task.patient_initials.clone(),
        status: if task.done {
            pb::CallTaskStatus::Done
        } else {
            pb::CallTaskStatus::Open
        }
        .into(),
        outcome: task
            .outcome
            .map_or(pb::CallOutcome::Unspecified, outcome_to_proto)
            .into(),
        note: task.note.clone().unwrap_or_default(),
        create_time: Some(timestamp_to_proto(task.created_at)),
        complete_time: task.completed_at.map(timestamp_to_proto),
        completed_by: task.completed_by.clone().unwrap_or_default(),
    }
}
