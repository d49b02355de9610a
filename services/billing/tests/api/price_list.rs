//! The price list: adding items, retries, duplicates, validation and paging.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_proto::common::v1::{Money, PageRequest};
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, item, mxn};

backend_tests!(
    added_items_are_listed_in_code_order,
    retrying_an_item_returns_the_first_and_a_reused_key_is_refused,
    a_code_already_on_the_list_is_already_exists,
    invalid_items_name_every_bad_field_and_add_nothing,
    the_price_list_pages_through_with_tokens,
    an_items_sat_codes_are_kept_both_or_neither,
);

async fn list(clinic: &TestClinic, page: Option<PageRequest>) -> pb::ListPriceListItemsResponse {
    clinic
        .client(Role::Kiosk)
        .await
        .list_price_list_items(pb::ListPriceListItemsRequest { page })
        .await
        .expect("the price list is listed")
        .into_inner()
}

async fn added_items_are_listed_in_code_order(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Arrange / Act
    for (code, price, request_id) in [
        ("LIMP-01", 80_000, "pl-1"),
        ("CONS-01", 45_050, "pl-2"),
        ("cepillo-01", 9_900, "pl-3"),
    ] {
        manager
            .create_price_list_item(item(code, price, request_id))
            .await
            .expect("added");
    }
    let mut product = item("ENJ-01", 12_000, "pl-4");
    product.item.as_mut().expect("set").kind = pb::PriceListItemKind::Product.into();
    let added = manager
        .create_price_list_item(product)
        .await
        .expect("added")
        .into_inner();

    // Assert
    assert_eq!(added.kind(), pb::PriceListItemKind::Product);
    assert!(added.create_time.is_some());
    let listed = list(&clinic, None).await;
    let codes: Vec<&str> = listed.items.iter().map(|item| item.code.as_str()).collect();
    assert_eq!(
        codes,
        ["CEPILLO-01", "CONS-01", "ENJ-01", "LIMP-01"],
        "codes are upper-cased and sorted"
    );
    assert_eq!(listed.items[1].unit_price, Some(mxn(45_050)));
    assert_eq!(listed.items[1].description, "Servicio CONS-01");
    assert_eq!(listed.next_page_token, "");
}

async fn retrying_an_item_returns_the_first_and_a_reused_key_is_refused(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut manager = clinic.client(Role::Manager).await;
    let first = manager
        .create_price_list_item(item("CONS-01", 45_000, "pl-retry"))
        .await
        .expect("added")
        .into_inner();

    // Act
    let retry = manager
        .create_price_list_item(item("CONS-01", 45_000, "pl-retry"))
        .await
        .expect("retried")
        .into_inner();
    let reused = manager
        .create_price_list_item(item("CONS-02", 45_000, "pl-retry"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(retry, first);
    assert_eq!(reused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&reused), ["request_id"]);
    assert_eq!(list(&clinic, None).await.items, [first]);
}

async fn a_code_already_on_the_list_is_already_exists(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let original = clinic.add_item("CONS-01", 45_000).await;
    let mut service = clinic.client(Role::Service).await;

    // Act
    let duplicate = service
        .create_price_list_item(item("cons-01", 99_900, "pl-dup"))
        .await
        .expect_err("refused");
    let retried_duplicate = service
        .create_price_list_item(item("cons-01", 99_900, "pl-dup"))
        .await
        .expect_err("still refused");

    // Assert
    assert_eq!(duplicate.code(), Code::AlreadyExists);
    assert_eq!(
        retried_duplicate.code(),
        Code::AlreadyExists,
        "the refused request claimed no key"
    );
    assert_eq!(list(&clinic, None).await.items, [original]);
}

async fn invalid_items_name_every_bad_field_and_add_nothing(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let everything_wrong = manager
        .create_price_list_item(pb::CreatePriceListItemRequest {
            item: Some(pb::PriceListItem {
                code: "LIMPIEZA DENTAL".into(),
                description: "   ".into(),
                unit_price: Some(mxn(-100)),
                kind: pb::PriceListItemKind::Unspecified.into(),
                create_time: None,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("refused");
    let mut in_dollars = item("CONS-01", 45_000, "pl-usd");
    in_dollars.item.as_mut().expect("set").unit_price = Some(Money {
        minor_units: 45_000,
        currency_code: "USD".into(),
    });
    let wrong_currency = manager
        .create_price_list_item(in_dollars)
        .await
        .expect_err("refused");
    let no_item = manager
        .create_price_list_item(pb::CreatePriceListItemRequest {
            item: None,
            request_id: "pl-none".into(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(everything_wrong.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&everything_wrong),
        [
            "item.code",
            "item.description",
            "item.unit_price",
            "item.kind",
            "request_id"
        ]
    );
    assert_eq!(violated_fields(&wrong_currency), ["item.unit_price"]);
    assert_eq!(violated_fields(&no_item), ["item"]);
    assert_eq!(wrong_currency.code(), Code::InvalidArgument);
    assert!(list(&clinic, None).await.items.is_empty());
}

async fn the_price_list_pages_through_with_tokens(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    for code in ["E-5", "A-1", "D-4", "B-2", "C-3"] {
        clinic.add_item(code, 1_000).await;
    }

    // Act
    let mut codes = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let page = list(
            &clinic,
            Some(PageRequest {
                page_size: 2,
                page_token: page_token.clone(),
            }),
        )
        .await;
        pages += 1;
        codes.extend(page.items.into_iter().map(|item| item.code));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let forged = clinic
        .client(Role::Reception)
        .await
        .list_price_list_items(pb::ListPriceListItemsRequest {
            page: Some(PageRequest {
                page_size: 2,
                page_token: "not-a-token".into(),
            }),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(codes, ["A-1", "B-2", "C-3", "D-4", "E-5"]);
    assert_eq!(pages, 3);
    assert_eq!(violated_fields(&forged), ["page"]);
}

async fn an_items_sat_codes_are_kept_both_or_neither(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut manager = clinic.client(Role::Manager).await;
    let with_codes = |code: &str, product: &str, unit: &str, request_id: &str| {
        let mut request = item(code, 90_000, request_id);
        let listed = request.item.as_mut().expect("set");
        listed.sat_product_code = product.into();
        listed.sat_unit_code = unit.into();
        request
    };

    // Act
    let coded = manager
        .create_price_list_item(with_codes("ORTO-01", "85121600", "e48", "pl-1"))
        .await
        .expect("added")
        .into_inner();
    let half = manager
        .create_price_list_item(with_codes("ORTO-02", "85121600", "", "pl-2"))
        .await
        .expect_err("refused");
    let malformed = manager
        .create_price_list_item(with_codes("ORTO-03", "8512", "E 48", "pl-3"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(
        (
            coded.sat_product_code.as_str(),
            coded.sat_unit_code.as_str()
        ),
        ("85121600", "E48")
    );
    let listed = list(&clinic, None).await;
    assert_eq!(listed.items, [coded]);
    assert_eq!(violated_fields(&half), ["item.sat_unit_code"]);
    assert_eq!(
        violated_fields(&malformed),
        ["item.sat_product_code", "item.sat_unit_code"]
    );
}
