//! Promotions set up by a manager and discounts typed at the counter: within the clinic's limit
//! anyone at the counter may give one; above it a manager must, or must authorise it.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_proto::common::v1::Date;
use clinic_test_support::{TestDatabase, backend_tests, token};
use tonic::Code;

use crate::{TestClinic, charge, mxn, whole_ledger};

backend_tests!(
    a_promotion_discounts_its_items_on_its_days,
    a_discount_within_the_limit_needs_no_manager,
    a_discount_above_the_limit_needs_a_manager,
    invalid_discounts_and_promotions_name_every_bad_field,
);

fn day(day: i32) -> Option<Date> {
    Some(Date {
        year: 2026,
        month: 11,
        day,
    })
}

fn promotion(code: &str, percent: i32, price_codes: &[&str]) -> pb::CreatePromotionRequest {
    pb::CreatePromotionRequest {
        promotion: Some(pb::Promotion {
            code: code.into(),
            description: "El Buen Fin".into(),
            discount: Some(pb::promotion::Discount::PercentOff(percent)),
            price_codes: price_codes.iter().map(|code| (*code).to_owned()).collect(),
            valid_from: day(20),
            valid_to: day(25),
            ..Default::default()
        }),
        request_id: format!("promotion-{code}"),
    }
}

fn percent_off(percent: i32) -> Option<pb::AdHocDiscount> {
    Some(pb::AdHocDiscount {
        discount: Some(pb::ad_hoc_discount::Discount::Percent(percent)),
        reason: "Paciente frecuente".into(),
    })
}

async fn a_promotion_discounts_its_items_on_its_days(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    clinic.add_item("LIMP-01", 80_000).await;
    clinic.add_item("PROD-CEP", 95_000).await;
    let patient_id = clinic.register_patient().await;
    let mut manager = clinic.client_as(Role::Manager, "manager:luis").await;
    let created = manager
        .create_promotion(promotion("BUEN-FIN", 20, &["LIMP-01"]))
        .await
        .expect("created")
        .into_inner();
    let mut reception = clinic.client(Role::Reception).await;
    let with_promotion = |code: &str, request_id: &str| pb::PostChargeRequest {
        promotion_code: "BUEN-FIN".into(),
        ..charge(&patient_id, code, request_id)
    };

    // Act
    let discounted = reception
        .post_charge(pb::PostChargeRequest {
            quantity: 2,
            ..with_promotion("LIMP-01", "charge-promo")
        })
        .await
        .expect("charged")
        .into_inner();
    let other_item = reception
        .post_charge(with_promotion("PROD-CEP", "charge-promo-product"))
        .await
        .expect_err("refused");
    let before_it_ran = reception
        .post_charge(pb::PostChargeRequest {
            service_date: day(19),
            ..with_promotion("LIMP-01", "charge-promo-early")
        })
        .await
        .expect_err("refused");
    let unknown = reception
        .post_charge(pb::PostChargeRequest {
            promotion_code: "NADA".into(),
            ..charge(&patient_id, "LIMP-01", "charge-promo-unknown")
        })
        .await
        .expect_err("refused");
    let running_today = reception
        .list_promotions(pb::ListPromotionsRequest { active_on: day(22) })
        .await
        .expect("listed")
        .into_inner();
    let running_later = reception
        .list_promotions(pb::ListPromotionsRequest { active_on: day(26) })
        .await
        .expect("listed")
        .into_inner();

    // Assert
    assert_eq!(created.created_by, "manager:luis");
    assert_eq!(created.price_codes, ["LIMP-01"]);
    assert_eq!(discounted.amount, Some(mxn(160_000)));
    assert_eq!(discounted.discount, Some(mxn(32_000)));
    assert_eq!(discounted.net_amount, Some(mxn(128_000)));
    assert_eq!(discounted.promotion_code, "BUEN-FIN");
    assert_eq!(
        discounted.discount_authorized_by, "",
        "the promotion is authorised"
    );
    for refused in [&other_item, &before_it_ran, &unknown] {
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert_eq!(violated_fields(refused), ["promotion_code"]);
    }
    assert_eq!(running_today.promotions, [created]);
    assert!(running_later.promotions.is_empty());
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(
        ledger[0].amount,
        Some(mxn(128_000)),
        "the ledger has the net"
    );
}

async fn a_discount_within_the_limit_needs_no_manager(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    clinic.add_item("LIMP-01", 80_000).await;
    let patient_id = clinic.register_patient().await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let ten_percent = reception
        .post_charge(pb::PostChargeRequest {
            discount: percent_off(10),
            ..charge(&patient_id, "LIMP-01", "charge-10")
        })
        .await
        .expect("charged")
        .into_inner();
    let eighty_pesos = reception
        .post_charge(pb::PostChargeRequest {
            discount: Some(pb::AdHocDiscount {
                discount: Some(pb::ad_hoc_discount::Discount::Amount(mxn(8_000))),
                reason: "Redondeo".into(),
            }),
            ..charge(&patient_id, "LIMP-01", "charge-80")
        })
        .await
        .expect("charged")
        .into_inner();

    // Assert
    assert_eq!(ten_percent.net_amount, Some(mxn(72_000)));
    assert_eq!(ten_percent.discount_percent, 10);
    assert_eq!(ten_percent.discount_reason, "Paciente frecuente");
    assert_eq!(ten_percent.discount_authorized_by, "");
    assert_eq!(eighty_pesos.net_amount, Some(mxn(72_000)));
    assert_eq!(eighty_pesos.discount_percent, 0);
}

