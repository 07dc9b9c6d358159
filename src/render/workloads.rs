//! Renderings of `check`, `estimate`, `compare` and the calibration table.

use std::io::{self, Write};

use super::doctor::escape;
use super::text::{display_width, hanging, pad, truncate, wrap, Style};
use crate::estimate::calibrate::Calibration;
use crate::estimate::llm::{Capacity, LlmEstimate};
use crate::matrix::Status;
use crate::verdict::check::round;
use crate::verdict::{Check, Comparison, FitState};

fn speed(c: &Check) -> String {
    c.speed
        .map_or_else(|| "—".into(), |s| format!("{} {}", round(s), c.unit))
}

fn memory(c: &Check) -> String {
    match (c.required_gb, c.available_gb) {
        (Some(r), Some(a)) => format!("{} / {} GB", round(r), round(a)),
        (Some(r), None) => format!("{} GB / ?", round(r)),
        _ => "—".into(),
    }
}

/// Thousands separated: 8192 → 8,192.
fn thousands(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn prefill_words(tok_s: Option<f64>, prompt: u32, ttft: Option<f64>) -> String {
    match (tok_s, ttft) {
        (Some(p), Some(t)) => format!(
            "{} tok/s for a prompt of {} token{} ({} s to the first token)",
            round(p),
            thousands(prompt),
            if prompt == 1 { "" } else { "s" },
            round(t)
        ),
        (Some(p), None) => format!("{} tok/s", round(p)),
        _ => "—".into(),
    }
}

/// "up to 54 sequences of 8,192 tokens" and a small table of per-user and aggregate decode by users, in
/// lines of at most `width` columns (the table splits into blocks of users when it is wider).
fn capacity_lines(c: &Capacity, width: usize) -> Vec<String> {
    let mut text = vec![if c.max_sequences == 0 {
        format!(
            "no sequence of {} tokens fits beside the weights ({} GB of KV cache each)",
            thousands(c.context),
            round(c.kv_per_sequence_gb)
        )
    } else {
        format!(
            "up to {} sequences of {} tokens ({} GB of KV cache each){}; the ceiling is {}, and a step there is {}-bound",
            c.max_sequences,
            thousands(c.context),
            round(c.kv_per_sequence_gb),
            if c.metal_limit_raised {
                ", once the Metal limit is raised"
            } else {
                ""
            },
            c.ceiling.text(),
            c.bound_at_ceiling.text()
        )
    }];
    let lines = &mut text;
    if let (Some(p), Some(o)) = (c.prompt_tokens, c.output_tokens) {
        lines.push(format!(
            "requests of {} prompt + {} output tokens, each one's prefill counted",
            thousands(p),
            thousands(o)
        ));
    }
    if let (Some(t), Some(u)) = (c.target_tok_s, c.users_at_target) {
        lines.push(if u == 0 {
            format!("not even one user gets {} tok/s here", round(t))
        } else {
            format!(
                "{u} users each get at least {} tok/s ({} tok/s in all)",
                round(t),
                round(t * f64::from(u))
            )
        });
    }
    let mut lines: Vec<String> = text.iter().flat_map(|t| wrap(t, width.max(20))).collect();
    if c.per_user_tok_s.is_empty() {
        return lines;
    }
    // Rows of the table: label, then one 7-column cell per user count; blocks of as many as fit.
    const LABEL: usize = 17;
    const CELL: usize = 7;
    let per_block = (width.saturating_sub(LABEL) / CELL).max(1);
    let users: Vec<u32> = c.per_user_tok_s.keys().copied().collect();
    let cell = |v: String| format!("{v:>CELL$}");
    for block in users.chunks(per_block) {
        let row = |label: &str, value: &dyn Fn(u32) -> Option<f64>| -> String {
            let cells: String = block
                .iter()
                .map(|u| cell(value(*u).map_or_else(|| "—".into(), round)))
                .collect();
            format!("  {label:<15}{cells}")
        };
        let head: String = block.iter().map(|u| cell(u.to_string())).collect();
        lines.push(format!("  {:<15}{head}", "users"));
        lines.push(row("tok/s per user", &|u| {
            c.per_user_tok_s.get(&u).copied()
        }));
        lines.push(row("tok/s in all", &|u| c.aggregate_tok_s.get(&u).copied()));
        if !c.time_to_first_token_s.is_empty() {
            lines.push(row("first token, s", &|u| {
                c.time_to_first_token_s.get(&u).copied()
            }));
        }
    }
    lines
}

pub fn check_text(
    machine: &str,
    checks: &[Check],
    style: Style,
    verbose: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let width = style.width;
    let machine = crate::untrusted::one_line(machine);
    for line in wrap(&format!("mlcompat check — {machine}"), width) {
        writeln!(out, "{}", style.bold(&line))?;
    }
    let symbol_w = if style.ascii { 4 } else { 2 };
    let name_w = checks
        .iter()
        .map(|c| c.workload.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let speed_at = 2 + symbol_w + 2 + name_w + 2 + 14 + 2 + 17 + 2;
    // Too narrow for the four columns: memory and speed go on a line of their own under each workload.
    let narrow = width < speed_at + 14;
    let head = if narrow {
        format!(
            "  {}  {}  Engine",
            pad("", symbol_w),
            pad("Workload", name_w)
        )
    } else {
        format!(
            "  {}  {}  {:<14}  {:<17}  Speed",
            pad("", symbol_w),
            pad("Workload", name_w),
            "Engine",
            "Memory need/have",
        )
    };
    writeln!(out, "{}", truncate(&head, width))?;
    let indent = " ".repeat(4 + symbol_w);
    let text_w = width.saturating_sub(indent.len()).max(20);
    for c in checks {
        let engine = truncate(c.engine.as_deref().unwrap_or("—"), 14);
        if narrow {
            writeln!(
                out,
                "  {}  {}  {engine}",
                style.status_cell(c.verdict),
                pad(&c.workload, name_w),
            )?;
            let figures = format!("{}; {}", memory(c), speed(c));
            for line in wrap(&figures, text_w) {
                writeln!(out, "{indent}{line}")?;
            }
        } else {
            writeln!(
                out,
                "  {}  {}  {:<14}  {:<17}  {}",
                style.status_cell(c.verdict),
                pad(&c.workload, name_w),
                engine,
                memory(c),
                truncate(&speed(c), width.saturating_sub(speed_at))
            )?;
        }
        for line in wrap(&c.reason, text_w) {
            writeln!(out, "{indent}{}", style.dim(&line))?;
        }
        if let Some(v) = &c.installed {
            writeln!(out, "{indent}installed here: {v}")?;
        }
        if verbose && c.prefill_tok_s.is_some() {
            let words = prefill_words(
                c.prefill_tok_s,
                c.prefill_prompt.unwrap_or_default(),
                c.time_to_first_token_s,
            );
            for line in hanging("prefill  ", 9, &words, text_w) {
                writeln!(out, "{indent}{line}")?;
            }
        }
        if let (true, Some(k)) = (verbose, &c.capacity) {
            for (i, line) in capacity_lines(k, text_w.saturating_sub(9))
                .iter()
                .enumerate()
            {
                let label = if i == 0 { "capacity " } else { "         " };
                writeln!(out, "{}", format!("{indent}{label}{line}").trim_end())?;
            }
        }
        if verbose {
            for a in &c.assumptions {
                for line in hanging("· ", 2, a, text_w) {
                    writeln!(out, "{indent}{line}")?;
                }
            }
        }
    }
    Ok(())
}

pub fn estimate_text(
    machine: &str,
    engine: &str,
    e: &LlmEstimate,
    (verdict, reason): (Status, &str),
    fit: FitState,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    let machine = crate::untrusted::one_line(machine);
    for line in wrap(
        &format!("mlcompat estimate — {machine}, {engine}"),
        style.width,
    ) {
        writeln!(out, "{}", style.bold(&line))?;
    }
    let width = style.width;
    if !reason.is_empty() {
        for line in wrap(&format!("{} {reason}", style.symbol(verdict)), width - 2) {
            writeln!(out, "  {line}")?;
        }
    }
    let m = &e.memory;
    let avail = m.available_gb.map_or("?".into(), round);
    // The memory line's mark is memory's own: the verdict and its reasons are above.
    let memory_status = match fit {
        FitState::Fits => Status::Ok,
        FitState::DoesNotFit => Status::Fail,
        FitState::NeedsSetup | FitState::Unknown => Status::Warn,
    };
    // Labelled lines: the label (its width without color codes), then the text wrapped under itself.
    let plain = Style {
        color: false,
        ..style
    };
    let labelled = |out: &mut dyn Write, label: (String, String), text: String| -> io::Result<()> {
        for line in hanging(&label.0, display_width(&label.1), &text, width) {
            writeln!(out, "{line}")?;
        }
        Ok(())
    };
    labelled(
        out,
        (
            format!("  {} memory   ", style.status_cell(memory_status)),
            format!("  {} memory   ", plain.status_cell(memory_status)),
        ),
        format!(
            "{} GB needed of {avail} GB (weights {}, KV cache {}, runtime {})",
            round(m.required_gb),
            round(m.weights_gb),
            round(m.kv_cache_gb),
            round(m.runtime_gb)
        ),
    )?;
    let decode = match (e.decode_tok_s, e.aggregate_tok_s) {
        (Some(d), Some(a)) => format!(
            "{} tok/s per sequence, {} tok/s in all ({}-bound)",
            round(d),
            round(a),
            e.bound.text()
        ),
        _ => "—".into(),
    };
    let plain_label = |l: &str| (l.to_string(), l.to_string());
    labelled(out, plain_label("     decode   "), decode)?;
    labelled(
        out,
        plain_label("     prefill  "),
        prefill_words(e.prefill_tok_s, e.prefill_prompt, e.time_to_first_token_s),
    )?;
    if let Some(c) = &e.capacity {
        for (i, line) in capacity_lines(c, width.saturating_sub(14))
            .iter()
            .enumerate()
        {
            let label = if i == 0 { "capacity" } else { "        " };
            writeln!(out, "{}", format!("     {label} {line}").trim_end())?;
        }
    }
    writeln!(out, "  assumptions:")?;
    for a in &e.assumptions {
        for line in hanging("· ", 2, a, width.saturating_sub(4)) {
            writeln!(out, "    {line}")?;
        }
    }
    Ok(())
}

pub fn compare_text(
    c: &Comparison,
    style: Style,
    markdown: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let (a, b) = (&c.a, &c.b);
    if markdown {
        writeln!(out, "| | {} | {} |\n|---|---|---|", escape(a), escape(b))?;
        for s in &c.specs {
            writeln!(out, "| {} | {} | {} |", s.spec, escape(&s.a), escape(&s.b))?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "| Workload | {} | {} | Winner | Why |\n|---|---|---|---|---|",
            escape(a),
            escape(b)
        )?;
        for d in &c.workloads {
            let cell = |x: &Check| {
                format!(
                    "{} {}",
                    Style::default().symbol(x.verdict),
                    escape(&speed(x))
                )
            };
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                escape(&d.name),
                cell(&d.a),
                cell(&d.b),
                winner(d.winner, a, b),
                escape(&d.reason)
            )?;
        }
        let llm: Vec<_> = c
            .workloads
            .iter()
            .filter(|d| d.a.capacity.is_some() || d.b.capacity.is_some())
            .collect();
        if !llm.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "| Workload | Prefill, {a} | Prefill, {b} | Capacity, {a} | Capacity, {b} |\n|---|---|---|---|---|",
                a = escape(a),
                b = escape(b)
            )?;
            for d in llm {
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    escape(&d.name),
                    prefill_cell(&d.a),
                    prefill_cell(&d.b),
                    capacity_cell(&d.a),
                    capacity_cell(&d.b)
                )?;
            }
        }
        return Ok(());
    }
    let width = style.width;
    let (a, b) = (
        &*crate::untrusted::one_line(a),
        &*crate::untrusted::one_line(b),
    );
    for line in wrap(&format!("mlcompat compare — {a} vs {b}"), width) {
        writeln!(out, "{}", style.bold(&line))?;
    }
    // Two columns after a 20-column label; names too long for theirs become A and B, spelled out above.
    let col = (width.saturating_sub(24) / 2).clamp(12, 40);
    let fits = display_width(a) <= col && display_width(b) <= col;
    let (ha, hb) = if fits {
        (a.to_string(), b.to_string())
    } else {
        for (label, name) in [("A", a), ("B", b)] {
            for line in hanging(&format!("  {label}  "), 5, name, width) {
                writeln!(out, "{line}")?;
            }
        }
        ("A".to_string(), "B".to_string())
    };
    writeln!(out, "  {}  {}  {}", pad("", 20), pad(&ha, col), hb)?;
    for s in &c.specs {
        writeln!(
            out,
            "  {}  {}  {}",
            pad(s.spec, 20),
            pad(&truncate(&s.a, col), col),
            truncate(&s.b, col)
        )?;
    }
    writeln!(out)?;
    let cell_w = (width.saturating_sub(4) / 2)
        .saturating_sub(4)
        .clamp(12, 40);
    for d in &c.workloads {
        writeln!(out, "  {}", style.bold(&d.workload))?;
        writeln!(
            out,
            "    {} {} {} {}",
            style.status_cell(d.a.verdict),
            pad(&truncate(&speed(&d.a), cell_w), cell_w),
            style.status_cell(d.b.verdict),
            truncate(&speed(&d.b), cell_w)
        )?;
        let text_w = width.saturating_sub(4).max(20);
        for line in wrap(
            &format!("winner: {} — {}", winner(d.winner, a, b), d.reason),
            text_w,
        ) {
            writeln!(out, "    {}", style.dim(&line))?;
        }
        if d.a.capacity.is_some() || d.b.capacity.is_some() {
            for line in wrap(
                &format!(
                    "prefill {} vs {}; capacity {} vs {}",
                    prefill_cell(&d.a),
                    prefill_cell(&d.b),
                    capacity_cell(&d.a),
                    capacity_cell(&d.b)
                ),
                text_w,
            ) {
                writeln!(out, "    {}", style.dim(&line))?;
            }
        }
    }
    Ok(())
}

