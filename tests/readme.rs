//! The examples of README.md and of the command pages (`docs/commands/*.md`) are what the tool prints:
//! every `$ mlcompat …` command in a fenced block whose answer does not depend on this machine (a
//! reference profile, the embedded matrix) is run, and its output compared with the lines under it. A
//! line that is only `…` stands for any lines. Run with `MLCOMPAT_BLESS=1` to write the current output
//! back into the files (elisions are then dropped).

use std::path::Path;

struct Example {
    /// Index of the `$ mlcompat …` line in README.md.
    line: usize,
    args: Vec<String>,
    expected: Vec<String>,
}

/// Commands whose output depends on the machine that runs them, or on files only the reader has
/// (`./my-matrix`).
fn depends_on_this_machine(args: &[String]) -> bool {
    if args
        .iter()
        .any(|a| (a.starts_with("./") || a.starts_with('/')) && !Path::new(a).exists())
    {
        return true;
    }
    let first = args.first().map(String::as_str).unwrap_or_default();
    let machine_given = args.iter().any(|a| a == "--profile" || a == "--facts");
    match first {
        "probe" | "bench" => true,
        "doctor" | "check" | "estimate" | "install-plan" => !machine_given,
        _ => false,
    }
}

/// Splits a shell line the way README writes them: words, single- or double-quoted strings.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut started = false;
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if started {
                    out.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (_, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(word);
    }
    out
}

fn examples(readme: &str) -> Vec<Example> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    let mut in_block = false;
    let mut current: Option<Example> = None;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("```") {
            if let Some(ex) = current.take() {
                out.push(ex);
            }
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            if let Some(ex) = current.take() {
                out.push(ex);
            }
            let w = words(cmd);
            if w.first().map(String::as_str) == Some("mlcompat")
                && !cmd.contains('|')
                && !cmd.contains('>')
            {
                current = Some(Example {
                    line: i,
                    args: w[1..].to_vec(),
                    expected: Vec::new(),
                });
            }
            continue;
        }
        if let Some(ex) = current.as_mut() {
            ex.expected.push(line.trim_end().to_string());
        }
    }
    out
}

/// Matches `actual` against `expected`, where a `…` line stands for any number of lines.
fn matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.iter().all(|l| l.is_empty()),
        Some((first, rest)) if first == "…" => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => {
            actual.first().is_some_and(|a| a == first) && matches(rest, &actual[1..])
        }
    }
}

fn run(args: &[String]) -> Vec<String> {
    let out = assert_cmd::Command::cargo_bin("mlcompat")
        .expect("binary built")
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env("MLCOMPAT_NO_CACHE", "1")
        .output()
        .expect("runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// README.md and every command page.
fn documents() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("docs/commands"))
        .expect("docs/commands")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    std::iter::once(root.join("README.md"))
        .chain(pages)
        .collect()
}

#[test]
fn readme_examples_are_what_the_tool_prints() {
    let bless = std::env::var_os("MLCOMPAT_BLESS").is_some();
    let mut failures = Vec::new();
    let mut checked_total = 0;
    for path in documents() {
        let shown = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(&path)
            .display()
            .to_string();
        let readme = std::fs::read_to_string(&path).expect("readable");
        let all = examples(&readme);
        let checked: Vec<&Example> = all
            .iter()
            .filter(|e| !depends_on_this_machine(&e.args))
            .collect();
        checked_total += checked.len();
        let mut lines: Vec<String> = readme.lines().map(str::to_string).collect();
        let mut differ = false;
        // From the bottom up, so blessing keeps the line numbers of the examples above valid.
        for ex in checked.iter().rev() {
            let mut actual = run(&ex.args);
            while actual.last().is_some_and(String::is_empty) {
                actual.pop();
            }
            let mut expected = ex.expected.clone();
            while expected.last().is_some_and(String::is_empty) {
                expected.pop();
            }
            if !matches(&expected, &actual) {
                differ = true;
                if bless {
                    lines.splice(
                        ex.line + 1..ex.line + 1 + ex.expected.len(),
                        actual.iter().cloned().chain(
                            // Keep the blank line that separated the next command, if there was one.
                            ex.expected
                                .iter()
                                .rev()
                                .take_while(|l| l.is_empty())
                                .cloned(),
                        ),
                    );
                }
                failures.push(format!(
                    "{shown}:{}: `mlcompat {}` prints\n{}\n",
                    ex.line + 1,
                    ex.args.join(" "),
                    actual.join("\n")
                ));
            }
        }
        if bless && differ {
            std::fs::write(&path, lines.join("\n") + "\n").expect("writable");
        }
    }
    assert!(checked_total >= 7, "only {checked_total} examples found");
    if bless {
        return;
    }
    assert!(
        failures.is_empty(),
        "{} examples differ (MLCOMPAT_BLESS=1 rewrites them):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A newcomer finishes the README: what mlcompat is, the two set-up commands, a tour, links — at most 250
/// lines; the reference is in docs/commands/, one page per command, each linked from the README.
#[test]
fn the_readme_is_short_and_links_every_command_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    assert!(
        readme.lines().count() <= 250,
        "{} lines",
        readme.lines().count()
    );
    let setup = readme
        .split("## Set up")
        .nth(1)
        .and_then(|s| s.split("```sh").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("a set-up block");
    let commands: Vec<&str> = setup.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(commands[0].contains("doctor") && commands[1].contains("scripts/test"));
    for page in documents().iter().skip(1) {
        let name = page.file_name().and_then(|n| n.to_str()).expect("name");
        assert!(
            readme.contains(&format!("(docs/commands/{name})")),
            "README does not link docs/commands/{name}"
        );
    }
}

#[test]
fn elisions_and_quotes() {
    let e = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(matches(&e(&["a", "…", "d"]), &e(&["a", "b", "c", "d"])));
    assert!(matches(&e(&["a", "…"]), &e(&["a"])));
    assert!(!matches(&e(&["a", "d"]), &e(&["a", "b", "d"])));
    assert_eq!(words("check a 'b c' \"d\""), e(&["check", "a", "b c", "d"]));
}
