use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::common::v1::{Date, PageRequest};
use clinic_proto::patients::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};

use tonic::Code;

use crate::TestRegistry;

backend_tests!(
    search_ignores_accents_and_case_in_every_script,
    search_pages_through_results,
    a_query_with_a_control_character_is_refused_naming_the_query,
    a_query_longer_than_the_contract_allows_is_refused,
    a_chinese_name_is_found_whole_or_in_pinyin,
    one_letter_is_too_little_in_every_script,
    search_text_of_an_older_version_is_rebuilt_when_the_registry_starts,
);

async fn register(client: &mut crate::Client, given: &str, family: &str, phone: &str) {
    client
        .create_patient(pb::CreatePatientRequest {
            patient: Some(pb::Patient {
                given_name: given.into(),
                family_name: family.into(),
                date_of_birth: Some(Date {
                    year: 1990,
                    month: 1,
                    day: 2,
                }),
                phone: phone.into(),
                ..Default::default()
            }),
            request_id: format!("reg-{phone}"),
        })
        .await
        .expect("registered");
}

async fn names(client: &mut crate::Client, query: &str) -> Vec<String> {
    client
        .search_patients(pb::SearchPatientsRequest {
            query: query.into(),
            page: None,
        })
        .await
        .expect("searched")
        .into_inner()
        .patients
        .into_iter()
        .map(|patient| format!("{} {}", patient.given_name, patient.family_name))
        .collect()
}

async fn search_ignores_accents_and_case_in_every_script(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;
    register(&mut reception, "José", "Núñez", "+525511112222").await;
    register(&mut reception, "Пётр", "Ёлкин", "+79161234567").await;
    register(&mut reception, "伟", "张", "+8613800138000").await;
    register(&mut reception, "Emily", "Johnson", "+15125550199").await;

    assert_eq!(names(&mut reception, "nunez jose").await, ["José Núñez"]);
    assert_eq!(names(&mut reception, "ЕЛКИН").await, ["Пётр Ёлкин"]);
    assert_eq!(names(&mut reception, "张").await, ["伟 张"]);
    assert_eq!(names(&mut reception, "512-555").await, ["Emily Johnson"]);
    assert!(names(&mut reception, "smith").await.is_empty());
}

async fn search_pages_through_results(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;
    for index in 0..5 {
        register(
            &mut reception,
            &format!("Ana{index}"),
            "Ruiz",
            &format!("+52551111000{index}"),
        )
        .await;
    }

    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = reception
            .search_patients(pb::SearchPatientsRequest {
                query: "ruiz".into(),
                page: Some(PageRequest {
                    page_size: 2,
                    page_token: page_token.clone(),
                }),
            })
            .await
            .expect("searched")
            .into_inner();
        seen.extend(page.patients.into_iter().map(|patient| patient.given_name));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(seen, ["Ana0", "Ana1", "Ana2", "Ana3", "Ana4"]);
}

async fn a_query_with_a_control_character_is_refused_naming_the_query(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;
    register(&mut reception, "José", "Núñez", "+525511112222").await;

    // PostgreSQL cannot take a NUL in a pattern: it is bad input, not a database error.
    let status = reception
        .search_patients(pb::SearchPatientsRequest {
            query: "nunez\0".into(),
            page: None,
        })
        .await
        .expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(violated_fields(&status), ["query"]);
}

async fn a_query_longer_than_the_contract_allows_is_refused(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;
    register(&mut reception, "José", "Núñez", "+525511112222").await;
    let search = |query: String| pb::SearchPatientsRequest { query, page: None };

    // SQLite refuses a LIKE pattern over 50,000 bytes; the contract caps queries well below.
    let pasted = reception
        .search_patients(search("n".repeat(60_000)))
        .await
        .expect_err("refused");
    let longest = reception
        .search_patients(search(format!("nunez {}", "x".repeat(194))))
        .await
        .expect("200 characters are allowed");

    assert_eq!(pasted.code(), Code::InvalidArgument, "{pasted:?}");
    assert_eq!(violated_fields(&pasted), ["query"]);
    assert!(longest.into_inner().patients.is_empty());
}

async fn a_chinese_name_is_found_whole_or_in_pinyin(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;
    register(&mut reception, "娜娜", "欧阳", "+8613800138001").await;
    register(&mut reception, "静", "王", "+8613800138002").await;
    register(&mut reception, "Jing", "Wang", "+8613800138003").await;

    // Typed as it is written, family name first, as one word.
    assert_eq!(names(&mut reception, "欧阳娜娜").await, ["娜娜 欧阳"]);
    assert_eq!(names(&mut reception, "王静").await, ["静 王"]);
    // In pinyin, in parts or whole.
    assert_eq!(names(&mut reception, "ouyang nana").await, ["娜娜 欧阳"]);
    assert_eq!(names(&mut reception, "Ou-Yang").await, ["娜娜 欧阳"]);
    assert_eq!(
        names(&mut reception, "wang jing").await,
        ["Jing Wang", "静 王"]
    );
}

async fn one_letter_is_too_little_in_every_script(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;
    register(&mut reception, "Анна", "Андреева", "+79161234567").await;
    register(&mut reception, "伟", "张", "+8613800138000").await;

    for one_letter in ["a", "а", "A", "А", "7"] {
        let status = reception
            .search_patients(pb::SearchPatientsRequest {
                query: one_letter.into(),
                page: None,
            })
            .await
            .expect_err("one letter is refused");
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{one_letter}: {status:?}"
        );
        assert_eq!(violated_fields(&status), ["query"]);
    }
    // A Chinese character is a whole syllable, often a whole family name.
    assert_eq!(names(&mut reception, "张").await, ["伟 张"]);
    assert_eq!(names(&mut reception, "ан").await, ["Анна Андреева"]);
}

async fn search_text_of_an_older_version_is_rebuilt_when_the_registry_starts(
    database: TestDatabase,
) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;
    register(&mut reception, "娜娜", "欧阳", "+8613800138001").await;

    // The text as the first version built it: each field folded, no whole name, no pinyin.
    let registry = registry
        .restart(|url| async move {
            let db = clinic_common::db::Database::connect(&url)
                .await
                .expect("the database opens");
            for statement in [
                "UPDATE patients SET search_text = '娜娜 欧阳 +8613800138001 8613800138001'",
                "UPDATE search_text_version SET version = 1",
            ] {
                clinic_common::with_db!(&db, |pool| {
                    sqlx::query(statement).execute(pool).await.map(|_| ())
                })
                .expect("the database is changed");
            }
            db.close().await;
        })
        .await;
    let mut reception = registry.client(Role::Reception).await;

    assert_eq!(names(&mut reception, "ouyang").await, ["娜娜 欧阳"]);
    assert_eq!(names(&mut reception, "欧阳娜娜").await, ["娜娜 欧阳"]);
}
