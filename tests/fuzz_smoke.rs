//! The fuzz targets of `fuzz/` on stable Rust, for a few seconds in every test run: seeds from `matrix/`
//! and `tests/fixtures/`, mutated (bit flips, YAML and JSON tokens, splices, cuts, repeats, escape
//! sequences, huge numbers) and random, a few thousand cases per target. Deterministic: the same cases
//! every run (set MLCOMPAT_FUZZ_SEED to explore others, MLCOMPAT_FUZZ_CASES for more). A panic anywhere
//! fails the test with the input that caused it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use mlcompat::fuzzing;

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Pieces that steer parsers into their corners.
const TOKENS: &[&str] = &[
    "&a ",
    "*a",
    "!!str ",
    "!tag ",
    "? ",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"",
    "'",
    "|\n",
    ">-\n",
    "---\n",
    "...\n",
    "\t",
    "\n  ",
    "#",
    "%YAML 1.2\n",
    "~",
    "null",
    "true",
    "1e308",
    "-1e308",
    "nan",
    ".inf",
    "-0",
    "0x1F",
    "1_000",
    "99999999999999999999999",
    "2.6.0+cu126",
    "1!2.0.post1.dev3",
    "12.8",
    "580.95.05",
    "sm_121a",
    "compute_90",
    "\u{1b}[2J",
    "\u{1b}]0;x\u{7}",
    "\u{9b}",
    "\u{202e}",
    "\u{0}",
    "\u{feff}",
    "é",
    "✅",
    "schema: mlcompat.facts/1\n",
    "{\"schema\": \"mlcompat.facts/1\"",
    "Name: x\n",
    "Version: 1.0\n",
    "release ",
    "version: ",
    "| 0  NVIDIA GB10   On |\n",
    "MiB /",
    "Failed to initialize NVML",
    "#define CUDNN_MAJOR 9\n",
    "MemTotal: ",
    "processor\t: 1\n",
    "CPU part\t: 0xd85\n",
    "```\n",
    "<details>\n",
    "> ",
    "$ nvidia-smi\n",
    "user@box:~$ pip list\n",
    "Collecting environment information...\n",
    "PyTorch version: 2.9.0+cu129\n",
    "[pip3] torch==2.9.0\n",
    "+-----+\n| NVIDIA-SMI 580.95.05   Driver Version: 580.95.05   CUDA Version: 13.0 |\n",
    "==============NVSMI LOG==============\n",
    "GPU 00000000:01:00.0\n    Product Name : X\n",
    "GPU 0,1,99999999999: NVIDIA GB10\n",
    "GPU 0,1 Compute Capability: 12.1\n",
    "CUDA available: True\nsglang: 0.5\n",
    "Package Version\n------- -------\n",
    "# packages in environment at /x:\n",
    "build: 4518 (aea8ddd51) with cc for x86_64-linux-gnu\n",
    "version: 1 (x)\nbuilt with cc for arm64-apple-darwin\n",
    "ollama version is ",
    "  Device 0: X, compute capability 9.0, VMM: yes\n",
    "Agent 1\n  Device Type: GPU\n  Marketing Name: X\n",
    "  Chip: Apple M4\n  Memory: 1e308 GB\n",
    "PRETTY_NAME=\"x\"\nVERSION_ID=1\n",
    "Linux h 6.1-microsoft #1 SMP x86_64 GNU/Linux\n",
];

fn mutate(rng: &mut Rng, input: &[u8], seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = data.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let at = rng.below(len + 1);
                data.splice(at..at, token.iter().copied());
            }
            2 if len > 0 => {
                let start = rng.below(len);
                let end = (start + rng.below(64) + 1).min(len);
                data.drain(start..end);
            }
            3 if len > 0 => {
                let start = rng.below(len);
                let end = (start + rng.below(256) + 1).min(len);
                let piece: Vec<u8> = data[start..end].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, piece);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let start = rng.below(other.len());
                    let end = (start + rng.below(512) + 1).min(other.len());
                    let at = rng.below(len + 1);
                    data.splice(at..at, other[start..end].iter().copied());
                }
            }
            5 if len > 0 => {
                data.truncate(rng.below(len));
            }
            6 => {
                let at = rng.below(len + 1);
                let bytes: Vec<u8> = (0..rng.below(16) + 1).map(|_| rng.next() as u8).collect();
                data.splice(at..at, bytes);
            }
            7 => {
                // Deep nesting.
                let depth = rng.below(200);
                let at = rng.below(len + 1);
                let open = if rng.below(2) == 0 { b'[' } else { b'{' };
                data.splice(at..at, std::iter::repeat_n(open, depth));
            }
            _ if len > 0 => {
                let i = rng.below(len);
                data[i] = b" \n:-#{}[],\"'\t\\0"[rng.below(15)];
            }
            _ => {}
        }
    }
    data.truncate(16 * 1024);
    data
}

