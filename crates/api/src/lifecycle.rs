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
use credex_api_types::types;
use credex_chain::Transaction;
use credex_rules::Sector;
use credex_types::labels::{Category, LabelTable, Lang};
use credex_types::lifecycle::{CaseId, CaseRecord};
use credex_types::state::AttestationStatus;
use credex_types::{AttestationKind, ListKind, SubjectId};

use super::{
    ApiError, ApiResult, AppState, body_bytes, parse_id, parse_subject, proof_error, standing, status_name, submitted,
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
    pub(super) lang: Lang,
}

impl Labels {
    pub(super) fn new(lang: Lang) -> Labels {
        Labels { table: LabelTable::builtin(), lang }
    }
    pub(super) fn get(&self, c: Category, code: &str) -> String {
        self.table.label(c, code, self.lang).unwrap_or(code).to_string()
    }
}

fn case_answer(id: &CaseId, c: &CaseRecord, l: &Labels) -> types::CaseAnswer {
    let kind = c.kind.name();
    types::CaseAnswer {
        id: id.to_string(),
        kind: kind.to_string(),
        kind_label: l.get(Category::Case, kind),
        subject: c.subject.clone(),
        agency: c.agency.clone(),
        target: c.target.map(|t| t.to_string()),
        list: c.list,
        list_label: c.list.map(|list| l.get(Category::List, list.name())),
        repair_conditions: c.list.map(|list| l.get(Category::Condition, list.name())),
        due: c.due,
        act: c.act.clone(),
        status: c.status,
        status_label: l.get(Category::Status, c.status.name()),
        history: c
            .history
            .iter()
            .map(|e| types::CaseStep {
                height: e.height,
                time: e.time,
                status: e.status,
                status_label: l.get(Category::Status, e.status.name()),
                by: e.by.map(|b| b.to_string()),
            })
            .collect(),
        proof_text: None,
        size: None,
    }
}

fn grade_answer(g: &credex_rules::Grade, l: &Labels) -> types::GradeAnswer {
    types::GradeAnswer {
        model: g.model.to_string(),
        sector: g.sector.name().to_string(),
        sector_label: l.get(Category::Sector, g.sector.name()),
        as_of: g.as_of,
        base: 100,
        score: g.score,
        grade: g.grade.to_string(),
        grade_label: l.get(Category::Grade, &g.grade.to_string()),
        veto: g.veto,
        veto_label: g.veto.map(|v| l.get(Category::List, v.name())),
        lines: g
            .lines
            .iter()
            .map(|x| types::GradeLine {
                rule: x.rule.to_string(),
                label: l.get(Category::Rule, x.rule),
                count: x.count,
                points: x.points,
            })
            .collect(),
        scoring_inputs: g.inputs_text(),
        no_record: g.no_record,
    }
}

fn warning_lines(w: &[credex_rules::Warning], l: &Labels) -> Vec<types::WarningLine> {
    w.iter()
        .map(|x| types::WarningLine { rule: x.rule.to_string(), label: l.get(Category::Rule, x.rule), count: x.count })
        .collect()
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
) -> ApiResult<types::Profile> {
    let subject = parse_subject(&subject)?;
    let l = Labels::new(lang(&headers, q.lang.as_deref())?);
    blocking(move || profile(&node, &subject, &l)).await.map(Json)
}

