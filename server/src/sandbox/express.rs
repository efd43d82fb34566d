//! Express Checkout with authorization and capture, as a shop's checkout goes through it: the
//! part of PayPal's NVP API (`POST /nvp`) and of its checkout page
//! (`GET /cgi-bin/webscr?cmd=_express-checkout&token=…`) that a shop calls, and the
//! notifications PayPal sends about what happened.
//!
//! | call | what the stand-in does |
//! |---|---|
//! | `SetExpressCheckout` | records the checkout (`PAYMENTREQUEST_0_AMT`, `_CURRENCYCODE`, `_PAYMENTACTION` `Sale` or `Authorization`, `_INVNUM`, `_CUSTOM`, `_NOTIFYURL`, `RETURNURL`) and answers its `TOKEN` |
//! | the checkout page | the buyer approves at once: `302` to `RETURNURL` with `token` and `PayerID` |
//! | `DoExpressCheckoutPayment` | `TOKEN` and `PAYERID` of an approved checkout: a `Sale` completes (notification `payment_status=Completed`), an `Authorization` is opened (`PAYMENTINFO_0_TRANSACTIONID` is the authorization id; notification `Pending`/`authorization`) |
//! | `DoCapture` | `AUTHORIZATIONID`, `AMT` (at most the authorized amount), `CURRENCYCODE`, `COMPLETETYPE=Complete`: captures, answers the capture's `TRANSACTIONID`, and notifies `payment_status=Completed` with the capture's `txn_id` and the `auth_id` |
//!
//! Notifications go to the checkout's `NOTIFYURL` (`PAYMENTREQUEST_0_NOTIFYURL` of either call)
//! with `test_ipn=1`, retried like any other delivery, and verify like them. The merchant is
//! named by the API user name, PayPal's way: `shop_api1.example.net` is `shop@example.net`.
//!
//! Faults: with `lost`, every n-th `DoCapture` captures and notifies, but never answers (the
//! shop's request times out), as when the answer is lost on its way; with
//! `duplicate`, every n-th notification is delivered twice.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;

use crate::util::lock;
use std::sync::atomic::{AtomicU64, Ordering};

use rust_decimal::Decimal;

use super::faults::Faults;

/// The stand-in's state: checkouts by token, authorizations by id.
#[derive(Default)]
pub(crate) struct Express {
    seed: u64,
    ids: AtomicU64,
    captures: AtomicU64,
    notifications: AtomicU64,
    checkouts: Mutex<HashMap<String, Checkout>>,
    authorizations: Mutex<HashMap<String, Authorization>>,
}

/// What the shop asked for in `SetExpressCheckout`.
struct Checkout {
    merchant: String,
    payment: Payment,
    action: Action,
    return_url: String,
    payer_id: Option<String>,
    completed: bool,
}

/// An open or captured authorization.
struct Authorization {
    merchant: String,
    payment: Payment,
    payer_id: String,
    captured: bool,
}

/// What a payment is for, as the shop described it.
#[derive(Clone)]
struct Payment {
    amount: Decimal,
    currency: String,
    invoice: Option<String>,
    custom: Option<String>,
    notify_url: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Sale,
    Authorization,
}

/// A notification to deliver: where, the body, how many times.
pub(crate) struct Notification {
    /// The shop's `NOTIFYURL`.
    pub(crate) url: String,
    /// The raw IPN body.
    pub(crate) body: Vec<u8>,
    /// 1, or 2 when the `duplicate` fault strikes.
    pub(crate) copies: u64,
}

/// The stand-in's answer to one API call.
pub(crate) struct Outcome {
    /// The NVP answer (`ACK=Success&…` or `ACK=Failure&L_ERRORCODE0=…`).
    pub(crate) answer: String,
    /// The `lost` fault: close the connection instead of answering.
    pub(crate) lost: bool,
    /// A notification about what the call did.
    pub(crate) notify: Option<Notification>,
}

