//! NVRTC, found and loaded at run time: compiles the kernels in `probes/` to a cubin (`-arch=sm_XX`) or
//! to PTX (`-arch=compute_XX`, for the driver to JIT), with no GPU needed.
//!
//! NVRTC is loaded here by its path through `libloading`, not through cudarc's bindings: cudarc keeps one
//! NVRTC per process and loads it by name, trying the unversioned `libnvrtc.so` first, so a distro copy
//! could be the one compiling while the report named another. Loading by path lets mlcompat open every
//! candidate, ask each which architectures it knows (`nvrtcGetSupportedArchs`) and pick one for the GPU
//! and driver (`plan`), and report the file actually loaded (`dladdr`).
//!
//! Candidates, in order: `$MLCOMPAT_NVRTC` (files or folders, `:`-separated; when set, nothing else),
//! the CUDA toolkit (`$CUDA_HOME`, `$CUDA_PATH`, `/usr/local/cuda`), the `nvidia-cuda-nvrtc` wheels in the
//! user's Python environment (`nvidia/cu13/lib` for CUDA 13, `nvidia/cuda_nvrtc/lib` for CUDA 12), then the
//! system loader path (`libnvrtc.so.13`, `libnvrtc.so.12`, `libnvrtc.so`).

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::CudaVersion;

type Program = *mut c_void;
type CreateFn = unsafe extern "C" fn(
    *mut Program,
    *const c_char,
    *const c_char,
    c_int,
    *const *const c_char,
    *const *const c_char,
) -> c_int;
type CompileFn = unsafe extern "C" fn(Program, c_int, *const *const c_char) -> c_int;
type SizeFn = unsafe extern "C" fn(Program, *mut usize) -> c_int;
type BytesFn = unsafe extern "C" fn(Program, *mut c_char) -> c_int;
type DestroyFn = unsafe extern "C" fn(*mut Program) -> c_int;
type VersionFn = unsafe extern "C" fn(*mut c_int, *mut c_int) -> c_int;
type NumArchsFn = unsafe extern "C" fn(*mut c_int) -> c_int;
type ArchsFn = unsafe extern "C" fn(*mut c_int) -> c_int;

/// The NVRTC entry points mlcompat calls (all present since CUDA 11.2).
#[derive(Clone, Copy)]
struct Api {
    create: CreateFn,
    compile: CompileFn,
    log_size: SizeFn,
    log: BytesFn,
    cubin_size: SizeFn,
    cubin: BytesFn,
    ptx_size: SizeFn,
    ptx: BytesFn,
    destroy: DestroyFn,
}

/// One loaded NVRTC: its version, the real architectures it can build for, and the file it came from.
pub struct Nvrtc {
    api: Api,
    pub version: CudaVersion,
    /// `nvrtcGetSupportedArchs`: 75, 80, …, 121 for `sm_75` … `sm_121`.
    pub archs: Vec<u32>,
    /// The file the loader actually opened.
    pub path: String,
}

impl std::fmt::Debug for Nvrtc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NVRTC {} ({})", self.version, self.path)
    }
}

impl Nvrtc {
    /// "NVRTC 13.0 (/path/libnvrtc.so.13)".
    pub fn describe(&self) -> String {
        format!("NVRTC {} ({})", self.version, self.path)
    }

    /// Opens the NVRTC at `path` (a file, or a bare name for the system loader path), or says why not.
    /// Loaded libraries stay loaded; opening the same path twice returns the first.
    pub fn open(path: &Path) -> Result<Arc<Nvrtc>, String> {
        static OPENED: OnceLock<Mutex<HashMap<PathBuf, Arc<Nvrtc>>>> = OnceLock::new();
        let opened = OPENED.get_or_init(Default::default);
        if let Some(n) = opened.lock().ok().and_then(|m| m.get(path).cloned()) {
            return Ok(n);
        }
        let n = Arc::new(open_uncached(path)?);
        if let Ok(mut m) = opened.lock() {
            m.insert(path.to_path_buf(), n.clone());
        }
        Ok(n)
    }

    /// Whether this NVRTC can build a cubin for `sm_{arch}`.
    pub fn knows(&self, arch: u32) -> bool {
        self.archs.contains(&arch)
    }

