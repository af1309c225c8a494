//! One capture thread: its sockets in one epoll set, a `recvmmsg` batch per readable
//! socket, commands from the controller, and one sweep every [`SWEEP`] over a tenth of
//! its streams (so each stream is visited every 100 ms) instead of a timer per stream.

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use tokio::sync::oneshot;

use super::Command;
use super::recv::{BATCH, RecvBatch};
use super::rtcp::{RtcpFact, facts_of};
use crate::server::RecorderMetrics;
use crate::stream::{StreamResult, StreamState};

/// The token of the controller's waker.
pub(super) const WAKER: Token = Token(usize::MAX);
/// How often the sweep runs; each run visits one of [`BUCKETS`] groups of streams.
const SWEEP: Duration = Duration::from_millis(10);
const BUCKETS: usize = 10;
/// Rounds with fewer ready sockets than this are followed by the coalescing wait.
const COALESCE_BELOW: usize = 256;

struct Running {
    socket: UdpSocket,
    answered: Instant,
    state: StreamState,
    done: oneshot::Sender<StreamResult>,
    bucket: usize,
}

struct Rtcp {
    socket: UdpSocket,
    streams: Vec<u64>,
}

/// A stream's socket has token `2k`, an RTCP socket `2k + 1` (k: its slab key).
fn stream_token(key: usize) -> Token {
    Token(key << 1)
}

fn rtcp_token(key: usize) -> Token {
    Token((key << 1) | 1)
}

pub(super) struct Worker {
    poll: Poll,
    commands: Receiver<Command>,
    metrics: Arc<RecorderMetrics>,
    streams: Slab<Running>,
    stream_keys: HashMap<u64, usize>,
    rtcps: Slab<Rtcp>,
    rtcp_keys: HashMap<u64, usize>,
    buckets: Vec<Vec<usize>>,
    next_bucket: usize,
    batch: RecvBatch,
    facts: Vec<RtcpFact>,
}

fn ms_since(now: Instant, answered: Instant) -> u64 {
    now.saturating_duration_since(answered).as_millis() as u64
}

impl Worker {
    pub(super) fn new(poll: Poll, commands: Receiver<Command>, metrics: Arc<RecorderMetrics>) -> Self {
        Worker {
            poll,
            commands,
            metrics,
            streams: Slab::new(),
            stream_keys: HashMap::new(),
            rtcps: Slab::new(),
            rtcp_keys: HashMap::new(),
            buckets: vec![Vec::new(); BUCKETS],
            next_bucket: 0,
            batch: RecvBatch::new(),
            facts: Vec::new(),
        }
    }

    /// Runs until the engine's handles are all dropped; open streams are then finished
    /// and their results handed back.
    pub(super) fn run(mut self, coalesce: Duration) {
        let mut events = Events::with_capacity(4096);
        let mut next_sweep = Instant::now() + SWEEP;
        loop {
            let timeout = next_sweep.saturating_duration_since(Instant::now());
            if let Err(err) = self.poll.poll(&mut events, Some(timeout))
                && err.kind() != std::io::ErrorKind::Interrupted
            {
                tracing::error!("capture engine: poll failed: {err}");
                break;
            }
            let now = Instant::now();
            let mut ready = 0usize;
            for event in events.iter() {
                let token = event.token();
                if token == WAKER {
                    continue;
                }
                ready += 1;
                if token.0 & 1 == 0 {
                    self.read_stream(token.0 >> 1, now);
                } else {
                    self.read_rtcp(token.0 >> 1);
                }
            }
            if !self.take_commands() {
                break;
            }
            // A light round: let more sockets become ready before the next one.
            if ready > 0 && ready < COALESCE_BELOW && !coalesce.is_zero() {
                let until = now + coalesce;
                let after = Instant::now();
                if until > after {
                    std::thread::sleep(until - after);
                }
            }
            if now >= next_sweep {
                self.sweep(now);
                next_sweep += SWEEP;
                if next_sweep < now {
                    next_sweep = now + SWEEP;
                }
            }
        }
        let keys: Vec<u64> = self.stream_keys.keys().copied().collect();
        for id in keys {
            self.stop(id);
        }
    }

    fn read_stream(&mut self, key: usize, now: Instant) {
        let Some(running) = self.streams.get_mut(key) else {
            return;
        };
        let now_ms = ms_since(now, running.answered);
        let fd = running.socket.as_raw_fd();
        loop {
            let n = match self.batch.recv(fd) {
                Ok(n) => n,
                Err(err) => {
                    tracing::debug!("capture engine: receive failed: {err}");
                    break;
                }
            };
            for i in 0..n {
                if let (Some(source), datagram) = self.batch.datagram(i) {
                    running.state.on_datagram(source, datagram, now_ms);
                }
            }
            // Edge-triggered: each new datagram signals again, so a short batch means
            // the queue is empty (no extra call to see EAGAIN).
            if n < BATCH {
                break;
            }
        }
    }

