//! The emulated dongle's BLE side: a GATT server on a local socket.
//!
//! It answers like the ESP32's: an advert named `tinySSB-xxxx` with the tinySSB service; the
//! MTU exchange (the firmware's local MTU is 128); the service with RX (write) and TX
//! (read, notify); a subscription to TX; writes to RX, each acknowledged once the packet is
//! taken (or refused with an ATT error if it exceeds the MTU); one notification per packet.
//! At most three centrals at a time. Once a central has subscribed, the link is an ordinary
//! [`Connection`] from the dongle's side, pumped into the dongle's node by the same
//! [`crate::ble::pump::pump`] the phone uses.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tracing::{debug, info_span, Instrument};

use super::Shared;
use crate::ble::gatt_wire::{
    read_msg, write_msg, Characteristic, Msg, Service, ATT_ATTRIBUTE_NOT_FOUND, ATT_INVALID_LENGTH,
    ATT_WRITE_NOT_PERMITTED, PROP_NOTIFY, PROP_READ, PROP_WRITE,
};
use crate::ble::link::{BoxFuture, Connection, LinkInfo, PacketSink, PacketSource};
use crate::ble::pump::{pump, Meter, PumpConfig};
use crate::ble::{LinkError, ATT_HEADER, RX_UUID, SERVICE_UUID, TX_UUID};

/// Accepts centrals until the node shuts down.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let centrals = Arc::new(AtomicUsize::new(0));
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            // Out of file descriptors, typically: wait instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        if !*shared.ble_on.borrow() {
            drop(tcp); // out of range: the connection fails at once
            continue;
        }
        let _ = tcp.set_nodelay(true);
        let (shared, centrals) = (shared.clone(), centrals.clone());
        tokio::spawn(
            async move {
                if let Err(e) = central(tcp, &shared, &centrals).await {
                    debug!(%e, "central connection ended");
                }
            }
            .instrument(info_span!("ble-central", %peer)),
        );
    }
}

fn services(shared: &Shared) -> Vec<Service> {
    if !shared.cfg.with_service {
        return vec![Service {
            uuid: 0x1800, // only Generic Access, as a device with other firmware
            chars: vec![],
        }];
    }
    vec![Service {
        uuid: SERVICE_UUID,
        chars: vec![
            Characteristic {
                uuid: RX_UUID,
                props: PROP_WRITE,
            },
            Characteristic {
                uuid: TX_UUID,
                props: PROP_READ | PROP_NOTIFY,
            },
        ],
    }]
}

/// Holds one of the (at most three) central slots until dropped.
struct Slot<'a>(&'a AtomicUsize);

