//! UTC timestamps: civil-date arithmetic and the timestamp shapes mail logs use.
//!
//! Kept dependency-free and allocation-free: the Postfix parser converts a timestamp on
//! every line it keeps.

use std::fmt;

use serde::{Serialize, Serializer};

/// Microseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

const MICROS_PER_SEC: i64 = 1_000_000;
const SECS_PER_DAY: i64 = 86_400;

impl Timestamp {
    /// Builds a timestamp from a civil date and time in UTC; `None` for impossible dates
    /// and for years outside 0..=9999 (RFC 3339's four digits), whose microseconds
    /// could overflow an i64 ("Mar 20782078" in a fuzzed export).
    pub fn from_civil(
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        micros: u32,
    ) -> Option<Timestamp> {
        if !(0..=9999).contains(&year)
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
            || micros >= 1_000_000
        {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * SECS_PER_DAY
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second);
        Some(Timestamp(secs * MICROS_PER_SEC + i64::from(micros)))
    }

    pub fn seconds(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SEC)
    }

    /// (year, month, day) of this instant in UTC.
    pub fn date(self) -> (i32, u32, u32) {
        civil_from_days(self.seconds().div_euclid(SECS_PER_DAY))
    }

    /// `YYYY-MM-DD` in UTC.
    pub fn day_string(self) -> String {
        let (y, m, d) = self.date();
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// Shifts by a number of seconds (an offset such as +02:00 is -7200 to reach UTC).
    pub fn plus_seconds(self, seconds: i64) -> Timestamp {
        Timestamp(self.0 + seconds * MICROS_PER_SEC)
    }
}

impl Timestamp {
    /// The text [`Display`](fmt::Display) writes, as bytes, when the year has four
    /// digits (every other is written by `write!`): `bouncex events` writes a
    /// timestamp per event, and the padded `write!` was most of the cost of writing
    /// one.
    pub fn rfc3339_bytes(self) -> Option<([u8; 27], usize)> {
        let secs = self.seconds();
        let micros = self.0.rem_euclid(MICROS_PER_SEC);
        let (y, mo, d) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
        if !(0..=9999).contains(&y) {
            return None;
        }
        let rem = secs.rem_euclid(SECS_PER_DAY);
        let (h, mi, s) = (rem / 3600, (rem / 60) % 60, rem % 60);
        let mut text = *b"0000-00-00T00:00:00.000000Z";
        put_digits(&mut text[0..4], y as u64);
        put_digits(&mut text[5..7], u64::from(mo));
        put_digits(&mut text[8..10], u64::from(d));
        put_digits(&mut text[11..13], h as u64);
        put_digits(&mut text[14..16], mi as u64);
        put_digits(&mut text[17..19], s as u64);
        let end = if micros == 0 {
            text[19] = b'Z';
            20
        } else {
            put_digits(&mut text[20..26], micros as u64);
            27
        };
        Some((text, end))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, with microseconds only when there are any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((text, end)) = self.rfc3339_bytes() {
            return f.write_str(std::str::from_utf8(&text[..end]).expect("ASCII digits"));
        }
        let secs = self.seconds();
        let micros = self.0.rem_euclid(MICROS_PER_SEC);
        let (y, mo, d) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
        let rem = secs.rem_euclid(SECS_PER_DAY);
        let (h, mi, s) = (rem / 3600, (rem / 60) % 60, rem % 60);
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")?;
        if micros != 0 {
            write!(f, ".{micros:06}")?;
        }
        f.write_str("Z")
    }
}

/// Writes `value` as decimal digits filling `out`, zero-padded (the value fits).
fn put_digits(out: &mut [u8], mut value: u64) {
    for byte in out.iter_mut().rev() {
        *byte = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m, d)
}

