//! Test support: a fresh data and key directory, the real `callvault` binary, and
//! generated audio and metadata.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_callvault");

/// The repository root (for `policies/` and `examples/`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

pub fn policy_file(name: &str) -> PathBuf {
    repo().join("policies").join(format!("{name}.toml"))
}

/// The fixture role every e2e tenant's policy copy adds (see [`Env::create_tenant`]): it
/// may do every recording action on the whole tenant, so tests about capture, codecs and
/// storage can read what they stored. Access-control tests use the seed policies as they are.
pub const READER_ROLE: &str = "e2e-reader";
/// The password of the fixture users `e2e-admin` and `reader` in every tenant.
pub const READER_PASSWORD: &str = "e2e-reader-password-0001";

/// The seed policy `name` with the fixture reader role and rule appended.
pub fn policy_with_reader(name: &str) -> String {
    let text = std::fs::read_to_string(policy_file(name)).expect("policy file");
    format!(
        "{text}\n# e2e fixture (not part of the seed): a reader for tests that check stored audio.\n\
         [[access.roles]]\nid = \"{READER_ROLE}\"\ndescription = \"end-to-end test reader\"\n\n\
         [[access.rules]]\nroles = [\"{READER_ROLE}\"]\n\
         actions = [\"metadata\", \"search\", \"listen\", \"download\", \"export\", \"delete\"]\nscope = \"tenant\"\n"
    )
}

/// One isolated installation: its own working directory, data and keys.
pub struct Env {
    pub dir: tempfile::TempDir,
    /// Tenants made by `create_tenant`: (name, first purpose of its policy, reader made).
    tenants: std::sync::Mutex<Vec<(String, String, bool)>>,
    /// Recording id -> tenant, for ids that `ingest` returned.
    owners: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// Administrators a test made itself (tenant -> (user, password)): the fixture reader is
    /// added by them instead of by a fixture administrator.
    admins: std::sync::Mutex<std::collections::HashMap<String, (String, String)>>,
}

