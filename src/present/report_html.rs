//! The report as one self-contained HTML document: inline CSS (with print
//! rules, so a browser prints it cleanly to PDF), no scripts, no external
//! resources. Every string that comes from the ledger goes through
//! [`escape`].

use std::fmt::Write;

use crate::audit::report::{self, Anomaly, ContractReport, Report};

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

/// Renders the report as an HTML document.
pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Audit report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        e(&r.ledger)
    );
    let _ = write!(
        o,
        "<header>\n<h1>Audit report</h1>\n<p class=\"muted\">Ledger <strong>{}</strong> &middot; {}</p>\n",
        e(&r.ledger),
        e(&r.generated_from)
    );
    let _ = write!(
        o,
        "<dl class=\"meta\">\n<dt>Ledger id</dt><dd>{}</dd>\n<dt>Entries</dt><dd>{}</dd>\n<dt>Head hash</dt><dd><code>{}</code></dd>\n<dt>Merkle root</dt><dd><code>{}</code> (tree size {})</dd>\n<dt>Clock skew tolerated</dt><dd>{} seconds</dd>\n</dl>\n</header>\n",
        e(&r.ledger),
        r.entries,
        e(&r.head),
        e(&r.merkle_root),
        r.merkle_size,
        r.clock_skew_secs
    );
    o.push_str(
        "<nav><ol><li><a href=\"#anomalies\">Anomalies</a></li><li><a href=\"#parties\">Parties and keys</a></li>",
    );
    for c in &r.contracts {
        let _ = write!(o, "<li><a href=\"#contract-{0}\">Contract {0}</a></li>", e(&c.id));
    }
    o.push_str("<li><a href=\"#checkpoints\">Checkpoints and cosignatures</a></li><li><a href=\"#equivocations\">Equivocation evidence</a></li></ol></nav>\n");

    anomalies(&mut o, &r.anomalies);
    parties(&mut o, r);
    for c in &r.contracts {
        contract(&mut o, c);
    }
    checkpoints(&mut o, r);
    o.push_str("</body>\n</html>\n");
    o
}

fn anomalies(o: &mut String, list: &[Anomaly]) {
    if list.is_empty() {
        o.push_str("<section id=\"anomalies\" class=\"anomalies none\">\n<h2>Anomalies</h2>\n<p class=\"ok\">None found: no disputed or unresolved figures, no corrections after settlement, no settlement conflicts, every statement replays, no claimed times out of order, no key used after its revocation, no equivocation.</p>\n</section>\n");
        return;
    }
    let _ = write!(
        o,
        "<section id=\"anomalies\" class=\"anomalies\">\n<h2>Anomalies ({})</h2>\n<table>\n<thead><tr><th>Kind</th><th>Concerns</th><th>Entry</th><th>Finding</th></tr></thead>\n<tbody>\n",
        list.len()
    );
    for a in list {
        let _ = writeln!(
            o,
            "<tr class=\"anomaly {}\"><td class=\"bad\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&serde_json::to_value(a.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()),
            e(a.kind.label()),
            e(&a.subject),
            oh(&a.entry),
            e(&a.detail)
        );
    }
    o.push_str("</tbody>\n</table>\n</section>\n");
}

fn parties(o: &mut String, r: &Report) {
    o.push_str("<section id=\"parties\">\n<h2>Parties and key history</h2>\n<table>\n<thead><tr><th>Party</th><th>Name</th><th>Role</th><th>Key</th><th>Introduced</th><th>Ended</th></tr></thead>\n<tbody>\n");
    for p in &r.parties {
        let n = p.keys.len().max(1);
        let lead = format!(
            "<td rowspan=\"{n}\"><strong>{}</strong></td><td rowspan=\"{n}\">{}</td><td rowspan=\"{n}\">{}</td>",
            e(&p.id),
            e(&p.name),
            e(&p.role)
        );
        if p.keys.is_empty() {
            let _ = writeln!(o, "<tr class=\"party\">{lead}<td colspan=\"3\" class=\"muted\">no keys</td></tr>");
        }
        for (i, k) in p.keys.iter().enumerate() {
            let ended = match &k.ended {
                None => "<span class=\"ok\">valid</span>".to_string(),
                Some(end) => format!(
                    "<span class=\"{}\">{}</span>{} at {} by entry {} (#{})",
                    if end.how == "revoked" { "bad" } else { "muted" },
                    e(&end.how),
                    end.reason.as_deref().map(|r| format!(": {}", e(r))).unwrap_or_default(),
                    e(&end.time),
                    h(&end.entry),
                    end.seq
                ),
            };
            let _ = writeln!(
                o,
                "<tr class=\"party\">{}<td><code>{}</code></td><td>{} by entry {} (#{})</td><td>{}</td></tr>",
                if i == 0 { lead.as_str() } else { "" },
                e(&k.fingerprint),
                e(&k.added_time),
                h(&k.added_by),
                k.added_seq,
                ended
            );
        }
    }
    o.push_str("</tbody>\n</table>\n</section>\n");
}

