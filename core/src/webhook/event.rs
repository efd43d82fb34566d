//! The webhook's event, typed: read strictly from the raw JSON bytes, money exact, times as UTC
//! instants beside their text, every field kept, and the same [`Event`] IPN gives for the same
//! fact.
//!
//! ## One vocabulary with IPN
//!
//! | `event_type` | [`Event`] | IPN's twin |
//! |---|---|---|
//! | `PAYMENT.CAPTURE.COMPLETED`, `PAYMENT.SALE.COMPLETED` | `payment_completed` | `payment_status=Completed` |
//! | `PAYMENT.SALE.COMPLETED` with a `billing_agreement_id` | `recurring_payment` | `txn_type=recurring_payment` |
//! | `PAYMENT.CAPTURE.PENDING`, `PAYMENT.SALE.PENDING` | `payment_pending` with the reason | `payment_status=Pending`, `pending_reason` |
//! | `PAYMENT.CAPTURE.DENIED`, `PAYMENT.SALE.DENIED` | `payment_denied` | `payment_status=Denied` |
//! | `PAYMENT.CAPTURE.DECLINED` | `payment_failed` | `payment_status=Failed` |
//! | `PAYMENT.CAPTURE.REFUNDED`, `PAYMENT.SALE.REFUNDED` | `payment_refunded` | `payment_status=Refunded` |
//! | `PAYMENT.CAPTURE.REVERSED`, `PAYMENT.SALE.REVERSED` | `payment_reversed` | `payment_status=Reversed` |
//! | `PAYMENT.AUTHORIZATION.CREATED` | `authorization_created` | `payment_status=Pending`, `pending_reason=authorization` |
//! | `PAYMENT.AUTHORIZATION.VOIDED` | `authorization_voided` | `payment_status=Voided` |
//! | `BILLING.SUBSCRIPTION.ACTIVATED` | `recurring_profile_created` | `txn_type=recurring_payment_profile_created` |
//! | `BILLING.SUBSCRIPTION.CANCELLED` | `recurring_profile_cancel` | `txn_type=recurring_payment_profile_cancel` |
//! | `BILLING.SUBSCRIPTION.EXPIRED` | `recurring_profile_expired` | `txn_type=recurring_payment_expired` |
//! | `BILLING.SUBSCRIPTION.SUSPENDED` | `recurring_profile_suspended` | `txn_type=recurring_payment_suspended` |
//! | `BILLING.SUBSCRIPTION.PAYMENT.FAILED` | `recurring_payment_failed` | `txn_type=recurring_payment_failed` |
//! | `CUSTOMER.DISPUTE.CREATED` | `dispute_opened` | `txn_type=new_case` |
//! | `CUSTOMER.DISPUTE.RESOLVED` | `dispute_resolved` | `txn_type=adjustment` |
//! | `CHECKOUT.ORDER.APPROVED` | `order_approved` | — |
//! | `CHECKOUT.ORDER.COMPLETED` | `order_completed` | — |
//! | `BILLING.SUBSCRIPTION.CREATED` | `subscription_created` | — |
//! | `BILLING.SUBSCRIPTION.UPDATED` | `subscription_updated` | — |
//! | `BILLING.PLAN.CREATED` | `plan_created` | — |
//! | `BILLING.PLAN.UPDATED` | `plan_updated` | — |
//! | `CUSTOMER.DISPUTE.UPDATED` | `dispute_updated` | — |
//! | anything else | `unknown` (the type and the whole JSON kept) | — |
//!
//! PayPal's Subscriptions API (`I-…` ids, the subscriptions REST webhooks tell of) is the
//! recurring-payments profile of IPN: its IPNs are `recurring_payment_*` with
//! `recurring_payment_id` the subscription's id, so its webhooks take those events; the
//! Subscribe button's `subscr_*` IPNs have no webhook twin.
//!
//! A pending capture's `status_details.reason` becomes IPN's `pending_reason` word where one
//! means the same (`ECHECK` → `echeck`, `UNILATERAL` → `unilateral`, `PENDING_REVIEW` →
//! `paymentreview`, `VERIFICATION_REQUIRED` → `verify`, `INTERNATIONAL_WITHDRAWAL` → `intl`),
//! and is kept as it is written otherwise.
//!
//! ## Delivery keys shared with IPN
//!
//! [`DeliveryKey::of_webhook`](crate::DeliveryKey::of_webhook) gives a webhook IPN's key where
//! both channels tell of the same state of the same thing, so that the second telling, by
//! either channel, is a duplicate:
//!
//! | webhook | key | IPN with the same key |
//! |---|---|---|
//! | a capture, sale, refund or authorization with its id | `txn:<id>:<payment_status>[/<pending_reason>]` | `txn_id` = the id, the same `payment_status` (and `pending_reason`) |
//! | a dispute | `case:<dispute_id>:<event>[/<case_type>]` | `case_id` = the dispute id, the same event and `case_type` |
//! | anything else | `wh:<event id>` (the same across PayPal's redeliveries of the event) | — |
//!
//! Which ids coincide, and how that was established (from PayPal's documentation of each
//! field; no public source publishes an IPN and a webhook of one payment side by side):
//! - An Orders v2 capture's id, a v1 sale's id and a refund's id are the transaction ids of
//!   PayPal's account activity, which IPN's `txn_id` carries; a refund's IPN has its own
//!   `txn_id` (the refund's) and `payment_status=Refunded`, as the refund webhook has its own
//!   id.
//! - A dispute's `dispute_id` (`PP-D-…`) is the case id IPN's `new_case` carries in `case_id`;
//!   `case_type` is read from the dispute's stage and channel (see [`Resource::case_type`]).
//! - A reversal's IPN adds its `reason_code` to the key, which the reversal webhook does not
//!   carry: the two are one transaction's states (the same lookup id), not one key.
//! - Subscriptions' IPNs are keyed by `ipn_track_id`, which no webhook carries: their webhooks
//!   are keyed by event id, and a shop receiving both hears of a subscription's change twice.

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::codes::codes;
use crate::date::PayPalDate;
use crate::error::{Error, FieldName};
use crate::event::{Event, Family};
use crate::message::Notice;
use crate::money::{Currency, Money, parse_amount};
use crate::vocab::{CaseType, PaymentStatus, PendingReason};

