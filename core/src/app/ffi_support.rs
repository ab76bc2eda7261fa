//! What foreign-language bindings need from the door beyond what the CLI uses: the node's
//! runtime (so that async calls run on it and not on a second one), the chat list with a
//! last-message preview, and a conversation's timeline (pages oldest first).

use crate::app::{App, AppError};
use crate::chat::{ChatId, ChatSummary, Cursor, Message};

/// A chat in the list, with what it shows beneath its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatEntry {
    /// The summary (title, unread, total, last activity).
    pub summary: ChatSummary,
    /// The newest message, if any (its text is the preview).
    pub last: Option<Message>,
}

impl App {
    /// The tokio runtime the node runs on: work an app starts belongs on it.
    pub fn runtime(&self) -> Result<tokio::runtime::Handle, AppError> {
        Ok(self.running()?.handle())
    }

    /// Starts keeping the paired dongle connected (after pairing it while running); false
    /// if none is paired or no central reaches it. A link already running is replaced.
    pub fn connect_paired_dongle(&self) -> Result<bool, AppError> {
        self.resume_dongle()
    }

    /// Stops the paired dongle's link (after unpairing it).
    pub fn disconnect_dongle(&self) {
        if let Ok(mut d) = self.dongle.lock() {
            d.take();
        }
    }

    /// The open links: id, kind, peer.
    pub fn link_list(&self) -> Result<Vec<(u32, String, String)>, AppError> {
        Ok(self
            .running()?
            .snapshot()?
            .links
            .into_iter()
            .map(|(face, kind, peer)| (face.0, kind.to_owned(), peer))
            .collect())
    }

    /// All chats, most recent activity first, each with its newest message.
    pub fn chat_list(&self) -> Result<Vec<ChatEntry>, AppError> {
        let chats = self.chats();
        chats
            .list()?
            .into_iter()
            .map(|summary| {
                let last = chats
                    .page(&summary.id, None, 1)?
                    .messages
                    .into_iter()
                    .next();
                Ok(ChatEntry { summary, last })
            })
            .collect()
    }

    /// One chat's list entry.
    pub fn chat_entry(&self, chat: &ChatId) -> Result<ChatEntry, AppError> {
        let chats = self.chats();
        let summary = chats.summary(chat)?;
        let last = chats.page(chat, None, 1)?.messages.into_iter().next();
        Ok(ChatEntry { summary, last })
    }

    /// Up to `limit` messages older than `before` (the newest if `None`), oldest first, and
    /// whether older ones remain.
    pub fn timeline_page(
        &self,
        chat: &ChatId,
        before: Option<&Cursor>,
        limit: usize,
    ) -> Result<(Vec<Message>, bool), AppError> {
        let page = self.chats().page(chat, before, limit)?;
        let more = page.next.is_some();
        let mut messages = page.messages;
        messages.reverse();
        Ok((messages, more))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::AppOptions;

    #[test]
    fn the_list_shows_the_newest_message_and_pages_come_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::create(dir.path(), AppOptions::default()).unwrap();
        for t in ["one", "two", "three"] {
            app.send(&ChatId::Public, t).unwrap();
        }
        let list = app.chat_list().unwrap();
        let public = list
            .iter()
            .find(|e| e.summary.id == ChatId::Public)
            .unwrap();
        assert_eq!(public.last.as_ref().and_then(|m| m.text()), Some("three"));
        let notes = ChatId::notes(app.fid());
        assert_eq!(app.chat_entry(&notes).unwrap().last, None);
        let (newest, more) = app.timeline_page(&ChatId::Public, None, 2).unwrap();
        let texts: Vec<_> = newest.iter().filter_map(|m| m.text()).collect();
        assert_eq!((texts, more), (vec!["two", "three"], true));
        let (older, more) = app
            .timeline_page(&ChatId::Public, Some(&newest[0].cursor), 2)
            .unwrap();
        let texts: Vec<_> = older.iter().filter_map(|m| m.text()).collect();
        assert_eq!((texts, more), (vec!["one"], false));
        assert!(app.runtime().is_ok());
        app.stop();
    }
}
