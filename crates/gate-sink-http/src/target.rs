//! The destination URL. Webhook URLs often carry their credential in the
//! path or query (chat incoming-webhooks), so the URL is shown only as its
//! origin in `/config` and in action reports.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, PartialEq, Eq)]
pub struct TargetUrl {
    uri: http::Uri,
    shown: String,
}

impl TargetUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let uri: http::Uri = text
            .parse()
            .map_err(|_| "url is not a valid URL".to_owned())?;
        let scheme = uri.scheme_str().unwrap_or_default();
        if !matches!(scheme, "http" | "https") {
            return Err("url must start with http:// or https://".into());
        }
        let authority = uri
            .authority()
            .ok_or_else(|| "url has no host".to_owned())?;
        // Drop any user:password@ from what is shown.
        let host = authority
            .as_str()
            .rsplit_once('@')
            .map_or(authority.as_str(), |(_, host)| host);
        let path_hidden = uri.path_and_query().is_some_and(|p| p.as_str() != "/");
        let shown = format!("{scheme}://{host}{}", if path_hidden { "/…" } else { "" });
        Ok(Self { uri, shown })
    }

    pub fn uri(&self) -> &http::Uri {
        &self.uri
    }

    /// Scheme and host only, safe to show.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

impl std::fmt::Debug for TargetUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TargetUrl({})", self.shown)
    }
}

impl Serialize for TargetUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.shown)
    }
}

impl<'de> Deserialize<'de> for TargetUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TargetUrl::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_only_the_origin() {
        let url = TargetUrl::parse("https://u:pw@hooks.example.com:8443/services/T0/B0/XXXX?k=v")
            .expect("valid");
        assert_eq!(url.shown(), "https://hooks.example.com:8443/…");
        assert_eq!(
            TargetUrl::parse("http://ci.example.com")
                .expect("valid")
                .shown(),
            "http://ci.example.com"
        );
        assert!(TargetUrl::parse("ftp://x/y").is_err());
        assert!(TargetUrl::parse("not a url").is_err());
    }
}
