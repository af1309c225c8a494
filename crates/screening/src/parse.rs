//! Parsing imported files, pure (bytes in, keys out): TPS/CTPS records, as full
//! files and as change files, and do-not-call lists (CSV or one number per line).
//!
//! Change files: each record carries a marker, before or after the 12-character
//! record, optionally separated by one of `,` `;` `|` tab or blank: `A`, `ADD` or
//! `+` adds the number, `D`, `DEL`, `R`, `REMOVE` or `-` removes it (any case).
//! Unmarked 12-character records in a change file are taken as the caller says
//! (`--unmarked-as add|remove`, for registers delivered as separate addition
//! and removal files) and are bad lines otherwise.

use crate::error::ScreeningError;
use crate::number::{BadReason, key_of_e164, register_record_key, uk_key_fast};

/// How the file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TPS/CTPS: 12-character records and CRLF.
    Register,
    /// A do-not-call list: CSV with a number column, or one number per line.
    List,
}

/// What a change record does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Add,
    Remove,
}

/// A full file (the whole register) or a change file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Full,
    Changes { unmarked: Option<Action> },
}

/// How to read one file.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    pub format: Format,
    pub mode: Mode,
    /// Country for national-format numbers in lists (ISO 3166, e.g. `GB`).
    pub country: String,
    /// The number column of a CSV list, by header name.
    pub column: Option<String>,
}

/// A line that was not imported: its number (from 1) and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadLine {
    pub line: u64,
    pub reason: BadReason,
}

/// Bad lines kept with their line numbers; the rest are counted only.
pub const MAX_BAD_LINES_KEPT: usize = 1000;

/// What a file held.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// Lines read.
    pub lines: u64,
    /// Full files: every number, unsorted, possibly repeated.
    pub numbers: Vec<u64>,
    /// Change files: the changes in file order.
    pub changes: Vec<(u64, Action)>,
    /// Bad lines in all.
    pub bad_count: u64,
    /// The first [`MAX_BAD_LINES_KEPT`] bad lines.
    pub bad: Vec<BadLine>,
}

impl Parsed {
    /// Good records.
    pub fn records(&self) -> u64 {
        (self.numbers.len() + self.changes.len()) as u64
    }
}

/// Where a list's columns are, once its first row has been seen.
#[derive(Debug, Clone, Default)]
struct ListLayout {
    decided: bool,
    delimiter: Option<u8>,
    number_column: usize,
    action_column: Option<usize>,
}

/// An incremental parser: feed it the file in chunks of any size.
#[derive(Debug)]
pub struct Parser {
    options: ParseOptions,
    carry: Vec<u8>,
    list: ListLayout,
    parsed: Parsed,
}

impl Parser {
    /// A parser; `size_hint` (bytes) reserves room for a full register file.
    pub fn new(options: ParseOptions, size_hint: u64) -> Result<Parser, ScreeningError> {
        if redact::normalize_e164("0", Some(&options.country))
            == Err(redact::NumberError::UnknownCountry(options.country.clone()))
        {
            return Err(ScreeningError::UnknownCountry(options.country));
        }
        let mut parsed = Parsed::default();
        if options.mode == Mode::Full && options.format == Format::Register {
            parsed.numbers.reserve((size_hint / 14) as usize + 16);
        }
        Ok(Parser {
            options,
            carry: Vec::new(),
            list: ListLayout::default(),
            parsed,
        })
    }

