//! Lifecycle commands (spec §11): subject keys and acts, cases, profiles,
//! grades, governance, early warning — all through a node's HTTP API.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use credex_chain::Transaction;
use credex_crypto::Hash32;
use credex_types::labels::Lang;
use credex_types::lifecycle::{
    ActBody, CaseId, GovAction, GovProposal, GovernanceTx, SubjectAct, SubjectKeyBinding, SubjectName,
};
use credex_types::{AgencyId, AttestationId, AttestationKind, ListKind, SubjectId, Timestamp};
use serde_json::{Value, json};

use crate::issuer_cmd::AttestArgs;
use credex_api_types::client::Client;
use credex_api_types::keyfile::{KeyFile, SubjectKeyFile};
use credex_api_types::types;

fn nonce() -> anyhow::Result<[u8; 16]> {
    let mut n = [0u8; 16];
    getrandom::fill(&mut n).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(n)
}

/// SHA-256 of a document (commitment text, application, grounds).
pub(crate) fn document_hash(path: &Path) -> anyhow::Result<Hash32> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Hash32::sha256(&[&bytes]))
}

/// How a bound key is replaced (spec §11.3).
pub(crate) enum Rebind<'a> {
    /// A first binding.
    First,
    /// The subject consents with its current key file.
    Consent(&'a Path),
    /// The key was lost: the registrar's recorded decision on this legal basis.
    Recovery(credex_types::LegalBasis),
}

/// `credex bind-key`: the registrar binds a subject's key (both sign; a
/// replacement also needs the old key's consent or a recovery basis).
pub(crate) fn bind_key(
    client: &Client,
    registrar: &Path,
    subject_key: &Path,
    rebind: Rebind<'_>,
    wait: bool,
) -> anyhow::Result<Value> {
    let (rfile, rkey) = KeyFile::read(registrar)?;
    let (sfile, skey) = SubjectKeyFile::read(subject_key)?;
    let mut tx = SubjectKeyBinding {
        chain_id: client.chain_id()?,
        subject: sfile.subject.clone(),
        key: skey.public(),
        registrar: rfile.agency,
        nonce: nonce()?,
        recovery: match &rebind {
            Rebind::Recovery(b) => Some(b.clone()),
            _ => None,
        },
    }
    .sign(&rkey, &skey);
    if let Rebind::Consent(old) = rebind {
        let (ofile, okey) = SubjectKeyFile::read(old)?;
        anyhow::ensure!(
            ofile.subject == sfile.subject,
            "{}: a key of {}, not {}",
            old.display(),
            ofile.subject,
            sfile.subject
        );
        tx = tx.with_consent(&okey);
    }
    let mut v = serde_json::to_value(crate::issuer_cmd::submit_tx(client, &Transaction::SubjectKey(tx), wait)?)?;
    v["subject"] = json!(sfile.subject);
    Ok(v)
}

/// `credex name`: the registrar publishes a legal entity's registered name
/// (spec §11.10), checked here first so a refusal needs no round trip.
pub(crate) fn publish_name(
    client: &Client,
    registrar: &Path,
    subject: SubjectId,
    name: String,
    latin: Option<String>,
    wait: bool,
) -> anyhow::Result<Value> {
    let (rfile, rkey) = KeyFile::read(registrar)?;
    let record = SubjectName {
        chain_id: client.chain_id()?,
        subject: subject.clone(),
        name: name.trim().to_string(),
        latin: latin.map(|l| l.trim().to_string()).filter(|l| !l.is_empty()),
        registrar: rfile.agency,
        nonce: nonce()?,
    };
    record.check()?;
    let mut v = serde_json::to_value(crate::issuer_cmd::submit_tx(
        client,
        &Transaction::SubjectName(record.sign(&rkey)),
        wait,
    )?)?;
    v["subject"] = json!(subject);
    Ok(v)
}

/// Files a subject act signed with the subject's key; prints the case id.
pub(crate) fn file_act(client: &Client, subject_key: &Path, body: ActBody, wait: bool) -> anyhow::Result<Value> {
    let (sfile, skey) = SubjectKeyFile::read(subject_key)?;
    let act = SubjectAct { chain_id: client.chain_id()?, subject: sfile.subject, body, nonce: nonce()? };
    let case = act.case_id();
    let mut v =
        serde_json::to_value(crate::issuer_cmd::submit_tx(client, &Transaction::SubjectAct(act.sign(&skey)), wait)?)?;
    v["case"] = json!(case.to_string());
    Ok(v)
}

