//! Group delivery records (`HLD`, ADR 0026): a member's signed word of how far it holds and
//! has read the feeds of a group's members. Sealed to the group's members like a post, so
//! only they read it; deployed apps open the box, find a tag they do not know and drop it.
//!
//! ```text
//! ["HLD", chat tag (8 bytes), [[member index, held, mid prefix of held (6 bytes), read] …], ts]
//! ```
//!
//! * chat tag: the first 8 bytes of SHA-256 of the chat id's text form (which group);
//! * member index: the member's position in the chat id's member order (< 7);
//! * held: the last entry of that member's feed the writer holds; the prefix of that entry's
//!   message id proves the entry existed when the record was written (a mid cannot be guessed
//!   before the entry is signed), so a record can never vouch for an entry written later;
//! * read: the last entry of that feed the writer has seen in the group (`read ≤ held`).
//!
//! A row whose numbers are out of range is an error of the whole record: nothing of a
//! malformed record counts.

use sha2::{Digest, Sha256};

use crate::chat::chat_id::ChatId;
use crate::wire::bipf::Value;

/// The app tag.
pub const TAG: &str = "HLD";
/// Bytes of the held entry's message id a row carries.
pub const PREFIX_LEN: usize = 6;
/// Bytes of the chat tag.
pub const CHAT_TAG_LEN: usize = 8;
/// At most this many rows (a chat has at most 7 members).
pub const MAX_ROWS: usize = 7;

/// One row: how far the writer holds and has read one member's feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HoldRow {
    /// Position of the member in the chat id's member order.
    pub member: u8,
    /// The last entry of the member's feed held.
    pub held: u32,
    /// The first [`PREFIX_LEN`] bytes of that entry's message id.
    pub prefix: [u8; PREFIX_LEN],
    /// The last entry of the member's feed seen in the group.
    pub read: u32,
}

/// A decoded record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Holds {
    /// Which group ([`chat_tag`]).
    pub chat: [u8; CHAT_TAG_LEN],
    /// One row per member feed the writer holds something of.
    pub rows: Vec<HoldRow>,
    /// Writer's timestamp (unix seconds; not trusted).
    pub ts: i64,
}

/// The tag naming `chat` in a record.
pub fn chat_tag(chat: &ChatId) -> [u8; CHAT_TAG_LEN] {
    let h = Sha256::digest(chat.to_string().as_bytes());
    let mut t = [0u8; CHAT_TAG_LEN];
    t.copy_from_slice(&h[..CHAT_TAG_LEN]);
    t
}

impl Holds {
    /// The record's BIPF list.
    pub fn to_value(&self) -> Value {
        Value::List(vec![
            Value::str(TAG),
            Value::Bytes(self.chat.to_vec()),
            Value::List(
                self.rows
                    .iter()
                    .map(|r| {
                        Value::List(vec![
                            Value::Int(i64::from(r.member)),
                            Value::Int(i64::from(r.held)),
                            Value::Bytes(r.prefix.to_vec()),
                            Value::Int(i64::from(r.read)),
                        ])
                    })
                    .collect(),
            ),
            Value::Int(self.ts),
        ])
    }

    /// Reads a record from its BIPF list; `Err` says what is wrong.
    pub fn from_value(v: &Value) -> Result<Holds, String> {
        let items = v.as_list().ok_or("not a list")?;
        if items.first().and_then(Value::as_str) != Some(TAG) {
            return Err("not an HLD record".into());
        }
        let chat: [u8; CHAT_TAG_LEN] = items
            .get(1)
            .and_then(Value::as_bytes)
            .and_then(|b| b.try_into().ok())
            .ok_or("chat tag is not 8 bytes")?;
        let rows = items
            .get(2)
            .and_then(Value::as_list)
            .ok_or("rows are not a list")?;
        if rows.len() > MAX_ROWS {
            return Err(format!("{} rows, at most {MAX_ROWS}", rows.len()));
        }
        let seq = |v: Option<&Value>| -> Result<u32, String> {
            v.and_then(Value::as_int)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| "a sequence number is not a u32".to_string())
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let f = r.as_list().ok_or("a row is not a list")?;
            let member = f
                .first()
                .and_then(Value::as_int)
                .and_then(|n| u8::try_from(n).ok())
                .filter(|n| usize::from(*n) < MAX_ROWS)
                .ok_or("member index out of range")?;
            let held = seq(f.get(1))?;
            let prefix: [u8; PREFIX_LEN] = f
                .get(2)
                .and_then(Value::as_bytes)
                .and_then(|b| b.try_into().ok())
                .ok_or("mid prefix is not 6 bytes")?;
            let read = seq(f.get(3))?;
            if read > held {
                return Err(format!("read {read} beyond held {held}"));
            }
            if out.iter().any(|o: &HoldRow| o.member == member) {
                return Err(format!("member {member} listed twice"));
            }
            out.push(HoldRow {
                member,
                held,
                prefix,
                read,
            });
        }
        let ts = items.get(3).and_then(Value::as_int).unwrap_or(0);
        Ok(Holds {
            chat,
            rows: out,
            ts,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_record_round_trips_and_bad_rows_are_refused() {
        let h = Holds {
            chat: [7; 8],
            rows: vec![
                HoldRow {
                    member: 0,
                    held: 40,
                    prefix: [1; 6],
                    read: 38,
                },
                HoldRow {
                    member: 5,
                    held: 3,
                    prefix: [2; 6],
                    read: 0,
                },
            ],
            ts: 1_700_000_000,
        };
        let v = h.to_value();
        assert_eq!(Holds::from_value(&v).unwrap(), h);
        assert!(v.encode().len() < 80, "compact: {} bytes", v.encode().len());
        let bad = |rows: Value| {
            Holds::from_value(&Value::List(vec![
                Value::str(TAG),
                Value::Bytes(vec![0; 8]),
                Value::List(vec![rows]),
                Value::Int(0),
            ]))
        };
        let row = |m: i64, h: i64, r: i64| {
            Value::List(vec![
                Value::Int(m),
                Value::Int(h),
                Value::Bytes(vec![0; 6]),
                Value::Int(r),
            ])
        };
        assert!(bad(row(0, 5, 5)).is_ok());
        assert!(bad(row(7, 5, 5)).is_err(), "member index");
        assert!(bad(row(0, 5, 6)).is_err(), "read beyond held");
        assert!(bad(row(0, -1, 0)).is_err(), "negative");
        assert!(bad(row(0, 1 << 33, 0)).is_err(), "beyond u32");
    }
}
