//! The CUDA driver API, as thin as it can be: cudarc's dynamically loaded `sys` bindings, called directly,
//! so every call names the one driver symbol it resolves (cudarc's safe layer adds calls of its own:
//! `cuMemAllocAsync` when the device supports memory pools, `cuCtxGetCurrent` on every use).
//!
//! cudarc resolves each symbol on first use and panics when it is missing, so `Driver::load` checks every
//! symbol this module calls before any is called, and resolves the two whose name changed between
//! releases itself: `cuEventElapsedTime_v2` exists only from CUDA 12.8 (a 12.4 driver has just
//! `cuEventElapsedTime`), and `cuDeviceGetUuid_v2` from 11.4. Memory is plain device memory
//! (`cuMemAlloc_v2`, synchronous copies); kernels run on the legacy default stream.

use std::ffi::{c_char, c_int, c_uint, c_void, CString};
use std::marker::PhantomData;
use std::sync::OnceLock;

use cudarc::driver::sys::{self, CUresult};
use serde::{Deserialize, Serialize};

use super::nvrtc::{loaded_from, Image};
use super::CudaVersion;

/// Symbols called through cudarc's bindings, each checked to exist before the first call.
const REQUIRED: &[&str] = &[
    "cuInit",
    "cuDriverGetVersion",
    "cuDeviceGetCount",
    "cuDeviceGet",
    "cuDeviceGetName",
    "cuDeviceGetAttribute",
    "cuDeviceTotalMem_v2",
    "cuDevicePrimaryCtxRetain",
    "cuDevicePrimaryCtxRelease_v2",
    "cuCtxSetCurrent",
    "cuMemGetInfo_v2",
    "cuModuleLoadData",
    "cuModuleUnload",
    "cuModuleGetFunction",
    "cuMemAlloc_v2",
    "cuMemFree_v2",
    "cuMemcpyHtoD_v2",
    "cuMemcpyDtoH_v2",
    "cuLaunchKernel",
    "cuStreamSynchronize",
    "cuEventCreate",
    "cuEventRecord",
    "cuEventSynchronize",
    "cuEventDestroy_v2",
    "cuOccupancyMaxActiveBlocksPerMultiprocessor",
];

type ElapsedFn = unsafe extern "C" fn(*mut f32, sys::CUevent, sys::CUevent) -> CUresult;
type UuidFn = unsafe extern "C" fn(*mut sys::CUuuid, sys::CUdevice) -> CUresult;

/// The loaded driver library.
pub struct Driver {
    /// `cuDriverGetVersion`: the newest CUDA this driver supports.
    pub version: Option<CudaVersion>,
    /// The file the loader opened (cudarc tries `libcuda.so`, then versioned names, then `libcuda.so.1`).
    pub library: String,
    /// `cuEventElapsedTime_v2` where it exists, else `cuEventElapsedTime`.
    pub elapsed_symbol: &'static str,
    elapsed: ElapsedFn,
    uuid: UuidFn,
}

/// What the driver says about one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CudaDevice {
    /// The CUDA ordinal (after `CUDA_VISIBLE_DEVICES`, fastest first unless `CUDA_DEVICE_ORDER` says not).
    pub ordinal: u32,
    pub name: String,
    /// `cuDeviceGetUuid_v2` as hex, `8-4-4-4-12` without a prefix: NVML writes the same digits after
    /// `GPU-` (a whole GPU) or `MIG-` (a MIG slice, which is what CUDA sees under MIG).
    pub uuid: Option<String>,
    pub compute_capability: (u32, u32),
    pub sms: u32,
    pub l2_bytes: u64,
    pub total_memory_bytes: u64,
}

/// A driver call that failed: "cuInit: CUDA_ERROR_UNKNOWN (999)".
fn fail(call: &str, r: CUresult) -> String {
    format!("{call}: {r:?} ({})", r as i32)
}

fn check(call: &'static str, r: CUresult) -> Result<(), String> {
    match r {
        CUresult::CUDA_SUCCESS => Ok(()),
        other => Err(fail(call, other)),
    }
}

/// What to say when there is no driver library at all (libcuda.so.1 cannot be loaded).
pub const NO_DRIVER: &str = "no CUDA driver";