impl Env {
    /// A fresh installation whose object store declares `region`.
    pub fn new(region: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        if let Some(region) = region {
            std::fs::write(
                dir.path().join("callvault.toml"),
                format!("[storage]\nregion = \"{region}\"\n"),
            )
            .unwrap();
        }
        Env {
            dir,
            tenants: Default::default(),
            owners: Default::default(),
            admins: Default::default(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn data(&self) -> PathBuf {
        self.path().join("data")
    }

    pub fn keys(&self) -> PathBuf {
        self.path().join("keys")
    }

    /// Runs the binary in this installation's directory (so its callvault.toml applies).
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    /// Runs the binary. A `recordings ...` command without `--as` runs as the fixture
    /// reader of the recording's tenant (created on first use), and a `list` or `show`
    /// without `--purpose` names the tenant policy's first purpose and a reason.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let reading =
            args.first() == Some(&"recordings") && !args.contains(&"--as") && !self.tenants.lock().unwrap().is_empty();
        if !reading {
            return self.run_raw(args, env);
        }
        let candidates = self.reader_tenants(args);
        let mut last = None;
        for tenant in &candidates {
            let full = self.reader_args(tenant, args);
            let full: Vec<&str> = full.iter().map(String::as_str).collect();
            let mut with_password: Vec<(&str, &str)> = vec![("CALLVAULT_PASSWORD", READER_PASSWORD)];
            with_password.extend_from_slice(env);
            let out = self.run_raw(&full, &with_password);
            let not_found = error_code(&String::from_utf8_lossy(&out.stderr)).as_deref() == Some("not-found");
            if !not_found {
                return out;
            }
            last = Some(out);
        }
        last.expect("a tenant")
    }

    /// Runs the binary exactly with `args`.
    pub fn run_raw(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(BIN);
        command.current_dir(self.path()).args(args).env_remove("RUST_LOG");
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().expect("run callvault")
    }

    /// The tenants a reading command may concern: the one named by `--tenant`, the one an
    /// ingested id belongs to, else every tenant in turn.
    fn reader_tenants(&self, args: &[&str]) -> Vec<String> {
        if let Some(i) = args.iter().position(|a| *a == "--tenant")
            && let Some(t) = args.get(i + 1)
        {
            return vec![(*t).to_owned()];
        }
        if let Some(owner) = args.get(2).and_then(|id| self.owners.lock().unwrap().get(*id).cloned()) {
            return vec![owner];
        }
        self.tenants.lock().unwrap().iter().map(|(t, _, _)| t.clone()).collect()
    }

    /// `args` as the tenant's fixture reader, with a purpose and reason for list and show.
    fn reader_args(&self, tenant: &str, args: &[&str]) -> Vec<String> {
        self.ensure_reader(tenant);
        let purpose = self
            .tenants
            .lock()
            .unwrap()
            .iter()
            .find(|(t, _, _)| t == tenant)
            .map(|(_, p, _)| p.clone())
            .unwrap_or_default();
        let mut full: Vec<String> = vec!["--as".into(), format!("{tenant}/reader")];
        full.extend(args.iter().map(|a| (*a).to_owned()));
        if matches!(args.get(1), Some(&"list") | Some(&"show")) && !args.contains(&"--purpose") {
            full.extend(["--purpose".into(), purpose, "--reason".into(), "e2e check".into()]);
        }
        if args.get(1) == Some(&"list") && !args.contains(&"--tenant") {
            full.extend(["--tenant".into(), tenant.to_owned()]);
        }
        full
    }

    /// Creates the tenant's `e2e-admin` (its first administrator) and `reader` users.
    fn ensure_reader(&self, tenant: &str) {
        let needed = self
            .tenants
            .lock()
            .unwrap()
            .iter()
            .any(|(t, _, made)| t == tenant && !made);
        if !needed {
            return;
        }
        let (admin, admin_pw) = match self.admins.lock().unwrap().get(tenant) {
            Some((user, pw)) => (format!("{tenant}/{user}"), pw.clone()),
            None => (format!("{tenant}/e2e-admin"), String::new()),
        };
        if admin_pw.is_empty() {
            let init = self.run_stdin(
                &["admin", "init", "--tenant", tenant, "e2e-admin", "--password-stdin"],
                &[],
                &format!("{READER_PASSWORD}\n"),
            );
            if !init.status.success() {
                // The command itself will fail for the same reason (or say why it cannot read).
                eprintln!(
                    "fixture reader: admin init on {tenant} failed (a test that makes its own administrator \
                     calls Env::register_admin): {}",
                    String::from_utf8_lossy(&init.stderr)
                );
                return;
            }
        }
        let admin_pw = if admin_pw.is_empty() {
            READER_PASSWORD.to_owned()
        } else {
            admin_pw
        };
        let pw = [("CALLVAULT_PASSWORD", admin_pw.as_str())];
        let add = self.run_stdin(
            &[
                "--as",
                &admin,
                "user",
                "add",
                "reader",
                "--tenant",
                tenant,
                "--role",
                READER_ROLE,
                "--password-stdin",
            ],
            &pw,
            &format!("{READER_PASSWORD}\n"),
        );
        assert!(
            add.status.success(),
            "fixture reader: {}",
            String::from_utf8_lossy(&add.stderr)
        );
        let attest = self.run_raw(
            &[
                "--as",
                &admin,
                "attest",
                "add",
                "reader",
                "--training",
                "e2e",
                "--date",
                "2020-01-01",
                "--tenant",
                tenant,
            ],
            &pw,
        );
        assert!(
            attest.status.success(),
            "fixture reader: {}",
            String::from_utf8_lossy(&attest.stderr)
        );
        for entry in self.tenants.lock().unwrap().iter_mut() {
            if entry.0 == tenant {
                entry.2 = true;
            }
        }
    }

    /// Tells the fixture which administrator a test made itself for `tenant`.
    pub fn register_admin(&self, tenant: &str, user: &str, password: &str) {
        self.admins
            .lock()
            .unwrap()
            .insert(tenant.to_owned(), (user.to_owned(), password.to_owned()));
    }

    /// The fixture reader of `tenant` (`TENANT/reader`, password [`READER_PASSWORD`]), made now
    /// if needed.
    pub fn reader(&self, tenant: &str) -> String {
        self.ensure_reader(tenant);
        format!("{tenant}/reader")
    }

    /// Runs with `stdin` as standard input.
    pub fn run_stdin(&self, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
        use std::io::Write;
        let mut command = Command::new(BIN);
        command
            .current_dir(self.path())
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("CALLVAULT_PASSWORD")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("run callvault");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("stdin");
        child.wait_with_output().expect("run callvault")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "callvault {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs and expects failure; returns the error code printed as `error[CODE]`.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "callvault {args:?} should fail but printed {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            stderr.trim().lines().filter(|l| l.contains("error")).count(),
            1,
            "one error line: {stderr}"
        );
        error_code(&stderr).unwrap_or_else(|| stderr.trim().to_owned())
    }

    pub fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).expect("JSON output")
    }

