//! Runs packetdrill scripts, unmodified, in-process against the synack
//! engine with a virtual clock: no root, no devices, milliseconds a
//! script. See [`run::Runner`] for how the script's view is matched
//! against the stack's, and [`profile`] for the stack profiles.

#![warn(missing_docs)]

pub mod ast;
mod code;
mod lex;
pub mod parse;
pub mod profile;
pub mod run;
mod wire;

pub use profile::Profile;
pub use run::{Failure, RunOptions, run_source, run_source_logged};

use std::path::{Path, PathBuf};

/// A script that could not be read as packetdrill's language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    /// The 1-based line where reading stopped.
    pub line: usize,
    /// What was wrong. Starts with `unsupported: ` when the text is valid
    /// packetdrill but uses what this runner does not read (UDP, ICMP and
    /// other non-TCP packets, IP fields other than ECN);
    /// [`run_source`] reports those as [`Failure::Unsupported`].
    pub msg: String,
}

/// Runs one `.pkt` file. Its directory is where the script's shell
/// commands look for the files they name. A file that cannot be read is
/// [`Failure::Unsupported`] at line 0.
pub fn run_file(path: &Path, opts: &RunOptions) -> Result<(), Failure> {
    run_file_logged(path, opts).0
}

/// [`run_file`], also returning the `--verbose` log.
pub fn run_file_logged(path: &Path, opts: &RunOptions) -> (Result<(), Failure>, Vec<String>) {
    match std::fs::read_to_string(path) {
        Ok(src) => run_source_logged(&src, path.parent(), opts),
        Err(e) => (
            Err(Failure::Unsupported {
                line: 0,
                what: format!("cannot read {}: {e}", path.display()),
            }),
            Vec::new(),
        ),
    }
}

/// Every `.pkt` file under a directory, sorted; a file named on its own,
/// whatever its name.
pub fn collect(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut out = Vec::new();
        walk(path, &mut out)?;
        Ok(out)
    } else if path.is_file() {
        // Named on its own: run it whatever its name.
        Ok(vec![path.to_path_buf()])
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file or directory",
        ))
    }
}

/// The `.pkt` files under `dir`, in name order.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::path);
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "pkt") {
            out.push(p);
        }
    }
    Ok(())
}
