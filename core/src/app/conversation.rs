//! A conversation as an app shows it: the newest page of messages (each with its delivery
//! state and the link it first arrived on or left by), and what has not arrived yet (gaps,
//! as peers claim them). Everything here is also on [`crate::chat::Chats`]; this is the one
//! call a screen needs.

use crate::app::{App, AppError};
use crate::chat::{ChatId, ChatSummary, Cursor, Gap, Page, Route};
use crate::wire::Mid;

/// What a conversation screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Title, unread count, totals.
    pub summary: ChatSummary,
    /// Messages, newest first (each with `state` for mine and `route`).
    pub page: Page,
    /// Members whose messages peers say exist and have not arrived here ("3 messages from
    /// Alice have not arrived yet"; a claim, not proof). Empty when nothing is missing.
    pub gaps: Vec<Gap>,
}

impl App {
    /// A conversation's newest `limit` messages (older ones from `before`), with its gaps.
    pub fn conversation(
        &self,
        chat: &ChatId,
        before: Option<&Cursor>,
        limit: usize,
    ) -> Result<Conversation, AppError> {
        let chats = self.chats();
        Ok(Conversation {
            summary: chats.summary(chat)?,
            page: chats.page(chat, before, limit)?,
            gaps: chats.gaps(chat)?,
        })
    }

    /// The link a message first arrived on or left by, and when (`None`: not seen on a link).
    pub fn route_of(&self, mid: &Mid) -> Result<Option<Route>, AppError> {
        Ok(self.chats().message(mid)?.and_then(|m| m.route))
    }
}
