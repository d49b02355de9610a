//! Packages: N sessions of a service sold ahead, each later charge for the service using one up,
//! oldest package first, never more sessions than were sold, even under concurrent charges.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{Client, TestClinic, balance, charge, mxn};

backend_tests!(
    a_package_covers_later_visits_until_its_sessions_run_out,
    skip_package_charges_in_full,
    packages_must_name_an_item_that_is_not_a_package,
    a_package_is_sold_one_at_a_time,
    concurrent_charges_never_use_more_sessions_than_were_sold,
);

/// A cleaning at 800.00 and a package of three cleanings at 2,000.00.
async fn cleaning_and_package(clinic: &TestClinic) {
    clinic.add_item("LIMP-01", 80_000).await;
    clinic
        .client(Role::Manager)
        .await
        .create_price_list_item(package("PAQ-LIMP", 200_000, 3, "LIMP-01", "item-PAQ-LIMP"))
        .await
        .expect("the package is on the list");
}

fn package(
    code: &str,
    minor: i64,
    sessions: i32,
    covers: &str,
    request_id: &str,
) -> pb::CreatePriceListItemRequest {
    pb::CreatePriceListItemRequest {
        item: Some(pb::PriceListItem {
            code: code.into(),
            description: format!("Paquete {code}"),
            unit_price: Some(mxn(minor)),
            kind: pb::PriceListItemKind::Package.into(),
            package_sessions: sessions,
            package_covers: covers.into(),
            ..Default::default()
        }),
        request_id: request_id.into(),
    }
}

async fn charge_of(
    client: &mut Client,
    patient_id: &str,
    code: &str,
    quantity: i32,
    request_id: &str,
) -> pb::Charge {
    client
        .post_charge(pb::PostChargeRequest {
            quantity,
            ..charge(patient_id, code, request_id)
        })
        .await
        .expect("charged")
        .into_inner()
}

async fn packages_of(client: &mut Client, patient_id: &str) -> Vec<pb::PatientPackage> {
    client
        .list_patient_packages(pb::ListPatientPackagesRequest {
            patient_id: patient_id.into(),
        })
        .await
        .expect("packages are read")
        .into_inner()
        .packages
}

async fn a_package_covers_later_visits_until_its_sessions_run_out(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    cleaning_and_package(&clinic).await;
    let patient_id = clinic.register_patient().await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let sold = charge_of(&mut reception, &patient_id, "PAQ-LIMP", 1, "sell").await;
    let after_sale = packages_of(&mut reception, &patient_id).await;
    let two_visits = charge_of(&mut reception, &patient_id, "LIMP-01", 2, "visits-1-2").await;
    let past_the_end = charge_of(&mut reception, &patient_id, "LIMP-01", 2, "visits-3-4").await;
    let after_use = packages_of(&mut reception, &patient_id).await;

    // Assert
    assert_eq!(sold.net_amount, Some(mxn(200_000)));
    assert_eq!(after_sale.len(), 1);
    let package = &after_sale[0];
    assert_eq!(package.charge_id, sold.charge_id);
    assert_eq!(package.covers, "LIMP-01");
    assert_eq!((package.sessions, package.sessions_left), (3, 3));
    assert_eq!(two_visits.amount, Some(mxn(160_000)));
    assert_eq!(two_visits.net_amount, Some(mxn(0)));
    assert_eq!(two_visits.package_quantity, 2);
    assert_eq!(two_visits.package_id, package.package_id);
    assert_eq!(past_the_end.package_quantity, 1);
    assert_eq!(past_the_end.net_amount, Some(mxn(80_000)));
    assert_eq!(
        (after_use[0].sessions_used, after_use[0].sessions_left),
        (3, 0)
    );
    let account = balance(&mut reception, &patient_id).await;
    assert_eq!(account.balance, Some(mxn(280_000)));
}

