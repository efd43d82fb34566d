//! PayPal's dates, to UTC instants, with the original text kept.
//!
//! | writer | example |
//! |---|---|
//! | live IPN | `20:12:59 Jan 13, 2009 PST` |
//! | live IPN, abbreviated month with a period (seen in the wild, django-paypal) | `20:18:05 Jan. 30, 2009 PST` |
//! | Adaptive Payments (Java `Date.toString`) | `Thu Jan 05 06:43:04 PST 2012` |
//! | IPN simulator, 2015 | `23:38:36 30 Oct 2015 PDT` |
//! | IPN simulator, JavaScript `Date.toString`, older engines | `Sun May 24 2015 14:32:31 GMT-0700 (PDT)` |
//! | IPN simulator, JavaScript `Date.toString`, today's engines | `Sun May 24 2015 14:32:31 GMT-0700 (Pacific Daylight Time)` |
//! | JavaScript `Date.toString` without the zone's name | `Sun May 24 2015 14:32:31 GMT-0700` |
//! | ISO 8601 / RFC 3339 | `2012-01-05T06:43:04-08:00`, `2012-01-05T14:43:04Z` |
//!
//! In JavaScript's form the `GMT±hhmm` offset decides; the name in parentheses is free text
//! (localised, with spaces: `(Mitteleuropäische Sommerzeit)`) and only has to be well formed: at
//! most 64 bytes, no parentheses, no control characters.
//!
//! `N/A` (PayPal's "no next payment") is no date. PayPal's clocks keep US Pacific time, and the
//! `PST`/`PDT` label says which side of a daylight-saving change the time is on. PST is UTC−8 and
//! PDT UTC−7; the label decides within the hour that happens twice each November (and within the
//! hour that never happens each March). A label the calendar contradicts — the IPN simulator once
//! wrote `PDT` on February dates — is corrected to the offset in force that day, and the
//! correction is reported ([`PayPalDate::zone_corrected`]), as django-paypal's tests expect
//! (`23:04:06 Feb 02, 2009 PDT` is 2009-02-03T07:04:06Z). US rules: from 2007, the second Sunday
//! of March to the first Sunday of November; 1987–2006, the first Sunday of April to the last
//! Sunday of October (earlier years, before PayPal existed, use the latter).

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc, Weekday};
use serde::{Serialize, Serializer};

use crate::error::{Error, FieldName};

/// A date PayPal wrote: the instant in UTC and the text as received.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PayPalDate {
    /// The instant, in UTC.
    pub utc: DateTime<Utc>,
    /// The text as PayPal wrote it.
    pub text: String,
    /// Whether the `PST`/`PDT` label contradicted the calendar and was corrected.
    pub zone_corrected: bool,
}

impl PayPalDate {
    /// Parses any of PayPal's formats. `Ok(None)` for `N/A` (and an empty value); an error naming
    /// `field` for anything else that is not a date.
    ///
    /// ```
    /// let d = ipnkit::PayPalDate::parse("payment_date", "20:12:59 Jan 13, 2009 PST")?.unwrap();
    /// assert_eq!(d.to_rfc3339(), "2009-01-14T04:12:59Z");
    /// assert!(ipnkit::PayPalDate::parse("next_payment_date", "N/A")?.is_none());
    /// # Ok::<(), ipnkit::Error>(())
    /// ```
    pub fn parse(field: &str, text: &str) -> Result<Option<PayPalDate>, Error> {
        if text.is_empty() || text == "N/A" {
            return Ok(None);
        }
        let (utc, zone_corrected) = parse_instant(text).ok_or_else(|| Error::InvalidDate {
            field: FieldName::new(field),
        })?;
        Ok(Some(PayPalDate {
            utc,
            text: text.to_owned(),
            zone_corrected,
        }))
    }