/// An API failure: PayPal's error code, short and long message.
struct Failure(u32, &'static str, String);

impl Failure {
    fn invalid(parameter: &str) -> Failure {
        Failure(
            10004,
            "Transaction refused because of an invalid argument",
            format!("{parameter} is missing or invalid"),
        )
    }
}

/// The NVP parameters of one call.
struct Params<'a>(&'a [(String, String)]);

impl Params<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn required(&self, name: &str) -> Result<&str, Failure> {
        self.get(name).ok_or_else(|| Failure::invalid(name))
    }

    /// An amount as PayPal takes it: digits, a point and at most two decimals; positive.
    fn amount(&self, name: &str) -> Result<Decimal, Failure> {
        let text = self.required(name)?;
        let (units, cents) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let shaped = (1..=9).contains(&units.len())
            && digits(units)
            && cents.len() <= 2
            && digits(cents)
            && cents.is_empty() != text.contains('.');
        match Decimal::from_str(text) {
            Ok(d) if shaped && d > Decimal::ZERO => Ok(d),
            _ => Err(Failure::invalid(name)),
        }
    }

    fn currency(&self, name: &str) -> Result<String, Failure> {
        let text = self.get(name).unwrap_or("USD");
        if text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(text.to_owned())
        } else {
            Err(Failure::invalid(name))
        }
    }
}

