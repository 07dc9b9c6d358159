//! A paste as people post it, cut into the pieces that may each hold one dump: at Markdown fences,
//! `<details>`/`<summary>` lines, shell prompts (`$ nvidia-smi`, `user@box:~$ pip list`), and the lines
//! that start a dump (`Collecting environment information...`, nvidia-smi's `+---` rule above `|
//! NVIDIA-SMI`, `==============NVSMI LOG==============`, …). Quoting (`> `) and terminal colour codes
//! are taken off. A prompt's command stays with its piece: a `conda list | grep torch` has no header.

/// One piece of a paste, and the command a prompt above it ran.
pub(super) struct Piece {
    pub text: String,
    pub command: Option<String>,
}

/// The pieces of `text`, none empty.
pub(super) fn pieces(text: &str) -> Vec<Piece> {
    let lines: Vec<String> = text.split('\n').map(clean).collect();
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut command: Option<String> = None;
    let flush = |current: &mut Vec<&str>, command: &mut Option<String>, out: &mut Vec<Piece>| {
        if current.iter().any(|l| !l.trim().is_empty()) {
            out.push(Piece {
                text: current.join("\n"),
                command: command.take(),
            });
        }
        current.clear();
        *command = None;
    };
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("```").or_else(|| t.strip_prefix("~~~")) {
            flush(&mut current, &mut command, &mut out);
            // A fence glued to the first line of what it holds: "```Collecting environment information...".
            let rest = rest.trim_start_matches(['`', '~']);
            if rest.contains(char::is_whitespace) || rest.ends_with("...") {
                current.push(rest);
            }
            continue;
        }
        if is_html(t) {
            flush(&mut current, &mut command, &mut out);
            continue;
        }
        if let Some(cmd) = prompt_command(t).or_else(|| bare_command(t)) {
            flush(&mut current, &mut command, &mut out);
            command = Some(cmd.to_string());
            continue;
        }
        if starts_dump(t) {
            if current.iter().all(|l| l.trim().is_empty()) {
                // Nothing since the prompt: its command is this dump's.
                current.clear();
            } else {
                flush(&mut current, &mut command, &mut out);
            }
        } else if t.starts_with("| NVIDIA-SMI") {
            // The table starts at the rule above this line (and its timestamp above that).
            let mut keep = 0;
            if i >= 1 && lines[i - 1].trim().starts_with("+-") {
                keep = 1;
                if i >= 2 && current.len() >= 2 && is_timestamp(lines[i - 2].trim()) {
                    keep = 2;
                }
            }
            let keep = keep.min(current.len());
            let moved: Vec<&str> = current.split_off(current.len() - keep);
            if current.iter().all(|l| l.trim().is_empty()) {
                // Nothing before the table since the prompt: the prompt's command is the table's.
                current.clear();
            } else {
                flush(&mut current, &mut command, &mut out);
            }
            current = moved;
        }
        current.push(line.as_str());
    }
    flush(&mut current, &mut command, &mut out);
    out
}

/// The line without `\r`, one level of Markdown quoting, and terminal escape sequences.
pub(super) fn clean(line: &str) -> String {
    let line = line.trim_end_matches('\r');
    let line = match line.strip_prefix('>') {
        Some(rest) if rest.is_empty() || rest.starts_with(' ') => {
            rest.strip_prefix(' ').unwrap_or(rest)
        }
        _ => line,
    };
    if !line.contains('\u{1b}') {
        return line.to_string();
    }
    // ESC [ parameters final-byte (colours), ESC ] … BEL (titles), else the ESC alone.
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                for c in chars.by_ref() {
                    if c == '\u{7}' {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn is_html(t: &str) -> bool {
    [
        "<details",
        "</details",
        "<summary",
        "</summary",
        "<pre",
        "</pre",
    ]
    .iter()
    .any(|tag| t.starts_with(tag))
}

/// Lines that only ever open a dump.
fn starts_dump(t: &str) -> bool {
    t == "Collecting environment information..."
        || t == "==============NVSMI LOG=============="
        || t.starts_with("ROCk module is")
        || t.starts_with("nvcc: NVIDIA (R) Cuda compiler driver")
        || t.starts_with("# packages in environment at")
        || t == "Hardware:"
        || t == "Hardware Overview:"
        || t == "Hardware Overview"
        || (t.starts_with("====") && t.contains("System Management Interface"))
}

/// A package-list command pasted without its prompt: `pip list|grep -ie triton -e torch`.
fn bare_command(t: &str) -> Option<&str> {
    let listing = [
        "pip list",
        "pip3 list",
        "python -m pip list",
        "python3 -m pip list",
        "uv pip list",
        "pip freeze",
        "pip3 freeze",
        "conda list",
    ]
    .iter()
    .any(|c| {
        t.strip_prefix(c)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '|']))
    });
    (listing && t.len() <= 200).then_some(t)
}

