//! The TCP endpoint: a listener, and per connection a reader that frames the byte
//! stream with `frame_stream` (answering CRLF keep-alive pings) and a writer queue.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Inbound, Transport, TransportEvent};
use crate::counters::{SipCounters, bump};
use crate::framing::frame_stream_with;
use crate::limits::Limits;
use crate::parse::leading_line_ends;
use crate::reject::error_response;

/// Outgoing messages queued per connection before sends to it fail.
const WRITE_QUEUE: usize = 256;

/// Settings of the TCP endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSettings {
    /// Parser and framing limits.
    pub limits: Limits,
    /// Connections open at once; more are closed at accept.
    pub max_connections: usize,
    /// A connection silent this long is closed.
    pub idle_timeout: Duration,
}

/// A bound TCP listener.
#[derive(Debug)]
pub struct TcpTransport {
    listener: TcpListener,
}

impl TcpTransport {
    /// Binds `addr`.
    pub async fn bind(addr: SocketAddr) -> io::Result<TcpTransport> {
        Ok(TcpTransport {
            listener: TcpListener::bind(addr).await?,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts connections until `events` closes; each connection runs in its own tasks.
    pub fn spawn_acceptor(
        self,
        events: mpsc::Sender<TransportEvent>,
        counters: Arc<SipCounters>,
        settings: TcpSettings,
    ) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match self.listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::debug!(%error, "tcp accept error");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                if events.is_closed() {
                    return;
                }
                let open = counters.tcp_connections_open.load(Ordering::Relaxed);
                if usize::try_from(open).unwrap_or(usize::MAX) >= settings.max_connections {
                    bump(&counters.tcp_connections_rejected);
                    drop(stream);
                    continue;
                }
                bump(&counters.tcp_connections_accepted);
                counters.tcp_connections_open.fetch_add(1, Ordering::Relaxed);
                let (events, counters) = (events.clone(), Arc::clone(&counters));
                tokio::spawn(async move {
                    serve_connection(stream, peer, &events, &counters, settings).await;
                    counters.tcp_connections_open.fetch_sub(1, Ordering::Relaxed);
                    let _ = events.send(TransportEvent::Disconnected { peer }).await;
                });
            }
        })
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    events: &mpsc::Sender<TransportEvent>,
    counters: &SipCounters,
    settings: TcpSettings,
) {
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    let (queue, mut outgoing) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
    tokio::spawn(async move {
        while let Some(bytes) = outgoing.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });
    let connected = TransportEvent::Connected {
        peer,
        writer: queue.clone(),
    };
    if events.send(connected).await.is_err() {
        return;
    }
    let mut buffer: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        loop {
            let keepalive = leading_line_ends(&buffer);
            if keepalive > 0 {
                if buffer.starts_with(b"\r\n\r\n") {
                    // RFC 5626 §4.4.1: a CRLFCRLF ping gets a CRLF pong.
                    let _ = queue.try_send(b"\r\n".to_vec());
                }
                buffer.drain(..keepalive);
            }
            match frame_stream_with(&buffer, &settings.limits) {
                Ok(Some(len)) => {
                    bump(&counters.messages_received);
                    let bytes: Vec<u8> = buffer.drain(..len).collect();
                    let inbound = Inbound {
                        bytes,
                        source: peer,
                        transport: Transport::Tcp,
                    };
                    if events.send(TransportEvent::Message(inbound)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    // The stream cannot be resynchronised: answer if possible, then close.
                    bump(&counters.messages_received);
                    bump(&counters.parse_errors);
                    tracing::debug!(%peer, code = error.code(), "tcp framing error");
                    if let Some(response) = error_response(&buffer, &error) {
                        bump(&counters.requests_rejected);
                        let _ = queue.send(response).await;
                    }
                    return;
                }
            }
        }
        let read = tokio::select! {
            read = tokio::time::timeout(settings.idle_timeout, reader.read(&mut chunk)) => read,
            // The server stopped.
            () = events.closed() => return,
        };
        match read {
            Ok(Ok(len)) if len > 0 => buffer.extend_from_slice(chunk.get(..len).unwrap_or_default()),
            _ => return,
        }
    }
}
