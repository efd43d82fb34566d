#!/usr/bin/env python3
"""Writes the hand-written IPN vectors of this folder: NAME.body (the wire bytes) and
NAME.fields.json (the decoded pairs, by Python's own form decoder: an oracle independent of
ipnkit). Every message is synthetic, written from the variable reference of PayPal's IPN guide;
no value belongs to a real person. The expected canonical JSON (NAME.json) is written by ipnkit
itself: `scripts/bless`, then review the diff.

Run from anywhere: python3 tests/vectors/generate.py
"""
import json
import pathlib
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent

# Python codec names for the charsets used below.
CODECS = {"windows-1252": "cp1252", "UTF-8": "utf-8"}

BUYER = [
    ("first_name", "Alex"), ("last_name", "Example"), ("payer_email", "alex.buyer@example.org"),
    ("payer_id", "BUYER00000001"), ("payer_status", "verified"), ("residence_country", "US"),
]
MERCHANT = [
    ("business", "shop@example.net"), ("receiver_email", "shop@example.net"),
    ("receiver_id", "SHOPID0000001"),
]
TAIL = [("charset", "windows-1252"), ("notify_version", "3.9"), ("test_ipn", "1"),
        ("verify_sign", "AsyntheticSignatureForTests-0123456789abcdefABCDEF.xyz")]


def msg(*groups):
    return [pair for group in groups for pair in group]