    /// The instant as RFC 3339 in UTC, ending in `Z` (`2009-01-14T04:12:59Z`).
    pub fn to_rfc3339(&self) -> String {
        self.utc.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

impl fmt::Display for PayPalDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for PayPalDate {
    /// `{"utc": "2009-01-14T04:12:59Z", "text": "20:12:59 Jan 13, 2009 PST"}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("PayPalDate", 2)?;
        st.serialize_field("utc", &self.to_rfc3339())?;
        st.serialize_field("text", &self.text)?;
        st.end()
    }
}

/// The zone a date's text names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Zone {
    /// US Pacific, labelled standard (`PST`) or daylight (`PDT`).
    Pacific { daylight: bool },
    /// A fixed offset from UTC, in seconds (`GMT-0700`, `Z`, `UTC`).
    Fixed(i32),
}

fn parse_instant(text: &str) -> Option<(DateTime<Utc>, bool)> {
    let bytes = text.as_bytes();
    live_format(bytes).or_else(|| any_format(text))
}

/// Every format of the [module docs](self), by tokens.
fn any_format(text: &str) -> Option<(DateTime<Utc>, bool)> {
    let bytes = text.as_bytes();
    if !bytes.contains(&b' ') && bytes.contains(&b'T') && bytes.contains(&b'-') {
        return DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|d| (d.with_timezone(&Utc), false));
    }
    // JavaScript's `Date.toString()` may end with the zone's name in parentheses, spaces and all.
    let (head, zone_name) = match bytes
        .contains(&b'(')
        .then(|| text.split_once(" ("))
        .flatten()
    {
        Some((head, tail)) => (head, Some(zone_name(tail)?)),
        None => (text, None),
    };
    // At most 6 tokens in any format: split at single spaces without allocating.
    let mut tokens = [""; 6];
    let mut count = 0;
    let mut from = 0;
    for (i, &b) in head.as_bytes().iter().enumerate() {
        if b == b' ' {
            *tokens.get_mut(count)? = head.get(from..i)?;
            count += 1;
            from = i + 1;
        }
    }
    *tokens.get_mut(count)? = head.get(from..)?;
    count += 1;
    let (local, zone) = match tokens.get(..count)? {
        // 20:12:59 Jan 13, 2009 PST (and `Jan.`)
        [time, month, day, year, zone] if day.ends_with(',') && zone_name.is_none() => (
            local(year, month, day.strip_suffix(',')?, time)?,
            zone_label(zone)?,
        ),
        // 23:38:36 30 Oct 2015 PDT
        [time, day, month, year, zone] if zone_name.is_none() => {
            (local(year, month, day, time)?, zone_label(zone)?)
        }
        // Sun May 24 2015 14:32:31 GMT-0700, with or without ` (Pacific Daylight Time)`
        [dow, month, day, year, time, gmt] if gmt.starts_with("GMT") => {
            weekday(dow)?;
            (
                local(year, month, day, time)?,
                Zone::Fixed(gmt_offset(gmt)?),
            )
        }
        // Thu Jan 05 06:43:04 PST 2012
        [dow, month, day, time, zone, year] if zone_name.is_none() => {
            weekday(dow)?;
            (local(year, month, day, time)?, zone_label(zone)?)
        }
        _ => return None,
    };
    let (offset, corrected) = match zone {
        Zone::Fixed(seconds) => (seconds, false),
        Zone::Pacific { daylight } => pacific_offset(local.date, local.hour, daylight),
    };
    Some((local.utc(offset)?, corrected))
}

fn local(year: &str, month: &str, day: &str, time: &str) -> Option<Local> {
    let year: i32 = digits(year, 4, 4)?.try_into().ok()?;
    let day = digits(day, 1, 2)?;
    let [h1, h2, b':', m1, m2, b':', s1, s2] = *time.as_bytes() else {
        return None;
    };
    let date = Civil {
        year,
        month: month_number(month)?,
        day,
    };
    Local::new(date, [h1, h2], [m1, m2], [s1, s2])
}

/// A valid wall-clock time on a calendar day.
#[derive(Debug, Clone, Copy)]
struct Local {
    date: Civil,
    hour: u32,
    /// Seconds since midnight.
    seconds: u32,
}

