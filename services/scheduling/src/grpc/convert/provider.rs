//! Providers: adding and changing them, and how they read on the wire.

use clinic_common::ids::RequestId;
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::timestamp_to_proto;

use super::{optional, provider_id};
use crate::domain::{DisplayName, NewProvider, Provider, ProviderKind, ProviderUpdate};

pub fn new_provider(request: pb::CreateProviderRequest) -> Result<NewProvider, FieldViolations> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(provider) = request.provider else {
        violations.add("provider", "is required");
        return Err(violations);
    };
    let display_name = violations.check(
        "provider.display_name",
        DisplayName::parse(&provider.display_name),
    );
    let kind = violations.check("provider.kind", provider_kind(provider.kind));
    let assistant = violations.check(
        "provider.assistant_provider_id",
        optional(&provider.assistant_provider_id, provider_id),
    );
    match (display_name, kind, assistant, request_id) {
        (Some(display_name), Some(kind), Some(assistant), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(NewProvider {
                display_name,
                kind,
                assistant,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

pub fn provider_update(
    request: &pb::UpdateProviderRequest,
) -> Result<ProviderUpdate, FieldViolations> {
    let mut violations = FieldViolations::new();
    let Some(provider) = &request.provider else {
        violations.add("provider", "is required");
        return Err(violations);
    };
    let target = violations.check("provider.provider_id", provider_id(&provider.provider_id));
    let display_name = violations.check(
        "provider.display_name",
        DisplayName::parse(&provider.display_name),
    );
    let kind = violations.check("provider.kind", provider_kind(provider.kind));
    let assistant = violations.check(
        "provider.assistant_provider_id",
        optional(&provider.assistant_provider_id, provider_id),
    );
    match (target, display_name, kind, assistant) {
        (Some(provider_id), Some(display_name), Some(kind), Some(assistant))
            if violations.is_empty() =>
        {
            Ok(ProviderUpdate {
                provider_id,
                display_name,
                kind,
                assistant,
            })
        }
        _ => Err(violations),
    }
}

fn provider_kind(kind: i32) -> Result<ProviderKind, &'static str> {
    match pb::ProviderKind::try_from(kind) {
        Ok(pb::ProviderKind::Dentist) => Ok(ProviderKind::Dentist),
        Ok(pb::ProviderKind::Hygienist) => Ok(ProviderKind::Hygienist),
        Ok(pb::ProviderKind::Assistant) => Ok(ProviderKind::Assistant),
        Ok(pb::ProviderKind::Consultant) => Ok(ProviderKind::Consultant),
        Ok(pb::ProviderKind::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known provider kind"),
    }
}

pub fn provider_to_proto(provider: &Provider) -> pb::Provider {
    pb::Provider {
        provider_id: provider.provider_id.to_string(),
        display_name: provider.display_name.as_str().to_owned(),
        kind: match provider.kind {
            ProviderKind::Dentist => pb::ProviderKind::Dentist,
            ProviderKind::Hygienist => pb::ProviderKind::Hygienist,
            ProviderKind::Assistant => pb::ProviderKind::Assistant,
            ProviderKind::Consultant => pb::ProviderKind::Consultant,
        }
        .into(),
        create_time: Some(timestamp_to_proto(provider.created_at)),
        assistant_provider_id: provider
            .assistant
            .map(|id| id.to_string())
            .unwrap_or_default(),
    }
}
