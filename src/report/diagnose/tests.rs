//! Each rule on constructed figures: one input built to trigger it, one that must not.

use std::sync::Arc;

use super::*;
use crate::model::{ReplyCode, Source, Verdict};

fn segment(name: &str, deliveries: u64, failed: u64, list_rot: u64) -> Segment {
    Segment {
        name: name.to_string(),
        deliveries,
        failed,
        list_rot,
    }
}

fn ids(input: &DiagnosisInput) -> Vec<&'static str> {
    diagnose(input).into_iter().map(|d| d.id).collect()
}

fn count(d: &Diagnosis, key: &str) -> u64 {
    match d.evidence.get(key) {
        Some(Evidence::Count(n)) => *n,
        other => panic!("{key}: {other:?} in {d:?}"),
    }
}

fn text<'a>(d: &'a Diagnosis, key: &str) -> &'a str {
    match d.evidence.get(key) {
        Some(Evidence::Text(s)) => s,
        other => panic!("{key}: {other:?} in {d:?}"),
    }
}

fn rate(d: &Diagnosis, key: &str) -> f64 {
    match d.evidence.get(key) {
        Some(Evidence::Rate(x)) => *x,
        other => panic!("{key}: {other:?} in {d:?}"),
    }
}

/// 1000 deliveries to many domains: three small company domains hold most list rot.
fn migrated_domains() -> DiagnosisInput {
    let mut domains = vec![
        segment("gmail.com", 600, 4, 3),
        segment("yahoo.com", 250, 2, 2),
        segment("oldco.example", 50, 10, 10),
        segment("merged.example", 40, 8, 8),
        segment("gone.example", 30, 6, 6),
    ];
    domains.push(segment("small.example", 30, 1, 1));
    DiagnosisInput {
        deliveries: 1000,
        failed: 31,
        domains,
        ..DiagnosisInput::default()
    }
}

#[test]
fn list_rot_concentrated_names_the_domains() {
    let d = list_rot_concentrated(&migrated_domains()).expect("triggers");
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(
        text(&d, "domains"),
        "oldco.example, merged.example, gone.example"
    );
    assert_eq!(count(&d, "list_rot_at_domains"), 24);
    assert_eq!(count(&d, "list_rot_total"), 30);
    assert_eq!(rate(&d, "share_of_list_rot"), 0.8);
    assert_eq!(rate(&d, "share_of_deliveries"), 0.12);
}

#[test]
fn list_rot_where_the_mail_goes_is_not_concentrated() {
    // The top three hold 80% of list rot but also 90% of the mail.
    let mut input = migrated_domains();
    input.domains = vec![
        segment("gmail.com", 600, 12, 12),
        segment("yahoo.com", 200, 6, 6),
        segment("outlook.com", 100, 6, 6),
        segment("a.example", 50, 3, 3),
        segment("b.example", 50, 3, 3),
    ];
    assert_eq!(list_rot_concentrated(&input), None);
    // Too few list-rot bounces to say anything.
    let mut input = migrated_domains();
    input.domains = vec![segment("oldco.example", 50, 9, 9)];
    assert_eq!(list_rot_concentrated(&input), None);
}

fn timeline(first: &[(u64, u64)], second: &[(u64, u64)]) -> DiagnosisInput {
    // Bins an hour apart: the first list in the first half of a 10-hour span.
    let mut bins = Vec::new();
    for (i, &(failed, user_unknown)) in first.iter().enumerate() {
        bins.push(TimeBin {
            start: i as i64 * 3600,
            failed,
            user_unknown,
        });
    }
    for (i, &(failed, user_unknown)) in second.iter().enumerate() {
        bins.push(TimeBin {
            start: (6 + i as i64) * 3600,
            failed,
            user_unknown,
        });
    }
    DiagnosisInput {
        time_span: Some((0, 10 * 3600)),
        timeline: bins,
        bin_seconds: 60,
        ..DiagnosisInput::default()
    }
}

#[test]
fn list_aging_when_user_unknown_rises() {
    let input = timeline(&[(10, 2), (10, 2)], &[(10, 5), (10, 5)]);
    let d = list_aging(&input).expect("triggers");
    assert_eq!(rate(&d, "first_half_share"), 0.2);
    assert_eq!(rate(&d, "second_half_share"), 0.5);
    assert_eq!(count(&d, "first_half_failures"), 20);
    assert_eq!(text(&d, "midpoint"), "1970-01-01T05:00:00Z");
}

