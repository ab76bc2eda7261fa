//! The duty-cycle budget a LoRa face spends: a sliding one-hour window over what this node
//! sent, which refuses a frame that would break the region's limit and says when sending can
//! resume.

use std::collections::VecDeque;
use std::fmt;

use thiserror::Error;

use super::*;

/// A duty-cycle limit: the share of a window a transmitter may spend on air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DutyLimit {
    /// No limit (US915, AU915); airtime is still counted.
    Unlimited,
    /// At most this many hundredths of a percent (basis points): 100 = 1 %, 10 = 0.1 %.
    BasisPoints(u16),
}

impl DutyLimit {
    /// A limit of `p` percent (1 → 1 %).
    pub const fn percent(p: u16) -> DutyLimit {
        DutyLimit::BasisPoints(p.saturating_mul(100))
    }

    /// Airtime allowed per `window`, microseconds; `None` when unlimited.
    pub fn budget_us(self, window: Millis) -> Option<Micros> {
        match self {
            DutyLimit::Unlimited => None,
            DutyLimit::BasisPoints(bp) => {
                let us = u128::from(window) * 1000 * u128::from(bp) / 10_000;
                Some(u64::try_from(us).unwrap_or(u64::MAX))
            }
        }
    }
}

impl fmt::Display for DutyLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DutyLimit::Unlimited => f.write_str("no duty-cycle limit"),
            DutyLimit::BasisPoints(bp) => write!(f, "{}.{:02} %", bp / 100, bp % 100),
        }
    }
}

/// Why a budget cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BudgetConfigError {
    /// A limit of 0 or above 100 %.
    #[error("duty-cycle limit must be between 0.01 % and 100 %, got {0} basis points")]
    BadLimit(u16),
    /// A zero-length window.
    #[error("the duty-cycle window must be longer than 0 ms")]
    ZeroWindow,
    /// The budget per window is smaller than one largest frame, so such a frame could never go.
    #[error("a budget of {budget_us} µs per window cannot hold one {MAX_FRAME_LEN}-byte frame ({frame_us} µs)")]
    BudgetBelowOneFrame {
        /// Airtime allowed per window.
        budget_us: Micros,
        /// Airtime of a 255-byte frame.
        frame_us: Micros,
    },
}

/// Why the budget refuses a frame now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum BudgetError {
    /// The duty cycle is spent: this frame fits again at `until` if nothing else is sent.
    #[error("duty-cycle budget spent; sending resumes at t={until} ms")]
    Wait {
        /// Earliest time the frame fits the budget.
        until: Millis,
    },
    /// Longer than a LoRa payload can be.
    #[error("a frame of {len} bytes exceeds the {MAX_FRAME_LEN}-byte LoRa limit")]
    FrameTooLong {
        /// Frame length asked about.
        len: usize,
    },
}

/// What the budget tells the node (and through it the user) about its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetEvent {
    /// A frame was refused: the duty cycle is spent; sending resumes at `resumes_at`.
    /// Emitted again when a later refusal moves `resumes_at`.
    Exhausted {
        /// When the refusal happened.
        at: Millis,
        /// When the refused frame fits again.
        resumes_at: Millis,
    },
    /// Sending is possible again.
    Resumed {
        /// The promised time (reported by `take_events`), or the time a frame was allowed
        /// before it (a smaller frame can fit earlier).
        at: Millis,
    },
}

/// A snapshot of the budget for a status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetStatus {
    /// The limit in force.
    pub limit: DutyLimit,
    /// Airtime counted in the window ending now.
    pub spent_us: Micros,
    /// Airtime left in that window (`None`: unlimited).
    pub available_us: Option<Micros>,
    /// A frame was refused and sending has not resumed since.
    pub exhausted: bool,
    /// When the last refused frame fits again (set while `exhausted`).
    pub resumes_at: Option<Millis>,
}

/// Most per-send records a budget keeps; beyond that the closest neighbours are merged.
pub const MAX_RECORDS: usize = 256;
/// Most undrained events kept; older ones are dropped first.
const MAX_EVENTS: usize = 32;

