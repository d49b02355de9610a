//! Messages to patients: appointment reminders some days before (3 and 1 by default), wait
//! updates while they wait, in the patient's language, on the channels they consented to; and
//! reading their replies ("1"/"SI"/"YES" confirms, "2"/"NO"/"CANCEL" cancels).

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

/// How a message reaches a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Sms,
    WhatsApp,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::WhatsApp => "whatsapp",
            Channel::Email => "email",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "sms" => Some(Channel::Sms),
            "whatsapp" => Some(Channel::WhatsApp),
            "email" => Some(Channel::Email),
            _ => None,
        }
    }
}

/// The languages messages are written in; Spanish when the patient has none of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Es,
    En,
    Zh,
    Ru,
}

impl Language {
    /// From a BCP 47 tag such as `es`, `en-US`, `zh-Hans`, `ru`.
    pub fn from_tag(tag: &str) -> Language {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Language::En,
            "zh" => Language::Zh,
            "ru" => Language::Ru,
            _ => Language::Es,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Es => "es",
            Language::En => "en",
            Language::Zh => "zh",
            Language::Ru => "ru",
        }
    }
}

/// What a reminder says about its appointment.
#[derive(Debug, Clone)]
pub struct ReminderFacts<'a> {
    pub clinic: &'a str,
    pub start: DateTime<Utc>,
    pub time_zone: Tz,
    pub provider: &'a str,
    /// The confirmation code, typed at the kiosk to check in.
    pub code: &'a str,
}

/// A reminder's subject and body.
pub fn reminder_text(language: Language, facts: &ReminderFacts<'_>) -> (String, String) {
    let local = facts.start.with_timezone(&facts.time_zone);
    let day = local.format("%d/%m/%Y");
    let time = local.format("%H:%M");
    let (clinic, provider, code) = (facts.clinic, facts.provider, facts.code);
    match language {
        Language::Es => (
            format!("Recordatorio de su cita en {clinic}"),
            format!(
                "Le recordamos su cita en {clinic} el {day} a las {time} con {provider}. \
                 Código para el kiosco: {code}. Responda 1 o SI para confirmar, 2 o NO para cancelar."
            ),
        ),
        Language::En => (
            format!("Reminder of your appointment at {clinic}"),
            format!(
                "This is a reminder of your appointment at {clinic} on {day} at {time} with \
                 {provider}. Kiosk code: {code}. Reply 1 or YES to confirm, 2 or NO to cancel."
            ),
        ),
        Language::Zh => (
            format!("{clinic} 预约提醒"),
            format!(
                "提醒您在 {clinic} 的预约：{day} {time}，医生 {provider}。自助签到码：{code}。\
                 回复 1 或 是 确认，回复 2 或 否 取消。"
            ),
        ),
        Language::Ru => (
            format!("Напоминание о приёме в {clinic}"),
            format!(
                "Напоминаем о вашем приёме в {clinic} {day} в {time}, врач {provider}. \
                 Код для киоска: {code}. Ответьте 1 или ДА для подтверждения, 2 или НЕТ для отмены."
            ),
        ),
    }
}

/// A wait update's subject and body: the ticket, the place in the queue and the minutes left.
pub fn wait_update_text(
    language: Language,
    clinic: &str,
    (ticket, position, minutes): (&str, u32, u32),
) -> (String, String) {
    match language {
        Language::Es => (
            format!("{clinic}: su turno {ticket}"),
            format!(
                "Su turno {ticket} es el número {position} en la fila. Tiempo de espera \
                 estimado: {minutes} min. Gracias por su paciencia."
            ),
        ),
        Language::En => (
            format!("{clinic}: your ticket {ticket}"),
            format!(
                "Your ticket {ticket} is number {position} in the queue. Estimated wait: \
                 {minutes} min. Thank you for your patience."
            ),
        ),
        Language::Zh => (
            format!("{clinic}：您的号码 {ticket}"),
            format!(
                "您的号码 {ticket} 目前排在第 {position} 位，预计还需等待 {minutes} 分钟。感谢您的耐心。"
            ),
        ),
        Language::Ru => (
            format!("{clinic}: ваш талон {ticket}"),
            format!(
                "Ваш талон {ticket}: вы {position}-й в очереди. Ожидание около {minutes} мин. \
                 Спасибо за терпение."
            ),
        ),
    }
}

/// The reminder round due at `now` for an appointment starting at `start`: the smallest offset
/// whose time has come (so a visit booked two days ahead gets the 3-day reminder at once and
/// the 1-day one on time); `None` once the visit has started or before the first is due.
pub fn due_reminder(
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    offsets: &[TimeDelta],
) -> Option<TimeDelta> {
    if start <= now {
        return None;
    }
    offsets
        .iter()
        .copied()
        .filter(|offset| start - *offset <= now)
        .min()
}

/// What a reply does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyAction {
    Confirm,
    Cancel,
}

