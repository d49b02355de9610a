//! Talking to the services without ever blocking the screen. Each call runs as a task on the
//! tokio runtime; the screen keeps a [`Pending`] and looks at it once per frame, and the task asks
//! egui for a repaint when it finishes, so nothing waits on the UI thread and nothing redraws
//! while idle. Failed calls become a [`CallError`] a person can be shown, and are logged.

use std::future::Future;
use std::time::Duration;

use clinic_common::auth::BearerToken;
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_proto::collections::v1::collections_service_client::CollectionsServiceClient;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use eframe::egui;
use tokio::sync::{mpsc, oneshot};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::config::ServiceUrls;
use crate::i18n::{Lang, T, fill};

/// A channel whose calls carry the device's bearer token.
pub type AuthChannel = InterceptedService<Channel, BearerToken>;

/// How long a unary call may take before the screen says the service is down.
const CALL_TIMEOUT: Duration = Duration::from_secs(8);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest pause between attempts to re-open a watch.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(8);

/// The services' clients and the runtime their calls run on. Cheap to clone.
#[derive(Clone)]
pub struct Backend {
    runtime: tokio::runtime::Handle,
    pub patients: PatientServiceClient<AuthChannel>,
    pub scheduling: SchedulingServiceClient<AuthChannel>,
    pub billing: BillingServiceClient<AuthChannel>,
    /// Collections, for the collections desk: `None` when the device has no URL for it.
    pub collections: Option<CollectionsServiceClient<AuthChannel>>,
    /// Scheduling again, on a channel with no call timeout: the queue watches stay open for
    /// hours. HTTP/2 keep-alive pings notice a dead connection instead.
    pub watch: SchedulingServiceClient<AuthChannel>,
}

impl Backend {
    /// Clients for `urls`, connecting lazily: the device starts, and shows that a service is
    /// down, even when none is up yet.
    pub fn new(
        runtime: tokio::runtime::Handle,
        urls: &ServiceUrls,
        token: &str,
    ) -> anyhow::Result<Backend> {
        let bearer = BearerToken::new(token.trim())?;
        let channel = |url: &str, timeout: Option<Duration>| -> anyhow::Result<AuthChannel> {
            let mut endpoint = Endpoint::from_shared(url.to_owned())?
                .connect_timeout(CONNECT_TIMEOUT)
                .http2_keep_alive_interval(Duration::from_secs(10))
                .keep_alive_timeout(Duration::from_secs(5))
                .keep_alive_while_idle(true);
            if let Some(timeout) = timeout {
                endpoint = endpoint.timeout(timeout);
            }
            // `connect_lazy` needs a runtime to spawn its connection task on.
            let _entered = runtime.enter();
            Ok(InterceptedService::new(
                endpoint.connect_lazy(),
                bearer.clone(),
            ))
        };
        Ok(Backend {
            patients: PatientServiceClient::new(channel(&urls.patients, Some(CALL_TIMEOUT))?),
            scheduling: SchedulingServiceClient::new(channel(
                &urls.scheduling,
                Some(CALL_TIMEOUT),
            )?),
            billing: BillingServiceClient::new(channel(&urls.billing, Some(CALL_TIMEOUT))?),
            collections: match urls.collections.trim() {
                "" => None,
                url => Some(CollectionsServiceClient::new(channel(
                    url,
                    Some(CALL_TIMEOUT),
                )?)),
            },
            watch: SchedulingServiceClient::new(channel(&urls.scheduling, None)?),
            runtime,
        })
    }

    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// Runs `future` off the UI thread; its result waits in the returned [`Pending`], and egui
    /// repaints when it is there.
    pub fn call<R, F>(&self, ctx: &egui::Context, future: F) -> Pending<R>
    where
        R: Send + 'static,
        F: Future<Output = Result<R, CallError>> + Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        let ctx = ctx.clone();
        self.runtime.spawn(async move {
            let result = future.await;
            let _ = sender.send(result);
            ctx.request_repaint();
        });
        Pending {
            receiver: Some(receiver),
        }
    }

    /// Keeps a server stream open for as long as the returned receiver lives: every message
    /// arrives as [`WatchEvent::Message`]; when the stream breaks, [`WatchEvent::Disconnected`]
    /// arrives and the stream is re-opened after a growing pause.
    pub fn watch<M, S, F>(
        &self,
        ctx: &egui::Context,
        open: F,
    ) -> mpsc::UnboundedReceiver<WatchEvent<M>>
    where
        M: Send + 'static,
        S: tokio_stream::Stream<Item = Result<M, Status>> + Send + Unpin + 'static,
        F: Fn() -> std::pin::Pin<Box<dyn Future<Output = Result<S, Status>> + Send>>
            + Send
            + 'static,
    {
        use tokio_stream::StreamExt;
        let (sender, receiver) = mpsc::unbounded_channel();
        let ctx = ctx.clone();
        self.runtime.spawn(async move {
            let mut delay = Duration::from_millis(500);
            loop {
                match open().await {
                    Ok(mut stream) => {
                        while let Some(item) = stream.next().await {
                            match item {
                                Ok(message) => {
                                    delay = Duration::from_millis(500);
                                    if sender.send(WatchEvent::Message(message)).is_err() {
                                        return;
                                    }
                                    ctx.request_repaint();
                                }
                                Err(status) => {
                                    tracing::warn!(code = ?status.code(), message = status.message(), "a watch broke");
                                    break;
                                }
                            }
                        }
                    }
                    Err(status) => {
                        tracing::warn!(code = ?status.code(), message = status.message(), "could not open a watch");
                    }
                }
                if sender.send(WatchEvent::Disconnected).is_err() {
                    return;
                }
                ctx.request_repaint();
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_RECONNECT_DELAY);
            }
        });
        receiver
    }
}

