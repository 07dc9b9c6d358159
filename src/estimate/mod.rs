//! Workload figures: memory a model needs, how fast it runs, what the machine offers — pure functions of
//! (matrix, facts). Figures only: what they mean for a workload (✅/⚠️/❌, which engine, what it takes to
//! fit) is `verdict`'s, which calls this module and is never called from it.

pub mod calibrate;
pub mod llm;
pub mod machine;
pub mod path;
pub mod shape;

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
