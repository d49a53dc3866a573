//! One syslog line split into time, host, program, pid and message, with no
//! allocation. Shapes accepted:
//!
//! - classic `Nov 22 14:36:29 host postfix/smtp[123]: ...` (day space-padded, zero-padded
//!   as Postfix's `maillog_file` and journalctl write it, or unpadded);
//! - RFC 3339 `2026-11-22T14:36:29.123456+00:00 host ...` (rsyslog high precision) and
//!   journalctl `-o short-iso` `2026-11-22T14:36:29+0000 host ...`;
//! - an optional `<PRI>` prefix as sent over the network.

use super::record::RawTime;
use crate::model::Timestamp;
use crate::time::{digits, month_from_abbrev, parse_rfc3339_prefix};

/// Postfix daemons whose lines we understand; the program's last path component.
const POSTFIX_DAEMONS: &[&str] = &[
    "smtp",
    "lmtp",
    "local",
    "virtual",
    "pipe",
    "error",
    "retry",
    "discard",
    "qmgr",
    "nqmgr",
    "cleanup",
    "pickup",
    "bounce",
    "defer",
    "trace",
    "smtpd",
    "postscreen",
    "dnsblog",
    "anvil",
    "master",
    "scache",
    "tlsmgr",
    "tlsproxy",
    "proxymap",
    "trivial-rewrite",
    "verify",
    "flush",
    "showq",
    "postdrop",
    "sendmail",
    "postqueue",
    "postsuper",
    "postfix-script",
    "postlogd",
    "postmap",
    "postalias",
    "oqmgr",
    "qmqpd",
    "lmtpd",
    "spawn",
    "policyd-spf",
    "postfix",
];

#[derive(Debug, Clone)]
pub struct LogLine<'a> {
    pub time: Option<Timestamp>,
    pub host: &'a [u8],
    /// Full program name: `postfix/smtp`, `postfix-out/smtp`, `postfix/submission/smtpd`.
    pub program: &'a [u8],
    pub message: &'a [u8],
}

impl<'a> LogLine<'a> {
    /// The last path component of the program: `smtp` for `postfix/relay/smtp`.
    pub fn agent(&self) -> &str {
        std::str::from_utf8(self.agent_bytes()).unwrap_or("")
    }

    /// [`LogLine::agent`] as bytes, for comparisons on every line (no UTF-8 check).
    pub fn agent_bytes(&self) -> &'a [u8] {
        let p = self.program;
        memchr::memrchr(b'/', p).map_or(p, |slash| &p[slash + 1..])
    }

    /// A Postfix daemon: `postfix*/.../daemon`, or a known daemon under any
    /// `syslog_name` prefix (`postfix-out/smtp`, `mail-relay/qmgr`).
    pub fn is_postfix(&self) -> bool {
        let p = self.program;
        // "postfix" has no slash, so a program starting with it has its first slash
        // after it.
        if p.starts_with(b"postfix") {
            return p[7..].contains(&b'/');
        }
        p.contains(&b'/') && POSTFIX_DAEMONS.contains(&self.agent())
    }

    /// `6F1E1B4087: rest` -> (queue id, rest). Short ids are upper-case hex; long ids
    /// (`enable_long_queue_ids`) are 10+ characters of Postfix's base-52 alphabet,
    /// which has no vowels.
    pub fn queue_id_and_rest(&self) -> Option<(&'a [u8], &'a [u8])> {
        let m = self.message;
        // One pass finds the colon and classifies the bytes before it; a queue id has
        // at most 20 characters, so no need to look further.
        let (mut all, mut any) = (u8::MAX, 0u8);
        let mut colon = None;
        for (i, &b) in m.iter().take(21).enumerate() {
            let class = QUEUE_ID_BYTES[usize::from(b)];
            if class & COLON != 0 {
                colon = Some(i);
                break;
            }
            all &= class;
            any |= class;
        }
        let colon = colon?;
        let rest = m.get(colon + 1..)?.strip_prefix(b" ")?;
        queue_id_shape(colon, all, any).then(|| (&m[..colon], rest))
    }
}

