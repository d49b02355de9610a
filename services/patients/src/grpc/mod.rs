//! The patient registry over gRPC: each handler checks the caller's role, converts the request
//! into a domain command, runs it and converts the result back.

mod convert;
mod error;

use std::sync::Arc;

use clinic_common::auth::{Role, authorize, reader};
use clinic_common::clock::SharedClock;
use clinic_common::ids::PatientId;
use clinic_common::time::local_date;
use clinic_common::validation::FieldViolations;
use clinic_proto::patients::v1 as pb;
use clinic_proto::patients::v1::patient_service_server::PatientService;
use clinic_proto::{date_from_proto, next_page_token, page_from_proto};
use tonic::{Request, Response, Status};

use crate::config::Settings;
use crate::domain::{AccessKind, Age, Patient, PatientsError, SearchTerms};
use crate::store::PatientStore;

use convert::{Reading, patient_id, patient_to_proto};

const SEARCH_PAGE_DEFAULT: u32 = 25;
const SEARCH_PAGE_MAX: u32 = 100;

/// Implements `clinic.patients.v1.PatientService`.
pub struct PatientsGrpc {
    store: PatientStore,
    clock: SharedClock,
    settings: Arc<Settings>,
}

impl PatientsGrpc {
    pub fn new(store: PatientStore, clock: SharedClock, settings: Arc<Settings>) -> Self {
        PatientsGrpc {
            store,
            clock,
            settings,
        }
    }

    /// The patient a first-visit form is about, when the caller may be taken to know them:
    /// staff always, a kiosk only with evidence that matches the patient's record.
    async fn intake_patient(
        &self,
        request: &pb::SubmitIntakeFormRequest,
        at_kiosk: bool,
    ) -> Result<Option<Patient>, PatientsError> {
        let Some(Ok(patient_id)) = request
            .form
            .as_ref()
            .map(|form| PatientId::parse(&form.patient_id))
        else {
            return Ok(None);
        };
        let Some(patient) = self.store.get(patient_id).await? else {
            return Ok(None);
        };
        let known = !at_kiosk
            || convert::identity_evidence(request.identity.as_ref())
                .is_some_and(|(born, last_four)| patient.matches_identity(born, &last_four));
        Ok(known.then_some(patient))
    }

    fn reading(&self) -> Reading {
        let time_zone = self.settings.clinic.time_zone;
        Reading {
            today: local_date(self.clock.now(), time_zone),
            clinic_time_zone: time_zone,
        }
    }
}

#[tonic::async_trait]
impl PatientService for PatientsGrpc {
    #[tracing::instrument(skip_all)]
    async fn create_patient(
        &self,
        request: Request<pb::CreatePatientRequest>,
    ) -> Result<Response<pb::Patient>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let new = convert::new_patient(request.into_inner(), &self.reading())
            .map_err(PatientsError::from)?;
        let patient = self.store.create(&new, &caller, self.clock.now()).await?;
        tracing::info!(patient_id = %patient.patient_id, "patient registered");
        Ok(Response::new(patient_to_proto(&patient)))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn get_patient(
        &self,
        request: Request<pb::GetPatientRequest>,
    ) -> Result<Response<pb::Patient>, Status> {
        let caller = authorize(
            &request,
            &[
                Role::Reception,
                Role::Manager,
                Role::Collections,
                Role::Service,
            ],
        )?;
        let patient_id =
            patient_id(&request.get_ref().patient_id, "patient_id").map_err(PatientsError::from)?;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        let patient = self
            .store
            .get(patient_id)
            .await?
            .ok_or(PatientsError::NotFound(patient_id))?;
        // A service reading for a person (a list at the desk, a statement) is the person's read.
        let (reader, via) = reader(&request, &caller);
        self.store
            .record_reads(
                &[patient_id],
                (&reader, via.as_deref()),
                AccessKind::Read,
                self.clock.now(),
            )
            .await?;
        let mut patient = patient_to_proto(&patient);
        patient.fiscal_data = self
            .store
            .fiscal_data(patient_id)
            .await?
            .as_ref()
            .map(convert::fiscal_data_to_proto);
        Ok(Response::new(patient))
    }

