//! A believable demo clinic, seeded through the services' public gRPC APIs exactly as a client
//! would: providers, a price list, patients with Spanish, English, Chinese and Russian names,
//! today's appointments in mixed states and a book of open balances.
//!
//! Seeding happens once per data directory. Every call carries a deterministic request id, so a
//! seed interrupted half-way can simply be run again without duplicating anything.

use anyhow::Context;
use chrono::{NaiveDate, NaiveTime, TimeDelta, TimeZone};
use clinic_common::auth::BearerToken;
use clinic_common::auth::{Role, TokenKey};
use clinic_common::client::ServiceChannel;
use clinic_common::clock::Clock;
use clinic_common::time::local_date;
use clinic_proto::billing::v1 as billing;
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_proto::common::v1::Money;
use clinic_proto::patients::v1 as patients;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_proto::scheduling::v1 as scheduling;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use clinic_proto::{date_to_proto, timestamp_to_proto};
use tonic::service::interceptor::InterceptedService;

use crate::config::Config;

/// Written into the data directory once the demo clinic is complete.
const MARKER_FILE: &str = "demo-seeded";

/// Seeds the demo clinic unless this data directory already has it.
pub async fn seed_once(config: &Config, key: &TokenKey, clock: &dyn Clock) -> anyhow::Result<()> {
    let marker = config.data_dir.join(MARKER_FILE);
    if marker.exists() {
        println!("Demo data is already in {}.", config.data_dir.display());
        return Ok(());
    }
    let summary = Seeder::connect(config, key, clock)?.seed().await?;
    std::fs::write(&marker, format!("{summary}\n"))
        .with_context(|| format!("failed to write {}", marker.display()))?;
    println!("Seeded the demo clinic: {summary}.");
    Ok(())
}

struct Seeder<'a> {
    config: &'a Config,
    clock: &'a dyn Clock,
    patients: PatientServiceClient<ServiceChannel>,
    scheduling: SchedulingServiceClient<ServiceChannel>,
    billing: BillingServiceClient<ServiceChannel>,
}

impl<'a> Seeder<'a> {
    fn connect(config: &'a Config, key: &TokenKey, clock: &'a dyn Clock) -> anyhow::Result<Self> {
        // The seeder acts as the clinic's manager setting up the practice.
        let manager_channel = |url: &str| -> anyhow::Result<ServiceChannel> {
            let channel = tonic::transport::Endpoint::from_shared(url.to_owned())?.connect_lazy();
            let token = key.issue(
                "manager:demo-setup",
                Role::Manager,
                clock.now(),
                Some(TimeDelta::hours(1)),
            );
            Ok(InterceptedService::new(channel, BearerToken::new(&token)?))
        };
        Ok(Seeder {
            config,
            clock,
            patients: PatientServiceClient::new(manager_channel(&config.patients.url)?),
            scheduling: SchedulingServiceClient::new(manager_channel(
                &config.scheduling.service.url,
            )?),
            billing: BillingServiceClient::new(manager_channel(&config.billing.service.url)?),
        })
    }

    async fn seed(&mut self) -> anyhow::Result<String> {
        let currency = self.config.clinic.currency.code().to_owned();
        let time_zone = self.config.clinic.time_zone;
        let today = local_date(self.clock.now(), time_zone);

        let providers = self.seed_providers().await?;
        self.seed_price_list(&currency).await?;
        let patient_ids = self.seed_patients(today).await?;
        let appointments = self.seed_today(today, &providers, &patient_ids).await?;
        let open = self.seed_balances(today, &patient_ids, &currency).await?;
        Ok(format!(
            "{} providers, {} price-list items, {} patients, {} appointments today, {} open balances",
            providers.len(),
            PRICE_LIST.len(),
            patient_ids.len(),
            appointments,
            open
        ))
    }