    fn read_rtcp(&mut self, key: usize) {
        let Some(rtcp) = self.rtcps.get(key) else { return };
        let fd = rtcp.socket.as_raw_fd();
        loop {
            let n = self.batch.recv(fd).unwrap_or(0);
            for i in 0..n {
                let (_, datagram) = self.batch.datagram(i);
                self.metrics.rtcp_packets.fetch_add(1, Ordering::Relaxed);
                self.facts.clear();
                if facts_of(datagram, &mut self.facts).is_err() {
                    self.metrics.rtcp_malformed.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                for fact in &self.facts {
                    let matched = rtcp
                        .streams
                        .iter()
                        .filter_map(|id| self.stream_keys.get(id).copied())
                        .find(|&k| self.streams.get(k).is_some_and(|s| s.state.ssrc() == Some(fact.ssrc())));
                    let Some(running) = matched.and_then(|k| self.streams.get_mut(k)) else {
                        self.metrics.rtcp_unknown_ssrc.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    match *fact {
                        RtcpFact::SenderReport { packets, octets, .. } => {
                            self.metrics.rtcp_sender_reports.fetch_add(1, Ordering::Relaxed);
                            running.state.on_sender_report(packets, octets);
                        }
                        RtcpFact::Bye { .. } => {
                            self.metrics.rtcp_byes.fetch_add(1, Ordering::Relaxed);
                            running.state.on_rtcp_bye();
                        }
                    }
                }
            }
            if n < BATCH {
                break;
            }
        }
    }

    /// Applies the controller's commands; false once every handle is gone.
    fn take_commands(&mut self) -> bool {
        loop {
            match self.commands.try_recv() {
                Ok(command) => self.apply(command),
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
    }

    fn apply(&mut self, command: Command) {
        match command {
            Command::AddStream { id, task, done } => {
                let mut socket = UdpSocket::from_std(task.socket);
                let entry = self.streams.vacant_entry();
                let key = entry.key();
                if let Err(err) = self
                    .poll
                    .registry()
                    .register(&mut socket, stream_token(key), Interest::READABLE)
                {
                    tracing::error!("capture engine: cannot watch a stream socket: {err}");
                    return;
                }
                let bucket = key % BUCKETS;
                entry.insert(Running {
                    socket,
                    answered: task.answered,
                    state: StreamState::new(task.spec),
                    done,
                    bucket,
                });
                self.buckets[bucket].push(key);
                self.stream_keys.insert(id, key);
            }
            Command::Writer { id, writer } => {
                if let Some(running) = self.stream_keys.get(&id).and_then(|&k| self.streams.get_mut(k)) {
                    running.state.attach_writer(*writer);
                }
            }
            Command::Stop { id } => self.stop(id),
            Command::AddRtcp { id, socket, streams } => {
                let mut socket = UdpSocket::from_std(socket);
                let entry = self.rtcps.vacant_entry();
                let key = entry.key();
                if let Err(err) = self
                    .poll
                    .registry()
                    .register(&mut socket, rtcp_token(key), Interest::READABLE)
                {
                    tracing::error!("capture engine: cannot watch an RTCP socket: {err}");
                    return;
                }
                entry.insert(Rtcp { socket, streams });
                self.rtcp_keys.insert(id, key);
            }
            Command::RemoveRtcp { id } => {
                if let Some(key) = self.rtcp_keys.remove(&id) {
                    let mut rtcp = self.rtcps.remove(key);
                    let _ = self.poll.registry().deregister(&mut rtcp.socket);
                }
            }
        }
    }

    fn stop(&mut self, id: u64) {
        let Some(key) = self.stream_keys.remove(&id) else {
            return;
        };
        let mut running = self.streams.remove(key);
        let _ = self.poll.registry().deregister(&mut running.socket);
        let bucket = &mut self.buckets[running.bucket];
        if let Some(pos) = bucket.iter().position(|&k| k == key) {
            bucket.swap_remove(pos);
        }
        let _ = running.done.send(running.state.finish());
    }

    fn sweep(&mut self, now: Instant) {
        let bucket = self.next_bucket;
        self.next_bucket = (bucket + 1) % BUCKETS;
        for &key in &self.buckets[bucket] {
            if let Some(running) = self.streams.get_mut(key) {
                running.state.tick(ms_since(now, running.answered));
            }
        }
    }
}
