//! The appointment book: one clinic-local day drawn as columns of time, one per provider or
//! one per chair or room, each appointment a block as long as the visit, filled by its status
//! with a stripe for its kind of visit, marked when confirmed and when the patient has
//! arrived (with the ticket). Hours outside a provider's working week are shaded, and on today
//! a line marks the time.
//!
//! A block's context menu takes the same steps as the list (check in, confirm, cancel with a
//! reason, no-show, seat, complete, check out, the account); dragging a block to another time,
//! or to another provider, asks scheduling to reschedule it (a refusal says what is in the way,
//! and the block stays where it was); a click on free time books the patient whose account is
//! open, for the kind of visit chosen in their booking form.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use clinic_proto::scheduling::v1 as scheduling;
use clinic_proto::{timestamp_from_proto, timestamp_to_proto};
use eframe::egui;
use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, StrokeKind, vec2};

use super::View;
use super::act::Action;
use super::schedule::{Pressed, Schedule, account_button, life_cycle_steps, status_text};
use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::widgets;

/// How tall a minute is.
const MINUTE: f32 = 1.6;
/// The width of the hours at the left.
const GUTTER: f32 = 56.0;
/// The narrowest a column gets.
const MIN_COLUMN: f32 = 120.0;
/// Moves and bookings snap to this many minutes.
const SNAP_MINUTES: i64 = 5;
/// The hours every day shows at least; earlier or later appointments widen it.
const FIRST_HOUR: u32 = 8;
const LAST_HOUR: u32 = 20;

/// What the book's columns are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Columns {
    /// The day, one column a provider.
    Providers,
    /// The day, one column a chair or room.
    Chairs,
    /// One provider's week, one column a day.
    Week,
}

/// A column of the book: one day of a provider, or of a chair or room (or, among chairs, the
/// day's appointments that hold none).
struct Column {
    day: NaiveDate,
    /// The provider booked in this column; empty for a chair's.
    provider_id: String,
    /// The chair or room; empty for a provider's column, and for the column of visits that
    /// hold none.
    resource_id: String,
    name: String,
}

/// A block being dragged: which appointment, and how far below its start it was taken.
#[derive(Debug, Clone)]
pub(super) struct Drag {
    appointment_id: String,
    grabbed_minutes: i64,
    /// Where the pointer was last seen: a button let go as the pointer leaves the window still
    /// drops the block there.
    at: Pos2,
}

/// A booking chosen on the book, not yet made.
struct Chosen {
    slot: scheduling::FreeSlot,
    resource_ids: Vec<String>,
    patient_name: String,
    /// Where it is drawn.
    column: usize,
    start: DateTime<Utc>,
    minutes: i64,
}

/// What the patient whose account is open would be booked for by a click on free time.
pub(super) struct Booking<'a> {
    pub(super) patient_name: String,
    pub(super) type_id: &'a str,
    pub(super) kind_name: &'a str,
    pub(super) duration_minutes: i64,
    /// The provider chosen in the booking form: the one booked from a chair's column.
    pub(super) provider_id: &'a str,
}

/// The book's own state between frames.
#[derive(Default)]
pub(super) struct BookState {
    pub(super) drag: Option<Drag>,
    /// Free time clicked, waiting for "Book here": a booking is made on purpose, never by a
    /// stray click.
    chosen: Option<Chosen>,
    /// The day last drawn: a new day scrolls to where its work is.
    drawn: Option<(NaiveDate, Columns)>,
}

