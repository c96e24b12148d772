//! Placeholder until RFC 9406 HyStart++ lands (being written on a branch).

/// HyStart++ slow-start exit (RFC 9406).
#[derive(Clone, Debug, Default)]
pub struct HyStart;
