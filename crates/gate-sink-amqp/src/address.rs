//! One broker address: the parsed URL, shown without its credentials.

use std::fmt;
use std::str::FromStr;

use gate_core::Secret;
use lapin::uri::{AMQPUri, SASLMechanism};

use crate::config::AuthMechanism;

#[derive(Clone)]
pub(crate) struct Address {
    uri: AMQPUri,
}

impl Address {
    /// `position` names the address in errors (the URL itself holds a
    /// password, so it is never shown).
    pub(crate) fn parse(
        url: &Secret,
        position: &str,
        mechanism: AuthMechanism,
    ) -> Result<Self, String> {
        let text = std::str::from_utf8(url.expose())
            .map_err(|_| format!("{position} is not UTF-8 text"))?;
        let mut uri = AMQPUri::from_str(text.trim()).map_err(|_| {
            format!("{position} is not an amqp:// or amqps:// URL (amqp://user:password@host:port/vhost)")
        })?;
        // The parser keeps only DNS names; an IP address host would become
        // its default, localhost.
        uri.authority.host = host_of(text.trim()).unwrap_or(uri.authority.host);
        if mechanism == AuthMechanism::External {
            uri.query.auth_mechanism = Some(SASLMechanism::External);
        }
        Ok(Self { uri })
    }

    pub(crate) fn uri(&self) -> &AMQPUri {
        &self.uri
    }
}

/// The host part of `scheme://[userinfo@]host[:port][/...]`, brackets of an
/// IPv6 literal removed.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_owned())
}

/// Scheme, host and port: enough to say which broker, never who logs in.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}:{}",
            self.uri.scheme, self.uri.authority.host, self.uri.authority.port
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<Address, String> {
        Address::parse(
            &Secret::resolve(url).expect("inline secret"),
            "url",
            AuthMechanism::Plain,
        )
    }

    #[test]
    fn shown_without_credentials() {
        let address = parse("amqp://gate:hunter2@broker.example:5673/%2f").expect("valid");
        assert_eq!(address.to_string(), "amqp://broker.example:5673");
        assert_eq!(address.uri().authority.userinfo.password, "hunter2");
    }

    #[test]
    fn ip_hosts_are_kept() {
        assert_eq!(
            parse("amqps://u:p@10.1.2.3/%2f")
                .expect("valid")
                .to_string(),
            "amqps://10.1.2.3:5671"
        );
        assert_eq!(
            parse("amqp://u:p@[::1]:5672/%2f")
                .expect("valid")
                .uri()
                .authority
                .host,
            "::1"
        );
    }

    #[test]
    fn bad_urls_never_show_the_password() {
        for bad in [
            "amqp:gate:hunter2@host",
            "http://gate:hunter2@host/",
            "hunter2",
        ] {
            let error = parse(bad).err().expect("refused");
            assert!(!error.contains("hunter2"), "{error}");
        }
    }

    #[test]
    fn external_mechanism_is_set_on_the_uri() {
        let secret = Secret::resolve("amqps://broker:5671/%2f").expect("inline");
        let address = Address::parse(&secret, "url", AuthMechanism::External).expect("valid");
        assert_eq!(
            address.uri().query.auth_mechanism,
            Some(SASLMechanism::External)
        );
    }
}
