//! Small pieces every screen uses: big touch buttons, the on-screen keypad, message banners,
//! and the colours. Drawing only; no screen state.

use eframe::egui;
use egui::{Color32, RichText, Vec2};

/// High-contrast colours: dark text on white, one strong accent.
pub const ACCENT: Color32 = Color32::from_rgb(0, 84, 166);
pub const ACCENT_TEXT: Color32 = Color32::WHITE;
pub const DANGER: Color32 = Color32::from_rgb(176, 0, 32);
pub const SUCCESS: Color32 = Color32::from_rgb(0, 110, 50);
pub const INK: Color32 = Color32::from_rgb(17, 17, 17);
pub const PAPER: Color32 = Color32::WHITE;
pub const MUTED: Color32 = Color32::from_rgb(70, 70, 70);

/// Light, high-contrast visuals with text scaled for the device: `base` is the body size.
pub fn apply_style(ctx: &egui::Context, base: f32) {
    ctx.set_theme(egui::Theme::Light);
    ctx.all_styles_mut(|style| {
        use egui::{FontFamily, FontId, TextStyle};
        style.text_styles = [
            (
                TextStyle::Heading,
                FontId::new(base * 1.6, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(base, FontFamily::Proportional)),
            (
                TextStyle::Button,
                FontId::new(base, FontFamily::Proportional),
            ),
            (
                TextStyle::Monospace,
                FontId::new(base, FontFamily::Monospace),
            ),
            (
                TextStyle::Small,
                FontId::new(base * 0.75, FontFamily::Proportional),
            ),
        ]
        .into();
        style.spacing.item_spacing = egui::vec2(base * 0.5, base * 0.45);
        style.spacing.button_padding = egui::vec2(base * 0.6, base * 0.35);
        style.spacing.interact_size.y = base * 1.6;
        style.visuals.panel_fill = PAPER;
        style.visuals.override_text_color = Some(INK);
        style.visuals.widgets.inactive.weak_bg_fill = Color32::from_gray(225);
        style.visuals.widgets.inactive.bg_stroke = egui::Stroke::new(1.5, Color32::from_gray(90));
        style.visuals.selection.bg_fill = Color32::from_rgb(160, 200, 255);
        style.visuals.selection.stroke = egui::Stroke::new(2.0, INK);
        // Debug builds outline widgets off the pixel grid; a lobby screen is no place for it.
        #[cfg(debug_assertions)]
        {
            style.debug.show_unaligned = false;
        }
        // Animations would keep repainting an idle screen.
        style.animation_time = 0.0;
    });
}

/// A large primary button of at least `size`.
pub fn big_button(ui: &mut egui::Ui, text: &str, size: Vec2) -> egui::Response {
    let text_size = ui.text_style_height(&egui::TextStyle::Button) * 1.1;
    ui.add(
        egui::Button::new(
            RichText::new(text)
                .size(text_size)
                .color(ACCENT_TEXT)
                .strong(),
        )
        .fill(ACCENT)
        .min_size(size),
    )
}

/// A large secondary button.
pub fn plain_button(ui: &mut egui::Ui, text: &str, size: Vec2) -> egui::Response {
    ui.add(egui::Button::new(RichText::new(text)).min_size(size))
}

/// A banner for a problem the person must know about.
pub fn error_banner(ui: &mut egui::Ui, text: &str) {
    egui::Frame::new()
        .fill(Color32::from_rgb(255, 235, 238))
        .stroke(egui::Stroke::new(2.0, DANGER))
        .inner_margin(12)
        .corner_radius(6)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(text).color(DANGER).strong());
        });
}

