//! In-process packet links: phone-to-phone through native peripheral code, and tests.
//!
//! On Android and iOS the peripheral role (GATT server and advertiser) is native code. The
//! bindings hand it a [`NativeEnd`]: it takes the packets Lichen writes (frames out, each
//! acknowledged or refused like a GATT write with response), gives Lichen the packets the
//! other phone wrote into our RX characteristic (frames in), and says when the link went
//! down. Lichen sees an ordinary [`Connection`]. [`pair`] wires two connections back to back
//! (two phones in one process).

use tokio::sync::{mpsc, oneshot, watch};

use super::link::{BoxFuture, Connection, LinkInfo, PacketSink, PacketSource};
use super::LinkError;

/// Whether a link is up (`None`) or down, and why.
#[derive(Clone)]
struct LinkState(watch::Sender<Option<String>>);

impl LinkState {
    fn new() -> LinkState {
        LinkState(watch::channel(None).0)
    }

    fn down(&self, reason: &str) {
        self.0.send_if_modified(|s| {
            if s.is_none() {
                *s = Some(reason.to_owned());
                true
            } else {
                false
            }
        });
    }

    fn reason(&self) -> Option<String> {
        self.0.borrow().clone()
    }
}

/// A packet Lichen wrote, waiting for the native side to acknowledge it.
#[derive(Debug)]
pub struct Outbound {
    /// The packet.
    pub pkt: Vec<u8>,
    done: oneshot::Sender<Result<(), String>>,
}

impl Outbound {
    /// The write reached the peer.
    pub fn ack(self) {
        let _ = self.done.send(Ok(()));
    }

    /// The peer refused the write (an ATT error); the link stays up.
    pub fn refuse(self, why: &str) {
        let _ = self.done.send(Err(why.to_owned()));
    }
}

/// Sends packets into one side, one at a time, each waiting for its acknowledgement.
struct Sink {
    state: LinkState,
    tx: mpsc::Sender<Outbound>,
    mtu: usize,
    rssi: Option<i16>,
}

impl PacketSink for Sink {
    fn write<'a>(&'a mut self, pkt: &'a [u8]) -> BoxFuture<'a, Result<(), LinkError>> {
        Box::pin(async move {
            if pkt.len() + super::ATT_HEADER > self.mtu {
                return Err(LinkError::TooLong {
                    len: pkt.len(),
                    mtu: self.mtu,
                });
            }
            if let Some(r) = self.state.reason() {
                return Err(LinkError::Down(r));
            }
            let (done, answer) = oneshot::channel();
            let down = || LinkError::Down(self.state.reason().unwrap_or("closed".into()));
            self.tx
                .send(Outbound {
                    pkt: pkt.to_vec(),
                    done,
                })
                .await
                .map_err(|_| down())?;
            match answer.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(why)) => Err(LinkError::Refused(why)),
                Err(_) => Err(down()),
            }
        })
    }

    fn rssi(&mut self) -> BoxFuture<'_, Option<i16>> {
        Box::pin(async move { self.rssi })
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move { self.state.down("closed by this side") })
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.state.down("closed by this side");
    }
}

/// Yields the packets given to one side until the link goes down.
struct Source {
    state: LinkState,
    rx: mpsc::Receiver<Vec<u8>>,
}

impl PacketSource for Source {
    fn recv(&mut self) -> BoxFuture<'_, Result<Vec<u8>, LinkError>> {
        Box::pin(async move {
            let mut watch = self.state.0.subscribe();
            loop {
                if let Some(r) = watch.borrow_and_update().clone() {
                    return Err(LinkError::Down(r));
                }
                tokio::select! {
                    got = self.rx.recv() => return got.ok_or_else(|| {
                        LinkError::Down(self.state.reason().unwrap_or("closed by the peer".into()))
                    }),
                    changed = watch.changed() => if changed.is_err() {
                        return Err(LinkError::Down("closed".into()));
                    },
                }
            }
        })
    }
}

/// The native side of an in-process link (what the bindings give platform code).
pub struct NativeEnd {
    state: LinkState,
    writes: mpsc::Receiver<Outbound>,
    frames: mpsc::Sender<Vec<u8>>,
}

impl NativeEnd {
    /// The next packet Lichen wrote (to be written to the peer's RX characteristic or
    /// notified), or `None` once the link is down.
    pub async fn next_write(&mut self) -> Option<Outbound> {
        if self.state.reason().is_some() {
            return None;
        }
        self.writes.recv().await
    }

    /// A packet that arrived from the peer. Fails once the link is down.
    pub async fn frame_in(&self, pkt: Vec<u8>) -> Result<(), LinkError> {
        if let Some(r) = self.state.reason() {
            return Err(LinkError::Down(r));
        }
        self.frames
            .send(pkt)
            .await
            .map_err(|_| LinkError::Down("closed by Lichen".into()))
    }

    /// The platform lost the link (disconnect, Bluetooth off, app suspended).
    pub fn link_down(&self, reason: &str) {
        self.state.down(reason);
    }

