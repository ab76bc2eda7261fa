//! A conversation as an app shows it: the newest page of messages (each with its delivery
//! state and the link it first arrived on or left by), and what has not arrived yet (gaps,
//! as peers claim them or members' signed records prove them), and in groups each message's
//! delivery per member. Everything here is also on [`crate::chat::Chats`]; this is the one
//! call a screen needs.

use crate::app::{App, AppError};
use crate::chat::{ChatId, ChatSummary, Cursor, Gap, GroupDelivery, Page, Route};
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
    /// In a group of three or more: each message's delivery per member ("stored by 4 of 6
    /// · read by 2" with who), in the page's order; empty elsewhere.
    pub delivery: Vec<GroupDelivery>,
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
        let page = chats.page(chat, before, limit)?;
        Ok(Conversation {
            summary: chats.summary(chat)?,
            delivery: chats.deliveries(&page.messages)?,
            page,
            gaps: chats.gaps(chat)?,
        })
    }

    /// A group message's delivery per member (`None` outside groups of three or more).
    pub fn delivery_of(&self, mid: &Mid) -> Result<Option<GroupDelivery>, AppError> {
        Ok(self.chats().delivery(mid)?)
    }

    /// The link a message first arrived on or left by, and when (`None`: not seen on a link).
    pub fn route_of(&self, mid: &Mid) -> Result<Option<Route>, AppError> {
        Ok(self.chats().message(mid)?.and_then(|m| m.route))
    }
}
