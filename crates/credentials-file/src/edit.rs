//! A parsed file edited one section at a time: a section's keys replaced, or a section
//! appended, every other byte of the text kept.

use crate::ini::{Document, Kind, Section};
use crate::lines::{indent_of, split_lines};

impl<'a> Document<'a> {
    /// The whole text with `section` rewritten: its header line kept, every key and continuation
    /// line dropped, the `new_keys` lines put right after the header, and the section's comment
    /// and blank lines kept, in their order, after the new keys. The last line keeps the line
    /// ending the section's last line had (none at the end of a file without a final newline).
    ///
    /// The new key lines are indented as deep as the next section's header, if that is indented:
    /// a header indented deeper than the key line above it would continue that key's value.
    pub(crate) fn replace_section(&self, section: &Section, new_keys: &[u8]) -> Vec<u8> {
        let (start, end) = (section.start, section.end);
        let eol = self.eol();
        let indent = self
            .lines
            .get(end)
            .map(|next| indent_of(std::str::from_utf8(next.content).unwrap_or_default()))
            .unwrap_or(0);
        let pad = " ".repeat(indent);
        let mut out = Vec::new();
        for line in &self.lines[..start] {
            out.extend_from_slice(line.content);
            out.extend_from_slice(line.eol);
        }
        // (content, own line ending or None for "the file's"), in output order.
        let mut lines: Vec<(Vec<u8>, Option<&[u8]>)> = Vec::new();
        let header = self.lines[start];
        lines.push((header.content.to_vec(), Some(header.eol)));
        for key_line in split_lines(new_keys) {
            lines.push(([pad.as_bytes(), key_line.content].concat(), None));
        }
        for i in start + 1..end {
            match self.kinds[i] {
                Kind::Key(..) | Kind::Continuation(_) => {}
                Kind::Blank | Kind::Comment | Kind::Header(_) => {
                    lines.push((self.lines[i].content.to_vec(), Some(self.lines[i].eol)));
                }
            }
        }
        let last_eol = self.lines[end - 1].eol;
        let count = lines.len();
        for (n, (content, own_eol)) in lines.into_iter().enumerate() {
            out.extend_from_slice(&content);
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
