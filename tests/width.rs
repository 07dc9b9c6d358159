//! Text fits the terminal: every line every command prints is at most `COLUMNS` wide (80, a common
//! terminal, and 60), measured in display columns as a terminal counts them.

mod common;

use common::{fixture, mlcompat};
use mlcompat::render::display_width;

fn lines_over(args: &[&str], columns: usize) -> Vec<String> {
    let out = mlcompat()
        .args(args)
        .env("COLUMNS", columns.to_string())
        .env_remove("NO_COLOR")
        .output()
        .expect("runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| display_width(l) > columns)
        .map(String::from)
        .collect()
}

#[test]
fn every_command_fits_80_and_60_columns() {
    let log = fixture("explain/logs/bf16-needs-ampere--canopyai-Orpheus-TTS-44.txt");
    let log = log.to_string_lossy().into_owned();
    let facts = fixture("facts/cpu-box-torch-2.15.0-cu132-import-fails.json");
    let facts = facts.to_string_lossy().into_owned();
    let commands: Vec<Vec<&str>> = vec![
        vec!["doctor", "--profile", "dgx-spark"],
        vec!["doctor", "--profile", "dgx-spark", "--all"],
        vec!["doctor", "--profile", "mac-studio-m3-ultra", "--all"],
        vec!["doctor", "--facts", &facts, "--require", "vllm"],
        vec!["check", "all", "--profile", "dgx-spark"],
        vec!["check", "chat-8b-fp16", "--profile", "linux-cpu-only"],
        vec![
            "estimate",
            "--model",
            "gpt-oss-120b",
            "--profile",
            "dgx-spark",
        ],
        vec![
            "estimate",
            "--model",
            "openai/gpt-oss-20b",
            "--engine",
            "vllm",
            "--profile",
            "rtx-pro-6000",
            "--prompt",
            "1024",
            "--output",
            "256",
            "--target-tok-s",
            "30",
        ],
        vec!["compare", "dgx-spark", "mac-studio-m3-ultra"],
        vec!["install-plan", "llama-cpp", "--profile", "dgx-spark"],
        vec!["install-plan", "vllm", "--profile", "strix-halo"],
        vec!["install-plan", "pytorch", "--profile", "macbook-pro-m4-max"],
        vec!["explain", &log, "--profile", "dgx-spark"],
        vec!["list", "software"],
        vec!["list", "quants"],
        vec!["list", "profiles"],
        vec!["list", "models"],
        vec!["list", "engines"],
        vec!["list", "workloads"],
    ];
    for columns in [80, 60] {
        for args in &commands {
            let over = lines_over(args, columns);
            assert!(
                over.is_empty(),
                "`mlcompat {}` at {columns} columns:\n{}",
                args.join(" "),
                over.join("\n")
            );
        }
    }
}

/// A reference profile's doctor fits one screen (the header, a summary line, the rows that need a word,
/// the next step), where the catalogue (`--all`) takes three.
#[test]
fn a_healthy_doctor_fits_one_screen() {
    let short = mlcompat()
        .args(["doctor", "--profile", "dgx-spark"])
        .env("COLUMNS", "80")
        .output()
        .expect("runs");
    let all = mlcompat()
        .args(["doctor", "--profile", "dgx-spark", "--all"])
        .env("COLUMNS", "80")
        .output()
        .expect("runs");
    let (short, all) = (
        String::from_utf8_lossy(&short.stdout).lines().count(),
        String::from_utf8_lossy(&all.stdout).lines().count(),
    );
    assert!(short <= 40, "{short} lines");
    assert!(all > 2 * short, "{all} lines with --all");
}

/// What each command prints at 80 columns, from the real binary: a change to any layout shows here.
#[test]
fn each_command_at_80_columns() {
    // A path relative to the package (the tests' folder), so the snapshot does not depend on where the
    // checkout is.
    let log =
        "tests/fixtures/explain/logs/bf16-needs-ampere--canopyai-Orpheus-TTS-44.txt".to_string();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("doctor", vec!["doctor", "--profile", "dgx-spark"]),
        ("check", vec!["check", "all", "--profile", "dgx-spark"]),
        (
            "estimate",
            vec![
                "estimate",
                "--model",
                "openai/gpt-oss-20b",
                "--engine",
                "vllm",
                "--profile",
                "rtx-pro-6000",
                "--prompt",
                "1024",
                "--output",
                "256",
                "--target-tok-s",
                "30",
            ],
        ),
        (
            "compare",
            vec!["compare", "dgx-spark", "mac-studio-m3-ultra"],
        ),
        (
            "install_plan",
            vec!["install-plan", "llama-cpp", "--profile", "dgx-spark"],
        ),
        ("explain", vec!["explain", &log, "--profile", "dgx-spark"]),
        ("list_quants", vec!["list", "quants"]),
    ];
    for (name, args) in cases {
        let out = mlcompat()
            .args(&args)
            .env("COLUMNS", "80")
            .env("NO_COLOR", "1")
            .env("MLCOMPAT_NO_CACHE", "1")
            .output()
            .expect("runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        insta::assert_snapshot!(format!("at_80_columns_{name}"), text);
    }
}
