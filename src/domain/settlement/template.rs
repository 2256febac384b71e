//! A simulation's inputs of one year ([`Template`]): their figures' keys are
//! fixed when the template is built and only their values change from run
//! to run, so the engine finds a figure through a table built once per
//! template ([`FigTable`]) instead of searching the inputs' maps by text in
//! every run (about 330 instructions a lookup, most of them string
//! comparisons).
//!
//! The table finds a key by its content, not by where the caller's text
//! lives: the same answer for any text with the same bytes, at any address.

use rust_decimal::Decimal;

use super::Inputs;

/// A year's [`Inputs`] whose keys never change, with the table the engine
/// reads them through. The values change only through [`Template::fill`],
/// which writes the inputs and the table alike, so the table always gives
/// what the inputs hold.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    inputs: Inputs,
    table: FigTable,
}

impl Template {
    /// `inputs` with their table.
    pub(crate) fn new(inputs: Inputs) -> Template {
        let table = FigTable::new(&inputs);
        Template { inputs, table }
    }

    /// The inputs.
    pub(crate) fn inputs(&self) -> &Inputs {
        &self.inputs
    }

    /// The table of the inputs' figures.
    pub(crate) fn table(&self) -> &FigTable {
        &self.table
    }

    /// Sets the figures' values, in the maps' iteration order (this year's
    /// figures by indicator, then the other years' by year and indicator),
    /// one value each; figures past the end of `values` keep theirs.
    pub(crate) fn fill(&mut self, values: impl IntoIterator<Item = Decimal>) {
        let i = &mut self.inputs;
        let figures = i.figures.values_mut().chain(i.other_years.values_mut().flat_map(|m| m.values_mut()));
        for ((f, v), x) in figures.zip(self.table.values.iter_mut()).zip(values) {
            f.value = x;
            *v = x;
        }
    }
}

impl std::ops::Deref for Template {
    type Target = Inputs;

    fn deref(&self) -> &Inputs {
        &self.inputs
    }
}

/// Where each figure of some [`Inputs`] is, found by its indicator's text
/// and year, with the figures' values. For every text and year,
/// [`FigTable::get`] gives the value that [`Inputs`] gives for it (this
/// year's figures for the inputs' year, `other_years` for any other year),
/// or `None` when the inputs have none.
#[derive(Debug, Clone)]
pub(crate) struct FigTable {
    /// Per figure, in the maps' iteration order: its text (compared only
    /// for a text longer than [`EXACT_LEN`]).
    texts: Vec<Box<str>>,
    /// Per figure, in the same order: its value.
    values: Vec<Decimal>,
    /// Open addressing: a figure's key and its index in the order, or
    /// [`EMPTY`]. A power of two long and at most half full, so every
    /// search meets an empty slot.
    slots: Vec<(Key, u32)>,
}

/// The index of an empty slot of a [`FigTable`].
const EMPTY: u32 = u32::MAX;

/// The length up to which a text's [`Key`] holds every byte of it: two
/// texts of at most this length are equal exactly when their keys are.
const EXACT_LEN: usize = 32;

/// A text and year as integers: its first and last 16 bytes (for a text of
/// fewer than 16 bytes: its first and last 8; of fewer than 8: its first
/// and last 4; of fewer than 4: its first, middle and last byte), its
/// length and the year. For texts of equal length up to [`EXACT_LEN`]
/// these cover every byte, so equal keys are equal texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Key {
    head: u128,
    tail: u128,
    /// The length, shifted 16 bits up, and the year.
    len_year: u64,
}

impl Key {
    #[inline]
    fn of(text: &str, year: u16) -> Key {
        let b = text.as_bytes();
        let (head, tail) = if let (Some(h), Some(t)) = (b.first_chunk::<16>(), b.last_chunk::<16>()) {
            (u128::from_le_bytes(*h), u128::from_le_bytes(*t))
        } else if let (Some(h), Some(t)) = (b.first_chunk::<8>(), b.last_chunk::<8>()) {
            (u128::from(u64::from_le_bytes(*h)), u128::from(u64::from_le_bytes(*t)))
        } else if let (Some(h), Some(t)) = (b.first_chunk::<4>(), b.last_chunk::<4>()) {
            (u128::from(u32::from_le_bytes(*h)), u128::from(u32::from_le_bytes(*t)))
        } else {
            // Fewer than 4 bytes: the first, the middle and the last are
            // all of them (none for an empty text).
            let at = |i: usize| b.get(i).map_or(0, |&x| u128::from(x));
            (at(0) | at(b.len() / 2) << 8 | at(b.len().wrapping_sub(1)) << 16, 0)
        };
        Key { head, tail, len_year: (b.len() as u64) << 16 | u64::from(year) }
    }

