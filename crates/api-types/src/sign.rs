//! Request signing (spec §12.1): the four credential headers and the
//! statement their signature covers. The one definition, used by the
//! CLI, the node (which re-derives the statement to verify it), the web
//! UI's contract (`sign.js` follows it; the vectors pin it) and the tests.

use credex_crypto::Hash32;
use credex_types::Timestamp;
use credex_types::access::{Audience, SignedRequest};

/// The caller's id: a clients.toml client id, an issuer agency id or a subject id.
pub const CLIENT: &str = "X-Credex-Client";
/// Milliseconds since the epoch when the request was signed.
pub const TIME: &str = "X-Credex-Time";
/// 32 hex digits, never reused within the skew window.
pub const NONCE: &str = "X-Credex-Nonce";
/// Ed25519 (purpose request) over `H("credex/request/v2", encode(SignedRequest))`.
pub const SIGNATURE: &str = "X-Credex-Signature";

/// The statement a request signature covers (spec §12.1).
pub fn signed_request(
    audience: Audience,
    client: &str,
    method: &str,
    path: &str,
    body: &[u8],
    time: Timestamp,
    nonce: [u8; 16],
) -> SignedRequest {
    SignedRequest {
        audience,
        client: client.to_string(),
        method: method.to_string(),
        path: path.to_string(),
        body: Hash32::sha256(&[body]),
        time,
        nonce,
    }
}

/// The four headers of a request `method path body` for `audience`, signed
/// by `client` with `key` at `now` (a fresh random nonce).
pub fn sign_headers(
    audience: &Audience,
    client: &str,
    key: &credex_crypto::SecretKey,
    method: &str,
    path: &str,
    body: &[u8],
    now: Timestamp,
) -> Result<[(&'static str, String); 4], crate::FileError> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| crate::FileError::Randomness(e.to_string()))?;
    let req = signed_request(audience.clone(), client, method, path, body, now, nonce);
    Ok([
        (CLIENT, client.to_string()),
        (TIME, now.0.to_string()),
        (NONCE, hex::encode(nonce)),
        (SIGNATURE, req.sign(key).to_string()),
    ])
}
