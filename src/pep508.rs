//! PEP 508 dependency specifiers as core metadata writes them in `Requires-Dist`: a name, extras, version
//! specifiers or a URL, and an environment marker evaluated for one interpreter. Pure: the environment is
//! passed in. What pip's `packaging` does, for the grammar real wheels use.

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use crate::facts::normalize_package;

/// One `Requires-Dist` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    /// PEP 503 normalized.
    pub name: String,
    /// PEP 685 normalized.
    pub extras: Vec<String>,
    pub specifiers: Option<VersionSpecifiers>,
    /// `name @ url`: any installed version satisfies it, as for pip check.
    pub url: Option<String>,
    pub marker: Option<Marker>,
}

impl Requirement {
    /// The requirement without its marker, as a user would type it after `pip install`.
    pub fn spec(&self) -> String {
        let mut out = self.name.clone();
        if !self.extras.is_empty() {
            out.push_str(&format!("[{}]", self.extras.join(",")));
        }
        if let Some(s) = &self.specifiers {
            out.push_str(&s.to_string().replace(", ", ","));
        }
        out
    }

    /// Whether the requirement applies here, when the requirer was installed with `extras`.
    pub fn applies(&self, env: &MarkerEnv, extras: &[String]) -> bool {
        let Some(marker) = &self.marker else {
            return true;
        };
        if marker.mentions_extra() {
            extras.iter().any(|e| marker.eval(env, e))
        } else {
            marker.eval(env, "")
        }
    }

    /// Whether `version` satisfies the specifiers (pre-releases included, as pip check counts them).
    pub fn accepts(&self, version: &Version) -> bool {
        self.specifiers.as_ref().is_none_or(|s| s.contains(version))
    }
}

/// The interpreter a marker is evaluated for.
#[derive(Debug, Clone, Default)]
pub struct MarkerEnv {
    pub python_full_version: String,
    pub platform_machine: String,
    pub implementation_name: String,
    pub sys_platform: String,
    pub platform_system: String,
    pub os_name: String,
}

impl MarkerEnv {
    /// An interpreter of `version` (`3.11.7`) on `machine` (`x86_64`), on the OS this program runs on.
    pub fn for_interpreter(version: &str, machine: &str, implementation: &str) -> MarkerEnv {
        let (sys_platform, platform_system, os_name) = if cfg!(target_os = "macos") {
            ("darwin", "Darwin", "posix")
        } else if cfg!(windows) {
            ("win32", "Windows", "nt")
        } else if cfg!(target_os = "freebsd") {
            ("freebsd", "FreeBSD", "posix")
        } else {
            ("linux", "Linux", "posix")
        };
        MarkerEnv {
            python_full_version: version.to_string(),
            platform_machine: machine.to_string(),
            implementation_name: implementation.to_string(),
            sys_platform: sys_platform.into(),
            platform_system: platform_system.into(),
            os_name: os_name.into(),
        }
    }

