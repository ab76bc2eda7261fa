//! A pub: a data directory with a feed store and no identity, which replicates others'
//! feeds and posts nothing (`lichen init --no-identity`). It has no chats and signs nothing,
//! so it is not an [`App`]; it offers what a pub does: links (WebSocket, UDP, the relays of
//! saved invites, the paired dongle), accepting an invite, running until synced, and the
//! feeds it holds. [`App::init`] gives it an identity later; its feeds stay.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::AbortHandle;

use crate::app::feeds::FeedLog;
use crate::app::serve::{RunReport, RunUntil, Watch};
use crate::app::AppEvent;
use crate::app::{AppError, AppOptions, Layout, Settings, Started};
use crate::ble::supervisor::DongleLink;
use crate::face::tunnel::TunnelRole;
use crate::face::udp::UdpConfig;
use crate::identity::FeedId;
use crate::invite::saved::SavedInvites;
use crate::invite::Invite;
use crate::node::{Node, NodeConfig, NodeError};
use crate::store::Store;
use crate::wire::network::Network;

/// How long `stop` waits for the engine to stop and the store to sync.
const STOP_WAIT: Duration = Duration::from_secs(3);

/// A running pub for one data directory.
pub struct Pub {
    layout: Layout,
    node: Option<Node>,
    net: Network,
    options: AppOptions,
    tasks: Mutex<Vec<AbortHandle>>,
    dongle: Mutex<Option<DongleLink>>,
}

impl Pub {
    /// Makes `dir` a pub (created if missing) and opens it; refuses a directory that holds
    /// an identity. A pub made before is opened as it is.
    pub fn create(dir: &Path, options: AppOptions) -> Result<Pub, AppError> {
        let layout = Layout::new(dir);
        if layout.has_identity() {
            return Err(AppError::Exists(layout.root().display().to_string()));
        }
        std::fs::create_dir_all(dir).map_err(|e| AppError::io(dir, e))?;
        if !layout.settings_file().exists() {
            Settings::default().save(&layout.settings_file())?;
        }
        Pub::boot(layout, options)
    }

    /// Opens the pub in `dir` ("no Lichen data at DIR" if there is none). A directory with
    /// an identity opens too, as a pub: nothing is signed, no chat is indexed.
    pub fn open(dir: &Path, options: AppOptions) -> Result<Pub, AppError> {
        let layout = Layout::new(dir);
        layout.require()?;
        Pub::boot(layout, options)
    }

    fn boot(layout: Layout, options: AppOptions) -> Result<Pub, AppError> {
        let net = Settings::load(&layout.settings_file())?.network()?;
        let store: Arc<dyn Store> = Arc::new(layout.open_store()?);
        let node = Node::start(
            store,
            NodeConfig {
                net: net.clone(),
                ..NodeConfig::default()
            },
        )?;
        Ok(Pub {
            layout,
            node: Some(node),
            net,
            options,
            tasks: Mutex::new(Vec::new()),
            dongle: Mutex::new(None),
        })
    }

    fn node(&self) -> Result<&Node, AppError> {
        self.node.as_ref().ok_or(AppError::Stopped)
    }

    fn keep(&self, task: AbortHandle) {
        if let Ok(mut t) = self.tasks.lock() {
            t.push(task);
        }
    }

    /// The data directory's layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Brings up what this directory remembers: the relays of saved invites and the paired
    /// dongle's link.
    pub fn start(&self) -> Result<Started, AppError> {
        let saved = self.saved()?;
        let mut relays = 0;
        for s in saved.all() {
            let (Ok(invite), Some(role)) = (Invite::decode(&s.beacon), s.tunnel_role()) else {
                tracing::warn!("skipping an unreadable saved invite");
                continue;
            };
            self.meet(&invite, role)?;
            relays += 1;
        }
        let dongle = self.resume_dongle()?;
        Ok(Started { relays, dongle })
    }

    /// Accepts WebSocket peers on `addr`; returns the bound address.
    pub fn listen_ws(&self, addr: &str) -> Result<String, AppError> {
        let (local, task) = self.node()?.listen_ws_task(addr)?;
        self.keep(task);
        Ok(local.to_string())
    }

    /// Dials a WebSocket peer (`ws://host:port`); returns once connected.
    pub fn dial_ws(&self, url: &str) -> Result<(), AppError> {
        self.node()?.connect_ws(url)?;
        Ok(())
    }

    /// Joins the UDP multicast group of `cfg`; returns `group:port`.
    pub fn udp_multicast(&self, cfg: UdpConfig) -> Result<String, AppError> {
        let node = self.node()?;
        let rt = node.handle();
        let sock = {
            let _guard = rt.enter();
            crate::face::udp::open(&cfg).map_err(|err| NodeError::Io {
                what: format!("joining {}:{}", cfg.group, cfg.port),
                err,
            })?
        };
        let peer = std::net::SocketAddrV4::new(cfg.group, cfg.port).to_string();
        let task = rt.spawn(crate::face::udp::run(sock, cfg, node.link()));
        self.keep(task.abort_handle());
        Ok(peer)
    }