#[test]
fn list_aging_not_when_flat_falling_or_thin() {
    assert_eq!(list_aging(&timeline(&[(20, 5)], &[(20, 6)])), None);
    assert_eq!(list_aging(&timeline(&[(20, 10)], &[(20, 2)])), None);
    // 19 failures in the first half: too few.
    assert_eq!(list_aging(&timeline(&[(19, 0)], &[(20, 20)])), None);
    let mut no_span = timeline(&[(20, 0)], &[(20, 20)]);
    no_span.time_span = None;
    assert_eq!(list_aging(&no_span), None);
}

#[test]
fn infrastructure_rot_above_thirty_percent() {
    let input = DiagnosisInput {
        failed: 20,
        infrastructure: 7,
        ..DiagnosisInput::default()
    };
    let d = infrastructure_rot(&input).expect("triggers");
    assert_eq!(rate(&d, "share_of_failures"), 0.35);
    // 30% exactly is not above; and 9 failures are too few.
    let at_flag = DiagnosisInput {
        infrastructure: 6,
        ..input.clone()
    };
    assert_eq!(infrastructure_rot(&at_flag), None);
    let thin = DiagnosisInput {
        failed: 9,
        infrastructure: 9,
        ..input
    };
    assert_eq!(infrastructure_rot(&thin), None);
}

#[test]
fn microsoft_4_7_651_when_present() {
    let input = DiagnosisInput {
        microsoft_4_7_651: 4,
        ..DiagnosisInput::default()
    };
    assert_eq!(
        count(&microsoft_throttling(&input).expect("triggers"), "attempts"),
        4
    );
    assert_eq!(microsoft_throttling(&DiagnosisInput::default()), None);
}

#[test]
fn connection_failures_from_three_attempts() {
    let input = DiagnosisInput {
        connection_failures: 2,
        connect_stage_blocks: 1,
        connection_by_domain: vec![("oldcorp.example".into(), 2), ("b.example".into(), 1)],
        ..DiagnosisInput::default()
    };
    let d = connection_failures(&input).expect("triggers");
    assert_eq!(count(&d, "attempts"), 3);
    assert_eq!(count(&d, "refused_at_greeting"), 1);
    assert_eq!(text(&d, "top_domain"), "oldcorp.example");
    let two = DiagnosisInput {
        connect_stage_blocks: 0,
        ..input
    };
    assert_eq!(connection_failures(&two), None);
}

fn throttle(receiver: &str, throttled: u64, attempts: u64) -> ReceiverThrottle {
    ReceiverThrottle {
        receiver: receiver.to_string(),
        throttled,
        attempts,
    }
}

#[test]
fn throttling_concentrated_at_one_provider() {
    let input = DiagnosisInput {
        throttling: vec![
            throttle("Gmail", 1, 500),
            throttle("Microsoft", 0, 300),
            throttle("Yahoo", 12, 200),
        ],
        ..DiagnosisInput::default()
    };
    let d = provider_throttling(&input).expect("triggers");
    assert_eq!(text(&d, "provider"), "Yahoo");
    assert_eq!(count(&d, "throttled_deferrals"), 12);
    assert_eq!(rate(&d, "share_of_throttling"), 0.923077);
    assert_eq!(rate(&d, "provider_throttle_rate"), 0.06);
    assert_eq!(rate(&d, "others_throttle_rate"), 0.00125);
}

#[test]
fn throttling_spread_evenly_or_rare_is_not_concentrated() {
    let spread = DiagnosisInput {
        throttling: vec![
            throttle("Gmail", 10, 500),
            throttle("Microsoft", 6, 300),
            throttle("Yahoo", 4, 200),
        ],
        ..DiagnosisInput::default()
    };
    assert_eq!(provider_throttling(&spread), None);
    let rare = DiagnosisInput {
        throttling: vec![throttle("Yahoo", 4, 200), throttle("Gmail", 0, 800)],
        ..DiagnosisInput::default()
    };
    assert_eq!(provider_throttling(&rare), None);
}

fn window(hour: i64, receivers: &[&str], blocks: u64) -> BlockWindow {
    BlockWindow {
        start: hour * 3600,
        receivers: receivers.iter().map(|r| r.to_string()).collect(),
        blocks,
    }
}

