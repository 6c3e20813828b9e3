//! Signatures with a torsion component in `R`, made with a real key: what
//! a hostile issuer or validator can craft. The offline rule
//! (`credex-ed25519-v1`, cofactored) accepts them; stock libraries that
//! check the cofactorless equation (OpenSSL, and libsodium for a
//! small-order `R`) reject them; the admission rule (spec §2.4) refuses
//! them, so none reaches the chain.

use credex_crypto::{Purpose, Signature, signing_input};
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest as _, Sha512};

/// Which torsion `R` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Torsion {
    /// `R` is a point of order 8 (`r = 0`).
    SmallOrderR,
    /// `R = [r]B + T` with `T` of order 8.
    MixedOrderR,
}

/// Signs `msg` for `purpose` with the key of `seed`, `R` carrying `t`.
pub fn sign(seed: [u8; 32], purpose: Purpose, msg: &[u8], t: Torsion) -> Signature {
    let h: [u8; 64] = Sha512::digest(seed).into();
    let mut lower = [0u8; 32];
    lower.copy_from_slice(&h[..32]);
    lower[0] &= 248;
    lower[31] &= 127;
    lower[31] |= 64;
    let a = Scalar::from_bytes_mod_order(lower);
    let public = (ED25519_BASEPOINT_POINT * a).compress();
    let input = signing_input(purpose, msg);
    let torsion = EIGHT_TORSION[1];
    let r = match t {
        Torsion::SmallOrderR => Scalar::ZERO,
        Torsion::MixedOrderR => {
            Scalar::from_bytes_mod_order_wide(&Sha512::digest([&h[32..], &input[..]].concat()).into())
        }
    };
    let big_r = (ED25519_BASEPOINT_POINT * r + torsion).compress();
    let k: [u8; 64] = Sha512::new()
        .chain_update(big_r.as_bytes())
        .chain_update(public.as_bytes())
        .chain_update(&input)
        .finalize()
        .into();
    let s = r + Scalar::from_bytes_mod_order_wide(&k) * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(big_r.as_bytes());
    sig[32..].copy_from_slice(s.as_bytes());
    Signature(sig)
}

/// The key of `seed` plus a point of order 8: a valid encoding, not of
/// small order (so `credex-ed25519-v1` takes it), but not in the
/// prime-order subgroup — the admission rule refuses to register it.
pub fn mixed_order_key(seed: [u8; 32]) -> credex_crypto::PublicKey {
    let p =
        curve25519_dalek::edwards::CompressedEdwardsY(credex_crypto::SecretKey::from_seed(seed).public().to_bytes())
            .decompress()
            .expect("a public key decodes");
    credex_crypto::PublicKey::from_bytes((p + EIGHT_TORSION[1]).compress().to_bytes())
        .expect("mixed order is not small order")
}
