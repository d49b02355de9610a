//! People's names as they are typed and compared. The lobby kiosk compares what a patient types
//! with the name on file, and reception searches the registry; both fold names the one way
//! ([`fold`]), and both accept a name written in Chinese characters typed in pinyin
//! ([`spelled_in_pinyin`], [`pinyin_spellings`]), since a kiosk's keypad and many patients'
//! keyboards have no characters.

use pinyin::{Pinyin, ToPinyinMulti};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A name folded so that what someone types matches what reception registered: lower case,
/// accents and other combining marks dropped (so "García" is "garcia" and "Ёлкин" is "елкин"),
/// apostrophes and dots dropped ("O'Brien" is "obrien"), hyphens read as spaces, and runs of
/// spaces as one. Letters of other scripts are kept as they are.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        match c {
            '\'' | '\u{2019}' | '`' | '.' => {}
            '-' | '\u{2010}' | '\u{2011}' => folded.push(' '),
            c => folded.extend(c.to_lowercase()),
        }
    }
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `c` is a Chinese character (the CJK unified ideographs, their extensions A and B,
/// and the compatibility ideographs).
pub fn is_han(c: char) -> bool {
    matches!(
        c,
        '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{2A6DF}'
    )
}

/// How much of a name a search term gives: one for each letter or digit, in any alphabet, and
/// two for each Chinese character, which is a whole syllable (张 says as much as "zhang").
/// Searches need a term of at least two, so a single letter of any alphabet is too little and
/// a single character is enough.
pub fn search_weight(term: &str) -> usize {
    term.chars()
        .map(|c| match c {
            c if is_han(c) => 2,
            c if c.is_alphanumeric() => 1,
            _ => 0,
        })
        .sum()
}

/// How many spellings of one name [`pinyin_spellings`] gives at most: a name of characters
/// with several readings each has more, but the first few are the likely ones.
const MAX_SPELLINGS: usize = 8;

/// The ways a name's Chinese characters are spelled in pinyin, lower case, without tones or
/// spaces, the usual reading first: "欧阳" gives "ouyang", "单" gives "dan" and "shan", "吕"
/// gives "lu" and "lv". Letters that are not Chinese characters stay as they are, folded;
/// a name without Chinese characters has no pinyin spellings.
pub fn pinyin_spellings(name: &str) -> Vec<String> {
    if !name.chars().any(is_han) {
        return Vec::new();
    }
    let mut spellings = vec![String::new()];
    for options in &units_of(name) {
        let mut next = Vec::with_capacity(MAX_SPELLINGS);
        'grow: for spelling in &spellings {
            for option in options {
                if next.len() == MAX_SPELLINGS {
                    break 'grow;
                }
                next.push(format!("{spelling}{option}"));
            }
        }
        spellings = next;
    }
    spellings
}

/// Whether `typed` spells `name` in pinyin: each Chinese character of the name by one of its
/// readings, every other letter as itself, regardless of case, accents, spaces and hyphens.
/// "Ou Yang", "ouyang" and "OUYANG" all spell 欧阳; "Lyu", "Lu" and "Lv" spell 吕. A name
/// without Chinese characters is spelled by no pinyin (compare [`fold`]ed names instead).
pub fn spelled_in_pinyin(typed: &str, name: &str) -> bool {
    if !name.chars().any(is_han) {
        return false;
    }
    let typed: Vec<char> = fold(typed).chars().filter(|c| *c != ' ').collect();
    let units = units_of(name);
    // Which prefixes of `typed` the name's first units can spell.
    let mut reachable = vec![false; typed.len() + 1];
    reachable[0] = true;
    for options in &units {
        let mut next = vec![false; typed.len() + 1];
        for start in (0..=typed.len()).filter(|start| reachable[*start]) {
            for option in options {
                let end = start + option.chars().count();
                if end <= typed.len() && typed[start..end].iter().copied().eq(option.chars()) {
                    next[end] = true;
                }
            }
        }
        reachable = next;
    }
    reachable[typed.len()]
}