impl Driver {
    /// Loads the driver once per process, or says why not. No call is made before every symbol is known
    /// to exist.
    pub fn load() -> Result<&'static Driver, String> {
        static DRIVER: OnceLock<Result<Driver, String>> = OnceLock::new();
        DRIVER
            .get_or_init(load_uncached)
            .as_ref()
            .map_err(Clone::clone)
    }

    /// `cuInit(0)`.
    pub fn init(&self) -> Result<(), String> {
        // SAFETY: the symbol exists (checked in `load`); cuInit takes flags 0.
        check("cuInit", unsafe { sys::cuInit(0) })
    }

    /// Every device the driver shows this process, in CUDA's order. Needs `init`.
    pub fn devices(&self) -> Result<Vec<CudaDevice>, String> {
        let mut count: c_int = 0;
        // SAFETY: writes one int.
        check("cuDeviceGetCount", unsafe {
            sys::cuDeviceGetCount(&mut count)
        })?;
        (0..count.max(0)).map(|o| self.device(o)).collect()
    }

    /// One device by CUDA ordinal. Needs `init`.
    pub fn device(&self, ordinal: c_int) -> Result<CudaDevice, String> {
        let dev = self.handle(ordinal)?;
        let attr = |a: sys::CUdevice_attribute| -> Result<i32, String> {
            let mut v: c_int = 0;
            // SAFETY: `dev` is a valid device; writes one int.
            check("cuDeviceGetAttribute", unsafe {
                sys::cuDeviceGetAttribute(&mut v, a, dev)
            })?;
            Ok(v)
        };
        let mut name = [0 as c_char; 256];
        // SAFETY: the buffer holds 256 chars; the driver NUL-terminates within `len`.
        check("cuDeviceGetName", unsafe {
            sys::cuDeviceGetName(name.as_mut_ptr(), 255, dev)
        })?;
        let name: Vec<u8> = name
            .iter()
            .take_while(|c| **c != 0)
            .map(|c| *c as u8)
            .collect();
        let mut total = 0usize;
        // SAFETY: writes one size_t.
        check("cuDeviceTotalMem_v2", unsafe {
            sys::cuDeviceTotalMem_v2(&mut total, dev)
        })?;
        use sys::CUdevice_attribute as A;
        let u = |v: i32| u32::try_from(v).unwrap_or(0);
        Ok(CudaDevice {
            ordinal: u(ordinal),
            name: String::from_utf8_lossy(&name).trim().to_string(),
            uuid: self.uuid_of(dev),
            compute_capability: (
                u(attr(A::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)?),
                u(attr(A::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)?),
            ),
            sms: u(attr(A::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)?),
            l2_bytes: u64::from(u(attr(A::CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE)?)),
            total_memory_bytes: total as u64,
        })
    }

    fn handle(&self, ordinal: c_int) -> Result<sys::CUdevice, String> {
        let mut dev: sys::CUdevice = 0;
        // SAFETY: writes one device handle.
        check("cuDeviceGet", unsafe {
            sys::cuDeviceGet(&mut dev, ordinal)
        })?;
        Ok(dev)
    }

    fn uuid_of(&self, dev: sys::CUdevice) -> Option<String> {
        let mut uuid = sys::CUuuid { bytes: [0; 16] };
        // SAFETY: the resolved cuDeviceGetUuid[_v2] writes 16 bytes.
        let r = unsafe { (self.uuid)(&mut uuid, dev) };
        (r == CUresult::CUDA_SUCCESS).then(|| format_uuid(&uuid.bytes.map(|b| b as u8)))
    }

    /// Retains device `ordinal`'s primary context and makes it current on this thread.
    pub fn open(&'static self, ordinal: c_int) -> Result<Context, String> {
        let dev = self.handle(ordinal)?;
        let mut ctx: sys::CUcontext = std::ptr::null_mut();
        // SAFETY: `dev` is valid; writes the context handle.
        check("cuDevicePrimaryCtxRetain", unsafe {
            sys::cuDevicePrimaryCtxRetain(&mut ctx, dev)
        })?;
        let context = Context { driver: self, dev };
        // SAFETY: `ctx` was just retained.
        check("cuCtxSetCurrent", unsafe { sys::cuCtxSetCurrent(ctx) })?;
        Ok(context)
    }
}