impl Local {
    /// The time from its two-digit hour, minute and second, or `None` when a part is not two
    /// digits or out of range (a day past its month's end, 24:00:00, a leap second).
    fn new(date: Civil, hour: [u8; 2], minute: [u8; 2], second: [u8; 2]) -> Option<Local> {
        let (hour, minute, second) = (digits_of(&hour)?, digits_of(&minute)?, digits_of(&second)?);
        let valid = (1..=12).contains(&date.month)
            && date.day >= 1
            && date.day <= date.days_in_month()
            && hour <= 23
            && minute <= 59
            && second <= 59;
        valid.then_some(Local {
            date,
            hour,
            seconds: hour * 3600 + minute * 60 + second,
        })
    }

    /// The instant, given the zone's offset from UTC in seconds.
    fn utc(self, offset: i32) -> Option<DateTime<Utc>> {
        let local = self.date.days_since_epoch() * 86_400 + i64::from(self.seconds);
        DateTime::from_timestamp(local - i64::from(offset), 0)
    }
}

/// A run of `min..=max` ASCII digits.
fn digits(s: &str, min: usize, max: usize) -> Option<u32> {
    if s.len() < min || s.len() > max {
        return None;
    }
    digits_of(s.as_bytes())
}

/// ASCII digits (at most 9, so no overflow) as a number.
fn digits_of(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 9 {
        return None;
    }
    bytes.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month_number(name: &str) -> Option<u32> {
    // `Jan.`: an abbreviation with its period, as PayPal has written it (or `Jan`, kept as is).
    let name = name.strip_suffix('.').unwrap_or(name);
    let i = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name))?;
    u32::try_from(i + 1).ok()
}

fn weekday(name: &str) -> Option<Weekday> {
    const DAYS: [(&str, Weekday); 7] = [
        ("Mon", Weekday::Mon),
        ("Tue", Weekday::Tue),
        ("Wed", Weekday::Wed),
        ("Thu", Weekday::Thu),
        ("Fri", Weekday::Fri),
        ("Sat", Weekday::Sat),
        ("Sun", Weekday::Sun),
    ];
    DAYS.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, d)| d)
}

/// The name inside JavaScript's `(…)` tail, which must close the text: free text (any language),
/// at most 64 bytes, without parentheses or control characters.
fn zone_name(tail: &str) -> Option<&str> {
    let name = tail.strip_suffix(')')?;
    let well_formed = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(' ')
        && !name.ends_with(' ')
        && !name.chars().any(|c| c == '(' || c == ')' || c.is_control());
    well_formed.then_some(name)
}

fn zone_label(label: &str) -> Option<Zone> {
    match label {
        "PST" => Some(Zone::Pacific { daylight: false }),
        "PDT" => Some(Zone::Pacific { daylight: true }),
        "GMT" | "UTC" | "Z" => Some(Zone::Fixed(0)),
        _ => None,
    }
}

/// `GMT-0700` → −25200 seconds.
fn gmt_offset(text: &str) -> Option<i32> {
    let rest = text.strip_prefix("GMT")?;
    let (sign, hhmm) = match rest.as_bytes().first()? {
        b'+' => (1, rest.get(1..)?),
        b'-' => (-1, rest.get(1..)?),
        _ => return None,
    };
    let value = digits(hhmm, 4, 4)?;
    let (h, m) = (value / 100, value % 100);
    if h > 14 || m > 59 {
        return None;
    }
    i32::try_from(h * 3600 + m * 60).ok().map(|s| sign * s)
}

const PST: i32 = -8 * 3600;
const PDT: i32 = -7 * 3600;

/// The live IPN format, `20:12:59 Jan 13, 2009 PST`, read by position: what nearly every
/// message carries, without splitting into tokens or a calendar search. `None` for anything else
/// (other formats, `Jan.`, a month in other case, any value out of range): the general path then
/// reads it, with the same result for what both read (a test compares them).
fn live_format(bytes: &[u8]) -> Option<(DateTime<Utc>, bool)> {
    let (time, rest) = bytes.split_first_chunk::<9>()?;
    let [h1, h2, b':', m1, m2, b':', s1, s2, b' '] = *time else {
        return None;
    };
    let (month, rest) = rest.split_first_chunk::<4>()?;
    let month = match month {
        [a, b, c, b' '] => MONTHS.iter().position(|m| m.as_bytes() == [*a, *b, *c])?,
        _ => return None,
    };
    // `D, YYYY PST` or `DD, YYYY PST`.
    let (day, rest) = match rest {
        [d, b',', rest @ ..] => (digits_of(&[*d])?, rest),
        [d1, d2, b',', rest @ ..] => (digits_of(&[*d1, *d2])?, rest),
        _ => return None,
    };
    let [b' ', y1, y2, y3, y4, b' ', b'P', zone, b'T'] = *rest else {
        return None;
    };
    let daylight = match zone {
        b'S' => false,
        b'D' => true,
        _ => return None,
    };
    let year = i32::try_from(digits_of(&[y1, y2, y3, y4])?).ok()?;
    let date = Civil {
        year,
        month: u32::try_from(month + 1).ok()?,
        day,
    };
    let local = Local::new(date, [h1, h2], [m1, m2], [s1, s2])?;
    let (offset, corrected) = pacific_offset(date, local.hour, daylight);
    Some((local.utc(offset)?, corrected))
}

