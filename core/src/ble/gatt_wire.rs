//! GATT over a byte stream: how the dongle emulator's BLE side reaches centrals over a
//! local socket.
//!
//! Each message is `length (u16 big-endian) ‖ type (u8) ‖ body`, the length counting type and
//! body. The messages are the GATT operations a tinySSB central uses: scan response, MTU
//! exchange, service discovery, subscribe (a CCCD write), write with response and its
//! answer, notification. A message whose body does not parse is an error value and is
//! skipped (the length says where the next one starts); a length beyond [`MAX_LEN`] means
//! the stream is out of step and the connection is dropped.

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest `type ‖ body` accepted (an ATT MTU is at most 517).
pub const MAX_LEN: usize = 1024;

/// Characteristic property: read.
pub const PROP_READ: u8 = 0x02;
/// Characteristic property: write with response.
pub const PROP_WRITE: u8 = 0x08;
/// Characteristic property: notify.
pub const PROP_NOTIFY: u8 = 0x10;

/// ATT error: the attribute does not exist.
pub const ATT_ATTRIBUTE_NOT_FOUND: u8 = 0x0a;
/// ATT error: writing is not permitted.
pub const ATT_WRITE_NOT_PERMITTED: u8 = 0x03;
/// ATT error: the value is longer than the MTU allows.
pub const ATT_INVALID_LENGTH: u8 = 0x0d;

/// A characteristic in a discovery answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Characteristic {
    /// Its UUID.
    pub uuid: u128,
    /// `PROP_*` bits.
    pub props: u8,
}

/// A service in a discovery answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Its UUID.
    pub uuid: u128,
    /// Its characteristics.
    pub chars: Vec<Characteristic>,
}

/// One GATT operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// Central: who are you? (a scan)
    ScanRequest,
    /// Peripheral: the advertisement.
    Advert {
        /// Advertised name.
        name: String,
        /// Signal strength the central would see, dBm.
        rssi: i8,
        /// Advertised service UUIDs.
        services: Vec<u128>,
    },
    /// Central: the MTU it can take.
    MtuRequest(u16),
    /// Peripheral: its MTU; the link uses the smaller of the two.
    MtuResponse(u16),
    /// Central: list your services.
    Discover,
    /// Peripheral: the services.
    Services(Vec<Service>),
    /// Central: enable notifications of a characteristic (answered by a `WriteResponse`).
    Subscribe(u128),
    /// Central: write a value, with response.
    Write {
        /// The characteristic.
        char: u128,
        /// The value (one packet).
        data: Vec<u8>,
    },
    /// Peripheral: the write's outcome (0 = success, else an ATT error code).
    WriteResponse(u8),
    /// Peripheral: a notification (one packet).
    Notify {
        /// The characteristic.
        char: u128,
        /// The value.
        data: Vec<u8>,
    },
    /// Peripheral: no more centrals accepted (the ESP32 takes three).
    Busy,
}

/// Why a message is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The length field is zero or above [`MAX_LEN`]: the stream is out of step.
    #[error("message length {0} is outside 1..={MAX_LEN}")]
    BadLength(usize),
    /// An unknown message type (skipped).
    #[error("unknown message type 0x{0:02x}")]
    UnknownType(u8),
    /// The body ends early or has bytes left over.
    #[error("message type 0x{ty:02x}: {why}")]
    BadBody {
        /// The type.
        ty: u8,
        /// What is wrong.
        why: &'static str,
    },
}

const T_SCAN: u8 = 0x01;
const T_ADVERT: u8 = 0x02;
const T_MTU_REQ: u8 = 0x03;
const T_MTU_RSP: u8 = 0x04;
const T_DISCOVER: u8 = 0x05;
const T_SERVICES: u8 = 0x06;
const T_SUBSCRIBE: u8 = 0x07;
const T_WRITE: u8 = 0x08;
const T_WRITE_RSP: u8 = 0x09;
const T_NOTIFY: u8 = 0x0a;
const T_BUSY: u8 = 0x0b;

