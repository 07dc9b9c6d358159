//! Rule conditions: read from located YAML by hand (not serde) so that every problem — an unknown fact,
//! a version that does not parse, two tests in one node — is reported at its own line and column.

use crate::facts::keys::{allowed_texts, FactKey, Value, ValueKind};
use crate::yaml::{Kind, Node, Problem};

#[derive(Debug, Clone)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    Test { fact: FactKey, test: Test },
}

#[derive(Debug, Clone)]
pub enum Test {
    Is(Value),
    In(Vec<Value>),
    NotIn(Vec<Value>),
    AtLeast(Value),
    Below(Value),
    Present(bool),
    Contains(String),
}

impl Condition {
    /// Every fact the condition tests.
    pub fn facts(&self) -> Vec<&FactKey> {
        match self {
            Condition::All(parts) | Condition::Any(parts) => {
                parts.iter().flat_map(Condition::facts).collect()
            }
            Condition::Not(inner) => inner.facts(),
            Condition::Test { fact, .. } => vec![fact],
        }
    }
}

const COMBINATORS: &[&str] = &["all", "any", "not"];
const TESTS: &[&str] = &[
    "is", "in", "not_in", "at_least", "below", "present", "contains",
];

/// Compiles a `when:` node, adding every problem found to `problems`.
pub(crate) fn compile(node: &Node, problems: &mut Vec<Problem>) -> Option<Condition> {
    let Some(entries) = node.as_map() else {
        problems.push(Problem::at(
            node.loc,
            format!("a condition must be a mapping, found {}", node.describe()),
        ));
        return None;
    };
    let mut ok = true;
    for (key, _) in entries {
        let k = key.as_str().unwrap_or_default();
        if k != "fact" && !COMBINATORS.contains(&k) && !TESTS.contains(&k) {
            problems.push(Problem::at(
                key.loc,
                format!(
                    "unknown key `{k}` in condition (expected fact with one of {}, or one of {})",
                    TESTS.join("/"),
                    COMBINATORS.join("/")
                ),
            ));
            ok = false;
        }
    }
    let combinators: Vec<&str> = COMBINATORS
        .iter()
        .copied()
        .filter(|c| node.get(c).is_some())
        .collect();
    let tests: Vec<&str> = TESTS
        .iter()
        .copied()
        .filter(|t| node.get(t).is_some())
        .collect();
    let fact = node.get("fact");
    match (combinators.as_slice(), tests.as_slice(), fact) {
        ([combinator], [], None) => {
            let inner = node.get(combinator)?;
            if *combinator == "not" {
                return compile(inner, problems)
                    .filter(|_| ok)
                    .map(|c| Condition::Not(Box::new(c)));
            }
            let Some(items) = inner.as_seq().filter(|items| !items.is_empty()) else {
                problems.push(Problem::at(
                    inner.loc,
                    format!("`{combinator}` needs a non-empty list of conditions"),
                ));
                return None;
            };
            let parts: Vec<Option<Condition>> =
                items.iter().map(|i| compile(i, problems)).collect();
            let parts: Option<Vec<Condition>> = parts.into_iter().collect();
            let parts = parts.filter(|_| ok)?;
            Some(if *combinator == "all" {
                Condition::All(parts)
            } else {
                Condition::Any(parts)
            })
        }
        ([], [test], Some(fact)) => {
            let Some(name) = fact.as_str() else {
                problems.push(Problem::at(fact.loc, "`fact` must name a fact"));
                return None;
            };
            let key = match FactKey::parse(name) {
                Ok(key) => key,
                Err(e) => {
                    problems.push(Problem::at(fact.loc, e));
                    return None;
                }
            };
            let arg = node.get(test)?;
            let test = compile_test(&key, test, arg, problems)?;
            ok.then_some(Condition::Test { fact: key, test })
        }
        _ => {
            problems.push(Problem::at(
                node.loc,
                "a condition is either `fact:` with exactly one test (is, in, not_in, at_least, below, present, contains) or exactly one of all/any/not",
            ));
            None
        }
    }
}

fn compile_test(
    key: &FactKey,
    test: &str,
    arg: &Node,
    problems: &mut Vec<Problem>,
) -> Option<Test> {
    let kind = key.kind();
    let one = |node: &Node, problems: &mut Vec<Problem>| match parse_value(key, kind, node) {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(e);
            None
        }
    };
    let list = |problems: &mut Vec<Problem>| -> Option<Vec<Value>> {
        let Some(items) = arg.as_seq().filter(|i| !i.is_empty()) else {
            problems.push(Problem::at(
                arg.loc,
                format!("`{test}` needs a non-empty list"),
            ));
            return None;
        };
        items
            .iter()
            .map(|i| one(i, problems))
            .collect::<Vec<_>>()
            .into_iter()
            .collect()
    };
    let ordered = |problems: &mut Vec<Problem>| {
        if matches!(kind, ValueKind::Text | ValueKind::Bool) {
            problems.push(Problem::at(
                arg.loc,
                format!(
                    "`{test}` compares numbers or versions, but `{key}` is {}",
                    kind_name(kind)
                ),
            ));
            return None;
        }
        one(arg, problems)
    };
    match test {
        "is" => one(arg, problems).map(Test::Is),
        "in" => list(problems).map(Test::In),
        "not_in" => list(problems).map(Test::NotIn),
        "at_least" => ordered(problems).map(Test::AtLeast),
        "below" => ordered(problems).map(Test::Below),
        "present" => match arg.as_str() {
            Some("true") => Some(Test::Present(true)),
            Some("false") => Some(Test::Present(false)),
            _ => {
                problems.push(Problem::at(arg.loc, "`present` takes true or false"));
                None
            }
        },
        _ => match arg.as_str() {
            Some(text) if !text.is_empty() => Some(Test::Contains(text.to_string())),
            _ => {
                problems.push(Problem::at(arg.loc, "`contains` takes a non-empty text"));
                None
            }
        },
    }
}

