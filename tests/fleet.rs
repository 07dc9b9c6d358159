//! Many machines: `table` and `compare` over saved facts files (probe output, bug-report dumps) as well as
//! profiles, and a layout that stays readable with many columns.

mod common;

use std::path::{Path, PathBuf};

use common::mlcompat;

fn run(args: &[&str], columns: Option<&str>) -> (i32, String, String) {
    let mut cmd = mlcompat();
    if let Some(c) = columns {
        cmd.env("COLUMNS", c);
    }
    let out = cmd.args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixture(path: &str) -> String {
    common::fixture(path).display().to_string()
}

/// Saved `mlcompat probe` output for a fleet: node names are the file names.
fn fleet(dir: &Path, n: usize) -> Vec<String> {
    let probe = std::fs::read_to_string(fixture("facts/cpu-box-torch-2.15.0-cu132-deep.json"))
        .expect("fixture");
    (1..=n)
        .map(|i| {
            let path: PathBuf = dir.join(format!("gpu-node-{i}.json"));
            std::fs::write(&path, &probe).expect("writable");
            path.display().to_string()
        })
        .collect()
}

#[test]
fn table_over_facts_and_profiles() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nodes = fleet(dir.path(), 2);
    let smi = fixture("nvidia-smi/h100-sxm-x4-idle-driver560.35.txt");
    let (code, out, err) = run(
        &[
            "table",
            "--facts",
            &nodes[0],
            "--facts",
            &nodes[1],
            "--facts",
            &smi,
            "--profiles",
            "dgx-spark",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let grid: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let machines: Vec<(&str, &str)> = grid["machines"]
        .as_array()
        .expect("machines")
        .iter()
        .map(|m| {
            (
                m["name"].as_str().expect("name"),
                m["origin"].as_str().expect("origin"),
            )
        })
        .collect();
    assert_eq!(
        machines,
        [
            ("gpu-node-1", "facts"),
            ("gpu-node-2", "facts"),
            ("h100-sxm-x4-idle-driver560.35 (nvidia-smi)", "facts"),
            ("NVIDIA DGX Spark", "profile")
        ]
    );
    assert_eq!(grid["mlcompat_version"], env!("CARGO_PKG_VERSION"));
    for row in grid["rows"].as_array().expect("rows") {
        assert_eq!(row["cells"].as_array().expect("cells").len(), 4);
    }
    // The profile column is the same as the profile's own table.
    let (_, alone, _) = run(
        &["table", "--profiles", "dgx-spark", "--format", "json"],
        None,
    );
    let alone: serde_json::Value = serde_json::from_str(&alone).expect("JSON");
    for (row, single) in grid["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .zip(alone["rows"].as_array().expect("rows"))
    {
        assert_eq!(row["cells"][3], single["cells"][0]);
    }
    // Without --facts or --profiles: the two machines the project starts from.
    let (_, default, _) = run(&["table", "--format", "json"], None);
    let default: serde_json::Value = serde_json::from_str(&default).expect("JSON");
    assert_eq!(default["machines"].as_array().expect("machines").len(), 2);
}

/// A fleet's columns are named by what the facts say: the name a file gives stands, else the host name
/// `probe` recorded, else the file's name.
#[test]
fn columns_take_the_machine_name_then_the_hostname() {
    let dir = tempfile::tempdir().expect("temp dir");
    let probe = std::fs::read_to_string(fixture("facts/cpu-box-torch-2.15.0-cu132-deep.json"))
        .expect("fixture");
    let mut facts: serde_json::Value = serde_json::from_str(&probe).expect("JSON");
    facts["host"]["hostname"] = "gpu-node-7.lab".into();
    let by_host = dir.path().join("saved-1.json");
    std::fs::write(&by_host, facts.to_string()).expect("write");
    facts["machine"]["name"] = "Lab box under the desk".into();
    let by_name = dir.path().join("saved-2.json");
    std::fs::write(&by_name, facts.to_string()).expect("write");
    let (code, out, err) = run(
        &[
            "table",
            "--facts",
            &by_host.display().to_string(),
            "--facts",
            &by_name.display().to_string(),
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let grid: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let names: Vec<&str> = grid["machines"]
        .as_array()
        .expect("machines")
        .iter()
        .map(|m| m["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["gpu-node-7.lab", "Lab box under the desk"]);
}

#[test]
fn many_columns_stay_readable_in_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nodes = fleet(dir.path(), 12);
    let mut args = vec!["table"];
    for n in &nodes {
        args.push("--facts");
        args.push(n);
    }
    args.extend([
        "--profiles",
        "dgx-spark,mac-studio-m3-ultra,h100-sxm",
        "--ascii",
    ]);
    let (code, out, err) = run(&args, Some("100"));
    assert_eq!(code, 0, "{err}");
    for line in out.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
    // A legend numbers the machines, and each group of columns repeats the software names.
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("1  gpu-node-1 (facts)")),
        "{out}"
    );
    assert!(out.contains(
        "14  Apple Mac Studio (M3 Ultra, 80-core GPU, 96 GB) (profile mac-studio-m3-ultra)"
    ));
    let blocks = out.matches("\nSoftware ").count();
    assert!(blocks >= 2, "{out}");
    let pytorch = out.lines().filter(|l| l.starts_with("PyTorch ")).count();
    assert_eq!(pytorch, blocks);
    // Every machine's verdict for every row is there once.
    let cells: usize = out
        .lines()
        .filter(|l| l.starts_with("PyTorch "))
        .map(|l| {
            l.split_whitespace()
                .filter(|w| ["OK", "WARN", "FAIL"].contains(w))
                .count()
        })
        .sum();
    assert_eq!(cells, 15);
    // A wide terminal, or a pipe, gets the full table.
    let (_, wide, _) = run(
        &["table", "--facts", &nodes[0], "--profiles", "dgx-spark"],
        Some("300"),
    );
    assert!(wide.starts_with("Software "), "{wide}");
    assert!(wide.contains("gpu-node-1"));
    let (_, piped, _) = run(&args, None);
    assert!(piped.starts_with("Software "));
}

#[test]
fn html_scrolls_and_needs_no_emoji_font() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nodes = fleet(dir.path(), 3);
    let (_, html, _) = run(
        &[
            "table",
            "--facts",
            &nodes[0],
            "--facts",
            &nodes[1],
            "--facts",
            &nodes[2],
            "--profiles",
            "dgx-spark,mac-studio-m3-ultra",
            "--format",
            "html",
        ],
        None,
    );
    let doc = roxmltree_free_check(&html);
    assert!(
        doc.contains("position:sticky"),
        "header and first column hold still"
    );
    assert!(doc.contains("overflow:auto"));
    assert!(html.contains(&format!("mlcompat {}", env!("CARGO_PKG_VERSION"))));
    assert!(
        html.contains("Matrix sources checked 20"),
        "the matrix date"
    );
    assert!(html.contains("<meta name=\"generator\""));
    for emoji in ['✅', '⚠', '❌', '\u{FE0F}'] {
        assert!(!html.contains(emoji), "{emoji} needs an emoji font");
    }
    for word in [
        "<span class=\"v ok\">OK</span>",
        "<span class=\"v warn\">WARN</span>",
        "<span class=\"v fail\">FAIL</span>",
    ] {
        assert!(html.contains(word), "{word}");
    }
    assert_eq!(html.matches("<th scope=\"col\">").count(), 5);
}

/// The HTML is well formed (balanced tags in document order), so a browser lays out the table we wrote.
fn roxmltree_free_check(html: &str) -> &str {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("tag closes");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace())
            .next()
            .unwrap_or_default()
            .to_string();
        if ["meta", "br"].contains(&name.as_str()) {
            continue;
        }
        if tag.starts_with('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.as_str()),
                "unbalanced </{name}>"
            );
        } else {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    html
}

#[test]
fn compare_takes_facts_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nodes = fleet(dir.path(), 1);
    let (code, out, err) = run(
        &["compare", &nodes[0], "dgx-spark", "--format", "json"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let cmp: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(cmp["a"], "gpu-node-1");
    assert_eq!(cmp["b"], "NVIDIA DGX Spark");
    let smi = fixture("nvidia-smi/rtx5090-desktop-xorg-processes-driver580.65.txt");
    let (code, out, _) = run(&["compare", &smi, "dgx-spark"], None);
    assert_eq!(code, 0);
    assert!(
        out.contains("rtx5090-desktop-xorg-processes-driver580.65 (nvidia-smi)"),
        "{out}"
    );
    // Neither a profile nor a file: one clear line, exit 2.
    let (code, out, err) = run(&["compare", "dgx-sparkk", "dgx-spark"], None);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.starts_with("error: unknown profile `dgx-sparkk`, and no facts file"),
        "{err}"
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"schema\": \"mlcompat.report/1\"}").expect("writable");
    let (code, _, err) = run(&["compare", &bad.display().to_string(), "dgx-spark"], None);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.json") && err.contains("schema is `mlcompat.report/1`"),
        "{err}"
    );
}
