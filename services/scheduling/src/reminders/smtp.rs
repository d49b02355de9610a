//! Email over SMTP with `lettre`: a plain relay on the clinic's network (no TLS, no login).
//! The body is sent as 8-bit UTF-8 text wrapped into short lines, so it reads as written.

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Sender;
use crate::config::SmtpSettings;
use crate::domain::reminders::OutboxMessage;

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: String,
}

impl SmtpSender {
    pub fn new(settings: &SmtpSettings) -> SmtpSender {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        SmtpSender {
            transport,
            from: settings.from.clone(),
        }
    }
}

#[tonic::async_trait]
impl Sender for SmtpSender {
    async fn send(&self, message: &OutboxMessage) -> Result<(), String> {
        let from: Mailbox = self
            .from
            .parse()
            .map_err(|error| format!("the sender address is not valid: {error}"))?;
        let to: Mailbox = message
            .recipient
            .parse()
            .map_err(|error| format!("the recipient address is not valid: {error}"))?;
        // Readable as sent when it wraps into short lines; otherwise (long runs of Chinese
        // without spaces) lettre picks an encoding.
        let body = Body::new_with_encoding(wrap(&message.body), ContentTransferEncoding::EightBit)
            .unwrap_or_else(|_| Body::new(message.body.clone()));
        let email = Message::builder()
            .from(from)
            .to(to)
            .subject(message.subject.clone())
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(body),
            )
            .map_err(|error| format!("the email could not be built: {error}"))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|error| format!("smtp: {error}"))
    }
}

/// The most bytes on one line of a wrapped body (mail lines stay under 78).
const LINE_BYTES: usize = 72;

/// `text` wrapped at spaces into lines of at most [`LINE_BYTES`] where the words allow.
fn wrap(text: &str) -> String {
    let mut wrapped = String::with_capacity(text.len() + 8);
    let mut line_len = 0;
    for word in text.split_whitespace() {
        if line_len > 0 && line_len + 1 + word.len() > LINE_BYTES {
            wrapped.push_str("\r\n");
            line_len = 0;
        } else if line_len > 0 {
            wrapped.push(' ');
            line_len += 1;
        }
        wrapped.push_str(word);
        line_len += word.len();
    }
    wrapped.push_str("\r\n");
    wrapped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_wrap_at_spaces_into_short_lines() {
        let text = "This is a reminder of your appointment at Smile Dental on 23/11/2026 at \
                    12:00 with Dra. Ana Ruiz. Kiosk code: K7P2QX. Reply 1 or YES to confirm.";
        let wrapped = wrap(text);
        assert!(wrapped.lines().all(|line| line.len() <= LINE_BYTES));
        assert_eq!(
            wrapped.split_whitespace().collect::<Vec<_>>(),
            text.split_whitespace().collect::<Vec<_>>()
        );
    }
}
