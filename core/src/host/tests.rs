use super::*;
use crate::Decimal;

const GOOD: &[u8] = b"txn_type=web_accept&txn_id=4RT58091KX0312345&payment_status=Completed\
    &mc_gross=24.90&mc_currency=EUR&receiver_email=shop%40example.net&test_ipn=1";

fn config() -> Config {
    Config::from_json(r#"{"environment": "sandbox", "receiver_emails": ["shop@example.net"]}"#)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn expected() -> Expected {
    Expected::from_json(r#"{"amount": "24.90", "currency": "EUR"}"#)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn notification(raw: &[u8]) -> Notification {
    Notification::new(raw.to_vec(), Limits::DEFAULT).unwrap_or_else(|e| panic!("{e}"))
}

const VERIFIED: Answer<'static> = Answer::Http {
    status: 200,
    body: b"VERIFIED",
};

fn decide(raw: &[u8], answer: Answer<'_>, stored: &[&str]) -> Decision {
    notification(raw)
        .decide(answer, &config(), &expected(), stored)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// (code, field) of a configuration or expectation error.
fn refusal<T: std::fmt::Debug>(result: Result<T, Error>) -> (String, String) {
    match result {
        Ok(v) => panic!("accepted: {v:?}"),
        Err(e) => (e.code().to_owned(), e.field().unwrap_or("-").to_owned()),
    }
}

fn pair(code: &str, field: &str) -> (String, String) {
    (code.to_owned(), field.to_owned())
}

#[test]
fn configuration_errors_name_the_key_and_never_the_value() {
    let cases = [
        (
            r#"{"environment": "live", "receiver_email": ["a@b"]}"#,
            pair("invalid_configuration", "receiver_email"),
        ),
        (
            r#"{"environment": "live", "receiver_emails": "shop@example.net"}"#,
            pair("wrong_type", "receiver_emails"),
        ),
        (
            r#"{"environment": "live", "receiver_emails": ["a@b", 7]}"#,
            pair("wrong_type", "receiver_emails[1]"),
        ),
        (
            r#"{"receiver_emails": []}"#,
            pair("invalid_configuration", "environment"),
        ),
        (
            r#"{"environment": "production"}"#,
            pair("invalid_configuration", "environment"),
        ),
        (
            r#"{"environment": "live", "final_statuses": ["refunded"]}"#,
            pair("invalid_configuration", "final_statuses"),
        ),
        (
            r#"{"environment": "live", "limits": {"max_fields": 0}}"#,
            pair("invalid_configuration", "limits.max_fields"),
        ),
        (
            r#"{"environment": "live", "limits": {"max_fields": -1}}"#,
            pair("invalid_configuration", "limits.max_fields"),
        ),
        (
            r#"{"environment": "live", "limits": {"max_feilds": 10}}"#,
            pair("invalid_configuration", "limits.max_feilds"),
        ),
        (
            r#"{"environment": "live", "limits": {"max_fields": 1.5}}"#,
            pair("wrong_type", "limits.max_fields"),
        ),
        (
            r#"{"environment": "live", "verify_url_for_testing": "ftp://x"}"#,
            pair("invalid_configuration", "verify_url_for_testing"),
        ),
        (r#"["live"]"#, pair("wrong_type", ".")),
        (r#"null"#, pair("wrong_type", ".")),
        (
            r#"{"environment": null}"#,
            pair("wrong_type", "environment"),
        ),
        (
            r#"{"environment": "live", "receiver_emails": null}"#,
            pair("wrong_type", "receiver_emails"),
        ),
        (
            r#"{"environment": "live", "environment": "sandbox"}"#,
            pair("invalid_configuration", "environment"),
        ),
        (
            r#"{"environment": "live", "limits": {"max_fields": 5, "max_fields": 6}}"#,
            pair("invalid_configuration", "limits.max_fields"),
        ),
        (
            r#"{"environment": "live", "limits": {"max_fields": 10.0}}"#,
            pair("wrong_type", "limits.max_fields"),
        ),
        (
            r#"{"environment": "live", "limits": {"max_fields": 18446744073709551615}}"#,
            pair("invalid_configuration", "limits.max_fields"),
        ),
        (
            r#"{"environment": "live", "limits": "big"}"#,
            pair("wrong_type", "limits"),
        ),
        (
            r#"{"environment": "live", "final_statuses": ["Completed", 3]}"#,
            pair("wrong_type", "final_statuses[1]"),
        ),
        (
            r#"{"x": 1, "environment": "live"}"#,
            pair("invalid_configuration", "x"),
        ),
        (
            r#"{"environment": "live"} trailing"#,
            pair("invalid_configuration", "."),
        ),
    ];
    for (json, want) in cases {
        let got = refusal(Config::from_json(json));
        assert_eq!(got, want, "{json}");
        let e = Config::from_json(json)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            !e.contains("shop@") && !e.contains("production") && !e.contains("refunded"),
            "{e}"
        );
    }
}

#[test]
fn a_configuration_is_read_exactly() {
    let c = Config::from_json(
        r#"{"environment": "live", "receiver_emails": ["Shop@Example.net"], "receiver_ids": ["SHOPID"],
            "final_statuses": ["Completed", "Processed"], "limits": {"max_fields": 10},
            "verify_url_for_testing": "http://127.0.0.1:9/"}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.environment(), Environment::Live);
    assert_eq!(c.limits().max_fields, 10);
    assert_eq!(c.limits().max_body_bytes, Limits::DEFAULT.max_body_bytes);
    let n = notification(GOOD);
    assert_eq!(
        n.verification_request(&c).url,
        "http://127.0.0.1:9/cgi-bin/webscr"
    );
    let over = Notification::new(
        b"a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11".to_vec(),
        c.limits(),
    );
    assert_eq!(over.err().map(|e| e.code()), Some("too_many_fields"));
}

#[test]
fn expected_amounts_are_exact_strings_and_never_silently_skipped() {
    let cases = [
        (
            r#"{"amount": 24.9, "currency": "EUR"}"#,
            pair("wrong_type", "amount"),
        ),
        (
            r#"{"amount": 25, "currency": "EUR"}"#,
            pair("wrong_type", "amount"),
        ),
        (
            r#"{"amount": null, "currency": "EUR"}"#,
            pair("invalid_configuration", "amount"),
        ),
        (
            r#"{"currency": "EUR"}"#,
            pair("invalid_configuration", "amount"),
        ),
        (
            r#"{"amount": "24,90", "currency": "EUR"}"#,
            pair("invalid_configuration", "amount"),
        ),
        (
            r#"{"amount": "24.90"}"#,
            pair("invalid_configuration", "currency"),
        ),
        (
            r#"{"amount": "24.90", "currency": "eur"}"#,
            pair("invalid_configuration", "currency"),
        ),
        (
            r#"{"amount": "24.90", "currency": "EUR", "any_amount": true}"#,
            pair("invalid_configuration", "any_amount"),
        ),
        (
            r#"{"amount": "24.90", "currency": "EUR", "no_order": true}"#,
            pair("invalid_configuration", "no_order"),
        ),
        (
            r#"{"any_amount": true, "no_order": true}"#,
            pair("invalid_configuration", "no_order"),
        ),
        (
            r#"{"no_order": true, "currency": "EUR"}"#,
            pair("invalid_configuration", "currency"),
        ),
        (
            r#"{"no_amount": true}"#,
            pair("invalid_configuration", "no_amount"),
        ),
        (
            r#"{"currency": "EUR"}"#,
            pair("invalid_configuration", "amount"),
        ),
        (
            r#"{"amount": "24.90", "currency": "EUR", "amout": "1"}"#,
            pair("invalid_configuration", "amout"),
        ),
        (
            r#"{"amount": "1.00", "amount": "2.00", "currency": "EUR"}"#,
            pair("invalid_configuration", "amount"),
        ),
        (r#"{"any_amount": null}"#, pair("wrong_type", "any_amount")),
        (r#"{"no_order": "yes"}"#, pair("wrong_type", "no_order")),
        (
            r#"{"amount": "1.00", "currency": null}"#,
            pair("invalid_configuration", "currency"),
        ),
    ];
    for (json, want) in cases {
        assert_eq!(refusal(Expected::from_json(json)), want, "{json}");
    }
    let read = |json: &str| Expected::from_json(json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(expected(), Expected::order(Decimal::new(2490, 2), eur()));
    assert_eq!(read(r#"{"any_amount": true}"#), Expected::any_amount());
    assert_eq!(
        read(r#"{"any_amount": true, "currency": "JPY"}"#),
        Expected::AnyAmount {
            currency: Currency::parse("JPY")
        }
    );
    assert_eq!(read(r#"{"no_order": true}"#), Expected::NoOrder);
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap_or_else(|| panic!("EUR"))
}

fn codes(violations: &[Violation]) -> Vec<&'static str> {
    violations.iter().map(|v| v.code.code()).collect()
}

/// The violations of a refusal by the rules, and whether the message is this merchant's.
fn broken(d: &Decision) -> (Vec<&'static str>, bool) {
    match d {
        Decision::Refuse(Refusal::Rules {
            violations, ours, ..
        }) => (codes(violations), *ours),
        other => panic!("not refused by the rules: {other:?}"),
    }
}

#[test]
fn decide_gives_one_action_for_every_answer() {
    let d = decide(GOOD, VERIFIED, &[]);
    let Decision::Act(act) = &d else {
        panic!("not act: {d:?}")
    };
    assert_eq!(
        (act.about.event, act.about.family, &act.delivery, act.amount),
        (
            "payment_completed",
            "payment",
            &Delivery::New,
            AmountCheck::Matched
        )
    );
    assert_eq!(act.about.lookup_id, "txn:4RT58091KX0312345");
    let key = act.about.delivery_key.clone();

    let again = decide(GOOD, VERIFIED, &[key.as_str()]);
    assert!(
        matches!(&again, Decision::Skip(Skip { delivery: Delivery::Duplicate, about }) if about.delivery_key == key),
        "{again:?}"
    );

    let invalid = decide(
        GOOD,
        Answer::Http {
            status: 200,
            body: b"INVALID",
        },
        &[],
    );
    assert_eq!(invalid, Decision::Refuse(Refusal::NotVerified));

    for (answer, reason) in [
        (
            Answer::Http {
                status: 503,
                body: b"VERIFIED",
            },
            "http_status",
        ),
        (
            Answer::Http {
                status: 200,
                body: b"<html>VERIFIED</html>",
            },
            "unrecognized_body",
        ),
        (Answer::BodyUnread { status: 200 }, "body_unread"),
        (Answer::BodyUnread { status: 502 }, "http_status"),
        (Answer::NoAnswer, "no_answer"),
    ] {
        let d = decide(GOOD, answer, &[]);
        assert!(
            matches!(d, Decision::Retry(Retry { reason: r }) if r.code() == reason),
            "{answer:?}: {d:?}"
        );
    }
    assert_eq!(
        decide(GOOD, Answer::VerifiedEarlier, &[]).action(),
        Action::Act
    );

    let cheap = [GOOD, b"&custom=x"].concat();
    let cheap = String::from_utf8_lossy(&cheap).replace("mc_gross=24.90", "mc_gross=0.01");
    assert_eq!(
        broken(&decide(cheap.as_bytes(), VERIFIED, &[])),
        (vec!["amount_mismatch"], true)
    );
}

#[test]
fn the_expected_order_is_a_choice_and_an_accepted_decision_says_how_the_amount_was_judged() {
    let decide_with = |raw: &[u8], expected: Expected| {
        notification(raw)
            .decide(VERIFIED, &config(), &expected, &[] as &[&str])
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let amount = |d: &Decision| match d {
        Decision::Act(act) => act.amount,
        other => panic!("not act: {other:?}"),
    };
    // A payment: matched against an order, or not asked (a donation), or refused for want of
    // an order; a currency named with "any amount" is still checked.
    assert_eq!(amount(&decide_with(GOOD, expected())), AmountCheck::Matched);
    assert_eq!(
        amount(&decide_with(GOOD, Expected::any_amount())),
        AmountCheck::NotAsked
    );
    assert_eq!(
        amount(&decide_with(
            GOOD,
            Expected::AnyAmount {
                currency: Some(eur())
            }
        )),
        AmountCheck::NotAsked
    );
    assert_eq!(
        broken(&decide_with(
            GOOD,
            Expected::AnyAmount {
                currency: Some(Currency::USD)
            }
        )),
        (vec!["currency_mismatch"], true)
    );
    assert_eq!(
        broken(&decide_with(GOOD, Expected::NoOrder)),
        (vec!["order_not_found"], true)
    );
    // An order is asked of this merchant's messages only: another's is refused for that.
    let theirs = String::from_utf8_lossy(GOOD).replace("shop%40example.net", "other%40example.net");
    assert_eq!(
        broken(&decide_with(theirs.as_bytes(), Expected::NoOrder)),
        (vec!["receiver_mismatch"], false)
    );
    // An event that carries no amount takes any of the three and ignores it.
    let refund = b"txn_type=web_accept&txn_id=9RT58091KX0312345&parent_txn_id=4RT58091KX0312345\
        &payment_status=Refunded&mc_gross=-24.90&mc_currency=EUR&receiver_email=shop%40example.net\
        &test_ipn=1&reason_code=refund";
    for expected in [expected(), Expected::any_amount(), Expected::NoOrder] {
        let d = decide_with(refund, expected);
        assert_eq!(amount(&d), AmountCheck::NotApplicable, "{expected:?}");
        assert_eq!(d.about().map(|a| a.event), Some("payment_refunded"));
    }
}

#[test]
fn a_body_that_does_not_decode_still_posts_back_and_is_refused_with_its_error() {
    let raw = b"txn_id=1&mc_gross=1.00&mc_gross=100.00";
    let n = notification(raw);
    assert_eq!(n.postback(), [&b"cmd=_notify-validate&"[..], raw].concat());
    assert_eq!(n.message().err().map(|e| e.code()), Some("duplicate_key"));
    let d = decide(raw, VERIFIED, &[]);
    assert!(
        matches!(&d, Decision::Refuse(Refusal::Unreadable { error }) if error.code() == "duplicate_key"),
        "{d:?}"
    );
    assert_eq!(d.about(), None);
    assert_eq!(decide(raw, Answer::NoAnswer, &[]).action(), Action::Retry);
    // PayPal's INVALID comes first: whether it decodes does not matter then.
    let invalid = Answer::Http {
        status: 200,
        body: b"INVALID",
    };
    assert_eq!(
        decide(raw, invalid, &[]),
        Decision::Refuse(Refusal::NotVerified)
    );
    // Only the body itself can stop a notification.
    assert_eq!(
        Notification::new(Vec::new(), Limits::DEFAULT).err(),
        Some(Error::EmptyBody)
    );
}

#[test]
fn a_stored_key_ipnkit_did_not_make_is_an_error() {
    let e = notification(GOOD).decide(VERIFIED, &config(), &expected(), &["txn:"]);
    assert_eq!(e.err(), Some(Error::InvalidDeliveryKey));
}

#[test]
fn the_decision_serializes_for_bindings_with_its_action_beside_exactly_its_fields() {
    let json = |d: &Decision| serde_json::to_value(d).unwrap_or_default();
    let retry = decide(
        GOOD,
        Answer::Http {
            status: 500,
            body: b"",
        },
        &[],
    );
    assert_eq!(
        json(&retry),
        json!({"action": "retry", "reason": "http_status"})
    );
    let act = decide(GOOD, VERIFIED, &[]);
    assert_eq!(
        json(&act),
        json!({
            "action": "act", "event": "payment_completed", "family": "payment",
            "delivery_key": "txn:4RT58091KX0312345:Completed", "lookup_id": "txn:4RT58091KX0312345",
            "delivery": {"kind": "new"}, "amount": "matched",
        })
    );
    let skip = decide(GOOD, VERIFIED, &["txn:4RT58091KX0312345:Completed"]);
    assert_eq!(json(&skip)["action"], "skip");
    assert_eq!(json(&skip)["delivery"], json!({"kind": "duplicate"}));
    assert_eq!(
        json(&decide(
            GOOD,
            Answer::Http {
                status: 200,
                body: b"INVALID"
            },
            &[]
        )),
        json!({"action": "refuse", "why": "not_verified"})
    );
    let broken = decide(b"a=%ZZ", VERIFIED, &[]);
    assert_eq!(
        json(&broken),
        json!({"action": "refuse", "why": "unreadable", "error": {
            "code": "malformed_escape", "kind": "format", "field": "a",
        }})
        .as_object()
        .map(|o| {
            let mut o = o.clone();
            if let Some(error) = o.get_mut("error").and_then(|e| e.as_object_mut()) {
                error.insert("message".into(), json(&broken)["error"]["message"].clone());
            }
            serde_json::Value::Object(o)
        })
        .unwrap_or_default()
    );
    let cheap = String::from_utf8_lossy(GOOD).replace("mc_gross=24.90", "mc_gross=0.01");
    let refused = json(&decide(cheap.as_bytes(), VERIFIED, &[]));
    assert_eq!(
        (&refused["action"], &refused["why"], &refused["ours"]),
        (&json!("refuse"), &json!("rules"), &json!(true))
    );
    assert_eq!(
        refused["violations"],
        json!([{"code": "amount_mismatch", "field": "mc_gross"}])
    );
}

#[test]
fn records_say_what_the_canonical_json_says() {
    let raw = "txn_type=cart&num_cart_items=1&item_name1=Mug&item_number1=M-1&quantity1=2\
        &mc_gross_1=10.00&mc_shipping1=1.00&mc_handling1=0.50&tax1=0.10&btn_id1=7\
        &option_name1_1=Size&option_selection1_1=L&mc_currency=USD";
    let m = Message::parse(raw.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let json = serde_json::to_value(&m).unwrap_or_default();
    for (group, _, members) in GROUPS {
        let records = m.records(group).unwrap_or_default();
        let listed = json[*group].as_array().cloned().unwrap_or_default();
        assert_eq!(records.len(), listed.len(), "{group}");
        for (record, item) in records.iter().zip(&listed) {
            let names: Vec<&str> = record.iter().map(|(name, _)| *name).collect();
            let keys: Vec<&str> = item
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, keys, "{group}");
            for name in names {
                assert!(
                    members.iter().any(|(member, _)| *member == name),
                    "{group}.{name} is not in GROUPS"
                );
            }
        }
    }
    assert_eq!(m.records("items").map(|r| r.len()), Some(1));
    assert_eq!(m.records("nope"), None);
}

#[test]
fn groups_list_every_field_their_members_serialize() {
    use crate::message::{AdaptiveTransaction, CartItem, ItemOption, MasspayItem, Record};
    let money = Some(crate::Money {
        amount: Decimal::ONE,
        currency: Some(Currency::USD),
    });
    let text = || Some("t".to_owned());
    let option = ItemOption {
        number: 1,
        name: text(),
        selection: text(),
    };
    let item = CartItem {
        number: 1,
        item_name: text(),
        item_number: text(),
        quantity: Some(1),
        mc_gross: money,
        mc_shipping: money,
        mc_handling: money,
        tax: money,
        btn_id: text(),
        options: vec![option.clone()],
    };
    let masspay = MasspayItem {
        number: 1,
        masspay_txn_id: text(),
        receiver_email: text(),
        unique_id: text(),
        status: Some(crate::vocab::MasspayStatus::parse("Completed")),
        mc_currency: Some(Currency::USD),
        mc_gross: money,
        mc_fee: money,
        mc_handling: money,
        payment_gross: money,
        payment_fee: money,
    };
    let transaction = AdaptiveTransaction {
        index: 0,
        id: text(),
        id_for_sender_txn: text(),
        receiver: text(),
        amount: money,
        is_primary_receiver: Some(true),
        status: Some(crate::vocab::TransactionStatus::parse("Completed")),
        status_for_sender_txn: Some(crate::vocab::SenderTransactionStatus::parse("COMPLETED")),
        pending_reason: Some(crate::vocab::AdaptivePendingReason::parse("NONE")),
        payment_type: text(),
        invoice_id: text(),
        refund_id: text(),
        refund_amount: money,
        refund_account_charged: text(),
        extra: vec![("x".to_owned(), "y".to_owned())],
    };
    let full: [(&str, Record<'_>, serde_json::Value); 4] = [
        (
            "options",
            option.record(),
            serde_json::to_value(&option).unwrap_or_default(),
        ),
        (
            "items",
            item.record(),
            serde_json::to_value(&item).unwrap_or_default(),
        ),
        (
            "masspay_items",
            masspay.record(),
            serde_json::to_value(&masspay).unwrap_or_default(),
        ),
        (
            "transactions",
            transaction.record(),
            serde_json::to_value(&transaction).unwrap_or_default(),
        ),
    ];
    for (group, record, json) in full {
        let members: Vec<&str> = GROUPS
            .iter()
            .find(|(name, ..)| *name == group)
            .map(|(_, _, m)| m.iter().map(|(n, _)| *n).collect())
            .unwrap_or_default();
        let names: Vec<&str> = record.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, members, "{group}: record order is GROUPS order");
        let mut keys: Vec<&str> = json
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut sorted = members.clone();
        keys.sort_unstable();
        sorted.sort_unstable();
        assert_eq!(keys, sorted, "{group}: every serialized field is a member");
    }
}

#[test]
fn the_schema_lists_everything_bindings_generate_from() {
    let s = schema();
    let count = |key: &str| s[key].as_array().map_or(0, Vec::len);
    assert_eq!(count("variables"), MODELLED_KINDS.len());
    assert_eq!(count("vocabularies"), VOCABULARIES.len());
    assert_eq!(count("groups"), GROUPS.len());
    assert_eq!(count("events"), crate::EventCode::ALL.len());
    assert_eq!(count("errors"), ErrorKind::ALL.len());
    assert_eq!(
        s["errors"][0],
        json!({"kind": "body", "class": "BodyError", "doc": "The body holds no variable.", "codes": ["empty_body"]})
    );
    assert_eq!(
        s["events"][0]["rules"],
        json!({"receiver": "receiver", "amount": "mc_gross", "final": "payment_status",
               "accepts": ["order", "any_amount"]})
    );
    for event in s["events"].as_array().cloned().unwrap_or_default() {
        assert!(event["rules"].is_object(), "{event}");
    }
}

#[test]
fn lookups_tell_absent_from_not_modelled() {
    let m = Message::parse(GOOD).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        m.get("txn_id"),
        crate::Lookup::Value(crate::Value::Text("4RT58091KX0312345"))
    );
    assert_eq!(m.get("parent_txn_id"), crate::Lookup::Absent);
    assert_eq!(m.get("txnid"), crate::Lookup::NotModelled);
    let present: Vec<&str> = m.present().map(|(name, _)| name).collect();
    assert_eq!(
        present,
        [
            "txn_type",
            "txn_id",
            "test_ipn",
            "receiver_email",
            "payment_status",
            "mc_currency",
            "mc_gross"
        ]
    );
}

#[test]
fn configuration_and_expectation_are_maps_only() {
    assert_eq!(
        refusal(Config::from_json(
            r#"{"environment": "live", "limits": [1, 2, 3]}"#
        )),
        pair("wrong_type", "limits")
    );
    assert_eq!(
        refusal(Expected::from_json(r#"["24.90", "EUR"]"#)),
        pair("wrong_type", ".")
    );
}

#[test]
fn plain_data_reads_as_its_json_does() -> Result<(), Error> {
    use Plain::{Bool, Float, Int, List, Map, Null, Text};
    let text = |s: &str| Text(s.to_owned());
    let map = |entries: Vec<(&str, Plain)>| {
        Map(entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect())
    };
    let config = map(vec![
        ("environment", text("live")),
        ("receiver_emails", List(vec![text("Shop@Example.net")])),
        ("final_statuses", Null),
        (
            "limits",
            map(vec![("max_fields", Int(10)), ("max_key_bytes", Null)]),
        ),
    ]);
    assert_eq!(
        Config::from_plain(&config)?,
        Config::from_json(
            r#"{"environment": "live", "receiver_emails": ["Shop@Example.net"],
                "final_statuses": null, "limits": {"max_fields": 10, "max_key_bytes": null}}"#
        )?
    );
    // A host whose numbers are all floats (JavaScript) converts whole ones to `Int`: a `Float`
    // is never a count.
    let float = map(vec![
        ("environment", text("live")),
        ("limits", map(vec![("max_fields", Float(10.0))])),
    ]);
    assert_eq!(
        refusal(Config::from_plain(&float)),
        pair("wrong_type", "limits.max_fields")
    );
    // PHP's `[]` is both an empty list and an empty map: read as a map where one belongs.
    assert_eq!(
        refusal(Config::from_plain(&List(vec![]))),
        pair("invalid_configuration", "environment")
    );
    assert_eq!(
        refusal(Config::from_plain(&List(vec![text("live")]))),
        pair("wrong_type", ".")
    );
    let limits = map(vec![
        ("environment", text("live")),
        ("limits", List(vec![])),
    ]);
    assert_eq!(
        Config::from_plain(&limits)?.limits(),
        crate::Limits::DEFAULT
    );
    // A host value that is not plain data is refused at its path, wherever it is.
    let objects = [
        (map(vec![("environment", Plain::NotPlain)]), "environment"),
        (
            map(vec![
                ("environment", text("live")),
                (
                    "receiver_emails",
                    List(vec![text("a@b.c"), Plain::NotPlain]),
                ),
            ]),
            "receiver_emails[1]",
        ),
        (Plain::NotPlain, "."),
    ];
    for (data, path) in objects {
        assert_eq!(refusal(Config::from_plain(&data)), pair("wrong_type", path));
    }
    assert_eq!(
        refusal(Expected::from_plain(&map(vec![(
            "amount",
            Plain::NotPlain
        )]))),
        pair("wrong_type", "amount")
    );
    let expected = map(vec![("any_amount", Bool(true)), ("currency", text("JPY"))]);
    assert_eq!(
        Expected::from_plain(&expected)?,
        Expected::from_json(r#"{"any_amount": true, "currency": "JPY"}"#)?
    );
    assert_eq!(
        refusal(Expected::from_plain(&map(vec![("amount", Float(24.9))]))),
        pair("wrong_type", "amount")
    );
    Ok(())
}

proptest::proptest! {
    /// The postback without a parse refuses exactly the bodies a notification refuses, with the
    /// same error, and posts back the same bytes: bodies of form-encoding bytes (escapes good and
    /// bad, charsets, empty keys and values, too many fields for small limits).
    #[test]
    fn the_postback_alone_refuses_what_a_notification_refuses(
        raw in proptest::collection::vec(proptest::sample::select(b"ab=&%+%C3=%2\x80\xff\r\ncharset=utf-8".to_vec()), 0..64),
        max_fields in 1usize..6,
        max_key_bytes in 1usize..8,
    ) {
        let limits = Limits { max_body_bytes: 48, max_fields, max_key_bytes };
        let alone = super::postback(&raw, limits);
        let notification = Notification::copy_of(&raw, limits);
        proptest::prop_assert_eq!(alone.as_ref().err(), notification.as_ref().err());
        if let (Ok(postback), Ok(n)) = (&alone, &notification) {
            proptest::prop_assert_eq!(postback, &n.postback());
            let request = config().verification_request(&raw).map(|r| r.body);
            proptest::prop_assert_eq!(request.as_ref().ok(), Some(&n.verification_request(&config()).body));
        }
    }
}

#[test]
fn the_schema_says_per_event_which_expectations_the_rules_accept_and_decide_agrees() {
    let schema = schema();
    let refund = b"txn_type=web_accept&txn_id=9RT58091KX0312345&parent_txn_id=4RT58091KX0312345\
        &payment_status=Refunded&mc_gross=-24.90&mc_currency=EUR&receiver_email=shop%40example.net\
        &test_ipn=1";
    for (raw, code) in [
        (GOOD, "payment_completed"),
        (&refund[..], "payment_refunded"),
    ] {
        let listed = schema["events"]
            .as_array()
            .and_then(|events| events.iter().find(|e| e["code"] == code))
            .map(|e| e["rules"]["accepts"].clone())
            .unwrap_or_default();
        for expected in [expected(), Expected::any_amount(), Expected::NoOrder] {
            let name = serde_json::to_value(expected).unwrap_or_default();
            let name = ["amount", "any_amount", "no_order"]
                .into_iter()
                .find(|k| name.get(k).is_some())
                .map(|k| if k == "amount" { "order" } else { k })
                .unwrap_or_default();
            let accepted = notification(raw)
                .decide(VERIFIED, &config(), &expected, &[] as &[&str])
                .map(|d| d.action() == Action::Act)
                .unwrap_or_default();
            assert_eq!(
                accepted,
                listed
                    .as_array()
                    .is_some_and(|l| l.iter().any(|a| a == name)),
                "{code} {name}"
            );
        }
    }
}
