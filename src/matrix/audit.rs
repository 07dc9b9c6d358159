//! `mlcompat matrix audit`: what in the matrix has gone stale, cites a page too vaguely, or describes a
//! release older than the newest one the matrix knows. A pure function of the matrix and a given day.
//!
//! Three checks, each over every rule, known failure, profile figure and release entry:
//! - **stale**: `checked` is more than `older_than_days` before `today`;
//! - **not specific**: the source cites no page (no URL), a site's root (`https://onnxruntime.ai`), or
//!   gives no words from the page. A rule's claim is prose, so its source must quote the page ('…',
//!   "…", ‘…’ or “…”); a figure comes from a spec table, so the row's words and value after the URL
//!   are enough. A figure that is a chosen reference configuration says so with `chosen:`;
//! - **outdated version**: `latest.yaml` names each watched project, what it is called in sources
//!   (`torch`, `PyTorch`) and its newest release. A source or claim that names an older release series
//!   (`torch 2.12-2.14`, `cuDNN 9.17`, a `/v0.49.0/` docs URL) is listed, because it describes the
//!   project as it was. History is not: a version after `since`, `before`, `until`, `last`, … or
//!   behind `<`, `>=`, a pin `==`, `+` or `or later` is a bound, and is skipped. Versions compare by
//!   release series (the first two numbers), so a patch release does not make every page stale.

use serde::Serialize;

use super::{Day, Matrix};
use crate::yaml::Loc;

/// How old a `checked` date may be before the audit lists it, unless told otherwise.
pub const DEFAULT_OLDER_THAN_DAYS: u32 = 180;

#[derive(Debug, Clone, Copy)]
pub struct AuditOptions {
    pub today: Day,
    pub older_than_days: u32,
}

/// One thing the audit lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// What the finding is about: `rule vllm-macos`, `profile dgx-spark figure bandwidth_gbs`.
    pub subject: String,
    pub kind: FindingKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    Stale,
    NotSpecific,
    OutdatedVersion,
    /// A row and the release data disagree on a reference profile (`plan::agreement`).
    ReleaseData,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Stale => "stale",
            FindingKind::NotSpecific => "not specific",
            FindingKind::OutdatedVersion => "outdated version",
            FindingKind::ReleaseData => "release data",
        }
    }
}

/// Something with a dated source: a rule, a figure or a release entry.
struct Entry<'a> {
    file: &'a str,
    loc: Loc,
    subject: String,
    source: &'a str,
    /// Text that makes claims besides the source (a rule's note, reason and fix).
    claims: Vec<&'a str>,
    checked: Day,
    /// A rule's source must quote the page; a figure's may give the table row.
    needs_quote: bool,
    /// The release entry this is, when it is one (its own version is not a mention).
    release: Option<usize>,
    /// The source quotes threads that established a known failure: their versions are what the
    /// reporters ran then, dated by the thread, not claims about today (the claims are still checked).
    source_is_history: bool,
}

/// Every finding, in file order.
pub fn audit(matrix: &Matrix, options: AuditOptions) -> Vec<Finding> {
    let entries = entries(matrix);
    let mut findings = Vec::new();
    for e in &entries {
        let age = e.checked.days_until(options.today);
        if age > i64::from(options.older_than_days) {
            findings.push(finding(
                e,
                FindingKind::Stale,
                format!(
                    "checked {}, {age} days ago (limit {} days): read the source again",
                    e.checked, options.older_than_days
                ),
            ));
        }
        if let Some(why) = vague_source(e.source, e.needs_quote) {
            findings.push(finding(e, FindingKind::NotSpecific, why));
        }
    }
    findings.extend(outdated_versions(matrix, &entries));
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.kind).cmp(&(&b.file, b.line, b.column, b.kind))
    });
    findings
}

fn finding(e: &Entry, kind: FindingKind, message: String) -> Finding {
    Finding {
        file: e.file.to_string(),
        line: Some(e.loc.line),
        column: Some(e.loc.col),
        subject: e.subject.clone(),
        kind,
        message,
    }
}