fn profile(node: &Node, subject: &SubjectId, l: &Labels) -> Result<types::Profile, ApiError> {
    let now = node.now();
    // Publication windows (spec §11.1): the node leaves out penalties whose window ended.
    let (entries, withheld) = node.profile_attestations(subject).map_err(ApiError::internal)?;
    let attestations = entries
        .iter()
        .map(|e| {
            let h = &e.header;
            types::ProfileAttestation {
                id: e.id,
                height: e.height,
                kind: h.kind,
                kind_label: l.get(Category::Kind, h.kind.name()),
                issuer: h.issuer.clone(),
                effective_at: h.effective_at,
                expires_at: h.expires_at,
                state: status_name(&e.record.status).to_string(),
                supersedes: h.supersedes.map(|s| s.to_string()),
                case: h.case.map(|c| c.to_string()),
            }
        })
        .collect();
    let lists = ListKind::ALL
        .iter()
        .map(|list| -> Result<types::ProfileList, ApiError> {
            let r = node.listing(*list, subject)?;
            let current = r.as_ref().and_then(|r| r.current.clone());
            Ok(types::ProfileList {
                list: *list,
                label: l.get(Category::List, list.name()),
                listed: current.is_some(),
                since: current.as_ref().map(|c| c.since),
                by: current.as_ref().map(|c| c.by.to_string()),
                issuer: current.as_ref().map(|c| c.issuer.clone()),
                escalated_from: current.as_ref().and_then(|c| c.escalated_from),
                last_removed: r.as_ref().and_then(|r| r.last_removed),
                times_listed: r.as_ref().map_or(0, |r| r.times_listed),
                repair_conditions: current.is_some().then(|| l.get(Category::Condition, list.name())),
            })
        })
        .collect::<Result<_, _>>()?;
    let cases =
        node.cases_of(subject).map_err(ApiError::internal)?.iter().map(|(id, c)| case_answer(id, c, l)).collect();
    let record = node.subject_record(subject).map_err(ApiError::internal)?;
    let grade = credex_rules::grade(&record, Sector::General, now);
    let warnings = credex_rules::warnings(&record, now);
    Ok(types::Profile {
        name: node.subject_name(subject)?.map(|n| types::RegisteredName::from_record(n, l.lang)),
        subject: subject.clone(),
        jurisdiction: subject.jurisdiction(),
        scheme: subject.scheme_name().to_string(),
        lang: l.lang.to_string(),
        key: node.subject_key(subject)?.map(|k| types::ProfileKey {
            public_key: k.key,
            registrar: k.registrar,
            height: k.height,
            recovery: k.recovery,
            previous_keys: k
                .previous
                .iter()
                .map(|(key, until)| types::PreviousKey { key: *key, replaced_at: *until })
                .collect(),
        }),
        attestations,
        withheld_penalties: withheld,
        lists,
        grade: grade_answer(&grade, l),
        warnings: warning_lines(&warnings, l),
        cases,
        as_of: types::AsOf { height: node.height(), time: now },
    })
}

