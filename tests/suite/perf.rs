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