    /// Tenant `posti` under Posti's policy, reading national numbers as Finnish.
    pub fn posti_tenant(&self) {
        self.create_tenant("posti", "posti");
        self.ok(&["tenant", "set", "posti", "--country", "FI"]);
    }

    /// Creates tenant `name` under a copy of seed policy `policy` with the fixture reader
    /// role added ([`policy_with_reader`]).
    pub fn create_tenant(&self, name: &str, policy: &str) {
        let dir = self.path().join("e2e-policies");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("{policy}.toml"));
        std::fs::write(&file, policy_with_reader(policy)).unwrap();
        self.ok(&["tenant", "create", name, "--policy", file.to_str().unwrap()]);
        let text = std::fs::read_to_string(policy_file(policy)).unwrap();
        let purpose = text
            .split("[[purposes]]")
            .nth(1)
            .and_then(|p| p.lines().find_map(|l| l.trim().strip_prefix("id = ")))
            .map(|id| id.trim_matches('"').to_owned())
            .expect("a purpose");
        self.tenants.lock().unwrap().push((name.to_owned(), purpose, false));
    }

    /// Writes a file in the installation directory and returns its path as a string.
    pub fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// Ingests `wav` with `meta`; Ok(id) or Err(code).
    pub fn ingest(&self, tenant: &str, wav: &[u8], meta: &Value) -> Result<String, String> {
        let audio = self.write("in.wav", wav);
        let meta = self.write("in.meta.json", meta.to_string().as_bytes());
        let out = self.run(&["ingest", &audio, "--tenant", tenant, "--meta", &meta]);
        if out.status.success() {
            let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
            self.owners.lock().unwrap().insert(id.clone(), tenant.to_owned());
            Ok(id)
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            Err(error_code(&stderr).unwrap_or_else(|| stderr.trim().to_owned()))
        }
    }

    /// Every recording of every tenant `create_tenant` made, as the fixture reader sees them.
    pub fn list(&self) -> Vec<Value> {
        let tenants: Vec<String> = self.tenants.lock().unwrap().iter().map(|(t, _, _)| t.clone()).collect();
        let mut out = Vec::new();
        for tenant in tenants {
            let found = self.json(&["recordings", "list", "--tenant", &tenant, "--json"]);
            out.extend(found.as_array().expect("array").iter().cloned());
        }
        out
    }

    pub fn audit(&self) -> Vec<Value> {
        self.ok(&["audit", "export"])
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    }

    /// Every regular file under `dir`, with its bytes.
    pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push((path.clone(), std::fs::read(&path).unwrap()));
                }
            }
        }
        out
    }
}

/// The code in a `callvault: error[CODE]: ...` line.
pub fn error_code(stderr: &str) -> Option<String> {
    let start = stderr.find("error[")? + "error[".len();
    let end = stderr[start..].find(']')? + start;
    Some(stderr[start..end].to_owned())
}

/// Makes `name` the first administrator of `tenant` (`admin init`), with `password`.
pub fn admin_init(env: &Env, tenant: &str, name: &str, password: &str) {
    let out = env.run_stdin(
        &["admin", "init", "--tenant", tenant, name, "--password-stdin"],
        &[],
        &format!("{password}\n"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Runs `args` as `user` (`--as`, the password in `CALLVAULT_PASSWORD`, `stdin` on
/// standard input): Ok(stdout), or Err(the error code, else the whole error output).
pub fn as_user_stdin(env: &Env, user: &str, password: &str, args: &[&str], stdin: &str) -> Result<String, String> {
    let mut full = vec!["--as", user];
    full.extend_from_slice(args);
    let out = env.run_stdin(&full, &[("CALLVAULT_PASSWORD", password)], stdin);
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).expect("UTF-8 output"))
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(error_code(&stderr).unwrap_or_else(|| stderr.trim().to_owned()))
    }
}

/// [`as_user_stdin`] with nothing on standard input.
pub fn as_user(env: &Env, user: &str, password: &str, args: &[&str]) -> Result<String, String> {
    as_user_stdin(env, user, password, args, "")
}

/// A deterministic noise-like PCM16 sample sequence (so any run of it is distinctive).
pub fn samples(seed: u32, count: usize) -> Vec<i16> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..count)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            ((f64::from(i as u32) * 0.07).sin() * 6000.0) as i16 + (x % 2000) as i16 - 1000
        })
        .collect()
}

/// A PCM16 WAV with one channel per element of `channels`.
pub fn wav_pcm16(channels: &[Vec<i16>]) -> Vec<u8> {
    media::write_wav_pcm16(8000, channels)
}