    /// The text's length.
    fn len(&self) -> u64 {
        self.len_year >> 16
    }

    /// A hash of the key (a fixed function: no randomness, no state).
    #[inline]
    fn hash(&self) -> u64 {
        let h = (self.head as u64)
            ^ ((self.head >> 64) as u64).rotate_left(17)
            ^ (self.tail as u64).rotate_left(31)
            ^ ((self.tail >> 64) as u64).rotate_left(47)
            ^ self.len_year;
        h.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

impl FigTable {
    /// The table of the figures of `inputs`, with their values.
    pub(crate) fn new(inputs: &Inputs) -> FigTable {
        let this = inputs.figures.iter().map(|(k, f)| (inputs.year, k, f));
        let others = inputs.other_years.iter().flat_map(|(y, m)| m.iter().map(move |(k, f)| (*y, k, f)));
        let mut texts = Vec::new();
        let mut values = Vec::new();
        // `other_years` may hold the inputs' own year, which a lookup never
        // reads (this year's figures are `figures`): such figures keep
        // their place in the order, but are not in the table.
        let mut readable = Vec::new();
        for (pos, (year, k, f)) in this.chain(others).enumerate() {
            texts.push(Box::from(k.as_str()));
            values.push(f.value);
            let own_year_elsewhere = pos >= inputs.figures.len() && year == inputs.year;
            if !own_year_elsewhere {
                readable.push((pos, Key::of(k, year)));
            }
        }
        let len = (readable.len() * 2).next_power_of_two().max(8);
        let mut slots = vec![(Key::default(), EMPTY); len];
        let mask = len - 1;
        for (pos, key) in readable {
            // Fewer than 2^32 - 1 figures: every one has its index.
            let Ok(index) = u32::try_from(pos) else { continue };
            let mut i = key.hash() as usize;
            for _ in 0..len {
                match slots.get_mut(i & mask) {
                    Some(s) if s.1 == EMPTY => {
                        *s = (key, index);
                        break;
                    }
                    _ => i = i.wrapping_add(1),
                }
            }
        }
        FigTable { texts, values, slots }
    }

    /// The value of the figure of `indicator` in `year`; `None` when there
    /// is none.
    #[inline]
    pub(crate) fn get(&self, indicator: &str, year: u16) -> Option<Decimal> {
        let key = Key::of(indicator, year);
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = key.hash() as usize;
        for _ in 0..self.slots.len() {
            let &(k, index) = self.slots.get(i & mask)?;
            if index == EMPTY {
                return None;
            }
            if k == key && (key.len() <= EXACT_LEN as u64 || self.text_is(index, indicator)) {
                return self.values.get(index as usize).copied();
            }
            i = i.wrapping_add(1);
        }
        None
    }

    /// Whether figure `index` is of `text` (for texts the key does not hold
    /// whole).
    #[cold]
    #[inline(never)]
    fn text_is(&self, index: u32, text: &str) -> bool {
        self.texts.get(index as usize).is_some_and(|t| **t == *text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settlement::Figure;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// The lookup the table replaces: [`Inputs`]'s own.
    fn oracle(inputs: &Inputs, indicator: &str, year: u16) -> Option<Decimal> {
        inputs.get(indicator, year).map(|f| f.value)
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn sample() -> Inputs {
        Inputs::new(2026)
            .with("ss-cost", d("14900000.00"))
            .with("episodes", d("40"))
            .with("dm2-member-months", d("71000"))
            .with("patients-huisartsen", d("5800"))
            .with("a", d("1"))
            .with("", d("2"))
            .with("a-very-long-indicator-id-of-more-than-32-bytes-x", d("3"))
            .with("a-very-long-indicator-id-of-more-than-32-bytes-y", d("4"))
            .with("a-very-long-indicator-iD-of-more-than-32-bytes-y", d("5"))
            .with_other_year(2024, "dm2-member-months", d("69000"))
            .with_other_year(2025, "ss-cost", d("-5"))
            .with_other_year(2026, "shadow", d("9"))
    }

    /// Present, missing, other years, the own year only in `other_years`,
    /// texts of every length class, the same content at another address,
    /// the same address with another year.
    #[test]
    fn the_table_gives_what_the_inputs_give() {
        let inputs = sample();
        let t = FigTable::new(&inputs);
        let names = [
            "ss-cost",
            "episodes",
            "dm2-member-months",
            "patients-huisartsen",
            "a",
            "",
            "b",
            "a-very-long-indicator-id-of-more-than-32-bytes-x",
            "a-very-long-indicator-id-of-more-than-32-bytes-y",
            "a-very-long-indicator-id-of-more-than-32-bytes-z",
            "a-very-long-indicator-iD-of-more-than-32-bytes-y",
            "a-very-long-indicator-iD-of-more-than-32-bytes-x",
            "ab",
            "abc",
            "abd",
            "adc",
            "shadow",
            "ss-cosu",
            "ss-cost ",
            "patients-huisartseN",
        ];
        for name in names {
            // Another address with the same content.
            let copy = name.to_string();
            for year in [2023, 2024, 2025, 2026, 2027] {
                assert_eq!(t.get(name, year), oracle(&inputs, name, year), "{name} {year}");
                assert_eq!(t.get(&copy, year), oracle(&inputs, name, year), "{name} {year} (copy)");
            }
        }
        assert_eq!(t.get("ss-cost", 2026), Some(d("14900000.00")));
        assert_eq!(t.get("ss-cost", 2025), Some(d("-5")));
        assert_eq!(t.get("dm2-member-months", 2024), Some(d("69000")));
        assert_eq!(t.get("shadow", 2026), None, "this year's figures are `figures` only");
    }

    #[test]
    fn a_filled_template_gives_the_new_values() {
        let mut t = Template::new(sample());
        let n = t.table().values.len();
        t.fill((0..n).map(|i| Decimal::from(i as u64 * 7)));
        for (year, k) in t
            .inputs()
            .figures
            .keys()
            .map(|k| (2026, k))
            .chain(t.inputs().other_years.iter().flat_map(|(y, m)| m.keys().map(move |k| (*y, k))))
        {
            assert_eq!(t.table().get(k, year), oracle(t.inputs(), k, year), "{k} {year}");
        }
        assert_eq!(t.table().get("", 2026), Some(Decimal::ZERO));
        assert_eq!(t.table().get("ss-cost", 2025), Some(Decimal::from(70)), "the eleventh figure in order");
    }

    fn texts() -> impl Strategy<Value = String> {
        // Short alphabets and lengths around 8, 16 and 32 so that texts
        // share heads, tails and lengths.
        prop_oneof!["[ab]{0,10}", "[ab-]{6,18}", "[ab]{14,36}", "x[ab]{30,40}y", "[a-zé]{0,20}",]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Any inputs, any lookups, before and after a fill: the table
        /// gives exactly what the maps give.
        #[test]
        fn lookups_equal_the_maps(
            year in 2020u16..2024,
            figures in prop::collection::btree_map(texts(), -1000i64..1000, 0..24),
            others in prop::collection::btree_map(2019u16..2025,
                prop::collection::btree_map(texts(), -1000i64..1000, 0..6), 0..4),
            probes in prop::collection::vec((texts(), 2019u16..2025), 0..40),
            fill in prop::collection::vec(-1000i64..1000, 0..40),
        ) {
            let mut inputs = Inputs::new(year);
            inputs.figures = figures.into_iter().map(|(k, v)| (k, fig(v))).collect();
            inputs.other_years = others
                .into_iter()
                .map(|(y, m)| (y, m.into_iter().map(|(k, v)| (k, fig(v))).collect::<BTreeMap<_, _>>()))
                .collect();
            let mut t = Template::new(inputs);
            for round in 0..2 {
                let i = t.inputs();
                let known = i.figures.keys().map(|k| (k.clone(), i.year))
                    .chain(i.other_years.iter().flat_map(|(y, m)| m.keys().map(move |k| (k.clone(), *y))));
                let known: Vec<(String, u16)> = known.collect();
                // Each known text with one byte changed: equal lengths,
                // heads and tails that differ in one place only.
                let near = known.iter().flat_map(|(k, y)| {
                    (0..k.len()).filter(|&at| k.is_char_boundary(at) && k.as_bytes()[at].is_ascii()).map(move |at| {
                        let mut n = k.clone();
                        n.replace_range(at..at + 1, if k.as_bytes()[at] == b'a' { "b" } else { "a" });
                        (n, *y)
                    })
                });
                let all: Vec<(String, u16)> = known.iter().cloned().chain(near).chain(probes.iter().cloned()).collect();
                for (k, y) in all {
                    prop_assert_eq!(t.table().get(&k, y), oracle(t.inputs(), &k, y), "{} {} (round {})", k, y, round);
                }
                t.fill(fill.iter().map(|v| Decimal::from(*v)));
            }
        }
    }

    fn fig(v: i64) -> Figure {
        Figure { value: Decimal::from(v), source_entry: None }
    }
}
