//! The commands agree (issue 8): `doctor`, `check`, `estimate` and `compare` ask one module for every
//! verdict, so on every reference profile and every core workload they say the same thing.

use mlcompat::estimate::CORE_WORKLOADS as CORE;
use mlcompat::eval::evaluate;
use mlcompat::matrix::{embedded, Status};
use mlcompat::verdict;

/// An engine whose software row does not fail on a machine has an efficiency figure for the side of the
/// machine it runs on (labelled when assumed), or says explicitly why its speed cannot be estimated.
#[test]
fn every_engine_that_runs_can_be_estimated_or_says_why_not() {
    let m = embedded().unwrap();
    let mut gaps = Vec::new();
    for p in &m.profiles {
        let report = evaluate(&m, &p.facts);
        let machine = mlcompat::estimate::MachineView::of(&p.facts);
        let bf16 = m.workloads.quant("bf16").unwrap();
        for engine in &m.workloads.engines {
            if let Ok(here) =
                verdict::engine_on(&m.workloads, engine, bf16, None, &report, &machine)
            {
                if let Err(why) = &here.efficiency {
                    gaps.push(format!("{} on {}: {why}", engine.id, p.id));
                }
            }
        }
    }
    assert!(gaps.is_empty(), "{}", gaps.join("\n"));
}

/// On every profile and core workload: `compare` shows `check`'s verdict and speed; an ad-hoc `estimate`
/// of a language workload on check's engine computes the same decode speed, and for one-person chats
/// (the thresholds `estimate` uses) the same verdict; an engine `check` passes over does not run, which
/// `estimate` answers with ❌ as well.
#[test]
fn check_compare_and_estimate_agree_on_every_profile_and_core_workload() {
    let m = embedded().unwrap();
    let catalog = &m.workloads;
    let workloads: Vec<_> = CORE
        .iter()
        .map(|id| catalog.workload(id).unwrap())
        .collect();
    let profiles = &m.profiles;
    for (i, pa) in profiles.iter().enumerate() {
        let pb = &profiles[(i + 1) % profiles.len()];
        let (ra, rb) = (evaluate(&m, &pa.facts), evaluate(&m, &pb.facts));
        let (ma, mb) = (
            mlcompat::estimate::MachineView::of(&pa.facts),
            mlcompat::estimate::MachineView::of(&pb.facts),
        );
        let cmp = mlcompat::verdict::compare(catalog, &workloads, (&ra, &ma), (&rb, &mb));
        for (w, duel) in workloads.iter().zip(&cmp.workloads) {
            let check = mlcompat::verdict::check(catalog, w, &ra, &ma);
            assert_eq!(duel.a.verdict, check.verdict, "{} {}", pa.id, w.id);
            assert_eq!(duel.a.speed, check.speed, "{} {}", pa.id, w.id);
            // The engines check passed over fail here; estimate says ❌ for each.
            for id in &w.engines {
                let engine = catalog.engine(id).unwrap();
                let quant = catalog.quant(&w.quant).unwrap();
                let spec = mlcompat::estimate::llm::spec_for(
                    catalog,
                    catalog.model(&w.model).unwrap(),
                    quant.bits,
                    w,
                );
                let adhoc = mlcompat::verdict::adhoc::estimate(
                    catalog,
                    engine,
                    (quant, None),
                    &spec,
                    &ra,
                    &ma,
                    Default::default(),
                );
                let row = ra.rows.iter().find(|r| r.id == engine.software).unwrap();
                if row.status == Status::Fail {
                    assert_eq!(adhoc.verdict, Status::Fail, "{} {} {}", pa.id, w.id, id);
                }
                if check.engine.as_deref() != Some(engine.name.as_str()) {
                    continue;
                }
                if matches!(
                    w.kind,
                    mlcompat::matrix::workloads::Kind::Chat
                        | mlcompat::matrix::workloads::Kind::Serve
                ) {
                    assert_eq!(
                        adhoc.estimate.decode_tok_s, check.speed,
                        "{} {}",
                        pa.id, w.id
                    );
                    // The same prefill and the same serving capacity.
                    assert_eq!(adhoc.estimate.prefill_tok_s, check.prefill_tok_s);
                    assert_eq!(
                        adhoc.estimate.capacity.as_ref().map(|c| c.max_sequences),
                        check.capacity.as_ref().map(|c| c.max_sequences),
                        "{} {}",
                        pa.id,
                        w.id
                    );
                    assert_eq!(adhoc.fit.state, check.fit.as_ref().unwrap().state);
                    // compare shows the same capacity as check.
                    assert_eq!(
                        duel.a.capacity.as_ref().map(|c| c.max_sequences),
                        check.capacity.as_ref().map(|c| c.max_sequences)
                    );
                }
                if w.kind == mlcompat::matrix::workloads::Kind::Chat
                    && w.good == catalog.interactive.good
                    && w.usable == catalog.interactive.usable
                {
                    assert_eq!(
                        adhoc.verdict, check.verdict,
                        "{} {}: {}",
                        pa.id, w.id, adhoc.reason
                    );
                }
            }
        }
    }
}

