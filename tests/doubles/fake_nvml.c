/*
 * A stand-in for NVIDIA's libnvidia-ml.so.1 (NVML), for mlcompat's tests: the functions nvml-wrapper
 * calls for `mlcompat probe` and `bench`, answering as NVML's API reference and recorded nvidia-smi output
 * say a real driver does (tests/fixtures/SOURCES.md). Built by the test suite with gcc and found through
 * LD_LIBRARY_PATH, the same dlopen("libnvidia-ml.so.1") the real one goes through.
 *
 *   MLCOMPAT_FAKE_GPU    gb10 | h200 | h100-mig | two-gpus   (fake_gpus.h)
 *   MLCOMPAT_FAKE_FAULT  rm-mismatch: nvmlInit_v2 fails with NVML_ERROR_LIB_RM_VERSION_MISMATCH
 */
#include <stdio.h>
#include <string.h>

#include "fake_gpus.h"

typedef int nvmlReturn_t;
enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1,
    NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NOT_FOUND = 6,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
};
enum { NVML_CLOCK_GRAPHICS = 0, NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2, NVML_CLOCK_VIDEO = 3 };

/* A device handle: a GPU (slice < 0) or one MIG slice of it. */
struct handle {
    int gpu, slice;
};
typedef struct handle *nvmlDevice_t;

typedef struct {
    unsigned version;
    unsigned long long total, reserved, free, used;
} nvmlMemory_v2_t;

static struct handle HANDLES[2] = {{0, -1}, {1, -1}};
static struct handle SLICES[2] = {{0, 0}, {0, 1}};
static int initialized;

static nvmlReturn_t copy_string(char *dst, unsigned len, const char *src) {
    if (!dst) return NVML_ERROR_INVALID_ARGUMENT;
    if (strlen(src) + 1 > len) return NVML_ERROR_INSUFFICIENT_SIZE;
    strcpy(dst, src);
    return NVML_SUCCESS;
}

static const struct fake_gpu *gpu_of(nvmlDevice_t d) {
    return &fake_machine()->gpus[d->gpu];
}

nvmlReturn_t nvmlInit_v2(void) {
    if (fake_fault("rm-mismatch")) return NVML_ERROR_LIB_RM_VERSION_MISMATCH;
    initialized = 1;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlInitWithFlags(unsigned flags) {
    (void)flags;
    return nvmlInit_v2();
}

nvmlReturn_t nvmlShutdown(void) {
    initialized = 0;
    return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t r) {
    switch (r) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH: return "RM has detected an NVML/RM version mismatch.";
    default: return "Unknown Error";
    }
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned len) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    return copy_string(version, len, fake_machine()->driver);
}

nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned len) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    char v[64];
    snprintf(v, sizeof v, "13.%s", fake_machine()->driver);
    return copy_string(version, len, v);
}

nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *v) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    *v = fake_machine()->cuda_version;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *v) {
    return nvmlSystemGetCudaDriverVersion_v2(v);
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned *count) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    *count = (unsigned)fake_machine()->n_gpus;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_t *device) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    if (index >= (unsigned)fake_machine()->n_gpus) return NVML_ERROR_INVALID_ARGUMENT;
    *device = &HANDLES[index];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned len) {
    if (d->slice >= 0) return copy_string(name, len, fake_machine()->slices[d->slice].name);
    return copy_string(name, len, gpu_of(d)->name);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned len) {
    char text[96];
    if (d->slice >= 0)
        snprintf(text, sizeof text, "MIG-%s", fake_machine()->slices[d->slice].uuid);
    else
        snprintf(text, sizeof text, "GPU-%s", gpu_of(d)->uuid);
    return copy_string(uuid, len, text);
}

nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t d, int *major, int *minor) {
    *major = gpu_of(d)->cc_major;
    *minor = gpu_of(d)->cc_minor;
    return NVML_SUCCESS;
}

static nvmlReturn_t memory(nvmlDevice_t d, unsigned long long *total) {
    if (d->slice >= 0) {
        *total = fake_machine()->slices[d->slice].memory_bytes;
        return NVML_SUCCESS;
    }
    /* GB10 has no framebuffer: nvidia-smi shows "Not Supported" in Memory-Usage. */
    if (gpu_of(d)->memory_bytes == 0) return NVML_ERROR_NOT_SUPPORTED;
    *total = gpu_of(d)->memory_bytes;
    return NVML_SUCCESS;
}

/* nvml-wrapper asks the versioned struct (nvmlMemory_v2_t, NVML_STRUCT_VERSION(Memory, 2)). */
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t d, nvmlMemory_v2_t *m) {
    unsigned long long total = 0;
    nvmlReturn_t r = memory(d, &total);
    if (r != NVML_SUCCESS) return r;
    m->total = total;
    m->reserved = 0;
    m->used = 1ull << 20;
    m->free = total - m->used;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t d, int type, unsigned *clock) {
    switch (type) {
    case NVML_CLOCK_SM:
    case NVML_CLOCK_GRAPHICS: *clock = gpu_of(d)->max_sm_clock_mhz; return NVML_SUCCESS;
    /* GB10 answers 0 here: a success with no clock in it. */
    case NVML_CLOCK_MEM: *clock = gpu_of(d)->max_mem_clock_mhz; return NVML_SUCCESS;
    default: return NVML_ERROR_NOT_SUPPORTED;
    }
}

nvmlReturn_t nvmlDeviceGetMemoryBusWidth(nvmlDevice_t d, unsigned *bits) {
    *bits = gpu_of(d)->bus_width_bits;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned *mw) {
    if (gpu_of(d)->power_limit_mw < 0) return NVML_ERROR_NOT_SUPPORTED;
    *mw = (unsigned)gpu_of(d)->power_limit_mw;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned *current, unsigned *pending) {
    if (d->slice >= 0 || gpu_of(d)->mig < 0) return NVML_ERROR_NOT_SUPPORTED;
    *current = *pending = (unsigned)gpu_of(d)->mig;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned *count) {
    if (gpu_of(d)->mig < 0) return NVML_ERROR_NOT_SUPPORTED;
    *count = 7; /* an H100 has up to seven slices; unused slots answer NVML_ERROR_NOT_FOUND */
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned index, nvmlDevice_t *mig) {
    if (gpu_of(d)->mig != 1) return NVML_ERROR_NOT_SUPPORTED;
    if (d->gpu != 0 || index >= (unsigned)fake_machine()->n_slices) return NVML_ERROR_NOT_FOUND;
    *mig = &SLICES[index];
    return NVML_SUCCESS;
}