/// One transmission (or, after compaction, several merged) in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    start_us: u64,
    end_us: u64,
    airtime_us: Micros,
}

/// The duty-cycle budget of one transmitter: a **sliding window** over its own sends.
///
/// **Model.** ETSI defines duty cycle as on-air time over any one-hour observation period, so
/// the budget is a sliding window (default [`DUTY_WINDOW_MS`]) rather than a token bucket: a
/// token bucket with the same long-term rate would allow a full bucket plus refill inside one
/// hour, which is more than the regulation permits. A frame of airtime `a` asked about at
/// `now` is allowed iff every send whose end lies after `now + a − window` (each counted whole)
/// plus `a` fits the budget. That check is made on the window that ends when the new frame
/// ends; because one radio's transmissions never overlap, it bounds **every** window, which
/// the property tests check on random send sequences.
///
/// **Memory.** Records older than one window are dropped; if more than [`MAX_RECORDS`] remain
/// (only plausible without a limit, or at 10 % with tiny frames), the two neighbours spanning
/// the shortest time are merged into one record that keeps the earlier start, the later end
/// and the summed airtime. A merged record stays counted at least as long as its parts, so
/// compaction only ever makes the budget stricter, by at most one record's span.
///
/// **Telling the user.** A refusal returns [`BudgetError::Wait`] with the time the frame fits,
/// sets the `exhausted` flag of [`AirtimeBudget::status`] and queues a
/// [`BudgetEvent::Exhausted`]; the first success (or [`AirtimeBudget::take_events`] after the
/// promised time) queues [`BudgetEvent::Resumed`].
#[derive(Debug, Clone)]
pub struct AirtimeBudget {
    radio: RadioParams,
    limit: DutyLimit,
    window_us: u64,
    budget_us: Option<Micros>,
    records: VecDeque<Record>,
    blocked_until: Option<Millis>,
    events: VecDeque<BudgetEvent>,
    total_us: Micros,
    frames: u64,
    refusals: u64,
}

impl AirtimeBudget {
    /// The budget for a plan with its region's default limit and a one-hour window.
    pub fn new(plan: &Plan) -> AirtimeBudget {
        // The default limits (1 %, 10 %, none) all hold a 255-byte frame on every plan.
        AirtimeBudget::empty(plan.radio(), plan.duty_limit(), DUTY_WINDOW_MS)
    }

    /// A budget with an explicit limit and window (e.g. 10 % for the 869.4–869.65 MHz
    /// sub-band, or a short window in tests). The budget must hold one 255-byte frame.
    pub fn with_limit(
        radio: RadioParams,
        limit: DutyLimit,
        window: Millis,
    ) -> Result<AirtimeBudget, BudgetConfigError> {
        if let DutyLimit::BasisPoints(bp) = limit {
            if bp == 0 || bp > 10_000 {
                return Err(BudgetConfigError::BadLimit(bp));
            }
        }
        if window == 0 {
            return Err(BudgetConfigError::ZeroWindow);
        }
        let budget_us = limit.budget_us(window);
        if let Some(budget_us) = budget_us {
            let frame_us = radio.time_on_air_us(MAX_FRAME_LEN);
            if budget_us < frame_us {
                return Err(BudgetConfigError::BudgetBelowOneFrame {
                    budget_us,
                    frame_us,
                });
            }
        }
        Ok(AirtimeBudget::empty(radio, limit, window))
    }

    fn empty(radio: RadioParams, limit: DutyLimit, window: Millis) -> AirtimeBudget {
        AirtimeBudget {
            radio,
            limit,
            window_us: window.saturating_mul(1000),
            budget_us: limit.budget_us(window),
            records: VecDeque::new(),
            blocked_until: None,
            events: VecDeque::new(),
            total_us: 0,
            frames: 0,
            refusals: 0,
        }
    }

    /// The radio settings airtime is computed with.
    pub fn radio(&self) -> &RadioParams {
        &self.radio
    }

