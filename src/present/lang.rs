//! Languages and number formats for everything a person reads.
//!
//! Every text the presentation layer renders comes from a message in a
//! [Fluent](https://projectfluent.org) resource under `src/present/locales/`
//! (one directory per language, the same files and message ids in each),
//! looked up through [`Tr`]. Numbers never pass through Fluent's own number
//! type (it is a float): money, rates and quantities are formatted here from
//! their exact [`Decimal`] and handed to a message as text.
//!
//! * English (`en`): `1,234,567.89`, CSV separated by `,`.
//! * Dutch (`nl`, nl-NL conventions): `1.234.567,89`, CSV separated by `;`
//!   with `,` decimals, which Dutch Excel opens correctly on a double click.
//!
//! A message missing from a language renders as `⟦id⟧` (never a panic); the
//! tests hold both languages to the same message ids and the golden files
//! show any hole.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use rust_decimal::Decimal;

use crate::domain::settlement::{format_factor, format_money, format_number, format_rate};

/// A language vereffen renders documents in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Lang {
    /// English, the default.
    #[default]
    En,
    /// Dutch with nl-NL number formats.
    Nl,
}

impl Lang {
    /// Every language, in a stable order.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Nl];

    /// The code used on the command line and in file names: `en`, `nl`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nl => "nl",
        }
    }

    /// The field separator of a CSV file a spreadsheet in this language
    /// opens correctly: `,` in English, `;` in Dutch (where `,` is the
    /// decimal separator).
    pub fn csv_separator(self) -> u8 {
        match self {
            Lang::En => b',',
            Lang::Nl => b';',
        }
    }

    /// Money with two decimals (more when the amount has them), grouped:
    /// `-1,234,567.89` / `-1.234.567,89`.
    pub fn money(self, d: Decimal) -> String {
        self.localise(format_money(d))
    }

    /// A rate as a percentage with at least two decimals: `0.4` ->
    /// `40.00%` / `40,00%`.
    pub fn rate(self, r: Decimal) -> String {
        self.localise(format_rate(r))
    }

    /// A factor with at least four decimals: `1.0300` / `1,0300`.
    pub fn factor(self, f: Decimal) -> String {
        self.localise(format_factor(f))
    }

    /// A count or quantity as given, grouped: `125,000` / `125.000`.
    pub fn number(self, q: Decimal) -> String {
        self.localise(format_number(q))
    }

    /// A plain decimal without grouping, as a spreadsheet cell in this
    /// language reads it: `1234.5` / `1234,5` (for CSV).
    pub fn plain(self, d: Decimal) -> String {
        self.localise(d.to_string())
    }

    /// An amount with its currency, as a reader of this language writes it:
    /// the euro as its sign (`€365,057.60` / `€ 365.057,60`, negative
    /// `-€1.50` / `€ -1,50`), any other currency by its ISO 4217 code
    /// (`USD 1,234.00` / `USD 1.234,00`). Every digit of [`Lang::money`] is
    /// kept.
    pub fn amount(self, d: Decimal, currency: &str) -> String {
        let digits = self.money(d.abs());
        let minus = if d.is_sign_negative() && !d.is_zero() { "-" } else { "" };
        match (self, currency) {
            (Lang::En, "EUR") => format!("{minus}€{digits}"),
            (Lang::Nl, "EUR") => format!("€ {minus}{digits}"),
            (Lang::En, code) => format!("{minus}{code} {digits}"),
            (Lang::Nl, code) => format!("{code} {minus}{digits}"),
        }
    }

    /// A claimed time (RFC 3339) for people, in UTC: `2027-03-01 14:05 UTC`
    /// in English, `01-03-2027 14:05 UTC` in Dutch (the nl-NL date); seconds (and their
    /// fraction) are shown when they are not zero, so no figure of the
    /// signed time is lost. Text that is not an RFC 3339 time is returned
    /// as it is.
    pub fn time(self, rfc3339: &str) -> String {
        use time::format_description::well_known::Rfc3339;
        let Ok(t) = time::OffsetDateTime::parse(rfc3339, &Rfc3339) else { return rfc3339.to_string() };
        let t = t.to_offset(time::UtcOffset::UTC);
        let mut clock = format!("{:02}:{:02}", t.hour(), t.minute());
        if t.second() != 0 || t.nanosecond() != 0 {
            clock.push_str(&format!(":{:02}", t.second()));
            if t.nanosecond() != 0 {
                let frac = format!("{:09}", t.nanosecond());
                clock.push_str(&format!("{}{}", if self == Lang::Nl { ',' } else { '.' }, frac.trim_end_matches('0')));
            }
        }
        match self {
            Lang::En => format!("{:04}-{:02}-{:02} {clock} UTC", t.year(), u8::from(t.month()), t.day()),
            Lang::Nl => format!("{:02}-{:02}-{:04} {clock} UTC", t.day(), u8::from(t.month()), t.year()),
        }
    }

    /// Turns an English-formatted number (`,` groups, `.` decimals) into
    /// this language's format. Exact: only the separators change.
    fn localise(self, english: String) -> String {
        match self {
            Lang::En => english,
            Lang::Nl => english
                .chars()
                .map(|c| match c {
                    ',' => '.',
                    '.' => ',',
                    c => c,
                })
                .collect(),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "en-gb" | "en-us" | "english" => Ok(Lang::En),
            "nl" | "nl-nl" | "dutch" | "nederlands" => Ok(Lang::Nl),
            other => Err(format!("unknown language {other:?}: use `en` (English) or `nl` (Nederlands)")),
        }
    }
}

