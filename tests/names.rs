//! Names as people type them, for every catalog, through the one resolver each command asks: fifty-two
//! names written the way vendors, Ollama, Hugging Face, llama.cpp, MLX, ExLlama and pip write them. Each
//! must reach the entry it means, or — where it truly names several — list every candidate.

mod common;

use common::mlcompat;
use mlcompat::matrix::embedded;
use mlcompat::matrix::names::Lookup;

/// What a name should lead to: one id, or an ambiguity naming at least these ids.
enum Want {
    One(&'static str),
    Several(&'static [&'static str]),
}
use Want::{One, Several};

fn check<T>(what: &str, typed: &str, found: Lookup<T>, id: impl Fn(&T) -> String, want: &Want) {
    match (found, want) {
        (Lookup::Found(t), One(w)) => assert_eq!(id(&t), *w, "{what} `{typed}`"),
        (Lookup::Ambiguous(v), Several(ws)) => {
            let ids: Vec<String> = v.iter().map(&id).collect();
            for w in *ws {
                assert!(
                    ids.iter().any(|i| i == w),
                    "{what} `{typed}`: {ids:?} lacks {w}"
                );
            }
        }
        (Lookup::Found(t), Several(_)) => panic!("{what} `{typed}`: only {}", id(&t)),
        (Lookup::Ambiguous(v), One(w)) => panic!(
            "{what} `{typed}` is ambiguous ({:?}), wanted {w}",
            v.iter().map(&id).collect::<Vec<_>>()
        ),
        (Lookup::Unknown, _) => panic!("{what} `{typed}` is not understood"),
    }
}

