//! The collections service over gRPC: each handler checks the caller's role, converts the
//! request, asks the store and converts the result back.

mod convert;
mod error;

use clinic_common::auth::{Role, authorize};
use clinic_common::validation::FieldViolations;
use clinic_proto::collections::v1 as pb;
use clinic_proto::collections::v1::collections_service_server::CollectionsService;
use clinic_proto::{money_to_proto, next_page_token, page_from_proto};
use tonic::{Request, Response, Status};

use crate::domain::CollectionsError;
use crate::store::ReceivablesStore;

use convert::{receivable_to_proto, sync_status_to_proto};

const RECEIVABLES_PAGE_DEFAULT: u32 = 50;
const RECEIVABLES_PAGE_MAX: u32 = 500;

/// Implements `clinic.collections.v1.CollectionsService`.
pub struct CollectionsGrpc {
    store: ReceivablesStore,
}

impl CollectionsGrpc {
    pub fn new(store: ReceivablesStore) -> Self {
        CollectionsGrpc { store }
    }
}

#[tonic::async_trait]
impl CollectionsService for CollectionsGrpc {
    #[tracing::instrument(skip_all)]
    async fn list_receivables(
        &self,
        request: Request<pb::ListReceivablesRequest>,
    ) -> Result<Response<pb::ListReceivablesResponse>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let page = violations.check(
            "page",
            page_from_proto(
                request.page.as_ref(),
                RECEIVABLES_PAGE_DEFAULT,
                RECEIVABLES_PAGE_MAX,
            ),
        );
        let Some((size, offset)) = page else {
            return Err(CollectionsError::from(violations).into());
        };
        let page = self
            .store
            .list_receivables(size, offset)
            .await
            .map_err(CollectionsError::from)?;
        Ok(Response::new(pb::ListReceivablesResponse {
            next_page_token: next_page_token(offset, size, page.accounts.len()),
            accounts: page.accounts.iter().map(receivable_to_proto).collect(),
            total_open: Some(money_to_proto(page.total_open)),
            as_of_sequence: page.as_of_sequence,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_ledger_sync_status(
        &self,
        request: Request<pb::GetLedgerSyncStatusRequest>,
    ) -> Result<Response<pb::LedgerSyncStatus>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager, Role::Service])?;
        let status = self
            .store
            .sync_status()
            .await
            .map_err(CollectionsError::from)?;
        Ok(Response::new(sync_status_to_proto(&status)))
    }
}