    async fn seed_providers(&mut self) -> anyhow::Result<Vec<(String, scheduling::ProviderKind)>> {
        let mut providers = Vec::new();
        for (index, (name, kind)) in PROVIDERS.iter().enumerate() {
            let provider = self
                .scheduling
                .create_provider(scheduling::CreateProviderRequest {
                    provider: Some(scheduling::Provider {
                        display_name: (*name).into(),
                        kind: *kind as i32,
                        ..Default::default()
                    }),
                    request_id: format!("demo-provider-{index}"),
                })
                .await
                .context("failed to create a demo provider")?
                .into_inner();
            self.set_working_hours(&provider.provider_id).await?;
            providers.push((provider.provider_id, *kind));
        }
        Ok(providers)
    }

    /// Mornings every day (a weekend morning shift for emergencies included, so the demo works on
    /// any day), afternoons Monday to Friday after a two-hour lunch.
    async fn set_working_hours(&mut self, provider_id: &str) -> anyhow::Result<()> {
        use scheduling::{DayOfWeek, TimeOfDay, WorkingInterval};
        let at = |hours| Some(TimeOfDay { hours, minutes: 0 });
        let mut intervals = Vec::new();
        for day in [
            DayOfWeek::Monday,
            DayOfWeek::Tuesday,
            DayOfWeek::Wednesday,
            DayOfWeek::Thursday,
            DayOfWeek::Friday,
            DayOfWeek::Saturday,
            DayOfWeek::Sunday,
        ] {
            let weekday = !matches!(day, DayOfWeek::Saturday | DayOfWeek::Sunday);
            intervals.push(WorkingInterval {
                day_of_week: day as i32,
                start_time: at(9),
                end_time: at(14),
            });
            if weekday {
                intervals.push(WorkingInterval {
                    day_of_week: day as i32,
                    start_time: at(16),
                    end_time: at(20),
                });
            }
        }
        self.scheduling
            .set_working_hours(scheduling::SetWorkingHoursRequest {
                working_hours: Some(scheduling::WorkingHours {
                    provider_id: provider_id.to_owned(),
                    intervals,
                }),
            })
            .await
            .context("failed to set a demo provider's working hours")?;
        Ok(())
    }

    async fn seed_price_list(&mut self, currency: &str) -> anyhow::Result<()> {
        for (code, description, minor_units, kind) in PRICE_LIST {
            self.billing
                .create_price_list_item(billing::CreatePriceListItemRequest {
                    item: Some(billing::PriceListItem {
                        code: (*code).into(),
                        description: (*description).into(),
                        unit_price: Some(Money {
                            minor_units: *minor_units,
                            currency_code: currency.into(),
                        }),
                        kind: *kind as i32,
                        ..Default::default()
                    }),
                    request_id: format!("demo-price-{code}"),
                })
                .await
                .with_context(|| format!("failed to add {code} to the price list"))?;
        }
        Ok(())
    }

    async fn seed_patients(&mut self, today: NaiveDate) -> anyhow::Result<Vec<String>> {
        let mut random = Lcg(0x5eed_c1f1);
        let mut ids = Vec::new();
        for (index, person) in PATIENTS.iter().enumerate() {
            let age_days = 365 * (6 + random.below(70)) + random.below(365);
            let born = today - TimeDelta::days(age_days as i64);
            let phone = format!(
                "{}{:0width$}",
                person.phone_prefix,
                10_000_000 + random.below(89_999_999),
                width = 8
            );
            let email = if random.below(3) > 0 {
                format!(
                    "{}.{}{}@example.com",
                    ascii_handle(person.given),
                    ascii_handle(person.family),
                    index
                )
            } else {
                String::new()
            };
            let consent = patients::ContactConsent {
                sms: random.below(4) > 0,
                whatsapp: random.below(3) > 0,
                email: !email.is_empty() && random.below(2) == 0,
                phone_call: true,
            };
            let patient = self
                .patients
                .create_patient(patients::CreatePatientRequest {
                    patient: Some(patients::Patient {
                        given_name: person.given.into(),
                        family_name: person.family.into(),
                        date_of_birth: Some(date_to_proto(born)),
                        phone,
                        email,
                        preferred_language: person.language.into(),
                        time_zone: person.time_zone.into(),
                        consent: Some(consent),
                        ..Default::default()
                    }),
                    request_id: format!("demo-patient-{index}"),
                })
                .await
                .context("failed to register a demo patient")?
                .into_inner();
            ids.push(patient.patient_id);
        }
        Ok(ids)
    }

