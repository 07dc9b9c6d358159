/*
 * The machines the C stand-ins for libnvidia-ml.so.1 (fake_nvml.c) and libcuda.so.1 (fake_cuda.c) pretend
 * to be. Both read the same table, so NVML's and CUDA's views of one machine agree (UUIDs, names) and
 * differ where the real ones differ (order, MIG). Which machine: $MLCOMPAT_FAKE_GPU; what goes wrong:
 * $MLCOMPAT_FAKE_FAULT. Every figure and behaviour is sourced in tests/fixtures/SOURCES.md.
 */
#ifndef MLCOMPAT_FAKE_GPUS_H
#define MLCOMPAT_FAKE_GPUS_H

#include <stdlib.h>
#include <string.h>

struct fake_gpu {
    const char *name;               /* NVML's and CUDA's name */
    const char *uuid;               /* 8-4-4-4-12 hex; NVML prints it after "GPU-" */
    int cc_major, cc_minor, sms;
    unsigned l2_bytes;
    unsigned long long memory_bytes; /* 0: NVML answers NVML_ERROR_NOT_SUPPORTED (GB10) */
    unsigned long long cuda_total;   /* what cuDeviceTotalMem reports */
    unsigned bus_width_bits, max_mem_clock_mhz, max_sm_clock_mhz;
    int power_limit_mw;             /* < 0: NVML_ERROR_NOT_SUPPORTED */
    int mig;                        /* -1: not supported, 0: off, 1: on */
    /* The model the CUDA stand-in times its kernels with. */
    double gbs, tensor_tflops, fp4_tflops, lut_tflops;
    int bw_blocks_per_sm;           /* cuOccupancyMaxActiveBlocksPerMultiprocessor for 256-thread bw_* */
};

struct fake_slice {
    const char *name, *uuid;        /* NVML prints the UUID after "MIG-" */
    unsigned long long memory_bytes;
    int sms;
};

struct fake_machine {
    const char *id;
    const char *driver;             /* nvmlSystemGetDriverVersion */
    int cuda_version;               /* nvmlSystemGetCudaDriverVersion_v2 */
    int n_gpus;
    struct fake_gpu gpus[2];        /* in NVML's order (PCI bus order) */
    int n_slices;
    struct fake_slice slices[2];    /* MIG slices of gpus[0] */
    int n_cuda;
    int cuda_order[2];              /* CUDA ordinal -> NVML index; -1 -> MIG slice 0 */
};

static const struct fake_machine FAKE_MACHINES[] = {
    {"gb10", "580.95.05", 13000, 1,
     {{"NVIDIA GB10", "0b100000-1111-4222-8333-444444444444", 12, 1, 48, 24u << 20, 0,
       128500000000ull, 256, 0, 3003, -1, -1, 235.0, 200.0, 400.0, 8.0, 5}},
     0, {{0}}, 1, {0}},
    {"h200", "580.105.08", 13000, 1,
     {{"NVIDIA H200", "0b200000-1111-4222-8333-444444444444", 9, 0, 132, 60u << 20,
       150754820096ull, 150754820096ull, 6144, 3201, 1980, 700000, 0, 4300.0, 700.0, 0.0, 16.0,
       8}},
     0, {{0}}, 1, {0}},
    {"h100-mig", "580.105.08", 13000, 1,
     {{"NVIDIA H100 80GB HBM3", "0a100000-1111-4222-8333-444444444444", 9, 0, 132, 50u << 20,
       85520809984ull, 85520809984ull, 5120, 2619, 1980, 700000, 1, 3000.0, 600.0, 0.0, 14.0,
       8}},
     2,
     {{"NVIDIA H100 80GB HBM3 MIG 1g.10gb", "0a1000a1-5555-4666-8777-888888888888", 10468982784ull,
       16},
      {"NVIDIA H100 80GB HBM3 MIG 3g.40gb", "0a1000a3-5555-4666-8777-888888888888", 42412802048ull,
       60}},
     1, {-1}},
    {"two-gpus", "580.65.06", 13000, 2,
     {{"NVIDIA GeForce RTX 3090", "03090000-1111-4222-8333-444444444444", 8, 6, 82, 6u << 20,
       25769803776ull, 25769803776ull, 384, 9751, 2100, 350000, -1, 850.0, 140.0, 0.0, 10.0, 6},
      {"NVIDIA GeForce RTX 4090", "04090000-1111-4222-8333-444444444444", 8, 9, 128, 72u << 20,
       25757220864ull, 25757220864ull, 384, 10501, 2520, 450000, -1, 920.0, 330.0, 0.0, 20.0, 6}},
     0, {{0}}, 2, {1, 0}},
};

static const struct fake_machine *fake_machine(void) {
    const char *id = getenv("MLCOMPAT_FAKE_GPU");
    for (size_t i = 0; id && i < sizeof FAKE_MACHINES / sizeof FAKE_MACHINES[0]; i++)
        if (strcmp(FAKE_MACHINES[i].id, id) == 0) return &FAKE_MACHINES[i];
    return &FAKE_MACHINES[0];
}

static int fake_fault(const char *which) {
    const char *f = getenv("MLCOMPAT_FAKE_FAULT");
    return f && strcmp(f, which) == 0;
}

#endif
