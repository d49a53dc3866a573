#!/usr/bin/env python3
"""Writes the Postfix logs behind the diagnosis, suppress, trace and check tests.

    python3 scripts/make-diagnose-fixtures.py

writes tests/fixtures/diagnose/*.log. Every log is invented and fully deterministic
(no randomness): the tests in tests/suite/{diagnose,suppress,trace,check}.rs state
the figures each one is built to produce, so rerun this script only together with
those tests. RFC 3339 timestamps, so no --year is needed. Python 3 standard library
only.

| file              | built to trigger                                                   |
| ----------------- | ------------------------------------------------------------------ |
| healthy.log       | nothing but the bounce-rate band (excellent): the negative case     |
| list-rot.log      | list_rot_concentrated, list_aging, bounces_uneven, band serious     |
| infra.log         | infrastructure_rot, microsoft_4_7_651, connection_failures,         |
|                   | provider_throttling (Yahoo), bounces_uniform, band attention        |
| blocklist.log     | blocklisting (Gmail + Microsoft, Spamhaus + Barracuda),             |
|                   | broken_authentication, content_campaign (spring-sale),              |
|                   | abandoned_mailboxes                                                 |
| suppress.log      | the suppression list: list rot, repeated soft failures, and the     |
|                   | sender-side failures that must never be listed                     |
"""

import datetime
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "diagnose"

START = datetime.datetime(2026, 3, 2, 8, 0, 0, tzinfo=datetime.timezone.utc)

RELAYS = {
    "gmail.com": ("gmail-smtp-in.l.google.com", "192.0.2.11"),
    "yahoo.com": ("mta5.am0.yahoodns.net", "192.0.2.31"),
    "outlook.com": ("outlook-com.olc.protection.outlook.com", "192.0.2.21"),
}

# Replies: (dsn, status, text). `{r}` is the recipient, `{h}` the relay.
SENT = ("2.0.0", "sent", "250 2.0.0 OK queued")
USER_UNKNOWN = (
    "5.1.1",
    "bounced",
    "host {h} said: 550 5.1.1 <{r}>: Recipient address rejected: User unknown "
    "(in reply to RCPT TO command)",
)
DISABLED = (
    "5.2.1",
    "bounced",
    "host {h} said: 550 5.2.1 The email account that you tried to reach is disabled "
    "(in reply to RCPT TO command)",
)
MS_651 = (
    "4.7.651",
    "deferred",
    "host {h} said: 451 4.7.651 The mail server [198.51.100.7] has been temporarily rate "
    "limited due to IP reputation. (in reply to MAIL FROM command)",
)
YAHOO_TSS = (
    "4.7.0",
    "deferred",
    "host {h} said: 421 4.7.0 [TSS04] Messages from 198.51.100.7 temporarily deferred due "
    "to unexpected volume or user complaints (in reply to MAIL FROM command)",
)
REFUSED = ("4.4.1", "deferred", "connect to {h}:25: Connection refused")
SPAMHAUS = (
    "5.7.1",
    "bounced",
    "host {h} said: 554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked "
    "using zen.spamhaus.org (in reply to RCPT TO command)",
)
BARRACUDA = (
    "5.7.1",
    "bounced",
    "host {h} said: 554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked "
    "using b.barracudacentral.org (in reply to RCPT TO command)",
)
DMARC = (
    "5.7.26",
    "bounced",
    "host {h} said: 550 5.7.26 Unauthenticated email from shop.example is not accepted "
    "due to domain's DMARC policy (in reply to end of DATA command)",
)
SPF = (
    "5.7.23",
    "bounced",
    "host {h} said: 550 5.7.23 SPF validation failed for shop.example "
    "(in reply to end of DATA command)",
)
SPAM = (
    "5.7.1",
    "bounced",
    "host {h} said: 554 5.7.1 Message rejected because of spam content "
    "(in reply to end of DATA command)",
)
FULL = (
    "4.2.2",
    "deferred",
    "host {h} said: 452 4.2.2 <{r}>: Mailbox full (in reply to RCPT TO command)",
)
GREYLISTED = (
    "4.7.1",
    "deferred",
    "host {h} said: 451 4.7.1 <{r}>: Recipient address rejected: Greylisted "
    "(in reply to RCPT TO command)",
)
EXPIRE = "expire"