/// A two-channel (customer, agent) call of `seconds`.
pub fn stereo_call(seconds: usize) -> Vec<u8> {
    wav_pcm16(&[samples(1, 8000 * seconds), samples(2, 8000 * seconds)])
}

/// Metadata for a call, with the fields every policy needs and `extra` merged in.
pub fn meta(direction: &str, purposes: &[&str], extra: Value) -> Value {
    let mut meta = serde_json::json!({
        "direction": direction,
        "started_at": "2026-11-20T10:00:00Z",
        "customer_number": "+447700900123",
        "service_number": "+442080999077",
        "agent": "Alex Agent",
        "purposes": purposes,
        "participants": [
            {"role": "customer", "channel": 0},
            {"role": "agent", "name": "Alex Agent", "channel": 1}
        ]
    });
    if let (Some(base), Some(extra)) = (meta.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    meta
}

// ---------------------------------------------------------------------------
// SIPREC capture: `callvault serve` with its SIP listener, SIPp as the recording
// client (Debian package `sip-tester`), and the RTP captures (pcap) SIPp plays.

/// Whether `sipp` is on the PATH; when it is not, prints why `test` is skipped.
pub fn sipp_available(test: &str) -> bool {
    let found =
        std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("sipp").is_file()));
    if !found {
        eprintln!(
            "skipped {test}: sipp is not installed (Debian package sip-tester; `scripts/deps --test` installs it)"
        );
    }
    found
}

/// Whether `port` can be bound right now on 127.0.0.1 over both UDP and TCP.
pub fn port_is_free(port: u16) -> bool {
    std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// The first of `len` consecutive ports that were all free (UDP and TCP) a moment ago.
/// Blocks are taken below Linux's ephemeral range (32768-60999), so that ports the
/// kernel hands out to other sockets do not land in them, and apart for every call in
/// this process (a counter) and between processes (the process id).
pub fn free_port_block(len: u16) -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    let len32 = u32::from(len);
    let slots = SPAN / len32;
    let start = std::process::id().wrapping_mul(7919) % slots;
    for _ in 0..slots {
        let slot = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % slots;
        let base = (LOW + slot * len32) as u16;
        if (base..base + len).all(port_is_free) {
            return base;
        }
    }
    panic!("no block of {len} free ports between {LOW} and {}", LOW + SPAN);
}