/// Draws the day; returns what was asked for, and the life-cycle step pressed in a menu.
pub(super) fn ui(
    ui: &mut egui::Ui,
    view: &View,
    (schedule, queue): (&Schedule, &HashMap<String, scheduling::QueueEntry>),
    (columns, state): (Columns, &mut BookState),
    booking: Option<Booking<'_>>,
) -> (Vec<Action>, Option<Pressed>) {
    let zone = view.clinic.time_zone;
    let day = schedule.day;
    let columns_shown = columns_of(schedule, columns, view.lang);
    let shown: Vec<&scheduling::Appointment> = schedule
        .appointments
        .iter()
        .filter(|a| on_the_book(a.status))
        .collect();
    let (first, last) = hours_of(&shown, zone);
    let height = (last - first) as f32 * 60.0 * MINUTE;
    let width = (ui.available_width() - GUTTER - 16.0).max(MIN_COLUMN);
    let column_width = (width / columns_shown.len().max(1) as f32).max(MIN_COLUMN);

    let mut actions = Vec::new();
    if booking.is_none() {
        state.chosen = None;
    }
    if let Some(booking) = &booking {
        actions.extend(booking_bar_ui(ui, view, booking, state));
    }
    headers_ui(ui, &columns_shown, column_width);
    let mut pressed = None;
    let mut scroll = egui::ScrollArea::both()
        .id_salt(("book", columns as u8))
        .auto_shrink([false, false]);
    if state.drawn != Some((day, columns)) {
        state.drawn = Some((day, columns));
        state.chosen = None;
        // Today opens at the time it is now; another day (or a week) at its first visit.
        let first_start = shown
            .iter()
            .filter_map(|a| timestamp_from_proto(a.start_time.as_ref()).ok())
            .map(|start| minute_of_day(start, zone))
            .min();
        let focus = if columns_shown.iter().any(|c| c.day == view.today()) {
            Some(minute_of_day(view.now, zone))
        } else {
            first_start
        };
        if let Some(focus) = focus {
            let minutes = focus - i64::from(first) * 60 - 30;
            scroll = scroll.vertical_scroll_offset((minutes.max(0) as f32) * MINUTE);
        }
    }
    scroll.show(ui, |ui| {
        let size = vec2(GUTTER + column_width * columns_shown.len() as f32, height);
        let (background, painter) = ui.allocate_painter(size, Sense::click());
        let origin = background.rect.min;
        let geometry = Geometry {
            zone,
            origin,
            column_width,
            first_hour: first,
            last_hour: last,
        };
        grid_ui((ui, &painter), &geometry, (schedule, &columns_shown), view);

        for appointment in &shown {
            let Some(index) = column_of(appointment, &columns_shown, (columns, zone)) else {
                continue;
            };
            let (action, step, response) =
                block_ui(ui, view, &geometry, index, (schedule, queue), appointment);
            actions.extend(action);
            if step.is_some() {
                pressed = step;
            }
            actions.extend(drag_ui(
                ui,
                &response,
                (&geometry, &columns_shown),
                state,
                appointment,
            ));
        }

        if let Some(chosen) = &state.chosen {
            let top = geometry.y_of(chosen.start);
            let rect = Rect::from_min_size(
                Pos2::new(geometry.x_of(chosen.column) + 3.0, top),
                vec2(geometry.column_width - 6.0, chosen.minutes as f32 * MINUTE),
            );
            ui.painter().rect_stroke(
                rect,
                4.0,
                Stroke::new(2.5, widgets::ACCENT),
                StrokeKind::Inside,
            );
        }
        if background.clicked()
            && let Some(pos) = background.interact_pointer_pos()
            && let Some(index) = geometry.column_at(pos, columns_shown.len())
        {
            let start = geometry.snapped_start(columns_shown[index].day, pos, 0);
            match book_at(view.lang, booking.as_ref(), &columns_shown[index], start) {
                Action::BookAt {
                    slot,
                    resource_ids,
                    patient_name,
                } => {
                    state.chosen = Some(Chosen {
                        slot,
                        resource_ids,
                        patient_name,
                        column: index,
                        start,
                        minutes: booking.as_ref().map_or(30, |b| b.duration_minutes),
                    });
                }
                other => actions.push(other),
            }
        }
    });
    (actions, pressed)
}

