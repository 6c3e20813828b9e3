//! Raw-record access between agencies (spec §12.3).
//!
//! Only the node an issuer submitted to holds an attestation's fields,
//! encrypted at rest under a key of their own. An official, platform or
//! issuer asks its own node (`POST /v1/attestations/{id}/record`) with a
//! subject-signed [`SignedAuthorization`] naming the caller's agency, or a
//! legal-basis code its role may invoke ([`LEGAL_BASES`]); a subject reads
//! its own records without either. If the node does not hold the record
//! it asks its peers over libp2p ([`RawRequest`]); the holder checks the
//! basis against the requesting node's agency (the peer id's, from
//! genesis), writes the access to its audit log, and answers with the record
//! or a typed refusal. The requesting node checks that the record is the
//! anchored attestation (same id, issuer signature under the key the chain
//! recorded) before it answers, and audits the access too. An erased record
//! has no key any more: nobody can serve it.

use std::sync::Arc;

use credex_types::access::{RecordFacts, Role, SignedAuthorization};
use credex_types::state::AttestationStatus;
use credex_types::{AgencyId, Attestation, AttestationId, LegalBasis, SubjectId};

use crate::access::{Access, Caller};
use crate::service::Node;

/// Whether `caller` may invoke legal basis `code`: its role must be allowed
/// the code ([`LEGAL_BASES`]), and a national code (`cn-…`) belongs to
/// agencies of that jurisdiction only; `cross-border-mutual-assistance`
/// is open to every jurisdiction.
fn may_invoke(node: &Node, caller: &Caller, code: &LegalBasis) -> bool {
    let code = code.as_str();
    if !LEGAL_BASES.iter().any(|(r, c)| *r == caller.role && *c == code) {
        return false;
    }
    match code.split_once('-') {
        Some((country, _)) if country.len() == 2 && code != "cross-border-mutual-assistance" => caller
            .agency
            .as_ref()
            .and_then(|a| match node.jurisdiction_of(a) {
                Ok(j) => j,
                Err(e) => {
                    // no jurisdiction read: the basis is not allowed (refused, never granted)
                    tracing::error!(target: "credex::records", agency = %a, error = %e, "reading an agency's jurisdiction");
                    None
                }
            })
            .is_some_and(|j| j.as_str().eq_ignore_ascii_case(country)),
        _ => true,
    }
}

/// The refusal of a legal basis `caller` may not invoke.
fn not_allowed(caller: &Caller, code: &LegalBasis) -> Refusal {
    let agency = caller.agency.as_ref().map_or("no agency", AgencyId::as_str);
    refuse(
        403,
        "legal-basis-not-allowed",
        format!("role {} of {agency} may not invoke legal basis {code}", caller.role),
    )
}

/// Legal-basis codes a role may invoke without the subject's authorization.
pub const LEGAL_BASES: &[(Role, &str)] = &[
    (Role::Official, "cn-admin-inspection"),
    (Role::Official, "cn-court-enforcement"),
    (Role::Official, "cross-border-mutual-assistance"),
    (Role::Issuer, "cn-admin-inspection"),
];

pub use credex_wire::{Basis, ForwardedRequest, RawAnswer, RawRequest};

/// The body of `POST /v1/attestations/{id}/record`.
#[derive(serde::Deserialize, Default)]
struct RecordBody {
    authorization: Option<SignedAuthorization>,
    legal_basis: Option<LegalBasis>,
}

/// The basis a record request's body names (empty body: none).
pub fn parse_record_body(body: &[u8]) -> Result<Basis, String> {
    let b: RecordBody = if body.iter().all(u8::is_ascii_whitespace) {
        RecordBody::default()
    } else {
        serde_json::from_slice(body).map_err(|e| format!("record request JSON: {e}"))?
    };
    match (b.authorization, b.legal_basis) {
        (Some(a), None) => Ok(Basis::Authorization(a)),
        (None, Some(l)) => Ok(Basis::LegalBasis(l)),
        (None, None) => Ok(Basis::None),
        (Some(_), Some(_)) => Err("give an authorization or a legal basis, not both".into()),
    }
}

