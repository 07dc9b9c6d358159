//! `scripts/refresh-releases` against a PyPI stand-in (`--pypi file://…`): each kind of finding, the exit
//! status CI acts on, and what it says when PyPI does not answer.

use std::path::Path;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("writable");
    std::fs::write(path, text).expect("writable");
}

const DEMO: &str = r#"schema: mlcompat.releases/1
project: demo
package: demo
releases:
  - version: "1.1.0"
    builds:
      - variant: cpu
        method: pip
        platforms: [linux-x86_64]
        requires: [{project: other, version: "==2.0.0"}]
        pip: "demo==1.1.0"
        source: "x"
        checked: 2026-12-01
  - version: "1.0.0"
    builds:
      - variant: cpu
        method: pip
        platforms: [linux-x86_64]
        pip: "demo==1.0.0"
        source: "x"
        checked: 2026-12-01
"#;

const OTHER: &str = r#"schema: mlcompat.releases/1
project: other
package: other-pkg
releases:
  - version: "2.0.0"
    builds:
      - variant: cpu
        method: pip
        platforms: [linux-x86_64]
        pip: "other-pkg==2.0.0"
        source: "x"
        checked: 2026-12-01
"#;

/// PyPI's JSON for `demo`: 1.0.0 yanked, 1.1.0 with a Windows wheel and a changed pin, 1.2.0 newer, a
/// pre-release that is not counted.
const DEMO_JSON: &str = r#"{"info":{"version":"1.1.0","requires_dist":["other-pkg==2.1.0"]},"releases":{
"1.0.0":[{"filename":"demo-1.0.0-py3-none-manylinux_2_28_x86_64.whl","upload_time":"2026-01-01T00:00:00","yanked":true,"yanked_reason":"broken"}],
"1.1.0":[{"filename":"demo-1.1.0-py3-none-manylinux_2_28_x86_64.whl","upload_time":"2026-06-01T00:00:00","yanked":false},{"filename":"demo-1.1.0-py3-none-win_amd64.whl","upload_time":"2026-06-01T00:00:00","yanked":false}],
"1.2.0rc1":[{"filename":"demo-1.2.0rc1.tar.gz","upload_time":"2026-11-01T00:00:00","yanked":false}],
"1.2.0":[{"filename":"demo-1.2.0-py3-none-any.whl","upload_time":"2026-11-20T00:00:00","yanked":false}]}}"#;

fn refresh(matrix: &Path, pypi: &str, extra: &[&str]) -> (i32, String, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/refresh-releases");
    let out = assert_cmd::Command::new("python3")
        .arg(script)
        .arg("--matrix")
        .arg(matrix)
        .arg("--pypi")
        .arg(pypi)
        .args(extra)
        .output()
        .expect("python3 runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_kind_of_change_on_pypi_is_listed() {
    let dir = tempfile::tempdir().expect("temp");
    let matrix = dir.path().join("matrix");
    write(&matrix.join("releases/demo.yaml"), DEMO);
    write(&matrix.join("releases/other.yaml"), OTHER);
    write(&dir.path().join("pypi/demo/json"), DEMO_JSON);
    let pypi = format!("file://{}", dir.path().join("pypi").display());
    let (code, out, _) = refresh(&matrix, &pypi, &[]);
    for line in [
        "newer: demo.yaml: PyPI has demo 1.2.0 (2026-11-20); the data's newest is 1.1.0",
        "yanked: demo.yaml: demo 1.0.0 is yanked on PyPI: broken",
        "platforms: demo.yaml: PyPI's demo 1.1.0 has wheels for windows-x86_64, which no build in the data lists",
        "pins: demo.yaml: demo 1.1.0 pins other-pkg==2.1.0; the data says ==2.0.0",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    assert!(!out.contains("1.2.0rc1"), "{out}");
    // A yanked release the data would plan fails the run; the rest only when asked.
    assert_eq!(code, 1);
    write(
        &matrix.join("releases/demo.yaml"),
        &DEMO.replace("  - version: \"1.0.0\"", "  - version: \"0.9.0\""),
    );
    let (code, out, _) = refresh(&matrix, &pypi, &[]);
    assert_eq!(code, 0, "{out}");
    let (code, _, _) = refresh(&matrix, &pypi, &["--fail-on", "newer"]);
    assert_eq!(code, 1);
}

#[test]
fn an_unreachable_pypi_is_a_skip_not_a_failure() {
    let dir = tempfile::tempdir().expect("temp");
    let matrix = dir.path().join("matrix");
    write(&matrix.join("releases/demo.yaml"), DEMO);
    let pypi = format!("file://{}", dir.path().join("nowhere").display());
    let (code, _, err) = refresh(&matrix, &pypi, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("PyPI could not be reached"), "{err}");
}
