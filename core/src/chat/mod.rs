//! The app layer: message formats of the deployed tinySSB app.
//!
//! Only the public text post (TAV) is here so far; private boxes, receipts, contacts and the
//! chat service come with the chat work.

pub mod tav;