use super::json;

codes! {
    /// What a webhook's `resource` is, by its event type.
    #[non_exhaustive]
    pub enum ResourceKind / RESOURCE_KIND_CODES {
        /// An Orders v2 capture (`PAYMENT.CAPTURE.*` but refunds and reversals).
        Capture = "capture",
        /// A refund: Orders v2 (`PAYMENT.CAPTURE.REFUNDED`, `.REVERSED`) or v1 (`PAYMENT.SALE.REFUNDED`, `.REVERSED`).
        Refund = "refund",
        /// An authorization (`PAYMENT.AUTHORIZATION.*`).
        Authorization = "authorization",
        /// An Orders v2 order (`CHECKOUT.ORDER.*`).
        Order = "order",
        /// A v1 sale (`PAYMENT.SALE.*`), which subscriptions still send.
        Sale = "sale",
        /// A subscription (`BILLING.SUBSCRIPTION.*`), v1 agreement or v2 subscription.
        Subscription = "subscription",
        /// A billing plan (`BILLING.PLAN.*`).
        Plan = "plan",
        /// A dispute (`CUSTOMER.DISPUTE.*`).
        Dispute = "dispute",
        /// Anything else: the JSON is kept whole.
        Other = "other",
    }
}

/// The resource a webhook is about: the fields the rules and the delivery keys read, typed.
/// Every other field stays in [`WebhookEvent::json`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// What the resource is.
    pub kind: ResourceKind,
    /// Its id: the capture's, refund's, sale's, subscription's (`I-…`), dispute's (`PP-D-…`)…
    pub id: Option<String>,
    /// Its status (`COMPLETED`, `PENDING`…; v1 resources' `state`), as written.
    pub status: Option<String>,
    /// Why it is in that status (`status_details.reason`, v1 `reason_code`), as written.
    pub status_reason: Option<String>,
    /// The amount: `amount` (`{currency_code, value}`, v1 `{total, currency}`), a dispute's
    /// `dispute_amount`, a subscription's last payment.
    pub amount: Option<Money>,
    /// `create_time`.
    pub create_time: Option<PayPalDate>,
    /// `update_time`.
    pub update_time: Option<PayPalDate>,
    /// `payee.merchant_id`: the merchant paid (Orders v2).
    pub payee_merchant_id: Option<String>,
    /// `payee.email_address`.
    pub payee_email: Option<String>,
    /// `custom_id` (v1: `custom`): the merchant's own reference.
    pub custom_id: Option<String>,
    /// `invoice_id` (v1: `invoice_number`).
    pub invoice_id: Option<String>,
    /// The Orders v2 order (`supplementary_data.related_ids.order_id`; an order's own id).
    pub order_id: Option<String>,
    /// What this resource is about: a v1 refund's `sale_id`, a v2 refund's capture (its `up`
    /// link), a sale's `parent_payment`.
    pub parent_id: Option<String>,
    /// A v1 sale's `billing_agreement_id`: the subscription it pays.
    pub billing_agreement_id: Option<String>,
    /// A subscription's `plan_id`.
    pub plan_id: Option<String>,
    /// The transactions a dispute is about (`disputed_transactions[].seller_transaction_id`).
    pub disputed_transactions: Vec<String>,
    /// A dispute's kind in IPN's words (`case_type`): `chargeback` for a dispute in the
    /// `CHARGEBACK` stage or the `EXTERNAL` channel, `dispute` in the `INQUIRY` stage,
    /// `complaint` in the `CLAIM` stage; `None` otherwise.
    pub case_type: Option<CaseType>,
}

