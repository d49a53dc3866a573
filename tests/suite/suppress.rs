//! `bouncex suppress` on `tests/fixtures/diagnose/suppress.log` (written by
//! `scripts/make-diagnose-fixtures.py`): list rot and repeated soft failures are listed,
//! sender-side failures (reputation, auth, content), greylisting and an address that
//! recovered never are; CSV cells that a spreadsheet would run are quoted.

use serde_json::json;

use crate::common::*;

const LOG: &str = "tests/fixtures/diagnose/suppress.log";

const CSV: &str = "\
address,kind,reason,bucket,reply_code,enhanced_code,last_seen,count
'+plus@corp-c.example,list_rot,user_unknown,list_rot,550,5.1.1,2026-03-04T09:00:00Z,1
'-dash@corp-c.example,list_rot,user_unknown,list_rot,550,5.1.1,2026-03-04T09:00:00Z,1
'=cmd@corp-c.example,list_rot,user_unknown,list_rot,550,5.1.1,2026-03-04T09:00:00Z,1
dead1@corp-a.example,list_rot,user_unknown,list_rot,550,5.1.1,2026-03-02T09:00:00Z,1
dead2@corp-b.example,list_rot,mailbox_disabled,list_rot,550,5.2.1,2026-03-03T09:00:00Z,1
full@corp-d.example,soft,mailbox_full,transient,452,4.2.2,2026-03-11T09:00:00Z,3
";

#[test]
fn csv_lists_exactly_list_rot_and_repeated_soft() {
    let r = run_ok(&["suppress", LOG]);
    assert_eq!(r.stdout, CSV);
    for never in [
        "blocked@gmail.com",
        "throttled@outlook.com",
        "dmarc@gmail.com",
        "spam@yahoo.com",
        "grey@corp-g.example",
        "recovered@corp-h.example",
        "slow@corp-e.example",
        "twice@corp-f.example",
    ] {
        assert!(!r.stdout.contains(never), "{never} listed");
    }
}

#[test]
fn window_and_threshold_are_configurable() {
    let list = |extra: &[&str]| {
        let mut args = vec!["suppress", "--format", "list"];
        args.extend_from_slice(extra);
        args.push(LOG);
        run_ok(&args).stdout
    };
    let base = "+plus@corp-c.example\n-dash@corp-c.example\n=cmd@corp-c.example\n\
                dead1@corp-a.example\ndead2@corp-b.example\nfull@corp-d.example\n";
    assert_eq!(list(&[]), base);
    // Three refused connections on days 0, 10 and 20 fit a 30-day window.
    assert_eq!(
        list(&["--soft-window-days", "30"]),
        format!("{base}slow@corp-e.example\n")
    );
    // Two mailbox-full expiries reach a threshold of two; so do slow's days 0 and 10.
    assert_eq!(
        list(&["--soft-threshold", "2"]),
        format!("{base}slow@corp-e.example\ntwice@corp-f.example\n")
    );
}

#[test]
fn json_rows_field_by_field() {
    let v = run_ok(&["suppress", "--format", "json", LOG]).json();
    assert_eq!(v["soft_threshold"], 3);
    assert_eq!(v["soft_window_days"], 14);
    let rows = v["addresses"].as_array().expect("addresses");
    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows[5],
        json!({
            "address": "full@corp-d.example",
            "kind": "soft",
            "reason": "mailbox_full",
            "bucket": "transient",
            "reply_code": 452,
            "enhanced_code": "4.2.2",
            "last_seen": "2026-03-11T09:00:00Z",
            "count": 3,
        })
    );
    // Addresses are listed in lowercase, JSON unescaped.
    assert_eq!(rows[2]["address"], "=cmd@corp-c.example");
    assert_eq!(rows[4]["address"], "dead2@corp-b.example");
}

#[test]
fn output_file_gets_the_list() {
    let dir = scratch("suppress-output");
    let out = dir.join("suppress.csv");
    let r = run_ok(&["suppress", "-o", arg(&out), LOG]);
    assert_eq!(r.stdout, "");
    assert_eq!(std::fs::read_to_string(&out).expect("the output file"), CSV);
}

#[test]
fn usage_and_input_errors_exit_two() {
    for args in [
        &["suppress", "--soft-threshold", "0", LOG][..],
        &["suppress", "--soft-window-days", "x", LOG],
        &["suppress", "--format", "xml", LOG],
        &["suppress"],
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}");
        assert_eq!(r.stdout, "", "{args:?}");
    }
    // A missing input is reported; the others are still listed.
    let r = run(&["suppress", "tests/fixtures/diagnose/no-such.log", LOG]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, CSV);
    assert!(
        r.stderr.contains("tests/fixtures/diagnose/no-such.log"),
        "{}",
        r.stderr
    );
    // An output file that cannot be created.
    let r = run(&[
        "suppress",
        "-o",
        "tests/fixtures/diagnose/no-such-dir/x.csv",
        LOG,
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no-such-dir/x.csv"), "{}", r.stderr);
}