impl Msg {
    /// The message with its length prefix.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![0, 0];
        match self {
            Msg::ScanRequest => b.push(T_SCAN),
            Msg::Advert {
                name,
                rssi,
                services,
            } => {
                b.push(T_ADVERT);
                b.push(*rssi as u8);
                let mut cut = name.len().min(255);
                while !name.is_char_boundary(cut) {
                    cut -= 1;
                }
                let n = name.as_bytes().get(..cut).unwrap_or_default();
                b.push(n.len() as u8);
                b.extend_from_slice(n);
                b.push(services.len().min(255) as u8);
                for s in services.iter().take(255) {
                    b.extend_from_slice(&s.to_be_bytes());
                }
            }
            Msg::MtuRequest(m) => {
                b.push(T_MTU_REQ);
                b.extend_from_slice(&m.to_be_bytes());
            }
            Msg::MtuResponse(m) => {
                b.push(T_MTU_RSP);
                b.extend_from_slice(&m.to_be_bytes());
            }
            Msg::Discover => b.push(T_DISCOVER),
            Msg::Services(list) => {
                b.push(T_SERVICES);
                b.push(list.len().min(255) as u8);
                for s in list.iter().take(255) {
                    b.extend_from_slice(&s.uuid.to_be_bytes());
                    b.push(s.chars.len().min(255) as u8);
                    for c in s.chars.iter().take(255) {
                        b.extend_from_slice(&c.uuid.to_be_bytes());
                        b.push(c.props);
                    }
                }
            }
            Msg::Subscribe(c) => {
                b.push(T_SUBSCRIBE);
                b.extend_from_slice(&c.to_be_bytes());
            }
            Msg::Write { char, data } => {
                b.push(T_WRITE);
                b.extend_from_slice(&char.to_be_bytes());
                b.extend_from_slice(data);
            }
            Msg::WriteResponse(s) => {
                b.push(T_WRITE_RSP);
                b.push(*s);
            }
            Msg::Notify { char, data } => {
                b.push(T_NOTIFY);
                b.extend_from_slice(&char.to_be_bytes());
                b.extend_from_slice(data);
            }
            Msg::Busy => b.push(T_BUSY),
        }
        let len = (b.len() - 2).min(u16::MAX as usize) as u16;
        if let Some(head) = b.get_mut(..2) {
            head.copy_from_slice(&len.to_be_bytes());
        }
        b
    }

    /// Decodes `type ‖ body` (the bytes after the length field).
    pub fn decode(frame: &[u8]) -> Result<Msg, WireError> {
        let (&ty, body) = frame.split_first().ok_or(WireError::BadLength(0))?;
        let mut r = Reader { ty, rest: body };
        let msg = match ty {
            T_SCAN => Msg::ScanRequest,
            T_ADVERT => {
                let rssi = r.u8()? as i8;
                let n = usize::from(r.u8()?);
                let name =
                    String::from_utf8(r.take(n)?.to_vec()).map_err(|_| WireError::BadBody {
                        ty,
                        why: "name is not UTF-8",
                    })?;
                let count = r.u8()?;
                let services = (0..count).map(|_| r.u128()).collect::<Result<_, _>>()?;
                Msg::Advert {
                    name,
                    rssi,
                    services,
                }
            }
            T_MTU_REQ => Msg::MtuRequest(r.u16()?),
            T_MTU_RSP => Msg::MtuResponse(r.u16()?),
            T_DISCOVER => Msg::Discover,
            T_SERVICES => {
                let count = r.u8()?;
                let mut list = Vec::new();
                for _ in 0..count {
                    let uuid = r.u128()?;
                    let n = r.u8()?;
                    let mut chars = Vec::new();
                    for _ in 0..n {
                        chars.push(Characteristic {
                            uuid: r.u128()?,
                            props: r.u8()?,
                        });
                    }
                    list.push(Service { uuid, chars });
                }
                Msg::Services(list)
            }
            T_SUBSCRIBE => Msg::Subscribe(r.u128()?),
            T_WRITE => Msg::Write {
                char: r.u128()?,
                data: r.rest_vec(),
            },
            T_WRITE_RSP => Msg::WriteResponse(r.u8()?),
            T_NOTIFY => Msg::Notify {
                char: r.u128()?,
                data: r.rest_vec(),
            },
            T_BUSY => Msg::Busy,
            other => return Err(WireError::UnknownType(other)),
        };
        if !r.rest.is_empty() {
            return Err(WireError::BadBody {
                ty,
                why: "bytes left over",
            });
        }
        Ok(msg)
    }
}

struct Reader<'a> {
    ty: u8,
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.rest.len() < n {
            return Err(WireError::BadBody {
                ty: self.ty,
                why: "body ends early",
            });
        }
        let (a, b) = self.rest.split_at(n);
        self.rest = b;
        Ok(a)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        let [b] = self.array()?;
        Ok(b)
    }

    fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u128(&mut self) -> Result<u128, WireError> {
        Ok(u128::from_be_bytes(self.array()?))
    }

    fn rest_vec(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.rest).to_vec()
    }
}

/// One message split off a stream: the bytes it used, and the message or why it is invalid
/// (then it is skipped).
pub type Split = (usize, Result<Msg, WireError>);

/// Splits the first message off `buf`: `Ok(None)` if it is not complete yet. `Err` means
/// the stream is out of step.
pub fn split(buf: &[u8]) -> Result<Option<Split>, WireError> {
    let Some(len) = buf
        .get(..2)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map(|b| usize::from(u16::from_be_bytes(b)))
    else {
        return Ok(None);
    };
    if len == 0 || len > MAX_LEN {
        return Err(WireError::BadLength(len));
    }
    match buf.get(2..2 + len) {
        Some(frame) => Ok(Some((2 + len, Msg::decode(frame)))),
        None => Ok(None),
    }
}

