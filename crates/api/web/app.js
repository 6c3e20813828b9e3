// credex web UI: verify, trader profile (码上诚信), lists, explorer — in zh / ru / en.
// No external assets: everything is served by the node. Hash routes:
//   #/verify[?proof=credex1:…]   #/trader/<subject>   #/lists/<list>[?q=…]   #/explorer   #/block/<height>   #/attestation/<id>
"use strict";

const T = {
  en: {
    "err.invalid-list": "No such list.", "err.unknown-attestation": "No such attestation on this chain.", "err.unknown-transaction": "This node does not know that transaction.",
    "err.unknown-block": "No such block yet.", "err.no-block": "The chain has no block yet.", "err.invalid-height": "Not a block height.", "err.invalid-id": "Not a valid id (64 hex digits).",
    "err.too-large": "Too large for the node to take.", "err.malformed-credentials": "The sign-in data sent was incomplete; sign in again.", "err.audit-unavailable": "The node could not record this access, so it answered nothing; try again later.",
    "err.qr-too-large": "Too large for one QR code.", "err.not-anchored": "Not on the chain yet.", "err.empty-body": "Nothing to verify: paste a proof first.", "err.timeout": "The node took too long; try again.", "err.method-not-allowed": "Not allowed here.",
    "verify.namefrom": "registered name, as this node holds it; the proof itself binds the identifier",
    "trader.norecord": "Not rated: the chain holds no record of this trader",
    "f.name": "Registered name",
    "access.list": "read a list status", "access.standing": "read the standing on every list",
    "node.dev": "development chain", "node.validator": "validator", "node.observer": "observer",
    "f.detail": "Detail", "f.effective": "In effect since", "f.expires": "Lapses", "f.age": "Proof's age", "f.policy": "Policy applied",
    "signin.notkey": "This is not a credex key file.", "trader.qrtitle": "QR code", "trader.access": "Who looked at this record",
    "access.who": "Who", "access.role": "Role", "access.what": "What", "access.basis": "Legal basis or authorization", "access.none": "Nobody has looked at this record yet.",
    "access.log": "read the access log", "access.grade": "read the grade", "access.profile": "read the profile", "access.record": "read a raw record", "access.attestation": "read an attestation", "access.case": "read a case",
    "role.official": "official", "role.issuer": "issuing agency", "role.platform": "platform", "role.subject": "the trader itself", "role.public": "public",
    "state.active": "in force", "state.revoked": "revoked", "state.superseded": "superseded", "state.erased": "erased", "state.expired": "expired",
    "f.id": "Id", "f.genesis": "genesis", "block.root": "State root", "block.parent": "Previous block",
    "tx.anchor": "attestation", "tx.evidence": "evidence of misbehaviour", "tx.subject-key": "trader's key", "tx.subject-act": "trader's act or agency decision", "tx.governance": "governance", "tx.audit-anchor": "audit log anchor",
    "err.forbidden": "Your role may not see this.", "err.unauthenticated": "Sign in to see this.", "err.not-found": "Not found.", "err.rate-limited": "Too many requests; try again in a moment.",
    "err.bad-request-signature": "The request's signature was refused: is this the right key file for this chain?", "err.unknown-client": "This key is not registered on this node.", "err.stale-request": "This computer's clock is too far off; correct it and try again.",
    "err.replay": "The request was sent twice; try again.", "err.read-only": "The node is not accepting changes just now.", "err.invalid-subject": "This is not a valid subject id.",
    "signin": "Sign in with a key file", "signout": "Sign out", "trader.grade": "Grade", "trader.attestations": "Attestations", "trader.cases": "Cases", "trader.warnings": "Warnings", "trader.signedout": "Sign in (an official's, platform's or the trader's key file) to see the grade, attestations and cases.",
    "nav.verify": "Verify", "nav.trader": "Trader", "nav.lists": "Lists", "nav.explorer": "Explorer",
    "verify.title": "Verify a credit proof", "verify.paste": "Paste a proof (credex1:…), upload a proof file, or scan its QR code.",
    "verify.button": "Verify", "verify.file": "Proof file", "verify.scan": "Scan QR code", "verify.noscan": "This browser cannot scan QR codes with the camera; paste or upload the proof instead.",
    "verify.against": "Verified against this node's genesis", "verify.chain": "chain",
    "verify.browser": "Checked in this browser: the proof was sent nowhere.", "verify.node": "Checked by this node.", "verify.genesis": "Genesis file", "verify.nogenesis": "Choose the genesis file of the chain to verify against.", "verify.offline": "Offline verifier",
    "outcome.valid": "VALID", "outcome.not-listed": "VALID: NOT LISTED", "outcome.on-no-list": "VALID: ON NO LIST", "outcome.listed": "LISTED", "outcome.recently-listed": "RECENTLY LISTED", "outcome.revoked": "REVOKED",
    "outcome.superseded": "SUPERSEDED", "outcome.erased": "ERASED", "outcome.expired": "EXPIRED", "outcome.stale": "STALE", "outcome.invalid": "INVALID",
    "f.subject": "Subject", "f.kind": "Attestation", "f.list": "List", "f.issuer": "Issuer", "f.fields": "Disclosed fields", "f.height": "Block",
    "f.time": "Time", "f.signers": "Signed by", "f.reason": "Reason", "f.case": "Case", "f.since": "Since", "f.status": "Status", "tz.Asia/Shanghai": "Beijing time", "tz.Asia/Vladivostok": "Vladivostok time", "tz.UTC": "UTC", "tz.label": "Time zone",
    "trader.title": "Trader credit code", "trader.search": "Subject id (e.g. 91350100M000100Y43 or ru-inn:7707083893)", "trader.show": "Show",
    "trader.listed": "listed since", "trader.clear": "not listed", "trader.removed": "last removed",
    "trader.qr": "This QR code holds one offline-verifiable proof of the trader's standing on every list, signed by the validators.",
    "trader.report": "Printable credit report",
    "lists.title": "Credit lists", "lists.search": "Name or id", "lists.next": "Next page", "lists.total": "on the list", "lists.empty": "Nobody on this list.",
    "explorer.title": "Latest blocks", "explorer.height": "Height", "explorer.txs": "Transactions", "explorer.proposer": "Proposer",
    "block.title": "Block", "block.cert": "Commit certificate", "block.signatures": "signatures, round", "explorer.redacted": "Which subject and what kind an attestation concerns is shown to signed-in callers.",
    "error": "Error"
  },
  zh: {
    "err.invalid-list": "无此名单。", "err.unknown-attestation": "本链无此信用记录。", "err.unknown-transaction": "本节点不知道该交易。",
    "err.unknown-block": "尚无此区块。", "err.no-block": "链上尚无区块。", "err.invalid-height": "不是有效的区块高度。", "err.invalid-id": "编号无效（应为 64 位十六进制）。",
    "err.too-large": "内容过大，节点无法接收。", "err.malformed-credentials": "登录信息不完整，请重新登录。", "err.audit-unavailable": "节点无法记录本次访问，因此未作答复；请稍后再试。",
    "err.qr-too-large": "内容过大，无法放入一个二维码。", "err.not-anchored": "尚未上链。", "err.empty-body": "没有可验证的内容：请先粘贴证明。", "err.timeout": "节点响应超时，请重试。", "err.method-not-allowed": "此处不允许该操作。",
    "verify.namefrom": "企业名称取自本节点；证明本身绑定的是主体标识",
    "trader.norecord": "未评级：链上无该企业的任何记录",
    "f.name": "企业名称",
    "access.list": "查看名单状态", "access.standing": "查看全部名单状态",
    "node.dev": "开发链", "node.validator": "验证节点", "node.observer": "观察节点",
    "f.detail": "详情", "f.effective": "生效时间", "f.expires": "失效时间", "f.age": "证明时长", "f.policy": "所用策略",
    "signin.notkey": "这不是 credex 密钥文件。", "trader.qrtitle": "二维码", "trader.access": "谁查看过该记录",
    "access.who": "查看者", "access.role": "身份", "access.what": "内容", "access.basis": "法律依据或授权", "access.none": "尚无人查看过该记录。",
    "access.log": "查看访问记录", "access.grade": "查看信用等级", "access.profile": "查看信用档案", "access.record": "查看原始记录", "access.attestation": "查看信用记录", "access.case": "查看事项",
    "role.official": "工作人员", "role.issuer": "认定机关", "role.platform": "平台", "role.subject": "企业本身", "role.public": "公众",
    "state.active": "有效", "state.revoked": "已撤销", "state.superseded": "已被取代", "state.erased": "已删除", "state.expired": "已过期",
    "f.id": "编号", "f.genesis": "创世文件", "block.root": "状态根", "block.parent": "上一区块",
    "tx.anchor": "信用记录", "tx.evidence": "违规证据", "tx.subject-key": "企业密钥", "tx.subject-act": "企业或机关的行为", "tx.governance": "治理", "tx.audit-anchor": "审计日志锚定",
    "err.forbidden": "您的身份无权查看此内容。", "err.unauthenticated": "请登录后查看。", "err.not-found": "未找到。", "err.rate-limited": "请求过多，请稍后再试。",
    "err.bad-request-signature": "请求签名被拒绝：密钥文件是否属于本链？", "err.unknown-client": "此密钥未在本节点登记。", "err.stale-request": "本机时钟偏差过大，请校正后重试。",
    "err.replay": "请求重复发送，请重试。", "err.read-only": "节点暂不接受变更。", "err.invalid-subject": "主体标识无效。",
    "signin": "使用密钥文件登录", "signout": "退出", "trader.grade": "信用等级", "trader.attestations": "信用记录", "trader.cases": "事项", "trader.warnings": "预警", "trader.signedout": "使用工作人员、平台或企业本身的密钥文件登录后，可查看信用等级、信用记录和事项。",
    "nav.verify": "验证", "nav.trader": "企业信用码", "nav.lists": "名单", "nav.explorer": "区块浏览器",
    "verify.title": "验证信用证明", "verify.paste": "粘贴证明（credex1:…）、上传证明文件或扫描二维码。",
    "verify.button": "验证", "verify.file": "证明文件", "verify.scan": "扫描二维码", "verify.noscan": "此浏览器无法用摄像头扫描二维码，请粘贴或上传证明。",
    "verify.against": "依据本节点创世文件验证", "verify.chain": "链",
    "verify.browser": "在本浏览器中验证：证明未发送到任何地方。", "verify.node": "由本节点验证。", "verify.genesis": "创世文件", "verify.nogenesis": "请选择所依据的链的创世文件。", "verify.offline": "离线验证器",
    "outcome.valid": "有效", "outcome.not-listed": "有效：未列入该名单", "outcome.on-no-list": "有效：未列入任何名单", "outcome.listed": "在名单中", "outcome.recently-listed": "近期曾在名单中", "outcome.revoked": "已撤销",
    "outcome.superseded": "已被取代", "outcome.erased": "已删除", "outcome.expired": "已过期", "outcome.stale": "证明过旧", "outcome.invalid": "无效",
    "f.subject": "主体", "f.kind": "信用记录", "f.list": "名单", "f.issuer": "认定机关", "f.fields": "披露字段", "f.height": "区块",
    "f.time": "时间", "f.signers": "签署验证者", "f.reason": "原因", "f.case": "事项", "f.since": "列入时间", "f.status": "状态", "tz.Asia/Shanghai": "北京时间", "tz.Asia/Vladivostok": "符拉迪沃斯托克时间", "tz.UTC": "协调世界时", "tz.label": "时区",
    "trader.title": "码上诚信", "trader.search": "主体标识（如 91350100M000100Y43 或 ru-inn:7707083893）", "trader.show": "查询",
    "trader.listed": "列入时间", "trader.clear": "未列入", "trader.removed": "最近移出",
    "trader.qr": "此二维码包含该企业在全部名单上状态的离线可验证证明，由验证节点签署。",
    "trader.report": "可打印信用报告",
    "lists.title": "信用名单", "lists.search": "企业名称或代码", "lists.next": "下一页", "lists.total": "在名单中", "lists.empty": "名单为空。",
    "explorer.title": "最新区块", "explorer.height": "高度", "explorer.txs": "交易", "explorer.proposer": "提议者",
    "block.title": "区块", "block.cert": "提交证书", "block.signatures": "个签名，轮次", "explorer.redacted": "信用记录涉及的主体和类别仅向已登录用户显示。",
    "error": "错误"
  },
  ru: {
    "err.invalid-list": "Такого списка нет.", "err.unknown-attestation": "В этой цепочке нет такой записи.", "err.unknown-transaction": "Этот узел не знает такой транзакции.",
    "err.unknown-block": "Такого блока ещё нет.", "err.no-block": "В цепочке ещё нет блоков.", "err.invalid-height": "Это не высота блока.", "err.invalid-id": "Неверный номер (64 шестнадцатеричные цифры).",
    "err.too-large": "Слишком много данных для узла.", "err.malformed-credentials": "Данные входа неполны; войдите снова.", "err.audit-unavailable": "Узел не смог записать этот доступ и поэтому не ответил; повторите позже.",
    "err.qr-too-large": "Слишком много для одного QR-кода.", "err.not-anchored": "Ещё не в цепочке.", "err.empty-body": "Нечего проверять: сначала вставьте доказательство.", "err.timeout": "Узел отвечал слишком долго; повторите.", "err.method-not-allowed": "Здесь это не разрешено.",
    "verify.namefrom": "наименование по данным этого узла; само доказательство связано с номером",
    "trader.norecord": "Без рейтинга: в цепочке нет записей об этой компании",
    "f.name": "Наименование",
    "access.list": "статус в списке", "access.standing": "статус во всех списках",
    "node.dev": "тестовая цепочка", "node.validator": "валидатор", "node.observer": "наблюдатель",
    "f.detail": "Подробно", "f.effective": "Действует с", "f.expires": "Истекает", "f.age": "Возраст доказательства", "f.policy": "Политика проверки",
    "signin.notkey": "Это не файл ключа credex.", "trader.qrtitle": "QR-код", "trader.access": "Кто смотрел эту запись",
    "access.who": "Кто", "access.role": "Роль", "access.what": "Что", "access.basis": "Правовое основание или разрешение", "access.none": "Эту запись ещё никто не смотрел.",
    "access.log": "журнал доступа", "access.grade": "рейтинг", "access.profile": "профиль", "access.record": "исходная запись", "access.attestation": "запись", "access.case": "дело",
    "role.official": "сотрудник", "role.issuer": "орган", "role.platform": "платформа", "role.subject": "сама компания", "role.public": "общедоступно",
    "state.active": "действует", "state.revoked": "отозвано", "state.superseded": "заменено", "state.erased": "удалено", "state.expired": "истёк срок",
    "f.id": "Номер", "f.genesis": "генезис", "block.root": "Корень состояния", "block.parent": "Предыдущий блок",
    "tx.anchor": "запись", "tx.evidence": "доказательство нарушения", "tx.subject-key": "ключ компании", "tx.subject-act": "действие компании или органа", "tx.governance": "управление", "tx.audit-anchor": "привязка журнала аудита",
    "err.forbidden": "Ваша роль не даёт доступа к этим данным.", "err.unauthenticated": "Войдите, чтобы увидеть это.", "err.not-found": "Не найдено.", "err.rate-limited": "Слишком много запросов; повторите чуть позже.",
    "err.bad-request-signature": "Подпись запроса отклонена: это файл ключа для этой цепочки?", "err.unknown-client": "Этот ключ не зарегистрирован на узле.", "err.stale-request": "Часы этого компьютера сильно расходятся; исправьте и повторите.",
    "err.replay": "Запрос отправлен повторно; повторите.", "err.read-only": "Узел сейчас не принимает изменений.", "err.invalid-subject": "Неверный идентификатор субъекта.",
    "signin": "Войти с файлом ключа", "signout": "Выйти", "trader.grade": "Рейтинг", "trader.attestations": "Записи", "trader.cases": "Дела", "trader.warnings": "Предупреждения", "trader.signedout": "Войдите с файлом ключа сотрудника, платформы или самой компании, чтобы видеть рейтинг, записи и дела.",
    "nav.verify": "Проверка", "nav.trader": "Компания", "nav.lists": "Списки", "nav.explorer": "Обозреватель",
    "verify.title": "Проверка кредитного доказательства", "verify.paste": "Вставьте доказательство (credex1:…), загрузите файл или отсканируйте QR-код.",
    "verify.button": "Проверить", "verify.file": "Файл доказательства", "verify.scan": "Сканировать QR-код", "verify.noscan": "Этот браузер не умеет сканировать QR-коды камерой; вставьте или загрузите доказательство.",
    "verify.against": "Проверено по генезис-файлу этого узла", "verify.chain": "цепочка",
    "verify.browser": "Проверено в этом браузере: доказательство никуда не отправлялось.", "verify.node": "Проверено этим узлом.", "verify.genesis": "Генезис-файл", "verify.nogenesis": "Выберите генезис-файл цепочки, по которой проверять.", "verify.offline": "Офлайн-проверка",
    "outcome.valid": "ДЕЙСТВИТЕЛЬНО", "outcome.not-listed": "ДЕЙСТВИТЕЛЬНО: НЕ В СПИСКЕ", "outcome.on-no-list": "ДЕЙСТВИТЕЛЬНО: НИ В ОДНОМ СПИСКЕ", "outcome.listed": "В СПИСКЕ", "outcome.recently-listed": "НЕДАВНО В СПИСКЕ", "outcome.revoked": "ОТОЗВАНО",
    "outcome.superseded": "ЗАМЕНЕНО", "outcome.erased": "УДАЛЕНО", "outcome.expired": "ИСТЁК СРОК", "outcome.stale": "УСТАРЕЛО", "outcome.invalid": "НЕДЕЙСТВИТЕЛЬНО",
    "f.subject": "Субъект", "f.kind": "Запись", "f.list": "Список", "f.issuer": "Орган", "f.fields": "Раскрытые поля", "f.height": "Блок",
    "f.time": "Время", "f.signers": "Подписали", "f.reason": "Причина", "f.case": "Дело", "f.since": "В списке с", "f.status": "Статус", "tz.Asia/Shanghai": "пекинское время", "tz.Asia/Vladivostok": "владивостокское время", "tz.UTC": "UTC", "tz.label": "Часовой пояс",
    "trader.title": "Кредитный код компании", "trader.search": "Идентификатор (например, 91350100M000100Y43 или ru-inn:7707083893)", "trader.show": "Показать",
    "trader.listed": "в списке с", "trader.clear": "не в списке", "trader.removed": "исключён",
    "trader.qr": "QR-код содержит одно проверяемое офлайн доказательство статуса компании во всех списках, подписанное валидаторами.",
    "trader.report": "Кредитный отчёт для печати",
    "lists.title": "Кредитные списки", "lists.search": "Название или номер", "lists.next": "Следующая страница", "lists.total": "в списке", "lists.empty": "Список пуст.",
    "explorer.title": "Последние блоки", "explorer.height": "Высота", "explorer.txs": "Транзакции", "explorer.proposer": "Предлагающий",
    "block.title": "Блок", "block.cert": "Сертификат фиксации", "block.signatures": "подписей, раунд", "explorer.redacted": "Субъект и вид записи видны только вошедшим пользователям.",
    "error": "Ошибка"
  }
};
// the offline verify page (GET /verify.html) defines CREDEX_OFFLINE: the
// verifier and the genesis inlined; only the verify page, no node to ask
const OFFLINE = typeof CREDEX_OFFLINE !== "undefined";
const LISTS = ["abnormal-operation", "serious-violation", "red", "black", "dishonest-debtor"];