/// `credex decide`: the agency answers a case with an attestation.
pub(crate) struct Decision<'a> {
    /// The case.
    pub case: credex_types::lifecycle::CaseId,
    /// The answering kind.
    pub kind: AttestationKind,
    /// CODE=VALUE fields (reason, repair basis, …).
    pub fields: &'a [String],
    /// Effective time.
    pub now: credex_types::Timestamp,
}

/// Answers a case: reads it from the node to fill subject and target.
pub(crate) fn decide(client: &Client, key: &Path, d: Decision<'_>, wait: bool) -> anyhow::Result<Value> {
    let c = match client.get_as::<types::CaseOrStanding>(&format!("/v1/cases/{}", d.case))? {
        types::CaseOrStanding::Case(c) => c,
        types::CaseOrStanding::Standing(_) => anyhow::bail!("case {} is not on chain yet", d.case),
    };
    let subject = c.subject.clone();
    // Objections are upheld by superseding (correcting, revoking, erasing) the contested attestation.
    let supersedes = match (c.kind.as_str(), d.kind) {
        ("objection", AttestationKind::ObjectionRejection) => None,
        ("objection", _) => c.target.as_deref().map(str::parse).transpose()?,
        _ => None,
    };
    let args = AttestArgs {
        subject,
        kind: d.kind,
        fields: d.fields,
        supersedes,
        case: Some(d.case),
        legal_basis: None,
        effective_at: d.now,
        expires_at: None,
    };
    Ok(serde_json::to_value(crate::issuer_cmd::attest(client, key, args, wait)?)?)
}

/// `credex subject ID`: the profile as text in `lang`.
pub(crate) fn profile_text(v: &types::Profile) -> String {
    let mut o = String::new();
    let opt = |t: Option<String>| t.unwrap_or_else(|| "-".into());
    let _ = writeln!(o, "{}  ({}, {})", v.subject, v.scheme, v.jurisdiction);
    if let Some(n) = &v.name {
        let _ = writeln!(o, "name         {}  (registered by {}, block {})", n.display, n.registrar, n.height);
    }
    let g = &v.grade;
    if g.no_record {
        let _ = writeln!(o, "grade        not rated: the chain holds no record of this subject ({})", g.model);
    } else {
        let _ = writeln!(
            o,
            "grade        {} — {} (score {}, {} / {})",
            g.grade, g.grade_label, g.score, g.sector_label, g.model
        );
    }
    for line in &g.lines {
        let _ = writeln!(o, "  {:+4}  {} ×{} ({})", line.points, line.label, line.count, line.rule);
    }
    for l in &v.lists {
        if l.listed {
            let _ = writeln!(
                o,
                "LISTED       {} since {} by {}",
                l.label,
                opt(l.since.map(|t| t.to_string())),
                opt(l.issuer.as_ref().map(ToString::to_string))
            );
            if let Some(c) = &l.repair_conditions {
                let _ = writeln!(o, "  repair:    {c}");
            }
        } else if l.times_listed > 0 {
            let _ =
                writeln!(o, "not listed   {} (last removed {})", l.label, opt(l.last_removed.map(|t| t.to_string())));
        }
    }
    for w in &v.warnings {
        let _ = writeln!(o, "WARNING      {} ({})", w.label, w.rule);
    }
    for a in &v.attestations {
        let _ = writeln!(o, "attestation  {} [{}] {} {} {}", a.kind_label, a.state, a.issuer, a.effective_at, a.id);
    }
    if v.withheld_penalties > 0 {
        let _ = writeln!(o, "({} penalties past their publication window not shown)", v.withheld_penalties);
    }
    for c in &v.cases {
        let _ = writeln!(o, "case         {} [{}] to {} {}", c.kind_label, c.status_label, c.agency, c.id);
        for e in &c.history {
            let _ = writeln!(o, "  {}  {} (height {})", e.time, e.status_label, e.height);
        }
    }
    let _ = writeln!(o, "as of height {} at {}", v.as_of.height, v.as_of.time);
    o
}