/// A webhook's event: its envelope, its resource typed, its [`Event`], and the whole JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// The event's id (`WH-…`): the same across PayPal's redeliveries of the event.
    pub id: String,
    /// `event_type`, as written (`PAYMENT.CAPTURE.COMPLETED`).
    pub event_type: String,
    /// `create_time`.
    pub create_time: Option<PayPalDate>,
    /// `resource_type` (`capture`, `sale`…), as written.
    pub resource_type: Option<String>,
    /// `resource_version` (`2.0`; v1 resources have none).
    pub resource_version: Option<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// The resource, typed.
    pub resource: Resource,
    /// What happened, in IPN's vocabulary.
    pub event: Event,
    /// The whole JSON, every field kept (keys sorted; numbers as JSON numbers).
    pub json: Map<String, Value>,
    /// Values that are not of their type (`invalid_amount`, `invalid_currency`,
    /// `invalid_date`), as for IPN: the typed field is `None`, the text stays in
    /// [`json`](WebhookEvent::json), and the rules refuse when they need it. PayPal's own
    /// simulator writes `2018-19-12T22:20:32.000Z`.
    pub notices: Vec<Notice>,
}

impl WebhookEvent {
    /// Reads a webhook body: the raw bytes as received, the same that were verified.
    ///
    /// Errors name a field and never echo a value: `invalid_json` (not one JSON object, with
    /// the position), `duplicate_key` (a key twice in one object, with its path),
    /// `invalid_field` (`id`, `event_type` or `resource` absent or not of its type; a known
    /// field of the wrong JSON type). An amount that is not a plain decimal string, a currency
    /// that is not three letters or a time that is not one are [notices](WebhookEvent::notices).
    pub fn parse(body: &[u8]) -> Result<WebhookEvent, Error> {
        let json = json::parse_object(body)?;
        let id = required_str(&json, "id")?;
        let event_type = required_str(&json, "event_type")?;
        let resource_json = match json.get("resource") {
            Some(Value::Object(map)) => map,
            _ => return Err(invalid_field("resource")),
        };
        let kind = kind_of(&event_type);
        let mut notices = Vec::new();
        let resource = Resource::read(kind, resource_json, &mut notices)?;
        let event = event_of(&event_type, &resource);
        Ok(WebhookEvent {
            create_time: soft(date(&json, "", "create_time"), &mut notices)?,
            resource_type: opt_str(&json, "", "resource_type")?,
            resource_version: opt_str(&json, "", "resource_version")?,
            summary: opt_str(&json, "", "summary")?,
            id,
            event_type,
            resource,
            event,
            json,
            notices,
        })
    }

