/*
 * A stand-in for NVIDIA's CUDA driver library (libcuda.so.1), for mlcompat's tests: exactly the driver
 * API functions mlcompat calls, with the CUDA driver API reference's semantics (tests/fixtures/SOURCES.md).
 * Built by the test suite with gcc and found through LD_LIBRARY_PATH, the same dlopen cudarc does.
 *
 * Device memory is host memory; "kernels" are C versions of the probes/ kernels, looked up by name in the module
 * the way cuModuleGetFunction does (a kernel missing from the cubin or PTX is CUDA_ERROR_NOT_FOUND), and
 * timed on a virtual clock from the machine's model (fake_gpus.h), so events measure the model.
 *
 * Built twice: as a CUDA 13.0 driver, and with -DCUDA_12_4 as a CUDA 12.4 one, which has no
 * cuEventElapsedTime_v2 (added in 12.8), JIT-compiles PTX only up to ISA 8.4 and loads no cubin in
 * the ELF ABI NVRTC writes for Blackwell and for everything from CUDA 13 (OS/ABI 0x41).
 *
 *   MLCOMPAT_FAKE_GPU    gb10 | h200 | h100-mig | two-gpus   (fake_gpus.h); CUDA_VISIBLE_DEVICES honoured
 *   MLCOMPAT_FAKE_FAULT  init-999      cuInit returns CUDA_ERROR_UNKNOWN
 *                        rm-mismatch   cuInit returns CUDA_ERROR_SYSTEM_DRIVER_MISMATCH
 *                        hang-native   the native FP4 kernels never finish: every wait blocks forever
 *                        hang-all      every kernel never finishes (mlc_spin never does, by design)
 *                        wedged        cuInit never returns, as in a driver after an Xid 79 or 45 (what makes
 *                                      the worker's kill not take effect is the test's: tests/gpu_doubles.rs)
 *                        fault-native  the native FP4 kernels fault: CUDA_ERROR_ILLEGAL_INSTRUCTION, sticky
 *                        crash-native  launching a native FP4 kernel kills the process (SIGABRT)
 *                        illegal-address  the FP4 GEMM kernels fault: CUDA_ERROR_ILLEGAL_ADDRESS, sticky,
 *                                      reported by the next call that waits (a sync, or the copy back)
 *                        wrong-copy    bw_copy writes a wrong value every 1000 elements
 *                        plus-zero     the e2m1 conversion returns +0 for negative values that round to 0
 */
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_gpus.h"

#ifdef CUDA_12_4
#define DRIVER_VERSION 12040
#define MAX_PTX 84 /* PTX ISA 8.4 */
#else
#define DRIVER_VERSION 13000
#define MAX_PTX 90 /* PTX ISA 9.0 */
#endif

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void *CUcontext;
typedef void *CUstream;
typedef struct module *CUmodule;
typedef struct function *CUfunction;
typedef struct event *CUevent;
typedef struct {
    char bytes[16];
} CUuuid;

enum {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
    CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_ILLEGAL_ADDRESS = 700,
    CUDA_ERROR_ILLEGAL_INSTRUCTION = 715,
    CUDA_ERROR_SYSTEM_DRIVER_MISMATCH = 803,
    CUDA_ERROR_UNKNOWN = 999,
};

struct module {
    unsigned char *image;
    size_t size;
};
struct function {
    char name[64];
};
struct event {
    double t;
};

static int initialized;
static double now_s;        /* the virtual device clock */
static volatile int hung;   /* a kernel that never finishes was launched */
static CUresult pending;    /* a fault not yet reported (launches are asynchronous) */
static CUresult sticky;     /* a fault reported: every later call fails with it */
static int visible[8], n_visible = -1;
static char last[64];       /* the last bandwidth kernel computed, and its output */
static CUdeviceptr last_z;

/* $MLCOMPAT_FAKE_LOG: every entry point called, one name a line, so a test can see which symbols a run
 * resolved and how often (appended: several processes may share the file). */
static void called(const char *name) {
    const char *path = getenv("MLCOMPAT_FAKE_LOG");
    if (!path) return;
    FILE *f = fopen(path, "a");
    if (!f) return;
    fprintf(f, "%s\n", name);
    fclose(f);
}
#define CALLED() called(__func__)