fn load_uncached() -> Result<Driver, String> {
    // SAFETY: only tries to dlopen libcuda under cudarc's candidate names.
    if !unsafe { sys::is_culib_present() } {
        return Err(NO_DRIVER.into());
    }
    // SAFETY: the library is present, so culib() finds it instead of panicking.
    let lib = unsafe { sys::culib() };
    let has = |name: &str| {
        let sym = format!("{name}\0");
        // SAFETY: looking a symbol up calls nothing.
        unsafe { lib.get::<*const c_void>(sym.as_bytes()) }.is_ok()
    };
    // SAFETY: as above; the symbol's type is the documented cuInit signature.
    let init_sym = unsafe { lib.get::<unsafe extern "C" fn(c_uint) -> CUresult>(b"cuInit\0") }
        .map(|s| *s as *const c_void)
        .ok();
    let library = init_sym
        .and_then(loaded_from)
        .unwrap_or_else(|| "libcuda (path unknown)".into());
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|s| !has(s)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "the CUDA driver library {library} lacks {}: it is not a working NVIDIA driver, or too old",
            missing.join(", ")
        ));
    }
    let pick = |names: &[&'static str]| names.iter().copied().find(|n| has(n));
    let elapsed_symbol = pick(&["cuEventElapsedTime_v2", "cuEventElapsedTime"])
        .ok_or_else(|| format!("the CUDA driver library {library} has no cuEventElapsedTime"))?;
    let uuid_symbol = pick(&["cuDeviceGetUuid_v2", "cuDeviceGetUuid"])
        .ok_or_else(|| format!("the CUDA driver library {library} has no cuDeviceGetUuid"))?;
    // SAFETY: both exist (just checked); v1 and v2 share their C signatures.
    let (elapsed, uuid) = unsafe {
        (
            *lib.get::<ElapsedFn>(format!("{elapsed_symbol}\0").as_bytes())
                .map_err(|e| e.to_string())?,
            *lib.get::<UuidFn>(format!("{uuid_symbol}\0").as_bytes())
                .map_err(|e| e.to_string())?,
        )
    };
    let mut v: c_int = 0;
    // SAFETY: checked to exist; needs no cuInit; writes one int.
    let version = (unsafe { sys::cuDriverGetVersion(&mut v) } == CUresult::CUDA_SUCCESS)
        .then(|| CudaVersion::from_driver(v))
        .flatten();
    Ok(Driver {
        version,
        library,
        elapsed_symbol,
        elapsed,
        uuid,
    })
}

/// 16 UUID bytes as NVML writes them after `GPU-`: `8-4-4-4-12` lower-case hex.
pub fn format_uuid(bytes: &[u8; 16]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A device's primary context, current on the thread that opened it. Everything below lives in it.
pub struct Context {
    driver: &'static Driver,
    dev: sys::CUdevice,
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: retained in `open`, released once. An error (a sticky fault) changes nothing here.
        let _ = unsafe { sys::cuDevicePrimaryCtxRelease_v2(self.dev) };
    }
}

impl Context {
    pub fn driver(&self) -> &'static Driver {
        self.driver
    }

    /// `cuMemGetInfo_v2`: (free, total) bytes.
    pub fn memory(&self) -> Result<(u64, u64), String> {
        let (mut free, mut total) = (0usize, 0usize);
        // SAFETY: writes two size_t.
        check("cuMemGetInfo_v2", unsafe {
            sys::cuMemGetInfo_v2(&mut free, &mut total)
        })?;
        Ok((free as u64, total as u64))
    }

    /// Loads a cubin, or PTX the driver JIT-compiles for this GPU (`cuModuleLoadData`).
    pub fn load(&self, image: &Image) -> Result<Module<'_>, String> {
        let mut bytes = image.bytes.clone();
        if image.ptx && bytes.last() != Some(&0) {
            bytes.push(0);
        }
        let mut module: sys::CUmodule = std::ptr::null_mut();
        // SAFETY: `bytes` is a whole cubin or NUL-terminated PTX, alive for the call.
        let r = unsafe { sys::cuModuleLoadData(&mut module, bytes.as_ptr().cast()) };
        if r != CUresult::CUDA_SUCCESS {
            let what = if image.ptx { "PTX" } else { "cubin" };
            return Err(format!(
                "{} (loading the {} {what})",
                fail("cuModuleLoadData", r),
                image.target
            ));
        }
        Ok(Module {
            module,
            _ctx: PhantomData,
        })
    }

    /// `count` elements of plain device memory (`cuMemAlloc_v2`), uninitialised.
    pub fn alloc<T: Copy>(&self, count: usize) -> Result<Buffer<'_, T>, String> {
        let bytes = count
            .checked_mul(std::mem::size_of::<T>())
            .filter(|b| *b > 0)
            .ok_or("allocation size out of range")?;
        let mut ptr: sys::CUdeviceptr = 0;
        // SAFETY: writes one device pointer.
        check("cuMemAlloc_v2", unsafe {
            sys::cuMemAlloc_v2(&mut ptr, bytes)
        })?;
        Ok(Buffer {
            ptr,
            len: count,
            _ctx: PhantomData,
        })
    }

    /// A device copy of `host` (`cuMemcpyHtoD_v2`, synchronous).
    pub fn upload<T: Copy>(&self, host: &[T]) -> Result<Buffer<'_, T>, String> {
        let buf = self.alloc::<T>(host.len())?;
        buf.write(host)?;
        Ok(buf)
    }

    /// A timing event (`cuEventCreate`, default flags).
    pub fn event(&self) -> Result<Event<'_>, String> {
        let mut event: sys::CUevent = std::ptr::null_mut();
        // SAFETY: writes one event handle.
        check("cuEventCreate", unsafe {
            sys::cuEventCreate(&mut event, 0)
        })?;
        Ok(Event {
            event,
            elapsed: self.driver.elapsed,
            elapsed_symbol: self.driver.elapsed_symbol,
            _ctx: PhantomData,
        })
    }
}