fn entries(matrix: &Matrix) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    for sw in &matrix.software {
        for r in &sw.rules {
            let mut claims = vec![r.note.as_str(), r.reason.as_str()];
            claims.extend(r.fix.as_deref());
            out.push(Entry {
                file: &matrix.software_file,
                loc: r.loc,
                subject: format!("rule {}", r.id),
                source: &r.source,
                claims,
                checked: r.checked,
                needs_quote: true,
                release: None,
                source_is_history: r.failure.is_some(),
            });
        }
    }
    for f in &matrix.failures.failures {
        let fix = match &f.fix {
            super::failures::FailureFix::Text(t) => t.as_str(),
            super::failures::FailureFix::Install { otherwise, .. } => otherwise.as_str(),
        };
        out.push(Entry {
            file: &matrix.failures.file,
            loc: f.loc,
            subject: format!("failure {}", f.id),
            source: &f.source,
            claims: vec![f.title.as_str(), f.cause.as_str(), fix],
            checked: f.checked,
            needs_quote: true,
            release: None,
            source_is_history: true,
        });
    }
    for p in &matrix.profiles {
        for f in &p.figures {
            out.push(Entry {
                file: &p.file,
                loc: f.loc,
                subject: format!("profile {} figure {}", p.id, f.key),
                source: &f.source,
                claims: vec![],
                checked: f.checked,
                needs_quote: false,
                release: None,
                source_is_history: false,
            });
        }
    }
    for g in &matrix.gpus.gpus {
        out.push(Entry {
            file: &matrix.gpus.file,
            loc: g.loc,
            subject: format!("GPU {}", g.id),
            source: &g.source,
            claims: vec![],
            checked: g.checked,
            needs_quote: true,
            release: None,
            source_is_history: false,
        });
    }
    for s in &matrix.gpus.series {
        out.push(Entry {
            file: &matrix.gpus.file,
            loc: s.loc,
            subject: format!("GPU series {}", s.id),
            source: &s.source,
            claims: vec![],
            checked: s.checked,
            needs_quote: true,
            release: None,
            source_is_history: false,
        });
    }
    for (i, r) in matrix.latest.iter().enumerate() {
        out.push(Entry {
            file: &r.file,
            loc: r.loc,
            subject: format!("release {}", r.project),
            source: &r.source,
            claims: vec![],
            checked: r.checked,
            needs_quote: false,
            release: Some(i),
            source_is_history: false,
        });
    }
    out
}

/// Why a source does not point at the page and its words, if it does not.
pub fn vague_source(source: &str, needs_quote: bool) -> Option<String> {
    let text = source.trim();
    if text.starts_with("chosen:") {
        return None;
    }
    let urls = urls(text);
    if urls.is_empty() {
        return Some("cites no page (no URL); a chosen reference value says `chosen: why`".into());
    }
    if let Some(root) = urls.iter().find(|u| !has_path(u)) {
        return Some(format!(
            "cites `{root}`, a site's root: name the page that says it"
        ));
    }
    if needs_quote {
        if !has_quote(text) {
            return Some(
                "quotes nothing from the page: add its words in quotation marks ('…')".into(),
            );
        }
    } else if words_besides_urls(text) < 3 {
        return Some("gives no words from the page: add the row or sentence it shows".into());
    }
    None
}

/// The URLs in a source, without trailing punctuation.
fn urls(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| {
                c.is_whitespace() || c.is_control() || matches!(c, '\'' | '"' | '<' | '>')
            })
            .unwrap_or(tail.len());
        let url = tail[..end].trim_end_matches(['.', ',', ';', ':', ')', ']']);
        out.push(url);
        rest = &tail[end..];
    }
    out
}

/// Whether a URL names something below the site root (a path segment, or a fragment on a page).
fn has_path(url: &str) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let Some((_, path)) = after_scheme.split_once('/') else {
        return false;
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    path.split('/').any(|segment| !segment.is_empty())
}

/// Whether the text quotes something: a passage in '…', "…", ‘…’ or “…” of three or more characters.
/// An apostrophe inside a word (`NVIDIA's`) does not open a quote.
fn has_quote(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let close = match c {
            '\'' => '\'',
            '"' => '"',
            '‘' => '’',
            '“' => '”',
            _ => continue,
        };
        let opens = i == 0 || !chars[i - 1].is_alphanumeric();
        if !opens {
            continue;
        }
        let inner: String = chars[i + 1..].iter().take_while(|&&x| x != close).collect();
        let closed = i + 1 + inner.chars().count() < chars.len();
        if closed && inner.trim().chars().count() >= 3 {
            return true;
        }
    }
    false
}

fn words_besides_urls(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| !w.contains("://"))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// A release version as numbers: `2.15.0`, `v0.50.0`, `9.28.1.4`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(Vec<u64>);

impl Version {
    /// At least two dot-separated numbers, optionally after a `v`.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
        let parts: Option<Vec<u64>> = text.split('.').map(|p| p.parse().ok()).collect();
        parts.filter(|p| p.len() >= 2).map(Version)
    }

    /// The release series: major and minor. `2.15.0` and `2.15` are the same series.
    fn series(&self) -> (u64, u64) {
        (self.0[0], self.0.get(1).copied().unwrap_or(0))
    }

    fn to_text(&self) -> String {
        self.0
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// A project name followed by a version in some text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub name: String,
    pub version: Version,
    /// History or a bound (`since torch 2.11`, `torch <= 2.2.2`, `2.7+`): not a claim about today.
    pub qualified: bool,
}

