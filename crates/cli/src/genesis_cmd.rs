//! `credex genesis new | add-validator | add-observer | add-issuer`: build a
//! genesis file step by step from key files.

use std::path::Path;

use anyhow::Context as _;
use credex_types::chain::Names;
use credex_types::genesis::{Genesis, GenesisValidator, Issuer, Observer};
use credex_types::labels::LabelTable;
use credex_types::{AttestationKind, ChainId, Jurisdiction, Timestamp};

use credex_api_types::keyfile::KeyFile;

/// Parses `zh|ru|en`.
pub(crate) fn parse_names(s: &str) -> anyhow::Result<Names> {
    let parts: Vec<&str> = s.split('|').collect();
    match parts.as_slice() {
        [zh, ru, en] if !zh.is_empty() && !ru.is_empty() && !en.is_empty() => {
            Ok(Names { zh: zh.to_string(), ru: ru.to_string(), en: en.to_string() })
        }
        _ => anyhow::bail!("--names must be \"中文|Русский|English\", three non-empty parts"),
    }
}

/// The libp2p peer id of a key file's key.
pub(crate) fn peer_id_of(file: &Path) -> anyhow::Result<String> {
    let (_, key) = KeyFile::read(file)?;
    Ok(credex_types::access::ed25519_peer_id(&key.public()))
}

fn load(path: &Path) -> anyhow::Result<Genesis> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Genesis::parse_toml(&text)?)
}

fn save(path: &Path, g: &Genesis) -> anyhow::Result<()> {
    std::fs::write(path, g.to_toml()).with_context(|| format!("writing {}", path.display()))
}

/// Writes an empty genesis (no validators yet).
pub(crate) fn new(out: &Path, chain_id: ChainId, time: Timestamp) -> anyhow::Result<()> {
    anyhow::ensure!(!out.exists(), "{} exists; refusing to overwrite a genesis", out.display());
    let g = Genesis {
        chain_id,
        genesis_time: time,
        labels_hash: LabelTable::builtin().hash(),
        validators: vec![],
        observers: vec![],
        issuers: vec![],
    };
    save(out, &g)
}

/// Appends a validator.
pub(crate) fn add_validator(
    path: &Path,
    key: &Path,
    p2p_key: &Path,
    names: Names,
    jurisdiction: Jurisdiction,
    power: u64,
) -> anyhow::Result<()> {
    let mut g = load(path)?;
    let (kf, k) = KeyFile::read(key)?;
    g.validators.push(GenesisValidator {
        agency: kf.agency,
        names,
        jurisdiction,
        key: k.public(),
        power,
        peer_id: Some(peer_id_of(p2p_key)?),
    });
    g.validator_set().check()?;
    save(path, &g)
}

/// Appends an observer.
pub(crate) fn add_observer(
    path: &Path,
    p2p_key: &Path,
    names: Names,
    jurisdiction: Jurisdiction,
) -> anyhow::Result<()> {
    let mut g = load(path)?;
    let (kf, _) = KeyFile::read(p2p_key)?;
    let peer_id = peer_id_of(p2p_key)?;
    anyhow::ensure!(!g.observers.iter().any(|o| o.peer_id == peer_id), "observer {peer_id} already listed");
    g.observers.push(Observer { agency: kf.agency, names, jurisdiction, peer_id });
    save(path, &g)
}

/// Appends an issuer.
pub(crate) fn add_issuer(
    path: &Path,
    key: &Path,
    names: Names,
    jurisdiction: Jurisdiction,
    kinds: Vec<AttestationKind>,
) -> anyhow::Result<()> {
    let mut g = load(path)?;
    let (kf, k) = KeyFile::read(key)?;
    anyhow::ensure!(g.issuer(&kf.agency).is_none(), "issuer {} already listed", kf.agency);
    g.issuers.push(Issuer { agency: kf.agency, names, jurisdiction, key: k.public(), kinds });
    save(path, &g)
}
