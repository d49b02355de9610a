//! The on-screen keyboards a touch-only kiosk types free text with: letters in the patient's
//! language (Latin with the Spanish letters ñ á é í ó ú ü for Spanish, English and Chinese, whose
//! patients type pinyin; Cyrillic for Russian) with digits, a space bar and the punctuation
//! names and answers need (, . - '), and a phone pad (digits and +) for phone numbers. What
//! each kind of text accepts and when a letter starts in capitals live here too, so the keys,
//! a physical keyboard and the checks agree. Drawing and rules only; the text is the screen's.

use eframe::egui;
use egui::{RichText, vec2};

use crate::i18n::Lang;
use crate::widgets;

/// What a free-text answer holds: it decides the keyboard, what may be typed and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// Sentences in the patient's words (why they come, which allergies, which medicines).
    Prose,
    /// A person's name.
    Name,
    /// A phone number in international form.
    Phone,
}

impl TextKind {
    /// The most characters the registry keeps (500 for an answer, 100 for a name; a phone number
    /// is + and at most 15 digits, with room for the spaces people type between groups).
    pub fn max_chars(self) -> usize {
        match self {
            TextKind::Prose => 500,
            TextKind::Name => 100,
            TextKind::Phone => 20,
        }
    }

    /// Whether `c` belongs in this kind of text: anything printable on one line in an answer,
    /// letters (of any script), spaces, hyphens, apostrophes and dots in a name, digits, + and
    /// spaces in a phone number.
    pub fn accepts(self, c: char) -> bool {
        match self {
            TextKind::Prose => !c.is_control(),
            TextKind::Name => c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '.'),
            TextKind::Phone => c.is_ascii_digit() || matches!(c, '+' | ' '),
        }
    }

    /// Whether the next letter typed after `text` starts in capitals, as on a phone: the start
    /// of a sentence in an answer, the start of each word in a name.
    pub fn capital_next(self, text: &str) -> bool {
        match self {
            TextKind::Prose => {
                let trimmed = text.trim_end();
                trimmed.is_empty()
                    || (trimmed.len() < text.len() && trimmed.ends_with(['.', '!', '?']))
            }
            TextKind::Name => text.is_empty() || text.ends_with([' ', '-']),
            TextKind::Phone => false,
        }
    }
}

/// The letters a keyboard shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Letters {
    Latin,
    Cyrillic,
}

impl Letters {
    /// The patient's letters: Cyrillic in Russian, Latin otherwise (pinyin for Chinese).
    pub fn for_language(lang: Lang) -> Letters {
        match lang {
            Lang::Ru => Letters::Cyrillic,
            Lang::Es | Lang::En | Lang::Zh => Letters::Latin,
        }
    }

    /// Three rows of twelve, ten and ten: a phone's layout (QWERTY with the Spanish letters at the
    /// ends of the rows, ЙЦУКЕН), each row ending where the others do.
    fn rows(self) -> [&'static str; 3] {
        match self {
            Letters::Latin => ["qwertyuiopáé", "asdfghjklñíó", "zxcvbnmúü'"],
            Letters::Cyrillic => ["йцукенгшщзхъ", "фывапролджэё", "ячсмитьбю'"],
        }
    }
}

/// What a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPress {
    Char(char),
    Backspace,
    /// Capitals for the next letter (or not).
    Shift,
}

/// One key: what it does and how many key widths it takes.
#[derive(Clone, Copy)]
enum Cap {
    Char(char),
    Backspace,
    Shift,
    Space,
}

/// Every row is this many key widths, so the rows line up.
const ROW_UNITS: f32 = 12.0;
/// The gap between keys.
const GAP: f32 = 8.0;
/// The widest a key gets, however wide the screen.
const MAX_KEY_WIDTH: f32 = 96.0;
/// A key's height: comfortably over a fingertip (about 64 px is the least for touch).
pub const KEY_HEIGHT: f32 = 68.0;
/// The size of a key's letter.
const KEY_TEXT_SIZE: f32 = 30.0;

/// The height a keyboard of letters takes: five rows of keys.
pub fn letters_height() -> f32 {
    5.0 * KEY_HEIGHT + 4.0 * GAP
}

/// The height the phone pad takes: four rows of keys.
pub fn phone_pad_height() -> f32 {
    4.0 * KEY_HEIGHT + 3.0 * GAP
}

/// The width the phone pad takes: three keys.
pub fn phone_pad_width() -> f32 {
    3.0 * PHONE_KEY_WIDTH + 2.0 * GAP
}

/// A phone pad's key: wider than a letter, there being room.
const PHONE_KEY_WIDTH: f32 = 150.0;

