//! `bouncex check`: exit 0 when every threshold holds (or there is not enough data),
//! 1 when one is crossed, 2 on usage or input errors; percentages with or without `%`.

use serde_json::json;

use crate::common::*;

fn diag(name: &str) -> String {
    format!("tests/fixtures/diagnose/{name}")
}

#[test]
fn healthy_log_passes_the_defaults() {
    let r = run_ok(&["check", &diag("healthy.log")]);
    assert_eq!(
        r.stdout,
        "list_rot           0.25% <= max   2.00%  ok       (1 of 400 deliveries)\n\
         reputation         0.00% <= max   0.50%  ok       (0 of 400 deliveries)\n\
         infrastructure     0.00% <= max  30.00%  ok       (0 of 1 failures)\n\
         check passed: 3 thresholds hold on 400 deliveries\n"
    );
}

#[test]
fn crossed_threshold_exits_one_and_names_it() {
    let r = run(&["check", &diag("list-rot.log")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    assert!(
        r.stdout.contains(
            "list_rot           5.00%  > max   2.00%  CROSSED  (50 of 1000 deliveries)\n"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .ends_with("check failed: list_rot 5.00% > 2.00% (--max-list-rot)\n"),
        "{}",
        r.stdout
    );

    let r = run(&["check", "--format", "json", &diag("infra.log")]);
    assert_eq!(r.code, 1);
    let v = r.json();
    assert_eq!(v["status"], "fail");
    assert_eq!(v["deliveries"], 660);
    assert_eq!(
        v["checks"][2],
        json!({
            "name": "infrastructure",
            "flag": "--max-infra",
            "value": 0.7,
            "max": 0.3,
            "count": 14,
            "of": 20,
            "of_what": "failures",
            "passed": false,
        })
    );
    assert_eq!(v["checks"][0]["passed"], true);
    assert_eq!(v["input_errors"], json!([]));
}

#[test]
fn percentages_with_or_without_the_sign() {
    // List rot is exactly 5%: a maximum of 5 holds, 4.99% does not.
    for (max, code) in [("5", 0), ("5%", 0), ("4.99%", 1), ("4.99", 1), ("100", 0)] {
        let r = run(&["check", "--max-list-rot", max, &diag("list-rot.log")]);
        assert_eq!(r.code, code, "--max-list-rot {max}: {}", r.stdout);
    }
    // The legacy rate is checked only when asked: 0.25% on healthy.log.
    let r = run(&[
        "check",
        "--format",
        "json",
        "--max-bounce",
        "0.2",
        &diag("healthy.log"),
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.json()["checks"][3],
        json!({
            "name": "bounce",
            "flag": "--max-bounce",
            "value": 0.0025,
            "max": 0.002,
            "count": 1,
            "of": 400,
            "of_what": "deliveries",
            "passed": false,
        })
    );
    assert_eq!(
        run(&["check", "--max-bounce", "0.5%", &diag("healthy.log")]).code,
        0
    );
}

#[test]
fn too_few_deliveries_is_not_a_failure() {
    let r = run(&["check", "--min-deliveries", "5000", &diag("list-rot.log")]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.ends_with(
            "not enough data: 1000 deliveries, fewer than --min-deliveries 5000; thresholds not enforced\n"
        ),
        "{}",
        r.stdout
    );
    let r = run(&["check", "--format", "json", &fixture("empty.log")]);
    assert_eq!(r.code, 0);
    let v = r.json();
    assert_eq!(
        (&v["status"], &v["deliveries"], &v["min_deliveries"]),
        (&json!("not_enough_data"), &json!(0), &json!(1))
    );
}

#[test]
fn bad_thresholds_are_usage_errors_naming_the_flag() {
    let log = diag("healthy.log");
    for (flag, value) in [
        ("--max-list-rot", "abc"),
        ("--max-reputation", "2%%"),
        ("--max-infra", "150%"),
        ("--max-bounce", "-1"),
        ("--max-list-rot", ""),
        ("--min-deliveries", "many"),
    ] {
        let r = run(&["check", &format!("{flag}={value}"), &log]);
        assert_eq!(r.code, 2, "{flag}={value}");
        assert_eq!(r.stdout, "", "{flag}={value}");
        assert!(r.stderr.contains(flag), "{flag}={value}: {}", r.stderr);
    }
}

#[test]
fn unreadable_input_exits_two_even_when_thresholds_hold() {
    let r = run(&[
        "check",
        &diag("healthy.log"),
        "tests/fixtures/diagnose/no-such.log",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("tests/fixtures/diagnose/no-such.log"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("check passed"),
        "the figures are still shown: {}",
        r.stdout
    );
    let r = run(&["check"]);
    assert_eq!(r.code, 2);
}

#[test]
fn help_lists_the_new_commands() {
    let r = run_ok(&["--help"]);
    for command in ["suppress", "trace", "check"] {
        assert!(r.stdout.contains(command), "{command} in --help");
    }
    let r = run_ok(&["check", "--help"]);
    assert!(
        r.stdout.contains("Exit codes: 0 every threshold holds"),
        "{}",
        r.stdout
    );
}