    fn value(&self, var: &str, extra: &str) -> Option<String> {
        let v = match var {
            "python_version" => {
                let mut parts = self.python_full_version.split('.');
                match (parts.next(), parts.next()) {
                    (Some(a), Some(b)) => format!("{a}.{b}"),
                    _ => self.python_full_version.clone(),
                }
            }
            "python_full_version" | "implementation_version" => self.python_full_version.clone(),
            "platform_machine" => self.platform_machine.clone(),
            "implementation_name" => self.implementation_name.clone(),
            "platform_python_implementation" => match self.implementation_name.as_str() {
                "cpython" => "CPython".into(),
                "pypy" => "PyPy".into(),
                other => other.into(),
            },
            "sys_platform" => self.sys_platform.clone(),
            "platform_system" => self.platform_system.clone(),
            "os_name" => self.os_name.clone(),
            "extra" => extra.to_string(),
            // platform_release and platform_version are kernel strings no wheel we read depends on.
            _ => return None,
        };
        Some(v)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Marker {
    And(Box<Marker>, Box<Marker>),
    Or(Box<Marker>, Box<Marker>),
    Compare(Operand, String, Operand),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Var(String),
    Text(String),
}

impl Marker {
    fn mentions_extra(&self) -> bool {
        match self {
            Marker::And(a, b) | Marker::Or(a, b) => a.mentions_extra() || b.mentions_extra(),
            Marker::Compare(l, _, r) => [l, r]
                .iter()
                .any(|o| matches!(o, Operand::Var(v) if v == "extra")),
        }
    }

    pub fn eval(&self, env: &MarkerEnv, extra: &str) -> bool {
        match self {
            Marker::And(a, b) => a.eval(env, extra) && b.eval(env, extra),
            Marker::Or(a, b) => a.eval(env, extra) || b.eval(env, extra),
            Marker::Compare(l, op, r) => {
                let is_extra = [l, r]
                    .iter()
                    .any(|o| matches!(o, Operand::Var(v) if v == "extra"));
                let value = |o: &Operand| match o {
                    Operand::Var(v) => env.value(v, extra),
                    Operand::Text(t) => Some(t.clone()),
                };
                let (Some(mut lhs), Some(mut rhs)) = (value(l), value(r)) else {
                    return false;
                };
                if is_extra {
                    lhs = normalize_extra(&lhs);
                    rhs = normalize_extra(&rhs);
                }
                compare(&lhs, op, &rhs)
            }
        }
    }
}

/// As `packaging.markers`: a version comparison when the right side is a valid specifier version,
/// otherwise a string one (only `==`, `!=`, `in`, `not in` are defined on strings).
fn compare(lhs: &str, op: &str, rhs: &str) -> bool {
    match op {
        "in" => return rhs.contains(lhs),
        "not in" => return !rhs.contains(lhs),
        _ => {}
    }
    if let (Ok(spec), Ok(version)) = (
        VersionSpecifiers::from_str(&format!("{op}{rhs}")),
        Version::from_str(lhs),
    ) {
        return spec.contains(&version);
    }
    match op {
        "==" | "===" => lhs == rhs,
        "!=" => lhs != rhs,
        _ => false,
    }
}

/// PEP 685: extras compare like normalized names.
pub fn normalize_extra(name: &str) -> String {
    normalize_package(name)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Requirement {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        let err = |what: &str| ParseError(format!("{what} in requirement {text:?}"));
        let (head, marker) = match split_marker(text) {
            Some((h, m)) => (h, Some(parse_marker(m).map_err(|e| err(&e))?)),
            None => (text, None),
        };
        let head = head.trim();
        let name_end = head
            .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
            .unwrap_or(head.len());
        let name = &head[..name_end];
        if name.is_empty() {
            return Err(err("no name"));
        }
        let mut rest = head[name_end..].trim_start();
        let mut extras = Vec::new();
        if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']').ok_or_else(|| err("unclosed ["))?;
            extras = after[..close]
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(normalize_extra)
                .collect();
            rest = after[close + 1..].trim_start();
        }
        let mut specifiers = None;
        let mut url = None;
        if let Some(u) = rest.strip_prefix('@') {
            url = Some(u.trim().to_string());
        } else {
            let spec = rest.trim();
            let spec = spec
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .unwrap_or(spec)
                .trim();
            if !spec.is_empty() {
                specifiers = Some(
                    VersionSpecifiers::from_str(spec)
                        .map_err(|e| err(&format!("bad version specifier ({e})")))?,
                );
            }
        }
        Ok(Requirement {
            name: normalize_package(name),
            extras,
            specifiers,
            url,
            marker,
        })
    }
}

/// The `;` that starts the marker: outside quotes, and for a URL requirement after whitespace (a URL may
/// contain `;`).
fn split_marker(text: &str) -> Option<(&str, &str)> {
    let is_url = text.contains('@');
    let bytes = text.as_bytes();
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if b == b';' && (!is_url || i == 0 || bytes[i - 1].is_ascii_whitespace()) => {
                return Some((&text[..i], &text[i + 1..]));
            }
            None => {}
        }
    }
    None
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Op(String),
    Var(String),
    Text(String),
}

