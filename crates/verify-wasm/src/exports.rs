//! The module's exports (see the crate documentation for the interface).
//!
//! No unsafe operation happens here: the input and output are `Vec`s owned
//! by this module, whose addresses are handed to the page (obtaining a
//! pointer is safe; the page writes and reads the module's memory itself).
//! The only unsafe item is the `no_mangle` attribute that exports a symbol.

use std::sync::Mutex;

use crate::{MAX_REQUEST, verify_json};

static INPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static OUTPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

fn lock(m: &'static Mutex<Vec<u8>>) -> std::sync::MutexGuard<'static, Vec<u8>> {
    // one thread in a browser module; a poisoned lock still holds a Vec
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Makes the input buffer `len` bytes long (zeroed) and returns its
/// address; 0 if `len` exceeds [`MAX_REQUEST`].
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn credex_input(len: usize) -> *mut u8 {
    if len > MAX_REQUEST {
        return std::ptr::null_mut();
    }
    let mut input = lock(&INPUT);
    input.clear();
    input.resize(len, 0);
    input.as_mut_ptr()
}

/// Verifies the input (`request_len` bytes of request JSON, then
/// `proof_len` bytes of proof); returns the exit code and leaves the
/// answer's JSON as the output.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn credex_verify(request_len: usize, proof_len: usize) -> u32 {
    let input = lock(&INPUT);
    let answer = match request_len.checked_add(proof_len).filter(|&n| n == input.len()) {
        Some(_) => {
            let (request, proof) = input.split_at(request_len);
            verify_json(request, proof)
        }
        None => crate::Answer {
            exit_code: credex_verify::EXIT_UNCHECKED,
            text: format!("the input holds {} bytes, not the {request_len} + {proof_len} announced\n", input.len()),
            answer: None,
            genesis: None,
        },
    };
    let json = serde_json::to_vec(&answer).unwrap_or_else(|e| {
        format!("{{\"exit_code\":3,\"text\":\"cannot encode the answer: {e}\",\"answer\":null,\"genesis\":null}}")
            .into_bytes()
    });
    *lock(&OUTPUT) = json;
    u32::from(answer.exit_code)
}

/// The address of the last answer's JSON.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn credex_output() -> *const u8 {
    lock(&OUTPUT).as_ptr()
}

/// The length in bytes of the last answer's JSON.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn credex_output_len() -> usize {
    lock(&OUTPUT).len()
}