/// Month number from a three-letter English abbreviation ("Nov" -> 11).
pub fn month_from_abbrev(b: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let b = b.get(..3)?;
    // Folded to lower case by setting bit 0x20: only an upper-case letter becomes a
    // lower-case one, so nothing but a month's name compares equal.
    let folded = [b[0] | 0x20, b[1] | 0x20, b[2] | 0x20];
    MONTHS
        .iter()
        .position(|m| m[0] | 0x20 == folded[0] && [m[1], m[2]] == [folded[1], folded[2]])
        .map(|i| i as u32 + 1)
}

/// Parses `N` ASCII digits at the start of `b`.
pub fn digits(b: &[u8], n: usize) -> Option<u32> {
    let part = b.get(..n)?;
    part.iter().try_fold(0u32, |acc, d| {
        d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
    })
}

/// Parses an RFC 3339 / ISO 8601 timestamp at the start of `b`:
/// `2026-11-22T14:52:24.000000+00:00`, `2026-11-22T14:52:24Z`, `2026-11-22T14:52:24+0000`
/// (journalctl short-iso), or `2026-11-22 14:52:24` (no zone: taken as UTC).
/// Returns the instant and the number of bytes consumed.
pub fn parse_rfc3339_prefix(b: &[u8]) -> Option<(Timestamp, usize)> {
    let year = digits(b, 4)? as i32;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !matches!(b.get(10), Some(b'T' | b' '))
    {
        return None;
    }
    let month = digits(b.get(5..)?, 2)?;
    let day = digits(b.get(8..)?, 2)?;
    let hour = digits(b.get(11..)?, 2)?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    let minute = digits(b.get(14..)?, 2)?;
    let second = digits(b.get(17..)?, 2)?;
    let mut i = 19;
    let mut micros = 0u32;
    if matches!(b.get(i), Some(b'.' | b',')) {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 6 {
                micros = micros * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..6 {
            micros *= 10;
        }
    }
    let mut offset_secs = 0i64;
    match b.get(i) {
        Some(b'Z' | b'z') => i += 1,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(b.get(i + 1..)?, 2)?;
            let mut j = i + 3;
            if b.get(j) == Some(&b':') {
                j += 1;
            }
            let om = digits(b.get(j..)?, 2)?;
            offset_secs = i64::from(oh * 3600 + om * 60);
            if sign == b'+' {
                offset_secs = -offset_secs;
            }
            i = j + 2;
        }
        _ => {}
    }
    let ts = Timestamp::from_civil(year, month, day, hour, minute, second, micros)?;
    Some((ts.plus_seconds(offset_secs), i))
}

/// Parses the timestamp shapes exports use (ESP and sequencer CSV/JSON):
/// unix seconds (integer or with a fraction), unix milliseconds (13 digits or more),
/// ISO 8601 / RFC 3339 with `Z`, an offset or none (taken as UTC), `YYYY-MM-DD HH:MM`,
/// a bare `YYYY-MM-DD`, and RFC 2822 (`Tue, 04 Mar 2025 09:00:04 +0000`, zone names
/// `UTC`/`GMT`/`Z` or none). A local time without a zone ("Your time zone") is read as
/// UTC: the export does not say which zone it is.
pub fn parse_any(text: &str) -> Option<Timestamp> {
    let t = text.trim().trim_matches('"').trim();
    if t.is_empty() {
        return None;
    }
    let b = t.as_bytes();
    if b.iter().all(|c| c.is_ascii_digit() || *c == b'.') && b[0].is_ascii_digit() {
        return parse_epoch(t);
    }
    if let Some((ts, used)) = parse_rfc3339_prefix(b)
        && b.get(used).is_none_or(|c| c.is_ascii_whitespace())
    {
        return Some(ts);
    }
    // `YYYY-MM-DD HH:MM` and `YYYY-MM-DD`.
    if b.len() >= 10 && b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-') {
        let (y, m, d) = (digits(b, 4)?, digits(&b[5..], 2)?, digits(&b[8..], 2)?);
        let (mut hour, mut minute) = (0, 0);
        if b.len() > 10 {
            if !matches!(b[10], b' ' | b'T') || b.len() != 16 || b[13] != b':' {
                return None;
            }
            hour = digits(&b[11..], 2)?;
            minute = digits(&b[14..], 2)?;
        }
        return Timestamp::from_civil(y as i32, m, d, hour, minute, 0, 0);
    }
    parse_rfc2822(t)
}