class Log:
    def __init__(self):
        self.lines = []
        self.queue = 0x0A1B2C0000
        self.pid = 3000

    def stamp(self, t):
        return t.strftime("%Y-%m-%dT%H:%M:%S+00:00")

    def add(self, t, program, text):
        self.pid += 1
        self.lines.append((t, len(self.lines), f"{self.stamp(t)} mta1 postfix/{program}[{self.pid}]: {text}"))

    def message(self, t, sender, recipient, steps):
        """One message to one recipient. `steps` is a list of (minutes after `t`, reply)
        where reply is one of the tuples above or EXPIRE; the message is removed after
        its last step."""
        self.queue += 1
        qid = f"{self.queue:010X}"
        msgid = f"{t.strftime('%Y%m%d%H%M%S')}.{qid}@shop.example"
        self.add(t, "cleanup", f"{qid}: message-id=<{msgid}>")
        self.add(t, "qmgr", f"{qid}: from=<{sender}>, size=4100, nrcpt=1 (queue active)")
        domain = recipient.rsplit("@", 1)[1].lower()
        host, ip = RELAYS.get(domain, (f"mx.{domain}", "192.0.2.90"))
        last = t
        for minutes, reply in steps:
            at = t + datetime.timedelta(minutes=minutes)
            last = at
            if reply == EXPIRE:
                self.add(at, "qmgr", f"{qid}: from=<{sender}>, status=expired, returned to sender")
                continue
            dsn, status, text = reply
            relay = "none" if text.startswith("connect to") else f"{host}[{ip}]:25"
            text = text.format(r=recipient, h=f"{host}[{ip}]")
            self.add(
                at,
                "smtp",
                f"{qid}: to=<{recipient}>, relay={relay}, delay=1.0, delays=0.1/0/0.4/0.5, "
                f"dsn={dsn}, status={status} ({text})",
            )
        self.add(last, "qmgr", f"{qid}: removed")

    def write(self, name):
        self.lines.sort(key=lambda x: (x[0], x[1]))
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / name).write_text("".join(line + "\n" for _, _, line in self.lines))


def minutes(n):
    return START + datetime.timedelta(minutes=n)