/* ---- devices ---------------------------------------------------------------------------------- */

struct view {
    const char *name, *uuid;
    const struct fake_gpu *gpu; /* the GPU, or the slice's parent */
    int sms;
    unsigned long long total;
};

static struct view view_of_ordinal(int cuda_index) {
    const struct fake_machine *m = fake_machine();
    int i = m->cuda_order[cuda_index];
    struct view v;
    if (i < 0) {
        v.name = m->slices[0].name;
        v.uuid = m->slices[0].uuid;
        v.gpu = &m->gpus[0];
        v.sms = m->slices[0].sms;
        v.total = m->slices[0].memory_bytes;
    } else {
        v.name = m->gpus[i].name;
        v.uuid = m->gpus[i].uuid;
        v.gpu = &m->gpus[i];
        v.sms = m->gpus[i].sms;
        v.total = m->gpus[i].cuda_total;
    }
    return v;
}

/* CUDA_VISIBLE_DEVICES: indices into the default order, or GPU-/MIG- UUIDs; the first bad entry ends
 * the list (CUDA C Programming Guide, "CUDA Environment Variables"). */
static void parse_visible(void) {
    if (n_visible >= 0) return;
    const struct fake_machine *m = fake_machine();
    const char *env = getenv("CUDA_VISIBLE_DEVICES");
    n_visible = 0;
    if (!env) {
        for (int i = 0; i < m->n_cuda; i++) visible[n_visible++] = i;
        return;
    }
    char buf[512];
    snprintf(buf, sizeof buf, "%s", env);
    for (char *tok = strtok(buf, ","); tok && n_visible < 8; tok = strtok(NULL, ",")) {
        int found = -1;
        if (tok[0] >= '0' && tok[0] <= '9') {
            int i = atoi(tok);
            if (i < m->n_cuda) found = i;
        } else {
            const char *u = strchr(tok, '-') ? strchr(tok, '-') + 1 : tok;
            for (int i = 0; i < m->n_cuda; i++)
                if (strncmp(view_of_ordinal(i).uuid, u, strlen(u)) == 0 && strlen(u) > 0) found = i;
        }
        if (found < 0) break;
        visible[n_visible++] = found;
    }
}

static int device_ok(CUdevice d) {
    parse_visible();
    return d >= 0 && d < n_visible;
}

static struct view view(CUdevice d) {
    return view_of_ordinal(visible[d]);
}

static int parse_hex(const char *s, unsigned char out[16]) {
    int n = 0;
    for (; *s && n < 32; s++) {
        int v;
        if (*s >= '0' && *s <= '9') v = *s - '0';
        else if (*s >= 'a' && *s <= 'f') v = *s - 'a' + 10;
        else continue;
        if (n % 2 == 0) out[n / 2] = (unsigned char)(v << 4);
        else out[n / 2] |= (unsigned char)v;
        n++;
    }
    return n == 32;
}

/* ---- the error model ---------------------------------------------------------------------------- */

#define STICKY()                                                                                     \
    do {                                                                                             \
        if (sticky) return sticky;                                                                   \
    } while (0)

/* A call that waits for the device: blocks forever behind a hung kernel; reports a pending fault. */
static CUresult wait_device(void) {
    while (hung) pause();
    if (pending) {
        sticky = pending;
        pending = 0;
    }
    return sticky;
}

/* ---- initialisation, devices, contexts ------------------------------------------------------------ */

CUresult cuDriverGetVersion(int *v) {
    CALLED();
    if (!v) return CUDA_ERROR_INVALID_VALUE;
    *v = DRIVER_VERSION;
    return CUDA_SUCCESS;
}

