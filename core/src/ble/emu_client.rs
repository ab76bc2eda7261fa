//! The central side of the dongle emulator's socket: scan, connect, MTU exchange, service
//! discovery, subscribe, write with response, notifications — the GATT operations of a real
//! dongle link, carried by [`gatt_wire`](super::gatt_wire) over TCP.
//!
//! A dongle's id is the emulator's socket address. `lichen dongle … --emu ADDR` (or
//! `LICHEN_DONGLE_EMU`) makes the CLI use this central instead of Bluetooth.

use std::time::Duration;

use tokio::io::BufReader;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tracing::debug;

use super::gatt_wire::{read_msg, write_msg, Msg, PROP_NOTIFY, PROP_WRITE};
use super::link::{
    Advert, BoxFuture, Central, ChannelSource, Connection, DownReason, LinkInfo, PacketSink,
};
use super::{
    uuid_text, BleError, LinkError, ATT_HEADER, REQUESTED_MTU, RX_UUID, SERVICE_UUID, TX_UUID,
};

/// Reaches dongle emulators at fixed socket addresses.
#[derive(Debug, Clone)]
pub struct EmuCentral {
    addrs: Vec<String>,
}

impl EmuCentral {
    /// A central for the emulators at `addrs` (`host:port`, several separated by commas).
    pub fn new(addrs: &str) -> EmuCentral {
        EmuCentral {
            addrs: addrs
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

type Reader = BufReader<OwnedReadHalf>;

async fn ask(r: &mut Reader, w: &mut OwnedWriteHalf, m: &Msg, name: &str) -> Result<Msg, BleError> {
    let gone = |why: String| {
        debug!(name, why, "emulator handshake failed");
        BleError::DeviceGone {
            name: name.to_owned(),
        }
    };
    write_msg(w, m).await.map_err(|e| gone(e.to_string()))?;
    loop {
        match read_msg(r).await {
            Ok(Some(Ok(Msg::Busy))) => return Err(gone("busy".into())),
            Ok(Some(Ok(answer))) => return Ok(answer),
            Ok(Some(Err(e))) => debug!(%e, "skipped a bad message"),
            Ok(None) => return Err(gone("closed".into())),
            Err(e) => return Err(gone(e.to_string())),
        }
    }
}

async fn advert(addr: &str) -> Result<Advert, BleError> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|_| BleError::DeviceGone { name: addr.into() })?;
    let (r, mut w) = tcp.into_split();
    let mut r = BufReader::new(r);
    match ask(&mut r, &mut w, &Msg::ScanRequest, addr).await? {
        Msg::Advert {
            name,
            rssi,
            services,
        } if services.contains(&SERVICE_UUID) => Ok(Advert {
            id: addr.to_owned(),
            name,
            rssi: Some(i16::from(rssi)),
        }),
        _ => Err(BleError::DeviceGone { name: addr.into() }),
    }
}

impl Central for EmuCentral {
    fn kind(&self) -> &'static str {
        "emulator"
    }

    fn scan(&self, within: Duration) -> BoxFuture<'_, Result<Vec<Advert>, BleError>> {
        Box::pin(async move {
            let each = within.clamp(Duration::from_millis(100), Duration::from_secs(2));
            let mut found = Vec::new();
            for a in &self.addrs {
                if let Ok(Ok(ad)) = tokio::time::timeout(each, advert(a)).await {
                    found.push(ad);
                }
            }
            Ok(found)
        })
    }

    fn open<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Connection, BleError>> {
        Box::pin(open(id))
    }
}

