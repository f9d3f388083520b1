//! What the re-plan performance work relies on, checked as behaviour (never wall time): the
//! phase breakdown `STRATA_TIMINGS=1` prints, and the work a re-plan leaves out.

use crate::common::Workdir;

const THREE_FAKES: &str =
    "resource \"fake_resource\" \"r\" {\n  count = 3\n  name  = \"r-${count.index}\"\n}\n";

/// `STRATA_TIMINGS=1` adds the breakdown to stderr, one line per phase, and changes nothing on
/// stdout; without it, stderr stays empty.
#[test]
fn strata_timings_lists_the_phases_of_a_replan_on_stderr_only() {
    let dir = Workdir::new(THREE_FAKES);
    let output = dir.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(output.status.success(), "{output:?}");
    let plain = dir.run(&["plan", "-no-color"]);
    assert!(plain.status.success(), "{plain:?}");
    assert!(plain.stderr.is_empty(), "{plain:?}");
    let timed = std::process::Command::new(crate::common::strata())
        .args(["plan", "-no-color"])
        .current_dir(&dir.work)
        .env("STRATA_FAKE_STORE", &dir.store)
        .env("STRATA_TIMINGS", "1")
        .output()
        .expect("run strata");
    assert!(timed.status.success(), "{timed:?}");
    assert_eq!(
        String::from_utf8_lossy(&timed.stdout),
        String::from_utf8_lossy(&plain.stdout)
    );
    let stderr = String::from_utf8_lossy(&timed.stderr);
    assert!(stderr.starts_with("Timings (STRATA_TIMINGS"), "{stderr}");
    for phase in [
        "configuration loading",
        "state file reading",
        "state decoding (JSON)",
        "state decoding (schemas)",
        "graph construction",
        "refresh",
        "plan walk",
        "rendering",
        "total",
        "peak RSS",
    ] {
        assert!(
            stderr
                .lines()
                .any(|line| line.trim_start().starts_with(phase)),
            "no `{phase}` line in:\n{stderr}"
        );
    }
}

/// A provider's refresh runs beside the plan walk (issue 16): its data sources are read without
/// waiting for it, so a refresh that fails leaves them read; its error is reported once and the
/// resource it could not read is not planned.
#[test]
fn a_failed_refresh_is_reported_once_and_its_data_sources_are_read_meanwhile() {
    let dir = Workdir::new(
        "resource \"fake_resource\" \"r\" {\n  name = \"r\"\n  fail = \"read\"\n}\n\ndata \"fake_data\" \"d\" {\n  name = \"d\"\n}\n",
    );
    let applied = dir.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(applied.status.success(), "{applied:?}");
    let planned = dir.run(&["plan", "-no-color"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&planned.stdout),
        String::from_utf8_lossy(&planned.stderr)
    );
    assert_eq!(planned.status.code(), Some(1), "{text}");
    assert_eq!(
        text.matches("Failed to refresh fake_resource.r").count(),
        1,
        "{text}"
    );
    assert!(text.contains("data.fake_data.d: Reading..."), "{text}");
    assert!(!text.contains("No changes."), "{text}");
}