CUresult cuInit(unsigned flags) {
    CALLED();
    (void)flags;
    if (fake_fault("wedged"))
        for (;;) pause();
    if (fake_fault("init-999")) return CUDA_ERROR_UNKNOWN;
    if (fake_fault("rm-mismatch")) return CUDA_ERROR_SYSTEM_DRIVER_MISMATCH;
    initialized = 1;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count) {
    CALLED();
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    parse_visible();
    *count = n_visible;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *d, int ordinal) {
    CALLED();
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!device_ok(ordinal)) return CUDA_ERROR_INVALID_DEVICE;
    *d = ordinal;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice d) {
    CALLED();
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!device_ok(d)) return CUDA_ERROR_INVALID_DEVICE;
    snprintf(name, (size_t)len, "%s", view(d).name);
    return CUDA_SUCCESS;
}

static CUresult get_uuid(CUuuid *uuid, CUdevice d) {
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!device_ok(d)) return CUDA_ERROR_INVALID_DEVICE;
    unsigned char bytes[16] = {0};
    parse_hex(view(d).uuid, bytes);
    memcpy(uuid->bytes, bytes, 16);
    return CUDA_SUCCESS;
}

/* The driver API reference: cuDeviceGetUuid_v2 returns the MIG slice's UUID under MIG. */
CUresult cuDeviceGetUuid_v2(CUuuid *uuid, CUdevice d) {
    CALLED(); return get_uuid(uuid, d); }
CUresult cuDeviceGetUuid(CUuuid *uuid, CUdevice d) {
    CALLED(); return get_uuid(uuid, d); }

CUresult cuDeviceGetAttribute(int *v, int attribute, CUdevice d) {
    CALLED();
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!device_ok(d)) return CUDA_ERROR_INVALID_DEVICE;
    struct view w = view(d);
    switch (attribute) {
    case 16: *v = w.sms; return CUDA_SUCCESS;                        /* MULTIPROCESSOR_COUNT */
    case 38: *v = (int)w.gpu->l2_bytes; return CUDA_SUCCESS;         /* L2_CACHE_SIZE */
    case 75: *v = w.gpu->cc_major; return CUDA_SUCCESS;              /* COMPUTE_CAPABILITY_MAJOR */
    case 76: *v = w.gpu->cc_minor; return CUDA_SUCCESS;              /* COMPUTE_CAPABILITY_MINOR */
    default: *v = 0; return CUDA_SUCCESS;
    }
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice d) {
    CALLED();
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!device_ok(d)) return CUDA_ERROR_INVALID_DEVICE;
    *bytes = (size_t)view(d).total;
    return CUDA_SUCCESS;
}

static int the_context;

CUresult cuDevicePrimaryCtxRetain(CUcontext *ctx, CUdevice d) {
    CALLED();
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!device_ok(d)) return CUDA_ERROR_INVALID_DEVICE;
    *ctx = &the_context;
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
    CALLED();
    (void)d;
    return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext ctx) {
    CALLED();
    (void)ctx;
    STICKY();
    return CUDA_SUCCESS;
}

/* Free memory is kept small, so the bandwidth arrays stay small on a CI machine. */
CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total) {
    CALLED();
    STICKY();
    *free_bytes = 48u << 20;
    *total = (size_t)view(0).total;
    return CUDA_SUCCESS;
}

/* ---- memory ------------------------------------------------------------------------------------- */

CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes) {
    CALLED();
    STICKY();
    void *m = malloc(bytes);
    if (!m) return 2; /* CUDA_ERROR_OUT_OF_MEMORY */
    *p = (CUdeviceptr)(uintptr_t)m;
    return CUDA_SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr p) {
    CALLED();
    free((void *)(uintptr_t)p);
    return sticky;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t bytes) {
    CALLED();
    CUresult r = wait_device();
    if (r) return r;
    memcpy((void *)(uintptr_t)dst, src, bytes);
    last[0] = 0;
    return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes) {
    CALLED();
    CUresult r = wait_device();
    if (r) return r;
    memcpy(dst, (const void *)(uintptr_t)src, bytes);
    return CUDA_SUCCESS;
}

/* ---- modules -------------------------------------------------------------------------------------- */

static size_t image_size(const unsigned char *image) {
    if (memcmp(image, "\x7f" "ELF", 4) == 0 && image[4] == 2) {
        uint64_t shoff;
        uint16_t shentsize, shnum;
        memcpy(&shoff, image + 0x28, 8);
        memcpy(&shentsize, image + 0x3a, 2);
        memcpy(&shnum, image + 0x3c, 2);
        return (size_t)(shoff + (uint64_t)shentsize * shnum);
    }
    return strlen((const char *)image);
}

