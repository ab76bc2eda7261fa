#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The load harness: a small run always, the 1000-pair run on request
//! (`cargo test --release -p lichen-relay --test load -- --ignored --nocapture`).

use std::time::Duration;

use lichen_relay::load::{run, LoadConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_load_run_forwards_every_frame() {
    let report = run(LoadConfig {
        pairs: 20,
        frames: 50,
        frame_size: 128,
        phase_timeout: Duration::from_secs(30),
        ..LoadConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(report.frames, 20 * 2 * 50);
    assert_eq!(report.bytes, 20 * 2 * 50 * 128);
    // Measured latencies, not placeholders: every frame took some time, none longer than the
    // run (the quantiles themselves are checked in the unit test `quantiles_pick_the_right_latency`).
    assert!(report.p50 > Duration::ZERO, "p50 {:?}", report.p50);
    assert!(report.p50 <= report.p99 && report.p99 <= report.max);
    assert!(
        report.max <= report.traffic_time,
        "max {:?} beyond the run",
        report.max
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "1000 pairs, 2000 connections: run explicitly, in release"]
async fn thousand_pairs() {
    let report = run(LoadConfig {
        pairs: 1000,
        frames: 100,
        frame_size: 256,
        ..LoadConfig::default()
    })
    .await
    .unwrap();
    println!("{report}");
    assert_eq!(report.frames, 1000 * 2 * 100);
}
