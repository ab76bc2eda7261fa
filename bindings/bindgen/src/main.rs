//! `uniffi-bindgen generate <liblichen_ffi.so> --language kotlin|swift|python --out-dir DIR`.
fn main() {
    uniffi::uniffi_bindgen_main()
}