let lang = (new URLSearchParams(location.search).get("lang")) || localStorage.getItem("credex-lang") ||
  ((navigator.language || "en").slice(0, 2));
if (!T[lang]) lang = "en";
let labels = null;

const t = (k) => (T[lang] && T[lang][k]) || T.en[k] || k;
const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const main = () => document.getElementById("main");

// Work in progress (a route, a verification, a sign-in): while any runs,
// <body data-idle="no">; when all are done, "yes". Screen readers get
// aria-busy the same way; the browser tests wait for it.
let pendingWork = 0;
async function work(f) {
  pendingWork++;
  document.body.dataset.idle = "no";
  document.body.setAttribute("aria-busy", "true");
  try { return await f(); } finally {
    if (--pendingWork === 0) { document.body.dataset.idle = "yes"; document.body.removeAttribute("aria-busy"); }
  }
}

// Times are stored in UTC; people read them in their zone, named: Beijing
// time for Chinese, Vladivostok time for Russian readers, UTC otherwise,
// or the zone chosen in the header (kept in this browser).
const ZONES = ["Asia/Shanghai", "Asia/Vladivostok", "UTC"];
const zone = () => localStorage.getItem("credex-tz") || ({ zh: "Asia/Shanghai", ru: "Asia/Vladivostok" }[lang] || "UTC");
function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  const parts = {};
  for (const p of new Intl.DateTimeFormat("en-GB", { timeZone: zone(), year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(d)) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${t("tz." + zone())}`;
}

// the signed-in key file (an official's, platform's, issuer's or subject's), for this tab only
let keyFile = OFFLINE ? null : JSON.parse(sessionStorage.getItem("credex-key") || "null");
let audience = null; // the node's status: chain_id, genesis, agency (what a signed request is for)

async function api(path, opts) {
  const sep = path.includes("?") ? "&" : "?";
  const full = path + sep + "lang=" + lang;
  opts = Object.assign({}, opts || {});
  if (keyFile && window.credexSign && crypto.subtle) {
    if (!audience) audience = await (await fetch("/v1/status")).json();
    let body = opts.body || new Uint8Array(0);
    if (typeof body === "string") body = new TextEncoder().encode(body);
    opts.body = body.length ? body : undefined;
    opts.headers = Object.assign({}, opts.headers || {}, await credexSign.headers(keyFile, audience, opts.method || "GET", full, body, Date.now()));
  }
  const r = await fetch(full, opts);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    // the refusal in the reader's words; the node's own text stays beside it for support
    const code = body.code || String(r.status);
    const e = new Error(T.en["err." + code] ? t("err." + code) : body.message || code);
    e.code = code;
    throw e;
  }
  return body;
}

// an error as a reader sees it: the sentence, and the node's code for support
const errHtml = (e) => esc(e.message) + (e.code ? ` <code>${esc(e.code)}</code>` : "");

// agencies by id, with their names in the reader's language (GET /v1/issuers)
let agencies = null;
async function agencyName(id) {
  if (!id) return "";
  if (!agencies) {
    agencies = {};
    for (const a of (await api("/v1/issuers")).issuers) agencies[a.agency] = a.names;
  }
  const n = agencies[id];
  return n ? (n[lang] || n.en || id) : id;
}

async function label(category, code) {
  if (!labels) labels = (await api("/v1/labels")).entries;
  const e = labels.find((x) => x.category === category && x.code === code);
  return e ? e[lang] : code;
}

function showWho() {
  const who = document.getElementById("who");
  const out = document.getElementById("signout");
  who.textContent = keyFile ? "👤 " + credexSign.clientOf(keyFile) : "";
  out.hidden = !keyFile;
}

function setLang(l) {
  lang = l;
  localStorage.setItem("credex-lang", l);
  document.documentElement.lang = l;
  document.querySelectorAll("[data-t]").forEach((e) => (e.textContent = t(e.dataset.t)));
  document.querySelectorAll("[data-lang]").forEach((e) => e.classList.toggle("active", e.dataset.lang === l));
  const tz = document.getElementById("tz");
  if (tz) {
    tz.title = t("tz.label");
    tz.innerHTML = ZONES.map((z) => `<option value="${z}"${z === zone() ? " selected" : ""}>${esc(t("tz." + z))}</option>`).join("");
    tz.onchange = () => { localStorage.setItem("credex-tz", tz.value); route(); };
  }
  showWho();
  route();
}

function params() {
  const h = location.hash.slice(1);
  const q = h.indexOf("?");
  return { path: (q < 0 ? h : h.slice(0, q)).split("/").filter(Boolean), query: new URLSearchParams(q < 0 ? "" : h.slice(q + 1)) };
}

// ---- verify ----
function outcomeClass(o) {
  if (o === "valid") return "outcome-valid";
  if (o === "invalid" || o === "revoked" || o === "erased" || o === "listed") return "outcome-invalid";
  return "outcome-warn";
}

function renderVerdict(v) {
  const o = v.valid ? v.outcome : "invalid";
  // "valid" of a list proof means "not on the list": say so
  const word = o === "valid" && v.lists && v.lists.length ? "outcome.on-no-list"
    : o === "valid" && v.list ? "outcome.not-listed" : "outcome." + o;
  let h = `<div id="outcome" class="outcome ${outcomeClass(o)}" data-outcome="${esc(o)}">${esc(t(word))}</div>`;
  if (!v.valid) {
    // the reason in the reader's words; the verifier's own text, for support, beside it
    h += `<p id="reason"><b>${esc(t("f.reason"))}:</b> ${esc(v.reason || v.error.code)}</p>`
      + `<p class="muted">${esc(t("f.detail"))}: <code>${esc(v.error.code)}</code> <code>${esc(v.error.message)}</code></p>`;
  } else {
    if (v.summary) h += `<p id="summary" class="summary">${esc(v.summary)}</p>`;
    h += "<table>";
    h += `<tr><th>${esc(t("f.subject"))}</th><td data-subject="${esc(v.subject)}"><span class="mono">${esc(v.subject)}</span></td></tr>`;
    if (v.kind) h += `<tr><th>${esc(t("f.kind"))}</th><td>${esc(v.kind_label)} <span class="muted mono">${esc(v.kind)}</span></td></tr>`;
    if (v.list && !(v.lists && v.lists.length)) h += `<tr><th>${esc(t("f.list"))}</th><td>${esc(v.list_label)}</td></tr>`;
    for (const x of v.lists || []) {
      const st = x.since ? `<span class="listed">${esc(t("outcome.listed"))} ${esc(when(x.since))} (<span data-agency="${esc(x.issuer)}">${esc(x.issuer_name || x.issuer)}</span>)</span>` : `<span class="clear">${esc(t("trader.clear"))}</span>`;
      h += `<tr data-list="${esc(x.list)}"><th>${esc(x.list_label)}</th><td>${st}</td></tr>`;
    }
    if (v.detail && v.detail.since) h += `<tr><th>${esc(t("f.since"))}</th><td>${esc(when(v.detail.since))}</td></tr>`;
    if (v.issuer) h += `<tr><th>${esc(t("f.issuer"))}</th><td data-agency="${esc(v.issuer)}">${esc(v.issuer_name || v.issuer)}</td></tr>`;
    if (v.effective_at) h += `<tr><th>${esc(t("f.effective"))}</th><td id="effective">${esc(when(v.effective_at))}</td></tr>`;
    if (v.expires_at) h += `<tr><th>${esc(t("f.expires"))}</th><td id="expires">${esc(when(v.expires_at))}</td></tr>`;
    if (v.case) h += `<tr><th>${esc(t("f.case"))}</th><td>${esc(v.case.kind)} — ${esc(v.case.status_label)}</td></tr>`;
    for (const f of v.fields || []) h += `<tr><th>${esc(f.label)}</th><td>${esc(f.value)}</td></tr>`;
    h += `<tr><th>${esc(t("f.height"))}</th><td>${esc(v.height)} <span class="muted mono">${esc(v.block_id)}</span></td></tr>`;
    h += `<tr><th>${esc(t("f.time"))}</th><td data-utc="${esc(v.block_time)}">${esc(when(v.block_time))}</td></tr>`;
    h += `<tr><th>${esc(t("f.signers"))}</th><td>${(v.signers || []).map((s) => `${esc(s.name)} [${esc(s.jurisdiction)}]`).join("<br>")}</td></tr>`;
    if (v.age_ms != null) h += `<tr><th>${esc(t("f.age"))}</th><td id="age">${esc(ageText(v.age_ms))}</td></tr>`;
    if (v.policy) h += `<tr><th>${esc(t("f.policy"))}</th><td id="policy">${esc(v.policy)}</td></tr>`;
    h += "</table>";
  }
  h += `<p class="muted">${esc(t(OFFLINE ? "verify.genesis" : "verify.against"))} <span class="mono" id="genesis">${esc(v.genesis)}</span></p>`;
  return h;
}

// a proof's age at a glance: "3 d 4 h", "5 h 12 min", "40 s"
function ageText(ms) {
  const d = Math.floor(ms / 86400000), h = Math.floor(ms / 3600000) % 24, m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60;
  const u = { en: ["d", "h", "min", "s"], zh: ["天", "小时", "分钟", "秒"], ru: ["дн.", "ч", "мин", "с"] }[lang] || ["d", "h", "min", "s"];
  if (d) return `${d} ${u[0]} ${h} ${u[1]}`;
  if (h) return `${h} ${u[1]} ${m} ${u[2]}`;
  if (m) return `${m} ${u[2]}`;
  return `${s} ${u[3]}`;
}

// The in-browser verifier (credex-verify-wasm): the node's own module, or
// in the offline page the one inlined with its genesis. null if this browser
// or build has none; the online page then asks the node (POST /v1/verify).
const b64bytes = (b) => Uint8Array.from(atob(b), (c) => c.charCodeAt(0));
let localVerifier = null;
let genesisText = OFFLINE ? new TextDecoder().decode(b64bytes(CREDEX_OFFLINE.genesis)) : null;
function browserVerifier() {
  if (!localVerifier) {
    localVerifier = (async () => {
      if (typeof CredexVerifier === "undefined" || typeof WebAssembly === "undefined") return null;
      try {
        const v = await CredexVerifier.load(OFFLINE ? b64bytes(CREDEX_OFFLINE.wasm) : "/assets/verify.wasm");
        if (genesisText === null) {
          // a node without the route: verify through it instead
          const r = await fetch("/v1/genesis");
          if (!r.ok) return null;
          genesisText = await r.text();
        }
        return v;
      } catch (e) { return null; }
    })();
  }
  return localVerifier;
}

async function verify(data) {
  const out = document.getElementById("result");
  try {
    const local = await browserVerifier();
    if (local && genesisText) {
      const repeat = Math.max(1, Math.min(1000, Number(params().query.get("repeat")) || 1));
      const t0 = performance.now();
      let a;
      for (let i = 0; i < repeat; i++) a = local.verify({ genesis: genesisText, now: new Date().toISOString(), lang, tz: zone() }, data);
      const ms = (performance.now() - t0) / repeat;
      out.innerHTML = (a.answer ? renderVerdict(a.answer)
        : `<div id="outcome" class="outcome outcome-invalid" data-outcome="unchecked">${esc(t("error"))}</div><pre id="reason">${esc(a.text)}</pre>`)
        + `<p class="muted" id="where" data-where="browser" data-exit="${esc(a.exit_code)}" data-ms="${ms.toFixed(3)}">${esc(t("verify.browser"))}</p>`;
    } else if (OFFLINE) {
      out.innerHTML = `<div class="outcome outcome-warn">${esc(t("verify.nogenesis"))}</div>`;
    } else {
      const v = await api(`/v1/verify?tz=${encodeURIComponent(zone())}`, { method: "POST", body: data });
      out.innerHTML = renderVerdict(v) + `<p class="muted" id="where" data-where="node">${esc(t("verify.node"))}</p>`;
    }
    await addRegisteredName(out);
  } catch (e) {
    out.innerHTML = `<div class="outcome outcome-invalid">${esc(t("error"))}</div><p>${errHtml(e)}</p>`;
  }
}

// A proof binds the subject's identifier, not its name; online, the node
// adds the registered name it holds (spec §11.10), said to be the node's.
async function addRegisteredName(out) {
  const cell = out.querySelector("td[data-subject]");
  if (OFFLINE || !cell) return;
  try {
    const s = await api(`/v1/standing/${encodeURIComponent(cell.dataset.subject)}`);
    if (s.name) cell.insertAdjacentHTML("afterbegin", `<span class="proper" id="verified-name">${esc(s.name.display)}</span> <span class="muted">(${esc(t("verify.namefrom"))})</span><br>`);
  } catch (e) { /* the verdict stands without the name */ }
}

async function scan() {
  const note = document.getElementById("scan-note");
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { note.textContent = t("verify.noscan"); return; }
  try {
    const detector = new BarcodeDetector({ formats: ["qr_code"] });
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    const video = document.getElementById("video");
    video.srcObject = stream; video.hidden = false; await video.play();
    const tick = async () => {
      const codes = await detector.detect(video).catch(() => []);
      if (codes.length) {
        stream.getTracks().forEach((tr) => tr.stop()); video.hidden = true;
        document.getElementById("proof").value = codes[0].rawValue;
        verify(codes[0].rawValue);
      } else requestAnimationFrame(tick);
    };
    tick();
  } catch (e) { note.textContent = t("verify.noscan") + " (" + e.message + ")"; }
}

async function pageVerify(query) {
  main().innerHTML = `<h1>${esc(t("verify.title"))}</h1><p>${esc(t("verify.paste"))}</p>
    <textarea id="proof" spellcheck="false"></textarea><br>
    <button id="go">${esc(t("verify.button"))}</button>
    <label class="noprint">${esc(t("verify.file"))} <input type="file" id="file"></label>
    <button id="scan">${esc(t("verify.scan"))}</button> <span id="scan-note" class="muted"></span>
    <br><video id="video" hidden playsinline></video>
    ${OFFLINE ? `<p class="noprint"><label>${esc(t("verify.genesis"))} <input type="file" id="genesis-file" accept=".toml,text/plain"></label></p>` : ""}
    <div id="result"></div>`;
  const gf = document.getElementById("genesis-file");
  if (gf) gf.onchange = async (ev) => { const f = ev.target.files[0]; if (f) genesisText = await f.text(); };
  document.getElementById("go").onclick = () => work(() => verify(document.getElementById("proof").value));
  document.getElementById("scan").onclick = scan;
  document.getElementById("file").onchange = (ev) => {
    const f = ev.target.files[0];
    if (f) work(async () => verify(new Uint8Array(await f.arrayBuffer())));
  };
  const p = query.get("proof");
  if (p) { document.getElementById("proof").value = p; return verify(p); }
}

// ---- trader ----
async function pageTrader(subject) {
  main().innerHTML = `<h1>${esc(t("trader.title"))}</h1>
    <p class="noprint"><input id="subject" size="40" placeholder="${esc(t("trader.search"))}" value="${esc(subject || "")}">
    <button id="show">${esc(t("trader.show"))}</button></p><div id="trader"></div>`;
  document.getElementById("show").onclick = () => { location.hash = "#/trader/" + encodeURIComponent(document.getElementById("subject").value.trim()); };
  if (!subject) return;
  const box = document.getElementById("trader");
  try {
    let rows = "";
    let id = subject;
    let name = null;
    for (const l of LISTS) {
      const s = await api(`/v1/lists/${l}/${encodeURIComponent(subject)}`);
      id = s.subject;
      name = s.name || name;
      const r = s.record;
      const state = s.listed
        ? `<span class="listed">${esc(t("trader.listed"))} ${esc(when(s.listing.since))}</span> (<span data-agency="${esc(s.listing.issuer)}">${esc(await agencyName(s.listing.issuer))}</span>)`
        : `<span class="clear">${esc(t("trader.clear"))}</span>` + (r && r.last_removed ? ` <span class="muted">${esc(t("trader.removed"))} ${esc(when(r.last_removed))}</span>` : "");
      rows += `<tr data-list="${esc(l)}"><th>${esc(s.list_label)}</th><td>${state}</td></tr>`;
    }
    box.innerHTML = (name ? `<h2 id="trader-name" class="proper">${esc(name.display)}</h2>` : "")
      + `<p class="mono" id="trader-id">${esc(id)}</p><table id="statuses">${rows}</table>
      <h3>${esc(t("trader.qrtitle"))}</h3><div class="qr" id="qr"><img alt="${esc(t("trader.qrtitle"))}" width="320" height="320" src="/v1/standing/${encodeURIComponent(id)}/qr.svg"></div>
      <p class="muted">${esc(t("trader.qr"))}</p>
      <p><a href="/report/${encodeURIComponent(id)}?lang=${lang}">${esc(t("trader.report"))}</a></p>
      <div id="full">${keyFile ? "" : `<p class="muted">${esc(t("trader.signedout"))}</p>`}</div>`;
    if (keyFile) await fullProfile(id);
  } catch (e) { box.innerHTML = `<p class="listed">${esc(t("error"))}: ${errHtml(e)}</p>`; }
}

// grade, warnings, attestations and cases: for signed-in callers whose role may see them
async function fullProfile(id) {
  const box = document.getElementById("full");
  try {
    const p = await api(`/v1/subjects/${encodeURIComponent(id)}`);
    const g = p.grade;
    let h = g.no_record
      ? `<h3>${esc(t("trader.grade"))}</h3><p id="grade" data-grade="none"><b class="outcome-warn">${esc(t("trader.norecord"))}</b></p>`
      : `<h3>${esc(t("trader.grade"))}</h3><p id="grade" data-grade="${esc(g.grade)}"><b class="outcome-${g.grade === "A" || g.grade === "B" ? "valid" : "warn"}">${esc(g.grade_label)}</b> — ${esc(g.score)} <span class="muted">(${esc(g.sector_label)}, <span class="mono">${esc(g.model)}</span>)</span></p>`;
    h += `<table>${g.lines.map((l) => `<tr><td>${esc(l.label)}</td><td>×${esc(l.count)}</td><td>${l.points > 0 ? "+" : ""}${esc(l.points)}</td></tr>`).join("")}</table>`;
    if (p.warnings.length) h += `<h3>${esc(t("trader.warnings"))}</h3><ul>${p.warnings.map((w) => `<li class="listed">${esc(w.label)}</li>`).join("")}</ul>`;
    let rows = "";
    for (const a of p.attestations) {
      rows += `<tr><td>${esc(a.kind_label)}</td><td data-agency="${esc(a.issuer)}">${esc(await agencyName(a.issuer))}</td><td>${esc(when(a.effective_at))}</td><td>${esc(t("state." + a.state))}</td></tr>`;
    }
    h += `<h3>${esc(t("trader.attestations"))}</h3><table id="attestations">${rows}</table>`;
    if (p.cases.length) {
      rows = "";
      for (const c of p.cases) rows += `<tr><td>${esc(c.kind_label)}</td><td>${esc(c.status_label)}</td><td data-agency="${esc(c.agency)}">${esc(await agencyName(c.agency))}</td></tr>`;
      h += `<h3>${esc(t("trader.cases"))}</h3><table id="cases">${rows}</table>`;
    }
    box.innerHTML = h;
  } catch (e) { box.innerHTML = `<p class="muted" id="full-refused">${errHtml(e)}</p>`; return; }
  // who looked at this record: the trader itself and officials may see it
  if (keyFile.role !== "subject" && keyFile.role !== "official") return;
  try {
    const log = await api(`/v1/subjects/${encodeURIComponent(id)}/access-log`);
    const rows = log.entries.map((e) => `<tr><td>${esc(when(e.time))}</td><td class="mono">${esc(e.client)}</td><td>${esc(t("role." + e.role))}</td><td>${accessAction(e.action)}</td><td>${esc(e.basis || "")}</td></tr>`).join("");
    box.insertAdjacentHTML("beforeend", `<h3>${esc(t("trader.access"))}</h3>` +
      (rows ? `<table id="access-log"><tr><th>${esc(t("f.time"))}</th><th>${esc(t("access.who"))}</th><th>${esc(t("access.role"))}</th><th>${esc(t("access.what"))}</th><th>${esc(t("access.basis"))}</th></tr>${rows}</table>`
        : `<p class="muted" id="access-log">${esc(t("access.none"))}</p>`));
  } catch (e) { box.insertAdjacentHTML("beforeend", `<p class="muted" id="access-refused">${errHtml(e)}</p>`); }
}

// "GET /v1/subjects/…/grade" as the reader says it (HTML); a request the
// table does not name is shown as it was made
function accessAction(action) {
  const [method, path] = action.split(" ");
  const p = (path || "").split("?")[0];
  const what = /\/access-log$/.test(p) ? "access.log" : /\/grade$/.test(p) ? "access.grade"
    : /^\/v1\/subjects\//.test(p) ? "access.profile" : /\/record$/.test(p) ? "access.record"
    : /^\/v1\/attestations\//.test(p) ? "access.attestation" : /^\/v1\/cases\//.test(p) ? "access.case"
    : /^\/v1\/lists\//.test(p) ? "access.list" : /^\/v1\/standing/.test(p) ? "access.standing" : null;
  return what ? esc(t(what)) : `<span class="mono">${esc(method)} ${esc(p)}</span>`;
}

// ---- lists ----
async function pageLists(list, query) {
  list = LISTS.includes(list) ? list : LISTS[0];
  const q = query.get("q") || "";
  const after = query.get("after") || "";
  const options = await Promise.all(LISTS.map(async (l) => `<option value="${l}" ${l === list ? "selected" : ""}>${esc(await label("list", l))}</option>`));
  main().innerHTML = `<h1>${esc(t("lists.title"))}</h1>
    <p><select id="list">${options.join("")}</select> <input id="q" value="${esc(q)}" placeholder="${esc(t("lists.search"))}">
    <button id="search">${esc(t("trader.show"))}</button></p><div id="entries"></div>`;
  const go = (a) => { location.hash = `#/lists/${document.getElementById("list").value}?q=${encodeURIComponent(document.getElementById("q").value)}${a ? "&after=" + encodeURIComponent(a) : ""}`; };
  document.getElementById("search").onclick = () => go("");
  document.getElementById("list").onchange = () => go("");
  const r = await api(`/v1/lists/${list}?limit=20&q=${encodeURIComponent(q)}${after ? "&after=" + encodeURIComponent(after) : ""}`);
  let h = `<p><b id="total">${esc(r.total)}</b> ${esc(t("lists.total"))}</p>`;
  if (!r.entries.length) h += `<p>${esc(t("lists.empty"))}</p>`;
  else {
    h += `<table id="members"><tr><th>${esc(t("f.name"))}</th><th>${esc(t("f.subject"))}</th><th>${esc(t("f.since"))}</th><th>${esc(t("f.issuer"))}</th></tr>`;
    for (const e of r.entries) h += `<tr><td class="proper">${esc(e.name ? e.name.display : "")}</td><td class="mono"><a href="#/trader/${encodeURIComponent(e.subject)}">${esc(e.subject)}</a></td><td>${esc(when(e.since))}</td><td data-agency="${esc(e.issuer)}">${esc(await agencyName(e.issuer))}</td></tr>`;
    h += "</table>";
  }
  if (r.next) h += `<button id="next">${esc(t("lists.next"))}</button>`;
  document.getElementById("entries").innerHTML = h;
  if (r.next) document.getElementById("next").onclick = () => go(r.next);
}

// ---- explorer ----
async function pageExplorer() {
  const st = await api("/v1/status");
  let rows = "";
  for (let h = st.height; h > 0 && h > st.height - 15; h--) {
    const b = await api(`/v1/blocks/${h}`);
    rows += `<tr><td><a href="#/block/${h}">${h}</a></td><td>${esc(when(b.header.time))}</td><td>${b.transactions.length}</td><td class="mono">${esc(b.header.proposer)}</td><td class="mono">${esc(b.id.slice(0, 16))}…</td></tr>`;
  }
  main().innerHTML = `<h1>${esc(t("explorer.title"))}</h1><p class="muted">${esc(t("verify.chain"))} <span class="mono">${esc(st.chain_id)}</span> · ${esc(t("f.genesis"))} <span class="mono">${esc(st.genesis)}</span></p>
    <table id="blocks"><tr><th>${esc(t("explorer.height"))}</th><th>${esc(t("f.time"))}</th><th>${esc(t("explorer.txs"))}</th><th>${esc(t("explorer.proposer"))}</th><th>${esc(t("f.id"))}</th></tr>${rows}</table>`;
}

async function pageBlock(h) {
  const b = await api(`/v1/blocks/${encodeURIComponent(h)}`);
  let txs = "";
  for (const x of b.transactions) {
    const tx = x.tx;
    let what = esc(t("tx." + x.type));
    if (x.type === "anchor") what = tx
      ? `<a href="#/attestation/${esc(x.id)}">${esc(await label("kind", tx.header.kind))}</a> — <span class="mono">${esc(tx.header.subject)}</span> (${esc(await agencyName(tx.header.issuer))})`
      : `<a href="#/attestation/${esc(x.id)}">${esc(t("tx." + x.type))}</a>`;
    txs += `<tr><td class="mono">${esc(x.hash.slice(0, 16))}…</td><td>${what}</td></tr>`;
  }
  main().innerHTML = `<h1>${esc(t("block.title"))} ${esc(b.header.height)}</h1>
    <table><tr><th>${esc(t("f.id"))}</th><td class="mono">${esc(b.id)}</td></tr><tr><th>${esc(t("f.time"))}</th><td>${esc(when(b.header.time))}</td></tr>
    <tr><th>${esc(t("block.root"))}</th><td class="mono">${esc(b.header.state_root)}</td></tr><tr><th>${esc(t("block.parent"))}</th><td class="mono">${esc(b.header.parent)}</td></tr></table>
    <h2>${esc(t("explorer.txs"))}</h2><table>${txs}</table>
    <h2>${esc(t("block.cert"))}</h2><p>${b.certificate.signatures.length} ${esc(t("block.signatures"))} ${esc(b.certificate.round)}</p>`;
}

// an attestation as anchored: its header from the block (public), its status when signed in
async function pageAttestation(id) {
  const st = await api(`/v1/transactions/${encodeURIComponent(id)}`);
  const b = await api(`/v1/blocks/${st.height}`);
  const x = b.transactions.find((y) => y.id === id);
  if (!x.tx) {
    main().innerHTML = `<h1>${esc(t("f.kind"))}</h1><table id="attestation"><tr><th>${esc(t("f.id"))}</th><td class="mono">${esc(id)}</td></tr>
      <tr><th>${esc(t("f.height"))}</th><td><a href="#/block/${st.height}">${esc(st.height)}</a></td></tr></table>
      <p class="muted" id="redacted">${esc(t("explorer.redacted"))}</p>`;
    return;
  }
  const h = x.tx.header;
  let rows = `<tr><th>${esc(t("f.id"))}</th><td class="mono">${esc(id)}</td></tr>
    <tr><th>${esc(t("f.kind"))}</th><td>${esc(await label("kind", h.kind))}</td></tr>
    <tr><th>${esc(t("f.subject"))}</th><td class="mono"><a href="#/trader/${encodeURIComponent(h.subject)}">${esc(h.subject)}</a></td></tr>
    <tr><th>${esc(t("f.issuer"))}</th><td data-agency="${esc(h.issuer)}">${esc(await agencyName(h.issuer))}</td></tr>
    <tr><th>${esc(t("f.since"))}</th><td>${esc(when(h.effective_at))}${h.expires_at ? " – " + esc(when(h.expires_at)) : ""}</td></tr>
    <tr><th>${esc(t("f.height"))}</th><td><a href="#/block/${st.height}">${esc(st.height)}</a></td></tr>`;
  if (keyFile) {
    try { const a = await api(`/v1/attestations/${encodeURIComponent(id)}`); rows += `<tr><th>${esc(t("f.status"))}</th><td id="state" data-state="${esc(a.state)}">${esc(t("state." + a.state))}</td></tr>`; } catch (e) { /* not allowed to see the status */ }
  }
  main().innerHTML = `<h1>${esc(t("f.kind"))}</h1><table id="attestation">${rows}</table>`;
}

const route = () => work(async () => {
  const { path, query } = params();
  if (OFFLINE) { await pageVerify(query); return; }
  try {
    if (path[0] === "trader") await pageTrader(path[1] ? decodeURIComponent(path[1]) : "");
    else if (path[0] === "lists") await pageLists(path[1], query);
    else if (path[0] === "explorer") await pageExplorer();
    else if (path[0] === "block") await pageBlock(path[1]);
    else if (path[0] === "attestation") await pageAttestation(path[1]);
    else await pageVerify(query);
  } catch (e) { main().innerHTML = `<p class="listed">${esc(t("error"))}: ${errHtml(e)}</p>`; }
});

document.querySelectorAll("[data-lang]").forEach((e) => (e.onclick = (ev) => { ev.preventDefault(); setLang(e.dataset.lang); }));
if (!OFFLINE) document.getElementById("keyfile").onchange = (ev) => work(async () => {
  const f = ev.target.files[0];
  if (!f) return;
  const text = await f.text();
  try {
    const k = JSON.parse(text);
    if (!k.secret_seed) throw new Error(t("signin.notkey"));
    sessionStorage.setItem("credex-key", text);
    keyFile = k;
  } catch (e) { alert(e.message); }
  showWho(); await route();
});
document.getElementById("signout").onclick = (ev) => { ev.preventDefault(); sessionStorage.removeItem("credex-key"); keyFile = null; showWho(); route(); };
window.addEventListener("hashchange", route);
if (OFFLINE) document.getElementById("footer").innerHTML = `<span class="muted">credex · <span data-t="verify.offline">${esc(t("verify.offline"))}</span></span>`;
else api("/v1/status").then((s) => {
  document.getElementById("footer").innerHTML = `<span class="muted">credex · <span class="mono">${esc(s.chain_id)}</span> · <span data-t="node.${esc(s.role)}">${esc(t("node." + s.role))}</span> · <span data-t="f.height">${esc(t("f.height"))}</span> ${esc(s.height)}</span>`;
}).catch(() => {});
setLang(lang);