/// `credex grade SUBJECT --key K`: computes the grade on the node and issues
/// it as a `credit-grade` attestation carrying its inputs, superseding the
/// issuer's previous grade of the subject.
pub(crate) fn issue_grade(
    client: &Client,
    key: &Path,
    subject: &SubjectId,
    sector: &str,
    now: credex_types::Timestamp,
    wait: bool,
) -> anyhow::Result<Value> {
    let (file, _) = KeyFile::read(key)?;
    let g: types::SubjectGrade = client.get_as(&format!("/v1/subjects/{subject}/grade?sector={sector}"))?;
    let profile: types::Profile = client.get_as(&format!("/v1/subjects/{subject}"))?;
    let previous = profile
        .attestations
        .iter()
        .find(|a| a.kind == AttestationKind::CreditGrade && a.state == "active" && a.issuer == file.agency);
    let fields = vec![
        format!("grade={}", g.grade.grade),
        format!("score={}", g.grade.score),
        format!("sector={sector}"),
        format!("scoring-inputs={}", g.grade.scoring_inputs),
    ];
    let args = AttestArgs {
        subject: subject.clone(),
        kind: AttestationKind::CreditGrade,
        fields: &fields,
        supersedes: previous.map(|a| a.id),
        case: None,
        legal_basis: None,
        effective_at: now,
        expires_at: None,
    };
    let mut v = serde_json::to_value(crate::issuer_cmd::attest(client, key, args, wait)?)?;
    v["grade"] = serde_json::to_value(g)?;
    Ok(v)
}

/// `credex gov propose`: writes an unsigned proposal file.
pub(crate) fn propose(chain_id: credex_types::ChainId, action: GovAction, out: &Path) -> anyhow::Result<Value> {
    anyhow::ensure!(!out.exists(), "{} exists; refusing to overwrite", out.display());
    let tx = GovernanceTx { proposal: GovProposal { chain_id, action, nonce: nonce()? }, approvals: vec![] };
    std::fs::write(out, serde_json::to_string_pretty(&tx)? + "\n")
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(json!({ "proposal": tx.proposal.hash().to_string(), "out": out.display().to_string() }))
}

/// `credex gov approve`: adds a validator's approval to a proposal file.
pub(crate) fn approve(
    file: &Path,
    key: &Path,
    genesis: &credex_types::Genesis,
    set: &credex_types::chain::ValidatorSet,
) -> anyhow::Result<Value> {
    let mut tx: GovernanceTx =
        serde_json::from_str(&std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?)
            .with_context(|| format!("proposal {}", file.display()))?;
    anyhow::ensure!(
        tx.proposal.chain_id == genesis.chain_id,
        "proposal is for chain {}, genesis is {}",
        tx.proposal.chain_id,
        genesis.chain_id
    );
    let (_, k) = KeyFile::read(key)?;
    let index = set
        .validators
        .iter()
        .position(|v| v.key == k.public())
        .ok_or_else(|| anyhow::anyhow!("{} is not a key of the validator set in force", key.display()))?;
    tx.approve(u16::try_from(index)?, &k);
    std::fs::write(file, serde_json::to_string_pretty(&tx)? + "\n")
        .with_context(|| format!("writing {}", file.display()))?;
    let power: u64 = tx.approvals.iter().filter_map(|a| set.get(a.validator)).map(|v| v.power).sum();
    Ok(json!({ "proposal": tx.proposal.hash().to_string(), "approvals": tx.approvals.len(), "power": power,
               "total_power": set.total_power(), "enough": set.is_quorum(power) }))
}

/// `credex gov submit`.
pub(crate) fn submit_proposal(client: &Client, file: &Path, wait: bool) -> anyhow::Result<Value> {
    let tx: GovernanceTx =
        serde_json::from_str(&std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?)
            .with_context(|| format!("proposal {}", file.display()))?;
    Ok(serde_json::to_value(crate::issuer_cmd::submit_tx(client, &Transaction::Governance(tx), wait)?)?)
}