    #[tracing::instrument(skip_all)]
    async fn search_patients(
        &self,
        request: Request<pb::SearchPatientsRequest>,
    ) -> Result<Response<pb::SearchPatientsResponse>, Status> {
        let caller = authorize(
            &request,
            &[Role::Reception, Role::Manager, Role::Collections],
        )?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let terms = violations.check("query", SearchTerms::parse(&request.query));
        let page = violations.check(
            "page",
            page_from_proto(request.page.as_ref(), SEARCH_PAGE_DEFAULT, SEARCH_PAGE_MAX),
        );
        let (Some(terms), Some((size, offset))) = (terms, page) else {
            return Err(PatientsError::from(violations).into());
        };
        let patients = self.store.search(&terms, size, offset).await?;
        let found: Vec<_> = patients.iter().map(|patient| patient.patient_id).collect();
        self.store
            .record_reads(
                &found,
                (&caller, None),
                AccessKind::Search,
                self.clock.now(),
            )
            .await?;
        Ok(Response::new(pb::SearchPatientsResponse {
            next_page_token: next_page_token(offset, size, patients.len()),
            patients: patients.iter().map(patient_to_proto).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn update_patient(
        &self,
        request: Request<pb::UpdatePatientRequest>,
    ) -> Result<Response<pb::Patient>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let (patient_id, changes) =
            convert::changes(request.into_inner(), &self.reading()).map_err(PatientsError::from)?;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        let patient = self
            .store
            .update(patient_id, &changes, &caller, self.clock.now())
            .await?;
        Ok(Response::new(patient_to_proto(&patient)))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn verify_patient_identity(
        &self,
        request: Request<pb::VerifyPatientIdentityRequest>,
    ) -> Result<Response<pb::VerifyPatientIdentityResponse>, Status> {
        authorize(&request, &[Role::Service, Role::Reception, Role::Manager])?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let patient_id = violations.check(
            "patient_id",
            patient_id(&request.patient_id, "patient_id").map_err(|v| v.to_string()),
        );
        let date_of_birth = violations.check(
            "date_of_birth",
            date_from_proto(request.date_of_birth.as_ref()),
        );
        let last_four_ok = request.phone_last_four.len() == 4
            && request.phone_last_four.bytes().all(|b| b.is_ascii_digit());
        violations.require(
            last_four_ok,
            "phone_last_four",
            "must be exactly four digits",
        );
        let (Some(patient_id), Some(date_of_birth)) = (patient_id, date_of_birth) else {
            return Err(PatientsError::from(violations).into());
        };
        violations.into_result().map_err(PatientsError::from)?;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));

        // An unknown patient simply does not match: the answer must not reveal who is registered.
        let matches = self.store.get(patient_id).await?.is_some_and(|patient| {
            patient.matches_identity(date_of_birth, &request.phone_last_four)
        });
        Ok(Response::new(pb::VerifyPatientIdentityResponse { matches }))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn list_patient_access_log(
        &self,
        request: Request<pb::ListPatientAccessLogRequest>,
    ) -> Result<Response<pb::ListPatientAccessLogResponse>, Status> {
        authorize(&request, &[Role::Manager])?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let patient_id = violations.check(
            "patient_id",
            patient_id(&request.patient_id, "patient_id").map_err(|v| v.to_string()),
        );
        let page = violations.check("page", page_from_proto(request.page.as_ref(), 100, 500));
        let (Some(patient_id), Some((size, offset))) = (patient_id, page) else {
            return Err(PatientsError::from(violations).into());
        };
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        let entries = self.store.access_log(patient_id, size, offset).await?;
        Ok(Response::new(pb::ListPatientAccessLogResponse {
            next_page_token: next_page_token(offset, size, entries.len()),
            entries: entries
                .into_iter()
                .map(|entry| pb::PatientAccess {
                    subject: entry.subject,
                    role: entry.role,
                    action: entry.action,
                    access_time: Some(clinic_proto::timestamp_to_proto(entry.accessed_at)),
                    via: entry.via,
                })
                .collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn submit_intake_form(
        &self,
        request: Request<pb::SubmitIntakeFormRequest>,
    ) -> Result<Response<pb::IntakeForm>, Status> {
        let caller = authorize(&request, &[Role::Kiosk, Role::Reception, Role::Manager])?;
        let at_kiosk = caller.role == Role::Kiosk;
        let request = request.into_inner();
        // A minor's form needs a guardian, so the patient is read before the answers are
        // checked. Their age counts only once the caller has shown it knows them: a kiosk whose
        // evidence does not match is held to the rules for anyone, so that a refusal says
        // nothing about the patient it names.
        let patient = self.intake_patient(&request, at_kiosk).await?;
        let age = patient.as_ref().map_or(Age::Adult, |patient| {
            Age::on(patient.details.date_of_birth, self.reading().today)
        });
        let form =
            convert::intake_submission(request, at_kiosk, age).map_err(PatientsError::from)?;
        let patient_id = form.patient_id;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        // At a kiosk, an unknown patient and evidence that does not match read the same, so the
        // answer reveals nothing about who is registered.
        if patient.is_none() {
            if at_kiosk {
                tracing::info!("intake identity evidence did not match");
            }
            return Err(PatientsError::NotFound(patient_id).into());
        }
        let form = self
            .store
            .submit_intake(&form, &caller, self.clock.now())
            .await?;
        tracing::info!("intake form recorded");
        Ok(Response::new(convert::intake_to_proto(&form)))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn get_intake_form(
        &self,
        request: Request<pb::GetIntakeFormRequest>,
    ) -> Result<Response<pb::IntakeForm>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let patient_id =
            patient_id(&request.get_ref().patient_id, "patient_id").map_err(PatientsError::from)?;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        let form = self
            .store
            .latest_intake(patient_id)
            .await?
            .ok_or_else(|| Status::not_found("the patient has no intake form"))?;
        self.store
            .record_reads(
                &[patient_id],
                (&caller, None),
                AccessKind::Read,
                self.clock.now(),
            )
            .await?;
        Ok(Response::new(convert::intake_to_proto(&form)))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn set_fiscal_data(
        &self,
        request: Request<pb::SetFiscalDataRequest>,
    ) -> Result<Response<pb::Patient>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let (patient_id, fiscal) =
            convert::fiscal_data(request.get_ref()).map_err(PatientsError::from)?;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        let now = self.clock.now();
        self.store
            .set_fiscal_data(patient_id, fiscal.as_ref(), &caller, now)
            .await?;
        let patient = self
            .store
            .get(patient_id)
            .await?
            .ok_or(PatientsError::NotFound(patient_id))?;
        let mut patient = patient_to_proto(&patient);
        patient.fiscal_data = fiscal.as_ref().map(convert::fiscal_data_to_proto);
        tracing::info!("fiscal data recorded");
        Ok(Response::new(patient))
    }
}
