//! The typed message: every variable of PayPal's IPN variable reference, with exact money, real
//! dates and enums, numbered variables grouped into lists, and nothing lost.
//!
//! [`Message::from_fields`] reads decoded [`Fields`] and keeps them. Known variables get a typed
//! getter named as PayPal names them; numbered ones are grouped (`items`, `options`,
//! `masspay_items`, `transactions`, `fraud_filters`); the rest are listed by [`Message::extra`] in
//! their original order, and [`Message::variables`] holds every original pair. A known variable
//! whose value is not of its type is absent from its getter, with a [`Notice`] naming it, and
//! its text kept (an empty value is treated as absent); two spellings of one variable are an
//! [`Error`].
//!
//! The parts, by job: `table` (how each kind of variable is stored, parsed and looked up by
//! name), `groups` (numbered variables as lists), `value` (what bindings read), `json` (the
//! canonical JSON).
//!
//! Money pairs with the currency PayPal documents for it: `mc_*`, `tax`, `shipping`… with
//! `mc_currency`; `payment_gross`/`payment_fee` are US dollars; `settle_amount` with
//! `settle_currency`; recurring-payment amounts with `currency_code` (else `mc_currency`); Mass
//! Pay items with their own `mc_currency_N`; Adaptive amounts carry theirs (`USD 110.00`).
//!
//! ```
//! let m = ipnkit::Message::parse(b"txn_type=web_accept&payment_status=Completed&mc_gross=19.95\
//!     &mc_currency=EUR&payment_date=20%3A12%3A59+Jan+13%2C+2009+PST&custom=order-42")?;
//! assert_eq!(*m.event(), ipnkit::Event::PaymentCompleted);
//! assert_eq!(m.mc_gross().map(|g| g.to_string()).as_deref(), Some("19.95 EUR"));
//! assert_eq!(m.payment_date().map(|d| d.to_rfc3339()).as_deref(), Some("2009-01-14T04:12:59Z"));
//! assert_eq!(m.custom(), Some("order-42"));
//! # Ok::<(), ipnkit::Error>(())
//! ```

use std::convert::Infallible;
use std::sync::LazyLock;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::date::PayPalDate;
use crate::decode::{Fields, hash};
use crate::error::{Error, ErrorKind, FieldName};
use crate::event::{Event, Family, Signals};
use crate::money::{Currency, Money};
use crate::vocab::*;

#[macro_use]
mod table;
mod groups;
mod json;
mod value;

pub use groups::{AdaptiveTransaction, CartItem, GROUPS, ItemOption, MasspayItem, Members, Record};
pub use value::{Lookup, Period, PeriodUnit, Value};

use groups::{Groups, first_of_slot};
use table::{Carried, Getter, Setter, VariableTable, alias_of, setter};

/// What [`Message::parse`] gets back when it must read a body again with the general path.
#[derive(Debug, Clone, Copy)]
struct GiveWay;

/// Something worth knowing about a message that does not stop it: counts that disagree, a date
/// label that had to be corrected, a value that is not of its variable's type.
///
/// | code | meaning |
/// |---|---|
/// | `cart_count_mismatch` | `num_cart_items` differs from the number of items |
/// | `date_zone_corrected` | a `PST`/`PDT` label the calendar contradicts was corrected |
/// | `invalid_amount`, `invalid_currency`, `invalid_date`, `invalid_number`, `invalid_flag`, `invalid_period` | the variable's value is not of its type: its typed getter is `None`, the text stays in [`Message::variables`] and [`Message::extra`], and the rules refuse when they need it |
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// A stable code (one of [`NOTICE_CODES`]).
    pub code: &'static str,
    /// The variable concerned.
    pub field: String,
}

/// Every notice code, for bindings to test against.
pub const NOTICE_CODES: &[&str] = &[
    "cart_count_mismatch",
    "date_zone_corrected",
    "invalid_amount",
    "invalid_currency",
    "invalid_date",
    "invalid_number",
    "invalid_flag",
    "invalid_period",
];

