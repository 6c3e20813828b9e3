#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| credex_fuzz::consensus_gossip(data));
