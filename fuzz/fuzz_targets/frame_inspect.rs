//! CRC-32 unframing and the packet inspector (which tries every interpretation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lichen::wire::frame;
use lichen::wire::inspect::{inspect, Context};

fuzz_target!(|data: &[u8]| {
    let _ = frame::unframe(data);
    let _ = inspect(&Context::default(), data);
});
