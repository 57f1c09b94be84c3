//! The shared-credentials INI text: split into lines (keeping every byte), classified the way
//! botocore's `configparser.RawConfigParser` reads them, and edited one section at a time.
//!
//! The text is handled as bytes, so a file that is not valid UTF-8 outside the profile we touch
//! is still preserved byte for byte; keys and values are decoded lossily for reading.

use std::collections::BTreeMap;

/// One line of the file: its text without the line ending, and the line ending itself
/// (`"\n"`, `"\r\n"`, or empty for a last line without a final newline).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub(crate) content: &'a [u8],
    pub(crate) eol: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Empty or whitespace only.
    Blank,
    /// First non-blank character `#` or `;` (full-line comments only, as configparser's defaults).
    Comment,
    /// `[name]`: the trimmed line starts with `[` and ends with `]`; the name is what lies
    /// between, untrimmed (configparser does not trim it either).
    Header(String),
    /// `key = value` (or `key: value`): split at the first `=` or `:`, both sides trimmed, the key
    /// lowercased as configparser's default `optionxform` does.
    Key(String, String),
    /// An indented line below a key line: configparser appends it to that key's value.
    Continuation(String),
    /// Anything else (botocore would refuse the file); kept as it is.
    Other,
}

pub(crate) fn split_lines(text: &[u8]) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.iter().position(|&b| b == b'\n') {
            Some(nl) => {
                let (line, after) = rest.split_at(nl + 1);
                let cr = nl > 0 && line[nl - 1] == b'\r';
                let split = if cr { nl - 1 } else { nl };
                lines.push(Line {
                    content: &line[..split],
                    eol: &line[split..],
                });
                rest = after;
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

fn indent_of(content: &[u8]) -> usize {
    content
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count()
}

pub(crate) fn classify(lines: &[Line<'_>]) -> Vec<Kind> {
    let mut kinds = Vec::with_capacity(lines.len());
    // Indentation of the key line that a continuation line would extend, if any.
    let mut key_indent: Option<usize> = None;
    for line in lines {
        let text = String::from_utf8_lossy(line.content);
        let trimmed = text.trim();
        let kind = if trimmed.is_empty() {
            // configparser keeps empty lines inside values by default, but they carry nothing.
            Kind::Blank
        } else if trimmed.starts_with('#') || trimmed.starts_with(';') {
            Kind::Comment
        } else if key_indent.is_some_and(|indent| indent_of(line.content) > indent) {
            Kind::Continuation(trimmed.to_string())
        } else if trimmed.len() >= 2 && trimmed.starts_with('[') && trimmed.ends_with(']') {
            Kind::Header(trimmed[1..trimmed.len() - 1].to_string())
        } else if let Some(at) = trimmed.find(['=', ':']) {
            let key = trimmed[..at].trim();
            if key.is_empty() {
                Kind::Other
            } else {
                Kind::Key(key.to_lowercase(), trimmed[at + 1..].trim().to_string())
            }
        } else {
            Kind::Other
        };
        match &kind {
            Kind::Key(..) => key_indent = Some(indent_of(line.content)),
            Kind::Continuation(_) | Kind::Comment | Kind::Blank => {}
            Kind::Header(_) | Kind::Other => key_indent = None,
        }
        kinds.push(kind);
    }
    kinds
}

/// A parsed file: its lines and what each one is.
pub(crate) struct Document<'a> {
    pub(crate) lines: Vec<Line<'a>>,
    pub(crate) kinds: Vec<Kind>,
}

impl<'a> Document<'a> {
    pub(crate) fn parse(text: &'a [u8]) -> Self {
        let lines = split_lines(text);
        let kinds = classify(&lines);
        Document { lines, kinds }
    }

    /// The line ranges `[header, end)` of every section named `name`.
    pub(crate) fn sections(&self, name: &str) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        let mut current: Option<usize> = None;
        for (i, kind) in self.kinds.iter().enumerate() {
            if let Kind::Header(header) = kind {
                if let Some(start) = current.take() {
                    found.push((start, i));
                }
                if header == name {
                    current = Some(i);
                }
            }
        }
        if let Some(start) = current {
            found.push((start, self.lines.len()));
        }
        found
    }

    /// The keys of section `[start, end)`; a repeated key keeps its last value.
    pub(crate) fn keys(&self, (start, end): (usize, usize)) -> BTreeMap<String, String> {
        let mut keys = BTreeMap::new();
        let mut last: Option<String> = None;
        for kind in &self.kinds[start + 1..end] {
            match kind {
                Kind::Key(key, value) => {
                    keys.insert(key.clone(), value.clone());
                    last = Some(key.clone());
                }
                Kind::Continuation(more) => {
                    if let Some(value) = last.as_ref().and_then(|key| keys.get_mut(key)) {
                        value.push('\n');
                        value.push_str(more);
                    }
                }
                Kind::Header(_) | Kind::Other => last = None,
                Kind::Blank | Kind::Comment => {}
            }
        }
        keys
    }

    /// The file's line ending: that of its first line, `"\n"` for a file without one.
    pub(crate) fn eol(&self) -> &'a [u8] {
        self.lines
            .first()
            .map(|line| line.eol)
            .filter(|eol| !eol.is_empty())
            .unwrap_or(b"\n")
    }

    /// The whole text with section `[start, end)` rewritten: its header line kept, every key and
    /// continuation line dropped, the `new_keys` lines put right after the header, and the
    /// section's comment, blank and unparseable lines kept, in their order, after the new keys.
    /// The last line keeps the line ending the section's last line had (none at the end of a file
    /// without a final newline).
    pub(crate) fn replace_section(&self, (start, end): (usize, usize), new_keys: &[u8]) -> Vec<u8> {
        let eol = self.eol();
        let mut out = Vec::new();
        for line in &self.lines[..start] {
            out.extend_from_slice(line.content);
            out.extend_from_slice(line.eol);
        }
        // (content, own line ending or None for "the file's"), in output order.
        let mut section: Vec<(&[u8], Option<&[u8]>)> = Vec::new();
        let header = self.lines[start];
        section.push((header.content, Some(header.eol)));
        for key_line in split_lines(new_keys) {
            section.push((key_line.content, None));
        }
        for i in start + 1..end {
            match self.kinds[i] {
                Kind::Key(..) | Kind::Continuation(_) => {}
                Kind::Blank | Kind::Comment | Kind::Other | Kind::Header(_) => {
                    section.push((self.lines[i].content, Some(self.lines[i].eol)));
                }
            }
        }
        let last_eol = self.lines[end - 1].eol;
        let count = section.len();
        for (n, (content, own_eol)) in section.into_iter().enumerate() {
            out.extend_from_slice(content);
            if n + 1 == count {
                out.extend_from_slice(last_eol);
            } else {
                match own_eol {
                    Some(own) if !own.is_empty() => out.extend_from_slice(own),
                    _ => out.extend_from_slice(eol),
                }
            }
        }
        for line in &self.lines[end..] {
            out.extend_from_slice(line.content);
            out.extend_from_slice(line.eol);
        }
        out
    }

    /// The whole text with a new section appended. The old text stays a byte-for-byte prefix.
    /// After a last line without a final newline the section starts with a line ending and
    /// itself ends without one, so the file still "has no final newline"; otherwise it ends
    /// with one.
    pub(crate) fn append_section(&self, text: &[u8], name: &str, new_keys: &[u8]) -> Vec<u8> {
        let eol = self.eol();
        let lacks_final_newline = self.lines.last().is_some_and(|line| line.eol.is_empty());
        let mut out = text.to_vec();
        let mut section = Vec::new();
        section.push(format!("[{name}]").into_bytes());
        for key_line in split_lines(new_keys) {
            section.push(key_line.content.to_vec());
        }
        if lacks_final_newline {
            for line in section {
                out.extend_from_slice(eol);
                out.extend_from_slice(&line);
            }
        } else {
            for line in section {
                out.extend_from_slice(&line);
                out.extend_from_slice(eol);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_every_byte() {
        let text = b"a\r\nb\n\nc";
        let lines = split_lines(text);
        let joined: Vec<u8> = lines
            .iter()
            .flat_map(|l| l.content.iter().chain(l.eol.iter()).copied())
            .collect();
        assert_eq!(joined, text);
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0].eol, b"\r\n");
        assert_eq!(lines[3].eol, b"");
    }

    #[test]
    fn classification_follows_configparser() {
        let text = b"[a]\n# c\n ; c2\nKey=Value\nkey2 :  v2 = x  \n  more\n[ b ]\nnonsense\n";
        let doc = Document::parse(text);
        assert_eq!(
            doc.kinds,
            vec![
                Kind::Header("a".into()),
                Kind::Comment,
                Kind::Comment,
                Kind::Key("key".into(), "Value".into()),
                Kind::Key("key2".into(), "v2 = x".into()),
                Kind::Continuation("more".into()),
                Kind::Header(" b ".into()),
                Kind::Other,
            ]
        );
        let keys = doc.keys(doc.sections("a")[0]);
        assert_eq!(keys.get("key2").map(String::as_str), Some("v2 = x\nmore"));
    }
}