    /// Today's schedule: three chairs' worth of visits from 09:00: five already checked in and
    /// waiting, eight confirmed, three not yet confirmed, two cancelled.
    async fn seed_today(
        &mut self,
        today: NaiveDate,
        providers: &[(String, scheduling::ProviderKind)],
        patient_ids: &[String],
    ) -> anyhow::Result<usize> {
        let clinicians: Vec<&String> = providers
            .iter()
            .filter(|(_, kind)| {
                matches!(
                    kind,
                    scheduling::ProviderKind::Dentist | scheduling::ProviderKind::Hygienist
                )
            })
            .map(|(id, _)| id)
            .collect();
        let time_zone = self.config.clinic.time_zone;
        let mut booked = Vec::new();
        for (slot, patient_id) in patient_ids.iter().take(18).enumerate() {
            let provider_id = clinicians[slot % clinicians.len()];
            let minutes_after_nine = (slot / clinicians.len()) as i64 * 45;
            let local_start = today.and_time(NaiveTime::from_hms_opt(9, 0, 0).expect("valid time"))
                + TimeDelta::minutes(minutes_after_nine);
            let start = time_zone
                .from_local_datetime(&local_start)
                .earliest()
                .context("the demo day has no 09:00")?
                .to_utc();
            let (price_code, reason) = VISITS[slot % VISITS.len()];
            let appointment = self
                .scheduling
                .create_appointment(scheduling::CreateAppointmentRequest {
                    appointment: Some(scheduling::Appointment {
                        patient_id: patient_id.clone(),
                        provider_id: provider_id.clone(),
                        start_time: Some(timestamp_to_proto(start)),
                        end_time: Some(timestamp_to_proto(start + TimeDelta::minutes(40))),
                        price_code: price_code.into(),
                        reason: reason.into(),
                        ..Default::default()
                    }),
                    request_id: format!("demo-appointment-{today}-{slot}"),
                })
                .await
                .context("failed to book a demo appointment")?
                .into_inner();
            booked.push(appointment);
        }

        // The first visits of the day have arrived and are waiting in the queue.
        for appointment in booked.iter().take(5) {
            self.scheduling
                .check_in_appointment(scheduling::CheckInAppointmentRequest {
                    appointment_id: appointment.appointment_id.clone(),
                    identity: None,
                    confirmation_code: String::new(),
                })
                .await
                .context("failed to check in a demo appointment")?;
        }
        // Most of the rest confirmed when reminded; a few have not answered yet.
        for appointment in booked.iter().skip(5).take(8) {
            self.scheduling
                .confirm_appointment(scheduling::ConfirmAppointmentRequest {
                    appointment_id: appointment.appointment_id.clone(),
                })
                .await
                .context("failed to confirm a demo appointment")?;
        }
        for (appointment, reason) in booked
            .iter()
            .skip(16)
            .zip(["Cambio de trabajo", "Enfermedad"])
        {
            self.scheduling
                .cancel_appointment(scheduling::CancelAppointmentRequest {
                    appointment_id: appointment.appointment_id.clone(),
                    reason: reason.into(),
                })
                .await
                .context("failed to cancel a demo appointment")?;
        }
        Ok(booked.len())
    }

