//! The client's address, for rate limits: the connection's peer, or, when the peer is a proxy
//! the operator trusts, the address the proxies recorded in `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, request::Parts},
};
use ipnet::IpNet;

use super::{HttpState, error::ApiError};
use crate::app::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<HttpState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, ApiError> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no peer address on a request")))?;
        Ok(Self(client_ip(
            peer.ip(),
            &parts.headers,
            &state.settings.trusted_proxies,
        )))
    }
}

/// Reads `X-Forwarded-For` from the right, the hop nearest us: each trusted proxy's entry names
/// the hop before it, and the first address that is not a trusted proxy is the client. Entries
/// further left were written by the client itself and prove nothing, so a client that rotates
/// them still counts as one address.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            // A hop we cannot read: the last good address is as far as we can trust.
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(value: &str) -> IpAddr {
        value.parse().expect("an address")
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                "x-forwarded-for",
                HeaderValue::from_str(value).expect("value"),
            );
        }
        headers
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let headers = forwarded(&["1.2.3.4"]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), &headers, &[]),
            ip("203.0.113.9")
        );
        let trusted = ["10.0.0.0/8".parse().expect("net")];
        assert_eq!(
            client_ip(ip("203.0.113.9"), &headers, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client() {
        let trusted = ["10.0.0.0/8".parse().expect("net")];
        // The client wrote "6.6.6.6" itself; the proxies appended the rest.
        let headers = forwarded(&["6.6.6.6, 198.51.100.20", "10.0.0.3"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers, &trusted),
            ip("198.51.100.20")
        );
        let headers = forwarded(&["[2001:db8::7]:4711"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers, &trusted),
            ip("2001:db8::7")
        );
    }

    #[test]
    fn garbage_or_no_header_stops_at_the_last_address_known() {
        let trusted = ["10.0.0.0/8".parse().expect("net")];
        let headers = forwarded(&["not-an-ip, 10.0.0.5"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers, &trusted),
            ip("10.0.0.5")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
    }
}