#[test]
fn blocklisting_at_two_receivers_in_one_window() {
    let mut blocklists = BTreeMap::new();
    blocklists.insert("Spamhaus", 3);
    blocklists.insert("Barracuda", 1);
    let input = DiagnosisInput {
        // Gmail at 10:xx and Microsoft at 11:xx: within two clock hours.
        block_windows: vec![window(10, &["Gmail"], 2), window(11, &["Microsoft"], 2)],
        blocklists,
        ..DiagnosisInput::default()
    };
    let d = blocklisting(&input).expect("triggers");
    assert_eq!(d.severity, Severity::Critical);
    assert_eq!(text(&d, "receivers"), "Gmail, Microsoft");
    assert_eq!(text(&d, "blocklists"), "Barracuda, Spamhaus");
    assert_eq!(text(&d, "window_start"), "1970-01-01T10:00:00Z");
    assert_eq!(count(&d, "blocks_in_window"), 4);
}

#[test]
fn blocklisting_not_at_one_receiver_or_hours_apart() {
    let one = DiagnosisInput {
        block_windows: vec![window(10, &["Microsoft"], 5), window(11, &["Microsoft"], 5)],
        ..DiagnosisInput::default()
    };
    assert_eq!(blocklisting(&one), None);
    let apart = DiagnosisInput {
        block_windows: vec![window(10, &["Gmail"], 5), window(12, &["Microsoft"], 5)],
        ..DiagnosisInput::default()
    };
    assert_eq!(blocklisting(&apart), None);
}

fn campaign(name: &str, deliveries: u64, content: u64) -> CampaignRow {
    CampaignRow {
        name: name.to_string(),
        deliveries,
        content,
    }
}

#[test]
fn content_rejections_concentrated_in_one_campaign() {
    let input = DiagnosisInput {
        deliveries: 1000,
        content_failed: 9,
        campaigns: vec![campaign("spring-sale", 300, 8), campaign("weekly", 600, 1)],
        ..DiagnosisInput::default()
    };
    let d = content_campaign(&input).expect("triggers");
    assert_eq!(text(&d, "campaign"), "spring-sale");
    assert_eq!(count(&d, "content_rejections"), 8);
    assert_eq!(rate(&d, "others_content_rate"), 0.001429);
}

#[test]
fn content_rejections_spread_or_without_campaigns_do_not_trigger() {
    let spread = DiagnosisInput {
        deliveries: 1000,
        content_failed: 10,
        campaigns: vec![campaign("spring-sale", 500, 5), campaign("weekly", 500, 5)],
        ..DiagnosisInput::default()
    };
    assert_eq!(content_campaign(&spread), None);
    // No sender named a campaign: the rejections belong to no campaign.
    let none = DiagnosisInput {
        deliveries: 1000,
        content_failed: 10,
        ..DiagnosisInput::default()
    };
    assert_eq!(content_campaign(&none), None);
}

#[test]
fn broken_authentication_names_the_mechanisms() {
    let mut auth = BTreeMap::new();
    auth.insert("dmarc_fail", 2);
    auth.insert("spf_fail", 1);
    auth.insert("ptr_missing", 1);
    let mut auth_codes = BTreeMap::new();
    auth_codes.insert("5.7.26".to_string(), 2);
    let input = DiagnosisInput {
        auth,
        auth_codes,
        ..DiagnosisInput::default()
    };
    let d = broken_authentication(&input).expect("triggers");
    assert_eq!(d.severity, Severity::Critical);
    assert_eq!(text(&d, "mechanisms"), "DMARC, PTR, SPF");
    assert_eq!(count(&d, "failures"), 4);
    assert_eq!(count(&d, "dmarc_fail"), 2);
    assert_eq!(text(&d, "enhanced_codes"), "5.7.26 x2");
    assert_eq!(broken_authentication(&DiagnosisInput::default()), None);
}

fn full(address: &str, messages: u32, attempts: u32, span_seconds: i64) -> FullMailbox {
    FullMailbox {
        address: address.to_string(),
        messages,
        attempts,
        span_seconds,
    }
}