    /// Compiles `source` for `target`: `sm_XX[a|f]` gives a cubin, `compute_XX[a|f]` gives PTX (NUL-terminated,
    /// as `cuModuleLoadData` wants it). `Ok(Err(_))` is NVRTC refusing the program, with its log.
    pub fn compile(
        &self,
        source: &str,
        name: &str,
        target: &str,
        defines: &[&str],
    ) -> Result<Result<Image, Refused>, String> {
        let src = CString::new(source).map_err(|_| "kernel source contains a NUL byte")?;
        let file = CString::new(name).map_err(|_| "kernel name contains a NUL byte")?;
        let mut options = vec![
            format!("-arch={target}"),
            "-std=c++17".to_string(),
            "-default-device".to_string(),
        ];
        options.extend(defines.iter().map(|d| format!("-D{d}")));
        let options: Vec<CString> = options
            .into_iter()
            .map(CString::new)
            .collect::<Result<_, _>>()
            .map_err(|_| "an NVRTC option contains a NUL byte")?;
        let pointers: Vec<*const c_char> = options.iter().map(|o| o.as_ptr()).collect();
        let count = c_int::try_from(pointers.len()).map_err(|_| "too many NVRTC options")?;
        let mut prog: Program = std::ptr::null_mut();
        // SAFETY: NUL-terminated source and name, no headers; `prog` receives the new program.
        let created = unsafe {
            (self.api.create)(
                &mut prog,
                src.as_ptr(),
                file.as_ptr(),
                0,
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        if created != 0 || prog.is_null() {
            return Err(format!("nvrtcCreateProgram failed (NVRTC error {created})"));
        }
        // SAFETY: `prog` is live; `pointers` holds `count` NUL-terminated strings that outlive the call.
        let compiled = unsafe { (self.api.compile)(prog, count, pointers.as_ptr()) };
        let outcome = if compiled == 0 {
            let ptx = target.starts_with("compute_");
            let (size_fn, bytes_fn) = if ptx {
                (self.api.ptx_size, self.api.ptx)
            } else {
                (self.api.cubin_size, self.api.cubin)
            };
            self.output(prog, size_fn, bytes_fn).map(|bytes| {
                Ok(Image {
                    target: target.to_string(),
                    ptx,
                    bytes,
                })
            })
        } else {
            Ok(Err(Refused {
                log: self.log(prog),
            }))
        };
        // SAFETY: created above and destroyed once, after its last use.
        unsafe { (self.api.destroy)(&mut prog) };
        outcome
    }

    fn log(&self, prog: Program) -> String {
        match self.output(prog, self.api.log_size, self.api.log) {
            Ok(bytes) => {
                let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
                String::from_utf8_lossy(&bytes[..end]).trim().to_string()
            }
            Err(e) => format!("(no log: {e})"),
        }
    }

    /// Reads one of the program's outputs: asks its size, then fills a buffer of exactly that size.
    fn output(&self, prog: Program, size_fn: SizeFn, bytes_fn: BytesFn) -> Result<Vec<u8>, String> {
        let mut size = 0usize;
        // SAFETY: `prog` is live; the call writes one size_t.
        let r = unsafe { size_fn(prog, &mut size) };
        if r != 0 {
            return Err(format!("NVRTC error {r} asking an output's size"));
        }
        if size == 0 {
            return Err("NVRTC produced an empty output".into());
        }
        let mut buf = vec![0u8; size];
        // SAFETY: `buf` has exactly the size NVRTC reported.
        let r = unsafe { bytes_fn(prog, buf.as_mut_ptr().cast::<c_char>()) };
        if r != 0 {
            return Err(format!("NVRTC error {r} copying an output"));
        }
        Ok(buf)
    }
}

/// A compiled kernel module: a cubin for one real architecture, or PTX the driver JIT-compiles.
#[derive(Debug, Clone)]
pub struct Image {
    /// `sm_90a` (cubin) or `compute_120` (PTX).
    pub target: String,
    pub ptx: bool,
    pub bytes: Vec<u8>,
}

/// A program NVRTC refused, with its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub log: String,
}

fn open_uncached(path: &Path) -> Result<Nvrtc, String> {
    // The builtins first, by path, so the matching copy is the one libnvrtc finds when it compiles.
    if path.is_absolute() {
        for b in sibling_libraries(path, "libnvrtc-builtins.so") {
            // SAFETY: NVIDIA's builtins library has no initialisers with side effects; kept for the process.
            if let Ok(lib) = unsafe { libloading::Library::new(&b) } {
                std::mem::forget(lib);
            }
        }
    }
    // SAFETY: loading NVRTC runs only its own initialisers; the library is never unloaded (leaked below).
    let lib = unsafe { libloading::Library::new(path) }
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let lib: &'static libloading::Library = Box::leak(Box::new(lib));
    let missing =
        |name: &str| format!("{}: no {name} (not an NVRTC 11.2 or newer)", path.display());
    macro_rules! sym {
        ($name:literal) => {
            // SAFETY: the symbol is NVRTC's documented C function with the type named at the use.
            *unsafe { lib.get(concat!($name, "\0").as_bytes()) }.map_err(|_| missing($name))?
        };
    }
    let version_fn: VersionFn = sym!("nvrtcVersion");
    let num_archs_fn: NumArchsFn = sym!("nvrtcGetNumSupportedArchs");
    let archs_fn: ArchsFn = sym!("nvrtcGetSupportedArchs");
    let api = Api {
        create: sym!("nvrtcCreateProgram"),
        compile: sym!("nvrtcCompileProgram"),
        log_size: sym!("nvrtcGetProgramLogSize"),
        log: sym!("nvrtcGetProgramLog"),
        cubin_size: sym!("nvrtcGetCUBINSize"),
        cubin: sym!("nvrtcGetCUBIN"),
        ptx_size: sym!("nvrtcGetPTXSize"),
        ptx: sym!("nvrtcGetPTX"),
        destroy: sym!("nvrtcDestroyProgram"),
    };
    let (mut major, mut minor) = (0, 0);
    // SAFETY: writes two ints.
    let r = unsafe { version_fn(&mut major, &mut minor) };
    if r != 0 {
        return Err(format!("{}: nvrtcVersion failed ({r})", path.display()));
    }
    let mut count: c_int = 0;
    // SAFETY: writes one int.
    let r = unsafe { num_archs_fn(&mut count) };
    let count = usize::try_from(count).unwrap_or(0);
    if r != 0 || count == 0 || count > 1024 {
        return Err(format!(
            "{}: nvrtcGetNumSupportedArchs failed ({r})",
            path.display()
        ));
    }
    let mut archs: Vec<c_int> = vec![0; count];
    // SAFETY: `archs` holds the number of ints NVRTC just reported.
    let r = unsafe { archs_fn(archs.as_mut_ptr()) };
    if r != 0 {
        return Err(format!(
            "{}: nvrtcGetSupportedArchs failed ({r})",
            path.display()
        ));
    }
    let mut archs: Vec<u32> = archs
        .into_iter()
        .filter_map(|a| u32::try_from(a).ok())
        .collect();
    archs.sort_unstable();
    archs.dedup();
    Ok(Nvrtc {
        api,
        version: CudaVersion::new(
            u32::try_from(major).unwrap_or(0),
            u32::try_from(minor).unwrap_or(0),
        ),
        archs,
        path: loaded_from(version_fn as *const c_void)
            .unwrap_or_else(|| path.display().to_string()),
    })
}

/// The file a loaded symbol lives in, as the dynamic loader found it.
#[cfg(unix)]
pub(crate) fn loaded_from(symbol: *const c_void) -> Option<String> {
    let mut info = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    // SAFETY: dladdr only reads the loader's tables and fills `info`.
    let found = unsafe { libc::dladdr(symbol, info.as_mut_ptr()) };
    if found == 0 {
        return None;
    }
    // SAFETY: dladdr succeeded, so `info` is initialised.
    let info = unsafe { info.assume_init() };
    if info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated string owned by the loader.
    let name = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    let name = PathBuf::from(name.to_string_lossy().into_owned());
    Some(
        std::fs::canonicalize(&name)
            .unwrap_or(name)
            .display()
            .to_string(),
    )
}

#[cfg(not(unix))]
pub(crate) fn loaded_from(_symbol: *const c_void) -> Option<String> {
    None
}

/// Where NVRTC may be, in order of preference (see the module docs). Folders are listed, newest first.
pub fn candidates(python_dirs: &[PathBuf]) -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os("MLCOMPAT_NVRTC").filter(|v| !v.is_empty()) {
        return std::env::split_paths(&list)
            .flat_map(|p| {
                if p.is_dir() {
                    libraries_in(&p, "libnvrtc.so")
                } else {
                    vec![p]
                }
            })
            .collect();
    }
    let mut out = Vec::new();
    let homes = ["CUDA_HOME", "CUDA_PATH"]
        .iter()
        .filter_map(|k| std::env::var_os(k).map(PathBuf::from))
        .chain([PathBuf::from("/usr/local/cuda")]);
    for home in homes {
        out.extend(libraries_in(&home.join("lib64"), "libnvrtc.so"));
    }
    for dir in python_dirs {
        for sub in ["nvidia/cu13/lib", "nvidia/cuda_nvrtc/lib"] {
            out.extend(libraries_in(&dir.join(sub), "libnvrtc.so"));
        }
    }
    out.extend(
        ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"]
            .iter()
            .map(PathBuf::from),
    );
    out
}