pub fn is_queue_id(id: &[u8]) -> bool {
    let (all, any) = id
        .iter()
        .map(|&b| QUEUE_ID_BYTES[usize::from(b)])
        .fold((u8::MAX, 0u8), |(all, any), class| {
            (all & class, any | class)
        });
    queue_id_shape(id.len(), all, any)
}

/// Whether `len` bytes whose classes AND to `all` and OR to `any` make a queue id:
/// 5-20 upper-case hex characters, or (`enable_long_queue_ids`) 10-20 characters of
/// Postfix's base-52 alphabet, which has no vowels, with a digit among them.
fn queue_id_shape(len: usize, all: u8, any: u8) -> bool {
    (5..=20).contains(&len)
        && (all & HEX != 0
            || (len >= 10 && all & ALNUM != 0 && any & DIGIT != 0 && any & VOWEL == 0))
}

/// Byte classes of queue ids, one table lookup per byte: upper-case hex digit,
/// letter or digit, digit, vowel, and the colon that ends the id.
const HEX: u8 = 1;
const ALNUM: u8 = 2;
const DIGIT: u8 = 4;
const VOWEL: u8 = 8;
const COLON: u8 = 16;

const QUEUE_ID_BYTES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut class = 0;
        if c.is_ascii_digit() || matches!(c, b'A'..=b'F') {
            class |= HEX;
        }
        if c.is_ascii_alphanumeric() {
            class |= ALNUM;
        }
        if c.is_ascii_digit() {
            class |= DIGIT;
        }
        if matches!(c.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u') {
            class |= VOWEL;
        }
        if c == b':' {
            class |= COLON;
        }
        table[b] = class;
        b += 1;
    }
    table
};

/// Year of syslog timestamps that have none. It starts at a given year (`--year`), or
/// at the year of the file's modification time (a log ends before it is last written,
/// so a first month later than the mtime's month is last year's), and steps forward at
/// each December -> January rollover.
#[derive(Debug, Clone)]
pub struct YearGuess {
    year: i32,
    last_month: u32,
    /// Month of the file's modification time, when the start year comes from it.
    anchor_month: Option<u32>,
    /// The last (year, month, day) resolved and its midnight: a log's lines come a
    /// day at a time.
    last_day: Option<((i32, u32, u32), Timestamp)>,
}

impl YearGuess {
    /// Lines start in `year`.
    pub fn fixed(year: i32) -> YearGuess {
        YearGuess {
            year,
            last_month: 0,
            anchor_month: None,
            last_day: None,
        }
    }

    /// `anchor` is (year, month) of the file's modification time, when known.
    pub fn infer(anchor: Option<(i32, u32)>) -> YearGuess {
        let (year, month) = anchor.unwrap_or((1970, 12));
        YearGuess {
            year,
            last_month: 0,
            anchor_month: anchor.map(|_| month),
            last_day: None,
        }
    }

    /// The instant of a raw timestamp; year-less ones get a year from this guess.
    pub fn resolve(&mut self, raw: RawTime) -> Option<Timestamp> {
        match raw {
            RawTime::Absolute(ts) => Some(ts),
            RawTime::NoYear { month, day, micros } => {
                let year = self.year_for(month);
                let midnight = match self.last_day {
                    Some((date, midnight)) if date == (year, month, day) => midnight,
                    _ => {
                        let midnight = Timestamp::from_civil(year, month, day, 0, 0, 0, 0)?;
                        self.last_day = Some(((year, month, day), midnight));
                        midnight
                    }
                };
                Some(Timestamp(midnight.0 + micros as i64))
            }
        }
    }

    pub fn year_for(&mut self, month: u32) -> i32 {
        if self.last_month == 0 {
            if self.anchor_month.is_some_and(|anchor| month > anchor) {
                self.year -= 1;
            }
        } else if month + 6 < self.last_month {
            // Times jumped back more than half a year: a new year began.
            self.year += 1;
        }
        self.last_month = month;
        self.year
    }
}

