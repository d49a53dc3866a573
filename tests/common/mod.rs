//! Running the built binary with a pinned environment, and reading its output.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

/// The package root; every command runs there so fixture paths (and the `file` names
/// reports show) are the short relative ones.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Path of a Postfix fixture, relative to the package root, as reports name it.
pub fn fixture(name: &str) -> String {
    format!("tests/fixtures/postfix/{name}")
}

/// The binary with a clean, pinned environment.
pub fn bouncex() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bouncex"));
    cmd.current_dir(root())
        .env_clear()
        .env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    cmd
}

/// What one run printed and how it ended.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Standard output as one JSON document (asserts it is one).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Standard output as NDJSON, one value per line.
    pub fn ndjson(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }
}

/// Runs with these arguments and, when given, these bytes on standard input.
pub fn run_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = bouncex();
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().expect("the bouncex binary runs");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(bytes).expect("writing stdin");
    }
    let out = child.wait_with_output().expect("bouncex finishes");
    Run {
        code: out
            .status
            .code()
            .expect("bouncex exits, not killed by a signal"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

pub fn run(args: &[&str]) -> Run {
    run_with_stdin(args, None)
}

/// Runs of the binary on fixtures, by arguments: the fixtures never change during a
/// test run, and each start of a debug build costs a second or two (the rule table
/// is compiled), so tests asking for the same run share it.
fn cached(args: &[&str]) -> Run {
    type Slot = Arc<OnceLock<Run>>;
    static RUNS: OnceLock<Mutex<HashMap<Vec<String>, Slot>>> = OnceLock::new();
    let key: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let slot = {
        let mut runs = RUNS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        runs.entry(key).or_default().clone()
    };
    slot.get_or_init(|| run(args)).clone()
}

/// Runs and asserts exit code 0 and an empty standard error. Runs whose arguments
/// name only fixtures are shared between tests.
pub fn run_ok(args: &[&str]) -> Run {
    let only_fixtures = args
        .iter()
        .all(|a| !a.contains('/') || a.starts_with("tests/fixtures/"));
    let r = if only_fixtures {
        cached(args)
    } else {
        run(args)
    };
    assert_eq!(r.code, 0, "bouncex {args:?} failed:\n{}", r.stderr);
    assert_eq!(r.stderr, "", "bouncex {args:?} wrote to stderr");
    r
}

/// `bouncex analyze FILE... --year 2026 --format json` (plus extra arguments).
pub fn analyze(files: &[&str], extra: &[&str]) -> Value {
    let mut args = vec!["analyze", "--year", "2026", "--format", "json"];
    args.extend_from_slice(extra);
    args.extend_from_slice(files);
    run_ok(&args).json()
}

/// `bouncex events [--deliveries] FILE --year 2026` as NDJSON values.
pub fn events(file: &str, deliveries: bool) -> Vec<Value> {
    let mut args = vec!["events", "--year", "2026"];
    if deliveries {
        args.push("--deliveries");
    }
    args.push(file);
    run_ok(&args).ndjson()
}

/// The one delivery (or event) of this recipient; panics when there are none or
/// several.
pub fn one<'a>(records: &'a [Value], recipient: &str) -> &'a Value {
    let found: Vec<&Value> = records
        .iter()
        .filter(|r| r["recipient"] == recipient)
        .collect();
    assert_eq!(found.len(), 1, "records for {recipient}: {found:#?}");
    found[0]
}

/// A fresh, empty scratch directory under Cargo's per-target temporary folder.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("bouncex-tests")
        .join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("clearing the scratch directory");
    }
    std::fs::create_dir_all(&dir).expect("creating the scratch directory");
    dir
}

/// The string `field` of every object in a report's array (`r["inputs"]`,
/// `r["by_domain"]`), in order.
pub fn strings<'a>(array: &'a Value, field: &str) -> Vec<&'a str> {
    array
        .as_array()
        .expect("an array")
        .iter()
        .map(|item| item[field].as_str().expect("a string field"))
        .collect()
}

/// The path as a `&str` argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("scratch paths are UTF-8")
}

/// A report with the input-dependent parts (file names) removed, for comparing
/// reports of the same content read in different ways.
pub fn without_inputs(mut report: Value) -> Value {
    let obj = report.as_object_mut().expect("the report is an object");
    obj.remove("inputs");
    obj.remove("unrecognized_samples");
    report
}

/// `inputs[i]` with the file name removed.
pub fn input_counts(report: &Value, i: usize) -> Value {
    let mut input = report["inputs"][i].clone();
    input.as_object_mut().expect("an input row").remove("file");
    input
}

/// Asserts the accounting identity of every input: parsed + ignored + unrecognized
/// == total, and the ignored kinds add up to ignored.
pub fn assert_balanced(report: &Value) {
    for input in report["inputs"].as_array().expect("inputs") {
        let n = |k: &str| {
            input[k]
                .as_u64()
                .unwrap_or_else(|| panic!("{k} in {input}"))
        };
        assert_eq!(
            n("parsed") + n("ignored") + n("unrecognized"),
            n("total"),
            "unbalanced input: {input}"
        );
        let kinds: u64 = input["ignored_by_kind"]
            .as_object()
            .expect("ignored_by_kind")
            .values()
            .map(|v| v.as_u64().expect("a count"))
            .sum();
        assert_eq!(
            kinds,
            n("ignored"),
            "ignored_by_kind does not add up: {input}"
        );
    }
}

/// Objects whose keys are data (kinds, buckets), not schema: compared whole.
const DATA_MAPS: [&str; 2] = ["ignored_by_kind", "by_bucket"];

/// Where `actual` differs from `expected`, reading `expected` as a pattern: objects
/// must hold the expected keys with matching values (the JSON schema only ever adds
/// fields), arrays must match element by element, anything else must be equal.
fn mismatch(actual: &Value, expected: &Value, path: &str) -> Option<String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e.iter().find_map(|(k, ev)| {
            let here = format!("{path}.{k}");
            match a.get(k) {
                None => Some(format!("{here}: missing")),
                Some(av) if DATA_MAPS.contains(&k.as_str()) => {
                    (av != ev).then(|| format!("{here}: {av} != {ev}"))
                }
                Some(av) => mismatch(av, ev, &here),
            }
        }),
        (Value::Array(a), Value::Array(e)) => {
            if a.len() != e.len() {
                return Some(format!("{path}: {} elements, want {}", a.len(), e.len()));
            }
            a.iter()
                .zip(e)
                .enumerate()
                .find_map(|(i, (av, ev))| mismatch(av, ev, &format!("{path}[{i}]")))
        }
        _ => (actual != expected).then(|| format!("{path}: {actual} != {expected}")),
    }
}

/// Asserts that `actual` has every field of `expected` with its value.
#[track_caller]
pub fn assert_has(actual: &Value, expected: Value) {
    if let Some(m) = mismatch(actual, &expected, "$") {
        panic!("{m}\nactual: {actual:#}\nexpected: {expected:#}");
    }
}