/// What a watch reports.
#[derive(Debug)]
pub enum WatchEvent<M> {
    Message(M),
    /// The stream broke or could not be opened; it is being re-opened.
    Disconnected,
}

/// A call's result, once it is there.
pub struct Pending<R> {
    receiver: Option<oneshot::Receiver<Result<R, CallError>>>,
}

impl<R> Pending<R> {
    /// The result if the call has finished (once); `None` while it runs.
    pub fn take(&mut self) -> Option<Result<R, CallError>> {
        let receiver = self.receiver.as_mut()?;
        match receiver.try_recv() {
            Ok(result) => {
                self.receiver = None;
                Some(result)
            }
            Err(oneshot::error::TryRecvError::Empty) => None,
            Err(oneshot::error::TryRecvError::Closed) => {
                self.receiver = None;
                Some(Err(CallError::Other("the call's task ended".into())))
            }
        }
    }
}

/// The idempotency key of a request that may be sent again: the same request retried (after a
/// timeout, or while its service was down) reuses its key, so the service records it once, while
/// a different request gets a new key. Forgotten once the service has answered for certain.
#[derive(Debug, Default)]
pub struct RetryKey {
    /// What the key was made for, and the key.
    current: Option<(String, String)>,
}

impl RetryKey {
    /// The key for the request described by `fingerprint`: the earlier one when it describes the
    /// same request, a new one otherwise.
    pub fn for_request(&mut self, fingerprint: String) -> String {
        match &self.current {
            Some((earlier, key)) if *earlier == fingerprint => key.clone(),
            _ => {
                let key = uuid::Uuid::new_v4().to_string();
                self.current = Some((fingerprint, key.clone()));
                key
            }
        }
    }

    /// Forgets the key: the request it was for is done (or abandoned).
    pub fn settle(&mut self) {
        self.current = None;
    }
}

/// Why a call failed, in the terms a screen needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The service is down, restarting or too slow: nothing was done that we know of.
    Unreachable,
    NotFound,
    /// The device's token is not accepted for this call.
    Denied,
    /// The call is not available on the service (an older version).
    Unimplemented,
    /// The service stops answering this device, or lookups of this patient, for a while (too
    /// many misses), for `retry_after` when it says.
    TooManyAttempts {
        retry_after: Option<std::time::Duration>,
    },
    /// The service refused the request as it stands now (FAILED_PRECONDITION, ALREADY_EXISTS),
    /// with its message for staff.
    Refused(String),
    /// A refusal by a rule the service names (`ErrorInfo.reason`, with its details), which the
    /// screen words in its own language when it knows the rule; `message` otherwise.
    Rule {
        reason: String,
        metadata: std::collections::HashMap<String, String>,
        message: String,
    },
    /// Fields the service found invalid, with its descriptions.
    Invalid(Vec<(String, String)>),
    Other(String),
}