/// The lifecycle commands of the `credex` binary.
#[derive(clap::Subcommand)]
pub enum LifecycleCommand {
    /// Shows a subject's profile: lists, grade, warnings, attestations, cases.
    Subject {
        /// Subject id.
        id: SubjectId,
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Label language: zh, ru or en.
        #[arg(long, default_value = "en")]
        lang: Lang,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A registrar binds a subject's key (the subject's key signs too).
    BindKey {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Registrar issuer key file (needs the subject-key-binding permission).
        #[arg(long)]
        registrar_key: PathBuf,
        /// The subject's key file (`credex keygen --role subject`).
        #[arg(long)]
        subject_key: PathBuf,
        /// Replacing a bound key: the subject's current key file, whose signature is its consent.
        #[arg(long, conflicts_with = "recovery")]
        old_key: Option<PathBuf>,
        /// Replacing a lost key without consent: the legal basis of the
        /// registrar's decision (recorded where the subject sees it), e.g.
        /// cn-identity-verified-in-person.
        #[arg(long)]
        recovery: Option<credex_types::LegalBasis>,
        /// Wait until on chain.
        #[arg(long)]
        wait: bool,
    },
    /// A registrar publishes a legal entity's registered name (企业名称),
    /// public on chain (spec §11.10); a later one replaces it.
    Name {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Registrar issuer key file (needs the subject-key-binding permission).
        #[arg(long)]
        registrar_key: PathBuf,
        /// The subject (a legal entity's id).
        #[arg(long)]
        subject: SubjectId,
        /// The name as registered, e.g. 绥芬河市边贸进出口有限公司.
        #[arg(long)]
        name: String,
        /// The registered name in Latin letters, if it has one.
        #[arg(long)]
        latin: Option<String>,
        /// Wait until on chain.
        #[arg(long)]
        wait: bool,
    },
    /// A subject files a credit commitment (信用承诺) to an agency.
    Commit {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// The subject's key file.
        #[arg(long)]
        key: PathBuf,
        /// The agency asked to accept it.
        #[arg(long)]
        agency: AgencyId,
        /// The commitment text (its SHA-256 goes on chain).
        #[arg(long)]
        text: PathBuf,
        /// Deadline (RFC 3339).
        #[arg(long)]
        due: Option<Timestamp>,
        /// Wait until on chain.
        #[arg(long)]
        wait: bool,
    },
    /// A subject applies for credit repair (信用修复) of its listing on a list.
    Repair {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// The subject's key file.
        #[arg(long)]
        key: PathBuf,
        /// The list.
        #[arg(long)]
        list: ListKind,
        /// The application documents (their SHA-256 goes on chain).
        #[arg(long)]
        statement: PathBuf,
        /// Wait until on chain.
        #[arg(long)]
        wait: bool,
    },
    /// A subject objects (异议) to an attestation about it.
    Object {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// The subject's key file.
        #[arg(long)]
        key: PathBuf,
        /// The contested attestation.
        #[arg(long)]
        target: AttestationId,
        /// The grounds (their SHA-256 goes on chain).
        #[arg(long)]
        grounds: PathBuf,
        /// Wait until on chain.
        #[arg(long)]
        wait: bool,
    },
    /// The deciding agency answers a case: credit-commitment (accept),
    /// credit-commitment-rejection, -fulfilled, -breached; a list removal
    /// (approve repair) or credit-repair-rejection; for objections the
    /// contested kind (correct), revocation, erasure-tombstone or objection-rejection.
    Decide {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// The agency's issuer key file.
        #[arg(long)]
        key: PathBuf,
        /// The case.
        #[arg(long)]
        case: CaseId,
        /// The answering kind.
        #[arg(long)]
        kind: AttestationKind,
        /// A claim field CODE=VALUE (repeatable), e.g. reason=…, repair-basis=…
        #[arg(long = "field")]
        fields: Vec<String>,
        /// Wait until on chain.
        #[arg(long)]
        wait: bool,
    },
    /// Shows a case; with --proof writes its offline-verifiable proof.
    Case {
        /// Case id.
        id: CaseId,
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Label language.
        #[arg(long, default_value = "en")]
        lang: Lang,
        /// Write the proof text here.
        #[arg(long)]
        proof: Option<PathBuf>,
    },
    /// Shows a subject's grade line by line; with --key issues it as a credit-grade attestation.
    Grade {
        /// Subject id.
        subject: SubjectId,
        /// Node URL.
        #[arg(long)]
        node: String,
        /// general, customs, tax or e-commerce.
        #[arg(long, default_value = "general")]
        sector: String,
        /// Issue the grade with this issuer key file.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Label language.
        #[arg(long, default_value = "en")]
        lang: Lang,
        /// Wait until the grade attestation is on chain.
        #[arg(long)]
        wait: bool,
    },
    /// Governance by 2f+1 validators: issuers and the validator set.
    Gov {
        #[command(subcommand)]
        command: GovCommand,
    },
    /// The caller's webhooks for the risk list's events (signed with
    /// --auth, as an official, issuer or platform; spec §11.7).
    Webhook {
        /// What to do.
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// The risk list, or its events (with --after; --follow keeps long-polling).
    Warnings {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Print events after this number instead of the list.
        #[arg(long)]
        after: Option<u64>,
        /// Keep printing new events (long-poll).
        #[arg(long)]
        follow: bool,
        /// Label language.
        #[arg(long, default_value = "en")]
        lang: Lang,
    },
    /// The issuer registry (genesis plus governance).
    Issuers {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Label language.
        #[arg(long, default_value = "en")]
        lang: Lang,
    },
}

/// `credex webhook …`.
#[derive(clap::Subcommand)]
pub enum WebhookCommand {
    /// Subscribes URL to the risk list's events; prints the subscription
    /// with its signing secret (shown this once).
    Add {
        /// Where events are POSTed (http:// or https://, a public address
        /// unless the node allows it with --webhook-allow).
        url: String,
        /// Node URL.
        #[arg(long)]
        node: String,
    },
    /// The caller's subscriptions (without secrets).
    List {
        /// Node URL.
        #[arg(long)]
        node: String,
    },
    /// Removes one of the caller's subscriptions.
    Remove {
        /// Subscription id.
        id: String,
        /// Node URL.
        #[arg(long)]
        node: String,
    },
}

/// Governance commands.
#[derive(clap::Subcommand)]
pub enum GovCommand {
    /// Writes an unsigned proposal file.
    Propose {
        /// Node URL (for the chain id).
        #[arg(long)]
        node: String,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        #[command(subcommand)]
        action: GovActionArg,
    },
    /// Adds this validator's approval to a proposal file.
    Approve {
        /// Proposal file.
        file: PathBuf,
        /// Validator key file.
        #[arg(long)]
        key: PathBuf,
        /// Genesis file (the chain; and the validator set, without `--node`).
        #[arg(long)]
        genesis: PathBuf,
        /// Node URL: take the validator set in force from it (after a
        /// validator-set change the genesis set is no longer the one that approves).
        #[arg(long)]
        node: Option<String>,
    },
    /// Submits an approved proposal.
    Submit {
        /// Proposal file.
        file: PathBuf,
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Wait until on chain.
        #[arg(long)]
        wait: bool,
    },
}

/// What a proposal changes.
#[derive(clap::Subcommand)]
pub enum GovActionArg {
    /// Registers an issuer (agency from its key file).
    AddIssuer {
        /// Issuer key file (its public key is registered).
        #[arg(long)]
        key: PathBuf,
        /// Names as "中文|Русский|English".
        #[arg(long)]
        names: String,
        /// Jurisdiction.
        #[arg(long)]
        jurisdiction: credex_types::Jurisdiction,
        /// Kinds it may issue, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        kinds: Vec<AttestationKind>,
    },
    /// Removes an issuer.
    RemoveIssuer {
        /// The agency.
        #[arg(long)]
        agency: AgencyId,
    },
    /// Replaces an issuer's kinds.
    SetKinds {
        /// The agency.
        #[arg(long)]
        agency: AgencyId,
        /// Kinds, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        kinds: Vec<AttestationKind>,
    },
    /// Rotates an issuer's key to the key in a new key file.
    RotateKey {
        /// The new key file (its agency is the issuer).
        #[arg(long)]
        key: PathBuf,
    },
    /// Adds a validator (agency and consensus key from its key file); it
    /// votes from the block after the one that applies the change.
    AddValidator {
        /// The new validator's key file.
        #[arg(long)]
        key: PathBuf,
        /// Names as "中文|Русский|English".
        #[arg(long)]
        names: String,
        /// Jurisdiction.
        #[arg(long)]
        jurisdiction: credex_types::Jurisdiction,
        /// Voting power.
        #[arg(long, default_value_t = 1)]
        power: u64,
    },
    /// Removes a validator (a retired agency, or a key that leaked).
    RemoveValidator {
        /// The validator's agency.
        #[arg(long)]
        agency: AgencyId,
    },
    /// Changes a validator's voting power.
    SetPower {
        /// The validator's agency.
        #[arg(long)]
        agency: AgencyId,
        /// The new power (≥ 1).
        #[arg(long)]
        power: u64,
    },
    /// Rotates a validator's consensus key to the key in a new key file.
    RotateValidatorKey {
        /// The new key file (its agency is the validator).
        #[arg(long)]
        key: PathBuf,
    },
}

fn print(v: &Value) -> anyhow::Result<ExitCode> {
    outln!("{}", serde_json::to_string_pretty(v)?);
    Ok(ExitCode::SUCCESS)
}

fn with_lang(path: &str, lang: Lang) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}lang={lang}")
}

