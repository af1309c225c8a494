//! The capture engine: a small number of dedicated threads own every RTP and RTCP
//! socket of the recorder, wait on them with epoll (mio, edge-triggered), read them in
//! `recvmmsg` batches and drive each stream's [`StreamState`](crate::stream::StreamState).
//! One periodic sweep per thread replaces per-stream timers. The async controller talks
//! to it through commands (a channel plus a [`mio::Waker`]); digits come back on the
//! controller's news channel, results on a oneshot per stream.

mod recv;
mod rtcp;
mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::oneshot;

use crate::server::RecorderMetrics;
use crate::stream::{StreamCommand, StreamResult, StreamTask};

/// How many capture threads (each owns the sockets of whole calls), and how they wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    pub threads: usize,
    /// After a round that found only a few ready sockets, a thread waits until this long
    /// after its wakeup before the next round, so that one round serves many sockets
    /// (fewer wakeups and `epoll_wait` calls); zero wakes for every readiness. It delays
    /// packets by at most this, never drops them (they wait in the socket buffers).
    pub coalesce: std::time::Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            threads: 1,
            coalesce: std::time::Duration::from_millis(1),
        }
    }
}

impl EngineConfig {
    /// The defaults, unless `CALLVAULT_CAPTURE_THREADS` (1..=64) or
    /// `CALLVAULT_CAPTURE_COALESCE_US` (0..=20000) say otherwise.
    pub fn from_env() -> Self {
        let number = |name: &str| std::env::var(name).ok().and_then(|v| v.trim().parse::<u64>().ok());
        let default = EngineConfig::default();
        EngineConfig {
            threads: number("CALLVAULT_CAPTURE_THREADS").map_or(default.threads, |n| n.clamp(1, 64) as usize),
            coalesce: number("CALLVAULT_CAPTURE_COALESCE_US")
                .map_or(default.coalesce, |us| std::time::Duration::from_micros(us.min(20_000))),
        }
    }
}

/// What a capture thread is asked to do.
enum Command {
    AddStream {
        id: u64,
        task: StreamTask,
        done: oneshot::Sender<StreamResult>,
    },
    Writer {
        id: u64,
        writer: Box<vault::SpoolWriter>,
    },
    Stop {
        id: u64,
    },
    AddRtcp {
        id: u64,
        socket: std::net::UdpSocket,
        streams: Vec<u64>,
    },
    RemoveRtcp {
        id: u64,
    },
}

/// One capture thread's mailbox.
struct Shard {
    commands: std::sync::mpsc::Sender<Command>,
    waker: Arc<mio::Waker>,
}

impl Shard {
    fn send(&self, command: Command) -> Result<(), EngineStopped> {
        self.commands.send(command).map_err(|_| EngineStopped)?;
        self.waker.wake().map_err(|_| EngineStopped)
    }
}

/// The engine's threads have stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the capture engine has stopped")]
pub struct EngineStopped;