impl CallError {
    pub fn from_status(status: &Status) -> CallError {
        let error = match status.code() {
            Code::Unavailable | Code::DeadlineExceeded => CallError::Unreachable,
            Code::ResourceExhausted => CallError::TooManyAttempts {
                retry_after: clinic_common::status::retry_after(status),
            },
            Code::NotFound => CallError::NotFound,
            Code::PermissionDenied | Code::Unauthenticated => CallError::Denied,
            Code::Unimplemented => CallError::Unimplemented,
            Code::FailedPrecondition => match status.get_error_details().error_info() {
                Some(info) => CallError::Rule {
                    reason: info.reason.clone(),
                    metadata: info.metadata.clone(),
                    message: status.message().to_owned(),
                },
                None => CallError::Refused(status.message().to_owned()),
            },
            Code::AlreadyExists | Code::Aborted | Code::OutOfRange => {
                CallError::Refused(status.message().to_owned())
            }
            Code::InvalidArgument => CallError::Invalid(
                status
                    .get_error_details()
                    .bad_request()
                    .map(|bad_request| {
                        bad_request
                            .field_violations
                            .iter()
                            .map(|v| (v.field.clone(), v.description.clone()))
                            .collect()
                    })
                    .unwrap_or_else(|| vec![(String::new(), status.message().to_owned())]),
            ),
            // A connection that broke mid-call surfaces with a source error whatever its code.
            _ if std::error::Error::source(status).is_some() => CallError::Unreachable,
            _ => CallError::Other(status.message().to_owned()),
        };
        // An error never passes in silence: the screen says it plainly, the log keeps the detail.
        tracing::warn!(code = ?status.code(), message = status.message(), "a call failed");
        error
    }

    /// Whether a field the service found invalid is `field` (or inside it).
    pub fn names_field(&self, field: &str) -> bool {
        match self {
            CallError::Invalid(fields) => fields
                .iter()
                .any(|(name, _)| name == field || name.ends_with(&format!(".{field}"))),
            _ => false,
        }
    }

    /// What to tell a patient: plain, translated, no internals.
    pub fn patient_message(&self, lang: Lang) -> String {
        match self {
            CallError::Unreachable => T::ServiceDown.get(lang).into(),
            CallError::NotFound => T::NotFound.get(lang).into(),
            CallError::TooManyAttempts { retry_after } => wait_message(*retry_after, lang),
            CallError::Denied | CallError::Unimplemented => T::CannotCheckIn.get(lang).into(),
            CallError::Refused(_) | CallError::Rule { .. } => T::CannotCheckIn.get(lang).into(),
            CallError::Invalid(_) => T::CheckTheFields.get(lang).into(),
            CallError::Other(_) => T::Unexpected.get(lang).into(),
        }
    }

    /// What to tell staff: translated where it is the system's fault, the service's own
    /// explanation where it refused the request.
    pub fn staff_message(&self, lang: Lang) -> String {
        match self {
            CallError::Unreachable => T::ServiceDown.get(lang).into(),
            CallError::NotFound => T::NoResults.get(lang).into(),
            CallError::TooManyAttempts { retry_after } => wait_message(*retry_after, lang),
            CallError::Denied | CallError::Unimplemented => T::NotAllowed.get(lang).into(),
            CallError::Refused(message) => message.clone(),
            CallError::Rule {
                reason,
                metadata,
                message,
            } => rule_message(reason, metadata, lang).unwrap_or_else(|| message.clone()),
            CallError::Invalid(fields) => {
                let details: Vec<String> = fields
                    .iter()
                    .map(|(field, description)| format!("{field}: {description}"))
                    .collect();
                format!("{} {}", T::CheckTheFields.get(lang), details.join("; "))
            }
            CallError::Other(_) => T::Unexpected.get(lang).into(),
        }
    }
}