/// Every software row that is an engine: the doctor's verdict and `check`'s engine choice agree — an
/// engine whose row fails is never chosen, one whose row passes is never skipped as "does not run".
#[test]
fn doctor_rows_and_engine_choices_agree() {
    let m = embedded().unwrap();
    for p in &m.profiles {
        let report = evaluate(&m, &p.facts);
        let machine = mlcompat::estimate::MachineView::of(&p.facts);
        for w in &m.workloads.workloads {
            let c = mlcompat::verdict::check(&m.workloads, w, &report, &machine);
            if let Some(name) = &c.engine {
                let engine = m
                    .workloads
                    .engines
                    .iter()
                    .find(|e| &e.name == name)
                    .unwrap();
                let row = report
                    .rows
                    .iter()
                    .find(|r| r.id == engine.software)
                    .unwrap();
                assert_ne!(row.status, Status::Fail, "{} {}", p.id, w.id);
            }
            for skipped in &c.skipped_engines {
                let engine = m
                    .workloads
                    .engines
                    .iter()
                    .find(|e| skipped.starts_with(&e.name))
                    .unwrap();
                let row = report
                    .rows
                    .iter()
                    .find(|r| r.id == engine.software)
                    .unwrap();
                // Skipped for its row, for want of an efficiency figure, or because it cannot run the
                // workload's quantization on this hardware (TensorRT-LLM's FP8 before Ada).
                assert!(
                    row.status == Status::Fail
                        || skipped.contains("cannot estimate")
                        || skipped.contains(" only on "),
                    "{} {}: {skipped} but the doctor says {:?}",
                    p.id,
                    w.id,
                    row.status
                );
            }
        }
    }
}

/// The contradictions seen: SDXL on a CPU box, mlx-lm on a DGX Spark, the same speed judged twice, MLX on
/// Strix Halo.
#[test]
fn the_contradictions_seen_are_gone() {
    let m = embedded().unwrap();
    let catalog = &m.workloads;
    let on = |profile: &str| {
        let p = m.profile(profile).unwrap();
        (
            evaluate(&m, &p.facts),
            mlcompat::estimate::MachineView::of(&p.facts),
        )
    };
    let (cpu, cpu_view) = on("linux-cpu-only");
    let sdxl =
        mlcompat::verdict::check(catalog, catalog.workload("sdxl").unwrap(), &cpu, &cpu_view);
    let diffusers = cpu.rows.iter().find(|r| r.id == "diffusers").unwrap();
    assert_eq!(diffusers.status, Status::Warn);
    assert_eq!(sdxl.verdict, Status::Warn, "{}", sdxl.reason);
    assert!(sdxl.speed.is_some(), "{}", sdxl.reason);
    let (spark, spark_view) = on("dgx-spark");
    let mlx_lm = catalog.engine("mlx-lm").unwrap();
    let spec = mlcompat::estimate::llm::spec_for(
        catalog,
        catalog.model("llama-3.1-8b").unwrap(),
        16.0,
        catalog.workload("chat-8b-fp16").unwrap(),
    );
    let adhoc = mlcompat::verdict::adhoc::estimate(
        catalog,
        mlx_lm,
        (catalog.quant("f16").unwrap(), None),
        &spec,
        &spark,
        &spark_view,
        Default::default(),
    );
    assert!(adhoc.estimate.decode_tok_s.is_some(), "{}", adhoc.reason);
    let (halo, _) = on("strix-halo");
    let mlx = halo.rows.iter().find(|r| r.id == "mlx").unwrap();
    assert_eq!(
        (mlx.status, mlx.runs_on),
        (Status::Warn, mlcompat::matrix::RunsOn::Cpu)
    );
}