const QUALIFIERS: &[&str] = &[
    "since",
    "before",
    "until",
    "till",
    "from",
    "after",
    "pre",
    "prior",
    "older",
    "earlier",
    "old",
    "legacy",
    "last",
    "first",
    "introduced",
    "added",
    "dropped",
    "removed",
    "deprecated",
    "fixed",
    "through",
    "below",
    "above",
    "least",
    "most",
    "up",
    "was",
    "were",
];

const QUALIFYING_SUFFIXES: &[&str] = &[
    "+",
    " or later",
    " or newer",
    " and later",
    " and newer",
    " or earlier",
    " or older",
    " and earlier",
    " and older",
    " and below",
    " and above",
    " is the last",
    " was the last",
    " is the first",
    " was the first",
];

/// Every mention of one of `names` followed by a version: `torch 2.15`, `PyTorch 2.11`,
/// `torch==2.9.1` (a pin, so a bound), `bitsandbytes/v0.50.0/`, `torch 2.12-2.14` (the upper end of a range).
pub fn mentions(text: &str, names: &[String]) -> Vec<Mention> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    for name in names.iter().filter(|n| !n.trim().is_empty()) {
        let needle = name.to_ascii_lowercase();
        let mut from = 0;
        while let Some(found) = lower[from..].find(&needle) {
            let start = from + found;
            let end = start + needle.len();
            from = end;
            let before_ok = lower[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric() && c != '_');
            if !before_ok {
                continue;
            }
            if let Some((version, bound, rest)) = version_after(&text[end..]) {
                let qualified = bound
                    || qualified_before(&lower[..start])
                    || QUALIFYING_SUFFIXES
                        .iter()
                        .any(|s| rest.to_ascii_lowercase().starts_with(s));
                out.push(Mention {
                    name: name.clone(),
                    version,
                    qualified,
                });
            }
        }
    }
    out
}

/// A version right after a name: separators (space, `/`, `==`), or a comparison (a bound), an optional
/// `v`, then the version; a range `A-B` gives `B`. Returns the version, whether it is a bound, and the
/// text after it.
fn version_after(text: &str) -> Option<(Version, bool, &str)> {
    let mut rest = text;
    let mut bound = false;
    let mut separated = false;
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t', '/']);
        if trimmed.len() != rest.len() {
            separated = true;
            rest = trimmed;
            continue;
        }
        // A pin (`torch==2.14.0`) states a deliberate choice, like a bound, not what is current.
        if let Some(after) = rest.strip_prefix("==") {
            separated = true;
            bound = true;
            rest = after;
            continue;
        }
        let op = [">=", "<=", "~=", "!=", "≥", "≤", "<", ">"]
            .iter()
            .find(|op| rest.starts_with(*op));
        if let Some(op) = op {
            separated = true;
            bound = true;
            rest = &rest[op.len()..];
            continue;
        }
        break;
    }
    if !separated {
        return None;
    }
    let (first, mut rest) = version_token(rest)?;
    let mut version = first;
    for dash in ['-', '–'] {
        if let Some(after) = rest.strip_prefix(dash) {
            if let Some((upper, tail)) = version_token(after) {
                version = upper;
                rest = tail;
            }
        }
    }
    Some((version, bound, rest))
}

fn version_token(text: &str) -> Option<(Version, &str)> {
    let body = text.strip_prefix(['v', 'V']).unwrap_or(text);
    let len = body
        .char_indices()
        .take_while(|(_, c)| c.is_ascii_digit() || *c == '.')
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    let token = body[..len].trim_end_matches('.');
    let version = Version::parse(token)?;
    Some((version, &body[token.len()..]))
}