/// `GET /v1/subjects/{subject}/grade?sector=`.
pub(super) async fn grade(
    State(node): State<Arc<Node>>,
    Path(subject): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> ApiResult<types::SubjectGrade> {
    let subject = parse_subject(&subject)?;
    let l = Labels::new(lang(&headers, q.lang.as_deref())?);
    let sector: Sector = match q.sector.as_deref() {
        None => Sector::General,
        Some(s) => s.parse().map_err(|e: String| ApiError::bad("invalid-sector", e))?,
    };
    blocking(move || {
        let record = node.subject_record(&subject).map_err(ApiError::internal)?;
        let g = credex_rules::grade(&record, sector, node.now());
        // The grade attestations on record (the agency's issued grades), newest last.
        let issued = record
            .attestations
            .iter()
            .filter(|e| e.header.kind == AttestationKind::CreditGrade && e.status == AttestationStatus::Active)
            .map(|e| types::IssuedGrade { issuer: e.header.issuer.clone(), effective_at: e.header.effective_at })
            .collect();
        Ok(types::SubjectGrade { grade: grade_answer(&g, &l), subject, issued })
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
pub(super) async fn transaction(State(node): State<Arc<Node>>, Path(id): Path<String>) -> ApiResult<types::Submitted> {
    let id = parse_id(&id)?;
    let s = node.standing(&id).map_err(ApiError::internal)?;
    if s == Standing::Unknown {
        return Err(ApiError::not_found("unknown-transaction", format!("transaction {id} is not known to this node")));
    }
    Ok(Json(types::Submitted { id, standing: standing(&s) }))
}

/// `GET /v1/cases/{id}`.
pub(super) async fn case(
    State(node): State<Arc<Node>>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> ApiResult<types::CaseOrStanding> {
    let id: CaseId = id.parse().map_err(|e| ApiError::bad("invalid-id", format!("case id: {e}")))?;
    let l = Labels::new(lang(&headers, q.lang.as_deref())?);
    let Some(c) = node.case(&id)? else {
        let pending = node.standing(&credex_types::AttestationId(id.0)).map_err(ApiError::internal)?;
        return match pending {
            s @ (Standing::Pending | Standing::Rejected(_)) => {
                Ok(Json(types::CaseOrStanding::Standing(types::Submitted {
                    id: credex_types::AttestationId(id.0),
                    standing: standing(&s),
                })))
            }
            _ => Err(ApiError::not_found("unknown-case", format!("case {id} is not known to this node"))),
        };
    };
    let mut v = case_answer(&id, &c, &l);
    let p = node.case_proof(&id).map_err(proof_error)?;
    v.proof_text = Some(p.to_text());
    v.size = Some(p.to_bytes().len());
    Ok(Json(types::CaseOrStanding::Case(Box::new(v))))
}

/// `GET /v1/issuers`.
pub(super) async fn issuers(
    State(node): State<Arc<Node>>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> ApiResult<types::Issuers> {
    let l = Labels::new(lang(&headers, q.lang.as_deref())?);
    let issuers = node
        .issuers()?
        .into_iter()
        .map(|(agency, r)| types::IssuerAnswer {
            agency,
            name: r.names.get(l.lang).to_string(),
            kind_labels: r.kinds.iter().map(|k| l.get(Category::Kind, k.name())).collect(),
            retired_keys: r.retired_keys.iter().map(|(k, h)| types::RetiredKey { key: *k, until_height: *h }).collect(),
            names: r.names,
            jurisdiction: r.jurisdiction,
            key: r.key,
            active: r.active,
            kinds: r.kinds,
        })
        .collect();
    Ok(Json(types::Issuers { issuers }))
}

/// `GET /v1/validators`.
pub(super) async fn validators(State(node): State<Arc<Node>>) -> ApiResult<types::Validators> {
    let height = node.height();
    let set = node.validator_set();
    Ok(Json(types::Validators { height, hash: set.hash(), set }))
}

/// `GET /v1/checkpoint`: a checkpoint at the head (spec §8.5), text form.
pub(super) async fn checkpoint(State(node): State<Arc<Node>>) -> Result<String, ApiError> {
    let cp = tokio::task::spawn_blocking(move || node.checkpoint()).await.map_err(ApiError::internal)?;
    cp.map(|c| c.to_text() + "\n").map_err(crate::proof_error)
}

/// `GET /v1/labels`.
pub(super) async fn labels() -> ApiResult<types::Labels> {
    let t = LabelTable::builtin();
    Ok(Json(types::Labels { hash: t.hash(), entries: t.entries }))
}

/// `GET /v1/warnings`.
pub(super) async fn risk_list(
    State(app): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> ApiResult<types::RiskList> {
    let l = Labels::new(lang(&headers, q.lang.as_deref())?);
    let subjects = app
        .node
        .risk_list()
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|(subject, rules)| types::RiskEntry {
            labels: rules.iter().map(|r| l.get(Category::Rule, r)).collect(),
            subject,
            rules,
        })
        .collect();
    Ok(Json(types::RiskList {
        model: credex_rules::WARN_MODEL.to_string(),
        last_event: app.warnings.last_seq(),
        subjects,
    }))
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
pub(super) async fn events(State(app): State<AppState>, Query(q): Query<EventsQuery>) -> ApiResult<types::Events> {
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
    let next = events.last().map_or(after, |e| e.seq);
    Ok(Json(types::Events { events, next }))
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
    Ok((StatusCode::CREATED, Json(sub)).into_response())
}

/// `GET /v1/warnings/subscriptions`: the caller's own.
pub(super) async fn subscriptions(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<credex_node::access::Caller>,
) -> ApiResult<types::Subscriptions> {
    let subscriptions = app.warnings.subscriptions_of(&caller.client).map_err(ApiError::internal)?;
    Ok(Json(types::Subscriptions { subscriptions }))
}

/// `DELETE /v1/warnings/subscriptions/{id}`: only the caller's own (another's is 404, as if absent).
pub(super) async fn unsubscribe(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<credex_node::access::Caller>,
    Path(id): Path<String>,
) -> ApiResult<types::Deleted> {
    if app.warnings.unsubscribe(&caller.client, &id).map_err(ApiError::internal)? {
        Ok(Json(types::Deleted { deleted: id }))
    } else {
        Err(ApiError::not_found("unknown-subscription", format!("no subscription {id}")))
    }
}