CUresult cuModuleLoadData(CUmodule *module, const void *data) {
    CALLED();
    STICKY();
    const unsigned char *image = data;
    if (memcmp(image, "\x7f" "ELF", 4) == 0) {
        /* OS/ABI 0x41 (ABI version 8): the cubin format of NVRTC 13 and of Blackwell targets. */
        if (DRIVER_VERSION < 12080 && image[7] == 0x41) return CUDA_ERROR_NO_BINARY_FOR_GPU;
    } else {
        const char *v = strstr((const char *)image, ".version ");
        int major = 0, minor = 0;
        if (!v || sscanf(v, ".version %d.%d", &major, &minor) != 2) return CUDA_ERROR_INVALID_IMAGE;
        if (major * 10 + minor > MAX_PTX) return CUDA_ERROR_UNSUPPORTED_PTX_VERSION;
    }
    struct module *m = calloc(1, sizeof *m);
    m->size = image_size(image);
    m->image = malloc(m->size);
    memcpy(m->image, image, m->size);
    *module = m;
    return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule m) {
    CALLED();
    if (!m) return CUDA_ERROR_INVALID_HANDLE;
    free(m->image);
    free(m);
    return sticky;
}

CUresult cuModuleGetFunction(CUfunction *f, CUmodule m, const char *name) {
    CALLED();
    STICKY();
    /* A cubin's string table holds "name\0"; PTX declares ".entry name(". */
    char cubin_sym[80], ptx_entry[80];
    snprintf(cubin_sym, sizeof cubin_sym, "%s", name);
    snprintf(ptx_entry, sizeof ptx_entry, ".entry %s(", name);
    int found = memmem(m->image, m->size, ptx_entry, strlen(ptx_entry)) != NULL ||
                memmem(m->image, m->size, cubin_sym, strlen(cubin_sym) + 1) != NULL;
    if (!found) return CUDA_ERROR_NOT_FOUND;
    struct function *fn = calloc(1, sizeof *fn);
    snprintf(fn->name, sizeof fn->name, "%s", name);
    *f = fn;
    return CUDA_SUCCESS;
}

CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int *blocks, CUfunction f, int block_size,
                                                     size_t smem) {
    CALLED();
    (void)smem;
    STICKY();
    const struct fake_gpu *g = view(0).gpu;
    if (strncmp(f->name, "bw_", 3) == 0) *blocks = g->bw_blocks_per_sm * 256 / block_size;
    else *blocks = 2048 / block_size / 2;
    return CUDA_SUCCESS;
}

/* ---- the kernels, in C ------------------------------------------------------------------------------ */

#define PTR(type, i) ((type *)(uintptr_t)(*(CUdeviceptr *)params[i]))
#define VAL(type, i) (*(type *)params[i])

static const float E2M1[16] = {0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                               -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

static unsigned encode_e2m1(float x) {
    if (isnan(x)) return 7;
    unsigned sign = signbit(x) ? 8 : 0, m;
    float a = fabsf(x);
    if (a <= 0.25f) m = 0;
    else if (a < 0.75f) m = 1;
    else if (a <= 1.25f) m = 2;
    else if (a < 1.75f) m = 3;
    else if (a <= 2.5f) m = 4;
    else if (a < 3.5f) m = 5;
    else if (a <= 5.0f) m = 6;
    else m = 7;
    if (m == 0 && fake_fault("plus-zero")) sign = 0;
    return sign | m;
}

static float ue8m0(unsigned e) {
    if (e == 255) return NAN;
    return ldexpf(1.0f, (int)e - 127);
}

static unsigned nibble(const unsigned char *row, int k) {
    return k % 2 ? row[k / 2] >> 4 : row[k / 2] & 15u;
}

static void gemm(void **params) {
    const unsigned char *a = PTR(unsigned char, 0), *b = PTR(unsigned char, 1);
    const unsigned char *sa = PTR(unsigned char, 2), *sb = PTR(unsigned char, 3);
    float *d = PTR(float, 4);
    int m = VAL(int, 5), n = VAL(int, 6), k = VAL(int, 7), kb = k / 32;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int blk = 0; blk < kb; blk++) {
                float part = 0.0f;
                for (int kk = blk * 32; kk < blk * 32 + 32; kk++)
                    part += E2M1[nibble(a + (size_t)i * k / 2, kk)] *
                            E2M1[nibble(b + (size_t)j * k / 2, kk)];
                acc += part * ue8m0(sa[i * kb + blk]) * ue8m0(sb[j * kb + blk]);
            }
            d[(size_t)i * n + j] = acc;
        }
}

