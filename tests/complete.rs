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

#[test]
fn gpus_people_own_are_known_by_name() {
    // Issue 17, finding 2: these real names got "cannot tell"; the GPU table knows them.
    let m = embedded().unwrap();
    for (name, cc) in [
        ("NVIDIA A800-SXM4-80GB", "8.0"),
        ("NVIDIA GeForce RTX 4050 Laptop GPU", "8.9"),
        ("Tesla V100-SXM2-32GB", "7.0"),
        ("NVIDIA H20", "9.0"),
        ("NVIDIA GeForce RTX 5070", "12.0"),
        ("NVIDIA L40S", "8.9"),
        ("Tesla T4", "7.5"),
        ("NVIDIA GeForce RTX 3060 Laptop GPU", "8.6"),
        ("NVIDIA RTX A6000", "8.6"),
        ("Orin (nvgpu)", "8.7"),
    ] {
        let f = completed(&m, &nvidia_box(name, "570.86.10"));
        let gpu = f.primary_gpu().unwrap();
        assert_eq!(
            gpu.compute_capability
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some(cc),
            "{name}"
        );
        assert!(
            f.derived["gpus[0].compute_capability"].contains("from its name"),
            "{name}"
        );
    }
    // A name the table does not know stays unknown, with the reason the rows give.
    let f = completed(&m, &nvidia_box("NVIDIA Future GPU 9000", "570.86.10"));
    assert!(f.primary_gpu().unwrap().compute_capability.is_none());
    // Datasheet figures come with the exact name: the H200's 4.8 TB/s, not NVML's 4917 from clocks.
    let mut h200 = nvidia_box("NVIDIA H200", "570.86.10");
    if let Some(g) = h200.gpus.as_mut().and_then(|g| g.first_mut()) {
        g.memory_bus_width_bits = Some(6144);
        g.max_memory_clock_mhz = Some(3201);
    }
    let f = completed(&m, &h200);
    assert_eq!(f.primary_gpu().unwrap().bandwidth_gbs, Some(4800.0));
    // Without a datasheet figure, the clocks' bandwidth is used and labelled as such.
    let mut unknown = nvidia_box("NVIDIA Future GPU 9000", "570.86.10");
    if let Some(g) = unknown.gpus.as_mut().and_then(|g| g.first_mut()) {
        g.memory_bus_width_bits = Some(384);
        g.max_memory_clock_mhz = Some(10501);
    }
    let f = completed(&m, &unknown);
    assert!((f.primary_gpu().unwrap().bandwidth_gbs.unwrap() - 1008.1).abs() < 0.1);
    assert!(f.derived["gpus[0].bandwidth_gbs"].contains("not a datasheet figure"));
    let report = mlcompat::eval::evaluate(&m, &f);
    let text = mlcompat::report::machine_summary(&f)
        .bandwidth
        .unwrap_or_default();
    assert!(text.contains("memory clock × bus width"), "{text}");
    assert!(!report.rows.is_empty());
}

#[test]
fn a_healthy_a800_box_is_judged_not_left_unknown() {
    // Finding 2: a 6×A800 box showed 22 of 26 rows ⚠️ "cannot tell". Its name and driver are enough.
    let m = embedded().unwrap();
    let mut f = nvidia_box("NVIDIA A800-SXM4-80GB", "535.183.01");
    f.gpus = Some(vec![Gpu::new(Vendor::Nvidia, "NVIDIA A800-SXM4-80GB"); 6]);
    let f = completed(&m, &f);
    let report = mlcompat::eval::evaluate(&m, &f);
    let unknown: Vec<&str> = report
        .rows
        .iter()
        .filter(|r| {
            r.missing_fact
                .as_deref()
                .is_some_and(|k| k.starts_with("gpu.") || k.starts_with("nvidia."))
        })
        .map(|r| r.id.as_str())
        .collect();
    assert!(unknown.is_empty(), "{unknown:?}");
}
