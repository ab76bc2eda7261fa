//! Posting through the door: the signing rule (ADR 0019) is checked first, so the refusal
//! says why and how to recover before anything else is tried.

use crate::app::{App, AppError};
use crate::chat::{ChatId, Message};
use crate::identity::FeedId;

impl App {
    /// Posts `text` in `chat` (public: [`ChatId::Public`]); refused while signing is held.
    pub fn send(&self, chat: &ChatId, text: &str) -> Result<Message, AppError> {
        self.may_sign()?;
        Ok(self.chats.send(chat, text)?)
    }

    /// Posts `text` to the chat of me and `people` (one person: a one-to-one chat).
    pub fn send_to(&self, people: &[FeedId], text: &str) -> Result<Message, AppError> {
        let chat = self.chats.chat_with(people)?;
        self.send(&chat, text)
    }

    /// Marks `chat` read (sends a read receipt when receipts are on and signing allowed).
    pub fn mark_read(&self, chat: &ChatId) -> Result<(), AppError> {
        Ok(self.chats.mark_read(chat)?)
    }
}
