//! The emulated dongle's LoRa radio: the simulated channel in process, or UDP between
//! emulator processes (one datagram = one on-air frame, `packet ‖ CRC-32`).
//!
//! [`SimAir`] runs [`crate::sim::lora::Medium`] in real time: a radio listens before it talks
//! (carrier sense, then a random part of a frame time), stays busy for the frame's airtime
//! (half-duplex), and the frame reaches the other radios when its airtime ends, unless loss
//! or a collision took it. Whoever finishes a transmission collects every frame that ended
//! and hands it to its receivers, so no clock task is needed.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::lora::Plan;
use crate::sim::lora::{Counters, Medium, NodeId, SimError, TxError};
use crate::sync::Millis;

struct Air {
    medium: Mutex<Medium>,
    ports: Mutex<Vec<mpsc::Sender<Vec<u8>>>>,
    start: std::time::Instant,
}

impl Air {
    fn now(&self) -> Millis {
        self.start.elapsed().as_millis() as u64
    }

    /// Hands every frame whose airtime has ended to its receiver.
    fn deliver(&self) {
        let done = match self.medium.lock() {
            Ok(mut m) => {
                let now = self.now().max(m.now());
                m.poll(now)
            }
            Err(_) => return,
        };
        let Ok(ports) = self.ports.lock() else { return };
        for d in done {
            if let Some(p) = ports.get(d.to.index()) {
                let _ = p.try_send(d.frame);
            }
        }
    }
}

/// A simulated LoRa channel shared by emulated dongles in one process.
#[derive(Clone)]
pub struct SimAir(Arc<Air>);

impl SimAir {
    /// A channel on `plan` losing each reception with probability `loss`.
    pub fn new(plan: Plan, seed: u64, loss: f64) -> Result<SimAir, SimError> {
        let mut m = Medium::new(plan, seed);
        m.set_loss_rate(loss)?;
        Ok(SimAir(Arc::new(Air {
            medium: Mutex::new(m),
            ports: Mutex::new(Vec::new()),
            start: std::time::Instant::now(),
        })))
    }

    /// A radio on this channel, hearing and heard by every other.
    pub fn radio(&self, seed: u64) -> Radio {
        let (tx, rx) = mpsc::channel(256);
        let id = match (self.0.medium.lock(), self.0.ports.lock()) {
            (Ok(mut m), Ok(mut ports)) => {
                ports.push(tx);
                m.add_node()
            }
            _ => return Radio::Off,
        };
        Radio::Sim(SimRadio {
            air: self.0.clone(),
            id,
            rx,
            rng: ChaCha8Rng::seed_from_u64(seed),
        })
    }

    /// Frame counters of the whole channel.
    pub fn counters(&self) -> Counters {
        self.0
            .medium
            .lock()
            .map(|m| m.counters())
            .unwrap_or_default()
    }
}

/// A radio on a [`SimAir`].
pub struct SimRadio {
    air: Arc<Air>,
    id: NodeId,
    rx: mpsc::Receiver<Vec<u8>>,
    rng: ChaCha8Rng,
}

impl SimRadio {
    async fn send(&mut self, frame: Vec<u8>) {
        loop {
            let attempt = match self.air.medium.lock() {
                Ok(mut m) => {
                    let now = self.air.now().max(m.now());
                    let frame_ms = m.airtime_us(frame.len()).div_ceil(1000).max(1);
                    match m.channel_busy_until(self.id, now) {
                        // Listen before talk: wait for the channel and a random part of a frame.
                        Some(free) => Err(free - now + self.rng.next_u64() % frame_ms),
                        None => match m.transmit(self.id, frame.clone(), now) {
                            Ok(r) => Ok(r.end - now),
                            Err(TxError::Busy { until, .. }) => Err(until.saturating_sub(now)),
                            Err(e) => {
                                tracing::debug!(%e, "frame not sent");
                                return;
                            }
                        },
                    }
                }
                Err(_) => return,
            };
            match attempt {
                Ok(on_air) => {
                    tokio::time::sleep(Duration::from_millis(on_air)).await;
                    self.air.deliver();
                    return;
                }
                Err(wait) => tokio::time::sleep(Duration::from_millis(wait.max(1))).await,
            }
        }
    }
}

/// UDP "LoRa" between emulator processes: each frame goes to every peer address; a
/// reception is dropped with probability `loss`; the sender stays busy for the airtime.
pub struct UdpRadio {
    bound: Option<std::net::UdpSocket>,
    sock: Option<UdpSocket>,
    peers: Vec<SocketAddr>,
    loss: f64,
    plan: Plan,
    rng: ChaCha8Rng,
    buf: Vec<u8>,
}

impl UdpRadio {
    /// Binds `bind` and sends to `peers`. The socket joins the emulator's runtime on first
    /// use, so this can be called outside it.
    pub fn bind(
        bind: &str,
        peers: Vec<SocketAddr>,
        plan: Plan,
        loss: f64,
        seed: u64,
    ) -> std::io::Result<UdpRadio> {
        let s = std::net::UdpSocket::bind(bind)?;
        s.set_nonblocking(true)?;
        Ok(UdpRadio {
            bound: Some(s),
            sock: None,
            peers,
            loss: loss.clamp(0.0, 1.0),
            plan,
            rng: ChaCha8Rng::seed_from_u64(seed),
            buf: vec![0; 2048],
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match (&self.sock, &self.bound) {
            (Some(s), _) => s.local_addr(),
            (None, Some(b)) => b.local_addr(),
            (None, None) => Err(std::io::Error::other("socket closed")),
        }
    }

    fn socket(&mut self) -> Option<&UdpSocket> {
        if self.sock.is_none() {
            let std = self.bound.take()?;
            match UdpSocket::from_std(std) {
                Ok(s) => self.sock = Some(s),
                Err(e) => tracing::warn!(%e, "the LoRa UDP socket cannot be used"),
            }
        }
        self.sock.as_ref()
    }
}

/// The emulator's LoRa radio.
pub enum Radio {
    /// No radio (BLE only).
    Off,
    /// On a simulated channel in this process.
    Sim(SimRadio),
    /// UDP datagrams to other emulators.
    Udp(UdpRadio),
}

impl Radio {
    /// Puts a frame on air and returns once its airtime has passed.
    pub async fn send(&mut self, frame: Vec<u8>) {
        match self {
            Radio::Off => {}
            Radio::Sim(r) => r.send(frame).await,
            Radio::Udp(r) => {
                let peers = r.peers.clone();
                if let Some(sock) = r.socket() {
                    for p in &peers {
                        if let Err(e) = sock.send_to(&frame, p).await {
                            tracing::debug!(%e, peer = %p, "UDP radio send failed");
                        }
                    }
                }
                let us = r.plan.time_on_air_us(frame.len());
                tokio::time::sleep(Duration::from_micros(us)).await;
            }
        }
    }

    /// The next frame received (`None`: this radio never receives).
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        match self {
            Radio::Off => None,
            Radio::Sim(r) => r.rx.recv().await,
            Radio::Udp(r) => loop {
                r.socket()?;
                let got = match &r.sock {
                    Some(sock) => sock.recv_from(&mut r.buf).await,
                    None => return None,
                };
                let Ok((n, _)) = got else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let draw = (r.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                if draw < r.loss {
                    continue;
                }
                return r.buf.get(..n).map(<[u8]>::to_vec);
            },
        }
    }
}
