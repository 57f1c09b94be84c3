//! The shared-credentials INI text: split into lines (keeping every byte), read exactly the way
//! botocore reads it, and edited one section at a time (the `lines` and `edit` modules).
//!
//! botocore (`botocore.configloader.raw_config_parse`) reads the file with Python's
//! `configparser.RawConfigParser()` and its defaults, opened in text mode. The rules, as
//! implemented here (the same in Python 3.9 to 3.13):
//!
//! * The text is decoded as UTF-8 (the locale's encoding; UTF-8 wherever Python runs in a UTF-8
//!   or C locale). Invalid UTF-8 fails. A byte order mark is not removed: it is text before the
//!   first section header, which fails.
//! * Lines end at `\n`, `\r\n` or a lone `\r` (universal newlines), nowhere else.
//! * "White space" is Python's: `str.isspace()`, i.e. Unicode white space plus `\x1c`-`\x1f`.
//!   Each line is stripped of it at both ends before anything else.
//! * A stripped line that is empty is blank; one starting with `#` or `;` is a comment. There
//!   are no inline comments: `;` or `#` later in a line is part of it.
//! * A line indented deeper (in characters) than the last key line or header, while a key is
//!   open in a section, continues that key's value (checked before anything else, so an indented
//!   `[x]` there is a value, not a header). Blank lines inside a value are kept in it; comment
//!   lines are skipped without ending it; trailing blank lines are dropped.
//! * A header is a stripped line matching `\[(?P<header>.+)\]` from its start: the name runs
//!   from the first `[` to the last `]`, untrimmed; text after that `]` is ignored
//!   (`[prod] ; production` is section `prod`). Names are case-sensitive.
//! * Otherwise the line is a key: split at the first `=` or `:`, the key right-trimmed and
//!   lowercased (`str.lower`), the value trimmed. A line without `=`/`:`, an empty key, or a key
//!   line before the first header fails.
//! * A section name seen twice fails (`DuplicateSectionError`), except `DEFAULT`; so does a key
//!   seen twice in one section (`DuplicateOptionError`), `DEFAULT` sections counting as one.
//! * `[DEFAULT]` is no profile: its keys are added to every section that lacks them.
//! * botocore then reads a value that starts with a line break (`key =` followed by indented
//!   lines) as nested `name = value` pairs: such a line without `=` fails.
//!
//! A file botocore cannot read is refused as a whole ([`Problem`]), as botocore refuses every
//! profile in it.

use std::collections::BTreeMap;

use crate::lines::{
    header_name, indent_of, is_py_line_break, is_py_space, py_strip, split_lines, Line,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Empty or white space only.
    Blank,
    /// A full-line `#` or `;` comment.
    Comment,
    /// A section header, with the section's name.
    Header(String),
    /// `key = value` (or `key: value`), the key lowercased, the value trimmed.
    Key(String, String),
    /// An indented line that continues the open key's value, trimmed.
    Continuation(String),
}

/// Why botocore cannot read the file: the 1-based line and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) line: usize,
    pub(crate) reason: String,
    /// The section name, when the problem is that it appears again.
    pub(crate) duplicate_section: Option<String>,
}

impl Problem {
    fn new(line: usize, reason: String) -> Self {
        Problem {
            line,
            reason,
            duplicate_section: None,
        }
    }
}

/// A key of a section: its value lines (joined at the end) and the line it starts on.
struct Value {
    parts: Vec<String>,
    line: usize,
}

/// One section of the file.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub(crate) name: String,
    /// Index of the header line and of the line after the section.
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// Its own keys: value and 1-based line of the key.
    pub(crate) keys: BTreeMap<String, (String, usize)>,
}

/// A parsed file: its lines, what each one is, and its sections.
pub(crate) struct Document<'a> {
    pub(crate) lines: Vec<Line<'a>>,
    pub(crate) kinds: Vec<Kind>,
    /// The sections other than `DEFAULT`, in file order.
    pub(crate) sections: Vec<Section>,
    /// The keys of the `DEFAULT` sections.
    pub(crate) defaults: BTreeMap<String, (String, usize)>,
}

const SUFFIX: &str =
    "botocore cannot read this file, so none of its profiles works; fix the file first";

