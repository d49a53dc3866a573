#!/usr/bin/env python3
"""End-to-end test: a real Postfix delivers a scripted batch to our own SMTP sinks on
loopback, then bouncex reads the real log and the real DSNs Postfix generated, and
every delivery must get its scripted outcome and bucket.

Needs root and Debian's postfix package (`.ci/run` installs it). Postfix's own config
is written to /etc/postfix/main.cf (an existing one is saved and put back), it listens
on loopback only and sends only to 127.0.0.1. Short retry and expiry timers make the
queue drain in about a minute.

usage: tests/e2e/postfix_e2e.py --bin target/release/bouncex [--keep DIR]
Exit 0 when everything matches, 1 on a mismatch, 77 when it cannot run here.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

SENDER = "bouncer@bounces.e2e.test"
WORK = "/var/tmp/bouncex-e2e"
LOG = f"{WORK}/maillog"
MAILDIR_BASE = f"{WORK}/mail"

# Scenario -> (domain, per-attempt RCPT replies (the last repeats), expected outcome,
# expected bucket of the failure or None).
SCENARIOS = {
    "ok": ("example.test", ["250 2.1.5 Ok"], "delivered", None),
    "unknown": ("example.test", ["550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table"], "bounced", "list_rot"),
    "moved": ("example.test", ["551 5.1.6 <{rcpt}>: Recipient address rejected: User has moved"], "bounced", "list_rot"),
    "grey": ("example.test", ["451 4.7.1 <{rcpt}>: Recipient address rejected: Greylisted, see http://postgrey.example/", "250 2.1.5 Ok"], "delivered", None),
    "full": ("example.test", ["452 4.2.2 <{rcpt}>: Recipient address rejected: Mailbox over quota, try again later"], "expired", "transient"),
    "ms651": ("example.test", ["451 4.7.651 The mail server [127.0.0.1] has been temporarily rate limited due to IP reputation."], "expired", "reputation"),
    "block": ("example.test", ["554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org"], "bounced", "reputation"),
    "dmarc": ("example.test", ["550 5.7.26 Unauthenticated email from bounces.e2e.test is not accepted due to domain's DMARC policy"], "bounced", "auth"),
    "banner": ("banner.test", None, "expired", "reputation"),
    "slow": ("slow.test", None, "expired", "infrastructure"),
    "refused": ("refused.test", None, "expired", "infrastructure"),
}
# Domain -> sink mode; ports are picked free at run time.
MODES = {"example.test": "script", "banner.test": "banner", "slow.test": "silent", "refused.test": None}

MAIN_CF = f"""
compatibility_level = 3.6
myhostname = mta.e2e.test
mydomain = e2e.test
myorigin = $myhostname
mydestination = $myhostname, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
transport_maps = texthash:/etc/postfix/bouncex-e2e-transport
virtual_mailbox_domains = bounces.e2e.test
virtual_mailbox_base = {MAILDIR_BASE}
virtual_mailbox_maps = texthash:/etc/postfix/bouncex-e2e-mailboxes
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
maillog_file = {LOG}
queue_run_delay = 3s
minimal_backoff_time = 3s
maximal_backoff_time = 6s
maximal_queue_lifetime = 40s
bounce_queue_lifetime = 40s
delay_warning_time = 0
smtp_connect_timeout = 3s
smtp_helo_timeout = 4s
smtp_tls_security_level = none
smtputf8_enable = no
default_destination_concurrency_limit = 4
"""


class Sink(threading.Thread):
    """A scripted SMTP server: replies to RCPT by the recipient's scenario and attempt."""

    def __init__(self, port, mode):
        super().__init__(daemon=True)
        self.mode = mode
        self.attempts = {}
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]

    def run(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        f = conn.makefile("rwb", buffering=0)
        try:
            if self.mode == "silent":
                time.sleep(30)  # never greet: Postfix times out
                return
            if self.mode == "banner":
                f.write(b"554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org\r\n")
                self.read_until_quit(f)
                return
            f.write(b"220 sink.example.test ESMTP\r\n")
            in_data = False
            for raw in iter(f.readline, b""):
                line = raw.decode("latin-1").rstrip("\r\n")
                if in_data:
                    if line == ".":
                        in_data = False
                        f.write(b"250 2.0.0 Ok: queued\r\n")
                    continue
                cmd = line[:4].upper()
                if cmd in ("EHLO", "HELO"):
                    f.write(b"250-sink.example.test\r\n250 8BITMIME\r\n")
                elif cmd == "MAIL":
                    f.write(b"250 2.1.0 Ok\r\n")
                elif cmd == "RCPT":
                    rcpt = line.split(":", 1)[1].strip().strip("<>").split(">")[0]
                    f.write((self.reply(rcpt) + "\r\n").encode())
                elif cmd == "DATA":
                    f.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    in_data = True
                elif cmd == "QUIT":
                    f.write(b"221 2.0.0 Bye\r\n")
                    return
                else:
                    f.write(b"250 2.0.0 Ok\r\n")
        except OSError:
            pass
        finally:
            conn.close()

    def read_until_quit(self, f):
        for raw in iter(f.readline, b""):
            if raw[:4].upper() == b"QUIT":
                f.write(b"221 Bye\r\n")
                return
            f.write(b"503 5.5.1 Bad sequence of commands\r\n")

    def reply(self, rcpt):
        scenario = rcpt.split("@")[0].split("-")[0]
        replies = SCENARIOS.get(scenario, (None, ["250 2.1.5 Ok"]))[1]
        with self.lock:
            n = self.attempts.get(rcpt, 0)
            self.attempts[rcpt] = n + 1
        return replies[min(n, len(replies) - 1)].format(rcpt=rcpt)


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--keep", help="copy the log and DSNs here")
    args = ap.parse_args()
    bin_path = os.path.abspath(args.bin)
    if os.geteuid() != 0 or not shutil.which("postfix"):
        print("postfix-e2e: SKIP (needs root and the postfix package)")
        sys.exit(77)

    # Configuration, saved and restored.
    saved = None
    if os.path.exists("/etc/postfix/main.cf"):
        saved = open("/etc/postfix/main.cf").read()
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(MAILDIR_BASE)
    os.chown(MAILDIR_BASE, 65534, 65534)
    open(LOG, "w").close()
    with open("/etc/postfix/main.cf", "w") as f:
        f.write(MAIN_CF)
    ports = {}
    for domain, mode in MODES.items():
        if mode is None:
            # A port that was free a moment ago and has no listener: refused.
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            ports[domain] = probe.getsockname()[1]
            probe.close()
        else:
            sink = Sink(0, mode)
            sink.start()
            ports[domain] = sink.port
    with open("/etc/postfix/bouncex-e2e-transport", "w") as f:
        for domain, port in ports.items():
            f.write(f"{domain} smtp:[127.0.0.1]:{port}\n")
    with open("/etc/postfix/bouncex-e2e-mailboxes", "w") as f:
        f.write(f"{SENDER} bouncer/\n")

    subprocess.run(["postfix", "stop"], capture_output=True)
    try:
        sh("postfix", "check")
        sh("postfix", "start")
        # The batch: every scenario twice, single-recipient and in one multi-recipient
        # message.
        truth = {}
        multi = []
        for scenario, (domain, _, outcome, bucket) in SCENARIOS.items():
            for n in (1, 2):
                rcpt = f"{scenario}-{n}@{domain}"
                truth[rcpt] = (outcome, bucket)
                if n == 1:
                    send([rcpt], scenario)
                else:
                    multi.append(rcpt)
        send(multi, "multi")
        deadline = time.time() + 150
        while time.time() < deadline:
            time.sleep(3)
            q = subprocess.run(["postqueue", "-p"], capture_output=True, text=True).stdout
            if "Mail queue is empty" in q:
                break
        else:
            print("postfix-e2e: FAIL (the queue did not drain in time)")
            sys.exit(1)
        time.sleep(2)
    finally:
        subprocess.run(["postfix", "stop"], capture_output=True)
        if saved is not None:
            with open("/etc/postfix/main.cf", "w") as f:
                f.write(saved)
        else:
            os.remove("/etc/postfix/main.cf")

    if args.keep:
        shutil.rmtree(args.keep, ignore_errors=True)
        shutil.copytree(WORK, args.keep)
    ok = check_log(bin_path, truth) & check_dsns(bin_path, truth)
    print("postfix-e2e:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


def send(recipients, tag):
    body = f"From: {SENDER}\nTo: {', '.join(recipients)}\nSubject: e2e {tag}\nMessage-ID: <{tag}.{time.time_ns()}@e2e.test>\n\nhello\n"
    subprocess.run(["sendmail", "-f", SENDER, *recipients], input=body, text=True, check=True)


def check_log(bin_path, truth):
    out = sh(bin_path, "events", "--deliveries", LOG).stdout
    got = {}
    for line in out.splitlines():
        d = json.loads(line)
        got[d["recipient"]] = (d["outcome"], d["bucket"] if d["outcome"] != "delivered" else None)
    ok = True
    for rcpt, want in sorted(truth.items()):
        if got.get(rcpt) != want:
            print(f"  log: {rcpt}: got {got.get(rcpt)} want {want}")
            ok = False
    extra = set(got) - set(truth)
    if extra:
        print(f"  log: deliveries nobody sent: {sorted(extra)}")
        ok = False
    report = json.loads(sh(bin_path, "analyze", "--format", "json", LOG).stdout)
    inputs = report["inputs"][0]
    if inputs["unrecognized"] or inputs["parsed"] + inputs["ignored"] != inputs["total"]:
        print(f"  log: lines not accounted for: {inputs}")
        ok = False
    failed = sum(1 for o, _ in truth.values() if o != "delivered")
    if report["totals"]["failed"] != failed or report["totals"]["deliveries"] != len(truth):
        print(f"  log: totals {report['totals']} want {len(truth)} deliveries, {failed} failed")
        ok = False
    print(f"log: {len(got)} deliveries read, {len(truth)} sent: {'ok' if ok else 'MISMATCH'}")
    return ok


def check_dsns(bin_path, truth):
    maildir = os.path.join(MAILDIR_BASE, "bouncer")
    if not os.path.isdir(maildir):
        print("  dsn: no DSN was delivered")
        return False
    out = sh(bin_path, "events", maildir).stdout
    failed = {}
    for line in out.splitlines():
        e = json.loads(line)
        if e["action"] in ("bounced", "expired"):
            failed[e["recipient"]] = e["bucket"]
    ok = True
    for rcpt, (outcome, bucket) in sorted(truth.items()):
        if outcome == "delivered":
            if rcpt in failed:
                print(f"  dsn: {rcpt} delivered but reported failed")
                ok = False
        elif failed.get(rcpt) != bucket:
            print(f"  dsn: {rcpt}: got {failed.get(rcpt)} want {bucket}")
            ok = False
    print(f"dsn: {len(failed)} failed recipients in the DSNs: {'ok' if ok else 'MISMATCH'}")
    return ok


if __name__ == "__main__":
    main()