impl Express {
    /// A stand-in whose ids differ from one run to the next.
    pub(crate) fn new() -> Express {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| {
                d.as_secs()
                    .wrapping_mul(1_000_000_007)
                    .wrapping_add(u64::from(d.subsec_nanos()))
            });
        Express {
            seed,
            ..Express::default()
        }
    }

    /// A fresh id of `len` characters (digits and capital letters), as PayPal's look.
    fn id(&self, len: usize) -> String {
        let n = self.ids.fetch_add(1, Ordering::SeqCst);
        let mut state = self
            .seed
            .wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut id = String::with_capacity(len);
        while id.len() < len {
            // splitmix64: well spread, so that ids do not look sequential.
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            for _ in 0..8 {
                if id.len() == len {
                    break;
                }
                let digit = u32::try_from(z % 36).unwrap_or(0);
                id.extend(char::from_digit(digit, 36).map(|c| c.to_ascii_uppercase()));
                z /= 36;
            }
        }
        id
    }

    /// Answers one NVP call (`METHOD=…`).
    pub(crate) fn call(&self, pairs: &[(String, String)], faults: Faults) -> Outcome {
        let params = Params(pairs);
        let done = |result: CallResult| (result, false);
        let (result, lost) = match params.get("METHOD") {
            None => done(Err(Failure(
                81002,
                "Unspecified Method",
                "METHOD is missing".into(),
            ))),
            Some(_) if merchant(&params).is_none() => done(Err(Failure(
                10002,
                "Security error",
                "Security header is not valid: USER must be an API user name".into(),
            ))),
            Some("SetExpressCheckout") => done(self.set(&params)),
            Some("DoExpressCheckoutPayment") => done(self.pay(&params)),
            Some("DoCapture") => {
                let n = self.captures.fetch_add(1, Ordering::SeqCst) + 1;
                let result = self.capture(&params);
                let lost = faults.lost && result.is_ok() && n.is_multiple_of(faults.every());
                (result, lost)
            }
            Some(_) => done(Err(Failure(
                81002,
                "Unspecified Method",
                "Method Specified is not Supported".into(),
            ))),
        };
        match result {
            Ok((fields, notice)) => {
                let notify = notice.and_then(|notice| {
                    let url = notice.payment.notify_url.clone()?;
                    let n = self.notifications.fetch_add(1, Ordering::SeqCst) + 1;
                    let copies = if faults.duplicate && n.is_multiple_of(faults.every()) {
                        2
                    } else {
                        1
                    };
                    Some(Notification {
                        url,
                        body: self.notification(&notice),
                        copies,
                    })
                });
                let mut answer = vec![("ACK", "Success".to_owned())];
                answer.extend(fields);
                Outcome {
                    answer: encode(&answer),
                    lost,
                    notify,
                }
            }
            Err(Failure(code, short, long)) => Outcome {
                answer: encode(&[
                    ("ACK", "Failure".to_owned()),
                    ("L_ERRORCODE0", code.to_string()),
                    ("L_SHORTMESSAGE0", short.to_owned()),
                    ("L_LONGMESSAGE0", long),
                    ("L_SEVERITYCODE0", "Error".to_owned()),
                ]),
                lost: false,
                notify: None,
            },
        }
    }

    fn set(&self, p: &Params<'_>) -> CallResult {
        let action = match p.get("PAYMENTREQUEST_0_PAYMENTACTION").unwrap_or("Sale") {
            "Sale" => Action::Sale,
            "Authorization" => Action::Authorization,
            _ => return Err(Failure::invalid("PAYMENTREQUEST_0_PAYMENTACTION")),
        };
        let payment = Payment {
            amount: p.amount("PAYMENTREQUEST_0_AMT")?,
            currency: p.currency("PAYMENTREQUEST_0_CURRENCYCODE")?,
            invoice: p.get("PAYMENTREQUEST_0_INVNUM").map(str::to_owned),
            custom: p.get("PAYMENTREQUEST_0_CUSTOM").map(str::to_owned),
            notify_url: p.get("PAYMENTREQUEST_0_NOTIFYURL").map(str::to_owned),
        };
        let return_url = p.required("RETURNURL")?.to_owned();
        p.required("CANCELURL")?;
        let token = format!("EC-{}", self.id(17));
        lock(&self.checkouts).insert(
            token.clone(),
            Checkout {
                merchant: merchant(p).unwrap_or_default(),
                payment,
                action,
                return_url,
                payer_id: None,
                completed: false,
            },
        );
        Ok((vec![("TOKEN", token)], None))
    }

    /// The buyer approves checkout `token` on PayPal's page: where to send the browser back.
    pub(crate) fn approve(&self, token: &str) -> Option<String> {
        let mut checkouts = lock(&self.checkouts);
        let checkout = checkouts.get_mut(token)?;
        let payer = match &checkout.payer_id {
            Some(p) => p.clone(),
            None => {
                let p = self.id(13);
                checkout.payer_id = Some(p.clone());
                p
            }
        };
        let query = encode(&[("token", token.to_owned()), ("PayerID", payer)]);
        let join = if checkout.return_url.contains('?') {
            '&'
        } else {
            '?'
        };
        Some(format!("{}{join}{query}", checkout.return_url))
    }

    fn pay(&self, p: &Params<'_>) -> CallResult {
        let token = p.required("TOKEN")?;
        let payer = p.required("PAYERID")?;
        let amount = p.amount("PAYMENTREQUEST_0_AMT")?;
        let currency = p.currency("PAYMENTREQUEST_0_CURRENCYCODE")?;
        let mut checkouts = lock(&self.checkouts);
        let checkout = checkouts
            .get_mut(token)
            .ok_or_else(|| Failure(10410, "Invalid token", "Invalid token.".into()))?;
        if checkout.completed {
            return Err(Failure(
                10415,
                "Transaction refused because of an invalid argument",
                "A successful transaction has already been completed for this token.".into(),
            ));
        }
        if checkout.payer_id.as_deref() != Some(payer) {
            return Err(Failure(
                10419,
                "Express Checkout PayerID is missing",
                "The buyer has not approved this checkout, or PAYERID is not theirs.".into(),
            ));
        }
        if currency != checkout.payment.currency {
            return Err(Failure(
                10444,
                "Transaction refused because of an invalid argument",
                "The currency must be the one given to SetExpressCheckout.".into(),
            ));
        }
        if let Some(action) = p.get("PAYMENTREQUEST_0_PAYMENTACTION")
            && action != checkout.action.word()
        {
            return Err(Failure::invalid("PAYMENTREQUEST_0_PAYMENTACTION"));
        }
        checkout.completed = true;
        let mut payment = checkout.payment.clone();
        payment.amount = amount;
        if let Some(url) = p.get("PAYMENTREQUEST_0_NOTIFYURL") {
            payment.notify_url = Some(url.to_owned());
        }
        let merchant = checkout.merchant.clone();
        let action = checkout.action;
        drop(checkouts);
        let txn_id = self.id(17);
        let mut fields = vec![
            ("TOKEN", token.to_owned()),
            ("PAYMENTINFO_0_TRANSACTIONID", txn_id.clone()),
            ("PAYMENTINFO_0_AMT", payment.amount.to_string()),
            ("PAYMENTINFO_0_CURRENCYCODE", payment.currency.clone()),
            ("PAYMENTINFO_0_ACK", "Success".to_owned()),
        ];
        let what = match action {
            Action::Sale => {
                fields.push(("PAYMENTINFO_0_PAYMENTSTATUS", "Completed".to_owned()));
                fields.push(("PAYMENTINFO_0_PENDINGREASON", "None".to_owned()));
                What::Sale { txn_id }
            }
            Action::Authorization => {
                fields.push(("PAYMENTINFO_0_PAYMENTSTATUS", "Pending".to_owned()));
                fields.push(("PAYMENTINFO_0_PENDINGREASON", "authorization".to_owned()));
                lock(&self.authorizations).insert(
                    txn_id.clone(),
                    Authorization {
                        merchant: merchant.clone(),
                        payment: payment.clone(),
                        payer_id: payer.to_owned(),
                        captured: false,
                    },
                );
                What::Authorized { auth_id: txn_id }
            }
        };
        let notice = Notice {
            payment,
            merchant,
            payer_id: payer.to_owned(),
            what,
        };
        Ok((fields, Some(notice)))
    }

    fn capture(&self, p: &Params<'_>) -> CallResult {
        let auth_id = p.required("AUTHORIZATIONID")?;
        let amount = p.amount("AMT")?;
        let currency = p.currency("CURRENCYCODE")?;
        if p.required("COMPLETETYPE")? != "Complete" {
            // Partial captures (NotComplete) are not played by the stand-in.
            return Err(Failure::invalid("COMPLETETYPE"));
        }
        let mut authorizations = lock(&self.authorizations);
        let auth = authorizations
            .get_mut(auth_id)
            .filter(|a| merchant(p).is_some_and(|m| m == a.merchant))
            .ok_or_else(|| {
                Failure(
                    10609,
                    "Transaction id is invalid",
                    "Transaction id is invalid.".into(),
                )
            })?;
        if auth.captured {
            return Err(Failure(
                10602,
                "Authorization has already been completed",
                "Authorization has already been completed.".into(),
            ));
        }
        if currency != auth.payment.currency {
            return Err(Failure(
                10444,
                "Transaction refused because of an invalid argument",
                "The currency must be the authorization's.".into(),
            ));
        }
        if amount > auth.payment.amount {
            return Err(Failure(
                10610,
                "Amount specified exceeds allowable limit",
                "Amount specified exceeds the authorized amount.".into(),
            ));
        }
        auth.captured = true;
        let mut payment = auth.payment.clone();
        let authorized = payment.amount;
        payment.amount = amount;
        if let Some(invoice) = p.get("INVNUM") {
            payment.invoice = Some(invoice.to_owned());
        }
        let (merchant, payer_id) = (auth.merchant.clone(), auth.payer_id.clone());
        drop(authorizations);
        let capture_id = self.id(17);
        let fields = vec![
            ("AUTHORIZATIONID", auth_id.to_owned()),
            ("TRANSACTIONID", capture_id.clone()),
            ("PARENTTRANSACTIONID", auth_id.to_owned()),
            ("AMT", payment.amount.to_string()),
            ("CURRENCYCODE", payment.currency.clone()),
            ("PAYMENTSTATUS", "Completed".to_owned()),
            ("PENDINGREASON", "None".to_owned()),
        ];
        let what = What::Captured {
            auth_id: auth_id.to_owned(),
            authorized,
            capture_id,
        };
        let notice = Notice {
            payment,
            merchant,
            payer_id,
            what,
        };
        Ok((fields, Some(notice)))
    }

    /// The IPN body PayPal sends about `notice`.
    fn notification(&self, notice: &Notice) -> Vec<u8> {
        let payment = &notice.payment;
        let mut v: Vec<(&str, String)> = vec![
            ("mc_gross", payment.amount.to_string()),
            ("mc_currency", payment.currency.clone()),
        ];
        if let Some(invoice) = &payment.invoice {
            v.push(("invoice", invoice.clone()));
        }
        if let Some(custom) = &payment.custom {
            v.push(("custom", custom.clone()));
        }
        v.push(("payment_date", paypal_now()));
        match &notice.what {
            What::Sale { txn_id } => {
                v.push(("payment_status", "Completed".into()));
                v.push(("txn_id", txn_id.clone()));
            }
            What::Authorized { auth_id } => {
                v.push(("payment_status", "Pending".into()));
                v.push(("pending_reason", "authorization".into()));
                v.push(("txn_id", auth_id.clone()));
                v.push(("auth_id", auth_id.clone()));
                v.push(("auth_amount", payment.amount.to_string()));
                v.push(("auth_status", "Pending".into()));
                v.push(("transaction_entity", "auth".into()));
            }
            What::Captured {
                auth_id,
                authorized,
                capture_id,
            } => {
                v.push(("payment_status", "Completed".into()));
                v.push(("txn_id", capture_id.clone()));
                v.push(("parent_txn_id", auth_id.clone()));
                v.push(("auth_id", auth_id.clone()));
                v.push(("auth_amount", authorized.to_string()));
                v.push(("auth_status", "Completed".into()));
                v.push(("transaction_entity", "payment".into()));
            }
        }
        v.extend([
            ("txn_type", "express_checkout".to_owned()),
            ("payment_type", "instant".to_owned()),
            ("receiver_email", notice.merchant.clone()),
            ("payer_id", notice.payer_id.clone()),
            ("payer_email", "buyer@example.com".to_owned()),
            ("payer_status", "verified".to_owned()),
            ("first_name", "Test".to_owned()),
            ("last_name", "Buyer".to_owned()),
            ("protection_eligibility", "Eligible".to_owned()),
            ("charset", "windows-1252".to_owned()),
            ("notify_version", "3.9".to_owned()),
            ("ipn_track_id", self.id(13).to_ascii_lowercase()),
            ("verify_sign", self.id(56)),
            ("test_ipn", "1".to_owned()),
        ]);
        encode(&v).into_bytes()
    }
}

