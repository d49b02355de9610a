//! Where payments' money goes: the oldest open charges first or the ones chosen, the rest kept as
//! the patient's advance; refunds take the advance back first, then reopen the newest charge
//! paid. The balance is always what is outstanding less the advance.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_proto::common::v1::Date;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{Client, TestClinic, balance, card, charge, mxn, whole_ledger};

backend_tests!(
    payments_pay_the_oldest_charges_first_and_keep_the_rest_as_advance,
    chosen_charges_are_paid_first,
    as_chosen_pays_only_the_chosen_charges,
    bad_allocations_are_named_by_index_and_write_nothing,
    a_refund_takes_the_advance_back_first_then_reopens_the_newest_charge_paid,
);

/// A patient with three charges: 500.00 on the 20th, 300.00 on the 21st and 200.00 today (the
/// 22nd), posted in that order. Returns the patient and the charges, oldest first.
async fn patient_with_three_charges(clinic: &TestClinic) -> (String, Vec<pb::Charge>) {
    let patient_id = clinic.register_patient().await;
    let mut reception = clinic.client(Role::Reception).await;
    let mut charges = Vec::new();
    for (code, minor, day) in [
        ("A-500", 50_000, 20),
        ("B-300", 30_000, 21),
        ("C-200", 20_000, 22),
    ] {
        clinic.add_item(code, minor).await;
        charges.push(
            reception
                .post_charge(pb::PostChargeRequest {
                    service_date: Some(Date {
                        year: 2026,
                        month: 11,
                        day,
                    }),
                    ..charge(&patient_id, code, &format!("charge-{code}-{patient_id}"))
                })
                .await
                .expect("charged")
                .into_inner(),
        );
    }
    (patient_id, charges)
}

fn paid(payment: &pb::Payment) -> Vec<(String, i64)> {
    payment
        .allocations
        .iter()
        .map(|allocation| {
            (
                allocation.charge_id.clone(),
                allocation
                    .amount
                    .as_ref()
                    .map_or(0, |money| money.minor_units),
            )
        })
        .collect()
}

fn allocate(charge: &pb::Charge, minor: i64) -> pb::AllocationRequest {
    pb::AllocationRequest {
        charge_id: charge.charge_id.clone(),
        amount: Some(mxn(minor)),
    }
}

/// (charge id, outstanding) of each open charge, oldest first.
async fn still_open(client: &mut Client, patient_id: &str) -> Vec<(String, i64)> {
    client
        .list_open_charges(pb::ListOpenChargesRequest {
            patient_id: patient_id.into(),
        })
        .await
        .expect("open charges are read")
        .into_inner()
        .charges
        .into_iter()
        .map(|open| {
            (
                open.charge
                    .map(|charge| charge.charge_id)
                    .unwrap_or_default(),
                open.outstanding.map_or(0, |money| money.minor_units),
            )
        })
        .collect()
}

async fn payments_pay_the_oldest_charges_first_and_keep_the_rest_as_advance(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let (patient_id, charges) = patient_with_three_charges(&clinic).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let first = reception
        .post_payment(card(&patient_id, 60_000, "pay-600"))
        .await
        .expect("paid")
        .into_inner();
    let open_after_first = still_open(&mut reception, &patient_id).await;
    let second = reception
        .post_payment(card(&patient_id, 50_000, "pay-500"))
        .await
        .expect("paid")
        .into_inner();

    // Assert
    assert_eq!(
        paid(&first),
        [
            (charges[0].charge_id.clone(), 50_000),
            (charges[1].charge_id.clone(), 10_000)
        ]
    );
    assert_eq!(first.advance_after, Some(mxn(0)));
    assert_eq!(
        open_after_first,
        [
            (charges[1].charge_id.clone(), 20_000),
            (charges[2].charge_id.clone(), 20_000)
        ]
    );
    assert_eq!(
        paid(&second),
        [
            (charges[1].charge_id.clone(), 20_000),
            (charges[2].charge_id.clone(), 20_000)
        ]
    );
    assert_eq!(second.advance_after, Some(mxn(10_000)));
    assert_eq!(second.balance_after, Some(mxn(-10_000)));
    let account = balance(&mut reception, &patient_id).await;
    assert_eq!(account.outstanding, Some(mxn(0)));
    assert_eq!(account.advance, Some(mxn(10_000)));
    assert_eq!(account.balance, Some(mxn(-10_000)));
    assert!(still_open(&mut reception, &patient_id).await.is_empty());
    let retried = reception
        .post_payment(card(&patient_id, 50_000, "pay-500"))
        .await
        .expect("a retry is answered")
        .into_inner();
    assert_eq!(retried, second, "a retry returns the same allocations");
}