    /// The limit in force.
    pub fn limit(&self) -> DutyLimit {
        self.limit
    }

    /// The window length, milliseconds.
    pub fn window(&self) -> Millis {
        self.window_us / 1000
    }

    /// Airtime allowed per window, microseconds (`None`: unlimited).
    pub fn budget_us(&self) -> Option<Micros> {
        self.budget_us
    }

    /// Time on air of a `frame_len`-byte frame with these radio settings.
    pub fn airtime_us(&self, frame_len: usize) -> Micros {
        self.radio.time_on_air_us(frame_len)
    }

    /// May a `frame_len`-byte frame go on air at `now`? A refusal says when it may, and is
    /// remembered for [`status`](Self::status) and [`take_events`](Self::take_events).
    /// Does not record anything: call [`record`](Self::record) when the frame is sent.
    pub fn can_send(&mut self, frame_len: usize, now: Millis) -> Result<(), BudgetError> {
        if frame_len > MAX_FRAME_LEN {
            return Err(BudgetError::FrameTooLong { len: frame_len });
        }
        self.prune(now);
        match self.fits_at(frame_len, now) {
            None => {
                self.note_resumed(now);
                Ok(())
            }
            Some(until) => {
                self.refusals += 1;
                if self.blocked_until != Some(until) {
                    tracing::debug!(now, until, frame_len, "duty-cycle budget spent");
                    self.push_event(BudgetEvent::Exhausted {
                        at: now,
                        resumes_at: until,
                    });
                }
                self.blocked_until = Some(until);
                Err(BudgetError::Wait { until })
            }
        }
    }

    /// Counts a `frame_len`-byte frame that went on air at `now` and returns its airtime.
    /// Always records (the frame was sent, whatever the budget said). A start inside the
    /// previous transmission is moved to its end: one radio sends one frame at a time.
    pub fn record(&mut self, frame_len: usize, now: Millis) -> Micros {
        self.prune(now);
        let airtime_us = self.radio.time_on_air_us(frame_len);
        let mut start_us = now.saturating_mul(1000);
        if let Some(last) = self.records.back() {
            start_us = start_us.max(last.end_us);
        }
        self.records.push_back(Record {
            start_us,
            end_us: start_us.saturating_add(airtime_us),
            airtime_us,
        });
        self.total_us = self.total_us.saturating_add(airtime_us);
        self.frames += 1;
        if self.records.len() > MAX_RECORDS {
            self.compact();
        }
        airtime_us
    }

    /// [`can_send`](Self::can_send), and on success [`record`](Self::record): the call a face
    /// makes right before it hands a frame to the radio. Returns the frame's airtime.
    pub fn try_send(&mut self, frame_len: usize, now: Millis) -> Result<Micros, BudgetError> {
        self.can_send(frame_len, now)?;
        Ok(self.record(frame_len, now))
    }

    /// Airtime counted in the window ending at `now` (each send that ends inside it counts
    /// whole, so this may slightly overstate what is on air in the window).
    pub fn spent_in_window(&self, now: Millis) -> Micros {
        let now_us = now.saturating_mul(1000);
        self.records
            .iter()
            .rev()
            .take_while(|r| r.end_us.saturating_add(self.window_us) > now_us)
            .fold(0u64, |acc, r| acc.saturating_add(r.airtime_us))
    }

    /// Airtime left in the window ending at `now`; `None` when there is no limit. A frame
    /// with at most this airtime is allowed at `now`.
    pub fn available(&self, now: Millis) -> Option<Micros> {
        self.budget_us
            .map(|b| b.saturating_sub(self.spent_in_window(now)))
    }

    /// Earliest time at or after `now` a `frame_len`-byte frame fits, if nothing else is sent
    /// (`now` itself when it fits now). Pure: unlike `can_send` it raises no event.
    pub fn resumes_at(&self, frame_len: usize, now: Millis) -> Millis {
        self.fits_at(frame_len, now).unwrap_or(now)
    }

