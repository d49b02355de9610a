//! The schedule report RPC.

use clinic_common::auth::{Role, authorize};
use clinic_common::validation::FieldViolations;
use clinic_proto::date_from_proto;
use clinic_proto::scheduling::v1 as pb;
use tonic::{Request, Response, Status};

use super::SchedulingGrpc;
use super::convert::{report_period, report_to_proto};
use crate::domain::{ReportSpan, ScheduleReport, SchedulingError};

impl SchedulingGrpc {
    pub(super) async fn do_get_schedule_report(
        &self,
        request: Request<pb::GetScheduleReportRequest>,
    ) -> Result<Response<pb::ScheduleReport>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager])?;
        let given = request.get_ref();
        let mut violations = FieldViolations::new();
        let period = violations.check("period", report_period(given.period));
        let date = violations.check("date", date_from_proto(given.date.as_ref()));
        let (Some(period), Some(date)) = (period, date) else {
            return Err(SchedulingError::from(violations).into());
        };
        let span = ReportSpan::new(period, date, self.settings.clinic.time_zone);
        let counts = self.store.schedule_counts(&span).await?;
        Ok(Response::new(report_to_proto(&ScheduleReport::new(
            span, counts,
        ))))
    }
}
