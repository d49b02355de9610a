//! One screen set per mode. Each draws from its own state and hands what the person asked for
//! to the backend; results come back through `Pending` values looked at once per frame.

pub mod checkin;
pub mod collections;
pub mod counter;
pub mod display;
