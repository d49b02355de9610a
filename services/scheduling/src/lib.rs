//! Providers, appointments, check-in and the live queue.