async fn a_discount_above_the_limit_needs_a_manager(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    clinic.add_item("LIMP-01", 80_000).await;
    let patient_id = clinic.register_patient().await;
    let mut reception = clinic.client_as(Role::Reception, "reception:ana").await;
    let fifteen = |request_id: &str, authorization: String| pb::PostChargeRequest {
        discount: percent_off(15),
        manager_authorization: authorization,
        ..charge(&patient_id, "LIMP-01", request_id)
    };

    // Act
    let alone = reception
        .post_charge(fifteen("charge-15-alone", String::new()))
        .await
        .expect_err("refused");
    let with_a_colleague = reception
        .post_charge(fifteen(
            "charge-15-colleague",
            token(Role::Reception, "reception:beto"),
        ))
        .await
        .expect_err("refused");
    let authorised = reception
        .post_charge(fifteen(
            "charge-15-authorised",
            token(Role::Manager, "manager:luis"),
        ))
        .await
        .expect("a manager authorised it")
        .into_inner();
    let by_a_manager = clinic
        .client_as(Role::Manager, "manager:sofia")
        .await
        .post_charge(fifteen("charge-15-manager", String::new()))
        .await
        .expect("a manager may give it")
        .into_inner();

    // Assert
    assert_eq!(alone.code(), Code::PermissionDenied);
    assert_eq!(
        alone.message(),
        "a discount above 10% of the list amount needs a manager's authorisation"
    );
    assert_eq!(
        violated_fields(&with_a_colleague),
        ["manager_authorization"]
    );
    assert_eq!(authorised.discount_authorized_by, "manager:luis");
    assert_eq!(authorised.posted_by, "reception:ana");
    assert_eq!(authorised.net_amount, Some(mxn(68_000)));
    assert_eq!(by_a_manager.discount_authorized_by, "manager:sofia");
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(ledger.len(), 2, "the refused charges wrote nothing");
}

async fn invalid_discounts_and_promotions_name_every_bad_field(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    clinic.add_item("LIMP-01", 80_000).await;
    let patient_id = clinic.register_patient().await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let bad_percent = manager
        .post_charge(pb::PostChargeRequest {
            discount: Some(pb::AdHocDiscount {
                discount: Some(pb::ad_hoc_discount::Discount::Percent(0)),
                reason: String::new(),
            }),
            ..charge(&patient_id, "LIMP-01", "charge-bad-percent")
        })
        .await
        .expect_err("refused");
    let both = manager
        .post_charge(pb::PostChargeRequest {
            discount: percent_off(5),
            promotion_code: "BUEN-FIN".into(),
            ..charge(&patient_id, "LIMP-01", "charge-both")
        })
        .await
        .expect_err("refused");
    let more_than_the_charge = manager
        .post_charge(pb::PostChargeRequest {
            discount: Some(pb::AdHocDiscount {
                discount: Some(pb::ad_hoc_discount::Discount::Amount(mxn(80_001))),
                reason: "Cortesía".into(),
            }),
            ..charge(&patient_id, "LIMP-01", "charge-too-much")
        })
        .await
        .expect_err("refused");
    let bad_promotion = manager
        .create_promotion(pb::CreatePromotionRequest {
            promotion: Some(pb::Promotion {
                code: "mal código".into(),
                description: String::new(),
                discount: Some(pb::promotion::Discount::PercentOff(101)),
                price_codes: vec!["NOT-LISTED".into()],
                valid_from: day(25),
                valid_to: day(20),
                ..Default::default()
            }),
            request_id: "promotion-bad".into(),
        })
        .await
        .expect_err("refused");
    let unlisted_item = manager
        .create_promotion(promotion("SOLO", 10, &["NOT-LISTED"]))
        .await
        .expect_err("refused");
    let by_reception = clinic
        .client(Role::Reception)
        .await
        .create_promotion(promotion("RECEPCION", 10, &[]))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(
        violated_fields(&bad_percent),
        ["discount.reason", "discount.percent"]
    );
    assert_eq!(violated_fields(&both), ["discount"]);
    assert_eq!(violated_fields(&more_than_the_charge), ["discount.amount"]);
    assert_eq!(
        violated_fields(&bad_promotion),
        [
            "promotion.code",
            "promotion.description",
            "promotion.percent_off",
            "promotion.valid_to"
        ]
    );
    assert_eq!(
        violated_fields(&unlisted_item),
        ["promotion.price_codes[0]"]
    );
    assert_eq!(by_reception.code(), Code::PermissionDenied);
}