/// Above the book while a patient's account is open: whom a click on free time books, or, once
/// a time is chosen, "Book here" and "Cancel". One row either way, so the book never moves.
fn booking_bar_ui(
    ui: &mut egui::Ui,
    view: &View,
    booking: &Booking<'_>,
    state: &mut BookState,
) -> Option<Action> {
    let lang = view.lang;
    let mut action = None;
    let height = ui.spacing().interact_size.y + 4.0;
    ui.allocate_ui_with_layout(
        vec2(ui.available_width(), height),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_height(height);
            let Some(chosen) = &state.chosen else {
                ui.label(
                    egui::RichText::new(fill(
                        T::BookingFor.get(lang),
                        &[("name", &booking.patient_name), ("kind", booking.kind_name)],
                    ))
                    .color(widgets::ACCENT),
                );
                return;
            };
            let when = format!(
                "{} {}",
                format::weekday(
                    chosen
                        .start
                        .with_timezone(&view.clinic.time_zone)
                        .date_naive(),
                    lang
                ),
                format::local_time(chosen.start, view.clinic.time_zone)
            );
            ui.label(
                egui::RichText::new(fill(
                    T::BookHereAsk.get(lang),
                    &[("name", &chosen.patient_name), ("time", &when)],
                ))
                .strong(),
            );
            if ui.button(T::BookHere.get(lang)).clicked() {
                action = state.chosen.take().map(|chosen| Action::BookAt {
                    slot: chosen.slot,
                    resource_ids: chosen.resource_ids,
                    patient_name: chosen.patient_name,
                });
            } else if ui.button(T::KeepLooking.get(lang)).clicked() {
                state.chosen = None;
            }
        },
    );
    action
}

/// Whether an appointment has a place on the book: a cancelled or moved visit gave its time
/// up (the list still shows it).
fn on_the_book(status: i32) -> bool {
    use scheduling::AppointmentStatus as S;
    !matches!(
        S::try_from(status),
        Ok(S::Cancelled | S::Rescheduled) | Err(_)
    )
}

/// The columns: every provider, or every chair and room in service and a column for the
/// day's visits that hold none, or the seven days of the provider's week.
fn columns_of(schedule: &Schedule, columns: Columns, lang: Lang) -> Vec<Column> {
    let day = schedule.day;
    match columns {
        Columns::Providers => schedule
            .known
            .provider_order
            .iter()
            .map(|(id, name)| Column {
                day,
                provider_id: id.clone(),
                resource_id: String::new(),
                name: name.clone(),
            })
            .collect(),
        Columns::Chairs => schedule
            .known
            .rooms
            .iter()
            .map(|(id, name)| (id.clone(), name.clone()))
            .chain([(String::new(), "—".to_owned())])
            .map(|(resource_id, name)| Column {
                day,
                provider_id: String::new(),
                resource_id,
                name,
            })
            .collect(),
        Columns::Week => {
            let provider_id = schedule.week_provider.clone().unwrap_or_default();
            week_of(day)
                .into_iter()
                .map(|day| Column {
                    day,
                    provider_id: provider_id.clone(),
                    resource_id: String::new(),
                    name: format!("{} {}", format::weekday(day, lang), day.format("%d")),
                })
                .collect()
        }
    }
}

/// The seven days, Monday first, of the week `day` is in.
pub(super) fn week_of(day: NaiveDate) -> Vec<NaiveDate> {
    let monday = day - TimeDelta::days(i64::from(day.weekday().num_days_from_monday()));
    (0..7)
        .map(|offset| monday + TimeDelta::days(offset))
        .collect()
}

/// The column an appointment is drawn in.
fn column_of(
    appointment: &scheduling::Appointment,
    shown: &[Column],
    (columns, zone): (Columns, Tz),
) -> Option<usize> {
    match columns {
        Columns::Providers => shown
            .iter()
            .position(|c| c.provider_id == appointment.provider_id),
        Columns::Chairs => shown
            .iter()
            .position(|c| {
                !c.resource_id.is_empty() && appointment.resource_ids.contains(&c.resource_id)
            })
            .or_else(|| shown.iter().position(|c| c.resource_id.is_empty())),
        Columns::Week => {
            let start = timestamp_from_proto(appointment.start_time.as_ref()).ok()?;
            let day = start.with_timezone(&zone).date_naive();
            shown.iter().position(|c| c.day == day)
        }
    }
}

