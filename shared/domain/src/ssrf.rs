//! Server-side request forgery guard: a customer-supplied webhook URL must never make us call
//! into our own network or the cloud's metadata service. URLs are checked when a subscription
//! is saved, and every address a host resolves to is checked again before each delivery.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Whether local targets (loopback, private ranges, plain http) are allowed: only for local
/// development, set by a deployment parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookUrlPolicy {
    pub allow_local: bool,
}

/// Parses and checks a webhook URL. Hosts given as IP literals (including the decimal, hex and
/// octal IPv4 forms, which URL parsing normalises) are classified here; names are classified
/// after resolution, at delivery time.
pub fn check_webhook_url(text: &str, policy: WebhookUrlPolicy) -> Result<Url, String> {
    if text.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    let url = Url::parse(text).map_err(|e| format!("is not a valid URL: {e}"))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_local => {}
        "http" => return Err("must use https".into()),
        other => return Err(format!("must use https, not {other}")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".into());
    }
    if url.fragment().is_some() {
        return Err("must not contain a fragment".into());
    }
    let ip = match url.host() {
        None => return Err("must have a host".into()),
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(Host::Domain(name)) => {
            if !policy.allow_local && is_local_name(name) {
                return Err(format!("host {name} is a local name"));
            }
            None
        }
    };
    if let (Some(ip), false) = (ip, policy.allow_local) {
        forbidden_reason(ip).map_or(Ok(()), |reason| Err(format!("address {ip} is {reason}")))?;
    }
    Ok(url)
}

fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.ends_with(".internal")
        || name.ends_with(".local")
}

/// Why an address must not be called, or `None` when it is a public unicast address.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let reason = match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "the cloud metadata service",
        (0, _, _) => "unspecified (0.0.0.0/8)",
        (127, _, _) => "loopback",
        (10, _, _) => "private (10.0.0.0/8)",
        (172, 16..=31, _) => "private (172.16.0.0/12)",
        (192, 168, _) => "private (192.168.0.0/16)",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "carrier-grade NAT (100.64.0.0/10)",
        (192, 0, 0) => "IETF protocol assignments (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "reserved for documentation",
        (198, 18..=19, _) => "reserved for benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved or broadcast",
        _ => return None,
    };
    Some(reason)
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return forbidden_v4(v4);
    }
    let first = ip.segments()[0];
    let reason = match first {
        _ if ip.is_unspecified() => "unspecified (::)",
        _ if ip.is_loopback() => "loopback",
        _ if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) => "the cloud metadata service",
        0xfc00..=0xfdff => "unique local (fc00::/7)",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local (deprecated)",
        0xff00..=0xffff => "multicast",
        0x2001 if ip.segments()[1] == 0x0db8 => "reserved for documentation",
        0x0000..=0x00ff => "reserved (::/8)",
        _ => return None,
    };
    Some(reason)
}

/// IPv4 addresses carried inside IPv6 ones: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`) and NAT64 (`64:ff9b::a.b.c.d`) all reach the IPv4 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail),
        [0, 0, 0, 0, 0, 0, _, _] if !ip.is_loopback() && !ip.is_unspecified() => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: WebhookUrlPolicy = WebhookUrlPolicy { allow_local: false };
    const LOCAL: WebhookUrlPolicy = WebhookUrlPolicy { allow_local: true };

    fn refused(ip: &str) -> bool {
        forbidden_reason(ip.parse().unwrap()).is_some()
    }

    #[test]
    fn ipv4_classification() {
        for bad in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "224.0.0.1",
            "239.1.1.1",
            "255.255.255.255",
            "192.0.2.10",
            "198.18.0.1",
        ] {
            assert!(refused(bad), "{bad} should be refused");
        }
        for good in [
            "8.8.8.8",
            "172.15.0.1",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "1.1.1.1",
            "93.184.216.34",
        ] {
            assert!(!refused(good), "{good} should be allowed");
        }
        assert_eq!(
            forbidden_reason("169.254.169.254".parse().unwrap()),
            Some("the cloud metadata service")
        );
    }

    #[test]
    fn ipv6_classification() {
        for bad in [
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "fd00:ec2::254",
            "2001:db8::1",
        ] {
            assert!(refused(bad), "{bad} should be refused");
        }
        for good in ["2606:4700:4700::1111", "2a00:1450:4001:81b::200e"] {
            assert!(!refused(good), "{good} should be allowed");
        }
    }

    #[test]
    fn ipv4_inside_ipv6_is_judged_as_ipv4() {
        assert!(refused("::ffff:127.0.0.1"));
        assert!(refused("::ffff:169.254.169.254"));
        assert!(refused("::ffff:10.0.0.1"));
        assert!(refused("64:ff9b::10.0.0.1"));
        assert!(refused("::127.0.0.1"));
        assert!(!refused("::ffff:8.8.8.8"));
        assert!(!refused("64:ff9b::8.8.8.8"));
    }

    #[test]
    fn numeric_host_forms_are_normalised_then_refused() {
        for url in [
            "https://2130706433/hook",      // decimal 127.0.0.1
            "https://0x7f000001/hook",      // hex
            "https://0177.0.0.1/hook",      // octal
            "https://127.1/hook",           // short form
            "https://0xa9fea9fe/latest",    // 169.254.169.254
            "https://[::ffff:7f00:1]/hook", // mapped, hex
            "https://[::1]:8443/hook",
        ] {
            assert!(check_webhook_url(url, STRICT).is_err(), "{url} should be refused");
        }
    }

    #[test]
    fn urls_need_https_a_public_host_and_no_credentials() {
        assert!(check_webhook_url("https://hooks.example.com/in?x=1", STRICT).is_ok());
        assert!(check_webhook_url("https://8.8.8.8/in", STRICT).is_ok());
        for bad in [
            "http://hooks.example.com/in",
            "ftp://hooks.example.com/in",
            "https://user:pw@hooks.example.com/",
            "https://localhost/in",
            "https://metadata.google.internal/",
            "not a url",
            "https://",
        ] {
            assert!(check_webhook_url(bad, STRICT).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn local_policy_allows_loopback_and_http() {
        assert!(check_webhook_url("http://127.0.0.1:9000/hook", LOCAL).is_ok());
        assert!(check_webhook_url("http://localhost:9000/hook", LOCAL).is_ok());
        assert!(check_webhook_url("ftp://127.0.0.1/", LOCAL).is_err());
    }
}