/// Opens every candidate; the ones that load (each file once) and why the others did not.
pub fn open_all(candidates: &[PathBuf]) -> (Vec<Arc<Nvrtc>>, Vec<String>) {
    let mut loaded: Vec<Arc<Nvrtc>> = Vec::new();
    let mut failed = Vec::new();
    for path in candidates {
        match Nvrtc::open(path) {
            Ok(n) if loaded.iter().any(|l| l.path == n.path) => {}
            Ok(n) => loaded.push(n),
            // A bare name not on the loader path is the normal case, not worth reporting.
            Err(_) if !path.is_absolute() => {}
            Err(e) => failed.push(e),
        }
    }
    (loaded, failed)
}

/// The NVRTC libraries in a folder, newest first.
pub fn in_folder(dir: &Path) -> Vec<PathBuf> {
    libraries_in(dir, "libnvrtc.so")
}

/// `libnvrtc.so.13`, `libnvrtc.so.12` in a folder, newest first (not the builtins, not `libnvrtc.alt`).
fn libraries_in(dir: &Path, stem: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n == stem || n.starts_with(&format!("{stem}.")))
        })
        .collect();
    found.sort();
    found.reverse();
    found
}

fn sibling_libraries(path: &Path, stem: &str) -> Vec<PathBuf> {
    path.parent()
        .map(|d| libraries_in(d, stem))
        .unwrap_or_default()
}