/// Native FP4 has one owner (`facts::arch::fp4_native`): a CC 12.0 GPU whose facts carry no explicit
/// `fp4_native` flag (a live probe never sets one) gets the same answer from doctor's `gpu.fp4_native`,
/// the NFD label, the Prometheus metric and `estimate`, which computes NVFP4 on the FP4 tensor cores just
/// as it does when the flag says so.
#[test]
fn native_fp4_is_one_answer_for_a_blackwell_gpu_without_the_flag() {
    use mlcompat::facts::keys::{FactKey, Lookup, Value};
    use mlcompat::matrix::workloads::Compute;
    let m = embedded().unwrap();
    let flagged = &m
        .profiles
        .iter()
        .find(|p| p.id == "rtx-5090")
        .unwrap()
        .facts;
    let gpu = &flagged.gpus.as_ref().unwrap()[0];
    assert_eq!(gpu.compute_capability.as_ref().unwrap().to_string(), "12.0");
    assert_eq!(gpu.fp4_native, Some(true));
    let mut bare = flagged.clone();
    bare.gpus.as_mut().unwrap()[0].fp4_native = None;

    assert_eq!(
        mlcompat::facts::arch::fp4_native(&bare.gpus.as_ref().unwrap()[0]),
        Some(true)
    );
    assert!(matches!(
        FactKey::GpuFp4Native.lookup(&bare),
        Lookup::Known(Value::Bool(true))
    ));
    let report = evaluate(&m, &bare);
    let row = report.rows.iter().find(|r| r.id == "native-fp4").unwrap();
    assert_eq!(row.status, Status::Ok, "{}", row.reason);
    let labels = mlcompat::render::nfd_labels(&report, &bare);
    assert!(
        labels.contains(&("fp4-native".to_string(), "true".to_string())),
        "{labels:?}"
    );
    let prom = mlcompat::render::prometheus_text(&report, &bare);
    assert!(prom.lines().any(|l| l == "mlcompat_fp4_native 1"), "{prom}");

    let view = mlcompat::estimate::MachineView::of(&bare);
    let flagged_view = mlcompat::estimate::MachineView::of(flagged);
    assert!(view.fp4_native);
    assert_eq!(view.rate(Compute::Fp4), flagged_view.rate(Compute::Fp4));
    assert_eq!(
        view.rate(Compute::Fp4).map(|r| r.1),
        Some("FP4 tensor cores")
    );
    // An NVFP4 70B on vLLM: the same prefill (compute-bound, so the FP4 rate decides it) and decode.
    let catalog = &m.workloads;
    let engine = catalog.engine("vllm").unwrap();
    let quant = catalog.quant("nvfp4").unwrap();
    let w = catalog.workload("chat-70b-fp4").unwrap();
    let spec =
        mlcompat::estimate::llm::spec_for(catalog, catalog.model(&w.model).unwrap(), quant.bits, w);
    let flagged_report = evaluate(&m, flagged);
    let a = verdict::adhoc::estimate(
        catalog,
        engine,
        (quant, None),
        &spec,
        &report,
        &view,
        Default::default(),
    );
    let b = verdict::adhoc::estimate(
        catalog,
        engine,
        (quant, None),
        &spec,
        &flagged_report,
        &flagged_view,
        Default::default(),
    );
    assert!(a.estimate.prefill_tok_s.is_some());
    assert_eq!(a.estimate.prefill_tok_s, b.estimate.prefill_tok_s);
    assert_eq!(a.estimate.decode_tok_s, b.estimate.decode_tok_s);
    assert_eq!(a.verdict, b.verdict);
    assert!(
        !a.reason.contains("no FP4 tensor cores"),
        "estimate disagrees with doctor: {}",
        a.reason
    );
}

/// One answer per question (issue 17): for every (machine, software with release data), doctor's row
/// is ❌ exactly when `install-plan ID` finds nothing that fits, and the plan computes on the side of the
/// machine the row speaks of (`plan::agreement`, which `matrix audit` runs on every profile too).
fn disagreements(
    m: &mlcompat::matrix::Matrix,
    machine: &str,
    facts: &mlcompat::facts::Facts,
) -> Vec<String> {
    mlcompat::plan::agreement::disagreements(m, machine, facts)
        .into_iter()
        .map(|d| format!("{} {}: {}", d.machine, d.id, d.text))
        .collect()
}

fn cpu_box() -> mlcompat::facts::Facts {
    let name = "cpu-box-debian12-py311.json";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/facts")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    mlcompat::facts::load::facts_from_text(name, &text).unwrap()
}