    /// The state IPN would give the same transaction: its `payment_status` and, for a pending
    /// one, its `pending_reason` (`Pending/authorization` for an authorization). `None` for an
    /// event about no transaction's state.
    pub fn payment_state(&self) -> Option<(PaymentStatus, Option<&str>)> {
        let reason = match &self.event {
            Event::PaymentPending { reason } => reason.as_ref().map(PendingReason::as_str),
            Event::AuthorizationCreated => Some("authorization"),
            _ => None,
        };
        let status = match self.event {
            Event::PaymentCompleted | Event::RecurringPayment => PaymentStatus::Completed,
            Event::PaymentPending { .. } | Event::AuthorizationCreated => PaymentStatus::Pending,
            Event::PaymentDenied => PaymentStatus::Denied,
            Event::PaymentFailed => PaymentStatus::Failed,
            Event::PaymentRefunded => PaymentStatus::Refunded,
            Event::PaymentReversed { .. } => PaymentStatus::Reversed,
            Event::AuthorizationVoided => PaymentStatus::Voided,
            _ => return None,
        };
        Some((status, reason))
    }

    /// The family of the event: `payment` for captures, sales, authorizations and orders,
    /// `recurring_payment` for subscriptions and plans, `dispute`, or `unknown`.
    pub fn family(&self) -> Family {
        match self.resource.kind {
            ResourceKind::Capture
            | ResourceKind::Refund
            | ResourceKind::Authorization
            | ResourceKind::Order
            | ResourceKind::Sale => Family::Payment,
            ResourceKind::Subscription | ResourceKind::Plan => Family::RecurringPayment,
            ResourceKind::Dispute => Family::Dispute,
            ResourceKind::Other => Family::Unknown,
        }
    }
}

impl Serialize for WebhookEvent {
    /// The canonical JSON: `{"id", "event_type", "event", "family", "create_time",
    /// "resource_type", "resource_version", "summary", "resource", "notices"}` (the typed fields; the
    /// whole JSON is the body itself).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("WebhookEvent", 10)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("event_type", &self.event_type)?;
        st.serialize_field("event", &self.event)?;
        st.serialize_field("family", &self.family())?;
        st.serialize_field("create_time", &self.create_time)?;
        st.serialize_field("resource_type", &self.resource_type)?;
        st.serialize_field("resource_version", &self.resource_version)?;
        st.serialize_field("summary", &self.summary)?;
        st.serialize_field("resource", &self.resource)?;
        st.serialize_field("notices", &self.notices)?;
        st.end()
    }
}