struct Inner {
    shards: Vec<Shard>,
    next_id: AtomicU64,
    next_call: AtomicU64,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channels stops the threads.
        let shards = std::mem::take(&mut self.shards);
        for shard in &shards {
            let _ = shard.waker.wake();
        }
        drop(shards);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The handle on the capture engine; cheap to clone. The threads stop when the last
/// handle (including those inside [`StreamControl`] and [`RtcpControl`]) is dropped.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

/// The capture thread that takes a whole call (its streams and its RTCP port).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallShard(usize);

impl Engine {
    /// Starts the capture threads.
    pub fn start(config: EngineConfig, metrics: Arc<RecorderMetrics>) -> std::io::Result<Engine> {
        let mut shards = Vec::new();
        let mut threads = Vec::new();
        for n in 0..config.threads.max(1) {
            let (commands, receiver) = std::sync::mpsc::channel();
            let poll = mio::Poll::new()?;
            let waker = Arc::new(mio::Waker::new(poll.registry(), worker::WAKER)?);
            let metrics = metrics.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("capture-{n}"))
                    .spawn(move || worker::Worker::new(poll, receiver, metrics).run(config.coalesce))?,
            );
            shards.push(Shard { commands, waker });
        }
        Ok(Engine {
            inner: Arc::new(Inner {
                shards,
                next_id: AtomicU64::new(0),
                next_call: AtomicU64::new(0),
                threads,
            }),
        })
    }

    /// The thread for a new call (round robin).
    pub fn call_shard(&self) -> CallShard {
        let n = self.inner.next_call.fetch_add(1, Ordering::Relaxed);
        CallShard((n % self.inner.shards.len() as u64) as usize)
    }

    fn shard(&self, shard: CallShard) -> &Shard {
        &self.inner.shards[shard.0]
    }

    fn next_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Hands a stream's socket to the engine. The receiver yields its
    /// [`StreamResult`] once [`StreamCommand::Stop`] was sent.
    pub fn add_stream(
        &self,
        shard: CallShard,
        task: StreamTask,
    ) -> Result<(StreamControl, oneshot::Receiver<StreamResult>), EngineStopped> {
        let id = self.next_id();
        let (done, result) = oneshot::channel();
        self.shard(shard).send(Command::AddStream { id, task, done })?;
        Ok((
            StreamControl {
                engine: self.clone(),
                shard,
                id,
            },
            result,
        ))
    }

    /// Hands a call's shared RTCP socket to the engine; its sender reports and BYEs are
    /// matched to `streams` by SSRC. Dropping the returned control closes the socket.
    pub fn add_rtcp(
        &self,
        shard: CallShard,
        socket: std::net::UdpSocket,
        streams: &[&StreamControl],
    ) -> Result<RtcpControl, EngineStopped> {
        let id = self.next_id();
        let streams = streams.iter().map(|s| s.id).collect();
        self.shard(shard).send(Command::AddRtcp { id, socket, streams })?;
        Ok(RtcpControl {
            engine: self.clone(),
            shard,
            id,
        })
    }
}

/// Commands for one stream in the engine; dropping it stops the stream.
pub struct StreamControl {
    engine: Engine,
    shard: CallShard,
    id: u64,
}

impl StreamControl {
    /// Sends a command to the stream (like an unbounded channel's `send`).
    pub fn send(&self, command: StreamCommand) -> Result<(), EngineStopped> {
        let id = self.id;
        let command = match command {
            StreamCommand::Writer(writer) => Command::Writer { id, writer },
            StreamCommand::Stop => Command::Stop { id },
        };
        self.engine.shard(self.shard).send(command)
    }
}

impl Drop for StreamControl {
    /// A stream whose controller is gone stops (a second stop is ignored).
    fn drop(&mut self) {
        let _ = self.engine.shard(self.shard).send(Command::Stop { id: self.id });
    }
}

/// A call's RTCP socket in the engine; dropping this closes it.
pub struct RtcpControl {
    engine: Engine,
    shard: CallShard,
    id: u64,
}

impl Drop for RtcpControl {
    fn drop(&mut self) {
        let _ = self.engine.shard(self.shard).send(Command::RemoveRtcp { id: self.id });
    }
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket;
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    use media::{AudioCodec, RtpPacket};
    use tokio::sync::mpsc;

    use super::*;
    use crate::stream::{SharedGate, StreamSpec};

    fn bound() -> UdpSocket {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket.set_nonblocking(true).expect("nonblocking");
        socket
    }

    fn task(
        socket: UdpSocket,
        index: usize,
        news: mpsc::UnboundedSender<(String, crate::stream::StreamNews)>,
    ) -> StreamTask {
        StreamTask {
            socket,
            answered: Instant::now(),
            spec: StreamSpec {
                index,
                codec: AudioCodec::Pcmu,
                payload_type: 0,
                telephone_event_pt: None,
                customer: false,
                gate: Arc::new(SharedGate::new()),
                last_packet_ms: Arc::new(AtomicU64::new(0)),
                paused: Arc::new(AtomicBool::new(false)),
                call_id: "call".into(),
                news,
            },
        }
    }

