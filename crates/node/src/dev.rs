//! `credex dev`: the embedded single-validator chain. On first start it
//! writes `DIR/genesis.toml` and development keys under `DIR/keys/`; later
//! starts with the same DIR resume the same chain.

use std::path::Path;

use anyhow::Context as _;
use credex_crypto::SecretKey;
use credex_types::Timestamp;
use credex_types::demo;
use credex_types::genesis::{Genesis, GenesisValidator, Issuer};
use credex_types::labels::LabelTable;

use credex_api_types::{Client, Clients, DEV_WARNING, KeyFile};

/// The prefix of a dev chain's id: each `credex dev` data directory gets
/// `credex-dev-<8 random hex digits>` at its first start, so a request or
/// attestation signed for one dev chain is void on every other.
pub const DEV_CHAIN_ID: &str = "credex-dev";

/// The dev chain's API clients: a customs official and a cross-border
/// e-commerce platform, with insecure development keys (`keys/official.json`,
/// `keys/platform.json`) registered in `clients.toml`; created if missing.
fn ensure_clients(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join("clients.toml");
    if path.exists() {
        return Ok(());
    }
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).with_context(|| format!("creating {}", keys.display()))?;
    let mut clients = Clients::default();
    for (file, id, role, agency) in [
        ("official.json", "sfh-customs-official", "official", "cn-sfh-customs"),
        ("platform.json", "sfh-cbec-platform", "platform", "cn-sfh-cbec"),
    ] {
        let (mut kf, key) = KeyFile::generate(agency.parse()?, role, Some(DEV_WARNING))?;
        kf.client = Some(id.to_string());
        kf.write(&keys.join(file))?;
        clients.clients.push(Client {
            id: id.to_string(),
            role: role.parse().map_err(|e: String| anyhow::anyhow!(e))?,
            agency: agency.parse()?,
            key: key.public(),
        });
    }
    Ok(clients.write(&path)?)
}

/// Loads the dev chain in `dir`, creating it on first use.
pub fn init_or_load(dir: &Path, now: Timestamp) -> anyhow::Result<(Genesis, SecretKey)> {
    let genesis_path = dir.join("genesis.toml");
    let keys = dir.join("keys");
    ensure_clients(dir)?;
    if genesis_path.exists() {
        let text =
            std::fs::read_to_string(&genesis_path).with_context(|| format!("reading {}", genesis_path.display()))?;
        let genesis = Genesis::from_toml(&text).with_context(|| format!("genesis {}", genesis_path.display()))?;
        let (_, key) = KeyFile::read(&keys.join("validator.json"))?;
        anyhow::ensure!(
            genesis.validators.first().is_some_and(|v| v.key == key.public()),
            "{}: keys/validator.json is not the genesis validator",
            dir.display()
        );
        return Ok((genesis, key));
    }
    std::fs::create_dir_all(&keys).with_context(|| format!("creating {}", keys.display()))?;
    let validator = demo::VALIDATORS.first().ok_or_else(|| anyhow::anyhow!("the demo roster has no validator"))?;
    let (vfile, vkey) = KeyFile::generate(validator.agency.parse()?, "validator", Some(DEV_WARNING))?;
    vfile.write(&keys.join("validator.json"))?;
    let mut issuers = Vec::new();
    for (a, kinds) in demo::ISSUERS {
        let (file, key) = KeyFile::generate(a.agency.parse()?, "issuer", Some(DEV_WARNING))?;
        file.write(&keys.join(format!("{}.json", a.agency)))?;
        issuers.push(Issuer {
            agency: a.agency.parse()?,
            names: a.names(),
            jurisdiction: a.jurisdiction.parse()?,
            key: key.public(),
            kinds: kinds.to_vec(),
        });
    }
    let genesis = Genesis {
        chain_id: {
            let mut r = [0u8; 4];
            getrandom::fill(&mut r).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            format!("{DEV_CHAIN_ID}-{}", hex::encode(r)).parse()?
        },
        genesis_time: now,
        labels_hash: LabelTable::builtin().hash(),
        validators: vec![GenesisValidator {
            agency: validator.agency.parse()?,
            names: validator.names(),
            jurisdiction: validator.jurisdiction.parse()?,
            key: vkey.public(),
            power: 1,
            peer_id: None,
        }],
        observers: vec![],
        issuers,
    };
    genesis.check()?;
    let text = format!(
        "# credex development chain: one validator, demo issuers.\n# Its keys under keys/ are {DEV_WARNING}.\n\n{}",
        genesis.to_toml()
    );
    std::fs::write(&genesis_path, text).with_context(|| format!("writing {}", genesis_path.display()))?;
    Ok((genesis, vkey))
}
