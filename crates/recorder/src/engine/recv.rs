//! Batched datagram reads: one `recvmmsg(2)` takes up to [`BATCH`] datagrams from a
//! non-blocking socket (through `nix`, so this crate keeps `unsafe_code` forbidden).

use std::io::IoSliceMut;
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

use nix::errno::Errno;
use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrLike, SockaddrStorage, recvmmsg};

/// Datagrams taken per system call.
pub const BATCH: usize = 16;
/// The largest datagram kept whole (RTP audio and RTCP are far smaller).
const MAX_DATAGRAM: usize = 2048;

/// Reusable buffers for [`RecvBatch::recv`]; one per engine thread.
pub struct RecvBatch {
    headers: MultiHeaders<SockaddrStorage>,
    buffers: Box<[[u8; MAX_DATAGRAM]; BATCH]>,
    lens: [usize; BATCH],
    sources: [Option<SocketAddr>; BATCH],
}

impl RecvBatch {
    pub fn new() -> Self {
        RecvBatch {
            headers: MultiHeaders::preallocate(BATCH, None),
            buffers: Box::new([[0u8; MAX_DATAGRAM]; BATCH]),
            lens: [0; BATCH],
            sources: [None; BATCH],
        }
    }

    /// Reads what is queued on `fd`, up to [`BATCH`] datagrams; 0 when none is.
    pub fn recv(&mut self, fd: RawFd) -> std::io::Result<usize> {
        loop {
            let mut slices = self.buffers.each_mut().map(|b| [IoSliceMut::new(b.as_mut_slice())]);
            match recvmmsg(fd, &mut self.headers, slices.iter_mut(), MsgFlags::MSG_DONTWAIT, None) {
                Ok(results) => {
                    let mut n = 0;
                    for (i, message) in results.enumerate() {
                        self.lens[i] = message.bytes.min(MAX_DATAGRAM);
                        self.sources[i] = message.address.as_ref().and_then(to_socket_addr);
                        n = i + 1;
                    }
                    return Ok(n);
                }
                Err(Errno::EAGAIN) => return Ok(0),
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(errno.into()),
            }
        }
    }

    /// Datagram `i` of the last [`RecvBatch::recv`]: its source (when the kernel gave
    /// one) and its bytes.
    pub fn datagram(&self, i: usize) -> (Option<SocketAddr>, &[u8]) {
        (self.sources[i], &self.buffers[i][..self.lens[i]])
    }
}

impl Default for RecvBatch {
    fn default() -> Self {
        Self::new()
    }
}

fn to_socket_addr(address: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(SocketAddr::V4(SocketAddrV4::from(*v4)));
    }
    if let Some(v6) = address.as_sockaddr_in6() {
        return Some(SocketAddr::V6(SocketAddrV6::from(*v6)));
    }
    let _ = address.len();
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    #[test]
    fn takes_queued_datagrams_in_order_with_their_source() {
        let receiver = UdpSocket::bind("127.0.0.1:0").expect("bind");
        receiver.set_nonblocking(true).expect("nonblocking");
        let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let mut batch = RecvBatch::new();
        assert_eq!(batch.recv(receiver.as_raw_fd()).expect("recv"), 0);
        let sent: Vec<Vec<u8>> = (0..BATCH as u8 + 3).map(|i| vec![i; 10 + usize::from(i)]).collect();
        for datagram in &sent {
            sender
                .send_to(datagram, receiver.local_addr().expect("addr"))
                .expect("send");
        }
        let mut got = Vec::new();
        loop {
            let n = batch.recv(receiver.as_raw_fd()).expect("recv");
            if n == 0 {
                break;
            }
            for i in 0..n {
                let (source, bytes) = batch.datagram(i);
                assert_eq!(source, Some(sender.local_addr().expect("addr")));
                got.push(bytes.to_vec());
            }
        }
        assert_eq!(got, sent);
    }
}
