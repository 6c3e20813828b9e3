//! The web UI (embedded: no external assets; the border post may be
//! offline) and the printable credit report.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use credex_types::ListKind;
use credex_types::labels::{Category, Lang};

use super::lifecycle::{Labels, lang};
use super::public::qr_svg;
use super::{ApiError, parse_subject, proof_error};
use credex_node::service::Node;

const INDEX: &str = include_str!("../web/index.html");
const APP: &str = include_str!("../web/app.js");
const STYLE: &str = include_str!("../web/style.css");
const SIGN: &str = include_str!("../web/sign.js");

/// `GET /`.
pub(super) async fn index() -> Html<&'static str> {
    Html(INDEX)
}

/// `GET /assets/app.js`.
pub(super) async fn app_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], APP).into_response()
}

/// `GET /assets/sign.js`.
pub(super) async fn sign_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SIGN).into_response()
}

/// `GET /assets/style.css`.
pub(super) async fn style_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

/// `GET /assets/verifier.js`: the glue of the in-browser verifier.
pub(super) async fn verifier_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], credex_verify_wasm::VERIFIER_JS).into_response()
}

/// `GET /assets/verify.wasm`: the verifier compiled to WebAssembly
/// (`credex-verify-wasm`); 404 `no-wasm` if this node was built without it.
pub(super) async fn verify_wasm() -> Response {
    if credex_verify_wasm::WASM.is_empty() {
        return ApiError::not_found(
            "no-wasm",
            "this node was built without the in-browser verifier (no wasm32 target); the page verifies through POST /v1/verify",
        )
        .into_response();
    }
    ([(header::CONTENT_TYPE, "application/wasm")], credex_verify_wasm::WASM).into_response()
}

/// `GET /v1/genesis`: this chain's genesis file (TOML), for verifiers.
pub(super) async fn genesis(State(node): State<Arc<Node>>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], node.genesis().to_toml()).into_response()
}

/// `GET /verify.html`: the offline verify page, one self-contained file
/// with this chain's genesis embedded (see [`offline_page`]).
pub(super) async fn offline(State(node): State<Arc<Node>>) -> Result<Response, ApiError> {
    let page = offline_page(&node.genesis().to_toml())?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "inline; filename=\"credex-verify.html\""),
        ],
        page,
    )
        .into_response())
}

/// The offline verify page: the web UI's verify page in one HTML file with
/// its style, scripts, the WebAssembly verifier and `genesis_toml` inlined
/// (base64, so no text in them can end a script element). It needs no
/// node and no network: saved to a laptop or phone at a border post, it
/// verifies pasted, uploaded or scanned proofs (spec §8.6).
pub(super) fn offline_page(genesis_toml: &str) -> Result<String, ApiError> {
    use base64::Engine as _;
    if credex_verify_wasm::WASM.is_empty() {
        return Err(ApiError::not_found(
            "no-wasm",
            "this node was built without the in-browser verifier (no wasm32 target), so it has no offline page",
        ));
    }
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let scripts = format!(
        "<script>const CREDEX_OFFLINE = {{ wasm: \"{}\", genesis: \"{}\" }};</script>\n<script>{}</script>\n<script>{}</script>",
        b64(credex_verify_wasm::WASM),
        b64(genesis_toml.as_bytes()),
        credex_verify_wasm::VERIFIER_JS,
        APP,
    );
    let page = INDEX
        .replace("<link rel=\"stylesheet\" href=\"/assets/style.css\">", &format!("<style>{STYLE}</style>"))
        .replace("<body>", "<body data-offline>")
        .replace("<script src=\"/assets/sign.js\"></script>\n", "")
        .replace("<script src=\"/assets/verifier.js\"></script>\n", "")
        .replace("<script src=\"/assets/app.js\"></script>", &scripts);
    Ok(page)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The report's words, in `lang`.
struct Words {
    title: &'static str,
    name: &'static str,
    registered_by: &'static str,
    subject: &'static str,
    issued: &'static str,
    as_of: &'static str,
    height: &'static str,
    chain: &'static str,
    list: &'static str,
    status: &'static str,
    agency: &'static str,
    basis: &'static str,
    listed: &'static str,
    clear: &'static str,
    removed: &'static str,
    recent: &'static str,
    no_recent: &'static str,
    put_on: &'static str,
    taken_off: &'static str,
    qr: &'static str,
    verify: &'static str,
    offline: &'static str,
    command: &'static str,
    genesis: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::Zh => Words {
            title: "企业信用报告",
            name: "企业名称",
            registered_by: "登记机关",
            subject: "主体",
            issued: "出具时间",
            as_of: "数据截至",
            height: "区块高度",
            chain: "链",
            list: "名单",
            status: "状态",
            agency: "列入机关",
            basis: "依据",
            listed: "在名单中，列入时间",
            clear: "未列入",
            removed: "最近移出",
            recent: "近期变化（90 天内）",
            no_recent: "90 天内无变化。",
            put_on: "列入",
            taken_off: "移出",
            qr: "二维码为该主体在全部名单上状态的离线可验证证明，由验证节点签署。",
            verify: "验证：扫描二维码或打开",
            offline: "离线验证：",
            command: "credex verify 证明文件 --genesis 创世文件",
            genesis: "创世文件哈希",
        },
        Lang::Ru => Words {
            title: "Кредитный отчёт о компании",
            name: "Наименование",
            registered_by: "зарегистрировал",
            subject: "Субъект",
            issued: "Выдан",
            as_of: "Данные на",
            height: "высота блока",
            chain: "цепочка",
            list: "Список",
            status: "Статус",
            agency: "Внёс",
            basis: "Основание",
            listed: "в списке с",
            clear: "не в списке",
            removed: "исключён",
            recent: "Изменения за 90 дней",
            no_recent: "За 90 дней изменений нет.",
            put_on: "внесён",
            taken_off: "исключён",
            qr: "QR-код — одно проверяемое офлайн доказательство статуса субъекта во всех списках, подписанное валидаторами.",
            verify: "Проверка: отсканируйте QR-код или откройте",
            offline: "Офлайн:",
            command: "credex verify ФАЙЛ --genesis ГЕНЕЗИС",
            genesis: "Хеш генезиса",
        },
        Lang::En => Words {
            title: "Credit report",
            name: "Registered name",
            registered_by: "registered by",
            subject: "Subject",
            issued: "Issued",
            as_of: "As of",
            height: "block height",
            chain: "chain",
            list: "List",
            status: "Status",
            agency: "Listed by",
            basis: "Legal basis",
            listed: "listed since",
            clear: "not listed",
            removed: "last removed",
            recent: "Changes in the last 90 days",
            no_recent: "No changes in the last 90 days.",
            put_on: "put on",
            taken_off: "taken off",
            qr: "The QR code is one offline-verifiable proof of the subject's standing on every list, signed by the validators.",
            verify: "Verify: scan the QR code or open",
            offline: "Offline:",
            command: "credex verify FILE --genesis GENESIS",
            genesis: "Genesis hash",
        },
    }
}

