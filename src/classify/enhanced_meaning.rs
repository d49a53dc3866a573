//! What the registered enhanced status codes mean (RFC 3463 and the RFCs that added to
//! the IANA "SMTP Enhanced Status Codes" registry since: 3886, 4468, 4954, 5248, 6531,
//! 6710, 7293, 7372, 7505, 8617, 8689 and the mail-flood draft).
//!
//! The descriptions are short paraphrases for a terminal or a report column, not the
//! registry's text. A registered code `X.S.D` means the same in every class; the class
//! only says whether the condition is temporary (4) or permanent (5).

use crate::model::EnhancedCode;

/// (subject, detail, meaning) for every registered `X.S.D`.
#[rustfmt::skip]
const ENUMERATED: &[(u16, u16, &str)] = &[
    (0, 0, "other or undefined status: only the class is known"),
    (1, 0, "something about an address caused the failure"),
    (1, 1, "the destination mailbox does not exist"),
    (1, 2, "the destination domain does not exist or accepts no mail"),
    (1, 3, "the destination address is syntactically invalid"),
    (1, 4, "the destination address is ambiguous: it matches several mailboxes"),
    (1, 5, "the destination address is valid (a success detail)"),
    (1, 6, "the mailbox has moved and there is no forwarding address"),
    (1, 7, "the sender address is syntactically invalid"),
    (1, 8, "the sender's domain does not exist or cannot receive replies"),
    (1, 9, "relayed to a system that does not speak this protocol; no further reports"),
    (1, 10, "the recipient domain publishes a null MX: it accepts no mail"),
    (2, 0, "the mailbox exists but something about it caused the failure"),
    (2, 1, "the mailbox is disabled and not accepting messages"),
    (2, 2, "the mailbox is full (over quota)"),
    (2, 3, "the message is longer than this mailbox accepts"),
    (2, 4, "a mailing list could not be expanded"),
    (3, 0, "something about the destination mail system caused the failure"),
    (3, 1, "the destination mail system is out of storage"),
    (3, 2, "the destination system is not accepting mail (shutdown, load, maintenance)"),
    (3, 3, "the destination system lacks a feature the message needs"),
    (3, 4, "the message is larger than the system's size limit"),
    (3, 5, "the destination system is configured so that it cannot take the message"),
    (3, 6, "the message was accepted but its requested priority was changed"),
    (4, 0, "an unspecified network or routing problem"),
    (4, 1, "no answer from the destination host"),
    (4, 2, "the connection broke or timed out during the transaction"),
    (4, 3, "a directory server (such as DNS) failed"),
    (4, 4, "no route to the destination could be determined"),
    (4, 5, "the mail system is congested"),
    (4, 6, "a routing loop was detected"),
    (4, 7, "the delivery time expired: the message was queued too long"),
    (5, 0, "an unspecified SMTP protocol problem"),
    (5, 1, "a command was out of sequence or is not supported"),
    (5, 2, "a command had a syntax error or was not recognised"),
    (5, 3, "too many recipients for one transaction"),
    (5, 4, "a command had invalid arguments"),
    (5, 5, "the protocol versions did not match"),
    (5, 6, "an AUTH exchange line was too long"),
    (6, 0, "an unspecified problem with the message content or media"),
    (6, 1, "the message's media type is not supported"),
    (6, 2, "the content needs converting and conversion is not allowed"),
    (6, 3, "the content needs converting and no converter is available"),
    (6, 4, "the content was converted and some of it was lost"),
    (6, 5, "converting the content failed"),
    (6, 6, "the message content could not be fetched (BURL)"),
    (6, 7, "non-ASCII addresses are not allowed for this sender or recipient"),
    (6, 8, "a UTF-8 reply is needed but the client does not allow it"),
    (6, 9, "a UTF-8 header message cannot be passed on to a recipient"),
    (6, 10, "deprecated duplicate of X.6.8"),
    (7, 0, "an unspecified security or policy problem"),
    (7, 1, "delivery not authorised: refused by per-host or per-recipient policy"),
    (7, 2, "the sender may not send to this mailing list"),
    (7, 3, "a required conversion between secure messaging formats is impossible"),
    (7, 4, "the message's security features are not supported"),
    (7, 5, "a cryptographic step failed (missing or invalid key)"),
    (7, 6, "a cryptographic algorithm is not supported"),
    (7, 7, "the message failed an integrity check"),
    (7, 8, "authentication credentials were invalid"),
    (7, 9, "the authentication mechanism is too weak"),
    (7, 10, "an encrypted connection is needed for this authentication"),
    (7, 11, "this authentication mechanism requires an encrypted connection"),
    (7, 12, "a password transition is needed"),
    (7, 13, "the user account is disabled"),
    (7, 14, "a trust relationship with a third party is required"),
    (7, 15, "the message's priority level is too low"),
    (7, 16, "the message is too big for its priority level"),
    (7, 17, "the mailbox owner has changed since the given date (RRVS)"),
    (7, 18, "the domain owner has changed since the given date (RRVS)"),
    (7, 19, "the RRVS check could not be completed"),
    (7, 20, "no passing DKIM signature found"),
    (7, 21, "no acceptable DKIM signature found"),
    (7, 22, "no valid DKIM signature matching the author's domain"),
    (7, 23, "SPF validation failed"),
    (7, 24, "SPF validation met an error"),
    (7, 25, "the sending IP failed reverse DNS validation"),
    (7, 26, "several authentication checks failed"),
    (7, 27, "the sender's domain publishes a null MX"),
    (7, 28, "the message looks part of a mail flood"),
    (7, 29, "ARC validation failed"),
    (7, 30, "REQUIRETLS is required but the next hop does not support it"),
];