/// The path a record request is signed over.
pub fn record_path(id: &AttestationId) -> String {
    format!("/v1/attestations/{id}/record")
}

/// A refusal: code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status the API answers with.
    pub status: u16,
    /// Stable code.
    pub code: &'static str,
    /// Why.
    pub message: String,
}

fn refuse(status: u16, code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { status, code, message: message.into() }
}

/// Every refusal code (a peer's code is taken only if it is one of these).
const CODES: &[&str] = &[
    "not-anchored",
    "erased",
    "not-held",
    "record-mismatch",
    "audit-unavailable",
    "legal-basis-not-allowed",
    "no-authorization",
    "no-agency",
    "authorization-expired",
    "authorization-revoked",
    "wrong-grantee",
    "wrong-subject",
    "out-of-scope",
    "bad-authorization-signature",
    "wrong-chain",
    "unverified-caller",
    "bad-forwarded-signature",
    "wrong-forwarded-request",
    "stale-request",
    "replay",
];

fn known_code(code: &str) -> &'static str {
    CODES.iter().copied().find(|c| *c == code).unwrap_or("refused")
}

/// On what grounds `caller` may see the field values of an attestation with
/// `header` in a proof (spec §12.3): `Some(basis)` for the subject itself,
/// the attestation's own issuer, or a legal basis the caller's role may
/// invoke; `None` (fields hidden) without any; a legal basis the role may
/// not invoke is refused.
pub fn disclosure_basis(
    node: &Node,
    caller: &Caller,
    header: &credex_types::AttestationHeader,
    legal_basis: Option<&LegalBasis>,
) -> Result<Option<String>, Refusal> {
    if caller.role == Role::Subject && caller.subject.as_ref() == Some(&header.subject) {
        return Ok(Some("own-record".into()));
    }
    if caller.role == Role::Issuer && caller.agency.as_ref() == Some(&header.issuer) {
        return Ok(Some("own-attestation".into()));
    }
    match legal_basis {
        Some(code) if may_invoke(node, caller, code) => Ok(Some(format!("legal-basis:{code}"))),
        Some(code) => Err(not_allowed(caller, code)),
        None => Ok(None),
    }
}

/// Whether `basis` lets `caller` read record `id` (of `header`).
fn check_basis(
    node: &Node,
    id: &AttestationId,
    header: &credex_types::AttestationHeader,
    basis: &Basis,
    caller: &Caller,
) -> Result<String, Refusal> {
    let subject = &header.subject;
    match basis {
        _ if caller.role == Role::Subject && caller.subject.as_ref() == Some(subject) => Ok("own-record".into()),
        Basis::Authorization(a) => {
            let internal =
                |e: crate::StoreError| refuse(500, "internal", format!("the node could not read its state: {e}"));
            let key = node.subject_key(subject).map_err(internal)?.map(|k| k.key);
            let revoked = node
                .state_value(&credex_types::state::StateKey::AuthorizationRevoked {
                    subject: a.authorization.subject.clone(),
                    authorization: a.authorization.hash(),
                })
                .map_err(internal)?;
            let facts = RecordFacts {
                chain_id: &node.genesis().chain_id,
                id,
                kind: header.kind,
                subject,
                subject_key: key.as_ref(),
                revoked_at: match revoked {
                    Some(credex_types::state::StateValue::AuthorizationRevoked { height, .. }) => Some(height),
                    _ => None,
                },
            };
            let grantee =
                caller.agency.as_ref().ok_or_else(|| refuse(403, "no-agency", "the caller acts for no agency"))?;
            a.check(&facts, grantee, node.now()).map_err(|e| refuse(403, e.code(), e.to_string()))?;
            Ok(format!("authorization:{}", a.authorization.hash()))
        }
        Basis::LegalBasis(code) => {
            if may_invoke(node, caller, code) {
                Ok(format!("legal-basis:{code}"))
            } else {
                Err(not_allowed(caller, code))
            }
        }
        Basis::None => Err(refuse(
            403,
            "no-authorization",
            "reading a raw record needs the subject's authorization or a legal basis of your role",
        )),
    }
}

