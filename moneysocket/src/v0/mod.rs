//! The deployed (v0) message layer: JSON messages and their wire codec.
//!
//! Every running Moneysocket app and relay speaks this. A message is a JSON
//! object with common envelope fields; on the wire it is either the UTF-8
//! JSON itself (rendezvous messages, and anything sent by a party without
//! the seed) or a 16-byte IV followed by AES-256-CBC ciphertext of the
//! zero-padded JSON. See [`message`] and [`codec`].

pub mod codec;
pub mod message;

pub use codec::{decode_wire, decrypt, encode_wire, encrypt, encrypt_with_iv, Frame};
pub use message::{Message, Name, PROTOCOL, PROTOCOL_VERSION};
