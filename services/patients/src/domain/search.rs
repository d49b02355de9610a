//! Patient search text. Receptionists type names without accents and in any case ("garcia" finds
//! "García", "ЁЛКИН" finds "Ёлкин"), a Chinese name in characters or in pinyin, whole or in parts
//! ("欧阳娜娜", "欧阳", "ouyang nana"), and phone numbers with or without punctuation; the stored
//! text and the query are folded the same way ([`names::fold`]), so a plain substring match
//! does the rest.

use clinic_common::names;

/// Which version of [`search_text`] the stored text was built by. The registry rebuilds every
/// patient's text when it starts with an older one.
pub const SEARCH_TEXT_VERSION: i64 = 2;

/// The folded text search matches against: the given and family names, then the contact
/// fields (phone, email). A name in Chinese characters is also kept whole, family name first
/// as it is written ("欧阳娜娜"), and in pinyin, so that it is found however it is typed.
pub fn search_text(given_name: &str, family_name: &str, contacts: &[&str]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for field in [given_name, family_name]
        .into_iter()
        .chain(contacts.iter().copied())
        .filter(|field| !field.is_empty())
    {
        parts.push(names::fold(field));
        // Phone numbers are also kept as bare digits, so "5512" finds "+52 55 1234 5678".
        if field.starts_with('+') {
            parts.push(field.chars().filter(char::is_ascii_digit).collect());
        }
    }
    let family_first = format!("{family_name}{given_name}");
    if family_first.chars().any(names::is_han) {
        parts.push(names::fold(&family_first).replace(' ', ""));
        for name in [given_name, family_name, &family_first] {
            parts.extend(names::pinyin_spellings(name));
        }
    }
    parts.join(" ")
}

/// A search query split into folded terms; a patient matches when every term occurs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerms(Vec<String>);

impl SearchTerms {
    /// At most this many terms are used; a longer query is a paste, not a search.
    const MAX_TERMS: usize = 6;

    /// The longest query accepted, in characters: a name and a phone number fit many times over.
    pub const MAX_CHARS: usize = 200;

    /// The terms of `query`. One rule for every script: some term must give at least two
    /// letters or digits, a Chinese character counting as two ([`names::search_weight`]), so
    /// "a" and "а" are refused alike and "张" is a search.
    pub fn parse(query: &str) -> Result<Self, String> {
        let query = clinic_common::validation::free_text(query, Self::MAX_CHARS)?;
        let terms: Vec<String> = query
            .split_whitespace()
            .flat_map(|term| {
                let folded = names::fold(term);
                // A number typed with punctuation is searched as digits; a hyphenated name
                // ("Ou-Yang", "García-Núñez") as its parts.
                if folded.chars().any(|c| c.is_ascii_digit()) {
                    vec![folded.chars().filter(char::is_ascii_digit).collect()]
                } else {
                    folded.split(' ').map(str::to_owned).collect()
                }
            })
            .filter(|term| !term.is_empty())
            .take(Self::MAX_TERMS)
            .collect();
        if terms.is_empty() {
            return Err("is required".into());
        }
        if terms.iter().all(|term| names::search_weight(term) < 2) {
            return Err("needs at least two letters or digits, or a Chinese character".into());
        }
        Ok(SearchTerms(terms))
    }

    pub fn terms(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finds(text: &str, query: &str) -> bool {
        let terms = SearchTerms::parse(query).expect("valid query");
        terms
            .terms()
            .iter()
            .all(|term| text.contains(term.as_str()))
    }

    #[test]
    fn accents_and_case_do_not_matter() {
        let text = search_text("María José", "García Núñez", &["+525512345678", ""]);
        assert!(finds(&text, "garcia NUNEZ"));
        assert!(finds(&text, "García-Núñez"));
    }

    #[test]
    fn cyrillic_and_chinese_names_are_found() {
        let text = search_text("Пётр", "Ёлкин", &["+79161234567"]);
        assert!(finds(&text, "ЁЛКИН"));
        assert!(finds(&text, "петр"));
        let chinese = search_text("伟", "张", &["+8613800138000"]);
        assert!(finds(&chinese, "张"));
        assert!(finds(&chinese, "张伟"));
        assert!(finds(&chinese, "zhang wei"));
    }

    #[test]
    fn a_chinese_full_name_is_found_as_one_word_or_in_pinyin() {
        let text = search_text("娜娜", "欧阳", &["+8613800138000"]);
        for query in [
            "欧阳娜娜",
            "欧阳",
            "娜娜",
            "ouyang",
            "Ou Yang",
            "ouyangnana",
            "nana",
        ] {
            assert!(finds(&text, query), "{query}");
        }
        assert!(!finds(&text, "娜娜欧阳"));
        assert!(!finds(&text, "wang"));
    }

    #[test]
    fn phone_digits_are_found_however_they_are_typed() {
        let text = search_text("Ana", "Ruiz", &["+525512345678"]);
        let terms = SearchTerms::parse("55-1234").expect("valid query");
        assert_eq!(terms.terms(), ["551234"]);
        assert!(text.contains("551234"));
    }

    #[test]
    fn one_rule_for_short_queries_in_every_script() {
        assert!(SearchTerms::parse("   ").is_err());
        for one_letter in ["a", "а", "5", "ñ", "a b"] {
            assert!(SearchTerms::parse(one_letter).is_err(), "{one_letter}");
        }
        for enough in ["ab", "аб", "55", "张", "a bc"] {
            assert!(SearchTerms::parse(enough).is_ok(), "{enough}");
        }
    }
}