/// One Fluent resource file: its name (for error messages) and its text.
type Resource = (&'static str, &'static str);

/// The English resources. Every file here has a Dutch twin with the same
/// message ids ([`NL`]).
const EN: &[Resource] = &[
    ("en/common.ftl", include_str!("locales/en/common.ftl")),
    ("en/statement.ftl", include_str!("locales/en/statement.ftl")),
    ("en/inbox.ftl", include_str!("locales/en/inbox.ftl")),
    ("en/log.ftl", include_str!("locales/en/log.ftl")),
    ("en/settle.ftl", include_str!("locales/en/settle.ftl")),
    ("en/xlsx.ftl", include_str!("locales/en/xlsx.ftl")),
    ("en/lines.ftl", include_str!("locales/en/lines.ftl")),
    ("en/accountability.ftl", include_str!("locales/en/accountability.ftl")),
    ("en/simulate.ftl", include_str!("locales/en/simulate.ftl")),
    ("en/report.ftl", include_str!("locales/en/report.ftl")),
    ("en/document.ftl", include_str!("locales/en/document.ftl")),
    ("en/forecast.ftl", include_str!("locales/en/forecast.ftl")),
    ("en/engine.ftl", include_str!("locales/en/engine.ftl")),
    ("en/web.ftl", include_str!("locales/en/web.ftl")),
    ("en/negotiation.ftl", include_str!("locales/en/negotiation.ftl")),
    ("en/web-negotiate.ftl", include_str!("locales/en/web-negotiate.ftl")),
    ("en/web-webact.ftl", include_str!("locales/en/web-webact.ftl")),
    ("en/web-webmodel.ftl", include_str!("locales/en/web-webmodel.ftl")),
    ("en/web-webaudit.ftl", include_str!("locales/en/web-webaudit.ftl")),
    ("en/web-entry.ftl", include_str!("locales/en/web-entry.ftl")),
    ("en/web-offer.ftl", include_str!("locales/en/web-offer.ftl")),
    ("en/contract-diff.ftl", include_str!("locales/en/contract-diff.ftl")),
    ("en/web-timeline.ftl", include_str!("locales/en/web-timeline.ftl")),
    ("en/web-derive.ftl", include_str!("locales/en/web-derive.ftl")),
    ("en/terms.ftl", include_str!("locales/en/terms.ftl")),
];

