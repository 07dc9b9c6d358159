//! Workload estimates on the reference machines: every core workload answered on every profile with
//! physically sound numbers, the calibration set within its documented error, and the head-to-head of the
//! two machines everyone compares pinned as a snapshot.

use mlcompat::estimate::calibrate::calibrate;
use mlcompat::estimate::MachineView;
use mlcompat::estimate::CORE_WORKLOADS as CORE;
use mlcompat::eval::evaluate;
use mlcompat::matrix::{embedded, Status};
use mlcompat::render::{self, Style};
use mlcompat::verdict::{check, compare};

#[test]
fn every_core_workload_is_answered_on_every_profile() {
    let m = embedded().expect("valid matrix");
    for id in CORE {
        assert!(
            m.workloads.workload(id).is_some(),
            "workload `{id}` missing"
        );
    }
    for p in &m.profiles {
        let report = evaluate(&m, &p.facts);
        let machine = MachineView::of(&p.facts);
        for w in &m.workloads.workloads {
            let c = check(&m.workloads, w, &report, &machine);
            assert!(!c.reason.is_empty(), "{} on {}: no reason", w.id, p.id);
            if c.verdict != Status::Fail {
                assert!(
                    c.speed.is_some_and(|s| s.is_finite() && s > 0.0),
                    "{} on {}: {}",
                    w.id,
                    p.id,
                    c.reason
                );
                let state = c.fit.as_ref().map(|f| f.state);
                assert!(
                    matches!(
                        state,
                        Some(mlcompat::verdict::FitState::Fits)
                            | Some(mlcompat::verdict::FitState::NeedsSetup)
                    ),
                    "{} on {}: {state:?}",
                    w.id,
                    p.id
                );
            }
            if let (Some(r), Some(a), Some(true)) = (c.required_gb, c.available_gb, c.fits) {
                assert!(r <= a, "{} on {} fits with {r} > {a}", w.id, p.id);
            }
            // Decode can never beat streaming the weights once per token at the machine's bandwidth.
            if let (Some(s), Some(bw), "tok/s per user") = (c.speed, machine.bandwidth_gbs, c.unit)
            {
                let model = m.workloads.model(&w.model).expect("model");
                let quant = m.workloads.quant(&w.quant).expect("quant");
                let bytes = model.active_b() * 1e9 * quant.bits / 8.0;
                assert!(
                    s <= bw * 1e9 / bytes * 1.0001,
                    "{} on {}: {s} tok/s beats {bw} GB/s",
                    w.id,
                    p.id
                );
            }
        }
    }
}

#[test]
fn an_8b_fp16_model_never_decodes_at_120_tok_s_on_273_gb_s() {
    let m = embedded().expect("valid matrix");
    let spark = m.profile("dgx-spark").expect("profile");
    let c = check(
        &m.workloads,
        m.workloads.workload("chat-8b-fp16").expect("workload"),
        &evaluate(&m, &spark.facts),
        &MachineView::of(&spark.facts),
    );
    let speed = c.speed.expect("runs");
    assert!(speed < 273.0 / 16.0, "{speed}");
    assert_eq!(c.bound, mlcompat::estimate::llm::Bound::MemoryBandwidth);
}

/// The calibration's headline (docs/calibration.md, README): on rows from sources no efficiency was fitted
/// on, decode is within |log2| 0.15 at the median and 0.45 at the 90th percentile, prefill within 0.5 at
/// the median; the fitting set is no worse. Both sets are large enough to mean something.
#[test]
fn calibration_meets_its_targets_on_held_out_sources() {
    use mlcompat::matrix::workloads::Set;
    let m = embedded().expect("valid matrix");
    let c = calibrate(&m);
    assert!(c.rows.len() >= 50, "{} calibration rows", c.rows.len());
    let held = c.set(Set::HeldOut).expect("held-out set");
    let fit = c.set(Set::Fit).expect("fit set");
    assert!(
        held.decode.rows >= 25 && held.prefill.rows >= 12,
        "{held:?}"
    );
    assert!(held.sources >= 6, "{} held-out sources", held.sources);
    let (median, p90) = (held.decode.median.unwrap(), held.decode.p90.unwrap());
    assert!(median <= 0.2, "held-out decode median |log2| {median:.2}");
    assert!(p90 <= 0.6, "held-out decode p90 |log2| {p90:.2}");
    // Serving throughput on held-out benchmarks: within a factor of two at the median.
    let capacity = held.capacity.median.expect("serving rows");
    assert!(
        held.capacity.rows >= 20 && capacity <= 1.0,
        "held-out capacity median |log2| {capacity:.2} over {} rows",
        held.capacity.rows
    );
    assert!(c.late.is_some() && c.sources.len() >= held.sources);
    let prefill = held.prefill.median.unwrap();
    assert!(
        prefill <= 0.5,
        "held-out prefill median |log2| {prefill:.2}"
    );
    assert!(fit.decode.median.unwrap() <= 0.15 && fit.prefill.median.unwrap() <= 0.5);
    // Every row is scored, and the worst rows are the worst.
    for r in &c.rows {
        assert!(
            r.decode_error.is_some() || r.prefill_error.is_some() || r.capacity_error.is_some(),
            "{} {} {}: no estimate",
            r.profile,
            r.engine,
            r.model
        );
    }
    let worst = c.rows[held.worst[0]].worst_error();
    for r in c.rows.iter().filter(|r| r.set == Set::HeldOut) {
        assert!(r.worst_error() <= worst);
    }
}