/// What to say when no NVRTC was found at all.
pub const NOT_FOUND: &str = "NVRTC not found: install the CUDA toolkit, or `pip install nvidia-cuda-nvrtc` (CUDA 13) / `pip install nvidia-cuda-nvrtc-cu12` (CUDA 12) in your Python environment, or set MLCOMPAT_NVRTC";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_list_versioned_libraries_newest_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in [
            "libnvrtc.so.12",
            "libnvrtc.so.13",
            "libnvrtc-builtins.so.13.0",
            "libnvrtc.alt.so.12",
            "other.so",
        ] {
            std::fs::write(dir.path().join(name), b"").expect("write");
        }
        let names: Vec<String> = libraries_in(dir.path(), "libnvrtc.so")
            .iter()
            .filter_map(|p| p.file_name()?.to_str().map(String::from))
            .collect();
        assert_eq!(names, ["libnvrtc.so.13", "libnvrtc.so.12"]);
    }

    #[test]
    fn a_file_that_is_not_nvrtc_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fake = dir.path().join("libnvrtc.so.13");
        std::fs::write(&fake, b"not a library").expect("write");
        let err = Nvrtc::open(&fake).expect_err("not loadable");
        assert!(err.contains("libnvrtc.so.13"), "{err}");
        let (loaded, failed) = open_all(&[fake, PathBuf::from("libnvrtc.so.0-none")]);
        assert!(loaded.is_empty());
        assert_eq!(
            failed.len(),
            1,
            "bare names that are absent are not reported"
        );
    }
}