/// Runs a lifecycle command.
pub(crate) fn run(cmd: LifecycleCommand, now: Timestamp) -> anyhow::Result<ExitCode> {
    match cmd {
        LifecycleCommand::Subject { id, node, lang, json } => {
            let v: types::Profile = Client::new(&node).get_as(&with_lang(&format!("/v1/subjects/{id}"), lang))?;
            if json {
                return print(&serde_json::to_value(&v)?);
            }
            out!("{}", profile_text(&v));
            Ok(ExitCode::SUCCESS)
        }
        LifecycleCommand::BindKey { node, registrar_key, subject_key, old_key, recovery, wait } => {
            let rebind = match (&old_key, recovery) {
                (Some(old), _) => Rebind::Consent(old),
                (None, Some(basis)) => Rebind::Recovery(basis),
                (None, None) => Rebind::First,
            };
            print(&bind_key(&Client::with_key(&node, &registrar_key)?, &registrar_key, &subject_key, rebind, wait)?)
        }
        LifecycleCommand::Name { node, registrar_key, subject, name, latin, wait } => {
            let client = Client::with_key(&node, &registrar_key)?;
            print(&publish_name(&client, &registrar_key, subject, name, latin, wait)?)
        }
        LifecycleCommand::Commit { node, key, agency, text, due, wait } => {
            let body = ActBody::Commitment { agency, terms: document_hash(&text)?, due };
            print(&file_act(&Client::with_key(&node, &key)?, &key, body, wait)?)
        }
        LifecycleCommand::Repair { node, key, list, statement, wait } => {
            let body = ActBody::RepairApplication { list, statement: document_hash(&statement)? };
            print(&file_act(&Client::with_key(&node, &key)?, &key, body, wait)?)
        }
        LifecycleCommand::Object { node, key, target, grounds, wait } => {
            let body = ActBody::Objection { target, grounds: document_hash(&grounds)? };
            print(&file_act(&Client::with_key(&node, &key)?, &key, body, wait)?)
        }
        LifecycleCommand::Decide { node, key, case, kind, fields, wait } => {
            print(&decide(&Client::with_key(&node, &key)?, &key, Decision { case, kind, fields: &fields, now }, wait)?)
        }
        LifecycleCommand::Case { id, node, lang, proof } => {
            let answer: types::CaseOrStanding =
                Client::new(&node).get_as(&with_lang(&format!("/v1/cases/{id}"), lang))?;
            let text = match &answer {
                types::CaseOrStanding::Case(c) => c.proof_text.clone(),
                types::CaseOrStanding::Standing(_) => None,
            };
            let mut v = serde_json::to_value(&answer)?;
            if let Some(out) = proof {
                let text = text.ok_or_else(|| anyhow::anyhow!("case {id} is not on chain yet"))?;
                std::fs::write(&out, format!("{text}\n")).with_context(|| format!("writing {}", out.display()))?;
                v["out"] = json!(out.display().to_string());
            }
            if let Some(o) = v.as_object_mut() {
                o.remove("proof_text");
            }
            print(&v)
        }
        LifecycleCommand::Grade { subject, node, sector, key, lang, wait } => {
            let client = match &key {
                Some(k) => Client::with_key(&node, k)?,
                None => Client::new(&node),
            };
            match key {
                Some(k) => print(&issue_grade(&client, &k, &subject, &sector, now, wait)?),
                None => print(&client.get(&with_lang(&format!("/v1/subjects/{subject}/grade?sector={sector}"), lang))?),
            }
        }
        LifecycleCommand::Gov { command } => match command {
            GovCommand::Propose { node, out, action } => {
                let action = match action {
                    GovActionArg::AddIssuer { key, names, jurisdiction, kinds } => {
                        let (file, k) = KeyFile::read(&key)?;
                        GovAction::AddIssuer(credex_types::genesis::Issuer {
                            agency: file.agency,
                            names: crate::genesis_cmd::parse_names(&names)?,
                            jurisdiction,
                            key: k.public(),
                            kinds,
                        })
                    }
                    GovActionArg::RemoveIssuer { agency } => GovAction::RemoveIssuer { agency },
                    GovActionArg::SetKinds { agency, kinds } => GovAction::SetKinds { agency, kinds },
                    GovActionArg::RotateKey { key } => {
                        let (file, k) = KeyFile::read(&key)?;
                        GovAction::RotateKey { agency: file.agency, key: k.public() }
                    }
                    GovActionArg::AddValidator { key, names, jurisdiction, power } => {
                        let (file, k) = KeyFile::read(&key)?;
                        GovAction::AddValidator(credex_types::chain::Validator {
                            agency: file.agency,
                            names: crate::genesis_cmd::parse_names(&names)?,
                            jurisdiction,
                            key: k.public(),
                            power,
                        })
                    }
                    GovActionArg::RemoveValidator { agency } => GovAction::RemoveValidator { agency },
                    GovActionArg::SetPower { agency, power } => GovAction::SetPower { agency, power },
                    GovActionArg::RotateValidatorKey { key } => {
                        let (file, k) = KeyFile::read(&key)?;
                        GovAction::RotateValidatorKey { agency: file.agency, key: k.public() }
                    }
                };
                print(&propose(Client::new(&node).chain_id()?, action, &out)?)
            }
            GovCommand::Approve { file, key, genesis, node } => {
                let text =
                    std::fs::read_to_string(&genesis).with_context(|| format!("reading {}", genesis.display()))?;
                let genesis = credex_types::Genesis::from_toml(&text)?;
                // The set in force signs approvals: the node's, once governance changed it.
                let set = match node {
                    Some(url) => Client::new(&url).get_as::<types::Validators>("/v1/validators")?.set,
                    None => genesis.validator_set(),
                };
                print(&approve(&file, &key, &genesis, &set)?)
            }
            GovCommand::Submit { file, node, wait } => print(&submit_proposal(&Client::new(&node), &file, wait)?),
        },
        LifecycleCommand::Webhook { command } => match command {
            WebhookCommand::Add { url, node } => {
                let sub: types::Subscription =
                    Client::new(&node).post_as("/v1/warnings/subscriptions", &json!({ "url": url }))?;
                eprintln!(
                    "note: keep the secret: deliveries carry X-Credex-Webhook-Signature = v1=HMAC-SHA256(secret, time \".\" body); it is not shown again"
                );
                print(&serde_json::to_value(sub)?)
            }
            WebhookCommand::List { node } => print(&Client::new(&node).get("/v1/warnings/subscriptions")?),
            WebhookCommand::Remove { id, node } => {
                let v: types::Deleted = Client::new(&node).delete_as(&format!("/v1/warnings/subscriptions/{id}"))?;
                print(&serde_json::to_value(v)?)
            }
        },
        LifecycleCommand::Warnings { node, after, follow, lang } => {
            let client = Client::new(&node);
            let Some(mut after) = after.or(follow.then_some(0)) else {
                return print(&client.get(&with_lang("/v1/warnings", lang))?);
            };
            loop {
                let wait = if follow { 30 } else { 0 };
                let v: types::Events = client.get_as(&format!("/v1/warnings/events?after={after}&wait={wait}"))?;
                for e in &v.events {
                    outln!("{}", serde_json::to_string(e)?);
                }
                after = v.next;
                if !follow {
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
        LifecycleCommand::Issuers { node, lang } => print(&Client::new(&node).get(&with_lang("/v1/issuers", lang))?),
    }
}
