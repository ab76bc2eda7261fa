//! `sim`: engines on a simulated LoRa channel, for what-if questions and the LoRa benchmarks.

use std::process::ExitCode;

use anyhow::Context;
use lichen::lora::{DutyLimit, Plan};
use lichen::sim::net::{self, Pacing, SimConfig, Topology};

/// The most nodes `sim` runs.
const MAX_NODES: usize = 1000;

/// Options of `lichen-bench sim`.
#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Number of nodes (node 0 authors every feed).
    #[arg(long, default_value_t = 2)]
    nodes: usize,
    /// Feeds authored at node 0 (1 to 255).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..))]
    feeds: u8,
    /// Entries per feed (every other one with a side chain), at least 1.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    entries: u32,
    /// Per-frame, per-receiver loss probability (0..1).
    #[arg(long, default_value = "0", value_parser = crate::args::probability)]
    loss: f64,
    /// Placement: `line` (data hops) or `mesh` (everyone hears everyone).
    #[arg(long, default_value = "mesh")]
    topology: String,
    /// Radio plan, e.g. EU868.a, US915.a, E22-868.
    #[arg(long, default_value = "EU868.a")]
    plan: String,
    /// Duty cycle in percent (default: the region's, 1 % in EU868, none in US915).
    #[arg(long, value_parser = crate::args::percent)]
    duty: Option<f64>,
    /// Seed of the medium and the engines.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Give Lichen's engines the deployed Android app's timers (1 packet/s, WANT every 5 s,
    /// credit 5, no repair, no stash); the app's own engine is not simulated.
    #[arg(long)]
    android_pacing: bool,
    /// Partition: the first K nodes cannot hear the rest until this many seconds.
    #[arg(long, num_args = 2, value_names = ["K", "SECONDS"])]
    partition: Option<Vec<u64>>,
    /// Give up after this many simulated hours.
    #[arg(long, default_value = "24", value_parser = crate::args::hours)]
    max_hours: f64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// `lichen-bench sim`.
pub fn sim(args: &SimArgs) -> anyhow::Result<ExitCode> {
    // Each node is an engine with its own store: a typo such as 10000000 must not try to
    // allocate them all.
    anyhow::ensure!(
        args.nodes <= MAX_NODES,
        "--nodes must be at most {MAX_NODES}, not {}",
        args.nodes
    );
    let plan: Plan = args.plan.parse().context("--plan")?;
    let topology = match args.topology.as_str() {
        "line" => Topology::Line,
        "mesh" => Topology::Mesh,
        other => anyhow::bail!("--topology must be line or mesh, not {other:?}"),
    };
    let duty = match args.duty {
        None => plan.duty_limit(),
        Some(p) if p >= 100.0 => DutyLimit::Unlimited,
        Some(p) if p > 0.0 => DutyLimit::BasisPoints((p * 100.0).round() as u16),
        Some(p) => anyhow::bail!("--duty must be above 0 percent, not {p}"),
    };
    let cfg = SimConfig {
        nodes: args.nodes,
        feeds: args.feeds,
        entries: args.entries,
        loss: args.loss,
        topology,
        plan,
        duty,
        seed: args.seed,
        pacing: if args.android_pacing {
            Pacing::AndroidReference
        } else {
            Pacing::Lichen
        },
        partition: args
            .partition
            .as_ref()
            .map(|p| (p[0] as usize, 0, p[1].saturating_mul(1000))),
        max_time: (args.max_hours * 3_600_000.0) as u64,
    };
    let r = net::run(&cfg)?;
    let ratio = r.airtime_us as f64 / r.lower_bound_airtime_us.max(1) as f64;
    if args.json {
        outln!(
            "{}",
            serde_json::json!({
                "converged": r.converged,
                "sim_time_s": r.sim_time_ms as f64 / 1000.0,
                "airtime_s": r.airtime_us as f64 / 1e6,
                "lower_bound_airtime_s": r.lower_bound_airtime_us as f64 / 1e6,
                "airtime_ratio": ratio,
                "packets": r.packets,
                "delivered": r.delivered,
                "lost": r.lost,
                "plan": plan.name,
                "duty": duty.to_string(),
            })
        )?;
    } else {
        outln!(
            "{} after {:.0} s simulated: {} frames, airtime {:.1} s ({:.2}x the {:.1} s the entries need), {} lost",
            if r.converged { "converged" } else { "NOT converged" },
            r.sim_time_ms as f64 / 1000.0,
            r.packets,
            r.airtime_us as f64 / 1e6,
            ratio,
            r.lower_bound_airtime_us as f64 / 1e6,
            r.lost
        )?;
    }
    Ok(if r.converged {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
