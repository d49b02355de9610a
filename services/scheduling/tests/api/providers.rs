//! Providers: adding them, once, and listing them.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::common::v1::PageRequest;
use clinic_proto::scheduling::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::TestClinic;

backend_tests!(
    adding_a_provider_makes_them_bookable_and_listed,
    retrying_adding_a_provider_returns_the_first_provider,
    reusing_a_request_id_for_another_provider_is_refused,
    invalid_providers_name_every_bad_field_and_store_nothing,
    providers_are_listed_by_name_in_pages,
    concurrent_retries_of_adding_a_provider_add_one_provider,
);

fn ana(request_id: &str) -> pb::CreateProviderRequest {
    pb::CreateProviderRequest {
        provider: Some(pb::Provider {
            display_name: "Dra. Ana Ruiz".into(),
            kind: pb::ProviderKind::Hygienist.into(),
            ..Default::default()
        }),
        request_id: request_id.into(),
    }
}

async fn listed_names(client: &mut crate::Client) -> Vec<String> {
    client
        .list_providers(pb::ListProvidersRequest { page: None })
        .await
        .expect("listed")
        .into_inner()
        .providers
        .into_iter()
        .map(|provider| provider.display_name)
        .collect()
}

async fn adding_a_provider_makes_them_bookable_and_listed(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;

    let provider = clinic
        .client(Role::Manager)
        .await
        .create_provider(ana("prov-1"))
        .await
        .expect("added")
        .into_inner();

    assert_eq!(provider.display_name, "Dra. Ana Ruiz");
    assert_eq!(provider.kind, i32::from(pb::ProviderKind::Hygienist));
    assert!(provider.create_time.is_some());
    let mut kiosk = clinic.client(Role::Kiosk).await;
    let listed = kiosk
        .list_providers(pb::ListProvidersRequest { page: None })
        .await
        .expect("the kiosk may list providers")
        .into_inner();
    assert_eq!(listed.providers, std::slice::from_ref(&provider));
    let patient_id = clinic.maria().await;
    let booked = clinic
        .book(&patient_id, &provider.provider_id, (22, "09:00"), 30)
        .await;
    assert_eq!(booked.provider_id, provider.provider_id);
}

async fn retrying_adding_a_provider_returns_the_first_provider(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut manager = clinic.client(Role::Manager).await;
    let first = manager
        .create_provider(ana("prov-retry"))
        .await
        .expect("added")
        .into_inner();

    let retry = manager
        .create_provider(ana("prov-retry"))
        .await
        .expect("retried")
        .into_inner();

    assert_eq!(retry, first);
    assert_eq!(listed_names(&mut manager).await, ["Dra. Ana Ruiz"]);
}

async fn reusing_a_request_id_for_another_provider_is_refused(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut manager = clinic.client(Role::Manager).await;
    manager
        .create_provider(ana("prov-reused"))
        .await
        .expect("added");

    let mut someone_else = ana("prov-reused");
    someone_else.provider.as_mut().expect("set").display_name = "Dr. Luis Mora".into();
    let status = manager
        .create_provider(someone_else)
        .await
        .expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["request_id"]);
    assert_eq!(listed_names(&mut manager).await, ["Dra. Ana Ruiz"]);
}

async fn invalid_providers_name_every_bad_field_and_store_nothing(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut manager = clinic.client(Role::Manager).await;

    let status = manager
        .create_provider(pb::CreateProviderRequest {
            provider: Some(pb::Provider {
                display_name: "   ".into(),
                kind: 42,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&status),
        ["request_id", "provider.display_name", "provider.kind"]
    );
    let unspecified = manager
        .create_provider(pb::CreateProviderRequest {
            provider: Some(pb::Provider {
                display_name: "Dr. Luis Mora".into(),
                ..Default::default()
            }),
            request_id: "prov-no-kind".into(),
        })
        .await
        .expect_err("refused");
    assert_eq!(violated_fields(&unspecified), ["provider.kind"]);
    assert!(listed_names(&mut manager).await.is_empty());
}

async fn providers_are_listed_by_name_in_pages(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    for name in ["Dr. E", "Dr. B", "Dr. D", "Dr. A", "Dr. C"] {
        clinic.provider(name).await;
    }
    let mut reception = clinic.client(Role::Reception).await;

    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = reception
            .list_providers(pb::ListProvidersRequest {
                page: Some(PageRequest {
                    page_size: 2,
                    page_token: page_token.clone(),
                }),
            })
            .await
            .expect("listed")
            .into_inner();
        assert!(page.providers.len() <= 2);
        seen.extend(page.providers.into_iter().map(|p| p.display_name));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }

    assert_eq!(seen, ["Dr. A", "Dr. B", "Dr. C", "Dr. D", "Dr. E"]);
}

async fn concurrent_retries_of_adding_a_provider_add_one_provider(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut manager = clinic.client(Role::Manager).await;

    let mut calls = Vec::new();
    for _ in 0..10 {
        let mut client = manager.clone();
        calls.push(tokio::spawn(async move {
            client.create_provider(ana("prov-race")).await
        }));
    }
    let mut added = Vec::new();
    for call in calls {
        let provider = call
            .await
            .expect("the call task finished")
            .expect("every retry succeeds")
            .into_inner();
        added.push(provider.provider_id);
    }

    added.dedup();
    assert_eq!(added.len(), 1, "one provider: {added:?}");
    assert_eq!(listed_names(&mut manager).await, ["Dra. Ana Ruiz"]);
}
