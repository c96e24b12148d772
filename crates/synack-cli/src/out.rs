//! Standard output that tolerates a closed pipe.
//!
//! `println!` panics when stdout is gone (`synack demo | head`), because
//! Rust ignores SIGPIPE. Output here goes through [`write`] instead, which
//! ends the process quietly with exit code 1 (the run could not show what
//! it claims) when stdout cannot be written.

use std::fmt;
use std::io::Write;

/// Writes formatted text to stdout, or exits quietly if that fails.
pub fn write(args: fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if out.write_fmt(args).is_err() {
        std::process::exit(1);
    }
}

/// `println!` through [`write`].
macro_rules! outln {
    () => {
        $crate::out::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::out::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` through [`write`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*))
    };
}