#[test]
fn abandoned_mailboxes_full_on_two_messages_or_for_a_day() {
    let input = DiagnosisInput {
        full_mailboxes: vec![
            full("a@x.example", 2, 2, 3600),
            full("b@x.example", 1, 6, 90_000),
            full("c@x.example", 1, 3, 7200),
        ],
        ..DiagnosisInput::default()
    };
    let d = abandoned_mailboxes(&input).expect("triggers");
    assert_eq!(count(&d, "addresses"), 2);
    assert_eq!(count(&d, "mailbox_full_attempts"), 8);
    assert_eq!(text(&d, "example"), "b@x.example");
    let once = DiagnosisInput {
        full_mailboxes: vec![full("c@x.example", 1, 3, 7200)],
        ..DiagnosisInput::default()
    };
    assert_eq!(abandoned_mailboxes(&once), None);
}

#[test]
fn step_specific_bounces_over_a_step_dimension() {
    let input = DiagnosisInput {
        steps: Some(vec![
            segment("1", 400, 4, 2),
            segment("2", 300, 3, 1),
            segment("3", 250, 20, 15),
            // Too small for a rate of its own.
            segment("4", 10, 9, 9),
        ]),
        ..DiagnosisInput::default()
    };
    let d = step_specific_bounces(&input).expect("triggers");
    assert_eq!(text(&d, "step"), "3");
    assert_eq!(rate(&d, "step_bounce_rate"), 0.08);
    assert_eq!(rate(&d, "other_steps_bounce_rate"), 0.01);
}

#[test]
fn step_specific_bounces_not_without_steps_or_when_alike() {
    // Mail logs have no step dimension.
    assert_eq!(step_specific_bounces(&DiagnosisInput::default()), None);
    let alike = DiagnosisInput {
        steps: Some(vec![
            segment("1", 400, 8, 2),
            segment("2", 300, 6, 1),
            segment("3", 250, 7, 2),
        ]),
        ..DiagnosisInput::default()
    };
    assert_eq!(step_specific_bounces(&alike), None);
    let one = DiagnosisInput {
        steps: Some(vec![segment("1", 400, 40, 2), segment("2", 10, 0, 0)]),
        ..DiagnosisInput::default()
    };
    assert_eq!(step_specific_bounces(&one), None);
}

#[test]
fn uneven_rates_point_to_list_rot() {
    let input = DiagnosisInput {
        domains: vec![
            segment("a.example", 200, 2, 2),
            segment("b.example", 200, 3, 3),
            segment("c.example", 200, 40, 40),
            segment("d.example", 200, 2, 2),
        ],
        ..DiagnosisInput::default()
    };
    let d = bounce_dispersion(&input).expect("triggers");
    assert_eq!(d.id, "bounces_uneven");
    assert_eq!(text(&d, "highest_segment"), "c.example");
    assert_eq!(rate(&d, "highest_bounce_rate"), 0.2);
    assert_eq!(count(&d, "segments"), 4);
}

#[test]
fn uniform_rates_point_to_the_infrastructure() {
    let input = DiagnosisInput {
        domains: vec![
            segment("a.example", 200, 10, 0),
            segment("b.example", 200, 12, 0),
            segment("c.example", 200, 9, 0),
            // Small domains pooled into one segment of 30.
            segment("d.example", 15, 1, 0),
            segment("e.example", 15, 1, 0),
        ],
        ..DiagnosisInput::default()
    };
    let d = bounce_dispersion(&input).expect("triggers");
    assert_eq!(d.id, "bounces_uniform");
    assert_eq!(count(&d, "segments"), 4);
    assert_eq!(text(&d, "highest_segment"), SMALL_DOMAINS);
    assert_eq!(text(&d, "lowest_segment"), "c.example");
}

#[test]
fn dispersion_needs_segments_and_failures() {
    let two = DiagnosisInput {
        domains: vec![
            segment("a.example", 200, 2, 2),
            segment("b.example", 200, 40, 40),
        ],
        ..DiagnosisInput::default()
    };
    assert_eq!(bounce_dispersion(&two), None);
    let few_failures = DiagnosisInput {
        domains: vec![
            segment("a.example", 200, 1, 1),
            segment("b.example", 200, 1, 1),
            segment("c.example", 200, 7, 7),
        ],
        ..DiagnosisInput::default()
    };
    assert_eq!(bounce_dispersion(&few_failures), None);
}

