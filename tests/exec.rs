//! The process runner against fake programs: missing, hanging (the whole process group is killed),
//! failing, crashing, printing garbage or bytes that are not UTF-8, and leaving children behind (in the
//! background, after `setsid`, with a cleared environment, several programs at once). Every outcome is a
//! value, never a panic, and no process a program started survives it.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use mlcompat::exec::{run, Budget, Cmd, RunError};

fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("writable");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path.display().to_string()
}

#[test]
fn a_missing_program_is_not_found() {
    let err = run("mlcompat-no-such-program", &[], Duration::from_secs(1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "mlcompat-no-such-program not found on PATH"
    );
}

#[test]
fn a_hanging_program_and_its_children_are_killed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let marker = dir.path().join("survived");
    // The child starts a grandchild that would write the marker later; killing the group stops both.
    let hang = script(
        dir.path(),
        "hang",
        &format!("(sleep 2; touch {}) &\nsleep 30", marker.display()),
    );
    let start = Instant::now();
    let err = run(&hang, &[], Duration::from_millis(300)).unwrap_err();
    assert!(matches!(err, RunError::TimedOut { .. }), "{err}");
    assert_eq!(err.to_string(), "hang timed out after 0.3 s");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "returned after {:?}",
        start.elapsed()
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert!(!marker.exists(), "the grandchild outlived the timeout");
}

#[test]
fn a_failing_program_reports_status_and_stderr_tail() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fail = script(dir.path(), "fail", "echo 'first line' >&2\necho 'Failed to initialize NVML: Driver/library version mismatch' >&2\nexit 9");
    let err = run(&fail, &[], Duration::from_secs(5)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "fail exited with status 9: Failed to initialize NVML: Driver/library version mismatch"
    );
}

#[test]
fn non_utf8_output_is_an_error_and_garbage_is_returned_as_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = script(dir.path(), "bad", "printf '\\377\\376garbage'");
    assert_eq!(
        run(&bad, &[], Duration::from_secs(5))
            .unwrap_err()
            .to_string(),
        "bad printed output that is not UTF-8"
    );
    let garbage = script(dir.path(), "garbage", "echo '}{ not json'");
    assert_eq!(
        run(&garbage, &[], Duration::from_secs(5))
            .expect("exit 0")
            .stdout,
        "}{ not json\n"
    );
}

/// 20 MB on stdout is read up to the 4 MiB cap and no further (memory stays bounded), and an answer cut
/// there is an error, not a partial answer; the locale is C.
#[test]
fn output_is_capped_and_the_locale_is_c() {
    let dir = tempfile::tempdir().expect("temp dir");
    let flood = script(
        dir.path(),
        "flood",
        "head -c 20000000 /dev/zero | tr '\\0' 'a'; echo \"$LC_ALL\" >&2",
    );
    let cut = run(&flood, &[], Duration::from_secs(20)).expect_err("cut");
    assert_eq!(
        cut.to_string(),
        "flood printed more than 4 MiB on one stream; its answer was not read"
    );
    let exact = script(
        dir.path(),
        "exact",
        "head -c 4194304 /dev/zero | tr '\\0' 'a'; echo \"$LC_ALL\" >&2",
    );
    let out = run(&exact, &[], Duration::from_secs(20)).expect("exit 0");
    assert_eq!(out.stdout.len(), 4 * 1024 * 1024);
    assert_eq!(out.stderr.trim(), "C");
}

#[test]
fn stdin_is_closed() {
    let dir = tempfile::tempdir().expect("temp dir");
    // `cat` would wait forever on an inherited terminal; with stdin closed it ends at once.
    let reader = script(dir.path(), "reader", "cat; echo done");
    assert_eq!(
        run(&reader, &[], Duration::from_secs(5))
            .expect("exit 0")
            .stdout,
        "done\n"
    );
}

