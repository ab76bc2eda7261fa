//! Time on air by the Semtech formula, and the deployed ESP32 scheduler's pacing (the
//! reference a Lichen LoRa face is compared with).

use rand_core::RngCore;

use super::*;

/// LoRa spreading factor. SF5/SF6 (SX126x only, with a different preamble rule) are left out:
/// no tinySSB or Meshtastic plan uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpreadingFactor {
    /// SF7, the tinySSB default.
    Sf7,
    /// SF8.
    Sf8,
    /// SF9 (the E22-868 plan).
    Sf9,
    /// SF10.
    Sf10,
    /// SF11 (Meshtastic's LongFast).
    Sf11,
    /// SF12.
    Sf12,
}

impl SpreadingFactor {
    /// All spreading factors, smallest first.
    pub const ALL: [SpreadingFactor; 6] = [
        SpreadingFactor::Sf7,
        SpreadingFactor::Sf8,
        SpreadingFactor::Sf9,
        SpreadingFactor::Sf10,
        SpreadingFactor::Sf11,
        SpreadingFactor::Sf12,
    ];

    /// The number, 7..=12.
    pub fn value(self) -> u8 {
        match self {
            SpreadingFactor::Sf7 => 7,
            SpreadingFactor::Sf8 => 8,
            SpreadingFactor::Sf9 => 9,
            SpreadingFactor::Sf10 => 10,
            SpreadingFactor::Sf11 => 11,
            SpreadingFactor::Sf12 => 12,
        }
    }

    /// The spreading factor with this number, if it is one of 7..=12.
    pub fn from_value(sf: u8) -> Option<SpreadingFactor> {
        SpreadingFactor::ALL.into_iter().find(|s| s.value() == sf)
    }
}

/// LoRa channel bandwidth. Only the three the plans use; narrower ones are not modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bandwidth {
    /// 125 kHz.
    Khz125,
    /// 250 kHz.
    Khz250,
    /// 500 kHz.
    Khz500,
}

impl Bandwidth {
    /// All bandwidths, narrowest first.
    pub const ALL: [Bandwidth; 3] = [Bandwidth::Khz125, Bandwidth::Khz250, Bandwidth::Khz500];

    /// The bandwidth in hertz.
    pub fn hz(self) -> u32 {
        match self {
            Bandwidth::Khz125 => 125_000,
            Bandwidth::Khz250 => 250_000,
            Bandwidth::Khz500 => 500_000,
        }
    }
}

/// LoRa forward-error-correction coding rate 4/5 ..= 4/8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CodingRate {
    /// 4/5 (firmware value 5), the tinySSB default.
    Cr4_5,
    /// 4/6.
    Cr4_6,
    /// 4/7 (the E22-868 plan).
    Cr4_7,
    /// 4/8.
    Cr4_8,
}

impl CodingRate {
    /// All coding rates, lightest first.
    pub const ALL: [CodingRate; 4] = [
        CodingRate::Cr4_5,
        CodingRate::Cr4_6,
        CodingRate::Cr4_7,
        CodingRate::Cr4_8,
    ];

    /// The denominator, 5..=8 (how the firmware's plan table writes it).
    pub fn denominator(self) -> u8 {
        match self {
            CodingRate::Cr4_5 => 5,
            CodingRate::Cr4_6 => 6,
            CodingRate::Cr4_7 => 7,
            CodingRate::Cr4_8 => 8,
        }
    }

    /// The coding rate with this denominator, if it is one of 5..=8.
    pub fn from_denominator(d: u8) -> Option<CodingRate> {
        CodingRate::ALL.into_iter().find(|c| c.denominator() == d)
    }
}

/// Spreading factor, bandwidth and coding rate: what sets the symbol rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Modulation {
    /// Spreading factor.
    pub sf: SpreadingFactor,
    /// Channel bandwidth.
    pub bandwidth: Bandwidth,
    /// Coding rate.
    pub coding_rate: CodingRate,
}

impl Modulation {
    /// Duration of one symbol, `2^SF / BW`, in nanoseconds (exact for the three bandwidths).
    pub fn symbol_time_ns(&self) -> u64 {
        (1u64 << self.sf.value()) * 1_000_000_000 / u64::from(self.bandwidth.hz())
    }

    /// Whether Semtech requires low-data-rate optimisation: symbol time above 16 ms, i.e.
    /// SF11 and SF12 at 125 kHz, and SF12 at 250 kHz (16.384 ms).
    pub fn needs_low_data_rate(&self) -> bool {
        self.symbol_time_ns() > LDRO_SYMBOL_THRESHOLD_US * 1000
    }
}

/// Whether the radio runs with low-data-rate optimisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LowDataRate {
    /// On exactly when the symbol time exceeds 16 ms (RadioLib's and the firmware's rule).
    Auto,
    /// Forced on.
    On,
    /// Forced off.
    Off,
}

/// Everything the time-on-air formula needs besides the payload length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RadioParams {
    /// Spreading factor, bandwidth, coding rate.
    pub modulation: Modulation,
    /// Preamble length in symbols (the radio adds 4.25 symbols of sync on top).
    pub preamble_len: u16,
    /// Explicit (variable-length) header.
    pub explicit_header: bool,
    /// Radio hardware payload CRC (2 bytes on air).
    pub crc: bool,
    /// Low-data-rate optimisation.
    pub low_data_rate: LowDataRate,
}

