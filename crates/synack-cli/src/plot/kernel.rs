//! A kernel capture.
