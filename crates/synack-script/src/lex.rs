//! The script's tokens. packetdrill's grammar is not line-based, but every
//! token remembers its line so that a mismatch can name the script line.

use crate::ScriptError;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A decimal or hexadecimal integer.
    Int(i64),
    /// A number with a fraction (`.01`, `0.200`), kept as text too so
    /// that times are converted exactly.
    Float(f64),
    Word(String),
    Str(String),
    /// `` `...` ``: a shell command.
    Backtick(String),
    /// `%{ ... }%`: a Python fragment.
    Code(String),
    /// `--name` or `--name=value` at the start of a line.
    Opt(String, Option<String>),
    /// `...`
    Ellipsis,
    Punct(char),
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub line: usize,
}

pub fn lex(src: &str) -> Result<Vec<Token>, ScriptError> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut line = 1;
    let mut out = Vec::new();
    let mut at_line_start = true;
    let err = |line: usize, msg: String| ScriptError { line, msg };
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            i += 1;
            at_line_start = true;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start_line = line;
        // Comments.
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                if b[i] == b'\n' {
                    line += 1;
                }
                i += 1;
            }
            if i >= b.len() {
                return Err(err(start_line, "unterminated /* comment".into()));
            }
            i += 2;
            continue;
        }
        let was_line_start = at_line_start;
        at_line_start = false;
        // `--option[=value]` lines (packetdrill's command-line options).
        if was_line_start && c == b'-' && b.get(i + 1) == Some(&b'-') {
            let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
            let text = src[i + 2..end].trim();
            let (name, value) = match text.split_once('=') {
                Some((n, v)) => (n.trim().to_string(), Some(v.trim().to_string())),
                None => (text.to_string(), None),
            };
            out.push(Token {
                tok: Tok::Opt(name, value),
                line,
            });
            i = end;
            continue;
        }
        // Delimited text taken whole: a shell command or a code block.
        let delimited = if c == b'`' {
            Some((
                "`",
                "`",
                Tok::Backtick as fn(String) -> Tok,
                "backtick command",
            ))
        } else if b[i..].starts_with(b"%{") {
            Some(("%{", "}%", Tok::Code as fn(String) -> Tok, "%{ code block"))
        } else {
            None
        };
        if let Some((open, close, make, what)) = delimited {
            let body = i + open.len();
            let Some(n) = src[body..].find(close) else {
                return Err(err(start_line, format!("unterminated {what}")));
            };
            let text = &src[body..body + n];
            line += text.matches('\n').count();
            out.push(Token {
                tok: make(text.to_string()),
                line: start_line,
            });
            i = body + n + close.len();
            continue;
        }
        if c == b'"' {
            let mut j = i + 1;
            let mut s = String::new();
            while j < b.len() && b[j] != b'"' {
                if b[j] == b'\\' && j + 1 < b.len() {
                    j += 1;
                }
                if b[j] == b'\n' {
                    line += 1;
                }
                s.push(b[j] as char);
                j += 1;
            }
            if j >= b.len() {
                return Err(err(start_line, "unterminated string".into()));
            }
            out.push(Token {
                tok: Tok::Str(s),
                line: start_line,
            });
            i = j + 1;
            continue;
        }
        if c == b'.' && b.get(i + 1) == Some(&b'.') && b.get(i + 2) == Some(&b'.') {
            out.push(Token {
                tok: Tok::Ellipsis,
                line,
            });
            i += 3;
            continue;
        }
        let starts_number =
            c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit));
        if starts_number {
            let (tok, n) = number(&src[i..]).map_err(|m| err(line, m))?;
            out.push(Token { tok, line });
            i += n;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            out.push(Token {
                tok: Tok::Word(src[i..j].to_string()),
                line,
            });
            i = j;
            continue;
        }
        if b"+-*<>.:()[]{},=|~!;&/".contains(&c) {
            out.push(Token {
                tok: Tok::Punct(c as char),
                line,
            });
            i += 1;
            continue;
        }
        return Err(err(line, format!("unexpected character {:?}", c as char)));
    }
    Ok(out)
}

/// A number at the start of `s`: its token and length. `1:1001(1000)`
/// lexes as 1, `:`, 1001, ...; `0.200` and `.1` as floats; `0x1f` as hex.
fn number(s: &str) -> Result<(Tok, usize), String> {
    let b = s.as_bytes();
    if b.len() > 1 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        let mut j = 2;
        while j < b.len() && b[j].is_ascii_hexdigit() {
            j += 1;
        }
        let v = i64::from_str_radix(&s[2..j], 16)
            .map_err(|e| format!("bad number {}: {e}", &s[..j]))?;
        return Ok((Tok::Int(v), j));
    }
    let mut j = 0;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    // A fraction, unless the dot begins an ellipsis (`+.1...0.200`).
    let fraction = j < b.len()
        && b[j] == b'.'
        && b.get(j + 1) != Some(&b'.')
        && (b.get(j + 1).is_some_and(u8::is_ascii_digit)
            || j == 0
            || !b.get(j + 1).is_some_and(u8::is_ascii_alphabetic));
    if fraction {
        let mut k = j + 1;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        let v: f64 = s[..k]
            .parse()
            .map_err(|e| format!("bad number {}: {e}", &s[..k]))?;
        return Ok((Tok::Float(v), k));
    }
    let v: i64 = s[..j]
        .parse()
        .map_err(|e| format!("bad number {}: {e}", &s[..j]))?;
    Ok((Tok::Int(v), j))
}
