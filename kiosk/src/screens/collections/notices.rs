//! Saving the patient's statement or a collection notice as a PDF, in the patient's own
//! language whatever the desk's, into the notices folder.

use std::path::{Path, PathBuf};

use clinic_proto::collections::v1 as collections;
use eframe::egui;
use egui::RichText;

use super::act::Action;
use crate::backend::Pending;
use crate::i18n::{Lang, T, fill};

#[derive(Default)]
pub(super) struct Notices {
    /// A notice being rendered and saved; answers where it is.
    pub(super) rendering: Option<Pending<PathBuf>>,
}

impl Notices {
    /// Takes the saved notice's path; what to tell the collector.
    pub(super) fn poll(&mut self, lang: Lang) -> Option<Result<String, String>> {
        let result = self.rendering.as_mut().and_then(Pending::take)?;
        self.rendering = None;
        Some(match result {
            Ok(path) => Ok(fill(
                T::Exported.get(lang),
                &[("path", &path.display().to_string())],
            )),
            Err(error) => Err(error.staff_message(lang)),
        })
    }

    /// A button per kind of notice, or a spinner while one is made.
    pub(super) fn ui(&self, ui: &mut egui::Ui, lang: Lang) -> Option<Action> {
        ui.label(RichText::new(T::Notices.get(lang)).strong());
        ui.horizontal_wrapped(|ui| {
            if self.rendering.is_some() {
                ui.spinner();
                return None;
            }
            let mut action = None;
            for (kind, text) in [
                (collections::NoticeKind::Statement, T::Statement),
                (collections::NoticeKind::FirstNotice, T::FirstNotice),
                (collections::NoticeKind::Reminder, T::ReminderNotice),
            ] {
                if ui.button(text.get(lang)).clicked() {
                    action = Some(Action::RenderNotice(kind));
                }
            }
            action
        })
        .inner
    }
}

/// Writes a rendered notice into `dir` under the name the service gave it, and returns its path.
pub(super) fn save_notice(
    dir: &Path,
    notice: &collections::RenderedNotice,
) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    // The service names the file; keep only its last component all the same.
    let name = Path::new(&notice.file_name)
        .file_name()
        .context("the notice has no file name")?;
    let path = dir.join(name);
    std::fs::write(&path, &notice.content)
        .with_context(|| format!("failed to write {}", path.display()))?;
    Ok(path)
}