const VARIABLES: &[&str] = &[
    "python_version",
    "python_full_version",
    "os_name",
    "sys_platform",
    "platform_release",
    "platform_system",
    "platform_version",
    "platform_machine",
    "platform_python_implementation",
    "implementation_name",
    "implementation_version",
    "extra",
    // Legacy spellings setuptools still accepts.
    "os.name",
    "sys.platform",
    "platform.version",
    "platform.machine",
    "platform.python_implementation",
    "python_implementation",
];

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Token::Open);
            i += 1;
        } else if c == ')' {
            out.push(Token::Close);
            i += 1;
        } else if c == '\'' || c == '"' {
            let end = chars[i + 1..]
                .iter()
                .position(|&d| d == c)
                .ok_or("unclosed quote in marker")?;
            out.push(Token::Text(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if "<>=!~".contains(c) {
            let mut op = String::from(c);
            while i + op.len() < chars.len() && "<>=!~".contains(chars[i + op.len()]) {
                op.push(chars[i + op.len()]);
            }
            i += op.len();
            out.push(Token::Op(op));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "._".contains(chars[i])) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            match word.as_str() {
                "and" => out.push(Token::And),
                "or" => out.push(Token::Or),
                "in" => out.push(Token::Op("in".into())),
                "not" => {
                    // `not in`
                    let rest: String = chars[i..].iter().collect();
                    let trimmed = rest.trim_start();
                    if let Some(after) = trimmed.strip_prefix("in") {
                        i = chars.len() - after.chars().count();
                        out.push(Token::Op("not in".into()));
                    } else {
                        return Err("`not` without `in` in marker".into());
                    }
                }
                w if VARIABLES.contains(&w) => out.push(Token::Var(canonical_var(w).into())),
                w => return Err(format!("unknown marker variable `{w}`")),
            }
        } else {
            return Err(format!("unexpected `{c}` in marker"));
        }
    }
    Ok(out)
}

fn canonical_var(name: &str) -> &str {
    match name {
        "os.name" => "os_name",
        "sys.platform" => "sys_platform",
        "platform.version" => "platform_version",
        "platform.machine" => "platform_machine",
        "platform.python_implementation" | "python_implementation" => {
            "platform_python_implementation"
        }
        other => other,
    }
}

pub fn parse_marker(text: &str) -> Result<Marker, String> {
    let toks = tokens(text)?;
    let mut pos = 0;
    let m = parse_or(&toks, &mut pos)?;
    if pos != toks.len() {
        return Err("unexpected text after marker".into());
    }
    Ok(m)
}

fn parse_or(t: &[Token], pos: &mut usize) -> Result<Marker, String> {
    let mut left = parse_and(t, pos)?;
    while t.get(*pos) == Some(&Token::Or) {
        *pos += 1;
        let right = parse_and(t, pos)?;
        left = Marker::Or(Box::new(left), Box::new(right));
    }
    Ok(left)
}

fn parse_and(t: &[Token], pos: &mut usize) -> Result<Marker, String> {
    let mut left = parse_atom(t, pos)?;
    while t.get(*pos) == Some(&Token::And) {
        *pos += 1;
        let right = parse_atom(t, pos)?;
        left = Marker::And(Box::new(left), Box::new(right));
    }
    Ok(left)
}

