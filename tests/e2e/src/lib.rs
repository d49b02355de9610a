//! Cross-service journeys live in `tests/`.
