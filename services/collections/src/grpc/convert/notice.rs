//! Statements and collection notices.

use clinic_common::ids::PatientId;
use clinic_common::validation::FieldViolations;
use clinic_proto::collections::v1 as pb;

use super::patient_id_from;
use crate::app::{NoticeFormat, RenderedNotice};
use crate::domain::{CollectionsError, Language, NoticeKind};

/// A `RenderNotice` request, read: whose notice, which, how, and in which language (`None`:
/// the patient's own); every bad field is named.
pub fn notice_request(
    request: &pb::RenderNoticeRequest,
) -> Result<(PatientId, NoticeKind, NoticeFormat, Option<Language>), CollectionsError> {
    let mut violations = FieldViolations::new();
    let patient_id = patient_id_from(&mut violations, "patient_id", &request.patient_id);
    let kind = violations.check("kind", notice_kind_from(request.kind));
    let format = violations.check("format", notice_format_from(request.format));
    let language = if request.language.is_empty() {
        Some(None)
    } else {
        violations
            .check(
                "language",
                Language::parse(&request.language).ok_or("must be es, en, zh or ru"),
            )
            .map(Some)
    };
    match (patient_id, kind, format, language) {
        (Some(patient_id), Some(kind), Some(format), Some(language)) => {
            Ok((patient_id, kind, format, language))
        }
        _ => Err(violations.into()),
    }
}

fn notice_kind_from(value: i32) -> Result<NoticeKind, &'static str> {
    match pb::NoticeKind::try_from(value) {
        Ok(pb::NoticeKind::Statement) => Ok(NoticeKind::Statement),
        Ok(pb::NoticeKind::FirstNotice) => Ok(NoticeKind::FirstNotice),
        Ok(pb::NoticeKind::Reminder) => Ok(NoticeKind::Reminder),
        Ok(pb::NoticeKind::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known notice"),
    }
}

fn notice_format_from(value: i32) -> Result<NoticeFormat, &'static str> {
    match pb::NoticeFormat::try_from(value) {
        Ok(pb::NoticeFormat::Text) => Ok(NoticeFormat::Text),
        Ok(pb::NoticeFormat::Pdf) => Ok(NoticeFormat::Pdf),
        Ok(pb::NoticeFormat::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known format"),
    }
}

pub fn rendered_notice_to_proto(notice: RenderedNotice) -> pb::RenderedNotice {
    pb::RenderedNotice {
        content: notice.content,
        content_type: notice.content_type.to_owned(),
        file_name: notice.file_name,
        language: notice.language.code().to_owned(),
    }
}