/// The resource's kind, by the event type's prefix.
fn kind_of(event_type: &str) -> ResourceKind {
    let parts: Vec<&str> = event_type.split('.').collect();
    match parts.as_slice() {
        ["PAYMENT", "CAPTURE" | "SALE", "REFUNDED" | "REVERSED"] => ResourceKind::Refund,
        ["PAYMENT", "CAPTURE", ..] => ResourceKind::Capture,
        ["PAYMENT", "SALE", ..] => ResourceKind::Sale,
        ["PAYMENT", "AUTHORIZATION", ..] => ResourceKind::Authorization,
        ["CHECKOUT", "ORDER", ..] => ResourceKind::Order,
        ["BILLING", "SUBSCRIPTION", ..] => ResourceKind::Subscription,
        ["BILLING", "PLAN", ..] => ResourceKind::Plan,
        ["CUSTOMER", "DISPUTE", ..] => ResourceKind::Dispute,
        _ => ResourceKind::Other,
    }
}

/// The table in the module docs.
fn event_of(event_type: &str, resource: &Resource) -> Event {
    match event_type {
        "PAYMENT.CAPTURE.COMPLETED" => Event::PaymentCompleted,
        "PAYMENT.SALE.COMPLETED" if resource.billing_agreement_id.is_some() => {
            Event::RecurringPayment
        }
        "PAYMENT.SALE.COMPLETED" => Event::PaymentCompleted,
        "PAYMENT.CAPTURE.PENDING" | "PAYMENT.SALE.PENDING" => Event::PaymentPending {
            reason: resource.status_reason.as_deref().map(pending_reason),
        },
        "PAYMENT.CAPTURE.DENIED" | "PAYMENT.SALE.DENIED" => Event::PaymentDenied,
        "PAYMENT.CAPTURE.DECLINED" => Event::PaymentFailed,
        "PAYMENT.CAPTURE.REFUNDED" | "PAYMENT.SALE.REFUNDED" => Event::PaymentRefunded,
        "PAYMENT.CAPTURE.REVERSED" | "PAYMENT.SALE.REVERSED" => {
            Event::PaymentReversed { reason: None }
        }
        "PAYMENT.AUTHORIZATION.CREATED" => Event::AuthorizationCreated,
        "PAYMENT.AUTHORIZATION.VOIDED" => Event::AuthorizationVoided,
        "BILLING.SUBSCRIPTION.ACTIVATED" => Event::RecurringProfileCreated,
        "BILLING.SUBSCRIPTION.CANCELLED" => Event::RecurringProfileCancel,
        "BILLING.SUBSCRIPTION.EXPIRED" => Event::RecurringProfileExpired,
        "BILLING.SUBSCRIPTION.SUSPENDED" => Event::RecurringProfileSuspended,
        "BILLING.SUBSCRIPTION.PAYMENT.FAILED" => Event::RecurringPaymentFailed,
        "CUSTOMER.DISPUTE.CREATED" => Event::DisputeOpened,
        "CUSTOMER.DISPUTE.RESOLVED" => Event::DisputeResolved,
        "CHECKOUT.ORDER.APPROVED" => Event::OrderApproved,
        "CHECKOUT.ORDER.COMPLETED" => Event::OrderCompleted,
        "BILLING.SUBSCRIPTION.CREATED" => Event::SubscriptionCreated,
        "BILLING.SUBSCRIPTION.UPDATED" => Event::SubscriptionUpdated,
        "BILLING.PLAN.CREATED" => Event::PlanCreated,
        "BILLING.PLAN.UPDATED" => Event::PlanUpdated,
        "CUSTOMER.DISPUTE.UPDATED" => Event::DisputeUpdated,
        _ => Event::Unknown,
    }
}

/// A pending reason in IPN's words where one means the same, else as PayPal wrote it.
fn pending_reason(reason: &str) -> PendingReason {
    PendingReason::parse(match reason {
        "ECHECK" => "echeck",
        "UNILATERAL" => "unilateral",
        "PENDING_REVIEW" => "paymentreview",
        "VERIFICATION_REQUIRED" => "verify",
        "INTERNATIONAL_WITHDRAWAL" => "intl",
        other => other,
    })
}

