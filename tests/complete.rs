//! The completion step (issue 17): what raw facts imply, filled in once from the matrix's own data, with
//! where each derived fact came from — and every command reading the same completed facts.

mod common;

use common::mlcompat;
use mlcompat::facts::{Arch, Facts, Gpu, Host, Nvidia, Os, Python, Vendor, FACTS_SCHEMA};
use mlcompat::matrix::complete::completed;
use mlcompat::matrix::embedded;

fn nvidia_box(gpu: &str, driver: &str) -> Facts {
    Facts {
        schema: FACTS_SCHEMA.into(),
        host: Host {
            os: Some(Os::Linux),
            arch: Some(Arch::X86_64),
            ..Host::default()
        },
        gpus: Some(vec![Gpu::new(Vendor::Nvidia, gpu)]),
        nvidia: Some(Nvidia {
            driver: driver.parse().ok(),
            ..Nvidia::default()
        }),
        ..Facts::default()
    }
}

fn cuda(f: &Facts) -> Option<String> {
    f.nvidia
        .as_ref()?
        .cuda_driver
        .as_ref()
        .map(ToString::to_string)
}

#[test]
fn the_driver_says_which_cuda_it_supports() {
    let m = embedded().unwrap();
    for (driver, want) in [
        ("535.183.01", "12.2"),
        ("535.54.03", "12.2"),
        ("550.127.05", "12.4"),
        ("570.86.10", "12.8"),
        ("580.126.09", "13.0"),
        ("520.61.05", "11.8"),
    ] {
        let f = completed(&m, &nvidia_box("NVIDIA A800-SXM4-80GB", driver));
        assert_eq!(cuda(&f).as_deref(), Some(want), "driver {driver}");
        let why = &f.derived["nvidia.cuda_driver"];
        assert!(why.contains(driver), "{why}");
    }
    // Older than every row: unknown, and the reason says so.
    let f = completed(&m, &nvidia_box("Tesla V100-SXM2-32GB", "418.67"));
    assert_eq!(cuda(&f), None);
    assert!(f.failed["nvidia.cuda_driver"].contains("older than every CUDA release"));
    // What the driver printed itself is never replaced.
    let mut printed = nvidia_box("NVIDIA GB10", "580.95.05");
    printed.nvidia.as_mut().unwrap().cuda_driver = "13.0".parse().ok();
    let f = completed(&m, &printed);
    assert_eq!(cuda(&f).as_deref(), Some("13.0"));
    assert!(!f.derived.contains_key("nvidia.cuda_driver"));
}

#[test]
fn jetson_and_wsl_drivers_are_read_in_their_own_numbering() {
    let m = embedded().unwrap();
    // Jetson Thor's 580.00 is below the desktop 580.65.06 yet supports CUDA 13.0.
    let mut thor = nvidia_box("NVIDIA Thor", "580.00");
    thor.host.kernel = Some("6.8.12-tegra".into());
    thor.host.arch = Some(Arch::Aarch64);
    let f = completed(&m, &thor);
    assert_eq!(f.host.tegra, Some(true));
    assert_eq!(cuda(&f).as_deref(), Some("13.0"));
    // Known as a Jetson by its GPU's name alone.
    let f = completed(&m, &nvidia_box("Orin (nvgpu)", "540.4.0"));
    assert_eq!(f.host.tegra, Some(true));
    assert_eq!(cuda(&f).as_deref(), Some("12.6"));
    // Under WSL2 the Linux side reports the Windows driver, numbered higher for the same CUDA: 570.50 is
    // below Windows' 570.65 for CUDA 12.8 (so 12.6 there) but above Linux's 570.26.
    let mut wsl = nvidia_box("NVIDIA GeForce RTX 5090", "570.50");
    wsl.host.kernel = Some("5.15.167.4-microsoft-standard-WSL2".into());
    let f = completed(&m, &wsl);
    assert_eq!(f.host.wsl, Some(true));
    assert_eq!(cuda(&f).as_deref(), Some("12.6"));
    assert!(f.derived["nvidia.cuda_driver"].contains("Windows"));
    assert_eq!(
        cuda(&completed(
            &m,
            &nvidia_box("NVIDIA GeForce RTX 5090", "570.50")
        ))
        .as_deref(),
        Some("12.8")
    );
}

#[test]
fn thor_install_plan_asks_for_no_new_driver() {
    // Issue 17, finding 3: `install-plan vllm` on a Thor told the user to install nvidia-driver-580.
    let out = mlcompat()
        .args([
            "install-plan",
            "vllm",
            "--profile",
            "jetson-agx-thor",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = plan["preconditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["kind"].as_str())
        .collect();
    assert!(!kinds.contains(&"driver"), "{plan:#}");
}

#[test]
fn an_apple_chip_under_an_x86_64_python_is_rosetta() {
    let m = embedded().unwrap();
    let facts = Facts {
        schema: FACTS_SCHEMA.into(),
        host: Host {
            os: Some(Os::Macos),
            arch: Some(Arch::X86_64),
            cpu_model: Some("Apple M2 Pro".into()),
            ..Host::default()
        },
        python: Some(Python {
            version: "3.11.7".parse().ok(),
            ..Python::default()
        }),
        ..Facts::default()
    };
    let f = completed(&m, &facts);
    assert_eq!(f.host.arch, Some(Arch::Aarch64));
    assert_eq!(f.python.as_ref().unwrap().arch, Some(Arch::X86_64));
    assert_eq!(f.primary_gpu().map(|g| g.vendor), Some(Vendor::Apple));
    assert!(f.derived["arch"].contains("Rosetta"));
    // The report judges Apple silicon, not an NVIDIA or Intel box.
    let report = mlcompat::eval::evaluate(&m, &f);
    let mlx = report.rows.iter().find(|r| r.id == "mlx").unwrap();
    let text = format!("{} {}", mlx.note, mlx.reason);
    assert!(
        text.contains("Rosetta") || text.contains("x86_64"),
        "{text}"
    );
    assert!(!text.contains("Intel Mac"), "{text}");
}

#[test]
fn completing_twice_changes_nothing() {
    let m = embedded().unwrap();
    for p in &m.profiles {
        let again = completed(&m, &p.facts);
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            serde_json::to_value(&p.facts).unwrap(),
            "{}",
            p.id
        );
    }
    let once = completed(&m, &nvidia_box("NVIDIA H200", "570.86.10"));
    let twice = completed(&m, &once);
    assert_eq!(
        serde_json::to_value(&once).unwrap(),
        serde_json::to_value(&twice).unwrap()
    );
}
