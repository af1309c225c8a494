#!/usr/bin/env python3
"""The capture benchmark: the shipped `callvault serve` (Posti policy: encryption and masking on)
against the two anchors of ../shared/tools/rtp-anchors (rtprecv and rtpengine), in one run.

For each system, in turn, the system under test is pinned to core 1 and rtpgen to core 0; CPU is
the sum of /proc/PID/task/*/schedstat over the steady window t=5 s .. t=D-5 s of the generator,
exactly as the anchors measure it. callvault gets N real SIPREC calls over SIP/UDP (a small
SIPREC client below, sending the Cisco CUBE offer of shared/interop with the parties made
decidable), the RTP ports are read from the 200 OK answers, every call ends with BYE, and then
every call must be sealed with the right duration and no packet lost (catalog: `callvault
recordings list --json`; packets: /metrics against rtpgen's count).

  python3 bench/capture/run_capture.py --calls 2000 --ptime 20 --duration 30
  python3 bench/capture/run_capture.py --calls 2000 --ptime 10 --duration 30 --systems callvault,rtprecv
  python3 bench/capture/run_capture.py --calls 4000 --duration 20 --systems callvault

Needs: a release build (`cargo build --release -p callvault`), rtp-bench built into
--rtp-bench (`cd ../shared/tools/rtp-anchors/rtp-bench && CARGO_TARGET_DIR=/tmp/rtp-bench-target
cargo build --release`), rtpengine (`apt-get install -y --no-install-recommends rtpengine-daemon`)
and `ulimit -n` 20000. Results are appended as JSON lines to --out.
"""
import argparse, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ANCHORS = os.path.join(os.path.dirname(REPO), "shared", "tools", "rtp-anchors")
sys.path.insert(0, ANCHORS)
import run_anchor2 as anchor2  # noqa: E402  (rtpengine driver; its cpu/proc helpers are the anchors' own)

cpu_idle, proc_cpu, parse_result = anchor2.cpu_idle, anchor2.proc_cpu, anchor2.parse_result
OFFER = os.path.join(os.path.dirname(REPO), "shared", "interop", "siprec-offers", "cisco-siprec-offer.txt")
SIP_PORT, HTTP_PORT, CLIENT_PORT = 15060, 18080, 15070
RTP_MIN, RTP_MAX = 20000, 32767


# ---- measurement ------------------------------------------------------------------------------
class Window:
    """CPU of one process and both cores over the steady window of a generator run."""

    def __init__(self, pid):
        self.pid = pid

    def start(self):
        self.t, self.c0, self.c1, self.p = time.monotonic(), cpu_idle(0), cpu_idle(1), proc_cpu(self.pid)

    def stop(self, pkts_per_s):
        win = time.monotonic() - self.t
        c0, c1, p = cpu_idle(0), cpu_idle(1), proc_cpu(self.pid)
        return {
            "win_s": round(win, 3),
            "cpu_s_win": p - self.p,
            "ns_per_pkt": round((p - self.p) * 1e9 / (pkts_per_s * win)),
            "proc_util_pct": round(100 * (p - self.p) / win, 1),
            "core0_util_pct": round(100 * (1 - (c0 - self.c0) / win), 1),
            "core1_util_pct": round(100 * (1 - (c1 - self.c1) / win), 1),
        }