/// Minutes since midnight, clinic-local, of `instant`.
fn minute_of_day(instant: DateTime<Utc>, zone: Tz) -> i64 {
    let local = instant.with_timezone(&zone);
    i64::from(local.hour()) * 60 + i64::from(local.minute())
}

/// The hours drawn: at least [`FIRST_HOUR`] to [`LAST_HOUR`], and every appointment's.
fn hours_of(shown: &[&scheduling::Appointment], zone: Tz) -> (u32, u32) {
    let local_hour = |instant: Option<&prost_types::Timestamp>, round_up: bool| {
        timestamp_from_proto(instant).ok().map(|t| {
            let local = t.with_timezone(&zone);
            local.hour() + u32::from(round_up && local.minute() > 0)
        })
    };
    let first = shown
        .iter()
        .filter_map(|a| local_hour(a.start_time.as_ref(), false))
        .min()
        .map_or(FIRST_HOUR, |hour| hour.min(FIRST_HOUR));
    let last = shown
        .iter()
        .filter_map(|a| local_hour(a.end_time.as_ref(), true))
        .max()
        .map_or(LAST_HOUR, |hour| hour.clamp(LAST_HOUR, 24));
    (first, last)
}

/// The instant `minutes` after midnight on `day` in the clinic's zone (the earliest, on a day
/// the clocks change).
fn local_instant(day: NaiveDate, minutes: i64, zone: Tz) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    let local = midnight + TimeDelta::minutes(minutes);
    local
        .and_local_timezone(zone)
        .earliest()
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

/// Where things are on the book.
struct Geometry {
    zone: Tz,
    origin: Pos2,
    column_width: f32,
    first_hour: u32,
    last_hour: u32,
}

impl Geometry {
    /// How far down the book a time of day is (the book draws every day from the same hour).
    fn y_of(&self, instant: DateTime<Utc>) -> f32 {
        self.y_of_minute(minute_of_day(instant, self.zone))
    }

    fn y_of_minute(&self, minute_of_day: i64) -> f32 {
        self.origin.y + (minute_of_day - i64::from(self.first_hour) * 60) as f32 * MINUTE
    }

    fn x_of(&self, column: usize) -> f32 {
        self.origin.x + GUTTER + column as f32 * self.column_width
    }

    fn block_rect(&self, column: usize, appointment: &scheduling::Appointment) -> Rect {
        let start = timestamp_from_proto(appointment.start_time.as_ref()).unwrap_or_default();
        let end = timestamp_from_proto(appointment.end_time.as_ref()).unwrap_or(start);
        let top = self.y_of(start);
        let minutes = (end - start).num_minutes() as f32;
        let bottom = (top + minutes * MINUTE).max(top + 18.0);
        Rect::from_min_max(
            Pos2::new(self.x_of(column) + 3.0, top + 1.0),
            Pos2::new(self.x_of(column + 1) - 3.0, bottom - 1.0),
        )
    }

    fn column_at(&self, pos: Pos2, count: usize) -> Option<usize> {
        let x = pos.x - self.origin.x - GUTTER;
        if x < 0.0 {
            return None;
        }
        let index = (x / self.column_width) as usize;
        (index < count).then_some(index)
    }

    /// The instant on `day` at `pos`, less `grabbed_minutes`, snapped to [`SNAP_MINUTES`],
    /// kept on the hours drawn.
    fn snapped_start(&self, day: NaiveDate, pos: Pos2, grabbed_minutes: i64) -> DateTime<Utc> {
        let minutes = ((pos.y - self.origin.y) / MINUTE) as i64 - grabbed_minutes;
        let snapped = (minutes as f64 / SNAP_MINUTES as f64).round() as i64 * SNAP_MINUTES;
        let span = i64::from(self.last_hour - self.first_hour) * 60;
        let minute = i64::from(self.first_hour) * 60 + snapped.clamp(0, span - SNAP_MINUTES);
        local_instant(day, minute, self.zone)
    }
}