/// Polls `f` every 100 ms until it returns `Some` or `timeout` passes.
pub fn wait_for<T>(timeout: std::time::Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(value) = f() {
            return Some(value);
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A running `callvault serve` with SIP, stopped when dropped.
pub struct SipServer {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub http: String,
    /// The SIP listener (UDP and TCP).
    pub sip: std::net::SocketAddr,
    /// The `[sip]` RTP port range, inclusive.
    pub rtp_ports: (u16, u16),
    log: PathBuf,
}

impl SipServer {
    /// What the server logged so far (stderr, `RUST_LOG=debug`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for SipServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends one OPTIONS over UDP to `to` and returns the status line of the answer, if
/// one comes within `wait`.
pub fn sip_options(to: std::net::SocketAddr, wait: std::time::Duration) -> Option<String> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").ok()?;
    let local = socket.local_addr().ok()?;
    let request = format!(
        "OPTIONS sip:srs@{to} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-e2e-{port}\r\nFrom: <sip:probe@{local}>;tag=e2e{port}\r\nTo: <sip:srs@{to}>\r\nCall-ID: e2e-probe-{port}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        port = local.port()
    );
    socket.send_to(request.as_bytes(), to).ok()?;
    socket.set_read_timeout(Some(wait)).ok()?;
    let mut buf = [0u8; 4096];
    let (n, _) = socket.recv_from(&mut buf).ok()?;
    String::from_utf8_lossy(&buf[..n]).lines().next().map(str::to_owned)
}

impl Env {
    /// Appends a `[sip]` table to this installation's callvault.toml: media on
    /// 127.0.0.1, RTP from `rtp_ports` (inclusive), and the inactivity timeout if given.
    pub fn sip_config(&self, rtp_ports: (u16, u16), inactivity_timeout_s: Option<u64>) {
        let path = self.path().join("callvault.toml");
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&format!(
            "\n[sip]\nmedia_address = \"127.0.0.1\"\nrtp_port_min = {}\nrtp_port_max = {}\n",
            rtp_ports.0, rtp_ports.1
        ));
        if let Some(seconds) = inactivity_timeout_s {
            text.push_str(&format!("inactivity_timeout_s = {seconds}\n"));
        }
        std::fs::write(path, text).unwrap();
    }

    /// Starts `callvault serve` with SIP on a free 127.0.0.1 port, HTTP on another and
    /// RTP from a free range of 20 ports; `default_tenant` gets every call. Waits for
    /// `/healthz` and for the SIP listener to answer an OPTIONS.
    pub fn serve_sip(&self, default_tenant: &str, inactivity_timeout_s: Option<u64>) -> SipServer {
        self.serve_sip_with(default_tenant, inactivity_timeout_s, "")
    }

    /// [`Env::serve_sip`] with `sip_extra` (TOML lines) appended to the `[sip]` table.
    pub fn serve_sip_with(
        &self,
        default_tenant: &str,
        inactivity_timeout_s: Option<u64>,
        sip_extra: &str,
    ) -> SipServer {
        let base = free_port_block(24);
        let rtp_ports = (base + 4, base + 23);
        self.sip_config(rtp_ports, inactivity_timeout_s);
        let config = self.path().join("callvault.toml");
        let text = std::fs::read_to_string(&config).unwrap_or_default();
        std::fs::write(&config, format!("{text}{sip_extra}\n")).unwrap();
        let log = self.path().join(format!("serve-{base}.log"));
        let sip: std::net::SocketAddr = format!("127.0.0.1:{base}").parse().unwrap();
        let http = format!("127.0.0.1:{}", base + 1);
        let child = Command::new(BIN)
            .current_dir(self.path())
            .args(["serve", "--http-listen", &http, "--sip-listen", &sip.to_string()])
            .args(["--sip-default-tenant", default_tenant])
            .env("RUST_LOG", "debug,sqlx=warn")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start serve");
        let mut server = SipServer {
            child,
            http: format!("http://{http}"),
            sip,
            rtp_ports,
            log,
        };
        let healthy = wait_for(std::time::Duration::from_secs(30), || {
            if !server.running() {
                return Some(false);
            }
            reqwest::blocking::get(format!("{}/healthz", server.http))
                .is_ok_and(|r| r.status().is_success())
                .then_some(true)
        });
        assert_eq!(healthy, Some(true), "serve did not become healthy:\n{}", server.log());
        let answered = wait_for(std::time::Duration::from_secs(10), || {
            sip_options(sip, std::time::Duration::from_millis(300))
        });
        assert!(
            answered.is_some(),
            "serve does not answer OPTIONS on {sip}:\n{}",
            server.log()
        );
        server
    }
}

/// SIPp's scenario files for the e2e tests.
pub fn sipp_scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/sipp").join(name)
}

/// One SIPp run: `-m 1 -l 1` over UDP from 127.0.0.1, with its own working directory
/// (logs: `-trace_err`, `-trace_msg`) under the installation's directory.
pub struct Sipp {
    child: Option<std::process::Child>,
    /// SIPp's working directory (scenario-relative files such as `prompt.pcap` go here).
    pub dir: PathBuf,
    status: Option<std::process::ExitStatus>,
}

/// How a SIPp run ended.
#[derive(Debug)]
pub struct SippOutcome {
    /// SIPp's exit code: 0 every call succeeded, 1 a call failed, 254/255 fatal.
    pub code: Option<i32>,
    /// stdout/stderr and the error and message logs, for assertion messages.
    pub log: String,
    /// The message log alone: every SIP message sent and received.
    pub messages: String,
}

impl SippOutcome {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl Sipp {
    /// A working directory for SIPp under `env`, before it starts (to put files in).
    pub fn prepare(env: &Env, name: &str) -> Sipp {
        let dir = env.path().join(format!("sipp-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        Sipp {
            child: None,
            dir,
            status: None,
        }
    }

    /// Starts `scenario` against `server` (request URI user `srs`); `extra` are more
    /// SIPp arguments. SIPp's own SIP port and media ports (`-mp`, offered as
    /// `[media_port]` and `[media_port+2]`) are free ones.
    pub fn start(mut self, scenario: &str, server: &SipServer, extra: &[&str]) -> Sipp {
        let base = free_port_block(6);
        let stdout = std::fs::File::create(self.dir.join("sipp.out")).unwrap();
        let stderr = stdout.try_clone().unwrap();
        let child = Command::new("sipp")
            .current_dir(&self.dir)
            .arg("-sf")
            .arg(sipp_scenario(scenario))
            .args(["-s", "srs", "-m", "1", "-l", "1", "-t", "u1"])
            .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-p", &base.to_string(), "-mp", &(base + 2).to_string()])
            .args([
                "-timeout",
                "60s",
                "-timeout_error",
                "-nostdin",
                "-trace_err",
                "-trace_msg",
            ])
            .args(extra)
            .arg(server.sip.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start sipp");
        self.child = Some(child);
        self
    }

    /// Whether SIPp is still running.
    pub fn running(&mut self) -> bool {
        match self.child.as_mut().map(|c| c.try_wait()) {
            Some(Ok(None)) => true,
            Some(Ok(Some(status))) => {
                self.status = Some(status);
                false
            }
            _ => false,
        }
    }

    /// Everything SIPp logged so far: the message log (`-trace_msg`), the error log
    /// (`-trace_err`) and its screen output.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        let mut entries: Vec<_> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "log" || x == "out"))
            .collect();
        entries.sort();
        for path in entries {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            out.push_str(&format!(
                "==== {}\n{text}\n",
                path.file_name().unwrap().to_string_lossy()
            ));
        }
        out
    }

    /// SIPp's message log (every SIP message sent and received so far).
    pub fn messages(&self) -> String {
        std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with("_messages.log"))
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect()
    }