impl RadioParams {
    /// The settings of a tinySSB dongle: preamble 8, explicit header, **hardware CRC off**
    /// (the frame carries its own CRC-32, spec §6.2), low-data-rate optimisation automatic.
    pub fn tinyssb(modulation: Modulation) -> RadioParams {
        RadioParams {
            modulation,
            preamble_len: TINYSSB_PREAMBLE,
            explicit_header: true,
            crc: false,
            low_data_rate: LowDataRate::Auto,
        }
    }

    /// Whether low-data-rate optimisation is on with these settings.
    pub fn low_data_rate_on(&self) -> bool {
        match self.low_data_rate {
            LowDataRate::Auto => self.modulation.needs_low_data_rate(),
            LowDataRate::On => true,
            LowDataRate::Off => false,
        }
    }

    /// Symbols after the preamble for a payload of `len` bytes (Semtech's `n_payload`):
    /// `8 + max(ceil((8·PL − 4·SF + 28 + 16·CRC − 20·IH) / (4·(SF − 2·DE))) · (CR + 4), 0)`
    /// with `IH` = 1 for an implicit header and `DE` = 1 with low-data-rate optimisation.
    pub fn payload_symbols(&self, len: usize) -> u64 {
        let sf = i64::from(self.modulation.sf.value());
        // Lengths far beyond any radio are clamped so the arithmetic cannot overflow.
        let pl = i64::try_from(len.min(1 << 40)).unwrap_or(1 << 40);
        let crc = i64::from(self.crc);
        let ih = i64::from(!self.explicit_header);
        let de = i64::from(self.low_data_rate_on());
        let num = 8 * pl - 4 * sf + 28 + 16 * crc - 20 * ih;
        let den = 4 * (sf - 2 * de); // sf >= 7, so den >= 20
        let blocks = if num > 0 { (num + den - 1) / den } else { 0 };
        let cr_plus_4 = i64::from(self.modulation.coding_rate.denominator());
        // Non-negative by construction.
        (8 + blocks * cr_plus_4).unsigned_abs()
    }

    /// Time on air of a `len`-byte payload in nanoseconds: `(preamble + 4.25 + n_payload) ·
    /// T_sym`. Saturates for absurd lengths instead of overflowing.
    pub fn time_on_air_ns(&self, len: usize) -> u64 {
        // Count in quarter symbols so the 4.25 stays an integer.
        let quarters =
            4 * u128::from(self.preamble_len) + 17 + 4 * u128::from(self.payload_symbols(len));
        let ns = quarters * u128::from(self.modulation.symbol_time_ns()) / 4;
        u64::try_from(ns).unwrap_or(u64::MAX)
    }

    /// Time on air in microseconds, rounded up (exact for 125/250/500 kHz).
    pub fn time_on_air_us(&self, len: usize) -> Micros {
        self.time_on_air_ns(len).div_ceil(1000)
    }

    /// Time on air in milliseconds as a float, for display and for comparing with figures.
    pub fn time_on_air_ms(&self, len: usize) -> f64 {
        self.time_on_air_ns(len) as f64 / 1e6
    }
}

/// Total airtime of sending `frame_lens` back to back: the lower bound on the time any
/// schedule needs on one channel, whatever its pacing (the benchmarks compare against it).
pub fn total_airtime_us(
    radio: &RadioParams,
    frame_lens: impl IntoIterator<Item = usize>,
) -> Micros {
    frame_lens.into_iter().fold(0u64, |acc, len| {
        acc.saturating_add(radio.time_on_air_us(len))
    })
}

/// Lower bound on the wall-clock time to put `airtime` on air under a duty-cycle `limit`
/// measured over `window`: every window holds at most `budget` of airtime, so after the first
/// `k − 1` full windows (`k = ⌈airtime / budget⌉`) the rest still needs its own airtime.
/// Equals `airtime` when there is no limit or it fits in one window.
pub fn duty_limited_lower_bound_us(airtime: Micros, limit: DutyLimit, window: Millis) -> Micros {
    let Some(budget) = limit.budget_us(window) else {
        return airtime;
    };
    if budget == 0 || airtime <= budget {
        return airtime;
    }
    let full_windows = airtime.div_ceil(budget) - 1;
    let rest = airtime - full_windows * budget;
    full_windows
        .saturating_mul(window.saturating_mul(1000))
        .saturating_add(rest)
}

/// Base gap between two ESP32 scheduler slots: `1000 / SCHED_PPS` with `SCHED_PPS` = 4.
pub const ESP32_SLOT_BASE_MS: Millis = 250;
/// The ESP32 adds `esp_random() % 300` to every slot gap.
pub const ESP32_SLOT_JITTER_MS: u32 = 300;

/// Gap to the next slot of the deployed ESP32 scheduler (`SchedClass::tick` in
/// `loramesh/src/lib/sched.cpp`): `250 ms + rand % 300`, i.e. 250..=549 ms, mean 399.5 ms.
/// Nominally "4 slots per second", in practice about 2.5. Each slot sends at most one packet
/// (a queued one, or the GOset/peer/WANT/CHNK probe whose turn it is), so this is the
/// **reference pacing** a Lichen LoRa face is compared with. It knows nothing of duty cycle.
pub fn esp32_slot_gap(rng: &mut impl RngCore) -> Millis {
    ESP32_SLOT_BASE_MS + Millis::from(rng.next_u32() % ESP32_SLOT_JITTER_MS)
}
