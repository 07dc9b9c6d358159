// mlcompat memory-bandwidth probe kernels (CUDA C++, compiled at run time with NVRTC; no #include).
//
// All three are grid-stride loops over n f32 elements, so any 1-D launch covers any n.
// When every pointer is 16-byte aligned (cuMemAlloc gives 256-byte alignment) the body moves float4 vectors
// (16-byte loads/stores) over the first n/4*4 elements and a scalar grid-stride loop finishes the
// 0..3 element tail; otherwise the whole range is done with scalar accesses.
// Bytes moved per call (for GB/s): bw_add 12n, bw_copy 8n, bw_triad 12n (reads + writes, f32).
// The n argument is unsigned long long so buffers beyond 2^31 elements work.
// __launch_bounds__(256): the host launches 256-thread blocks, as many per SM as the occupancy
// calculator (cuOccupancyMaxActiveBlocksPerMultiprocessor) says fit, so the grid is one full wave.

typedef unsigned long long u64;

__device__ __forceinline__ bool mlc_aligned16(const void* p) { return (((u64)p) & 15ull) == 0ull; }

__device__ __forceinline__ u64 mlc_gtid() { return (u64)blockIdx.x * blockDim.x + threadIdx.x; }

__device__ __forceinline__ u64 mlc_gstride() { return (u64)gridDim.x * blockDim.x; }

// z[i] = x[i] + y[i]
extern "C" __global__ void __launch_bounds__(256) bw_add(const float* x, const float* y, float* z, unsigned long long n) {
    const u64 tid = mlc_gtid(), stride = mlc_gstride();
    u64 start = 0;
    if (mlc_aligned16(x) && mlc_aligned16(y) && mlc_aligned16(z)) {
        const u64 n4 = n / 4;
        const float4* x4 = (const float4*)x;
        const float4* y4 = (const float4*)y;
        float4* z4 = (float4*)z;
        for (u64 i = tid; i < n4; i += stride) {
            const float4 a = x4[i], b = y4[i];
            z4[i] = make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
        }
        start = n4 * 4;
    }
    for (u64 i = start + tid; i < n; i += stride) z[i] = x[i] + y[i];
}

// z[i] = x[i]
extern "C" __global__ void __launch_bounds__(256) bw_copy(const float* x, float* z, unsigned long long n) {
    const u64 tid = mlc_gtid(), stride = mlc_gstride();
    u64 start = 0;
    if (mlc_aligned16(x) && mlc_aligned16(z)) {
        const u64 n4 = n / 4;
        const float4* x4 = (const float4*)x;
        float4* z4 = (float4*)z;
        for (u64 i = tid; i < n4; i += stride) z4[i] = x4[i];
        start = n4 * 4;
    }
    for (u64 i = start + tid; i < n; i += stride) z[i] = x[i];
}

// z[i] = x[i] + s * y[i]   (STREAM triad)
extern "C" __global__ void __launch_bounds__(256) bw_triad(const float* x, const float* y, float* z, float s,
                                    unsigned long long n) {
    const u64 tid = mlc_gtid(), stride = mlc_gstride();
    u64 start = 0;
    if (mlc_aligned16(x) && mlc_aligned16(y) && mlc_aligned16(z)) {
        const u64 n4 = n / 4;
        const float4* x4 = (const float4*)x;
        const float4* y4 = (const float4*)y;
        float4* z4 = (float4*)z;
        for (u64 i = tid; i < n4; i += stride) {
            const float4 a = x4[i], b = y4[i];
            z4[i] = make_float4(fmaf(s, b.x, a.x), fmaf(s, b.y, a.y), fmaf(s, b.z, a.z),
                                fmaf(s, b.w, a.w));
        }
        start = n4 * 4;
    }
    for (u64 i = start + tid; i < n; i += stride) z[i] = fmaf(s, y[i], x[i]);
}

// mlc_spin: never finishes — it waits for a flag nothing sets. Launched only when the GPU worker runs
// with MLCOMPAT_GPU_WORKER_SPIN=1, which scripts/gpu-check uses to check that a worker stuck in a real
// kernel is killed at its time limit and that the GPU works afterwards. Launch: one thread.
extern "C" __global__ void mlc_spin(volatile unsigned int* flag) {
    while (*flag == 0u) {
    }
}
