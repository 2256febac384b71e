//! Closed sets of words ("choices") used by the contract format.
//!
//! Every enum field of a contract is written in the file as one lower-case
//! word. The [`choice!`] macro defines such an enum together with its words,
//! so parsing, the canonical form, the error message that lists the allowed
//! words and the documentation can never disagree.

/// A closed set of words, each mapping to one variant.
pub trait Choice: Sized + Copy + 'static {
    /// Every variant with its word, in documentation order.
    const ALL: &'static [(&'static str, Self)];

    /// The word for this variant, as written in files and in the canonical form.
    fn word(self) -> &'static str;

    /// The variant for `word`, if it is one of [`Choice::ALL`].
    fn from_word(word: &str) -> Option<Self> {
        Self::ALL.iter().find(|(w, _)| *w == word).map(|(_, v)| *v)
    }

    /// The allowed words, quoted and comma separated, for error messages.
    fn allowed() -> String {
        let words: Vec<String> = Self::ALL.iter().map(|(w, _)| format!("\"{w}\"")).collect();
        words.join(", ")
    }
}

/// Defines a [`Choice`] enum with serde support (it serializes as its word).
macro_rules! choice {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $crate::domain::contract::choice::Choice for $name {
            const ALL: &'static [(&'static str, Self)] = &[ $( ($word, $name::$variant), )+ ];
            fn word(self) -> &'static str {
                match self { $( $name::$variant => $word, )+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::domain::contract::choice::Choice::word(*self))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::domain::contract::choice::Choice::word(*self))
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let word = <String as ::serde::Deserialize>::deserialize(d)?;
                <$name as $crate::domain::contract::choice::Choice>::from_word(&word).ok_or_else(|| {
                    ::serde::de::Error::custom(format!(
                        "unknown value \"{}\" (allowed: {})",
                        word,
                        <$name as $crate::domain::contract::choice::Choice>::allowed()
                    ))
                })
            }
        }
    };
}

pub(crate) use choice;
