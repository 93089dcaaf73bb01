//! IP allow-list for doors that cannot authenticate their sender by
//! signature: who is calling, as seen through trusted reverse proxies.

use std::net::IpAddr;

use ipnet::IpNet;

/// A configured address or network that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad address or CIDR {0:?}")]
pub struct CidrError(pub String);

/// Why a request's client is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("client address unknown")]
    UnknownPeer,
    #[error("unparsable X-Forwarded-For entry {0:?}")]
    BadForwarded(String),
    #[error("client address {0} is not allowed")]
    NotAllowed(IpAddr),
}

/// `10.0.0.0/8`, `2001:db8::/32`, or a single address (`203.0.113.7`).
pub fn parse_cidr(text: &str) -> Result<IpNet, CidrError> {
    let text = text.trim();
    text.parse::<IpNet>()
        .map(|net| net.trunc())
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| CidrError(text.to_owned()))
}

/// Allowed client networks and the proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone)]
pub struct AllowList {
    allowed: Vec<IpNet>,
    trusted_proxies: Vec<IpNet>,
}

impl AllowList {
    pub fn new(allowed: Vec<IpNet>, trusted_proxies: Vec<IpNet>) -> Self {
        Self {
            allowed,
            trusted_proxies,
        }
    }

    /// The client address if it is allowed. `forwarded` holds the
    /// `X-Forwarded-For` header values in the order received.
    pub fn admit<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded: impl IntoIterator<Item = &'a str>,
    ) -> Result<IpAddr, ClientError> {
        let client = self.client(peer, forwarded)?;
        if self.allowed.iter().any(|net| net.contains(&client)) {
            Ok(client)
        } else {
            Err(ClientError::NotAllowed(client))
        }
    }

    /// The peer, unless it is a trusted proxy: then the right-most forwarded
    /// address that is not itself a trusted proxy. Entries further left were
    /// written by the client and could be forged, so they are never reached
    /// while an untrusted hop sits to their right.
    fn client<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded: impl IntoIterator<Item = &'a str>,
    ) -> Result<IpAddr, ClientError> {
        let peer = peer.ok_or(ClientError::UnknownPeer)?.to_canonical();
        if !self.is_trusted_proxy(peer) {
            return Ok(peer);
        }
        let entries: Vec<&str> = forwarded
            .into_iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .collect();
        let mut client = peer;
        for entry in entries.iter().rev() {
            client = parse_forwarded(entry)?;
            if !self.is_trusted_proxy(client) {
                break;
            }
        }
        Ok(client)
    }

    fn is_trusted_proxy(&self, address: IpAddr) -> bool {
        self.trusted_proxies
            .iter()
            .any(|net| net.contains(&address))
    }
}

/// One `X-Forwarded-For` entry; some proxies append a port
/// (`203.0.113.7:5123`, `[2001:db8::1]:443`).
fn parse_forwarded(entry: &str) -> Result<IpAddr, ClientError> {
    let bad = || ClientError::BadForwarded(entry.to_owned());
    let host = if let Some(rest) = entry.strip_prefix('[') {
        rest.split_once(']').map(|(host, _)| host).ok_or_else(bad)?
    } else if entry.matches(':').count() == 1 {
        entry
            .split_once(':')
            .map(|(host, _)| host)
            .ok_or_else(bad)?
    } else {
        entry
    };
    host.parse::<IpAddr>()
        .map(|address| address.to_canonical())
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(allowed: &[&str], proxies: &[&str]) -> AllowList {
        let parse = |items: &[&str]| {
            items
                .iter()
                .map(|s| parse_cidr(s).expect("valid cidr"))
                .collect()
        };
        AllowList::new(parse(allowed), parse(proxies))
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().expect("address"))
    }

    #[test]
    fn parses_networks_single_addresses_and_refuses_junk() {
        assert_eq!(
            parse_cidr("10.1.2.3/8").expect("v4").to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_cidr(" 2001:db8::1 ").expect("v6").to_string(),
            "2001:db8::1/128"
        );
        assert_eq!(
            parse_cidr("10.0.0.0/33"),
            Err(CidrError("10.0.0.0/33".into()))
        );
        assert_eq!(
            parse_cidr("example.com"),
            Err(CidrError("example.com".into()))
        );
    }

    #[test]
    fn direct_peers_are_checked_against_the_list() {
        let allow = list(&["203.0.113.0/24", "2001:db8::/32"], &[]);
        assert_eq!(
            allow.admit(ip("203.0.113.9"), []),
            Ok(ip("203.0.113.9").expect("ip"))
        );
        assert!(allow.admit(ip("2001:db8:1::5"), []).is_ok());
        assert_eq!(
            allow.admit(ip("198.51.100.1"), []),
            Err(ClientError::NotAllowed("198.51.100.1".parse().expect("ip")))
        );
        assert_eq!(allow.admit(None, []), Err(ClientError::UnknownPeer));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        let allow = list(&["203.0.113.0/24"], &[]);
        assert!(allow.admit(ip("::ffff:203.0.113.9"), []).is_ok());
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        let allow = list(&["203.0.113.0/24"], &["10.0.0.0/8"]);
        let err = allow
            .admit(ip("198.51.100.1"), ["203.0.113.9"])
            .unwrap_err();
        assert_eq!(
            err,
            ClientError::NotAllowed("198.51.100.1".parse().expect("ip"))
        );
    }

    #[test]
    fn right_most_untrusted_forwarded_address_is_the_client() {
        let allow = list(&["203.0.113.0/24"], &["10.0.0.0/8"]);
        // The client forged 203.0.113.9 on the left; the real client is 198.51.100.1.
        let err = allow
            .admit(ip("10.0.0.2"), ["203.0.113.9, 198.51.100.1", "10.0.0.1"])
            .unwrap_err();
        assert_eq!(
            err,
            ClientError::NotAllowed("198.51.100.1".parse().expect("ip"))
        );
        assert_eq!(
            allow.admit(ip("10.0.0.2"), ["198.51.100.1, 203.0.113.9:4431, 10.0.0.1"]),
            Ok("203.0.113.9".parse().expect("ip"))
        );
    }

    #[test]
    fn a_trusted_proxy_without_forwarded_for_is_the_client() {
        let allow = list(&["10.0.0.0/8"], &["10.0.0.0/8"]);
        assert!(allow.admit(ip("10.0.0.2"), []).is_ok());
        let strict = list(&["203.0.113.0/24"], &["10.0.0.0/8"]);
        assert!(strict.admit(ip("10.0.0.2"), ["10.0.0.7"]).is_err());
    }

    #[test]
    fn forwarded_ipv6_with_port_and_junk() {
        let allow = list(&["2001:db8::/32"], &["::1"]);
        assert!(allow.admit(ip("::1"), ["[2001:db8::7]:443"]).is_ok());
        assert_eq!(
            allow.admit(ip("::1"), ["not-an-ip"]),
            Err(ClientError::BadForwarded("not-an-ip".into()))
        );
    }
}
