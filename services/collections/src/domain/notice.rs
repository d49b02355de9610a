//! Patient statements and collection notices, written in the patient's language (Spanish,
//! English, Chinese or Russian) as lines of text; `printing` lays the same lines out as a PDF.
//!
//! The first notice carries the validation information a collection notice owes the patient:
//! who the creditor is, what is owed on the day and how it is made up, and that the patient may
//! dispute the debt within 30 days, after which the clinic assumes it is valid.

use chrono::{Days, NaiveDate};
use clinic_common::Money;

/// Days the patient has to dispute the debt after the first notice.
pub const VALIDATION_PERIOD_DAYS: u64 = 30;

/// The languages notices are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Es,
    En,
    Zh,
    Ru,
}

impl Language {
    pub fn parse(code: &str) -> Option<Language> {
        // "es-MX", "zh-Hans" and the like are read by their primary subtag.
        let primary = code.split(['-', '_']).next().unwrap_or_default();
        match primary.to_ascii_lowercase().as_str() {
            "es" => Some(Language::Es),
            "en" => Some(Language::En),
            "zh" => Some(Language::Zh),
            "ru" => Some(Language::Ru),
            _ => None,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Language::Es => "es",
            Language::En => "en",
            Language::Zh => "zh",
            Language::Ru => "ru",
        }
    }
}

/// Which document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Statement,
    FirstNotice,
    Reminder,
}

impl NoticeKind {
    pub fn slug(&self) -> &'static str {
        match self {
            NoticeKind::Statement => "statement",
            NoticeKind::FirstNotice => "first-notice",
            NoticeKind::Reminder => "reminder",
        }
    }
}

/// One line of a statement: a ledger line as billing describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementLine {
    pub service_date: NaiveDate,
    pub description: String,
    pub amount: Money,
    pub running_balance: Money,
}

/// A debt still open, for the notices' itemisation.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenDebt {
    pub service_date: NaiveDate,
    pub description: String,
    pub remaining: Money,
}

/// Everything a notice says.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeContent {
    pub kind: NoticeKind,
    pub language: Language,
    pub clinic_name: String,
    pub patient_name: String,
    pub date: NaiveDate,
    pub balance: Money,
    pub days_past_due: i64,
    pub statement: Vec<StatementLine>,
    pub open_debts: Vec<OpenDebt>,
}

/// How a line is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeStyle {
    Title,
    Heading,
    Plain,
    /// Two columns: text on the left, an amount on the right.
    Row,
    Blank,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeLine {
    pub style: NoticeStyle,
    pub text: String,
    /// For rows: the right-hand column.
    pub amount: String,
}

impl NoticeLine {
    fn new(style: NoticeStyle, text: impl Into<String>) -> Self {
        NoticeLine {
            style,
            text: text.into(),
            amount: String::new(),
        }
    }

    fn row(text: impl Into<String>, amount: String) -> Self {
        NoticeLine {
            style: NoticeStyle::Row,
            text: text.into(),
            amount,
        }
    }
}

