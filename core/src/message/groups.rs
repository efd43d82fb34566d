//! Groups of numbered variables: options, cart items, Mass Pay items, Adaptive transactions and
//! fraud filters, filled while the variables are read (in any order, under either spelling) and
//! offered as typed structs or as [records](Record) for bindings.

use serde::Serialize;

use crate::codes::codes;
use crate::decode::Fields;
use crate::error::{Error, FieldName};
use crate::key::Key;
use crate::money::{Currency, Money};
use crate::vocab::*;

use super::table::{
    set_count, set_currency, set_flag, set_money, set_money_cur, set_usd, set_word,
};
use super::{Message, Notice, Value};

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
    /// `btn_idN`: the id of the button the item was bought with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub btn_id: Option<String>,
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

/// One member of a group (a cart item, an option, a Mass Pay item, an Adaptive transaction) as a
/// binding converts it: the fields present, typed, named and ordered as in the canonical JSON.
pub type Record<'m> = Vec<(&'static str, Value<'m>)>;

/// The members of a group: (field name, kind).
pub type Members = &'static [(&'static str, &'static str)];

/// Every group of numbered variables: (name in the canonical JSON, the Rust type of a member,
/// the members' fields with their kinds, as in [`MODELLED_KINDS`](super::MODELLED_KINDS); `records:options` is a list of
/// options, `pairs` a list of (name, value)). `fraud_filters`, a plain list of text, is not here.
pub const GROUPS: &[(&str, &str, Members)] = &[
    (
        "options",
        "ItemOption",
        &[("number", "count"), ("name", "text"), ("selection", "text")],
    ),
    (
        "items",
        "CartItem",
        &[
            ("number", "count"),
            ("item_name", "text"),
            ("item_number", "text"),
            ("quantity", "count"),
            ("mc_gross", "money"),
            ("mc_shipping", "money"),
            ("mc_handling", "money"),
            ("tax", "money"),
            ("btn_id", "text"),
            ("options", "records:options"),
        ],
    ),
    (
        "masspay_items",
        "MasspayItem",
        &[
            ("number", "count"),
            ("masspay_txn_id", "text"),
            ("receiver_email", "text"),
            ("unique_id", "text"),
            ("status", "vocab:MasspayStatus"),
            ("mc_currency", "currency"),
            ("mc_gross", "money"),
            ("mc_fee", "money"),
            ("mc_handling", "money"),
            ("payment_gross", "money"),
            ("payment_fee", "money"),
        ],
    ),
    (
        "transactions",
        "AdaptiveTransaction",
        &[
            ("index", "count"),
            ("id", "text"),
            ("id_for_sender_txn", "text"),
            ("receiver", "text"),
            ("amount", "money"),
            ("is_primary_receiver", "flag"),
            ("status", "vocab:TransactionStatus"),
            ("status_for_sender_txn", "vocab:SenderTransactionStatus"),
            ("pending_reason", "vocab:AdaptivePendingReason"),
            ("payment_type", "text"),
            ("invoice_id", "text"),
            ("refund_id", "text"),
            ("refund_amount", "money"),
            ("refund_account_charged", "text"),
            ("extra", "pairs"),
        ],
    ),
];

/// Appends `(name, value)` to a record when the value is present.
fn member<'m>(record: &mut Record<'m>, name: &'static str, value: Option<Value<'m>>) {
    if let Some(value) = value {
        record.push((name, value));
    }
}

impl ItemOption {
    /// The option as a [`Record`].
    pub fn record(&self) -> Record<'_> {
        let mut r = vec![("number", Value::Count(self.number))];
        member(&mut r, "name", self.name.as_deref().map(Value::Text));
        member(
            &mut r,
            "selection",
            self.selection.as_deref().map(Value::Text),
        );
        r
    }
}

impl CartItem {
    /// The item as a [`Record`].
    pub fn record(&self) -> Record<'_> {
        let mut r = vec![("number", Value::Count(self.number))];
        member(
            &mut r,
            "item_name",
            self.item_name.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "item_number",
            self.item_number.as_deref().map(Value::Text),
        );
        member(&mut r, "quantity", self.quantity.map(Value::Count));
        member(&mut r, "mc_gross", self.mc_gross.map(Value::Money));
        member(&mut r, "mc_shipping", self.mc_shipping.map(Value::Money));
        member(&mut r, "mc_handling", self.mc_handling.map(Value::Money));
        member(&mut r, "tax", self.tax.map(Value::Money));
        member(&mut r, "btn_id", self.btn_id.as_deref().map(Value::Text));
        if !self.options.is_empty() {
            r.push(("options", Value::Options(&self.options)));
        }
        r
    }
}