/// Reads a reply: "1", "SI", "SÍ", "YES", "OK", "ДА", "是", "确认" confirm; "2", "NO", "CANCEL",
/// "CANCELAR", "НЕТ", "否", "取消" cancel; anything else is not understood.
pub fn read_reply(text: &str) -> Option<ReplyAction> {
    let word = text
        .trim()
        .trim_end_matches(['.', '!', '。', '！'])
        .to_uppercase();
    match word.as_str() {
        "1" | "SI" | "SÍ" | "YES" | "Y" | "OK" | "CONFIRMO" | "CONFIRM" | "ДА" | "是" | "确认" => {
            Some(ReplyAction::Confirm)
        }
        "2" | "NO" | "N" | "CANCEL" | "CANCELAR" | "CANCELO" | "НЕТ" | "ОТМЕНА" | "否" | "取消" => {
            Some(ReplyAction::Cancel)
        }
        _ => None,
    }
}

/// A message about to be written to the outbox.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// `reminder` or `wait_update`.
    pub kind: &'static str,
    pub round: String,
    /// `''` when not about an appointment (a walk-in's wait update).
    pub appointment_id: String,
    /// `''` when not about a queue entry.
    pub queue_entry_id: String,
    pub patient_id: String,
    /// `None`: the patient consented to no channel; the round is recorded as skipped.
    pub channel: Option<Channel>,
    pub recipient: String,
    pub language: Language,
    pub subject: String,
    pub body: String,
}

/// A message in the outbox.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub message_id: String,
    pub kind: String,
    pub round: String,
    pub appointment_id: String,
    pub queue_entry_id: String,
    pub patient_id: String,
    pub channel: String,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    /// pending, sending, sent, failed, skipped.
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for OutboxMessage {
    // The recipient and text are personal data: only the ids and state go to a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxMessage")
            .field("message_id", &self.message_id)
            .field("kind", &self.kind)
            .field("channel", &self.channel)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Sending attempts before a message is given up as failed.
pub const MAX_ATTEMPTS: u32 = 5;

/// How long a dispatcher's claim on a message lasts. A dispatcher that stops while sending (a
/// crash, a lost database connection) leaves the message `sending`; once the claim has lapsed
/// the message is due again. Longer than any one send takes (SMTP gives up after 15 s a step).
pub const SEND_LEASE: TimeDelta = TimeDelta::minutes(5);

/// How long to wait after the `attempts`-th failure: 1, 2, 4, 8 minutes, at most an hour.
pub fn backoff(attempts: u32) -> TimeDelta {
    let doubling = attempts.saturating_sub(1).min(6);
    TimeDelta::minutes(1_i64 << doubling).min(TimeDelta::hours(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + hours * 3600, 0).expect("an instant")
    }

    #[test]
    fn the_smallest_due_offset_is_the_round_to_send() {
        let offsets = [TimeDelta::hours(72), TimeDelta::hours(24)];
        let start = at(100);
        assert_eq!(due_reminder(start, at(27), &offsets), None);
        assert_eq!(
            due_reminder(start, at(28), &offsets),
            Some(TimeDelta::hours(72))
        );
        assert_eq!(
            due_reminder(start, at(76), &offsets),
            Some(TimeDelta::hours(24))
        );
        assert_eq!(due_reminder(start, at(100), &offsets), None);
    }

    #[test]
    fn replies_are_read_in_every_language() {
        for confirm in ["1", "si", "Sí", "YES", "да", "是", " ok. "] {
            assert_eq!(read_reply(confirm), Some(ReplyAction::Confirm), "{confirm}");
        }
        for cancel in ["2", "no", "Cancel", "CANCELAR", "нет", "取消"] {
            assert_eq!(read_reply(cancel), Some(ReplyAction::Cancel), "{cancel}");
        }
        assert_eq!(read_reply("what time?"), None);
    }

    #[test]
    fn reminders_carry_the_code_in_the_patients_language() {
        let facts = ReminderFacts {
            clinic: "Clínica Dental",
            start: at(0),
            time_zone: chrono_tz::America::Mexico_City,
            provider: "Dra. Ruiz",
            code: "K7P2QX",
        };
        for language in [Language::Es, Language::En, Language::Zh, Language::Ru] {
            let (subject, body) = reminder_text(language, &facts);
            assert!(subject.contains("Clínica Dental"));
            assert!(body.contains("K7P2QX"), "{body}");
        }
        assert!(
            reminder_text(Language::En, &facts)
                .1
                .starts_with("This is a reminder")
        );
        assert_eq!(Language::from_tag("zh-Hans"), Language::Zh);
        assert_eq!(Language::from_tag(""), Language::Es);
    }

    #[test]
    fn retries_back_off_doubling_up_to_an_hour() {
        assert_eq!(backoff(1), TimeDelta::minutes(1));
        assert_eq!(backoff(3), TimeDelta::minutes(4));
        assert_eq!(backoff(30), TimeDelta::hours(1));
    }
}
