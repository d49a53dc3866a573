//! The built-in table's text patterns as syntax trees, parsed by `build.rs`: parsing
//! and translating a pattern was half the cost of compiling it at run time.
//!
//! Each node is a tag byte and its fields, little-endian, children after it:
//! 0 empty; 1 literal (u16 length, bytes); 2 byte class (u16 count, start/end byte
//! pairs); 3 Unicode class (u16 count, start/end u32 pairs); 4 look (u32 repr);
//! 5 repetition (u32 min, u32 max or `u32::MAX` for none, u8 greedy, child);
//! 6 capture (u32 index, u16 name length or `u16::MAX` for none, name, child);
//! 7 concatenation, 8 alternation (u16 count, children).
//!
//! The tree is rebuilt with `Hir`'s own constructors, as the translator builds it;
//! a test checks that every built-in pattern comes back equal to a fresh parse.

use regex_syntax::hir::{
    Capture, Class, ClassBytes, ClassBytesRange, ClassUnicode, ClassUnicodeRange, Hir, Look,
    Repetition,
};

/// The tree encoded in `code`, or None if the code is malformed.
pub fn decode(code: &[u8]) -> Option<Hir> {
    let mut reader = Reader(code);
    let hir = reader.node()?;
    reader.0.is_empty().then_some(hir)
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn bytes(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.bytes(1)?[0])
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.bytes(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes(4)?.try_into().ok()?))
    }

    fn char(&mut self) -> Option<char> {
        char::from_u32(self.u32()?)
    }

    fn node(&mut self) -> Option<Hir> {
        Some(match self.u8()? {
            0 => Hir::empty(),
            1 => {
                let len = self.u16()?.into();
                Hir::literal(self.bytes(len)?)
            }
            2 => {
                let ranges = (0..self.u16()?)
                    .map(|_| Some(ClassBytesRange::new(self.u8()?, self.u8()?)))
                    .collect::<Option<Vec<_>>>()?;
                Hir::class(Class::Bytes(ClassBytes::new(ranges)))
            }
            3 => {
                let ranges = (0..self.u16()?)
                    .map(|_| Some(ClassUnicodeRange::new(self.char()?, self.char()?)))
                    .collect::<Option<Vec<_>>>()?;
                Hir::class(Class::Unicode(ClassUnicode::new(ranges)))
            }
            4 => Hir::look(Look::from_repr(self.u32()?)?),
            5 => {
                let min = self.u32()?;
                let max = Some(self.u32()?).filter(|&m| m != u32::MAX);
                let greedy = self.u8()? != 0;
                let sub = Box::new(self.node()?);
                Hir::repetition(Repetition {
                    min,
                    max,
                    greedy,
                    sub,
                })
            }
            6 => {
                let index = self.u32()?;
                let name = match self.u16()? {
                    u16::MAX => None,
                    len => Some(Box::from(
                        std::str::from_utf8(self.bytes(len.into())?).ok()?,
                    )),
                };
                let sub = Box::new(self.node()?);
                Hir::capture(Capture { index, name, sub })
            }
            tag @ (7 | 8) => {
                let subs = (0..self.u16()?)
                    .map(|_| self.node())
                    .collect::<Option<Vec<_>>>()?;
                match tag {
                    7 => Hir::concat(subs),
                    _ => Hir::alternation(subs),
                }
            }
            _ => return None,
        })
    }
}