/// The holder's side of a peer's [`RawRequest`]: the caller is whoever
/// signed the forwarded request, checked here ([`Access::verify_forwarded`]);
/// the asking peer is trusted only for the agency its authenticated peer id
/// has in the genesis, and for the officials and platforms it registered.
pub fn serve(node: &Node, access: &Access, peer_agency: Option<AgencyId>, req: RawRequest) -> RawAnswer {
    let header = match node.anchored_header(&req.id) {
        Ok(Some(h)) => h,
        Ok(None) => return RawAnswer::NotHeld,
        Err(e) => return RawAnswer::Refused { code: "internal".into(), message: e.to_string() },
    };
    let Ok(Some(raw)) = node.store().raw(&req.id) else {
        return match node.record(&req.id) {
            Ok(Some(r)) if matches!(r.status, AttestationStatus::Erased { .. }) => {
                RawAnswer::Refused { code: "erased".into(), message: "the record was erased".into() }
            }
            Ok(_) => RawAnswer::NotHeld,
            Err(e) => RawAnswer::Refused { code: "internal".into(), message: e.to_string() },
        };
    };
    let relay = peer_agency.as_ref().map_or("unknown-node", AgencyId::as_str).to_string();
    let verified = match &peer_agency {
        Some(agency) => access.verify_forwarded(node, agency, &req, node.now()),
        None => Err(refuse(403, "no-agency", "the asking peer is no agency of the genesis")),
    };
    let (caller, decided) = match verified {
        Ok((caller, basis)) => {
            let d = check_basis(node, &req.id, &header, &basis, &caller);
            (caller, d)
        }
        Err(r) => {
            // recorded under what it claimed, marked unverified
            let client = format!("{relay}/{} (unverified)", req.request.client);
            (Caller { client, role: Role::Public, agency: peer_agency.clone(), subject: None }, Err(r))
        }
    };
    let (basis, result) = match &decided {
        Ok(b) => (Some(b.clone()), "served".to_string()),
        Err(r) => (None, format!("refused:{}", r.code)),
    };
    let action = format!("raw-record {} (peer request via {relay})", req.id);
    if let Err(e) = access.audit(node, &caller, action, Some(header.subject.clone()), basis, result, true) {
        tracing::error!(target: "credex::audit", error = %e, "audit append failed; refusing the record");
        return RawAnswer::Refused { code: "audit-unavailable".into(), message: "audit log unavailable".into() };
    }
    match decided {
        Ok(_) => RawAnswer::Served(Box::new(raw)),
        Err(r) => RawAnswer::Refused { code: r.code.to_string(), message: r.message },
    }
}

/// Checks that `att` is the anchored attestation `id`.
fn matches_anchor(node: &Node, id: &AttestationId, att: &Attestation) -> Result<bool, crate::StoreError> {
    let Some(record) = node.record(id)? else { return Ok(false) };
    Ok(att.id() == *id && att.verify_signature(&record.issuer_key).is_ok())
}

