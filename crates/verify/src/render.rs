//! Human-readable verdicts, with labels in the chosen language and times
//! in the reader's zone (named: "Beijing time", "владивостокское время").

use std::fmt::Write as _;

use credex_crypto::Hash32;
use credex_proof::{Outcome, Policy, ProofError, Verdict};
use credex_types::Timestamp;
use credex_types::labels::{Category, LabelTable, Lang};
use credex_types::time::Zone;

/// How a reader reads a verdict: their language and time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    /// Labels and sentences.
    pub lang: Lang,
    /// Times.
    pub zone: Zone,
}

impl Reader {
    /// A reader of `lang` in that language's default zone ([`Zone::for_reader`]).
    pub fn new(lang: Lang) -> Reader {
        Reader { lang, zone: Zone::for_reader(lang) }
    }

    /// `t` as this reader reads it: `2026-12-01 20:03 北京时间`.
    pub fn when(&self, t: Timestamp) -> String {
        let zone = match (self.zone.name.as_str(), self.zone.offset_min) {
            ("Asia/Shanghai", 480) => phrase(self.lang, "tz-shanghai").to_string(),
            ("Asia/Vladivostok", 600) => phrase(self.lang, "tz-vladivostok").to_string(),
            (_, 0) => "UTC".to_string(),
            (_, m) => format!("UTC{}{:02}:{:02}", if m < 0 { '-' } else { '+' }, m.abs() / 60, m.abs() % 60),
        };
        format!("{} {zone}", self.zone.local(t))
    }
}

/// Why a proof was refused, in the reader's words (the code's meaning;
/// the verifier's own text gives the detail).
pub fn reason(code: &str, lang: Lang) -> &'static str {
    match phrase(lang, &format!("reason.{code}")) {
        "?" => phrase(lang, "reason.other"),
        r => r,
    }
}

/// The label of `code`, or the code itself when the genesis does not pin
/// this verifier's table (`t` is `None`) or the table has none.
fn label<'a>(t: Option<&'a LabelTable>, c: Category, code: &'a str, lang: Lang) -> &'a str {
    t.and_then(|t| t.label(c, code, lang)).unwrap_or(code)
}

/// An agency as a reader knows it: its name in `lang` and its code, or
/// the code alone when the genesis does not name it.
fn agency(f: &credex_proof::Facts, a: &credex_types::AgencyId, lang: Lang) -> String {
    match f.names.get(a) {
        Some(n) => format!("{} ({a})", n.get(lang)),
        None => a.to_string(),
    }
}

/// `3 d 4 h`, `5 h 12 min`, `40 s` (and the same in Chinese and
/// Russian units): an age a reader takes in at a glance.
fn age(ms: u64, lang: Lang) -> String {
    let (d, h, m, s) = (ms / 86_400_000, ms / 3_600_000 % 24, ms / 60_000 % 60, ms / 1000 % 60);
    match (d, h, m) {
        (0, 0, 0) => say(lang, "age-s", &[&s]),
        (0, 0, _) => say(lang, "age-m", &[&m]),
        (0, _, _) => say(lang, "age-hm", &[&h, &m]),
        _ => say(lang, "age-dh", &[&d, &h]),
    }
}

/// The policy `p` in words ("max age 90 d 0 h; signers of RU").
pub(crate) fn policy_text(p: &Policy, lang: Lang) -> String {
    let mut parts = vec![match p.max_age_ms {
        Some(ms) => say(lang, "max-age", &[&age(ms, lang)]),
        None => say(lang, "no-max-age", &[]),
    }];
    if let Some(w) = p.clear_for_ms {
        parts.push(say(lang, "clear-for", &[&age(w, lang)]));
    }
    if !p.required_jurisdictions.is_empty() {
        let j: Vec<String> = p.required_jurisdictions.iter().map(ToString::to_string).collect();
        parts.push(say(lang, "signers-of", &[&j.join(", ")]));
    }
    if let Some(t) = &p.trusted_issuers {
        let t: Vec<String> = t.iter().map(ToString::to_string).collect();
        parts.push(say(lang, "issuers-only", &[&t.join(", ")]));
    }
    parts.join("; ")
}