type CallResult = Result<(Vec<(&'static str, String)>, Option<Notice>), Failure>;

/// What a call did, for its notification.
struct Notice {
    payment: Payment,
    merchant: String,
    payer_id: String,
    what: What,
}

/// The transaction a notification is about.
enum What {
    Sale {
        txn_id: String,
    },
    Authorized {
        auth_id: String,
    },
    Captured {
        auth_id: String,
        authorized: Decimal,
        capture_id: String,
    },
}

impl Action {
    fn word(self) -> &'static str {
        match self {
            Action::Sale => "Sale",
            Action::Authorization => "Authorization",
        }
    }
}

/// The merchant's e-mail address from the API user name (`shop_api1.example.net`).
fn merchant(p: &Params<'_>) -> Option<String> {
    let user = p.get("USER")?;
    let (name, domain) = user.split_once("_api1.")?;
    (!name.is_empty() && !domain.is_empty()).then(|| format!("{name}@{domain}"))
}

/// Form-encodes name/value pairs, as NVP answers and IPN bodies are.
fn encode(pairs: &[(&str, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Now as PayPal writes `payment_date`: `HH:MM:SS Mon DD, YYYY PST` (Pacific standard time,
/// UTC−8).
fn paypal_now() -> String {
    (chrono::Utc::now() - chrono::TimeDelta::hours(8))
        .format("%H:%M:%S %b %d, %Y PST")
        .to_string()
}