/// Reads one message: `Ok(None)` at the end of the stream; `Ok(Some(Err))` for a message to
/// skip; `Err` if the stream failed or is out of step.
pub async fn read_msg<R: AsyncRead + Unpin>(
    r: &mut R,
) -> std::io::Result<Option<Result<Msg, WireError>>> {
    let mut len = [0u8; 2];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let n = usize::from(u16::from_be_bytes(len));
    if n == 0 || n > MAX_LEN {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            WireError::BadLength(n),
        ));
    }
    let mut frame = vec![0u8; n];
    r.read_exact(&mut frame).await?;
    Ok(Some(Msg::decode(&frame)))
}

/// Writes one message.
pub async fn write_msg<W: AsyncWrite + Unpin>(w: &mut W, msg: &Msg) -> std::io::Result<()> {
    w.write_all(&msg.encode()).await?;
    w.flush().await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    fn any_msg() -> impl Strategy<Value = Msg> {
        let data = proptest::collection::vec(any::<u8>(), 0..200);
        let chars = proptest::collection::vec(
            (any::<u128>(), any::<u8>()).prop_map(|(uuid, props)| Characteristic { uuid, props }),
            0..4,
        );
        let services = proptest::collection::vec(
            (any::<u128>(), chars).prop_map(|(uuid, chars)| Service { uuid, chars }),
            0..4,
        );
        prop_oneof![
            Just(Msg::ScanRequest),
            (
                "[a-zA-Z0-9-]{0,30}",
                any::<i8>(),
                proptest::collection::vec(any::<u128>(), 0..3)
            )
                .prop_map(|(name, rssi, services)| Msg::Advert {
                    name,
                    rssi,
                    services
                }),
            any::<u16>().prop_map(Msg::MtuRequest),
            any::<u16>().prop_map(Msg::MtuResponse),
            Just(Msg::Discover),
            services.prop_map(Msg::Services),
            any::<u128>().prop_map(Msg::Subscribe),
            (any::<u128>(), data.clone()).prop_map(|(char, data)| Msg::Write { char, data }),
            any::<u8>().prop_map(Msg::WriteResponse),
            (any::<u128>(), data).prop_map(|(char, data)| Msg::Notify { char, data }),
            Just(Msg::Busy),
        ]
    }

    proptest! {
        #[test]
        fn every_message_round_trips(m in any_msg()) {
            let bytes = m.encode();
            let (used, back) = split(&bytes).unwrap().unwrap();
            prop_assert_eq!(used, bytes.len());
            prop_assert_eq!(back.unwrap(), m);
            // Any prefix is "not complete yet", never an error or a wrong message.
            for cut in 0..bytes.len() {
                prop_assert_eq!(split(&bytes[..cut]).unwrap(), None);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = split(&b);
            let _ = Msg::decode(&b);
        }
    }

    #[test]
    fn a_bad_body_is_skipped_and_the_next_message_still_reads() {
        let mut stream = vec![0, 3, T_MTU_REQ, 1, 2, 0xff]; // one byte too many
        stream[1] = 4;
        stream.extend(Msg::WriteResponse(0).encode());
        stream.extend([0, 1, 0x7f]); // unknown type
        let (used, first) = split(&stream).unwrap().unwrap();
        assert_eq!(
            first,
            Err(WireError::BadBody {
                ty: T_MTU_REQ,
                why: "bytes left over"
            })
        );
        let (used2, second) = split(&stream[used..]).unwrap().unwrap();
        assert_eq!(second, Ok(Msg::WriteResponse(0)));
        let (_, third) = split(&stream[used + used2..]).unwrap().unwrap();
        assert_eq!(third, Err(WireError::UnknownType(0x7f)));
    }

    #[test]
    fn an_impossible_length_is_fatal() {
        assert_eq!(split(&[0, 0]), Err(WireError::BadLength(0)));
        assert_eq!(split(&[0xff, 0xff, 1]), Err(WireError::BadLength(65535)));
    }

    #[tokio::test]
    async fn reads_and_writes_over_a_stream() {
        let (mut a, mut b) = tokio::io::duplex(256);
        write_msg(&mut a, &Msg::MtuRequest(128)).await.unwrap();
        write_msg(
            &mut a,
            &Msg::Write {
                char: crate::ble::RX_UUID,
                data: vec![7; 120],
            },
        )
        .await
        .unwrap();
        drop(a);
        assert_eq!(
            read_msg(&mut b).await.unwrap(),
            Some(Ok(Msg::MtuRequest(128)))
        );
        assert!(matches!(
            read_msg(&mut b).await.unwrap(),
            Some(Ok(Msg::Write { data, .. })) if data.len() == 120
        ));
        assert_eq!(read_msg(&mut b).await.unwrap(), None);
    }
}
