//! Card payments the terminal approved, kept on disk until billing has recorded them.
//!
//! The patient's card has been charged once the terminal approves, so the approval must outlive
//! a billing outage, a crash and a restart of this device. Each approved payment is written to
//! its own file (written to a temporary name, flushed to disk, renamed, directory flushed) before
//! billing is called, and removed only once billing has answered with the payment. Billing is
//! always called with the payment's own idempotency key, so posting it again after a lost answer
//! or from two places at once records it once. A payment billing refuses outright is moved to
//! `refused/` for staff to look at, never deleted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use clinic_proto::billing::v1 as billing;
use clinic_proto::common::v1::Money;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};

use crate::backend::{Backend, CallError, answer};

/// How often waiting payments are offered to billing again.
const RETRY_EVERY: Duration = Duration::from_secs(5);

/// Credit or debit, as the terminal reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CardKind {
    Credit,
    Debit,
}

/// What the patient proved at the kiosk (billing checks it for the kiosk role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityEvidence {
    pub date_of_birth: NaiveDate,
    pub phone_last_four: String,
}

/// An approved card payment, as the terminal reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedCardPayment {
    /// The idempotency key billing records the payment under; chosen once, at approval.
    pub request_id: String,
    pub patient_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub authorization_code: String,
    pub last_four: String,
    pub card_kind: CardKind,
    /// The counter terminal or kiosk that took it.
    pub terminal_id: String,
    pub approved_at: DateTime<Utc>,
    /// Set when a patient paid at the kiosk.
    #[serde(default)]
    pub identity: Option<IdentityEvidence>,
    /// The other parts of a payment split across methods (the card is one part of it): they
    /// are recorded together, in one payment, or not at all.
    #[serde(default)]
    pub other_parts: Vec<OtherPart>,
}

/// A part of a split payment paid by something other than the card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum OtherPart {
    Cash {
        amount_minor: i64,
        tendered_minor: i64,
    },
    Transfer {
        amount_minor: i64,
        reference: String,
    },
    Advance {
        amount_minor: i64,
    },
}

impl OtherPart {
    fn request(&self, currency: &str) -> billing::PaymentPartRequest {
        use billing::payment_part_request::Method;
        let money = |minor_units: i64| Money {
            minor_units,
            currency_code: currency.to_owned(),
        };
        let (amount, method) = match self {
            OtherPart::Cash {
                amount_minor,
                tendered_minor,
            } => (
                *amount_minor,
                Method::Cash(billing::CashPayment {
                    tendered: Some(money(*tendered_minor)),
                }),
            ),
            OtherPart::Transfer {
                amount_minor,
                reference,
            } => (
                *amount_minor,
                Method::BankTransfer(billing::BankTransferPayment {
                    reference: reference.clone(),
                }),
            ),
            OtherPart::Advance { amount_minor } => {
                (*amount_minor, Method::Advance(billing::AdvancePayment {}))
            }
        };
        billing::PaymentPartRequest {
            amount: Some(money(amount)),
            method: Some(method),
        }
    }
}

impl ApprovedCardPayment {
    pub fn request(&self) -> billing::PostPaymentRequest {
        let card = billing::CardPayment {
            authorization_code: self.authorization_code.clone(),
            last_four: self.last_four.clone(),
            card_type: match self.card_kind {
                CardKind::Credit => billing::CardType::Credit,
                CardKind::Debit => billing::CardType::Debit,
            } as i32,
        };
        let amount = Money {
            minor_units: self.amount_minor,
            currency_code: self.currency.clone(),
        };
        // By card alone: amount and method. Split: every part, the card's first.
        let (amount, method, parts) = if self.other_parts.is_empty() {
            (
                Some(amount),
                Some(billing::post_payment_request::Method::Card(card)),
                Vec::new(),
            )
        } else {
            let mut parts = vec![billing::PaymentPartRequest {
                amount: Some(amount),
                method: Some(billing::payment_part_request::Method::Card(card)),
            }];
            parts.extend(
                self.other_parts
                    .iter()
                    .map(|part| part.request(&self.currency)),
            );
            (None, None, parts)
        };
        billing::PostPaymentRequest {
            patient_id: self.patient_id.clone(),
            amount,
            method,
            parts,
            allocations: Vec::new(),
            allocation_mode: 0,
            request_id: self.request_id.clone(),
            terminal_id: self.terminal_id.clone(),
            identity: self
                .identity
                .as_ref()
                .map(|identity| billing::IdentityEvidence {
                    date_of_birth: Some(clinic_proto::date_to_proto(identity.date_of_birth)),
                    phone_last_four: identity.phone_last_four.clone(),
                }),
        }
    }
}

