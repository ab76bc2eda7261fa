//! Property tests for LoRa time on air and the duty-cycle budget.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use lichen::lora::{
    AirtimeBudget, Bandwidth, BudgetError, CodingRate, DutyLimit, Modulation, Plan, RadioParams,
    SpreadingFactor, MAX_FRAME_LEN, MAX_RECORDS,
};
use proptest::prelude::*;

fn modulation() -> impl Strategy<Value = Modulation> {
    (
        prop::sample::select(SpreadingFactor::ALL.to_vec()),
        prop::sample::select(Bandwidth::ALL.to_vec()),
        prop::sample::select(CodingRate::ALL.to_vec()),
    )
        .prop_map(|(sf, bandwidth, coding_rate)| Modulation {
            sf,
            bandwidth,
            coding_rate,
        })
}

fn radio() -> impl Strategy<Value = RadioParams> {
    (modulation(), 6u16..=16, any::<bool>(), any::<bool>()).prop_map(
        |(m, preamble_len, explicit_header, crc)| RadioParams {
            preamble_len,
            explicit_header,
            crc,
            ..RadioParams::tinyssb(m)
        },
    )
}

/// Largest on-air time inside any window of `window_us`, for non-overlapping transmissions
/// `(start, end)` sorted by start: the check of every sliding window. On-air time in a
/// window is piecewise linear in its position, so its maximum is reached by a window that
/// starts at some transmission's start or ends at some transmission's end; both are tried.
fn max_in_any_window(txs: &[(u64, u64)], window_us: u64) -> u64 {
    // prefix[i] = airtime of txs[..i]
    let mut prefix = vec![0u64];
    for &(s, e) in txs {
        prefix.push(prefix[prefix.len() - 1] + (e - s));
    }
    let on_air = |from: u64, to: u64| -> u64 {
        let first = txs.partition_point(|&(_, e)| e <= from); // first ending after `from`
        let last = txs.partition_point(|&(s, _)| s < to); // one past the last starting before `to`
        if first >= last {
            return 0;
        }
        let mut sum = prefix[last] - prefix[first];
        sum -= from
            .saturating_sub(txs[first].0)
            .min(txs[first].1 - txs[first].0);
        sum -= txs[last - 1]
            .1
            .saturating_sub(to)
            .min(txs[last - 1].1 - txs[last - 1].0);
        sum
    };
    let mut best = 0;
    for &(s, e) in txs {
        best = best.max(on_air(s, s + window_us));
        best = best.max(on_air(e.saturating_sub(window_us), e));
    }
    best
}

#[test]
fn window_measure_is_right() {
    let txs = [(0, 10), (20, 30), (40, 50)];
    assert_eq!(max_in_any_window(&txs, 5), 5);
    assert_eq!(max_in_any_window(&txs, 25), 15);
    assert_eq!(max_in_any_window(&txs, 35), 20);
    assert_eq!(max_in_any_window(&txs, 100), 30);
}