/// A group of a [`Message`] by name ([`Message::group`]): its members, serializing as the
/// canonical JSON has them (field order kept).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
pub enum Group<'m> {
    /// `fraud_filters`.
    FraudFilters(&'m [String]),
    /// `options`.
    Options(&'m [ItemOption]),
    /// `items`.
    Items(&'m [CartItem]),
    /// `masspay_items`.
    MasspayItems(&'m [MasspayItem]),
    /// `transactions`.
    Transactions(&'m [AdaptiveTransaction]),
}

/// One member of a [`Group`], serializing as the canonical JSON has it.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
pub enum Member<'m> {
    /// A fraud filter's name.
    FraudFilter(&'m str),
    /// An option.
    Option(&'m ItemOption),
    /// A cart item.
    Item(&'m CartItem),
    /// A Mass Pay item.
    MasspayItem(&'m MasspayItem),
    /// An Adaptive transaction.
    Transaction(&'m AdaptiveTransaction),
}

impl<'m> Group<'m> {
    /// The member at `index` (0-based), if there is one.
    pub fn member(self, index: usize) -> Option<Member<'m>> {
        Some(match self {
            Group::FraudFilters(all) => Member::FraudFilter(all.get(index)?),
            Group::Options(all) => Member::Option(all.get(index)?),
            Group::Items(all) => Member::Item(all.get(index)?),
            Group::MasspayItems(all) => Member::MasspayItem(all.get(index)?),
            Group::Transactions(all) => Member::Transaction(all.get(index)?),
        })
    }
}

impl<'m> Member<'m> {
    /// A group inside the member, by name: a cart item's `options`; `None` for any other.
    pub fn group(self, name: &str) -> Option<Group<'m>> {
        match (self, name) {
            (Member::Item(item), "options") => Some(Group::Options(&item.options)),
            (
                Member::FraudFilter(_)
                | Member::Option(_)
                | Member::Item(_)
                | Member::MasspayItem(_)
                | Member::Transaction(_),
                _,
            ) => None,
        }
    }
}

/// A typed IPN message. See the [module docs](crate::message).
///
/// One getter per variable of PayPal's IPN guide, named as PayPal names it; each is `None` when
/// the message does not carry the variable (or carries it empty, for typed variables: text keeps
/// `""`). Text is borrowed from the decoded variables the message owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    event: Event,
    family: Family,
    fields: Fields,
    /// Boxed: some 170 typed variables would make every move of a message kilobytes long.
    vars: Box<Vars>,
    options: Vec<ItemOption>,
    items: Vec<CartItem>,
    masspay_items: Vec<MasspayItem>,
    transactions: Vec<AdaptiveTransaction>,
    fraud_filters: Vec<String>,
    notices: Vec<Notice>,
    /// Positions of the variables not modelled.
    extra: Vec<u32>,
}

message! {
    // ---- transaction and notification ----
    /// What kind of notification this is.
    txn_type: vocab[TxnType];
    /// The transaction's id (absent from Mass Pay and some recurring-payment notifications).
    txn_id: text;
    /// For a refund, reversal or cancelled reversal: the original transaction's id.
    parent_txn_id: text;
    /// The receipt id shown to the buyer (the simulator spells it `receipt_ID`).
    receipt_id: text;
    /// PayPal's id of this notification, the same across resends.
    ipn_track_id: text;
    /// The message format's version.
    notify_version: text;
    /// PayPal's signature field (not checked: verification is the postback).
    verify_sign: text;
    /// The charset of the message, as PayPal named it.
    charset: text;
    /// `1` for a sandbox (or simulator) message.
    test_ipn: flag;
    /// `true` when the merchant resent this notification from the IPN history.
    resend: flag;
    /// The merchant's e-mail address the payment was sent to.
    business: text;
    /// The merchant's primary e-mail address.
    receiver_email: text;
    /// The merchant's account id.
    receiver_id: text;
    /// The buyer's country of residence (two letters).
    residence_country: text;
    /// The merchant's pass-through value.
    custom: text;
    /// The merchant's invoice number.
    invoice: text;
    /// The buyer's note.
    memo: text;
    /// The subject of the payment.
    transaction_subject: text;

    // ---- buyer ----
    /// The buyer's first name.
    first_name: text;
    /// The buyer's last name.
    last_name: text;
    /// The buyer's e-mail address.
    payer_email: text;
    /// The buyer's account id.
    payer_id: text;
    /// Whether the buyer's account is verified.
    payer_status: vocab[PayerStatus];
    /// The buyer's business name.
    payer_business_name: text;
    /// The buyer's phone number.
    contact_phone: text;
    /// The shipping address: name.
    address_name: text;
    /// The shipping address: street (may hold CR/LF between lines).
    address_street: text;
    /// The shipping address: city.
    address_city: text;
    /// The shipping address: state or province.
    address_state: text;
    /// The shipping address: postal code.
    address_zip: text;
    /// The shipping address: country.
    address_country: text;
    /// The shipping address: country code.
    address_country_code: text;
    /// Whether the address is confirmed.
    address_status: vocab[AddressStatus];

    // ---- payment ----
    /// The payment's status.
    payment_status: vocab[PaymentStatus];
    /// Why a payment is pending.
    pending_reason: vocab[PendingReason];
    /// Why a payment was reversed or refunded, or what a dispute is about.
    reason_code: vocab[ReasonCode];
    /// How the payment was funded.
    payment_type: vocab[PaymentType];
    /// Seller Protection coverage.
    protection_eligibility: vocab[ProtectionEligibility];
    /// When PayPal made the payment.
    payment_date: date;
    /// The currency of `mc_*` amounts.
    mc_currency: currency;
    /// The gross amount, before fees.
    mc_gross: money[mc_currency];
    /// PayPal's fee.
    mc_fee: money[mc_currency];
    /// Handling charged.
    mc_handling: money[mc_currency];
    /// Shipping charged.
    mc_shipping: money[mc_currency];
    /// Tax charged.
    tax: money[mc_currency];
    /// Shipping charged (older name).
    shipping: money[mc_currency];
    /// Handling charged (Express Checkout).
    handling_amount: money[mc_currency];
    /// Discount applied.
    discount: money[mc_currency];
    /// Discount applied to shipping.
    shipping_discount: money[mc_currency];
    /// Insurance charged.
    insurance_amount: money[mc_currency];
    /// The gross in US dollars (empty for other currencies; legacy).
    payment_gross: usd;
    /// The fee in US dollars (legacy).
    payment_fee: usd;
    /// The amount credited after conversion.
    settle_amount: money[settle_currency];
    /// The currency of `settle_amount`.
    settle_currency: currency;
    /// The conversion rate applied.
    exchange_rate: decimal;
    /// When an eCheck cleared.
    echeck_time_processed: date;
    /// The single item's name.
    item_name: text;
    /// The single item's merchant number.
    item_number: text;
    /// The single item's quantity.
    quantity: count;
    /// The shipping method chosen.
    shipping_method: text;
    /// The number of items in a cart.
    num_cart_items: count;
    /// Authorization id.
    auth_id: text;
    /// Authorization status.
    auth_status: vocab[AuthStatus];
    /// Amount authorized.
    auth_amount: money[mc_currency];
    /// When the authorization expires.
    auth_exp: date;
    /// Amount still capturable under the authorization.
    remaining_settle: money[mc_currency];
    /// Which kind of transaction the notification is about.
    transaction_entity: vocab[TransactionEntity];

    // ---- auction ----
    /// Whether the payment is for an auction.
    for_auction: flag;
    /// The buyer's auction id.
    auction_buyer_id: text;
    /// When the auction closed.
    auction_closing_date: date;
    /// The number of items won in a multi-item auction.
    auction_multi_item: count;

    // ---- recurring payments ----
    /// The recurring payments profile's id.
    recurring_payment_id: text;
    /// The merchant's invoice id for the profile.
    rp_invoice_id: text;
    /// The profile's state.
    profile_status: vocab[ProfileStatus];
    /// The product's name.
    product_name: text;
    /// The product's type.
    product_type: text;
    /// Trial or regular period.
    period_type: vocab_ws[PeriodType];
    /// How often payments are made (`Daily`, `Monthly`…).
    payment_cycle: text;
    /// The currency of the profile's amounts.
    currency_code: currency;
    /// The amount of each payment.
    amount: money[currency_code | mc_currency];
    /// The amount of each cycle.
    amount_per_cycle: money[currency_code | mc_currency];
    /// The initial payment's amount.
    initial_payment_amount: money[currency_code | mc_currency];
    /// The initial payment's status.
    initial_payment_status: text;
    /// The initial payment's transaction id.
    initial_payment_txn_id: text;
    /// The amount due and not yet paid.
    outstanding_balance: money[currency_code | mc_currency];
    /// When the next payment is due (`N/A`: none).
    next_payment_date: date;
    /// When the profile was created.
    time_created: date;

    // ---- subscriptions ----
    /// The subscription's id.
    subscr_id: text;
    /// The previous subscription's id (`subscr_modify`).
    old_subscr_id: text;
    /// When the subscription started or changed.
    subscr_date: date;
    /// When a modification takes effect.
    subscr_effective: date;
    /// Trial period 1.
    period1: period;
    /// Trial period 2.
    period2: period;
    /// The regular period.
    period3: period;
    /// Trial amount 1.
    amount1: money[mc_currency];
    /// Trial amount 2.
    amount2: money[mc_currency];
    /// The regular amount.
    amount3: money[mc_currency];
    /// Trial amount 1, in `mc_currency`.
    mc_amount1: money[mc_currency];
    /// Trial amount 2, in `mc_currency`.
    mc_amount2: money[mc_currency];
    /// The regular amount, in `mc_currency`.
    mc_amount3: money[mc_currency];
    /// Whether the subscription recurs.
    recurring: flag;
    /// Whether failed payments are retried.
    reattempt: flag;
    /// When a failed payment is retried.
    retry_at: date;
    /// How many payments the subscription makes.
    recur_times: count;
    /// The subscriber's user name.
    username: text;
    /// The subscriber's password (encrypted).
    password: text;

    // ---- billing agreements ----
    /// The billing agreement's id.
    mp_id: text;
    /// The billing agreement's status (`0` active, `1` inactive).
    mp_status: text;
    /// The billing agreement's description.
    mp_desc: text;
    /// The merchant's pass-through value for the billing agreement.
    mp_custom: text;
    /// The billing agreement's currency.
    mp_currency: currency;
    /// The day of the month the billing cycle starts.
    mp_cycle_start: count;

    // ---- disputes ----
    /// The dispute's id.
    case_id: text;
    /// The kind of dispute.
    case_type: vocab[CaseType];
    /// When the dispute was opened.
    case_creation_date: date;

    // ---- Adaptive Payments: Pay and Preapproval ----
    /// Pay, Preapproval or Adjustment.
    transaction_type: vocab[AdaptiveType];
    /// The request's status.
    status: vocab[AdaptiveStatus];
    /// The sender's e-mail address.
    sender_email: text;
    /// How the Pay request was made.
    action_type: vocab[ActionType];
    /// When the payment was requested.
    payment_request_date: date;
    /// Whether parallel payments are all reversed on error.
    reverse_all_parallel_payments_on_error: flag;
    /// The Pay request's key.
    pay_key: text;
    /// Who pays the fees.
    fees_payer: vocab[FeesPayer];
    /// The merchant's tracking id.
    tracking_id: text;
    /// The preapproval's key.
    preapproval_key: text;
    /// Where the sender went after paying.
    return_url: text;
    /// Where the sender went after cancelling.
    cancel_url: text;
    /// Where this notification was sent.
    ipn_notification_url: text;
    /// Whether the default shipping address was logged.
    log_default_shipping_address_in_transaction: flag;
    /// Whether the preapproval was approved.
    approved: flag;
    /// Payments made under the preapproval.
    current_number_of_payments: count;
    /// Total paid under the preapproval.
    current_total_amount_of_all_payments: money[currency_code];
    /// Attempts in the current period.
    current_period_attempts: count;
    /// Day of the month payments are made.
    date_of_month: count;
    /// Day of the week payments are made.
    day_of_week: text;
    /// When the preapproval starts.
    starting_date: date;
    /// When the preapproval ends.
    ending_date: date;
    /// Most that may be paid in all.
    max_total_amount_of_all_payments: money[currency_code];
    /// Most that may be paid at once.
    max_amount_per_payment: money[currency_code];
    /// Most payments allowed.
    max_number_of_payments: count;
    /// Most payments allowed per period.
    max_number_of_payments_per_period: count;
    /// The preapproval's period.
    payment_period: vocab[PaymentPeriod];
    /// Whether a PIN is needed.
    pin_type: vocab[PinType];

    // ---- Adaptive Accounts ----
    /// The key of an account created with Adaptive Accounts.
    account_key: text;
    /// The confirmation code of a created account.
    confirmation_code: text;
}

impl Message {
    /// Parses a raw body with the default limits: what [`Body::parse`](crate::Body::parse) then
    /// [`Body::decode`](crate::Body::decode) give (the same variables and the same errors, in
    /// one pass over the bytes for a regular body), then [`Message::from_fields`].
    pub fn parse(raw: &[u8]) -> Result<Message, Error> {
        let limits = crate::body::Limits::DEFAULT;
        // A regular body is decoded without checking its names, which are checked as each
        // variable is filed; anything irregular, and any name given twice, is read again by
        // the general path, which gives the exact error.
        if let Some(fields) = Fields::from_raw_unchecked(raw, limits)
            && let Ok(read) = Message::read(fields, Some(GiveWay))
        {
            return read;
        }
        Message::from_fields(Fields::from_raw(raw, limits)?)
    }

    /// Builds the typed message from decoded variables, which it keeps (see
    /// [`variables`](Message::variables)).
    pub fn from_fields(fields: Fields) -> Result<Message, Error> {
        let Ok(read) = Message::read::<Infallible>(fields, None);
        read
    }

    /// Reads `fields` into a message. With `unchecked`, the names have not been checked to be
    /// distinct: a name given twice (in any spelling) then gives way (`Err(unchecked)`) without
    /// an error, and the caller decodes again with the general path.
    fn read<G>(fields: Fields, unchecked: Option<G>) -> Result<Result<Message, Error>, G> {
        let mut vars = Box::<Vars>::default();
        // Asked only when a name's group depends on it (`mc_gross_1`…), once.
        let masspay = std::cell::OnceCell::new();
        let is_masspay = || {
            *masspay.get_or_init(|| {
                let txn_type = match unchecked {
                    // The lookup index is not built yet (the names are checked below).
                    Some(_) => fields.scan_for("txn_type"),
                    None => fields.get("txn_type"),
                };
                txn_type == Some("masspay")
            })
        };
        let mut groups = Groups::default();
        let mut extra = Vec::new();
        let mut notices = Vec::new();
        // Variables not modelled (group members and extras), whose names the variable table
        // does not check: checked together at the end when `unchecked`.
        let mut others: Vec<u32> = Vec::new();
        for f in &fields {
            let (key, value) = (f.key, f.value);
            // Positions are kept in 32 bits. Unreachable (every variable has a key of at least
            // a byte, and spans' offsets are 32-bit), but an error rather than a wrong position.
            let Ok(position) = u32::try_from(f.index) else {
                return match unchecked {
                    Some(give_way) => Err(give_way),
                    None => Ok(Err(Error::TooManyFields { limit: f.index })),
                };
            };
            let found = match alias_of(key) {
                // Two spellings of one variable are the same variable twice.
                Some(name) if unchecked.is_none() => match fields.field(name) {
                    Some(documented) => {
                        return Ok(Err(Error::DuplicateKey {
                            field: FieldName::new(key),
                            first: documented.index.min(f.index),
                            second: documented.index.max(f.index),
                        }));
                    }
                    None => setter(name, hash(name)),
                },
                Some(name) => setter(name, hash(name)),
                None => fields.hash_at(f.index).and_then(|h| setter(key, h)),
            };
            let filed = match found {
                Some((set, index)) => {
                    if !vars.carried.insert(index)
                        && let Some(give_way) = unchecked
                    {
                        return Err(give_way);
                    }
                    set(&mut vars, position, key, value).map(|()| true)
                }
                None => {
                    if unchecked.is_some() {
                        others.push(position);
                    }
                    groups.file(key, value, &is_masspay)
                }
            };
            match filed {
                Ok(true) => {}
                Ok(false) => extra.push(position),
                // A value that is not of its type loses nothing: it stays as text among the
                // variables and in `extra`, and a notice names it. The rules refuse when they
                // need it (see `Message::is_unreadable`).
                Err(e) if e.is_value_error() => {
                    notices.push(Notice {
                        code: e.code(),
                        field: key.to_owned(),
                    });
                    extra.push(position);
                }
                // Unchecked, a name given twice may come earlier: the general path gives the
                // first error.
                Err(_) if let Some(give_way) = unchecked => return Err(give_way),
                Err(Error::DuplicateKey { field, .. }) => {
                    return Ok(Err(Error::DuplicateKey {
                        field,
                        first: first_of_slot(&fields, f.index, is_masspay()),
                        second: f.index,
                    }));
                }
                Err(e) => return Ok(Err(e)),
            }
        }
        if let Some(give_way) = unchecked
            && !fields.distinct_at(&others)
        {
            return Err(give_way);
        }
        let mut m = Message {
            event: Event::Unknown,
            family: Family::Unknown,
            fields,
            vars,
            options: groups.options.into_values(|option| option),
            items: groups.items.into_values(|(item, _)| item),
            masspay_items: groups.masspay.into_values(|item| item),
            transactions: groups.transactions.into_values(|transaction| transaction),
            fraud_filters: groups.fraud_filters.into_values(|filter| filter),
            notices: Vec::new(),
            extra,
        };
        m.settle_groups(&mut notices);
        m.vars.settle(&mut notices);
        m.notices = notices;
        let signals = Signals {
            transaction_type: m.transaction_type(),
            txn_type: m.txn_type(),
            payment_status: m.payment_status(),
            pending_reason: m.pending_reason(),
            reason_code: m.reason_code(),
            account_key: m.account_key().is_some(),
            case_type: m.case_type().is_some(),
            auth_id: m.auth_id().is_some(),
            for_auction: m.for_auction() == Some(true),
        };
        (m.family, m.event) = (Family::of(&signals), Event::of(&signals));
        Ok(Ok(m))
    }

    /// The modelled variable `name`: its value, [`Lookup::Absent`], or [`Lookup::NotModelled`]
    /// when `name` is not one of [`MODELLED_VARIABLES`].
    ///
    /// ```
    /// use ipnkit::{Lookup, Message, Value};
    /// let m = Message::parse(b"custom=order-42")?;
    /// assert_eq!(m.get("custom"), Lookup::Value(Value::Text("order-42")));
    /// assert_eq!(m.get("txn_id"), Lookup::Absent);
    /// assert_eq!(m.get("txn_idd"), Lookup::NotModelled);
    /// # Ok::<(), ipnkit::Error>(())
    /// ```
    pub fn get(&self, name: &str) -> Lookup<'_> {
        match VARIABLES.get(name, hash(name)) {
            None => Lookup::NotModelled,
            Some(entry) => (entry.get)(self).map_or(Lookup::Absent, Lookup::Value),
        }
    }

    /// What happened, for a back office to dispatch on.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The family of notification (payment, cart, subscription…).
    pub fn family(&self) -> Family {
        self.family
    }

    /// Options of the single item of a Buy Now payment (`option_name1`, `option_selection1`…).
    pub fn options(&self) -> &[ItemOption] {
        &self.options
    }

    /// Cart items, by item number.
    pub fn items(&self) -> &[CartItem] {
        &self.items
    }

    /// Mass Pay payments, by item number.
    pub fn masspay_items(&self) -> &[MasspayItem] {
        &self.masspay_items
    }

    /// Adaptive Payments transactions, by index.
    pub fn transactions(&self) -> &[AdaptiveTransaction] {
        &self.transactions
    }

    /// `fraud_management_pending_filters_N`, by number.
    pub fn fraud_filters(&self) -> &[String] {
        &self.fraud_filters
    }

    /// The members of the group `name` (one of [`GROUPS`]) as [records](Record), or `None`
    /// when `name` is not a group.
    pub fn records(&self, name: &str) -> Option<Vec<Record<'_>>> {
        Some(match name {
            "options" => self.options.iter().map(ItemOption::record).collect(),
            "items" => self.items.iter().map(CartItem::record).collect(),
            "masspay_items" => self.masspay_items.iter().map(MasspayItem::record).collect(),
            "transactions" => self
                .transactions
                .iter()
                .map(AdaptiveTransaction::record)
                .collect(),
            _ => return None,
        })
    }

    /// The group `name` (one of [`GROUPS`], or `fraud_filters`), serializing as the canonical
    /// JSON has it; `None` when `name` is neither. What a binding hands its host for a group,
    /// whatever its name.
    pub fn group(&self, name: &str) -> Option<Group<'_>> {
        Some(match name {
            "fraud_filters" => Group::FraudFilters(&self.fraud_filters),
            "options" => Group::Options(&self.options),
            "items" => Group::Items(&self.items),
            "masspay_items" => Group::MasspayItems(&self.masspay_items),
            "transactions" => Group::Transactions(&self.transactions),
            _ => return None,
        })
    }

    /// Things worth knowing that are not errors.
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// Whether the variable `name` is present but its value is not of its type (a notice names
    /// it): a rule that needs it must refuse rather than act on nothing.
    ///
    /// ```
    /// let m = ipnkit::Message::parse(b"txn_type=web_accept&payment_status=Completed&mc_gross=1%2C00")?;
    /// assert_eq!(m.mc_gross(), None);
    /// assert!(m.is_unreadable("mc_gross"));
    /// assert_eq!(m.variables().get("mc_gross"), Some("1,00")); // nothing is lost
    /// # Ok::<(), ipnkit::Error>(())
    /// ```
    pub fn is_unreadable(&self, name: &str) -> bool {
        self.notices
            .iter()
            .any(|n| n.field == name && ErrorKind::Value.codes().any(|c| c.code() == n.code))
    }

    /// Variables this version does not model, and modelled ones whose value is not of their type
    /// (each with a [`Notice`]), in their original order.
    pub fn extra(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.extra
            .iter()
            .filter_map(|&i| self.fields.at(i as usize).map(|f| (f.key, f.value)))
    }

    /// Every original variable, in order, decoded: nothing is lost.
    pub fn variables(&self) -> &Fields {
        &self.fields
    }
}

#[cfg(test)]
mod tests;