/// One phrase of the verdict in the reader's language; `{0}`, `{1}`, …
/// stand for the values. English is the reference; Chinese and Russian
/// say the same, with list membership in words that cannot be read as
/// "validly on the list".
fn phrase(lang: Lang, key: &str) -> &'static str {
    macro_rules! table {
        ($($k:literal => [$en:literal, $zh:literal, $ru:literal],)+) => {
            match key {
                $($k => match lang { Lang::En => $en, Lang::Zh => $zh, Lang::Ru => $ru },)+
                _ => "?",
            }
        };
    }
    table! {
        "invalid" => ["INVALID ({0}): {1}", "无效（{0}）：{1}", "НЕДЕЙСТВИТЕЛЬНО ({0}): {1}"],
        "detail" => ["detail", "详情", "подробно"],
        "as-of" => [", as of block {0} ({1})", "，截至区块 {0}（{1}）", " — на блок {0} ({1})"],
        "s-on-no-list" => ["On none of the lists", "未列入任何名单", "Ни в одном списке"],
        "s-not-listed" => ["Not on the {0}", "未列入{0}", "Не в списке «{0}»"],
        "s-listed" => ["On the {0} since {1}, listed by {2}", "已列入{0}：自 {1} 起，列入机关 {2}", "В списке «{0}» с {1}, внёс {2}"],
        "s-in-force" => ["{0} of {1}, in force", "{1}的{0}，有效", "{0} ({1}) действует"],
        "effective" => ["in effect", "生效时间", "действует с"],
        "expires" => ["lapses", "失效时间", "истекает"],
        "tz-shanghai" => ["Beijing time", "北京时间", "пекинское время"],
        "tz-vladivostok" => ["Vladivostok time", "符拉迪沃斯托克时间", "владивостокское время"],
        "reason.malformed" => ["the proof is damaged or incomplete (cut short, or a character changed)",
                               "证明已损坏或不完整（被截断或有字符被改动）",
                               "доказательство повреждено или неполно (обрезано или изменён символ)"],
        "reason.unsupported-version" => ["this verifier does not know the proof's format version; use a newer verifier",
                                         "本验证程序不支持该证明的格式版本，请使用更新的验证程序",
                                         "этот верификатор не знает версию формата доказательства; нужна более новая версия"],
        "reason.bad-attestation" => ["the credit record in the proof is malformed or does not match its id: it was altered",
                                     "证明中的信用记录格式错误或与其编号不符：已被改动",
                                     "запись в доказательстве искажена или не совпадает со своим номером: она изменена"],
        "reason.bad-issuer-signature" => ["the issuing agency's signature does not check: the record was altered or forged",
                                          "认定机关的签名验证不通过：记录被改动或伪造",
                                          "подпись органа не сходится: запись изменена или подделана"],
        "reason.untrusted-issuer" => ["the record was issued by an agency this policy does not accept",
                                      "该记录的认定机关不在本策略接受的范围内",
                                      "запись выдана органом, которого эта политика не принимает"],
        "reason.bad-state-proof" => ["the proof's link to the signed block does not check: the content was altered",
                                     "证明与已签署区块的关联验证不通过：内容被改动",
                                     "связь доказательства с подписанным блоком не сходится: содержание изменено"],
        "reason.bad-certificate" => ["the validators' signatures on the block do not check",
                                     "区块上的验证节点签名验证不通过",
                                     "подписи валидаторов на блоке не сходятся"],
        "reason.insufficient-signatures" => ["too few validators signed the block for it to be final",
                                             "签署该区块的验证节点不足，区块未最终确定",
                                             "блок подписало слишком мало валидаторов: он не окончателен"],
        "reason.duplicate-signer" => ["a validator is counted twice among the block's signatures",
                                      "区块签名中同一验证节点出现两次",
                                      "один валидатор учтён в подписях блока дважды"],
        "reason.missing-jurisdiction" => ["no validator of the jurisdiction this policy requires signed the block",
                                          "没有本策略要求的辖区的验证节点签署该区块",
                                          "блок не подписал ни один валидатор требуемой юрисдикции"],
        "reason.wrong-chain" => ["the proof is from another chain", "该证明来自另一条链", "доказательство из другой цепочки"],
        "reason.wrong-genesis" => ["the proof is from another chain of the same name (a different genesis file)",
                                   "该证明来自同名的另一条链（创世文件不同）",
                                   "доказательство из другой цепочки с тем же именем (другой генезис-файл)"],
        "reason.bad-validator-set-change" => ["a change of validators recorded in the proof does not check",
                                              "证明中记载的验证节点变更验证不通过",
                                              "записанная в доказательстве смена валидаторов не сходится"],
        "reason.block-in-future" => ["the block is dated after this computer's clock: check the clock",
                                     "区块时间晚于本机时钟：请检查时钟",
                                     "блок датирован позже часов этого компьютера: проверьте часы"],
        "reason.before-checkpoint" => ["the proof is older than the trusted checkpoint; ask for a fresh proof",
                                       "该证明早于受信任的检查点，请索取新的证明",
                                       "доказательство старше доверенной контрольной точки; запросите новое"],
        "reason.conflicts-checkpoint" => ["the proof contradicts the trusted checkpoint: another history of the chain",
                                          "该证明与受信任的检查点矛盾：链的历史不同",
                                          "доказательство противоречит доверенной контрольной точке: другая история цепочки"],
        "reason.bad-checkpoint" => ["the checkpoint file is not valid for this genesis", "检查点文件与该创世文件不符",
                                    "файл контрольной точки не подходит к этому генезису"],
        "reason.bad-genesis" => ["the genesis file is not valid", "创世文件无效", "генезис-файл недействителен"],
        "reason.other" => ["the proof does not check", "证明验证不通过", "доказательство не проходит проверку"],
        "valid" => ["VALID", "有效", "ДЕЙСТВИТЕЛЬНО"],
        "not-listed" => ["VALID: NOT LISTED", "有效：未列入该名单", "ДЕЙСТВИТЕЛЬНО: НЕ В СПИСКЕ"],
        "on-no-list" => ["VALID: ON NO LIST", "有效：未列入任何名单", "ДЕЙСТВИТЕЛЬНО: НИ В ОДНОМ СПИСКЕ"],
        "listed" => ["LISTED since {0} by {1}", "已列入：自 {0} 起，列入机关 {1}", "В СПИСКЕ с {0}, внёс {1}"],
        "recently" => ["RECENTLY LISTED: left the list at {0}, inside the window from {1}",
                       "近期曾列入：于 {0} 移出，在自 {1} 起的期间内",
                       "НЕДАВНО В СПИСКЕ: исключён {0}, в пределах периода с {1}"],
        "revoked" => ["REVOKED at {0} (height {1})", "已撤销：{0}（区块高度 {1}）", "ОТОЗВАНО {0} (высота {1})"],
        "superseded" => ["SUPERSEDED by {0} (height {1})", "已被替代：{0}（区块高度 {1}）", "ЗАМЕНЕНО записью {0} (высота {1})"],
        "erased" => ["ERASED (height {0}); content no longer available", "已删除（区块高度 {0}）；内容不再可得", "УДАЛЕНО (высота {0}); содержание недоступно"],
        "expired" => ["EXPIRED at {0}", "已失效：{0}", "ИСТЁК СРОК {0}"],
        "stale" => ["STALE: proof is {0} old, policy allows {1}; ask for a fresh proof",
                    "证明过旧：已 {0}，策略允许 {1}；请索取新的证明",
                    "УСТАРЕЛО: доказательству {0}, политика допускает {1}; запросите новое"],
        "subject" => ["subject", "主体", "субъект"],
        "attestation" => ["attestation", "信用记录", "запись"],
        "id" => ["id", "编号", "id"],
        "issuer" => ["issuer", "认定机关", "орган"],
        "field" => ["field", "字段", "поле"],
        "list" => ["list", "名单", "список"],
        "list-listed" => ["LISTED since {0} by {1}", "已列入：自 {0} 起，列入机关 {1}", "В СПИСКЕ с {0}, внёс {1}"],
        "list-left" => ["not listed (left {0}; listed {1} time(s) before)", "未列入（{0} 移出；此前列入 {1} 次）", "не в списке (исключён {0}; ранее включался {1} раз)"],
        "list-never" => ["not listed", "未列入", "не в списке"],
        "window" => ["window", "期间", "период"],
        "last-removed" => ["last removed", "最近移出", "исключён"],
        "case" => ["case", "案件", "дело"],
        "status" => ["status", "状态", "статус"],
        "decided-by" => ["decided by", "决定机关", "решение"],
        "block" => ["block", "区块", "блок"],
        "block-line" => ["height {0} at {1} ({2})", "高度 {0}，{1}（{2}）", "высота {0}, {1} ({2})"],
        "age" => ["age", "证明时长", "возраст"],
        "signed-by" => ["signed by", "签署节点", "подписали"],
        "checkpoint" => ["trusted from the checkpoint at height {0}; validator-set changes since: {1}",
                         "自高度 {0} 的检查点起信任；此后验证节点集合变更：{1}",
                         "доверие от контрольной точки на высоте {0}; смен состава валидаторов после неё: {1}"],
        "set-changes" => ["validator-set changes followed from genesis: {0}", "自创世起的验证节点集合变更：{0}", "смен состава валидаторов от генезиса: {0}"],
        "policy" => ["policy", "策略", "политика"],
        "labels" => ["labels", "标签", "названия"],
        "labels-not-shown" => ["not shown: this genesis does not pin the label table of this verifier (codes shown)",
                               "未显示：该创世文件未固定本验证程序的标签表（显示代码）",
                               "не показаны: генезис не закрепляет таблицу названий этого верификатора (показаны коды)"],
        "checked" => ["checked against genesis {0} (chain {1}) at {2}", "依据创世文件 {0}（链 {1}）于 {2} 验证", "проверено по генезису {0} (цепочка {1}) в {2}"],
        "checked-short" => ["checked against genesis {0}", "依据创世文件 {0} 验证", "проверено по генезису {0}"],
        "age-s" => ["{0} s", "{0} 秒", "{0} с"],
        "age-m" => ["{0} min", "{0} 分钟", "{0} мин"],
        "age-hm" => ["{0} h {1} min", "{0} 小时 {1} 分钟", "{0} ч {1} мин"],
        "age-dh" => ["{0} d {1} h", "{0} 天 {1} 小时", "{0} дн. {1} ч"],
        "max-age" => ["max age {0}", "最长时限 {0}", "срок не более {0}"],
        "no-max-age" => ["no max age", "无时限", "без ограничения срока"],
        "clear-for" => ["clear for {0}", "{0} 内未列入", "вне списков {0}"],
        "signers-of" => ["signers of {0}", "须有 {0} 的签署节点", "подписи из {0}"],
        "issuers-only" => ["issuers {0}", "仅限认定机关 {0}", "только органы {0}"],
    }
}