fn contract(o: &mut String, c: &ContractReport) {
    let _ = write!(o, "<section class=\"contract\" id=\"contract-{0}\">\n<h2>Contract {0}</h2>\n", e(&c.id));
    let _ = writeln!(o, "<p>Agreed base version: {}</p>", oh(&c.base));
    for conflict in &c.conflicts {
        let _ = writeln!(o, "<p class=\"bad\">Conflict: {}</p>", e(conflict));
    }
    o.push_str("<h3>In force per year</h3>\n<table>\n<thead><tr><th>Year</th><th>Governing version</th></tr></thead>\n<tbody>\n");
    for y in &c.in_force {
        let _ = writeln!(o, "<tr><td>{}</td><td>{}</td></tr>", y.year, oh(&y.version));
    }
    o.push_str("</tbody>\n</table>\n");

    o.push_str("<h3>Versions and signatures</h3>\n<table>\n<thead><tr><th>Version</th><th>Kind</th><th>State</th><th>Signatories</th><th>Signed (party, by, when, entry)</th></tr></thead>\n<tbody>\n");
    for v in &c.versions {
        let kind = match &v.answers {
            Some(a) => format!("{} of {}", e(&v.kind), h(a)),
            None => e(&v.kind),
        };
        let mut sigs = String::new();
        for s in &v.signatures {
            let by =
                if s.signed_by != s.party { format!(" (by {} under mandate)", e(&s.signed_by)) } else { String::new() };
            let _ = write!(sigs, "{}{by}, {}, {}<br>", e(&s.party), e(&s.time), h(&s.entry));
        }
        for rj in &v.rejections {
            let _ = write!(
                sigs,
                "<span class=\"bad\">rejected by {}</span>: {}<br>",
                e(&rj.party),
                e(&rj.reasons.join("; "))
            );
        }
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{kind}<br><span class=\"muted\">from {}</span></td><td>{}</td><td>{}</td><td>{sigs}</td></tr>",
            h(&v.version),
            v.effective_from,
            e(&v.state),
            e(&v.signatories.join(", "))
        );
    }
    o.push_str("</tbody>\n</table>\n");

    o.push_str("<h3>Measurements</h3>\n<table>\n<thead><tr><th>Indicator</th><th>Period</th><th>Value</th><th>State</th><th>Source</th><th>Signed by</th><th>Corrections, disputes, notes</th></tr></thead>\n<tbody>\n");
    for m in &c.measurements {
        let state_class = match m.state.as_str() {
            "agreed" => "ok",
            "superseded" => "muted",
            _ => "bad",
        };
        let mut notes = String::new();
        if let Some(x) = &m.corrects {
            let _ = write!(notes, "corrects {}: {}<br>", h(x), e(m.reason.as_deref().unwrap_or("no reason given")));
        }
        for d in &m.disputes {
            let _ = write!(
                notes,
                "<span class=\"{}\">disputed by {}</span> at {} ({}): {}<br>",
                if d.resolved { "muted" } else { "bad" },
                e(&d.party),
                e(&d.time),
                if d.resolved { "resolved" } else { "open" },
                e(&d.reason)
            );
        }
        if let Some(n) = &m.note {
            let _ = write!(notes, "note: {}<br>", e(n));
        }
        if let Some(d) = &m.derivation {
            let _ = write!(notes, "<span class=\"muted\">derived: {}</span><br>", e(d));
        }
        let signed: Vec<String> = m.signed_by.iter().map(|s| format!("{} {}", e(&s.party), h(&s.entry))).collect();
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{} <span class=\"muted\">{}</span></td><td><span class=\"{state_class}\">{}</span>{}<br>{}</td><td>{}<br><span class=\"muted\">{}</span></td><td>{}</td><td>{notes}</td></tr>",
            e(&m.indicator),
            e(&m.period),
            e(&if m.unit == "eur" { report::money_text(&m.value) } else { m.value.clone() }),
            e(&if m.unit == "eur" { "EUR".to_string() } else { m.unit.clone() }),
            e(&m.state),
            m.state_detail.as_deref().map(|d| format!(": {}", e(d))).unwrap_or_default(),
            h(&m.id),
            e(&m.source),
            e(&m.time),
            signed.join("<br>")
        );
    }
    o.push_str("</tbody>\n</table>\n");

    o.push_str("<h3>Settlements</h3>\n");
    for s in &c.settlements {
        let cls = if s.state.contains("conflict") {
            "bad"
        } else if s.settled.is_some() {
            "ok"
        } else {
            "muted"
        };
        let _ = writeln!(
            o,
            "<h4 class=\"settlement\" id=\"settlement-{}-{}\">{} {} &mdash; <span class=\"{cls}\">{}</span></h4>",
            e(&c.id),
            s.year,
            e(&c.id),
            s.year,
            e(&s.state)
        );
        let _ = writeln!(
            o,
            "<p>Governing version {}; signatories {}; settled statement {}{}.</p>",
            oh(&s.version),
            e(&s.signatories.join(", ")),
            oh(&s.settled),
            if s.replaced.is_empty() {
                String::new()
            } else {
                format!("; replaced {}", s.replaced.iter().map(|r| h(r)).collect::<Vec<_>>().join(", "))
            }
        );
        for conflict in &s.conflicts {
            let _ = writeln!(o, "<p class=\"bad\">Conflict: {}</p>", e(conflict));
        }
        if s.statements.is_empty() {
            o.push_str("<p class=\"muted\">No statement signed.</p>\n");
        }
        for st in &s.statements {
            let replay_cls = if st.replay.starts_with("MATCH") { "ok" } else { "bad" };
            let mut sigs = String::new();
            for sg in &st.signatures {
                let _ = write!(
                    sigs,
                    "{}, {}, {}{}<br>",
                    e(&sg.party),
                    e(&sg.time),
                    h(&sg.entry),
                    sg.replaces.as_deref().map(|r| format!(" (replaces {})", h(r))).unwrap_or_default()
                );
            }
            let mut pays = String::new();
            for p in &st.payments {
                let _ = write!(
                    pays,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                    e(&p.from),
                    e(&p.to),
                    e(&p.funding),
                    e(&report::money_text(&p.amount))
                );
            }
            let mut net = String::new();
            for n in &st.net {
                let _ = write!(
                    net,
                    "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
                    e(&n.party),
                    e(&report::money_text(&n.net))
                );
            }
            let _ = writeln!(
                o,
                "<table class=\"statement\">\n<tbody>\n<tr><th>Statement</th><td>{} ({})</td></tr>\n<tr><th>Starts from</th><td>{}</td></tr>\n<tr><th>Inputs</th><td>{} measurement entries: {}</td></tr>\n<tr><th>Signed by</th><td>{sigs}</td></tr>\n<tr><th>Replay</th><td class=\"{replay_cls}\">{}</td></tr>\n</tbody>\n</table>",
                h(&st.hash),
                e(&st.standing),
                oh(&st.previous),
                st.inputs.len(),
                st.inputs.iter().map(|i| h(i)).collect::<Vec<_>>().join(" "),
                e(&st.replay)
            );
            if let Some(g) = &st.quality_gate {
                let cls = if g.starts_with("quality gate met") { "ok" } else { "bad" };
                let _ = writeln!(o, "<p class=\"{cls}\">{}</p>", e(g));
            }
            if !st.derivation.is_empty() {
                o.push_str("<table class=\"derivation\">\n<thead><tr><th>Derivation</th><th>Figure</th><th>Computation</th></tr></thead>\n<tbody>\n");
                for d in &st.derivation {
                    let _ = writeln!(
                        o,
                        "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                        e(&d.label),
                        e(&d.shown),
                        e(&d.formula)
                    );
                }
                o.push_str("</tbody>\n</table>\n");
            }
            if !pays.is_empty() {
                let _ = writeln!(o, "<table class=\"payments\">\n<thead><tr><th>From</th><th>To</th><th>Funding</th><th>Amount (EUR)</th></tr></thead>\n<tbody>{pays}</tbody>\n</table>");
            }
            if !net.is_empty() {
                let _ = writeln!(o, "<table class=\"net\">\n<thead><tr><th>Party</th><th>Net (EUR)</th></tr></thead>\n<tbody>{net}</tbody>\n</table>");
            }
        }
    }
    o.push_str("</section>\n");
}

