//! File formats, table-driven: both record layouts, bad lines reported with their
//! line numbers while good lines import, change markers, do-not-call lists, the
//! fast normaliser against the general one, and refusals that leave a register as it was.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use screening::{Action, Format, ImportRequest, Mode, RegisterStore};

use crate::synthetic::{h, record};

fn now() -> DateTime<Utc> {
    "2026-05-03T08:00:00Z".parse().unwrap()
}

struct Dir {
    dir: tempfile::TempDir,
    store: RegisterStore,
}

impl Dir {
    fn new() -> Dir {
        let dir = tempfile::tempdir().unwrap();
        let store = RegisterStore::new(dir.path().join("screening"));
        Dir { dir, store }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn import(&self, register: &str, path: &Path, mode: Mode) -> Result<screening::wire::ImportReport, String> {
        let request = ImportRequest {
            register: register.into(),
            path: path.to_owned(),
            format: None,
            mode,
            country: "GB".into(),
            column: None,
            date: None,
            now: now(),
        };
        self.store
            .import(&request, &mut |_, _| {})
            .map_err(|e| e.code().to_owned())
    }

    /// The E.164 numbers on a register, ascending.
    fn listed(&self, register: &str) -> Vec<String> {
        let snapshot = self.store.refresh().unwrap();
        let mut listed: Vec<String> = snapshot
            .register(register)
            .unwrap()
            .keys()
            .map(screening::e164_of_key)
            .collect();
        listed.sort();
        listed
    }
}

#[test]
fn register_records_in_both_layouts_and_bad_lines_by_line_number() {
    // (line as written, line end, the number it lists or the bad-line code)
    let lines: &[(&str, &str, Result<&str, &str>)] = &[
        ("0207 3787244", "\r\n", Ok("+442073787244")),
        ("01635 506160", "\r\n", Ok("+441635506160")),
        ("0191 5657153", "\r\n", Ok("+441915657153")),
        ("07860 338653", "\r\n", Ok("+447860338653")),
        ("02079460000 ", "\r\n", Ok("+442079460000")),
        ("", "\r\n", Err("blank")),
        ("            ", "\r\n", Err("blank")),
        ("0207 37872", "\r\n", Err("wrong-length")),
        ("0207 37872440", "\r\n", Err("wrong-length")),
        ("0207 ABC7244", "\r\n", Err("not-digits")),
        ("TELEPHONE NO", "\r\n", Err("not-digits")),
        (" 0207378724 ", "\r\n", Err("layout")),
        ("020737872   ", "\r\n", Err("digit-count")),
        ("44207378724 ", "\r\n", Err("not-national")),
        ("01234 567890", "\n", Ok("+441234567890")),
        ("0207 3787244", "\r\n", Ok("+442073787244")),
        ("0113 4960000", "", Ok("+441134960000")),
    ];
    let dir = Dir::new();
    let text: String = lines.iter().map(|(l, end, _)| format!("{l}{end}")).collect();
    let report = dir.import("tps", &dir.file("tps.txt", &text), Mode::Full).unwrap();
    let bad: Vec<(u64, &str)> = report.bad.iter().map(|b| (b.line, b.code.as_str())).collect();
    let want_bad: Vec<(u64, &str)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, (_, _, r))| r.err().map(|code| (i as u64 + 1, code)))
        .collect();
    assert_eq!(bad, want_bad);
    let mut want: Vec<&str> = lines.iter().filter_map(|(_, _, r)| r.ok()).collect();
    want.sort();
    want.dedup();
    assert_eq!(dir.listed("tps"), want);
    assert_eq!(
        (report.lines, report.records, report.numbers, report.unchanged),
        (lines.len() as u64, 8, 7, 1)
    );
    assert!(
        report.bad.iter().all(|b| !b.reason.contains("0207")),
        "bad lines never echo the line"
    );
}