/// The column headings, above the scrolling day.
fn headers_ui(ui: &mut egui::Ui, shown: &[Column], column_width: f32) {
    ui.horizontal(|ui| {
        ui.add_space(GUTTER);
        ui.spacing_mut().item_spacing.x = 0.0;
        for column in shown {
            ui.allocate_ui(vec2(column_width, 24.0), |ui| {
                ui.set_width(column_width);
                ui.add(egui::Label::new(egui::RichText::new(&column.name).strong()).truncate());
            });
        }
    });
}

/// Hours, half hours, the shade outside working hours, and on today the line of now.
fn grid_ui(
    (ui, painter): (&egui::Ui, &egui::Painter),
    geometry: &Geometry,
    (schedule, shown): (&Schedule, &[Column]),
    view: &View,
) {
    let right = geometry.x_of(shown.len());
    let line = Stroke::new(1.0, Color32::from_gray(200));
    let half = Stroke::new(1.0, Color32::from_gray(235));
    for (index, column) in shown.iter().enumerate() {
        if !column.provider_id.is_empty() {
            let hours = schedule.known.hours.get(&column.provider_id);
            shade_off_hours(painter, geometry, index, hours, column.day);
        }
        for exception in &schedule.exceptions {
            // The clinic's own everywhere; a provider's in their columns.
            if exception.provider_id.is_empty() || exception.provider_id == column.provider_id {
                exception_ui(
                    (ui, painter),
                    geometry,
                    (index, column.day),
                    exception,
                    view.lang,
                );
            }
        }
    }
    for hour in geometry.first_hour..geometry.last_hour {
        let minute = i64::from(hour) * 60;
        let y = geometry.y_of_minute(minute);
        painter.hline(geometry.origin.x..=right, y, line);
        painter.hline(
            geometry.x_of(0)..=right,
            geometry.y_of_minute(minute + 30),
            half,
        );
        painter.text(
            Pos2::new(geometry.origin.x + 4.0, y + 2.0),
            Align2::LEFT_TOP,
            format!("{hour:02}:00"),
            FontId::proportional(13.0),
            widgets::MUTED,
        );
    }
    let bottom = geometry.y_of_minute(i64::from(geometry.last_hour) * 60);
    for index in 0..=shown.len() {
        painter.vline(geometry.x_of(index), geometry.origin.y..=bottom, line);
    }
    // The time it is now, across today's columns.
    let now = geometry.y_of(view.now);
    for (index, column) in shown.iter().enumerate() {
        if column.day == view.today() {
            painter.hline(
                geometry.x_of(index)..=geometry.x_of(index + 1),
                now,
                Stroke::new(2.0, widgets::DANGER),
            );
        }
    }
}

/// Shades the parts of a provider's column outside their working hours on `day` (none when
/// the provider has no weekly hours: they may be booked at any time).
fn shade_off_hours(
    painter: &egui::Painter,
    geometry: &Geometry,
    column: usize,
    hours: Option<&Vec<scheduling::WorkingInterval>>,
    day: NaiveDate,
) {
    let Some(intervals) = hours.filter(|intervals| !intervals.is_empty()) else {
        return;
    };
    let weekday = i32::try_from(day.weekday().number_from_monday()).unwrap_or(0);
    let minutes_of = |time: Option<&scheduling::TimeOfDay>| {
        time.map_or(0, |t| i64::from(t.hours) * 60 + i64::from(t.minutes))
    };
    let mut working: Vec<(i64, i64)> = intervals
        .iter()
        .filter(|interval| interval.day_of_week == weekday)
        .map(|i| {
            (
                minutes_of(i.start_time.as_ref()),
                minutes_of(i.end_time.as_ref()),
            )
        })
        .collect();
    working.sort_unstable();
    let first = i64::from(geometry.first_hour) * 60;
    let last = i64::from(geometry.last_hour) * 60;
    let shade = Color32::from_gray(238);
    let mut from = first;
    for (start, end) in working.into_iter().chain([(last, last)]) {
        if start > from {
            let top = geometry.origin.y + (from - first) as f32 * MINUTE;
            let bottom = geometry.origin.y + (start.min(last) - first) as f32 * MINUTE;
            painter.rect_filled(
                Rect::from_min_max(
                    Pos2::new(geometry.x_of(column), top),
                    Pos2::new(geometry.x_of(column + 1), bottom),
                ),
                0.0,
                shade,
            );
        }
        from = from.max(end);
    }
}