impl<'a> Document<'a> {
    /// Reads `text` as botocore does; every problem botocore would fail on, in line order.
    pub(crate) fn parse(text: &'a [u8]) -> Result<Self, Vec<Problem>> {
        let lines = split_lines(text);
        if let Err(e) = std::str::from_utf8(text) {
            let line = 1 + split_lines(&text[..e.valid_up_to()])
                .iter()
                .filter(|l| !l.eol.is_empty())
                .count();
            return Err(vec![Problem::new(
                line,
                format!("not valid UTF-8: {SUFFIX}"),
            )]);
        }
        let mut kinds = Vec::with_capacity(lines.len());
        let mut problems = Vec::new();
        // Each section (but DEFAULT): name, keys, index of its header line; in file order.
        let mut sections: Vec<(String, BTreeMap<String, Value>, usize)> = Vec::new();
        let mut defaults: BTreeMap<String, Value> = BTreeMap::new();
        let mut first_seen: BTreeMap<String, usize> = BTreeMap::new();
        // Where keys go: `Some(Some(i))` section i, `Some(None)` DEFAULT, `None` no header yet.
        let mut current: Option<Option<usize>> = None;
        let mut open_key: Option<String> = None;
        let mut indent_level = 0usize;
        for (index, line) in lines.iter().enumerate() {
            let number = index + 1;
            // Valid UTF-8 as a whole, split at ASCII bytes: every line is too.
            let content = std::str::from_utf8(line.content).unwrap_or_default();
            let stripped = py_strip(content);
            let values = match current {
                Some(Some(i)) => Some(&mut sections[i].1),
                Some(None) => Some(&mut defaults),
                None => None,
            };
            if stripped.is_empty() {
                if let (Some(values), Some(key)) = (values, &open_key) {
                    if let Some(value) = values.get_mut(key) {
                        value.parts.push(String::new());
                    }
                }
                kinds.push(Kind::Blank);
                continue;
            }
            if stripped.starts_with(['#', ';']) {
                kinds.push(Kind::Comment);
                continue;
            }
            let indent = indent_of(content);
            if let (Some(values), Some(key)) = (values, &open_key) {
                if indent > indent_level {
                    if let Some(value) = values.get_mut(key) {
                        value.parts.push(stripped.to_string());
                    }
                    kinds.push(Kind::Continuation(stripped.to_string()));
                    continue;
                }
            }
            indent_level = indent;
            if let Some(name) = header_name(stripped) {
                if name == "DEFAULT" {
                    current = Some(None);
                } else if let Some(&first) = first_seen.get(name) {
                    problems.push(Problem {
                        line: number,
                        reason: format!(
                            "section [{name}] appears again (first at line {first}): {SUFFIX}"
                        ),
                        duplicate_section: Some(name.to_string()),
                    });
                    // configparser stops here; keep reading into the first one to go on.
                    current = sections.iter().position(|s| s.0 == name).map(Some);
                } else {
                    first_seen.insert(name.to_string(), number);
                    sections.push((name.to_string(), BTreeMap::new(), index));
                    current = Some(Some(sections.len() - 1));
                }
                open_key = None;
                kinds.push(Kind::Header(name.to_string()));
                continue;
            }
            let section = match current {
                Some(Some(i)) => sections[i].0.clone(),
                _ => "DEFAULT".to_string(),
            };
            let values = match current {
                Some(Some(i)) => &mut sections[i].1,
                Some(None) => &mut defaults,
                None => {
                    let what = if number == 1 && content.starts_with('\u{feff}') {
                        "a byte order mark (U+FEFF), which Python reads as text before the first \
                         section header"
                    } else {
                        "text before the first section header"
                    };
                    problems.push(Problem::new(number, format!("{what}: {SUFFIX}")));
                    // (The kinds of a file with problems are never used.)
                    kinds.push(Kind::Key(String::new(), String::new()));
                    continue;
                }
            };
            let Some(at) = stripped.find(['=', ':']) else {
                problems.push(Problem::new(
                    number,
                    format!(
                        "neither a [section] header, a comment nor a \"key = value\" line: \
                         {SUFFIX}"
                    ),
                ));
                kinds.push(Kind::Key(String::new(), String::new()));
                continue;
            };
            let key = stripped[..at].trim_end_matches(is_py_space).to_lowercase();
            let value = py_strip(&stripped[at + 1..]).to_string();
            if key.is_empty() {
                problems.push(Problem::new(
                    number,
                    format!("a \"= value\" line without a key: {SUFFIX}"),
                ));
            } else if let Some(first) = values.get(&key) {
                problems.push(Problem::new(
                    number,
                    format!(
                        "key {key} appears again in section [{section}] (first at line {}): \
                         {SUFFIX}",
                        first.line
                    ),
                ));
            }
            values.insert(
                key.clone(),
                Value {
                    parts: vec![value.clone()],
                    line: number,
                },
            );
            kinds.push(Kind::Key(key.clone(), value));
            open_key = Some(key);
        }

        let join = |values: BTreeMap<String, Value>| -> BTreeMap<String, (String, usize)> {
            values
                .into_iter()
                .map(|(key, value)| {
                    let text = value.parts.join("\n");
                    let text = text.trim_end_matches(is_py_space).to_string();
                    (key, (text, value.line))
                })
                .collect()
        };
        let defaults = join(defaults);
        let mut parsed = Vec::with_capacity(sections.len());
        let starts: Vec<usize> = kinds
            .iter()
            .enumerate()
            .filter(|(_, k)| matches!(k, Kind::Header(_)))
            .map(|(i, _)| i)
            .collect();
        for (name, values, start) in sections {
            let end = starts
                .iter()
                .copied()
                .find(|&i| i > start)
                .unwrap_or(lines.len());
            parsed.push(Section {
                name,
                start,
                end,
                keys: join(values),
            });
        }
        // botocore's nested values, for every section (with the DEFAULT keys it inherits).
        for section in &parsed {
            let inherited = defaults
                .iter()
                .filter(|(key, _)| !section.keys.contains_key(*key));
            for (key, (value, line)) in section.keys.iter().chain(inherited) {
                if !value.starts_with('\n') {
                    continue;
                }
                let bad = value
                    .split(is_py_line_break)
                    .map(py_strip)
                    .any(|part| !part.is_empty() && !part.contains('='));
                if bad && !problems.iter().any(|p| p.line == *line) {
                    problems.push(Problem::new(
                        *line,
                        format!(
                            "key {key} has no value on its line and indented lines below it \
                             that botocore reads as nested \"name = value\" pairs, but one has \
                             no \"=\": {SUFFIX}"
                        ),
                    ));
                }
            }
        }
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.line);
            return Err(problems);
        }
        Ok(Document {
            lines,
            kinds,
            sections: parsed,
            defaults,
        })
    }

    /// The section named `name` (never `DEFAULT`).
    pub(crate) fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The keys botocore reads for a section: its own, plus those of `DEFAULT` it lacks.
    pub(crate) fn keys(&self, section: &Section) -> BTreeMap<String, String> {
        let mut keys: BTreeMap<String, String> = self
            .defaults
            .iter()
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect();
        for (key, (value, _)) in &section.keys {
            keys.insert(key.clone(), value.clone());
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Document<'_> {
        match Document::parse(text.as_bytes()) {
            Ok(doc) => doc,
            Err(problems) => panic!("{text:?}: {problems:?}"),
        }
    }

    /// The first problem's line and reason, without the common suffix.
    fn refused(text: &[u8]) -> (usize, String) {
        match Document::parse(text) {
            Ok(_) => panic!("{text:?} was accepted"),
            Err(problems) => {
                let first = &problems[0];
                let reason = first.reason.strip_suffix(&format!(": {SUFFIX}"));
                (first.line, reason.unwrap_or(&first.reason).to_string())
            }
        }
    }

    /// Each section's name and keys as botocore reads them.
    fn view(text: &str) -> Vec<(String, Vec<(String, String)>)> {
        let doc = parse(text);
        doc.sections
            .iter()
            .map(|s| (s.name.clone(), doc.keys(s).into_iter().collect()))
            .collect()
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn lines_end_at_lf_crlf_and_lone_cr_keeping_every_byte() {
        let text = b"a\r\nb\n\nc\rd\r\r\ne\x0bf\x0cg\xc2\x85h";
        let lines = split_lines(text);
        let joined: Vec<u8> = lines
            .iter()
            .flat_map(|l| l.content.iter().chain(l.eol.iter()).copied())
            .collect();
        assert_eq!(joined, text);
        let eols: Vec<&[u8]> = lines.iter().map(|l| l.eol).collect();
        assert_eq!(
            eols,
            [&b"\r\n"[..], b"\n", b"\n", b"\r", b"\r", b"\r\n", b""]
        );
        // Vertical tab, form feed, NEL: no line breaks for Python's file reading.
        assert_eq!(lines[6].content, b"e\x0bf\x0cg\xc2\x85h");
        assert_eq!(
            view("[a]\rk = v\r[b]\r\nk = w\n"),
            [
                ("a".into(), kv(&[("k", "v")])),
                ("b".into(), kv(&[("k", "w")]))
            ]
        );
    }

    #[test]
    fn headers_match_from_the_first_bracket_to_the_last() {
        let text = "  [ spaced ]\nk = 1\n[prod]   ; production\n  k = 2\n[a]b] tail\nk = 3\n\
                    [x] = y\nk = 4\n[]]\nk = 5\n[[n]\nk = 6\n";
        let names: Vec<String> = view(text).into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, [" spaced ", "prod", "a]b", "x", "]", "[n"]);
        // `[]` is no header, `[a` neither; `[a = b` is a key.
        assert_eq!(refused(b"[]\nk = v\n").0, 1);
        assert_eq!(refused(b"[a\nk = v\n").0, 1);
        assert_eq!(view("[s]\n[a = b\n"), [("s".into(), kv(&[("[a", "b")]))]);
        // Names are case-sensitive.
        assert_eq!(view("[A]\n[a]\n").len(), 2);
    }

    #[test]
    fn comments_are_whole_lines_only() {
        let text = "# c\n; c\n[a]\n  # indented\nk = v ; kept\nj = x # kept\n\t;c\n";
        assert_eq!(
            view(text),
            [("a".into(), kv(&[("j", "x # kept"), ("k", "v ; kept")]))]
        );
    }

    #[test]
    fn keys_split_at_the_first_delimiter_trimmed_and_lowercased() {
        let text = "[a]\nKey: a = b\nK2 = a: b\nK3  =  \nK4==y\nÄX\u{a0}= é\n";
        assert_eq!(
            view(text),
            [(
                "a".into(),
                kv(&[
                    ("k2", "a: b"),
                    ("k3", ""),
                    ("k4", "=y"),
                    ("key", "a = b"),
                    ("äx", "é")
                ])
            )]
        );
        assert_eq!(
            refused(b"[a]\nnothing\n"),
            (
                2,
                "neither a [section] header, a comment nor a \"key = value\" line".into()
            )
        );
        assert_eq!(
            refused(b"[a]\n = v\n"),
            (2, "a \"= value\" line without a key".into())
        );
    }

    #[test]
    fn white_space_is_pythons() {
        // \x1c-\x1f are white space to Python (not to Rust); NBSP and U+3000 to both.
        let text = "[a]\n\u{1c}k\u{1f} = \u{1d}v\u{1e}\n\u{3000}j = w\u{a0}\n";
        assert_eq!(view(text), [("a".into(), kv(&[("j", "w"), ("k", "v")]))]);
        // A line of form feeds and vertical tabs is blank.
        assert_eq!(view("[a]\n\x0c\x0b\nk = v\n").len(), 1);
    }

    #[test]
    fn deeper_indented_lines_continue_a_value() {
        let text = "[a]\n  k = first\n    second\n\n      after a blank\n# skipped\n   third\n  \
                    j = x\n [b]\n\tk = y\n\t\tz\n\t\t[c]\n";
        let doc = parse(text);
        assert_eq!(
            view(text),
            [
                (
                    "a".into(),
                    kv(&[("j", "x"), ("k", "first\nsecond\n\nafter a blank\nthird")])
                ),
                ("b".into(), kv(&[("k", "y\nz\n[c]")])),
            ]
        );
        assert_eq!(doc.kinds[2], Kind::Continuation("second".into()));
        // Indentation counts characters: one U+3000 is one.
        assert_eq!(
            view("[a]\n\u{3000}k = v\n\u{3000}\u{3000}w\n\u{a0}[b]\n"),
            [("a".into(), kv(&[("k", "v\nw")])), ("b".into(), vec![])]
        );
        // No continuation right after a header; trailing blank lines are dropped.
        assert_eq!(
            view("[a]\n  k = v\n\n\n[b]\n   j = w\n"),
            [
                ("a".into(), kv(&[("k", "v")])),
                ("b".into(), kv(&[("j", "w")]))
            ]
        );
    }

    #[test]
    fn nested_values_need_an_equals_sign_on_every_line() {
        let text = "[a]\ns3 =\n  signature_version = s3v4\n\n  addressing_style = path\n";
        assert_eq!(
            view(text),
            [(
                "a".into(),
                kv(&[(
                    "s3",
                    "\nsignature_version = s3v4\n\naddressing_style = path"
                )])
            )]
        );
        let (line, reason) = refused(b"[a]\ns3 =\n  ok = 1\n  signature_version\n");
        assert_eq!(line, 2);
        assert!(
            reason.starts_with("key s3 has no value on its line"),
            "{reason}"
        );
        // Python's splitlines also breaks at a form feed inside a nested line.
        assert_eq!(refused(b"[a]\ns3 =\n  a\x0cb = c\n").0, 2);
        // A value that starts on its own line is not nested.
        assert!(Document::parse(b"[a]\nk = v\n  no equals sign\n").is_ok());
    }

    #[test]
    fn duplicates_are_refused_except_default_sections() {
        assert_eq!(
            refused(b"[a]\nk = 1\n[b]\n  [a] ; again\n"),
            (4, "section [a] appears again (first at line 1)".into())
        );
        assert_eq!(
            refused(b"[a]\nK = 1\nk = 2\n"),
            (
                3,
                "key k appears again in section [a] (first at line 2)".into()
            )
        );
        let doc = parse("[DEFAULT]\nk = 1\n[a]\n[DEFAULT]\nj = 2\n");
        assert!(doc.section("DEFAULT").is_none());
        assert_eq!(
            refused(b"[DEFAULT]\nk = 1\n[DEFAULT]\nk = 2\n"),
            (
                4,
                "key k appears again in section [DEFAULT] (first at line 2)".into()
            )
        );
    }

    #[test]
    fn default_keys_go_to_every_section_that_lacks_them() {
        assert_eq!(
            view("[DEFAULT]\nregion = x\nk = d\n[a]\nk = own\n[b]\n"),
            [
                ("a".into(), kv(&[("k", "own"), ("region", "x")])),
                ("b".into(), kv(&[("k", "d"), ("region", "x")])),
            ]
        );
        // Only `DEFAULT` exactly.
        assert_eq!(view("[default]\nk = v\n[Default]\nk = w\n").len(), 2);
    }

    #[test]
    fn encoding_bom_and_text_before_the_first_header_are_refused() {
        assert_eq!(
            refused(b"[a]\nk = v\n\n[b]\nk = \xff\n"),
            (5, "not valid UTF-8".into())
        );
        assert_eq!(refused(b"\xef\xbb\xbf[a]\nk = v\n").0, 1);
        assert!(refused(b"\xef\xbb\xbf# c\n")
            .1
            .starts_with("a byte order mark (U+FEFF)"));
        assert_eq!(
            refused(b"# c\n\nk = v\n[a]\n"),
            (3, "text before the first section header".into())
        );
        // Comments, blank lines or nothing at all are fine.
        assert!(Document::parse(b"").is_ok());
        assert!(Document::parse(b"# c\n;d\n\n \n").is_ok());
    }

    #[test]
    fn replacing_indents_keys_as_deep_as_the_next_header() {
        let text = "[a]\n  k = v\n  [b]\n  k = w\n";
        let doc = parse(text);
        let section = doc.section("a").cloned();
        let section = section.unwrap_or_else(|| panic!("no [a]"));
        let new = doc.replace_section(&section, b"x = 1\ny = 2\n");
        assert_eq!(
            String::from_utf8_lossy(&new),
            "[a]\n  x = 1\n  y = 2\n  [b]\n  k = w\n"
        );
        assert_eq!(
            view(std::str::from_utf8(&new).unwrap_or_default()),
            [
                ("a".into(), kv(&[("x", "1"), ("y", "2")])),
                ("b".into(), kv(&[("k", "w")]))
            ]
        );
    }
}
