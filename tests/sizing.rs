//! Estimates people can size hardware with (issue 11): the wrong answers seen, each pinned — the
//! architecture guess, a speed for what does not fit and what it takes, engine × quantization ×
//! hardware, language models only, names as people type them — and serving capacity.

use mlcompat::estimate::shape;
use mlcompat::estimate::shape::architecture;
use mlcompat::estimate::MachineView;
use mlcompat::eval::evaluate;
use mlcompat::matrix::workloads::{ModelKind, Workloads};
use mlcompat::matrix::{embedded, Status};
use mlcompat::verdict::check;

fn mlcompat() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("mlcompat").expect("binary is built");
    cmd.env("NO_COLOR", "1")
        .env("LANG", "C.UTF-8")
        .env("MLCOMPAT_NO_CACHE", "1");
    cmd
}

/// Runs `estimate … --format json` and returns (exit status, document).
fn estimate(args: &[&str]) -> (i32, serde_json::Value) {
    let out = mlcompat()
        .arg("estimate")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), doc)
}

fn text(args: &[&str]) -> (i32, String, String) {
    let out = mlcompat().args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn kv_per_token(s: &shape::Shape) -> f64 {
    f64::from(s.layers * s.kv_heads * s.head_dim)
}

// ---- 1. The architecture guess

#[test]
fn the_guess_takes_the_real_shape_of_the_nearest_model_in_size() {
    let m = embedded().unwrap();
    let guess = |p: f64| shape::guess(&m.workloads, p, false);
    // The wrong answers seen: 70 B → 30 layers, 8 → 11, 32 → 21, 405 → 66.
    assert_eq!(guess(70.0).layers, 80);
    assert_eq!(guess(8.0).layers, 32);
    assert_eq!(guess(32.0).layers, 64);
    assert_eq!(guess(405.0).layers, 126);
    assert_eq!(guess(70.0).from.as_deref(), Some("Llama 3.3 70B"));
    // A mixture of experts takes a mixture's shape.
    let moe = shape::guess(&m.workloads, 30.0, true);
    assert_eq!(moe.moe, Some((128, 8)), "{moe:?}");
}

/// Leave one out: every real config in the table, guessed from the others, has its KV cache per token
/// within 41% at the median (the old power law was off by 2.7× on Llama 3 70B).
#[test]
fn the_guess_predicts_the_table_it_was_fitted_on_leaving_each_model_out() {
    let m = embedded().unwrap();
    let real: Vec<_> = m
        .workloads
        .models
        .iter()
        .filter(|x| x.kind == ModelKind::Llm && x.guess && x.moe().is_none())
        .filter(|x| x.layers.is_some() && x.kv_heads.is_some() && x.head_dim.is_some())
        .collect();
    assert!(real.len() >= 25, "{} real configs", real.len());
    let mut errors: Vec<f64> = Vec::new();
    for held in &real {
        let others = Workloads {
            models: m
                .workloads
                .models
                .iter()
                .filter(|x| x.id != held.id)
                .cloned()
                .collect(),
            ..Workloads::default()
        };
        let g = shape::guess(&others, held.params_b, false);
        let truth = architecture(&m.workloads, held);
        errors.push((kv_per_token(&g) / kv_per_token(&truth)).log2().abs());
    }
    errors.sort_by(f64::total_cmp);
    let median = errors[errors.len() / 2];
    assert!(
        median <= 0.5,
        "median |log2| KV error {median:.2}: {errors:?}"
    );
    // The power law kept for a catalog without shapes is fitted on the same table: layers within 19%
    // at the median.
    let empty = Workloads::default();
    let mut layer_errors: Vec<f64> = real
        .iter()
        .map(|x| {
            let g = shape::guess(&empty, x.params_b, false);
            (f64::from(g.layers) / f64::from(x.layers.unwrap()))
                .log2()
                .abs()
        })
        .collect();
    layer_errors.sort_by(f64::total_cmp);
    assert!(
        layer_errors[layer_errors.len() / 2] <= 0.25,
        "{layer_errors:?}"
    );
}

#[test]
fn seventy_b_at_fp8_for_32_users_does_not_fit_an_h200_and_says_which_shape_it_took() {
    let (code, e) = estimate(&[
        "--params-b",
        "70",
        "--batch",
        "32",
        "--quant",
        "fp8",
        "--engine",
        "vllm",
        "--profile",
        "h200",
    ]);
    assert_eq!(code, 1, "{e}");
    assert_eq!(e["verdict"], "fail");
    // 70e9 FP8 weights (65 GB as memory is counted, GiB) and 32 × 8,192 tokens of KV cache: more than an
    // H200's 141 GB.
    let need = e["memory"]["required_gb"].as_f64().unwrap();
    assert!(need > 141.0 && need < 160.0, "{need}");
    let notes = e["assumptions"].to_string();
    assert!(
        notes.contains("80 layers") && notes.contains("Llama 3.3 70B"),
        "{notes}"
    );
    // What it takes: fewer users or a shorter context.
    let remedies = e["fit"]["remedies"].to_string();
    assert!(remedies.contains("fewer-users") && remedies.contains("shorter-context"));
}

// ---- 2. Always a speed; what it takes to fit

#[test]
fn a_70b_at_16_bits_on_a_192_gb_mac_runs_once_the_metal_limit_is_raised() {
    // A short context fits Metal's default working set (75% of 192 GB = 144 GB; the weights are 140e9
    // bytes, 130 GB as memory is counted, GiB).
    let (code, e) = estimate(&[
        "--model",
        "llama-3.3-70b",
        "--quant",
        "f16",
        "--context",
        "1024",
        "--profile",
        "mac-studio-m2-ultra",
    ]);
    assert_eq!(code, 0, "{e}");
    assert_eq!(e["fit"]["state"], "fits");
    let short_context_decode = e["decode_tok_s"].as_f64().unwrap();
    // Its speed, next to the published 4.71 tok/s (XiongjieDai, M2 Ultra, 70B F16).
    assert!(
        (short_context_decode / 4.71).log2().abs() < 0.3,
        "{short_context_decode}"
    );
    // 64 k tokens of KV cache (20 GB) take it past the default limit, not past what macOS allows.
    let (code, e) = estimate(&[
        "--model",
        "llama-3.3-70b",
        "--quant",
        "f16",
        "--context",
        "65536",
        "--profile",
        "mac-studio-m2-ultra",
    ]);
    assert_eq!(code, 0, "{e}");
    assert_eq!(e["verdict"], "warn");
    assert_eq!(e["fit"]["state"], "needs-setup");
    let remedy = &e["fit"]["remedies"][0];
    assert_eq!(remedy["kind"], "raise-metal-limit");
    let mb = remedy["mb"].as_u64().unwrap();
    let need = e["memory"]["required_gb"].as_f64().unwrap();
    assert!(mb as f64 >= need * 1024.0, "{mb} MiB < {need} GB");
    assert!(mb < 192 * 1024, "{mb}");
    assert_eq!(
        remedy["command"].as_str().unwrap(),
        format!("sudo sysctl iogpu.wired_limit_mb={mb}")
    );
    // A longer context reads more KV cache per token: a little slower.
    let decode = e["decode_tok_s"].as_f64().unwrap();
    assert!(
        decode < short_context_decode && decode > 0.8 * short_context_decode,
        "{decode}"
    );
    // Capacity counts the memory once the limit is raised.
    assert!(e["capacity"]["max_sequences"].as_u64().unwrap() >= 1);
}

#[test]
fn what_does_not_fit_still_has_a_speed_and_the_ways_to_fit() {
    let (code, e) = estimate(&[
        "--params-b",
        "70",
        "--quant",
        "f16",
        "--profile",
        "dgx-spark",
    ]);
    assert_eq!(code, 1);
    assert!(e["decode_tok_s"]
        .as_f64()
        .is_some_and(|d| d > 0.5 && d < 3.0));
    assert!(e["prefill_tok_s"].as_f64().is_some());
    assert_eq!(e["fit"]["state"], "does-not-fit");
    assert!(e["fit"]["short_gb"].as_f64().unwrap() > 20.0);
    assert_eq!(e["fit"]["remedies"][0]["kind"], "smaller-quant");
    assert!(e["reason"].as_str().unwrap().contains("it takes"));
    // Nothing makes 1,000 B at 16 bits fit a Spark (even IQ1_S needs 182 GB): it says so.
    let (_, e) = estimate(&[
        "--params-b",
        "1000",
        "--quant",
        "f16",
        "--profile",
        "dgx-spark",
    ]);
    assert!(e["reason"].as_str().unwrap().contains("more memory"), "{e}");
}

// ---- 3. Engine × quantization × hardware

#[test]
fn fp8_needs_ada_nvfp4_needs_blackwell_and_engines_say_what_they_do_instead() {
    // TensorRT-LLM has no path for FP8 on Ampere: ❌ with the reason.
    let (code, e) = estimate(&[
        "--params-b",
        "8",
        "--quant",
        "fp8",
        "--engine",
        "tensorrt-llm",
        "--profile",
        "rtx-3090",
    ]);
    assert_eq!(code, 1, "{e}");
    assert!(e["reason"].as_str().unwrap().contains("FP8 tensor cores"));
    // vLLM runs FP8 weight-only on Ampere: dequantized, the math at BF16.
    let (code, e) = estimate(&[
        "--params-b",
        "8",
        "--quant",
        "fp8",
        "--engine",
        "vllm",
        "--profile",
        "rtx-3090",
    ]);
    assert_eq!(code, 0);
    let notes = e["assumptions"].to_string();
    assert!(
        notes.contains("dequantized") && notes.contains("BF16"),
        "{notes}"
    );
    // FP8 on Ada runs on FP8 tensor cores, so it prefills faster than on Ampere's BF16 path.
    let (_, ada) = estimate(&[
        "--params-b",
        "8",
        "--quant",
        "fp8",
        "--engine",
        "vllm",
        "--profile",
        "rtx-4090",
    ]);
    assert!(ada["assumptions"].to_string().contains("FP8 tensor cores"));
    // NVFP4: TensorRT-LLM needs Blackwell; on a Spark it runs on FP4 tensor cores.
    let (code, _) = estimate(&[
        "--params-b",
        "8",
        "--quant",
        "nvfp4",
        "--engine",
        "trt-llm",
        "--profile",
        "h100-sxm",
    ]);
    assert_eq!(code, 1);
    let (code, e) = estimate(&[
        "--params-b",
        "8",
        "--quant",
        "nvfp4",
        "--engine",
        "trt-llm",
        "--profile",
        "dgx-spark",
    ]);
    assert_eq!(code, 0, "{e}");
    assert!(e["assumptions"].to_string().contains("FP4 tensor cores"));
    // MXFP4 before Blackwell is dequantized.
    let (_, e) = estimate(&[
        "--model",
        "gpt-oss-120b",
        "--quant",
        "mxfp4",
        "--engine",
        "vllm",
        "--profile",
        "h100-sxm",
    ]);
    assert!(e["assumptions"].to_string().contains("dequantized"), "{e}");
    // A format the engine does not load runs as the one it loads instead, and says so.
    let (_, e) = estimate(&[
        "--params-b",
        "8",
        "--quant",
        "fp8",
        "--engine",
        "llama.cpp",
        "--profile",
        "rtx-4090",
    ]);
    assert_eq!(e["quant_run"], "q8_0");
    assert!(e["assumptions"]
        .to_string()
        .contains("llama.cpp has no FP8"));
}

#[test]
fn mlx_runs_on_apple_cuda_or_the_cpu_and_says_which() {
    let (code, e) = estimate(&[
        "--params-b",
        "8",
        "--engine",
        "mlx",
        "--quant",
        "mlx-4bit",
        "--profile",
        "strix-halo",
    ]);
    assert_ne!(code, 2);
    assert_eq!(e["runs_on"], "cpu", "{e}");
    assert!(e["reason"].as_str().unwrap().contains("CPU"));
    let (_, e) = estimate(&[
        "--params-b",
        "8",
        "--engine",
        "mlx",
        "--quant",
        "mlx-4bit",
        "--profile",
        "mac-studio-m3-ultra",
    ]);
    assert_eq!(e["runs_on"], "gpu");
}

// ---- 4. Language models only

#[test]
fn estimate_takes_language_models_only() {
    for model in [
        "sdxl",
        "fp64-sim-40gb",
        "whisper-large-v3-turbo",
        "bge-large-en-v1.5",
    ] {
        let (code, stdout, stderr) = text(&["estimate", "--model", model, "--profile", "h200"]);
        assert_eq!(code, 2, "{model}: {stdout}");
        assert!(
            stderr.contains("sizes language models") && stderr.contains("llama-3.1-8b"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("gpt-oss-120b, sdxl"),
            "the list is of language models"
        );
    }
}

// ---- 5. Names as people type them

#[test]
fn engines_and_quantizations_by_the_names_people_type() {
    for (engine, name) in [
        ("mlx", "MLX LM"),
        ("MLX", "MLX LM"),
        ("llama-cpp", "llama.cpp"),
        ("llamacpp", "llama.cpp"),
        ("LLAMA.CPP", "llama.cpp"),
        ("trt-llm", "TensorRT-LLM"),
        ("sglang", "SGLang"),
        ("vLLM", "vLLM"),
    ] {
        let (_, e) = estimate(&[
            "--params-b",
            "8",
            "--engine",
            engine,
            "--profile",
            "dgx-spark",
        ]);
        assert_eq!(e["engine"], name, "{engine}");
    }
    for (quant, id) in [
        ("Q4_K_M", "q4_k_m"),
        ("q4-k-m", "q4_k_m"),
        ("FP16", "f16"),
        ("BF16", "bf16"),
        ("AWQ", "int4"),
    ] {
        let (_, e) = estimate(&[
            "--params-b",
            "8",
            "--quant",
            quant,
            "--profile",
            "dgx-spark",
        ]);
        assert_eq!(e["quant"], id, "{quant}");
    }
}

#[test]
fn list_models_engines_and_quants() {
    let (code, out, _) = text(&["list", "models"]);
    assert_eq!(code, 0);
    // The details column wraps at the width: read it as words.
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(out.contains("llama-3.3-70b") && out.contains("not for estimate"));
    let (_, out, _) = text(&["list", "engines"]);
    assert!(out.contains("mlx-lm") && out.contains("trt-llm"), "{out}");
    let (_, out, _) = text(&["list", "quants"]);
    assert!(
        out.contains("q4_k_m") && out.contains("4.89 bits per weight"),
        "{out}"
    );
}

// ---- Serving capacity

#[test]
fn serving_capacity_in_check_estimate_and_compare() {
    let m = embedded().unwrap();
    let p = m.profile("h100-sxm").unwrap();
    let report = evaluate(&m, &p.facts);
    let machine = MachineView::of(&p.facts);
    let w = m.workloads.workload("serve-20-users").unwrap();
    let c = check(&m.workloads, w, &report, &machine);
    let cap = c.capacity.as_ref().expect("capacity");
    // 76 GB less 8 GB of FP8 weights and runtime, 0.54 GB of KV cache per 4,096-token sequence.
    assert!(
        cap.max_sequences > 100 && cap.max_sequences < 140,
        "{cap:?}"
    );
    assert_eq!(cap.per_user_tok_s.get(&20).copied(), c.speed, "{cap:?}");
    for users in [1, 4, 16, 20, 64] {
        assert!(cap.per_user_tok_s.contains_key(&users), "{users}");
    }
    // More users: slower each, faster together; aggregate = users × per user for a batching engine.
    let per: Vec<f64> = cap.per_user_tok_s.values().copied().collect();
    assert!(per.windows(2).all(|w| w[1] <= w[0]));
    for (u, p) in &cap.per_user_tok_s {
        let a = cap.aggregate_tok_s[u];
        assert!((a - f64::from(*u) * p).abs() < 1e-6 * a.max(1.0));
    }
    assert!(c.reason.contains("20 users of up to"), "{}", c.reason);
    // JSON, as the issue names it.
    let (code, out, _) = text(&[
        "check",
        "serve-20-users",
        "--profile",
        "h100-sxm",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let cap = &doc["checks"][0]["capacity"];
    for key in [
        "max_sequences",
        "context",
        "per_user_tok_s",
        "aggregate_tok_s",
    ] {
        assert!(!cap[key].is_null(), "{key}: {cap}");
    }
    assert!(cap["per_user_tok_s"]["20"].as_f64().is_some());
    // estimate and compare show it too.
    let (_, e) = estimate(&[
        "--model",
        "llama-3.1-8b",
        "--quant",
        "fp8",
        "--engine",
        "vllm",
        "--batch",
        "20",
        "--context",
        "4096",
        "--profile",
        "h100-sxm",
    ]);
    assert_eq!(
        e["capacity"]["max_sequences"],
        doc["checks"][0]["capacity"]["max_sequences"]
    );
    let (_, out, _) = text(&[
        "compare",
        "h100-sxm",
        "dgx-spark",
        "--workload",
        "serve-20-users",
    ]);
    assert!(out.contains("capacity"), "{out}");
    let (_, out, _) = text(&[
        "compare",
        "h100-sxm",
        "dgx-spark",
        "--workload",
        "serve-20-users",
        "--format",
        "markdown",
    ]);
    assert!(out.contains("| Capacity, "), "{out}");
}

/// A mixture of experts at a large batch reads more experts than one token does, so its aggregate grows
/// less than a dense model's would.
#[test]
fn a_batch_of_a_mixture_reads_more_experts() {
    let (_, one) = estimate(&[
        "--model",
        "gpt-oss-120b",
        "--quant",
        "mxfp4",
        "--profile",
        "dgx-spark",
        "--context",
        "4096",
    ]);
    let cap = &one["capacity"];
    let per1 = cap["per_user_tok_s"]["1"].as_f64().unwrap();
    let per64 = cap["per_user_tok_s"]["64"].as_f64().unwrap();
    assert!(per64 < per1 * 0.5, "{per1} {per64}");
}

#[test]
fn every_language_workload_has_prefill_and_capacity_on_every_profile() {
    let m = embedded().unwrap();
    for p in &m.profiles {
        let report = evaluate(&m, &p.facts);
        let machine = MachineView::of(&p.facts);
        for w in &m.workloads.workloads {
            let c = check(&m.workloads, w, &report, &machine);
            let language = matches!(
                w.kind,
                mlcompat::matrix::workloads::Kind::Chat | mlcompat::matrix::workloads::Kind::Serve
            );
            if language && c.verdict != Status::Fail && c.speed.is_some() {
                assert!(c.prefill_tok_s.is_some(), "{} on {}", w.id, p.id);
                assert!(c.capacity.is_some(), "{} on {}", w.id, p.id);
            }
        }
    }
}