/// The directory of payments waiting for billing.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn open(dir: &Path) -> std::io::Result<Outbox> {
        std::fs::create_dir_all(dir.join("refused"))?;
        Ok(Outbox {
            dir: dir.to_owned(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, request_id: &str) -> PathBuf {
        // Request ids are ours (UUIDs), but never let one name a path outside the directory.
        let safe: String = request_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}.json"))
    }

    /// Writes `payment` durably: when this returns, a crash cannot lose it.
    pub fn save(&self, payment: &ApprovedCardPayment) -> std::io::Result<()> {
        use std::io::Write;
        let path = self.path_of(&payment.request_id);
        let temporary = path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(&serde_json::to_vec_pretty(payment).map_err(std::io::Error::other)?)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)?;
        std::fs::File::open(&self.dir)?.sync_all()
    }

    /// Forgets a payment billing has recorded. Gone already is fine: two posters raced.
    pub fn remove(&self, request_id: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.path_of(request_id)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    /// Moves a payment billing refused into `refused/`, with billing's reason beside it.
    pub fn refuse(&self, request_id: &str, reason: &str) -> std::io::Result<()> {
        let from = self.path_of(request_id);
        let Some(name) = from.file_name() else {
            return Ok(());
        };
        let to = self.dir.join("refused").join(name);
        std::fs::write(to.with_extension("reason.txt"), reason)?;
        match std::fs::rename(&from, &to) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    /// The payments still waiting, oldest approval first.
    pub fn pending(&self) -> std::io::Result<Vec<ApprovedCardPayment>> {
        let mut payments = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path.extension().is_none_or(|extension| extension != "json") {
                continue;
            }
            let bytes = std::fs::read(&path)?;
            match serde_json::from_slice::<ApprovedCardPayment>(&bytes) {
                Ok(payment) => payments.push(payment),
                Err(error) => {
                    tracing::error!(path = %path.display(), %error, "an outbox file does not parse");
                }
            }
        }
        payments.sort_by_key(|payment| payment.approved_at);
        Ok(payments)
    }

    pub fn refused_count(&self) -> usize {
        std::fs::read_dir(self.dir.join("refused"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|entry| entry.path().extension().is_some_and(|e| e == "json"))
                    .count()
            })
            .unwrap_or(0)
    }
}

/// What became of one attempt to record an approved payment.
#[derive(Debug, Clone)]
pub enum Posting {
    /// Billing recorded it (now or earlier, under the same key).
    Recorded(Box<billing::Payment>),
    /// Billing could not be reached; the payment waits in the outbox and is posted later.
    Saved,
    /// Billing refused it; it is kept under `refused/`.
    Refused(CallError),
}

/// Saves `payment`, then offers it to billing once. Runs on the runtime, never the UI thread.
pub async fn save_and_post(
    backend: Backend,
    outbox: Outbox,
    payment: ApprovedCardPayment,
) -> Result<Posting, CallError> {
    let saving = outbox.clone();
    let saved_payment = payment.clone();
    tokio::task::spawn_blocking(move || saving.save(&saved_payment))
        .await
        .map_err(|error| CallError::Other(error.to_string()))?
        .map_err(|error| {
            tracing::error!(%error, "could not save an approved card payment");
            CallError::Other(error.to_string())
        })?;
    Ok(post_saved(&backend, &outbox, &payment).await)
}

async fn post_saved(backend: &Backend, outbox: &Outbox, payment: &ApprovedCardPayment) -> Posting {
    let mut billing = backend.billing.clone();
    match answer(billing.post_payment(payment.request()).await) {
        Ok(recorded) => {
            if let Err(error) = outbox.remove(&payment.request_id) {
                tracing::error!(%error, "could not clear a recorded payment from the outbox");
            }
            tracing::info!(receipt = %recorded.receipt_number, "approved card payment recorded");
            Posting::Recorded(Box::new(recorded))
        }
        // Down, or not (yet) letting this device post: keep it and try again later.
        Err(error @ (CallError::Unreachable | CallError::Denied | CallError::Unimplemented)) => {
            tracing::warn!(?error, "approved card payment kept for later");
            Posting::Saved
        }
        Err(error) => {
            tracing::error!(?error, request_id = %payment.request_id, "billing refused an approved card payment");
            if let Err(io) = outbox.refuse(&payment.request_id, &format!("{error:?}")) {
                tracing::error!(error = %io, "could not move a refused payment aside");
            }
            Posting::Refused(error)
        }
    }
}

