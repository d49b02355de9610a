//! Every text the client shows, in Spanish (the default), English, Chinese and Russian. A text is
//! a [`T`] key; `{name}` placeholders are filled with [`fill`]. Keeping all four languages in one
//! table makes a missing translation a compile error rather than a blank button.

use serde::{Deserialize, Serialize};

/// A language the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Es,
    En,
    Zh,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::Es, Lang::En, Lang::Zh, Lang::Ru];

    /// The language's own name, as its speakers look for it on the first screen.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Es => "Español",
            Lang::En => "English",
            Lang::Zh => "中文",
            Lang::Ru => "Русский",
        }
    }

    /// The BCP 47 tag the services use (`Patient.preferred_language`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
            Lang::Zh => "zh",
            Lang::Ru => "ru",
        }
    }
}

/// `text` with each `{key}` replaced by its value.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut filled = text.to_owned();
    for (key, value) in values {
        filled = filled.replace(&format!("{{{key}}}"), value);
    }
    filled
}

macro_rules! texts {
    ($($key:ident => [$es:expr, $en:expr, $zh:expr, $ru:expr $(,)?]),* $(,)?) => {
        /// A text the client shows; [`T::get`] gives it in a language.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum T { $($key),* }

        impl T {
            pub fn get(self, lang: Lang) -> &'static str {
                match self {
                    $(T::$key => match lang {
                        Lang::Es => $es,
                        Lang::En => $en,
                        Lang::Zh => $zh,
                        Lang::Ru => $ru,
                    }),*
                }
            }
        }
    };
}