fn prefill_cell(c: &Check) -> String {
    c.prefill_tok_s
        .map_or_else(|| "—".into(), |p| format!("{} tok/s", round(p)))
}

/// "54 × 8,192 tokens, 512 tok/s in all": the most sequences and their aggregate decode.
fn capacity_cell(c: &Check) -> String {
    let Some(k) = &c.capacity else {
        return "—".into();
    };
    match k.aggregate_tok_s.iter().next_back() {
        Some((users, all)) => format!(
            "{} × {} tokens; {} tok/s in all at {users}",
            k.max_sequences,
            thousands(k.context),
            round(*all)
        ),
        None => format!("0 × {} tokens", thousands(k.context)),
    }
}

fn winner<'a>(w: &str, a: &'a str, b: &'a str) -> &'a str {
    match w {
        "a" => a,
        "b" => b,
        "tie" => "tie",
        _ => "neither",
    }
}

/// A |log2| error in words: `0.12 (9%)`.
fn log2_words(e: Option<f64>) -> String {
    e.map_or_else(
        || "—".into(),
        |e| format!("{e:.2} ({:.0}%)", (2f64.powf(e.abs()) - 1.0) * 100.0),
    )
}

pub fn calibration_markdown(c: &Calibration, out: &mut dyn Write) -> io::Result<()> {
    let signed = |e: Option<f64>| e.map_or_else(|| "—".into(), |e| format!("{e:+.2}"));
    let num = |v: Option<f64>| v.map_or_else(|| "—".into(), round);
    writeln!(
        out,
        "| Set | Sources | Decode rows | Decode median | Decode p90 | Prefill rows | Prefill median | Prefill p90 | Capacity rows | Capacity median | Capacity p90 |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|")?;
    let late = c
        .late
        .as_ref()
        .map(|l| (l, "held-out, collected after fitting"));
    for (s, label) in c.sets.iter().map(|s| (s, s.set.text())).chain(late) {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            label,
            s.sources,
            s.decode.rows,
            log2_words(s.decode.median),
            log2_words(s.decode.p90),
            s.prefill.rows,
            log2_words(s.prefill.median),
            log2_words(s.prefill.p90),
            s.capacity.rows,
            log2_words(s.capacity.median),
            log2_words(s.capacity.p90)
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Errors are |log2(estimate / measured)|: 0.15 is 11% off, 0.5 is 41%, 1 is a factor of two. The fit set is what the efficiencies were fitted on; held-out sources were not used for any figure. Capacity is a serving benchmark's throughput of all users together, each request's prefill counted."
    )?;
    writeln!(out)?;
    writeln!(out, "By source:")?;
    writeln!(out)?;
    writeln!(out, "| Source | Set | Collected | Decode rows | Decode median | Prefill rows | Prefill median | Capacity rows | Capacity median |")?;
    writeln!(out, "|---|---|---|---|---|---|---|---|---|")?;
    for s in &c.sources {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            super::doctor::source_link(&s.source),
            s.set.text(),
            s.collected.as_deref().unwrap_or("—"),
            s.decode.rows,
            log2_words(s.decode.median),
            s.prefill.rows,
            log2_words(s.prefill.median),
            s.capacity.rows,
            log2_words(s.capacity.median)
        )?;
    }
    for s in &c.sets {
        writeln!(out)?;
        writeln!(out, "Worst {} rows:", s.set.text())?;
        writeln!(out)?;
        for &i in &s.worst {
            let r = &c.rows[i];
            let mut parts = Vec::new();
            if let Some(e) = r.decode_error {
                parts.push(format!(
                    "decode {} vs {} measured ({e:+.2})",
                    num(r.estimated_decode),
                    num(r.measured_decode)
                ));
            }
            if let Some(e) = r.prefill_error {
                parts.push(format!(
                    "prefill {} vs {} measured ({e:+.2})",
                    num(r.estimated_prefill),
                    num(r.measured_prefill)
                ));
            }
            if let Some(e) = r.capacity_error {
                parts.push(format!(
                    "throughput {} vs {} measured ({e:+.2})",
                    num(r.estimated_capacity),
                    num(r.measured_capacity)
                ));
            }
            writeln!(
                out,
                "- {} {} {} {} {}: {}",
                r.profile,
                escape(&r.engine),
                escape(&r.model),
                r.quant,
                r.test,
                parts.join("; ")
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "| Set | Machine | Engine | Model | Quant | Test | Decode measured | Decode estimated | log2 error | Prefill measured | Prefill estimated | log2 error | Throughput measured | Throughput estimated | log2 error | Source |")?;
    writeln!(
        out,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )?;
    for r in &c.rows {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.set.text(),
            r.profile,
            escape(&r.engine),
            escape(&r.model),
            r.quant,
            r.test,
            num(r.measured_decode),
            num(r.estimated_decode),
            signed(r.decode_error),
            num(r.measured_prefill),
            num(r.estimated_prefill),
            signed(r.prefill_error),
            num(r.measured_capacity),
            num(r.estimated_capacity),
            signed(r.capacity_error),
            super::doctor::source_link(&r.source)
        )?;
    }
    Ok(())
}
