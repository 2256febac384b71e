//! The report as one self-contained HTML document: inline CSS (with print
//! rules, so a browser prints it cleanly to PDF), no scripts, no external
//! resources. Every string that comes from the ledger goes through
//! [`escape`].

use std::fmt::Write;

use rust_decimal::Decimal;

use crate::audit::report::{self, Anomaly, ContractReport, Report, WordArg, Words};
use crate::present::lang::{Arg, Tr};
use crate::present::statement;

/// Escapes text for HTML element content and quoted attribute values:
/// markup characters as entities, and control characters (other than line
/// breaks and tabs) and bidi controls shown as `\u{1b}`-style text
/// ([`crate::ledger::text::escape_text`]), which HTML cannot carry safely.
pub fn escape(s: &str) -> String {
    let s = crate::ledger::text::escape_text(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn e(s: &str) -> String {
    escape(s)
}

/// A hash shortened to 12 characters, with the full hash as a tooltip.
fn h(s: &str) -> String {
    format!("<code title=\"{}\">{}</code>", e(s), e(report::short(s)))
}

fn oh(s: &Option<String>) -> String {
    s.as_deref().map(h).unwrap_or_else(|| "&ndash;".into())
}

const CSS: &str = r#"
:root { --ink:#1b1f24; --muted:#5b636d; --line:#c9ced4; --head:#eef1f4; --bad:#8a1c1c; --badbg:#fbeaea; --ok:#1d5e2e; --okbg:#e8f4ec; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.45 "Liberation Serif", Georgia, "Times New Roman", serif; color: var(--ink); margin: 2em auto; max-width: 62em; padding: 0 1.5em; }
h1 { font-size: 20pt; margin: 0 0 .2em; letter-spacing: .02em; }
h2 { font-size: 14pt; border-bottom: 2px solid var(--ink); padding-bottom: .15em; margin: 1.8em 0 .6em; }
h3 { font-size: 12pt; margin: 1.3em 0 .4em; }
h4 { font-size: 10.5pt; margin: 1em 0 .3em; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: .3em 0 .8em; font-size: 9.5pt; }
th, td { border: 1px solid var(--line); padding: .25em .45em; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, pre { font: 8.5pt/1.35 "Liberation Mono", Menlo, Consolas, monospace; }
pre { background: #f7f8f9; border: 1px solid var(--line); padding: .5em; white-space: pre-wrap; word-break: break-all; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: .6em 0; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; word-break: break-all; }
.muted { color: var(--muted); }
.bad { color: var(--bad); font-weight: 600; }
.ok { color: var(--ok); font-weight: 600; }
.anomalies { border: 2px solid var(--bad); background: var(--badbg); padding: .3em 1em .6em; }
.anomalies.none { border-color: var(--ok); background: var(--okbg); }
.tag { display: inline-block; border: 1px solid currentColor; border-radius: 3px; padding: 0 .35em; font-size: 8.5pt; white-space: nowrap; }
section.contract { border-top: 1px solid var(--line); }
h4.settlement { font-size: 11.5pt; text-transform: none; letter-spacing: 0; color: var(--ink); border-bottom: 1px solid var(--line); margin-top: 1.4em; }
table.statement th { width: 9em; white-space: nowrap; }
table.payments, table.net { width: auto; min-width: 55%; }
td code { white-space: nowrap; }
nav ol { margin: .3em 0; columns: 2; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 9.5pt; }
  @page { size: A4; margin: 16mm 14mm 18mm; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3, h4 { break-after: avoid; page-break-after: avoid; }
  table, tr, pre, .anomalies { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  section.contract, #checkpoints { break-before: page; page-break-before: always; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// `w` in `tr`'s language, as plain text (not escaped): message
/// `report-<code>` with every argument formatted for the reader (money with
/// its currency, times readable, figures in the reader's number format, a
/// quality gate as the statements word it).
pub fn words(tr: &Tr, w: &Words) -> String {
    let args: Vec<(&str, Arg<'_>)> = w
        .args
        .iter()
        .map(|(name, a)| {
            let v = match a {
                WordArg::Text(t) => Arg::from(t.as_str()),
                WordArg::Time(t) => Arg::from(tr.time(t)),
                WordArg::Money(d, c) => Arg::from(tr.amount(*d, c)),
                WordArg::Figure(d, u) => Arg::from(figure(tr, *d, u)),
                WordArg::Count(n) => Arg::Count(*n),
                WordArg::Words(inner) => Arg::from(words(tr, inner)),
                WordArg::Gate(g) => Arg::from(statement::gate_words(tr, g)),
                WordArg::Conflict(c) => Arg::from(crate::present::engine::conflict(tr, c)),
                WordArg::ContractConflict(c) => Arg::from(crate::present::engine::contract_conflict(tr, c)),
            };
            (*name, v)
        })
        .collect();
    tr.t_args(&format!("report-{}", w.code), &args)
}

/// A measured figure for a reader: `eur` as money in euro, any other unit
/// after the number.
pub fn figure(tr: &Tr, d: Decimal, unit: &str) -> String {
    if unit == "eur" {
        tr.amount(d, "EUR")
    } else {
        format!("{} {unit}", tr.number(d))
    }
}

/// A text value of the report (a state, a role) as message `report-<prefix>-<value>`
/// (`_` and spaces become `-`).
fn named(tr: &Tr, prefix: &str, value: &str) -> String {
    tr.t(&format!("report-{prefix}-{}", value.replace(['_', ' '], "-")))
}

/// A derivation line's figure for a reader (see `DerivationLine::shown`):
/// money with the currency, a rate as a percentage with
/// [`report::RATE_DP`] decimals, a score with [`report::SCORE_DP`].
fn shown(tr: &Tr, d: &report::DerivationLine, currency: &str) -> String {
    let fixed = |v: Decimal, dp: u32| {
        let mut r = v.round_dp(dp);
        r.rescale(dp);
        tr.lang().plain(r)
    };
    match (d.amount, d.number) {
        (Some(a), _) => tr.amount(a, currency),
        (None, Some(v)) if d.id.ends_with("_rate") => {
            format!("{}%", fixed(v.checked_mul(Decimal::ONE_HUNDRED).unwrap_or(v), report::RATE_DP))
        }
        (None, Some(v)) => fixed(v, report::SCORE_DP),
        (None, None) => d.shown.clone(),
    }
}

/// Renders the report as an HTML document in `tr`'s language.
pub fn render(r: &Report, tr: &Tr) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        tr.lang().code(),
        e(&tr.t_args("report-doc-title", &[("ledger", Arg::from(r.ledger.as_str()))]))
    );
    o.push_str(&body(r, tr));
    o.push_str("</body>\n</html>\n");
    o
}

/// The report's content without the document around it (no `<html>`,
/// `<head>` or style): its header, contents, anomalies first, parties,
/// contracts, checkpoints and equivocations. [`render`] wraps it into the
/// file `audit report` writes; the web workspace's audit page shows it in
/// its own frame. Ledger text is escaped as in [`render`].
pub fn body(r: &Report, tr: &Tr) -> String {
    let t = |id: &str| e(&tr.t(id));
    let mut o = String::new();
    let generated = tr.t_args(
        "report-generated-from",
        &[("n", Arg::from(r.entries.to_string())), ("ledger", Arg::from(r.ledger.as_str()))],
    );
    let _ = write!(
        o,
        "<header>\n<h1>{}</h1>\n<p class=\"muted\">{} <strong>{}</strong> &middot; {}</p>\n",
        t("report-title"),
        t("report-ledger"),
        e(&r.ledger),
        e(&generated)
    );
    let _ = write!(
        o,
        "<dl class=\"meta\">\n<dt>{}</dt><dd>{}</dd>\n<dt>{}</dt><dd>{}</dd>\n<dt>{}</dt><dd><code>{}</code></dd>\n<dt>{}</dt><dd><code>{}</code> {}</dd>\n<dt>{}</dt><dd>{}</dd>\n</dl>\n</header>\n",
        t("report-meta-ledger-id"),
        e(&r.ledger),
        t("report-meta-entries"),
        r.entries,
        t("report-meta-head"),
        e(&r.head),
        t("report-meta-root"),
        e(&r.merkle_root),
        e(&tr.t_args("report-meta-tree-size", &[("n", Arg::from(r.merkle_size.to_string()))])),
        t("report-meta-skew"),
        e(&tr.t_args("report-meta-skew-value", &[("n", Arg::from(r.clock_skew_secs.to_string()))]))
    );
    let _ = write!(
        o,
        "<nav><ol><li><a href=\"#anomalies\">{}</a></li><li><a href=\"#parties\">{}</a></li>",
        t("report-anomalies"),
        t("report-nav-parties")
    );
    for c in &r.contracts {
        let _ = write!(
            o,
            "<li><a href=\"#contract-{}\">{}</a></li>",
            e(&c.id),
            e(&tr.t_args("report-contract", &[("contract", Arg::from(c.id.as_str()))]))
        );
    }
    let _ = writeln!(
        o,
        "<li><a href=\"#checkpoints\">{}</a></li><li><a href=\"#equivocations\">{}</a></li></ol></nav>",
        t("report-checkpoints"),
        t("report-equivocations")
    );

    anomalies(&mut o, tr, &r.anomalies);
    parties(&mut o, tr, r);
    for c in &r.contracts {
        contract(&mut o, tr, c);
    }
    checkpoints(&mut o, tr, r);
    o
}

fn anomalies(o: &mut String, tr: &Tr, list: &[Anomaly]) {
    let t = |id: &str| e(&tr.t(id));
    if list.is_empty() {
        let _ = write!(
            o,
            "<section id=\"anomalies\" class=\"anomalies none\">\n<h2>{}</h2>\n<p class=\"ok\">{}</p>\n</section>\n",
            t("report-anomalies"),
            t("report-anomalies-none")
        );
        return;
    }
    let _ = write!(
        o,
        "<section id=\"anomalies\" class=\"anomalies\">\n<h2>{}</h2>\n<table>\n<thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>\n<tbody>\n",
        e(&tr.t_args("report-anomalies-count", &[("n", Arg::from(list.len().to_string()))])),
        t("report-col-kind"),
        t("report-col-concerns"),
        t("report-col-entry"),
        t("report-col-finding")
    );
    for a in list {
        let code = serde_json::to_value(a.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let _ = writeln!(
            o,
            "<tr class=\"anomaly {}\"><td class=\"bad\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&code),
            e(&named(tr, "kind", &code)),
            e(&words(tr, &a.about)),
            oh(&a.entry),
            e(&words(tr, &a.reason))
        );
    }
    o.push_str("</tbody>\n</table>\n</section>\n");
}

fn parties(o: &mut String, tr: &Tr, r: &Report) {
    let t = |id: &str| e(&tr.t(id));
    let _ = write!(
        o,
        "<section id=\"parties\">\n<h2>{}</h2>\n<table>\n<thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>\n<tbody>\n",
        t("report-parties"),
        t("report-col-party"),
        t("report-col-name"),
        t("report-col-role"),
        t("report-col-key"),
        t("report-col-introduced"),
        t("report-col-ended")
    );
    for p in &r.parties {
        let n = p.keys.len().max(1);
        let lead = format!(
            "<td rowspan=\"{n}\"><strong>{}</strong></td><td rowspan=\"{n}\">{}</td><td rowspan=\"{n}\">{}</td>",
            e(&p.id),
            e(&p.name),
            e(&named(tr, "role", &p.role))
        );
        if p.keys.is_empty() {
            let _ = writeln!(
                o,
                "<tr class=\"party\">{lead}<td colspan=\"3\" class=\"muted\">{}</td></tr>",
                t("report-no-keys")
            );
        }
        for (i, k) in p.keys.iter().enumerate() {
            let ended = match &k.ended {
                None => format!("<span class=\"ok\">{}</span>", t("report-key-valid")),
                Some(end) => {
                    let how = format!(
                        "<span class=\"{}\">{}</span>",
                        if end.how == "revoked" { "bad" } else { "muted" },
                        e(&named(tr, "key", &end.how))
                    );
                    tr.t_args(
                        "report-key-end",
                        &[
                            ("how", Arg::from(how)),
                            (
                                "reason",
                                Arg::from(end.reason.as_deref().map(|r| format!(": {}", e(r))).unwrap_or_default()),
                            ),
                            ("time", Arg::from(e(&tr.time(&end.time)))),
                            ("entry", Arg::from(h(&end.entry))),
                            ("seq", Arg::from(end.seq.to_string())),
                        ],
                    )
                }
            };
            let introduced = tr.t_args(
                "report-key-introduced",
                &[
                    ("time", Arg::from(e(&tr.time(&k.added_time)))),
                    ("entry", Arg::from(h(&k.added_by))),
                    ("seq", Arg::from(k.added_seq.to_string())),
                ],
            );
            let _ = writeln!(
                o,
                "<tr class=\"party\">{}<td><code>{}</code></td><td>{introduced}</td><td>{}</td></tr>",
                if i == 0 { lead.as_str() } else { "" },
                e(&k.fingerprint),
                ended
            );
        }
    }
    o.push_str("</tbody>\n</table>\n</section>\n");
}

fn contract(o: &mut String, tr: &Tr, c: &ContractReport) {
    let t = |id: &str| e(&tr.t(id));
    let _ = write!(
        o,
        "<section class=\"contract\" id=\"contract-{}\">\n<h2>{}</h2>\n",
        e(&c.id),
        e(&tr.t_args("report-contract", &[("contract", Arg::from(c.id.as_str()))]))
    );
    let _ = writeln!(o, "<p>{}</p>", tr.t_args("report-base", &[("version", Arg::from(oh(&c.base)))]));
    for conflict in &c.conflicts {
        let what = e(&crate::present::engine::contract_conflict(tr, conflict));
        let _ = writeln!(o, "<p class=\"bad\">{}</p>", tr.t_args("report-conflict", &[("what", Arg::from(what))]));
    }
    let _ = write!(
        o,
        "<h3>{}</h3>\n<table>\n<thead><tr><th>{}</th><th>{}</th></tr></thead>\n<tbody>\n",
        t("report-in-force"),
        t("report-col-year"),
        t("report-col-governing")
    );
    for y in &c.in_force {
        let _ = writeln!(o, "<tr><td>{}</td><td>{}</td></tr>", y.year, oh(&y.version));
    }
    o.push_str("</tbody>\n</table>\n");

    let _ = write!(
        o,
        "<h3>{}</h3>\n<table>\n<thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>\n<tbody>\n",
        t("report-versions"),
        t("report-col-version"),
        t("report-col-kind"),
        t("report-col-state"),
        t("report-col-signatories"),
        t("report-col-signed")
    );
    for v in &c.versions {
        let kind = e(&named(tr, "vkind", &v.kind));
        let kind = match &v.answers {
            Some(a) => tr.t_args("report-vkind-answers", &[("kind", Arg::from(kind)), ("version", Arg::from(h(a)))]),
            None => kind,
        };
        let mut sigs = String::new();
        for s in &v.signatures {
            let by = if s.signed_by != s.party {
                tr.t_args("report-under-mandate", &[("party", Arg::from(e(&s.signed_by)))])
            } else {
                String::new()
            };
            let _ = write!(sigs, "{}{by}, {}, {}<br>", e(&s.party), e(&tr.time(&s.time)), h(&s.entry));
        }
        for rj in &v.rejections {
            let _ = write!(
                sigs,
                "<span class=\"bad\">{}</span>: {}<br>",
                e(&tr.t_args("report-rejected-by", &[("party", Arg::from(rj.party.as_str()))])),
                e(&rj.reasons.join("; "))
            );
        }
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{kind}<br><span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td>{sigs}</td></tr>",
            h(&v.version),
            e(&tr.t_args("report-from-year", &[("year", Arg::from(v.effective_from.to_string()))])),
            e(&words(tr, &v.state_words)),
            e(&v.signatories.join(", "))
        );
    }
    o.push_str("</tbody>\n</table>\n");

    let _ = write!(
        o,
        "<h3>{}</h3>\n<table>\n<thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>\n<tbody>\n",
        t("report-measurements"),
        t("report-col-indicator"),
        t("report-col-period"),
        t("report-col-value"),
        t("report-col-state"),
        t("report-col-source"),
        t("report-col-signed-by"),
        t("report-col-notes")
    );
    for m in &c.measurements {
        let state_class = match m.state.as_str() {
            "agreed" => "ok",
            "superseded" => "muted",
            _ => "bad",
        };
        let mut notes = String::new();
        if let Some(x) = &m.corrects {
            let why = m.reason.clone().unwrap_or_else(|| tr.t("report-no-reason-given"));
            let _ = write!(
                notes,
                "{}<br>",
                tr.t_args("report-corrects", &[("entry", Arg::from(h(x))), ("why", Arg::from(e(&why)))])
            );
        }
        for d in &m.disputes {
            let who = format!(
                "<span class=\"{}\">{}</span>",
                if d.resolved { "muted" } else { "bad" },
                e(&tr.t_args("report-dispute-by", &[("party", Arg::from(d.party.as_str()))]))
            );
            let status = tr.t(if d.resolved { "report-dispute-resolved" } else { "report-dispute-open" });
            let _ = write!(
                notes,
                "{}<br>",
                tr.t_args(
                    "report-dispute",
                    &[
                        ("who", Arg::from(who)),
                        ("time", Arg::from(e(&tr.time(&d.time)))),
                        ("status", Arg::from(e(&status))),
                        ("reason", Arg::from(e(&d.reason))),
                    ],
                )
            );
        }
        if let Some(n) = &m.note {
            let _ = write!(notes, "{}<br>", tr.t_args("report-note", &[("text", Arg::from(e(n)))]));
        }
        if let Some(d) = &m.derivation_words {
            let _ = write!(
                notes,
                "<span class=\"muted\">{}</span><br>",
                e(&tr.t_args("report-derived", &[("what", Arg::from(words(tr, d)))]))
            );
        }
        let signed: Vec<String> = m.signed_by.iter().map(|s| format!("{} {}", e(&s.party), h(&s.entry))).collect();
        let value = match Decimal::from_str_exact(&m.value) {
            Ok(v) if m.unit == "eur" => tr.amount(v, "EUR"),
            Ok(v) => format!("{} <span class=\"muted\">{}</span>", e(&tr.number(v)), e(&m.unit)),
            Err(_) => format!("{} <span class=\"muted\">{}</span>", e(&m.value), e(&m.unit)),
        };
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{value}</td><td><span class=\"{state_class}\">{}</span>{}<br>{}</td><td>{}<br><span class=\"muted\">{}</span></td><td>{}</td><td>{notes}</td></tr>",
            e(&m.indicator),
            e(&m.period),
            e(&named(tr, "mstate", &m.state)),
            m.state_detail_words.as_ref().map(|d| format!(": {}", e(&words(tr, d)))).unwrap_or_default(),
            h(&m.id),
            e(&m.source),
            e(&tr.time(&m.time)),
            signed.join("<br>")
        );
    }
    o.push_str("</tbody>\n</table>\n");

    let _ = writeln!(o, "<h3>{}</h3>", t("report-settlements"));
    for s in &c.settlements {
        let cls = if s.state.contains("conflict") {
            "bad"
        } else if s.settled.is_some() {
            "ok"
        } else {
            "muted"
        };
        let state = match s.state.strip_suffix(", conflict") {
            Some(base) => tr.t_args("report-sstate-conflict", &[("state", Arg::from(named(tr, "sstate", base)))]),
            None => named(tr, "sstate", &s.state),
        };
        let _ = writeln!(
            o,
            "<h4 class=\"settlement\" id=\"settlement-{}-{}\">{} {} &mdash; <span class=\"{cls}\">{}</span></h4>",
            e(&c.id),
            s.year,
            e(&c.id),
            s.year,
            e(&state)
        );
        let replaced = if s.replaced.is_empty() {
            String::new()
        } else {
            tr.t_args(
                "report-replaced-list",
                &[("list", Arg::from(s.replaced.iter().map(|r| h(r)).collect::<Vec<_>>().join(", ")))],
            )
        };
        let _ = writeln!(
            o,
            "<p>{}</p>",
            tr.t_args(
                "report-settlement-summary",
                &[
                    ("version", Arg::from(oh(&s.version))),
                    ("parties", Arg::from(e(&s.signatories.join(", ")))),
                    ("statement", Arg::from(oh(&s.settled))),
                    ("replaced", Arg::from(replaced)),
                ],
            )
        );
        for conflict in &s.conflicts {
            let _ = writeln!(
                o,
                "<p class=\"bad\">{}</p>",
                tr.t_args(
                    "report-conflict",
                    &[("what", Arg::from(e(&crate::present::engine::conflict(tr, conflict))))]
                )
            );
        }
        if s.statements.is_empty() {
            let _ = writeln!(o, "<p class=\"muted\">{}</p>", t("report-no-statement"));
        }
        for st in &s.statements {
            statement_html(o, tr, st);
        }
    }
    o.push_str("</section>\n");
}

/// One signed statement: what it is, who signed it, its replay and, next
/// to it, its derivation, payments and per-party balance.
fn statement_html(o: &mut String, tr: &Tr, st: &report::StatementReport) {
    let t = |id: &str| e(&tr.t(id));
    let replay_cls = if st.replay_matches { "ok" } else { "bad" };
    let mut sigs = String::new();
    for sg in &st.signatures {
        let _ = write!(
            sigs,
            "{}, {}, {}{}<br>",
            e(&sg.party),
            e(&tr.time(&sg.time)),
            h(&sg.entry),
            sg.replaces
                .as_deref()
                .map(|r| tr.t_args("report-replaces", &[("statement", Arg::from(h(r)))]))
                .unwrap_or_default()
        );
    }
    let amount = |a: &str| match Decimal::from_str_exact(a) {
        Ok(d) => tr.amount(d, &st.currency),
        Err(_) => a.to_string(),
    };
    let mut pays = String::new();
    for p in &st.payments {
        let _ = write!(
            pays,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            e(&p.from),
            e(&p.to),
            e(&p.funding),
            e(&amount(&p.amount))
        );
    }
    let mut net = String::new();
    for n in &st.net {
        let words = match Decimal::from_str_exact(&n.net) {
            Ok(d) if d.is_zero() => tr.t("report-nothing-on-balance"),
            Ok(d) if d.is_sign_negative() => {
                tr.t_args("report-pays", &[("amount", Arg::from(tr.amount(d.abs(), &st.currency)))])
            }
            Ok(d) => tr.t_args("report-receives", &[("amount", Arg::from(tr.amount(d, &st.currency)))]),
            Err(_) => n.net.clone(),
        };
        let _ = write!(net, "<tr><td>{}</td><td class=\"num\">{}</td></tr>", e(&n.party), e(&words));
    }
    let standing = named(tr, "standing", &st.standing);
    let _ = writeln!(
        o,
        "<table class=\"statement\">\n<tbody>\n<tr><th>{}</th><td>{} ({})</td></tr>\n<tr><th>{}</th><td>{}</td></tr>\n<tr><th>{}</th><td>{}</td></tr>\n<tr><th>{}</th><td>{sigs}</td></tr>\n<tr><th>{}</th><td class=\"{replay_cls}\">{}</td></tr>\n</tbody>\n</table>",
        t("report-row-statement"),
        h(&st.hash),
        e(&standing),
        t("report-row-starts-from"),
        oh(&st.previous),
        t("report-row-inputs"),
        tr.t_args(
            "report-inputs",
            &[
                ("n", Arg::from(st.inputs.len().to_string())),
                ("ids", Arg::from(st.inputs.iter().map(|i| h(i)).collect::<Vec<_>>().join(" "))),
            ],
        ),
        t("report-row-signed-by"),
        t("report-row-replay"),
        e(&words(tr, &st.replay_words))
    );
    if let Some(g) = &st.gate {
        let cls = if g.met { "ok" } else { "bad" };
        let _ = writeln!(o, "<p class=\"{cls}\">{}</p>", e(&statement::gate_words(tr, g)));
    }
    if !st.derivation.is_empty() {
        let _ = write!(
            o,
            "<table class=\"derivation\">\n<thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>\n<tbody>\n",
            t("report-derivation"),
            t("report-col-figure"),
            t("report-col-computation")
        );
        for d in &st.derivation {
            // This copy's computation of the very same statement words it
            // in the reader's language; a statement it cannot compute keeps
            // the words it was signed with.
            let (label, formula) = match &d.line {
                Some(line) => (crate::present::words::label(tr, line), crate::present::words::formula(tr, line)),
                None => (d.label.clone(), d.formula.clone()),
            };
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                e(&label),
                e(&shown(tr, d, &st.currency)),
                e(&formula)
            );
        }
        o.push_str("</tbody>\n</table>\n");
    }
    if !pays.is_empty() {
        let _ = writeln!(
            o,
            "<table class=\"payments\">\n<caption>{}</caption>\n<thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{} ({})</th></tr></thead>\n<tbody>{pays}</tbody>\n</table>",
            t("report-payments"),
            t("report-col-from"),
            t("report-col-to"),
            t("report-col-funding"),
            t("report-col-amount"),
            e(&st.currency)
        );
    }
    if !net.is_empty() {
        let _ = writeln!(
            o,
            "<table class=\"net\">\n<caption>{}</caption>\n<thead><tr><th>{}</th><th>{}</th></tr></thead>\n<tbody>{net}</tbody>\n</table>",
            t("report-on-balance"),
            t("report-col-party"),
            t("report-col-on-balance")
        );
    }
}

fn checkpoints(o: &mut String, tr: &Tr, r: &Report) {
    let t = |id: &str| e(&tr.t(id));
    let _ = write!(o, "<section id=\"checkpoints\">\n<h2>{}</h2>\n", t("report-checkpoints"));
    if r.checkpoints.is_empty() {
        let _ = writeln!(o, "<p class=\"muted\">{}</p>", t("report-no-checkpoints"));
    }
    for c in &r.checkpoints {
        let cos: Vec<String> = c
            .cosignatures
            .iter()
            .map(|c| {
                e(&tr.t_args(
                    "report-cosignature",
                    &[("witness", Arg::from(c.witness.as_str())), ("time", Arg::from(tr.time(&c.time)))],
                ))
            })
            .collect();
        let latest = tr.t_args(
            "report-checkpoint-latest",
            &[
                ("n", Arg::Count(c.checkpoints as u64)),
                ("size", Arg::from(c.size.to_string())),
                ("root", Arg::from(format!("<code>{}</code>", e(&c.root)))),
            ],
        );
        let who = if cos.is_empty() {
            format!("<span class=\"bad\">{}</span>", t("report-cosigned-nobody"))
        } else {
            cos.join("; ")
        };
        let _ = writeln!(
            o,
            "<h3>{}</h3>\n<p>{latest}<br>{}</p>\n<pre>{}</pre>",
            e(&c.origin),
            tr.t_args("report-cosigned-by", &[("list", Arg::from(who))]),
            e(&c.note)
        );
    }
    let _ = write!(o, "</section>\n<section id=\"equivocations\">\n<h2>{}</h2>\n", t("report-equivocations"));
    if r.equivocations.is_empty() {
        let _ = writeln!(o, "<p class=\"ok\">{}</p>", t("report-equivocations-none"));
    }
    for q in &r.equivocations {
        // The checkpoints' notes are signed text, shown verbatim.
        let finding = match q.finding.as_str() {
            "same_size_different_root" => tr.t("report-finding-same-size-different-root"),
            other => other.to_string(),
        };
        let block = tr.t_args(
            "report-equivocation-block",
            &[
                ("origin", Arg::from(q.origin.as_str())),
                ("size", Arg::from(q.size.to_string())),
                ("first", Arg::from(q.first.as_str())),
                ("second", Arg::from(q.second.as_str())),
            ],
        );
        let _ = writeln!(o, "<h3 class=\"bad\">{}: {}</h3>\n<pre>{}</pre>", e(&q.origin), e(&finding), e(&block));
    }
    o.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::escape;

    /// The equivocation block in English is `Equivocation::report` byte for
    /// byte (its format, with notes that end in a newline); the Dutch one
    /// has its words in Dutch and the signed notes verbatim.
    #[test]
    fn the_equivocation_block_is_the_reports_english_and_dutch_in_dutch() {
        use crate::present::lang::{Arg, Lang, Tr};
        let (first, second) = ("o\n1\nAAA\n\n— k sig1\n", "o\n1\nBBB\n\n— k sig2\n");
        let args = |tr: &Tr| {
            tr.t_args(
                "report-equivocation-block",
                &[
                    ("origin", Arg::from("o")),
                    ("size", Arg::from("1")),
                    ("first", Arg::from(first)),
                    ("second", Arg::from(second)),
                ],
            )
        };
        let what = "two signed checkpoints of o have the same tree size 1 but different roots: the copy showed two different histories";
        let en =
            format!("EQUIVOCATION: {what}\n\n--- first checkpoint ---\n{first}--- second checkpoint ---\n{second}");
        assert_eq!(args(&Tr::new(Lang::En)), en);
        let nl = args(&Tr::new(Lang::Nl));
        assert!(
            nl.starts_with("TEGENSTRIJDIGE CHECKPOINTS: ") && nl.contains("\n\n--- eerste checkpoint ---\no\n1\nAAA"),
            "{nl}"
        );
        assert!(nl.ends_with("--- tweede checkpoint ---\no\n1\nBBB\n\n— k sig2\n"), "{nl}");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn escapes_control_characters() {
        assert_eq!(escape("a\u{1b}[2J\u{0}b\u{202e}<\nc"), "a\\u{1b}[2J\\u{0}b\\u{202e}&lt;\nc");
    }
}
