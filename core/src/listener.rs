//! The listener flow, in order. Every step is the host's (ipnkit does no I/O); the order is what
//! keeps money and messages from being lost.
//!
//! 1. **Store the raw body durably**, byte for byte, before anything else (a table row, a file).
//!    Everything after this can be redone from it.
//! 2. **Answer PayPal 200 at once**, with an empty body. PayPal resends a message until it gets
//!    a 2xx, for days; a slow or failing listener only multiplies deliveries. Do the rest after
//!    answering (a queue, a background task), never before.
//! 3. **Post back**: [`Body::parse`](crate::Body::parse) the stored bytes, and send
//!    [`Environment::verification_request`](crate::Environment::verification_request) for the
//!    environment *you* configured — never one chosen from the message's `test_ipn`.
//! 4. **Read the verdict** with [`Verdict::from_response`](crate::Verdict::from_response):
//!    - `Verified`: go on.
//!    - `Invalid`: PayPal did not send these bytes (an attack, or a body your stack altered).
//!      Keep the body, log the refusal, act on nothing.
//!    - `Unexpected` (5xx, timeout, an HTML page, `VERIFIED` inside other text): **not an
//!      answer**. Keep the body marked unverified and post back again later with backoff
//!      (minutes, then hours); PayPal's own resends give you days. Never treat it as verified,
//!      never drop the message.
//! 5. **Check**: [`Message::from_fields`](crate::Message::from_fields), then
//!    [`Verified::from_response`](crate::Verified::from_response) with PayPal's status and
//!    answer, then [`Policy::check`](crate::Policy::check) on the verified message with
//!    what you expect from your order ([`Expected`](crate::Expected)). Any violation: refuse,
//!    and log the [`Report`](crate::Report) — it holds codes and variable names, no personal
//!    data.
//! 6. **Deduplicate**: [`classify`](crate::classify) the delivery against the keys you stored for
//!    its [`lookup_id`](crate::DeliveryKey::lookup_id). `Duplicate` or `Stale`: stop. `New` or
//!    `Transition`: go on.
//! 7. **Act** on the [`Event`](crate::Event) (ship, refund, suspend…) and store the
//!    [`DeliveryKey`](crate::DeliveryKey) in the same database transaction as the action.
//!
//! ```
//! use ipnkit::{
//!     Body, Currency, Delivery, DeliveryKey, Environment, Event, Expected, Message, Policy,
//!     Verdict, Verified, classify,
//! };
//!
//! // What the host configured once.
//! let policy = Policy::new(Environment::Sandbox).receiver_email("shop@example.net");
//!
//! // A stand-in for the host's HTTP client (reqwest, fetch, curl…): PayPal's sandbox answers.
//! fn post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
//!     assert_eq!(url, "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr");
//!     assert!(headers.contains(&("Content-Type", "application/x-www-form-urlencoded")));
//!     assert!(body.starts_with(b"cmd=_notify-validate&"));
//!     (200, b"VERIFIED".to_vec())
//! }
//!
//! // 1–2: the raw body, stored, and 200 answered.
//! let raw = b"txn_type=web_accept&txn_id=4RT58091KX0312345&payment_status=Completed\
//!     &mc_gross=24.90&mc_currency=EUR&receiver_email=shop%40example.net&invoice=1042&test_ipn=1";
//! let mut stored_keys: Vec<DeliveryKey> = Vec::new();
//!
//! // 3–4: post back and read the verdict.
//! let body = Body::parse(raw)?;
//! let request = policy.environment().verification_request(&body);
//! let (status, response) = post(&request.url, &request.headers, &request.body);
//! let verdict = Verdict::from_response(status, &response);
//! if verdict.is_unexpected() {
//!     return Ok(()); // keep the body; post back again later
//! }
//!
//! // 5: check against the order the message names (here: invoice 1042, EUR 24.90).
//! let message = Message::from_fields(body.decode()?)?;
//! // Only PayPal's answer, as it came, makes a message verified.
//! let Ok(verified) = Verified::from_response(message, status, &response) else {
//!     return Ok(()); // INVALID: log it, act on nothing
//! };
//! let expected = Expected::money("24.90".parse().unwrap(), Currency::parse("EUR").unwrap());
//! let report = policy.check(&verified, &expected);
//! assert!(report.is_accept(), "{report}");
//!
//! // 6–7: deduplicate, act, store the key.
//! let message = verified.message();
//! let delivery = classify(message, &stored_keys);
//! if delivery.is_actionable() {
//!     // New, or a transition to a later state: act.
//!     assert_eq!(*message.event(), Event::PaymentCompleted); // ship order 1042
//!     stored_keys.push(DeliveryKey::of(message));
//! } // Duplicate, or Stale (a later state was acted on already): nothing to do.
//! // PayPal's retry of the same message is a duplicate.
//! assert_eq!(classify(message, &stored_keys), Delivery::Duplicate);
//! # Ok::<(), ipnkit::Error>(())
//! ```
