//! mlcompat: what will actually run on this AI machine, and how fast.
//!
//! The pipeline: `matrix` (YAML, validated) and `facts` (probed, saved or reference) go into `eval`, a
//! pure function that yields a `report`, which `render` turns into text, JSON, Markdown or HTML. `probe`,
//! `gpu` and `app` are the only parts that touch the outside world, and every program they start goes
//! through `exec`. `estimate` computes figures and `verdict` decides from them, never the other way.

pub mod app;
pub mod bench;
pub mod cli;
pub mod error;
pub mod estimate;
pub mod eval;
pub mod exec;
pub mod explain;
pub mod facts;
pub mod files;
pub mod fp4;
#[doc(hidden)]
pub mod fuzzing;
pub mod gpu;
pub mod matrix;
pub mod pep508;
pub mod plan;
pub mod probe;
pub mod render;
pub mod report;
pub mod schema;
pub mod terminal;
pub mod threads;
pub mod units;
pub mod untrusted;
pub mod verdict;
pub mod version;
pub mod yaml;