def spread(log, sender, domains_counts, failures, span_minutes, first_minute=0):
    """Sends to `count` addresses at each domain, one message each, evenly over the
    span; `failures` maps an address index at a domain to its steps."""
    plan = []
    for domain, count in domains_counts:
        for i in range(count):
            plan.append((domain, i))
    # Interleave domains deterministically: sort by position within the domain.
    plan.sort(key=lambda p: (p[1] / dict(domains_counts)[p[0]], p[0]))
    for n, (domain, i) in enumerate(plan):
        t = minutes(first_minute + n * span_minutes // len(plan))
        steps = failures.get((domain, i), [(0, SENT)])
        log.message(t, sender, f"user{i:03d}@{domain}", steps)


def healthy():
    log = Log()
    domains = [
        ("gmail.com", 160),
        ("yahoo.com", 100),
        ("outlook.com", 80),
        ("acme.example", 30),
        ("globex.example", 30),
    ]
    failures = {("gmail.com", 37): [(0, USER_UNKNOWN)]}
    spread(log, "news@shop.example", domains, failures, 240)
    log.write("healthy.log")


def list_rot():
    log = Log()
    domains = [
        ("gmail.com", 400),
        ("yahoo.com", 250),
        ("outlook.com", 200),
        ("oldco.example", 50),
        ("merged.example", 50),
        ("gone.example", 50),
    ]
    # 600 minutes; the first half ends at minute 300. Failures by (domain, index):
    # an address's time is about index / count * 600 minutes.
    failures = {}

    def fail(domain, count, indexes, reply):
        for i in indexes:
            assert (domain, i) not in failures
            failures[(domain, i)] = [(0, reply)]

    # First half: 5 user unknown, 20 disabled. Second half: 20 user unknown, 5 disabled.
    # 36 of the 50 at the three company domains.
    fail("oldco.example", 50, [1, 5, 9, 13], DISABLED)
    fail("merged.example", 50, [2, 6, 10, 14], DISABLED)
    fail("gone.example", 50, [3, 7, 11, 15], DISABLED)
    fail("oldco.example", 50, [17, 19], USER_UNKNOWN)
    fail("merged.example", 50, [18], USER_UNKNOWN)
    fail("gmail.com", 400, [20, 60, 100, 140], DISABLED)
    fail("yahoo.com", 250, [30, 70], DISABLED)
    fail("outlook.com", 200, [40, 80], DISABLED)
    fail("gmail.com", 400, [90, 150], USER_UNKNOWN)
    # Second half (index > count / 2).
    fail("oldco.example", 50, [27, 30, 33, 36, 39, 42], USER_UNKNOWN)
    fail("merged.example", 50, [28, 31, 34, 37, 40, 43], USER_UNKNOWN)
    fail("gone.example", 50, [29, 32, 35, 38], USER_UNKNOWN)
    fail("oldco.example", 50, [45], DISABLED)
    fail("merged.example", 50, [46], DISABLED)
    fail("gone.example", 50, [41, 44, 47], DISABLED)
    fail("gmail.com", 400, [250, 300, 350], USER_UNKNOWN)
    fail("yahoo.com", 250, [200], USER_UNKNOWN)
    spread(log, "news@shop.example", domains, failures, 600)
    log.write("list-rot.log")


def infra():
    log = Log()
    domains = [
        ("gmail.com", 200),
        ("yahoo.com", 200),
        ("outlook.com", 200),
        ("acme.example", 15),
        ("globex.example", 15),
        ("initech.example", 15),
        ("oldcorp.example", 15),
    ]
    failures = {}
    expired = [(0, None), (30, None), (90, None), (300, EXPIRE)]
    for i in (10, 40, 70, 100, 130, 160):
        failures[("outlook.com", i)] = [(m, r or MS_651) for m, r in expired]
        failures[("yahoo.com", i + 5)] = [(m, r or YAHOO_TSS) for m, r in expired]
        failures[("gmail.com", i + 7)] = [(0, USER_UNKNOWN)]
    # Throttled once, then delivered.
    for i in range(20, 200, 9):
        failures[("yahoo.com", i)] = [(0, YAHOO_TSS), (20, SENT)]
    # A company mail server refusing connections.
    for i in (3, 9):
        failures[("oldcorp.example", i)] = [(0, REFUSED), (30, REFUSED), (300, EXPIRE)]
    spread(log, "news@shop.example", domains, failures, 240)
    log.write("infra.log")


def blocklist():
    log = Log()
    domains = [
        ("gmail.com", 120),
        ("yahoo.com", 80),
        ("outlook.com", 60),
        ("acme.example", 20),
        ("globex.example", 20),
    ]
    for campaign, first, failures in [
        (
            "spring-sale",
            0,
            {
                # Blocked at Gmail (Spamhaus) and Microsoft (Barracuda) within the hour.
                ("gmail.com", 5): [(0, SPAMHAUS)],
                ("gmail.com", 9): [(0, SPAMHAUS)],
                ("gmail.com", 13): [(0, SPAMHAUS)],
                ("outlook.com", 6): [(0, BARRACUDA)],
                ("outlook.com", 8): [(0, BARRACUDA)],
                # Content rejections: 8 in this campaign.
                ("gmail.com", 40): [(0, SPAM)],
                ("gmail.com", 60): [(0, SPAM)],
                ("gmail.com", 80): [(0, SPAM)],
                ("yahoo.com", 30): [(0, SPAM)],
                ("yahoo.com", 50): [(0, SPAM)],
                ("yahoo.com", 70): [(0, SPAM)],
                ("outlook.com", 40): [(0, SPAM)],
                ("outlook.com", 50): [(0, SPAM)],
                # Authentication.
                ("gmail.com", 100): [(0, DMARC)],
                ("globex.example", 10): [(0, SPF)],
                # Full mailboxes, here and in the next campaign: abandoned.
                ("acme.example", 4): [(0, FULL), (60, FULL), (240, SENT)],
                ("acme.example", 8): [(0, FULL), (60, SENT)],
            },
        ),
        (
            "weekly",
            300,
            {
                ("gmail.com", 110): [(0, DMARC)],
                ("yahoo.com", 75): [(0, SPAM)],
                ("acme.example", 4): [(0, FULL), (60, SENT)],
                ("acme.example", 8): [(0, FULL), (60, FULL), (120, SENT)],
            },
        ),
    ]:
        sender = f"bounce+{campaign}.m{1000 + first}@mail.shop.example"
        spread(log, sender, domains, failures, 120, first_minute=first)
    log.write("blocklist.log")


def suppress():
    log = Log()
    news = "news@shop.example"

    def day(d, hour=9):
        return START + datetime.timedelta(days=d, hours=hour - 8)

    # Delivered mail around it.
    for i in range(10):
        log.message(day(0, 10), news, f"reader{i}@gmail.com", [(i, SENT)])
    # List rot: listed.
    log.message(day(0), news, "dead1@corp-a.example", [(0, USER_UNKNOWN)])
    log.message(day(1), news, "Dead2@Corp-B.example", [(0, DISABLED)])
    log.message(day(2), news, "=cmd@corp-c.example", [(0, USER_UNKNOWN)])
    log.message(day(2), news, "-dash@corp-c.example", [(0, USER_UNKNOWN)])
    log.message(day(2), news, "+plus@corp-c.example", [(0, USER_UNKNOWN)])
    # Three soft failures within 8 days: listed.
    for d in (0, 4, 8):
        log.message(day(d), news, "full@corp-d.example", [(0, FULL), (60, FULL), (1440, EXPIRE)])
    # Three soft failures over 20 days: not listed (unless the window is 30 days).
    for d in (0, 10, 20):
        log.message(day(d), news, "slow@corp-e.example", [(0, REFUSED), (30, REFUSED), (600, EXPIRE)])
    # Two soft failures: not listed (unless the threshold is 2).
    for d in (0, 3):
        log.message(day(d), news, "twice@corp-f.example", [(0, FULL), (720, EXPIRE)])
    # Greylisted, then delivered, three times: never listed.
    for d in (0, 1, 2):
        log.message(day(d), news, "grey@corp-g.example", [(0, GREYLISTED), (5, SENT)])
    # Unknown once, then delivered: the address works again.
    log.message(day(0), news, "recovered@corp-h.example", [(0, USER_UNKNOWN)])
    log.message(day(5), news, "recovered@corp-h.example", [(0, SENT)])
    # Sender-side failures, three times each: never listed.
    for d in (0, 1, 2):
        log.message(day(d), news, "blocked@gmail.com", [(0, SPAMHAUS)])
        log.message(day(d), news, "throttled@outlook.com", [(0, MS_651), (60, MS_651), (600, EXPIRE)])
        log.message(day(d), news, "dmarc@gmail.com", [(0, DMARC)])
        log.message(day(d), news, "spam@yahoo.com", [(0, SPAM)])
    log.write("suppress.log")


def main():
    healthy()
    list_rot()
    infra()
    blocklist()
    suppress()


if __name__ == "__main__":
    main()
