#!/usr/bin/env python3
"""Write examples/maillog: a small, deterministic Postfix log of an outbound campaign.

The shipped example that README's first command analyzes. Line shapes follow Postfix
3.x (`maillog_file` style timestamps, smtp/qmgr/cleanup/bounce agents); the hosts,
addresses and reply texts are invented for this repository. Deterministic: the same
seed writes the same bytes.

usage: scripts/make-example-log.py [--messages N] [--seed S] [-o examples/maillog]
"""
import argparse
import random

START = 1795305600  # 2026-11-22T00:00:00Z

DOMAINS = {
    "gmail.com": ("gmail-smtp-in.l.google.com", "142.250.27.26"),
    "googlemail.com": ("gmail-smtp-in.l.google.com", "142.250.27.26"),
    "outlook.com": ("outlook-com.olc.protection.outlook.com", "52.101.41.2"),
    "hotmail.com": ("hotmail-com.olc.protection.outlook.com", "52.101.41.3"),
    "contoso.example": ("contoso-example.mail.protection.outlook.com", "52.101.68.9"),
    "yahoo.com": ("mta7.am0.yahoodns.net", "67.195.204.72"),
    "aol.com": ("mx-aol.mail.gm0.yahoodns.net", "67.195.204.79"),
    "icloud.com": ("mx02.mail.icloud.com", "17.57.154.33"),
    "gmx.de": ("mx01.emig.gmx.net", "212.227.17.5"),
    "northwind.example": ("mx.northwind.example", "198.51.100.20"),
    "tailspin.example": ("mail.tailspin.example", "198.51.100.31"),
    "oldcorp.example": ("mx.oldcorp.example", "198.51.100.44"),
}

# (name, weight, domains, final, dsn, text). final: sent | bounced | expire | retry
# (deferred once, then sent). Texts use {rcpt}, {mx}, {ip}, {myip}.
SCENARIOS = [
    ("ok", 880, None, "sent", "2.0.0", "250 2.0.0 OK queued as {qid2}"),
    ("gmail_unknown", 18, ["gmail.com", "googlemail.com"], "bounced", "5.1.1",
     "host {mx}[{ip}] said: 550-5.1.1 The account you addressed is not known here; check the "
     "spelling 550 5.1.1 of the address. (in reply to RCPT TO command)"),
    ("corp_unknown", 12, ["northwind.example", "tailspin.example"], "bounced", "5.1.1",
     "host {mx}[{ip}] said: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in "
     "virtual mailbox table (in reply to RCPT TO command)"),
    ("oldcorp_gone", 10, ["oldcorp.example"], "bounced", "5.1.1",
     "host {mx}[{ip}] said: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in "
     "local recipient table (in reply to RCPT TO command)"),
    ("ms_unavailable", 8, ["outlook.com", "hotmail.com"], "bounced", "5.5.0",
     "host {mx}[{ip}] said: 550 5.5.0 Requested action not taken: mailbox unavailable "
     "(S2017062302). (in reply to RCPT TO command)"),
    ("yahoo_disabled", 4, ["yahoo.com", "aol.com"], "bounced", "5.0.0",
     "host {mx}[{ip}] said: 554 delivery error: dd Sorry your message to {rcpt} cannot be "
     "delivered. This mailbox is disabled (554.30). (in reply to RCPT TO command)"),
    ("full_perm", 3, ["icloud.com"], "bounced", "5.2.2",
     "host {mx}[{ip}] said: 552 5.2.2 <{rcpt}>: user is over quota (in reply to RCPT TO command)"),
    ("spamhaus", 6, ["northwind.example", "tailspin.example", "gmx.de"], "bounced", "5.7.1",
     "host {mx}[{ip}] said: 554 5.7.1 Service unavailable; Client host [{myip}] blocked using "
     "zen.spamhaus.org (in reply to RCPT TO command)"),
    ("ms_banned", 3, ["contoso.example"], "bounced", "5.7.606",
     "host {mx}[{ip}] said: 550 5.7.606 Access denied, banned sending IP [{myip}]. To request "
     "removal from this list please visit https://sender.office.com/ (in reply to RCPT TO command)"),
    ("gmail_dmarc", 4, ["gmail.com"], "bounced", "5.7.26",
     "host {mx}[{ip}] said: 550-5.7.26 Unauthenticated email from news.example.net is not "
     "accepted due to 550 5.7.26 domain's DMARC policy. (in reply to end of DATA command)"),
    ("spf_fail", 2, ["contoso.example"], "bounced", "5.7.23",
     "host {mx}[{ip}] said: 550 5.7.23 The message was rejected because of Sender Policy "
     "Framework violation (in reply to RCPT TO command)"),
    ("spam_content", 2, ["tailspin.example"], "bounced", "5.7.1",
     "host {mx}[{ip}] said: 554 5.7.1 Message rejected as spam by content filter "
     "(in reply to end of DATA command)"),
    ("too_large", 1, ["northwind.example"], "bounced", "5.3.4",
     "host {mx}[{ip}] said: 552 5.3.4 Message size exceeds fixed limit "
     "(in reply to end of DATA command)"),
    ("nxdomain", 3, ["gmial.example", "yaho.example"], "bounced", "5.4.4",
     "Host or domain name not found. Name service error for name={domain} type=A: Host not found"),
    ("ms_throttle", 5, ["outlook.com", "hotmail.com"], "expire", "4.7.651",
     "host {mx}[{ip}] said: 451 4.7.651 The mail server [{myip}] has been temporarily rate "
     "limited due to IP reputation. (in reply to RCPT TO command)"),
    ("refused", 4, ["legacy-host.example"], "expire", "4.4.1",
     "connect to mx.legacy-host.example[203.0.113.9]:25: Connection refused"),
    ("timeout", 3, ["legacy-host.example"], "expire", "4.4.2",
     "conversation with mx.legacy-host.example[203.0.113.9] timed out while receiving the "
     "initial server greeting"),
    ("quota_temp", 2, ["gmail.com"], "expire", "4.2.2",
     "host {mx}[{ip}] said: 452-4.2.2 The recipient's inbox is out of storage space. 452 4.2.2 "
     "Please direct the recipient to the help pages (in reply to RCPT TO command)"),
    ("greylist", 20, ["northwind.example", "tailspin.example"], "retry", "4.7.1",
     "host {mx}[{ip}] said: 451 4.7.1 <{rcpt}>: Recipient address rejected: Greylisted, see "
     "http://postgrey.example/help (in reply to RCPT TO command)"),
    ("gmail_rate", 10, ["gmail.com"], "retry", "4.7.28",
     "host {mx}[{ip}] said: 421-4.7.28 Unusual rate of unsolicited mail from your IP address; "
     "421 4.7.28 mail has been temporarily rate limited. (in reply to RCPT TO command)"),
]