#[test]
fn change_files_add_and_remove_as_their_markers_say() {
    let base = "0207 3787244\r\n01635 506160\r\n0191 5657153\r\n";
    // (change file, unmarked records are, listed afterwards, bad lines)
    type Case<'a> = (&'a str, Option<Action>, &'a [&'a str], &'a [(u64, &'a str)]);
    let cases: &[Case<'_>] = &[
        (
            "0207 3787244D\r\n07860 338653A\r\n",
            None,
            &["+441635506160", "+441915657153", "+447860338653"],
            &[],
        ),
        (
            "D 0207 3787244\r\nA,07860 338653\r\ndel;01635 506160\r\n",
            None,
            &["+441915657153", "+447860338653"],
            &[],
        ),
        (
            "0207 3787244\r\n07860 338653Q\r\n07860 338653\r\n0191 5657153D\r\n",
            None,
            &["+441635506160", "+442073787244"],
            &[(1, "marker-missing"), (2, "marker-unknown"), (3, "marker-missing")],
        ),
        (
            "07860 338653\r\n01632 960000\r\n",
            Some(Action::Add),
            &[
                "+441632960000",
                "+441635506160",
                "+441915657153",
                "+442073787244",
                "+447860338653",
            ],
            &[],
        ),
        (
            "0207 3787244\r\n0191 5657153\r\n",
            Some(Action::Remove),
            &["+441635506160"],
            &[],
        ),
        // The last record for a number wins within a file.
        (
            "0207 3787244D\r\n0207 3787244A\r\n0191 5657153A\r\n0191 5657153D\r\n",
            None,
            &["+441635506160", "+442073787244"],
            &[],
        ),
    ];
    for (i, (changes, unmarked, listed, bad)) in cases.iter().enumerate() {
        let dir = Dir::new();
        dir.import("ctps", &dir.file("full.txt", base), Mode::Full).unwrap();
        let report = dir
            .import(
                "ctps",
                &dir.file("changes.txt", changes),
                Mode::Changes { unmarked: *unmarked },
            )
            .unwrap_or_else(|e| panic!("case {i}: {e}"));
        assert_eq!(dir.listed("ctps"), *listed, "case {i}");
        let got_bad: Vec<(u64, &str)> = report.bad.iter().map(|b| (b.line, b.code.as_str())).collect();
        assert_eq!(got_bad, *bad, "case {i}");
    }
}