    /// Waits until SIPp exits (at most 90 s, then kills it).
    pub fn wait(mut self) -> SippOutcome {
        let finished = wait_for(std::time::Duration::from_secs(90), || (!self.running()).then_some(()));
        if finished.is_none()
            && let Some(child) = self.child.as_mut()
        {
            let _ = child.kill();
            self.status = child.wait().ok();
        }
        SippOutcome {
            code: self.status.and_then(|s| s.code()),
            log: self.logs(),
            messages: self.messages(),
        }
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut()
            && matches!(child.try_wait(), Ok(None))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `scenario` to its end against `server`.
pub fn run_sipp(env: &Env, name: &str, scenario: &str, server: &SipServer) -> SippOutcome {
    Sipp::prepare(env, name).start(scenario, server, &[]).wait()
}

/// One RTP packet of a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpCapture {
    /// Capture time, microseconds since the epoch.
    pub time_us: u64,
    pub marker: bool,
    pub payload_type: u8,
    pub seq: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub payload: Vec<u8>,
}

/// The RTP packets of a pcap file (classic format, either byte order, µs or ns
/// timestamps; Ethernet, Linux cooked, raw IP or BSD loopback framing; IPv4 or IPv6;
/// UDP). Packets that are not RTP version 2 are skipped.
pub fn read_pcap_rtp(bytes: &[u8]) -> Vec<RtpCapture> {
    fn u16be(b: &[u8], at: usize) -> Option<u16> {
        Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
    }
    fn u32be(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    }
    /// The UDP payload of an IP packet.
    fn udp_payload(ip: &[u8]) -> Option<&[u8]> {
        let (proto, rest) = match ip.first()? >> 4 {
            4 => {
                let ihl = usize::from(ip[0] & 0x0f) * 4;
                let total = usize::from(u16be(ip, 2)?);
                (*ip.get(9)?, ip.get(ihl..total.min(ip.len()))?)
            }
            6 => (*ip.get(6)?, ip.get(40..)?),
            _ => return None,
        };
        if proto != 17 {
            return None;
        }
        let len = usize::from(u16be(rest, 4)?);
        rest.get(8..len.min(rest.len()))
    }
    let Some(header) = bytes.get(..24) else {
        panic!("pcap: shorter than its header");
    };
    let magic = u32::from_le_bytes(header[..4].try_into().unwrap());
    let (le, nanos) = match magic {
        0xa1b2_c3d4 => (true, false),
        0xa1b2_3c4d => (true, true),
        0xd4c3_b2a1 => (false, false),
        0x4d3c_b2a1 => (false, true),
        other => panic!("pcap: unknown magic {other:#x} (pcapng is not read)"),
    };
    let word = |b: &[u8], at: usize| -> u32 {
        let raw: [u8; 4] = b[at..at + 4].try_into().unwrap();
        if le {
            u32::from_le_bytes(raw)
        } else {
            u32::from_be_bytes(raw)
        }
    };
    let link = word(header, 20);
    let mut out = Vec::new();
    let mut at = 24;
    while let Some(record) = bytes.get(at..at + 16) {
        let (secs, frac, incl) = (word(record, 0), word(record, 4), word(record, 8) as usize);
        let Some(frame) = bytes.get(at + 16..at + 16 + incl) else {
            break;
        };
        at += 16 + incl;
        let ip = match link {
            1 => {
                // Ethernet, possibly 802.1Q-tagged.
                let mut offset = 12;
                while matches!(u16be(frame, offset), Some(0x8100 | 0x88a8)) {
                    offset += 4;
                }
                frame.get(offset + 2..)
            }
            113 => frame.get(16..),
            101 | 12 | 14 => Some(frame),
            0 | 108 => frame.get(4..),
            other => panic!("pcap: link type {other} is not read"),
        };
        let Some(rtp) = ip.and_then(udp_payload) else {
            continue;
        };
        if rtp.len() < 12 || rtp[0] >> 6 != 2 {
            continue;
        }
        let csrc = usize::from(rtp[0] & 0x0f) * 4;
        let mut start = 12 + csrc;
        if rtp[0] & 0x10 != 0 {
            let Some(words) = u16be(rtp, start + 2) else { continue };
            start += 4 + usize::from(words) * 4;
        }
        let mut end = rtp.len();
        if rtp[0] & 0x20 != 0 {
            end = end.saturating_sub(usize::from(*rtp.last().unwrap()));
        }
        let Some(payload) = rtp.get(start..end) else { continue };
        out.push(RtpCapture {
            time_us: u64::from(secs) * 1_000_000 + u64::from(if nanos { frac / 1000 } else { frac }),
            marker: rtp[1] & 0x80 != 0,
            payload_type: rtp[1] & 0x7f,
            seq: u16be(rtp, 2).unwrap(),
            timestamp: u32be(rtp, 4).unwrap(),
            ssrc: u32be(rtp, 8).unwrap(),
            payload: payload.to_vec(),
        });
    }
    out
}

/// A pcap file (Ethernet, IPv4, UDP 127.0.0.1:10000 → 127.0.0.1:10000) holding `packets`
/// as RTP: what SIPp's `play_pcap_audio` plays (it rewrites addresses and ports).
pub fn write_pcap_rtp(packets: &[RtpCapture]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65_535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for p in packets {
        let mut rtp = vec![0x80, (u8::from(p.marker) << 7) | p.payload_type];
        rtp.extend_from_slice(&p.seq.to_be_bytes());
        rtp.extend_from_slice(&p.timestamp.to_be_bytes());
        rtp.extend_from_slice(&p.ssrc.to_be_bytes());
        rtp.extend_from_slice(&p.payload);
        let udp_len = (8 + rtp.len()) as u16;
        let ip_len = 20 + udp_len;
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1];
        ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
        let sum = ip
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum::<u32>();
        let sum = (sum & 0xffff) + (sum >> 16);
        let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&0x0800u16.to_be_bytes());
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&10_000u16.to_be_bytes());
        frame.extend_from_slice(&10_000u16.to_be_bytes());
        frame.extend_from_slice(&udp_len.to_be_bytes());
        frame.extend_from_slice(&0u16.to_be_bytes()); // no UDP checksum
        frame.extend_from_slice(&rtp);
        out.extend_from_slice(&((p.time_us / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((p.time_us % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
    }
    out
}

/// The G.711 packets (payload type 0 or 8) of a capture decoded to PCM16, in
/// sequence order, and their duration in milliseconds (8 kHz: one byte a sample).
pub fn g711_audio(packets: &[RtpCapture]) -> (Vec<i16>, u64) {
    let mut audio: Vec<&RtpCapture> = packets.iter().filter(|p| matches!(p.payload_type, 0 | 8)).collect();
    audio.sort_by_key(|p| p.seq);
    let samples: Vec<i16> = audio
        .iter()
        .flat_map(|p| {
            p.payload.iter().map(move |&b| {
                if p.payload_type == 8 {
                    media::alaw_decode(b)
                } else {
                    media::ulaw_decode(b)
                }
            })
        })
        .collect();
    let ms = samples.len() as u64 / 8;
    (samples, ms)
}

/// Where `needle` occurs as a contiguous run in `haystack`.
pub fn find_run(haystack: &[i16], needle: &[i16]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    // Anchor on the needle's most varied 32-sample window (silence matches anywhere).
    let anchor_len = needle.len().min(32);
    let anchor = (0..=needle.len() - anchor_len)
        .step_by(8)
        .max_by_key(|&i| {
            let w = &needle[i..i + anchor_len];
            w.windows(2)
                .map(|p| (i32::from(p[0]) - i32::from(p[1])).unsigned_abs())
                .sum::<u32>()
        })
        .unwrap_or(0);
    let window = &needle[anchor..anchor + anchor_len];
    (anchor..=haystack.len() - needle.len() + anchor)
        .filter(|&at| &haystack[at..at + anchor_len] == window)
        .map(|at| at - anchor)
        .find(|&start| &haystack[start..start + needle.len()] == needle)
}

/// The channels of a PCM16 WAV file, de-interleaved, and its sample rate.
pub fn wav_channels(path: &Path) -> (u32, Vec<Vec<i16>>) {
    let wav = media::parse_wav(&std::fs::read(path).expect("exported WAV")).expect("a valid WAV");
    let channels = usize::from(wav.channels);
    let samples = media::decode_to_pcm16(wav.encoding, &wav.data);
    let mut out = vec![Vec::with_capacity(samples.len() / channels.max(1)); channels];
    for (i, s) in samples.into_iter().enumerate() {
        out[i % channels].push(s);
    }
    (wav.sample_rate, out)
}

/// Byte sizes of every file under `dir` (empty when it does not exist).
pub fn file_sizes(dir: &Path) -> std::collections::BTreeMap<PathBuf, u64> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(meta) = entry.metadata() {
                out.insert(path, meta.len());
            }
        }
    }
    out
}

/// Files under `dir` that contain any 16-byte run of any of `payloads` (plaintext
/// audio where only ciphertext may be).
pub fn files_containing_payload(dir: &Path, payloads: &[Vec<u8>]) -> Vec<PathBuf> {
    let windows: std::collections::HashSet<&[u8]> = payloads
        .iter()
        .flat_map(|p| p.windows(16))
        // Runs of one byte (A-law silence) would match anything repetitive.
        .filter(|w| w.iter().any(|&b| b != w[0]))
        .collect();
    // Read while the server runs: a file may vanish between listing and reading.
    file_sizes(dir)
        .into_keys()
        .filter(|path| std::fs::read(path).is_ok_and(|bytes| bytes.windows(16).any(|w| windows.contains(w))))
        .collect()
}

/// `ms` milliseconds of a DTMF key as in-band tones at 8 kHz: the sum of a row tone
/// (`low_hz`) and a column tone (`high_hz`), each of peak `amplitude`.
pub fn dtmf_tone(low_hz: f64, high_hz: f64, ms: usize, amplitude: f64) -> Vec<i16> {
    (0..ms * 8)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let s = (2.0 * std::f64::consts::PI * low_hz * t).sin() + (2.0 * std::f64::consts::PI * high_hz * t).sin();
            (s * amplitude).round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// `audio` (8 kHz PCM16) as µ-law RTP (payload type 0) in packets of 20 ms (160
/// samples), 20 ms apart, on `ssrc`: a capture for SIPp's `play_pcap_audio`.
pub fn ulaw_rtp_packets(audio: &[i16], ssrc: u32) -> Vec<RtpCapture> {
    audio
        .chunks(160)
        .enumerate()
        .map(|(i, chunk)| RtpCapture {
            time_us: 1_700_000_000_000_000 + i as u64 * 20_000,
            marker: i == 0,
            payload_type: 0,
            seq: 2000u16.wrapping_add(i as u16),
            timestamp: 16_000u32.wrapping_add(i as u32 * 160),
            ssrc,
            payload: chunk.iter().map(|&s| media::ulaw_encode(s)).collect(),
        })
        .collect()
}

/// `audio` as a µ-law channel stores and exports it (encoded, then decoded).
pub fn ulaw_round_trip(audio: &[i16]) -> Vec<i16> {
    audio
        .iter()
        .map(|&s| media::ulaw_decode(media::ulaw_encode(s)))
        .collect()
}

/// Runs `statements` on the audit log's file (`catalog.audit.sqlite`, beside the
/// catalog) with SQLite (no callvault process running).
pub fn audit_sql(env: &Env, statements: &[&str]) {
    let file = env.data().join("catalog.audit.sqlite");
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
                .await
                .unwrap();
            for statement in statements {
                sqlx::query(statement).execute(&mut conn).await.unwrap();
            }
            conn.close().await.unwrap();
        });
}

/// Of the A-law packets in `range` that are not pure silence, how many appear
/// decoded in `channel`: (found, voiced).
pub fn voiced_alaw_packets_found(
    packets: &[RtpCapture],
    range: std::ops::Range<usize>,
    channel: &[i16],
) -> (usize, usize) {
    let voiced: Vec<&RtpCapture> = packets[range]
        .iter()
        .filter(|p| p.payload.iter().any(|&b| b != p.payload[0]))
        .collect();
    let found = voiced
        .iter()
        .filter(|p| {
            let decoded: Vec<i16> = p.payload.iter().map(|&b| media::alaw_decode(b)).collect();
            find_run(channel, &decoded).is_some()
        })
        .count();
    (found, voiced.len())
}
