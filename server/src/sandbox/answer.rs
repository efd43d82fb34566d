//! The stand-in's HTTP side: postbacks answered (with the run's faults), Express Checkout's
//! calls, and the control requests.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;

use hyper::Method;

use super::express::Notification;
use super::faults::Faults;
use super::run::Schedule;
use super::state::{Answering, Payload, Shared};
use super::webhooks::Signing;
use crate::local::{Answer, Reply, Request, Withheld};
use crate::util::{client, lock};

pub(super) fn plain(status: u16, body: &str) -> Reply {
    Reply::Answer(Answer::text(status, body))
}

/// Control endpoints: `GET /sandbox/report`, `POST /sandbox/resend?n=N`, and
/// `POST /sandbox/sign-webhook?webhook_id=ID` (the body: a webhook's), which answers the five
/// headers PayPal would send with it, signed now by the run's webhook authority, as
/// `{"headers": {name: value}}`.
pub(super) fn control(shared: &Shared, request: &Request) -> Reply {
    if let Some(query) = request.target.strip_prefix("/sandbox/sign-webhook?") {
        let id = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "webhook_id")
            .map(|(_, v)| v.into_owned());
        let (Some(id), true, Some(base)) = (id, request.method == Method::POST, shared.url.get())
        else {
            return plain(
                400,
                "POST /sandbox/sign-webhook?webhook_id=ID with the body",
            );
        };
        return match shared.sign_webhook(base, &request.body, &id, Signing::PayPal) {
            Ok(signed) => {
                let headers: serde_json::Map<String, serde_json::Value> = signed
                    .pairs
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v)))
                    .collect();
                let json = serde_json::json!({ "headers": headers }).to_string();
                Reply::Answer(Answer::new(200, json).header("content-type", "application/json"))
            }
            Err(e) => plain(500, &e),
        };
    }
    if request.target == "/sandbox/report" {
        return match serde_json::to_string(&shared.report()) {
            Ok(json) => {
                Reply::Answer(Answer::new(200, json).header("content-type", "application/json"))
            }
            Err(_) => plain(500, "the report could not be written"),
        };
    }
    let n = request
        .target
        .strip_prefix("/sandbox/resend?n=")
        .and_then(|n| n.parse::<usize>().ok());
    match n {
        Some(n) if request.method == Method::POST => {
            if shared.resend(n) {
                plain(200, "resent")
            } else {
                plain(404, "no such message")
            }
        }
        _ => plain(404, "not found"),
    }
}

