//! Regulatory regions and the tinySSB firmware's plan table (spec §6.2).

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use super::*;

/// Regulatory region of a plan, which sets the default duty-cycle limit.
///
/// * **EU868** (ETSI EN 300 220, ERC Recommendation 70-03 Annex 1 band h1.4, 868.0–868.6
///   MHz): **1 %** duty cycle (or listen-before-talk with adaptive frequency agility, which
///   no tinySSB radio does). The EU868 plans (868.3 MHz) and E22-868 (868.2 MHz) sit in it.
///   The 869.4–869.65 MHz sub-band allows 10 %, but no plan uses it; the limit is
///   configurable for anyone who retunes ([`AirtimeBudget::with_limit`]).
/// * **EU433** (ERC 70-03 Annex 1, 433.05–434.79 MHz): **10 %**.
/// * **US915** (FCC part 15.247) and **AU915** (ACMA LIPD class licence, 915–928 MHz): no
///   duty-cycle limit; airtime is still accounted. (The FCC's 400 ms dwell time concerns
///   frequency hoppers; a 124-byte SF7/125 kHz frame is 205 ms anyway.)
///
/// The dongles send at 20 dBm, above the ERP these EU bands allow (25 mW and 10 mW); that is
/// the radio owner's business and not modelled here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// United States, 902–928 MHz.
    Us915,
    /// Australia, 915–928 MHz.
    Au915,
    /// Europe, 863–870 MHz.
    Eu868,
    /// Europe, 433 MHz.
    Eu433,
}

impl Region {
    /// The duty-cycle limit that applies by default (see the type's documentation).
    pub fn default_duty_limit(self) -> DutyLimit {
        match self {
            Region::Us915 | Region::Au915 => DutyLimit::Unlimited,
            Region::Eu868 => DutyLimit::percent(1),
            Region::Eu433 => DutyLimit::percent(10),
        }
    }
}

/// One entry of the firmware's frequency plan table (spec §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Plan {
    /// Name as the firmware's console shows it, e.g. `"EU868.a"`.
    pub name: &'static str,
    /// Regulatory region.
    pub region: Region,
    /// Centre frequency in hertz.
    pub frequency_hz: u32,
    /// SF, bandwidth, coding rate.
    pub modulation: Modulation,
    /// LoRa sync word (0x58 "SB" for tinySSB; RadioLib maps it to 0x5484 on SX126x).
    pub sync_word: u8,
}

const fn plan(
    name: &'static str,
    region: Region,
    frequency_hz: u32,
    bandwidth: Bandwidth,
    sf: SpreadingFactor,
    coding_rate: CodingRate,
    sync_word: u8,
) -> Plan {
    Plan {
        name,
        region,
        frequency_hz,
        modulation: Modulation {
            sf,
            bandwidth,
            coding_rate,
        },
        sync_word,
    }
}

/// The plan table of the current ESP32 firmware, in its order (the first is the default).
/// [ESP-old] used other parameters under the same names; those are not listed.
pub const PLANS: [Plan; 10] = {
    use Bandwidth::{Khz125, Khz250, Khz500};
    use CodingRate::{Cr4_5, Cr4_7};
    use Region::{Au915, Eu433, Eu868, Us915};
    use SpreadingFactor::{Sf7, Sf9};
    [
        plan("US915.a", Us915, 904_600_000, Khz125, Sf7, Cr4_5, 0x58),
        plan("US915.b", Us915, 904_600_000, Khz250, Sf7, Cr4_5, 0x58),
        plan("US915.c", Us915, 904_600_000, Khz500, Sf7, Cr4_5, 0x58),
        plan("AU915.a", Au915, 917_500_000, Khz125, Sf7, Cr4_5, 0x58),
        plan("AU915.b", Au915, 917_500_000, Khz250, Sf7, Cr4_5, 0x58),
        plan("EU868.a", Eu868, 868_300_000, Khz125, Sf7, Cr4_5, 0x58),
        plan("EU868.b", Eu868, 868_300_000, Khz250, Sf7, Cr4_5, 0x58),
        plan("EU868.c", Eu868, 868_300_000, Khz500, Sf7, Cr4_5, 0x58),
        plan("EU433.a", Eu433, 433_300_000, Khz125, Sf7, Cr4_5, 0x58),
        plan("E22-868", Eu868, 868_200_000, Khz125, Sf9, Cr4_7, 0x12),
    ]
};

impl Plan {
    /// The firmware's default plan, "US915.a".
    pub fn default_plan() -> Plan {
        PLANS[0]
    }

    /// The plan with this name, ignoring ASCII case (`"eu868.A"` finds "EU868.a").
    pub fn by_name(name: &str) -> Option<Plan> {
        PLANS
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name.trim()))
            .copied()
    }

    /// All plans, in the firmware's order.
    pub fn all() -> &'static [Plan] {
        &PLANS
    }

    /// All plan names, in the firmware's order.
    pub fn names() -> impl Iterator<Item = &'static str> {
        PLANS.iter().map(|p| p.name)
    }

    /// The radio settings a tinySSB dongle uses on this plan.
    pub fn radio(&self) -> RadioParams {
        RadioParams::tinyssb(self.modulation)
    }

    /// Time on air of a `len`-byte frame on this plan, microseconds.
    pub fn time_on_air_us(&self, len: usize) -> Micros {
        self.radio().time_on_air_us(len)
    }

    /// The region's default duty-cycle limit.
    pub fn duty_limit(&self) -> DutyLimit {
        self.region.default_duty_limit()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// A plan name that is not in the table.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown LoRa plan {name:?}; known plans: US915.a/.b/.c, AU915.a/.b, EU868.a/.b/.c, EU433.a, E22-868")]
pub struct UnknownPlan {
    /// The name that was asked for.
    pub name: String,
}

impl FromStr for Plan {
    type Err = UnknownPlan;

    fn from_str(s: &str) -> Result<Plan, UnknownPlan> {
        Plan::by_name(s).ok_or_else(|| UnknownPlan { name: s.to_owned() })
    }
}
