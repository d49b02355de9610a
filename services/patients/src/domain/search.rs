//! Patient search text. Receptionists type names without accents and in any case ("garcia" finds
//! "García", "ЁЛКИН" finds "Ёлкин"), and phone numbers with or without punctuation; both the
//! stored text and the query are folded the same way, so a plain substring match does the rest.

/// The folded text search matches against, built from a patient's searchable fields.
pub fn search_text(fields: &[&str]) -> String {
    let mut text = String::new();
    for field in fields.iter().filter(|field| !field.is_empty()) {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&fold(field));
        // Phone numbers are also kept as bare digits, so "5512" finds "+52 55 1234 5678".
        if field.starts_with('+') {
            text.push(' ');
            text.extend(field.chars().filter(char::is_ascii_digit));
        }
    }
    text
}

/// A search query split into folded terms; a patient matches when every term occurs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerms(Vec<String>);

impl SearchTerms {
    /// At most this many terms are used; a longer query is a paste, not a search.
    const MAX_TERMS: usize = 6;

    /// The longest query accepted, in characters: a name and a phone number fit many times over.
    pub const MAX_CHARS: usize = 200;

    pub fn parse(query: &str) -> Result<Self, String> {
        let query = clinic_common::validation::free_text(query, Self::MAX_CHARS)?;
        let terms: Vec<String> = query
            .split_whitespace()
            .map(|term| {
                let folded = fold(term);
                // A number typed with punctuation is searched as digits.
                if folded.chars().any(|c| c.is_ascii_digit()) {
                    folded.chars().filter(char::is_ascii_digit).collect()
                } else {
                    folded
                }
            })
            .filter(|term| !term.is_empty())
            .take(Self::MAX_TERMS)
            .collect();
        if terms.is_empty() {
            return Err("is required".into());
        }
        if terms
            .iter()
            .all(|term| term.chars().count() < 2 && term.is_ascii())
        {
            return Err("needs at least two letters or digits".into());
        }
        Ok(SearchTerms(terms))
    }

    pub fn terms(&self) -> &[String] {
        &self.0
    }
}

/// Lower case without Latin diacritics; ё is folded to е as Russian speakers type it.
fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            'ё' => 'е',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_and_case_do_not_matter() {
        let text = search_text(&["María José", "García Núñez", "+525512345678", ""]);
        let terms = SearchTerms::parse("garcia NUNEZ").expect("valid query");
        assert!(
            terms
                .terms()
                .iter()
                .all(|term| text.contains(term.as_str()))
        );
    }

    #[test]
    fn cyrillic_and_chinese_names_are_found() {
        let text = search_text(&["Пётр", "Ёлкин", "+79161234567"]);
        assert!(text.contains(&SearchTerms::parse("ЁЛКИН").expect("valid").terms()[0]));
        assert!(text.contains(&SearchTerms::parse("петр").expect("valid").terms()[0]));
        let chinese = search_text(&["伟", "张", "+8613800138000"]);
        assert!(chinese.contains(&SearchTerms::parse("张").expect("valid").terms()[0]));
    }

    #[test]
    fn phone_digits_are_found_however_they_are_typed() {
        let text = search_text(&["Ana", "Ruiz", "+525512345678"]);
        let terms = SearchTerms::parse("55-1234").expect("valid query");
        assert_eq!(terms.terms(), ["551234"]);
        assert!(text.contains("551234"));
    }

    #[test]
    fn empty_and_one_letter_queries_are_refused() {
        assert!(SearchTerms::parse("   ").is_err());
        assert!(SearchTerms::parse("a").is_err());
    }
}
