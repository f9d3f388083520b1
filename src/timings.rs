//! Phase timings for performance work: with `STRATA_TIMINGS=1` in the environment, the phases
//! of a command (configuration loading, state decoding, schema building, graph construction,
//! refresh, plan walk, rendering, state and plan writing) record how long they took, and the
//! CLI prints the breakdown to stderr when the command ends (with the process's peak resident
//! set). Without the variable, a phase costs one check of a flag read once.
//!
//! Phases may nest (the refresh runs inside the plan walk) or repeat (one refresh per
//! provider): each line is the sum of a phase's spans and how many there were.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// When timings were switched on (the first time [`enabled`] was asked), or `None`.
static STARTED: OnceLock<Option<Instant>> = OnceLock::new();

/// Each phase in the order it first finished: name, total time, number of spans.
static PHASES: Mutex<Vec<(&'static str, Duration, u32)>> = Mutex::new(Vec::new());

/// Whether `STRATA_TIMINGS` is set (to anything but empty or `0`).
pub fn enabled() -> bool {
    started().is_some()
}

fn started() -> Option<Instant> {
    *STARTED.get_or_init(|| {
        let on =
            std::env::var("STRATA_TIMINGS").is_ok_and(|value| !value.is_empty() && value != "0");
        on.then(Instant::now)
    })
}

/// A phase being timed: its time is recorded when it is dropped.
#[must_use = "a phase is timed until the value is dropped"]
pub struct Phase {
    name: &'static str,
    started: Option<Instant>,
}

/// Starts timing phase `name` (a no-op without `STRATA_TIMINGS`).
pub fn phase(name: &'static str) -> Phase {
    Phase {
        name,
        started: enabled().then(Instant::now),
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        if let Some(started) = self.started {
            record(self.name, started.elapsed());
        }
    }
}

fn record(name: &'static str, elapsed: Duration) {
    let mut phases = PHASES.lock().unwrap_or_else(|e| e.into_inner());
    match phases.iter_mut().find(|(known, _, _)| *known == name) {
        Some((_, total, count)) => {
            *total += elapsed;
            *count += 1;
        }
        None => phases.push((name, elapsed, 1)),
    }
}

/// The breakdown to print at the end of a command, or `None` without `STRATA_TIMINGS`.
pub fn report() -> Option<String> {
    let started = started()?;
    let phases = PHASES.lock().unwrap_or_else(|e| e.into_inner());
    let mut text = String::from("Timings (STRATA_TIMINGS; phases may nest):\n");
    for (name, total, count) in phases.iter() {
        let spans = if *count == 1 {
            String::new()
        } else {
            format!(" ({count} spans)")
        };
        text.push_str(&format!("  {name:<24} {:>9.1} ms{spans}\n", millis(*total)));
    }
    text.push_str(&format!(
        "  {:<24} {:>9.1} ms\n",
        "total",
        millis(started.elapsed())
    ));
    if let Some(peak) = peak_rss_kb() {
        text.push_str(&format!(
            "  {:<24} {:>9.1} MB\n",
            "peak RSS",
            peak as f64 / 1024.0
        ));
    }
    Some(text)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The process's peak resident set (`VmHWM`), where `/proc` has it.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_one_phase_add_up_in_first_finished_order() {
        record("test phase b", Duration::from_millis(2));
        record("test phase a", Duration::from_millis(1));
        record("test phase b", Duration::from_millis(3));
        let phases = PHASES.lock().unwrap_or_else(|e| e.into_inner());
        let mine: Vec<_> = phases
            .iter()
            .filter(|(name, _, _)| name.starts_with("test phase"))
            .collect();
        assert_eq!(
            mine,
            [
                &("test phase b", Duration::from_millis(5), 2),
                &("test phase a", Duration::from_millis(1), 1)
            ]
        );
    }
}