/// A loaded module; unloaded on drop.
pub struct Module<'c> {
    module: sys::CUmodule,
    _ctx: PhantomData<&'c Context>,
}

impl Drop for Module<'_> {
    fn drop(&mut self) {
        // SAFETY: loaded once in `Context::load`, unloaded once.
        let _ = unsafe { sys::cuModuleUnload(self.module) };
    }
}

impl Module<'_> {
    /// `cuModuleGetFunction`.
    pub fn function(&self, name: &str) -> Result<Function<'_>, String> {
        let c = CString::new(name).map_err(|_| "kernel name contains a NUL byte")?;
        let mut f: sys::CUfunction = std::ptr::null_mut();
        // SAFETY: the module is loaded; `c` is NUL-terminated.
        let r = unsafe { sys::cuModuleGetFunction(&mut f, self.module, c.as_ptr()) };
        if r != CUresult::CUDA_SUCCESS {
            return Err(format!("{} ({name})", fail("cuModuleGetFunction", r)));
        }
        Ok(Function {
            f,
            name: name.to_string(),
            _module: PhantomData,
        })
    }
}

/// A kernel in a loaded module.
pub struct Function<'m> {
    f: sys::CUfunction,
    pub name: String,
    _module: PhantomData<&'m ()>,
}

impl Function<'_> {
    /// Blocks of `block_threads` threads that fit on one SM at once
    /// (`cuOccupancyMaxActiveBlocksPerMultiprocessor`: registers, shared memory and block limits).
    pub fn blocks_per_sm(&self, block_threads: u32) -> Result<u32, String> {
        let mut blocks: c_int = 0;
        let threads = c_int::try_from(block_threads).map_err(|_| "block too large")?;
        // SAFETY: a valid function; writes one int.
        check("cuOccupancyMaxActiveBlocksPerMultiprocessor", unsafe {
            sys::cuOccupancyMaxActiveBlocksPerMultiprocessor(&mut blocks, self.f, threads, 0)
        })?;
        Ok(u32::try_from(blocks).unwrap_or(0))
    }

    /// Launches on the default stream and waits for the kernel (`cuLaunchKernel`, then [`Function::finish`]),
    /// so that a fault is reported under this kernel's name.
    ///
    /// # Safety
    /// As [`Function::enqueue`].
    pub unsafe fn launch(
        &self,
        grid: (u32, u32, u32),
        block: (u32, u32, u32),
        args: &mut [*mut c_void],
    ) -> Result<(), String> {
        // SAFETY: per the caller's contract.
        unsafe { self.enqueue(grid, block, args) }?;
        self.finish()
    }

    /// Waits for every launch so far on the default stream (`cuStreamSynchronize`); a failure is
    /// reported as this kernel's. A launch returns before its kernel runs, so a fault (an illegal
    /// address, an illegal instruction) surfaces at the next call that waits for the device: without this
    /// wait, under the name of a copy or an event instead of the kernel's.
    pub fn finish(&self) -> Result<(), String> {
        // SAFETY: the null stream of the current context.
        let r = unsafe { sys::cuStreamSynchronize(std::ptr::null_mut()) };
        if r != CUresult::CUDA_SUCCESS {
            return Err(format!(
                "{}: {r:?} ({}), reported by cuStreamSynchronize after its launch",
                self.name, r as i32
            ));
        }
        Ok(())
    }

    /// Launches on the default stream (`cuLaunchKernel`) without waiting: for timing loops, which call
    /// [`Function::finish`] themselves.
    ///
    /// # Safety
    /// `args` must point to one value per kernel parameter, of the parameter's type, in order; device
    /// pointers among them must cover everything the kernel reads and writes for this grid.
    pub unsafe fn enqueue(
        &self,
        grid: (u32, u32, u32),
        block: (u32, u32, u32),
        args: &mut [*mut c_void],
    ) -> Result<(), String> {
        // SAFETY: per the caller's contract.
        let r = unsafe {
            sys::cuLaunchKernel(
                self.f,
                grid.0,
                grid.1,
                grid.2,
                block.0,
                block.1,
                block.2,
                0,
                std::ptr::null_mut(),
                args.as_mut_ptr(),
                std::ptr::null_mut(),
            )
        };
        if r != CUresult::CUDA_SUCCESS {
            return Err(format!("{} ({})", fail("cuLaunchKernel", r), self.name));
        }
        Ok(())
    }
}