async fn open(id: &str) -> Result<Connection, BleError> {
    let ad = advert(id).await?;
    let name = ad.name.clone();
    let tcp = TcpStream::connect(id)
        .await
        .map_err(|_| BleError::DeviceGone { name: name.clone() })?;
    let _ = tcp.set_nodelay(true);
    let (r, mut w) = tcp.into_split();
    let mut r = BufReader::new(r);
    let mtu = match ask(&mut r, &mut w, &Msg::MtuRequest(REQUESTED_MTU), &name).await? {
        Msg::MtuResponse(m) => usize::from(m.min(REQUESTED_MTU)),
        other => {
            return Err(BleError::Other(format!(
                "expected an MTU answer, got {other:?}"
            )))
        }
    };
    let services = match ask(&mut r, &mut w, &Msg::Discover, &name).await? {
        Msg::Services(s) => s,
        other => return Err(BleError::Other(format!("expected services, got {other:?}"))),
    };
    let missing = |what: String| BleError::ServiceMissing {
        name: name.clone(),
        missing: what,
    };
    let service = services
        .iter()
        .find(|s| s.uuid == SERVICE_UUID)
        .ok_or_else(|| missing(format!("service {}", uuid_text(SERVICE_UUID))))?;
    let has = |uuid: u128, prop: u8| {
        service
            .chars
            .iter()
            .any(|c| c.uuid == uuid && c.props & prop != 0)
    };
    if !has(RX_UUID, PROP_WRITE) {
        return Err(missing(format!(
            "writable RX characteristic {}",
            uuid_text(RX_UUID)
        )));
    }
    if !has(TX_UUID, PROP_NOTIFY) {
        return Err(missing(format!(
            "notifying TX characteristic {}",
            uuid_text(TX_UUID)
        )));
    }
    match ask(&mut r, &mut w, &Msg::Subscribe(TX_UUID), &name).await? {
        Msg::WriteResponse(0) => {}
        other => {
            return Err(BleError::Other(format!(
                "{name} refused the subscription to TX: {other:?}"
            )))
        }
    }
    let reason = DownReason::default();
    let (ntx, nrx) = mpsc::channel(256);
    let (rtx, rrx) = mpsc::channel(4);
    tokio::spawn(read_loop(r, ntx, rtx, reason.clone()));
    Ok(Connection {
        info: LinkInfo {
            id: id.to_owned(),
            name,
            mtu,
        },
        sink: Box::new(EmuSink {
            w,
            answers: rrx,
            mtu,
            rssi: ad.rssi,
            reason: reason.clone(),
        }),
        source: Box::new(ChannelSource { rx: nrx, reason }),
    })
}

/// Routes notifications to the source and write answers to the sink, until the socket ends.
async fn read_loop(
    mut r: Reader,
    notes: mpsc::Sender<Vec<u8>>,
    answers: mpsc::Sender<u8>,
    reason: DownReason,
) {
    let why = loop {
        match read_msg(&mut r).await {
            Ok(Some(Ok(Msg::Notify { char, data }))) if char == TX_UUID => {
                if notes.send(data).await.is_err() {
                    break "closed by this side".to_string();
                }
            }
            Ok(Some(Ok(Msg::WriteResponse(s)))) => {
                if answers.send(s).await.is_err() {
                    break "closed by this side".to_string();
                }
            }
            Ok(Some(Ok(other))) => debug!(?other, "ignored an unexpected message"),
            Ok(Some(Err(e))) => debug!(%e, "skipped a bad message"),
            Ok(None) => break "the dongle closed the connection".to_string(),
            Err(e) => break format!("connection error: {e}"),
        }
    };
    reason.set(why);
}

struct EmuSink {
    w: OwnedWriteHalf,
    answers: mpsc::Receiver<u8>,
    mtu: usize,
    rssi: Option<i16>,
    reason: DownReason,
}

impl PacketSink for EmuSink {
    fn write<'a>(&'a mut self, pkt: &'a [u8]) -> BoxFuture<'a, Result<(), LinkError>> {
        Box::pin(async move {
            if pkt.len() + ATT_HEADER > self.mtu {
                return Err(LinkError::TooLong {
                    len: pkt.len(),
                    mtu: self.mtu,
                });
            }
            let m = Msg::Write {
                char: RX_UUID,
                data: pkt.to_vec(),
            };
            if write_msg(&mut self.w, &m).await.is_err() {
                return Err(self.reason.error());
            }
            match self.answers.recv().await {
                Some(0) => Ok(()),
                Some(code) => Err(LinkError::Refused(format!("ATT error 0x{code:02x}"))),
                None => Err(self.reason.error()),
            }
        })
    }

    fn rssi(&mut self) -> BoxFuture<'_, Option<i16>> {
        Box::pin(async move { self.rssi })
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            use tokio::io::AsyncWriteExt;
            self.reason.set("closed by this side");
            let _ = self.w.shutdown().await;
        })
    }
}
