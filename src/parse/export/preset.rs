//! Presets: what the columns (CSV) or keys (JSON, flattened as `a.b.c`) of each ESP or
//! sequencer export mean, and how each vendor's event names map onto bouncex's
//! [`Label`]s. Written from `../shared/reference/esp-exports.md` (sections 2-5).
//!
//! A preset is detected from the header or the first record's keys (section 4 of that
//! document); `--preset NAME` forces one. Fields a preset does not name fall back to
//! the generic aliases ([`GENERIC`]); `--map field=Column` overrides both.

/// A model field an export column can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Recipient,
    /// The event or status label (`bounce`, `hardBounces`, `Bounced`, ...).
    Event,
    /// A bounce type or category (`Permanent`, `UNKNOWN_USER`, ...).
    BounceType,
    ReplyCode,
    EnhancedCode,
    Diagnostic,
    Time,
    Campaign,
    Step,
    MessageId,
    Sender,
    /// The sending MTA or IP (`--by host`).
    MtaHost,
    /// The receiving MX.
    RelayHost,
    /// A yes/no "bounced" flag column.
    Bounced,
}

impl Field {
    pub const ALL: [Field; 14] = [
        Field::Recipient,
        Field::Event,
        Field::BounceType,
        Field::ReplyCode,
        Field::EnhancedCode,
        Field::Diagnostic,
        Field::Time,
        Field::Campaign,
        Field::Step,
        Field::MessageId,
        Field::Sender,
        Field::MtaHost,
        Field::RelayHost,
        Field::Bounced,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The names `--map` accepts.
    pub fn parse(name: &str) -> Option<Field> {
        Some(match normalize(name).as_str() {
            "recipient" | "email" | "address" => Field::Recipient,
            "event" | "status" => Field::Event,
            "bouncetype" | "type" => Field::BounceType,
            "replycode" | "code" | "smtpcode" => Field::ReplyCode,
            "enhancedcode" | "enhanced" => Field::EnhancedCode,
            "diagnostic" | "reason" | "text" => Field::Diagnostic,
            "time" | "timestamp" | "date" => Field::Time,
            "campaign" => Field::Campaign,
            "step" => Field::Step,
            "messageid" => Field::MessageId,
            "sender" | "from" => Field::Sender,
            "host" | "mtahost" => Field::MtaHost,
            "relay" | "relayhost" | "mx" => Field::RelayHost,
            "bounced" | "flag" => Field::Bounced,
            _ => return None,
        })
    }

    pub const NAMES: &'static str = "recipient, event, bounce_type, reply_code, enhanced_code, \
        diagnostic, time, campaign, step, message_id, sender, host, relay, bounced";
}

/// A header name compared loosely: lowercase, without spaces, `_` and `-`.
pub fn normalize(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Generic aliases (normalized), in order of preference (section 5).
pub static GENERIC: &[(Field, &[&str])] = &[
    (
        Field::Recipient,
        &[
            "email",
            "emailaddress",
            "recipient",
            "rcptto",
            "address",
            "toemail",
            "to",
            "destination",
            "recipientemail",
            "contactemail",
            "leademail",
            "prospectemail",
            "mail",
            "emailaddr",
        ],
    ),
    (
        Field::Event,
        &[
            "event",
            "eventtype",
            "status",
            "leadstatus",
            "emailstatus",
            "notificationtype",
            "type",
            "result",
            "state",
            "activity",
            "action",
            "deliverystatus",
        ],
    ),
    (
        Field::BounceType,
        &[
            "bouncetype",
            "bouncesubtype",
            "severity",
            "bounceclass",
            "bounceclassification",
            "category",
            "bouncereason",
            "bouncecategory",
        ],
    ),
    (
        Field::ReplyCode,
        &[
            "code",
            "smtpcode",
            "replycode",
            "errorcode",
            "statuscode",
            "smtpstatus",
        ],
    ),
    (
        Field::EnhancedCode,
        &[
            "enhancedcode",
            "enhancedstatuscode",
            "enhancedstatus",
            "dsn",
            "dsncode",
        ],
    ),
    (
        Field::Diagnostic,
        &[
            "diagnostic",
            "diagnosticcode",
            "smtpresponse",
            "rawreason",
            "response",
            "reason",
            "error",
            "errormessage",
            "detail",
            "details",
            "bouncemessage",
            "bouncetext",
            "message",
            "description",
        ],
    ),
    (
        Field::Time,
        &[
            "timestamp",
            "@timestamp",
            "time",
            "date",
            "datetime",
            "eventtime",
            "eventtimestamp",
            "createdat",
            "created",
            "processed",
            "bouncedat",
            "sentat",
            "cleantime",
            "updatedat",
        ],
    ),
    (
        Field::Campaign,
        &[
            "campaign",
            "campaignname",
            "campaignid",
            "marketingcampaignname",
            "cleancampaigntitle",
            "emailcampaignid",
            "sequence",
            "sequencename",
            "tag",
            "tags",
            "categories",
            "category",
        ],
    ),
    (
        Field::Step,
        &[
            "step",
            "stepnumber",
            "sequencenumber",
            "sequencestep",
            "stepid",
            "laststepid",
        ],
    ),
    (
        Field::MessageId,
        &[
            "messageid",
            "msgid",
            "smtpid",
            "sgmessageid",
            "mailmessageid",
        ],
    ),
    (
        Field::Sender,
        &[
            "from",
            "sender",
            "fromemail",
            "fromaddress",
            "senderemail",
            "mailbox",
        ],
    ),
    (
        Field::MtaHost,
        &[
            "mtahost",
            "host",
            "outboundip",
            "sendingip",
            "ip",
            "server",
            "sendinghost",
        ],
    ),
    (Field::RelayHost, &["mx", "mxhost", "relay", "relayhost"]),
    (
        Field::Bounced,
        &["bounced", "isbounced", "bounce", "hasbounced"],
    ),
];

/// Detects a preset: `has(name)` tests a normalized name, `value(name)` gives the
/// first record's value.
pub type Detect = fn(&dyn Fn(&str) -> bool, &dyn Fn(&str) -> Option<String>) -> bool;

/// One exporter's layout.
pub struct Preset {
    /// The name `--preset` takes and events carry as `agent: export/NAME`.
    pub name: &'static str,
    /// Column or key names (compared normalized), in order of preference, for the
    /// fields this exporter names differently from the generic aliases.
    pub fields: &'static [(Field, &'static [&'static str])],
    /// Whether a header / first record is this exporter's: `has(name)` tests a
    /// normalized name, `value(name)` gives the first record's value.
    pub detect: Detect,
}

/// Every preset, in detection order; `generic` (last) takes anything with a
/// recipient column.
pub static PRESETS: &[Preset] = &[
    Preset {
        name: "sendgrid-activity",
        fields: &[
            (Field::Recipient, &["email"]),
            (Field::Event, &["event"]),
            (Field::BounceType, &["type"]),
            (Field::Diagnostic, &["reason"]),
            (Field::Time, &["processed"]),
            (Field::Campaign, &["marketingcampaignname", "categories"]),
            (Field::MessageId, &["messageid"]),
            (Field::Sender, &["from"]),
            (Field::MtaHost, &["outboundip"]),
            (Field::RelayHost, &["mx"]),
            (Field::ReplyCode, &[]),
            (Field::EnhancedCode, &[]),
            (Field::Step, &[]),
        ],
        detect: |has, _| {
            has("processed") && has("event") && (has("recvmessageid") || has("outboundiptype"))
        },
    },
    Preset {
        name: "sendgrid-webhook",
        fields: &[
            (Field::Recipient, &["email"]),
            (Field::Event, &["event"]),
            (Field::BounceType, &["type", "bounceclassification"]),
            (Field::EnhancedCode, &["status"]),
            (Field::Diagnostic, &["reason", "response"]),
            (Field::Time, &["timestamp"]),
            (Field::Campaign, &["marketingcampaignname", "category"]),
            (Field::MessageId, &["sgmessageid", "smtpid"]),
            (Field::MtaHost, &["ip"]),
            (Field::ReplyCode, &[]),
            (Field::Step, &[]),
        ],
        detect: |has, _| (has("sgeventid") || has("sgmessageid")) && has("event"),
    },
    Preset {
        name: "mailgun-events",
        fields: &[
            (Field::Recipient, &["recipient"]),
            (Field::Event, &["event"]),
            (Field::BounceType, &["severity", "reason"]),
            (Field::ReplyCode, &["deliverystatus.code"]),
            (Field::EnhancedCode, &["deliverystatus.enhancedcode"]),
            (
                Field::Diagnostic,
                &["deliverystatus.message", "deliverystatus.description"],
            ),
            (Field::Time, &["timestamp", "@timestamp"]),
            (Field::Campaign, &["campaigns", "tags"]),
            (Field::Step, &["uservariables.step"]),
            (Field::MessageId, &["message.headers.messageid"]),
            (Field::Sender, &["envelope.sender"]),
            (Field::MtaHost, &["envelope.sendingip"]),
            (Field::RelayHost, &["deliverystatus.mxhost"]),
        ],
        detect: |has, _| {
            has("recipientdomain") || has("deliverystatus.code") || has("deliverystatus.message")
        },
    },
    Preset {
        name: "mailgun-bounces",
        fields: &[
            (Field::Recipient, &["address"]),
            (Field::ReplyCode, &["code"]),
            (Field::Diagnostic, &["error"]),
            (Field::Time, &["createdat"]),
            (Field::Event, &[]),
        ],
        detect: |has, _| {
            has("address") && has("code") && has("error") && has("createdat") && !has("email")
        },
    },
    Preset {
        name: "postmark",
        fields: &[
            (Field::Recipient, &["email"]),
            (Field::Event, &["type"]),
            (Field::BounceType, &["typecode"]),
            (Field::Diagnostic, &["details"]),
            (Field::Time, &["bouncedat"]),
            (Field::Campaign, &["tag"]),
            (Field::MessageId, &["messageid"]),
            (Field::Sender, &["from"]),
            (Field::ReplyCode, &[]),
            (Field::EnhancedCode, &[]),
        ],
        detect: |has, _| has("typecode") && (has("bouncedat") || has("recordtype")),
    },
    Preset {
        name: "ses",
        fields: &[
            (Field::Recipient, &["recipient.emailaddress", "recipient"]),
            (Field::Event, &["notificationtype", "eventtype"]),
            (
                Field::BounceType,
                &["bounce.bouncesubtype", "bounce.bouncetype"],
            ),
            (Field::EnhancedCode, &["recipient.status"]),
            (Field::Diagnostic, &["recipient.diagnosticcode"]),
            (
                Field::Time,
                &[
                    "bounce.timestamp",
                    "delivery.timestamp",
                    "deliverydelay.timestamp",
                    "complaint.timestamp",
                    "mail.timestamp",
                ],
            ),
            (
                Field::Campaign,
                &["mail.tags.campaign", "mail.commonheaders.subject"],
            ),
            (Field::MessageId, &["mail.messageid"]),
            (Field::Sender, &["mail.source"]),
            (
                Field::MtaHost,
                &[
                    "mail.sourceip",
                    "bounce.reportingmta",
                    "delivery.reportingmta",
                ],
            ),
            (
                Field::RelayHost,
                &["delivery.remotemtaip", "bounce.remotemtaip"],
            ),
            (Field::ReplyCode, &[]),
            (Field::Step, &[]),
        ],
        detect: |has, _| (has("notificationtype") || has("eventtype")) && has("mail.messageid"),
    },
    Preset {
        name: "sparkpost",
        fields: &[
            (Field::Recipient, &["rcptto", "rawrcptto"]),
            (Field::Event, &["type"]),
            (Field::BounceType, &["bounceclass"]),
            (Field::ReplyCode, &["errorcode"]),
            (Field::Diagnostic, &["rawreason"]),
            (Field::Time, &["timestamp"]),
            (Field::Campaign, &["campaignid"]),
            (Field::MessageId, &["messageid"]),
            (Field::Sender, &["msgfrom", "friendlyfrom"]),
            (Field::MtaHost, &["sendingip"]),
            (Field::EnhancedCode, &[]),
            (Field::Step, &[]),
        ],
        detect: |has, _| {
            has("rcptto") && (has("bounceclass") || has("rawreason") || has("transmissionid"))
        },
    },
    Preset {
        name: "mailchimp-cleaned",
        fields: &[
            (Field::Recipient, &["emailaddress"]),
            (Field::Time, &["cleantime"]),
            (Field::Campaign, &["cleancampaigntitle", "cleancampaignid"]),
            (Field::Event, &[]),
            (Field::Diagnostic, &[]),
            (Field::MessageId, &[]),
            (Field::BounceType, &[]),
            (Field::ReplyCode, &[]),
            (Field::Step, &[]),
        ],
        detect: |has, _| has("cleantime") || has("cleancampaigntitle"),
    },
    Preset {
        name: "mandrill-rejects",
        fields: &[
            (Field::Recipient, &["email"]),
            (Field::Event, &["reason"]),
            (Field::Diagnostic, &["detail"]),
            (Field::Time, &["createdat"]),
            (Field::Campaign, &["subaccount"]),
        ],
        detect: |has, _| has("email") && has("reason") && has("detail") && has("expiresat"),
    },
    Preset {
        name: "hubspot-recipients",
        fields: &[
            (Field::Recipient, &["recipient"]),
            (Field::Event, &["notsentreason"]),
            (Field::BounceType, &["bouncereason"]),
            (Field::Bounced, &["bounce"]),
            (Field::Time, &["sentat(yourtimezone)", "sentat"]),
            (Field::Diagnostic, &[]),
            (Field::Campaign, &[]),
        ],
        detect: |has, _| {
            has("recipient")
                && has("bouncereason")
                && (has("sentat(yourtimezone)") || has("notsentreason"))
        },
    },
    Preset {
        name: "hubspot-events",
        fields: &[
            (Field::Recipient, &["recipient"]),
            (Field::Event, &["type"]),
            (Field::BounceType, &["category", "dropreason"]),
            (Field::ReplyCode, &["status"]),
            (Field::Diagnostic, &["response", "dropmessage"]),
            (Field::Time, &["created"]),
            (Field::Campaign, &["emailcampaignid"]),
            (Field::MessageId, &["smtpid"]),
            (Field::EnhancedCode, &[]),
            (Field::Step, &[]),
        ],
        detect: |has, _| has("emailcampaignid") && has("portalid") && has("type"),
    },
    Preset {
        name: "brevo",
        fields: &[
            (Field::Recipient, &["email"]),
            (Field::Event, &["event"]),
            (Field::Diagnostic, &["reason"]),
            (Field::Time, &["date", "tsevent", "ts", "tsepoch"]),
            (Field::Campaign, &["tag", "tags"]),
            (Field::MessageId, &["messageid"]),
            (Field::Sender, &["from"]),
            (Field::MtaHost, &["ip", "sendingip"]),
            (Field::ReplyCode, &[]),
            (Field::EnhancedCode, &[]),
            (Field::Step, &[]),
        ],
        detect: |has, value| {
            has("tsepoch")
                || has("tsevent")
                || (has("email") && has("messageid") && has("event") && has("date") && {
                    let e = value("event").unwrap_or_default();
                    matches!(
                        e.as_str(),
                        "requests"
                            | "delivered"
                            | "hardBounces"
                            | "softBounces"
                            | "deferred"
                            | "blocked"
                            | "invalid"
                            | "error"
                            | "spam"
                            | "opened"
                            | "clicks"
                            | "unsubscribed"
                            | "loadedByProxy"
                    )
                })
        },
    },
    Preset {
        name: "smartlead",
        fields: &[
            (Field::Recipient, &["toemail"]),
            (Field::Event, &["eventtype"]),
            (Field::Time, &["eventtimestamp", "createdat"]),
            (Field::Campaign, &["campaignname", "campaignid"]),
            (Field::Step, &["sequencenumber"]),
            (Field::MessageId, &["sentmessage.messageid"]),
            (Field::Sender, &["fromemail"]),
            (Field::Diagnostic, &[]),
            (Field::ReplyCode, &[]),
            (Field::EnhancedCode, &[]),
        ],
        detect: |has, _| {
            has("toemail")
                && (has("sequencenumber") || has("bouncemessage.text") || has("bouncemessage"))
        },
    },
    Preset {
        name: "instantly",
        fields: &[
            (Field::Recipient, &["email"]),
            (Field::Event, &["status"]),
            (Field::Time, &["timestampupdated", "timestampcreated"]),
            (Field::Campaign, &["campaign", "campaignname", "campaignid"]),
            (Field::Step, &["laststepid", "step"]),
        ],
        detect: |has, _| {
            has("email") && has("status") && (has("timestampcreated") || has("laststepid"))
        },
    },
    // Lemlist activities (`_id, type, leadId, campaignId, sequenceId, stepId,
    // createdAt`; the API and webhooks also carry `leadEmail`): one row per activity,
    // bounces as type `emailsBounced`, status-only.
    Preset {
        name: "lemlist",
        fields: &[
            (Field::Recipient, &["leademail", "email"]),
            (Field::Event, &["type"]),
            (Field::Time, &["createdat"]),
            (Field::Campaign, &["campaignname", "campaignid"]),
            (Field::Step, &["sequencestep", "stepid"]),
            (Field::BounceType, &[]),
            (Field::Diagnostic, &[]),
            (Field::ReplyCode, &[]),
            (Field::EnhancedCode, &[]),
        ],
        detect: |has, _| has("leadid") && has("type") && (has("campaignid") || has("stepid")),
    },
    // Apollo contact exports: per-contact booleans `Email Sent`, `Email Bounced` (its
    // `Email Status` column is the address verification, not a delivery status).
    Preset {
        name: "apollo",
        fields: &[
            (Field::Recipient, &["email", "emailaddress"]),
            (Field::Event, &["emailsent"]),
            (Field::Bounced, &["emailbounced"]),
            (Field::Time, &["lastcontacted", "lastemailedat"]),
            (Field::Campaign, &["sequence", "sequencename", "campaign"]),
            (Field::BounceType, &[]),
            (Field::Diagnostic, &[]),
            (Field::ReplyCode, &[]),
            (Field::EnhancedCode, &[]),
        ],
        detect: |has, _| has("emailbounced") && (has("emailsent") || has("emailstatus")),
    },
    Preset {
        name: "generic",
        fields: &[],
        detect: |_, _| true,
    },
];

pub fn by_name(name: &str) -> Option<&'static Preset> {
    PRESETS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name.trim()))
}

pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

/// What one row says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// Accepted by the receiver.
    Delivered,
    /// Handed to the ESP or sent (`processed`, `requests`): in the denominator.
    Sent,
    /// Opened, clicked, replied: proof of delivery, no attempt of its own.
    Engaged,
    Deferred,
    Bounced,
    /// Given up after retries.
    Expired,
    /// Not sent: the ESP's own suppression (an earlier bounce, an unsubscribe).
    Suppressed,
    /// A complaint, unsubscribe or auto-reply: no delivery failure.
    NotABounce,
    /// Understood, nothing to count (a row kind named by the preset).
    Ignored(&'static str),
}

fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// A yes/no flag cell (`TRUE`, `false`, `1`, `yes`, `x`, empty is no answer).
pub fn flag_value(cell: &str) -> Option<bool> {
    match compact(cell).as_str() {
        "true" | "t" | "yes" | "y" | "1" | "x" | "bounced" => Some(true),
        "false" | "f" | "no" | "n" | "0" | "notbounced" => Some(false),
        _ => None,
    }
}

/// The generic vocabulary of event and status labels.
pub fn generic_label(label: &str) -> Option<Label> {
    let l = compact(label);
    Some(match l.as_str() {
        "delivered" | "delivery" | "success" | "successful" | "ok" | "true" => Label::Delivered,
        "sent" | "send" | "processed" | "requests" | "request" | "accepted" | "queued"
        | "injection" | "emailsent" | "emailssent" | "contacted" | "completed" | "finished"
        | "active" | "paused" | "inprogress" | "notinterested" | "false" | "none" => Label::Sent,
        "opened" | "open" | "opens" | "uniqueopened" | "clicked" | "click" | "clicks"
        | "uniqueclicked" | "replied" | "reply" | "emailopened" | "emailopen" | "emailclicked"
        | "emaillinkclick" | "emailreplied" | "emailreply" | "emailsopened" | "emailsclicked"
        | "emailsreplied" | "loadedbyproxy" | "interested" | "initialopen" => Label::Engaged,
        "deferred" | "deferral" | "delayed" | "delay" | "deliverydelay" | "transient"
        | "tempfail" | "temporaryfailure" => Label::Deferred,
        "bounce" | "bounced" | "bounces" | "hardbounce" | "hardbounces" | "softbounce"
        | "softbounces" | "failed" | "failure" | "fail" | "hard" | "soft" | "emailbounce"
        | "emailbounced" | "emailsbounced" | "rejected" | "reject" | "blocked" | "block"
        | "undeliverable" | "outofband" | "cleaned" | "permanentfailure" | "invalid"
        | "invalidemail" | "invalidaddress" | "-1" | "yes" | "y" | "1" => Label::Bounced,
        "expired" => Label::Expired,
        "dropped" | "drop" | "suppressed" | "suppression" | "suppress" | "skipped" | "notsent"
        | "previouslybounced" => Label::Suppressed,
        "complaint" | "complained" | "spam" | "spamreport" | "spamcomplaint" | "unsubscribe"
        | "unsubscribed" | "unsub" | "optout" | "autoresponder" | "autoreply" | "outofoffice"
        | "subscribe" | "leadunsubscribed" | "groupunsubscribe" | "groupresubscribe"
        | "emailsunsubscribed" | "emailunsubscribed" => Label::NotABounce,
        _ if l.contains("bounce") => Label::Bounced,
        _ if l.contains("suppress") => Label::Suppressed,
        _ => return None,
    })
}