/* Runs a launch; returns the modelled device time in seconds. */
static double run(const char *name, unsigned grid, unsigned block, void **params) {
    const struct fake_gpu *g = view(0).gpu;
    unsigned long long warps = (unsigned long long)grid * block / 32;
    if (strcmp(name, "bw_add") == 0 || strcmp(name, "bw_triad") == 0 || strcmp(name, "bw_copy") == 0) {
        const float *x = PTR(float, 0);
        int copy = strcmp(name, "bw_copy") == 0, triad = strcmp(name, "bw_triad") == 0;
        const float *y = copy ? NULL : PTR(float, 1);
        float *z = PTR(float, copy ? 1 : 2);
        float s = triad ? VAL(float, 3) : 0.0f;
        unsigned long long n = VAL(unsigned long long, copy ? 2 : triad ? 4 : 3);
        /* A timing loop relaunches with the same arguments: the result is the same, so it is computed
         * once (until the host writes device memory again). */
        if (strcmp(last, name) != 0 || last_z != (CUdeviceptr)(uintptr_t)z) {
            int wrong = fake_fault("wrong-copy");
            for (unsigned long long i = 0; i < n; i++) {
                if (copy) z[i] = x[i] + (wrong && i % 1000 == 0 ? 1.0f : 0.0f);
                else if (triad) z[i] = fmaf(s, y[i], x[i]);
                else z[i] = x[i] + y[i];
            }
            snprintf(last, sizeof last, "%s", name);
            last_z = (CUdeviceptr)(uintptr_t)z;
        }
        return (copy ? 8.0 : 12.0) * (double)n / (g->gbs * 1e9);
    }
    if (strcmp(name, "fp4_roundtrip") == 0) {
        const float *in = PTR(float, 0);
        unsigned char *packed = PTR(unsigned char, 1);
        float *out = PTR(float, 2);
        int n = VAL(int, 3);
        for (int i = 0; i < (n + 1) / 2; i++) {
            unsigned lo = encode_e2m1(in[2 * i]);
            unsigned hi = 2 * i + 1 < n ? encode_e2m1(in[2 * i + 1]) : 0;
            packed[i] = (unsigned char)(lo | hi << 4);
            out[2 * i] = E2M1[lo];
            if (2 * i + 1 < n) out[2 * i + 1] = E2M1[hi];
        }
        return 10e-6;
    }
    if (strstr(name, "gemm") || strcmp(name, "fp4_mma_mxf4") == 0) {
        gemm(params);
        return 20e-6;
    }
    if (strstr(name, "throughput")) {
        float *out = PTR(float, 0);
        int iters = VAL(int, 1);
        double tflops = strcmp(name, "fp4_mma_throughput") == 0 ? g->fp4_tflops
                        : strcmp(name, "fp4_dequant_mma_throughput") == 0 ? g->tensor_tflops
                                                                          : g->lut_tflops;
        /* FLOPs a warp does per iteration: 64 m16n8k16 MMAs for the dequantizing kernel, one m16n8k64 else. */
        double flops = strcmp(name, "fp4_dequant_mma_throughput") == 0 ? 262144.0 : 16384.0;
        for (unsigned long long w = 0; w < warps; w++) out[w] = 1.0f + (float)(w % 7);
        return (double)warps * iters * flops / (tflops * 1e12);
    }
    return 10e-6;
}

static int native(const char *name) {
    return strcmp(name, "fp4_roundtrip") == 0 || strncmp(name, "fp4_mma_", 8) == 0;
}

CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                        unsigned bz, unsigned smem, CUstream stream, void **params, void **extra) {
    CALLED();
    (void)gy, (void)gz, (void)by, (void)bz, (void)smem, (void)stream, (void)extra;
    STICKY();
    if (fake_fault("hang-all") || strcmp(f->name, "mlc_spin") == 0) {
        hung = 1;
        return CUDA_SUCCESS;
    }
    if (fake_fault("illegal-address") && strstr(f->name, "gemm")) {
        pending = CUDA_ERROR_ILLEGAL_ADDRESS;
        return CUDA_SUCCESS;
    }
    if (native(f->name)) {
        if (fake_fault("crash-native")) abort();
        if (fake_fault("hang-native")) {
            hung = 1;
            return CUDA_SUCCESS;
        }
        if (fake_fault("fault-native")) {
            pending = CUDA_ERROR_ILLEGAL_INSTRUCTION;
            return CUDA_SUCCESS;
        }
    }
    now_s += run(f->name, gx, bx, params);
    return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(CUstream s) {
    CALLED();
    (void)s;
    return wait_device();
}

/* ---- events --------------------------------------------------------------------------------------- */

CUresult cuEventCreate(CUevent *e, unsigned flags) {
    CALLED();
    (void)flags;
    STICKY();
    *e = calloc(1, sizeof **e);
    return CUDA_SUCCESS;
}

CUresult cuEventDestroy_v2(CUevent e) {
    CALLED();
    free(e);
    return CUDA_SUCCESS;
}

CUresult cuEventRecord(CUevent e, CUstream s) {
    CALLED();
    (void)s;
    STICKY();
    e->t = now_s;
    return CUDA_SUCCESS;
}

CUresult cuEventSynchronize(CUevent e) {
    CALLED();
    (void)e;
    return wait_device();
}

static CUresult elapsed(float *ms, CUevent start, CUevent end) {
    STICKY();
    *ms = (float)((end->t - start->t) * 1e3);
    return CUDA_SUCCESS;
}

CUresult cuEventElapsedTime(float *ms, CUevent start, CUevent end) {
    CALLED(); return elapsed(ms, start, end); }
#ifndef CUDA_12_4
CUresult cuEventElapsedTime_v2(float *ms, CUevent start, CUevent end) {
    CALLED();
    return elapsed(ms, start, end);
}
#endif

/* ---- private ------------------------------------------------------------------------------------ */

/* Undocumented; every real libcuda has it, and NVRTC 13 looks it up (with cuInit) when it is loaded into a
 * process with a driver. This stand-in has no private tables to give. */
CUresult cuGetExportTable(const void **table, const void *id) {
    CALLED();
    (void)id;
    if (table) *table = NULL;
    return CUDA_ERROR_NOT_FOUND;
}

/* ---- errors --------------------------------------------------------------------------------------- */

CUresult cuGetErrorName(CUresult r, const char **name) {
    CALLED();
    switch (r) {
    case CUDA_SUCCESS: *name = "CUDA_SUCCESS"; break;
    case CUDA_ERROR_UNKNOWN: *name = "CUDA_ERROR_UNKNOWN"; break;
    case CUDA_ERROR_ILLEGAL_ADDRESS: *name = "CUDA_ERROR_ILLEGAL_ADDRESS"; break;
    case CUDA_ERROR_ILLEGAL_INSTRUCTION: *name = "CUDA_ERROR_ILLEGAL_INSTRUCTION"; break;
    default: *name = "CUDA_ERROR"; break;
    }
    return CUDA_SUCCESS;
}

CUresult cuGetErrorString(CUresult r, const char **text) {
    CALLED();
    switch (r) {
    case CUDA_ERROR_UNKNOWN: *text = "unknown error"; break;
    case CUDA_ERROR_ILLEGAL_ADDRESS:
        *text = "an illegal memory access was encountered";
        break;
    case CUDA_ERROR_ILLEGAL_INSTRUCTION:
        *text = "an illegal instruction was encountered";
        break;
    case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
        *text = "system has unsupported display driver / cuda driver combination";
        break;
    default: *text = "error"; break;
    }
    return CUDA_SUCCESS;
}
