use std::net::IpAddr;

use http::{HeaderMap, StatusCode};

/// What a source sees of an HTTP request: everything it needs to decide,
/// nothing that ties it to a server, so sources are testable without a network.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The raw body, exactly as received (signatures are over these bytes).
    pub body: &'a [u8],
    /// The query string without `?`, if any.
    pub query: Option<&'a str>,
    /// The TCP peer, for IP allow-lists.
    pub peer: Option<IpAddr>,
}

impl<'a> Request<'a> {
    /// A header as text; `None` when missing or not visible ASCII.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The media type of `Content-Type` without parameters, lower-cased.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
    }

    /// The body of a JSON-only source, after the checks every such source
    /// makes: an `application/json` or `+json` content type, or none at all
    /// (senders of the original service post JSON without one), else 415;
    /// UTF-8 text (else 400), and JSON that serde_json's full parser would
    /// accept (else 400, see [`crate::json::check_strict`]).
    pub fn json_text(&self) -> Result<&'a str, Rejection> {
        self.check_json_type()?;
        let text = std::str::from_utf8(self.body)
            .map_err(|_| Rejection::Malformed("body is not UTF-8".into()))?;
        crate::json::check_strict(text)
            .map_err(|e| Rejection::Malformed(format!("invalid JSON: {e}")))?;
        Ok(text)
    }

    /// The content-type check of [`json_text`](Self::json_text) alone: it
    /// needs no body, so sources also make it before the body is read.
    pub fn check_json_type(&self) -> Result<(), Rejection> {
        match self.media_type() {
            Some(media) if media == "application/json" || media.ends_with("+json") => Ok(()),
            // Senders of the original service post JSON with no
            // Content-Type at all (Airflow, Jenkins jobs): the body decides.
            None => Ok(()),
            Some(media) if media.is_empty() => Ok(()),
            Some(other) => Err(Rejection::UnsupportedMediaType(other)),
        }
    }

    /// A query parameter, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query?;
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then(|| percent_decode(value))
        })
    }
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why a source refused a request. Each variant maps to one HTTP status, so
/// every refusal becomes a clear answer, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// A required header is absent (400).
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// The body or a header cannot be read (400).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// A content type the source does not read (415).
    #[error("unsupported content type {0:?}")]
    UnsupportedMediaType(String),
    /// No signature at all (401).
    #[error("missing signature: expected header {0}")]
    MissingSignature(&'static str),
    /// A signature that does not verify (403).
    #[error("signature does not match")]
    BadSignature,
    /// No token or credentials (401).
    #[error("missing credentials: {0}")]
    Unauthorized(String),
    /// A wrong token, a peer outside the allow-list (403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Well-formed but meaningless for this source (422).
    #[error("unprocessable: {0}")]
    Unprocessable(String),
}

impl Rejection {
    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::MissingHeader(_) | Rejection::Malformed(_) => StatusCode::BAD_REQUEST,
            Rejection::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Rejection::MissingSignature(_) | Rejection::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Rejection::BadSignature | Rejection::Forbidden(_) => StatusCode::FORBIDDEN,
            Rejection::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// A short machine-readable name, used in reports and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Rejection::MissingHeader(_) => "missing_header",
            Rejection::Malformed(_) => "malformed",
            Rejection::UnsupportedMediaType(_) => "unsupported_media_type",
            Rejection::MissingSignature(_) => "missing_signature",
            Rejection::BadSignature => "bad_signature",
            Rejection::Unauthorized(_) => "unauthorized",
            Rejection::Forbidden(_) => "forbidden",
            Rejection::Unprocessable(_) => "unprocessable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_request<'a>(headers: &'a HeaderMap, body: &'a [u8]) -> Request<'a> {
        Request {
            headers,
            body,
            query: None,
            peer: None,
        }
    }

    #[test]
    fn json_text_checks_type_encoding_and_strict_json() {
        let typed = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("content-type", value.parse().expect("header"));
            headers
        };
        let json = typed("application/json; charset=utf-8");
        assert_eq!(
            json_request(&json, b"{\"a\":1}").json_text(),
            Ok("{\"a\":1}")
        );
        let vendor = typed("application/vnd.acme+json");
        assert!(json_request(&vendor, b"{}").json_text().is_ok());

        let form = typed("application/x-www-form-urlencoded");
        assert_eq!(
            json_request(&form, b"{}").json_text(),
            Err(Rejection::UnsupportedMediaType(
                "application/x-www-form-urlencoded".into()
            ))
        );
        let none = HeaderMap::new();
        assert_eq!(json_request(&none, b"{}").json_text(), Ok("{}"));
        let text = typed("text/plain");
        assert_eq!(
            json_request(&text, b"{}")
                .json_text()
                .map_err(|r| r.status()),
            Err(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        );
        assert_eq!(
            json_request(&json, b"{\"a\":\"\xff\"}").json_text(),
            Err(Rejection::Malformed("body is not UTF-8".into()))
        );
        let surrogate = json_request(&json, br#"{"a":"\ud800"}"#).json_text();
        assert!(
            matches!(&surrogate, Err(Rejection::Malformed(m)) if m.starts_with("invalid JSON: ")),
            "{surrogate:?}"
        );
    }

    #[test]
    fn query_params_are_decoded() {
        let headers = HeaderMap::new();
        let request = Request {
            headers: &headers,
            body: b"",
            query: Some("a=1&token=x%2By+z&bad=%zz&end=%4"),
            peer: None,
        };
        assert_eq!(request.query_param("token").as_deref(), Some("x+y z"));
        assert_eq!(request.query_param("bad").as_deref(), Some("%zz"));
        assert_eq!(request.query_param("end").as_deref(), Some("%4"));
        assert_eq!(request.query_param("missing"), None);
    }

    #[test]
    fn media_type_drops_parameters() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            "Application/JSON; charset=utf-8".parse().expect("header"),
        );
        let request = Request {
            headers: &headers,
            body: b"",
            query: None,
            peer: None,
        };
        assert_eq!(request.media_type().as_deref(), Some("application/json"));
    }
}
