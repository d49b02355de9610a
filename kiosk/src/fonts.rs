//! Fonts that render all four languages. egui's built-in fonts cover Latin and Cyrillic; Chinese
//! (the interface and patients' names) needs a CJK font, taken from the configured files and the
//! usual Debian font locations (`scripts/kiosk-deps` installs one).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use eframe::egui;
use egui::{FontInsert, FontPriority, InsertFontFamily};

/// Where Debian's CJK and wide-coverage fonts live, best first.
const SYSTEM_FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
];

/// Adds `extra` and the system fonts that exist as fallbacks after egui's own; returns the
/// files it loaded. Without any CJK font, Chinese shows as boxes: the log says so.
pub fn install(ctx: &egui::Context, extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut loaded = Vec::new();
    let candidates = extra
        .iter()
        .cloned()
        .chain(SYSTEM_FONTS.iter().map(PathBuf::from));
    for path in candidates {
        match std::fs::read(&path) {
            Ok(bytes) => {
                add(ctx, &path, bytes);
                loaded.push(path);
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => tracing::warn!(path = %path.display(), %error, "could not read a font"),
        }
    }
    if !loaded.iter().any(|path| is_cjk(path)) {
        tracing::warn!(
            "no CJK font found: Chinese text will not render (run scripts/kiosk-deps, or name a font under `fonts` in the configuration)"
        );
    }
    loaded
}

fn add(ctx: &egui::Context, path: &Path, bytes: Vec<u8>) {
    let data = egui::FontData::from_blob(Arc::new(bytes), 0);
    let families = [egui::FontFamily::Proportional, egui::FontFamily::Monospace]
        .into_iter()
        .map(|family| InsertFontFamily {
            family,
            priority: FontPriority::Lowest,
        })
        .collect();
    ctx.add_font(FontInsert::new(&path.display().to_string(), data, families));
}

fn is_cjk(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    ["wqy", "cjk", "droid", "noto"]
        .iter()
        .any(|hint| name.contains(hint))
        || !SYSTEM_FONTS.iter().any(|system| Path::new(system) == path)
}
