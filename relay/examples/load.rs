#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Load test for the relay.
//!
//! ```text
//! # relay and clients in one process (default: 1000 pairs × 100 frames of 256 B)
//! cargo run --release -p lichen-relay --example load -- [--pairs N] [--frames N]
//!     [--size BYTES] [--interval-ms MS] [--parallel N] [--timeout S]
//! # relay alone, for S seconds (then it stops by itself)
//! cargo run --release -p lichen-relay --example load -- --serve 127.0.0.1:7000 --for 120
//! # clients against that relay (its RSS is read from its /metrics)
//! cargo run --release -p lichen-relay --example load -- --relay 127.0.0.1:7000
//! ```
//!
//! 2000 connections need about 4000 file descriptors when relay and clients
//! share the process; check `ulimit -n` (the workspace forbids the `unsafe`
//! needed to raise it from inside).

use std::net::SocketAddr;
use std::time::Duration;

use lichen_relay::load::{run_blocking, LoadConfig};
use lichen_relay::{Relay, RelayConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let num = |flag: &str, default: u64| -> u64 {
        value(flag).map_or(default, |v| v.parse().expect("a number"))
    };
    if let Some(listen) = value("--serve") {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let listen: SocketAddr = listen.parse().expect("an address");
        let secs = num("--for", 120);
        runtime.block_on(async {
            let mut config = RelayConfig::new(listen);
            config.max_connections = 20_000;
            config.max_per_ip = 20_000;
            config.max_pending = 20_000;
            config.wait_timeout = Duration::from_secs(secs);
            config.slow_reader_timeout = Duration::from_secs(30);
            let relay = Relay::bind(config).await.expect("relay starts");
            println!("relay on {} for {secs} s", relay.local_addr());
            tokio::time::sleep(Duration::from_secs(secs)).await;
            println!("{}", relay.metrics().to_prometheus());
            relay.shutdown().await;
        });
        return;
    }

    let config = LoadConfig {
        relay: value("--relay").map(|a| a.parse().expect("an address")),
        pairs: num("--pairs", 1000) as usize,
        frames: num("--frames", 100) as usize,
        frame_size: num("--size", 256) as usize,
        interval: value("--interval-ms").map(|v| Duration::from_millis(v.parse().expect("ms"))),
        connect_parallelism: num("--parallel", 64) as usize,
        phase_timeout: Duration::from_secs(num("--timeout", 120)),
    };
    println!("{config:?}");
    match run_blocking(config) {
        Ok(report) => println!("{report}"),
        Err(e) => {
            eprintln!("load test failed: {e}");
            std::process::exit(1);
        }
    }
}
