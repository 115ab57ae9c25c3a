//! The client's address, for the sign-in throttle. `X-Forwarded-For` is
//! believed only when the connection comes from a configured trusted proxy,
//! and then its right-most address that is not itself a trusted proxy.

use std::net::IpAddr;

use actix_web::HttpRequest;

/// Whether the connection comes from one of `trusted_proxies`, whose
/// headers (`X-Forwarded-For`, `X-Request-Id`) are believed.
pub fn from_trusted_proxy(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> bool {
    req.peer_addr()
        .is_some_and(|a| trusted_proxies.contains(&a.ip()))
}

pub fn client_addr(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let Some(peer) = peer else {
        return "unknown".into();
    };
    if !trusted_proxies.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !trusted_proxies.contains(ip))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer)
        .to_string()
}
