//! The file's text split into lines, keeping every byte, and the characters Python counts as
//! white space and line breaks (see the `ini` module for how botocore reads the lines).

/// One line of the file: its text without the line ending, and the line ending itself
/// (`"\n"`, `"\r\n"`, `"\r"`, or empty for a last line without a final newline).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub(crate) content: &'a [u8],
    pub(crate) eol: &'a [u8],
}

/// Python's `str.isspace()`.
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Line breaks of Python's `str.splitlines()` (used by botocore on nested values).
pub(crate) fn is_py_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{b}'
            | '\u{c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Splits at `\n`, `\r\n` and lone `\r`, keeping every byte.
pub(crate) fn split_lines(text: &[u8]) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(at) => {
                let len = if rest[at] == b'\r' && rest.get(at + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                lines.push(Line {
                    content: &rest[..at],
                    eol: &rest[at..at + len],
                });
                rest = &rest[at + len..];
            }
            None => {
                lines.push(Line {
                    content: rest,
                    eol: &[],
                });
                rest = &[];
            }
        }
    }
    lines
}

/// The name of a header line (already stripped), as configparser's `SECTCRE` matches it.
pub(crate) fn header_name(stripped: &str) -> Option<&str> {
    let inner = stripped.strip_prefix('[')?;
    let close = inner.rfind(']')?;
    (close > 0).then(|| &inner[..close])
}

/// Leading white space of a line, in characters.
pub(crate) fn indent_of(content: &str) -> usize {
    content.chars().take_while(|&c| is_py_space(c)).count()
}