    /// Parses the next chunk of the file.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<(), ScreeningError> {
        if !self.carry.is_empty() {
            match chunk.iter().position(|&b| b == b'\n') {
                None => {
                    self.carry.extend_from_slice(chunk);
                    return Ok(());
                }
                Some(p) => {
                    let mut line = std::mem::take(&mut self.carry);
                    line.extend_from_slice(&chunk[..p]);
                    self.line(&line)?;
                    chunk = &chunk[p + 1..];
                }
            }
        }
        let fast = self.options.format == Format::Register && self.options.mode == Mode::Full;
        let mut pos = 0;
        while pos < chunk.len() {
            let rest = &chunk[pos..];
            // The common case: a 12-character record and CRLF.
            if fast
                && rest.len() >= 14
                && rest[12] == b'\r'
                && rest[13] == b'\n'
                && let Ok(key) = register_record_key(&rest[..12])
            {
                self.parsed.lines += 1;
                self.parsed.numbers.push(key);
                pos += 14;
                continue;
            }
            match rest.iter().position(|&b| b == b'\n') {
                Some(p) => {
                    self.line(&rest[..p])?;
                    pos += p + 1;
                }
                None => {
                    self.carry.extend_from_slice(rest);
                    break;
                }
            }
        }
        Ok(())
    }

    /// The end of the file: the last line may lack its line end.
    pub fn finish(mut self) -> Result<Parsed, ScreeningError> {
        if !self.carry.is_empty() {
            let line = std::mem::take(&mut self.carry);
            self.line(&line)?;
        }
        Ok(self.parsed)
    }

    fn bad(&mut self, reason: BadReason) {
        self.parsed.bad_count += 1;
        if self.parsed.bad.len() < MAX_BAD_LINES_KEPT {
            self.parsed.bad.push(BadLine {
                line: self.parsed.lines,
                reason,
            });
        }
    }

    fn line(&mut self, raw: &[u8]) -> Result<(), ScreeningError> {
        self.parsed.lines += 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        match self.options.format {
            Format::Register => {
                self.register_line(line);
                Ok(())
            }
            Format::List => self.list_line(line),
        }
    }

    fn register_line(&mut self, line: &[u8]) {
        let outcome = match self.options.mode {
            Mode::Full => register_record_key(line).map(|key| (key, Action::Add)),
            Mode::Changes { unmarked } => split_marker(line).and_then(|(marker, record)| {
                let action = marker.or(unmarked).ok_or(BadReason::MarkerMissing)?;
                register_record_key(record).map(|key| (key, action))
            }),
        };
        self.take(outcome);
    }

    fn take(&mut self, outcome: Result<(u64, Action), BadReason>) {
        match (outcome, self.options.mode) {
            (Ok((key, _)), Mode::Full) => self.parsed.numbers.push(key),
            (Ok(change), Mode::Changes { .. }) => self.parsed.changes.push(change),
            (Err(reason), _) => self.bad(reason),
        }
    }

    fn list_line(&mut self, line: &[u8]) -> Result<(), ScreeningError> {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() || text.starts_with('#') {
            return Ok(());
        }
        if !self.list.decided {
            return self.first_list_row(text);
        }
        self.list_row(text);
        Ok(())
    }

    fn first_list_row(&mut self, text: &str) -> Result<(), ScreeningError> {
        self.list.decided = true;
        self.list.delimiter = [b',', b';', b'\t'].into_iter().find(|&d| text.as_bytes().contains(&d));
        let Some(delimiter) = self.list.delimiter else {
            // A one-column list may start with a header word such as `number`.
            if !text.bytes().any(|b| b.is_ascii_digit()) {
                return Ok(());
            }
            self.list_row(text);
            return Ok(());
        };
        let cells = split_cells(text, delimiter);
        let parses = |cell: &str| self.normalise(cell).is_some();
        let is_header = !cells.iter().any(|c| parses(c));
        if !is_header {
            if let Some(name) = &self.options.column {
                return Err(ScreeningError::UnknownColumn(name.clone()));
            }
            self.list.number_column = cells.iter().position(|c| parses(c)).unwrap_or(0);
            self.list_row(text);
            return Ok(());
        }
        let names: Vec<String> = cells.iter().map(|c| c.to_ascii_lowercase()).collect();
        self.list.number_column = match &self.options.column {
            Some(wanted) => names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(wanted.trim()))
                .ok_or_else(|| ScreeningError::UnknownColumn(wanted.clone()))?,
            None => names
                .iter()
                .position(|n| {
                    ["number", "phone", "tel", "msisdn", "mobile", "e164"]
                        .iter()
                        .any(|w| n.contains(w))
                })
                .ok_or(ScreeningError::NoNumberColumn)?,
        };
        self.list.action_column = names
            .iter()
            .position(|n| ["action", "change", "operation", "op", "marker", "flag"].contains(&n.as_str()));
        Ok(())
    }

    fn list_row(&mut self, text: &str) {
        let (number, marker) = match self.list.delimiter {
            Some(delimiter) => {
                let cells = split_cells(text, delimiter);
                let number = cells.get(self.list.number_column).cloned().unwrap_or_default();
                let marker = self
                    .list
                    .action_column
                    .and_then(|c| cells.get(c))
                    .filter(|m| !m.is_empty())
                    .map(|m| marker_action(m.as_bytes()).ok_or(BadReason::MarkerUnknown));
                (number, marker)
            }
            None => list_token_marker(text),
        };
        let outcome = match self.options.mode {
            Mode::Full => self
                .normalise(&number)
                .map(|k| (k, Action::Add))
                .ok_or(BadReason::NotANumber),
            Mode::Changes { unmarked } => match marker {
                Some(Err(reason)) => Err(reason),
                Some(Ok(action)) => self
                    .normalise(&number)
                    .map(|k| (k, action))
                    .ok_or(BadReason::NotANumber),
                None => match unmarked {
                    Some(action) => self
                        .normalise(&number)
                        .map(|k| (k, action))
                        .ok_or(BadReason::NotANumber),
                    None => Err(BadReason::MarkerMissing),
                },
            },
        };
        self.take(outcome);
    }

    /// The key of a number written in any common form.
    fn normalise(&self, text: &str) -> Option<u64> {
        uk_key_fast(text).or_else(|| {
            redact::normalize_e164(text, Some(&self.options.country))
                .ok()
                .and_then(|e164| key_of_e164(&e164))
        })
    }
}