fn parse_atom(t: &[Token], pos: &mut usize) -> Result<Marker, String> {
    if t.get(*pos) == Some(&Token::Open) {
        *pos += 1;
        let inner = parse_or(t, pos)?;
        if t.get(*pos) != Some(&Token::Close) {
            return Err("unclosed ( in marker".into());
        }
        *pos += 1;
        return Ok(inner);
    }
    let operand = |tok: Option<&Token>| match tok {
        Some(Token::Var(v)) => Ok(Operand::Var(v.clone())),
        Some(Token::Text(s)) => Ok(Operand::Text(s.clone())),
        _ => Err("expected a marker variable or a quoted string".to_string()),
    };
    let left = operand(t.get(*pos))?;
    let Some(Token::Op(op)) = t.get(*pos + 1) else {
        return Err("expected a comparison in marker".into());
    };
    let right = operand(t.get(*pos + 2))?;
    *pos += 3;
    Ok(Marker::Compare(left, op.clone(), right))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux() -> MarkerEnv {
        MarkerEnv {
            python_full_version: "3.11.7".into(),
            platform_machine: "x86_64".into(),
            implementation_name: "cpython".into(),
            sys_platform: "linux".into(),
            platform_system: "Linux".into(),
            os_name: "posix".into(),
        }
    }

    fn req(s: &str) -> Requirement {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn real_requires_dist_lines() {
        // torch 2.15.0, vllm, transformers and xformers METADATA lines.
        let r = req("cuda-toolkit[cublas,cudart]==13.2.2; platform_system == \"Linux\"");
        assert_eq!(r.name, "cuda-toolkit");
        assert_eq!(r.extras, ["cublas", "cudart"]);
        assert!(r.applies(&linux(), &[]));
        let r = req("nvidia-cuda-runtime-cu12==12.8.90; platform_system == \"Linux\" and platform_machine == \"x86_64\"");
        assert!(r.applies(&linux(), &[]));
        let mut arm = linux();
        arm.platform_machine = "aarch64".into();
        assert!(!r.applies(&arm, &[]));
        let r = req("torch==2.14.0");
        assert!(r.accepts(&"2.14.0+cu130".parse().unwrap()));
        assert!(!r.accepts(&"2.15.0".parse().unwrap()));
        assert_eq!(r.spec(), "torch==2.14.0");
        let r = req("sympy>=1.13.3");
        assert!(r.applies(&linux(), &[]));
        let r = req("torch>=2.2; extra == \"torch\"");
        assert!(!r.applies(&linux(), &[]));
        assert!(r.applies(&linux(), &["torch".into()]));
        let r = req("accelerate>=1.1.0; extra == 'Torch' or extra == \"accelerate\"");
        assert!(r.applies(&linux(), &["torch".into()]));
        let r = req("tomli; python_version < \"3.11\"");
        assert!(!r.applies(&linux(), &[]));
        let r = req("typing-extensions>=4.10.0; python_version < '3.13'");
        assert!(r.applies(&linux(), &[]));
        let r = req("pywin32; sys_platform == 'win32'");
        assert!(!r.applies(&linux(), &[]));
        let r = req("triton==3.9.0; platform_system == \"Linux\" and platform_machine in \"x86_64 aarch64\"");
        assert!(r.applies(&linux(), &[]));
        let r = req("uvloop; platform_system != \"Windows\" and (sys_platform != \"cygwin\" and platform_python_implementation != \"PyPy\")");
        assert!(r.applies(&linux(), &[]));
        let r = req("foo (>=1.0,<2)");
        assert!(r.accepts(&"1.5".parse().unwrap()));
        let r = req("flashinfer @ https://x/y.whl ; platform_machine == 'x86_64'");
        assert_eq!(r.url.as_deref(), Some("https://x/y.whl"));
        assert!(r.accepts(&"0.1".parse().unwrap()));
        let r = req("Foo.Bar_baz[Extra_One]>=1; extra == 'Extra.One'");
        assert_eq!(r.name, "foo-bar-baz");
        assert!(r.applies(&linux(), &["extra-one".into()]));
        let r = req("numpy; python_full_version >= '3.11.3' and 'linux' in sys_platform");
        assert!(r.applies(&linux(), &[]));
        let r = req("x; platform_machine not in 'arm64 aarch64'");
        assert!(r.applies(&linux(), &[]));
    }

    #[test]
    fn bad_requirements_are_errors_not_panics() {
        for bad in [
            "",
            "[x]",
            "x; python_version <",
            "x; foo == '1'",
            "x; (python_version > '3'",
            "x; 'unclosed",
            "x >= notaversion!!",
            "x[unclosed",
        ] {
            assert!(bad.parse::<Requirement>().is_err(), "{bad:?}");
        }
    }
}
