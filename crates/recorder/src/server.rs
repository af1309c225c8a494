//! The recording server: SIP events in, one controller per call, sealed recordings out.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use media::AudioCodec;
use service::{CaptureDecision, ErrorKind, LiveCall, LiveParty, LiveStream, Service};
use sip::{DialogId, IncomingRequest, Method, SipEvent, SipHandle, SipServer, SipServerConfig};
use siprec::{AnswerParams, CodecKind, StreamOutcome};
use tokio::sync::{mpsc, oneshot};

use crate::consent::{DigitSource, Gate};
use crate::engine::{Engine, EngineConfig, RtcpControl, StreamControl};
use crate::parties::{PartyRole, TenantSide};
use crate::plan::{CallHeaders, CallPlan, plan_call};
use crate::stream::{SharedGate, StreamCommand, StreamNews, StreamResult, StreamSpec, StreamTask};

/// How a call the policy does not record is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedCalls {
    /// Answer 200 with every stream rejected (port 0); store nothing.
    AnswerAndDiscard,
    /// Answer 403 Forbidden.
    Refuse,
}

/// Recorder settings (from `[sip]` in callvault.toml and `serve` flags).
#[derive(Debug, Clone)]
pub struct RecorderSettings {
    pub listen: SocketAddr,
    pub media_address: IpAddr,
    pub rtp_ports: (u16, u16),
    pub default_tenant: Option<String>,
    pub inactivity_timeout: Duration,
    pub refused_calls: RefusedCalls,
    /// Tenant routing rules, tried in order before the tenants' own service numbers.
    pub routes: Vec<crate::routing::Route>,
    /// Admission of new calls: the ceiling and the per-source INVITE rate.
    pub admission: crate::admission::AdmissionLimits,
    /// Trunks and numbers that calls are transferred in on (CSI-SCOPE).
    pub transfers: Vec<crate::transfer::TransferRule>,
}

/// Counters of the recorder for `/metrics` (no personal data: counts only).
#[derive(Debug, Default)]
pub struct RecorderMetrics {
    pub calls_recorded: AtomicU64,
    pub calls_not_recorded: AtomicU64,
    pub rtp_packets: AtomicU64,
    pub rtp_lost: AtomicU64,
    pub rtp_foreign_source_dropped: AtomicU64,
    /// New calls refused with 503 because `max_calls` were held.
    pub calls_refused_max_calls: AtomicU64,
    /// New calls refused with 503 because their source exceeded its INVITE rate.
    pub calls_refused_rate_limited: AtomicU64,
    /// RTCP datagrams on the calls' shared ports, and what they held.
    pub rtcp_packets: AtomicU64,
    pub rtcp_sender_reports: AtomicU64,
    pub rtcp_byes: AtomicU64,
    /// Sender reports and BYEs for an SSRC none of the call's streams follows.
    pub rtcp_unknown_ssrc: AtomicU64,
    pub rtcp_malformed: AtomicU64,
    /// The SIP layer's counters, once it runs.
    pub sip: std::sync::OnceLock<Arc<sip::SipCounters>>,
}