def run_generator(rtpgen, args, pid, duration, pkts_per_s, snapshot=None):
    """Runs rtpgen on core 0; samples `pid` over t=5 s .. t=D-5 s; `snapshot()` at the window's end."""
    cpu_start = proc_cpu(pid)
    gen = subprocess.Popen(["taskset", "-c", "0", rtpgen, "--duration", str(duration)] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    window = Window(pid)
    time.sleep(max(0, t0 + 5 - time.monotonic()))
    window.start()
    time.sleep(max(0, t0 + duration - 5 - time.monotonic()))
    res = window.stop(pkts_per_s)
    if snapshot:
        res.update(snapshot())
    out, err = gen.communicate()
    time.sleep(0.5)  # what was queued is read
    res["gen"] = g = parse_result(out, "rtpgen")
    if g is None:
        raise RuntimeError("rtpgen: " + err)
    # The anchors divide by the nominal rate; on a busy core 0 the generator falls behind, so also
    # give the figure at its achieved rate and over the whole run (CPU from start to end / packets).
    res["ns_per_pkt_achieved_rate"] = round(res["cpu_s_win"] * 1e9 / (res["win_s"] * g["sent"] / g["elapsed_s"]))
    res["ns_per_pkt_whole_run"] = round((proc_cpu(pid) - cpu_start) * 1e9 / max(1, g["sent"]))
    return res


def proc_status(pid):
    """Resident memory (KiB) and open file descriptors of a process."""
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


# ---- rtprecv (anchor 1, default unbatched mode) -------------------------------------------------
def run_rtprecv(bench_bin, calls, duration, ptime):
    outdir = "/tmp/capture-bench-rtprecv"
    shutil.rmtree(outdir, ignore_errors=True)
    recv = subprocess.Popen(["taskset", "-c", "1", f"{bench_bin}/rtprecv", "--calls", str(calls), "--base", "20000",
                             "--out", outdir, "--idle-exit", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if "READY" not in recv.stdout.readline():
        recv.kill()
        raise RuntimeError("rtprecv not ready: " + recv.stderr.read())
    time.sleep(0.5)
    idle = proc_status(recv.pid)
    pps = 2 * calls * 1000 / ptime
    res = run_generator(f"{bench_bin}/rtpgen", ["--calls", str(calls), "--dst-base", "20000", "--ptime", str(ptime)],
                        recv.pid, duration, pps, lambda: dict(zip(("rss_kib", "fds"), proc_status(recv.pid))))
    out, _ = recv.communicate(timeout=60)
    r = parse_result(out, "rtprecv")
    res.update(system="rtprecv", calls=calls, ptime=ptime, duration=duration, recv=r,
               rss_kib_idle=idle[0], fds_idle=idle[1])
    res["loss"] = res["gen"]["sent"] - (r or {}).get("received", 0)
    shutil.rmtree(outdir, ignore_errors=True)
    return res


# ---- rtpengine (anchor 2) -----------------------------------------------------------------------
def run_rtpengine(bench_bin, calls, duration, ptime):
    anchor2.BIN = bench_bin
    r = anchor2.one_run(calls, duration, ptime=ptime)
    g = r["gen"]
    cpu_s_win = r["rtpe_util_pct_win"] / 100 * r["win_s"]
    return {"system": "rtpengine", "calls": calls, "ptime": ptime, "duration": duration,
            "ns_per_pkt": r["rtpe_ns_per_pkt_win"], "proc_util_pct": r["rtpe_util_pct_win"],
            "ns_per_pkt_achieved_rate": round(cpu_s_win * 1e9 / (r["win_s"] * g["sent"] / g["elapsed_s"])),
            "ns_per_pkt_whole_run": r["rtpe_ns_per_pkt_whole"],
            "core0_util_pct": r["core0_util_pct"], "core1_util_pct": r["core1_util_pct"], "gen": r["gen"],
            "loss": r.get("loss"), "setup_s": r["setup_s"], "win_s": r["win_s"]}


# ---- callvault ---------------------------------------------------------------------------------
def offer_body():
    """The Cisco CUBE offer with CRLF line ends and decidable parties: the customer (first, so the
    call is inbound) is a Finnish mobile number, the agent is on the tenant's PBX domain."""
    with open(OFFER) as f:
        text = f.read()
    text = text.replace("sip:7301@35.162.237.204", "sip:+358401234567@carrier.example")
    text = text.replace("sip:7300@35.162.237.204", "sip:anna@pbx.posti.example")
    text = text.replace("172.31.93.236", "127.0.0.1")
    return text.lstrip("\n").replace("\n", "\r\n").encode()


class SiprecClient:
    """A SIPREC recording client over UDP: INVITE (pipelined, retransmitted), ACK, BYE."""

    def __init__(self, server, window=100):
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", CLIENT_PORT))
        self.sock.settimeout(0.05)
        self.window = window
        self.body = offer_body()
        self.calls = {}  # call id -> {"tag": to-tag, "ports": [..], "contact": uri}

    def _send(self, text, body=b""):
        self.sock.sendto(text.encode() + body, self.server)

    def _head(self, method, uri, call_id, cseq, branch, to_tag=None):
        to = f"<sip:srs@{self.server[0]}:{self.server[1]}>" + (f";tag={to_tag}" if to_tag else "")
        return (f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{CLIENT_PORT};branch=z9hG4bK{branch}\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:sbc@127.0.0.1:{CLIENT_PORT}>;tag=sbc-{call_id}\r\nTo: {to}\r\n"
                f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n")

    def _invite(self, call_id, attempt):
        head = self._head("INVITE", f"sip:srs@{self.server[0]}:{self.server[1]}", call_id, attempt,
                          f"-{call_id}-a{attempt}")
        head += (f"Contact: <sip:sbc@127.0.0.1:{CLIENT_PORT}>;+sip.src\r\nRequire: siprec\r\n"
                 f"Accept: application/sdp, application/rs-metadata+xml\r\n"
                 f"Content-Type: multipart/mixed;boundary=uniqueBoundary\r\nMIME-Version: 1.0\r\n"
                 f"Content-Length: {len(self.body)}\r\n\r\n")
        self._send(head, self.body)

    def _responses(self):
        """Yields (status, cseq method, call id, to tag, contact uri, body) of what arrived."""
        while True:
            try:
                data = self.sock.recv(65535)
            except socket.timeout:
                return
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode(errors="replace").split("\r\n")
            if not lines[0].startswith("SIP/2.0 "):
                continue
            status = int(lines[0].split()[1])
            fields = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                fields.setdefault(name.strip().lower(), value.strip())
            to_tag = re.search(r";tag=([^;>\s]+)", fields.get("to", fields.get("t", "")))
            contact = re.search(r"<([^>]+)>", fields.get("contact", fields.get("m", "")))
            cseq = fields.get("cseq", "").split()
            yield (status, cseq[-1] if cseq else "", fields.get("call-id", fields.get("i", "")),
                   to_tag.group(1) if to_tag else None, contact.group(1) if contact else None, body)

    def _ack(self, call_id):
        call = self.calls[call_id]
        self._send(self._head("ACK", call["contact"], call_id, call["cseq"], f"-{call_id}-ack", call["tag"]) +
                   "Content-Length: 0\r\n\r\n")

    def setup(self, calls, timeout_s=600):
        """Sets up `calls` calls; returns the seconds it took."""
        pending = {}  # call id -> (sent at, tries, attempt: a new transaction after a 503)
        self.refused = 0
        todo = [f"bench-{i}" for i in range(calls)]
        todo.reverse()
        t0 = time.monotonic()
        while (todo or pending) and time.monotonic() - t0 < timeout_s:
            while todo and len(pending) < self.window:
                call_id = todo.pop()
                self._invite(call_id, 1)
                pending[call_id] = (time.monotonic(), 1, 1)
            for status, method, call_id, tag, contact, body in self._responses():
                if method != "INVITE":
                    continue
                if status == 503 and call_id in pending:
                    # Admission control: come back in a second, as a new transaction.
                    self.refused += 1
                    _, _, attempt = pending[call_id]
                    pending[call_id] = (time.monotonic() - 1.0, 0, attempt + 1)
                    continue
                if status >= 300:
                    raise RuntimeError(f"{call_id}: INVITE answered {status}")
                if status == 200:
                    if call_id not in self.calls:
                        ports = [int(p) for p in re.findall(rb"m=audio (\d+) ", body)]
                        self.calls[call_id] = {"tag": tag, "ports": ports, "contact": contact,
                                               "cseq": pending.get(call_id, (0, 0, 1))[2]}
                    pending.pop(call_id, None)
                    self._ack(call_id)
            now = time.monotonic()
            for call_id, (sent, tries, attempt) in list(pending.items()):
                if now - sent > 2.0:
                    if tries >= 6:
                        raise RuntimeError(f"{call_id}: no answer to INVITE")
                    self._invite(call_id, attempt)
                    pending[call_id] = (now, tries + 1, attempt)
        if todo or pending:
            raise RuntimeError(f"setup timed out: {len(todo) + len(pending)} calls left")
        return time.monotonic() - t0

    def bye_all(self, timeout_s=600):
        """Ends every call with BYE (pipelined, retransmitted); returns the seconds it took."""
        todo = list(self.calls)
        todo.reverse()
        pending = {}
        t0 = time.monotonic()

        def bye(call_id):
            call = self.calls[call_id]
            self._send(self._head("BYE", call["contact"], call_id, call["cseq"] + 1, f"-{call_id}-bye", call["tag"]) +
                       "Content-Length: 0\r\n\r\n")

        while (todo or pending) and time.monotonic() - t0 < timeout_s:
            while todo and len(pending) < self.window:
                call_id = todo.pop()
                bye(call_id)
                pending[call_id] = (time.monotonic(), 1)
            for status, method, call_id, *_ in self._responses():
                if method == "INVITE" and call_id in self.calls:
                    self._ack(call_id)  # a late 200 retransmission
                elif method == "BYE" and status >= 200:
                    pending.pop(call_id, None)
            now = time.monotonic()
            for call_id, (sent, tries) in list(pending.items()):
                if now - sent > 4.0 and tries < 6:
                    bye(call_id)
                    pending[call_id] = (now, tries + 1)
        return time.monotonic() - t0


def http_get(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}{path}", timeout=10) as r:
        return r.read().decode()


def metric(text, name):
    m = re.search(rf"^{name} (\d+)", text, re.M)
    return int(m.group(1)) if m else 0


def run_callvault(binary, bench_bin, calls, duration, ptime, setup_only=False, keep=False, coalesce_us=None):
    binary = os.path.abspath(binary)
    home = tempfile.mkdtemp(prefix="capture-bench-", dir="/tmp")
    with open(os.path.join(home, "callvault.toml"), "w") as f:
        f.write(f'[storage]\nregion = "eu-eea"\n\n[sip]\nmedia_address = "127.0.0.1"\n'
                f"rtp_port_min = {RTP_MIN}\nrtp_port_max = {RTP_MAX}\ninactivity_timeout_s = 120\n")

    def cli(*args):
        out = subprocess.run([binary] + list(args), cwd=home, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"callvault {' '.join(args)}: {out.stderr}")
        return out.stdout

    cli("tenant", "create", "posti", "--policy", os.path.join(REPO, "policies", "posti.toml"))
    cli("tenant", "set", "posti", "--country", "FI", "--agent-pattern", "pbx.posti.example")
    log = open(os.path.join(home, "serve.log"), "w")
    env = dict(os.environ, RUST_LOG="warn")
    if coalesce_us is not None:
        env["CALLVAULT_CAPTURE_COALESCE_US"] = str(coalesce_us)
    serve = subprocess.Popen(["taskset", "-c", "1", binary, "serve", "--http-listen", f"127.0.0.1:{HTTP_PORT}",
                              "--sip-listen", f"127.0.0.1:{SIP_PORT}", "--sip-default-tenant", "posti"],
                             cwd=home, stdout=log, stderr=subprocess.STDOUT, env=env)
    res = {"system": "callvault", "calls": calls, "ptime": ptime, "duration": duration, "home": home,
           "coalesce_us": coalesce_us}
    client = None
    try:
        for _ in range(100):
            try:
                http_get("/healthz")
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("serve did not become healthy; see " + log.name)
        time.sleep(0.5)
        idle = proc_status(serve.pid)
        os.sched_setaffinity(0, {0})  # the client runs beside the generator, off the recorder's core
        client = SiprecClient(("127.0.0.1", SIP_PORT))
        res["setup_s"] = round(client.setup(calls), 2)
        res["invites_refused_503"] = client.refused
        after_setup = proc_status(serve.pid)
        res.update(rss_kib_idle=idle[0], fds_idle=idle[1], rss_kib_setup=after_setup[0], fds_setup=after_setup[1])
        res["fds_per_call"] = round((after_setup[1] - idle[1]) / calls, 3)
        if setup_only:
            res["rss_kib_per_call_setup"] = round((after_setup[0] - idle[0]) / calls, 1)
            return res
        targets = os.path.join(home, "targets.txt")
        with open(targets, "w") as f:
            for i in range(calls):
                for port in client.calls[f"bench-{i}"]["ports"]:
                    f.write(f"127.0.0.1:{port}\n")
        pps = 2 * calls * 1000 / ptime
        gen = run_generator(f"{bench_bin}/rtpgen", ["--targets", targets, "--ptime", str(ptime)], serve.pid,
                            duration, pps, lambda: dict(zip(("rss_kib", "fds"), proc_status(serve.pid))))
        res.update(gen)
        res["rss_kib_per_call"] = round((res["rss_kib"] - idle[0]) / calls, 1)
        time.sleep(1)
        res["bye_s"] = round(client.bye_all(), 2)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 900:
            metrics = http_get("/metrics")
            if metric(metrics, "callvault_recorder_calls_recorded_total") + \
                    metric(metrics, "callvault_recorder_calls_not_recorded_total") >= calls:
                break
            time.sleep(1)
        res["seal_s"] = round(time.monotonic() - t0, 2)
        metrics = http_get("/metrics")
        received = metric(metrics, "callvault_recorder_rtp_packets_total")
        res.update(received=received, loss=res["gen"]["sent"] - received,
                   lost_by_seq=metric(metrics, "callvault_recorder_rtp_lost_total"),
                   calls_recorded=metric(metrics, "callvault_recorder_calls_recorded_total"))
        listing = json.loads(cli("recordings", "list", "--json"))
        recordings = listing if isinstance(listing, list) else listing.get("recordings", [])
        # A stream's media span: from its first to its last packet, as the generator sent them.
        expected_ms = res["gen"]["elapsed_s"] * 1000 - ptime
        durations = [r.get("duration_ms") for r in recordings]
        res["sealed"] = sum(1 for r in recordings if r.get("state") == "sealed")
        res["duration_ms_min"] = min(durations, default=None)
        res["duration_ms_max"] = max(durations, default=None)
        res["duration_ms_expected"] = round(expected_ms)
        res["durations_within_100ms"] = sum(1 for d in durations if d is not None and abs(d - expected_ms) <= 100)
        res["streams_with_loss"] = sum(1 for r in recordings for s in r.get("streams", []) if s.get("packets_lost"))
        res["ok"] = (res["sealed"] == calls and res["durations_within_100ms"] == calls and res["loss"] == 0
                     and res["streams_with_loss"] == 0)
        return res
    finally:
        if client:
            client.sock.close()
        os.sched_setaffinity(0, set(range(os.cpu_count())))
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=120)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--ptime", type=int, default=20)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--systems", default="rtprecv,callvault,rtpengine",
                    help="run in this order, e.g. rtprecv,callvault,rtpengine (interleave to compare on a shared machine)")
    ap.add_argument("--setup-only", action="store_true", help="callvault: set up N calls, count fds and memory, stop")
    ap.add_argument("--callvault", default=os.path.join(REPO, "target", "release", "callvault"))
    ap.add_argument("--rtp-bench", default="/tmp/rtp-bench-target/release")
    ap.add_argument("--out", default=os.path.join(HERE, "results.jsonl"))
    ap.add_argument("--keep", action="store_true", help="keep callvault's data directory")
    ap.add_argument("--nice", type=int, default=-20,
                    help="niceness of this script and so of every process it starts (generator and systems under "
                         "test alike): on a machine shared with other work it keeps the generator on time")
    a = ap.parse_args()
    if a.nice:
        os.nice(a.nice - os.nice(0))
    results = {}
    for system in a.systems.split(","):
        if system == "rtprecv":
            res = run_rtprecv(a.rtp_bench, a.calls, a.duration, a.ptime)
        elif system == "rtpengine":
            res = run_rtpengine(a.rtp_bench, a.calls, a.duration, a.ptime)
        elif system == "callvault":
            res = run_callvault(a.callvault, a.rtp_bench, a.calls, a.duration, a.ptime, a.setup_only, a.keep)
        elif system == "callvault-unbatched":  # the engine woken for every readiness, as rtprecv is
            res = run_callvault(a.callvault, a.rtp_bench, a.calls, a.duration, a.ptime, a.setup_only, a.keep, 0)
            res["system"] = system
        else:
            raise SystemExit(f"unknown system {system}")
        res["ts"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        results.setdefault(system, []).append(res)
        with open(a.out, "a") as f:
            f.write(json.dumps(res) + "\n")
        show = {k: v for k, v in res.items() if k not in ("gen", "recv", "home")}
        g = res.get("gen") or {}
        print(f"{system}: {json.dumps(show)} gen_sent={g.get('sent')} gen_late_max_ms={g.get('late_max_ms')}", flush=True)
        time.sleep(2)
    for figure in ("ns_per_pkt", "ns_per_pkt_achieved_rate", "ns_per_pkt_whole_run"):
        for system in ("callvault", "callvault-unbatched"):
            cv = results.get(system, [{}])[-1].get(figure)
            for base in ("rtprecv", "rtpengine"):
                b = results.get(base, [{}])[-1].get(figure)
                if cv and b:
                    print(f"{figure}: {system}/{base} = {cv / b:.2f} ({cv} / {b})")


if __name__ == "__main__":
    main()