/// Unix seconds (with an optional fraction), or milliseconds when the integer has 13
/// or more digits (a 13-digit second count is beyond the year 2286).
fn parse_epoch(t: &str) -> Option<Timestamp> {
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty() || int.len() > 16 || frac.contains('.') {
        return None;
    }
    let n: i64 = int.parse().ok()?;
    if int.len() >= 13 {
        return Some(Timestamp(n.checked_mul(1000)?));
    }
    let mut micros = 0i64;
    for (i, c) in frac.bytes().take(6).enumerate() {
        micros += i64::from(c - b'0') * 10i64.pow(5 - i as u32);
    }
    Some(Timestamp(n.checked_mul(MICROS_PER_SEC)? + micros))
}

/// RFC 2822 / RFC 5322 date-time: `[Tue, ]04 Mar 2025 09:00:04 [+0000|UTC|GMT]`.
pub fn parse_rfc2822(t: &str) -> Option<Timestamp> {
    let t = t.split_once(',').map_or(t, |(_, rest)| rest).trim();
    let mut parts = t.split_ascii_whitespace();
    let day: u32 = parts.next()?.parse().ok()?;
    let month = month_from_abbrev(parts.next()?.as_bytes())?;
    let year: i32 = parts.next()?.parse().ok()?;
    let clock = parts.next()?;
    let mut hms = clock.split(':');
    let hour: u32 = hms.next()?.parse().ok()?;
    let minute: u32 = hms.next()?.parse().ok()?;
    let second: u32 = match hms.next() {
        Some(s) => s.parse().ok()?,
        None => 0,
    };
    let offset = match parts.next() {
        None | Some("UTC" | "GMT" | "UT" | "Z") => 0,
        Some(zone) => {
            let b = zone.as_bytes();
            let sign = match b.first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hh = digits(&b[1..], 2)?;
            let mm = digits(b.get(3..)?, 2)?;
            sign * i64::from(hh * 3600 + mm * 60)
        }
    };
    let ts = Timestamp::from_civil(year, month, day, hour, minute, second, 0)?;
    Some(ts.plus_seconds(-offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        let t = Timestamp::from_civil(2026, 11, 22, 14, 52, 24, 0).unwrap();
        assert_eq!(t.to_string(), "2026-11-22T14:52:24Z");
        assert_eq!(t.seconds(), 1_795_359_144);
        let leap = Timestamp::from_civil(2024, 2, 29, 0, 0, 0, 5).unwrap();
        assert_eq!(leap.to_string(), "2024-02-29T00:00:00.000005Z");
        assert!(Timestamp::from_civil(2025, 2, 29, 0, 0, 0, 0).is_none());
        assert!(Timestamp::from_civil(2025, 13, 1, 0, 0, 0, 0).is_none());
        // Years beyond four digits: None, not an overflow (found by fuzzing exports).
        assert!(Timestamp::from_civil(20_782_078, 3, 3, 17, 30, 0, 0).is_none());
        assert!(Timestamp::from_civil(i32::MAX, 1, 1, 0, 0, 0, 0).is_none());
        assert!(Timestamp::from_civil(i32::MIN, 1, 1, 0, 0, 0, 0).is_none());
        assert!(Timestamp::from_civil(-1, 1, 1, 0, 0, 0, 0).is_none());
        assert_eq!(
            Timestamp::from_civil(9999, 12, 31, 23, 59, 59, 999_999)
                .unwrap()
                .to_string(),
            "9999-12-31T23:59:59.999999Z"
        );
        assert_eq!(parse_rfc2822("Mon, 03 Mar 20782078 17:30:00 -0500"), None);
    }

    #[test]
    fn parses_rfc3339_variants() {
        let cases: &[(&str, &str)] = &[
            (
                "2026-11-22T14:52:24.000000+00:00 mta1",
                "2026-11-22T14:52:24Z",
            ),
            ("2026-11-22T14:52:24+0100 host", "2026-11-22T13:52:24Z"),
            ("2026-11-22T14:52:24.5Z", "2026-11-22T14:52:24.500000Z"),
            ("2026-11-22 14:52:24 x", "2026-11-22T14:52:24Z"),
            (
                "2023-02-01T01:02:04.123456-05:30",
                "2023-02-01T06:32:04.123456Z",
            ),
        ];
        for (input, want) in cases {
            let (ts, _) = parse_rfc3339_prefix(input.as_bytes()).unwrap();
            assert_eq!(ts.to_string(), *want, "{input}");
        }
        assert!(parse_rfc3339_prefix(b"2026-13-22T14:52:24Z").is_none());
        assert!(parse_rfc3339_prefix(b"Nov 22 14:52:24").is_none());
    }

    #[test]
    fn parses_export_timestamps() {
        let cases: &[(&str, &str)] = &[
            ("1741078804", "2025-03-04T09:00:04Z"),
            ("1741078804000", "2025-03-04T09:00:04Z"),
            ("1741078803.214512", "2025-03-04T09:00:03.214512Z"),
            ("2025-03-04T09:00:04.000Z", "2025-03-04T09:00:04Z"),
            (
                "2025-03-04T04:00:04.6421112-05:00",
                "2025-03-04T09:00:04.642111Z",
            ),
            ("2025-03-04T10:00:04.000+01:00", "2025-03-04T09:00:04Z"),
            ("2025-03-04 09:00:04", "2025-03-04T09:00:04Z"),
            ("2025-03-04 09:00:04.1234", "2025-03-04T09:00:04.123400Z"),
            ("2025-03-04 09:00", "2025-03-04T09:00:00Z"),
            ("2025-03-04", "2025-03-04T00:00:00Z"),
            ("Tue, 04 Mar 2025 09:00:04 UTC", "2025-03-04T09:00:04Z"),
            ("Wed, 05 Mar 2025 14:30:41 -0500", "2025-03-05T19:30:41Z"),
            ("05 Mar 2025 14:22:08 +0000", "2025-03-05T14:22:08Z"),
        ];
        for (input, want) in cases {
            let ts = parse_any(input).unwrap_or_else(|| panic!("{input}"));
            assert_eq!(ts.to_string(), *want, "{input}");
        }
        for bad in [
            "",
            "soon",
            "2025-13-01",
            "1.2.3",
            "Tue, 32 Mar 2025 09:00:04 UTC",
        ] {
            assert!(parse_any(bad).is_none(), "{bad:?}");
        }
    }

    /// The digits put in place read as the padded `write!` they replace, across the
    /// years the fast path covers and beyond them.
    #[test]
    fn timestamps_display_as_rfc3339() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut micros: Vec<i64> = vec![
            0,
            1,
            -1,
            999_999,
            253_402_300_799_999_999,
            -62_167_219_200_000_000,
        ];
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            micros.push((state % 800_000_000_000_000_000) as i64 - 200_000_000_000_000_000);
            micros.push((state % 4_000_000_000) as i64 * 1_000_000);
        }
        for m in micros {
            let t = Timestamp(m);
            let secs = t.seconds();
            let frac = m.rem_euclid(MICROS_PER_SEC);
            let (y, mo, d) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
            let rem = secs.rem_euclid(SECS_PER_DAY);
            let (h, mi, s) = (rem / 3600, (rem / 60) % 60, rem % 60);
            let mut expected = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
            if frac != 0 {
                expected.push_str(&format!(".{frac:06}"));
            }
            expected.push('Z');
            assert_eq!(t.to_string(), expected, "{m}");
        }
    }
}
