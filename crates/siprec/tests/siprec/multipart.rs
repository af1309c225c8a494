//! Table tests of `split_multipart`: accepted variations and broken bodies with their codes.

use siprec::split_multipart;

/// (name, Content-Type, body, expected: Ok(number of parts) or Err(code)).
const CASES: &[(&str, &str, &str, Result<usize, &str>)] = &[
    (
        "plain boundary, CRLF",
        "multipart/mixed;boundary=b1",
        "--b1\r\nContent-Type: text/plain\r\n\r\none\r\n--b1\r\nContent-Type: text/plain\r\n\r\ntwo\r\n--b1--\r\n",
        Ok(2),
    ),
    (
        "quoted boundary with space and colon",
        "multipart/mixed; boundary=\"a b:c\"",
        "--a b:c\nContent-Type: text/plain\n\none\n--a b:c--\n",
        Ok(1),
    ),
    (
        "case-insensitive type and parameter",
        "Multipart/Mixed; BOUNDARY=x; charset=utf-8",
        "--x\n\nbody\n--x--",
        Ok(1),
    ),
    (
        "preamble and epilogue",
        "multipart/mixed;boundary=x",
        "This is a preamble.\r\n--x\r\n\r\nbody\r\n--x--\r\nepilogue\r\n--x\r\n\r\nnot a part\r\n",
        Ok(1),
    ),
    (
        "transport padding after delimiters",
        "multipart/mixed;boundary=x",
        "--x  \t\r\n\r\nbody\r\n--x-- \r\n",
        Ok(1),
    ),
    (
        "no closing delimiter, last part complete",
        "multipart/mixed;boundary=x",
        "--x\nContent-Type: a/b\n\none\n--x\nContent-Type: a/c\n\ntwo\n",
        Ok(2),
    ),
    (
        "headers-only part before another part",
        "multipart/mixed;boundary=x",
        "--x\nContent-Type: a/b\n--x\nContent-Type: a/c\n\ntwo\n--x--\n",
        Ok(2),
    ),
    (
        "a line that merely starts with the boundary is content",
        "multipart/mixed;boundary=x",
        "--x\n\n--xy is content\n--x--\n",
        Ok(1),
    ),
    (
        "mixed CRLF and LF",
        "multipart/mixed;boundary=x",
        "--x\r\nContent-Type: a/b\n\r\nbody\n--x--\r\n",
        Ok(1),
    ),
    (
        "trailing semicolon in Content-Type",
        "multipart/mixed;boundary=x;",
        "--x\n\nb\n--x--",
        Ok(1),
    ),
    (
        "not multipart",
        "application/sdp",
        "v=0\n",
        Err("multipart-not-multipart"),
    ),
    (
        "empty Content-Type",
        "",
        "--x\n\nb\n--x--",
        Err("multipart-not-multipart"),
    ),
    (
        "garbage Content-Type",
        "multipart",
        "--x\n\nb\n--x--",
        Err("multipart-not-multipart"),
    ),
    (
        "unterminated quoted parameter",
        "multipart/mixed;boundary=\"x",
        "--x\n\nb\n--x--",
        Err("multipart-not-multipart"),
    ),
    (
        "missing boundary",
        "multipart/mixed",
        "--x\n\nb\n--x--",
        Err("multipart-missing-boundary"),
    ),
    (
        "empty boundary",
        "multipart/mixed;boundary=\"\"",
        "--\n\nb\n----",
        Err("multipart-invalid-boundary"),
    ),
    (
        "boundary longer than 70",
        "multipart/mixed;boundary=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "",
        Err("multipart-invalid-boundary"),
    ),
    (
        "boundary never appears",
        "multipart/mixed;boundary=x",
        "v=0\r\ns=-\r\n",
        Err("multipart-no-parts"),
    ),
    (
        "empty body",
        "multipart/mixed;boundary=x",
        "",
        Err("multipart-no-parts"),
    ),
    (
        "only a closing delimiter",
        "multipart/mixed;boundary=x",
        "--x--\r\n",
        Err("multipart-no-parts"),
    ),
    (
        "cut off inside the last part's headers",
        "multipart/mixed;boundary=x",
        "--x\nContent-Type: a/b\n\none\n--x\nContent-Type: a/c\nContent-Disp",
        Err("multipart-no-closing-delimiter"),
    ),
    (
        "header line without colon",
        "multipart/mixed;boundary=x",
        "--x\nv=0\ns=-\n\nbody\n--x--\n",
        Err("multipart-bad-part-header"),
    ),
    (
        "continuation line first",
        "multipart/mixed;boundary=x",
        "--x\n folded\n\nbody\n--x--\n",
        Err("multipart-bad-part-header"),
    ),
    (
        "empty header name",
        "multipart/mixed;boundary=x",
        "--x\n: value\n\nbody\n--x--\n",
        Err("multipart-bad-part-header"),
    ),
];

#[test]
fn multipart_table() {
    for (name, content_type, body, expected) in CASES {
        let result = split_multipart(content_type, body.as_bytes());
        match (result, expected) {
            (Ok(parts), Ok(count)) => assert_eq!(parts.len(), *count, "{name}"),
            (Err(error), Err(code)) => assert_eq!(error.code(), *code, "{name}: {error}"),
            (result, expected) => panic!("{name}: got {result:?}, expected {expected:?}"),
        }
    }
}

#[test]
fn part_headers_and_bodies_are_exact() {
    let body = "pre\r\n--b\r\nContent-Type: application/sdp\r\nContent-ID: <sdp@x>\r\nX-Other:  v \r\n\r\nv=0\r\n\r\n--b\r\ncontent-disposition: recording-session;\r\n handling=required\r\n\r\n<r/>\r\n--b--\r\n";
    let parts = split_multipart("multipart/mixed;boundary=b", body.as_bytes()).expect("parts");
    assert_eq!(parts.len(), 2);
    let first = &parts[0];
    assert_eq!(first.content_type.as_deref(), Some("application/sdp"));
    assert_eq!(first.content_id.as_deref(), Some("<sdp@x>"));
    assert_eq!(first.header("x-other"), Some("v"));
    assert_eq!(first.body, b"v=0\r\n");
    let second = &parts[1];
    assert_eq!(second.content_type, None);
    assert_eq!(
        second.content_disposition.as_deref(),
        Some("recording-session; handling=required"),
        "folded header joined"
    );
    assert_eq!(second.body, b"<r/>");
}

#[test]
fn too_many_parts_is_an_error() {
    let mut body = String::new();
    for i in 0..=siprec::multipart::MAX_PARTS {
        body.push_str(&format!("--x\n\npart {i}\n"));
    }
    body.push_str("--x--\n");
    let error = split_multipart("multipart/mixed;boundary=x", body.as_bytes()).expect_err("too many");
    assert_eq!(error.code(), "multipart-too-many-parts");
}

#[test]
fn non_utf8_header_is_an_error() {
    let body = b"--x\nContent-Type: a/\xff\n\nbody\n--x--\n";
    let error = split_multipart("multipart/mixed;boundary=x", body).expect_err("bad header");
    assert_eq!(error.code(), "multipart-bad-part-header");
}

#[test]
fn error_messages_do_not_echo_the_body() {
    let body = "--x\n+441632960123 is not a header\n\nbody\n--x--\n";
    let error = split_multipart("multipart/mixed;boundary=x", body.as_bytes()).expect_err("bad header");
    assert!(!error.to_string().contains("441632960123"), "{error}");
}