    /// Accepts an invite: the inviter's feed is replicated (its alias kept as the feed's
    /// metadata), the invite is saved, and the inviter is met through its relay.
    pub fn accept_invite(&self, beacon: &str) -> Result<FeedId, AppError> {
        let invite = Invite::decode(beacon)
            .map_err(|e| AppError::Invite(format!("not a usable Lichen invite: {e}")))?;
        let theirs = invite
            .network_key()
            .unwrap_or(Network::deployed().key())
            .to_vec();
        if theirs != self.net.key() {
            return Err(AppError::Invite(
                "this invite is for another network than this pub's".into(),
            ));
        }
        let inviter = *invite.inviter();
        let node = self.node()?;
        node.add_feed(inviter)?;
        if let Some(alias) = invite.alias() {
            node.store().set_meta(&inviter, "alias", alias.as_bytes())?;
        }
        self.saved()?
            .add(&invite, TunnelRole::Acceptor, now_secs())
            .map_err(|e| AppError::Invite(e.to_string()))?;
        self.meet(&invite, TunnelRole::Acceptor)?;
        Ok(inviter)
    }

    /// Starts watching the events of a run ([`Watch::run`]).
    pub fn watch(&self) -> Result<Watch<'_>, AppError> {
        Ok(Watch::new(self.node()?, None))
    }

    /// Runs until `until` says so (or Ctrl-C), telling `tell` what happens from now on.
    pub fn run(
        &self,
        until: RunUntil,
        tell: &mut dyn FnMut(&AppEvent),
    ) -> Result<RunReport, AppError> {
        self.watch()?.run(until, tell)
    }

    /// The feeds this pub holds.
    pub fn feed_log(&self) -> Result<FeedLog, AppError> {
        Ok(FeedLog::new(self.node()?.store().clone(), self.net.clone()))
    }

    /// Stops every link and the node, syncing the store.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        if let Ok(mut d) = self.dongle.lock() {
            d.take();
        }
        if let Ok(mut t) = self.tasks.lock() {
            for task in t.drain(..) {
                task.abort();
            }
        }
        if let Some(n) = self.node.take() {
            n.shutdown(STOP_WAIT);
        }
    }

    fn meet(&self, invite: &Invite, role: TunnelRole) -> Result<(), AppError> {
        let node = self.node()?;
        let task =
            crate::face::relay::connect(node, invite.target(), role, self.options.relay.clone())?;
        self.keep(task);
        Ok(())
    }

    fn resume_dongle(&self) -> Result<bool, AppError> {
        let link = crate::app::dongle::resume_paired(
            self.layout.root(),
            self.options.central.as_ref(),
            self.node()?,
        )?;
        let running = link.is_some();
        if let Ok(mut d) = self.dongle.lock() {
            *d = link;
        }
        Ok(running)
    }

    fn saved(&self) -> Result<SavedInvites, AppError> {
        SavedInvites::load(self.layout.root()).map_err(|e| AppError::Invite(e.to_string()))
    }
}

impl Drop for Pub {
    fn drop(&mut self) {
        self.halt();
    }
}

fn now_secs() -> u64 {
    crate::clock::unix_secs()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::app::App;
    use crate::chat::ChatId;

    #[test]
    fn a_pub_replicates_a_feed_it_was_told_of_and_signs_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let a = App::create(&dir.path().join("a"), AppOptions::default()).unwrap();
        a.send(&ChatId::Public, "to the pub").unwrap();
        let p = Pub::create(&dir.path().join("pub"), AppOptions::default()).unwrap();
        assert!(!p.layout().has_identity());
        p.node().unwrap().add_feed(*a.fid()).unwrap();
        let l = a.listen_ws("127.0.0.1:0").unwrap();
        p.dial_ws(&format!("ws://{}", l.peer())).unwrap();
        let r = p
            .run(
                RunUntil::new(Some(Duration::from_secs(60)), true),
                &mut |_| {},
            )
            .unwrap();
        assert_eq!(r.not_synced, None, "{r:?}");
        let feeds = p.feed_log().unwrap().list().unwrap();
        assert_eq!(feeds.len(), 1, "{feeds:?}");
        assert_eq!((feeds[0].fid, feeds[0].seq), (*a.fid(), 1));
    }

    #[test]
    fn a_pub_is_not_made_over_an_identity_nor_opened_from_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let a = App::create(&dir.path().join("a"), AppOptions::default()).unwrap();
        let root = a.layout().root().to_path_buf();
        drop(a);
        assert!(matches!(
            Pub::create(&root, AppOptions::default()),
            Err(AppError::Exists(_))
        ));
        assert!(matches!(
            Pub::open(&dir.path().join("none"), AppOptions::default()),
            Err(AppError::NoData(_))
        ));
        assert!(!dir.path().join("none").exists());
    }
}