impl Resource {
    fn read(
        kind: ResourceKind,
        r: &Map<String, Value>,
        notices: &mut Vec<Notice>,
    ) -> Result<Resource, Error> {
        const R: &str = "resource";
        let mut resource = Resource {
            kind,
            id: opt_str(r, R, "id")?,
            status: match opt_str(r, R, "status")? {
                Some(s) => Some(s),
                None => opt_str(r, R, "state")?,
            },
            status_reason: match object(r, R, "status_details")? {
                Some(details) => opt_str(details, "resource.status_details", "reason")?,
                None => opt_str(r, R, "reason_code")?,
            },
            amount: soft(amount(r, R, "amount"), notices)?,
            create_time: soft(date(r, R, "create_time"), notices)?,
            update_time: soft(date(r, R, "update_time"), notices)?,
            payee_merchant_id: None,
            payee_email: None,
            custom_id: first_str(r, R, &["custom_id", "custom"])?,
            invoice_id: first_str(r, R, &["invoice_id", "invoice_number"])?,
            order_id: None,
            parent_id: first_str(r, R, &["sale_id", "parent_payment"])?,
            billing_agreement_id: opt_str(r, R, "billing_agreement_id")?,
            plan_id: opt_str(r, R, "plan_id")?,
            disputed_transactions: Vec::new(),
            case_type: None,
        };
        if let Some(payee) = object(r, R, "payee")? {
            resource.payee_merchant_id = opt_str(payee, "resource.payee", "merchant_id")?;
            resource.payee_email = opt_str(payee, "resource.payee", "email_address")?;
        }
        if let Some(data) = object(r, R, "supplementary_data")?
            && let Some(ids) = object(data, "resource.supplementary_data", "related_ids")?
        {
            resource.order_id =
                opt_str(ids, "resource.supplementary_data.related_ids", "order_id")?;
        }
        match kind {
            ResourceKind::Order => resource.order_id.clone_from(&resource.id),
            ResourceKind::Refund if resource.parent_id.is_none() => {
                resource.parent_id = up_link_capture(r)?;
            }
            ResourceKind::Dispute => {
                resource.id = first_str(r, R, &["dispute_id", "id"])?;
                resource.status_reason = opt_str(r, R, "reason")?;
                resource.amount = soft(amount(r, R, "dispute_amount"), notices)?;
                resource.disputed_transactions = disputed(r)?;
                let stage = opt_str(r, R, "dispute_life_cycle_stage")?;
                let channel = opt_str(r, R, "dispute_channel")?;
                resource.case_type = match (stage.as_deref(), channel.as_deref()) {
                    (Some("CHARGEBACK"), _) | (_, Some("EXTERNAL")) => Some(CaseType::Chargeback),
                    (Some("INQUIRY"), _) => Some(CaseType::Dispute),
                    (Some("CLAIM"), _) => Some(CaseType::Complaint),
                    _ => None,
                };
            }
            ResourceKind::Subscription if resource.amount.is_none() => {
                if let Some(info) = object(r, R, "billing_info")? {
                    resource.amount = soft(
                        amount(info, "resource.billing_info", "last_payment.amount"),
                        notices,
                    )?;
                }
            }
            _ => {}
        }
        Ok(resource)
    }
}

/// A v2 refund names its capture only in its `up` link (`…/v2/payments/captures/<id>`).
fn up_link_capture(r: &Map<String, Value>) -> Result<Option<String>, Error> {
    let Some(links) = r.get("links") else {
        return Ok(None);
    };
    let Value::Array(links) = links else {
        return Err(invalid_field("resource.links"));
    };
    for link in links {
        let (Some(Value::String(rel)), Some(Value::String(href))) =
            (link.get("rel"), link.get("href"))
        else {
            continue;
        };
        if rel == "up"
            && let Some((_, id)) = href.rsplit_once("/captures/")
        {
            return Ok(Some(id.to_owned()));
        }
    }
    Ok(None)
}