async fn skip_package_charges_in_full(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    cleaning_and_package(&clinic).await;
    let patient_id = clinic.register_patient().await;
    let mut reception = clinic.client(Role::Reception).await;
    charge_of(&mut reception, &patient_id, "PAQ-LIMP", 1, "sell").await;

    // Act
    let full = reception
        .post_charge(pb::PostChargeRequest {
            skip_package: true,
            ..charge(&patient_id, "LIMP-01", "visit-paid-apart")
        })
        .await
        .expect("charged")
        .into_inner();

    // Assert
    assert_eq!(full.net_amount, Some(mxn(80_000)));
    assert_eq!(full.package_quantity, 0);
    assert_eq!(
        packages_of(&mut reception, &patient_id).await[0].sessions_left,
        3
    );
}

async fn packages_must_name_an_item_that_is_not_a_package(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    cleaning_and_package(&clinic).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let of_a_package = manager
        .create_price_list_item(package("PAQ-PAQ", 1_000, 2, "PAQ-LIMP", "item-PAQ-PAQ"))
        .await
        .expect_err("refused");
    let of_nothing = manager
        .create_price_list_item(package("PAQ-X", 1_000, 2, "NOPE", "item-PAQ-X"))
        .await
        .expect_err("refused");
    let without_terms = manager
        .create_price_list_item(package("PAQ-Y", 1_000, 0, "", "item-PAQ-Y"))
        .await
        .expect_err("refused");
    let terms_on_a_service = manager
        .create_price_list_item(pb::CreatePriceListItemRequest {
            item: Some(pb::PriceListItem {
                kind: pb::PriceListItemKind::Service.into(),
                ..package("SERV-Z", 1_000, 3, "LIMP-01", "item-SERV-Z")
                    .item
                    .expect("an item")
            }),
            request_id: "item-SERV-Z".into(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(of_a_package.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&of_a_package), ["item.package_covers"]);
    assert_eq!(violated_fields(&of_nothing), ["item.package_covers"]);
    assert_eq!(
        violated_fields(&without_terms),
        ["item.package_sessions", "item.package_covers"]
    );
    assert_eq!(
        violated_fields(&terms_on_a_service),
        ["item.package_sessions", "item.package_covers"]
    );
}

async fn a_package_is_sold_one_at_a_time(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    cleaning_and_package(&clinic).await;
    let patient_id = clinic.register_patient().await;

    // Act
    let two = clinic
        .client(Role::Reception)
        .await
        .post_charge(pb::PostChargeRequest {
            quantity: 2,
            ..charge(&patient_id, "PAQ-LIMP", "sell-two")
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(violated_fields(&two), ["quantity"]);
}

async fn concurrent_charges_never_use_more_sessions_than_were_sold(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    cleaning_and_package(&clinic).await;
    let patient_id = clinic.register_patient().await;
    let mut reception = clinic.client(Role::Reception).await;
    charge_of(&mut reception, &patient_id, "PAQ-LIMP", 1, "sell").await;

    // Act: eight visits charged at once against three sessions.
    let mut calls = Vec::new();
    for visit in 0..8 {
        let mut client = clinic.client(Role::Reception).await;
        let patient_id = patient_id.clone();
        calls.push(tokio::spawn(async move {
            charge_of(
                &mut client,
                &patient_id,
                "LIMP-01",
                1,
                &format!("visit-{visit}"),
            )
            .await
        }));
    }
    let mut charges = Vec::new();
    for call in calls {
        charges.push(call.await.expect("the call ran"));
    }

    // Assert
    let covered = charges
        .iter()
        .filter(|charge| charge.package_quantity == 1)
        .count();
    assert_eq!(covered, 3);
    assert_eq!(
        packages_of(&mut reception, &patient_id).await[0].sessions_left,
        0
    );
    let account = balance(&mut reception, &patient_id).await;
    assert_eq!(account.balance, Some(mxn(200_000 + 5 * 80_000)));
}