/// Express Checkout: `POST /nvp` (the API) and `GET /cgi-bin/webscr?cmd=_express-checkout`
/// (the buyer's approval).
pub(super) fn express(shared: &Arc<Shared>, request: &Request) -> Reply {
    if request.method == Method::GET {
        let query = request.target.split_once('?').map_or("", |(_, q)| q);
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let token = pairs.iter().find(|(k, _)| k == "token").map(|(_, v)| v);
        return match token.and_then(|t| shared.express.approve(t)) {
            Some(back) if hyper::header::HeaderValue::from_str(&back).is_ok() => {
                Reply::Answer(Answer::new(302, "").header("location", back))
            }
            Some(_) => plain(400, "RETURNURL is not a URL"),
            None => plain(404, "no such checkout"),
        };
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
    let outcome = shared.express.call(&pairs, shared.faults);
    if let Some(notification) = outcome.notify {
        notify(shared, notification);
    }
    if outcome.lost {
        // The capture is made and notified; its answer never arrives (the client times out).
        return Reply::Withhold(Withheld::new());
    }
    plain(200, &outcome.answer)
}

/// Delivers an Express Checkout notification in the background, as PayPal does.
pub(super) fn notify(shared: &Arc<Shared>, n: Notification) {
    lock(&shared.delivered_bodies).insert(n.body.clone());
    let shared = Arc::clone(shared);
    // Every copy counted from now, so that the report never shows a notification neither sent
    // nor under way; each leaves the count when it is acknowledged or abandoned.
    shared
        .counters
        .in_flight
        .fetch_add(n.copies, Ordering::SeqCst);
    thread::spawn(move || {
        let agent = client(shared.delivery_timeout());
        for _ in 0..n.copies {
            shared.try_delivering(&agent, &n.url, Payload::Ipn(&n.body), Schedule::Compressed);
            shared.counters.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    });
}

pub(super) fn answer(shared: &Arc<Shared>, request: Request) -> Reply {
    let (method, target) = (&request.method, request.target.as_str());
    if *method == Method::GET && target == super::webhooks::cert_path() {
        // The first fetch fails (503), the second hangs (`5xx`, `drop`): a listener retries
        // them, and keeps the certificate once it has it.
        let c = &shared.counters;
        let n = c.certificate_fetches.fetch_add(1, Ordering::SeqCst) + 1;
        if n == 1 && shared.faults.server_error {
            c.faulted.fetch_add(1, Ordering::SeqCst);
            return Reply::Answer(Answer::text(503, "Service Unavailable"));
        }
        if n == 2 && shared.faults.drop {
            c.faulted.fetch_add(1, Ordering::SeqCst);
            return Reply::Withhold(Withheld::new());
        }
        return Reply::Answer(
            Answer::new(200, shared.webhooks.leaf_pem().to_owned())
                .header("content-type", "application/x-pem-file"),
        );
    }
    if *method == Method::GET && target == super::webhooks::expired_cert_path() {
        return Reply::Answer(
            Answer::new(200, shared.webhooks.expired_pem().to_owned())
                .header("content-type", "application/x-pem-file"),
        );
    }
    if *method == Method::GET && target == super::webhooks::CA_PATH {
        return Reply::Answer(
            Answer::new(200, shared.webhooks.ca_pem().to_owned())
                .header("content-type", "application/x-pem-file"),
        );
    }
    if target.starts_with("/sandbox/") {
        return control(shared, &request);
    }
    let checkout_page =
        *method == Method::GET && target.starts_with("/cgi-bin/webscr?cmd=_express-checkout&");
    if target == "/nvp" && *method == Method::POST || checkout_page {
        return express(shared, &request);
    }
    if target != "/cgi-bin/webscr" || *method != Method::POST {
        return plain(404, "not found");
    }
    // Until its answer is taken to be written, the run is not over (`wait_quiet`).
    let answering = Answering::new(shared);
    let c = &shared.counters;
    let n = c.postbacks.fetch_add(1, Ordering::SeqCst) + 1;
    let f = shared.faults;
    let every = f.every();
    // Faults take turns, so that each kind strikes during a run.
    let turn = (n / every) % 4;
    if n.is_multiple_of(every) {
        let fault = match turn {
            0 if f.server_error => Some("5xx"),
            1 if f.html => Some("html"),
            2 if f.drop => Some("drop"),
            3 if f.slow => Some("slow"),
            _ => [
                (f.server_error, "5xx"),
                (f.html, "html"),
                (f.drop, "drop"),
                (f.slow, "slow"),
            ]
            .iter()
            .find(|(on, _)| *on)
            .map(|(_, name)| *name),
        };
        match fault {
            Some("5xx") => {
                c.faulted.fetch_add(1, Ordering::SeqCst);
                return answering.answer(Answer::text(503, "Service Unavailable"));
            }
            Some("html") => {
                c.faulted.fetch_add(1, Ordering::SeqCst);
                let page = "<html><body><h1>Maintenance</h1><p>VERIFIED</p></body></html>";
                return answering.answer(
                    Answer::new(200, page).header("content-type", "text/html; charset=utf-8"),
                );
            }
            Some("drop") => {
                c.faulted.fetch_add(1, Ordering::SeqCst);
                // Never answered: the client waits for its own timeout, as with an endpoint
                // that hangs. Under way until the client gives up: the run is not quiet while a
                // listener still waits on it (it posts back again after its own timeout).
                return Reply::Withhold(Withheld::on_end(move || drop(answering)));
            }
            Some(_) => thread::sleep(Faults::SLOW),
            None => {}
        }
    }
    let known = request
        .body
        .strip_prefix(ipnkit::POSTBACK_PREFIX)
        .filter(|original| lock(&shared.delivered_bodies).contains(*original))
        .map(<[u8]>::to_vec);
    match known {
        Some(original) => {
            // Counted once the answer is taken to be written, not before: `wait_quiet` ends the
            // run (and `ipnkit sandbox` its process) as soon as every copy counts as verified,
            // and the server's stop then lets what it has taken finish writing.
            let shared = Arc::clone(shared);
            Reply::Answer(Answer::text(200, "VERIFIED").on_taken(move || {
                shared.counters.verified.fetch_add(1, Ordering::SeqCst);
                shared.count(&original, |copies| copies.verified += 1);
                drop(answering);
            }))
        }
        None => {
            c.invalid.fetch_add(1, Ordering::SeqCst);
            answering.answer(Answer::text(200, "INVALID"))
        }
    }
}
