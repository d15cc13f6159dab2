//! Where a webhook may be sent: `http` or `https` without credentials, and never to an address
//! inside the server's own networks (loopback, private, link-local with the cloud's metadata
//! service, ...) unless the operator allowed that network. Checked on a literal address when a
//! webhook is saved, and on every address a name resolves to when it is sent.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use url::{Host, Url};

use super::{FieldError, refusal::Refusal};

/// The longest URL a webhook may have.
pub const MAX_URL_LENGTH: usize = 2000;

/// The networks an operator allowed (`--webhook-allow-networks`); none by default.
#[derive(Debug, Clone, Default)]
pub struct AllowedNetworks(Vec<IpNet>);

impl AllowedNetworks {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    /// Why Kairos may not connect to `ip`, if it may not.
    pub fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        let reason = blocked_reason(ip)?;
        let canonical = canonical(ip);
        let allowed = self
            .0
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&canonical));
        (!allowed).then_some(reason)
    }
}

/// Why an address is inside someone's own networks, if it is. An IPv4-mapped IPv6 address
/// (`::ffff:127.0.0.1`) is judged as the IPv4 address it carries.
pub fn blocked_reason(ip: IpAddr) -> Option<&'static str> {
    match canonical(ip) {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn blocked_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some("unspecified address")
    } else if ip.is_loopback() {
        Some("loopback address")
    } else if ip.is_private() {
        Some("private network")
    } else if a == 100 && (64..128).contains(&b) {
        Some("carrier-grade NAT network")
    } else if ip.is_link_local() {
        Some("link-local address (cloud metadata)")
    } else if ip.is_multicast() {
        Some("multicast address")
    } else if ip.is_broadcast() || a >= 240 {
        Some("reserved address")
    } else {
        None
    }
}

fn blocked_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_unspecified() {
        Some("unspecified address")
    } else if ip.is_loopback() {
        Some("loopback address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("unique-local network")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local address")
    } else if ip.is_multicast() {
        Some("multicast address")
    } else if let Some(v4) = ip.to_ipv4() {
        // IPv4-compatible (`::a.b.c.d`, deprecated) forms reach the same hosts.
        blocked_v4(v4)
    } else {
        None
    }
}

/// Why a webhook URL cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlProblem {
    /// Not a URL Kairos sends to: a field error.
    Invalid(FieldError),
    /// A literal address in a blocked network.
    Blocked(Refusal),
}

/// A webhook URL as it is saved: parsed, `http` or `https`, with a host, no credentials, and
/// not a literal address in a blocked network.
pub fn webhook_url(raw: &str, allowed: &AllowedNetworks) -> Result<Url, UrlProblem> {
    let invalid = |message: &str| UrlProblem::Invalid(FieldError::new("url", message));
    if raw.len() > MAX_URL_LENGTH {
        return Err(invalid("must be at most 2000 characters"));
    }
    let url = Url::parse(raw.trim()).map_err(|_| invalid("must be an absolute http(s) URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must start with http:// or https://"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not carry a user name or password; the signature proves who sends",
        ));
    }
    if let Some(ip) = literal_address(&url)?
        && let Some(reason) = allowed.refusal(ip)
    {
        return Err(UrlProblem::Blocked(Refusal::WebhookUrlBlocked { reason }));
    }
    Ok(url)
}

/// The address a URL names literally, if it names one. The URL parser already reads the
/// shorthand forms (`http://2130706433`, `http://0x7f000001`) as the addresses they are.
pub fn literal_address(url: &Url) -> Result<Option<IpAddr>, UrlProblem> {
    match url.host() {
        Some(Host::Ipv4(v4)) => Ok(Some(IpAddr::V4(v4))),
        Some(Host::Ipv6(v6)) => Ok(Some(IpAddr::V6(v6))),
        Some(Host::Domain(_)) => Ok(None),
        None => Err(UrlProblem::Invalid(FieldError::new(
            "url",
            "must name a host",
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn refused(raw: &str, allowed: &AllowedNetworks) -> Option<&'static str> {
        match webhook_url(raw, allowed) {
            Err(UrlProblem::Blocked(Refusal::WebhookUrlBlocked { reason })) => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn every_internal_address_form_is_refused_with_its_reason() {
        let none = AllowedNetworks::default();
        for (url, reason) in [
            ("http://10.0.0.1", "private network"),
            ("http://192.168.1.1", "private network"),
            ("http://172.16.5.4/x", "private network"),
            ("http://100.64.0.1", "carrier-grade NAT network"),
            (
                "http://169.254.169.254/latest/meta-data/",
                "link-local address (cloud metadata)",
            ),
            ("http://[fd00::1]", "unique-local network"),
            ("http://[fe80::1]", "link-local address"),
            ("http://0.0.0.0", "unspecified address"),
            ("http://[::]", "unspecified address"),
            ("http://[::1]", "loopback address"),
            ("http://[::ffff:127.0.0.1]", "loopback address"),
            ("http://[::ffff:10.1.2.3]", "private network"),
            ("http://2130706433", "loopback address"),
            ("http://0x7f000001", "loopback address"),
            ("http://127.1", "loopback address"),
            ("http://127.0.0.1:8080", "loopback address"),
            ("http://224.0.0.1", "multicast address"),
            ("http://[ff02::1]", "multicast address"),
            ("http://255.255.255.255", "reserved address"),
        ] {
            assert_eq!(refused(url, &none), Some(reason), "{url}");
        }
    }

    #[test]
    fn public_addresses_and_names_pass_and_an_allowed_network_opens_loopback() {
        let none = AllowedNetworks::default();
        for url in [
            "https://93.184.215.14/hook",
            "https://hooks.example.org/k",
            "http://[2606:4700::1]",
        ] {
            assert!(webhook_url(url, &none).is_ok(), "{url}");
        }
        let loopback = AllowedNetworks::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(webhook_url("http://127.0.0.1:9999/hook", &loopback).is_ok());
        assert!(webhook_url("http://[::ffff:127.0.0.1]:9999/", &loopback).is_ok());
        assert_eq!(
            refused("http://10.0.0.1", &loopback),
            Some("private network")
        );
    }

    #[test]
    fn other_schemes_and_credentials_are_invalid() {
        let none = AllowedNetworks::default();
        for url in [
            "ftp://files.example.org/x",
            "file:///etc/passwd",
            "https://user:pass@hooks.example.org/",
            "https://user@hooks.example.org/",
            "not a url",
            "//hooks.example.org",
        ] {
            assert!(
                matches!(webhook_url(url, &none), Err(UrlProblem::Invalid(_))),
                "{url}"
            );
        }
    }
}