/// The space left in `ui`, split: `content` above, and `bar` in a strip of `bar_height` pinned
/// to the bottom edge. The bar stays where it is whatever the content above shows, and the
/// content never pushes it off the screen.
pub fn with_bottom_bar<A, B>(
    ui: &mut egui::Ui,
    bar_height: f32,
    content: impl FnOnce(&mut egui::Ui) -> A,
    bar: impl FnOnce(&mut egui::Ui) -> B,
) -> (A, B) {
    let space = ui.available_rect_before_wrap();
    let bar_rect = egui::Rect::from_min_max(
        egui::pos2(space.left(), (space.bottom() - bar_height).max(space.top())),
        space.max,
    );
    let gap = ui.spacing().item_spacing.y;
    let content_rect = egui::Rect::from_min_max(
        space.min,
        egui::pos2(space.right(), (bar_rect.top() - gap).max(space.top())),
    );
    let layout = *ui.layout();
    let above = ui
        .scope_builder(
            egui::UiBuilder::new().max_rect(content_rect).layout(layout),
            |ui| {
                ui.set_clip_rect(content_rect.intersect(ui.clip_rect()));
                content(ui)
            },
        )
        .inner;
    let below = ui
        .scope_builder(
            egui::UiBuilder::new()
                .max_rect(bar_rect)
                .layout(egui::Layout::left_to_right(egui::Align::Center)),
            bar,
        )
        .inner;
    (above, below)
}

/// A vertical scroll area for a touch screen filling the height available: the content follows
/// a finger dragged anywhere on it (also on a touch screen that reports itself as a mouse, as
/// many do), and a wide scroll bar, always shown, says there is more below.
pub fn touch_scroll<R>(
    ui: &mut egui::Ui,
    id_salt: &str,
    content: impl FnOnce(&mut egui::Ui) -> R,
) -> R {
    ui.scope(|ui| {
        ui.spacing_mut().scroll = egui::style::ScrollStyle {
            bar_width: 14.0,
            bar_inner_margin: 8.0,
            dormant_background_opacity: 1.0,
            dormant_handle_opacity: 1.0,
            active_background_opacity: 1.0,
            active_handle_opacity: 1.0,
            ..egui::style::ScrollStyle::solid()
        };
        egui::ScrollArea::vertical()
            .id_salt(id_salt)
            .max_height(ui.available_height())
            .scroll_source(egui::scroll_area::ScrollSource::ALL)
            .scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::AlwaysVisible)
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                content(ui)
            })
            .inner
    })
    .inner
}

/// Where a refusal shows beside the actions it concerns: always the same size, with a message
/// or empty, so that a message never moves anything on the screen. Text that does not fit
/// wraps within it.
pub fn message_slot(ui: &mut egui::Ui, message: Option<&str>, size: Vec2) {
    ui.allocate_ui_with_layout(size, egui::Layout::top_down(egui::Align::LEFT), |ui| {
        ui.set_min_size(size);
        ui.set_max_size(size);
        let Some(text) = message else { return };
        egui::Frame::new()
            .fill(Color32::from_rgb(255, 235, 238))
            .stroke(egui::Stroke::new(2.0, DANGER))
            .inner_margin(10)
            .corner_radius(6)
            .show(ui, |ui| {
                let inside = ui.available_size();
                ui.set_min_size(inside);
                let font = egui::FontId::proportional(MESSAGE_SIZE);
                let lines = ui
                    .painter()
                    .layout(text.to_owned(), font, DANGER, inside.x)
                    .size()
                    .y;
                // In the middle of the slot, level with the buttons beside it.
                ui.add_space(((inside.y - lines) / 2.0).max(0.0));
                let text = RichText::new(text).size(MESSAGE_SIZE).color(DANGER);
                ui.add(egui::Label::new(text).wrap());
            });
    });
}

/// The type size of a message beside the actions: three lines of it fit the slot.
const MESSAGE_SIZE: f32 = 21.0;

/// A banner for good news.
pub fn ok_banner(ui: &mut egui::Ui, text: &str) {
    egui::Frame::new()
        .fill(Color32::from_rgb(230, 245, 234))
        .stroke(egui::Stroke::new(2.0, SUCCESS))
        .inner_margin(12)
        .corner_radius(6)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(text).color(SUCCESS).strong());
        });
}

/// The height of the strip under a staff screen's top bar where the outcome of the last
/// action shows: two lines of text.
pub const MESSAGE_STRIP_HEIGHT: f32 = 52.0;