proptest! {
    // A failing budget case carries a long send sequence; bound the time spent shrinking it.
    #![proptest_config(ProptestConfig { max_shrink_time: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn airtime_grows_with_payload_length(r in radio(), a in 0usize..=300, b in 0usize..=300) {
        let (short, long) = (a.min(b), a.max(b));
        prop_assert!(r.time_on_air_us(short) <= r.time_on_air_us(long));
    }

    #[test]
    fn airtime_grows_with_spreading_factor(
        m in modulation(),
        len in 0usize..=MAX_FRAME_LEN,
        crc in any::<bool>(),
    ) {
        let mut last = 0;
        for sf in SpreadingFactor::ALL {
            let r = RadioParams { crc, ..RadioParams::tinyssb(Modulation { sf, ..m }) };
            let t = r.time_on_air_us(len);
            prop_assert!(t > last, "{sf:?}: {t} µs after {last} µs");
            last = t;
        }
    }

    #[test]
    fn airtime_shrinks_with_bandwidth_and_grows_with_coding_rate(
        m in modulation(),
        len in 0usize..=MAX_FRAME_LEN,
    ) {
        let mut last = u64::MAX;
        for bandwidth in Bandwidth::ALL {
            let t = RadioParams::tinyssb(Modulation { bandwidth, ..m }).time_on_air_us(len);
            prop_assert!(t <= last);
            last = t;
        }
        let mut last = 0;
        for coding_rate in CodingRate::ALL {
            let t = RadioParams::tinyssb(Modulation { coding_rate, ..m }).time_on_air_us(len);
            prop_assert!(t >= last);
            last = t;
        }
    }

    /// A node that sends whenever the budget lets it never exceeds the limit in any window,
    /// also once compaction has merged records. The workload always asks for more than the
    /// limit (each pause is at most one frame's airtime, so it would be on air at least half
    /// the time, and the highest limit is 30 %), for three windows: every case is refused
    /// at least once, so the check fails if the budget stops enforcing.
    #[test]
    fn budget_never_exceeds_the_limit_in_any_window(
        plan in prop::sample::select(vec!["EU868.a", "EU868.c", "EU433.a", "US915.b"]),
        percent_tenths in prop::sample::select(vec![10u16, 20, 50, 100, 300]),
        window_s in 20u64..=120,
        pattern in prop::collection::vec((0u64..=1000, 1usize..=MAX_FRAME_LEN), 1..64),
    ) {
        let radio = Plan::by_name(plan).unwrap().radio();
        let limit = DutyLimit::BasisPoints(percent_tenths * 10);
        let window = window_s * 1000;
        let Ok(mut budget) = AirtimeBudget::with_limit(radio, limit, window) else {
            return Ok(()); // budget below one largest frame: nothing to check
        };
        let cap = limit.budget_us(window).unwrap();
        let mut now = 0u64;
        let mut txs = Vec::new();
        let mut refused = 0u32;
        for &(gap_permille, len) in pattern.iter().cycle() {
            if now >= 3 * window {
                break;
            }
            // A pause of up to one frame's airtime (rounded down to whole milliseconds).
            now += radio.time_on_air_us(len) * gap_permille / 1_000_000;
            match budget.try_send(len, now) {
                Ok(airtime) => {
                    txs.push((now * 1000, now * 1000 + airtime));
                    // A real radio is busy until the frame has left.
                    now += airtime.div_ceil(1000);
                }
                Err(BudgetError::Wait { until }) => {
                    refused += 1;
                    prop_assert!(until > now);
                    let mut probe = budget.clone();
                    prop_assert!(probe.can_send(len, until).is_ok(), "fits at {until}");
                    prop_assert!(probe.can_send(len, until - 1).is_err(), "not before {until}");
                    // Wait as a face would, most of the time; sometimes retry early.
                    now = if gap_permille % 4 == 0 { now + (until - now) / 2 + 1 } else { until };
                }
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
            prop_assert!(budget.records_kept() <= MAX_RECORDS);
            prop_assert!(budget.available(now).unwrap() <= cap);
        }
        prop_assert!(refused > 0, "the workload never reached the budget");
        let worst = max_in_any_window(&txs, window * 1000);
        prop_assert!(worst <= cap, "{worst} µs on air in one window, limit {cap} µs");
    }
}

#[test]
fn compaction_kicks_in_and_stays_safe() {
    // 1-byte frames at SF7/500 kHz (6.464 ms) against 10 % of a minute: ~930 frames fit,
    // far more than the record cap.
    let radio = Plan::by_name("EU868.c").unwrap().radio();
    let window = 60_000;
    let mut budget = AirtimeBudget::with_limit(radio, DutyLimit::percent(10), window).unwrap();
    let mut now = 0;
    let mut txs = Vec::new();
    let mut refused = 0;
    while now < 5 * window {
        match budget.try_send(1, now) {
            Ok(a) => {
                txs.push((now * 1000, now * 1000 + a));
                now += a.div_ceil(1000);
            }
            Err(BudgetError::Wait { until }) => {
                assert!(until > now);
                refused += 1;
                now = until;
            }
            Err(e) => panic!("{e}"),
        }
        assert!(budget.records_kept() <= MAX_RECORDS);
    }
    assert!(refused > 0);
    let cap = DutyLimit::percent(10).budget_us(window).unwrap();
    assert!(max_in_any_window(&txs, window * 1000) <= cap);
    // Compaction costs some throughput but not much: at least 80 % of the ideal.
    let sent: u64 = txs.iter().map(|(s, e)| e - s).sum();
    let ideal = cap * 5;
    assert!(
        sent * 10 >= ideal * 8,
        "sent {sent} µs of an ideal {ideal} µs"
    );
}