fn seed_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            seed_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Seeds: every file under `dirs`, large ones cut into windows so a case stays fast in a debug build.
fn seeds(dirs: &[&str]) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for d in dirs {
        seed_files(&root.join(d), &mut files);
    }
    let mut out = Vec::new();
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        if bytes.len() <= 8 * 1024 {
            out.push(bytes);
        } else {
            for chunk in bytes.chunks(6 * 1024) {
                out.push(chunk.to_vec());
            }
        }
    }
    out.push(Vec::new());
    out
}

fn cases() -> usize {
    std::env::var("MLCOMPAT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

fn seed() -> u64 {
    std::env::var("MLCOMPAT_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15)
}

/// Runs `target` on every seed, then on mutated and random inputs; a panic reports its input.
fn smoke(name: &str, dirs: &[&str], target: impl Fn(&[u8])) {
    let seeds = seeds(dirs);
    let mut rng = Rng(seed() ^ name.bytes().fold(0, |h, b| h * 31 + u64::from(b)));
    let total = cases();
    let mut inputs: Vec<Vec<u8>> = seeds.clone();
    for i in 0..total {
        let input = if i % 10 == 9 {
            (0..rng.below(512)).map(|_| rng.next() as u8).collect()
        } else {
            let base = &seeds[rng.below(seeds.len())];
            mutate(&mut rng, base, &seeds)
        };
        inputs.push(input);
    }
    // Quiet the default hook: the panic is reported below with its input.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failure = None;
    for input in &inputs {
        if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
            failure = Some(input.clone());
            break;
        }
    }
    std::panic::set_hook(hook);
    if let Some(input) = failure {
        // Run again, with the hook, so the panic message is shown.
        let shown = String::from_utf8_lossy(&input).into_owned();
        eprintln!("{name}: panic on input {shown:?}");
        target(&input);
        panic!("{name}: panicked on {shown:?}");
    }
    eprintln!("{name}: {} inputs, no panic", inputs.len());
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn yaml_and_matrix_loaders() {
    smoke("yaml", &["matrix", "tests/fixtures"], |b| {
        fuzzing::yaml(&text(b))
    });
}

#[test]
fn facts_loader_evaluation_and_rendering() {
    smoke("facts", &["matrix/profiles", "tests/fixtures"], |b| {
        fuzzing::facts(&text(b))
    });
}

#[test]
fn version_parsers() {
    smoke(
        "versions",
        &["tests/fixtures/nvcc", "tests/fixtures/tools"],
        |b| {
            let t = text(b);
            fuzzing::versions(&t);
            for word in t.split_whitespace().take(64) {
                fuzzing::versions(word);
            }
        },
    );
}

#[test]
fn tool_output_parsers() {
    smoke("tool_output", &["tests/fixtures"], |b| {
        fuzzing::tool_output(&text(b))
    });
}

#[test]
fn dump_readers() {
    smoke("dumps", &["tests/fixtures"], |b| fuzzing::dumps(&text(b)));
}

#[test]
fn explain_on_pasted_logs() {
    smoke(
        "explain",
        &[
            "tests/fixtures/explain",
            "tests/fixtures/import-errors",
            "tests/fixtures/bug-reports",
        ],
        |b| fuzzing::explain(&text(b)),
    );
}

#[test]
fn terminal_escaping() {
    smoke("terminal", &["tests/fixtures/tools"], fuzzing::terminal);
}