/// The outcome of staff's last action, good or bad, in a strip of its own under the top bar
/// until they close it or the next outcome takes its place. The strip is always there,
/// so a message coming or going moves nothing under the pointer.
pub fn message_strip(
    ctx_ui: &mut egui::Ui,
    id: &str,
    message: &mut Option<Result<String, String>>,
    close: &str,
) {
    egui::Panel::top(id)
        .exact_size(MESSAGE_STRIP_HEIGHT)
        .resizable(false)
        .show(ctx_ui, |ui| {
            ui.horizontal_centered(|ui| {
                let Some(shown) = message.as_ref() else {
                    return;
                };
                let (text, colour) = match shown {
                    Ok(text) => (text.clone(), SUCCESS),
                    Err(text) => (text.clone(), DANGER),
                };
                if ui.small_button(close).clicked() {
                    *message = None;
                }
                ui.add(egui::Label::new(RichText::new(text).color(colour).strong()).wrap());
            });
        });
}

/// A spinner with a word beside it, while a call runs.
pub fn working(ui: &mut egui::Ui, text: &str) {
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label(text);
    });
}

/// The keys of the numeric keypad.
pub const DIGITS: &[&str] = &["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"];

/// Letters and digits for confirmation codes, without the easily confused I, O, 0 and 1 laid
/// out apart: codes are typed from a printed reminder.
pub const CODE_KEYS: &[&str] = &[
    "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S",
    "T", "U", "V", "W", "X", "Y", "Z", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
];

/// Latin letters for names (accents need not be typed: names match without them).
pub const LATIN_KEYS: &[&str] = &[
    "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "Ñ", "O", "P", "Q", "R",
    "S", "T", "U", "V", "W", "X", "Y", "Z", "-", "'", " ",
];

/// Cyrillic letters for names, when the kiosk speaks Russian.
pub const CYRILLIC_KEYS: &[&str] = &[
    "А", "Б", "В", "Г", "Д", "Е", "Ё", "Ж", "З", "И", "Й", "К", "Л", "М", "Н", "О", "П", "Р", "С",
    "Т", "У", "Ф", "Х", "Ц", "Ч", "Ш", "Щ", "Ъ", "Ы", "Ь", "Э", "Ю", "Я", "-", " ",
];

/// What a keypad key does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Char(String),
    Backspace,
}

/// An on-screen keypad of `keys` in rows of `per_row`, plus a backspace key.
pub fn keypad(ui: &mut egui::Ui, keys: &[&str], per_row: usize, key_size: Vec2) -> Option<Key> {
    let mut pressed = None;
    egui::Grid::new(("keypad", keys.len()))
        .spacing(egui::vec2(8.0, 8.0))
        .show(ui, |ui| {
            for (index, key) in keys.iter().enumerate() {
                // The space bar needs a face to be found (and pressed).
                let face = if *key == " " { "␣" } else { key };
                if plain_button(ui, face, key_size).clicked() {
                    pressed = Some(Key::Char((*key).to_owned()));
                }
                if (index + 1) % per_row == 0 {
                    ui.end_row();
                }
            }
            if plain_button(ui, "⌫", key_size).clicked() {
                pressed = Some(Key::Backspace);
            }
        });
    pressed
}

/// One of a few choices (a language, yes or no, credit or debit): always a visible button, the
/// chosen one highlighted.
pub fn choice<'a>(selected: bool, text: impl Into<egui::WidgetText>) -> egui::Button<'a> {
    egui::Button::new(text)
        .selected(selected)
        .fill(if selected {
            Color32::from_rgb(214, 232, 255)
        } else {
            Color32::from_gray(235)
        })
        .stroke(if selected {
            egui::Stroke::new(3.0, ACCENT)
        } else {
            egui::Stroke::new(1.5, MUTED)
        })
}

/// The width a `YYYY-MM-DD` field needs to show a whole date in the body font, with room for
/// the cursor: fixed pixel widths cut dates off once the text is scaled for the device.
pub fn date_field_width(ui: &egui::Ui) -> f32 {
    let font = egui::TextStyle::Body.resolve(ui.style());
    let em = font.size;
    let date = ui.ctx().fonts_mut(|fonts| {
        fonts
            .layout_no_wrap("2026-12-31".into(), font, INK)
            .size()
            .x
    });
    date + em
}
