//! Outbound screening through the real binary (WEBEO-TPS): import the TPS and CTPS
//! files, screen numbers as JSON, override with a reason (audited without the
//! number), and flag a recorded outbound call to a listed number.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_callvault");
/// The password of the test's administrator and reader.
const PASSWORD: &str = "screening-test-password-01";

/// One installation: a UK object store (Webeo's residency rule), data and keys in a tempdir.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("callvault.toml"), "[storage]\nregion = \"uk\"\n").unwrap();
        let env = Env { dir };
        // Webeo's policy plus a test-only reader role, so the test can read what it stored.
        let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/webeo.toml");
        let policy = format!(
            "{}\n[[access.roles]]\nid = \"test-reader\"\ndescription = \"screening test reader\"\n\n\
             [[access.rules]]\nroles = [\"test-reader\"]\nactions = [\"metadata\"]\nscope = \"tenant\"\n",
            std::fs::read_to_string(seed).unwrap()
        );
        let policy = env.file("webeo.toml", policy.as_bytes());
        env.ok(&["tenant", "create", "webeo", "--policy", policy.to_str().unwrap()]);
        env.ok_stdin(
            &["admin", "init", "--tenant", "webeo", "admin", "--password-stdin"],
            &[],
        );
        env.ok_stdin(
            &[
                "--as",
                "webeo/admin",
                "user",
                "add",
                "reader",
                "--tenant",
                "webeo",
                "--role",
                "test-reader",
                "--password-stdin",
            ],
            &[("CALLVAULT_PASSWORD", PASSWORD)],
        );
        env
    }

    /// A run that reads [`PASSWORD`] on stdin, with `vars` set.
    fn ok_stdin(&self, args: &[&str], vars: &[(&str, &str)]) -> String {
        use std::io::Write;
        let data = self.dir.path().join("data");
        let keys = self.dir.path().join("keys");
        let mut child = Command::new(BIN)
            .current_dir(self.dir.path())
            .args(["--data", data.to_str().unwrap(), "--keys", keys.to_str().unwrap()])
            .args(args)
            .envs(vars.iter().copied())
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run callvault");
        writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "callvault {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        let data = self.dir.path().join("data");
        let keys = self.dir.path().join("keys");
        Command::new(BIN)
            .current_dir(self.dir.path())
            .args(["--data", data.to_str().unwrap(), "--keys", keys.to_str().unwrap()])
            .args(args)
            .env_remove("RUST_LOG")
            .output()
            .expect("run callvault")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "callvault {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The `error[CODE]` of a failing run.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "callvault {args:?} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let start = stderr.find("error[").expect("an error code") + 6;
        stderr[start..start + stderr[start..].find(']').unwrap()].to_owned()
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn import(&self, register: &str, name: &str, text: &str, extra: &[&str]) -> Output {
        let path = self.file(name, text.as_bytes());
        let mut args = vec!["screening", "import", path.to_str().unwrap(), "--register", register];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `screen --json`: the answer per number.
    fn screen(&self, tenant: Option<&str>, numbers: &[&str]) -> Vec<Value> {
        let mut args = vec!["screen", "--json"];
        if let Some(t) = tenant {
            args.extend(["--tenant", t]);
        }
        args.extend_from_slice(numbers);
        serde_json::from_str::<Value>(&self.ok(&args))
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    fn audit(&self) -> Vec<Value> {
        self.ok(&["audit", "export"])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

const TPS: &str = "0207 3787244\r\n01635 506160\r\n0207 37X7244\r\n\r\n07860 338653\r\n";
const CTPS: &str = "0191 5657153\r\n02079460000 \r\n";

#[test]
fn webeo_tps_listed_number_may_not_be_called_for_marketing() {
    let env = Env::new();
    let out = env.import("tps", "TPS-20260501.txt", TPS, &["--date", "2026-05-01"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TPS-20260501.txt:3:") && stderr.contains("TPS-20260501.txt:4:"),
        "{stderr}"
    );

    // Until the CTPS register named by the policy is imported, nothing is allowed.
    let answer = &env.screen(Some("webeo"), &["+447700900999"])[0];
    assert_eq!(
        (
            answer["may_call_for_marketing"].clone(),
            answer["unchecked_registers"].clone()
        ),
        (json!(false), json!(["ctps"]))
    );
    let out = env.import("ctps", "CTPS-20260501.txt", CTPS, &["--date", "2026-05-01", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["numbers"].clone(), report["bad_lines"].clone()),
        (json!(2), json!(0))
    );

    // (number as given, E.164, registers listing it, may call for Webeo, may call with no tenant)
    let cases: &[(&str, &str, &[&str], bool, bool)] = &[
        ("020 7378 7244", "+442073787244", &["tps"], false, false),
        ("+441635506160", "+441635506160", &["tps"], false, false),
        ("07860338653", "+447860338653", &["tps"], false, false),
        ("0191 565 7153", "+441915657153", &["ctps"], false, false),
        ("+44 20 7946 0000", "+442079460000", &["ctps"], false, false),
        ("07700 900999", "+447700900999", &[], true, true),
        ("+4721234567", "+4721234567", &[], true, true),
    ];
    let numbers: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let webeo = env.screen(Some("webeo"), &numbers);
    let anyone = env.screen(None, &numbers);
    for (i, (given, e164, registers, webeo_may, anyone_may)) in cases.iter().enumerate() {
        assert_eq!(webeo[i]["number"], json!(e164), "{given}");
        let listed: Vec<&str> = webeo[i]["registers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["register"].as_str().unwrap())
            .collect();
        assert_eq!(listed, *registers, "{given}");
        assert_eq!(webeo[i]["may_call_for_marketing"], json!(webeo_may), "{given}");
        assert_eq!(anyone[i]["may_call_for_marketing"], json!(anyone_may), "{given}");
        if let Some(listing) = webeo[i]["registers"].get(0) {
            assert_eq!(listing["date"], json!("2026-05-01"), "{given}");
            assert!(listing["file"].as_str().unwrap().ends_with("-20260501.txt"), "{given}");
        }
    }

    // A change file takes a number off the register.
    let out = env.import(
        "tps",
        "TPS-CHANGES-20260502.txt",
        "0207 3787244D\r\n07700 900999A\r\n",
        &["--changes"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answers = env.screen(Some("webeo"), &["02073787244", "07700900999"]);
    assert_eq!(answers[0]["may_call_for_marketing"], json!(true));
    assert_eq!(answers[1]["registers"][0]["file"], json!("TPS-CHANGES-20260502.txt"));
    let listed: Value = serde_json::from_str(&env.ok(&["screening", "list", "--json"])).unwrap();
    assert_eq!(listed[1]["files"].as_array().unwrap().len(), 2, "{listed}");

    assert_eq!(
        env.fails(&["screen", "--tenant", "nobody", "+442073787244"]),
        "tenant-unknown"
    );
    assert_eq!(env.fails(&["screen", "020"]), "number-invalid");
    assert_eq!(
        env.fails(&["screening", "import", "x.txt", "--register", "TPS"]),
        "register-name-invalid"
    );
}

#[test]
fn an_override_needs_a_reason_and_is_audited_without_the_number() {
    let env = Env::new();
    assert!(env.import("tps", "tps.txt", TPS, &[]).status.success());
    assert!(env.import("ctps", "ctps.txt", CTPS, &[]).status.success());
    assert_eq!(
        env.fails(&[
            "screening",
            "override",
            "02073787244",
            "--tenant",
            "webeo",
            "--reason",
            "  "
        ]),
        "reason-required"
    );
    let answer: Value = serde_json::from_str(&env.ok(&[
        "screening",
        "override",
        "02073787244",
        "--tenant",
        "webeo",
        "--reason",
        "existing customer, consented 2026-04-02",
        "--json",
    ]))
    .unwrap();
    assert_eq!(answer["may_call_for_marketing"], json!(true));
    assert_eq!(
        answer["override"]["reason"],
        json!("existing customer, consented 2026-04-02")
    );
    assert_eq!(
        env.screen(Some("webeo"), &["+442073787244"])[0]["may_call_for_marketing"],
        json!(true)
    );
    assert_eq!(
        env.screen(None, &["+442073787244"])[0]["may_call_for_marketing"],
        json!(false),
        "overrides are per tenant"
    );

    let audit = env.audit();
    let event = audit
        .iter()
        .find(|e| e["action"] == "screening.override")
        .expect("override audited");
    assert_eq!(event["tenant"], json!("webeo"));
    assert_eq!(event["reason"], json!("existing customer, consented 2026-04-02"));
    assert_eq!(event["detail"]["number_masked"], json!("+442073787xxx"));
    assert_eq!(event["detail"]["number_hash"].as_str().unwrap().len(), 64);
    assert_eq!(event["detail"]["registers"], json!(["tps"]));
    let everything = env.ok(&["audit", "export"]);
    assert!(
        !everything.contains("2073787244"),
        "the full number is never in the audit log"
    );
    assert!(audit.iter().filter(|e| e["action"] == "screening.import").count() == 2);
    assert!(env.ok(&["audit", "verify"]).contains("audit chain ok"));
}

#[test]
fn a_recorded_outbound_call_to_a_listed_number_is_flagged() {
    let env = Env::new();
    assert!(
        env.import("tps", "tps.txt", TPS, &["--date", "2026-05-01"])
            .status
            .success()
    );
    env.ok(&["tenant", "set", "webeo", "--country", "GB"]);
    let wav = env.file(
        "call.wav",
        &media::write_wav_pcm16(8000, &[vec![0i16; 8000], vec![0i16; 8000]]),
    );
    // (customer number, notes expected)
    let cases: &[(&str, &[&str])] = &[
        (
            "0207 3787244",
            &["tps-listed: outbound call to a number on the TPS register (file tps.txt, 2026-05-01)"],
        ),
        ("+447700900999", &[]),
    ];
    let mut flagged = Vec::new();
    for (number, notes) in cases {
        let meta = json!({
            "direction": "outbound", "started_at": "2026-11-20T10:00:00Z", "customer_number": number,
            "service_number": "+442080999077", "agent": "Alex Agent", "purposes": ["quality-assessment"],
            "participants": [{"role": "customer", "channel": 0}, {"role": "agent", "channel": 1}],
        });
        let meta = env.file("meta.json", meta.to_string().as_bytes());
        let id = env.ok(&[
            "ingest",
            wav.to_str().unwrap(),
            "--tenant",
            "webeo",
            "--meta",
            meta.to_str().unwrap(),
        ]);
        let shown = env.ok_stdin(
            &[
                "--as",
                "webeo/reader",
                "recordings",
                "show",
                id.trim(),
                "--json",
                "--purpose",
                "quality-assessment",
                "--reason",
                "screening test",
            ],
            &[("CALLVAULT_PASSWORD", PASSWORD)],
        );
        let shown: Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(shown["notes"], json!(notes), "{number}");
        if !notes.is_empty() {
            flagged.push(id.trim().to_owned());
        }
    }
    // The compliance report lists the flagged call, and only it.
    let report: Value =
        serde_json::from_str(&env.ok(&["compliance", "report", "--tenant", "webeo", "--format", "json"])).unwrap();
    let flags = report["tenants"][0]["screening_flags"].as_array().unwrap();
    let ids: Vec<&str> = flags.iter().map(|f| f["recording_id"].as_str().unwrap()).collect();
    assert_eq!(ids, flagged);
    assert!(
        flags[0]["notes"][0].as_str().unwrap().starts_with("tps-listed: "),
        "{report}"
    );
    let html = env.ok(&["compliance", "report", "--tenant", "webeo", "--format", "html"]);
    assert!(
        html.contains(&flagged[0]) && html.contains("tps-listed: outbound call"),
        "{html}"
    );
}

/// A running `callvault serve`, stopped when dropped.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Env {
    fn serve(&self) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (data, keys) = (self.dir.path().join("data"), self.dir.path().join("keys"));
        let child = Command::new(BIN)
            .current_dir(self.dir.path())
            .args(["--data", data.to_str().unwrap(), "--keys", keys.to_str().unwrap()])
            .args([
                "serve",
                "--http-listen",
                &format!("127.0.0.1:{port}"),
                "--sip-listen",
                "127.0.0.1:0",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start serve");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if reqwest::blocking::get(format!("{}/healthz", server.base)).is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("server did not become healthy");
    }
}

#[test]
fn http_screening_answers_per_number_and_sees_later_imports() {
    let env = Env::new();
    assert!(
        env.import("tps", "tps.txt", TPS, &["--date", "2026-05-01"])
            .status
            .success()
    );
    assert!(
        env.import("ctps", "ctps.txt", CTPS, &["--date", "2026-05-01"])
            .status
            .success()
    );
    let server = env.serve();
    let client = reqwest::blocking::Client::new();
    let post = |body: &str| {
        let response = client
            .post(format!("{}/v1/screening", server.base))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .unwrap();
        (response.status().as_u16(), response.json::<Value>().unwrap())
    };
    // (body, status, the error code or each number's may_call_for_marketing)
    type Case<'a> = (&'a str, u16, Result<&'a [bool], &'a str>);
    let cases: &[Case<'_>] = &[
        (
            r#"{"tenant": "webeo", "numbers": ["020 7378 7244", "+447700900999"]}"#,
            200,
            Ok(&[false, true]),
        ),
        (r#"{"numbers": ["+441915657153"]}"#, 200, Ok(&[false])),
        (r#"{"tenant": "webeo", "numbers": []}"#, 400, Err("numbers-required")),
        (
            r#"{"tenant": "webeo", "numbers": [442073787244]}"#,
            422,
            Err("body-invalid"),
        ),
        (
            r#"{"tenant": "nobody", "numbers": ["+442073787244"]}"#,
            404,
            Err("tenant-unknown"),
        ),
        (r#"{"numbers": ["not a number"]}"#, 400, Err("number-invalid")),
    ];
    for (body, status, want) in cases {
        let (got_status, answer) = post(body);
        assert_eq!(got_status, *status, "{body}: {answer}");
        match want {
            Ok(allowed) => {
                let got: Vec<bool> = answer["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["may_call_for_marketing"].as_bool().unwrap())
                    .collect();
                assert_eq!(got, *allowed, "{body}");
            }
            Err(code) => {
                assert_eq!(answer["error"]["code"], json!(code), "{body}");
                assert!(!answer.to_string().contains("2073787244"), "errors never echo a number");
            }
        }
    }
    // A change file imported by the CLI while the server runs is answered from at once.
    assert!(
        env.import("tps", "changes.txt", "0207 3787244D\r\n", &["--changes"])
            .status
            .success()
    );
    let (_, answer) = post(r#"{"tenant": "webeo", "numbers": ["020 7378 7244"]}"#);
    assert_eq!(answer["results"][0]["registers"], json!([]));
    assert_eq!(answer["results"][0]["may_call_for_marketing"], json!(true));
}
