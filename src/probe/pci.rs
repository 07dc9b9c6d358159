//! GPUs as the PCI bus lists them (Linux sysfs): works without any driver, so a box whose NVIDIA driver
//! is missing still shows that it has an NVIDIA GPU.

use std::path::Path;

use crate::facts::Vendor;

/// A display controller on the PCI bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PciGpu {
    pub vendor: Vendor,
    pub address: String,
    pub device_id: String,
}

/// Reads `/sys/bus/pci/devices/*/{class,vendor,device}`.
pub fn list(root: &Path) -> Vec<PciGpu> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return vec![];
    };
    let mut gpus: Vec<PciGpu> = entries
        .flatten()
        .filter_map(|e| {
            let dir = e.path();
            let read = |f: &str| crate::files::read_system(dir.join(f));
            classify(
                &read("class")?,
                &read("vendor")?,
                &read("device").unwrap_or_default(),
            )
            .map(|(vendor, device_id)| PciGpu {
                vendor,
                address: e.file_name().to_string_lossy().into_owned(),
                device_id,
            })
        })
        .collect();
    gpus.sort_by(|a, b| a.address.cmp(&b.address));
    gpus
}

/// A device is a GPU when its class is a display controller (0x03xxxx) or a 3D/processing accelerator
/// from a GPU vendor (0x0302xx, 0x1200xx).
pub fn classify(class: &str, vendor: &str, device: &str) -> Option<(Vendor, String)> {
    let class = class.trim().trim_start_matches("0x");
    if !(class.starts_with("03") || class.starts_with("12")) {
        return None;
    }
    let vendor = match vendor.trim().trim_start_matches("0x") {
        "10de" => Vendor::Nvidia,
        "1002" => Vendor::Amd,
        "8086" if class.starts_with("03") => Vendor::Intel,
        _ => return None,
    };
    Some((vendor, device.trim().trim_start_matches("0x").to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_display_controllers() {
        assert_eq!(
            classify("0x030200\n", "0x10de\n", "0x2330\n"),
            Some((Vendor::Nvidia, "2330".into()))
        );
        assert_eq!(
            classify("0x030000", "0x1002", "0x1586"),
            Some((Vendor::Amd, "1586".into()))
        );
        assert_eq!(classify("0x020000", "0x10de", "0x1"), None);
        assert_eq!(classify("0x030000", "0x1af4", "0x1050"), None);
    }

    #[test]
    fn lists_a_fake_sysfs() {
        let dir = tempfile::tempdir().unwrap();
        for (addr, class, vendor) in [
            ("0000:01:00.0", "0x030000", "0x10de"),
            ("0000:00:02.0", "0x020000", "0x8086"),
        ] {
            let d = dir.path().join(addr);
            std::fs::create_dir(&d).unwrap();
            std::fs::write(d.join("class"), class).unwrap();
            std::fs::write(d.join("vendor"), vendor).unwrap();
            std::fs::write(d.join("device"), "0x2684").unwrap();
        }
        let gpus = list(dir.path());
        assert_eq!(gpus.len(), 1);
        assert_eq!(gpus[0].vendor, Vendor::Nvidia);
    }
}