/// Parses a syslog line, resolving a year-less timestamp with `years`.
pub fn parse_syslog_line<'a>(line: &'a [u8], years: &mut YearGuess) -> Option<LogLine<'a>> {
    let (mut parsed, raw) = parse_syslog_line_raw(line)?;
    parsed.time = years.resolve(raw);
    Some(parsed)
}

/// Whether a line can be a syslog line at all, by its first bytes: a priority (`<22>`),
/// a date (`2026-...`) or a month (`Nov ...`). Cheap enough for sniffing the header
/// lines of every email in a folder; [`parse_syslog_line_raw`] of a line it turns
/// down is `None`.
#[inline]
pub fn may_be_syslog(line: &[u8]) -> bool {
    match line.first() {
        Some(b'<' | b'0'..=b'9') => true,
        // `Nov 22`: the space first, which header fields (`Date:`) do not have.
        Some(_) => line.get(3) == Some(&b' ') && crate::time::month_from_abbrev(line).is_some(),
        None => false,
    }
}

/// Parses a syslog line; `None` when it does not have the shape. The returned
/// `LogLine::time` is set only for timestamps that carry a year; the raw form is
/// returned beside it.
pub fn parse_syslog_line_raw(line: &[u8]) -> Option<(LogLine<'_>, RawTime)> {
    let mut b = line;
    // "<22>Nov 22 ..." from a network syslog.
    if b.first() == Some(&b'<')
        && let Some(end) = b.iter().take(6).position(|&c| c == b'>')
    {
        b = &b[end + 1..];
    }
    let (time, rest) = if b.first().is_some_and(u8::is_ascii_digit) {
        let (ts, used) = parse_rfc3339_prefix(b)?;
        (RawTime::Absolute(ts), b.get(used..)?)
    } else {
        classic_timestamp(b)?
    };
    let rest = rest.strip_prefix(b" ")?;
    let space = memchr::memchr(b' ', rest)?;
    let host = &rest[..space];
    let rest = &rest[space + 1..];
    // "program[pid]: message" or "program: message".
    let colon = memchr::memchr(b':', rest)?;
    let tag = &rest[..colon];
    let program = match memchr::memchr(b'[', tag) {
        Some(open) if tag.ends_with(b"]") => &tag[..open],
        Some(_) => return None,
        None => tag,
    };
    if program.is_empty() || program.contains(&b' ') {
        return None;
    }
    let message = match rest.get(colon + 1..) {
        Some([b' ', message @ ..]) => message,
        Some([]) | None => &[][..],
        Some(_) => return None,
    };
    let absolute = match time {
        RawTime::Absolute(ts) => Some(ts),
        _ => None,
    };
    Some((
        LogLine {
            time: absolute,
            host,
            program,
            message,
        },
        time,
    ))
}

/// `Nov 22 14:36:29`, `Nov  2 14:36:29`, `Nov 2 14:36:29`, optionally with fractions.
fn classic_timestamp(b: &[u8]) -> Option<(RawTime, &[u8])> {
    let month = month_from_abbrev(b)?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let mut i = 4;
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    let day_len = if b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        2
    } else {
        1
    };
    let day = digits(b.get(i..)?, day_len)?;
    i += day_len;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let hour = digits(b.get(i..)?, 2)?;
    let minute = digits(b.get(i + 3..)?, 2)?;
    let second = digits(b.get(i + 6..)?, 2)?;
    if b.get(i + 2) != Some(&b':') || b.get(i + 5) != Some(&b':') {
        return None;
    }
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    i += 8;
    // Some syslogs add fractions: "Nov 22 14:36:29.123".
    let mut micros = 0u64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut j = start;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let frac = &b[start..j];
        for k in 0..6 {
            micros = micros * 10 + frac.get(k).map_or(0, |d| u64::from(d - b'0'));
        }
        i = j;
    }
    let secs = u64::from(hour) * 3600 + u64::from(minute) * 60 + u64::from(second);
    Some((
        RawTime::NoYear {
            month,
            day,
            micros: secs * 1_000_000 + micros,
        },
        &b[i..],
    ))
}