/// A keyboard of `letters` over the width available: digits and backspace, three rows of
/// letters (capitals when `shifted`) with shift, and a row of punctuation around the space bar
/// (labelled `space`). Keys whose character `kind` does not accept are shown but disabled.
pub fn letters_keyboard(
    ui: &mut egui::Ui,
    letters: Letters,
    kind: TextKind,
    shifted: bool,
    space: &str,
) -> Option<KeyPress> {
    let [top, middle, bottom] = letters.rows();
    let mut rows: Vec<Vec<(Cap, f32)>> = Vec::new();
    let digits = "1234567890".chars().map(|c| (Cap::Char(c), 1.0));
    rows.push(digits.chain([(Cap::Backspace, 2.0)]).collect());
    rows.push(top.chars().map(|c| (Cap::Char(c), 1.0)).collect());
    rows.push(middle.chars().map(|c| (Cap::Char(c), 1.0)).collect());
    let shift = std::iter::once((Cap::Shift, 2.0));
    rows.push(
        shift
            .chain(bottom.chars().map(|c| (Cap::Char(c), 1.0)))
            .collect(),
    );
    rows.push(vec![
        (Cap::Char(','), 1.0),
        (Cap::Char('.'), 1.0),
        (Cap::Space, 9.0),
        (Cap::Char('-'), 1.0),
    ]);

    let unit = ((ui.available_width() - (ROW_UNITS - 1.0) * GAP) / ROW_UNITS).min(MAX_KEY_WIDTH);
    let mut pressed = None;
    ui.vertical(|ui| {
        ui.spacing_mut().item_spacing = vec2(GAP, GAP);
        for row in rows {
            ui.horizontal(|ui| {
                for (cap, units) in row {
                    let size = vec2(units * unit + (units - 1.0) * GAP, KEY_HEIGHT);
                    if let Some(press) = key_ui(ui, cap, size, kind, shifted, space) {
                        pressed = Some(press);
                    }
                }
            });
        }
    });
    pressed
}

/// The phone pad: 1 to 9 in rows of three, then +, 0 and backspace.
pub fn phone_pad(ui: &mut egui::Ui) -> Option<KeyPress> {
    let rows: [[Cap; 3]; 4] = [
        [Cap::Char('1'), Cap::Char('2'), Cap::Char('3')],
        [Cap::Char('4'), Cap::Char('5'), Cap::Char('6')],
        [Cap::Char('7'), Cap::Char('8'), Cap::Char('9')],
        [Cap::Char('+'), Cap::Char('0'), Cap::Backspace],
    ];
    let size = vec2(PHONE_KEY_WIDTH, KEY_HEIGHT);
    let mut pressed = None;
    ui.vertical(|ui| {
        ui.spacing_mut().item_spacing = vec2(GAP, GAP);
        for row in rows {
            ui.horizontal(|ui| {
                for cap in row {
                    if let Some(press) = key_ui(ui, cap, size, TextKind::Phone, false, "") {
                        pressed = Some(press);
                    }
                }
            });
        }
    });
    pressed
}

fn key_ui(
    ui: &mut egui::Ui,
    cap: Cap,
    size: egui::Vec2,
    kind: TextKind,
    shifted: bool,
    space: &str,
) -> Option<KeyPress> {
    let (face, enabled, press) = match cap {
        Cap::Char(c) => {
            let typed = if shifted {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c
            };
            (
                typed.to_string(),
                kind.accepts(typed),
                KeyPress::Char(typed),
            )
        }
        Cap::Backspace => ("⌫".to_owned(), true, KeyPress::Backspace),
        Cap::Shift => ("⇧".to_owned(), true, KeyPress::Shift),
        Cap::Space => (space.to_owned(), kind.accepts(' '), KeyPress::Char(' ')),
    };
    let text = RichText::new(face).size(KEY_TEXT_SIZE);
    let button = match cap {
        // Lit while the next letter will be a capital.
        Cap::Shift => widgets::choice(shifted, text),
        _ => egui::Button::new(text),
    };
    ui.add_enabled(enabled, button.min_size(size))
        .clicked()
        .then_some(press)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_text_takes_only_what_belongs_in_it() {
        assert!(TextKind::Prose.accepts('ñ') && TextKind::Prose.accepts('7'));
        assert!(!TextKind::Prose.accepts('\n'));
        assert!(TextKind::Name.accepts('Ё') && TextKind::Name.accepts('张'));
        assert!(TextKind::Name.accepts('\'') && !TextKind::Name.accepts('3'));
        assert!(TextKind::Phone.accepts('+') && !TextKind::Phone.accepts('a'));
    }

    #[test]
    fn sentences_and_names_start_in_capitals() {
        assert!(TextKind::Prose.capital_next(""));
        assert!(!TextKind::Prose.capital_next("Me duele"));
        assert!(!TextKind::Prose.capital_next("Me duele."));
        assert!(TextKind::Prose.capital_next("Me duele. "));
        assert!(TextKind::Name.capital_next("Ana "));
        assert!(TextKind::Name.capital_next("Ana-"));
        assert!(!TextKind::Name.capital_next("Ana"));
        assert!(!TextKind::Phone.capital_next(""));
    }

    #[test]
    fn every_row_of_letters_is_as_wide_as_the_others() {
        for letters in [Letters::Latin, Letters::Cyrillic] {
            let [top, middle, bottom] = letters.rows();
            assert_eq!(top.chars().count(), 12);
            assert_eq!(middle.chars().count(), 12);
            // After a shift key two keys wide.
            assert_eq!(bottom.chars().count(), 10);
        }
        let latin: String = Letters::Latin.rows().concat();
        for spanish in ['ñ', 'á', 'é', 'í', 'ó', 'ú', 'ü'] {
            assert!(latin.contains(spanish), "{spanish} missing");
        }
        let cyrillic = Letters::Cyrillic.rows().concat();
        assert_eq!(cyrillic.chars().filter(|c| c.is_alphabetic()).count(), 33);
    }
}