/// Device memory for `len` values of `T`; freed on drop (`cuMemFree_v2`).
pub struct Buffer<'c, T> {
    ptr: sys::CUdeviceptr,
    len: usize,
    _ctx: PhantomData<(&'c Context, *const T)>,
}

impl<T> Drop for Buffer<'_, T> {
    fn drop(&mut self) {
        // SAFETY: allocated once, freed once.
        let _ = unsafe { sys::cuMemFree_v2(self.ptr) };
    }
}

impl<T: Copy> Buffer<'_, T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The kernel argument: a pointer to the device address (what `cuLaunchKernel` wants per parameter).
    pub fn arg(&self) -> *mut c_void {
        (&self.ptr as *const sys::CUdeviceptr).cast_mut().cast()
    }

    /// Overwrites the whole buffer from `host` (same length).
    pub fn write(&self, host: &[T]) -> Result<(), String> {
        if host.len() != self.len {
            return Err("host and device lengths differ".into());
        }
        // SAFETY: both sides hold `len` values of T.
        check("cuMemcpyHtoD_v2", unsafe {
            sys::cuMemcpyHtoD_v2(self.ptr, host.as_ptr().cast(), std::mem::size_of_val(host))
        })
    }

    /// The whole buffer back on the host (waits for the kernels before it).
    pub fn read(&self) -> Result<Vec<T>, String>
    where
        T: Default,
    {
        let mut host = vec![T::default(); self.len];
        // SAFETY: both sides hold `len` values of T.
        check("cuMemcpyDtoH_v2", unsafe {
            sys::cuMemcpyDtoH_v2(
                host.as_mut_ptr().cast(),
                self.ptr,
                std::mem::size_of_val(host.as_slice()),
            )
        })?;
        Ok(host)
    }
}

/// A timing event; destroyed on drop.
pub struct Event<'c> {
    event: sys::CUevent,
    elapsed: ElapsedFn,
    elapsed_symbol: &'static str,
    _ctx: PhantomData<&'c Context>,
}

impl Drop for Event<'_> {
    fn drop(&mut self) {
        // SAFETY: created once, destroyed once.
        let _ = unsafe { sys::cuEventDestroy_v2(self.event) };
    }
}

impl Event<'_> {
    /// Records the default stream's progress (`cuEventRecord`).
    pub fn record(&self) -> Result<(), String> {
        // SAFETY: a live event on the current context's null stream.
        check("cuEventRecord", unsafe {
            sys::cuEventRecord(self.event, std::ptr::null_mut())
        })
    }

    /// Waits for the work recorded before it (`cuEventSynchronize`).
    pub fn synchronize(&self) -> Result<(), String> {
        // SAFETY: a live event.
        check("cuEventSynchronize", unsafe {
            sys::cuEventSynchronize(self.event)
        })
    }

    /// Milliseconds from `self` to `end`, both recorded and complete.
    pub fn elapsed_ms(&self, end: &Event<'_>) -> Result<f64, String> {
        let mut ms = 0f32;
        // SAFETY: the symbol resolved in `Driver::load`; both events are live.
        let r = unsafe { (self.elapsed)(&mut ms, self.event, end.event) };
        if r != CUresult::CUDA_SUCCESS {
            return Err(fail(self.elapsed_symbol, r));
        }
        Ok(f64::from(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_print_as_nvml_does() {
        let bytes = [
            0x5e, 0x5c, 0x7a, 0x2b, 0x9f, 0x10, 0x4e, 0x5b, 0x8a, 0x4c, 0x12, 0x34, 0x56, 0x78,
            0x9a, 0xbc,
        ];
        assert_eq!(format_uuid(&bytes), "5e5c7a2b-9f10-4e5b-8a4c-123456789abc");
    }

    #[test]
    fn no_driver_here_is_an_error_not_a_panic() {
        match Driver::load() {
            Ok(d) => assert!(!d.library.is_empty()),
            Err(e) => assert!(e.contains("CUDA driver"), "{e}"),
        }
    }
}
