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

/// The workloads every comparison starts from: the eight everyone asks about.
pub const CORE_WORKLOADS: &[&str] = &[
    "chat-8b-fp16",
    "chat-70b-fp4",
    "serve-20-users",
    "lora-8b",
    "train-10m",
    "sdxl",
    "voice-agent",
    "scientific-sim",
];
