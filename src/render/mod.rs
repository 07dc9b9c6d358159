//! Renderers: pure functions from a report (or a grid of reports) to text written into a `Write`.

mod ascii;
mod bench;
mod doctor;
mod grid;
mod plan;
mod text;
mod workloads;

pub use ascii::{to_ascii, AsciiWriter};
pub use bench::{bench_text, compile_text};
pub use doctor::{doctor_json, doctor_markdown, doctor_text};
pub use grid::{grid_html, grid_json, grid_markdown, grid_text, Grid};
pub use plan::{plan_json, plan_text};
pub use text::{display_width, Style};
pub use workloads::{calibration_markdown, check_text, compare_text, estimate_text};
