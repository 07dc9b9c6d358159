//! Helpers shared by the integration tests of saved facts, dumps and the formats other tools read.
// Each test binary uses some of these, not all.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary, away from the user's color settings and cache.
pub fn mlcompat() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("mlcompat").expect("binary is built");
    cmd.env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS")
        .env("LANG", "C.UTF-8")
        .env("MLCOMPAT_NO_CACHE", "1");
    cmd
}

pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// A consumer program (a shell, groff, python3, promtool), run directly: it reads mlcompat's output and
/// is not part of mlcompat.
#[expect(
    clippy::disallowed_methods,
    reason = "the programs that read mlcompat's output are run as they are"
)]
pub fn program<S: AsRef<std::ffi::OsStr>>(name: S) -> Command {
    Command::new(name)
}

/// Runs `cmd` with `input` on its stdin.
pub fn pipe(mut cmd: Command, input: &str) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to stdin");
    child.wait_with_output().expect("the program finishes")
}

/// A pasted dump as the readers alone make it: only what the text says.
pub fn dump_facts(text: &str, name: &str) -> Option<mlcompat::facts::Facts> {
    mlcompat::facts::dumps::facts_from_dump(text, name)
}

/// A pasted dump read as `doctor --facts` reads it: the readers, then the completion step.
pub fn completed_dump_facts(text: &str, name: &str) -> Option<mlcompat::facts::Facts> {
    let matrix = mlcompat::matrix::embedded().expect("embedded matrix");
    let mut facts = mlcompat::facts::dumps::facts_from_dump(text, name)?;
    mlcompat::matrix::complete::complete(&matrix, &mut facts);
    Some(facts)
}

/// A copy of the project's matrix folder at `to` (to change one file of it in a test).
pub fn copy_matrix(to: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("matrix");
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(&src).expect("matrix") {
        let path = entry.expect("entry").path();
        let dest = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            std::fs::create_dir_all(&dest).expect("dir");
            for f in std::fs::read_dir(&path).expect("sub") {
                let f = f.expect("file").path();
                std::fs::copy(&f, dest.join(f.file_name().expect("name"))).expect("copy");
            }
        } else {
            std::fs::copy(&path, &dest).expect("copy");
        }
    }
}
