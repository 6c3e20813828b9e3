//! SplitMix64: a small, fast, seedable generator (Steele, Lea, Flood 2014).
//! Every random choice of a run comes from one of these, so a seed replays
//! the run exactly.

/// The generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (`lo` if the range is empty).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo { lo } else { lo + self.next_u64() % (hi - lo + 1) }
    }

    /// Uniform index below `len` (0 if `len` is 0).
    #[allow(clippy::cast_possible_truncation)] // the remainder is below `len`, a usize
    pub fn index(&mut self, len: usize) -> usize {
        if len == 0 { 0 } else { (self.next_u64() % len as u64) as usize }
    }

    /// Uniform validator index below `n` (0 if `n` is 0).
    #[allow(clippy::cast_possible_truncation)] // the remainder is below `n`, a u16
    pub fn validator(&mut self, n: u16) -> u16 {
        if n == 0 { 0 } else { (self.next_u64() % u64::from(n)) as u16 }
    }

    /// Uniform in `0..=max`.
    #[allow(clippy::cast_possible_truncation)] // at most `max`, a u32
    pub fn up_to(&mut self, max: u32) -> u32 {
        (self.next_u64() % (u64::from(max) + 1)) as u32
    }

    /// True with probability `permille` / 1000.
    pub fn chance(&mut self, permille: u32) -> bool {
        self.next_u64() % 1000 < u64::from(permille)
    }

    /// A generator split off for an independent stream.
    pub fn fork(&mut self) -> Rng {
        Rng(self.next_u64())
    }
}
