//! The online alternative: PayPal's `verify-webhook-signature` API, for hosts that prefer
//! asking PayPal to verifying offline. The request's body carries the event's raw bytes spliced
//! in unchanged (never parsed and re-serialised: PayPal compares them with what it signed), and
//! the answer is read strictly.

use crate::verify::{Environment, Unexpected};

use super::{Transmission, WebhookEvent, WebhookInvalid, WebhookVerdict, WebhookVerifier};

/// The request for PayPal's `POST /v1/notifications/verify-webhook-signature`: the host sends
/// it with `Content-Type: application/json` and its OAuth bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineRequest {
    /// The API's URL in the verifier's environment.
    pub url: &'static str,
    /// The JSON body, the event's bytes as received inside it.
    pub body: Vec<u8>,
}

/// The API's URL per environment.
fn url(environment: Environment) -> &'static str {
    match environment {
        Environment::Live => "https://api-m.paypal.com/v1/notifications/verify-webhook-signature",
        Environment::Sandbox => {
            "https://api-m.sandbox.paypal.com/v1/notifications/verify-webhook-signature"
        }
    }
}

impl WebhookVerifier {
    /// The request that asks PayPal to verify `transmission`. `event` is the body read by
    /// [`WebhookEvent::parse`] (proof that the bytes spliced in are one JSON object); its bytes
    /// are the transmission's. An algorithm other than `SHA256withRSA` is refused here, as
    /// offline.
    pub fn online_request(
        &self,
        transmission: &Transmission<'_>,
        event: &WebhookEvent,
    ) -> Result<OnlineRequest, WebhookInvalid> {
        // The event is only the proof that the body is JSON: the bytes sent are the body's.
        let _: &WebhookEvent = event;
        if !transmission.is_sha256_with_rsa() {
            return Err(WebhookInvalid::UnsupportedAlgorithm);
        }
        // The header values are visible ASCII; JSON's string form escapes `"` and `\` in them
        // (a `Value`'s text cannot fail to be written).
        let quoted = |text: &str| serde_json::Value::from(text).to_string();
        let head = format!(
            r#"{{"auth_algo":{},"cert_url":{},"transmission_id":{},"transmission_sig":{},"transmission_time":{},"webhook_id":{},"webhook_event":"#,
            quoted(super::transmission::SHA256_WITH_RSA),
            quoted(transmission.cert_url()),
            quoted(transmission.id()),
            quoted(transmission.signature_text()),
            quoted(&transmission.time().text),
            quoted(self.webhook_id()),
        );
        let mut body = Vec::with_capacity(head.len() + transmission.body().len() + 1);
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(transmission.body());
        body.push(b'}');
        Ok(OnlineRequest {
            url: url(self.environment()),
            body,
        })
    }

    /// Reads PayPal's answer to an [`OnlineRequest`]: status 200 and a JSON object whose
    /// `verification_status` is exactly `SUCCESS` is [`Verified`](WebhookVerdict::Verified),
    /// exactly `FAILURE` is [`Invalid`](WebhookVerdict::Invalid) (`online_failure`); anything
    /// else (another status, an error page, another word, a key given twice) is
    /// [`Unexpected`](WebhookVerdict::Unexpected): ask again later.
    pub fn online_verdict(&self, status: u16, body: &[u8]) -> WebhookVerdict {
        if status != 200 {
            return WebhookVerdict::Unexpected(Unexpected::HttpStatus(status));
        }
        if body.trim_ascii().is_empty() {
            return WebhookVerdict::Unexpected(Unexpected::EmptyBody);
        }
        let answer = super::json::parse_object(body).ok();
        match answer.as_ref().and_then(|a| a.get("verification_status")) {
            Some(serde_json::Value::String(s)) if s == "SUCCESS" => WebhookVerdict::Verified,
            Some(serde_json::Value::String(s)) if s == "FAILURE" => {
                WebhookVerdict::Invalid(WebhookInvalid::OnlineFailure)
            }
            _ => WebhookVerdict::Unexpected(Unexpected::UnrecognizedBody),
        }
    }
}
