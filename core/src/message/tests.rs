use super::*;

fn parse(body: &str) -> Result<Message, Error> {
    Message::parse(body.as_bytes())
}

fn value_notices(m: &Message) -> Vec<(&'static str, String)> {
    m.notices()
        .iter()
        .filter(|n| value_codes().contains(&n.code))
        .map(|n| (n.code, n.field.clone()))
        .collect()
}

fn value_codes() -> Vec<&'static str> {
    crate::ErrorKind::Value
        .codes()
        .map(crate::ErrorCode::code)
        .collect()
}

fn money(amount: &str, currency: Option<&str>) -> Option<Money> {
    Some(Money {
        amount: amount.parse().ok()?,
        currency: currency.and_then(Currency::parse),
    })
}

#[test]
fn values_not_of_their_type_are_notices_and_nothing_is_lost() {
    let cases = [
        ("mc_gross=abc", "invalid_amount", "mc_gross"),
        ("mc_currency=eur", "invalid_currency", "mc_currency"),
        (
            "payment_date=13%3A00%3A00+Feb+30%2C+2024+PST",
            "invalid_date",
            "payment_date",
        ),
        ("quantity=-1", "invalid_number", "quantity"),
        ("resend=maybe", "invalid_flag", "resend"),
        ("period1=7+days", "invalid_period", "period1"),
        ("quantity2=x", "invalid_number", "quantity2"),
        ("mc_gross_3=1%2C00", "invalid_amount", "mc_gross_3"),
        ("txn_type=masspay&mc_fee_2=x", "invalid_amount", "mc_fee_2"),
        (
            "txn_type=masspay&mc_currency_1=US",
            "invalid_currency",
            "mc_currency_1",
        ),
        (
            "transaction%5B1%5D.amount=110.00",
            "invalid_amount",
            "transaction[1].amount",
        ),
        (
            "transaction[0].is_primary_receiver=yes",
            "invalid_flag",
            "transaction[0].is_primary_receiver",
        ),
        ("receipt_ID=1&test_ipn=2", "invalid_flag", "test_ipn"),
    ];
    for (body, code, field) in cases {
        let m = parse(body).unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_eq!(value_notices(&m), [(code, field.to_owned())], "{body}");
        assert!(m.is_unreadable(field), "{body}");
        // The value is kept as text, in the variables and in `extra`.
        let raw = m.variables().get(field);
        assert!(raw.is_some(), "{body}");
        assert!(
            m.extra().any(|(k, v)| k == field && Some(v) == raw),
            "{body}"
        );
        assert!(
            m.to_canonical_json()
                .unwrap_or_default()
                .contains(&format!(r#""code":"{code}","field":"{field}""#))
        );
    }
    // The typed getter is empty, and the event is still what the message says.
    let m = parse("txn_type=web_accept&payment_status=Refunded&mc_gross=-1%2C00&payment_date=soon")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((m.mc_gross(), m.payment_date()), (None, None));
    assert_eq!(*m.event(), Event::PaymentRefunded);
    assert!(!m.is_unreadable("mc_currency"));
}

#[test]
fn value_notice_codes_are_the_value_errors() {
    assert_eq!(
        value_codes(),
        [
            "invalid_amount",
            "invalid_currency",
            "invalid_date",
            "invalid_number",
            "invalid_flag",
            "invalid_period"
        ]
    );
    // Every value error is a notice, after the two notices that are not errors: a value error
    // added to the core's list and not here fails.
    assert_eq!(NOTICE_CODES.split_at(2).1, value_codes());
}

#[test]
fn spelling_collision_is_duplicate_key() {
    // The cart's two spellings of one slot: PHP keeps one, another stack the other.
    for (body, field, first, second) in [
        (
            "txn_type=cart&mc_gross_1=100.00&mc_gross1=0.01",
            "mc_gross1",
            1,
            2,
        ),
        (
            "txn_type=cart&mc_gross1=0.01&x=1&mc_gross_1=100.00",
            "mc_gross_1",
            1,
            3,
        ),
        ("txn_type=cart&tax_1=1.00&tax1=0.00", "tax1", 1, 2),
        (
            "txn_type=cart&quantity_2=1&item_name1=A&quantity2=9",
            "quantity2",
            1,
            3,
        ),
        ("item_name_1=A&item_name1=B", "item_name1", 0, 1),
        ("mc_shipping1=1&mc_shipping_1=", "mc_shipping_1", 0, 1),
        ("mc_handling_3=&mc_handling3=", "mc_handling3", 0, 1),
        ("btn_id1=1&btn_id_1=2", "btn_id_1", 0, 1),
        ("item_number_1=1&item_number1=2", "item_number1", 0, 1),
        // A value of the wrong type in one spelling does not hide the other.
        ("mc_gross_1=abc&mc_gross1=0.01", "mc_gross1", 0, 1),
        (
            "fraud_management_pending_filters_1=A&fraud_management_pending_filters1=B",
            "fraud_management_pending_filters1",
            0,
            1,
        ),
        ("receipt_ID=R1&receipt_id=R2", "receipt_ID", 0, 1),
        ("receipt_id=R2&receipt_ID=R1", "receipt_ID", 0, 1),
    ] {
        match parse(body) {
            Err(Error::DuplicateKey {
                field: f,
                first: a,
                second: b,
            }) => assert_eq!((f.as_str(), a, b), (field, first, second), "{body}"),
            other => panic!("{body}: {other:?}"),
        }
    }
    // Slots that differ are not a collision: another item, Mass Pay's own `_N` items, the
    // single item's options and the simulator's spelling alone.
    for body in [
        "txn_type=cart&mc_gross_1=1.00&mc_gross_2=2.00&mc_gross=3.00",
        "txn_type=masspay&mc_gross_1=1.00&mc_gross1=2.00",
        "option_name1=Size&option_name1_1=Colour",
        "txn_type=cart&mc_gross1=1.00&item_name1=A",
    ] {
        assert!(parse(body).is_ok(), "{body}");
    }
}

#[test]
fn empty_values_are_absent_for_typed_fields_and_kept_for_text() -> Result<(), Error> {
    let m =
        parse("mc_gross=&payment_date=&quantity=&test_ipn=&payment_status=&custom=&mc_currency=")?;
    assert_eq!(
        (
            m.mc_gross(),
            m.payment_date(),
            m.quantity(),
            m.test_ipn(),
            m.payment_status(),
            m.mc_currency()
        ),
        (None, None, None, None, None, None)
    );
    assert_eq!(m.custom(), Some(""));
    assert_eq!(m.extra().count(), 0);
    Ok(())
}

#[test]
fn money_takes_the_currency_paypal_documents_for_it() -> Result<(), Error> {
    let m = parse(
        "settle_amount=10.40&mc_gross=10.00&payment_gross=&payment_fee=0.30&settle_currency=USD\
         &mc_currency=EUR&tax=0.80&exchange_rate=1.0400&shipping=1.00",
    )?;
    assert_eq!(
        m.mc_gross(),
        money("10.00", Some("EUR")),
        "currency given later"
    );
    assert_eq!(m.tax(), money("0.80", Some("EUR")));
    assert_eq!(m.shipping(), money("1.00", Some("EUR")));
    assert_eq!(m.settle_amount(), money("10.40", Some("USD")));
    assert_eq!(
        m.payment_fee(),
        money("0.30", Some("USD")),
        "legacy USD field"
    );
    assert_eq!(m.payment_gross(), None);
    assert_eq!(
        m.exchange_rate().map(|r| r.to_string()).as_deref(),
        Some("1.0400")
    );

    let m = parse("amount_per_cycle=5.00&mc_currency=EUR&currency_code=USD&mc_gross=5.00")?;
    assert_eq!(
        m.amount_per_cycle(),
        money("5.00", Some("USD")),
        "currency_code first"
    );
    let m = parse("amount_per_cycle=5.00&mc_currency=EUR")?;
    assert_eq!(
        m.amount_per_cycle(),
        money("5.00", Some("EUR")),
        "else mc_currency"
    );
    let m = parse("shipping=1.00")?;
    assert_eq!(m.shipping(), money("1.00", None), "no currency named");
    Ok(())
}

#[test]
fn cart_items_group_from_either_spelling_and_in_number_order() -> Result<(), Error> {
    let m = parse(
        "txn_type=cart&num_cart_items=2&item_name2=B&mc_gross_2=2.00&item_name1=A&mc_gross1=1.00\
         &mc_shipping_1=0.50&mc_handling2=0.25&option_selection1_2=Red&option_name1_2=Colour\
         &mc_currency=USD",
    )?;
    assert_eq!(m.items().len(), 2);
    let (a, b) = (&m.items()[0], &m.items()[1]);
    assert_eq!((a.number, a.item_name.as_deref()), (1, Some("A")));
    assert_eq!(a.mc_gross, money("1.00", Some("USD")));
    assert_eq!(a.mc_shipping, money("0.50", Some("USD")));
    assert_eq!((b.number, b.item_name.as_deref()), (2, Some("B")));
    assert_eq!(b.mc_handling, money("0.25", Some("USD")));
    assert_eq!(
        b.options,
        [ItemOption {
            number: 1,
            name: Some("Colour".into()),
            selection: Some("Red".into())
        }]
    );
    assert!(m.notices().is_empty());
    Ok(())
}

#[test]
fn counts_that_disagree_are_reported() -> Result<(), Error> {
    let m = parse("txn_type=cart&num_cart_items=2&item_name1=A")?;
    assert_eq!(
        m.notices(),
        [Notice {
            code: "cart_count_mismatch",
            field: "num_cart_items".into()
        }]
    );
    Ok(())
}

#[test]
fn masspay_suffixes_are_items_only_in_masspay_messages() -> Result<(), Error> {
    let m = parse("txn_type=masspay&mc_gross_1=1.00&mc_currency_1=GBP&status_1=Unclaimed")?;
    assert!(m.items().is_empty());
    assert_eq!(m.masspay_items()[0].mc_gross, money("1.00", Some("GBP")));
    assert_eq!(m.masspay_items()[0].status, Some(MasspayStatus::Unclaimed));
    let m = parse("txn_type=cart&mc_gross_1=1.00&status_1=x")?;
    assert!(m.masspay_items().is_empty());
    assert_eq!(m.items().len(), 1);
    assert_eq!(
        m.extra()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<Vec<_>>(),
        [("status_1".to_owned(), "x".to_owned())]
    );
    Ok(())
}

#[test]
fn fraud_filters_are_ordered_by_number() -> Result<(), Error> {
    let m = parse(
        "fraud_management_pending_filters_2=Second&fraud_management_pending_filters_1=First",
    )?;
    assert_eq!(m.fraud_filters(), ["First", "Second"]);
    Ok(())
}

#[test]
fn adaptive_transactions_keep_unknown_fields() -> Result<(), Error> {
    let m = parse(
        "transaction%5B1%5D.id=B&transaction%5B0%5D.id=A&transaction%5B0%5D.new_field=x\
         &transaction%5B0%5D.refund_amount=USD+1.00&transaction%5B0%5D.status_for_sender_txn=PENDING",
    )?;
    assert_eq!(m.transactions().len(), 2);
    assert_eq!(m.transactions()[0].id.as_deref(), Some("A"));
    assert_eq!(
        m.transactions()[0].extra,
        [("new_field".to_owned(), "x".to_owned())]
    );
    assert_eq!(
        m.transactions()[0].refund_amount,
        money("1.00", Some("USD"))
    );
    assert_eq!(
        m.transactions()[0].status_for_sender_txn,
        Some(SenderTransactionStatus::Pending)
    );
    assert_eq!(m.transactions()[1].index, 1);
    Ok(())
}

#[test]
fn nothing_is_lost() -> Result<(), Error> {
    let body =
        "zeta=1&txn_id=T&alpha=2&btn_id1=9&item_name1=A&receipt_ID=R&brand_new=&transaction[0].x=y";
    let m = parse(body)?;
    assert_eq!(
        m.extra()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<Vec<_>>(),
        [
            ("zeta".to_owned(), "1".to_owned()),
            ("alpha".to_owned(), "2".to_owned()),
            ("brand_new".to_owned(), String::new()),
        ]
    );
    assert_eq!(m.receipt_id(), Some("R"), "the simulator's spelling");
    assert!(m.notices().is_empty());
    let keys: Vec<&str> = m.variables().iter().map(|f| f.key).collect();
    assert_eq!(
        keys,
        body.split('&')
            .map(|p| p.split('=').next().unwrap_or_default())
            .collect::<Vec<_>>()
    );
    Ok(())
}

#[test]
fn canonical_json_shape() -> Result<(), Error> {
    let m = parse(
        "txn_type=web_accept&payment_status=Completed&mc_gross=-19.95&mc_currency=USD\
         &payment_date=20%3A12%3A59+Jan+13%2C+2009+PST&test_ipn=1&quantity=2&period3=1+M&zz=1",
    )?;
    let json = m.to_canonical_json().unwrap_or_default();
    assert!(
        json.starts_with(
            r#"{"event":"payment_completed","family":"payment","txn_type":"web_accept""#
        ),
        "{json}"
    );
    assert!(
        json.contains(r#""mc_gross":{"amount":"-19.95","currency":"USD"}"#),
        "{json}"
    );
    assert!(
        json.contains(
            r#""payment_date":{"utc":"2009-01-14T04:12:59Z","text":"20:12:59 Jan 13, 2009 PST"}"#
        ),
        "{json}"
    );
    assert!(
        json.contains(r#""test_ipn":true"#) && json.contains(r#""quantity":2"#),
        "{json}"
    );
    assert!(
        json.contains(r#""period3":{"count":1,"unit":"M"}"#),
        "{json}"
    );
    assert!(json.ends_with(r#""extra":[["zz","1"]]}"#), "{json}");
    assert!(
        !json.contains("null") && !json.contains("txn_id"),
        "absent fields are omitted: {json}"
    );
    assert!(
        m.to_canonical_json_pretty()
            .unwrap_or_default()
            .contains("\n  \"event\": \"payment_completed\"")
    );
    Ok(())
}

#[test]
fn modelled_names_are_unique_and_lookup_finds_each() {
    let mut names = MODELLED_VARIABLES.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), MODELLED_VARIABLES.len());
    for name in MODELLED_VARIABLES {
        assert!(setter(name, hash(name)).is_some(), "{name}");
    }
    assert!(setter("not_a_variable", hash("not_a_variable")).is_none());
}

#[test]
fn every_modelled_variable_is_reachable_by_name() -> Result<(), Error> {
    let m = parse(
        "txn_type=subscr_signup&period3=1+M&mc_amount3=5.00&mc_currency=EUR&test_ipn=1\
         &subscr_date=10%3A00%3A00+Jan+02%2C+2024+PST&exchange_rate=1.1&quantity=2&custom=x",
    )?;
    let json: serde_json::Value = serde_json::from_str(&m.to_canonical_json().unwrap_or_default())
        .map_err(|_| Error::EmptyBody)?;
    for name in MODELLED_VARIABLES {
        assert_eq!(m.value(name).is_some(), json.get(name).is_some(), "{name}");
    }
    assert_eq!(m.value("txn_type"), Some(Value::Word("subscr_signup")));
    assert_eq!(m.value("quantity"), Some(Value::Count(2)));
    assert_eq!(m.value("custom"), Some(Value::Text("x")));
    assert!(matches!(
        m.value("period3"),
        Some(Value::Period(Period {
            count: 1,
            unit: PeriodUnit::M
        }))
    ));
    assert!(matches!(m.value("subscr_date"), Some(Value::Date(_))));
    assert!(matches!(m.value("exchange_rate"), Some(Value::Decimal(_))));
    assert!(matches!(m.value("mc_currency"), Some(Value::Currency(_))));
    assert_eq!(m.value("not_a_variable"), None);
    Ok(())
}

#[test]
fn kinds_cover_every_variable_and_name_known_vocabularies() {
    let names: Vec<&str> = MODELLED_KINDS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, MODELLED_VARIABLES);
    for (name, kind) in MODELLED_KINDS {
        match kind.strip_prefix("vocab:") {
            Some(vocab) => assert!(
                crate::vocab::VOCABULARIES.iter().any(|(v, _)| *v == vocab),
                "{name}: {vocab}"
            ),
            None => assert!(
                [
                    "text", "flag", "count", "decimal", "currency", "date", "money", "period"
                ]
                .contains(kind),
                "{name}: {kind}"
            ),
        }
    }
    assert!(MODELLED_KINDS.contains(&("mc_gross", "money")));
    assert!(MODELLED_KINDS.contains(&("txn_type", "vocab:TxnType")));
    assert!(MODELLED_KINDS.contains(&("period_type", "vocab:PeriodType")));
}

#[test]
fn periods() {
    assert_eq!(
        Period::parse("3 M"),
        Some(Period {
            count: 3,
            unit: PeriodUnit::M
        })
    );
    assert_eq!(
        Period::parse("1 Y"),
        Some(Period {
            count: 1,
            unit: PeriodUnit::Y
        })
    );
    for bad in ["", "M", "3M", "3 m", "-1 D", "1 D ", "x W"] {
        assert_eq!(Period::parse(bad), None, "{bad}");
    }
}

mod one_pass {
    //! `Message::parse` reads a regular body without checking its names first (each is checked
    //! as it is filed) and gives way to the general path on any name given twice: it must give
    //! what decoding and then `Message::from_fields` give, message or error, on any body.

    use super::*;
    use crate::Body;
    use proptest::prelude::*;

    /// Names that exercise every way a name is filed or checked: modelled variables (and the
    /// simulator's spelling of one), group members in their spellings, Mass Pay members (whose
    /// group depends on `txn_type`), Adaptive arrays escaped or not, and names not modelled.
    const NAMES: &[&str] = &[
        "txn_type",
        "payment_status",
        "mc_gross",
        "mc_currency",
        "payment_date",
        "custom",
        "receipt_id",
        "receipt_ID",
        "item_name1",
        "item_name_1",
        "mc_gross1",
        "mc_gross_1",
        "quantity1",
        "option_name1",
        "option_name1_1",
        "option_selection1",
        "masspay_txn_id_1",
        "status_1",
        "transaction[0].id",
        "transaction%5B0%5D.id",
        "transaction[0].amount",
        "fraud_management_pending_filters_1",
        "extra_a",
        "extra_b",
        "x",
        "period1",
    ];

    const VALUES: &[&str] = &[
        "",
        "1",
        "19.95",
        "1%2C00",
        "masspay",
        "cart",
        "web_accept",
        "Completed",
        "USD",
        "USD+1.00",
        "20%3A12%3A59+Jan+13%2C+2009+PST",
        "J%F6rg",
        "a%3Db",
        "N%2FA",
        "true",
    ];

    fn body() -> impl Strategy<Value = String> {
        prop::collection::vec((0..NAMES.len(), 0..VALUES.len()), 0..12).prop_map(|pairs| {
            pairs
                .iter()
                .filter_map(|&(k, v)| Some(format!("{}={}", NAMES.get(k)?, VALUES.get(v)?)))
                .collect::<Vec<_>>()
                .join("&")
        })
    }

    fn general(raw: &[u8]) -> Result<Message, Error> {
        Message::from_fields(Body::parse(raw)?.decode()?)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn the_one_pass_reading_gives_what_decoding_then_reading_gives(raw in body()) {
            let one_pass = Message::parse(raw.as_bytes());
            prop_assert_eq!(&one_pass, &general(raw.as_bytes()), "{}", raw);
            // And the names are found once the message is read (the lookup index is built on
            // the first lookup).
            if let Ok(m) = one_pass {
                for f in m.variables() {
                    prop_assert_eq!(m.variables().field(f.key), Some(f));
                }
            }
        }

        #[test]
        fn any_bytes_read_alike(raw in any::<Vec<u8>>()) {
            prop_assert_eq!(Message::parse(&raw), general(&raw));
        }
    }

    #[test]
    fn names_given_twice_are_the_general_paths_errors() {
        for (raw, field, first, second) in [
            ("a=1&b=2&a=3", "a", 0, 2),
            ("receipt_ID=1&x=2&receipt_id=3", "receipt_ID", 0, 2),
            ("receipt_id=1&receipt_ID=3", "receipt_ID", 0, 1),
            ("item_name1=a&item_name_1=b", "item_name_1", 0, 1),
            (
                "transaction%5B0%5D.id=1&transaction[0].id=2",
                "transaction[0].id",
                0,
                1,
            ),
            ("custom=1&mc_gross=2&custom=3", "custom", 0, 2),
        ] {
            let err = Message::parse(raw.as_bytes()).err();
            assert_eq!(
                err,
                Some(Error::DuplicateKey {
                    field: FieldName::new(field),
                    first,
                    second
                }),
                "{raw}"
            );
        }
    }
}