    /// Flags and figures for a status line.
    pub fn status(&self, now: Millis) -> BudgetStatus {
        BudgetStatus {
            limit: self.limit,
            spent_us: self.spent_in_window(now),
            available_us: self.available(now),
            exhausted: self.blocked_until.is_some(),
            resumes_at: self.blocked_until,
        }
    }

    /// Events since the last call, oldest first. First notes a resumption if the promised
    /// time has passed, so a node that polls this learns "you can send again" on time.
    pub fn take_events(&mut self, now: Millis) -> Vec<BudgetEvent> {
        if let Some(until) = self.blocked_until {
            if now >= until {
                self.blocked_until = None;
                self.push_event(BudgetEvent::Resumed { at: until });
            }
        }
        self.events.drain(..).collect()
    }

    /// All airtime recorded since the budget was made, microseconds.
    pub fn total_airtime_us(&self) -> Micros {
        self.total_us
    }

    /// Frames recorded since the budget was made.
    pub fn frames_sent(&self) -> u64 {
        self.frames
    }

    /// Frames refused since the budget was made (each `can_send` refusal counts).
    pub fn refusals(&self) -> u64 {
        self.refusals
    }

    /// Records currently kept (bounded by [`MAX_RECORDS`]).
    pub fn records_kept(&self) -> usize {
        self.records.len()
    }

    /// `None` if the frame fits at `now`, else the earliest time it does.
    fn fits_at(&self, frame_len: usize, now: Millis) -> Option<Millis> {
        let budget = self.budget_us?;
        let a = self.radio.time_on_air_us(frame_len);
        let now_us = now.saturating_mul(1000);
        // A record counts for a frame sent at t iff end + window > t + a.
        let counts =
            |r: &Record, t: u64| r.end_us.saturating_add(self.window_us) > t.saturating_add(a);
        let mut spent: Micros = self
            .records
            .iter()
            .filter(|r| counts(r, now_us))
            .fold(0, |acc, r| acc.saturating_add(r.airtime_us));
        if spent.saturating_add(a) <= budget {
            return None;
        }
        // Ends are increasing, so records stop counting oldest first.
        for r in self.records.iter().filter(|r| counts(r, now_us)) {
            spent = spent.saturating_sub(r.airtime_us);
            if spent.saturating_add(a) <= budget {
                let until_us = r.end_us.saturating_add(self.window_us).saturating_sub(a);
                return Some(until_us.div_ceil(1000).max(now));
            }
        }
        // Unreachable while the budget holds one largest frame; wait out everything.
        let last = self.records.back().map_or(now_us, |r| r.end_us);
        Some(last.saturating_add(self.window_us).div_ceil(1000).max(now))
    }

    fn note_resumed(&mut self, now: Millis) {
        if self.blocked_until.take().is_some() {
            self.push_event(BudgetEvent::Resumed { at: now });
        }
    }

    fn push_event(&mut self, e: BudgetEvent) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }

    /// Drops records that can never count again (they ended a whole window ago).
    fn prune(&mut self, now: Millis) {
        let now_us = now.saturating_mul(1000);
        while let Some(r) = self.records.front() {
            if r.end_us.saturating_add(self.window_us) <= now_us {
                self.records.pop_front();
            } else {
                break;
            }
        }
    }

    /// Merges the two neighbouring records spanning the shortest time.
    fn compact(&mut self) {
        while self.records.len() > MAX_RECORDS {
            let mut best: Option<(usize, u64)> = None;
            for i in 0..self.records.len().saturating_sub(1) {
                let (Some(a), Some(b)) = (self.records.get(i), self.records.get(i + 1)) else {
                    break;
                };
                let span = b.end_us.saturating_sub(a.start_us);
                if best.is_none_or(|(_, s)| span < s) {
                    best = Some((i, span));
                }
            }
            let Some((i, _)) = best else { return };
            let Some(b) = self.records.remove(i + 1) else {
                return;
            };
            if let Some(a) = self.records.get_mut(i) {
                a.end_us = b.end_us;
                a.airtime_us = a.airtime_us.saturating_add(b.airtime_us);
            }
        }
    }
}