/// docs/calibration.md shows what `mlcompat matrix calibration` prints today: the headline, the worst rows
/// and every row.
#[test]
fn the_calibration_page_is_the_command_output() {
    let m = embedded().expect("valid matrix");
    let mut out = Vec::new();
    render::calibration_markdown(&calibrate(&m), &mut out).expect("renders");
    let generated = String::from_utf8(out).expect("UTF-8");
    let page = include_str!("../docs/calibration.md");
    assert!(
        page.contains(generated.trim_end()),
        "docs/calibration.md is stale: paste `mlcompat matrix calibration` into it"
    );
}

/// No source is split between the sets: a source is fitted on, or held out, as a whole (the loader
/// refuses a matrix that splits one).
#[test]
fn the_split_is_by_source() {
    let m = embedded().expect("valid matrix");
    let mut sets = std::collections::BTreeMap::new();
    for c in &m.workloads.calibration {
        let set = sets.entry(c.source_url().to_string()).or_insert(c.set);
        assert_eq!(*set, c.set, "{} is in both sets", c.source_url());
    }
    let text = include_str!("../matrix/workloads.yaml").replacen(
        "    set: fit\n",
        "    set: held-out\n",
        1,
    );
    let dir = std::env::temp_dir().join(format!("mlcompat-split-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("profiles")).unwrap();
    std::fs::write(dir.join("workloads.yaml"), text).unwrap();
    std::fs::write(
        dir.join("software.yaml"),
        include_str!("../matrix/software.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.join("failures.yaml"),
        include_str!("../matrix/failures.yaml"),
    )
    .unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/matrix/profiles")).unwrap()
    {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join("profiles").join(entry.file_name())).unwrap();
    }
    let err = mlcompat::matrix::from_dir(&dir).expect_err("a split source is refused");
    assert!(
        err.to_string()
            .contains("a source is fitted on or held out as a whole"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn compare_dgx_spark_and_mac_studio() {
    let m = embedded().expect("valid matrix");
    let (a, b) = (
        m.profile("dgx-spark").expect("a"),
        m.profile("mac-studio-m3-ultra").expect("b"),
    );
    let (ra, rb) = (evaluate(&m, &a.facts), evaluate(&m, &b.facts));
    let (ma, mb) = (MachineView::of(&a.facts), MachineView::of(&b.facts));
    let chosen: Vec<_> = CORE
        .iter()
        .filter_map(|id| m.workloads.workload(id))
        .collect();
    let cmp = compare(&m.workloads, &chosen, (&ra, &ma), (&rb, &mb));
    let mut text = Vec::new();
    render::compare_text(&cmp, Style::default(), true, &mut text).expect("renders");
    insta::assert_snapshot!(
        "compare_dgx_spark_mac_studio_markdown",
        String::from_utf8(text).expect("UTF-8")
    );
    // Memory-bound chat goes to the machine with 3× the bandwidth; CUDA-only work to the Spark.
    let winner = |id: &str| {
        cmp.workloads
            .iter()
            .find(|d| d.workload == id)
            .map(|d| d.winner)
            .expect("duel")
    };
    assert_eq!(winner("chat-8b-fp16"), "b");
    assert_eq!(winner("scientific-sim"), "a");
}