VECTORS = {
    # ---- payments by status ----
    "express_checkout--authorization_created": msg(
        [("txn_type", "express_checkout"), ("txn_id", "0AU71234AB5678901"),
         ("payment_status", "Pending"), ("pending_reason", "authorization"),
         ("auth_id", "0AU71234AB5678901"), ("auth_status", "Pending"), ("auth_amount", "49.90"),
         ("auth_exp", "10:15:00 Apr 11, 2024 PDT"), ("remaining_settle", "56.13"),
         ("transaction_entity", "auth"), ("mc_gross", "49.90"), ("mc_currency", "USD"),
         ("payment_date", "10:15:00 Mar 13, 2024 PDT"), ("payment_type", "instant"),
         ("protection_eligibility", "Eligible"), ("ipn_track_id", "a1b2c3d4e5f60")],
        BUYER, MERCHANT, TAIL),
    "express_checkout--capture_completed": msg(
        [("txn_type", "express_checkout"), ("txn_id", "1CP45678CD9012345"),
         ("parent_txn_id", "0AU71234AB5678901"), ("payment_status", "Completed"),
         ("auth_id", "0AU71234AB5678901"), ("auth_status", "Completed"), ("auth_amount", "49.90"),
         ("auth_exp", "10:15:00 Apr 11, 2024 PDT"), ("remaining_settle", "0.00"),
         ("transaction_entity", "payment"), ("mc_gross", "49.90"), ("mc_fee", "1.75"),
         ("mc_currency", "USD"), ("payment_date", "09:02:11 Mar 14, 2024 PDT"),
         ("payment_type", "instant"), ("invoice", "ORDER-2024-0042"),
         ("ipn_track_id", "b2c3d4e5f6a71")],
        BUYER, MERCHANT, TAIL),
    "express_checkout--authorization_voided": msg(
        [("txn_type", "express_checkout"), ("txn_id", "0AU71234AB5678902"),
         ("payment_status", "Voided"), ("auth_id", "0AU71234AB5678902"), ("auth_status", "Voided"),
         ("auth_amount", "12.00"), ("mc_gross", "12.00"), ("mc_currency", "EUR"),
         ("transaction_entity", "auth"), ("payment_date", "18:00:00 Nov 03, 2024 PST")],
        BUYER, MERCHANT, TAIL),
    "express_checkout--authorization_expired": msg(
        [("txn_type", "express_checkout"), ("txn_id", "0AU71234AB5678903"),
         ("payment_status", "Expired"), ("auth_id", "0AU71234AB5678903"), ("auth_status", "Expired"),
         ("auth_amount", "75.00"), ("mc_currency", "GBP"), ("transaction_entity", "auth"),
         ("payment_date", "01:30:00 Nov 03, 2024 PDT")],
        BUYER, MERCHANT, TAIL),
    "express_checkout--created_elv": msg(
        [("txn_type", "express_checkout"), ("txn_id", "5EL12345EF6789012"),
         ("payment_status", "Created"), ("mc_gross", "30.00"), ("mc_currency", "EUR"),
         ("payment_date", "12:00:00 Jun 01, 2024 PDT"), ("residence_country", "DE")],
        MERCHANT, TAIL),
    "web_accept--refunded": msg(
        [("txn_id", "9RF98765GH4321098"), ("parent_txn_id", "4RT58091KX0312345"),
         ("payment_status", "Refunded"), ("reason_code", "refund"), ("mc_gross", "-24.90"),
         ("mc_fee", "-0.72"), ("mc_currency", "EUR"), ("payment_date", "08:00:00 Mar 20, 2024 PDT"),
         ("payment_type", "instant"), ("item_name", "Coffee beans"), ("custom", "order=1042")],
        BUYER, MERCHANT, TAIL),
    "web_accept--reversed_chargeback": msg(
        [("txn_id", "8RV87654IJ3210987"), ("parent_txn_id", "4RT58091KX0312345"),
         ("payment_status", "Reversed"), ("reason_code", "chargeback"), ("mc_gross", "-24.90"),
         ("mc_fee", "-0.72"), ("mc_currency", "EUR"), ("payment_date", "11:45:00 Apr 02, 2024 PDT"),
         ("payment_type", "instant")],
        BUYER, MERCHANT, TAIL),
    "web_accept--canceled_reversal": msg(
        [("txn_id", "7CR76543KL2109876"), ("parent_txn_id", "4RT58091KX0312345"),
         ("payment_status", "Canceled_Reversal"), ("reason_code", "other"), ("mc_gross", "24.90"),
         ("mc_fee", "0.72"), ("mc_currency", "EUR"), ("payment_date", "16:20:00 May 10, 2024 PDT")],
        BUYER, MERCHANT, TAIL),
    "web_accept--denied": msg(
        [("txn_type", "web_accept"), ("txn_id", "6DN65432MN1098765"), ("payment_status", "Denied"),
         ("mc_gross", "500.00"), ("mc_currency", "USD"), ("payment_date", "07:00:00 Jan 09, 2024 PST"),
         ("item_name", "Gift card"), ("quantity", "1")],
        BUYER, MERCHANT, TAIL),
    "web_accept--echeck_failed": msg(
        [("txn_type", "web_accept"), ("txn_id", "5FL54321OP0987654"), ("payment_status", "Failed"),
         ("payment_type", "echeck"), ("echeck_time_processed", "06:00:00 Jan 15, 2024 PST"),
         ("mc_gross", "120.00"), ("mc_currency", "USD"), ("payment_date", "07:00:00 Jan 09, 2024 PST")],
        BUYER, MERCHANT, TAIL),
    "web_accept--pending_echeck": msg(
        [("txn_type", "web_accept"), ("txn_id", "4PE43210QR9876543"), ("payment_status", "Pending"),
         ("pending_reason", "echeck"), ("payment_type", "echeck"), ("mc_gross", "120.00"),
         ("mc_currency", "USD"), ("payment_date", "07:00:00 Jan 09, 2024 PST"),
         ("option_name1", "Size"), ("option_selection1", "Large"), ("option_name2", "Colour"),
         ("option_selection2", "Green"), ("item_name", "Hoodie"), ("item_number", "HD-L-G")],
        BUYER, MERCHANT, TAIL),
    "web_accept--pending_fraud_filters": msg(
        [("txn_type", "web_accept"), ("txn_id", "3FM32109ST8765432"), ("payment_status", "Pending"),
         ("pending_reason", "paymentreview"), ("mc_gross", "999.00"), ("mc_currency", "USD"),
         ("fraud_management_pending_filters_1", "Maximum Transaction Amount"),
         ("fraud_management_pending_filters_2", "Unconfirmed Address"),
         ("payment_date", "23:59:59 Dec 31, 2023 PST"), ("protection_eligibility", "Ineligible")],
        BUYER, MERCHANT, TAIL),
    "web_accept--multi_currency_settled": msg(
        [("txn_type", "web_accept"), ("txn_id", "2MC21098UV7654321"), ("payment_status", "Completed"),
         ("mc_gross", "100.00"), ("mc_fee", "3.70"), ("mc_currency", "EUR"),
         ("settle_amount", "104.12"), ("settle_currency", "USD"), ("exchange_rate", "1.08157"),
         ("payment_gross", ""), ("payment_fee", ""), ("payment_date", "13:14:15 Feb 29, 2024 PST"),
         ("protection_eligibility", "Partially Eligible - INR Only"), ("memo", "Thanks & see you")],
        BUYER, MERCHANT, TAIL),
    "web_accept--processed": msg(
        [("txn_type", "web_accept"), ("txn_id", "2PR21098YZ7654321"), ("payment_status", "Processed"),
         ("mc_gross", "60.00"), ("mc_currency", "USD"), ("payment_date", "10:00:00 Jul 01, 2024 PDT")],
        BUYER, MERCHANT, TAIL),
    "web_accept--auction": msg(
        [("txn_type", "web_accept"), ("txn_id", "1AC10987WX6543210"), ("payment_status", "Completed"),
         ("for_auction", "true"), ("auction_buyer_id", "bidder_42"),
         ("auction_closing_date", "20:00:00 Mar 01, 2024 PST"), ("auction_multi_item", "2"),
         ("mc_gross", "80.00"), ("mc_currency", "USD"), ("payment_date", "21:00:00 Mar 01, 2024 PST")],
        BUYER, MERCHANT, TAIL),
    "send_money--completed": msg(
        [("txn_type", "send_money"), ("txn_id", "0SM09876YZ5432109"), ("payment_status", "Completed"),
         ("mc_gross", "15.00"), ("mc_fee", "0.74"), ("mc_currency", "CAD"),
         ("payment_date", "10:00:00 Jul 01, 2024 PDT"), ("memo", "Lunch, split two ways")],
        BUYER, MERCHANT, TAIL),
    # The IPN simulator's JavaScript Date.toString(), as today's engines write it: no charset.
    "web_accept--simulator_js_date": msg(
        [("txn_type", "web_accept"), ("txn_id", "5SI12345AB6789012"), ("payment_status", "Completed"),
         ("mc_gross", "12.34"), ("mc_currency", "USD"),
         ("payment_date", "Sun May 24 2015 14:32:31 GMT-0700 (Pacific Daylight Time)"),
         ("receipt_ID", "3012-1234-5678-9012")],
        BUYER, MERCHANT,
        [("notify_version", "2.1"), ("test_ipn", "1"),
         ("verify_sign", "AsyntheticSignatureForTests-0123456789abcdefABCDEF.xyz")]),
    # A month abbreviation with its period, as seen in the wild.
    "web_accept--date_month_period": msg(
        [("txn_type", "web_accept"), ("txn_id", "5MP12345AB6789012"), ("payment_status", "Completed"),
         ("mc_gross", "8.00"), ("mc_currency", "USD"), ("payment_date", "20:18:05 Jan. 30, 2009 PST")],
        BUYER, MERCHANT, TAIL),
    "virtual_terminal--completed": msg(
        [("txn_type", "virtual_terminal"), ("txn_id", "9VT98765AB4321098"),
         ("payment_status", "Completed"), ("mc_gross", "42.00"), ("mc_currency", "USD"),
         ("payment_date", "10:00:00 Jul 01, 2024 PDT"), ("shipping_method", "Default")],
        MERCHANT, TAIL),
    "cart--count_mismatch": msg(
        [("txn_type", "cart"), ("txn_id", "8CT87654CD3210987"), ("payment_status", "Completed"),
         ("num_cart_items", "3"), ("item_name1", "Tea"), ("item_number1", "T-1"), ("quantity1", "2"),
         ("mc_gross_1", "8.00"), ("mc_shipping1", "1.00"), ("mc_handling1", "0.50"), ("tax1", "0.64"),
         ("option_name1_1", "Blend"), ("option_selection1_1", "Earl Grey"),
         ("option_name2_1", "Size"), ("option_selection2_1", "250 g"),
         ("item_name2", "Mug"), ("item_number2", "M-1"), ("quantity2", "1"), ("mc_gross_2", "12.00"),
         ("mc_gross", "22.14"), ("mc_fee", "0.95"), ("mc_currency", "GBP"),
         ("payment_date", "09:30:00 Oct 27, 2024 PDT")],
        BUYER, MERCHANT, TAIL),
    "masspay--unclaimed": msg(
        [("txn_type", "masspay"), ("payment_status", "Processed"),
         ("payment_date", "04:00:00 Aug 15, 2024 PDT"),
         ("masspay_txn_id_1", "1MP11111AA1111111"), ("receiver_email_1", "one@example.com"),
         ("unique_id_1", "payout-1"), ("status_1", "Completed"), ("mc_currency_1", "USD"),
         ("mc_gross_1", "10.00"), ("mc_fee_1", "0.20"), ("payment_gross_1", "10.00"),
         ("payment_fee_1", "0.20"),
         ("masspay_txn_id_2", "2MP22222BB2222222"), ("receiver_email_2", "two@example.com"),
         ("unique_id_2", "payout-2"), ("status_2", "Unclaimed"), ("mc_currency_2", "EUR"),
         ("mc_gross_2", "5.00"), ("mc_fee_2", "0.10"), ("payment_gross_2", ""), ("payment_fee_2", ""),
         ("ipn_track_id", "c3d4e5f6a7b82")],
        [("payer_email", "payouts@example.net"), ("payer_id", "SHOPID0000001"),
         ("payer_status", "verified")], TAIL),
    # ---- disputes ----
    "new_case--chargeback": msg(
        [("txn_type", "new_case"), ("txn_id", "4RT58091KX0312345"), ("case_id", "PP-D-12345"),
         ("case_type", "chargeback"), ("case_creation_date", "02:03:04 Apr 01, 2024 PDT"),
         ("reason_code", "unauthorized"), ("mc_gross", "24.90"), ("mc_currency", "EUR")],
        BUYER, MERCHANT, TAIL),
    "new_case--complaint": msg(
        [("txn_type", "new_case"), ("txn_id", "4RT58091KX0312346"), ("case_id", "PP-D-12346"),
         ("case_type", "complaint"), ("case_creation_date", "02:03:04 Apr 01, 2024 PDT"),
         ("reason_code", "not_as_described")],
        BUYER, MERCHANT, TAIL),
    "chargeback--no_txn_type": msg(
        [("txn_id", "4RT58091KX0312347"), ("case_id", "PP-R-54321"), ("case_type", "chargeback"),
         ("case_creation_date", "15:00:00 Sep 09, 2024 PDT"), ("reason_code", "non_receipt")],
        BUYER, MERCHANT, TAIL),
    "adjustment--dispute_resolved": msg(
        [("txn_type", "adjustment"), ("txn_id", "3AD32109EF8765432"),
         ("parent_txn_id", "4RT58091KX0312345"), ("payment_status", "Completed"),
         ("reason_code", "chargeback_reimbursement"), ("case_id", "PP-D-12345"),
         ("case_type", "chargeback"), ("mc_gross", "24.90"), ("mc_currency", "EUR"),
         ("payment_date", "10:00:00 Jun 10, 2024 PDT")],
        MERCHANT, TAIL),
    # ---- subscriptions ----
    "subscr_signup--with_trial": msg(
        [("txn_type", "subscr_signup"), ("subscr_id", "I-SUBSCR000001"),
         ("subscr_date", "10:00:00 Jan 02, 2024 PST"), ("period1", "7 D"), ("mc_amount1", "0.00"),
         ("period2", "1 M"), ("mc_amount2", "4.99"), ("period3", "1 Y"), ("mc_amount3", "99.00"),
         ("amount3", "99.00"), ("mc_currency", "USD"), ("recurring", "1"), ("reattempt", "1"),
         ("recur_times", "5"), ("item_name", "Pro plan"), ("username", "alex42")],
        BUYER, MERCHANT, TAIL),
    "subscr_payment--completed": msg(
        [("txn_type", "subscr_payment"), ("subscr_id", "I-SUBSCR000001"), ("txn_id", "1SP10987HI6543210"),
         ("payment_status", "Completed"), ("payment_type", "instant"), ("mc_gross", "4.99"),
         ("mc_fee", "0.44"), ("mc_currency", "USD"), ("payment_gross", "4.99"), ("payment_fee", "0.44"),
         ("payment_date", "10:00:05 Jan 09, 2024 PST"), ("item_name", "Pro plan")],
        BUYER, MERCHANT, TAIL),
    "subscr_cancel--by_buyer": msg(
        [("txn_type", "subscr_cancel"), ("subscr_id", "I-SUBSCR000001"),
         ("subscr_date", "12:00:00 Jun 15, 2024 PDT"), ("period3", "1 Y"), ("mc_amount3", "99.00"),
         ("mc_currency", "USD"), ("recurring", "1")],
        BUYER, MERCHANT, TAIL),
    "subscr_failed--retry": msg(
        [("txn_type", "subscr_failed"), ("subscr_id", "I-SUBSCR000001"),
         ("retry_at", "10:00:00 Feb 05, 2024 PST"), ("mc_gross", "99.00"), ("mc_currency", "USD"),
         ("payment_status", "Failed")],
        BUYER, MERCHANT, TAIL),
    "subscr_eot--end_of_term": msg(
        [("txn_type", "subscr_eot"), ("subscr_id", "I-SUBSCR000001"), ("mc_currency", "USD")],
        BUYER, MERCHANT, TAIL),
    "subscr_modify--new_period": msg(
        [("txn_type", "subscr_modify"), ("subscr_id", "I-SUBSCR000002"),
         ("old_subscr_id", "I-SUBSCR000001"), ("subscr_date", "10:00:00 Mar 02, 2024 PST"),
         ("subscr_effective", "10:00:00 Apr 02, 2024 PDT"), ("period3", "1 M"),
         ("mc_amount3", "9.99"), ("mc_currency", "USD"), ("recurring", "1")],
        BUYER, MERCHANT, TAIL),
    # ---- recurring payments ----
    "recurring_payment_profile_created--trial": msg(
        [("txn_type", "recurring_payment_profile_created"), ("recurring_payment_id", "I-RP0000000001"),
         ("profile_status", "Active"), ("product_name", "Weekly box"), ("product_type", "1"),
         ("period_type", " Trial"), ("payment_cycle", "Weekly"), ("currency_code", "AUD"),
         ("amount", "30.00"), ("amount_per_cycle", "30.00"), ("initial_payment_amount", "5.00"),
         ("initial_payment_status", "Completed"), ("initial_payment_txn_id", "6IP65432GH1098765"),
         ("outstanding_balance", "0.00"), ("next_payment_date", "02:00:00 Jan 09, 2024 PST"),
         ("time_created", "11:11:11 Jan 02, 2024 PST"), ("rp_invoice_id", "RP-1")],
        BUYER, MERCHANT, TAIL),
    "recurring_payment--received": msg(
        [("txn_type", "recurring_payment"), ("recurring_payment_id", "I-RP0000000001"),
         ("txn_id", "3RP32109JK8765432"), ("payment_status", "Completed"), ("mc_gross", "30.00"),
         ("mc_fee", "1.12"), ("mc_currency", "AUD"), ("currency_code", "AUD"),
         ("amount_per_cycle", "30.00"), ("profile_status", "Active"), ("period_type", " Regular"),
         ("payment_cycle", "Weekly"), ("next_payment_date", "02:00:00 Jan 16, 2024 PST"),
         ("payment_date", "02:10:00 Jan 09, 2024 PST"), ("time_created", "11:11:11 Jan 02, 2024 PST")],
        BUYER, MERCHANT, TAIL),
    "recurring_payment_profile_cancel": msg(
        [("txn_type", "recurring_payment_profile_cancel"), ("recurring_payment_id", "I-RP0000000001"),
         ("profile_status", "Cancelled"), ("currency_code", "AUD"), ("amount_per_cycle", "30.00"),
         ("next_payment_date", "N/A"), ("time_created", "11:11:11 Jan 02, 2024 PST")],
        BUYER, MERCHANT, TAIL),
    "recurring_payment_skipped": msg(
        [("txn_type", "recurring_payment_skipped"), ("recurring_payment_id", "I-RP0000000001"),
         ("profile_status", "Active"), ("period_type", " Regular"), ("payment_cycle", "Weekly"),
         ("currency_code", "AUD"), ("amount_per_cycle", "30.00"), ("outstanding_balance", "30.00"),
         ("next_payment_date", "02:00:00 Jan 21, 2024 PST"),
         ("time_created", "11:11:11 Jan 02, 2024 PST")],
        BUYER, MERCHANT, TAIL),
    "recurring_payment_failed": msg(
        [("txn_type", "recurring_payment_failed"), ("recurring_payment_id", "I-RP0000000001"),
         ("profile_status", "Active"), ("currency_code", "AUD"), ("amount_per_cycle", "30.00"),
         ("outstanding_balance", "60.00"), ("next_payment_date", "N/A")],
        BUYER, MERCHANT, TAIL),
    "recurring_payment_suspended": msg(
        [("txn_type", "recurring_payment_suspended"), ("recurring_payment_id", "I-RP0000000001"),
         ("profile_status", "Suspended"), ("currency_code", "AUD"), ("outstanding_balance", "90.00"),
         ("next_payment_date", "N/A")],
        BUYER, MERCHANT, TAIL),
    "recurring_payment_expired": msg(
        [("txn_type", "recurring_payment_expired"), ("recurring_payment_id", "I-RP0000000002"),
         ("profile_status", "Expired"), ("currency_code", "USD"), ("amount_per_cycle", "10.00"),
         ("next_payment_date", "N/A")],
        BUYER, MERCHANT, TAIL),
    "mp_signup--billing_agreement": msg(
        [("txn_type", "mp_signup"), ("mp_id", "B-BA0000000000001"), ("mp_status", "0"),
         ("mp_desc", "Monthly top-up"), ("mp_currency", "USD"), ("mp_cycle_start", "1")],
        BUYER, MERCHANT, TAIL),
    "mp_cancel--billing_agreement": msg(
        [("txn_type", "mp_cancel"), ("mp_id", "B-BA0000000000001"), ("mp_status", "1")],
        BUYER, MERCHANT, TAIL),
    # ---- Adaptive Payments and Accounts ----
    "adaptive_preapproval--active": msg(
        [("transaction_type", "Adaptive Payment PREAPPROVAL"), ("preapproval_key", "PA-1PR00000AA000000"),
         ("approved", "true"), ("status", "ACTIVE"), ("sender_email", "alex.buyer@example.org"),
         ("currency_code", "USD"), ("max_total_amount_of_all_payments", "500.00"),
         ("max_amount_per_payment", "50.00"), ("max_number_of_payments", "10"),
         ("max_number_of_payments_per_period", "2"), ("current_number_of_payments", "1"),
         ("current_total_amount_of_all_payments", "25.00"), ("current_period_attempts", "1"),
         ("starting_date", "2024-01-01T00:00:00.000-08:00"),
         ("ending_date", "2024-12-31T23:59:59.000-08:00"), ("payment_period", "MONTHLY"),
         ("pin_type", "NOT_REQUIRED"), ("date_of_month", "1"), ("day_of_week", "NO_DAY_SPECIFIED"),
         ("return_url", "https://shop.example.net/return?ok=1"),
         ("cancel_url", "https://shop.example.net/cancel"),
         ("ipn_notification_url", "https://shop.example.net/ipn")],
        TAIL),
    "adaptive_account--created": msg(
        [("account_key", "AK-0000000000000001"), ("confirmation_code", "CC-12345")],
        TAIL),
}