#[test]
fn fifty_two_names_as_people_type_them() {
    let m = embedded().expect("the embedded matrix loads");
    let catalog = &m.workloads;
    let mut understood = 0;

    let profiles = [
        ("spark", One("dgx-spark")),
        ("DGX Spark", One("dgx-spark")),
        ("gb10", One("dgx-spark")),
        ("4090", One("rtx-4090")),
        ("RTX 4090", One("rtx-4090")),
        ("NVIDIA GeForce RTX 5090", One("rtx-5090")),
        ("M3 Ultra", One("mac-studio-m3-ultra")),
        ("thor", One("jetson-agx-thor")),
        ("H200", One("h200")),
        ("H100", Several(&["h100-pcie", "h100-sxm"])),
        ("MI300X", One("mi300x")),
        ("Strix Halo", One("strix-halo")),
    ];
    for (typed, want) in &profiles {
        let found = match m.profile(typed) {
            Ok(p) => Lookup::Found(p.id.clone()),
            Err(e) => {
                let text = e.to_string();
                let ids: Vec<String> = m
                    .profile_ids()
                    .into_iter()
                    .filter(|id| text.contains(&format!("{id} (")))
                    .map(String::from)
                    .collect();
                if ids.is_empty() {
                    Lookup::Unknown
                } else {
                    Lookup::Ambiguous(ids)
                }
            }
        };
        check("profile", typed, found, |s| s.clone(), want);
        understood += 1;
    }

    let models = [
        ("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b", None),
        ("openai/gpt-oss-20b", "gpt-oss-20b", None),
        ("gpt-oss:120b", "gpt-oss-120b", None),
        ("llama3.1", "llama-3.1-8b", None),
        ("llama3.1:70b", "llama-3.3-70b", None),
        (
            "llama3.1:8b-instruct-q4_K_M",
            "llama-3.1-8b",
            Some("q4_k_m"),
        ),
        (
            "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M",
            "llama-3.2-3b",
            Some("q4_k_m"),
        ),
        (
            "mlx-community/Qwen3-30B-A3B-4bit",
            "qwen3-30b-a3b",
            Some("mlx-4bit"),
        ),
        (
            "Qwen/Qwen2.5-Coder-32B-Instruct-AWQ",
            "qwen2.5-coder-32b",
            Some("int4"),
        ),
        (
            "unsloth/Llama-3.1-8B-Instruct-bnb-4bit",
            "llama-3.1-8b",
            Some("int4"),
        ),
        ("unsloth/DeepSeek-R1-GGUF", "deepseek-v3", None),
        ("google/gemma-3-27b-it", "gemma-3-27b", None),
        ("mistralai/Mistral-7B-Instruct-v0.3", "mistral-7b", None),
        ("Meta-Llama-3.1-70B-Instruct", "llama-3.3-70b", None),
        (
            "RedHatAI/Llama-3.1-8B-Instruct-FP8-dynamic",
            "llama-3.1-8b",
            Some("fp8"),
        ),
        ("qwen3:30b", "qwen3-30b-a3b", None),
        ("Llama 3.2 1B", "llama-3.2-1b", None),
        (
            "unsloth/Qwen3-30B-A3B-GGUF:UD-Q4_K_XL",
            "qwen3-30b-a3b",
            None,
        ),
    ];
    for (typed, id, quant) in &models {
        match catalog.find_model(typed) {
            Lookup::Found(n) => {
                assert_eq!(n.model.id, *id, "model `{typed}`");
                assert_eq!(
                    n.quant.map(|(q, _)| q.id.as_str()),
                    *quant,
                    "quant of `{typed}`"
                );
            }
            Lookup::Ambiguous(v) => panic!(
                "model `{typed}` is ambiguous: {:?}",
                v.iter().map(|n| &n.model.id).collect::<Vec<_>>()
            ),
            Lookup::Unknown => panic!("model `{typed}` is not understood"),
        }
        understood += 1;
    }
    check(
        "model",
        "llama 3",
        catalog.find_model("llama 3"),
        |n| n.model.id.clone(),
        &Several(&["llama-3.1-8b", "llama-3.3-70b", "llama-3.2-1b"]),
    );
    understood += 1;

    let quants = [
        ("Q4", One("q4_k_m")),
        ("Q8", One("q8_0")),
        ("Q4_K_M", One("q4_k_m")),
        ("q4-k-m", One("q4_k_m")),
        ("IQ4_XS", One("iq4_xs")),
        ("IQ1_S", One("iq1_s")),
        ("Q3_K_M", One("q3_k_m")),
        ("AWQ", One("int4")),
        ("GGUF Q8_0", One("q8_0")),
        ("fp4", Several(&["nvfp4", "mxfp4"])),
        ("MXFP4_MOE", One("mxfp4")),
        ("3bit", One("mlx-3bit")),
    ];
    for (typed, want) in &quants {
        check(
            "quant",
            typed,
            catalog.find_quant(typed),
            |q| q.id.clone(),
            want,
        );
        understood += 1;
    }
    match catalog.find_quant_bits("exl3-4.65bpw") {
        Lookup::Found((q, bits)) => {
            assert_eq!((q.id.as_str(), bits), ("exl3", Some(4.65)));
        }
        _ => panic!("exl3-4.65bpw is not understood"),
    }
    understood += 1;

    let engines = [
        ("LM Studio", "llama-cpp"),
        ("transformers", "pytorch"),
        ("llama-server", "llama-cpp"),
        ("trt-llm", "tensorrt-llm"),
        ("mlx", "mlx-lm"),
    ];
    for (typed, id) in &engines {
        check(
            "engine",
            typed,
            catalog.find_engine(typed),
            |e| e.id.clone(),
            &One(id),
        );
        understood += 1;
    }

    for (typed, id) in [("torch", "pytorch"), ("flash-attn", "flash-attention")] {
        assert_eq!(m.software_named(typed).map(|s| s.id.as_str()), Some(id));
        understood += 1;
    }
    check(
        "workload",
        "chat-70b",
        catalog.find_workload("chat-70b"),
        |w| w.id.clone(),
        &One("chat-70b-fp4"),
    );
    understood += 1;

    assert_eq!(understood, 52, "every name above is understood");
    // Nonsense stays unknown.
    assert!(matches!(
        catalog.find_model("no such model"),
        Lookup::Unknown
    ));
    assert!(matches!(catalog.find_quant("q9_z"), Lookup::Unknown));
    assert!(matches!(catalog.find_engine(""), Lookup::Unknown));
}

/// The names reach the commands: `estimate` takes a Hugging Face repo id and an Ollama tag, the
/// quantization its name carries, and the model's own release format when none is named.
#[test]
fn estimate_takes_the_names_and_the_release_format() {
    let run = |args: &[&str]| {
        let out = mlcompat()
            .args(["estimate", "--profile", "dgx-spark", "--format", "json"])
            .args(args)
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, _) = run(&["--model", "openai/gpt-oss-120b"]);
    assert_eq!(code, Some(0));
    let e: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(e["model"], "gpt-oss-120b");
    assert_eq!(e["quant"], "mxfp4", "gpt-oss ships in MXFP4");
    let (_, out, _) = run(&["--model", "llama3.1:8b-instruct-q4_K_M"]);
    let e: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        (e["model"].as_str(), e["quant"].as_str()),
        (Some("llama-3.1-8b"), Some("q4_k_m"))
    );
    let (_, out, _) = run(&[
        "--model",
        "llama-3.1-8b",
        "--quant",
        "exl3-3.5bpw",
        "--engine",
        "llama.cpp",
    ]);
    let e: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(e["bits"].as_f64(), Some(3.5));
    // An ambiguous name is an error (exit 2) that lists every candidate.
    let (code, _, err) = run(&["--model", "llama-3.1-8b", "--quant", "fp4"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("nvfp4") && err.contains("mxfp4"), "{err}");
    let (code, _, err) = run(&["--model", "llama-3.1-8b", "--quant", "exl3"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("bpw"), "{err}");
}