/// A holiday, block or break over a column's day: hatched grey, named at its top.
fn exception_ui(
    (ui, painter): (&egui::Ui, &egui::Painter),
    geometry: &Geometry,
    (column, day): (usize, NaiveDate),
    exception: &scheduling::ScheduleException,
    lang: Lang,
) {
    let (Ok(start), Ok(end)) = (
        timestamp_from_proto(exception.start_time.as_ref()),
        timestamp_from_proto(exception.end_time.as_ref()),
    ) else {
        return;
    };
    let first = local_instant(day, i64::from(geometry.first_hour) * 60, geometry.zone);
    let last = local_instant(day, i64::from(geometry.last_hour) * 60, geometry.zone);
    let (from, until) = (start.max(first), end.min(last));
    if from >= until {
        return;
    }
    let top = geometry.y_of(from);
    let bottom = top + (until - from).num_minutes() as f32 * MINUTE;
    let rect = Rect::from_min_max(
        Pos2::new(geometry.x_of(column) + 1.0, top),
        Pos2::new(geometry.x_of(column + 1) - 1.0, bottom),
    );
    painter.rect_filled(rect, 0.0, Color32::from_gray(222));
    let hatched = painter.with_clip_rect(rect);
    let hatch = Stroke::new(1.0, Color32::from_gray(200));
    let mut x = rect.left() - rect.height();
    while x < rect.right() {
        hatched.line_segment(
            [
                Pos2::new(x, rect.bottom()),
                Pos2::new(x + rect.height(), rect.top()),
            ],
            hatch,
        );
        x += 12.0;
    }
    let kind = match scheduling::ScheduleExceptionKind::try_from(exception.kind) {
        Ok(scheduling::ScheduleExceptionKind::Holiday) => T::Holiday,
        Ok(scheduling::ScheduleExceptionKind::Break) => T::Break,
        _ => T::Blocked,
    };
    let text = if exception.note.is_empty() {
        kind.get(lang).to_owned()
    } else {
        format!("{} · {}", kind.get(lang), exception.note)
    };
    hatched.text(
        rect.min + vec2(6.0, 2.0),
        Align2::LEFT_TOP,
        &text,
        FontId::proportional(13.0),
        widgets::MUTED,
    );
    // Named for the screen reader (and the tests), and in full when hovered.
    let response = ui.interact(
        rect,
        egui::Id::unique(("book-exception", &exception.schedule_exception_id, column)),
        Sense::hover(),
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Note, true, &text));
    response.on_hover_text(text);
}

/// A colour for each kind of visit, the same every day.
fn kind_colour(type_id: &str) -> Color32 {
    const PALETTE: [Color32; 6] = [
        Color32::from_rgb(0, 114, 178),
        Color32::from_rgb(230, 159, 0),
        Color32::from_rgb(0, 158, 115),
        Color32::from_rgb(204, 121, 167),
        Color32::from_rgb(86, 180, 233),
        Color32::from_rgb(213, 94, 0),
    ];
    if type_id.is_empty() {
        return Color32::from_gray(160);
    }
    let sum: usize = type_id.bytes().map(usize::from).sum();
    PALETTE[sum % PALETTE.len()]
}