/// What the report covers as "recent": 90 days before the block.
const RECENT_MS: u64 = 90 * 86_400_000;

/// The report's own style: the UI's, then a one-page A4 layout for print.
const REPORT_STYLE: &str = "@page { size: A4; margin: 14mm 14mm 12mm; }
main.report { max-width: 46rem; }
main.report h1 { margin: 0 0 .3rem; }
main.report table { margin: .4rem 0 .6rem; }
main.report th, main.report td { font-size: .85rem; padding: .25rem .4rem; }
main.report .qrbox { display: flex; gap: 1rem; align-items: flex-start; margin-top: .6rem; }
main.report .qr { width: 58mm; flex: none; }
main.report .qrtext p { margin: .2rem 0; }
@media print { main.report { margin: 0; padding: 0; } body { font-size: 10pt; } }";

/// The printable report of `subject` for `reader`: the subject's standing
/// on every list (since when, by which agency, on which legal basis), the
/// changes of the last 90 days, when it was issued and as of which block,
/// and one QR code holding the every-list proof, with where to verify it
/// (`verify_url`, the node's own page, when the request named a usable
/// host). Self-contained (styles inlined) and laid out for one A4 page,
/// so a saved copy prints as served.
pub(crate) fn report_html(
    node: &Node,
    subject: &credex_types::SubjectId,
    reader: &credex_verify::Reader,
    verify_url: Option<&str>,
) -> Result<String, ApiError> {
    let lang = reader.lang;
    let l = Labels::new(lang);
    let w = words(lang);
    let agency_name = |a: &credex_types::AgencyId| -> Result<String, ApiError> {
        Ok(match node.issuer(a)? {
            Some(r) => format!("{} <span class=\"muted mono\">{}</span>", esc(r.names.get(lang)), esc(a.as_str())),
            None => format!("<span class=\"mono\">{}</span>", esc(a.as_str())),
        })
    };
    // the proof first: the report states what it proves, at its height
    let proof = node.standing_proof(subject).map_err(proof_error)?;
    let block = &proof.anchor.header;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{} — {}</title><style>{STYLE}\n{REPORT_STYLE}</style></head><body><main class=\"report\">",
        esc(w.title),
        esc(&subject.to_string())
    );
    let _ = write!(h, "<h1>{}</h1>", esc(w.title));
    if let Some(n) = node.subject_name(subject)? {
        let _ = write!(
            h,
            "<p><b>{}:</b> <span id=\"name\" class=\"proper\">{}</span> <span class=\"muted\">({} {})</span></p>",
            esc(w.name),
            esc(&n.display(lang)),
            esc(w.registered_by),
            agency_name(&n.registrar)?
        );
    }
    let _ = write!(
        h,
        "<p><b>{}:</b> <span class=\"mono\" id=\"subject\">{}</span></p>",
        esc(w.subject),
        esc(&subject.to_string())
    );
    let _ = write!(
        h,
        "<p id=\"issued\"><b>{}:</b> {}<br><span class=\"muted\">{} {} ({} {}, {} <span class=\"mono\">{}</span>)</span></p>",
        esc(w.issued),
        esc(&reader.when(node.now())),
        esc(w.as_of),
        esc(&reader.when(block.time)),
        esc(w.height),
        block.height,
        esc(w.chain),
        esc(node.genesis().chain_id.as_str()),
    );
    let _ = write!(
        h,
        "<table id=\"statuses\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(w.list),
        esc(w.status),
        esc(w.agency),
        esc(w.basis)
    );
    let mut recent = Vec::new();
    let recent_from = block.time.0.saturating_sub(RECENT_MS);
    for list in ListKind::ALL {
        let record = node.listing(*list, subject)?;
        let name = l.get(Category::List, list.name());
        let row = match record.as_ref().and_then(|r| r.current.as_ref()) {
            Some(c) => {
                let basis = node
                    .anchored_header(&c.by)
                    .map_err(ApiError::internal)?
                    .map(|hd| {
                        let code = hd.legal_basis.to_string();
                        credex_types::AttestationKind::legal_basis_title(&code, lang).unwrap_or(code)
                    })
                    .unwrap_or_default();
                if c.since.0 >= recent_from {
                    recent.push((c.since, format!("{}: {}", w.put_on, name)));
                }
                format!(
                    "<td><span class=\"listed\">{} {}</span></td><td>{}</td><td>{}</td>",
                    esc(w.listed),
                    esc(&reader.when(c.since)),
                    agency_name(&c.issuer)?,
                    esc(&basis)
                )
            }
            None => {
                let removed = record.as_ref().and_then(|r| r.last_removed);
                let note = removed
                    .map(|t| format!(" <span class=\"muted\">({} {})</span>", esc(w.removed), esc(&reader.when(t))))
                    .unwrap_or_default();
                format!("<td><span class=\"clear\">{}</span>{note}</td><td></td><td></td>", esc(w.clear))
            }
        };
        if let Some(t) = record.as_ref().and_then(|r| r.last_removed).filter(|t| t.0 >= recent_from) {
            recent.push((t, format!("{}: {}", w.taken_off, name)));
        }
        let _ = write!(h, "<tr data-list=\"{}\"><th>{}</th>{row}</tr>", list.name(), esc(&name));
    }
    h.push_str("</table>");
    recent.sort();
    let _ = write!(h, "<h2 style=\"font-size:1rem;margin:.4rem 0\">{}</h2>", esc(w.recent));
    if recent.is_empty() {
        let _ = write!(h, "<p class=\"muted\" id=\"recent\">{}</p>", esc(w.no_recent));
    } else {
        h.push_str("<ul id=\"recent\">");
        for (t, what) in &recent {
            let _ = write!(h, "<li>{} — {}</li>", esc(&reader.when(*t)), esc(what));
        }
        h.push_str("</ul>");
    }
    let _ = write!(
        h,
        "<div class=\"qrbox\"><div class=\"qr\">{}</div><div class=\"qrtext\"><p>{}</p>",
        qr_svg(&proof.to_text())?,
        esc(w.qr)
    );
    if let Some(url) = verify_url {
        let _ = write!(h, "<p id=\"verify-url\">{} <span class=\"mono\">{}</span></p>", esc(w.verify), esc(url));
    }
    let _ = write!(
        h,
        "<p class=\"muted\">{} <code>{}</code></p><p class=\"muted\">{}: <span class=\"mono\">{}</span></p></div></div>",
        esc(w.offline),
        esc(w.command),
        esc(w.genesis),
        node.genesis_hash()
    );
    h.push_str("</main></body></html>");
    Ok(h)
}