#[test]
fn chi_square_critical_values_match_the_tables() {
    // p = 0.001: df 3 -> 16.27, df 30 -> 59.70 (table); 40 -> 73.40, 60 -> 99.61,
    // 100 -> 149.45 (approximation).
    assert_eq!(chi_square_critical(3), 16.266);
    assert_eq!(chi_square_critical(30), 59.703);
    for (df, want) in [(40, 73.402), (60, 99.607), (100, 149.449)] {
        let got = chi_square_critical(df);
        assert!((got - want).abs() / want < 0.005, "df {df}: {got}");
    }
}

#[test]
fn bounce_rate_bands() {
    let cases = [
        (0.0, "excellent"),
        (0.0049, "excellent"),
        (0.005, "healthy"),
        (0.0199, "healthy"),
        (0.02, "attention"),
        (0.0499, "attention"),
        (0.05, "serious"),
        (0.10, "serious"),
        (0.1001, "stop sending"),
    ];
    for (rate, want) in cases {
        assert_eq!(band(rate).0, want, "{rate}");
    }
    let input = DiagnosisInput {
        deliveries: 1000,
        failed: 12,
        ..DiagnosisInput::default()
    };
    let d = bounce_rate_band(&input).expect("always there with deliveries");
    assert_eq!((d.severity, text(&d, "band")), (Severity::Info, "healthy"));
    assert_eq!(d.title, "Legacy bounce rate 1.20%: healthy");
    assert_eq!(bounce_rate_band(&DiagnosisInput::default()), None);
}

#[test]
fn diagnoses_are_sorted_most_severe_first() {
    let mut input = migrated_domains();
    input.microsoft_4_7_651 = 1;
    input.auth.insert("spf_fail", 1);
    assert_eq!(
        ids(&input),
        [
            "broken_authentication",
            "bounce_rate_band",
            "list_rot_concentrated",
            "microsoft_4_7_651",
            "bounces_uneven",
        ]
    );
    assert_eq!(ids(&DiagnosisInput::default()), Vec::<&str>::new());
}

#[test]
fn campaigns_from_verp_senders() {
    let cases = [
        (
            "bounce+spring-sale.m12345@mail.shop.example",
            Some("spring-sale"),
        ),
        ("BOUNCE+Weekly.m1@mail.shop.example", Some("Weekly")),
        ("bounces+weekly-7f3a9c@em.shop.example", Some("weekly")),
        ("bounces+digest@em.shop.example", Some("digest")),
        ("bounce+promo.mx@x.example", Some("promo.mx")),
        ("bounces+ann=example.com@em.shop.example", None),
        ("bounces+-x@em.shop.example", None),
        ("bounce+@x.example", None),
        ("news@shop.example", None),
        ("bouncer+x@shop.example", None),
        ("", None),
        ("bounce+x", None),
    ];
    for (sender, want) in cases {
        assert_eq!(campaign_of(sender), want, "{sender}");
    }
}

#[test]
fn blocklists_named_at_word_starts() {
    let cases: [(&str, &[&str]); 6] = [
        (
            "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org",
            &["Spamhaus"],
        ),
        (
            "blocked using b.barracudacentral.org and bl.spamcop.net",
            &["Barracuda", "SpamCop"],
        ),
        (
            "550 5.7.1 ... on our block list (S3150)",
            &["Microsoft S3150"],
        ),
        (
            "listed at dnsbl.sorbs.net and UCEPROTECT level 1",
            &["SORBS", "UCEPROTECT"],
        ),
        ("the absorbs reply is no SORBS listing: xsorbs", &["SORBS"]),
        ("554 5.7.1 Service unavailable", &[]),
    ];
    for (text, want) in cases {
        assert_eq!(blocklists_named(text), want, "{text}");
    }
}

/// `blocklists_named` skips matches that overlap an earlier one. That loses nothing
/// only while no name starts at a word start inside another name's match.
#[test]
fn no_blocklist_name_starts_at_a_word_start_inside_another() {
    for (_, outer) in BLOCKLISTS {
        for (_, inner) in BLOCKLISTS {
            for start in 1..outer.len() {
                let word_start = !outer.as_bytes()[start - 1].is_ascii_alphanumeric();
                // `inner` beginning at `start` would overlap `outer`'s match there.
                let tail = &outer[start..];
                let overlaps = inner.starts_with(tail) || tail.starts_with(inner);
                assert!(
                    !(word_start && overlaps),
                    "{inner:?} starts at a word start inside {outer:?}"
                );
            }
        }
    }
    // Every name of an overlapping pair is still found where it stands alone (in
    // table order).
    assert_eq!(
        blocklists_named("sorbspamcop; sorbs spamcop"),
        ["SpamCop", "SORBS"]
    );
}

