//! The reason vocabulary: every fine reason and the bucket it belongs to.
//!
//! A rule names a reason; its bucket comes from here unless the rule overrides it
//! (mailbox full is transient as a 4xx and list rot as a 5xx: an abandoned account).

use crate::model::Bucket;

/// (reason, default bucket, one-line meaning).
pub const REASONS: &[(&str, Bucket, &str)] = &[
    (
        "user_unknown",
        Bucket::ListRot,
        "the mailbox does not exist",
    ),
    (
        "mailbox_disabled",
        Bucket::ListRot,
        "the mailbox is disabled, suspended or inactive",
    ),
    (
        "mailbox_moved",
        Bucket::ListRot,
        "the recipient has moved and mail is not forwarded",
    ),
    (
        "domain_invalid",
        Bucket::ListRot,
        "the recipient domain does not exist or accepts no mail",
    ),
    (
        "recipient_restricted",
        Bucket::ListRot,
        "the recipient only accepts mail from certain senders",
    ),
    (
        "mailbox_full",
        Bucket::Transient,
        "the mailbox is over quota",
    ),
    (
        "greylisted",
        Bucket::Transient,
        "greylisting: try again later",
    ),
    (
        "rate_limited",
        Bucket::Transient,
        "the recipient or server is receiving too much mail",
    ),
    (
        "remote_busy",
        Bucket::Transient,
        "the remote server is busy or has a local problem",
    ),
    (
        "blocklisted",
        Bucket::Reputation,
        "the sending IP or domain is on a blocklist",
    ),
    (
        "reputation_throttled",
        Bucket::Reputation,
        "deferred or rate limited for poor sender reputation",
    ),
    (
        "reputation_block",
        Bucket::Reputation,
        "refused for poor sender reputation",
    ),
    (
        "policy_block",
        Bucket::Reputation,
        "refused by the receiver's sender policy",
    ),
    (
        "sender_account_restricted",
        Bucket::Reputation,
        "the sending account is restricted or suspended",
    ),
    ("spf_fail", Bucket::Auth, "SPF check failed"),
    (
        "dkim_fail",
        Bucket::Auth,
        "DKIM signature missing or invalid",
    ),
    ("dmarc_fail", Bucket::Auth, "DMARC policy rejection"),
    (
        "auth_missing",
        Bucket::Auth,
        "the message is not authenticated (SPF/DKIM)",
    ),
    (
        "ptr_missing",
        Bucket::Auth,
        "the sending IP has no or a mismatching reverse DNS",
    ),
    (
        "dns_failure",
        Bucket::Infrastructure,
        "a DNS lookup failed temporarily",
    ),
    (
        "connection_failure",
        Bucket::Infrastructure,
        "no SMTP session: refused, timed out or dropped",
    ),
    (
        "tls_failure",
        Bucket::Infrastructure,
        "TLS negotiation or policy failed",
    ),
    (
        "routing_error",
        Bucket::Infrastructure,
        "relay denied or no route to the destination",
    ),
    (
        "delivery_expired",
        Bucket::Infrastructure,
        "queue lifetime exceeded",
    ),
    (
        "protocol_error",
        Bucket::Infrastructure,
        "an SMTP command or syntax was refused",
    ),
    (
        "config_error",
        Bucket::Infrastructure,
        "a configuration problem (mail loops, bad transport)",
    ),
    (
        "sender_address_rejected",
        Bucket::Infrastructure,
        "the envelope sender address was refused as invalid",
    ),
    (
        "content_spam",
        Bucket::Content,
        "the message content was judged spam",
    ),
    (
        "content_policy",
        Bucket::Content,
        "the message breaks a content policy",
    ),
    (
        "malware_or_attachment",
        Bucket::Content,
        "a virus or forbidden attachment",
    ),
    (
        "message_too_large",
        Bucket::Content,
        "the message is too large",
    ),
    (
        "rfc_noncompliant",
        Bucket::Content,
        "the message is not RFC 5322 compliant",
    ),
    (
        "unclassified",
        Bucket::Unknown,
        "no rule recognised the failure",
    ),
    (
        "not_a_bounce",
        Bucket::Unknown,
        "not a failure: auto-reply, complaint, delivery notice",
    ),
];

/// The canonical `&'static str` and default bucket of a reason name.
pub fn lookup(reason: &str) -> Option<(&'static str, Bucket)> {
    REASONS
        .iter()
        .find(|(name, _, _)| *name == reason)
        .map(|(name, bucket, _)| (*name, *bucket))
}

/// One-line meaning of a reason.
pub fn meaning(reason: &str) -> Option<&'static str> {
    REASONS
        .iter()
        .find(|(name, _, _)| *name == reason)
        .map(|(_, _, meaning)| *meaning)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_unique_and_cover_every_bucket() {
        let mut names: Vec<_> = REASONS.iter().map(|r| r.0).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REASONS.len());
        for bucket in Bucket::ALL {
            assert!(REASONS.iter().any(|r| r.1 == bucket), "{bucket}");
        }
    }
}