fn disputed(r: &Map<String, Value>) -> Result<Vec<String>, Error> {
    let Some(list) = r.get("disputed_transactions") else {
        return Ok(Vec::new());
    };
    let Value::Array(list) = list else {
        return Err(invalid_field("resource.disputed_transactions"));
    };
    let mut out = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let Value::Object(t) = t else {
            return Err(Error::InvalidField {
                field: FieldName::new(format!("resource.disputed_transactions.{i}")),
            });
        };
        let path = format!("resource.disputed_transactions.{i}");
        if let Some(id) = opt_str(t, &path, "seller_transaction_id")? {
            out.push(id);
        }
    }
    Ok(out)
}

/// A value that is not of its type becomes a notice (the field `None`); any other error stays.
fn soft<T>(read: Result<Option<T>, Error>, notices: &mut Vec<Notice>) -> Result<Option<T>, Error> {
    match read {
        Err(
            ref e @ (Error::InvalidAmount { ref field }
            | Error::InvalidCurrency { ref field }
            | Error::InvalidDate { ref field }),
        ) => {
            notices.push(Notice {
                code: e.code(),
                field: field.as_str().to_owned(),
            });
            Ok(None)
        }
        other => other,
    }
}

fn invalid_field(path: &str) -> Error {
    Error::InvalidField {
        field: FieldName::new(path),
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

fn required_str(m: &Map<String, Value>, key: &str) -> Result<String, Error> {
    match m.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(invalid_field(key)),
    }
}

/// A string field: absent or `null` is `None`; any other JSON type is `invalid_field`.
fn opt_str(m: &Map<String, Value>, parent: &str, key: &str) -> Result<Option<String>, Error> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid_field(&join(parent, key))),
    }
}

/// The first of several spellings present (v2's name, then v1's).
fn first_str(m: &Map<String, Value>, parent: &str, keys: &[&str]) -> Result<Option<String>, Error> {
    for key in keys {
        if let Some(s) = opt_str(m, parent, key)? {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

fn object<'m>(
    m: &'m Map<String, Value>,
    parent: &str,
    key: &str,
) -> Result<Option<&'m Map<String, Value>>, Error> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(invalid_field(&join(parent, key))),
    }
}

fn date(m: &Map<String, Value>, parent: &str, key: &str) -> Result<Option<PayPalDate>, Error> {
    match opt_str(m, parent, key)? {
        None => Ok(None),
        Some(text) => PayPalDate::parse(&join(parent, key), &text),
    }
}

/// Money at `key` (a dotted path below `m` for nested ones): `{currency_code, value}` (v2) or
/// `{total, currency}` (v1), the amount a decimal *string*.
fn amount(m: &Map<String, Value>, parent: &str, key: &str) -> Result<Option<Money>, Error> {
    let mut here = m;
    let mut path = parent.to_owned();
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            let Some(money) = object(here, &path, part)? else {
                return Ok(None);
            };
            return read_money(money, &join(&path, part)).map(Some);
        }
        match object(here, &path, part)? {
            Some(next) => here = next,
            None => return Ok(None),
        }
        path = join(&path, part);
    }
    Ok(None)
}

fn read_money(money: &Map<String, Value>, path: &str) -> Result<Money, Error> {
    let (value_key, currency_key) = if money.contains_key("value") {
        ("value", "currency_code")
    } else {
        ("total", "currency")
    };
    let value_path = join(path, value_key);
    let value: Decimal = match money.get(value_key) {
        Some(Value::String(text)) => parse_amount(text),
        _ => None,
    }
    .ok_or(Error::InvalidAmount {
        field: FieldName::new(value_path),
    })?;
    let currency = match money.get(currency_key) {
        Some(Value::String(code)) => Currency::parse(code),
        _ => None,
    }
    .ok_or_else(|| Error::InvalidCurrency {
        field: FieldName::new(join(path, currency_key)),
    })?;
    Ok(Money {
        amount: value,
        currency: Some(currency),
    })
}