/// The meaning of a registered enhanced status code, `None` for codes outside the
/// registry (such as Microsoft's 5.7.606 or 4.7.650).
pub fn meaning(code: EnhancedCode) -> Option<&'static str> {
    ENUMERATED
        .iter()
        .find(|(s, d, _)| *s == code.subject && *d == code.detail)
        .map(|(_, _, m)| *m)
}

/// What the subject digit says, for codes without a registered detail.
pub fn subject_meaning(code: EnhancedCode) -> Option<&'static str> {
    Some(match code.subject {
        0 => "other or undefined status",
        1 => "addressing status (sender or recipient address)",
        2 => "mailbox status (the recipient's mailbox)",
        3 => "mail system status (the destination system)",
        4 => "network and routing status",
        5 => "mail delivery protocol status",
        6 => "message content or media status",
        7 => "security or policy status",
        _ => return None,
    })
}

/// What the class digit says.
pub fn class_meaning(code: EnhancedCode) -> &'static str {
    match code.class {
        2 => "success",
        4 => "persistent transient failure: a later retry may succeed",
        _ => "permanent failure: resending as is will not succeed",
    }
}

/// The registered meaning, else the subject's meaning marked as such ("security or
/// policy status (unregistered detail)"), else `None`.
pub fn describe(code: EnhancedCode) -> Option<String> {
    meaning(code).map(str::to_string).or_else(|| {
        subject_meaning(code).map(|s| format!("{s} (detail {} not registered)", code.detail))
    })
}

/// Every registered `(subject, detail)` pair, in registry order.
pub fn registered() -> impl Iterator<Item = (u16, u16)> {
    ENUMERATED.iter().map(|(s, d, _)| (*s, *d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> EnhancedCode {
        EnhancedCode::parse(text).unwrap()
    }

    #[test]
    fn registry_is_complete_and_unique() {
        let counts = [
            (0, 0),
            (1, 10),
            (2, 4),
            (3, 6),
            (4, 7),
            (5, 6),
            (6, 10),
            (7, 30),
        ];
        for (subject, max) in counts {
            for detail in 0..=max {
                assert!(
                    meaning(code(&format!("5.{subject}.{detail}"))).is_some(),
                    "X.{subject}.{detail}"
                );
            }
            assert!(meaning(code(&format!("5.{subject}.{}", max + 1))).is_none());
        }
        let mut all: Vec<_> = registered().collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n);
        assert_eq!(n, 81);
    }

    #[test]
    fn meanings_for_any_class_and_fallbacks() {
        assert_eq!(meaning(code("4.2.2")), meaning(code("5.2.2")));
        assert_eq!(
            meaning(code("5.1.1")),
            Some("the destination mailbox does not exist")
        );
        assert_eq!(meaning(code("5.7.606")), None);
        assert_eq!(
            describe(code("5.7.606")).as_deref(),
            Some("security or policy status (detail 606 not registered)")
        );
        assert_eq!(subject_meaning(code("5.9.1")), None);
        assert_eq!(describe(code("5.9.1")), None);
        assert!(class_meaning(code("4.4.1")).starts_with("persistent transient"));
    }
}