impl MasspayItem {
    /// The item as a [`Record`].
    pub fn record(&self) -> Record<'_> {
        let mut r = vec![("number", Value::Count(self.number))];
        member(
            &mut r,
            "masspay_txn_id",
            self.masspay_txn_id.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "receiver_email",
            self.receiver_email.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "unique_id",
            self.unique_id.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "status",
            self.status.as_ref().map(|w| Value::Word(w.as_str())),
        );
        member(&mut r, "mc_currency", self.mc_currency.map(Value::Currency));
        member(&mut r, "mc_gross", self.mc_gross.map(Value::Money));
        member(&mut r, "mc_fee", self.mc_fee.map(Value::Money));
        member(&mut r, "mc_handling", self.mc_handling.map(Value::Money));
        member(
            &mut r,
            "payment_gross",
            self.payment_gross.map(Value::Money),
        );
        member(&mut r, "payment_fee", self.payment_fee.map(Value::Money));
        r
    }
}

impl AdaptiveTransaction {
    /// The transaction as a [`Record`].
    pub fn record(&self) -> Record<'_> {
        let mut r = vec![("index", Value::Count(self.index))];
        member(&mut r, "id", self.id.as_deref().map(Value::Text));
        member(
            &mut r,
            "id_for_sender_txn",
            self.id_for_sender_txn.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "receiver",
            self.receiver.as_deref().map(Value::Text),
        );
        member(&mut r, "amount", self.amount.map(Value::Money));
        member(
            &mut r,
            "is_primary_receiver",
            self.is_primary_receiver.map(Value::Flag),
        );
        member(
            &mut r,
            "status",
            self.status.as_ref().map(|w| Value::Word(w.as_str())),
        );
        member(
            &mut r,
            "status_for_sender_txn",
            self.status_for_sender_txn
                .as_ref()
                .map(|w| Value::Word(w.as_str())),
        );
        member(
            &mut r,
            "pending_reason",
            self.pending_reason
                .as_ref()
                .map(|w| Value::Word(w.as_str())),
        );
        member(
            &mut r,
            "payment_type",
            self.payment_type.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "invoice_id",
            self.invoice_id.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "refund_id",
            self.refund_id.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "refund_amount",
            self.refund_amount.map(Value::Money),
        );
        member(
            &mut r,
            "refund_account_charged",
            self.refund_account_charged.as_deref().map(Value::Text),
        );
        if !self.extra.is_empty() {
            r.push(("extra", Value::Pairs(&self.extra)));
        }
        r
    }
}

codes! {
    /// Per-item variables of a cart (`item_name1`, `mc_gross_1`…), by base name; the order is
    /// the bit each takes in an item's "filled" mask.
    pub(super) enum CartBase / CART_ITEM_BASES {
        /// `btn_id`
        BtnId = "btn_id",
        /// `item_name`
        ItemName = "item_name",
        /// `item_number`
        ItemNumber = "item_number",
        /// `quantity`
        Quantity = "quantity",
        /// `mc_gross`
        McGross = "mc_gross",
        /// `mc_shipping`
        McShipping = "mc_shipping",
        /// `mc_handling`
        McHandling = "mc_handling",
        /// `tax`
        Tax = "tax",
    }
}

// An item's "filled" mask is a u8: one bit per cart base.
const _: () = assert!(CartBase::ALL.len() <= 8);

codes! {
    /// Per-item variables of a Mass Pay notification, by base name.
    pub(super) enum MasspayBase / MASSPAY_BASES {
        /// `masspay_txn_id`
        MasspayTxnId = "masspay_txn_id",
        /// `receiver_email`
        ReceiverEmail = "receiver_email",
        /// `unique_id`
        UniqueId = "unique_id",
        /// `status`
        Status = "status",
        /// `mc_currency`
        McCurrency = "mc_currency",
        /// `mc_gross`
        McGross = "mc_gross",
        /// `mc_fee`
        McFee = "mc_fee",
        /// `mc_handling`
        McHandling = "mc_handling",
        /// `payment_gross`
        PaymentGross = "payment_gross",
        /// `payment_fee`
        PaymentFee = "payment_fee",
    }
}

/// Members of a group by number, kept in number order in one vector: members nearly always
/// arrive in order, so filing one is a look at the last member (a binary search otherwise),
/// with none of a B-tree's code or allocations.
pub(super) struct Numbered<T>(Vec<(u32, T)>);

impl<T> Default for Numbered<T> {
    fn default() -> Self {
        Numbered(Vec::new())
    }
}

