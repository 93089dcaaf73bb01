//! The fuzz input layout, chosen so that seeds are easy to write by hand
//! (`scripts/fuzz.sh` prefixes each sample payload with `\0<tag>\n`):
//!
//! - byte 0, the mode: bits 0-2 content type, bits 3-4 credentials
//!   (0 and 1 right, so the parsers behind the checks are reached half of
//!   the time; 2 wrong; 3 absent), bits 5-7 a source-specific variant;
//! - then a tag up to the first `\n` (at most 64 bytes; none when no `\n`
//!   comes by then): the event name, delivery id or forwarded address;
//! - the rest is the body.

/// What credentials the request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Right,
    Wrong,
    Absent,
}

/// Content types tried, the first being each source's usual one.
const CONTENT_TYPES: [Option<&str>; 8] = [
    Some("application/json"),
    Some("application/x-www-form-urlencoded"),
    None,
    Some("Application/JSON; charset=utf-8"),
    Some("text/plain"),
    Some("application/vnd.docker+json"),
    Some("APPLICATION/X-WWW-FORM-URLENCODED ; charset=latin1"),
    Some(""),
];

const MAX_TAG: usize = 64;

#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub content_type: Option<&'static str>,
    pub auth: Auth,
    /// Three bits each target reads as it likes.
    pub variant: u8,
    pub tag: &'a [u8],
    pub body: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (&mode, rest) = data.split_first()?;
        let (tag, body) = match rest.iter().take(MAX_TAG + 1).position(|&b| b == b'\n') {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (&rest[..0], rest),
        };
        Some(Self {
            content_type: CONTENT_TYPES[usize::from(mode & 0b111)],
            auth: match (mode >> 3) & 0b11 {
                0 | 1 => Auth::Right,
                2 => Auth::Wrong,
                _ => Auth::Absent,
            },
            variant: mode >> 5,
            tag,
            body,
        })
    }

    /// Variant bit `n` (0 to 2).
    pub fn bit(&self, n: u8) -> bool {
        self.variant & (1 << n) != 0
    }

    /// The tag as text, if it is UTF-8 and not empty.
    pub fn tag_text(&self) -> Option<&'a str> {
        std::str::from_utf8(self.tag).ok().filter(|t| !t.is_empty())
    }
}
