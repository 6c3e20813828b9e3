//! The Malachite `Context` for credex: heights, block-id values, validator
//! indices as addresses, our votes and proposals, our signature scheme.

use core::fmt;

use credex_crypto::{Hash32, PublicKey};
use malachite_types::{self as mt, Context, NilOrVal, Round, SignedExtension, VoteType};

/// Block height.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl mt::Height for Height {
    const ZERO: Self = Height(0);
    const INITIAL: Self = Height(1);
    fn increment_by(&self, n: u64) -> Self {
        Height(self.0.saturating_add(n))
    }
    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }
    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator's index in the set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Addr(pub u16);

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

impl mt::Address for Addr {}

/// The value consensus decides: a block id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BlockValue(pub Hash32);

impl mt::Value for BlockValue {
    type Id = Hash32;
    fn id(&self) -> Hash32 {
        self.0
    }
}

/// A proposal for a block at a height and round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// Block id.
    pub value: BlockValue,
    /// Proof-of-lock round.
    pub pol_round: Round,
    /// Proposer.
    pub proposer: Addr,
}

impl mt::Proposal<Ctx> for Proposal {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &BlockValue {
        &self.value
    }
    fn take_value(self) -> BlockValue {
        self.value
    }
    fn pol_round(&self) -> Round {
        self.pol_round
    }
    fn validator_address(&self) -> &Addr {
        &self.proposer
    }
}

/// Proposal parts are not streamed: the whole block travels with the proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoParts;

impl mt::ProposalPart<Ctx> for NoParts {
    fn is_first(&self) -> bool {
        true
    }
    fn is_last(&self) -> bool {
        true
    }
}

/// A vote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vote {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// Block id or nil.
    pub value: NilOrVal<Hash32>,
    /// Prevote or precommit.
    pub kind: VoteType,
    /// Voter.
    pub validator: Addr,
    /// Never used (vote extensions are off).
    pub extension: Option<SignedExtension<Ctx>>,
}

impl mt::Vote<Ctx> for Vote {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &NilOrVal<Hash32> {
        &self.value
    }
    fn take_value(self) -> NilOrVal<Hash32> {
        self.value
    }
    fn vote_type(&self) -> VoteType {
        self.kind
    }
    fn validator_address(&self) -> &Addr {
        &self.validator
    }
    fn extension(&self) -> Option<&SignedExtension<Ctx>> {
        self.extension.as_ref()
    }
    fn take_extension(&mut self) -> Option<SignedExtension<Ctx>> {
        self.extension.take()
    }
    fn extend(self, extension: SignedExtension<Ctx>) -> Self {
        Vote { extension: Some(extension), ..self }
    }
}

/// A validator as consensus sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    /// Index.
    pub address: Addr,
    /// Consensus key.
    pub key: PublicKey,
    /// Power.
    pub power: u64,
}

impl mt::Validator<Ctx> for Validator {
    fn address(&self) -> &Addr {
        &self.address
    }
    fn public_key(&self) -> &PublicKey {
        &self.key
    }
    fn voting_power(&self) -> u64 {
        self.power
    }
}

/// The validator set, indexed by position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet(pub Vec<Validator>);

impl ValidatorSet {
    /// From the credex validator set.
    pub fn from_set(set: &credex_types::ValidatorSet) -> Self {
        ValidatorSet(
            set.validators
                .iter()
                .enumerate()
                .map(|(i, v)| Validator {
                    address: Addr(u16::try_from(i).unwrap_or(u16::MAX)),
                    key: v.key,
                    power: v.power,
                })
                .collect(),
        )
    }
}

impl mt::ValidatorSet<Ctx> for ValidatorSet {
    fn count(&self) -> usize {
        self.0.len()
    }
    fn total_voting_power(&self) -> u64 {
        self.0.iter().map(|v| v.power).sum()
    }
    fn get_by_address(&self, address: &Addr) -> Option<&Validator> {
        self.0.get(usize::from(address.0))
    }
    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.0.get(index)
    }
}

/// An Ed25519 signature with the ordering Malachite wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sig(pub credex_crypto::Signature);

impl PartialOrd for Sig {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Sig {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.0.0.cmp(&other.0.0)
    }
}

/// A seed, for Malachite's (unused) private-key slot.
#[derive(Clone)]
pub struct Seed(pub [u8; 32]);

/// The credex signature scheme (rule `credex-ed25519-v1`, purpose tags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scheme;

impl mt::SigningScheme for Scheme {
    type DecodingError = String;
    type Signature = Sig;
    type PublicKey = PublicKey;
    type PrivateKey = Seed;

    fn decode_signature(bytes: &[u8]) -> Result<Sig, String> {
        let b: [u8; 64] = bytes.try_into().map_err(|_| "signature must be 64 bytes".to_string())?;
        Ok(Sig(credex_crypto::Signature(b)))
    }
    fn encode_signature(signature: &Sig) -> Vec<u8> {
        signature.0.0.to_vec()
    }
    fn decode_public_key(bytes: &[u8]) -> Result<PublicKey, String> {
        let b: [u8; 32] = bytes.try_into().map_err(|_| "public key must be 32 bytes".to_string())?;
        PublicKey::from_bytes(b).map_err(|e| e.to_string())
    }
    fn encode_public_key(public_key: &PublicKey) -> Vec<u8> {
        public_key.to_bytes().to_vec()
    }
}

/// The context.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ctx;

impl Context for Ctx {
    type Address = Addr;
    type Height = Height;
    type ProposalPart = NoParts;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = mt::LinearTimeouts;
    type Value = BlockValue;
    type Vote = Vote;
    type Extension = ();
    type SigningScheme = Scheme;

    /// Round robin weighted by voting power (spec §10.5): slot
    /// `(height + round) mod P`, `P` the total power, falls in the
    /// cumulative-power interval of exactly one validator, in index order.
    /// With equal powers this is validator `(height + round) mod n`.
    fn select_proposer<'a>(&self, set: &'a ValidatorSet, height: Height, round: Round) -> &'a Validator {
        let total: u64 = set.0.iter().fold(0u64, |a, v| a.saturating_add(v.power)).max(1);
        let r = u64::from(round.as_u32().unwrap_or(0));
        let slot = height.0.wrapping_add(r) % total;
        let mut upto = 0u64;
        for v in &set.0 {
            upto = upto.saturating_add(v.power);
            if slot < upto {
                return v;
            }
        }
        // Unreachable for a checked set (non-empty, powers ≥ 1): the last
        // interval ends at the total.
        &set.0[set.0.len().saturating_sub(1)]
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: BlockValue,
        pol_round: Round,
        address: Addr,
    ) -> Proposal {
        Proposal { height, round, value, pol_round, proposer: address }
    }

    fn new_prevote(&self, height: Height, round: Round, value: NilOrVal<Hash32>, address: Addr) -> Vote {
        Vote { height, round, value, kind: VoteType::Prevote, validator: address, extension: None }
    }

    fn new_precommit(&self, height: Height, round: Round, value: NilOrVal<Hash32>, address: Addr) -> Vote {
        Vote { height, round, value, kind: VoteType::Precommit, validator: address, extension: None }
    }
}