/// [`phrase`] with `{0}`, `{1}`, … replaced by `args`.
fn say(lang: Lang, key: &str, args: &[&dyn std::fmt::Display]) -> String {
    let mut s = phrase(lang, key).to_string();
    for (i, a) in args.iter().enumerate() {
        s = s.replace(&format!("{{{i}}}"), &a.to_string());
    }
    s
}

/// `  label        value`: the label padded to one column on a terminal
/// (CJK characters take two columns).
fn line(out: &mut String, lang: Lang, key: &str, value: &str) {
    let label = phrase(lang, key);
    let width: usize = label.chars().map(|c| if u32::from(c) >= 0x2E80 { 2 } else { 1 }).sum();
    let pad = 13usize.saturating_sub(width).max(1);
    let _ = writeln!(out, "  {label}{}{value}", " ".repeat(pad));
}

/// The text `credex verify` and `credex-verify` print; `pins_labels`: the
/// genesis pins the label table built into this verifier.
pub fn verdict_text(
    result: &Result<Verdict, ProofError>,
    genesis: &Hash32,
    now: Timestamp,
    reader: &Reader,
    pins_labels: bool,
) -> String {
    let lang = reader.lang;
    let when = |t: &Timestamp| reader.when(*t);
    let table = LabelTable::builtin();
    let t = pins_labels.then_some(&table);
    let mut out = String::new();
    let v = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = writeln!(out, "{}", say(lang, "invalid", &[&e.code(), &reason(e.code(), lang)]));
            line(&mut out, lang, "detail", &e.to_string());
            let _ = writeln!(out, "  {}", say(lang, "checked-short", &[genesis]));
            return out;
        }
    };
    let f = &v.facts;
    let _ = writeln!(out, "{}", headline(v, reader));
    let _ = writeln!(out, "  {}", sentence(v, reader, pins_labels));
    line(&mut out, lang, "subject", &f.subject.to_string());
    if let (Some(kind), Some(id)) = (f.kind, f.attestation) {
        line(&mut out, lang, "attestation", &format!("{} ({kind})", label(t, Category::Kind, kind.name(), lang)));
        line(&mut out, lang, "id", &id.to_string());
    }
    if let Some(e) = &f.effective_at {
        line(&mut out, lang, "effective", &when(e));
    }
    if let Some(e) = &f.expires_at {
        line(&mut out, lang, "expires", &when(e));
    }
    if let Some(issuer) = &f.issuer {
        line(&mut out, lang, "issuer", &agency(f, issuer, lang));
    }
    for d in &f.disclosed {
        let code = d.code.as_str();
        let value = match code {
            "reason-code" => format!("{} ({})", label(t, Category::Reason, &d.value, lang), d.value),
            _ => d.value.clone(),
        };
        line(&mut out, lang, "field", &format!("{} ({code}): {value}", label(t, Category::Field, code, lang)));
    }
    for l in &f.lists {
        let name = label(t, Category::List, l.list.name(), lang);
        let status = match (&l.listed, l.last_removed) {
            (Some(c), _) => say(lang, "list-listed", &[&when(&c.since), &agency(f, &c.issuer, lang)]),
            (None, Some(r)) => say(lang, "list-left", &[&when(&r), &l.times_listed]),
            (None, None) => say(lang, "list-never", &[]),
        };
        line(&mut out, lang, "list", &format!("{name} ({}): {status}", l.list));
    }
    if let (Some(w), false) = (f.clear_since, f.lists.is_empty()) {
        line(&mut out, lang, "window", &format!("{} – {}", when(&w), when(&f.block_time)));
    }
    if let Some(list) = f.list.filter(|_| f.lists.is_empty()) {
        line(&mut out, lang, "list", &format!("{} ({list})", label(t, Category::List, list.name(), lang)));
        if let Some(r) = f.last_removed {
            line(&mut out, lang, "last-removed", &when(&r));
        }
        if let Some(w) = f.clear_since {
            line(&mut out, lang, "window", &format!("{} – {}", when(&w), when(&f.block_time)));
        }
    }
    if let Some(c) = &f.case {
        let kind = c.kind.name();
        line(&mut out, lang, "case", &format!("{} ({kind}) {}", label(t, Category::Case, kind, lang), c.id));
        let status = c.status.name();
        line(&mut out, lang, "status", &format!("{} ({status})", label(t, Category::Status, status, lang)));
        line(&mut out, lang, "decided-by", &agency(f, &c.agency, lang));
    }
    line(&mut out, lang, "block", &say(lang, "block-line", &[&f.height, &when(&f.block_time), &f.block_id]));
    line(&mut out, lang, "age", &age(f.age_ms, lang));
    let signers: Vec<String> =
        f.signers.iter().map(|s| format!("{} [{}]", s.names.get(lang), s.jurisdiction)).collect();
    line(&mut out, lang, "signed-by", &signers.join(", "));
    match (f.checkpoint, f.set_changes) {
        (Some(h), n) => {
            let _ = writeln!(out, "  {}", say(lang, "checkpoint", &[&h, &n]));
        }
        (None, 0) => {}
        (None, n) => {
            let _ = writeln!(out, "  {}", say(lang, "set-changes", &[&n]));
        }
    }
    line(&mut out, lang, "policy", &policy_text(&v.policy, lang));
    if !pins_labels {
        line(&mut out, lang, "labels", phrase(lang, "labels-not-shown"));
    }
    let _ = writeln!(out, "  {}", say(lang, "checked", &[genesis, &f.chain_id, &when(&now)]));
    out
}