    /// Past visits billed, most paid: patients 20-44 had treatment over the last five months;
    /// every third one still owes part of it, at ages from days to months.
    async fn seed_balances(
        &mut self,
        today: NaiveDate,
        patient_ids: &[String],
        currency: &str,
    ) -> anyhow::Result<usize> {
        let mut random = Lcg(0xba1a_9ce5);
        let mut open = 0;
        for (index, patient_id) in patient_ids.iter().enumerate().skip(20).take(25) {
            let days_ago = 3 + random.below(150) as i64;
            let service_date = today - TimeDelta::days(days_ago);
            let (code, _, unit_price, _) =
                PRICE_LIST[random.below(PRICE_LIST.len() as u64) as usize];
            self.billing
                .post_charge(billing::PostChargeRequest {
                    patient_id: patient_id.clone(),
                    price_code: code.into(),
                    quantity: 1,
                    appointment_id: String::new(),
                    service_date: Some(date_to_proto(service_date)),
                    request_id: format!("demo-charge-{index}"),
                })
                .await
                .context("failed to post a demo charge")?;

            let owes_part = index % 3 == 0;
            let paid = if owes_part {
                unit_price * (random.below(3) as i64) / 4
            } else {
                unit_price
            };
            if owes_part {
                open += 1;
            }
            if paid == 0 {
                continue;
            }
            let amount = Money {
                minor_units: paid,
                currency_code: currency.into(),
            };
            let method = match index % 3 {
                0 => billing::post_payment_request::Method::Cash(billing::CashPayment {
                    tendered: Some(Money {
                        // Paid with the smallest number of $100 notes that covers it.
                        minor_units: (paid + 9_999) / 10_000 * 10_000,
                        currency_code: currency.into(),
                    }),
                }),
                1 => billing::post_payment_request::Method::Card(billing::CardPayment {
                    authorization_code: format!("A{:05}", random.below(99_999)),
                    last_four: format!("{:04}", random.below(9_999)),
                    card_type: billing::CardType::Debit as i32,
                }),
                _ => billing::post_payment_request::Method::BankTransfer(
                    billing::BankTransferPayment {
                        reference: format!("SPEI-{:08}", random.below(99_999_999)),
                    },
                ),
            };
            self.billing
                .post_payment(billing::PostPaymentRequest {
                    patient_id: patient_id.clone(),
                    amount: Some(amount),
                    method: Some(method),
                    request_id: format!("demo-payment-{index}"),
                    // Past visits were paid before today's drawer was opened.
                    terminal_id: String::new(),
                })
                .await
                .context("failed to post a demo payment")?;
        }
        Ok(open)
    }
}

/// A small deterministic generator, so every demo clinic looks the same.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound.max(1)
    }
}

