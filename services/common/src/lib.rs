//! What the clinic services share: value types that cross service boundaries and the plumbing
//! every service needs. Each service owns its own model; only money, ids, time, identity and
//! the serving and storage scaffolding live here.
//!
//! - [`money`]: exact money in integer minor units, with one rounding rule.
//! - [`names`]: people's names folded for comparison, and Chinese names in pinyin.
//! - [`ids`]: typed record identifiers and idempotency keys.
//! - [`idempotency`]: the one protocol by which a retried write returns its first result.
//! - [`clock`] and [`time`]: where "now" comes from, and clinic-local days.
//! - [`auth`]: bearer tokens, roles and the per-RPC role check.
//! - [`db`]: SQLite or PostgreSQL behind one handle.
//! - [`validation`] and [`status`]: field-level errors and their gRPC form.
//! - [`client`]: calling another service with a service token.
//! - [`server`], [`settings`], [`telemetry`]: running a service; [`connections`]: keepalive
//!   and closing idle connections.
//! - [`rpc`] and [`metrics`]: what surrounds every call (request ids, deadlines, a log line,
//!   traces) and the Prometheus metrics on each service's admin port.

pub mod auth;
pub mod client;
pub mod clock;
pub mod connections;
pub mod db;
pub mod idempotency;
pub mod ids;
pub mod metrics;
pub mod money;
pub mod names;
pub mod rpc;
pub mod server;
pub mod settings;
pub mod status;
pub mod telemetry;
pub mod time;
pub mod validation;

pub use money::{Currency, Money};
