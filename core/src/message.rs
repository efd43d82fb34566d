//! The typed message: every variable of PayPal's IPN variable reference, with exact money, real
//! dates and enums, numbered variables grouped into lists, and nothing lost.
//!
//! [`Message::from_fields`] reads decoded [`Fields`]. Known variables land in typed fields named as
//! PayPal names them; numbered ones are grouped (`items`, `options`, `masspay_items`,
//! `transactions`, `fraud_filters`); the rest go to [`Message::extra`] in their original order, and
//! [`Message::variables`] lists every original pair. A known variable whose value is not of its
//! type is an [`Error`] naming it (an empty value is treated as absent).
//!
//! Money pairs with the currency PayPal documents for it: `mc_*`, `tax`, `shipping`… with
//! `mc_currency`; `payment_gross`/`payment_fee` are US dollars; `settle_amount` with
//! `settle_currency`; recurring-payment amounts with `currency_code` (else `mc_currency`); Mass
//! Pay items with their own `mc_currency_N`; Adaptive amounts carry theirs (`USD 110.00`).
//!
//! ```
//! let m = ipnkit::Message::parse(b"txn_type=web_accept&payment_status=Completed&mc_gross=19.95\
//!     &mc_currency=EUR&payment_date=20%3A12%3A59+Jan+13%2C+2009+PST&custom=order-42")?;
//! assert_eq!(m.event, ipnkit::Event::PaymentCompleted);
//! assert_eq!(m.mc_gross.map(|g| g.to_string()).as_deref(), Some("19.95 EUR"));
//! assert_eq!(m.payment_date.map(|d| d.to_rfc3339()).as_deref(), Some("2009-01-14T04:12:59Z"));
//! assert_eq!(m.custom.as_deref(), Some("order-42"));
//! # Ok::<(), ipnkit::Error>(())
//! ```

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::body::Body;
use crate::date::PayPalDate;
use crate::decode::Fields;
use crate::error::{Error, FieldName};
use crate::event::{Event, Family};
use crate::key::Key;
use crate::money::{Currency, Money, amount_of, currency_of, money_with_currency_of};
use crate::vocab::*;

/// A subscription period: `3 M` is three months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Period {
    /// How many units.
    pub count: u32,
    /// `D`ays, `W`eeks, `M`onths or `Y`ears.
    pub unit: PeriodUnit,
}

/// The unit of a subscription [`Period`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PeriodUnit {
    /// Days.
    D,
    /// Weeks.
    W,
    /// Months.
    M,
    /// Years.
    Y,
}

impl Period {
    /// Parses `N U` with `U` one of `D`, `W`, `M`, `Y`.
    pub fn parse(text: &str) -> Option<Period> {
        let (count, unit) = text.split_once(' ')?;
        let unit = match unit {
            "D" => PeriodUnit::D,
            "W" => PeriodUnit::W,
            "M" => PeriodUnit::M,
            "Y" => PeriodUnit::Y,
            _ => return None,
        };
        Some(Period {
            count: parse_count(count)?,
            unit,
        })
    }
}

/// One option of an item: `option_name1` / `option_selection1` (the single item of a Buy Now
/// payment) or `option_name1_2` / `option_selection1_2` (option 1 of cart item 2).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ItemOption {
    /// The option's number (1 for `option_name1`).
    pub number: u32,
    /// `option_nameN`: the option's name, as the merchant set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `option_selectionN`: the buyer's choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<String>,
}

/// One item of a cart (`item_nameN`, `quantityN`, `mc_gross_N` or the simulator's `mc_grossN`…).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CartItem {
    /// The item's number in the cart (from 1).
    pub number: u32,
    /// `item_nameN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
    /// `item_numberN`: the merchant's item number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_number: Option<String>,
    /// `quantityN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// `mc_gross_N`: the item's gross, in `mc_currency`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_gross: Option<Money>,
    /// `mc_shipping_N` (or `mc_shippingN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_shipping: Option<Money>,
    /// `mc_handling_N` (or `mc_handlingN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_handling: Option<Money>,
    /// `taxN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<Money>,
    /// `option_nameM_N` / `option_selectionM_N`, by option number.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ItemOption>,
}

