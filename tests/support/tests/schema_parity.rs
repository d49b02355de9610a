//! Each service keeps two sets of migrations, one per backend, which must describe the same
//! schema: the same tables and columns (with matching types and nullability), the same primary
//! and foreign keys, unique constraints and indexes, and the same append-only triggers. This
//! test migrates both backends from the migration files and compares what each database reports
//! about itself, so that the two sets cannot drift apart unnoticed.
//!
//! Types are compared by family, since SQLite stores instants and days as text: a PostgreSQL
//! `timestamptz` or `date` column must be `TEXT` on SQLite, a `bigint` an `INTEGER`, a
//! `boolean` an `INTEGER` or `BOOLEAN`, and so on (see [`same_family`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clinic_test_support::TestDatabase;
use sqlx::migrate::Migrator;
use sqlx::{Connection, PgConnection, SqliteConnection};

const SERVICES: [&str; 4] = ["patients", "scheduling", "billing", "collections"];

/// What one database says about a service's schema.
#[derive(Debug, Default, PartialEq, Eq)]
struct Schema {
    tables: BTreeMap<String, Table>,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// Column name → (declared type, NOT NULL).
    columns: BTreeMap<String, (String, bool)>,
    primary_key: Vec<String>,
    /// Column lists of unique constraints and unique indexes (the primary key excluded).
    unique: BTreeSet<Index>,
    /// Column lists of the other indexes.
    indexes: BTreeSet<Index>,
    /// (columns, referenced table, referenced columns).
    foreign_keys: BTreeSet<(Vec<String>, String, Vec<String>)>,
    /// (timing, event) of the table's triggers, e.g. ("BEFORE", "UPDATE").
    triggers: BTreeSet<(String, String)>,
}

/// An index's columns (an expression is `<expr>`) and whether it is partial.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Index {
    columns: Vec<String>,
    partial: bool,
}

fn migrations(service: &str, backend: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../services")
        .join(service)
        .join("migrations")
        .join(backend)
}

async fn migrator(service: &str, backend: &str) -> Migrator {
    let path = migrations(service, backend);
    Migrator::new(path.as_path())
        .await
        .unwrap_or_else(|error| panic!("failed to read {}: {error}", path.display()))
}

async fn sqlite_schema(service: &str) -> Schema {
    let database = TestDatabase::sqlite().await;
    let mut connection = SqliteConnection::connect(&format!("{}?mode=rwc", database.url()))
        .await
        .expect("SQLite opens");
    migrator(service, "sqlite")
        .await
        .run(&mut connection)
        .await
        .expect("SQLite migrations apply");
    let mut schema = Schema::default();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut connection)
    .await
    .expect("tables listed");
    for name in tables {
        let table = sqlite_table(&mut connection, &name).await;
        schema.tables.insert(name, table);
    }
    schema
}

async fn sqlite_table(connection: &mut SqliteConnection, name: &str) -> Table {
    let mut table = Table::default();
    let columns: Vec<(String, String, bool, i64)> =
        sqlx::query_as("SELECT name, type, \"notnull\", pk FROM pragma_table_info($1)")
            .bind(name)
            .fetch_all(&mut *connection)
            .await
            .expect("columns listed");
    let mut primary_key: Vec<(i64, String)> = Vec::new();
    for (column, declared, not_null, pk) in columns {
        if pk > 0 {
            primary_key.push((pk, column.clone()));
        }
        // A primary key column is NOT NULL on PostgreSQL whatever it says; SQLite only says so
        // when told.
        table
            .columns
            .insert(column, (declared.to_uppercase(), not_null || pk > 0));
    }
    primary_key.sort();
    table.primary_key = primary_key.into_iter().map(|(_, column)| column).collect();

    let indexes: Vec<(String, bool, String, bool)> =
        sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)")
            .bind(name)
            .fetch_all(&mut *connection)
            .await
            .expect("indexes listed");
    for (index, unique, origin, partial) in indexes {
        if origin == "pk" {
            continue;
        }
        let columns: Vec<(i64, i64, Option<String>)> =
            sqlx::query_as("SELECT seqno, cid, name FROM pragma_index_info($1) ORDER BY seqno")
                .bind(&index)
                .fetch_all(&mut *connection)
                .await
                .expect("index columns listed");
        let index = Index {
            columns: columns
                .into_iter()
                .map(|(_, _, column)| column.unwrap_or_else(|| "<expr>".to_owned()))
                .collect(),
            partial,
        };
        if unique {
            table.unique.insert(index);
        } else {
            table.indexes.insert(index);
        }
    }

    let foreign_keys: Vec<(i64, i64, String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, seq, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list($1) \
         ORDER BY id, seq",
    )
    .bind(name)
    .fetch_all(&mut *connection)
    .await
    .expect("foreign keys listed");
    let mut grouped: BTreeMap<i64, (Vec<String>, String, Vec<String>)> = BTreeMap::new();
    for (id, _, referenced, from, to) in foreign_keys {
        let entry = grouped
            .entry(id)
            .or_insert_with(|| (Vec::new(), referenced, Vec::new()));
        entry.0.push(from);
        // Without a column list the reference is to the other table's primary key.
        entry.2.push(to.unwrap_or_default());
    }
    for (_, (from, referenced, mut to)) in grouped {
        if to.iter().all(String::is_empty) {
            to = sqlite_primary_key(connection, &referenced).await;
        }
        table.foreign_keys.insert((from, referenced, to));
    }

    let triggers: Vec<String> = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $1",
    )
    .bind(name)
    .fetch_all(&mut *connection)
    .await
    .expect("triggers listed");
    for sql in triggers {
        let words: Vec<String> = sql
            .split_whitespace()
            .map(|word| word.to_uppercase())
            .collect();
        for (position, word) in words.iter().enumerate() {
            if matches!(word.as_str(), "BEFORE" | "AFTER") {
                let event = words.get(position + 1).cloned().unwrap_or_default();
                table.triggers.insert((word.clone(), event));
            }
        }
    }
    table
}