/// The Dutch resources, file for file the twins of [`EN`].
const NL: &[Resource] = &[
    ("nl/common.ftl", include_str!("locales/nl/common.ftl")),
    ("nl/statement.ftl", include_str!("locales/nl/statement.ftl")),
    ("nl/inbox.ftl", include_str!("locales/nl/inbox.ftl")),
    ("nl/log.ftl", include_str!("locales/nl/log.ftl")),
    ("nl/settle.ftl", include_str!("locales/nl/settle.ftl")),
    ("nl/xlsx.ftl", include_str!("locales/nl/xlsx.ftl")),
    ("nl/lines.ftl", include_str!("locales/nl/lines.ftl")),
    ("nl/accountability.ftl", include_str!("locales/nl/accountability.ftl")),
    ("nl/simulate.ftl", include_str!("locales/nl/simulate.ftl")),
    ("nl/report.ftl", include_str!("locales/nl/report.ftl")),
    ("nl/document.ftl", include_str!("locales/nl/document.ftl")),
    ("nl/forecast.ftl", include_str!("locales/nl/forecast.ftl")),
    ("nl/engine.ftl", include_str!("locales/nl/engine.ftl")),
    ("nl/web.ftl", include_str!("locales/nl/web.ftl")),
    ("nl/negotiation.ftl", include_str!("locales/nl/negotiation.ftl")),
    ("nl/web-negotiate.ftl", include_str!("locales/nl/web-negotiate.ftl")),
    ("nl/web-webact.ftl", include_str!("locales/nl/web-webact.ftl")),
    ("nl/web-webmodel.ftl", include_str!("locales/nl/web-webmodel.ftl")),
    ("nl/web-webaudit.ftl", include_str!("locales/nl/web-webaudit.ftl")),
    ("nl/web-entry.ftl", include_str!("locales/nl/web-entry.ftl")),
    ("nl/web-offer.ftl", include_str!("locales/nl/web-offer.ftl")),
    ("nl/contract-diff.ftl", include_str!("locales/nl/contract-diff.ftl")),
    ("nl/web-timeline.ftl", include_str!("locales/nl/web-timeline.ftl")),
    ("nl/web-derive.ftl", include_str!("locales/nl/web-derive.ftl")),
    ("nl/terms.ftl", include_str!("locales/nl/terms.ftl")),
];

/// The resources of `lang`.
fn resources(lang: Lang) -> &'static [Resource] {
    match lang {
        Lang::En => EN,
        Lang::Nl => NL,
    }
}

/// A loaded language: its bundle, and the problems found while loading it
/// (a resource that does not parse, a message defined twice), which the
/// tests require to be empty.
struct Loaded {
    bundle: FluentBundle<FluentResource>,
    problems: Vec<String>,
}

fn load(lang: Lang) -> Loaded {
    let tag = match lang {
        Lang::En => "en-GB",
        Lang::Nl => "nl-NL",
    };
    let mut problems = Vec::new();
    let id = tag.parse::<unic_langid::LanguageIdentifier>().unwrap_or_else(|e| {
        problems.push(format!("language tag {tag}: {e}"));
        unic_langid::LanguageIdentifier::default()
    });
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Unicode isolation marks around every argument would end up in CSV
    // cells and golden files; the arguments here are numbers and ids.
    bundle.set_use_isolating(false);
    for (name, text) in resources(lang) {
        let resource = match FluentResource::try_new((*text).to_string()) {
            Ok(r) => r,
            Err((r, errors)) => {
                problems.extend(errors.iter().map(|e| format!("{name}: {e:?}")));
                r
            }
        };
        if let Err(errors) = bundle.add_resource(resource) {
            problems.extend(errors.iter().map(|e| format!("{name}: {e:?}")));
        }
    }
    Loaded { bundle, problems }
}

fn loaded(lang: Lang) -> &'static Loaded {
    static EN_LOADED: OnceLock<Loaded> = OnceLock::new();
    static NL_LOADED: OnceLock<Loaded> = OnceLock::new();
    match lang {
        Lang::En => EN_LOADED.get_or_init(|| load(Lang::En)),
        Lang::Nl => NL_LOADED.get_or_init(|| load(Lang::Nl)),
    }
}

