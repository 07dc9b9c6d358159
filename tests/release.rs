//! The release archive names agree between `[package.metadata.binstall]` (what cargo-binstall downloads)
//! and `scripts/release` (what is built), for every shipped target.

mod common;

use std::path::Path;

/// The value of `key = "…"` in the `[package.metadata.binstall]` table of Cargo.toml.
fn binstall(manifest: &str, key: &str) -> String {
    let table = manifest
        .split("\n[package.metadata.binstall]\n")
        .nth(1)
        .expect("a [package.metadata.binstall] table");
    let table = table.split("\n[").next().unwrap_or(table);
    table
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
        })
        .unwrap_or_else(|| panic!("no {key}"))
}

/// cargo-binstall's `{ var }` substitution.
fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{ {k} }}"), v);
    }
    assert!(!out.contains("{ "), "unrendered variable in {out}");
    out
}

#[test]
fn binstall_finds_what_scripts_release_builds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    assert_eq!(binstall(&manifest, "pkg-fmt"), "tgz");
    // `{ repo }` is package.repository: without it cargo-binstall cannot build the URL at all.
    let repo = env!("CARGO_PKG_REPOSITORY");
    assert!(repo.starts_with("https://"), "package.repository: {repo:?}");
    let version = env!("CARGO_PKG_VERSION");
    for target in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "aarch64-apple-darwin",
    ] {
        let vars = [
            ("repo", repo),
            ("name", "mlcompat"),
            ("version", version),
            ("target", target),
            ("bin", "mlcompat"),
            ("binary-ext", ""),
        ];
        let url = render(&binstall(&manifest, "pkg-url"), &vars);
        let out = common::program("bash")
            .arg(root.join("scripts/release"))
            .args(["--name", target])
            .output()
            .expect("bash runs");
        assert!(out.status.success());
        let archive = String::from_utf8(out.stdout).expect("UTF-8");
        assert_eq!(
            url,
            format!("{repo}/releases/download/v{version}/{}", archive.trim())
        );
        // The archive holds one folder named like the archive, with the binary in it.
        let bin_dir = render(&binstall(&manifest, "bin-dir"), &vars);
        assert_eq!(
            bin_dir,
            format!("{}/mlcompat", archive.trim().trim_end_matches(".tar.gz"))
        );
    }
    // musl is refused with the reason, not built.
    let out = common::program("bash")
        .arg(root.join("scripts/release"))
        .arg("x86_64-unknown-linux-musl")
        .output()
        .expect("bash runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot dlopen"));
}