/// One appointment's block, with its context menu; the action or step chosen in the menu.
fn block_ui(
    ui: &mut egui::Ui,
    view: &View,
    geometry: &Geometry,
    column: usize,
    (schedule, queue): (&Schedule, &HashMap<String, scheduling::QueueEntry>),
    appointment: &scheduling::Appointment,
) -> (Option<Action>, Option<Pressed>, egui::Response) {
    let lang = view.lang;
    let rect = geometry.block_rect(column, appointment);
    let entry = queue.get(&appointment.appointment_id);
    let (status, colour) = status_text(appointment.status, entry);
    let patient = schedule.known.patients.get(&appointment.patient_id);
    let name = patient.map_or_else(
        || "…".to_owned(),
        |p| format::full_name(&p.given_name, &p.family_name),
    );
    let time = view.local_time(appointment.start_time.as_ref());
    let kind = schedule
        .known
        .kinds
        .get(&appointment.appointment_type_id)
        .map_or("", String::as_str);
    let confirmed = matches!(
        scheduling::AppointmentStatus::try_from(appointment.status),
        Ok(scheduling::AppointmentStatus::Confirmed)
    );
    let marks = match entry {
        Some(entry) => format!(" ● {}", entry.ticket_number),
        None if confirmed => " ✔".to_owned(),
        None => String::new(),
    };
    let label = format!("{time} {name}{marks}");

    let painter = ui.painter().with_clip_rect(rect.intersect(ui.clip_rect()));
    let fill = Color32::from_rgba_unmultiplied(colour.r(), colour.g(), colour.b(), 38);
    painter.rect_filled(rect, 4.0, Color32::WHITE);
    painter.rect_filled(rect, 4.0, fill);
    painter.rect_stroke(rect, 4.0, Stroke::new(1.5, colour), StrokeKind::Inside);
    painter.rect_filled(
        Rect::from_min_size(rect.min, vec2(5.0, rect.height())),
        2.0,
        kind_colour(&appointment.appointment_type_id),
    );
    let text_at = rect.min + vec2(9.0, 2.0);
    painter.text(
        text_at,
        Align2::LEFT_TOP,
        &label,
        FontId::proportional(14.0),
        widgets::INK,
    );
    painter.text(
        text_at + vec2(0.0, 17.0),
        Align2::LEFT_TOP,
        if kind.is_empty() {
            status.get(lang).to_owned()
        } else {
            format!("{} · {kind}", status.get(lang))
        },
        FontId::proportional(12.0),
        colour,
    );

    let response = ui
        .interact(
            rect,
            egui::Id::unique(("book-block", &appointment.appointment_id)),
            Sense::click_and_drag(),
        )
        .on_hover_text(format!(
            "{label}\n{} {kind}\n{}",
            status.get(lang),
            schedule.known.provider_name(&appointment.provider_id)
        ));
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
    let mut chosen = (None, None);
    response.context_menu(|ui| {
        chosen = menu_ui(ui, lang, appointment, entry, patient, view.now);
        if chosen.0.is_some() || chosen.1.is_some() {
            ui.close();
        }
    });
    (chosen.0, chosen.1, response)
}

/// The steps an appointment may take, as a menu.
fn menu_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    appointment: &scheduling::Appointment,
    entry: Option<&scheduling::QueueEntry>,
    patient: Option<&clinic_proto::patients::v1::Patient>,
    now: DateTime<Utc>,
) -> (Option<Action>, Option<Pressed>) {
    let mut action = None;
    let mut pressed = None;
    let can_check_in = matches!(
        scheduling::AppointmentStatus::try_from(appointment.status),
        Ok(scheduling::AppointmentStatus::Scheduled | scheduling::AppointmentStatus::Confirmed)
    );
    if can_check_in && ui.button(T::CheckIn.get(lang)).clicked() {
        action = Some(Action::CheckIn(appointment.appointment_id.clone()));
    }
    for (text, step) in life_cycle_steps(appointment, entry, now) {
        if ui.button(text.get(lang)).clicked() {
            pressed = Some(step);
        }
    }
    action = account_button(ui, lang, appointment, patient).or(action);
    (action, pressed)
}