/// Whether the clause before a name qualifies it as history or a bound (`since`, `before`, `last`, …).
fn qualified_before(before: &str) -> bool {
    let clause_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| matches!(c, '.' | ';' | ',' | '(' | ')' | '—' | ':' | '\n'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let clause = &before[clause_start..];
    let words: Vec<&str> = clause
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().rev().take(4).any(|w| QUALIFIERS.contains(w))
        || clause.trim_end().ends_with(['<', '>', '≤', '≥'])
}

fn outdated_versions(matrix: &Matrix, entries: &[Entry]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (ri, release) in matrix.latest.iter().enumerate() {
        let Some(declared) = Version::parse(&release.version) else {
            continue;
        };
        // Every unqualified mention of this project, with the entry it is in.
        let mut found: Vec<(&Entry, Mention)> = Vec::new();
        for e in entries {
            let source = (!e.source_is_history).then_some(e.source);
            for text in source.into_iter().chain(e.claims.iter().copied()) {
                for m in mentions(text, &release.names) {
                    if !m.qualified {
                        found.push((e, m));
                    }
                }
            }
        }
        let newest_named = found
            .iter()
            .filter(|(e, _)| e.release.is_none())
            .max_by(|a, b| a.1.version.cmp(&b.1.version));
        let (newest, newest_where) = match newest_named {
            Some((e, m)) if m.version.series() > declared.series() => {
                let release_entry = entries.iter().find(|x| x.release == Some(ri));
                if let Some(re) = release_entry {
                    findings.push(finding(
                        re,
                        FindingKind::OutdatedVersion,
                        format!(
                            "says {} {}, but {} names {} {}: update the release entry",
                            release.project,
                            release.version,
                            e.subject,
                            m.name,
                            m.version.to_text()
                        ),
                    ));
                }
                (m.version.clone(), e.subject.clone())
            }
            _ => (declared, format!("release {}", release.project)),
        };
        // One finding per entry and version: "vLLM 0.7" and "vllm 0.7" are one mention.
        let mut listed: Vec<(Loc, String)> = Vec::new();
        for (e, m) in &found {
            if e.release == Some(ri) || m.version.series() >= newest.series() {
                continue;
            }
            let key = (e.loc, m.version.to_text());
            if listed.contains(&key) {
                continue;
            }
            listed.push(key);
            findings.push(finding(
                e,
                FindingKind::OutdatedVersion,
                format!(
                    "names {} {} as current, but the newest the matrix knows is {} ({newest_where}): re-read the source for the current release, or mark history with since/before/until",
                    m.name,
                    m.version.to_text(),
                    newest.to_text()
                ),
            ));
        }
    }
    findings.dedup();
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn found(text: &str) -> Vec<(String, bool)> {
        mentions(text, &names(&["torch", "PyTorch", "bitsandbytes", "cuDNN"]))
            .into_iter()
            .map(|m| (m.version.to_text(), m.qualified))
            .collect()
    }

    #[test]
    fn finds_current_claims_and_skips_history_and_bounds() {
        assert_eq!(
            found("torch 2.12-2.14 ship cu126"),
            [("2.14".into(), false)]
        );
        assert_eq!(
            found("PyTorch 2.11 publishes wheels"),
            [("2.11".into(), false)]
        );
        assert_eq!(found("cuDNN 9.17 for CUDA 13.x"), [("9.17".into(), false)]);
        assert_eq!(
            found("https://huggingface.co/docs/bitsandbytes/v0.49.0/installation"),
            [("0.49.0".into(), false)]
        );
        for history in [
            "Since torch 2.10, PyPI contains CUDA wheels",
            "before torch 2.11 plain PyPI torch was CPU-only",
            "Intel Mac: torch <= 2.2.2",
            "needs torch >= 2.4",
            "torch 2.7+ ships Blackwell kernels",
            "torch 2.2 or later",
            "torch 2.2.2 is the last release for Intel Macs",
            "cu128 was dropped after torch 2.11",
            "vllm 0.33.0 pins torch==2.14.0",
        ] {
            let f = found(history);
            assert!(f.iter().all(|(_, q)| *q), "{history}: {f:?}");
        }
    }

    #[test]
    fn needs_a_word_boundary_and_a_separator() {
        assert!(found("libtorch2.1 and torchvision 0.20").is_empty());
        assert!(found("torch {package.torch} is a CPU build").is_empty());
        assert!(found("torch.cuda 12.8").is_empty());
        assert_eq!(found("(PyTorch 2.15)"), [("2.15".into(), false)]);
        // A multi-byte clause break right before the name (this once sliced inside the dash).
        assert_eq!(
            found("RELEASE.md — torch 2.14 ships"),
            [("2.14".into(), false)]
        );
        assert_eq!(found("wheels — since torch 2.11"), [("2.11".into(), true)]);
    }

    #[test]
    fn vague_sources() {
        assert!(vague_source("https://pytorch.org/get-started/locally/", true).is_some());
        assert!(vague_source("https://onnxruntime.ai — 'ONNX Runtime'", true).is_some());
        assert!(vague_source("https://docs.ollama.com/gpu — Vulkan GPU Support", true).is_some());
        assert!(vague_source("no link here, 'a quote'", true).is_some());
        assert!(vague_source(
            "https://docs.ollama.com/gpu — 'Ollama supports Nvidia GPUs with compute capability 5.0+'",
            true
        )
        .is_none());
        assert!(vague_source(
            "https://x.org/a — NVIDIA's figure is 'up to 1 petaFLOP'",
            true
        )
        .is_none());
        assert!(vague_source("https://x.org/a — NVIDIA's figure", true).is_some());
        assert!(vague_source("https://x.org/spec — memory bandwidth 273 GB/s", false).is_none());
        assert!(vague_source("https://x.org/spec", false).is_some());
        assert!(vague_source("chosen: a typical desktop", false).is_none());
        assert!(has_path("https://github.com/a/b#readme"));
        assert!(!has_path("https://onnxruntime.ai/"));
        assert!(!has_path("https://onnxruntime.ai/#install"));
    }
}
