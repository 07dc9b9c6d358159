//! nvidia-smi, for when mlcompat cannot load NVML itself: runs it (the table, then a `--query-gpu` CSV for
//! the compute capability); the text is read by `facts::dumps::smi`, with the dump readers.

use std::path::Path;

use crate::exec;
pub use crate::facts::dumps::smi::{
    parse_query, parse_table, to_facts, SmiFacts, SmiQueryRow, SmiTable, QUERY, SOURCE,
};

/// nvidia-smi's facts, or why there are none; `program` is its path. Both calls share `budget`.
pub fn read(program: &Path, budget: &exec::Budget, host_memory_gb: Option<f64>) -> SmiFacts {
    let table = match exec::Cmd::new(program).run_to_end(budget) {
        // A crash is a broken driver stack, not the absence of a GPU.
        Ok(exec::Completed {
            code: None,
            signal: Some(signal),
            ..
        }) => SmiTable {
            error: Some(format!(
                "nvidia-smi was killed by {}",
                exec::signal_name(signal)
            )),
            ..SmiTable::default()
        },
        Ok(done) => parse_table(&format!("{}\n{}", done.stdout, done.stderr)),
        Err(e) => SmiTable {
            error: Some(e.to_string()),
            ..SmiTable::default()
        },
    };
    let query = if table.error.is_none() && !table.gpus.is_empty() && !budget.left().is_zero() {
        exec::Cmd::new(program)
            .args([QUERY, "--format=csv,noheader,nounits"])
            .run(budget)
            .map(|o| parse_query(&o.stdout))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    to_facts(&table, &query, host_memory_gb)
}