/// An argument of a message: text, or a whole count (for plural forms).
/// Money and rates are formatted first ([`Lang::money`], [`Lang::rate`])
/// and passed as text, so no amount ever becomes a float.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    /// Text, inserted as is.
    Text(Cow<'a, str>),
    /// A whole count, which may select a plural form (`{ $n -> [one] ... }`).
    Count(u64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Arg<'a> {
        Arg::Text(Cow::Borrowed(s))
    }
}

impl From<String> for Arg<'_> {
    fn from(s: String) -> Self {
        Arg::Text(Cow::Owned(s))
    }
}

impl From<u64> for Arg<'_> {
    fn from(n: u64) -> Self {
        Arg::Count(n)
    }
}

impl From<usize> for Arg<'_> {
    fn from(n: usize) -> Self {
        Arg::Count(n as u64)
    }
}

/// Translates message ids into one language's text.
#[derive(Clone, Copy)]
pub struct Tr {
    lang: Lang,
    loaded: &'static Loaded,
}

impl fmt::Debug for Tr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tr").field("lang", &self.lang).finish()
    }
}

impl Tr {
    /// The translator for `lang` (its resources are parsed once per process).
    pub fn new(lang: Lang) -> Tr {
        Tr { lang, loaded: loaded(lang) }
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The text of message `id` without arguments.
    pub fn t(&self, id: &str) -> String {
        self.t_args(id, &[])
    }

    /// The text of message `id` with `args` (name, value). A missing message
    /// renders as `⟦id⟧`.
    pub fn t_args(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        let bundle = &self.loaded.bundle;
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return format!("⟦{id}⟧");
        };
        let mut fargs = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            let v = match value {
                Arg::Text(s) => FluentValue::String(Cow::Owned(s.to_string())),
                Arg::Count(n) => FluentValue::from(*n),
            };
            fargs.set(name.to_string(), v);
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&fargs), &mut errors);
        if errors.is_empty() {
            text.into_owned()
        } else {
            // A message that names an argument it was not given: visible,
            // never silent (the golden files catch it).
            format!("⟦{id}: {}⟧", text)
        }
    }

    /// Money in this language's format ([`Lang::money`]).
    pub fn money(&self, d: Decimal) -> String {
        self.lang.money(d)
    }

    /// A rate in this language's format ([`Lang::rate`]).
    pub fn rate(&self, r: Decimal) -> String {
        self.lang.rate(r)
    }

    /// A factor in this language's format ([`Lang::factor`]).
    pub fn factor(&self, f: Decimal) -> String {
        self.lang.factor(f)
    }

    /// An amount with its currency in this language's format ([`Lang::amount`]).
    pub fn amount(&self, d: Decimal, currency: &str) -> String {
        self.lang.amount(d, currency)
    }

    /// A claimed time for people in this language ([`Lang::time`]).
    pub fn time(&self, rfc3339: &str) -> String {
        self.lang.time(rfc3339)
    }

    /// A count or quantity in this language's format ([`Lang::number`]).
    pub fn number(&self, q: Decimal) -> String {
        self.lang.number(q)
    }
}

/// The message ids defined in `lang`'s resources, sorted (for the parity
/// test and for tools).
pub fn message_ids(lang: Lang) -> Vec<String> {
    use fluent_syntax::ast::Entry;
    let mut ids = Vec::new();
    for (_, text) in resources(lang) {
        let parsed = match fluent_syntax::parser::parse(*text) {
            Ok(r) => r,
            Err((r, _)) => r,
        };
        for entry in parsed.body {
            if let Entry::Message(m) = entry {
                ids.push(m.id.name.to_string());
            }
        }
    }
    ids.sort();
    ids
}

