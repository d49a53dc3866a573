//! Reading inputs: line endings, gzip, standard input, directories, and the inputs
//! that cannot be read (missing, undetectable) with their exit code.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use crate::common::*;

/// The originals that have CRLF and CR copies (scripts/make-postfix-fixtures.py).
const COPIED: [&str; 3] = ["basic.log", "correlation.log", "malformed.log"];

#[test]
fn line_ending_copies_are_in_sync() {
    for name in COPIED {
        let original = std::fs::read(root().join(fixture(name))).unwrap();
        assert!(!original.contains(&b'\r'), "{name} must use LF only");
        for (folder, ending) in [("crlf", &b"\r\n"[..]), ("cr", &b"\r"[..])] {
            let copy = std::fs::read(root().join(fixture(&format!("{folder}/{name}"))))
                .unwrap_or_else(|e| {
                    panic!("{folder}/{name}: {e}; run scripts/make-postfix-fixtures.py")
                });
            let want: Vec<u8> = original
                .split_inclusive(|&b| b == b'\n')
                .flat_map(|line| match line.strip_suffix(b"\n") {
                    Some(body) => [body, ending].concat(),
                    None => line.to_vec(),
                })
                .collect();
            assert!(
                copy == want,
                "{folder}/{name} is stale; run scripts/make-postfix-fixtures.py"
            );
        }
    }
}