/// Dragging a block: a shadow follows the pointer, snapped; letting go asks to move the visit.
fn drag_ui(
    ui: &egui::Ui,
    response: &egui::Response,
    (geometry, shown): (&Geometry, &[Column]),
    state: &mut BookState,
    appointment: &scheduling::Appointment,
) -> Option<Action> {
    let start = timestamp_from_proto(appointment.start_time.as_ref()).ok()?;
    let end = timestamp_from_proto(appointment.end_time.as_ref()).unwrap_or(start);
    let movable = matches!(
        scheduling::AppointmentStatus::try_from(appointment.status),
        Ok(scheduling::AppointmentStatus::Scheduled | scheduling::AppointmentStatus::Confirmed)
    );
    if !movable {
        return None;
    }
    if response.drag_started()
        && let Some(pos) = response.interact_pointer_pos()
    {
        let grabbed = ((pos.y - geometry.y_of(start)) / MINUTE) as i64;
        state.drag = Some(Drag {
            appointment_id: appointment.appointment_id.clone(),
            grabbed_minutes: grabbed,
            at: pos,
        });
    }
    let drag = state
        .drag
        .as_mut()
        .filter(|drag| drag.appointment_id == appointment.appointment_id)?;
    if let Some(pos) = ui.ctx().pointer_latest_pos() {
        drag.at = pos;
    }
    let pos = drag.at;
    let target = geometry.column_at(pos, shown.len());
    let day = target.map_or(start.with_timezone(&geometry.zone).date_naive(), |c| {
        shown[c].day
    });
    let new_start = geometry.snapped_start(day, pos, drag.grabbed_minutes);
    if let Some(column) = target {
        let top = geometry.y_of(new_start);
        let shadow = Rect::from_min_size(
            Pos2::new(geometry.x_of(column) + 3.0, top),
            vec2(
                geometry.column_width - 6.0,
                ((end - start).num_minutes() as f32 * MINUTE).max(18.0),
            ),
        );
        ui.painter().rect_stroke(
            shadow,
            4.0,
            Stroke::new(2.0, widgets::ACCENT),
            StrokeKind::Inside,
        );
        ui.painter().text(
            shadow.min + vec2(6.0, 2.0),
            Align2::LEFT_TOP,
            format::local_time(new_start, geometry.zone),
            FontId::proportional(13.0),
            widgets::ACCENT,
        );
    }
    if !response.drag_stopped() {
        return None;
    }
    state.drag = None;
    let column = &shown[target?];
    // A chair's column keeps the provider (the service keeps the chair when it is free).
    let provider_id = if column.provider_id.is_empty() {
        appointment.provider_id.clone()
    } else {
        column.provider_id.clone()
    };
    let moved = new_start != start || provider_id != appointment.provider_id;
    moved.then(|| Action::Move {
        appointment_id: appointment.appointment_id.clone(),
        start: new_start,
        provider_id,
    })
}

/// A click on free time: books the open patient there, or says what is missing first.
fn book_at(
    lang: Lang,
    booking: Option<&Booking<'_>>,
    column: &Column,
    start: DateTime<Utc>,
) -> Action {
    let Some(booking) = booking.filter(|b| !b.type_id.is_empty()) else {
        return Action::Tell(Err(T::BookFromTheBook.get(lang).into()));
    };
    let (provider_id, resource_ids) = if !column.provider_id.is_empty() {
        (column.provider_id.clone(), Vec::new())
    } else if booking.provider_id.is_empty() {
        return Action::Tell(Err(T::BookChooseProvider.get(lang).into()));
    } else {
        let chair = [column.resource_id.clone()];
        (
            booking.provider_id.to_owned(),
            chair.into_iter().filter(|id| !id.is_empty()).collect(),
        )
    };
    Action::BookAt {
        slot: scheduling::FreeSlot {
            provider_id,
            start_time: Some(timestamp_to_proto(start)),
            end_time: Some(timestamp_to_proto(
                start + TimeDelta::minutes(booking.duration_minutes),
            )),
        },
        resource_ids,
        patient_name: booking.patient_name.clone(),
    }
}