/// One payment of a Mass Pay notification (`masspay_txn_id_N`, `mc_gross_N`, `status_N`…).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct MasspayItem {
    /// The item's number (from 1).
    pub number: u32,
    /// `masspay_txn_id_N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masspay_txn_id: Option<String>,
    /// `receiver_email_N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver_email: Option<String>,
    /// `unique_id_N`: the merchant's id for this payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    /// `status_N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<MasspayStatus>,
    /// `mc_currency_N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_currency: Option<Currency>,
    /// `mc_gross_N`, in `mc_currency_N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_gross: Option<Money>,
    /// `mc_fee_N`, in `mc_currency_N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_fee: Option<Money>,
    /// `mc_handling_N`, in `mc_currency_N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_handling: Option<Money>,
    /// `payment_gross_N`, in US dollars (empty for other currencies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_gross: Option<Money>,
    /// `payment_fee_N`, in US dollars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_fee: Option<Money>,
}

/// One receiver's transaction of an Adaptive Payments Pay notification (`transaction[n].*`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AdaptiveTransaction {
    /// `n`: 0 for a simple payment, more for chained and parallel ones.
    pub index: u32,
    /// `transaction[n].id`: the receiver's transaction id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `transaction[n].id_for_sender_txn`: the sender's transaction id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_for_sender_txn: Option<String>,
    /// `transaction[n].receiver`: the receiver's e-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    /// `transaction[n].amount` (`USD 110.00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// `transaction[n].is_primary_receiver`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_primary_receiver: Option<bool>,
    /// `transaction[n].status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<TransactionStatus>,
    /// `transaction[n].status_for_sender_txn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_for_sender_txn: Option<SenderTransactionStatus>,
    /// `transaction[n].pending_reason`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_reason: Option<AdaptivePendingReason>,
    /// `transaction[n].paymentType` (`SERVICE`, `GOODS`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_type: Option<String>,
    /// `transaction[n].invoiceId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
    /// `transaction[n].refund_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    /// `transaction[n].refund_amount` (`USD 10.00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_amount: Option<Money>,
    /// `transaction[n].refund_account_charged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_account_charged: Option<String>,
    /// Other `transaction[n].*` variables, in order, under their field name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<(String, String)>,
}

/// Something worth knowing about a message that is not an error: counts that disagree, a date
/// label that had to be corrected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// A stable code: `cart_count_mismatch` or `date_zone_corrected`.
    pub code: &'static str,
    /// The variable concerned.
    pub field: String,
}

/// Every notice code, for bindings to test against.
pub const NOTICE_CODES: &[&str] = &["cart_count_mismatch", "date_zone_corrected"];

/// How a variable's text becomes its typed value. The type of the field is `Option<kind's type>`.
macro_rules! field_type {
    (text []) => {
        String
    };
    (flag []) => {
        bool
    };
    (count []) => {
        u32
    };
    (decimal []) => {
        Decimal
    };
    (currency []) => {
        Currency
    };
    (date []) => {
        PayPalDate
    };
    (money [$($src:tt)*]) => {
        Money
    };
    (usd []) => {
        Money
    };
    (money_cur []) => {
        Money
    };
    (period []) => {
        Period
    };
    (vocab [$t:ident]) => {
        $t
    };
    (vocab_ws [$t:ident]) => {
        $t
    };
}

