//! Lifecycle routes (spec §11): subject profile, grade, cases, generic
//! transactions, the issuer registry, labels, and early warning.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use credex_chain::Transaction;
use credex_rules::Sector;
use credex_types::labels::{Category, LabelTable, Lang};
use credex_types::lifecycle::{CaseId, CaseRecord};
use credex_types::state::AttestationStatus;
use credex_types::{AttestationKind, ListKind, SubjectId};
use serde_json::{Value, json};

use super::{
    ApiError, ApiResult, AppState, body_bytes, parse_id, parse_subject, proof_error, proof_json, standing_json,
    status_name, submitted,
};
use credex_node::service::{Node, Standing};

/// `?lang=` and other common query parameters.
#[derive(serde::Deserialize, Default)]
pub(super) struct LangQuery {
    pub(super) lang: Option<String>,
    sector: Option<String>,
}

/// The response language: `?lang=`, else the first supported `Accept-Language` tag, else English.
pub(super) fn lang(headers: &HeaderMap, q: Option<&str>) -> Result<Lang, ApiError> {
    if let Some(l) = q {
        return l.parse().map_err(|e: String| ApiError::bad("invalid-lang", e));
    }
    let accept = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    Ok(accept
        .split(',')
        .filter_map(|tag| tag.split(';').next()?.trim().parse::<Lang>().ok())
        .next()
        .unwrap_or(Lang::En))
}

/// Labels in one language.
pub(super) struct Labels {
    table: LabelTable,
    lang: Lang,
}

impl Labels {
    pub(super) fn new(lang: Lang) -> Labels {
        Labels { table: LabelTable::builtin(), lang }
    }
    pub(super) fn get(&self, c: Category, code: &str) -> String {
        self.table.label(c, code, self.lang).unwrap_or(code).to_string()
    }
}

fn case_json(id: &CaseId, c: &CaseRecord, l: &Labels) -> Value {
    let kind = c.kind.name();
    let history: Vec<Value> = c
        .history
        .iter()
        .map(|e| {
            json!({ "height": e.height, "time": e.time, "status": e.status, "status_label": l.get(Category::Status, e.status.name()),
                    "by": e.by.map(|b| b.to_string()) })
        })
        .collect();
    let mut v = json!({
        "id": id.to_string(), "kind": kind, "kind_label": l.get(Category::Case, kind),
        "subject": c.subject, "agency": c.agency, "target": c.target.map(|t| t.to_string()),
        "list": c.list, "due": c.due, "act": c.act,
        "status": c.status, "status_label": l.get(Category::Status, c.status.name()),
        "history": history,
    });
    if let Some(list) = c.list {
        v["list_label"] = json!(l.get(Category::List, list.name()));
        v["repair_conditions"] = json!(l.get(Category::Condition, list.name()));
    }
    v
}

fn grade_json(g: &credex_rules::Grade, l: &Labels) -> Value {
    let lines: Vec<Value> = g
        .lines
        .iter()
        .map(
            |x| json!({ "rule": x.rule, "label": l.get(Category::Rule, x.rule), "count": x.count, "points": x.points }),
        )
        .collect();
    json!({
        "model": g.model, "sector": g.sector, "sector_label": l.get(Category::Sector, g.sector.name()),
        "as_of": g.as_of, "base": 100, "score": g.score, "grade": g.grade.to_string(),
        "grade_label": l.get(Category::Grade, &g.grade.to_string()),
        "veto": g.veto, "veto_label": g.veto.map(|v| l.get(Category::List, v.name())),
        "lines": lines, "scoring_inputs": g.inputs_text(),
    })
}

fn warnings_json(w: &[credex_rules::Warning], l: &Labels) -> Value {
    json!(
        w.iter()
            .map(|x| json!({ "rule": x.rule, "label": l.get(Category::Rule, x.rule), "count": x.count }))
            .collect::<Vec<_>>()
    )
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)?
}