fn kind_name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Text => "text",
        ValueKind::Number => "a number",
        ValueKind::Bool => "true/false",
        ValueKind::Version => "a version",
        ValueKind::Pep440 => "a PEP 440 version",
    }
}

fn parse_value(key: &FactKey, kind: ValueKind, node: &Node) -> Result<Value, Problem> {
    let Kind::Scalar { text, .. } = &node.kind else {
        return Err(Problem::at(
            node.loc,
            format!(
                "expected {} for `{key}`, found {}",
                kind_name(kind),
                node.describe()
            ),
        ));
    };
    let bad = |why: String| Problem::at(node.loc, why);
    match kind {
        ValueKind::Text => {
            if let Some(allowed) = allowed_texts(key) {
                if !allowed.contains(&text.as_str()) {
                    return Err(bad(format!(
                        "`{key}` is never `{text}` (it is one of: {})",
                        allowed.join(", ")
                    )));
                }
            }
            Ok(Value::Text(text.clone()))
        }
        ValueKind::Number => text
            .parse()
            .map(Value::Number)
            .map_err(|_| bad(format!("expected a number for `{key}`, found `{text}`"))),
        ValueKind::Bool => match text.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(bad(format!(
                "expected true or false for `{key}`, found `{text}`"
            ))),
        },
        ValueKind::Version => text.parse().map(Value::Version).map_err(bad),
        ValueKind::Pep440 => text.parse().map(Value::Py).map_err(bad),
    }
}

/// Fact names quoted in a text as `{name}`, checked like condition facts.
pub(crate) fn check_placeholders(text: &str, node: &Node, problems: &mut Vec<Problem>) {
    check_placeholders_with(text, node.loc, problems, |name| {
        FactKey::parse(name)
            .err()
            .map(|e| format!("in `{{{name}}}`: {e}"))
    });
}

/// Each `{name}` of a text given to `problem`, which says what is wrong with it, if anything; an unclosed
/// `{` is a problem of its own.
pub(crate) fn check_placeholders_with(
    text: &str,
    loc: crate::yaml::Loc,
    problems: &mut Vec<Problem>,
    problem: impl Fn(&str) -> Option<String>,
) {
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            problems.push(Problem::at(loc, "unclosed `{` in text"));
            return;
        };
        if let Some(why) = problem(&rest[start + 1..start + len]) {
            problems.push(Problem::at(loc, why));
        }
        rest = &rest[start + len + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    fn problems_of(yaml: &str) -> Vec<String> {
        let mut problems = Vec::new();
        compile(&parse(yaml).unwrap(), &mut problems);
        problems
            .iter()
            .map(|p| format!("{}: {}", p.loc.unwrap(), p.message))
            .collect()
    }

    #[test]
    fn compiles_nested_conditions() {
        let mut problems = Vec::new();
        let c = compile(
            &parse(
                "all: [{fact: os, is: linux}, {not: {fact: gpu.compute_capability, below: '8.0'}}]",
            )
            .unwrap(),
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert!(matches!(c, Some(Condition::All(parts)) if parts.len() == 2));
    }

    #[test]
    fn reports_every_problem_where_it_is() {
        let found = problems_of("any:\n  - {fact: gpu.cc, is: x}\n  - {fact: os, is: darwin}\n  - {fact: nvidia.driver, at_least: banana}\n  - {fact: os, below: '1'}\n");
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].starts_with("2:12: unknown fact `gpu.cc`"));
        assert!(found[1].starts_with("3:20: `os` is never `darwin`"));
        assert!(found[2].starts_with("4:37: invalid version `banana`"));
        assert!(found[3].contains("compares numbers or versions"));
    }

    #[test]
    fn refuses_ambiguous_nodes() {
        assert_eq!(problems_of("{fact: os, is: linux, in: [macos]}").len(), 1);
        assert_eq!(problems_of("{fact: os}").len(), 1);
        assert!(problems_of("{all: []}")[0].contains("non-empty"));
        assert!(problems_of("{fact: os, equals: linux}")[0].contains("unknown key `equals`"));
    }
}
