//! Workload estimates: will it fit, how fast, which engine — pure functions of (matrix, facts).

pub mod adhoc;
pub mod calibrate;
pub mod check;
pub mod compare;
pub mod llm;
pub mod machine;
pub mod path;
pub mod shape;

pub use check::{check, Check};
pub use compare::{compare, Comparison};
pub use machine::MachineView;