/// `GET /v1/subjects/{subject}`: the profile.
pub(super) async fn subject(
    State(node): State<Arc<Node>>,
    Path(subject): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> ApiResult {
    let subject = parse_subject(&subject)?;
    let l = Labels::new(lang(&headers, q.lang.as_deref())?);
    blocking(move || profile(&node, &subject, &l)).await.map(Json)
}

fn profile(node: &Node, subject: &SubjectId, l: &Labels) -> Result<Value, ApiError> {
    let now = node.now();
    // Publication windows (spec §11.1): the node leaves out penalties whose window ended.
    let (entries, withheld) = node.profile_attestations(subject).map_err(ApiError::internal)?;
    let mut attestations = Vec::new();
    for e in &entries {
        let (id, height, h, r) = (&e.id, e.height, &e.header, &e.record);
        attestations.push(json!({
            "id": id.to_string(), "height": height, "kind": h.kind, "kind_label": l.get(Category::Kind, h.kind.name()),
            "issuer": h.issuer, "effective_at": h.effective_at, "expires_at": h.expires_at,
            "state": status_name(&r.status), "supersedes": h.supersedes.map(|s| s.to_string()),
            "case": h.case.map(|c| c.to_string()),
        }));
    }
    let lists: Vec<Value> = ListKind::ALL
        .iter()
        .map(|list| {
            let r = node.listing(*list, subject);
            let current = r.as_ref().and_then(|r| r.current.clone());
            json!({
                "list": list, "label": l.get(Category::List, list.name()), "listed": current.is_some(),
                "since": current.as_ref().map(|c| c.since), "by": current.as_ref().map(|c| c.by.to_string()),
                "issuer": current.as_ref().map(|c| c.issuer.clone()),
                "escalated_from": current.as_ref().and_then(|c| c.escalated_from),
                "last_removed": r.as_ref().and_then(|r| r.last_removed),
                "times_listed": r.as_ref().map_or(0, |r| r.times_listed),
                "repair_conditions": current.is_some().then(|| l.get(Category::Condition, list.name())),
            })
        })
        .collect();
    let cases: Vec<Value> =
        node.cases_of(subject).map_err(ApiError::internal)?.iter().map(|(id, c)| case_json(id, c, l)).collect();
    let record = node.subject_record(subject).map_err(ApiError::internal)?;
    let grade = credex_rules::grade(&record, Sector::General, now);
    let warnings = credex_rules::warnings(&record, now);
    let key = node.subject_key(subject);
    Ok(json!({
        "subject": subject,
        "jurisdiction": subject.jurisdiction(),
        "scheme": subject.scheme_name(),
        "lang": l.lang.to_string(),
        "key": key.map(|k| json!({
            "public_key": k.key, "registrar": k.registrar, "height": k.height,
            "recovery": k.recovery, "previous_keys": k.previous.iter().map(|(key, until)| json!({ "key": key, "replaced_at": until })).collect::<Vec<_>>(),
        })),
        "attestations": attestations,
        "withheld_penalties": withheld,
        "lists": lists,
        "grade": grade_json(&grade, l),
        "warnings": warnings_json(&warnings, l),
        "cases": cases,
        "as_of": { "height": node.height(), "time": now },
    }))
}

/// `GET /v1/subjects/{subject}/grade?sector=`.
pub(super) async fn grade(
    State(node): State<Arc<Node>>,
    Path(subject): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> ApiResult {
    let subject = parse_subject(&subject)?;
    let l = Labels::new(lang(&headers, q.lang.as_deref())?);
    let sector: Sector = match q.sector.as_deref() {
        None => Sector::General,
        Some(s) => s.parse().map_err(|e: String| ApiError::bad("invalid-sector", e))?,
    };
    blocking(move || {
        let record = node.subject_record(&subject).map_err(ApiError::internal)?;
        let g = credex_rules::grade(&record, sector, node.now());
        let mut v = grade_json(&g, &l);
        v["subject"] = json!(subject);
        // The grade attestations on record (the agency's issued grades), newest last.
        v["issued"] = json!(
            record
                .attestations
                .iter()
                .filter(|e| e.header.kind == AttestationKind::CreditGrade && e.status == AttestationStatus::Active)
                .map(|e| json!({ "issuer": e.header.issuer, "effective_at": e.header.effective_at }))
                .collect::<Vec<_>>()
        );
        Ok(v)
    })
    .await
    .map(Json)
}

/// `POST /v1/transactions`.
pub(super) async fn submit_tx(
    State(node): State<Arc<Node>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    let tx: Transaction =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad("malformed", format!("transaction JSON: {e}")))?;
    if matches!(tx, Transaction::Anchor(_)) {
        return Err(ApiError::bad(
            "use-attestations",
            "submit attestations with their fields to POST /v1/attestations; this node keeps the fields",
        ));
    }
    submitted(tokio::task::spawn_blocking(move || node.submit_local(&tx)).await.map_err(ApiError::internal)?)
}

/// `GET /v1/transactions/{id}`.
pub(super) async fn transaction(State(node): State<Arc<Node>>, Path(id): Path<String>) -> ApiResult {
    let id = parse_id(&id)?;
    let standing = node.standing(&id).map_err(ApiError::internal)?;
    if standing == Standing::Unknown {
        return Err(ApiError::not_found("unknown-transaction", format!("transaction {id} is not known to this node")));
    }
    let mut v = standing_json(&standing);
    v["id"] = json!(id.to_string());
    Ok(Json(v))
}

/// `GET /v1/cases/{id}`.
pub(super) async fn case(
    State(node): State<Arc<Node>>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> ApiResult {
    let id: CaseId = id.parse().map_err(|e| ApiError::bad("invalid-id", format!("case id: {e}")))?;
    let l = Labels::new(lang(&headers, q.lang.as_deref())?);
    let Some(c) = node.case(&id) else {
        let pending = node.standing(&credex_types::AttestationId(id.0)).map_err(ApiError::internal)?;
        return match pending {
            s @ (Standing::Pending | Standing::Rejected(_)) => {
                let mut v = standing_json(&s);
                v["id"] = json!(id.to_string());
                Ok(Json(v))
            }
            _ => Err(ApiError::not_found("unknown-case", format!("case {id} is not known to this node"))),
        };
    };
    let mut v = case_json(&id, &c, &l);
    let p = node.case_proof(&id).map_err(proof_error)?;
    let proof = proof_json(&p);
    v["proof_text"] = proof["proof_text"].clone();
    v["size"] = proof["size"].clone();
    Ok(Json(v))
}

/// `GET /v1/issuers`.
pub(super) async fn issuers(
    State(node): State<Arc<Node>>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> ApiResult {
    let l = Labels::new(lang(&headers, q.lang.as_deref())?);
    let list: Vec<Value> = node
        .issuers()
        .into_iter()
        .map(|(agency, r)| {
            let name = r.names.get(l.lang);
            json!({
                "agency": agency, "name": name, "names": r.names, "jurisdiction": r.jurisdiction, "key": r.key,
                "active": r.active, "kinds": r.kinds,
                "kind_labels": r.kinds.iter().map(|k| l.get(Category::Kind, k.name())).collect::<Vec<_>>(),
                "retired_keys": r.retired_keys.iter().map(|(k, h)| json!({ "key": k, "until_height": h })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({ "issuers": list })))
}

/// `GET /v1/labels`.
pub(super) async fn labels() -> ApiResult {
    let t = LabelTable::builtin();
    Ok(Json(json!({ "hash": t.hash().to_string(), "entries": t.entries })))
}

/// `GET /v1/warnings`.
pub(super) async fn risk_list(
    State(app): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> ApiResult {
    let l = Labels::new(lang(&headers, q.lang.as_deref())?);
    let list = app.node.risk_list().map_err(ApiError::internal)?;
    let entries: Vec<Value> = list
        .into_iter()
        .map(|(subject, rules)| {
            let labels: Vec<String> = rules.iter().map(|r| l.get(Category::Rule, r)).collect();
            json!({ "subject": subject, "rules": rules, "labels": labels })
        })
        .collect();
    Ok(Json(json!({ "model": credex_rules::WARN_MODEL, "last_event": app.warnings.last_seq(), "subjects": entries })))
}

#[derive(serde::Deserialize)]
pub(super) struct EventsQuery {
    after: Option<u64>,
    wait: Option<u64>,
    limit: Option<usize>,
}

/// Longest long-poll.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// `GET /v1/warnings/events?after=N&wait=S`: events after N; with `wait`,
/// blocks up to S seconds (at most 60) for the next one.
pub(super) async fn events(State(app): State<AppState>, Query(q): Query<EventsQuery>) -> ApiResult {
    let after = q.after.unwrap_or(0);
    let limit = super::page_limit(q.limit, 100)?;
    let wait = Duration::from_secs(q.wait.unwrap_or(0));
    if wait > MAX_WAIT {
        return Err(ApiError::bad("invalid-wait", "wait at most 60 seconds"));
    }
    let mut rx = app.warnings.watch();
    if *rx.borrow_and_update() <= after && !wait.is_zero() {
        let deadline = tokio::time::Instant::now() + wait;
        while *rx.borrow_and_update() <= after {
            if tokio::time::timeout_at(deadline, rx.changed()).await.is_err() {
                break;
            }
        }
    }
    let events = app.warnings.events_after(after, limit).map_err(ApiError::internal)?;
    let next = events.last().and_then(|e| e["seq"].as_u64()).unwrap_or(after);
    Ok(Json(json!({ "events": events, "next": next })))
}

#[derive(serde::Deserialize)]
pub(super) struct SubscribeBody {
    url: String,
}

/// `POST /v1/warnings/subscriptions` `{"url": "http://…"}`.
/// The URL must pass the node's webhook policy (http:// to a public
/// address, or an allowed exception); the subscription belongs to its creator.
pub(super) async fn subscribe(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<credex_node::access::Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    let b: SubscribeBody =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad("malformed", format!("subscription JSON: {e}")))?;
    app.warnings.policy().check(&b.url).await.map_err(|e| ApiError::bad(e.code(), e.to_string()))?;
    let sub = app.warnings.subscribe(&caller.client, &b.url).map_err(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(json!(sub))).into_response())
}

/// `GET /v1/warnings/subscriptions`: the caller's own.
pub(super) async fn subscriptions(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<credex_node::access::Caller>,
) -> ApiResult {
    Ok(Json(json!({ "subscriptions": app.warnings.subscriptions_of(&caller.client).map_err(ApiError::internal)? })))
}

/// `DELETE /v1/warnings/subscriptions/{id}`: only the caller's own (another's is 404, as if absent).
pub(super) async fn unsubscribe(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<credex_node::access::Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    if app.warnings.unsubscribe(&caller.client, &id).map_err(ApiError::internal)? {
        Ok(Json(json!({ "deleted": id })))
    } else {
        Err(ApiError::not_found("unknown-subscription", format!("no subscription {id}")))
    }
}