impl RecorderMetrics {
    /// Prometheus text lines (counter type), to be placed before the exposition's `# EOF`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: u64| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name}_total {value}\n"
            ));
        };
        let counters: [(&str, &str, &AtomicU64); 10] = [
            (
                "callvault_recorder_calls_recorded",
                "Live calls sealed as recordings",
                &self.calls_recorded,
            ),
            (
                "callvault_recorder_calls_not_recorded",
                "Live calls the policy or the caller did not let be stored",
                &self.calls_not_recorded,
            ),
            (
                "callvault_recorder_rtp_packets",
                "RTP packets received on recorded streams",
                &self.rtp_packets,
            ),
            (
                "callvault_recorder_rtp_lost",
                "RTP packets counted as lost",
                &self.rtp_lost,
            ),
            (
                "callvault_recorder_rtp_foreign_source_dropped",
                "RTP packets from a source other than the latched one, dropped",
                &self.rtp_foreign_source_dropped,
            ),
            (
                "callvault_recorder_rtcp_packets",
                "RTCP datagrams received on the calls' shared RTCP ports",
                &self.rtcp_packets,
            ),
            (
                "callvault_recorder_rtcp_sender_reports",
                "RTCP sender reports matched to a stream by SSRC",
                &self.rtcp_sender_reports,
            ),
            (
                "callvault_recorder_rtcp_byes",
                "RTCP BYE sources matched to a stream by SSRC",
                &self.rtcp_byes,
            ),
            (
                "callvault_recorder_rtcp_unknown_ssrc",
                "RTCP sender reports and BYEs for an SSRC no stream of the call follows",
                &self.rtcp_unknown_ssrc,
            ),
            (
                "callvault_recorder_rtcp_malformed",
                "RTCP datagrams that are not valid compound packets, dropped",
                &self.rtcp_malformed,
            ),
        ];
        for (name, help, value) in counters {
            counter(name, help, value.load(Ordering::Relaxed));
        }
        if let Some(sip) = self.sip.get() {
            for (name, value) in sip.snapshot() {
                counter(&format!("callvault_sip_{name}"), "SIP layer counter", value);
            }
        }
        out.push_str(
            "# HELP callvault_recorder_calls_refused New calls refused with 503 (admission control), by reason\n\
             # TYPE callvault_recorder_calls_refused counter\n",
        );
        for (reason, value) in [
            ("max-calls", &self.calls_refused_max_calls),
            ("rate-limited", &self.calls_refused_rate_limited),
        ] {
            out.push_str(&format!(
                "callvault_recorder_calls_refused_total{{reason=\"{reason}\"}} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

/// A call being recorded (or held back by its consent gate).
struct Call {
    tenant: String,
    decision: CaptureDecision,
    live: LiveCall,
    dialog: Option<DialogId>,
    answered: Instant,
    gate: Gate,
    shared_gate: Arc<SharedGate>,
    streams: Vec<RunningStream>,
    writer: Option<vault::RecordingWriter>,
    customer_streams: Vec<usize>,
    rtcp: Option<RtcpControl>,
    /// The ports answered, per offered m-line (0 for a rejected one), and the RTCP port.
    ports: Vec<u16>,
    rtcp_port: u16,
    media_address: IpAddr,
    /// The SDP offer in force (offered again to a re-INVITE without a body).
    offer: siprec::SessionDescription,
    /// The `o=` version of the last answer.
    session_version: u64,
}

struct RunningStream {
    commands: StreamControl,
    task: oneshot::Receiver<StreamResult>,
    last_packet_ms: Arc<AtomicU64>,
    paused: bool,
    paused_flag: Arc<std::sync::atomic::AtomicBool>,
}

/// Runs the recorder until `shutdown` completes.
pub async fn run(
    service: Service,
    settings: RecorderSettings,
    metrics: Arc<RecorderMetrics>,
    bound: tokio::sync::oneshot::Sender<std::io::Result<SocketAddr>>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    // The capture engine owns every media socket (see `engine`).
    let engine = match Engine::start(EngineConfig::from_env(), metrics.clone()) {
        Ok(engine) => engine,
        Err(err) => {
            let _ = bound.send(Err(err));
            return;
        }
    };
    let mut config = SipServerConfig {
        listen: settings.listen,
        ..SipServerConfig::default()
    };
    config.transaction.supported.push("siprec".to_owned());
    config.transaction.accept.push("multipart/mixed".to_owned());
    let mut server = match SipServer::start(config).await {
        Ok(server) => server,
        Err(err) => {
            let _ = bound.send(Err(err));
            return;
        }
    };
    let handle = server.handle();
    let local = handle.udp_local_addr();
    let _ = metrics.sip.set(handle.counters().clone());
    let _ = bound.send(Ok(local));
    tracing::info!(address = %local, "SIPREC recorder listening (UDP and TCP)");
    let (news_tx, mut news_rx) = mpsc::unbounded_channel::<(String, StreamNews)>();
    let mut calls: HashMap<String, Call> = HashMap::new();
    let mut next_port = settings.rtp_ports.0;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut admission = crate::admission::Admission::new(settings.admission);
    let epoch = Instant::now();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            event = server.next_event() => {
                let Some(event) = event else { break };
                let now_ms = epoch.elapsed().as_millis() as u64;
                let Some(event) = admit(&mut admission, &metrics, &handle, calls.len(), now_ms, event) else { continue };
                handle_event(&service, &settings, &metrics, &handle, local, &mut calls, &mut next_port, &news_tx, &engine, event).await;
            }
            Some((call_id, news)) = news_rx.recv() => {
                if let Some(call) = calls.get_mut(&call_id) {
                    on_news(&service, call, news).await;
                }
            }
            _ = tick.tick() => {
                let ended: Vec<String> = calls
                    .iter_mut()
                    .filter_map(|(id, call)| check_timers(call, &settings).then(|| id.clone()))
                    .collect();
                for id in ended {
                    if let Some(call) = calls.remove(&id) {
                        if let Some(dialog) = &call.dialog {
                            let _ = handle.send_bye(dialog.clone());
                        }
                        finish(&service, &metrics, call, "inactivity").await;
                    }
                }
                for call in calls.values_mut() {
                    let now_ms = call.answered.elapsed().as_millis() as u64;
                    let before = call.gate.clone();
                    call.gate.tick(now_ms);
                    if before != call.gate {
                        apply_gate(&service, call).await;
                    }
                }
            }
        }
    }
    for (_, call) in calls.drain() {
        finish(&service, &metrics, call, "shutdown").await;
    }
    handle.shutdown();
}

/// Admission control for new calls (INVITE outside a dialog): refused ones are answered
/// `503 Service Unavailable` with `Retry-After` here, before any parsing or catalog
/// work, and counted; everything else is handed on.
fn admit(
    admission: &mut crate::admission::Admission,
    metrics: &RecorderMetrics,
    handle: &SipHandle,
    active_calls: usize,
    now_ms: u64,
    event: SipEvent,
) -> Option<SipEvent> {
    let SipEvent::Request(request) = &event else {
        return Some(event);
    };
    if request.method != Method::Invite || request.is_reinvite() {
        return Some(event);
    }
    let Err(refusal) = admission.admit(request.source.ip(), active_calls, now_ms) else {
        return Some(event);
    };
    let counter = match refusal {
        crate::admission::Refusal::MaxCalls => &metrics.calls_refused_max_calls,
        crate::admission::Refusal::RateLimited { .. } => &metrics.calls_refused_rate_limited,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(reason = refusal.code(), "new call refused by admission control");
    let response = request
        .response(503, "Service Unavailable")
        .map(|r| {
            r.header("Retry-After", &refusal.retry_after_s().to_string())
                .header("Warning", &format!("399 callvault \"{}\"", refusal.code()))
                .build()
        })
        .unwrap_or_default();
    let _ = handle.respond(request.transaction, response);
    None
}

/// Whether the call has been silent too long (paused streams do not count).
fn check_timers(call: &Call, settings: &RecorderSettings) -> bool {
    let now_ms = call.answered.elapsed().as_millis() as u64;
    let active: Vec<&RunningStream> = call.streams.iter().filter(|s| !s.paused).collect();
    if active.is_empty() {
        return false;
    }
    let last = active
        .iter()
        .map(|s| s.last_packet_ms.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    now_ms.saturating_sub(last) > settings.inactivity_timeout.as_millis() as u64
}

#[allow(clippy::too_many_arguments)]
async fn handle_event(
    service: &Service,
    settings: &RecorderSettings,
    metrics: &RecorderMetrics,
    handle: &SipHandle,
    local: SocketAddr,
    calls: &mut HashMap<String, Call>,
    next_port: &mut u16,
    news: &mpsc::UnboundedSender<(String, StreamNews)>,
    engine: &Engine,
    event: SipEvent,
) {
    match event {
        SipEvent::Request(request) if request.method == Method::Invite && !request.is_reinvite() => {
            let response = on_invite(
                service, settings, metrics, local, calls, next_port, news, engine, &request,
            )
            .await;
            let _ = handle.respond(request.transaction, response);
        }
        SipEvent::Request(request) if matches!(request.method, Method::Invite | Method::Update) => {
            // re-INVITE or UPDATE (RFC 3311): keep the streams, answer with the same ports
            // (pause/resume and metadata updates are recorded as notes).
            let response = reinvite_answer(calls, &request);
            let _ = handle.respond(request.transaction, response);
        }
        SipEvent::Request(request) if request.method == Method::Bye => {
            let ok = request.response(200, "OK").map(|r| r.build()).unwrap_or_default();
            let _ = handle.respond(request.transaction, ok);
            if let Some(call_id) = request.message().ok().map(|m| m.call_id().to_owned())
                && let Some(call) = calls.remove(&call_id)
            {
                finish(service, metrics, call, "bye").await;
            }
        }
        SipEvent::Request(request) => {
            let ok = request.response(200, "OK").map(|r| r.build()).unwrap_or_default();
            let _ = handle.respond(request.transaction, ok);
        }
        SipEvent::Ack(request) => {
            if let Some(call_id) = request.message().ok().map(|m| m.call_id().to_owned())
                && let Some(call) = calls.get_mut(&call_id)
            {
                call.dialog = request.dialog.clone();
            }
        }
        SipEvent::Cancelled(cancelled) => {
            if let Some(call) = calls.remove(&cancelled.call_id) {
                finish(service, metrics, call, "cancel").await;
            }
        }
        SipEvent::Timeout(_) | SipEvent::Response(_) => {}
    }
}

fn header(message: &sip::SipMessage<'_>, name: &str) -> Option<String> {
    message.header_str(name).map(|v| v.to_string())
}

#[allow(clippy::too_many_arguments)]
async fn on_invite(
    service: &Service,
    settings: &RecorderSettings,
    metrics: &RecorderMetrics,
    local: SocketAddr,
    calls: &mut HashMap<String, Call>,
    next_port: &mut u16,
    news: &mpsc::UnboundedSender<(String, StreamNews)>,
    engine: &Engine,
    request: &IncomingRequest,
) -> Vec<u8> {
    let Ok(message) = request.message() else {
        return Vec::new();
    };
    let reply = |status: u16, reason: &str| request.response(status, reason).map(|r| r.build()).unwrap_or_default();
    let timer = session_timer(&message);
    if let Some(refused) = timer_refusal(request, &timer) {
        return refused;
    }
    let content_type = message
        .header_str("Content-Type")
        .map(|v| v.to_string())
        .unwrap_or_default();
    let offer = match siprec::parse_offer(&content_type, message.body()) {
        Ok(offer) => offer,
        Err(err) => {
            let status = match err.code() {
                "siprec-not-multipart" | "siprec-no-sdp" | "siprec-no-metadata" => 415,
                "siprec-no-media-streams" => 488,
                _ => 400,
            };
            tracing::info!(code = err.code(), "INVITE refused: not a usable SIPREC offer");
            return request
                .response(status, "Not a SIPREC offer")
                .map(|r| {
                    r.header("Warning", &format!("399 callvault \"{}\"", err.code()))
                        .build()
                })
                .unwrap_or_default();
        }
    };
    // Which tenant: routing rules, then the tenants' own service numbers, then the default.
    let numbers: Vec<String> = offer
        .metadata
        .as_ref()
        .map(|m| {
            m.participants
                .iter()
                .flat_map(|p| p.aors.iter().filter_map(|a| crate::parties::aor_number(a, None)))
                .collect()
        })
        .unwrap_or_default();
    let all_headers: Vec<(String, String)> = message
        .headers()
        .iter()
        .map(|h| (h.name.as_str().to_owned(), h.value.to_string()))
        .collect();
    let tenant_numbers: Vec<crate::routing::TenantNumbers> = service
        .tenants()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|t| crate::routing::TenantNumbers {
            tenant: t.name,
            service_numbers: t.service_numbers,
        })
        .collect();
    let facts = crate::routing::CallFacts {
        client: Some(request.source.ip()),
        numbers: &numbers,
        headers: &all_headers,
    };
    let Some((tenant_name, routed_by)) = crate::routing::pick_tenant(
        &settings.routes,
        &tenant_numbers,
        settings.default_tenant.as_deref(),
        &facts,
    ) else {
        return reply(480, "No tenant for this call");
    };
    tracing::debug!(tenant = %tenant_name, routed_by, "call routed");
    let tenant = match service.tenant(&tenant_name).await {
        Ok(tenant) => tenant,
        Err(_) => return reply(480, "No tenant for this call"),
    };
    let side = TenantSide {
        service_numbers: tenant.service_numbers.clone(),
        agent_patterns: tenant.agent_patterns.clone(),
        country: tenant.country.clone(),
    };
    // A call transferred in (CSI-SCOPE): the headers the client copied, its metadata,
    // or the trunk/number it arrived on as `[[sip.transfers]]` configures.
    let transfer_facts = crate::transfer::TransferFacts {
        diversion: all_headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Diversion"))
            .flat_map(|(_, value)| crate::transfer::split_entries(value))
            .collect(),
        history_info: message.history_info(),
        referred_by: all_headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("Referred-By") || name.eq_ignore_ascii_case("b"))
            .map(|(_, value)| value.as_str()),
        metadata_from: offer.metadata.as_ref().ok().and_then(|m| m.transferred_from.as_deref()),
    };
    let transfer = crate::transfer::detect(&transfer_facts, &settings.transfers, &facts);
    let headers = CallHeaders {
        recording_notice: header(&message, "Recording-Notice"),
        recording_consent: header(&message, "Recording-Consent"),
        transfer,
    };
    let plan = plan_call(&offer, &headers, &side);
    let now: DateTime<Utc> = Utc::now();
    let decision = service
        .decide_capture(
            &tenant_name,
            plan.direction,
            plan.signals.notice_played,
            plan.signals.consent,
            now,
        )
        .await;
    let decision = match decision {
        Ok(decision) => decision,
        Err(err) if err.kind == ErrorKind::Refused || err.kind == ErrorKind::NotFound => {
            metrics.calls_not_recorded.fetch_add(1, Ordering::Relaxed);
            let _ = service
                .not_recorded(Some(&tenant_name), &err.code, err.rule.as_deref(), now)
                .await;
            return match settings.refused_calls {
                RefusedCalls::Refuse => reply(403, "Not recorded by policy"),
                RefusedCalls::AnswerAndDiscard => answer_discard(request, &offer, settings, local),
            };
        }
        Err(err) => {
            tracing::error!(code = %err.code, "capture decision failed: {}", err.message);
            return reply(500, "Recorder error");
        }
    };

    // Ports: one per stream, one shared RTCP port.
    let rtcp = match bind_next(settings, next_port).await {
        Some(socket) => socket,
        None => return reply(503, "No media ports"),
    };
    let rtcp_port = rtcp.local_addr().map(|a| a.port()).unwrap_or(0);
    let mut sockets = Vec::new();
    for _ in &offer.sdp.media {
        match bind_next(settings, next_port).await {
            Some(socket) => sockets.push(socket),
            None => return reply(503, "No media ports"),
        }
    }
    let ports: Vec<u16> = sockets
        .iter()
        .map(|s| s.local_addr().map(|a| a.port()).unwrap_or(0))
        .collect();
    let params = AnswerParams {
        local_ip: settings.media_address,
        ports,
        rtcp_port,
        session_id: now.timestamp() as u64,
        session_version: 1,
        codecs: vec![CodecKind::Pcmu, CodecKind::Pcma, CodecKind::G722, CodecKind::Opus],
    };
    let answered_ports = params.ports.clone();
    let (answer, negotiated) = siprec::build_answer(&offer.sdp, &params);

    let call_id = message.call_id().to_owned();
    let answered = Instant::now();
    let shared_gate = Arc::new(SharedGate::new());
    let gate = Gate::at_answer(&decision.policy.consent, &plan.signals);
    let customer_labels: Vec<String> = plan.customer_labels().into_iter().map(str::to_owned).collect();
    let shard = engine.call_shard();
    let mut streams = Vec::new();
    let mut live_streams = Vec::new();
    let mut customer_streams = Vec::new();
    for ((stream, socket), (label, owner)) in negotiated.iter().zip(sockets).zip(&plan.stream_owner) {
        let StreamOutcome::Receiving(receiving) = &stream.outcome else {
            continue;
        };
        let codec = match receiving.codec.kind {
            CodecKind::Pcmu => AudioCodec::Pcmu,
            CodecKind::Pcma => AudioCodec::Pcma,
            CodecKind::G722 => AudioCodec::G722,
            CodecKind::Opus => AudioCodec::Opus,
        };
        let index = live_streams.len();
        let customer = customer_labels.contains(label);
        if customer {
            customer_streams.push(index);
        }
        live_streams.push(LiveStream {
            label: label.clone(),
            codec: codec.name().to_owned(),
            sample_rate: codec.sample_rate(),
            participant: *owner,
        });
        let last_packet_ms = Arc::new(AtomicU64::new(0));
        let paused_flag = Arc::new(std::sync::atomic::AtomicBool::new(receiving.paused));
        let task = StreamTask {
            socket,
            answered,
            spec: StreamSpec {
                index,
                codec,
                payload_type: receiving.codec.payload_type,
                telephone_event_pt: receiving.telephone_event_pt,
                customer,
                gate: shared_gate.clone(),
                last_packet_ms: last_packet_ms.clone(),
                paused: paused_flag.clone(),
                call_id: call_id.clone(),
                news: news.clone(),
            },
        };
        let Ok((commands, task)) = engine.add_stream(shard, task) else {
            return reply(503, "Recorder shutting down");
        };
        streams.push(RunningStream {
            commands,
            task,
            last_packet_ms,
            paused: receiving.paused,
            paused_flag,
        });
    }
    // The shared RTCP port: sender reports and BYEs matched to these streams by SSRC.
    let rtcp = engine
        .add_rtcp(shard, rtcp, &streams.iter().map(|s| &s.commands).collect::<Vec<_>>())
        .ok();
    let live = LiveCall {
        direction: plan.direction,
        parties: live_parties(&plan),
        streams: live_streams,
        answered_at: now,
        started_at: now,
        notes: plan.notes.clone(),
    };
    let mut call = Call {
        tenant: tenant_name,
        decision,
        live,
        dialog: None,
        answered,
        gate,
        shared_gate,
        streams,
        writer: None,
        customer_streams,
        rtcp,
        ports: answered_ports,
        rtcp_port,
        media_address: settings.media_address,
        offer: offer.sdp.clone(),
        session_version: 1,
    };
    apply_gate(service, &mut call).await;
    calls.insert(call_id, call);
    request
        .response(200, "OK")
        .map(|r| {
            let r = r
                .to_tag(&new_tag())
                .header("Contact", &format!("<sip:callvault@{local}>;+sip.srs"))
                .header("Require", "siprec");
            with_timer(r, &timer)
                .body("application/sdp", answer.into_bytes())
                .build()
        })
        .unwrap_or_default()
}

/// A To tag that is unique for every dialog (RFC 3261 §19.3).
fn new_tag() -> String {
    format!("cv{}", uuid::Uuid::now_v7().simple())
}

fn live_parties(plan: &CallPlan) -> Vec<LiveParty> {
    // The address a transferred call came from is kept as a party of its own.
    let transfer_source = plan
        .transfer
        .as_ref()
        .and_then(|t| t.source_uri.clone())
        .map(|uri| LiveParty {
            role: "transfer-source".to_owned(),
            aors: vec![uri],
            name: None,
            joined_mid_call: false,
        });
    plan.parties
        .iter()
        .map(|p| LiveParty {
            role: match p.role {
                PartyRole::Agent => "agent",
                PartyRole::Customer => "customer",
                PartyRole::Service => "service",
                PartyRole::Other => "other",
            }
            .to_owned(),
            aors: p.aors.clone(),
            name: p.name.clone(),
            joined_mid_call: p.joined_mid_call,
        })
        .chain(transfer_source)
        .collect()
}

/// The next free port of the range, bound non-blocking for the capture engine.
async fn bind_next(settings: &RecorderSettings, next_port: &mut u16) -> Option<std::net::UdpSocket> {
    let (low, high) = settings.rtp_ports;
    let span = u32::from(high.saturating_sub(low)) + 1;
    for _ in 0..span {
        let port = *next_port;
        *next_port = if port >= high { low } else { port + 1 };
        if let Ok(socket) = std::net::UdpSocket::bind(SocketAddr::new(settings.media_address, port))
            && socket.set_nonblocking(true).is_ok()
        {
            return Some(socket);
        }
    }
    None
}

/// A 200 whose streams are all rejected: the client stops sending, nothing is stored.
fn answer_discard(
    request: &IncomingRequest,
    offer: &siprec::SiprecOffer,
    settings: &RecorderSettings,
    local: SocketAddr,
) -> Vec<u8> {
    let params = AnswerParams {
        local_ip: settings.media_address,
        ports: vec![0; offer.sdp.media.len()],
        rtcp_port: 0,
        session_id: 1,
        session_version: 1,
        codecs: CodecKind::ALL.to_vec(),
    };
    let (answer, _) = siprec::build_answer(&offer.sdp, &params);
    request
        .response(200, "OK")
        .map(|r| {
            r.to_tag(&new_tag())
                .header("Contact", &format!("<sip:callvault@{local}>;+sip.srs"))
                .body("application/sdp", answer.into_bytes())
                .build()
        })
        .unwrap_or_default()
}

/// The session-timer answer (RFC 4028) to a request.
fn session_timer(message: &sip::SipMessage<'_>) -> crate::session_timer::TimerAnswer {
    let session_expires = message
        .session_expires()
        .map(|value| value.map(|se| (se.seconds, se.refresher())));
    crate::session_timer::answer(crate::session_timer::TimerRequest {
        session_expires,
        supports_timer: message.supports("timer") || message.requires("timer"),
    })
}

/// The error response for a session timer the recorder cannot accept, if any.
fn timer_refusal(request: &IncomingRequest, timer: &crate::session_timer::TimerAnswer) -> Option<Vec<u8>> {
    use crate::session_timer::TimerAnswer;
    let response = match timer {
        TimerAnswer::TooSmall { min_se } => request
            .response(422, "Session Interval Too Small")
            .map(|r| r.header("Min-SE", &min_se.to_string()).build()),
        TimerAnswer::Malformed => request.response(400, "Bad Session-Expires").map(|r| r.build()),
        TimerAnswer::None | TimerAnswer::Accept { .. } => return None,
    };
    Some(response.unwrap_or_default())
}

/// Adds `Session-Expires` (and `Require: timer`) to a 2xx as the session timer says.
fn with_timer(builder: sip::ResponseBuilder, timer: &crate::session_timer::TimerAnswer) -> sip::ResponseBuilder {
    match timer {
        crate::session_timer::TimerAnswer::Accept {
            session_expires,
            require_timer,
        } => {
            let builder = builder.header("Session-Expires", session_expires);
            if *require_timer {
                builder.header("Require", "timer")
            } else {
                builder
            }
        }
        _ => builder,
    }
}

/// Answers a re-INVITE or an UPDATE (RFC 3311) of a call: a new SDP offer is answered
/// on the same ports (pause with `a=inactive`, resume), metadata updates record who
/// joined, a body-less request refreshes the session timer.
fn reinvite_answer(calls: &mut HashMap<String, Call>, request: &IncomingRequest) -> Vec<u8> {
    use crate::session_body::SessionBody;
    let Ok(message) = request.message() else {
        return Vec::new();
    };
    let reply = |status: u16, reason: &str| request.response(status, reason).map(|r| r.build()).unwrap_or_default();
    let Some(call) = calls.get_mut(message.call_id()) else {
        return reply(481, "Call/Transaction Does Not Exist");
    };
    let timer = session_timer(&message);
    if let Some(refused) = timer_refusal(request, &timer) {
        return refused;
    }
    let content_type = message
        .header_str("Content-Type")
        .map(|v| v.to_string())
        .unwrap_or_default();
    let (sdp, metadata) = match crate::session_body::session_body(&content_type, message.body()) {
        Ok(SessionBody::Offer(sdp, metadata)) => (Some(*sdp), metadata.map(|m| *m)),
        Ok(SessionBody::Metadata(metadata)) => (None, Some(*metadata)),
        // A re-INVITE without an offer gets the current session as the offer (RFC 3261
        // §14.2); an UPDATE without one gets no body (RFC 3311 §5.2).
        Ok(SessionBody::Empty) if request.method == Method::Invite => (Some(call.offer.clone()), None),
        Ok(SessionBody::Empty) => (None, None),
        Err(415) => return reply(415, "Unsupported Media Type"),
        Err(400) => return reply(400, "Bad Recording Metadata"),
        Err(_) => return reply(488, "Not Acceptable Here"),
    };
    let now_ms = call.answered.elapsed().as_millis();
    let mut answer = None;
    if let Some(sdp) = sdp {
        if sdp.media.len() != call.ports.len() {
            return reply(488, "Not Acceptable Here");
        }
        call.session_version += 1;
        let params = AnswerParams {
            local_ip: call.media_address,
            ports: call.ports.clone(),
            rtcp_port: call.rtcp_port,
            session_id: call.live.answered_at.timestamp() as u64,
            session_version: call.session_version,
            codecs: vec![CodecKind::Pcmu, CodecKind::Pcma, CodecKind::G722, CodecKind::Opus],
        };
        let (sdp_answer, negotiated) = siprec::build_answer(&sdp, &params);
        let receiving: Vec<&siprec::ReceivingStream> = negotiated
            .iter()
            .filter_map(|n| match &n.outcome {
                StreamOutcome::Receiving(r) => Some(r),
                StreamOutcome::Rejected(_) => None,
            })
            .collect();
        for (stream, negotiated) in call.streams.iter_mut().zip(receiving) {
            if stream.paused != negotiated.paused {
                stream.paused = negotiated.paused;
                stream.paused_flag.store(negotiated.paused, Ordering::SeqCst);
                // The pause itself is recorded (`a=inactive`); the inactivity timeout skips it.
                let what = if negotiated.paused { "paused" } else { "resumed" };
                call.live.notes.push(format!("{what} at {now_ms} ms"));
            }
        }
        call.offer = sdp;
        answer = Some(sdp_answer);
    }
    if let Some(update) = metadata {
        let known: Vec<String> = call.live.parties.iter().flat_map(|p| p.aors.clone()).collect();
        for participant in &update.participants {
            if !participant.aors.iter().any(|a| known.contains(a)) {
                call.live
                    .notes
                    .push(format!("participant joined mid-call at {now_ms} ms"));
                call.live.parties.push(LiveParty {
                    role: "other".into(),
                    aors: participant.aors.clone(),
                    name: participant.name.clone(),
                    joined_mid_call: true,
                });
            }
        }
    }
    request
        .response(200, "OK")
        .map(|r| {
            let r = with_timer(r, &timer);
            match answer {
                Some(sdp) => r.body("application/sdp", sdp.into_bytes()),
                None => r,
            }
            .build()
        })
        .unwrap_or_default()
}

/// A digit or other news from a stream.
async fn on_news(service: &Service, call: &mut Call, news: StreamNews) {
    let StreamNews::Digit {
        stream,
        digit,
        at_ms,
        source,
    } = news;
    if !call.customer_streams.contains(&stream) {
        return;
    }
    let before = call.gate.clone();
    call.gate
        .customer_digit(&call.decision.policy.consent, digit, at_ms, source);
    if before != call.gate {
        apply_gate(service, call).await;
    }
}

/// Acts on the gate: when it opens, the live recording begins (row + key) and every
/// stream gets its spool writer.
async fn apply_gate(service: &Service, call: &mut Call) {
    let Gate::Open {
        since_ms,
        digit,
        source,
    } = call.gate.clone()
    else {
        return;
    };
    if call.writer.is_some() {
        return;
    }
    let consent = serde_json::json!({
        "basis": match (&call.decision.policy.consent.mechanism, source) {
            (policy::ConsentMechanism::None, _) => "not-required",
            (policy::ConsentMechanism::Notice, _) => "implied-by-notice",
            _ => "explicit",
        },
        "digit": digit.map(String::from),
        "detected_by": source.map(|s| match s {
            DigitSource::TelephoneEvent => "rfc4733",
            DigitSource::InBand => "in-band",
            DigitSource::ClientSignalled => "client-signalled",
        }),
        "ms_after_answer": since_ms,
        "prompt_version": call.decision.policy.policy.version,
    });
    let now = Utc::now();
    call.live.started_at = call.live.answered_at + chrono::TimeDelta::milliseconds(since_ms as i64);
    // Open the streams' gate first: from here they keep audio after `since_ms` in
    // memory until their spool writer arrives.
    call.shared_gate.open(since_ms);
    match service.begin_capture(&call.decision, &call.live, consent, now).await {
        Ok(writer) => {
            for (i, stream) in call.streams.iter().enumerate() {
                match writer.spool(i as i64) {
                    Ok(spool) => {
                        let _ = stream.commands.send(StreamCommand::Writer(Box::new(spool)));
                    }
                    Err(err) => tracing::error!("cannot open spool: {err}"),
                }
            }
            call.writer = Some(writer);
        }
        Err(err) => tracing::error!(code = %err.code, "cannot begin recording: {}", err.message),
    }
}

/// Ends a call: streams stopped and flushed; sealed if anything was recorded, else
/// the "not recorded" fact.
async fn finish(service: &Service, metrics: &RecorderMetrics, mut call: Call, why: &str) {
    // The call ends now, before its streams are flushed and stored.
    let since_answer_ms = call.answered.elapsed().as_millis() as i64;
    let mut results = Vec::new();
    for stream in call.streams.drain(..) {
        let _ = stream.commands.send(StreamCommand::Stop);
        results.push(stream.task.await.ok());
    }
    drop(call.rtcp.take());
    let now = Utc::now();
    for result in results.iter().flatten() {
        metrics.rtp_packets.fetch_add(result.packets, Ordering::Relaxed);
        metrics.rtp_lost.fetch_add(result.lost, Ordering::Relaxed);
        metrics
            .rtp_foreign_source_dropped
            .fetch_add(result.foreign_source_dropped, Ordering::Relaxed);
    }
    if call.writer.is_some() && why != "cancel" {
        metrics.calls_recorded.fetch_add(1, Ordering::Relaxed);
    } else {
        metrics.calls_not_recorded.fetch_add(1, Ordering::Relaxed);
    }
    if why == "cancel" {
        // A call cancelled before it was answered keeps nothing.
        if let Some(writer) = call.writer.take()
            && let Err(err) = writer.abort().await
        {
            tracing::error!("cannot discard a cancelled call: {err}");
        }
        let _ = service.not_recorded(Some(&call.tenant), "cancelled", None, now).await;
        return;
    }
    let Some(mut writer) = call.writer.take() else {
        let code = match &call.gate {
            Gate::Closed { code, .. } => *code,
            Gate::Pending { .. } => "consent-missing",
            Gate::Open { .. } => "not-started",
        };
        let _ = service
            .not_recorded(Some(&call.tenant), code, Some("consent.mechanism"), now)
            .await;
        tracing::info!(why, code, "call ended without a recording");
        return;
    };
    for note in &call.live.notes {
        writer.add_note(note.clone());
    }
    for (i, party) in call.live.parties.iter().enumerate().skip(writer.participant_count()) {
        writer.add_participant(service.capture_participant(&call.decision, i, party));
    }
    let media_span: Vec<(Option<u64>, u64)> = results
        .iter()
        .flatten()
        .filter(|r| r.packets > 0)
        .map(|r| (r.first_ms, r.last_ms))
        .collect();
    for (i, result) in results.into_iter().enumerate() {
        let Some(result) = result else { continue };
        if result.foreign_source_dropped > 0 {
            writer.add_note(format!(
                "stream {i}: {} packets from a source other than the latched one dropped",
                result.foreign_source_dropped
            ));
        }
        if let Some(note) = rtcp_note(i, &result.rtcp) {
            writer.add_note(note);
        }
        let _ = writer.set_packets_lost(i as i64, result.lost as i64);
        if let Some(spool) = result.writer
            && let Err(err) = writer.put_spooled(i as i64, spool).await
        {
            tracing::error!("cannot store stream {i}: {err}");
        }
    }
    let ended_at = call.live.answered_at + chrono::TimeDelta::milliseconds(since_answer_ms);
    // The duration is the span of the media that was kept: from the later of the first
    // packet and the gate's opening to the last packet. Without media, the signalled span.
    let gate_ms = (call.live.started_at - call.live.answered_at).num_milliseconds().max(0) as u64;
    let first = media_span.iter().filter_map(|(f, _)| *f).min();
    let last = media_span.iter().map(|(_, l)| *l).max().unwrap_or(0);
    let duration_ms = match first {
        Some(first) if last > first.max(gate_ms) => (last - first.max(gate_ms)) as i64,
        _ => (ended_at - call.live.started_at).num_milliseconds().max(0),
    };
    if let Err(err) = service
        .seal_capture(writer, &call.tenant, ended_at, duration_ms, now)
        .await
    {
        tracing::error!(code = %err.code, "cannot seal: {}", err.message);
    }
}

/// What the sender said over RTCP about stream `i`, as a note of the recording.
fn rtcp_note(i: usize, rtcp: &crate::stream::RtcpSeen) -> Option<String> {
    let report = match (rtcp.sender_packets, rtcp.sender_octets) {
        (Some(packets), Some(octets)) => Some(format!(
            "sender reported {packets} packets, {octets} octets in {} RTCP sender reports",
            rtcp.sender_reports
        )),
        _ => None,
    };
    let bye = rtcp.bye.then(|| "RTCP BYE received".to_owned());
    let parts: Vec<String> = report.into_iter().chain(bye).collect();
    (!parts.is_empty()).then(|| format!("stream {i}: {}", parts.join("; ")))
}