/// A name as a list of units, each with the ways it may be typed: a Chinese character by its
/// readings, any other letter as itself. Spaces are left out.
fn units_of(name: &str) -> Vec<Vec<String>> {
    let mut units = Vec::new();
    for c in name.chars() {
        if is_han(c) {
            let readings = readings(c);
            units.push(if readings.is_empty() {
                vec![c.to_string()]
            } else {
                readings
            });
        } else {
            units.extend(
                fold(&c.to_string())
                    .chars()
                    .filter(|c| *c != ' ')
                    .map(|c| vec![c.to_string()]),
            );
        }
    }
    units
}

/// A character's pinyin readings, toneless, the usual one first. "ü" is typed three ways, all
/// accepted: "u" (as on passports before 2012), "v" (as on keyboards) and "yu" (as on
/// passports since).
fn readings(c: char) -> Vec<String> {
    let Some(multi) = c.to_pinyin_multi() else {
        return Vec::new();
    };
    let mut readings: Vec<String> = Vec::new();
    for reading in multi.into_iter().map(Pinyin::plain) {
        let spellings = if reading.contains('ü') {
            vec![
                reading.replace('ü', "u"),
                reading.replace('ü', "v"),
                reading.replace('ü', "yu"),
            ]
        } else {
            vec![reading.to_owned()]
        };
        for spelling in spellings {
            if !readings.contains(&spelling) {
                readings.push(spelling);
            }
        }
    }
    readings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_accents_and_punctuation() {
        assert_eq!(fold("García-Núñez"), "garcia nunez");
        assert_eq!(fold("O'Brien"), "obrien");
        assert_eq!(fold("Ёлкин"), fold("елкин"));
        assert_eq!(fold("  张   伟 "), "张 伟");
    }

    #[test]
    fn chinese_names_are_spelled_in_pinyin_any_way_it_is_typed() {
        assert!(spelled_in_pinyin("Wang", "王"));
        assert!(spelled_in_pinyin("jing", "静"));
        assert!(spelled_in_pinyin("Ou Yang", "欧阳"));
        assert!(spelled_in_pinyin("OUYANG", "欧阳"));
        assert!(spelled_in_pinyin("na-na", "娜娜"));
        assert!(!spelled_in_pinyin("Wan", "王"));
        assert!(!spelled_in_pinyin("Wangg", "王"));
        assert!(!spelled_in_pinyin("Li", "王"));
        // A surname read otherwise than its usual reading.
        assert!(spelled_in_pinyin("Shan", "单"));
        assert!(spelled_in_pinyin("Dan", "单"));
        for typed in ["Lu", "Lv", "Lyu", "Lü"] {
            assert!(spelled_in_pinyin(typed, "吕"), "{typed}");
        }
    }

    #[test]
    fn names_without_characters_have_no_pinyin() {
        assert!(!spelled_in_pinyin("jing", "Jing"));
        assert!(pinyin_spellings("Jing").is_empty());
        assert!(pinyin_spellings("").is_empty());
    }

    #[test]
    fn a_name_is_indexed_by_its_likely_spellings() {
        assert_eq!(pinyin_spellings("欧阳"), ["ouyang"]);
        assert_eq!(pinyin_spellings("王 静")[0], "wangjing");
        let shan = pinyin_spellings("单");
        assert!(shan.contains(&"dan".to_owned()) && shan.contains(&"shan".to_owned()));
        // Many characters with many readings: the number of spellings stays small.
        assert!(pinyin_spellings("还还还还还还还还").len() <= MAX_SPELLINGS);
    }

    #[test]
    fn one_weight_for_every_script() {
        assert_eq!(search_weight("a"), 1);
        assert_eq!(search_weight("а"), 1);
        assert_eq!(search_weight("5"), 1);
        assert_eq!(search_weight("张"), 2);
        assert_eq!(search_weight("ab"), 2);
        assert_eq!(search_weight("-"), 0);
    }
}