/// The outbox as the screens show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxState {
    pub waiting: usize,
    pub refused: usize,
    /// Receipt numbers recorded by the background poster since start.
    pub recorded_later: Vec<String>,
}

/// Offers every waiting payment to billing every few seconds, and at once when `nudge` is
/// notified, for as long as the process lives.
pub fn start_poster(
    backend: Backend,
    outbox: Outbox,
    ctx: eframe::egui::Context,
) -> (watch::Receiver<OutboxState>, std::sync::Arc<Notify>) {
    let nudge = std::sync::Arc::new(Notify::new());
    let (sender, receiver) = watch::channel(OutboxState::default());
    let woken = nudge.clone();
    backend.runtime().clone().spawn(async move {
        let mut recorded_later = Vec::new();
        loop {
            let pending = outbox.pending().unwrap_or_else(|error| {
                tracing::error!(%error, "could not read the outbox");
                Vec::new()
            });
            for payment in &pending {
                match post_saved(&backend, &outbox, payment).await {
                    Posting::Recorded(recorded) => recorded_later.push(recorded.receipt_number),
                    // Billing is still away: the rest would fail the same way.
                    Posting::Saved => break,
                    Posting::Refused(_) => {}
                }
            }
            let state = OutboxState {
                waiting: outbox.pending().map(|p| p.len()).unwrap_or(0),
                refused: outbox.refused_count(),
                recorded_later: recorded_later.clone(),
            };
            let changed = sender.send_if_modified(|current| {
                let changed = *current != state;
                *current = state;
                changed
            });
            // Only a change is worth a frame: an idle screen stays idle.
            if changed {
                ctx.request_repaint();
            }
            if sender.is_closed() {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(RETRY_EVERY) => {}
                _ = woken.notified() => {}
            }
        }
    });
    (receiver, nudge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment(request_id: &str, minute: u32) -> ApprovedCardPayment {
        ApprovedCardPayment {
            request_id: request_id.into(),
            patient_id: "p".into(),
            amount_minor: 50_000,
            currency: "MXN".into(),
            authorization_code: "A12345".into(),
            last_four: "4242".into(),
            card_kind: CardKind::Debit,
            terminal_id: "counter-1".into(),
            approved_at: format!("2026-11-22T16:{minute:02}:00Z")
                .parse()
                .expect("valid"),
            identity: None,
            other_parts: Vec::new(),
        }
    }

    #[test]
    fn a_split_payment_is_posted_as_one_request_with_the_card_first() {
        let mut split = payment("s", 1);
        split.amount_minor = 30_000;
        split.other_parts = vec![OtherPart::Cash {
            amount_minor: 20_000,
            tendered_minor: 20_000,
        }];
        let request = split.request();
        assert!(request.amount.is_none() && request.method.is_none());
        assert_eq!(request.parts.len(), 2);
        assert!(matches!(
            request.parts[0].method,
            Some(billing::payment_part_request::Method::Card(_))
        ));
        assert_eq!(
            request.parts[1].amount.as_ref().map(|m| m.minor_units),
            Some(20_000)
        );
        assert!(payment("single", 1).request().parts.is_empty());
    }

    #[test]
    fn saved_payments_survive_until_removed_and_refusals_are_kept_aside() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let outbox = Outbox::open(dir.path()).expect("opens");
        outbox.save(&payment("b", 2)).expect("saved");
        outbox.save(&payment("a", 1)).expect("saved");
        outbox
            .save(&payment("a", 1))
            .expect("saving again is harmless");

        let reopened = Outbox::open(dir.path()).expect("opens again");
        let pending = reopened.pending().expect("readable");
        assert_eq!(
            pending
                .iter()
                .map(|p| p.request_id.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );

        reopened.remove("a").expect("removed");
        reopened.remove("a").expect("removing twice is harmless");
        reopened.refuse("b", "invalid").expect("moved aside");
        assert!(reopened.pending().expect("readable").is_empty());
        assert_eq!(reopened.refused_count(), 1);
    }

    #[test]
    fn request_ids_cannot_escape_the_directory() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let outbox = Outbox::open(dir.path()).expect("opens");
        outbox
            .save(&payment("../../etc/x", 1))
            .expect("saved inside");
        assert_eq!(outbox.pending().expect("readable").len(), 1);
    }
}
