//! The web UI (embedded: no external assets; the border post may be
//! offline) and the printable credit report.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use credex_types::ListKind;
use credex_types::labels::{Category, Lang};

use super::lifecycle::{Labels, LangQuery, lang};
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

fn words(lang: Lang) -> [&'static str; 9] {
    match lang {
        Lang::Zh => [
            "企业信用报告",
            "主体",
            "截至",
            "区块高度",
            "名单",
            "状态",
            "在名单中，列入时间",
            "未列入",
            "以下二维码为全部名单状态的离线可验证证明，可用 credex verify 或任一节点网页验证。",
        ],
        Lang::Ru => [
            "Кредитный отчёт о компании",
            "Субъект",
            "По состоянию на",
            "высота блока",
            "Список",
            "Статус",
            "в списке с",
            "не в списке",
            "QR-код ниже — одно проверяемое офлайн доказательство статуса во всех списках (credex verify или веб-страница любого узла).",
        ],
        Lang::En => [
            "Credit report",
            "Subject",
            "As of",
            "block height",
            "List",
            "Status",
            "listed since",
            "not listed",
            "The QR code below is one offline-verifiable proof of the standing on every list (check it with credex verify or any node's web page).",
        ],
    }
}

/// The printable report of `subject` in `lang`: list statuses and a QR
/// status proof for the abnormal-operation and serious-violation lists.
pub(crate) fn report_html(node: &Node, subject: &credex_types::SubjectId, lang: Lang) -> Result<String, ApiError> {
    let l = Labels::new(lang);
    let w = words(lang);
    let head = node.head();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{} — {}</title><link rel=\"stylesheet\" href=\"/assets/style.css\"></head><body><main>",
        esc(w[0]),
        esc(&subject.to_string())
    );
    let _ = write!(
        h,
        "<h1>{}</h1><p><b>{}:</b> <span class=\"mono\" id=\"subject\">{}</span></p>",
        esc(w[0]),
        esc(w[1]),
        esc(&subject.to_string())
    );
    if let Some(hd) = &head {
        let _ = write!(
            h,
            "<p class=\"muted\">{} {} ({} {}), {} {}</p>",
            esc(w[2]),
            hd.time,
            esc(w[3]),
            hd.height,
            node.genesis().chain_id,
            node.genesis_hash()
        );
    }
    let _ = write!(h, "<table id=\"statuses\"><tr><th>{}</th><th>{}</th></tr>", esc(w[4]), esc(w[5]));
    for list in ListKind::ALL {
        let state = match node.listing(*list, subject).and_then(|r| r.current) {
            Some(c) => format!("<span class=\"listed\">{} {} ({})</span>", esc(w[6]), c.since, esc(c.issuer.as_str())),
            None => format!("<span class=\"clear\">{}</span>", esc(w[7])),
        };
        let _ = write!(h, "<tr><th>{}</th><td>{state}</td></tr>", esc(&l.get(Category::List, list.name())));
    }
    let _ = write!(h, "</table><p class=\"muted\">{}</p>", esc(w[8]));
    // one proof of the subject's standing on every list, one QR code
    let proof = node.standing_proof(subject).map_err(proof_error)?;
    let caption = match lang {
        Lang::Zh => "全部名单",
        Lang::Ru => "Все списки",
        Lang::En => "All lists",
    };
    let _ = write!(
        h,
        "<figure style=\"display:inline-block;margin:0 1rem 1rem 0\"><div class=\"qr\">{}</div><figcaption>{}</figcaption></figure>",
        qr_svg(&proof.to_text())?,
        esc(caption)
    );
    h.push_str("</main></body></html>");
    Ok(h)
}

/// `GET /report/{subject}?lang=`.
pub(super) async fn report(
    State(node): State<Arc<Node>>,
    Path(subject): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Html<String>, ApiError> {
    let subject = parse_subject(&subject)?;
    let lang = lang(&headers, q.lang.as_deref())?;
    Ok(Html(
        tokio::task::spawn_blocking(move || report_html(&node, &subject, lang)).await.map_err(ApiError::internal)??,
    ))
}