FIRST = ["anna", "ben", "carla", "dev", "emma", "farid", "grace", "hugo", "ines", "jon",
         "kira", "liam", "mona", "noah", "olga", "paul", "rosa", "sam", "tara", "yuki"]
LAST = ["smith", "garcia", "mueller", "rossi", "kim", "nguyen", "dubois", "silva", "novak"]
MYIP = "192.0.2.25"
HEX = "0123456789ABCDEF"


def stamp(t):
    import time
    return time.strftime("%b %d %H:%M:%S", time.gmtime(t))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=400)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("-o", "--output", default="examples/maillog")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    weights = [s[1] for s in SCENARIOS]
    lines = []  # (time, seq, text)
    seq = 0

    def emit(t, host, prog, pid, text):
        nonlocal seq
        seq += 1
        lines.append((t, seq, f"{stamp(t)} {host} postfix/{prog}[{pid}]: {text}"))

    used = set()

    def qid():
        while True:
            q = "".join(rng.choice(HEX) for _ in range(10))
            if q not in used:
                used.add(q)
                return q

    for m in range(args.messages):
        host = f"mta-{1 + m % 2}"
        t = START + m * 9 + rng.randint(0, 5)
        q = qid()
        sender = f"bounce+spring-sale.m{m:05d}@news.example.net"
        emit(t, host, "smtpd", 4100 + m % 7, f"{q}: client=app1.internal[10.0.0.5]")
        emit(t, host, "cleanup", 4200, f"{q}: message-id=<sale.{m:05d}@news.example.net>")
        nrcpt = rng.choice([1, 1, 1, 2, 3, 5])
        emit(t, host, "qmgr", 4000, f"{q}: from=<{sender}>, size={rng.randint(8000, 40000)}, nrcpt={nrcpt} (queue active)")
        expired = []
        failed_any = False
        last = t
        for r in range(nrcpt):
            sc = rng.choices(SCENARIOS, weights)[0]
            name, _, domains, final, dsn, text = sc
            domain = rng.choice(domains) if domains else rng.choice(list(DOMAINS))
            rcpt = f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.randint(1, 99)}@{domain}"
            mx, ip = DOMAINS.get(domain, (f"mx.{domain}", "203.0.113.9"))
            fill = dict(rcpt=rcpt, mx=mx, ip=ip, myip=MYIP, domain=domain, qid2=qid())
            # Postfix names no relay when it never reached a server.
            reached = not (text.startswith("connect to") or text.startswith("Host or domain")
                           or text.startswith("conversation"))
            relay = f"{mx}[{ip}]:25" if reached else "none"
            at = t + 1 + r

            def record(when, code, status, body):
                emit(when, host, "smtp", 5000 + r, f"{q}: to=<{rcpt}>, relay={relay}, delay={when - t}, "
                     f"delays=0.1/0/0.3/0.2, dsn={code}, status={status} ({body.format(**fill)})")

            if final == "sent":
                record(at, "2.0.0", "sent", text)
            elif final == "bounced":
                record(at, dsn, "bounced", text)
                failed_any = True
            elif final == "retry":
                record(at, dsn, "deferred", text)
                at += 600 + rng.randint(0, 300)
                record(at, "2.0.0", "sent", "250 2.0.0 OK queued as {qid2}")
            else:
                for k, gap in enumerate([0, 300, 900, 2100, 4500]):
                    record(at + gap, dsn, "deferred", text)
                expired.append(rcpt)
                failed_any = True
            last = max(last, at)
        if expired:
            end = t + 5 * 86400
            emit(end, host, "qmgr", 4000, f"{q}: from=<{sender}>, status=expired, returned to sender")
            last = end
        if failed_any:
            n = qid()
            emit(last, host, "cleanup", 4200, f"{n}: message-id=<{last}.{n}@{host}.news.example.net>")
            emit(last, host, "bounce", 4300, f"{q}: sender non-delivery notification: {n}")
            emit(last, host, "qmgr", 4000, f"{n}: from=<>, size=3200, nrcpt=1 (queue active)")
            emit(last + 1, host, "smtp", 5100, f"{n}: to=<{sender}>, relay=mx.news.example.net[198.51.100.2]:25, "
                 "delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok)")
            emit(last + 1, host, "qmgr", 4000, f"{n}: removed")
        emit(last + 1, host, "qmgr", 4000, f"{q}: removed")
    lines.sort()
    with open(args.output, "w") as f:
        for _, _, text in lines:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