# Refused with the error code their name starts with.
MALFORMED = {
    "duplicate_key--cart_gross_two_spellings": [("txn_type", "cart"), ("mc_gross_1", "100.00"), ("mc_gross1", "0.01"), ("mc_currency", "USD")],
    "duplicate_key--receipt_id_two_spellings": [("txn_type", "web_accept"), ("receipt_id", "1"), ("receipt_ID", "2")],
    "unsupported_charset--ucs2_alias": [("charset", "ucs-2"), ("txn_type", "web_accept")],
    "unsupported_charset--x_user_defined": [("charset", "x-user-defined"), ("txn_type", "web_accept")],
}

# Parsed, with a notice of the code their name starts with: the value is not of its variable's type.
UNREADABLE = {
    "invalid_amount--thousands_separator": [("txn_type", "web_accept"), ("mc_gross", "1,000.00"), ("mc_currency", "USD")],
    "invalid_amount--adaptive_without_currency": [("transaction_type", "Adaptive Payment PAY"), ("transaction[0].amount", "110.00")],
    "invalid_currency--lower_case": [("txn_type", "web_accept"), ("mc_gross", "1.00"), ("mc_currency", "usd")],
    "invalid_date--unknown_zone": [("txn_type", "web_accept"), ("payment_date", "20:12:59 Jan 13, 2009 CET")],
    "invalid_date--ordinal_day": [("txn_type", "web_accept"), ("payment_date", "01:21:32 Jan 25th 2015 PDT")],
    "invalid_number--quantity": [("txn_type", "web_accept"), ("quantity", "two")],
    "invalid_flag--test_ipn": [("txn_type", "web_accept"), ("test_ipn", "yes")],
    "invalid_period--unit": [("txn_type", "subscr_signup"), ("period3", "1 Q")],
}


def write(folder, name, pairs, charset):
    body = "&".join(
        urllib.parse.quote_plus(k, safe="[]", encoding=CODECS[charset])
        + "="
        + urllib.parse.quote_plus(v, encoding=CODECS[charset])
        for k, v in pairs
    ).encode("ascii")
    (folder / f"{name}.body").write_bytes(body)
    decoded = urllib.parse.parse_qsl(body.decode("ascii"), keep_blank_values=True,
                                     strict_parsing=True, encoding=CODECS[charset], errors="strict")
    assert decoded == pairs, name
    return decoded


def main():
    for name, pairs in VECTORS.items():
        charset = dict(pairs).get("charset", "windows-1252")
        decoded = write(HERE, name, pairs, charset)
        lines = ",\n".join(" " + json.dumps(list(p), ensure_ascii=False) for p in decoded)
        (HERE / f"{name}.fields.json").write_text("[\n" + lines + "\n]\n", encoding="utf-8")
    for name, pairs in MALFORMED.items():
        write(HERE / "malformed", name, pairs, "windows-1252")
    for name, pairs in UNREADABLE.items():
        write(HERE / "unreadable", name, pairs, "windows-1252")


if __name__ == "__main__":
    main()