/// A preset's own reading of a row's labels; `None` leaves it to [`generic_label`].
/// `event` is the event/status value, `kind` the bounce-type value.
pub fn preset_label(
    preset: &str,
    event: Option<&str>,
    kind: Option<&str>,
    reply_code: Option<u16>,
) -> Option<Label> {
    let e = event.map(compact).unwrap_or_default();
    let k = kind.map(compact).unwrap_or_default();
    Some(match preset {
        "sendgrid-activity" | "sendgrid-webhook" => match e.as_str() {
            // A drop is SendGrid refusing to send ("Bounced Address", "Unsubscribed
            // Address", "Invalid"): never a new failure.
            "dropped" => Label::Suppressed,
            "bounce" | "blocked" => Label::Bounced,
            "groupunsubscribe" | "groupresubscribe" | "spamreport" | "unsubscribe" => {
                Label::NotABounce
            }
            _ => return None,
        },
        "mailgun-events" => match e.as_str() {
            "failed" if k.contains("suppress") || reply_code.is_some_and(|c| c >= 600) => {
                Label::Suppressed
            }
            "failed" if k.contains("temporary") => Label::Deferred,
            // Mailgun's "old": it gave up retrying.
            "failed" if k.contains("old") => Label::Expired,
            "failed" => Label::Bounced,
            "rejected" => Label::Suppressed,
            "complained" | "unsubscribed" => Label::NotABounce,
            _ => return None,
        },
        "mailgun-bounces" | "mailchimp-cleaned" => Label::Bounced,
        "postmark" => match e.as_str() {
            "hardbounce"
            | "softbounce"
            | "dnserror"
            | "bademailaddress"
            | "blocked"
            | "dmarcpolicy"
            | "unknown"
            | "smtpapierror"
            | "inbounderror"
            | "unconfirmed"
            | "templaterenderingfailed" => Label::Bounced,
            "transient" => Label::Deferred,
            "manuallydeactivated" => Label::Suppressed,
            "unsubscribe"
            | "subscribe"
            | "autoresponder"
            | "addresschange"
            | "challengeverification"
            | "spamcomplaint"
            | "spamnotification"
            | "virusnotification"
            | "openrelaytest" => Label::NotABounce,
            _ => return None,
        },
        "ses" => match e.as_str() {
            "bounce" if k.contains("suppressed") || k.contains("onaccountsuppressionlist") => {
                Label::Suppressed
            }
            "bounce" => Label::Bounced,
            "complaint" | "subscription" => Label::NotABounce,
            "delivery" => Label::Delivered,
            "send" => Label::Sent,
            "reject" => Label::Suppressed,
            "deliverydelay" => Label::Deferred,
            "open" | "click" => Label::Engaged,
            "renderingfailure" => Label::Ignored("rendering failure"),
            _ => return None,
        },
        "sparkpost" => match (e.as_str(), k.as_str()) {
            (_, "25" | "26") if !k.is_empty() => Label::Suppressed,
            ("bounce" | "outofband", "60" | "80" | "90" | "100") => Label::NotABounce,
            // Class 24: SparkPost gave up after temporary failures (`554 5.4.7
            // [internal] message timeout (last transfail: 421 ...)`), an expiry.
            ("bounce", "24") => Label::Expired,
            ("bounce" | "outofband", _) => Label::Bounced,
            ("delay", _) => Label::Deferred,
            ("policyrejection", _) => Label::Suppressed,
            ("spamcomplaint" | "listunsubscribe" | "linkunsubscribe", _) => Label::NotABounce,
            ("ampopen" | "ampinitialopen" | "ampclick", _) => Label::Engaged,
            ("generationfailure" | "generationrejection", _) => {
                Label::Ignored("generation failure")
            }
            _ => return None,
        },
        "mandrill-rejects" => match e.as_str() {
            "hard-bounce" | "soft-bounce" | "hardbounce" | "softbounce" => Label::Bounced,
            "spam" | "unsub" => Label::NotABounce,
            "custom" => Label::Suppressed,
            _ => return None,
        },
        "hubspot-events" => match e.as_str() {
            "dropped" => Label::Suppressed,
            "statuschange" | "spamreport" => Label::NotABounce,
            "forward" | "print" => Label::Engaged,
            _ => return None,
        },
        // The Not Sent Reason column: any value means HubSpot did not send.
        "hubspot-recipients" if !e.is_empty() => Label::Suppressed,
        "brevo" => match e.as_str() {
            // Brevo refusing to send: an earlier hard bounce, an invalid address, an
            // error of its own. Not a remote reply.
            "blocked" | "invalid" | "invalidemail" | "error" => Label::Suppressed,
            "hardbounces" | "softbounces" => Label::Bounced,
            _ => return None,
        },
        "smartlead" => match e.as_str() {
            "emailbounce" => Label::Bounced,
            "emailsent" => Label::Sent,
            "emailopen" | "emaillinkclick" | "emailreply" => Label::Engaged,
            "leadunsubscribed" | "leadcategoryupdated" => Label::NotABounce,
            _ => return None,
        },
        "lemlist" => match e.as_str() {
            "emailssent" => Label::Sent,
            "emailsopened"
            | "emailsclicked"
            | "emailsreplied"
            | "emailsinterested"
            | "emailsnotinterested" => Label::Engaged,
            "emailsbounced" => Label::Bounced,
            "emailsunsubscribed" => Label::NotABounce,
            "emailsfailed" => Label::Ignored("send failure"),
            _ if !e.is_empty() && !e.starts_with("emails") => Label::Ignored("non-email activity"),
            _ => return None,
        },
        // `Email Sent`: the flag column (`Email Bounced`) turns a sent row into a bounce.
        "apollo" => match flag_value(event.unwrap_or_default()) {
            Some(true) => Label::Sent,
            Some(false) => Label::Ignored("not contacted"),
            None => return None,
        },
        "instantly" => match e.as_str() {
            "-1" => Label::Bounced,
            "-2" => Label::NotABounce,
            "-3" => Label::Ignored("skipped lead"),
            "1" | "2" | "3" => Label::Sent,
            _ => return None,
        },
        _ => return None,
    })
}