fn checkpoints(o: &mut String, r: &Report) {
    o.push_str("<section id=\"checkpoints\">\n<h2>Checkpoints and cosignatures</h2>\n");
    if r.checkpoints.is_empty() {
        o.push_str("<p class=\"muted\">No checkpoints recorded in this copy.</p>\n");
    }
    for c in &r.checkpoints {
        let cos: Vec<String> = c.cosignatures.iter().map(|c| format!("{} at {}", e(&c.witness), e(&c.time))).collect();
        let _ = writeln!(
            o,
            "<h3>{}</h3>\n<p>Latest of {} checkpoint(s): tree size {}, root <code>{}</code>.<br>Cosigned by: {}</p>\n<pre>{}</pre>",
            e(&c.origin),
            c.checkpoints,
            c.size,
            e(&c.root),
            if cos.is_empty() { "<span class=\"bad\">nobody</span>".to_string() } else { cos.join("; ") },
            e(&c.note)
        );
    }
    o.push_str("</section>\n<section id=\"equivocations\">\n<h2>Equivocation evidence</h2>\n");
    if r.equivocations.is_empty() {
        o.push_str("<p class=\"ok\">None recorded or visible among the recorded checkpoints.</p>\n");
    }
    for q in &r.equivocations {
        let _ = writeln!(o, "<h3 class=\"bad\">{}: {}</h3>\n<pre>{}</pre>", e(&q.origin), e(&q.finding), e(&q.report));
    }
    o.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::escape;

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