    fn sender_report(ssrc: u32, packets: u32) -> Vec<u8> {
        rtcp::tests::sender_report(ssrc, packets, packets * 160)
    }

    /// Two streams of one call and its RTCP port, fed over real sockets: packets are
    /// counted per stream, the stranger's are dropped, sender reports and BYE land on
    /// the stream whose SSRC they name, unknown SSRCs are counted.
    #[test]
    fn streams_and_rtcp_of_a_call_over_real_sockets() {
        let metrics = Arc::new(RecorderMetrics::default());
        let engine = Engine::start(
            EngineConfig {
                threads: 2,
                ..EngineConfig::default()
            },
            metrics.clone(),
        )
        .expect("engine");
        let (news, _news_rx) = mpsc::unbounded_channel();
        let (sockets, rtcp_socket) = ([bound(), bound()], bound());
        let targets: Vec<_> = sockets.iter().map(|s| s.local_addr().expect("addr")).collect();
        let rtcp_target = rtcp_socket.local_addr().expect("addr");
        let shard = engine.call_shard();
        let mut streams = Vec::new();
        for (index, socket) in sockets.into_iter().enumerate() {
            streams.push(
                engine
                    .add_stream(shard, task(socket, index, news.clone()))
                    .expect("add"),
            );
        }
        let controls: Vec<&StreamControl> = streams.iter().map(|(c, _)| c).collect();
        let rtcp = engine.add_rtcp(shard, rtcp_socket, &controls).expect("rtcp");

        let sbc = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let stranger = UdpSocket::bind("127.0.0.1:0").expect("bind");
        // (stream, packets sent, SSRC)
        let sent = [(0usize, 40u16, 0xA0u32), (1, 25, 0xB0)];
        for seq in 0..40u16 {
            for &(stream, count, ssrc) in &sent {
                if seq < count {
                    let packet = RtpPacket::new(0, seq, u32::from(seq) * 160, ssrc, &[0x55; 160]).to_bytes();
                    sbc.send_to(&packet, targets[stream]).expect("send");
                }
            }
        }
        stranger
            .send_to(&RtpPacket::new(0, 1, 0, 0xA0, &[0; 160]).to_bytes(), targets[0])
            .expect("send");
        std::thread::sleep(Duration::from_millis(200));
        for datagram in [
            sender_report(0xA0, 40),
            [sender_report(0xB0, 25), rtcp::tests::bye(&[0xB0])].concat(),
            sender_report(0xC0, 1),
            vec![1, 2, 3],
        ] {
            sbc.send_to(&datagram, rtcp_target).expect("send");
        }
        std::thread::sleep(Duration::from_millis(200));
        drop(rtcp);
        let mut results = Vec::new();
        for (control, result) in streams {
            control.send(StreamCommand::Stop).expect("stop");
            results.push(result.blocking_recv().expect("result"));
        }
        let got: Vec<_> = results
            .iter()
            .map(|r| {
                (
                    r.packets,
                    r.lost,
                    r.foreign_source_dropped,
                    r.rtcp.sender_packets,
                    r.rtcp.bye,
                )
            })
            .collect();
        assert_eq!(got, [(40, 0, 1, Some(40), false), (25, 0, 0, Some(25), true)]);
        let counted = [
            &metrics.rtcp_packets,
            &metrics.rtcp_sender_reports,
            &metrics.rtcp_byes,
            &metrics.rtcp_unknown_ssrc,
            &metrics.rtcp_malformed,
        ]
        .map(|c| c.load(Ordering::Relaxed));
        assert_eq!(counted, [4, 2, 1, 1, 1]);
    }
}
