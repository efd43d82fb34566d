//! A webhook's decision: the same [`Decision`] as an IPN's, from the verdict, the event, the
//! configuration, the expected order and the keys stored under its lookup id (either channel's).

use crate::delivery::DeliveryKey;
use crate::error::Error;
use crate::host::{Config, Decision, Refusal, Retry, decide_delivery};
use crate::policy::Expected;

use super::{WebhookEvent, WebhookVerdict};

/// What the host does with a webhook: act, skip, retry or refuse, as for an IPN
/// ([`Notification::decide`](crate::Notification::decide)).
///
/// `verdict` is [`WebhookVerifier::verify`](super::WebhookVerifier::verify)'s, by a verifier
/// made for `config`'s environment ([`Config::webhook_verifier`]); `event` is
/// [`WebhookEvent::parse`]'s result on the same bytes. An IPN and a webhook about the same
/// state of the same capture, refund or dispute have the same delivery key, so `stored` holds
/// the keys stored under the lookup id whichever channel brought them, and the second to arrive
/// is a duplicate.
///
/// - `Unexpected` → [`Decision::Retry`]; `Invalid` → [`Refusal::NotVerified`] (the verdict says
///   why); an event that could not be read → [`Refusal::Unreadable`].
/// - The rules ([`crate::policy`]'s table, read from the resource) → [`Refusal::Rules`].
/// - Else [`Decision::Act`] for a new delivery or a later state, [`Decision::Skip`] for a
///   duplicate or a stale one.
///
/// Fails only when a stored key is not one ipnkit makes (`invalid_delivery_key`).
pub fn decide<S: AsRef<str>>(
    verdict: WebhookVerdict,
    event: Result<&WebhookEvent, &Error>,
    config: &Config,
    expected: &Expected,
    stored: &[S],
) -> Result<Decision, Error> {
    match verdict {
        WebhookVerdict::Unexpected(reason) => return Ok(Decision::Retry(Retry { reason })),
        WebhookVerdict::Invalid(_) => return Ok(Decision::Refuse(Refusal::NotVerified)),
        WebhookVerdict::Verified => {}
    }
    let event = match event {
        Ok(event) => event,
        Err(error) => {
            return Ok(Decision::Refuse(Refusal::Unreadable {
                error: error.clone(),
            }));
        }
    };
    decide_delivery(
        &event.event,
        event.family(),
        DeliveryKey::of_webhook(event),
        stored,
        config.policy().check_webhook(event, expected),
    )
}
