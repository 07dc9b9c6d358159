//! The CUDA driver API: its version always, its devices with `--deep`.
//!
//! `cuDriverGetVersion` needs no `cuInit` and is asked in this process (`gpu::driver`, which checks every
//! symbol before calling any). Listing devices needs `cuInit`, which costs a few hundred milliseconds on a
//! real GPU and can hang on a sick one, so it runs in a GPU worker process with a time limit, and only for
//! `--deep`. The devices are matched to NVML's GPUs by UUID, never by position: CUDA orders devices
//! fastest first and honours `CUDA_VISIBLE_DEVICES`, and under MIG it shows a slice, not the GPU.

use std::path::Path;
use std::time::Duration;

use crate::facts::{Gpu, Vendor};
use crate::gpu::driver::{CudaDevice, Driver};
use crate::gpu::same_uuid;
use crate::gpu::worker::{self, Job};

pub struct CudaDriver {
    pub version: String,
    /// The driver library actually loaded.
    pub library: String,
    /// `None` unless the devices were listed (`--deep`).
    pub devices: Option<Vec<CudaDevice>>,
}

/// The driver's version; with `worker` (the mlcompat binary, `--deep`) also its devices, listed in a
/// child process that is killed after `timeout`.
pub fn read(worker: Option<&Path>, timeout: Duration) -> Result<CudaDriver, String> {
    let driver = Driver::load()?;
    let version = driver
        .version
        .map(|v| v.to_string())
        .ok_or("cuDriverGetVersion failed")?;
    let devices = match worker {
        None => None,
        Some(program) => {
            let r = worker::run(program, Job::Devices, 0, &[], timeout)
                .map_err(|f| format!("listing CUDA devices: {f}"))?;
            match r.error {
                Some(e) => return Err(e),
                None => Some(r.devices),
            }
        }
    };
    Ok(CudaDriver {
        version,
        library: driver.library.clone(),
        devices,
    })
}

/// Records on NVML's GPUs what the CUDA driver says about them, matched by UUID: the CUDA ordinal and the
/// SM count of a whole GPU, or of the MIG slice CUDA shows. A device with no match changes nothing.
pub fn match_devices(gpus: &mut [Gpu], devices: &[CudaDevice]) {
    for d in devices {
        let Some(uuid) = d.uuid.as_deref() else {
            continue;
        };
        for gpu in gpus.iter_mut().filter(|g| g.vendor == Vendor::Nvidia) {
            if gpu.uuid.as_deref().is_some_and(|u| same_uuid(u, uuid)) {
                gpu.cuda_index = Some(d.ordinal);
                if d.sms > 0 {
                    gpu.gpu_cores = Some(d.sms);
                }
            } else if let Some(slice) = gpu.mig_slices.iter_mut().find(|s| same_uuid(&s.uuid, uuid))
            {
                slice.cuda_index = Some(d.ordinal);
                slice.sms = (d.sms > 0).then_some(d.sms);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::MigSlice;

    fn cuda(ordinal: u32, name: &str, uuid: &str, sms: u32) -> CudaDevice {
        CudaDevice {
            ordinal,
            name: name.into(),
            uuid: Some(uuid.into()),
            compute_capability: (8, 9),
            sms,
            l2_bytes: 0,
            total_memory_bytes: 0,
        }
    }

    fn nvml(name: &str, uuid: &str) -> Gpu {
        let mut g = Gpu::new(Vendor::Nvidia, name);
        g.uuid = Some(uuid.into());
        g
    }

    #[test]
    fn devices_are_matched_by_uuid_not_position() {
        // NVML lists by PCI bus (3090 first); CUDA puts the faster 4090 first.
        let mut gpus = vec![
            nvml(
                "NVIDIA GeForce RTX 3090",
                "GPU-00000000-0000-4000-8000-000000003090",
            ),
            nvml(
                "NVIDIA GeForce RTX 4090",
                "GPU-00000000-0000-4000-8000-000000004090",
            ),
        ];
        let devices = [
            cuda(
                0,
                "NVIDIA GeForce RTX 4090",
                "00000000-0000-4000-8000-000000004090",
                128,
            ),
            cuda(
                1,
                "NVIDIA GeForce RTX 3090",
                "00000000-0000-4000-8000-000000003090",
                82,
            ),
        ];
        match_devices(&mut gpus, &devices);
        assert_eq!((gpus[0].cuda_index, gpus[0].gpu_cores), (Some(1), Some(82)));
        assert_eq!(
            (gpus[1].cuda_index, gpus[1].gpu_cores),
            (Some(0), Some(128))
        );
    }

    #[test]
    fn a_mig_slice_does_not_become_the_whole_gpu() {
        let mut h100 = nvml(
            "NVIDIA H100 80GB HBM3",
            "GPU-aaaaaaaa-0000-4000-8000-000000000001",
        );
        h100.gpu_cores = Some(132);
        h100.mig_slices = vec![MigSlice {
            uuid: "MIG-bbbbbbbb-0000-4000-8000-000000000002".into(),
            name: "NVIDIA H100 80GB HBM3 MIG 1g.10gb".into(),
            ..MigSlice::default()
        }];
        let mut gpus = vec![h100];
        match_devices(
            &mut gpus,
            &[cuda(
                0,
                "NVIDIA H100 80GB HBM3 MIG 1g.10gb",
                "bbbbbbbb-0000-4000-8000-000000000002",
                16,
            )],
        );
        assert_eq!(gpus[0].gpu_cores, Some(132), "the GPU keeps its own SMs");
        assert_eq!(gpus[0].cuda_index, None);
        assert_eq!(gpus[0].mig_slices[0].cuda_index, Some(0));
        assert_eq!(gpus[0].mig_slices[0].sms, Some(16));
    }

    #[test]
    fn no_libcuda_here_is_an_error_not_a_panic() {
        match read(None, Duration::from_secs(5)) {
            Ok(d) => assert!(d.version.contains('.')),
            Err(e) => assert!(!e.is_empty()),
        }
    }
}
