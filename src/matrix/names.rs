//! Names as people type them, one reader for every catalog: a model as Hugging Face, Ollama or a GGUF
//! file names it (`meta-llama/Llama-3.1-8B-Instruct`, `llama3.1:8b-instruct-q4_K_M`,
//! `unsloth/DeepSeek-R1-GGUF`), a quantization as llama.cpp, MLX or ExLlama write it (`Q4_K_M`, `4bit`,
//! `exl3-4.0bpw`), an engine by its program or product name. A name that fits several entries is an
//! answer too: the caller lists them.

/// What a typed name found.
#[derive(Debug)]
pub enum Lookup<T> {
    Found(T),
    /// Every entry the name could mean, in catalog order.
    Ambiguous(Vec<T>),
    Unknown,
}

impl<T> Lookup<T> {
    /// The same answer about something else each entry leads to.
    pub fn map_found<U>(self, f: impl Fn(T) -> U) -> Lookup<U> {
        match self {
            Lookup::Found(t) => Lookup::Found(f(t)),
            Lookup::Ambiguous(v) => Lookup::Ambiguous(v.into_iter().map(f).collect()),
            Lookup::Unknown => Lookup::Unknown,
        }
    }

    /// The one entry, or a sentence for the user: every candidate of an ambiguous name (`label` names
    /// each), or what is known when nothing answered.
    pub fn or_explain(
        self,
        what: &str,
        typed: &str,
        label: impl Fn(&T) -> String,
        known: impl FnOnce() -> String,
    ) -> Result<T, String> {
        match self {
            Lookup::Found(t) => Ok(t),
            Lookup::Ambiguous(v) => Err(format!(
                "{what} `{typed}` could be any of: {}; name one",
                v.iter().map(label).collect::<Vec<_>>().join(", ")
            )),
            Lookup::Unknown => Err(format!("unknown {what} `{typed}` ({})", known())),
        }
    }
}

/// A name as people type it: lower case, letters and digits only (`Q4_K_M`, `q4-k-m` → `q4km`;
/// `llama.cpp`, `llama-cpp`, `llamacpp` → `llamacpp`).
pub fn name_key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The words of a name: lower case, split at anything not a letter or a digit and between letters and
/// digits (`RTX4090` is `rtx 4090`, `Qwen3-30B-A3B` is `qwen 3 30 b a 3 b`).
pub fn words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut last_digit: Option<bool> = None;
    for c in name.chars().flat_map(char::to_lowercase) {
        if !c.is_ascii_alphanumeric() {
            words.push(std::mem::take(&mut word));
            last_digit = None;
            continue;
        }
        let digit = c.is_ascii_digit();
        if last_digit.is_some_and(|d| d != digit) {
            words.push(std::mem::take(&mut word));
        }
        word.push(c);
        last_digit = Some(digit);
    }
    words.push(word);
    words.retain(|w| !w.is_empty());
    words
}

/// Whether every word of `part` is in `whole`, as many times as `part` has it.
fn contained(part: &[String], whole: &[String]) -> bool {
    let mut left: Vec<&String> = whole.iter().collect();
    part.iter()
        .all(|w| match left.iter().position(|x| *x == w) {
            Some(i) => {
                left.swap_remove(i);
                true
            }
            None => false,
        })
}

fn distinct<T>(found: Vec<&T>) -> Vec<&T> {
    let mut out: Vec<&T> = Vec::new();
    for f in found {
        if !out.iter().any(|o| std::ptr::eq(*o, f)) {
            out.push(f);
        }
    }
    out
}

fn one_or_several<T>(found: Vec<&T>) -> Lookup<&T> {
    let found = distinct(found);
    match found.len() {
        0 => Lookup::Unknown,
        1 => Lookup::Found(found[0]),
        _ => Lookup::Ambiguous(found),
    }
}

/// The entry one of whose names has the key of `typed` (case and punctuation do not matter).
pub fn by_key<'a, T>(
    typed: &str,
    items: &'a [T],
    names: impl Fn(&T) -> Vec<&str>,
) -> Lookup<&'a T> {
    let key = name_key(typed);
    if key.is_empty() {
        return Lookup::Unknown;
    }
    one_or_several(
        items
            .iter()
            .filter(|i| names(i).iter().any(|n| name_key(n) == key))
            .collect(),
    )
}

/// The entry whose names answer to `typed_words`: one that has exactly these words, else every entry
/// that has them all (`llama 3.2 3b` is Llama 3.2 3B, not 1B; `qwen3 30b` is Qwen3 30B-A3B).
pub fn by_words<'a, T>(
    typed_words: &[String],
    items: &'a [T],
    names: impl Fn(&T) -> Vec<&str>,
) -> Lookup<&'a T> {
    if typed_words.is_empty() {
        return Lookup::Unknown;
    }
    let sorted = |mut w: Vec<String>| {
        w.sort();
        w
    };
    let typed = sorted(typed_words.to_vec());
    let mut exact = Vec::new();
    let mut partial = Vec::new();
    for item in items {
        for n in names(item) {
            let have = sorted(words(n));
            if have == typed {
                exact.push(item);
            } else if contained(&typed, &have) {
                partial.push(item);
            }
        }
    }
    if exact.is_empty() {
        one_or_several(partial)
    } else {
        one_or_several(exact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_letters_from_digits() {
        assert_eq!(
            words("Qwen3-30B-A3B"),
            ["qwen", "3", "30", "b", "a", "3", "b"]
        );
        assert_eq!(words("RTX4090"), ["rtx", "4090"]);
        assert_eq!(name_key("Q4_K_M"), "q4km");
        assert_eq!(name_key("llama.cpp"), name_key("llama-cpp"));
    }

    #[test]
    fn exact_words_beat_a_longer_name_that_has_them() {
        let names = ["llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b"];
        let find = |t: &str| match by_words(&words(t), &names, |n| vec![*n]) {
            Lookup::Found(n) => n.to_string(),
            Lookup::Ambiguous(v) => format!("{v:?}"),
            Lookup::Unknown => "unknown".into(),
        };
        assert_eq!(find("Llama 3.2 3B"), "llama-3.2-3b");
        assert_eq!(find("llama 3.2 1b"), "llama-3.2-1b");
        assert!(find("llama 3.2").contains("1b") && find("llama 3.2").contains("3b"));
        assert_eq!(find("mistral"), "unknown");
    }
}