/// The known gaps are data: each release file names the profiles where its row and its builds disagree,
/// with why. The test fails when one of them agrees again (take it off) or when any pair not named
/// disagrees.
fn check_agreement(
    m: &mlcompat::matrix::Matrix,
    found: Vec<String>,
    machines: &[&str],
    pairs: usize,
) {
    let known = |line: &str| {
        m.releases.projects.iter().any(|p| {
            p.gaps
                .iter()
                .any(|g| line.starts_with(&format!("{} {}: ", g.profile, p.id)))
        })
    };
    let unexpected: Vec<&String> = found.iter().filter(|l| !known(l)).collect();
    let stale: Vec<String> = m
        .releases
        .projects
        .iter()
        .flat_map(|p| p.gaps.iter().map(move |g| (p, g)))
        .filter(|(_, g)| machines.contains(&g.profile.as_str()))
        .filter(|(p, g)| {
            !found
                .iter()
                .any(|l| l.starts_with(&format!("{} {}: ", g.profile, p.id)))
        })
        .map(|(p, g)| {
            format!(
                "{} {} agrees now ({}): take it off `gaps:`",
                g.profile, p.id, g.why
            )
        })
        .collect();
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "{} of {pairs} disagree ({} known):\n{}\n{}",
        found.len(),
        found.len() - unexpected.len(),
        found.join("\n"),
        stale.join("\n")
    );
}

#[test]
fn doctor_rows_and_install_plans_agree_on_every_profile() {
    let m = embedded().unwrap();
    let mut all = Vec::new();
    let mut pairs = 0;
    for p in &m.profiles {
        pairs += m.releases.projects.len();
        all.extend(disagreements(&m, &p.id, &p.facts));
    }
    assert!(pairs >= 250, "only {pairs} pairs compared");
    let machines: Vec<&str> = m.profiles.iter().map(|p| p.id.as_str()).collect();
    check_agreement(&m, all, &machines, pairs);
}

/// The same on a real CPU-only x86_64 Linux box with Python 3.11 (`mlcompat probe` on a Debian 12 VM,
/// trimmed): a Python is known here, so the plan's Python stage counts too.
#[test]
fn doctor_rows_and_install_plans_agree_on_a_cpu_only_linux_box() {
    let m = embedded().unwrap();
    let found = disagreements(&m, "cpu-box", &cpu_box());
    check_agreement(&m, found, &["cpu-box"], m.releases.projects.len());
}

/// Whether Docker can give containers the NVIDIA GPU is decided once (`docker.nvidia_runtime`): the
/// doctor's container row and the plan's container precondition read the same lookup, which counts
/// the NVIDIA runtime under the names NVIDIA's tools register (`nvidia`, `nvidia-cdi`,
/// `nvidia-legacy`) and nothing else.
#[test]
fn docker_nvidia_runtime_has_one_owner() {
    use mlcompat::plan::{Installer, Request, Wanted};
    let m = embedded().unwrap();
    for (runtimes, registered) in [
        ("[nvidia]", true),
        ("[nvidia-cdi]", true),
        ("[runc, nvidia-legacy]", true),
        ("[runc]", false),
        ("[my-nvidia-wrapper]", false),
        ("[]", false),
    ] {
        let text = format!(
            "schema: mlcompat.facts/1\n\
             host: {{os: linux, arch: x86_64, glibc: '2.39'}}\n\
             gpus: [{{vendor: nvidia, name: NVIDIA H100 80GB HBM3, compute_capability: '9.0'}}]\n\
             nvidia: {{driver: 590.44.01, cuda_driver: '13.1'}}\n\
             binaries: {{docker: {{path: /usr/bin/docker, version: 28.2.2}}}}\n\
             docker: {{runtimes: {runtimes}}}\n"
        );
        let facts = mlcompat::facts::load::facts_from_text("docker.yaml", &text).unwrap();
        let report = evaluate(&m, &facts);
        let row = report
            .rows
            .iter()
            .find(|r| r.id == "nvidia-container-toolkit")
            .unwrap();
        let doctor_says_missing = row.rule == "nvidia-container-toolkit-docker-no-runtime";
        let request = Request {
            wanted: vec![Wanted::parse("tensorrt-llm").unwrap()],
            installer: Installer::Pip,
        };
        let plan = mlcompat::plan::plan(&m, &facts, &request);
        assert_eq!(plan.resolved["tensorrt-llm"].method, "image", "{runtimes}");
        let plan_says_missing = plan
            .preconditions
            .iter()
            .any(|p| p.kind == "container-runtime");
        assert_eq!(doctor_says_missing, !registered, "{runtimes}: doctor");
        assert_eq!(plan_says_missing, !registered, "{runtimes}: install-plan");
    }
}
