//! The words of the exported daily close, in the language of whoever exports it. Section and
//! item keys (`income_by_method`, `cash`) stay as they are in every language: scripts read them.

/// A language the daily close is exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportLanguage {
    Es,
    En,
    Zh,
    Ru,
}

impl ReportLanguage {
    /// From a BCP 47 tag's primary language (`es`, `es-MX`, `zh-Hans`); empty is English.
    pub fn parse(tag: &str) -> Option<ReportLanguage> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        match primary.to_ascii_lowercase().as_str() {
            "" | "en" => Some(ReportLanguage::En),
            "es" => Some(ReportLanguage::Es),
            "zh" => Some(ReportLanguage::Zh),
            "ru" => Some(ReportLanguage::Ru),
            _ => None,
        }
    }

    pub(crate) fn words(self) -> &'static ReportWords {
        match self {
            ReportLanguage::Es => &ES,
            ReportLanguage::En => &EN,
            ReportLanguage::Zh => &ZH,
            ReportLanguage::Ru => &RU,
        }
    }
}

/// One language's words. Templates name their values in braces.
pub(crate) struct ReportWords {
    pub sheet: &'static str,
    pub columns: [&'static str; 5],
    /// Cash, credit card, debit card, bank transfer.
    pub methods: [&'static str; 4],
    /// `{payments}`, `{refunds}`.
    pub payments_and_refunds: &'static str,
    /// Adjustments, credit notes, write-offs posted.
    pub corrections: [&'static str; 3],
    /// Discounts, advances applied, charged, received, refunded, net income, outstanding.
    pub totals: [&'static str; 7],
    /// `{time}`.
    pub closed_at: &'static str,
    /// `{session}`, `{state}`, `{expected}`, `{counted}`.
    pub drawer: &'static str,
    /// `{session}`, `{state}`, `{counted}`: a blind close, for whoever is not a manager.
    pub drawer_blind: &'static str,
}

const EN: ReportWords = ReportWords {
    sheet: "Daily close",
    columns: ["section", "item", "description", "count", "amount"],
    methods: ["Cash", "Credit card", "Debit card", "Bank transfer"],
    payments_and_refunds: "{payments} payments, {refunds} refunds",
    corrections: [
        "Adjustments posted",
        "Credit notes posted",
        "Write-offs posted",
    ],
    totals: [
        "Discounts given on charges",
        "Paid from advances (received on earlier days)",
        "Charges posted",
        "Payments received",
        "Refunds given",
        "Payments less refunds",
        "Owed at the end of the day",
    ],
    closed_at: "closed at {time}",
    drawer: "session {session} {state}, expected {expected}, counted {counted}",
    drawer_blind: "session {session} {state}, counted {counted}",
};

const ES: ReportWords = ReportWords {
    sheet: "Corte del día",
    columns: ["sección", "concepto", "descripción", "cantidad", "importe"],
    methods: [
        "Efectivo",
        "Tarjeta de crédito",
        "Tarjeta de débito",
        "Transferencia",
    ],
    payments_and_refunds: "{payments} pagos, {refunds} devoluciones",
    corrections: ["Ajustes", "Notas de crédito", "Cancelaciones de adeudo"],
    totals: [
        "Descuentos aplicados a cargos",
        "Pagado con anticipos (recibidos otros días)",
        "Cargos",
        "Pagos recibidos",
        "Devoluciones",
        "Pagos menos devoluciones",
        "Adeudos al cierre del día",
    ],
    closed_at: "cerrado el {time}",
    drawer: "sesión {session} {state}, esperado {expected}, contado {counted}",
    drawer_blind: "sesión {session} {state}, contado {counted}",
};

const ZH: ReportWords = ReportWords {
    sheet: "日结",
    columns: ["类别", "项目", "说明", "数量", "金额"],
    methods: ["现金", "信用卡", "借记卡", "银行转账"],
    payments_and_refunds: "{payments} 笔付款，{refunds} 笔退款",
    corrections: ["已记调整", "已开贷项通知单", "已核销"],
    totals: [
        "费用折扣",
        "以预付款支付（往日收到）",
        "已记费用",
        "已收付款",
        "已退款",
        "付款减退款",
        "日终欠款",
    ],
    closed_at: "结账于 {time}",
    drawer: "班次 {session} {state}，应有 {expected}，实点 {counted}",
    drawer_blind: "班次 {session} {state}，实点 {counted}",
};

const RU: ReportWords = ReportWords {
    sheet: "Закрытие дня",
    columns: ["раздел", "статья", "описание", "количество", "сумма"],
    methods: [
        "Наличные",
        "Кредитная карта",
        "Дебетовая карта",
        "Банковский перевод",
    ],
    payments_and_refunds: "платежей: {payments}, возвратов: {refunds}",
    corrections: ["Корректировки", "Кредит-ноты", "Списания"],
    totals: [
        "Скидки по начислениям",
        "Оплачено из авансов (полученных ранее)",
        "Начисления",
        "Полученные платежи",
        "Возвраты",
        "Платежи за вычетом возвратов",
        "Задолженность на конец дня",
    ],
    closed_at: "закрыт {time}",
    drawer: "смена {session} {state}, ожидалось {expected}, пересчитано {counted}",
    drawer_blind: "смена {session} {state}, пересчитано {counted}",
};

/// `template` with each `{name}` replaced by its value.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut text = template.to_owned();
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_pick_a_language_by_their_primary_part_and_empty_is_english() {
        assert_eq!(ReportLanguage::parse(""), Some(ReportLanguage::En));
        assert_eq!(ReportLanguage::parse("es-MX"), Some(ReportLanguage::Es));
        assert_eq!(ReportLanguage::parse("zh_Hans"), Some(ReportLanguage::Zh));
        assert_eq!(ReportLanguage::parse("RU"), Some(ReportLanguage::Ru));
        assert_eq!(ReportLanguage::parse("fr"), None);
    }
}
