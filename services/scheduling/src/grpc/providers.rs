//! The provider RPCs: adding, listing and changing providers.

use clinic_common::auth::{Role, authorize};
use clinic_common::validation::FieldViolations;
use clinic_proto::next_page_token;
use clinic_proto::scheduling::v1 as pb;
use tonic::{Request, Response, Status};

use super::SchedulingGrpc;
use super::convert::{self, provider_to_proto};
use crate::domain::SchedulingError;

impl SchedulingGrpc {
    pub(super) async fn do_create_provider(
        &self,
        request: Request<pb::CreateProviderRequest>,
    ) -> Result<Response<pb::Provider>, Status> {
        authorize(&request, &[Role::Manager, Role::Service])?;
        let new = convert::new_provider(request.into_inner()).map_err(SchedulingError::from)?;
        let provider = self.store.create_provider(&new, self.clock.now()).await?;
        tracing::info!(provider_id = %provider.provider_id, "provider added");
        Ok(Response::new(provider_to_proto(&provider)))
    }

    pub(super) async fn do_list_providers(
        &self,
        request: Request<pb::ListProvidersRequest>,
    ) -> Result<Response<pb::ListProvidersResponse>, Status> {
        authorize(
            &request,
            &[
                Role::Reception,
                Role::Manager,
                Role::Collections,
                Role::Service,
                Role::Kiosk,
            ],
        )?;
        let mut violations = FieldViolations::new();
        let Some((size, offset)) = convert::page(request.get_ref().page.as_ref(), &mut violations)
        else {
            return Err(SchedulingError::from(violations).into());
        };
        let providers = self.store.providers(size, offset).await?;
        Ok(Response::new(pb::ListProvidersResponse {
            next_page_token: next_page_token(offset, size, providers.len()),
            providers: providers.iter().map(provider_to_proto).collect(),
        }))
    }

    pub(super) async fn do_update_provider(
        &self,
        request: Request<pb::UpdateProviderRequest>,
    ) -> Result<Response<pb::Provider>, Status> {
        authorize(&request, &[Role::Manager])?;
        let update = convert::provider_update(request.get_ref()).map_err(SchedulingError::from)?;
        tracing::Span::current().record("provider_id", tracing::field::display(update.provider_id));
        let provider = self.store.update_provider(&update).await?;
        tracing::info!("provider changed");
        Ok(Response::new(provider_to_proto(&provider)))
    }
}