/// Processes whose command line is `sleep SECONDS` (each test uses its own number).
fn sleepers(seconds: &str) -> Vec<String> {
    let wanted = format!("sleep\0{seconds}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| c.windows(wanted.len()).any(|w| w == wanted.as_bytes()))
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn a_background_child_loses_no_output_and_does_not_survive() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The background sleep keeps stdout open; the version line must still come back, at once.
    let tool = script(
        dir.path(),
        "ollama",
        "sleep 6543 &\necho 'ollama version is 0.1.2'",
    );
    let start = Instant::now();
    let out = run(&tool, &["--version"], Duration::from_secs(5)).expect("exit 0");
    assert_eq!(out.stdout, "ollama version is 0.1.2\n");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(sleepers("6543"), Vec::<String>::new(), "left running");
}

#[cfg(target_os = "linux")]
#[test]
fn escapers_through_setsid_and_a_cleared_environment_are_ended() {
    if mlcompat::exec::resolve("setsid").is_none() {
        eprintln!("skipped: no setsid");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let tool = script(
        dir.path(),
        "tool",
        "setsid sleep 6544 &\nsetsid -f sleep 6545\n(setsid env -i sleep 6546 &)\n(setsid sh -c 'sleep 6547 & sleep 6548' &)\nsleep 0.3\necho 'tool 1.0'",
    );
    let out = run(&tool, &[], Duration::from_secs(5)).expect("exit 0");
    assert_eq!(out.stdout, "tool 1.0\n");
    for n in ["6544", "6545", "6546", "6547", "6548"] {
        assert_eq!(sleepers(n), Vec::<String>::new(), "sleep {n} left running");
    }
    // The same on timeout.
    let hang = script(
        dir.path(),
        "hang",
        "setsid sleep 6549 &\n(setsid env -i sleep 6550 &)\nsleep 30",
    );
    let err = run(&hang, &[], Duration::from_millis(500)).unwrap_err();
    assert!(matches!(err, RunError::TimedOut { .. }), "{err}");
    for n in ["6549", "6550"] {
        assert_eq!(sleepers(n), Vec::<String>::new(), "sleep {n} left running");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn programs_running_at_once_only_end_their_own_children() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A long program whose own background child must live as long as it does, while short programs
    // around it end and clean up after themselves.
    let long = script(
        dir.path(),
        "long",
        "sleep 6560 &\nchild=$!\nsleep 1.5\nkill -0 $child && echo alive",
    );
    let short = script(
        dir.path(),
        "short",
        "(setsid env -i sleep 6561 &)\nsleep 6562 &\necho short",
    );
    let long_run = std::thread::spawn(move || run(&long, &[], Duration::from_secs(10)));
    let shorts: Vec<_> = (0..8)
        .map(|i| {
            let short = short.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100 * i));
                run(&short, &[], Duration::from_secs(10))
            })
        })
        .collect();
    for s in shorts {
        assert_eq!(s.join().expect("thread").expect("exit 0").stdout, "short\n");
    }
    let long_out = long_run.join().expect("thread").expect("exit 0");
    assert_eq!(long_out.stdout, "alive\n", "another run killed its child");
    for n in ["6560", "6561", "6562"] {
        assert_eq!(sleepers(n), Vec::<String>::new(), "sleep {n} left running");
    }
}

#[test]
fn a_crash_names_the_signal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let crash = script(
        dir.path(),
        "crash",
        "echo 'Segmentation fault' >&2\nkill -SEGV $$",
    );
    assert_eq!(
        run(&crash, &["--version"], Duration::from_secs(5))
            .unwrap_err()
            .to_string(),
        "crash was killed by signal 11 (SIGSEGV): Segmentation fault"
    );
}

#[test]
fn one_budget_bounds_all_the_programs_of_a_probe() {
    let dir = tempfile::tempdir().expect("temp dir");
    let slow = script(dir.path(), "slow", "sleep 0.6\necho ok");
    let hang = script(dir.path(), "hang", "sleep 30");
    let budget = Budget::new(Duration::from_secs(1));
    let start = Instant::now();
    assert_eq!(
        Cmd::new(slow.as_str()).run(&budget).expect("exit 0").stdout,
        "ok\n"
    );
    let err = Cmd::new(hang.as_str()).run(&budget).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_millis(1800),
        "the second program had its own full timeout: {:?}",
        start.elapsed()
    );
    assert!(
        err.to_string().starts_with("hang timed out after 0.")
            && err
                .to_string()
                .ends_with("(the probe's 1 s budget ran out)"),
        "{err}"
    );
    assert_eq!(
        Cmd::new(slow.as_str())
            .run(&budget)
            .unwrap_err()
            .to_string(),
        "slow not run: the probe's 1 s budget was spent"
    );
}

#[test]
fn working_folder_and_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let show = script(dir.path(), "show", "pwd\necho \"$EXTRA\"");
    let out = Cmd::new(show.as_str())
        .cwd("/")
        .env("EXTRA", "yes")
        .run(&Budget::new(Duration::from_secs(5)))
        .expect("exit 0");
    assert_eq!(out.stdout, "/\nyes\n");
}
