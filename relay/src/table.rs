//! The pairing table: `moneysocket::rendezvous::Matchmaker` plus the handles
//! of the connections it names, behind one short-held lock.
//!
//! The matchmaker is sans-IO: it turns events (a request, a frame, a
//! departure) into [`Action`]s. Here those actions are resolved to
//! connection handles and notice frames ([`Effect`]s) while the lock is held,
//! and carried out by the calling task after it is released, so no lock is
//! ever held across an `.await`. Metrics that follow from the actions (pairs,
//! waiting clients, refusals) are updated here too.
//!
//! Squatting: whoever knows a rendezvous id can pair two connections of
//! their own on it and keep the id busy. A pair that has not carried a
//! frame from *each* side within `two_way_timeout` of pairing is taken to
//! be such a squat (an honest Lichen pair exchanges HELLOs at once, a stock
//! Moneysocket consumer asks its provider at once): a newcomer on its id
//! ends it (both sides get END, then close 1008) and waits in its place,
//! instead of being refused. A pair that talked both ways is never
//! displaced (ADR 0017).
//!
//! Forwarding does not come through here in the common case: once paired,
//! a connection forwards non-JSON frames straight into its peer's queue
//! (see `conn`), which is what `Matchmaker::frame` would decide for them.
//! JSON frames, and frames racing the pairing, still take this path.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use moneysocket::rendezvous::{Action, ConnState, Matchmaker, Notice, NoticeKind};
use moneysocket::RendezvousId;
use tokio_tungstenite::tungstenite::Message;

use crate::handle::{CloseCause, ConnHandle, ConnId};
use crate::metrics::{Metrics, RejectReason};
use crate::notice;

/// Something the caller must do after a table operation.
#[derive(Debug)]
pub(crate) enum Effect {
    /// Queue this frame (a notice) on a connection.
    Send { to: ConnHandle, message: Message },
    /// These two are now a pair: link them.
    Link { a: ConnHandle, b: ConnHandle },
    /// Forward the frame being handled to this connection.
    Forward { to: ConnHandle },
    /// Close this connection (after what was queued before).
    Close { to: ConnHandle, cause: CloseCause },
}

#[derive(Debug, Default)]
struct Inner {
    matchmaker: Matchmaker<ConnId>,
    conns: HashMap<ConnId, ConnHandle>,
}

/// The relay's pairing table.
#[derive(Debug)]
pub(crate) struct Table {
    inner: Mutex<Inner>,
    metrics: Arc<Metrics>,
    max_pending: usize,
    two_way_ms: u64,
}

