//! Notices on paper: a statement or collection notice laid out on A4 as a PDF, in a font that
//! has Latin, Cyrillic and CJK glyphs (WenQuanYi Micro Hei, Apache-2.0; see
//! `assets/fonts/wqy-microhei.COPYRIGHT`), so one document type serves patients writing Spanish,
//! English, Chinese or Russian.
//!
//! The font is 5 MB; each PDF embeds only the glyphs its text uses (subset here with allsorts,
//! the parser printpdf itself uses), so a notice stays a few tens of kilobytes.

use std::collections::BTreeSet;

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::subset::{CmapTarget, SubsetProfile, subset};
use allsorts::tables::FontTableProvider;
use allsorts::tables::cmap::Cmap;
use allsorts::tag;
use anyhow::Context;
use printpdf::{
    Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, TextItem,
};

use crate::domain::{NoticeLine, NoticeStyle};

/// The font every notice is set in: face 0 of the collection is the proportional Micro Hei.
const FONT: &[u8] = include_bytes!("../assets/fonts/wqy-microhei.ttc");

const PAGE_WIDTH_MM: f32 = 210.0;
const PAGE_HEIGHT_MM: f32 = 297.0;
const MARGIN_MM: f32 = 20.0;

fn size_of(style: NoticeStyle) -> f32 {
    match style {
        NoticeStyle::Title => 16.0,
        NoticeStyle::Heading => 12.0,
        NoticeStyle::Plain | NoticeStyle::Row | NoticeStyle::Blank => 10.0,
    }
}

/// The font cut down to the glyphs `text` needs, and its advance widths.
struct SubsetFont {
    parsed: ParsedFont,
}

impl SubsetFont {
    fn for_text<'a>(texts: impl Iterator<Item = &'a str>) -> anyhow::Result<SubsetFont> {
        let font = ReadScope::new(FONT)
            .read::<FontData<'_>>()
            .map_err(|error| anyhow::anyhow!("the notice font does not parse: {error}"))?;
        let provider = font
            .table_provider(0)
            .map_err(|error| anyhow::anyhow!("the notice font has no face 0: {error}"))?;
        let cmap_data = provider
            .read_table_data(tag::CMAP)
            .map_err(|error| anyhow::anyhow!("the notice font has no cmap: {error}"))?;
        let cmap = ReadScope::new(&cmap_data)
            .read::<Cmap<'_>>()
            .map_err(|error| anyhow::anyhow!("the notice font's cmap does not parse: {error}"))?;
        let (_, subtable) = allsorts::font::read_cmap_subtable(&cmap)
            .map_err(|error| anyhow::anyhow!("the notice font's cmap does not parse: {error}"))?
            .context("the notice font has no Unicode cmap")?;
        // Glyph 0 (.notdef) first, as subsetting requires; characters the font lacks show as it.
        let mut glyphs = BTreeSet::from([0_u16]);
        for text in texts {
            for character in text.chars() {
                if let Ok(Some(glyph)) = subtable.map_glyph(u32::from(character)) {
                    glyphs.insert(glyph);
                }
            }
        }
        let glyph_ids: Vec<u16> = glyphs.into_iter().collect();
        let bytes = subset(
            &provider,
            &glyph_ids,
            &SubsetProfile::Pdf,
            CmapTarget::Unicode,
        )
        .map_err(|error| anyhow::anyhow!("failed to subset the notice font: {error}"))?;
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(&bytes, 0, &mut warnings)
            .context("the subset notice font does not parse")?;
        Ok(SubsetFont { parsed })
    }

    /// How wide `text` is at `size` points, in points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units_per_em = f32::from(self.parsed.units_per_em.max(1));
        let mut units: u32 = 0;
        for character in text.chars() {
            let advance = self
                .parsed
                .codepoint_to_glyph
                .get(&u32::from(character))
                .and_then(|glyph| self.parsed.glyph_widths.get(glyph))
                .copied()
                .unwrap_or(0);
            units = units.saturating_add(u32::from(advance));
        }
        units as f32 / units_per_em * size
    }
}

/// The notice as an A4 PDF titled `title`, page after page as the lines need. CPU work: call it
/// from `spawn_blocking`.
pub fn render_notice_pdf(lines: &[NoticeLine], title: &str) -> anyhow::Result<Vec<u8>> {
    let font = SubsetFont::for_text(
        lines
            .iter()
            .flat_map(|line| [line.text.as_str(), line.amount.as_str()]),
    )?;
    let mut document = PdfDocument::new(title);
    let font_id = document.add_font(&font.parsed);
    let handle = PdfFontHandle::External(font_id);

    let left = Mm(MARGIN_MM).into_pt().0;
    let right = Mm(PAGE_WIDTH_MM - MARGIN_MM).into_pt().0;
    let top = Mm(PAGE_HEIGHT_MM - MARGIN_MM).into_pt().0;
    let bottom = Mm(MARGIN_MM).into_pt().0;
    let mut pages = Vec::new();
    let mut ops = Vec::new();
    let mut y = top;
    for line in lines {
        let size = size_of(line.style);
        let advance = size * 1.6;
        if y - advance < bottom {
            pages.push(PdfPage::new(
                Mm(PAGE_WIDTH_MM),
                Mm(PAGE_HEIGHT_MM),
                std::mem::take(&mut ops),
            ));
            y = top;
        }
        y -= advance;
        if line.style == NoticeStyle::Blank {
            continue;
        }
        let x = match line.style {
            NoticeStyle::Title => ((left + right) - font.width(&line.text, size)) / 2.0,
            _ => left,
        };
        show(&mut ops, &handle, size, x, y, &line.text);
        if line.style == NoticeStyle::Row {
            let width = font.width(&line.amount, size);
            show(&mut ops, &handle, size, right - width, y, &line.amount);
        }
    }
    pages.push(PdfPage::new(Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM), ops));
    document.with_pages(pages);
    let mut warnings = Vec::new();
    Ok(document.save(&PdfSaveOptions::default(), &mut warnings))
}

fn show(ops: &mut Vec<Op>, font: &PdfFontHandle, size: f32, x: f32, y: f32, text: &str) {
    ops.push(Op::StartTextSection);
    ops.push(Op::SetFont {
        font: font.clone(),
        size: Pt(size),
    });
    ops.push(Op::SetTextCursor {
        pos: Point { x: Pt(x), y: Pt(y) },
    });
    ops.push(Op::ShowText {
        items: vec![TextItem::Text(text.to_owned())],
    });
    ops.push(Op::EndTextSection);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Language, NoticeContent, NoticeKind, OpenDebt, notice_lines};
    use chrono::NaiveDate;
    use clinic_common::{Currency, Money};

    #[test]
    fn a_notice_in_every_script_becomes_a_small_pdf_with_its_glyphs_embedded() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid");
        let content = NoticeContent {
            kind: NoticeKind::FirstNotice,
            language: Language::Zh,
            clinic_name: "Clínica Dental Sonrisa".into(),
            patient_name: "王伟 / Ёлкин / Peña".into(),
            date: day,
            balance: Money::from_minor(125_050, Currency::MXN),
            days_past_due: 40,
            statement: Vec::new(),
            open_debts: vec![OpenDebt {
                service_date: day,
                description: "ENDO-01 Endodoncia".into(),
                remaining: Money::from_minor(125_050, Currency::MXN),
            }],
        };

        let pdf = render_notice_pdf(&notice_lines(&content), "催款通知").expect("renders");

        assert!(pdf.starts_with(b"%PDF-"));
        assert!(
            pdf.len() < 200_000,
            "the font is subset: {} bytes",
            pdf.len()
        );
    }
}