/// The verdict as one sentence a reader can repeat, naming the list or the
/// record and as of which block and time: "未列入严重违法失信名单，截至区块 23
/// （2026-12-01 12:03 北京时间）", "Not on the Serious-violation list, as of
/// block 23 (2026-12-01 04:03 UTC)".
pub fn sentence(v: &Verdict, reader: &Reader, pins_labels: bool) -> String {
    let lang = reader.lang;
    let table = LabelTable::builtin();
    let t = pins_labels.then_some(&table);
    let f = &v.facts;
    let as_of = say(lang, "as-of", &[&f.height, &reader.when(f.block_time)]);
    let list_name = |l: credex_types::ListKind| label(t, Category::List, l.name(), lang).to_string();
    // names only: a sentence to repeat, the codes are on the lines below
    let name_of =
        |a: &credex_types::AgencyId| f.names.get(a).map_or_else(|| a.to_string(), |n| n.get(lang).to_string());
    let what = match (&v.outcome, f.list, f.kind) {
        (Outcome::Valid, _, _) if !f.lists.is_empty() => say(lang, "s-on-no-list", &[]),
        (Outcome::Valid, Some(l), _) => say(lang, "s-not-listed", &[&list_name(l)]),
        (Outcome::Listed { since, issuer, .. }, _, _) => {
            let on: Vec<String> = f.lists.iter().filter(|x| x.listed.is_some()).map(|x| list_name(x.list)).collect();
            let on = if on.is_empty() { f.list.map(list_name).unwrap_or_default() } else { on.join(", ") };
            say(lang, "s-listed", &[&on, &reader.when(*since), &name_of(issuer)])
        }
        (Outcome::Valid, None, Some(k)) => {
            let issuer = f.issuer.as_ref().map(name_of).unwrap_or_default();
            say(lang, "s-in-force", &[&label(t, Category::Kind, k.name(), lang), &issuer])
        }
        _ => headline(v, reader),
    };
    format!("{what}{as_of}")
}

