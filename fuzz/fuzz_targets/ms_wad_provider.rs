//! Fuzz the wad and provider-info decoders; what decodes must survive a
//! JSON round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moneysocket::json::Json;
use moneysocket::provider_info::ProviderInfo;
use moneysocket::wad::Wad;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = Json::parse(data) else {
        return;
    };
    if let Ok(wad) = Wad::from_json(&json) {
        let _ = wad.to_string();
        let text = wad.to_json().to_python_string();
        let back = Json::parse(text.as_bytes()).expect("own output parses");
        assert_eq!(Wad::from_json(&back).expect("re-decodes"), wad);
    }
    if let Ok(info) = ProviderInfo::from_json(&json) {
        let text = info.to_json().to_python_string();
        let back = Json::parse(text.as_bytes()).expect("own output parses");
        assert_eq!(ProviderInfo::from_json(&back).expect("re-decodes"), info);
    }
});