macro_rules! parse_value {
    (text [], $k:expr, $v:expr) => {{
        let _ = $k;
        Some($v.to_owned())
    }};
    (flag [], $k:expr, $v:expr) => {
        non_empty($v).map(|v| flag_of($k, v)).transpose()?
    };
    (count [], $k:expr, $v:expr) => {
        non_empty($v).map(|v| count_of($k, v)).transpose()?
    };
    (decimal [], $k:expr, $v:expr) => {
        non_empty($v).map(|v| amount_of($k, v)).transpose()?
    };
    (currency [], $k:expr, $v:expr) => {
        non_empty($v).map(|v| currency_of($k, v)).transpose()?
    };
    (date [], $k:expr, $v:expr) => {
        PayPalDate::parse($k, $v)?
    };
    (money [$($src:tt)*], $k:expr, $v:expr) => {
        money_of($k, $v)?
    };
    (usd [], $k:expr, $v:expr) => {
        money_of($k, $v)?.map(|m| Money {
            currency: Some(Currency::USD),
            ..m
        })
    };
    (money_cur [], $k:expr, $v:expr) => {
        non_empty($v)
            .map(|v| money_with_currency_of($k, v))
            .transpose()?
    };
    (period [], $k:expr, $v:expr) => {
        non_empty($v).map(|v| period_of($k, v)).transpose()?
    };
    (vocab [$t:ident], $k:expr, $v:expr) => {{
        let _ = $k;
        non_empty($v).map($t::parse)
    }};
    // PayPal writes `period_type` with a leading space (`+Regular`).
    (vocab_ws [$t:ident], $k:expr, $v:expr) => {{
        let _ = $k;
        non_empty($v).map(|v| $t::parse(v.trim_start()))
    }};
}

/// Gives money its currency once every variable is read (the currency may come later).
macro_rules! settle_currency {
    ($m:ident, $name:ident, money [$($src:ident)|+]) => {
        if let Some(money) = &mut $m.$name {
            money.currency = None $(.or($m.$src))+;
        }
    };
    ($m:ident, $name:ident, $($other:tt)*) => {};
}

macro_rules! check_date {
    ($m:ident, $notices:ident, $name:ident, date) => {
        if $m.$name.as_ref().is_some_and(|d| d.zone_corrected) {
            $notices.push(Notice {
                code: "date_zone_corrected",
                field: stringify!($name).to_owned(),
            });
        }
    };
    ($m:ident, $notices:ident, $name:ident, $($other:tt)*) => {};
}

type Setter = fn(&mut Message, &str, &str) -> Result<(), Error>;