/// A day of the proleptic Gregorian calendar, in integers: what the Pacific rules need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Civil {
    year: i32,
    month: u32,
    day: u32,
}

impl Civil {
    /// Days since 1970-01-01 (negative before): the standard days-from-civil arithmetic, with
    /// years counted from March so that the leap day ends a year.
    fn days_since_epoch(self) -> i64 {
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let month_from_march = i64::from((self.month + 9) % 12);
        let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// 0 for Sunday to 6 for Saturday (1970-01-01 was a Thursday).
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // rem_euclid(7): 0 to 6
    fn weekday(self) -> u32 {
        (self.days_since_epoch() + 4).rem_euclid(7) as u32
    }

    fn is_leap_year(self) -> bool {
        self.year % 4 == 0 && (self.year % 100 != 0 || self.year % 400 == 0)
    }

    fn days_in_month(self) -> u32 {
        match self.month {
            2 if self.is_leap_year() => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// The `n`th Sunday (from 1) of `month` in `year`.
    fn nth_sunday(year: i32, month: u32, n: u32) -> Civil {
        let first = Civil {
            year,
            month,
            day: 1,
        };
        Civil {
            day: 1 + (7 - first.weekday()) % 7 + 7 * (n - 1),
            ..first
        }
    }

    /// The last Sunday of `month` in `year`.
    fn last_sunday(year: i32, month: u32) -> Civil {
        let mut end = Civil {
            year,
            month,
            day: 1,
        };
        end.day = end.days_in_month();
        Civil {
            day: end.day - end.weekday(),
            ..end
        }
    }
}

/// The offset of a Pacific wall-clock time (its day and hour) labelled `daylight` (PDT) or not
/// (PST), and whether the label had to be corrected.
fn pacific_offset(date: Civil, hour: u32, daylight: bool) -> (i32, bool) {
    let labelled = if daylight { PDT } else { PST };
    match pacific_state(date, hour) {
        // The label picks the side: November's repeated hour, March's missing one.
        DstState::Ambiguous | DstState::Gap => (labelled, false),
        DstState::Daylight => (PDT, !daylight),
        DstState::Standard => (PST, daylight),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DstState {
    Standard,
    Daylight,
    /// 01:00–01:59 on the day daylight time ends: it happens twice.
    Ambiguous,
    /// 02:00–02:59 on the day daylight time starts: it never happens.
    Gap,
}

/// The days daylight time starts and ends in `year` under US rules.
fn daylight_days(year: i32) -> (Civil, Civil) {
    if year >= 2007 {
        (
            Civil::nth_sunday(year, 3, 2),
            Civil::nth_sunday(year, 11, 1),
        )
    } else {
        (Civil::nth_sunday(year, 4, 1), Civil::last_sunday(year, 10))
    }
}

fn pacific_state(date: Civil, hour: u32) -> DstState {
    let (start, end) = daylight_days(date.year);
    if date == start {
        return match hour {
            0..=1 => DstState::Standard,
            2 => DstState::Gap,
            _ => DstState::Daylight,
        };
    }
    if date == end {
        return match hour {
            0 => DstState::Daylight,
            1 => DstState::Ambiguous,
            _ => DstState::Standard,
        };
    }
    if date > start && date < end {
        DstState::Daylight
    } else {
        DstState::Standard
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn utc(text: &str) -> String {
        PayPalDate::parse("payment_date", text)
            .ok()
            .flatten()
            .map(|d| d.to_rfc3339())
            .unwrap_or_else(|| "invalid".into())
    }

    fn corrected(text: &str) -> bool {
        PayPalDate::parse("d", text)
            .ok()
            .flatten()
            .is_some_and(|d| d.zone_corrected)
    }

    /// The live format read by position agrees with the general reading: every day of the years
    /// around both US rule sets and their changes, the hours around the switches, both labels,
    /// one- and two-digit days.
    #[test]
    fn the_live_format_read_by_position_agrees_with_the_general_reading() {
        let mut compared = 0;
        for year in [1999, 2000, 2004, 2006, 2007, 2008, 2015, 2024, 2100] {
            for month in 1..=12u32 {
                for day in 0..=32u32 {
                    for hour in [0, 1, 2, 3, 23, 24] {
                        for zone in ["PST", "PDT"] {
                            let name = MONTHS.get(month as usize - 1).copied().unwrap_or("Jan");
                            for text in [
                                format!("{hour:02}:59:07 {name} {day:02}, {year} {zone}"),
                                format!("{hour:02}:00:00 {name} {day}, {year} {zone}"),
                            ] {
                                let fast = live_format(text.as_bytes());
                                let general = any_format(&text);
                                if day == 0 || day > 31 || hour > 23 {
                                    assert_eq!((fast, general), (None, None), "{text}");
                                } else if general.is_some() {
                                    assert_eq!(fast, general, "{text}");
                                    compared += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(compared > 30_000, "{compared}");
        // What the position reader leaves to the general one, which reads it alike.
        for text in ["20:18:05 Jan. 30, 2009 PST", "20:18:05 JAN 30, 2009 PST"] {
            assert_eq!(live_format(text.as_bytes()), None, "{text}");
            assert!(any_format(text).is_some(), "{text}");
        }
    }

    /// The arithmetic calendar agrees with chrono's on which days exist and how far each is from
    /// 1970-01-01: every day (and the day after each month's last) of years around the epoch, the
    /// leap-year exceptions and the far past.
    #[test]
    fn civil_days_agree_with_chronos_calendar() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        for year in [
            1, 4, 100, 400, 1600, 1899, 1900, 1968, 1969, 1970, 1971, 1972, 2000, 2024, 2100, 9999,
        ] {
            for month in 1..=12 {
                for day in 1..=32 {
                    let date = Civil { year, month, day };
                    let theirs = NaiveDate::from_ymd_opt(year, month, day);
                    let ours = Local::new(date, *b"12", *b"00", *b"00");
                    assert_eq!(ours.is_some(), theirs.is_some(), "{year}-{month}-{day}");
                    if let Some(theirs) = theirs {
                        assert_eq!(
                            date.days_since_epoch(),
                            theirs.signed_duration_since(epoch).num_days(),
                            "{year}-{month}-{day}"
                        );
                    }
                }
            }
        }
    }

    /// The arithmetic calendar agrees with chrono's on the days daylight time starts and ends.
    #[test]
    fn daylight_days_agree_with_chronos_calendar() {
        for year in 1..=2400 {
            let (start, end) = daylight_days(year);
            let day = |c: Civil| NaiveDate::from_ymd_opt(c.year, c.month, c.day);
            let (expected_start, expected_end) = if year >= 2007 {
                (
                    NaiveDate::from_weekday_of_month_opt(year, 3, Weekday::Sun, 2),
                    NaiveDate::from_weekday_of_month_opt(year, 11, Weekday::Sun, 1),
                )
            } else {
                (
                    NaiveDate::from_weekday_of_month_opt(year, 4, Weekday::Sun, 1),
                    NaiveDate::from_weekday_of_month_opt(year, 10, Weekday::Sun, 5).or_else(|| {
                        NaiveDate::from_weekday_of_month_opt(year, 10, Weekday::Sun, 4)
                    }),
                )
            };
            assert_eq!(
                (day(start), day(end)),
                (expected_start, expected_end),
                "{year}"
            );
            let jan1 = Civil {
                year,
                month: 1,
                day: 1,
            };
            assert_eq!(
                NaiveDate::from_ymd_opt(year, 1, 1).map(|d| d
                    .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default())
                    .num_days()),
                Some(jan1.days_since_epoch()),
                "{year}"
            );
        }
    }

    #[test]
    fn the_live_format() {
        assert_eq!(utc("20:12:59 Jan 13, 2009 PST"), "2009-01-14T04:12:59Z");
        // offsite_payments' assertions
        assert_eq!(utc("15:23:54 Apr 15, 2005 PDT"), "2005-04-15T22:23:54Z");
        assert_eq!(utc("14:07:35 Apr 09, 2014 PDT"), "2014-04-09T21:07:35Z");
        assert_eq!(utc("16:30:42 Feb 28, 2014 PST"), "2014-03-01T00:30:42Z");
        assert!(!corrected("16:30:42 Feb 28, 2014 PST"));
    }

    #[test]
    fn adaptive_payments_java_format() {
        assert_eq!(utc("Thu Jan 05 06:43:04 PST 2012"), "2012-01-05T14:43:04Z");
        assert_eq!(utc("Thu Dec 06 22:50:00 PST 2012"), "2012-12-07T06:50:00Z");
        assert_eq!(utc("Fri Jan 18 20:01:29 PST 2013"), "2013-01-19T04:01:29Z");
        assert_eq!(utc("Xyz Jan 05 06:43:04 PST 2012"), "invalid");
    }

    #[test]
    fn simulator_formats() {
        assert_eq!(utc("23:38:36 30 Oct 2015 PDT"), "2015-10-31T06:38:36Z");
        assert_eq!(
            utc("Sun May 24 2015 14:32:31 GMT-0700 (PDT)"),
            "2015-05-24T21:32:31Z"
        );
        assert_eq!(
            utc("Sun May 24 2015 14:32:31 GMT+0530 (IST)"),
            "2015-05-24T09:02:31Z"
        );
    }

    #[test]
    fn javascript_date_to_string_with_the_zone_spelled_out() {
        // Today's engines spell the zone's name out; the offset decides, whatever the name says.
        assert_eq!(
            utc("Sun May 24 2015 14:32:31 GMT-0700 (Pacific Daylight Time)"),
            "2015-05-24T21:32:31Z"
        );
        assert_eq!(
            utc("Tue Jan 13 2009 20:12:59 GMT-0800 (Pacific Standard Time)"),
            "2009-01-14T04:12:59Z"
        );
        assert_eq!(
            utc("Wed Jun 12 2024 09:00:00 GMT+0200 (Mitteleuropäische Sommerzeit)"),
            "2024-06-12T07:00:00Z"
        );
        assert_eq!(
            utc("Sun May 24 2015 14:32:31 GMT+0530 (India Standard Time)"),
            "2015-05-24T09:02:31Z"
        );
        assert_eq!(
            utc("Sun May 24 2015 14:32:31 GMT-0700"),
            "2015-05-24T21:32:31Z"
        );
        // A JavaScript date is a fixed offset: nothing to correct.
        assert!(!corrected(
            "Sun May 24 2015 14:32:31 GMT-0700 (Pacific Standard Time)"
        ));
        for bad in [
            "Sun May 24 2015 14:32:31 GMT-0700 ()",
            "Sun May 24 2015 14:32:31 GMT-0700 (Pacific (Daylight) Time)",
            "Sun May 24 2015 14:32:31 GMT-0700 (Pacific Daylight Time",
            "Sun May 24 2015 14:32:31 GMT-0700 (Pacific\nTime)",
            "Sun May 24 2015 14:32:31 GMT-0700 (Pacific Daylight Time) extra",
            "Sun May 24 2015 14:32:31 PDT (Pacific Daylight Time)",
            "20:12:59 Jan 13, 2009 PST (Pacific Standard Time)",
            "Thu Jan 05 06:43:04 PST 2012 (PST)",
        ] {
            assert_eq!(utc(bad), "invalid", "{bad}");
        }
        let long = format!("Sun May 24 2015 14:32:31 GMT-0700 ({})", "A".repeat(65));
        assert_eq!(utc(&long), "invalid");
    }

    #[test]
    fn abbreviated_month_with_a_period() {
        assert_eq!(utc("20:18:05 Jan. 30, 2009 PST"), "2009-01-31T04:18:05Z");
        assert_eq!(utc("20:18:05 Jun. 30, 2009 PDT"), "2009-07-01T03:18:05Z");
        assert_eq!(utc("20:18:05 Jan.. 30, 2009 PST"), "invalid");
    }

    #[test]
    fn iso_dates() {
        assert_eq!(utc("2012-01-05T06:43:04-08:00"), "2012-01-05T14:43:04Z");
        assert_eq!(utc("2012-01-05T14:43:04.250Z"), "2012-01-05T14:43:04.250Z");
    }

    #[test]
    fn a_label_the_calendar_contradicts_is_corrected_and_reported() {
        // django-paypal: the simulator's "PDT" on a February date is Pacific standard time.
        assert_eq!(utc("23:04:06 Feb 02, 2009 PDT"), "2009-02-03T07:04:06Z");
        assert!(corrected("23:04:06 Feb 02, 2009 PDT"));
        assert_eq!(utc("12:00:00 Jul 04, 2020 PST"), "2020-07-04T19:00:00Z");
        assert!(corrected("12:00:00 Jul 04, 2020 PST"));
    }

    #[test]
    fn the_label_decides_the_repeated_november_hour() {
        // django-paypal: both accepted on the day daylight time ended in 2015.
        assert_eq!(utc("01:13:05 Nov 01, 2015 PDT"), "2015-11-01T08:13:05Z");
        assert_eq!(utc("01:13:05 Nov 01, 2015 PST"), "2015-11-01T09:13:05Z");
        assert!(!corrected("01:13:05 Nov 01, 2015 PDT") && !corrected("01:13:05 Nov 01, 2015 PST"));
        // Just before and after.
        assert_eq!(utc("00:59:59 Nov 01, 2015 PDT"), "2015-11-01T07:59:59Z");
        assert_eq!(utc("02:00:00 Nov 01, 2015 PST"), "2015-11-01T10:00:00Z");
        // Spring forward: 02:30 does not exist; the label decides.
        assert_eq!(utc("02:30:00 Mar 08, 2015 PST"), "2015-03-08T10:30:00Z");
        assert_eq!(utc("03:00:00 Mar 08, 2015 PDT"), "2015-03-08T10:00:00Z");
    }

    #[test]
    fn rules_before_2007() {
        // 2006: daylight time from April 2 to October 29.
        assert!(!corrected("12:00:00 Apr 02, 2006 PDT"));
        assert!(corrected("12:00:00 Mar 20, 2006 PDT"));
        assert!(!corrected("12:00:00 Oct 30, 2006 PST"));
        assert!(corrected("12:00:00 Nov 01, 2006 PDT"));
    }

    #[test]
    fn no_date_and_bad_dates() {
        assert_eq!(PayPalDate::parse("next_payment_date", "N/A"), Ok(None));
        assert_eq!(PayPalDate::parse("next_payment_date", ""), Ok(None));
        for bad in [
            "01:21:32 Jan 25th 2015 PDT",
            "25:00:00 Jan 13, 2009 PST",
            "20:12:59 Feb 30, 2009 PST",
            "20:12:59 Jan 13, 2009 CET",
            "20:12:59 Jan 13 2009 PST",
            "20:12:59  Jan 13, 2009 PST",
            "yesterday",
            "2009-13-01T00:00:00Z",
            "Sun May 24 2015 14:32:31 GMT-2500 (PDT)",
        ] {
            assert_eq!(
                PayPalDate::parse("payment_date", bad),
                Err(Error::InvalidDate {
                    field: FieldName::new("payment_date")
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn serializes_beside_its_text() {
        let d = PayPalDate::parse("payment_date", "20:12:59 Jan 13, 2009 PST")
            .ok()
            .flatten();
        assert_eq!(
            serde_json::to_string(&d).ok().as_deref(),
            Some(r#"{"utc":"2009-01-14T04:12:59Z","text":"20:12:59 Jan 13, 2009 PST"}"#)
        );
    }
}