/// The words of one language.
struct Words {
    statement: &'static str,
    first_notice: &'static str,
    reminder: &'static str,
    date: &'static str,
    patient: &'static str,
    creditor: &'static str,
    balance: &'static str,
    owed_items: &'static str,
    lines: &'static str,
    days_past_due: &'static str,
    validation: [&'static str; 3],
    dispute_by: &'static str,
    reminder_text: &'static str,
    how_to_pay: &'static str,
    nothing_owed: &'static str,
}

const SPANISH: Words = Words {
    statement: "Estado de cuenta",
    first_notice: "Aviso de cobro",
    reminder: "Recordatorio de pago",
    date: "Fecha",
    patient: "Paciente",
    creditor: "Acreedor",
    balance: "Saldo pendiente",
    owed_items: "Cargos pendientes",
    lines: "Movimientos",
    days_past_due: "Días de atraso",
    validation: [
        "Si usted no disputa la validez de esta deuda, o de parte de ella, dentro de los 30 días",
        "siguientes a la recepción de este aviso, la consideraremos válida. Si nos notifica por",
        "escrito en ese plazo que la disputa, obtendremos la verificación y se la enviaremos.",
    ],
    dispute_by: "Plazo para disputar",
    reminder_text: "Le recordamos que su cuenta tiene un saldo vencido. Si ya pagó, ignore este aviso.",
    how_to_pay: "Puede pagar en recepción, por transferencia o por teléfono con tarjeta.",
    nothing_owed: "Su cuenta no tiene saldo pendiente.",
};

const ENGLISH: Words = Words {
    statement: "Statement of account",
    first_notice: "Collection notice",
    reminder: "Payment reminder",
    date: "Date",
    patient: "Patient",
    creditor: "Creditor",
    balance: "Balance owed",
    owed_items: "Open charges",
    lines: "Account activity",
    days_past_due: "Days past due",
    validation: [
        "Unless you dispute the validity of this debt, or any portion of it, within 30 days after",
        "receiving this notice, we will assume it is valid. If you notify us in writing within",
        "that period that you dispute it, we will obtain verification and send it to you.",
    ],
    dispute_by: "Dispute by",
    reminder_text: "Your account has a balance past due. If you have already paid, please ignore this.",
    how_to_pay: "You can pay at the front desk, by bank transfer, or by card over the phone.",
    nothing_owed: "Your account has no balance owing.",
};

const CHINESE: Words = Words {
    statement: "账户对账单",
    first_notice: "催款通知",
    reminder: "付款提醒",
    date: "日期",
    patient: "患者",
    creditor: "债权人",
    balance: "未付余额",
    owed_items: "未付费用",
    lines: "账户明细",
    days_past_due: "逾期天数",
    validation: [
        "如您在收到本通知后30天内未对本债务或其任何部分的有效性提出异议，我们将视其为有效。",
        "如您在此期限内以书面形式通知我们您对其有异议，我们将取得核实资料并寄送给您。",
        "",
    ],
    dispute_by: "异议截止日期",
    reminder_text: "您的账户有逾期余额。如您已付款，请忽略本提醒。",
    how_to_pay: "您可以在前台、通过银行转账或电话刷卡付款。",
    nothing_owed: "您的账户没有未付余额。",
};

const RUSSIAN: Words = Words {
    statement: "Выписка по счёту",
    first_notice: "Уведомление о задолженности",
    reminder: "Напоминание об оплате",
    date: "Дата",
    patient: "Пациент",
    creditor: "Кредитор",
    balance: "Сумма задолженности",
    owed_items: "Неоплаченные услуги",
    lines: "Операции по счёту",
    days_past_due: "Дней просрочки",
    validation: [
        "Если вы не оспорите действительность этого долга или его части в течение 30 дней после",
        "получения этого уведомления, мы будем считать его действительным. Если в этот срок вы",
        "письменно сообщите нам, что оспариваете его, мы получим подтверждение и вышлем его вам.",
    ],
    dispute_by: "Оспорить до",
    reminder_text: "На вашем счёте есть просроченная задолженность. Если вы уже оплатили, не обращайте внимания.",
    how_to_pay: "Оплатить можно на ресепшене, банковским переводом или картой по телефону.",
    nothing_owed: "На вашем счёте нет задолженности.",
};

fn words(language: Language) -> &'static Words {
    match language {
        Language::Es => &SPANISH,
        Language::En => &ENGLISH,
        Language::Zh => &CHINESE,
        Language::Ru => &RUSSIAN,
    }
}

/// `$1,234.50 MXN`: grouped thousands, the currency's decimals, the ISO code.
pub fn format_money(money: Money) -> String {
    let digits = money.currency().minor_unit_digits();
    let minor = money.minor_units();
    let scale = 10_i128.pow(digits);
    let magnitude = i128::from(minor).abs();
    let whole = (magnitude / scale).to_string();
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if minor < 0 { "-" } else { "" };
    let currency = money.currency();
    let code = currency.code();
    if digits == 0 {
        format!("{sign}${grouped} {code}")
    } else {
        let fraction = magnitude % scale;
        format!(
            "{sign}${grouped}.{fraction:0width$} {code}",
            width = digits as usize
        )
    }
}