macro_rules! message {
    ( $( $(#[doc = $doc:literal])* $name:ident : $kind:ident $([$($arg:tt)*])? ; )* ) => {
        /// A typed IPN message. See the [module docs](crate::message).
        ///
        /// Fields are named as PayPal names its variables; each is `None` when the message does
        /// not carry it (or carries it empty, for typed fields: text fields keep `""`).
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[non_exhaustive]
        pub struct Message {
            /// What happened, for a back office to dispatch on.
            pub event: Event,
            /// The family of notification (payment, cart, subscription…).
            pub family: Family,
            $(
                $(#[doc = $doc])*
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $name: Option<field_type!($kind [$($($arg)*)?])>,
            )*
            /// Options of the single item of a Buy Now payment (`option_name1`, `option_selection1`…).
            #[serde(skip_serializing_if = "Vec::is_empty")]
            pub options: Vec<ItemOption>,
            /// Cart items, by item number.
            #[serde(skip_serializing_if = "Vec::is_empty")]
            pub items: Vec<CartItem>,
            /// Mass Pay payments, by item number.
            #[serde(skip_serializing_if = "Vec::is_empty")]
            pub masspay_items: Vec<MasspayItem>,
            /// Adaptive Payments transactions, by index.
            #[serde(skip_serializing_if = "Vec::is_empty")]
            pub transactions: Vec<AdaptiveTransaction>,
            /// `fraud_management_pending_filters_N`, by number.
            #[serde(skip_serializing_if = "Vec::is_empty")]
            pub fraud_filters: Vec<String>,
            /// Things worth knowing that are not errors.
            #[serde(skip_serializing_if = "Vec::is_empty")]
            pub notices: Vec<Notice>,
            /// Variables this version does not model, in their original order.
            #[serde(skip_serializing_if = "Vec::is_empty")]
            pub extra: Vec<(String, String)>,
            /// Every original variable, in order.
            #[serde(skip)]
            variables: Vec<(String, String)>,
        }

        /// Every variable name with a typed field, in declaration order.
        pub const MODELLED_VARIABLES: &[&str] = &[$(stringify!($name)),*];

        static SETTERS: LazyLock<Vec<(&'static str, Setter)>> = LazyLock::new(|| {
            let mut v: Vec<(&'static str, Setter)> = vec![
                $( (stringify!($name), |m: &mut Message, k: &str, v: &str| -> Result<(), Error> {
                    m.$name = parse_value!($kind [$($($arg)*)?], k, v);
                    Ok(())
                }), )*
            ];
            v.sort_unstable_by_key(|&(name, _)| name);
            v
        });

        impl Message {
            fn empty() -> Message {
                Message {
                    event: Event::Unknown,
                    family: Family::Unknown,
                    $( $name: None, )*
                    options: Vec::new(),
                    items: Vec::new(),
                    masspay_items: Vec::new(),
                    transactions: Vec::new(),
                    fraud_filters: Vec::new(),
                    notices: Vec::new(),
                    extra: Vec::new(),
                    variables: Vec::new(),
                }
            }

            fn settle(&mut self) {
                $( settle_currency!(self, $name, $kind $([$($arg)*])?); )*
                let mut notices = Vec::new();
                $( check_date!(self, notices, $name, $kind); )*
                self.notices.extend(notices);
            }
        }
    };
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

/// Aliases PayPal (or its simulator) has used for a modelled variable.
fn canonical_name(key: &str) -> &str {
    match key {
        "receipt_ID" => "receipt_id",
        other => other,
    }
}

fn setter(key: &str) -> Option<Setter> {
    let setters = &*SETTERS;
    setters
        .binary_search_by(|&(name, _)| name.cmp(key))
        .ok()
        .and_then(|i| setters.get(i))
        .map(|&(_, f)| f)
}

fn non_empty(v: &str) -> Option<&str> {
    (!v.is_empty()).then_some(v)
}

fn parse_count(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn count_of(field: &str, text: &str) -> Result<u32, Error> {
    parse_count(text).ok_or_else(|| Error::InvalidNumber {
        field: FieldName::new(field),
    })
}

fn flag_of(field: &str, text: &str) -> Result<bool, Error> {
    match text {
        "1" => Ok(true),
        "0" => Ok(false),
        t if t.eq_ignore_ascii_case("true") => Ok(true),
        t if t.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(Error::InvalidFlag {
            field: FieldName::new(field),
        }),
    }
}

fn period_of(field: &str, text: &str) -> Result<Period, Error> {
    Period::parse(text).ok_or_else(|| Error::InvalidPeriod {
        field: FieldName::new(field),
    })
}

/// Per-item variables of a cart, by base name.
const CART_ITEM_BASES: &[&str] = &[
    "item_name",
    "item_number",
    "quantity",
    "mc_gross",
    "mc_shipping",
    "mc_handling",
    "tax",
];

/// Per-item variables of a Mass Pay notification, by base name.
const MASSPAY_BASES: &[&str] = &[
    "masspay_txn_id",
    "receiver_email",
    "unique_id",
    "status",
    "mc_currency",
    "mc_gross",
    "mc_fee",
    "mc_handling",
    "payment_gross",
    "payment_fee",
];

/// Lists being filled while the variables are read, keyed by number.
#[derive(Default)]
struct Groups {
    options: BTreeMap<u32, ItemOption>,
    items: BTreeMap<u32, CartItem>,
    masspay: BTreeMap<u32, MasspayItem>,
    transactions: BTreeMap<u32, AdaptiveTransaction>,
    fraud_filters: BTreeMap<u32, String>,
}

fn money_of(key: &str, value: &str) -> Result<Option<Money>, Error> {
    Ok(non_empty(value)
        .map(|v| amount_of(key, v))
        .transpose()?
        .map(|amount| Money {
            amount,
            currency: None,
        }))
}

fn option_entry(options: &mut BTreeMap<u32, ItemOption>, number: u32) -> &mut ItemOption {
    options.entry(number).or_insert_with(|| ItemOption {
        number,
        ..ItemOption::default()
    })
}

impl Groups {
    /// Files a numbered or array variable into its group; `false` when it belongs to none.
    fn file(&mut self, key: &str, value: &str, masspay: bool) -> Result<bool, Error> {
        match Key::parse(key) {
            Key::Numbered {
                base,
                index,
                separator,
            } => self.numbered(key, value, base, index, separator, masspay),
            Key::DoubleNumbered {
                base,
                first,
                second,
            } if base == "option_name" || base == "option_selection" => {
                let item = self.items.entry(second).or_insert_with(|| CartItem {
                    number: second,
                    ..CartItem::default()
                });
                let option = match item.options.iter().position(|o| o.number == first) {
                    Some(i) => item.options.get_mut(i),
                    None => {
                        item.options.push(ItemOption {
                            number: first,
                            ..ItemOption::default()
                        });
                        item.options.last_mut()
                    }
                };
                if let Some(option) = option {
                    if base == "option_name" {
                        option.name = Some(value.to_owned());
                    } else {
                        option.selection = Some(value.to_owned());
                    }
                }
                Ok(true)
            }
            Key::Array {
                array: "transaction",
                index,
                field,
            } => {
                let t = self
                    .transactions
                    .entry(index)
                    .or_insert_with(|| AdaptiveTransaction {
                        index,
                        ..AdaptiveTransaction::default()
                    });
                let text = || Some(value.to_owned());
                match field {
                    "id" => t.id = text(),
                    "id_for_sender_txn" => t.id_for_sender_txn = text(),
                    "receiver" => t.receiver = text(),
                    "amount" => t.amount = parse_value!(money_cur [], key, value),
                    "is_primary_receiver" => {
                        t.is_primary_receiver = parse_value!(flag [], key, value)
                    }
                    "status" => t.status = parse_value!(vocab[TransactionStatus], key, value),
                    "status_for_sender_txn" => {
                        t.status_for_sender_txn =
                            parse_value!(vocab[SenderTransactionStatus], key, value)
                    }
                    "pending_reason" => {
                        t.pending_reason = parse_value!(vocab[AdaptivePendingReason], key, value)
                    }
                    "paymentType" => t.payment_type = text(),
                    "invoiceId" => t.invoice_id = text(),
                    "refund_id" => t.refund_id = text(),
                    "refund_amount" => t.refund_amount = parse_value!(money_cur [], key, value),
                    "refund_account_charged" => t.refund_account_charged = text(),
                    other => t.extra.push((other.to_owned(), value.to_owned())),
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn numbered(
        &mut self,
        key: &str,
        value: &str,
        base: &str,
        index: u32,
        separator: crate::key::Separator,
        masspay: bool,
    ) -> Result<bool, Error> {
        use crate::key::Separator;
        if base == "fraud_management_pending_filters" {
            self.fraud_filters.insert(index, value.to_owned());
            return Ok(true);
        }
        if (base == "option_name" || base == "option_selection") && separator == Separator::None {
            let option = option_entry(&mut self.options, index);
            if base == "option_name" {
                option.name = Some(value.to_owned());
            } else {
                option.selection = Some(value.to_owned());
            }
            return Ok(true);
        }
        if masspay && separator == Separator::Underscore && MASSPAY_BASES.contains(&base) {
            let item = self.masspay.entry(index).or_insert_with(|| MasspayItem {
                number: index,
                ..MasspayItem::default()
            });
            let text = || Some(value.to_owned());
            match base {
                "masspay_txn_id" => item.masspay_txn_id = text(),
                "receiver_email" => item.receiver_email = text(),
                "unique_id" => item.unique_id = text(),
                "status" => item.status = parse_value!(vocab[MasspayStatus], key, value),
                "mc_currency" => item.mc_currency = parse_value!(currency [], key, value),
                "mc_gross" => item.mc_gross = money_of(key, value)?,
                "mc_fee" => item.mc_fee = money_of(key, value)?,
                "mc_handling" => item.mc_handling = money_of(key, value)?,
                "payment_gross" => item.payment_gross = parse_value!(usd [], key, value),
                _ => item.payment_fee = parse_value!(usd [], key, value),
            }
            return Ok(true);
        }
        if !masspay && CART_ITEM_BASES.contains(&base) {
            let item = self.items.entry(index).or_insert_with(|| CartItem {
                number: index,
                ..CartItem::default()
            });
            match base {
                "item_name" => item.item_name = Some(value.to_owned()),
                "item_number" => item.item_number = Some(value.to_owned()),
                "quantity" => item.quantity = parse_value!(count [], key, value),
                "mc_gross" => item.mc_gross = money_of(key, value)?,
                "mc_shipping" => item.mc_shipping = money_of(key, value)?,
                "mc_handling" => item.mc_handling = money_of(key, value)?,
                _ => item.tax = money_of(key, value)?,
            }
            return Ok(true);
        }
        Ok(false)
    }
}

impl Message {
    /// Parses a raw body with the default limits: [`Body::parse`], [`Body::decode`], then
    /// [`Message::from_fields`].
    pub fn parse(raw: &[u8]) -> Result<Message, Error> {
        let body = Body::parse(raw)?;
        let fields = body.decode()?;
        Message::from_fields(&fields)
    }

    /// Builds the typed message from decoded variables.
    pub fn from_fields(fields: &Fields<'_>) -> Result<Message, Error> {
        let mut m = Message::empty();
        let masspay = fields.get("txn_type") == Some("masspay");
        let mut groups = Groups::default();
        m.variables.reserve(fields.len());
        for f in fields {
            let (key, value) = (&*f.key, &*f.value);
            m.variables.push((key.to_owned(), value.to_owned()));
            if let Some(set) = setter(canonical_name(key)) {
                // Aliases land in the modelled field unless the canonical spelling is there too.
                if key == canonical_name(key) || fields.get(canonical_name(key)).is_none() {
                    set(&mut m, key, value)?;
                    continue;
                }
            }
            if !groups.file(key, value, masspay)? {
                m.extra.push((key.to_owned(), value.to_owned()));
            }
        }
        m.options = groups.options.into_values().collect();
        m.items = groups.items.into_values().collect();
        m.masspay_items = groups.masspay.into_values().collect();
        m.transactions = groups.transactions.into_values().collect();
        m.fraud_filters = groups.fraud_filters.into_values().collect();
        m.settle_groups();
        m.settle();
        m.family = Family::of(&m);
        m.event = Event::of(&m);
        Ok(m)
    }

    fn settle_groups(&mut self) {
        let currency = self.mc_currency;
        for item in &mut self.items {
            for money in [
                &mut item.mc_gross,
                &mut item.mc_shipping,
                &mut item.mc_handling,
                &mut item.tax,
            ]
            .into_iter()
            .flatten()
            {
                money.currency = currency;
            }
        }
        for item in &mut self.masspay_items {
            let currency = item.mc_currency;
            for money in [&mut item.mc_gross, &mut item.mc_fee, &mut item.mc_handling]
                .into_iter()
                .flatten()
            {
                money.currency = currency;
            }
        }
        if let Some(declared) = self.num_cart_items
            && usize::try_from(declared).ok() != Some(self.items.len())
        {
            self.notices.push(Notice {
                code: "cart_count_mismatch",
                field: "num_cart_items".to_owned(),
            });
        }
    }

    /// Every original variable, in order, decoded.
    pub fn variables(&self) -> &[(String, String)] {
        &self.variables
    }

    /// The canonical JSON of DESIGN.md, compact. Every binding and the CLI print this.
    pub fn to_canonical_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The canonical JSON, indented for people (and the golden files).
    pub fn to_canonical_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