impl<'a> Slot<'a> {
    fn take(count: &'a AtomicUsize, max: usize) -> Option<Slot<'a>> {
        if count.fetch_add(1, Ordering::SeqCst) >= max {
            count.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Slot(count))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves one central: the handshake, then the link.
async fn central(
    tcp: TcpStream,
    shared: &Arc<Shared>,
    centrals: &AtomicUsize,
) -> std::io::Result<()> {
    let peer = tcp.peer_addr()?.to_string();
    let (r, mut w) = tcp.into_split();
    let mut r = BufReader::new(r);
    let mut mtu = 23usize;
    let mut slot = None;
    loop {
        let Some(msg) = read_msg(&mut r).await? else {
            return Ok(());
        };
        let answer = match msg {
            Ok(Msg::ScanRequest) => Msg::Advert {
                name: shared.cfg.name.clone(),
                rssi: shared.cfg.rssi,
                services: vec![SERVICE_UUID],
            },
            Ok(Msg::MtuRequest(m)) => {
                if slot.is_none() {
                    slot = Slot::take(centrals, shared.cfg.max_centrals);
                    if slot.is_none() {
                        write_msg(&mut w, &Msg::Busy).await?;
                        return Ok(());
                    }
                }
                mtu = usize::from(m.min(shared.cfg.mtu).max(23));
                Msg::MtuResponse(shared.cfg.mtu)
            }
            Ok(Msg::Discover) => Msg::Services(services(shared)),
            Ok(Msg::Subscribe(c)) if c == TX_UUID && shared.cfg.with_service => {
                write_msg(&mut w, &Msg::WriteResponse(0)).await?;
                return linked(r, w, mtu, &peer, shared).await;
            }
            Ok(Msg::Subscribe(_)) => Msg::WriteResponse(ATT_ATTRIBUTE_NOT_FOUND),
            // A write before subscribing is acknowledged and dropped.
            Ok(Msg::Write { .. }) => Msg::WriteResponse(0),
            Ok(other) => {
                debug!(?other, "ignored");
                continue;
            }
            Err(e) => {
                debug!(%e, "skipped a bad message");
                continue;
            }
        };
        write_msg(&mut w, &answer).await?;
    }
}

/// The subscribed link: a [`Connection`] from the dongle's side, pumped into its node.
async fn linked(
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
    mtu: usize,
    peer: &str,
    shared: &Arc<Shared>,
) -> std::io::Result<()> {
    let (wtx, wrx) = mpsc::channel::<Msg>(64);
    let (ftx, frx) = mpsc::channel::<Vec<u8>>(64);
    let writer = tokio::spawn(write_loop(w, wrx));
    let reader = tokio::spawn(read_loop(
        r,
        ftx,
        wtx.clone(),
        mtu,
        shared.ble_on.subscribe(),
    ));
    let mut conn = Connection {
        info: LinkInfo {
            id: peer.to_owned(),
            name: format!("central {peer}"),
            mtu,
        },
        sink: Box::new(Notifier { tx: wtx }),
        source: Box::new(Writes { rx: frx }),
    };
    let link = shared.link.clone();
    let Ok((face, out)) = link
        .register("ble", conn.info.name.clone(), super::dongle_profile())
        .await
    else {
        return Ok(());
    };
    let mut wire = shared.attach(face, out);
    let meter = Meter::default();
    let why = pump(
        &mut conn,
        face,
        &mut wire,
        &link,
        &meter,
        &|_| {},
        &PumpConfig::default(),
    )
    .await;
    debug!(%why, "central gone");
    shared.detach(face);
    link.unregister(face, why);
    reader.abort();
    writer.abort();
    Ok(())
}

async fn write_loop(mut w: tokio::net::tcp::OwnedWriteHalf, mut rx: mpsc::Receiver<Msg>) {
    while let Some(m) = rx.recv().await {
        if write_msg(&mut w, &m).await.is_err() {
            break;
        }
    }
}

/// Writes from the central become packets; each is answered (taken, or refused).
async fn read_loop(
    mut r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    packets: mpsc::Sender<Vec<u8>>,
    answers: mpsc::Sender<Msg>,
    mtu: usize,
    mut ble_on: watch::Receiver<bool>,
) {
    loop {
        let msg = tokio::select! {
            m = read_msg(&mut r) => m,
            _ = ble_on.wait_for(|on| !on) => return, // out of range: drop the link
        };
        let status = match msg {
            Ok(Some(Ok(Msg::Write { char, data }))) if char == RX_UUID => {
                if data.len() + ATT_HEADER > mtu {
                    ATT_INVALID_LENGTH
                } else if packets.send(data).await.is_err() {
                    return;
                } else {
                    0
                }
            }
            Ok(Some(Ok(Msg::Write { .. }))) => ATT_WRITE_NOT_PERMITTED,
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => {
                debug!(%e, "skipped a bad message");
                continue;
            }
            Ok(None) | Err(_) => return,
        };
        if answers.send(Msg::WriteResponse(status)).await.is_err() {
            return;
        }
    }
}

/// The dongle's notifications to its central.
struct Notifier {
    tx: mpsc::Sender<Msg>,
}

impl PacketSink for Notifier {
    fn write<'a>(&'a mut self, pkt: &'a [u8]) -> BoxFuture<'a, Result<(), LinkError>> {
        Box::pin(async move {
            let m = Msg::Notify {
                char: TX_UUID,
                data: pkt.to_vec(),
            };
            self.tx
                .send(m)
                .await
                .map_err(|_| LinkError::Down("the central went away".into()))
        })
    }

    fn rssi(&mut self) -> BoxFuture<'_, Option<i16>> {
        Box::pin(async { None })
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// The central's writes, as packets.
struct Writes {
    rx: mpsc::Receiver<Vec<u8>>,
}

impl PacketSource for Writes {
    fn recv(&mut self) -> BoxFuture<'_, Result<Vec<u8>, LinkError>> {
        Box::pin(async move {
            self.rx
                .recv()
                .await
                .ok_or_else(|| LinkError::Down("the central disconnected".into()))
        })
    }
}