/// `Tue Mar 12 17:24:45 2024`: nvidia-smi's first line.
fn is_timestamp(t: &str) -> bool {
    let words: Vec<&str> = t.split_whitespace().collect();
    words.len() == 5
        && ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].contains(&words[0])
        && words[3].matches(':').count() == 2
}

/// The command of a shell prompt line: `$ nvidia-smi`, `❯ conda list`, `(venv) user@box:~/x$ pip list`,
/// `PS C:\Users\me> nvidia-smi`.
pub(super) fn prompt_command(t: &str) -> Option<&str> {
    let command = if let Some(rest) = ["$ ", "❯ ", "% "].iter().find_map(|p| t.strip_prefix(p)) {
        rest
    } else if let Some(i) = t.find("$ ") {
        let before = &t[..i];
        // `(venv) user@host:~/dir`: no spaces but after the environment's name, and a host or a path.
        let host = before.rsplit(' ').next().unwrap_or(before);
        let env_ok = before.split(' ').count() == 1
            || (before.starts_with('(') && before.split(' ').count() == 2);
        if !env_ok || !(host.contains('@') || host.contains(':') || host.contains('~')) {
            return None;
        }
        &t[i + 2..]
    } else if t.starts_with("PS ") && t.contains(":\\") {
        t.split_once("> ")?.1
    } else {
        return None;
    };
    let command = command.trim();
    command
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '/' || c == '~')
        .then_some(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts() {
        assert_eq!(prompt_command("$ nvidia-smi"), Some("nvidia-smi"));
        assert_eq!(
            prompt_command("(vllm-wjh) azure@spark-0809:~/repos/vllm$ python collect_env.py"),
            Some("python collect_env.py")
        );
        assert_eq!(
            prompt_command("❯ conda list | grep pytorch"),
            Some("conda list | grep pytorch")
        );
        assert_eq!(
            prompt_command("PS C:\\Users\\me> nvidia-smi"),
            Some("nvidia-smi")
        );
        assert_eq!(prompt_command("it costs $ 5 here"), None);
        assert_eq!(prompt_command("### Your current environment"), None);
    }

    #[test]
    fn pieces_split_at_fences_prompts_and_starts() {
        let p = pieces("### Env\n<details>\n```text\n$ nvidia-smi\nTue Mar 12 17:24:45 2024\n+---+\n| NVIDIA-SMI 550 |\n```\n> ```\n> OS: x\n");
        let texts: Vec<&str> = p.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "### Env",
                "Tue Mar 12 17:24:45 2024\n+---+\n| NVIDIA-SMI 550 |",
                "OS: x\n"
            ]
        );
        assert_eq!(p[1].command.as_deref(), Some("nvidia-smi"));
        let p = pieces("Collecting environment information...\nx\n+--+\n| NVIDIA-SMI 1 |\n");
        assert_eq!(p.len(), 2);
        assert!(p[1].text.starts_with("+--+"));
        let p = pieces("$ conda list\n# packages in environment at /x:\n");
        assert_eq!(p[0].command.as_deref(), Some("conda list"));
        assert_eq!(clean("\u{1b}[32mOK\u{1b}[0m \u{1b}]0;t\u{7}x"), "OK x");
    }
}