/// The marker word of a change record.
fn marker_action(token: &[u8]) -> Option<Action> {
    let upper = token.to_ascii_uppercase();
    match upper.as_slice() {
        b"A" | b"ADD" | b"+" => Some(Action::Add),
        b"D" | b"DEL" | b"R" | b"REMOVE" | b"-" => Some(Action::Remove),
        _ => None,
    }
}

fn is_separator(b: u8) -> bool {
    matches!(b, b',' | b';' | b'|' | b'\t' | b' ')
}

/// Splits a change line into its marker (if any) and its 12-character record.
fn split_marker(line: &[u8]) -> Result<(Option<Action>, &[u8]), BadReason> {
    if line.len() == 12 {
        return Ok((None, line));
    }
    if line.iter().all(|&b| b == b' ' || b == b'\t') {
        return Err(BadReason::Blank);
    }
    let is_marker_char = |b: &u8| b.is_ascii_alphabetic() || *b == b'+' || *b == b'-';
    if line.first().is_some_and(is_marker_char) {
        let token_len = line.iter().take_while(|b| is_marker_char(b)).count();
        let action = marker_action(&line[..token_len]).ok_or(BadReason::MarkerUnknown)?;
        let mut record = &line[token_len..];
        if record.len() == 13 && is_separator(record[0]) {
            record = &record[1..];
        }
        return Ok((Some(action), record));
    }
    if line.len() < 12 {
        return Err(BadReason::WrongLength(line.len()));
    }
    let (record, mut tail) = line.split_at(12);
    if tail.len() >= 2 && is_separator(tail[0]) {
        tail = &tail[1..];
    }
    let action = marker_action(tail).ok_or(if tail.iter().all(u8::is_ascii_digit) {
        BadReason::WrongLength(line.len())
    } else {
        BadReason::MarkerUnknown
    })?;
    Ok((Some(action), record))
}

/// A one-per-line list entry with an optional leading or trailing marker word.
fn list_token_marker(text: &str) -> (String, Option<Result<Action, BadReason>>) {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    if tokens.len() >= 2 {
        if let Some(action) = marker_action(tokens[0].as_bytes()) {
            return (tokens[1..].join(" "), Some(Ok(action)));
        }
        if let Some(action) = marker_action(tokens[tokens.len() - 1].as_bytes()) {
            return (tokens[..tokens.len() - 1].join(" "), Some(Ok(action)));
        }
    }
    (text.to_owned(), None)
}

/// CSV cells: double quotes group (and `""` escapes a quote); cells are trimmed.
fn split_cells(text: &str, delimiter: u8) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if !quoted && c == char::from(delimiter) => cells.push(std::mem::take(&mut cell).trim().to_owned()),
            c => cell.push(c),
        }
    }
    cells.push(cell.trim().to_owned());
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_markers() {
        type Split<'a> = Result<(Option<Action>, &'a str), BadReason>;
        let cases: &[(&str, Split<'_>)] = &[
            ("0207 3787244", Ok((None, "0207 3787244"))),
            ("A0207 3787244", Ok((Some(Action::Add), "0207 3787244"))),
            ("D 0207 3787244", Ok((Some(Action::Remove), "0207 3787244"))),
            ("del,02073787244 ", Ok((Some(Action::Remove), "02073787244 "))),
            ("0207 3787244A", Ok((Some(Action::Add), "0207 3787244"))),
            ("02073787244  D", Ok((Some(Action::Remove), "02073787244 "))),
            ("0207 3787244,+", Ok((Some(Action::Add), "0207 3787244"))),
            ("0207 3787244;R", Ok((Some(Action::Remove), "0207 3787244"))),
            ("Q0207 3787244", Err(BadReason::MarkerUnknown)),
            ("0207 3787244 Z", Err(BadReason::MarkerUnknown)),
            ("0207 37872449", Err(BadReason::WrongLength(13))),
            ("0207 378", Err(BadReason::WrongLength(8))),
            ("   ", Err(BadReason::Blank)),
        ];
        for (line, want) in cases {
            let got = split_marker(line.as_bytes()).map(|(a, r)| (a, std::str::from_utf8(r).unwrap()));
            assert_eq!(got, *want, "{line:?}");
        }
    }

    #[test]
    fn csv_cells() {
        assert_eq!(split_cells(r#"a, "b,c" ,"d""e""#, b','), ["a", "b,c", "d\"e"]);
    }
}
