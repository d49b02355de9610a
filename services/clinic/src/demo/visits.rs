//! The demo clinic's chairs, X-ray and kinds of visit, so that reception can book a new
//! appointment at a free time: each kind has its length, its price-list code and what it holds
//! (a chair, or the X-ray).

use anyhow::Context;
use clinic_proto::scheduling::v1 as scheduling;

use super::Seeder;

/// The treatment chairs and the equipment.
const RESOURCES: &[(&str, scheduling::ResourceKind)] = &[
    ("Sillón 1", scheduling::ResourceKind::Chair),
    ("Sillón 2", scheduling::ResourceKind::Chair),
    ("Sillón 3", scheduling::ResourceKind::Chair),
    ("Rayos X panorámico", scheduling::ResourceKind::Equipment),
];

/// Kinds of visit: name, minutes, price-list code, and whether it takes the X-ray rather than a
/// chair.
const KINDS: &[(&str, i32, &str, bool)] = &[
    ("Consulta de valoración", 30, "CONS-01", false),
    ("Limpieza dental", 45, "LIMP-01", false),
    ("Resina", 60, "RES-01", false),
    ("Extracción simple", 45, "EXT-01", false),
    ("Endodoncia", 90, "ENDO-01", false),
    ("Radiografía panorámica", 15, "RX-PAN", true),
    ("Blanqueamiento", 60, "BLAN-01", false),
    ("Ortodoncia, control mensual", 30, "ORTO-MES", false),
];

impl Seeder<'_> {
    /// Adds the chairs, the X-ray and the kinds of visit; returns how many kinds there are.
    pub(super) async fn seed_visit_kinds(&mut self) -> anyhow::Result<usize> {
        for (index, (name, kind)) in RESOURCES.iter().enumerate() {
            self.scheduling
                .create_resource(scheduling::CreateResourceRequest {
                    resource: Some(scheduling::Resource {
                        display_name: (*name).into(),
                        kind: *kind as i32,
                        in_service: true,
                        ..Default::default()
                    }),
                    request_id: format!("demo-resource-{index}"),
                })
                .await
                .with_context(|| format!("failed to add the demo's {name}"))?;
        }
        for (index, (name, minutes, code, xray)) in KINDS.iter().enumerate() {
            let kind = self
                .scheduling
                .create_appointment_type(scheduling::CreateAppointmentTypeRequest {
                    appointment_type: Some(scheduling::AppointmentType {
                        display_name: (*name).into(),
                        duration_minutes: *minutes,
                        price_code: (*code).into(),
                        needs_xray: *xray,
                        ..Default::default()
                    }),
                    request_id: format!("demo-visit-kind-{index}"),
                })
                .await
                .with_context(|| format!("failed to add the demo's {name}"))?
                .into_inner();
            let needs = if *xray {
                scheduling::ResourceKind::Equipment
            } else {
                scheduling::ResourceKind::Chair
            };
            self.scheduling
                .set_appointment_type_resources(scheduling::SetAppointmentTypeResourcesRequest {
                    appointment_type_resources: Some(scheduling::AppointmentTypeResources {
                        appointment_type_id: kind.appointment_type_id,
                        requirements: vec![scheduling::ResourceRequirement {
                            kind: needs as i32,
                            resource_id: String::new(),
                        }],
                    }),
                })
                .await
                .with_context(|| format!("failed to say what {name} needs"))?;
        }
        Ok(KINDS.len())
    }
}