async fn chosen_charges_are_paid_first(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let (patient_id, charges) = patient_with_three_charges(&clinic).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let payment = reception
        .post_payment(pb::PostPaymentRequest {
            allocations: vec![allocate(&charges[2], 20_000)],
            ..card(&patient_id, 40_000, "pay-today-first")
        })
        .await
        .expect("paid")
        .into_inner();

    // Assert
    assert_eq!(
        paid(&payment),
        [
            (charges[2].charge_id.clone(), 20_000),
            (charges[0].charge_id.clone(), 20_000)
        ]
    );
    assert_eq!(
        still_open(&mut reception, &patient_id).await,
        [
            (charges[0].charge_id.clone(), 30_000),
            (charges[1].charge_id.clone(), 30_000)
        ]
    );
}

async fn as_chosen_pays_only_the_chosen_charges(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let (patient_id, charges) = patient_with_three_charges(&clinic).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act: the patient disputes the older charges and pays today's, leaving 100.00 on account.
    let payment = reception
        .post_payment(pb::PostPaymentRequest {
            allocations: vec![allocate(&charges[2], 20_000)],
            allocation_mode: pb::AllocationMode::AsChosen.into(),
            ..card(&patient_id, 30_000, "pay-only-today")
        })
        .await
        .expect("paid")
        .into_inner();

    // Assert
    assert_eq!(paid(&payment), [(charges[2].charge_id.clone(), 20_000)]);
    assert_eq!(payment.advance_after, Some(mxn(10_000)));
    let account = balance(&mut reception, &patient_id).await;
    assert_eq!(account.outstanding, Some(mxn(80_000)));
    assert_eq!(account.advance, Some(mxn(10_000)));
    assert_eq!(account.balance, Some(mxn(70_000)));
}

async fn bad_allocations_are_named_by_index_and_write_nothing(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let (patient_id, charges) = patient_with_three_charges(&clinic).await;
    let (_, others) = patient_with_three_charges(&clinic).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let malformed = reception
        .post_payment(pb::PostPaymentRequest {
            allocations: vec![
                pb::AllocationRequest {
                    charge_id: "nope".into(),
                    amount: Some(mxn(0)),
                },
                allocate(&charges[0], 1_000),
            ],
            allocation_mode: 7,
            ..card(&patient_id, 40_000, "pay-malformed")
        })
        .await
        .expect_err("refused");
    let not_possible = reception
        .post_payment(pb::PostPaymentRequest {
            allocations: vec![
                allocate(&others[0], 1_000),
                allocate(&charges[1], 30_001),
                allocate(&charges[0], 40_001),
            ],
            ..card(&patient_id, 40_000, "pay-impossible")
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&malformed),
        [
            "allocations[0].charge_id",
            "allocations[0].amount",
            "allocation_mode"
        ]
    );
    assert_eq!(not_possible.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&not_possible),
        [
            "allocations[0].charge_id",
            "allocations[1].amount",
            "allocations"
        ]
    );
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(ledger.len(), 6, "the six charges and no payment");
}

async fn a_refund_takes_the_advance_back_first_then_reopens_the_newest_charge_paid(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let (patient_id, charges) = patient_with_three_charges(&clinic).await;
    let mut reception = clinic.client(Role::Reception).await;
    let payment = reception
        .post_payment(card(&patient_id, 110_000, "pay-all-and-more"))
        .await
        .expect("paid")
        .into_inner();
    let mut manager = clinic.client(Role::Manager).await;

    // Act: 100.00 of advance, then 250.00 of the charges paid (today's, then 50.00 of the 21st's).
    let refunded = manager
        .refund_payment(pb::RefundPaymentRequest {
            payment_id: payment.payment_id.clone(),
            amount: Some(mxn(35_000)),
            reason: "Cobro en exceso".into(),
            terminal_id: String::new(),
            request_id: "refund-350".into(),
            ..Default::default()
        })
        .await
        .expect("refunded")
        .into_inner();

    // Assert
    assert_eq!(payment.advance_after, Some(mxn(10_000)));
    assert_eq!(refunded.balance_after, Some(mxn(25_000)));
    assert_eq!(
        still_open(&mut reception, &patient_id).await,
        [
            (charges[1].charge_id.clone(), 5_000),
            (charges[2].charge_id.clone(), 20_000)
        ]
    );
    let account = balance(&mut reception, &patient_id).await;
    assert_eq!(account.advance, Some(mxn(0)));
    assert_eq!(account.outstanding, Some(mxn(25_000)));
    assert_eq!(account.balance, Some(mxn(25_000)));
}
