//! Mailbox providers, recognised from the recipient domain or the relay host
//! (`*.mail.protection.outlook.com` is Microsoft 365 whatever the domain).

/// (provider, recipient domains, relay host suffixes).
const PROVIDERS: &[(&str, &[&str], &[&str])] = &[
    (
        "Gmail",
        &["gmail.com", "googlemail.com"],
        &[
            ".google.com",
            ".googlemail.com",
            ".gmail-smtp-in.l.google.com",
        ],
    ),
    (
        "Microsoft",
        &[
            "outlook.com",
            "hotmail.com",
            "live.com",
            "msn.com",
            "hotmail.co.uk",
            "hotmail.fr",
            "hotmail.de",
            "hotmail.it",
            "hotmail.es",
            "live.co.uk",
            "live.fr",
            "outlook.fr",
            "outlook.de",
            "passport.com",
            "windowslive.com",
        ],
        &[".outlook.com", ".hotmail.com", ".outlook.office365.com"],
    ),
    (
        "Yahoo",
        &[
            "yahoo.com",
            "ymail.com",
            "rocketmail.com",
            "aol.com",
            "aim.com",
            "yahoo.co.uk",
            "yahoo.fr",
            "yahoo.de",
            "yahoo.co.jp",
            "yahoo.com.br",
            "yahoo.co.in",
            "yahoo.es",
            "yahoo.it",
            "verizon.net",
            "att.net",
            "sbcglobal.net",
            "bellsouth.net",
        ],
        &[".yahoodns.net", ".yahoo.com", ".aol.com"],
    ),
    (
        "Apple",
        &["icloud.com", "me.com", "mac.com"],
        &[".icloud.com", ".me.com"],
    ),
    (
        "GMX / Web.de",
        &[
            "gmx.de", "gmx.net", "gmx.com", "gmx.at", "gmx.ch", "web.de", "mail.com",
        ],
        &[".gmx.net", ".web.de", ".kundenserver.de"],
    ),
    ("T-Online", &["t-online.de"], &[".t-online.de"]),
    ("Comcast", &["comcast.net"], &[".comcast.net"]),
    ("Orange", &["orange.fr", "wanadoo.fr"], &[".orange.fr"]),
    (
        "Mail.ru",
        &["mail.ru", "bk.ru", "inbox.ru", "list.ru"],
        &[".mail.ru"],
    ),
    (
        "Yandex",
        &["yandex.ru", "yandex.com", "ya.ru"],
        &[".yandex.ru", ".yandex.net"],
    ),
    (
        "Zoho",
        &["zoho.com", "zohomail.com"],
        &[".zoho.com", ".zoho.eu"],
    ),
    (
        "Proton",
        &["proton.me", "protonmail.com", "pm.me"],
        &[".protonmail.ch"],
    ),
    ("GoDaddy", &[], &[".secureserver.net"]),
    ("Mimecast", &[], &[".mimecast.com", ".mimecast.co.za"]),
    ("Proofpoint", &[], &[".pphosted.com", ".ppe-hosted.com"]),
    (
        "Barracuda",
        &[],
        &[".barracudanetworks.com", ".ess.barracudanetworks.com"],
    ),
    ("Cox", &["cox.net"], &[".cox.net"]),
    (
        "Spectrum",
        &["charter.net", "spectrum.net", "rr.com"],
        &[".charter.net", ".rr.com"],
    ),
    ("QQ", &["qq.com", "foxmail.com"], &[".qq.com"]),
];

/// The provider of a delivery, from the relay host first (a Google Workspace or
/// Microsoft 365 company domain is only recognisable there), then the recipient domain.
pub fn provider_of(domain: &str, relay_host: Option<&str>) -> &'static str {
    if let Some(host) = relay_host {
        let host = host.trim_end_matches('.');
        for (name, _, suffixes) in PROVIDERS {
            if suffixes
                .iter()
                .any(|s| host.ends_with(s) || host == &s[1..])
            {
                return name;
            }
        }
    }
    for (name, domains, _) in PROVIDERS {
        if domains.contains(&domain) {
            return name;
        }
    }
    "other"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_by_domain_and_relay() {
        assert_eq!(provider_of("gmail.com", None), "Gmail");
        assert_eq!(
            provider_of(
                "fabrikam.example",
                Some("fabrikam-example.mail.protection.outlook.com")
            ),
            "Microsoft"
        );
        assert_eq!(
            provider_of("corp.example", Some("aspmx.l.google.com")),
            "Gmail"
        );
        assert_eq!(
            provider_of("ymail.com", Some("mta6.am0.yahoodns.net")),
            "Yahoo"
        );
        assert_eq!(
            provider_of("acme.example", Some("mail.acme.example")),
            "other"
        );
        assert_eq!(
            provider_of("notgoogle.com", Some("evilgoogle.com")),
            "other"
        );
    }
}
