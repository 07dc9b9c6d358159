//! Shell completions and man pages, checked by the programs that read them: bash runs its completion
//! function, zsh and fish parse theirs (when installed), groff formats the man pages without a warning.

mod common;

use std::path::Path;

use common::program;

fn mlcompat_out(args: &[&str]) -> String {
    let out = assert_cmd::Command::cargo_bin("mlcompat")
        .expect("binary is built")
        .args(args)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writable");
    path.display().to_string()
}

/// What bash offers after `line` (ending in the word being completed), from the generated script.
fn bash_complete(script: &str, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script_text = format!(
        "source '{script}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE='{}'\nCOMP_POINT=${{#COMP_LINE}}\n_mlcompat mlcompat '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        quoted.join(" "),
        words.len() - 1,
        words.join(" "),
        words[words.len() - 1],
        words[words.len().saturating_sub(2)],
    );
    let out = program("bash")
        .args(["--norc", "-c", &script_text])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completes_commands_flags_and_formats() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = write(
        dir.path(),
        "mlcompat.bash",
        &mlcompat_out(&["completions", "bash"]),
    );
    let check = program("bash")
        .args(["-n", &script])
        .status()
        .expect("bash");
    assert!(check.success(), "bash -n refuses the script");
    let commands = bash_complete(&script, &["mlcompat", "d"]);
    assert!(commands.contains(&"doctor".to_string()), "{commands:?}");
    let all = bash_complete(&script, &["mlcompat", ""]);
    for c in ["doctor", "table", "compare", "completions", "man", "schema"] {
        assert!(all.contains(&c.to_string()), "{c} in {all:?}");
    }
    let flags = bash_complete(&script, &["mlcompat", "doctor", "--nfd"]);
    assert!(flags.contains(&"--nfd-prefix".to_string()), "{flags:?}");
    let formats = bash_complete(&script, &["mlcompat", "doctor", "--format", ""]);
    for f in ["table", "json", "markdown", "nfd", "prometheus", "junit"] {
        assert!(formats.contains(&f.to_string()), "{f} in {formats:?}");
    }
    // Names the matrix knows, not file names.
    for (words, want) in [
        (&["mlcompat", "doctor", "--profile", "dgx"][..], "dgx-spark"),
        (&["mlcompat", "doctor", "--require", "vl"][..], "vllm"),
        (&["mlcompat", "check", "chat-"][..], "chat-8b-fp16"),
        (
            &["mlcompat", "estimate", "--model", "gpt-oss-1"][..],
            "gpt-oss-120b",
        ),
        (&["mlcompat", "estimate", "--quant", "iq4"][..], "iq4_xs"),
        (&["mlcompat", "estimate", "--engine", "ll"][..], "llama-cpp"),
        (&["mlcompat", "schema", "es"][..], "estimate"),
        (&["mlcompat", "install-plan", "py"][..], "pytorch"),
    ] {
        let offered = bash_complete(&script, words);
        assert!(
            offered.contains(&want.to_string()),
            "{words:?}: {offered:?}"
        );
    }
    // Internal flags are never offered.
    let bench = bash_complete(&script, &["mlcompat", "bench", "--"]);
    assert!(bench.contains(&"--gpu-timeout".to_string()), "{bench:?}");
    assert!(
        !bench
            .iter()
            .any(|f| f.starts_with("--gpu-worker") || f == "--nvrtc" || f == "--gpu-ordinal"),
        "{bench:?}"
    );
}

#[test]
fn no_script_offers_internal_flags() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = mlcompat_out(&["completions", shell]);
        for flag in [
            "gpu-worker",
            "gpu-ordinal",
            "-l nvrtc",
            "'--nvrtc",
            " --nvrtc",
        ] {
            assert!(!script.contains(flag), "{shell} offers {flag}");
        }
    }
    // Fish knows what positionals take, so it offers no files there.
    let fish = mlcompat_out(&["completions", "fish"]);
    for sub in ["list", "completions", "schema", "check"] {
        assert!(
            fish.contains(&format!("__fish_mlcompat_using_subcommand {sub}\" -f -a")),
            "fish: {sub}"
        );
    }
}

#[test]
fn zsh_fish_and_powershell_scripts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let zsh = mlcompat_out(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef mlcompat"));
    if have("zsh") {
        let path = write(dir.path(), "_mlcompat", &zsh);
        let ok = program("zsh").args(["-n", &path]).status().expect("zsh");
        assert!(ok.success(), "zsh -n refuses the script");
    } else {
        eprintln!("skipped: zsh not installed (the script was generated, not parsed)");
    }
    let fish = mlcompat_out(&["completions", "fish"]);
    if have("fish") {
        let path = write(dir.path(), "mlcompat.fish", &fish);
        let ok = program("fish")
            .args(["--no-execute", &path])
            .status()
            .expect("fish");
        assert!(ok.success(), "fish refuses the script");
        let out = program("fish")
            .args([
                "--no-config",
                "-c",
                &format!("source {path}; complete -C 'mlcompat doctor --format '"),
            ])
            .output()
            .expect("fish");
        let offered = String::from_utf8_lossy(&out.stdout);
        assert!(
            offered.contains("junit") && offered.contains("nfd"),
            "{offered}"
        );
    } else {
        eprintln!("skipped: fish not installed (the script was generated, not parsed)");
    }
    let ps = mlcompat_out(&["completions", "powershell"]);
    assert!(ps.contains("Register-ArgumentCompleter -Native -CommandName 'mlcompat'"));
    assert!(ps.contains("'mlcompat;doctor'") && ps.contains("--nfd-prefix"));
}

#[test]
fn man_pages_format_cleanly() {
    let page = mlcompat_out(&["man"]);
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH mlcompat 1"),
        "{page}"
    );
    for c in ["doctor", "table", "compare", "completions", "schema"] {
        assert!(page.contains(c), "{c}");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let printed = mlcompat_out(&["man", "--dir", &dir.path().display().to_string()]);
    assert!(printed.starts_with("man pages written to"));
    let doctor =
        std::fs::read_to_string(dir.path().join("mlcompat-doctor.1")).expect("doctor page");
    assert!(
        doctor.contains("nfd\\-prefix") && doctor.contains("prometheus"),
        "{doctor}"
    );
    assert!(dir.path().join("mlcompat.1").is_file());
    // The exit codes of --help, as an EXIT STATUS section: every code, nothing under EXTRA.
    let help = mlcompat_out(&["doctor", "--help"]);
    for page in [&doctor, &page] {
        assert!(page.contains(".SH \"EXIT STATUS\""), "{page}");
        assert!(!page.contains(".SH EXTRA"), "{page}");
    }
    for code in ["0", "1", "2"] {
        assert!(help.contains(&format!("\n  {code}  ")), "{help}");
        assert!(doctor.contains(&format!(".TP\n\\fB{code}\\fR")), "{doctor}");
    }
    assert!(doctor.contains("summary.problems") && help.contains("summary.problems"));
    if !have("groff") {
        eprintln!("skipped: groff not installed (pages written, not formatted)");
        return;
    }
    for entry in std::fs::read_dir(dir.path()).expect("pages") {
        let path = entry.expect("entry").path();
        let out = program("groff")
            .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
            .arg(&path)
            .output()
            .expect("groff runs");
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && warnings.trim().is_empty(),
            "{}: {warnings}",
            path.display()
        );
    }
}

#[test]
fn man_dir_must_exist() {
    let out = assert_cmd::Command::cargo_bin("mlcompat")
        .expect("binary is built")
        .args(["man", "--dir", "/nonexistent/folder"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a folder"));
}