/// The verdict's first line, in words that cannot be misread: "VALID: NOT
/// LISTED", "LISTED since 2026-11-02 09:00 Beijing time by …".
pub fn headline(v: &Verdict, reader: &Reader) -> String {
    let lang = reader.lang;
    let when = |t: &Timestamp| reader.when(*t);
    let f = &v.facts;
    match &v.outcome {
        // "valid" of a list proof means the subject is not on the list
        Outcome::Valid if !f.lists.is_empty() => say(lang, "on-no-list", &[]),
        Outcome::Valid if f.list.is_some() => say(lang, "not-listed", &[]),
        Outcome::Valid => say(lang, "valid", &[]),
        Outcome::Listed { since, issuer, .. } => say(lang, "listed", &[&when(since), &agency(f, issuer, lang)]),
        Outcome::RecentlyListed { last_removed, window_start } => {
            say(lang, "recently", &[&when(last_removed), &when(window_start)])
        }
        Outcome::Revoked { time, height } => say(lang, "revoked", &[&when(time), height]),
        Outcome::Superseded { by, height } => say(lang, "superseded", &[by, height]),
        Outcome::Erased { height, .. } => say(lang, "erased", &[height]),
        Outcome::Expired { at } => say(lang, "expired", &[&when(at)]),
        Outcome::Stale { age_ms, max_age_ms } => say(lang, "stale", &[&age(*age_ms, lang), &age(*max_age_ms, lang)]),
    }
}