impl Table {
    pub(crate) fn new(metrics: Arc<Metrics>, max_pending: usize, two_way: Duration) -> Self {
        Table {
            inner: Mutex::new(Inner::default()),
            metrics,
            max_pending,
            two_way_ms: u64::try_from(two_way.as_millis()).unwrap_or(u64::MAX),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes a new connection known.
    pub(crate) fn register(&self, conn: ConnHandle) {
        self.lock().conns.insert(conn.id, conn);
    }

    /// Forgets a connection (after [`Table::leave`]).
    pub(crate) fn unregister(&self, id: ConnId) {
        self.lock().conns.remove(&id);
    }

    /// Whether the matchmaker has paired `id`.
    pub(crate) fn is_paired(&self, id: ConnId) -> bool {
        matches!(self.lock().matchmaker.state(id), ConnState::Paired(_))
    }

    /// `me` sent REQUEST_RENDEZVOUS (in a text frame if `text`) at relay
    /// time `now_ms`.
    pub(crate) fn request(
        &self,
        me: &ConnHandle,
        rid: RendezvousId,
        request_uuid: &str,
        text: bool,
        now_ms: u64,
    ) -> Vec<Effect> {
        let mut inner = self.lock();
        let before = inner.matchmaker.state(me.id);
        me.set_text_notices(text);
        let mut displaced = Vec::new();
        if before == ConnState::Unknown {
            if let Some(pair) = self.squatted(&inner, &rid, now_ms) {
                displaced = self.displace(&mut inner, pair, rid, me.id);
            }
        }
        let actions = inner.matchmaker.request(me.id, rid, request_uuid);
        let over_pending = matches!(inner.matchmaker.state(me.id), ConnState::Waiting(_))
            && inner.matchmaker.waiting_count() > self.max_pending;
        // The matchmaker never refuses; when too many wait, undo the
        // registration (a waiting client leaves without effects) and close
        // instead of answering NOT_READY.
        let actions = if over_pending {
            inner.matchmaker.disconnect(me.id);
            Vec::new()
        } else {
            actions
        };
        // The matchmaker closes the requester itself only for an id that is
        // already paired (a newcomer) or a repeated request.
        let own_close = match before {
            ConnState::Unknown => CloseCause::DuplicateId,
            _ => CloseCause::Protocol,
        };
        let mut effects = displaced;
        effects.extend(self.resolve(&inner, actions, me.id, own_close, CloseCause::PeerLeft));
        if over_pending {
            self.metrics.reject(RejectReason::PendingLimit);
            effects.push(Effect::Close {
                to: me.clone(),
                cause: CloseCause::PendingLimit,
            });
        }
        self.metrics.set_waiting(inner.matchmaker.waiting_count());
        effects
    }

    /// The pair on `rid`, if it is a squat a newcomer may displace: linked
    /// at least `two_way_timeout` ago and one side (or both) never had a
    /// frame forwarded. A pair still being linked counts as fresh.
    fn squatted(
        &self,
        inner: &Inner,
        rid: &RendezvousId,
        now_ms: u64,
    ) -> Option<(ConnHandle, ConnHandle)> {
        let (a, b) = inner.matchmaker.pair_on(rid)?;
        let (a, b) = (inner.conns.get(&a)?, inner.conns.get(&b)?);
        let since = a.paired_ms()?.max(b.paired_ms()?);
        let old = now_ms.saturating_sub(since) >= self.two_way_ms;
        let two_way = a.has_spoken() && b.has_spoken();
        (old && !two_way).then(|| (a.clone(), b.clone()))
    }

    /// Ends a squatting pair: both sides get END and are closed (1008).
    fn displace(
        &self,
        inner: &mut Inner,
        (a, b): (ConnHandle, ConnHandle),
        rid: RendezvousId,
        me: ConnId,
    ) -> Vec<Effect> {
        self.metrics.reject(RejectReason::Displaced);
        tracing::info!(
            conns = ?[a.id, b.id],
            "pair displaced by a newcomer: no frame from both sides in time"
        );
        // The matchmaker ends the pair as if `a` left: END and close for `b`.
        let actions = inner.matchmaker.disconnect(a.id);
        let mut effects = self.resolve(
            inner,
            actions,
            me,
            CloseCause::Protocol,
            CloseCause::Displaced,
        );
        let end = Notice {
            kind: NoticeKind::End,
            rendezvous_id: rid,
            request_reference_uuid: None,
        };
        effects.push(Effect::Send {
            message: notice::frame(&end, a.text_notices()),
            to: a.clone(),
        });
        effects.push(Effect::Close {
            to: a,
            cause: CloseCause::Displaced,
        });
        effects
    }

    /// A frame (other than a rendezvous request) from `me`. `None` if `me`
    /// is not paired; an empty list if the matchmaker dropped it.
    pub(crate) fn frame(&self, me: &ConnHandle, bytes: &[u8]) -> Option<Vec<Effect>> {
        let mut inner = self.lock();
        inner.matchmaker.peer(me.id)?;
        let actions = inner.matchmaker.frame(me.id, bytes);
        let effects = self.resolve(
            &inner,
            actions,
            me.id,
            CloseCause::Protocol,
            CloseCause::PeerLeft,
        );
        self.metrics.set_waiting(inner.matchmaker.waiting_count());
        Some(effects)
    }

    /// `id` is going away because of `cause`: end its pair or its wait.
    pub(crate) fn leave(&self, id: ConnId, cause: CloseCause) -> Vec<Effect> {
        let mut inner = self.lock();
        let actions = inner.matchmaker.disconnect(id);
        // A relay shutting down says so to everyone, not "peer left".
        let peer_cause = match cause {
            CloseCause::Shutdown => CloseCause::Shutdown,
            _ => CloseCause::PeerLeft,
        };
        let effects = self.resolve(&inner, actions, id, cause, peer_cause);
        self.metrics.set_waiting(inner.matchmaker.waiting_count());
        effects
    }

    /// Turns matchmaker actions into effects on known handles.
    fn resolve(
        &self,
        inner: &Inner,
        actions: Vec<Action<ConnId>>,
        me: ConnId,
        own_close: CloseCause,
        peer_close: CloseCause,
    ) -> Vec<Effect> {
        let handle = |id: &ConnId| inner.conns.get(id).cloned();
        let mut effects = Vec::with_capacity(actions.len());
        for action in actions {
            match action {
                Action::Send { to, notice } => {
                    if notice.kind == NoticeKind::End {
                        self.metrics.pair_ended();
                    }
                    if let Some(to) = handle(&to) {
                        let message = notice::frame(&notice, to.text_notices());
                        effects.push(Effect::Send { to, message });
                    }
                }
                Action::Paired { waiting, arrived } => {
                    self.metrics.pair_started();
                    if let (Some(a), Some(b)) = (handle(&waiting), handle(&arrived)) {
                        effects.push(Effect::Link { a, b });
                    }
                }
                Action::Forward { to, .. } => {
                    if let Some(to) = handle(&to) {
                        effects.push(Effect::Forward { to });
                    }
                }
                Action::Close { conn } => {
                    let cause = if conn == me {
                        match own_close {
                            CloseCause::DuplicateId => {
                                self.metrics.reject(RejectReason::DuplicateId)
                            }
                            CloseCause::Protocol => self.metrics.reject(RejectReason::Protocol),
                            _ => {}
                        }
                        own_close
                    } else {
                        peer_close
                    };
                    if let Some(to) = handle(&conn) {
                        effects.push(Effect::Close { to, cause });
                    }
                }
            }
        }
        effects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(max_pending: usize) -> (Table, Vec<ConnHandle>) {
        let table = Table::new(
            Arc::new(Metrics::default()),
            max_pending,
            Duration::from_secs(10),
        );
        let handles: Vec<_> = (0..4)
            .map(|id| {
                let (h, _ends) = ConnHandle::new(id, 4);
                table.register(h.clone());
                h
            })
            .collect();
        (table, handles)
    }

    fn closes(effects: &[Effect]) -> Vec<(ConnId, CloseCause)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Close { to, cause } => Some((to.id, *cause)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn pair_refuse_third_and_end() {
        let (t, h) = table(10);
        let rid = RendezvousId::from_bytes([1; 32]);
        let e = t.request(&h[0], rid, "a5b32936-3143-4856-bdea-7b3dda7aa5e8", false, 0);
        assert!(matches!(e.as_slice(), [Effect::Send { .. }]));
        let e = t.request(&h[1], rid, "a5b32936-3143-4856-bdea-7b3dda7aa5e9", true, 0);
        assert!(matches!(
            e.as_slice(),
            [
                Effect::Send { .. },
                Effect::Send { .. },
                Effect::Link { .. }
            ]
        ));
        if let Effect::Send { to, message } = &e[0] {
            assert_eq!(to.id, 1);
            assert!(message.is_text());
        }
        let e = t.request(&h[2], rid, "a5b32936-3143-4856-bdea-7b3dda7aa5ea", false, 0);
        assert_eq!(closes(&e), vec![(2, CloseCause::DuplicateId)]);
        assert!(t.is_paired(0));
        let e = t.leave(0, CloseCause::ClientGone);
        assert_eq!(closes(&e), vec![(1, CloseCause::PeerLeft)]);
        assert!(t.leave(1, CloseCause::PeerLeft).is_empty());
    }

    #[test]
    fn pending_limit_refuses_without_not_ready() {
        let (t, h) = table(1);
        let uuid = "a5b32936-3143-4856-bdea-7b3dda7aa5e8";
        t.request(&h[0], RendezvousId::from_bytes([1; 32]), uuid, false, 0);
        let e = t.request(&h[1], RendezvousId::from_bytes([2; 32]), uuid, false, 0);
        assert!(!e.iter().any(|e| matches!(e, Effect::Send { .. })));
        assert_eq!(closes(&e), vec![(1, CloseCause::PendingLimit)]);
        // The refused client is not waiting: its id is free.
        let e = t.request(&h[2], RendezvousId::from_bytes([1; 32]), uuid, false, 0);
        assert!(e.iter().any(|e| matches!(e, Effect::Link { .. })));
    }

    fn link_effects(e: &[Effect], now_ms: u64) {
        for effect in e {
            if let Effect::Link { a, b } = effect {
                ConnHandle::link_pair(a, b, now_ms);
            }
        }
    }

    #[test]
    fn a_one_sided_pair_is_displaced_after_the_two_way_timeout() {
        let (t, h) = table(10);
        let rid = RendezvousId::from_bytes([5; 32]);
        let uuid = "a5b32936-3143-4856-bdea-7b3dda7aa5e8";
        t.request(&h[0], rid, uuid, false, 0);
        let e = t.request(&h[1], rid, uuid, false, 0);
        link_effects(&e, 1_000);
        h[0].mark_spoke();
        // Too young: refused as before.
        let e = t.request(&h[2], rid, uuid, false, 10_999);
        assert_eq!(closes(&e), vec![(2, CloseCause::DuplicateId)]);
        // Old enough and one-sided: both squatters get END and close, the
        // newcomer waits in their place.
        let e = t.request(&h[3], rid, uuid, false, 11_000);
        let mut got = closes(&e);
        got.sort_by_key(|c| c.0);
        assert_eq!(
            got,
            vec![(0, CloseCause::Displaced), (1, CloseCause::Displaced)]
        );
        let ends = e
            .iter()
            .filter(|e| matches!(e, Effect::Send { to, .. } if to.id < 2))
            .count();
        assert_eq!(ends, 2);
        assert!(matches!(
            e.last(),
            Some(Effect::Send { to, .. }) if to.id == 3
        ));
        assert!(!t.is_paired(0) && !t.is_paired(1));
        assert_eq!(t.metrics.snapshot().rejected(RejectReason::Displaced), 1);
    }

    #[test]
    fn a_two_way_pair_is_never_displaced() {
        let (t, h) = table(10);
        let rid = RendezvousId::from_bytes([6; 32]);
        let uuid = "a5b32936-3143-4856-bdea-7b3dda7aa5e8";
        t.request(&h[0], rid, uuid, false, 0);
        let e = t.request(&h[1], rid, uuid, false, 0);
        link_effects(&e, 0);
        h[0].mark_spoke();
        h[1].mark_spoke();
        let e = t.request(&h[2], rid, uuid, false, 1_000_000);
        assert_eq!(closes(&e), vec![(2, CloseCause::DuplicateId)]);
        assert!(t.is_paired(0) && t.is_paired(1));
    }
}