    /// Whether the link is still up.
    pub fn is_up(&self) -> bool {
        self.state.reason().is_none()
    }
}

impl Drop for NativeEnd {
    fn drop(&mut self) {
        self.state.down("the native side went away");
    }
}

/// A link to native code: Lichen's [`Connection`] and the platform's [`NativeEnd`].
pub fn native_link(info: LinkInfo, rssi: Option<i16>) -> (Connection, NativeEnd) {
    let state = LinkState::new();
    let (wtx, wrx) = mpsc::channel(1);
    let (ftx, frx) = mpsc::channel(64);
    let conn = Connection {
        sink: Box::new(Sink {
            state: state.clone(),
            tx: wtx,
            mtu: info.mtu,
            rssi,
        }),
        source: Box::new(Source {
            state: state.clone(),
            rx: frx,
        }),
        info,
    };
    (
        conn,
        NativeEnd {
            state,
            writes: wrx,
            frames: ftx,
        },
    )
}

/// Two connections wired back to back: what one side writes, the other receives (and the
/// write is acknowledged once the other side's queue took it). Either side closing or being
/// dropped takes the link down for both. Must be called inside a tokio runtime.
pub fn pair(a: LinkInfo, b: LinkInfo) -> (Connection, Connection) {
    let (ca, mut na) = native_link(a, None);
    let (cb, mut nb) = native_link(b, None);
    let (sa, sb) = (na.state.clone(), nb.state.clone());
    // Writes of A become frames at B, and the other way round.
    tokio::spawn(async move {
        loop {
            tokio::select! {
                w = na.next_write() => match w {
                    Some(w) => {
                        let ok = nb.frame_in(w.pkt.clone()).await.is_ok();
                        if ok { w.ack() } else { break }
                    }
                    None => break,
                },
                w = nb.next_write() => match w {
                    Some(w) => {
                        let ok = na.frame_in(w.pkt.clone()).await.is_ok();
                        if ok { w.ack() } else { break }
                    }
                    None => break,
                },
                _ = wait_down(&sa) => break,
                _ = wait_down(&sb) => break,
            }
        }
        let why = sa
            .reason()
            .or_else(|| sb.reason())
            .unwrap_or_else(|| "closed".into());
        na.link_down(&why);
        nb.link_down(&why);
    });
    (ca, cb)
}

async fn wait_down(s: &LinkState) {
    let mut w = s.0.subscribe();
    while w.borrow_and_update().is_none() {
        if w.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn info(name: &str, mtu: usize) -> LinkInfo {
        LinkInfo {
            id: name.into(),
            name: name.into(),
            mtu,
        }
    }

    #[tokio::test]
    async fn a_pair_carries_packets_both_ways_and_goes_down_together() {
        let (mut a, mut b) = pair(info("a", 128), info("b", 128));
        a.sink.write(&[1; 120]).await.unwrap();
        assert_eq!(b.source.recv().await.unwrap(), vec![1; 120]);
        b.sink.write(&[2; 7]).await.unwrap();
        assert_eq!(a.source.recv().await.unwrap(), vec![2; 7]);
        // One write is one packet, and a packet larger than the MTU allows is refused.
        assert_eq!(
            a.sink.write(&[0; 126]).await,
            Err(LinkError::TooLong { len: 126, mtu: 128 })
        );
        a.sink.close().await;
        assert!(matches!(b.source.recv().await, Err(LinkError::Down(_))));
        assert!(matches!(
            b.sink.write(&[3; 10]).await,
            Err(LinkError::Down(_))
        ));
        assert!(matches!(a.source.recv().await, Err(LinkError::Down(_))));
    }

    #[tokio::test]
    async fn native_side_acknowledges_refuses_and_drops_the_link() {
        let (mut conn, mut native) = native_link(info("phone", 185), Some(-60));
        let writer = tokio::spawn(async move {
            let first = conn.sink.write(b"0123456789").await;
            let second = conn.sink.write(b"abcdefghij").await;
            native_frames(&mut conn).await;
            (first, second, conn)
        });
        let w = native.next_write().await.unwrap();
        assert_eq!(w.pkt, b"0123456789");
        w.ack();
        native.next_write().await.unwrap().refuse("ATT error 0x0d");
        native.frame_in(vec![9; 50]).await.unwrap();
        let (first, second, mut conn) = writer.await.unwrap();
        assert_eq!(first, Ok(()));
        assert_eq!(second, Err(LinkError::Refused("ATT error 0x0d".into())));
        assert_eq!(conn.sink.rssi().await, Some(-60));
        native.link_down("peer walked away");
        assert_eq!(
            conn.source.recv().await,
            Err(LinkError::Down("peer walked away".into()))
        );
        assert!(!native.is_up());
        assert!(native.frame_in(vec![1; 8]).await.is_err());
    }

    async fn native_frames(conn: &mut Connection) {
        assert_eq!(conn.source.recv().await.unwrap(), vec![9; 50]);
    }
}