/// A refusal by a rule the screens know, in `lang`: scheduling's provider busy or away.
fn rule_message(
    reason: &str,
    metadata: &std::collections::HashMap<String, String>,
    lang: Lang,
) -> Option<String> {
    let value = |key: &str| metadata.get(key).map_or("", String::as_str);
    match reason {
        "PROVIDER_BUSY" => Some(fill(
            T::ProviderBusy.get(lang),
            &[("from", value("from")), ("until", value("until"))],
        )),
        "PROVIDER_UNAVAILABLE" => {
            let provider = [("provider", value("provider"))];
            let text = match (value("why"), value("clinic_wide")) {
                ("outside_hours", _) => T::ProviderOffHours,
                ("holiday", "true") => T::ClinicHoliday,
                ("holiday", _) => T::ProviderHoliday,
                ("break", _) => T::ProviderBreak,
                ("block", "true") => T::ClinicBlocked,
                ("block", _) => T::ProviderBlocked,
                _ => return None,
            };
            Some(fill(text.get(lang), &provider))
        }
        _ => None,
    }
}

/// "Too many attempts": with how many minutes are left (rounded up) when the service said.
fn wait_message(retry_after: Option<std::time::Duration>, lang: Lang) -> String {
    match retry_after {
        Some(wait) => fill(
            T::TooManyAttemptsWait.get(lang),
            &[("minutes", &wait.as_secs().div_ceil(60).max(1).to_string())],
        ),
        None => T::TooManyAttempts.get(lang).into(),
    }
}

/// A unary call's answer, or the error it became.
pub fn answer<M>(result: Result<tonic::Response<M>, Status>) -> Result<M, CallError> {
    result
        .map(tonic::Response::into_inner)
        .map_err(|status| CallError::from_status(&status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retried_request_keeps_its_key_and_a_changed_one_gets_another() {
        let mut key = RetryKey::default();
        let first = key.for_request("charge|P1|CLEAN|1".into());
        assert_eq!(key.for_request("charge|P1|CLEAN|1".into()), first);
        let changed = key.for_request("charge|P1|CLEAN|2".into());
        assert_ne!(changed, first);
        key.settle();
        assert_ne!(key.for_request("charge|P1|CLEAN|2".into()), changed);
    }

    #[test]
    fn statuses_become_what_a_screen_needs() {
        assert_eq!(
            CallError::from_status(&Status::unavailable("down")),
            CallError::Unreachable
        );
        assert_eq!(
            CallError::from_status(&Status::resource_exhausted("slow down")),
            CallError::TooManyAttempts { retry_after: None }
        );
        let waiting = CallError::from_status(&clinic_common::status::retry_later(
            Code::ResourceExhausted,
            "too many attempts".into(),
            std::time::Duration::from_secs(9 * 60 + 5),
        ));
        assert_eq!(
            waiting.patient_message(Lang::En),
            "Too many attempts. Please ask at reception, or try again in 10 minutes."
        );
        assert_eq!(
            CallError::from_status(&Status::failed_precondition("no open drawer")),
            CallError::Refused("no open drawer".into())
        );
        // A connection that broke mid-call is the service being away, whatever its code.
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(
            CallError::from_status(&Status::from_error(Box::new(reset))),
            CallError::Unreachable
        );
    }

    #[test]
    fn field_errors_name_their_fields_and_patients_never_see_internals() {
        let mut violations = clinic_common::validation::FieldViolations::new();
        violations.add("identity.phone_last_four", "must be exactly four digits");
        let error = CallError::from_status(&clinic_common::status::invalid_argument(&violations));
        assert!(error.names_field("phone_last_four"));
        assert!(!error.names_field("date_of_birth"));
        let internal = CallError::from_status(&Status::internal("database exploded"));
        assert!(!internal.patient_message(Lang::Es).contains("database"));
        assert_eq!(
            CallError::Unreachable.patient_message(Lang::Ru),
            T::ServiceDown.get(Lang::Ru)
        );
    }
}