/// The notice as lines, in its language.
pub fn notice_lines(content: &NoticeContent) -> Vec<NoticeLine> {
    let words = words(content.language);
    let title = match content.kind {
        NoticeKind::Statement => words.statement,
        NoticeKind::FirstNotice => words.first_notice,
        NoticeKind::Reminder => words.reminder,
    };
    let mut lines = vec![
        NoticeLine::new(NoticeStyle::Title, content.clinic_name.clone()),
        NoticeLine::new(NoticeStyle::Heading, title),
        NoticeLine::new(NoticeStyle::Blank, ""),
        NoticeLine::new(
            NoticeStyle::Plain,
            format!("{}: {}", words.date, content.date.format("%Y-%m-%d")),
        ),
        NoticeLine::new(
            NoticeStyle::Plain,
            format!("{}: {}", words.patient, content.patient_name),
        ),
    ];
    if content.kind == NoticeKind::FirstNotice {
        lines.push(NoticeLine::new(
            NoticeStyle::Plain,
            format!("{}: {}", words.creditor, content.clinic_name),
        ));
    }
    lines.push(NoticeLine::new(NoticeStyle::Blank, ""));
    match content.kind {
        NoticeKind::Statement => {
            lines.push(NoticeLine::new(NoticeStyle::Heading, words.lines));
            for line in &content.statement {
                lines.push(NoticeLine::row(
                    format!(
                        "{}  {}",
                        line.service_date.format("%Y-%m-%d"),
                        line.description
                    ),
                    format_money(line.amount),
                ));
            }
        }
        NoticeKind::FirstNotice | NoticeKind::Reminder => {
            if content.kind == NoticeKind::Reminder {
                lines.push(NoticeLine::new(NoticeStyle::Plain, words.reminder_text));
                lines.push(NoticeLine::new(
                    NoticeStyle::Plain,
                    format!("{}: {}", words.days_past_due, content.days_past_due.max(0)),
                ));
                lines.push(NoticeLine::new(NoticeStyle::Blank, ""));
            }
            lines.push(NoticeLine::new(NoticeStyle::Heading, words.owed_items));
            for debt in &content.open_debts {
                lines.push(NoticeLine::row(
                    format!(
                        "{}  {}",
                        debt.service_date.format("%Y-%m-%d"),
                        debt.description
                    ),
                    format_money(debt.remaining),
                ));
            }
        }
    }
    lines.push(NoticeLine::new(NoticeStyle::Blank, ""));
    if content.balance.is_positive() {
        lines.push(NoticeLine::row(
            words.balance,
            format_money(content.balance),
        ));
    } else {
        lines.push(NoticeLine::new(NoticeStyle::Plain, words.nothing_owed));
    }
    if content.kind == NoticeKind::FirstNotice {
        lines.push(NoticeLine::new(NoticeStyle::Blank, ""));
        for text in words.validation.iter().filter(|text| !text.is_empty()) {
            lines.push(NoticeLine::new(NoticeStyle::Plain, *text));
        }
        let deadline = content
            .date
            .checked_add_days(Days::new(VALIDATION_PERIOD_DAYS))
            .unwrap_or(content.date);
        lines.push(NoticeLine::new(
            NoticeStyle::Plain,
            format!("{}: {}", words.dispute_by, deadline.format("%Y-%m-%d")),
        ));
    }
    if content.kind != NoticeKind::Statement && content.balance.is_positive() {
        lines.push(NoticeLine::new(NoticeStyle::Blank, ""));
        lines.push(NoticeLine::new(NoticeStyle::Plain, words.how_to_pay));
    }
    lines
}

/// The notice as UTF-8 text: rows with the amount after the description.
pub fn notice_text(lines: &[NoticeLine]) -> String {
    let mut text = String::new();
    for line in lines {
        match line.style {
            NoticeStyle::Row => {
                text.push_str(&line.text);
                text.push_str("  ");
                text.push_str(&line.amount);
            }
            NoticeStyle::Title | NoticeStyle::Heading => text.push_str(&line.text.to_uppercase()),
            NoticeStyle::Plain | NoticeStyle::Blank => text.push_str(&line.text),
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use clinic_common::Currency;

    use super::*;

    fn pesos(minor: i64) -> Money {
        Money::from_minor(minor, Currency::MXN)
    }

    fn content(kind: NoticeKind, language: Language) -> NoticeContent {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid");
        NoticeContent {
            kind,
            language,
            clinic_name: "Clínica Dental Sonrisa".into(),
            patient_name: "Ли Wei".into(),
            date: day,
            balance: pesos(125_050),
            days_past_due: 45,
            statement: Vec::new(),
            open_debts: vec![OpenDebt {
                service_date: NaiveDate::from_ymd_opt(2026, 10, 8).expect("valid"),
                description: "ENDO-01 Endodoncia".into(),
                remaining: pesos(125_050),
            }],
        }
    }

    #[test]
    fn money_reads_with_grouped_thousands_and_the_currency_code() {
        assert_eq!(format_money(pesos(125_050)), "$1,250.50 MXN");
        assert_eq!(format_money(pesos(-5)), "-$0.05 MXN");
        assert_eq!(format_money(pesos(100_000_000)), "$1,000,000.00 MXN");
    }

    #[test]
    fn the_first_notice_carries_the_validation_information_in_each_language() {
        for (language, creditor, dispute_by) in [
            (Language::Es, "Acreedor", "Plazo para disputar: 2026-12-22"),
            (Language::En, "Creditor", "Dispute by: 2026-12-22"),
            (Language::Zh, "债权人", "异议截止日期: 2026-12-22"),
            (Language::Ru, "Кредитор", "Оспорить до: 2026-12-22"),
        ] {
            let text = notice_text(&notice_lines(&content(NoticeKind::FirstNotice, language)));
            assert!(
                text.contains(&format!("{creditor}: Clínica Dental Sonrisa")),
                "{text}"
            );
            assert!(text.contains(dispute_by), "{text}");
            assert!(text.contains("2026-10-08  ENDO-01 Endodoncia  $1,250.50 MXN"));
            assert!(text.contains("30"), "the 30 days are spelled out: {text}");
        }
    }

    #[test]
    fn a_reminder_says_how_late_the_balance_is_and_languages_parse_by_their_primary_tag() {
        let text = notice_text(&notice_lines(&content(NoticeKind::Reminder, Language::Es)));
        assert!(text.contains("Días de atraso: 45"));
        assert!(!text.contains("Acreedor"));
        assert_eq!(Language::parse("es-MX"), Some(Language::Es));
        assert_eq!(Language::parse("zh_Hans"), Some(Language::Zh));
        assert_eq!(Language::parse("fr"), None);
    }
}