/// The requesting side: the record for `caller`, from this node or a peer.
pub async fn fetch(
    node: Arc<Node>,
    access: Arc<Access>,
    caller: Caller,
    id: AttestationId,
    basis: Basis,
    request: ForwardedRequest,
) -> Result<(Attestation, String), Refusal> {
    let header = node
        .anchored_header(&id)
        .map_err(|e| refuse(500, "internal", e.to_string()))?
        .ok_or_else(|| refuse(404, "not-anchored", format!("{id} is not anchored")))?;
    let record = node.record(&id).map_err(|e| refuse(500, "internal", e.to_string()))?;
    if matches!(record.map(|r| r.status), Some(AttestationStatus::Erased { .. })) {
        let r = refuse(410, "erased", "the record was erased; its key no longer exists");
        audit_fetch(&node, &access, &caller, &id, &header.subject, None, &format!("refused:{}", r.code))?;
        return Err(r);
    }
    let own_agency = node.identity().map(|(a, _)| a.clone());
    let held = node.store().raw(&id).map_err(|e| refuse(500, "internal", e.to_string()))?;
    let (att, source, basis_text) = match held {
        Some(att) => match check_basis(&node, &id, &header, &basis, &caller) {
            Ok(b) => (att, own_agency.map_or_else(|| "this node".to_string(), |a| a.to_string()), b),
            Err(r) => {
                audit_fetch(&node, &access, &caller, &id, &header.subject, None, &format!("refused:{}", r.code))?;
                return Err(r);
            }
        },
        None if basis == Basis::None && caller.subject.as_ref() != Some(&header.subject) => {
            // nothing to show a holder: refuse here, without asking anyone
            let r = refuse(
                403,
                "no-authorization",
                "reading a raw record needs the subject's authorization or a legal basis of your role",
            );
            audit_fetch(&node, &access, &caller, &id, &header.subject, None, &format!("refused:{}", r.code))?;
            return Err(r);
        }
        None => {
            // A subject reading its own record elsewhere needs no basis; peers
            // see the request as made by this node's agency for that subject.
            let basis_text = match &basis {
                Basis::Authorization(a) => format!("authorization:{}", a.authorization.hash()),
                Basis::LegalBasis(c) => format!("legal-basis:{c}"),
                Basis::None => "none".into(),
            };
            match ask_peers(&node, &access, &caller, &id, request).await {
                Ok((att, from)) => (att, from, basis_text),
                Err(r) => {
                    audit_fetch(
                        &node,
                        &access,
                        &caller,
                        &id,
                        &header.subject,
                        Some(basis_text),
                        &format!("refused:{}", r.code),
                    )?;
                    return Err(r);
                }
            }
        }
    };
    if !matches_anchor(&node, &id, &att).map_err(|e| refuse(500, "internal", e.to_string()))? {
        let r = refuse(502, "record-mismatch", "the record served does not match the anchored attestation");
        audit_fetch(&node, &access, &caller, &id, &header.subject, Some(basis_text), &format!("refused:{}", r.code))?;
        return Err(r);
    }
    audit_fetch(&node, &access, &caller, &id, &header.subject, Some(basis_text), &format!("served from {source}"))?;
    Ok((att, source))
}

fn audit_fetch(
    node: &Node,
    access: &Access,
    caller: &Caller,
    id: &AttestationId,
    subject: &SubjectId,
    basis: Option<String>,
    result: &str,
) -> Result<(), Refusal> {
    access
        .audit(node, caller, format!("raw-record {id}"), Some(subject.clone()), basis, result.to_string(), true)
        .map(|_| ())
        .map_err(|e| refuse(503, "audit-unavailable", format!("the audit log could not be written: {e}")))
}

async fn ask_peers(
    node: &Node,
    access: &Access,
    caller: &Caller,
    id: &AttestationId,
    request: ForwardedRequest,
) -> Result<(Attestation, String), Refusal> {
    let Some(net) = node.net() else {
        return Err(refuse(404, "not-held", "this node does not hold the record and is on no network"));
    };
    let peers = net
        .peers()
        .await
        .map_err(|e| refuse(503, "network-unavailable", format!("this node's network is not running: {e}")))?;
    let req = credex_codec::encode(&credex_wire::SyncRequest::RawRecord(Box::new(RawRequest {
        id: *id,
        request,
        vouched: access.vouch(caller),
    })));
    let mut refusal: Option<Refusal> = None;
    for peer in peers {
        // A peer that does not answer, or answers something else, is skipped: another may hold the record.
        let answer =
            match net.request(peer, req.clone()).await.map(|b| credex_codec::decode(&b, credex_wire::MAX_MESSAGE)) {
                Ok(Ok(credex_wire::SyncResponse::RawRecord(a))) => *a,
                _ => continue,
            };
        let from = node.agency_of_peer(&peer.to_string()).map_or_else(|| peer.to_string(), |a| a.to_string());
        match answer {
            RawAnswer::Served(att) => return Ok((*att, from)),
            RawAnswer::Refused { code, message } => {
                let status = if code == "erased" { 410 } else { 403 };
                refusal = Some(refuse(status, known_code(&code), format!("{from}: {message}")));
            }
            RawAnswer::NotHeld => {}
        }
    }
    Err(refusal.unwrap_or_else(|| refuse(404, "not-held", "no reachable node holds this record")))
}