/// Problems found loading `lang`'s resources (must be none).
pub fn load_problems(lang: Lang) -> &'static [String] {
    &loaded(lang).problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn every_language_loads_without_problems() {
        for lang in Lang::ALL {
            assert!(load_problems(lang).is_empty(), "{lang}: {:?}", load_problems(lang));
        }
    }

    #[test]
    fn both_languages_define_the_same_messages() {
        let en = message_ids(Lang::En);
        let nl = message_ids(Lang::Nl);
        let only_en: Vec<_> = en.iter().filter(|id| !nl.contains(id)).collect();
        let only_nl: Vec<_> = nl.iter().filter(|id| !en.contains(id)).collect();
        assert!(only_en.is_empty() && only_nl.is_empty(), "only in en: {only_en:?}; only in nl: {only_nl:?}");
        let mut dedup = en.clone();
        dedup.dedup();
        assert_eq!(dedup, en, "a message id is defined twice");
        assert_eq!(EN.len(), NL.len());
        for (e, n) in EN.iter().zip(NL) {
            assert_eq!(e.0.trim_start_matches("en/"), n.0.trim_start_matches("nl/"), "resource files are twins");
        }
    }

    #[test]
    fn numbers_keep_every_digit_and_swap_separators_in_dutch() {
        assert_eq!(Lang::En.money(dec!(-1234567.89)), "-1,234,567.89");
        assert_eq!(Lang::Nl.money(dec!(-1234567.89)), "-1.234.567,89");
        assert_eq!(Lang::Nl.money(dec!(12.3456)), "12,3456");
        assert_eq!(Lang::Nl.rate(dec!(0.4)), "40,00%");
        assert_eq!(Lang::Nl.factor(dec!(1.03)), "1,0300");
        assert_eq!(Lang::Nl.number(dec!(125000)), "125.000");
        assert_eq!(Lang::Nl.plain(dec!(1234.50)), "1234,50");
        assert_eq!(Lang::Nl.csv_separator(), b';');
    }

    #[test]
    fn an_amount_carries_its_currency_in_the_readers_format() {
        assert_eq!(Lang::En.amount(dec!(365057.60), "EUR"), "€365,057.60");
        assert_eq!(Lang::Nl.amount(dec!(365057.60), "EUR"), "€ 365.057,60");
        assert_eq!(Lang::En.amount(dec!(-1.5), "EUR"), "-€1.50");
        assert_eq!(Lang::Nl.amount(dec!(-1.5), "EUR"), "€ -1,50");
        assert_eq!(Lang::En.amount(dec!(1234), "USD"), "USD 1,234.00");
        assert_eq!(Lang::Nl.amount(dec!(1234.125), "GBP"), "GBP 1.234,125");
        assert_eq!(Lang::En.amount(dec!(0), "EUR"), "€0.00");
    }

    #[test]
    fn a_time_reads_as_a_date_and_a_clock_in_utc() {
        assert_eq!(Lang::En.time("2027-03-01T14:05:00Z"), "2027-03-01 14:05 UTC");
        assert_eq!(Lang::Nl.time("2027-03-01T14:05:00Z"), "01-03-2027 14:05 UTC");
        assert_eq!(Lang::En.time("2027-03-01T15:05:09+01:00"), "2027-03-01 14:05:09 UTC");
        assert_eq!(Lang::Nl.time("2027-12-31T23:59:59.5Z"), "31-12-2027 23:59:59,5 UTC");
        assert_eq!(Lang::En.time("yesterday"), "yesterday", "not a time: as written");
    }

    #[test]
    fn messages_take_arguments_and_plurals_and_a_hole_is_visible() {
        let en = Tr::new(Lang::En);
        let nl = Tr::new(Lang::Nl);
        assert_eq!(en.t_args("figures-count", &[("n", Arg::from(1u64))]), "1 figure");
        assert_eq!(en.t_args("figures-count", &[("n", Arg::from(3u64))]), "3 figures");
        assert_eq!(nl.t_args("figures-count", &[("n", Arg::from(3u64))]), "3 cijfers");
        assert_eq!(en.t("no-such-message"), "⟦no-such-message⟧");
        assert!(nl.t("figures-count").starts_with('⟦'), "a missing argument is visible");
    }

    #[test]
    fn language_codes_parse_and_unknown_ones_are_refused() {
        assert_eq!("nl".parse::<Lang>(), Ok(Lang::Nl));
        assert_eq!("EN".parse::<Lang>(), Ok(Lang::En));
        assert!("de".parse::<Lang>().unwrap_err().contains("use `en`"));
    }
}
