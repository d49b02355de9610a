//! The demo clinic's patients, with Spanish, English, Chinese and Russian names.

use anyhow::Context;
use chrono::{NaiveDate, TimeDelta};
use clinic_proto::date_to_proto;
use clinic_proto::patients::v1 as patients;

use super::{Lcg, Seeder, ascii_handle};

impl Seeder<'_> {
    pub(super) async fn seed_patients(&mut self, today: NaiveDate) -> anyhow::Result<Vec<String>> {
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
