#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| credex_fuzz::request_headers(data));