async fn sqlite_primary_key(connection: &mut SqliteConnection, table: &str) -> Vec<String> {
    let columns: Vec<(String, i64)> =
        sqlx::query_as("SELECT name, pk FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk")
            .bind(table)
            .fetch_all(connection)
            .await
            .expect("primary key listed");
    columns.into_iter().map(|(column, _)| column).collect()
}

async fn postgres_schema(service: &str) -> Schema {
    let database = TestDatabase::postgres_for_test().await;
    let mut connection = PgConnection::connect(database.url())
        .await
        .expect("PostgreSQL connects");
    migrator(service, "postgres")
        .await
        .run(&mut connection)
        .await
        .expect("PostgreSQL migrations apply");
    let mut schema = Schema::default();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' \
         AND table_name <> '_sqlx_migrations' ORDER BY table_name",
    )
    .fetch_all(&mut connection)
    .await
    .expect("tables listed");
    for name in tables {
        let table = postgres_table(&mut connection, &name).await;
        schema.tables.insert(name, table);
    }
    schema
}

async fn postgres_table(connection: &mut PgConnection, name: &str) -> Table {
    let mut table = Table::default();
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
    )
    .bind(name)
    .fetch_all(&mut *connection)
    .await
    .expect("columns listed");
    for (column, data_type, nullable) in columns {
        table
            .columns
            .insert(column, (data_type.to_uppercase(), nullable == "NO"));
    }

    // Every index, including those behind primary keys and unique constraints, with its
    // columns in order (0 in indkey is an expression).
    let indexes: Vec<(bool, bool, bool, Vec<Option<String>>)> = sqlx::query_as(
        "SELECT i.indisprimary, i.indisunique, i.indpred IS NOT NULL, \
                ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY \
                      AS k(attnum, position) \
                      LEFT JOIN pg_attribute a \
                        ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                      ORDER BY k.position) \
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND t.relname = $1",
    )
    .bind(name)
    .fetch_all(&mut *connection)
    .await
    .expect("indexes listed");
    for (primary, unique, partial, columns) in indexes {
        let columns: Vec<String> = columns
            .into_iter()
            .map(|column| column.unwrap_or_else(|| "<expr>".to_owned()))
            .collect();
        if primary {
            table.primary_key = columns;
        } else if unique {
            table.unique.insert(Index { columns, partial });
        } else {
            table.indexes.insert(Index { columns, partial });
        }
    }

    let foreign_keys: Vec<(Vec<String>, String, Vec<String>)> = sqlx::query_as(
        "SELECT ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY \
                      AS k(attnum, position) \
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
                      ORDER BY k.position), \
                r.relname::text, \
                ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY \
                      AS k(attnum, position) \
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum \
                      ORDER BY k.position) \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_class r ON r.oid = c.confrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE c.contype = 'f' AND n.nspname = 'public' AND t.relname = $1",
    )
    .bind(name)
    .fetch_all(&mut *connection)
    .await
    .expect("foreign keys listed");
    table.foreign_keys = foreign_keys.into_iter().collect();

    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT action_timing::text, event_manipulation::text FROM information_schema.triggers \
         WHERE event_object_schema = 'public' AND event_object_table = $1",
    )
    .bind(name)
    .fetch_all(&mut *connection)
    .await
    .expect("triggers listed");
    table.triggers = triggers.into_iter().collect();
    table
}