#[test]
fn do_not_call_lists_as_csv_or_one_number_per_line() {
    // (file, number column, listed, bad lines)
    type Case<'a> = (&'a str, Option<&'a str>, &'a [&'a str], &'a [(u64, &'a str)]);
    let cases: &[Case<'_>] = &[
        (
            "+44 20 7946 0000\n020 7946 0001\n\n# comment\n+4721234567\nnot a number\n",
            None,
            &["+442079460000", "+442079460001", "+4721234567"],
            &[(6, "not-a-number")],
        ),
        (
            "name,Phone Number,note\n\"Smith, J\",020 7946 0002,x\nDoe,+353 1 234 5678,\nRoe,,\n",
            None,
            &["+35312345678", "+442079460002"],
            &[(4, "not-a-number")],
        ),
        (
            "id;mobile\n1;07700 900123\n2;07700 900124\n",
            None,
            &["+447700900123", "+447700900124"],
            &[],
        ),
        ("a,b\n07700900125,02079460003\n", Some("b"), &["+442079460003"], &[]),
        ("phone\n07700 900126\n", None, &["+447700900126"], &[]),
    ];
    for (i, (text, column, listed, bad)) in cases.iter().enumerate() {
        let dir = Dir::new();
        let request = ImportRequest {
            register: "own-dnc".into(),
            path: dir.file("list.csv", text),
            format: Some(Format::List),
            mode: Mode::Full,
            country: "GB".into(),
            column: column.map(str::to_owned),
            date: Some("2026-04-30".parse().unwrap()),
            now: now(),
        };
        let report = dir
            .store
            .import(&request, &mut |_, _| {})
            .unwrap_or_else(|e| panic!("case {i}: {e}"));
        assert_eq!(dir.listed("own-dnc"), *listed, "case {i}");
        let got_bad: Vec<(u64, &str)> = report.bad.iter().map(|b| (b.line, b.code.as_str())).collect();
        assert_eq!(got_bad, *bad, "case {i}");
    }
}

#[test]
fn refusals_leave_the_register_as_it_was() {
    let dir = Dir::new();
    let good = dir.file("good.txt", "0207 3787244\r\n");
    // (register, file text, mode, error code)
    let cases: &[(&str, &str, Mode, &str)] = &[
        ("tps", "garbage\r\n<html>\r\n", Mode::Full, "register-nothing-imported"),
        ("tps", "", Mode::Full, "register-nothing-imported"),
        (
            "tps",
            "0207 3787244Q\r\n",
            Mode::Changes { unmarked: None },
            "register-nothing-imported",
        ),
        (
            "ctps",
            "0207 3787244A\r\n",
            Mode::Changes { unmarked: None },
            "register-no-base",
        ),
        ("TPS", "0207 3787244\r\n", Mode::Full, "register-name-invalid"),
        ("../x", "0207 3787244\r\n", Mode::Full, "register-name-invalid"),
    ];
    dir.import("tps", &good, Mode::Full).unwrap();
    for (i, (register, text, mode, code)) in cases.iter().enumerate() {
        let path = dir.file("bad.txt", text);
        assert_eq!(
            dir.import(register, &path, *mode).err().as_deref(),
            Some(*code),
            "case {i}"
        );
        assert_eq!(dir.listed("tps"), ["+442073787244"], "case {i}");
    }
    // A change file with no records at all is a day without changes: accepted.
    let report = dir
        .import("tps", &dir.file("empty.txt", ""), Mode::Changes { unmarked: None })
        .unwrap();
    assert_eq!((report.records, report.numbers), (0, 1));
}

#[test]
fn a_damaged_register_file_is_an_error_never_an_empty_register() {
    let dir = Dir::new();
    dir.import(
        "tps",
        &dir.file("t.txt", "0207 3787244\r\n0191 5657153\r\n"),
        Mode::Full,
    )
    .unwrap();
    let stored = dir.dir.path().join("screening/tps.cvreg");
    let bytes = std::fs::read(&stored).unwrap();
    // (damage, error code)
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (bytes[..bytes.len() - 3].to_vec(), "register-file-corrupt"),
        (
            {
                let mut b = bytes.clone();
                let at = b.len() - 12;
                b[at] ^= 1;
                b
            },
            "register-file-corrupt",
        ),
        (
            {
                let mut b = bytes.clone();
                b[8] = 9;
                b
            },
            "register-format-unsupported",
        ),
        (b"not a register".to_vec(), "register-file-invalid"),
    ];
    for (i, (damaged, code)) in cases.into_iter().enumerate() {
        std::fs::write(&stored, &damaged).unwrap();
        let fresh = RegisterStore::new(dir.dir.path().join("screening"));
        assert_eq!(fresh.refresh().err().map(|e| e.code()), Some(code), "case {i}");
    }
}

#[test]
fn the_fast_normaliser_agrees_with_the_general_one() {
    let mut line = [0u8; 14];
    for d in 0..3000u64 {
        // National significant numbers of 10 digits in the 01, 02, 03, 07 and 08 ranges.
        let first = [1, 2, 3, 7, 8][(d % 5) as usize];
        let key = 440_000_000_000 + first * 1_000_000_000 + h(7, d, 0) % 1_000_000_000;
        record(key, d % 2 == 0, &mut line);
        let text = std::str::from_utf8(&line[..12]).unwrap();
        let fast = screening::register_record_key(&line[..12]).map(screening::e164_of_key);
        let general = redact::normalize_e164(text.trim(), Some("GB"));
        assert_eq!(fast.ok(), general.ok(), "{text:?}");
        assert_eq!(screening::uk_key_fast(text.trim()), Some(key), "{text:?}");
    }
    for nine_digit in ["0800 123456", "01697 73123"] {
        let fast = screening::uk_key_fast(nine_digit).map(screening::e164_of_key);
        assert_eq!(
            fast.as_deref(),
            redact::normalize_e164(nine_digit, Some("GB")).ok().as_deref()
        );
    }
}