fn event(
    action: Action,
    recipient: &str,
    code: (u16, (u8, u16, u16)),
    bucket: Bucket,
    reason: &'static str,
) -> Event {
    let (reply, (c, s, d)) = code;
    Event {
        time: Timestamp::from_civil(2026, 5, 4, 10, 30, 0, 0),
        source: Source {
            kind: "postfix",
            file: Arc::from("t.log"),
            line: 1,
        },
        recipient: Arc::from(recipient),
        sender: None,
        queue_id: Some("Q1".into()),
        message_id: None,
        relay_host: None,
        relay_ip: None,
        action,
        reply_code: ReplyCode::new(reply),
        enhanced_code: EnhancedCode::new(c, s, d),
        diagnostic: Some("blocked using zen.spamhaus.org".into()),
        smtp_stage: None,
        agent: None,
        verdict: Some(Verdict {
            bucket,
            reason,
            rule: Arc::from("t"),
            evidence: String::new(),
            hard: action == Action::Bounced,
        }),
        mta_host: None,
        campaign: None,
        step: None,
        extra: None,
    }
}

#[test]
fn collector_counts_failure_attempts_only() {
    let mut c = Collector::default();
    let ms = Event {
        diagnostic: Some("rate limited due to IP reputation".into()),
        ..event(
            Action::Deferred,
            "a@outlook.com",
            (451, (4, 7, 651)),
            Bucket::Reputation,
            "reputation_throttled",
        )
    };
    c.event(&ms);
    // The expiry restates the deferral: not counted again.
    c.event(&Event {
        action: Action::Expired,
        ..ms.clone()
    });
    let block = event(
        Action::Bounced,
        "b@gmail.com",
        (554, (5, 7, 1)),
        Bucket::Reputation,
        "blocklisted",
    );
    c.event(&block);
    c.event(&event(
        Action::Bounced,
        "c@corp.example",
        (554, (5, 7, 1)),
        Bucket::Reputation,
        "blocklisted",
    ));
    c.event(&event(
        Action::Deferred,
        "d@x.example",
        (452, (4, 2, 2)),
        Bucket::Transient,
        "mailbox_full",
    ));
    c.event(&event(
        Action::Deferred,
        "D@x.example",
        (452, (4, 2, 2)),
        Bucket::Transient,
        "mailbox_full",
    ));
    c.event(&event(
        Action::Deferred,
        "e@x.example",
        (451, (4, 7, 1)),
        Bucket::Transient,
        "greylisted",
    ));
    let input = c.finish();
    assert_eq!(input.microsoft_4_7_651, 1);
    assert_eq!(input.blocklists.get("Spamhaus"), Some(&2));
    assert_eq!(input.block_windows.len(), 1);
    assert_eq!(input.block_windows[0].receivers, ["Gmail", "corp.example"]);
    assert_eq!(input.block_windows[0].blocks, 2);
    assert_eq!(input.full_mailboxes, [full("d@x.example", 1, 2, 0)]);
    // The 4.7.651 deferral is throttling at Microsoft; greylisting is not.
    let throttled: Vec<(&str, u64)> = input
        .throttling
        .iter()
        .map(|t| (t.receiver.as_str(), t.throttled))
        .collect();
    assert_eq!(throttled, [("Microsoft", 1)]);
}

#[test]
fn timeline_bins_widen_to_stay_bounded() {
    let mut t = Timeline::default();
    for minute in 0..(MAX_TIME_BINS as i64 * 3) {
        t.add(minute * 60, minute % 2 == 0);
    }
    assert!(t.bins.len() <= MAX_TIME_BINS);
    assert_eq!(t.width, 240);
    let failed: u64 = t.bins.values().map(|b| b.0).sum();
    let unknown: u64 = t.bins.values().map(|b| b.1).sum();
    assert_eq!(
        (failed, unknown),
        (MAX_TIME_BINS as u64 * 3, MAX_TIME_BINS as u64 * 3 / 2)
    );
}
