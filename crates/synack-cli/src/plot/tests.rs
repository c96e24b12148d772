//! Unit tests of the reader, the state inference and the counts.