/// The node's own verify page as the caller reached it (`Host` header and
/// the connection's scheme), if the host is a plain host name or address.
fn verify_url(headers: &HeaderMap, scheme: Option<super::server::Scheme>) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    plain.then(|| format!("{}://{host}/#/verify", scheme.unwrap_or(super::server::Scheme::Http).as_str()))
}

/// `GET /report/{subject}?lang=`.
pub(super) async fn report(
    State(node): State<Arc<Node>>,
    Path(subject): Path<String>,
    Query(q): Query<ReportQuery>,
    scheme: Option<axum::Extension<super::server::Scheme>>,
    headers: HeaderMap,
) -> Result<Html<String>, ApiError> {
    let subject = parse_subject(&subject)?;
    let mut reader = credex_verify::Reader::new(lang(&headers, q.lang.as_deref())?);
    if let Some(tz) = &q.tz {
        reader.zone = tz.parse().map_err(|e: String| ApiError::bad("invalid-tz", e))?;
    }
    let url = verify_url(&headers, scheme.map(|s| s.0));
    Ok(Html(
        tokio::task::spawn_blocking(move || report_html(&node, &subject, &reader, url.as_deref()))
            .await
            .map_err(ApiError::internal)??,
    ))
}

/// `GET /report/{subject}`'s query: the reader's language and zone.
#[derive(serde::Deserialize)]
pub(super) struct ReportQuery {
    lang: Option<String>,
    tz: Option<String>,
}