/// Whether a PostgreSQL column type and a SQLite declared type store the same kind of value the
/// way this project writes them (instants as RFC 3339 text and days as ISO text on SQLite).
fn same_family(postgres: &str, sqlite: &str) -> bool {
    let sqlite = sqlite.split('(').next().unwrap_or(sqlite).trim();
    match postgres {
        "BIGINT" | "INTEGER" | "SMALLINT" => matches!(sqlite, "INTEGER" | "BIGINT" | "INT"),
        "BOOLEAN" => matches!(sqlite, "INTEGER" | "BOOLEAN"),
        "TEXT" | "CHARACTER VARYING" | "CHARACTER" => matches!(sqlite, "TEXT" | "VARCHAR"),
        "TIMESTAMP WITH TIME ZONE" | "DATE" | "TIME WITHOUT TIME ZONE" => {
            matches!(sqlite, "TEXT" | "TIMESTAMP" | "DATE" | "TIME")
        }
        "BYTEA" => sqlite == "BLOB",
        _ => false,
    }
}

/// Every difference between the two schemas, one line each.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut found = Vec::new();
    let names: BTreeSet<&String> = sqlite.tables.keys().chain(postgres.tables.keys()).collect();
    for name in names {
        let (Some(lite), Some(pg)) = (sqlite.tables.get(name), postgres.tables.get(name)) else {
            let only = if sqlite.tables.contains_key(name) {
                "SQLite"
            } else {
                "PostgreSQL"
            };
            found.push(format!("table {name} exists only on {only}"));
            continue;
        };
        table_differences(name, lite, pg, &mut found);
    }
    found
}

fn table_differences(name: &str, lite: &Table, pg: &Table, found: &mut Vec<String>) {
    let columns: BTreeSet<&String> = lite.columns.keys().chain(pg.columns.keys()).collect();
    for column in columns {
        match (lite.columns.get(column), pg.columns.get(column)) {
            (Some((lite_type, lite_not_null)), Some((pg_type, pg_not_null))) => {
                if !same_family(pg_type, lite_type) {
                    found.push(format!(
                        "{name}.{column}: {pg_type} on PostgreSQL, {lite_type} on SQLite"
                    ));
                }
                if lite_not_null != pg_not_null {
                    found.push(format!(
                        "{name}.{column}: NOT NULL is {pg_not_null} on PostgreSQL, \
                         {lite_not_null} on SQLite"
                    ));
                }
            }
            (Some(_), None) => found.push(format!("{name}.{column} exists only on SQLite")),
            (None, _) => found.push(format!("{name}.{column} exists only on PostgreSQL")),
        }
    }
    if lite.primary_key != pg.primary_key {
        found.push(format!(
            "{name}: primary key {:?} on PostgreSQL, {:?} on SQLite",
            pg.primary_key, lite.primary_key
        ));
    }
    let sets = [
        ("unique index", &lite.unique, &pg.unique),
        ("index", &lite.indexes, &pg.indexes),
    ];
    for (what, lite_set, pg_set) in sets {
        for index in lite_set.difference(pg_set) {
            found.push(format!("{name}: {what} {index:?} only on SQLite"));
        }
        for index in pg_set.difference(lite_set) {
            found.push(format!("{name}: {what} {index:?} only on PostgreSQL"));
        }
    }
    for key in lite.foreign_keys.difference(&pg.foreign_keys) {
        found.push(format!("{name}: foreign key {key:?} only on SQLite"));
    }
    for key in pg.foreign_keys.difference(&lite.foreign_keys) {
        found.push(format!("{name}: foreign key {key:?} only on PostgreSQL"));
    }
    for trigger in lite.triggers.difference(&pg.triggers) {
        found.push(format!("{name}: trigger {trigger:?} only on SQLite"));
    }
    for trigger in pg.triggers.difference(&lite.triggers) {
        found.push(format!("{name}: trigger {trigger:?} only on PostgreSQL"));
    }
}

async fn assert_same_schema(service: &str) {
    let sqlite = sqlite_schema(service).await;
    let postgres = postgres_schema(service).await;
    assert!(
        !sqlite.tables.is_empty(),
        "{service}'s SQLite migrations made no tables"
    );
    let found = differences(&sqlite, &postgres);
    assert!(
        found.is_empty(),
        "{service}'s SQLite and PostgreSQL migrations disagree:\n  {}",
        found.join("\n  ")
    );
}

macro_rules! parity_tests {
    ($($service:ident),+) => {
        $(
            #[tokio::test]
            #[ignore = "needs PostgreSQL: set CLINIC_TEST_POSTGRES_URL and run ignored tests \
                        (scripts/test does both)"]
            async fn $service() {
                assert_same_schema(stringify!($service)).await;
            }
        )+
    };
}

parity_tests!(patients, scheduling, billing, collections);

#[test]
fn every_service_with_migrations_is_compared() {
    let services = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services");
    let mut with_migrations: Vec<String> = std::fs::read_dir(&services)
        .expect("the services folder is readable")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("migrations").is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    with_migrations.sort();
    let mut compared = SERVICES.map(str::to_owned).to_vec();
    compared.sort();

    assert_eq!(
        with_migrations, compared,
        "add the new service to SERVICES and parity_tests!"
    );
    for service in SERVICES {
        for backend in ["sqlite", "postgres"] {
            assert!(
                migrations(service, backend).is_dir(),
                "{service} has no {backend} migrations"
            );
        }
    }
}