texts! {
    // Shared.
    ServiceDown => [
        "El sistema no responde en este momento. Intente de nuevo en un momento o pida ayuda en recepción.",
        "The system is not answering right now. Please try again in a moment or ask at reception.",
        "系统暂时没有响应。请稍后再试，或到前台寻求帮助。",
        "Система сейчас не отвечает. Попробуйте ещё раз через минуту или обратитесь в регистратуру.",
    ],
    NotAllowed => [
        "Este equipo no tiene permiso para hacer esto. Avise a la gerencia.",
        "This device is not allowed to do this. Please tell the manager.",
        "此设备无权执行此操作。请通知经理。",
        "Этому устройству это не разрешено. Сообщите администратору.",
    ],
    Unexpected => [
        "Algo salió mal. Intente de nuevo o pida ayuda en recepción.",
        "Something went wrong. Please try again or ask at reception.",
        "出了点问题。请重试或到前台寻求帮助。",
        "Что-то пошло не так. Попробуйте ещё раз или обратитесь в регистратуру.",
    ],
    CheckTheFields => [
        "Revise los campos marcados.",
        "Please check the highlighted fields.",
        "请检查标出的字段。",
        "Проверьте отмеченные поля.",
    ],
    Working => ["Un momento…", "One moment…", "请稍候…", "Минуту…"],
    Back => ["Atrás", "Back", "返回", "Назад"],
    StartOver => ["Empezar de nuevo", "Start over", "重新开始", "Начать заново"],
    Clear => ["Borrar", "Clear", "清除", "Стереть"],
    Yes => ["Sí", "Yes", "是", "Да"],
    No => ["No", "No", "否", "Нет"],
    Retry => ["Reintentar", "Try again", "重试", "Повторить"],
    Close => ["Cerrar", "Close", "关闭", "Закрыть"],

    // Check-in: finding the appointment.
    Welcome => ["Bienvenido", "Welcome", "欢迎", "Добро пожаловать"],
    CheckInPrompt => [
        "Registre aquí su llegada a la cita de hoy",
        "Check in here for today's appointment",
        "请在此为今天的预约办理签到",
        "Отметьтесь здесь о приходе на сегодняшний приём",
    ],
    HaveCode => [
        "Tengo el código de mi recordatorio",
        "I have the code from my reminder",
        "我有提醒短信中的确认码",
        "У меня есть код из напоминания",
    ],
    FindByName => [
        "Buscarme por mi nombre",
        "Find me by my name",
        "按姓名查找",
        "Найти меня по имени",
    ],
    ByNameTitle => [
        "Escriba su nombre como lo registró en la clínica",
        "Type your name as the clinic has it",
        "请输入您在诊所登记的姓名",
        "Введите имя так, как оно записано в клинике",
    ],
    CodeLabel => [
        "Código de confirmación (6 caracteres)",
        "Confirmation code (6 characters)",
        "确认码（6位）",
        "Код подтверждения (6 символов)",
    ],
    GivenName => ["Nombre", "Given name", "名", "Имя"],
    FamilyName => ["Apellidos", "Family name", "姓", "Фамилия"],
    DateOfBirth => ["Fecha de nacimiento", "Date of birth", "出生日期", "Дата рождения"],
    Day => ["Día", "Day", "日", "День"],
    Month => ["Mes", "Month", "月", "Месяц"],
    Year => ["Año", "Year", "年", "Год"],
    PhoneLastFour => [
        "Últimos 4 dígitos de su teléfono",
        "Last 4 digits of your phone",
        "手机号码后4位",
        "Последние 4 цифры телефона",
    ],
    Search => ["Buscar mi cita", "Find my appointment", "查找我的预约", "Найти мою запись"],
    Searching => [
        "Buscando su cita…",
        "Looking for your appointment…",
        "正在查找您的预约…",
        "Ищем вашу запись…",
    ],
    NotFound => [
        "No encontramos una cita para hoy con esos datos. Revíselos o pida ayuda en recepción.",
        "We could not find an appointment today with those details. Please check them or ask at reception.",
        "没有找到与这些信息相符的今日预约。请核对，或到前台寻求帮助。",
        "Мы не нашли запись на сегодня с такими данными. Проверьте их или обратитесь в регистратуру.",
    ],
    FillEverything => [
        "Complete todos los datos.",
        "Please fill in every field.",
        "请填写所有信息。",
        "Заполните все поля.",
    ],
    TooManyAttempts => [
        "Demasiados intentos. Por favor pida ayuda en recepción.",
        "Too many attempts. Please ask at reception.",
        "尝试次数过多。请到前台寻求帮助。",
        "Слишком много попыток. Пожалуйста, обратитесь в регистратуру.",
    ],
    CannotCheckIn => [
        "Esta cita no se puede registrar aquí. Por favor pase a recepción.",
        "This appointment cannot be checked in here. Please go to reception.",
        "此预约无法在这里签到。请到前台办理。",
        "Эту запись нельзя отметить здесь. Пожалуйста, подойдите в регистратуру.",
    ],

    // Check-in: confirming and the ticket.
    IsThisYou => ["¿Es usted?", "Is this you?", "这是您吗？", "Это вы?"],
    AppointmentAt => [
        "{name}, su cita de hoy es a las {time} con {provider}.",
        "{name}, your appointment today is at {time} with {provider}.",
        "{name}，您今天的预约时间是 {time}，医生：{provider}。",
        "{name}, ваш приём сегодня в {time}, врач: {provider}.",
    ],
    YesCheckMeIn => [
        "Sí, registrar mi llegada",
        "Yes, check me in",
        "是，为我签到",
        "Да, отметить мой приход",
    ],
    NotMe => ["No soy yo", "That is not me", "不是我", "Это не я"],
    CheckedIn => [
        "¡Listo, {name}! Ya registramos su llegada.",
        "All set, {name}! You are checked in.",
        "好了，{name}！您已签到。",
        "Готово, {name}! Ваш приход отмечен.",
    ],
    YourTicket => ["Su turno", "Your ticket", "您的号码", "Ваш талон"],
    EstimatedWait => [
        "Espera estimada: unos {minutes} minutos",
        "Estimated wait: about {minutes} minutes",
        "预计等候：约 {minutes} 分钟",
        "Примерное ожидание: около {minutes} мин",
    ],
    CalledSoon => [
        "Le llamaremos en breve.",
        "You will be called shortly.",
        "很快就会叫到您。",
        "Вас скоро пригласят.",
    ],
    WatchTheScreen => [
        "Esté atento a su turno en la pantalla de la sala de espera.",
        "Watch for your ticket on the waiting-room screen.",
        "请留意候诊室屏幕上的号码。",
        "Следите за своим талоном на экране в зале ожидания.",
    ],
    FirstVisitForm => [
        "Llenar el formulario de primera visita",
        "Fill in the first-visit form",
        "填写初诊登记表",
        "Заполнить анкету первого визита",
    ],
    FormReceived => [
        "Recibimos su formulario. ¡Gracias!",
        "We have your form. Thank you!",
        "已收到您的登记表，谢谢！",
        "Ваша анкета получена. Спасибо!",
    ],
    BalanceDue => [
        "Tiene un saldo pendiente de {amount}.",
        "You have an outstanding balance of {amount}.",
        "您有未结清余额 {amount}。",
        "У вас есть задолженность {amount}.",
    ],
    PayByCard => ["Pagar con tarjeta", "Pay by card", "刷卡支付", "Оплатить картой"],
    Finish => ["Terminar", "Finish", "完成", "Готово"],

    // Check-in: intake form.
    IntakeTitle => [
        "Formulario de primera visita",
        "First-visit form",
        "初诊登记表",
        "Анкета первого визита",
    ],
    ReasonForVisit => [
        "¿Por qué nos visita hoy?",
        "Why are you visiting us today?",
        "您今天来就诊的原因？",
        "Причина сегодняшнего визита?",
    ],
    HasAllergies => [
        "¿Tiene alergias (medicamentos, látex, anestesia)?",
        "Do you have allergies (medicines, latex, anaesthetics)?",
        "您是否有过敏（药物、乳胶、麻醉剂）？",
        "Есть ли у вас аллергия (лекарства, латекс, анестезия)?",
    ],
    WhichAllergies => ["¿Cuáles?", "Which ones?", "对什么过敏？", "На что?"],
    Medications => [
        "Medicamentos que toma actualmente",
        "Medicines you take now",
        "目前正在服用的药物",
        "Лекарства, которые вы принимаете",
    ],
    Conditions => [
        "Marque lo que padece:",
        "Tick any that apply:",
        "请勾选适用项：",
        "Отметьте, что к вам относится:",
    ],
    Diabetes => ["Diabetes", "Diabetes", "糖尿病", "Диабет"],
    Hypertension => ["Presión alta", "High blood pressure", "高血压", "Гипертония"],
    HeartDisease => ["Enfermedad del corazón", "Heart disease", "心脏病", "Болезни сердца"],
    Asthma => ["Asma", "Asthma", "哮喘", "Астма"],
    BleedingDisorder => [
        "Problemas de coagulación",
        "Bleeding disorder",
        "凝血障碍",
        "Нарушение свёртываемости крови",
    ],
    Pregnancy => ["Embarazo", "Pregnancy", "怀孕", "Беременность"],
    LastDentalVisit => [
        "¿Cuándo fue su última visita al dentista?",
        "When did you last see a dentist?",
        "您上次看牙医是什么时候？",
        "Когда вы последний раз были у стоматолога?",
    ],
    VisitUnder6Months => ["Hace menos de 6 meses", "Under 6 months ago", "6个月内", "Менее 6 месяцев назад"],
    Visit6To12Months => ["De 6 a 12 meses", "6 to 12 months ago", "6至12个月前", "6–12 месяцев назад"],
    VisitOver1Year => ["Hace más de un año", "Over a year ago", "一年以前", "Более года назад"],
    VisitNever => ["Nunca", "Never", "从未", "Никогда"],
    EmergencyContact => [
        "Contacto de emergencia (nombre)",
        "Emergency contact (name)",
        "紧急联系人（姓名）",
        "Контакт на экстренный случай (имя)",
    ],
    EmergencyPhone => [
        "Teléfono del contacto, con lada (+52 55 1234 5678)",
        "Contact's phone, with the country code (+1 512 555 0100)",
        "紧急联系人电话，含国家区号（+86 138 0000 0000）",
        "Телефон контакта с кодом страны (+7 916 000 00 00)",
    ],
    EmergencyPhoneInvalid => [
        "Escriba el teléfono del contacto con + y la lada del país, por ejemplo +52 55 1234 5678.",
        "Type the contact's phone with + and the country code, e.g. +1 512 555 0100.",
        "请输入带 + 和国家区号的联系人电话，例如 +86 138 0000 0000。",
        "Введите телефон контакта с + и кодом страны, например +7 916 000 00 00.",
    ],
    ConsentTreatment => [
        "Confirmo que mis respuestas son verdaderas y autorizo la valoración dental.",
        "I confirm my answers are true and agree to a dental assessment.",
        "我确认以上信息属实，并同意接受牙科检查。",
        "Подтверждаю, что ответы верны, и согласен(на) на стоматологический осмотр.",
    ],
    SendForm => ["Enviar formulario", "Send form", "提交登记表", "Отправить анкету"],
    ConsentNeeded => [
        "Para enviar el formulario marque la casilla de confirmación.",
        "Please tick the confirmation box to send the form.",
        "请勾选确认框后提交。",
        "Отметьте подтверждение, чтобы отправить анкету.",
    ],

    // Check-in: paying.
    PayTitle => ["Pago con tarjeta", "Card payment", "刷卡支付", "Оплата картой"],
    AmountToPay => ["Importe a pagar", "Amount to pay", "支付金额", "Сумма к оплате"],
    CardSteps => [
        "Pague {amount} en la terminal. Cuando la terminal apruebe el pago, escriba el código de autorización y los últimos 4 dígitos de la tarjeta.",
        "Pay {amount} on the card terminal. When it approves, type the authorisation code and the card's last 4 digits.",
        "请在刷卡机上支付 {amount}。交易批准后，输入授权码和卡号后4位。",
        "Оплатите {amount} на терминале. После одобрения введите код авторизации и последние 4 цифры карты.",
    ],
    AuthorizationCode => ["Código de autorización", "Authorisation code", "授权码", "Код авторизации"],
    CardLastFour => ["Últimos 4 de la tarjeta", "Card's last 4", "卡号后4位", "Последние 4 цифры карты"],
    Credit => ["Crédito", "Credit", "信用卡", "Кредитная"],
    Debit => ["Débito", "Debit", "借记卡", "Дебетовая"],
    RecordPayment => ["Registrar pago", "Record payment", "登记付款", "Провести оплату"],
    PaymentRecorded => [
        "Pago registrado. Recibo {receipt}. Saldo restante: {balance}.",
        "Payment recorded. Receipt {receipt}. Balance left: {balance}.",
        "付款已登记。收据 {receipt}。剩余余额：{balance}。",
        "Оплата проведена. Чек {receipt}. Остаток: {balance}.",
    ],
    PaymentSaved => [
        "Pago aprobado y guardado en este equipo. Se registrará en cuanto el sistema de cobro responda; no hace falta volver a pagar.",
        "Payment approved and saved on this device. It will be recorded as soon as billing answers; there is no need to pay again.",
        "付款已批准并保存在本设备上。收费系统恢复后将自动登记，无需再次付款。",
        "Оплата одобрена и сохранена на этом устройстве. Она будет проведена, как только система оплаты ответит; платить повторно не нужно.",
    ],
    AmountInvalid => [
        "Escriba un importe mayor que cero.",
        "Type an amount above zero.",
        "请输入大于零的金额。",
        "Введите сумму больше нуля.",
    ],

    // Waiting-room display.
    NowCalling => ["Pase a consulta", "Now calling", "请就诊", "Приглашаются"],
    NextInLine => ["Siguientes", "Next", "候诊中", "Следующие"],
    AboutMinutes => ["~{minutes} min", "~{minutes} min", "约{minutes}分钟", "~{minutes} мин"],
    Reconnecting => [
        "Reconectando con el sistema…",
        "Reconnecting…",
        "正在重新连接…",
        "Переподключение…",
    ],
    NobodyWaiting => [
        "No hay pacientes en espera",
        "Nobody is waiting",
        "暂无候诊患者",
        "Никто не ожидает",
    ],
    Ticket => ["Turno", "Ticket", "号码", "Талон"],
    GoTo => ["Pase a: {place}", "Go to: {place}", "请到：{place}", "Пройдите: {place}"],
    AndMore => ["y {count} más", "and {count} more", "还有{count}位", "и ещё {count}"],

    // Counter.
    Schedule => ["Agenda de hoy", "Today's schedule", "今日预约", "Расписание на сегодня"],
    Patients => ["Pacientes", "Patients", "患者", "Пациенты"],
    Drawer => ["Caja", "Cash drawer", "收银台", "Касса"],
    DailyClose => ["Corte del día", "Daily close", "日结", "Закрытие дня"],
    Time => ["Hora", "Time", "时间", "Время"],
    Patient => ["Paciente", "Patient", "患者", "Пациент"],
    Provider => ["Profesional", "Provider", "医生", "Врач"],
    Status => ["Estado", "Status", "状态", "Статус"],
    Wait => ["Espera", "Wait", "等候", "Ожидание"],
    CheckIn => ["Registrar llegada", "Check in", "签到", "Отметить приход"],
    Account => ["Cuenta", "Account", "账户", "Счёт"],
    Refresh => ["Actualizar", "Refresh", "刷新", "Обновить"],
    SearchPatients => [
        "Nombre, teléfono o correo",
        "Name, phone or email",
        "姓名、电话或邮箱",
        "Имя, телефон или e-mail",
    ],
    SearchButton => ["Buscar", "Search", "搜索", "Найти"],
    NoResults => ["Sin resultados", "No results", "没有结果", "Ничего не найдено"],
    Balance => ["Saldo", "Balance", "余额", "Баланс"],
    InCredit => ["a favor", "in credit", "预付余额", "переплата"],
    PostCharge => ["Cargar a la cuenta", "Post charge", "记账", "Начислить"],
    Quantity => ["Cantidad", "Quantity", "数量", "Количество"],
    WalkIn => ["Llegó sin cita", "Walk-in", "无预约到访", "Без записи"],
    WalkInQueued => [
        "Sin cita: turno {ticket}.",
        "Walk-in: ticket {ticket}.",
        "无预约：号码 {ticket}。",
        "Без записи: талон {ticket}.",
    ],
    Language => ["Idioma", "Language", "语言", "Язык"],
    ChargePosted => ["Cargo registrado: {item}", "Charge posted: {item}", "已记账：{item}", "Начислено: {item}"],
    TakePayment => ["Cobrar", "Take payment", "收款", "Принять оплату"],
    Amount => ["Importe", "Amount", "金额", "Сумма"],
    Cash => ["Efectivo", "Cash", "现金", "Наличные"],
    Card => ["Tarjeta", "Card", "银行卡", "Карта"],
    Transfer => ["Transferencia", "Transfer", "转账", "Перевод"],
    Advance => ["Anticipo", "Advance", "预付款", "Аванс"],
    Tendered => ["Recibido", "Tendered", "收取", "Получено"],
    ChangeDue => ["Cambio: {amount}", "Change: {amount}", "找零：{amount}", "Сдача: {amount}"],
    TenderedTooLittle => [
        "Lo recibido no cubre el importe.",
        "What was handed over does not cover the amount.",
        "收取金额不足。",
        "Полученной суммы недостаточно.",
    ],
    Reference => ["Referencia", "Reference", "参考号", "Номер перевода"],
    FromAdvance => [
        "Se descuenta del anticipo que el paciente dejó.",
        "Taken from the advance the patient paid earlier.",
        "从患者之前的预付款中扣除。",
        "Списывается с аванса, внесённого пациентом.",
    ],
    SplitHint => [
        "Para dividir el pago entre métodos, agregue cada parte y luego cobre.",
        "To split a payment across methods, add each part, then take the payment.",
        "如需分多种方式支付，请逐项添加，然后收款。",
        "Чтобы разделить оплату между способами, добавьте каждую часть и затем примите оплату.",
    ],
    AddPart => ["Agregar parte", "Add part", "添加一部分", "Добавить часть"],
    Split => ["Dividido", "Split", "分开支付", "Раздельно"],
    OneCardPerPayment => [
        "Un pago dividido lleva a lo sumo una tarjeta.",
        "A split payment takes at most one card.",
        "分开支付最多只能使用一张银行卡。",
        "Раздельная оплата — не более одной карты.",
    ],
    PaymentTaken => [
        "Pago {receipt} registrado ({method} {amount}). Saldo: {balance}.",
        "Payment {receipt} recorded ({method} {amount}). Balance: {balance}.",
        "付款 {receipt} 已登记（{method} {amount}）。余额：{balance}。",
        "Оплата {receipt} проведена ({method} {amount}). Баланс: {balance}.",
    ],
    PrintReceipt => ["Imprimir recibo", "Print receipt", "打印收据", "Печать чека"],
    ReceiptPrinted => ["Recibo {receipt} impreso.", "Receipt {receipt} printed.", "收据 {receipt} 已打印。", "Чек {receipt} напечатан."],
    ReceiptSaved => ["Recibo guardado en {path}", "Receipt saved to {path}", "收据已保存到 {path}", "Чек сохранён в {path}"],
    PrinterDown => [
        "La impresora no responde: {error}",
        "The printer is not answering: {error}",
        "打印机无响应：{error}",
        "Принтер не отвечает: {error}",
    ],
    PendingCardPayments => [
        "{count} pago(s) con tarjeta aprobados esperan al sistema de cobro; se registrarán solos.",
        "{count} approved card payment(s) are waiting for billing; they will be recorded by themselves.",
        "{count} 笔已批准的刷卡付款正在等待收费系统，将自动登记。",
        "{count} одобренных оплат картой ждут систему оплаты; они будут проведены автоматически.",
    ],
    RefusedCardPayments => [
        "{count} pago(s) con tarjeta fueron rechazados por el sistema de cobro; revíselos en {path}.",
        "{count} card payment(s) were refused by billing; see {path}.",
        "{count} 笔刷卡付款被收费系统拒绝；请查看 {path}。",
        "{count} оплат картой отклонены системой оплаты; см. {path}.",
    ],
    OpenDrawer => ["Abrir caja", "Open drawer", "开箱", "Открыть кассу"],
    CloseDrawer => ["Cerrar caja (conteo ciego)", "Close drawer (blind count)", "关箱（盲点）", "Закрыть кассу (слепой пересчёт)"],
    DrawerIsClosed => ["La caja de {terminal} está cerrada.", "The drawer of {terminal} is closed.", "{terminal} 的收银箱已关闭。", "Касса {terminal} закрыта."],
    DrawerIsOpen => [
        "Caja de {terminal} abierta por {who} a las {time}; fondo {float}.",
        "Drawer of {terminal} opened by {who} at {time}; float {float}.",
        "{terminal} 收银箱由 {who} 于 {time} 开启；备用金 {float}。",
        "Касса {terminal} открыта: {who}, {time}; размен {float}.",
    ],
    DrawerAwaitingApproval => [
        "La caja espera que la gerencia apruebe su diferencia.",
        "The drawer awaits a manager's approval of its difference.",
        "收银箱等待经理批准其差额。",
        "Касса ждёт, пока руководитель утвердит разницу.",
    ],
    CountFloat => ["Cuente el fondo inicial:", "Count the opening float:", "清点备用金：", "Пересчитайте размен:"],
    CountCash => [
        "Cuente el efectivo de la caja (sin ver el esperado):",
        "Count the cash in the drawer (the expected amount stays hidden):",
        "清点收银箱现金（不显示应有金额）：",
        "Пересчитайте наличные (ожидаемая сумма скрыта):",
    ],
    Note => ["Billete", "Note", "纸币", "Купюра"],
    Coin => ["Moneda", "Coin", "硬币", "Монета"],
    CountedTotal => ["Total contado: {amount}", "Counted: {amount}", "清点合计：{amount}", "Итого: {amount}"],
    DifferenceReason => ["Motivo de la diferencia", "Reason for the difference", "差额原因", "Причина расхождения"],
    OpeningDifferenceReason => [
        "El fondo no coincide con el último cierre: escriba el motivo",
        "The float differs from the last close: give a reason",
        "备用金与上次结算不符：请填写原因",
        "Размен не совпадает с прошлым закрытием: укажите причину",
    ],
    ZReport => [
        "Corte Z: contado {counted}. Lo esperado y la diferencia los ve la gerencia.",
        "Z report: counted {counted}. The manager sees what was expected and any difference.",
        "Z 报表：实点 {counted}。应有金额与差额由经理查看。",
        "Z-отчёт: пересчитано {counted}. Ожидаемую сумму и разницу видит руководитель.",
    ],
    IncomeByMethod => ["Ingresos por método", "Income by method", "按支付方式收入", "Доход по способам оплаты"],
    IncomeByService => ["Ingresos por servicio", "Income by service", "按服务收入", "Доход по услугам"],
    IncomeByStaff => ["Cobrado por", "Taken by", "收款人", "Принял(а)"],
    TotalCharged => ["Total cargado", "Total charged", "记账合计", "Начислено всего"],
    TotalReceived => ["Total cobrado", "Total received", "收款合计", "Получено всего"],
    TotalRefunded => ["Devoluciones", "Refunds", "退款", "Возвраты"],
    NetIncome => ["Ingreso neto", "Net income", "净收入", "Чистый доход"],
    Outstanding => ["Cuentas por cobrar", "Outstanding accounts", "未结账户", "Задолженности"],
    DrawersClosed => ["Cajas cerradas", "Drawers closed", "已关闭收银箱", "Закрытые кассы"],
    ExportCsv => ["Exportar CSV", "Export CSV", "导出 CSV", "Экспорт CSV"],
    ExportXlsx => ["Exportar XLSX", "Export XLSX", "导出 XLSX", "Экспорт XLSX"],
    Exported => ["Guardado en {path}", "Saved to {path}", "已保存到 {path}", "Сохранено в {path}"],
    Method => ["Método", "Method", "方式", "Способ"],
    CreditCard => ["Tarjeta de crédito", "Credit card", "信用卡", "Кредитная карта"],
    DebitCard => ["Tarjeta de débito", "Debit card", "借记卡", "Дебетовая карта"],
    Online => ["En línea", "Online", "在线", "На связи"],
    NoDrawerForCash => [
        "Abra la caja antes de cobrar en efectivo.",
        "Open the drawer before taking cash.",
        "收现金前请先开箱。",
        "Откройте кассу перед приёмом наличных.",
    ],

    // The collections desk.
    Worklist => ["Cartera del día", "Worklist", "催收清单", "Список на сегодня"],
    MineOnly => ["Solo mis cuentas", "Only my accounts", "只看我的账户", "Только мои счета"],
    OpenAccount => ["Abrir", "Open", "打开", "Открыть"],
    DaysPastDue => ["Días vencido", "Days past due", "逾期天数", "Дней просрочки"],
    LastContact => ["Último contacto", "Last contact", "上次联系", "Последний контакт"],
    Never => ["Nunca", "Never", "从未", "Никогда"],
    PromiseLabel => ["Promesa", "Promise", "还款承诺", "Обещание"],
    BrokenPromises => ["Promesas incumplidas", "Broken promises", "违约承诺", "Нарушенные обещания"],
    MissedInstalments => ["Pagos atrasados", "Missed instalments", "逾期分期", "Пропущенные взносы"],
    Risk => ["Riesgo", "Risk", "风险", "Риск"],
    ChannelsNow => ["Canales permitidos ahora", "Channels allowed now", "当前可用渠道", "Разрешённые сейчас каналы"],
    WorklistEmpty => [
        "No hay cuentas que trabajar ahora.",
        "No accounts to work right now.",
        "目前没有需要处理的账户。",
        "Сейчас нет счетов для работы.",
    ],
    AssignedTo => ["Asignada a", "Assigned to", "负责人", "Назначен"],
    Unassigned => ["Sin asignar", "Unassigned", "未分配", "Не назначен"],
    PhoneLabel => ["Teléfono", "Phone", "电话", "Телефон"],
    EmailLabel => ["Correo", "Email", "电子邮件", "Эл. почта"],
    ConsentedTo => ["Acepta contacto por", "Consented to", "同意联系方式", "Согласие на"],
    NoConsent => ["ningún canal", "no channel", "无", "ни один канал"],
    PatientLanguage => ["Idioma del paciente", "Patient's language", "患者语言", "Язык пациента"],
    Aging => ["Antigüedad del saldo", "Aging", "账龄", "Возраст долга"],
    NotYetDue => ["Por vencer", "Not yet due", "未到期", "Срок не наступил"],
    OverDays => ["Más de {days} días", "Over {days} days", "超过 {days} 天", "Более {days} дней"],
    DaysRange => ["{from}–{to} días", "{from}–{to} days", "{from}–{to} 天", "{from}–{to} дней"],
    CeaseRequested => [
        "Pidió no ser contactado: solo avisos permitidos.",
        "Asked not to be contacted: permitted notices only.",
        "已要求停止联系：仅可发送允许的通知。",
        "Просил не связываться: только разрешённые уведомления.",
    ],
    RefusedToPayState => [
        "Se negó a pagar: solo avisos permitidos.",
        "Refused to pay: permitted notices only.",
        "拒绝付款：仅可发送允许的通知。",
        "Отказался платить: только разрешённые уведомления.",
    ],
    DisputeOnHold => [
        "Disputa abierta: cuenta en espera hasta responderla.",
        "Dispute open: the account is on hold until it is answered.",
        "争议未决：答复前暂停催收。",
        "Открыт спор: счёт на паузе до ответа.",
    ],
    PlanLabel => ["Plan de pagos", "Payment plan", "分期计划", "План платежей"],
    InstalmentLine => [
        "{number}. {date} · {amount} · pagado {paid} · {status}",
        "{number}. {date} · {amount} · paid {paid} · {status}",
        "{number}. {date} · {amount} · 已付 {paid} · {status}",
        "{number}. {date} · {amount} · оплачено {paid} · {status}",
    ],
    InstalmentDue => ["pendiente", "due", "待付", "к оплате"],
    InstalmentPaid => ["pagado", "paid", "已付", "оплачен"],
    InstalmentPartlyPaid => ["pago parcial", "partly paid", "部分支付", "оплачен частично"],
    InstalmentMissed => ["no pagado", "missed", "未付", "пропущен"],
    PromiseOpen => ["vigente", "open", "进行中", "действует"],
    PromiseKept => ["cumplida", "kept", "已兑现", "выполнено"],
    PromisePartlyKept => ["cumplida en parte", "partly kept", "部分兑现", "выполнено частично"],
    PromiseBroken => ["incumplida", "broken", "未兑现", "нарушено"],
    PromiseSuperseded => ["reemplazada", "superseded", "已替换", "заменено"],
    PromiseLine => [
        "{amount} para el {date} ({status}; pagado {paid})",
        "{amount} by {date} ({status}; paid {paid})",
        "{date} 前支付 {amount}（{status}；已付 {paid}）",
        "{amount} до {date} ({status}; оплачено {paid})",
    ],
    ContactLog => ["Registro de contactos", "Contact log", "联系记录", "Журнал контактов"],
    NoContacts => ["Sin contactos registrados.", "No contacts yet.", "暂无联系记录。", "Контактов пока нет."],
    LogContact => ["Registrar contacto", "Log a contact", "记录联系", "Записать контакт"],
    ChannelLabel => ["Canal", "Channel", "渠道", "Канал"],
    ChannelCall => ["Llamada", "Phone call", "电话", "Звонок"],
    ChannelSms => ["SMS", "SMS", "短信", "SMS"],
    ChannelWhatsApp => ["WhatsApp", "WhatsApp", "WhatsApp", "WhatsApp"],
    ChannelEmail => ["Correo", "Email", "电子邮件", "Эл. почта"],
    ChannelLetter => ["Carta", "Letter", "信函", "Письмо"],
    Outbound => ["Saliente", "Outbound", "呼出", "Исходящий"],
    Inbound => ["Entrante", "Inbound", "呼入", "Входящий"],
    Attempt => ["Intento", "Attempt", "尝试", "Попытка"],
    Conversation => ["Conversación", "Conversation", "通话", "Разговор"],
    OutcomeLabel => ["Resultado", "Outcome", "结果", "Результат"],
    OutcomeNoAnswer => ["No contestó", "No answer", "无人接听", "Нет ответа"],
    OutcomeLeftMessage => ["Dejé mensaje", "Left a message", "已留言", "Оставлено сообщение"],
    OutcomeSpoke => ["Hablamos", "Spoke", "已沟通", "Поговорили"],
    OutcomePromise => ["Promesa de pago", "Promise to pay", "承诺还款", "Обещание оплаты"],
    OutcomeRefused => ["Se niega a pagar", "Refused to pay", "拒绝付款", "Отказ платить"],
    OutcomeCease => ["Pide no ser contactado", "Stop contacting me", "要求停止联系", "Просит не звонить"],
    OutcomeDisputed => ["Disputa el cargo", "Disputes the charge", "对费用有异议", "Оспаривает"],
    OutcomeWrongNumber => ["Número equivocado", "Wrong number", "号码错误", "Неверный номер"],
    IssueLabel => ["Motivo de facturación", "Billing issue", "账单问题", "Вопрос по счёту"],
    IssueNone => ["Ninguno", "None", "无", "Нет"],
    IssueWrongCharge => ["Cargo incorrecto", "Wrong charge", "收费错误", "Неверное начисление"],
    IssueInsurance => ["Seguro", "Insurance", "保险", "Страховка"],
    IssuePrice => ["Precio", "Price", "价格", "Цена"],
    IssueComplaint => ["Queja del servicio", "Service complaint", "服务投诉", "Жалоба на услугу"],
    Notes => ["Notas", "Notes", "备注", "Заметки"],
    NextStep => ["Siguiente paso", "Next step", "下一步", "Следующий шаг"],
    NextStepDate => ["Fecha (AAAA-MM-DD)", "Date (YYYY-MM-DD)", "日期（年-月-日）", "Дата (ГГГГ-ММ-ДД)"],
    CheckRules => ["¿Puedo contactar?", "May I contact?", "可以联系吗？", "Можно связаться?"],
    ContactAllowed => [
        "Permitido ahora por {channel}.",
        "Allowed now by {channel}.",
        "现在可通过{channel}联系。",
        "Сейчас можно: {channel}.",
    ],
    RuleContactHours => [
        "No: fuera del horario permitido (08:00–21:00 hora del paciente).",
        "No: outside contact hours (08:00–21:00 in the patient's time).",
        "不可：不在允许时段（患者当地时间 08:00–21:00）。",
        "Нельзя: вне разрешённых часов (08:00–21:00 по времени пациента).",
    ],
    RuleCallFrequency => [
        "No: ya se hicieron las llamadas permitidas en 7 días.",
        "No: the calls allowed in 7 days have been made.",
        "不可：7 天内的拨打次数已用完。",
        "Нельзя: лимит звонков за 7 дней исчерпан.",
    ],
    RuleAfterConversation => [
        "No: hubo una conversación hace menos de 7 días.",
        "No: there was a conversation less than 7 days ago.",
        "不可：7 天内已通过话。",
        "Нельзя: разговор был менее 7 дней назад.",
    ],
    RuleCease => [
        "No: pidió no ser contactado (solo avisos permitidos).",
        "No: asked not to be contacted (permitted notices only).",
        "不可：患者要求停止联系（仅限允许的通知）。",
        "Нельзя: просил не связываться (только разрешённые уведомления).",
    ],
    RuleRefused => [
        "No: se negó a pagar (solo avisos permitidos).",
        "No: refused to pay (permitted notices only).",
        "不可：患者拒绝付款（仅限允许的通知）。",
        "Нельзя: отказался платить (только разрешённые уведомления).",
    ],
    RuleDispute => [
        "No: hay una disputa abierta.",
        "No: a dispute is open.",
        "不可：存在未决争议。",
        "Нельзя: открыт спор.",
    ],
    RuleNoConsent => [
        "No: el paciente no aceptó este canal o no hay dato de contacto.",
        "No: the patient has not consented to this channel, or there is no contact detail for it.",
        "不可：患者未同意此渠道或缺少联系方式。",
        "Нельзя: нет согласия на этот канал или нет контакта.",
    ],
    RecordContact => ["Guardar contacto", "Record contact", "保存联系", "Сохранить контакт"],
    ContactRecorded => ["Contacto registrado.", "Contact recorded.", "联系已记录。", "Контакт записан."],
    RecordPromise => ["Registrar promesa", "Record promise", "记录承诺", "Записать обещание"],
    PromisedAmount => ["Importe prometido", "Promised amount", "承诺金额", "Обещанная сумма"],
    PromiseDate => ["Pagará el (AAAA-MM-DD)", "Will pay by (YYYY-MM-DD)", "还款日期（年-月-日）", "Оплатит до (ГГГГ-ММ-ДД)"],
    PromiseRecorded => [
        "Promesa registrada: {amount} para el {date}.",
        "Promise recorded: {amount} by {date}.",
        "已记录承诺：{date} 前支付 {amount}。",
        "Обещание записано: {amount} до {date}.",
    ],
    DateInvalid => [
        "Escriba la fecha como AAAA-MM-DD.",
        "Write the date as YYYY-MM-DD.",
        "请按 年-月-日 格式填写日期。",
        "Введите дату как ГГГГ-ММ-ДД.",
    ],
    PhonePayment => ["Cobro por teléfono", "Payment by phone", "电话收款", "Оплата по телефону"],
    Notices => ["Estado de cuenta y avisos", "Statement and notices", "对账单与通知", "Выписка и уведомления"],
    Statement => ["Estado de cuenta", "Statement", "对账单", "Выписка"],
    FirstNotice => ["Primer aviso", "First notice", "首次通知", "Первое уведомление"],
    ReminderNotice => ["Recordatorio", "Reminder", "提醒", "Напоминание"],
    PickAccount => [
        "Abra una cuenta desde la cartera del día.",
        "Open an account from the worklist.",
        "请从催收清单打开一个账户。",
        "Откройте счёт из списка на сегодня.",
    ],

    // Reception's bookings, registrations and the day's appointments.
    BookTitle => ["Agendar una cita", "Book an appointment", "预约", "Записать на приём"],
    NoAppointmentTypes => [
        "No hay tipos de cita dados de alta.",
        "No kinds of visit are set up yet.",
        "尚未设置预约类型。",
        "Виды приёма ещё не заведены.",
    ],
    AppointmentType => ["Tipo de cita", "Kind of visit", "预约类型", "Вид приёма"],
    AnyProvider => ["Cualquiera", "Anyone", "任意", "Любой"],
    FromDate => ["Desde (AAAA-MM-DD)", "From (YYYY-MM-DD)", "起始日期（年-月-日）", "С (ГГГГ-ММ-ДД)"],
    FindTimes => ["Buscar horarios", "Find free times", "查找空闲时间", "Найти время"],
    NoFreeTimes => [
        "No hay horarios libres en esas dos semanas.",
        "No free times in those two weeks.",
        "这两周内没有空闲时间。",
        "В эти две недели свободного времени нет.",
    ],
    Booked => [
        "Cita agendada: {when} con {provider}. Código {code}.",
        "Booked: {when} with {provider}. Code {code}.",
        "已预约：{when}，{provider}。预约码 {code}。",
        "Записано: {when}, {provider}. Код {code}.",
    ],
    NewPatient => ["Paciente nuevo", "New patient", "新患者", "Новый пациент"],
    BornOn => ["Nacimiento (AAAA-MM-DD)", "Born (YYYY-MM-DD)", "出生日期（年-月-日）", "Дата рождения (ГГГГ-ММ-ДД)"],
    PhoneE164 => ["Teléfono (+52…)", "Phone (+52…)", "电话（+52…）", "Телефон (+52…)"],
    EmailOptional => ["Correo (opcional)", "Email (optional)", "电子邮件（可选）", "Эл. почта (необязательно)"],
    Register => ["Registrar", "Register", "登记", "Зарегистрировать"],
    PatientRegistered => ["Paciente registrado: {name}.", "Patient registered: {name}.", "患者已登记：{name}。", "Пациент зарегистрирован: {name}."],
    ConfirmVisit => ["Confirmar", "Confirm", "确认", "Подтвердить"],
    CancelVisit => ["Cancelar", "Cancel", "取消", "Отменить"],
    CancelReason => ["Motivo de la cancelación", "Reason for cancelling", "取消原因", "Причина отмены"],
    CancelConfirm => ["Cancelar la cita", "Cancel the appointment", "取消预约", "Отменить запись"],
    KeepVisit => ["No cancelar", "Keep it", "保留", "Не отменять"],
    NoShow => ["No asistió", "No-show", "未到", "Не пришёл"],
    Seat => ["Pasar a consulta", "Seat", "入座", "Пригласить"],
    Complete => ["Terminar", "Complete", "完成", "Завершить"],
    CheckOut => ["Salida", "Check out", "离开", "Выписать"],
    CallNext => ["Llamar al siguiente", "Call next", "叫下一位", "Вызвать следующего"],
    Calling => ["Llamando {ticket}", "Calling {ticket}", "正在叫号 {ticket}", "Вызывается {ticket}"],
    NobodyToCall => ["Nadie espera.", "Nobody is waiting.", "没有人在等候。", "Никто не ждёт."],
    Done => ["Hecho.", "Done.", "已完成。", "Готово."],

    // Appointment statuses.
    StatusScheduled => ["Agendada", "Scheduled", "已预约", "Запланирован"],
    StatusConfirmed => ["Confirmada", "Confirmed", "已确认", "Подтверждён"],
    StatusArrived => ["En espera", "Arrived", "已到达", "Пришёл"],
    StatusSeated => ["En consulta", "Seated", "就诊中", "На приёме"],
    StatusCompleted => ["Atendida", "Completed", "已完成", "Принят"],
    StatusCheckedOut => ["Salió", "Checked out", "已离开", "Ушёл"],
    StatusCancelled => ["Cancelada", "Cancelled", "已取消", "Отменён"],
    StatusNoShow => ["No asistió", "No-show", "未到", "Не пришёл"],
    StatusRescheduled => ["Reagendada", "Rescheduled", "已改约", "Перенесён"],
    StatusCalled => ["Llamado", "Called", "已叫号", "Вызван"],
    Overdue => ["¡Espera larga!", "Waiting too long!", "等候过久！", "Долгое ожидание!"],
}