impl<T> Numbered<T> {
    /// Where member `number` is (`Ok`) or goes (`Err`).
    fn find(&self, number: u32) -> Result<usize, usize> {
        match self.0.last() {
            Some(&(last, _)) if last < number => Err(self.0.len()),
            Some(&(last, _)) if last == number => Ok(self.0.len() - 1),
            None => Err(0),
            Some(_) => self.0.binary_search_by_key(&number, |&(n, _)| n),
        }
    }

    /// Member `number`, made by `new` when absent.
    #[allow(clippy::indexing_slicing)] // `at` was just found in the vector or inserted there
    pub(super) fn entry(&mut self, number: u32, new: impl FnOnce() -> T) -> &mut T {
        let at = match self.find(number) {
            Ok(at) => at,
            Err(at) => {
                self.0.insert(at, (number, new()));
                at
            }
        };
        &mut self.0[at].1
    }

    /// Files a new member; `false` (and nothing changed) when `number` is already filed.
    pub(super) fn insert_new(&mut self, number: u32, member: T) -> bool {
        match self.find(number) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, (number, member));
                true
            }
        }
    }

    /// The members in number order, each made into what the message keeps. Most messages
    /// have no member in most groups: an empty group costs nothing (collecting even an empty
    /// vector in place cost ~100 instructions, five a message).
    pub(super) fn into_values<U>(self, mut keep: impl FnMut(T) -> U) -> Vec<U> {
        if self.0.is_empty() {
            return Vec::new();
        }
        self.0.into_iter().map(|(_, member)| keep(member)).collect()
    }
}

/// Lists being filled while the variables are read, keyed by number.
#[derive(Default)]
pub(super) struct Groups {
    pub(super) options: Numbered<ItemOption>,
    /// Each item with the bits of [`CartBase`] already filled, whatever their spelling
    /// (`mc_gross_1` and `mc_gross1` fill one slot: both is a duplicate).
    pub(super) items: Numbered<(CartItem, u8)>,
    pub(super) masspay: Numbered<MasspayItem>,
    pub(super) transactions: Numbered<AdaptiveTransaction>,
    pub(super) fraud_filters: Numbered<String>,
}

fn option_entry(options: &mut Numbered<ItemOption>, number: u32) -> &mut ItemOption {
    options.entry(number, || ItemOption {
        number,
        ..ItemOption::default()
    })
}

/// The position of the first variable that fills the same group slot as the one at `second`
/// (another spelling of it): the cold path of a duplicate.
#[cold]
pub(super) fn first_of_slot(fields: &Fields, second: usize, masspay: bool) -> usize {
    /// The (base, number) a key fills in a group, if it fills one.
    fn slot(key: &str, masspay: bool) -> Option<(&str, u32)> {
        match Key::parse(key) {
            Key::Numbered { base, index, .. } => Groups::default()
                .file(key, "", &|| masspay)
                .ok()
                .filter(|filed| *filed)
                .map(|_| (base, index)),
            _ => None,
        }
    }
    let target = fields.at(second).and_then(|f| slot(f.key, masspay));
    fields
        .iter()
        .take(second)
        .find(|f| target.is_some() && slot(f.key, masspay) == target)
        .map_or(second, |f| f.index)
}