/// An email-safe handle for a name; scripts without Latin letters get a romanised stand-in.
fn ascii_handle(name: &str) -> String {
    let handle: String = name
        .chars()
        .filter_map(|c| match c {
            'á' | 'Á' => Some('a'),
            'é' | 'É' => Some('e'),
            'í' | 'Í' => Some('i'),
            'ó' | 'Ó' => Some('o'),
            'ú' | 'Ú' | 'ü' => Some('u'),
            'ñ' | 'Ñ' => Some('n'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    if handle.is_empty() {
        "paciente".into()
    } else {
        handle
    }
}

struct Person {
    given: &'static str,
    family: &'static str,
    language: &'static str,
    phone_prefix: &'static str,
    time_zone: &'static str,
}

const fn es(given: &'static str, family: &'static str) -> Person {
    Person {
        given,
        family,
        language: "es",
        phone_prefix: "+5255",
        time_zone: "America/Mexico_City",
    }
}
const fn en(given: &'static str, family: &'static str) -> Person {
    Person {
        given,
        family,
        language: "en",
        phone_prefix: "+1512",
        time_zone: "America/Chicago",
    }
}
const fn zh(given: &'static str, family: &'static str) -> Person {
    Person {
        given,
        family,
        language: "zh",
        phone_prefix: "+86138",
        time_zone: "America/Mexico_City",
    }
}
const fn ru(given: &'static str, family: &'static str) -> Person {
    Person {
        given,
        family,
        language: "ru",
        phone_prefix: "+7916",
        time_zone: "America/Mexico_City",
    }
}

const PATIENTS: &[Person] = &[
    es("María", "García López"),
    es("José", "Hernández Ruiz"),
    en("Emily", "Johnson"),
    zh("伟", "张"),
    ru("Анна", "Смирнова"),
    es("Guadalupe", "Martínez Soto"),
    es("Juan Carlos", "Pérez Díaz"),
    en("Michael", "Brown"),
    zh("芳", "李"),
    ru("Дмитрий", "Иванов"),
    es("Lucía", "Ramírez Vega"),
    es("Alejandro", "Flores Castillo"),
    en("Sarah", "Miller"),
    zh("静", "王"),
    ru("Ольга", "Кузнецова"),
    es("Fernanda", "Torres Medina"),
    es("Miguel Ángel", "Sánchez Rojas"),
    en("David", "Wilson"),
    zh("强", "刘"),
    ru("Сергей", "Попов"),
    es("Ximena", "Morales Ortiz"),
    es("Ricardo", "Jiménez Navarro"),
    en("Jessica", "Davis"),
    zh("敏", "陈"),
    ru("Наталья", "Волкова"),
    es("Sofía", "Gutiérrez Reyes"),
    es("Daniel", "Mendoza Aguilar"),
    en("Christopher", "Taylor"),
    zh("磊", "杨"),
    ru("Алексей", "Соколов"),
    es("Valentina", "Cruz Herrera"),
    es("Diego", "Ramos Campos"),
    en("Ashley", "Anderson"),
    zh("洋", "黄"),
    ru("Екатерина", "Лебедева"),
    es("Regina", "Vázquez Luna"),
    es("Santiago", "Castro Ibarra"),
    en("Matthew", "Thomas"),
    zh("艳", "赵"),
    ru("Пётр", "Ёлкин"),
    es("Camila", "Romero Salazar"),
    es("Sebastián", "Núñez Fuentes"),
    en("Amanda", "Moore"),
    zh("杰", "周"),
    ru("Татьяна", "Морозова"),
    es("Renata", "Delgado Peña"),
    es("Emiliano", "Guerrero Ríos"),
    en("Joshua", "Martin"),
    zh("娟", "吴"),
    ru("Михаил", "Новиков"),
    es("Andrea", "Cervantes Mora"),
    es("Leonardo", "Espinoza Arias"),
    en("Olivia", "Clark"),
    zh("军", "徐"),
    ru("Ирина", "Павлова"),
    es("Mariana", "Villalobos Cano"),
];

const PROVIDERS: &[(&str, scheduling::ProviderKind)] = &[
    ("Dra. Ana Ruiz", scheduling::ProviderKind::Dentist),
    ("Dr. Wei Zhang", scheduling::ProviderKind::Dentist),
    ("Hig. Olga Petrova", scheduling::ProviderKind::Hygienist),
    ("Lic. Emily Carter", scheduling::ProviderKind::Consultant),
    ("Asist. Luis Pérez", scheduling::ProviderKind::Assistant),
];

const PRICE_LIST: &[(&str, &str, i64, billing::PriceListItemKind)] = &[
    (
        "CONS-01",
        "Consulta de valoración",
        50_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "LIMP-01",
        "Limpieza dental (profilaxis)",
        80_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "RES-01",
        "Resina (una superficie)",
        120_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "EXT-01",
        "Extracción simple",
        150_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "ENDO-01",
        "Endodoncia (un conducto)",
        450_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "RX-PAN",
        "Radiografía panorámica",
        65_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "BLAN-01",
        "Blanqueamiento en consultorio",
        350_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "CORONA-ZR",
        "Corona de zirconia",
        750_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "ORTO-MES",
        "Ortodoncia, mensualidad",
        120_000,
        billing::PriceListItemKind::Therapy,
    ),
    (
        "FLUOR-01",
        "Aplicación de flúor",
        40_000,
        billing::PriceListItemKind::Therapy,
    ),
    (
        "PROD-CEP",
        "Cepillo eléctrico",
        95_000,
        billing::PriceListItemKind::Product,
    ),
    (
        "PROD-HILO",
        "Hilo dental 50 m",
        8_500,
        billing::PriceListItemKind::Product,
    ),
];

/// What today's visits are for: (price code, reason).
const VISITS: &[(&str, &str)] = &[
    ("CONS-01", "Primera consulta"),
    ("LIMP-01", "Limpieza semestral"),
    ("RES-01", "Caries molar inferior"),
    ("ORTO-MES", "Ajuste de brackets"),
    ("ENDO-01", "Dolor en premolar"),
    ("RX-PAN", "Valoración de cordales"),
];
