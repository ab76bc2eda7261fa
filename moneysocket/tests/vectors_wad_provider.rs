//! RFC wad and provider-info vectors: wad 5 encode + 28 errors, provider
//! info 7 encode + 30 errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{sorted, At};
use moneysocket::error::{ProviderInfoError as P, WadError as W};
use moneysocket::provider_info::ProviderInfo;
use moneysocket::wad::Wad;

const WAD_ENCODE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vectors/moneysocket-rfc-03-wad-encode.json"
));
const WAD_ERRORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vectors/moneysocket-rfc-03-wad-decode-error.json"
));
const PI_ENCODE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vectors/moneysocket-rfc-03-provider-info-encode.json"
));
const PI_ERRORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vectors/moneysocket-rfc-03-provider-info-decode-error.json"
));

fn list(text: &str) -> Vec<moneysocket::json::Json> {
    common::load(text).as_array().unwrap().to_vec()
}

#[test]
fn wad_encode_vectors() {
    let vectors = list(WAD_ENCODE);
    assert_eq!(vectors.len(), 5);
    for v in &vectors {
        let name = v.s("test_name");
        let wad = Wad::from_json(v.at("wad")).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(wad.to_string(), v.s("string_fmt"), "{name}: display");
        assert_eq!(sorted(&wad.to_json()), sorted(v.at("wad")), "{name}: json");
        assert_eq!(
            sorted(&wad.to_json()).to_python_string(),
            sorted(v.at("wad")).to_python_string()
        );
    }
}

fn wad_matches(err: &W, text: &str) -> bool {
    match text {
        "no msat value given" => *err == W::Missing("msat"),
        "invalid type of msat value" => *err == W::WrongType("msat"),
        "no non_btc value given" => *err == W::Missing("non_btc"),
        "invald type of non_btc value" => *err == W::WrongType("non_btc"),
        "extra keys in wad_dict" => *err == W::ExtraKeys,
        "no units value given" => *err == W::Missing("units"),
        "units is not an integer or float" => *err == W::WrongType("units"),
        "no name value given" => *err == W::Missing("name"),
        "name value not string" => *err == W::WrongType("name"),
        "name value is empty string" => *err == W::Empty("name"),
        "rate_timestamp is not an integer or float" => *err == W::WrongType("rate_timestamp"),
        "rate_timestamp negative" => *err == W::Negative("rate_timestamp"),
        "iso_num is not an integer" => *err == W::WrongType("iso_num"),
        "iso_num is not positive" => *err == W::Negative("iso_num"),
        "iso_num without code" => *err == W::IsoNumWithoutCode,
        "code value with iso_num is not string" | "code value is not string" => {
            *err == W::WrongType("code")
        }
        "code value with iso_num is empty string" => *err == W::Empty("code"),
        "iso_num and code mismatch" => matches!(err, W::IsoMismatch { .. }),
        "code value not set" => *err == W::Missing("code"),
        "using non-standard code with iso_num assigned" => matches!(err, W::IsoCodeWithoutNum(_)),
        "code value longer than twelve characters" => *err == W::CodeTooLong,
        "code value less than three characters" => *err == W::CodeTooShort,
        "symbol value not set" => *err == W::Missing("symbol"),
        "symbol value not string type" => *err == W::WrongType("symbol"),
        "symbol value string too long" => *err == W::SymbolTooLong,
        "fmt_decimals not integer" => *err == W::WrongType("fmt_decimals"),
        "fmt_decimals negative value" => *err == W::Negative("fmt_decimals"),
        "fmt_decimals too large" => *err == W::DecimalsTooLarge,
        other => panic!("unmapped reference error {other:?}"),
    }
}

#[test]
fn wad_decode_error_vectors() {
    let vectors = list(WAD_ERRORS);
    assert_eq!(vectors.len(), 28);
    for v in &vectors {
        let name = v.s("test_name");
        let err = Wad::from_json(v.at("input")).expect_err(name);
        assert!(
            wad_matches(&err, v.s("decode_error")),
            "{name}: got {err:?}"
        );
    }
}

#[test]
fn provider_info_encode_vectors() {
    let vectors = list(PI_ENCODE);
    assert_eq!(vectors.len(), 7);
    for v in &vectors {
        let name = v.s("test_name");
        let input = v.at("provider_info");
        let info = ProviderInfo::from_json(input).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(sorted(&info.to_json()), sorted(input), "{name}");
    }
}

fn pi_matches(err: &P, text: &str) -> bool {
    if let Some(wad_text) = text.strip_prefix("invalid wad: ") {
        return matches!(err, P::Wad(w) if wad_matches(w, wad_text));
    }
    match text {
        "no account_uuid included" => *err == P::Missing("account_uuid"),
        "account_uuid type is not a string" => *err == P::WrongType("account_uuid"),
        "invalid account_uuid" => *err == P::InvalidUuid,
        "account_uuid is not uuid version 4" => *err == P::UuidNotV4,
        "wad value not included" => *err == P::Missing("wad"),
        "wad value not an object" => *err == P::WrongType("wad"),
        "no payee setting included" => *err == P::Missing("payee"),
        "payee must be boolean type" => *err == P::WrongType("payee"),
        "no payer setting included" => *err == P::Missing("payer"),
        "payer must be boolean type" => *err == P::WrongType("payer"),
        "features value not included" => *err == P::Missing("features"),
        "features value must be a list" => *err == P::WrongType("features"),
        "features list entry not a string" => *err == P::WrongType("features entry"),
        "feature_data for undeclared feature" => matches!(err, P::UndeclaredFeature(_)),
        "feature_data value is null" => matches!(err, P::NullFeatureData(_)),
        "public_keys value not included" => *err == P::Missing("public_keys"),
        "public_keys value not object type" => *err == P::WrongType("public_keys"),
        "public key not interpretable as bytes" => matches!(err, P::KeyNotHex(_)),
        "public key info value not object type" => *err == P::WrongType("public key info"),
        "curve of public key not specified" => *err == P::Missing("curve"),
        "curve value not a string" => *err == P::WrongType("curve"),
        "curve value is an empty string" => *err == P::Empty("curve"),
        "friendly_name value is not a string" => *err == P::WrongType("friendly_name"),
        "friendly_name value is empty string" => *err == P::Empty("friendly_name"),
        "friendly_name string is longer than 64 chars" => *err == P::FriendlyNameTooLong,
        "features list not included in object" => *err == P::Missing("public key features"),
        "features value not an array" => *err == P::WrongType("public key features"),
        "feature string not a string" => *err == P::WrongType("public key feature"),
        "feature string an empty string" => *err == P::Empty("public key feature"),
        other => panic!("unmapped reference error {other:?}"),
    }
}

#[test]
fn provider_info_decode_error_vectors() {
    let vectors = list(PI_ERRORS);
    assert_eq!(vectors.len(), 30);
    for v in &vectors {
        let name = v.s("test_name");
        let err = ProviderInfo::from_json(v.at("input")).expect_err(name);
        assert!(pi_matches(&err, v.s("decode_error")), "{name}: got {err:?}");
    }
}