impl Groups {
    /// Files a numbered or array variable into its group; `false` when it belongs to none.
    /// `masspay` says whether the message is a Mass Pay notification, asked only of the names
    /// whose group depends on it (`mc_gross_1`…).
    pub(super) fn file(
        &mut self,
        key: &str,
        value: &str,
        masspay: &dyn Fn() -> bool,
    ) -> Result<bool, Error> {
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
                let (item, _) = self.items.entry(second, || {
                    (
                        CartItem {
                            number: second,
                            ..CartItem::default()
                        },
                        0,
                    )
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
                let t = self.transactions.entry(index, || AdaptiveTransaction {
                    index,
                    ..AdaptiveTransaction::default()
                });
                let text = || Some(value.to_owned());
                match field {
                    "id" => t.id = text(),
                    "id_for_sender_txn" => t.id_for_sender_txn = text(),
                    "receiver" => t.receiver = text(),
                    "amount" => set_money_cur(&mut t.amount, 0, key, value)?,
                    "is_primary_receiver" => set_flag(&mut t.is_primary_receiver, 0, key, value)?,
                    "status" => set_word::<TransactionStatus>(&mut t.status, 0, key, value)?,
                    "status_for_sender_txn" => set_word::<SenderTransactionStatus>(
                        &mut t.status_for_sender_txn,
                        0,
                        key,
                        value,
                    )?,
                    "pending_reason" => {
                        set_word::<AdaptivePendingReason>(&mut t.pending_reason, 0, key, value)?
                    }
                    "paymentType" => t.payment_type = text(),
                    "invoiceId" => t.invoice_id = text(),
                    "refund_id" => t.refund_id = text(),
                    "refund_amount" => set_money_cur(&mut t.refund_amount, 0, key, value)?,
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
        masspay: &dyn Fn() -> bool,
    ) -> Result<bool, Error> {
        use crate::key::Separator;
        if base == "fraud_management_pending_filters" {
            if !self.fraud_filters.insert_new(index, value.to_owned()) {
                return Err(Error::DuplicateKey {
                    field: FieldName::new(key),
                    first: 0, // filled in by the caller, which knows the positions
                    second: 0,
                });
            }
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
        let masspay_base = MasspayBase::from_code(base)
            .filter(|_| separator == Separator::Underscore)
            .filter(|_| masspay());
        if let Some(member) = masspay_base {
            let item = self.masspay.entry(index, || MasspayItem {
                number: index,
                ..MasspayItem::default()
            });
            let text = || Some(value.to_owned());
            match member {
                MasspayBase::MasspayTxnId => item.masspay_txn_id = text(),
                MasspayBase::ReceiverEmail => item.receiver_email = text(),
                MasspayBase::UniqueId => item.unique_id = text(),
                MasspayBase::Status => set_word::<MasspayStatus>(&mut item.status, 0, key, value)?,
                MasspayBase::McCurrency => set_currency(&mut item.mc_currency, 0, key, value)?,
                MasspayBase::McGross => set_money(&mut item.mc_gross, 0, key, value)?,
                MasspayBase::McFee => set_money(&mut item.mc_fee, 0, key, value)?,
                MasspayBase::McHandling => set_money(&mut item.mc_handling, 0, key, value)?,
                MasspayBase::PaymentGross => set_usd(&mut item.payment_gross, 0, key, value)?,
                MasspayBase::PaymentFee => set_usd(&mut item.payment_fee, 0, key, value)?,
            }
            return Ok(true);
        }
        if let Some(member) = CartBase::from_code(base).filter(|_| !masspay()) {
            let (item, filled) = self.items.entry(index, || {
                (
                    CartItem {
                        number: index,
                        ..CartItem::default()
                    },
                    0,
                )
            });
            // One bit per base, in declaration order (eight bases: a u8).
            let bit = 1u8 << (member as u8);
            if *filled & bit != 0 {
                return Err(Error::DuplicateKey {
                    field: FieldName::new(key),
                    first: 0, // filled in by the caller, which knows the positions
                    second: 0,
                });
            }
            *filled |= bit;
            match member {
                CartBase::BtnId => item.btn_id = Some(value.to_owned()),
                CartBase::ItemName => item.item_name = Some(value.to_owned()),
                CartBase::ItemNumber => item.item_number = Some(value.to_owned()),
                CartBase::Quantity => set_count(&mut item.quantity, 0, key, value)?,
                CartBase::McGross => set_money(&mut item.mc_gross, 0, key, value)?,
                CartBase::McShipping => set_money(&mut item.mc_shipping, 0, key, value)?,
                CartBase::McHandling => set_money(&mut item.mc_handling, 0, key, value)?,
                CartBase::Tax => set_money(&mut item.tax, 0, key, value)?,
            }
            return Ok(true);
        }
        Ok(false)
    }
}

impl Message {
    pub(super) fn settle_groups(&mut self, notices: &mut Vec<Notice>) {
        let currency = self.vars.mc_currency;
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
        if let Some(declared) = self.vars.num_cart_items
            && usize::try_from(declared).ok() != Some(self.items.len())
        {
            notices.push(Notice {
                code: "cart_count_mismatch",
                field: "num_cart_items".to_owned(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Numbered;

    #[test]
    fn members_come_out_in_number_order_whatever_order_they_were_filed_in() {
        let mut members = Numbered::default();
        for n in [3, 1, 7, 2, 7, 1, 10, 0] {
            *members.entry(n, || 0) += 1;
        }
        assert_eq!(members.into_values(|n| n), [1, 2, 1, 1, 2, 1]);
        let mut numbers = Numbered::default();
        for n in [5, 2, 9, 2] {
            numbers.entry(n, || n);
        }
        assert_eq!(numbers.into_values(|n: u32| n), [2, 5, 9]);
    }

    #[test]
    fn a_number_is_filed_new_once() {
        let mut filters = Numbered::default();
        assert!(filters.insert_new(2, "b"));
        assert!(filters.insert_new(1, "a"));
        assert!(!filters.insert_new(2, "again"));
        assert_eq!(filters.into_values(|f| f), ["a", "b"]);
    }
}