#[test]
fn crlf_and_cr_copies_give_identical_reports() {
    for name in COPIED {
        let lf = analyze(&[&fixture(name)], &["--show-unparsed"]);
        for folder in ["crlf", "cr"] {
            let copy = analyze(
                &[&fixture(&format!("{folder}/{name}"))],
                &["--show-unparsed"],
            );
            assert_eq!(
                without_inputs(copy.clone()),
                without_inputs(lf.clone()),
                "{folder}/{name}"
            );
            assert_eq!(
                input_counts(&copy, 0),
                input_counts(&lf, 0),
                "{folder}/{name}"
            );
            // Same unrecognized lines, same numbers, no stray CR in the text.
            let samples = |r: &Value| -> Vec<Value> {
                r["unrecognized_samples"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|s| json!([s["line"], s["reason"], s["text"]]))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            assert_eq!(samples(&copy), samples(&lf), "{folder}/{name}");
        }
    }
}

#[test]
fn crlf_and_cr_copies_give_identical_events() {
    for name in COPIED {
        let strip = |mut records: Vec<Value>| -> Vec<Value> {
            for r in &mut records {
                r["source"]["file"] = Value::Null;
            }
            records
        };
        let lf = strip(events(&fixture(name), true));
        for folder in ["crlf", "cr"] {
            let copy = strip(events(&fixture(&format!("{folder}/{name}")), true));
            assert_eq!(copy, lf, "{folder}/{name}");
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn gzip_copy_gives_identical_results() {
    let dir = scratch("gzip");
    let original = std::fs::read(root().join(fixture("basic.log"))).unwrap();
    let gz = dir.join("basic.log.gz");
    std::fs::write(&gz, gzip(&original)).unwrap();
    // gzip is recognised by its magic bytes, not by the name.
    let renamed = dir.join("maillog.1");
    std::fs::write(&renamed, gzip(&original)).unwrap();

    let plain = analyze(&[&fixture("basic.log")], &[]);
    for path in [&gz, &renamed] {
        let r = analyze(&[arg(path)], &[]);
        assert_eq!(
            without_inputs(r.clone()),
            without_inputs(plain.clone()),
            "{path:?}"
        );
        assert_eq!(input_counts(&r, 0), input_counts(&plain, 0), "{path:?}");
        assert_eq!(r["inputs"][0]["file"], arg(path));
    }
}

#[test]
fn stdin_is_read_for_dash() {
    let original = std::fs::read(root().join(fixture("basic.log"))).unwrap();
    let plain = analyze(&[&fixture("basic.log")], &[]);
    for bytes in [original.clone(), gzip(&original)] {
        let r = run_with_stdin(
            &["analyze", "--year", "2026", "--format", "json", "-"],
            Some(&bytes),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let r = r.json();
        assert_eq!(without_inputs(r.clone()), without_inputs(plain.clone()));
        assert_eq!(r["inputs"][0]["file"], "<stdin>");
        assert_eq!(input_counts(&r, 0), input_counts(&plain, 0));
    }
    let r = run_with_stdin(&["events", "--year", "2026", "-"], Some(&original));
    assert_eq!(r.code, 0);
    let events = r.ndjson();
    assert_eq!(events.len(), 14);
    assert_eq!(events[0]["source"]["file"], "<stdin>");
}

#[test]
fn directory_is_expanded() {
    let dir = scratch("directory");
    let sub = dir.join("rotated");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::copy(root().join(fixture("basic.log")), dir.join("maillog")).unwrap();
    std::fs::copy(root().join(fixture("programs.log")), sub.join("maillog.2")).unwrap();
    // Hidden files are skipped.
    std::fs::write(dir.join(".maillog.swp"), "not even a log\n").unwrap();

    let r = analyze(&[arg(&dir)], &[]);
    // Oldest content first: basic.log starts Nov 22, programs.log Nov 23.
    assert_eq!(
        strings(&r["inputs"], "file"),
        [dir.join("maillog"), sub.join("maillog.2")]
            .each_ref()
            .map(|p| arg(p))
    );
    let basic = analyze(&[&fixture("basic.log")], &[]);
    let programs = analyze(&[&fixture("programs.log")], &[]);
    for key in [
        "deliveries",
        "delivered",
        "bounced",
        "expired",
        "pending",
        "attempts",
        "events",
    ] {
        assert_eq!(
            r["totals"][key].as_u64().unwrap(),
            basic["totals"][key].as_u64().unwrap() + programs["totals"][key].as_u64().unwrap(),
            "{key}"
        );
    }
    assert_balanced(&r);
}

#[test]
fn symbolic_links_in_a_directory_are_followed() {
    // A directory's entries are typed from the listing; a link is followed to a
    // directory (walked) or a file (read).
    let base = scratch("symlinks");
    let (dir, elsewhere) = (base.join("logs"), base.join("elsewhere"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::copy(root().join(fixture("basic.log")), elsewhere.join("maillog")).unwrap();
    std::fs::copy(
        root().join(fixture("programs.log")),
        base.join("programs.log"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("a-linked-dir")).unwrap();
    std::os::unix::fs::symlink(base.join("programs.log"), dir.join("b-linked-file")).unwrap();

    let r = analyze(&[arg(&dir)], &[]);
    let expected = [
        dir.join("a-linked-dir").join("maillog"),
        dir.join("b-linked-file"),
    ];
    assert_eq!(
        strings(&r["inputs"], "file"),
        expected.each_ref().map(|p| arg(p))
    );
    assert_balanced(&r);
}

#[test]
fn a_dangling_link_in_a_directory_is_an_input_error_and_the_rest_is_read() {
    let dir = scratch("dangling-link");
    std::fs::copy(root().join(fixture("basic.log")), dir.join("maillog")).unwrap();
    std::os::unix::fs::symlink(dir.join("gone.log"), dir.join("rotated.log")).unwrap();
    let r = run(&["analyze", "--year", "2026", "--format", "json", arg(&dir)]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("rotated.log"), "{}", r.stderr);
    let report = r.json();
    assert_eq!(
        report["totals"],
        analyze(&[&fixture("basic.log")], &[])["totals"]
    );
}

#[test]
fn missing_file_is_reported_and_the_others_still_processed() {
    let missing = "tests/fixtures/postfix/does-not-exist.log";
    let r = run(&[
        "analyze",
        "--year",
        "2026",
        "--format",
        "json",
        missing,
        &fixture("basic.log"),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(missing),
        "stderr names the file: {}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    let report = r.json();
    assert_eq!(
        report["totals"],
        analyze(&[&fixture("basic.log")], &[])["totals"]
    );
    let failed: Vec<&Value> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| !i["error"].is_null())
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["file"], missing);

    // The same for events: the good file's events are still written.
    let r = run(&["events", "--year", "2026", missing, &fixture("basic.log")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(missing), "{}", r.stderr);
    assert_eq!(r.ndjson().len(), 14);

    // And for the table.
    let r = run(&["analyze", "--year", "2026", missing]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(missing), "{}", r.stderr);
}

#[test]
fn empty_file_has_zero_counts() {
    let r = analyze(&[&fixture("empty.log")], &[]);
    assert_has(
        &r["totals"],
        json!({"deliveries": 0, "delivered": 0, "delivered_after_deferral": 0, "bounced": 0,
               "expired": 0, "failed": 0, "pending": 0, "attempts": 0, "deferred_attempts": 0,
               "deferral_rate": 0.0, "events": 0}),
    );
    assert_has(
        &r["kpis"]["legacy_bounce_rate"],
        json!({"count": 0, "rate": 0.0}),
    );
    assert_has(&r["time_span"], json!({"first": null, "last": null}));
    assert_has(
        &input_counts(&r, 0),
        json!({"format": "postfix", "unit": "lines", "total": 0, "parsed": 0, "ignored": 0,
               "ignored_by_kind": {}, "unrecognized": 0, "events": 0, "error": null}),
    );
    let table = run_ok(&["analyze", &fixture("empty.log")]);
    assert!(
        table
            .stdout
            .starts_with("0 deliveries with a final outcome"),
        "{}",
        table.stdout
    );
}

#[test]
fn undetectable_format_is_an_error_naming_the_file() {
    for name in ["nginx.log", "dovecot-only.log"] {
        let file = fixture(name);
        let r = run(&["analyze", "--format", "json", &file]);
        assert_eq!(r.code, 2, "{name}");
        assert!(r.stderr.contains(&file), "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains("could not detect the input format"),
            "{name}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("--input-format"), "{name}: {}", r.stderr);
        let report = r.json();
        assert_eq!(report["totals"]["deliveries"], 0);
        assert!(
            report["inputs"][0]["error"].is_string(),
            "{}",
            report["inputs"]
        );
    }
    // Alongside a good file, the good one is still analysed.
    let r = run(&[
        "analyze",
        "--year",
        "2026",
        "--format",
        "json",
        &fixture("nginx.log"),
        &fixture("basic.log"),
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["totals"]["deliveries"], 10);
}

#[test]
fn forced_format_reads_what_detection_refuses() {
    // Syslog lines of other programs only: accounted for as ignored.
    let r = analyze(
        &[&fixture("dovecot-only.log")],
        &["--input-format", "postfix"],
    );
    assert_has(
        &input_counts(&r, 0),
        json!({"format": "postfix", "unit": "lines", "total": 2, "parsed": 0, "ignored": 2,
               "ignored_by_kind": {"other program": 2}, "unrecognized": 0, "events": 0,
               "error": null}),
    );
    // Not syslog at all: every line unrecognized, still exit 0.
    let r = analyze(&[&fixture("nginx.log")], &["--input-format", "postfix"]);
    assert_eq!(r["inputs"][0]["unrecognized"], 2);
    assert_eq!(r["inputs"][0]["total"], 2);
}

/// A named pipe (what `<(zcat maillog.gz)` hands over) is read once: the bytes read to
/// sniff its format are not lost, so it gives what the file gives. (Opening it a second
/// time would wait for a writer forever: the run is given 60 seconds.)
#[cfg(unix)]
#[test]
fn a_named_pipe_is_read_once_and_whole() {
    let dir = scratch("fifo");
    let fifo = dir.join("maillog.pipe");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available: skipped");
        return;
    }
    let file = "tests/fixtures/postfix/basic.log";
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let bytes = std::fs::read(file).expect("fixture");
            let mut pipe = std::fs::OpenOptions::new()
                .write(true)
                .open(&fifo)
                .expect("opening the pipe for writing");
            pipe.write_all(&bytes).expect("writing the pipe");
        })
    };
    let mut child = bouncex()
        .args(["analyze", "--year", "2026", "--format", "json", arg(&fifo)])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the bouncex binary runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().expect("waiting on bouncex").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("bouncex still waits on the pipe: it opened it a second time");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    writer.join().expect("the writer finished");
    let out = child.wait_with_output().expect("bouncex finished");
    let through_pipe: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let from_file = analyze(&[file], &[]);
    assert_eq!(through_pipe["totals"], from_file["totals"]);
    assert_eq!(
        through_pipe["inputs"][0]["total"],
        from_file["inputs"][0]["total"]
    );
}

/// Small emails go to the workers in batches while a file over 4 MiB between them is
/// streamed on its own: the inputs and their events still come out in the order given,
/// the same on one thread as on several.
#[test]
fn a_big_mbox_between_small_emails_keeps_the_input_order() {
    let dir = scratch("big-between-small");
    let mut big = std::fs::read("tests/fixtures/dsn/several.mbox").expect("fixture");
    // Past the pooling limit: a last entry of plain text lines, unrecognized as mail.
    big.extend_from_slice(b"\nFrom nobody Tue Mar 24 07:00:00 2026\n");
    while big.len() <= 4 << 20 {
        big.extend_from_slice(b"filler line that is not a mail header at all\n");
    }
    let mut files = Vec::new();
    for (name, bytes) in [
        (
            "a.eml",
            std::fs::read("tests/fixtures/dsn/exim.eml").expect("fixture"),
        ),
        ("b.mbox", big),
        (
            "c.eml",
            std::fs::read("tests/fixtures/dsn/qmail.eml").expect("fixture"),
        ),
        (
            "d.eml",
            std::fs::read("tests/fixtures/dsn/gmail.eml").expect("fixture"),
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("writing a scratch file");
        files.push(arg(&path).to_string());
    }
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let parallel = analyze(&files, &[]);
    let sequential = analyze(&files, &["--threads", "1"]);
    assert_eq!(parallel, sequential);
    let names: Vec<&str> = parallel["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|i| i["file"].as_str().expect("file name"))
        .collect();
    assert_eq!(names, files);
    assert_eq!(parallel["inputs"][1]["unrecognized"], 1);
    let mut events = vec!["events"];
    events.extend_from_slice(&files);
    let mut events_one = vec!["events", "--threads", "1"];
    events_one.extend_from_slice(&files);
    assert_eq!(run_ok(&events).stdout, run_ok(&events_one).stdout);
}

/// A folder read in one pass keeps every file's row: emails and a file of no known
/// format in name order (the emails decoded around the unreadable one), an empty file
/// (read as a Postfix log) after them; the emails' events are those of the emails
/// alone.
#[test]
fn a_folder_with_an_empty_and_an_unknown_file_keeps_every_row() {
    let dir = scratch("mixed-folder");
    let email = |name: &str| std::fs::read(format!("tests/fixtures/dsn/{name}")).expect("fixture");
    let files: [(&str, Vec<u8>); 4] = [
        ("a.eml", email("exim.eml")),
        ("b.empty", Vec::new()),
        (
            "c.txt",
            b"\xff\xfe not a log, an email or an export\n".to_vec(),
        ),
        ("d.eml", email("qmail.eml")),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).expect("writing a scratch file");
    }
    let r = run(&["analyze", "--year", "2026", "--format", "json", arg(&dir)]);
    assert_eq!(r.code, 2, "the unknown file is an input error");
    let report = r.json();
    let rows: Vec<(String, bool)> = report["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|i| {
            (
                i["file"].as_str().expect("file").to_string(),
                i["error"].is_string(),
            )
        })
        .collect();
    let path = |name: &str| arg(&dir.join(name)).to_string();
    assert_eq!(
        rows,
        [
            (path("a.eml"), false),
            (path("c.txt"), true),
            (path("d.eml"), false),
            (path("b.empty"), false),
        ]
    );
    let emails = analyze(&[&path("a.eml"), &path("d.eml")], &[]);
    assert_eq!(report["totals"], emails["totals"]);
}
