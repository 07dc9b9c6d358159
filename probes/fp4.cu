// mlcompat FP4 probe kernels (CUDA C++, compiled at run time with NVRTC; no #include on purpose).
//
// Build macros, set by the caller (NVRTC options):
//   (none)                     emulated kernels only. Compiles for any sm_XX or compute_XX:
//                              fp4_emulated_gemm, fp4_emulated_throughput (lookup-table decode + FP32 FMA
//                              on the CUDA cores; any GPU), and from sm_80 on fp4_dequant_mma_gemm,
//                              fp4_dequant_mma_throughput (decode to FP16 in registers, then the FP16
//                              tensor-core mma.sync: what software FP4 reaches on a GPU without FP4 units).
//   -DMLCOMPAT_NATIVE_FP4=1    adds fp4_roundtrip, which uses the native e2m1 conversions
//                              cvt.rn.satfinite.e2m1x2.f32 and cvt.rn.f16x2.e2m1x2. Only the
//                              arch-specific targets (sm_100a, sm_120a, sm_121a, ...) have them:
//                              compiling with this macro for sm_80/sm_89/sm_90 makes NVRTC (its ptxas
//                              stage) refuse the instruction, and that refusal is the "no native FP4"
//                              signal. Compile to a cubin (-arch=sm_XX), not to PTX (compute_XX):
//                              PTX generation passes inline asm through unchecked.
//   -DMLCOMPAT_FP4_MMA=1       (with the one above) adds fp4_mma_mxf4 and fp4_mma_throughput, which
//                              use the warp-level block-scaled MMA
//                              mma.sync.aligned.kind::mxf4nvf4.block_scale.scale_vec::2X.m16n8k64
//                              .row.col.f32.e2m1.e2m1.f32.ue8m0 (sm_120a / sm_121a; sm_100a has FP4
//                              only through tcgen05, not mma.sync, so do not set it there).
//
// Data conventions (shared with the CPU reference in src/fp4.rs):
//   * e2m1 code (4 bits): bit 3 sign, bits 2-1 exponent (bias 1), bit 0 mantissa;
//     magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6.
//   * Packing: byte i holds element 2i in its LOW nibble (bits 3-0) and element 2i+1 in its HIGH
//     nibble (bits 7-4). Read as a little-endian u32, nibble j (bits 4j..4j+3) is element j of the
//     four bytes, which is exactly the order the m16n8k64 e2m1 fragments expect.
//   * ue8m0 scale byte e: 2^(e-127); e = 255 is NaN (OCP MX v1.0); e = 0 is 2^-127.
//   * GEMM: A is m x k row-major (packed, k/2 bytes a row); B is given TRANSPOSED, n x k row-major
//     (k/2 bytes a row, the "col" operand of the mma); sa is m x (k/32) and sb is n x (k/32) ue8m0,
//     one scale per 32 consecutive K elements of a row. D is m x n f32 row-major:
//       d[i*n+j] = sum_kk dec(a[i][kk]) * 2^(sa[i][kk/32]-127) * dec(b[j][kk]) * 2^(sb[j][kk/32]-127)

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef unsigned long long u64;

// e2m1 code -> f32, arithmetic (used to fill the lookup tables).
__device__ __forceinline__ float mlc_e2m1_value(u32 code) {
    u32 e = (code >> 1) & 3u;
    u32 m = code & 1u;
    float mag = (e == 0u) ? 0.5f * (float)m : (1.0f + 0.5f * (float)m) * (float)(1u << (e - 1u));
    return (code & 8u) ? -mag : mag;
}

// ue8m0 -> f32: 2^(e-127). e=0 is the f32 subnormal 2^-127; e=255 is NaN.
__device__ __forceinline__ float mlc_ue8m0_value(u32 e) {
    e &= 0xffu;
    if (e == 0u) return __int_as_float(0x00400000);
    if (e == 255u) return __int_as_float(0x7fc00000);
    return __int_as_float((int)(e << 23));
}

// Stores one warp's m16n8 f32 accumulator tile (the C/D fragment of every m16n8kK mma.sync: lane
// = 4g + t holds rows g and g+8, columns 2t and 2t+1) into row-major d with n columns.
__device__ __forceinline__ void mlc_store_tile(float* d, int n, int row0, int col0, u32 lane, float d0,
                                               float d1, float d2, float d3) {
    const u32 g = lane >> 2, t = lane & 3u;
    const u64 r0 = (u64)(row0 + (int)g), r1 = r0 + 8, c = (u64)(col0 + 2 * (int)t);
    d[r0 * n + c] = d0;
    d[r0 * n + c + 1] = d1;
    d[r1 * n + c] = d2;
    d[r1 * n + c + 1] = d3;
}

// ---------------------------------------------------------------------------------------------
// Emulated (software) FP4: any GPU.
// ---------------------------------------------------------------------------------------------

// fp4_emulated_gemm: same inputs and result definition as fp4_mma_mxf4, one thread per output.
// Launch: blockDim (16, 16, 1), grid (ceil(n/16), ceil(m/16), 1). Column j = blockIdx.x*16+threadIdx.x,
// row i = blockIdx.y*16+threadIdx.y. Requires k to be a positive multiple of 32 (else writes nothing).
// Per 32-element scale block the products of decoded codes are summed in f32 (exact: each product is
// a multiple of 1/4 of magnitude <= 36), then multiplied by both scales and accumulated in f32.
extern "C" __global__ void fp4_emulated_gemm(const unsigned char* a, const unsigned char* b,
                                             const unsigned char* sa, const unsigned char* sb,
                                             float* d, int m, int n, int k) {
    __shared__ float lut[16];
    u32 tid = threadIdx.y * blockDim.x + threadIdx.x;
    if (tid < 16u) lut[tid] = mlc_e2m1_value(tid);
    __syncthreads();
    if (m <= 0 || n <= 0 || k <= 0 || (k & 31) != 0) return;
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    int i = blockIdx.y * blockDim.y + threadIdx.y;
    if (i >= m || j >= n) return;
    const u64 row_bytes = (u64)(k / 2);
    const int kb = k / 32;
    const u8* arow = a + (u64)i * row_bytes;
    const u8* brow = b + (u64)j * row_bytes;
    float acc = 0.0f;
    for (int blk = 0; blk < kb; ++blk) {
        float part = 0.0f;
        const u8* ap = arow + blk * 16;
        const u8* bp = brow + blk * 16;
#pragma unroll 4
        for (int byte = 0; byte < 16; ++byte) {
            u32 av = ap[byte], bv = bp[byte];
            part = fmaf(lut[av & 15u], lut[bv & 15u], part);
            part = fmaf(lut[av >> 4], lut[bv >> 4], part);
        }
        float s = mlc_ue8m0_value(sa[(u64)i * kb + blk]) * mlc_ue8m0_value(sb[(u64)j * kb + blk]);
        acc = fmaf(part, s, acc);
    }
    d[(u64)i * n + j] = acc;
}

// fp4_emulated_throughput: FP4 decoded through a shared-memory lookup table into FP32 FMAs on the CUDA
// cores (one LDS per FMA: it measures shared-memory throughput as much as arithmetic, and is the fallback
// for GPUs before sm_80; from sm_80 on fp4_dequant_mma_throughput is the software-FP4 figure). Each
// warp, per iteration, does the dequantized work
// of one m16n8k64 block-scaled MMA: every lane owns a 2x2 piece of the 16x8 tile (the same share as
// the MMA's C fragment) and runs 64 K steps on it, i.e. 4 outputs x 64 FMAs = 256 FMAs a lane,
// 32 x 256 = 8192 FMAs = 16384 FLOPs = 2*16*8*64 a warp per iteration. Only those FMAs are counted
// as FLOPs: the LUT decodes (shared-memory lookups, one per operand element per iteration: 2x64 A
// + 2x64 B), the per-32-block scale multiplies and the integer ops that vary the packed data each
// iteration (so nothing can be hoisted out of the loop) are overhead of the software path, as they
// would be in a real dequantizing kernel. Total FLOPs = iters * 16384 * (number of warps).
// Launch: 1-D, blockDim a multiple of 32 (e.g. 256), any grid; out needs one float per warp
// (gridDim.x*blockDim.x/32); out[global warp id] = checksum.
extern "C" __global__ void fp4_emulated_throughput(float* out, int iters) {
    __shared__ float lut[16];
    if ((blockDim.x & 31u) != 0u) return;  // whole warps only (block-uniform, before the barrier)
    if (threadIdx.x < 16u) lut[threadIdx.x] = mlc_e2m1_value(threadIdx.x);
    __syncthreads();
    const u32 gtid = blockIdx.x * blockDim.x + threadIdx.x;
    const u32 lane = threadIdx.x & 31u;
    // Packed operands: two A rows and two B columns, 64 K elements each = 8 words of 8 nibbles.
    u32 wa0[8], wa1[8], wb0[8], wb1[8];
#pragma unroll
    for (int w = 0; w < 8; ++w) {
        u32 seed = (gtid * 8u + (u32)w) * 2654435761u;
        wa0[w] = seed ^ 0x12345678u;
        wa1[w] = seed ^ 0x9abcdef0u;
        wb0[w] = seed ^ 0x0f1e2d3cu;
        wb1[w] = seed ^ 0x4b5a6978u;
    }
    const float s0 = mlc_ue8m0_value(127u - 6u - (lane & 3u));  // per-block scales (A*B combined)
    const float s1 = mlc_ue8m0_value(127u - 7u);
    float c00 = 0.f, c01 = 0.f, c10 = 0.f, c11 = 0.f;
    for (int it = 0; it < iters; ++it) {
#pragma unroll
        for (int blk = 0; blk < 2; ++blk) {
            float p00 = 0.f, p01 = 0.f, p10 = 0.f, p11 = 0.f;
#pragma unroll
            for (int w = blk * 4; w < blk * 4 + 4; ++w) {
#pragma unroll
                for (int nib = 0; nib < 8; ++nib) {
                    float x0 = lut[(wa0[w] >> (4 * nib)) & 15u];
                    float x1 = lut[(wa1[w] >> (4 * nib)) & 15u];
                    float y0 = lut[(wb0[w] >> (4 * nib)) & 15u];
                    float y1 = lut[(wb1[w] >> (4 * nib)) & 15u];
                    p00 = fmaf(x0, y0, p00);
                    p01 = fmaf(x0, y1, p01);
                    p10 = fmaf(x1, y0, p10);
                    p11 = fmaf(x1, y1, p11);
                }
            }
            const float s = blk ? s1 : s0;
            c00 = fmaf(p00, s, c00);
            c01 = fmaf(p01, s, c01);
            c10 = fmaf(p10, s, c10);
            c11 = fmaf(p11, s, c11);
        }
#pragma unroll
        for (int w = 0; w < 8; ++w) {  // new operand bits every iteration (LCG step)
            wa0[w] = wa0[w] * 1664525u + 1013904223u;
            wa1[w] = wa1[w] * 1664525u + 1013904223u;
            wb0[w] = wb0[w] * 1664525u + 1013904223u;
            wb1[w] = wb1[w] * 1664525u + 1013904223u;
        }
    }
    float sum = (c00 + c01) + (c10 + c11);
    for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
    if (lane == 0u) out[gtid >> 5] = sum;
}

// ---------------------------------------------------------------------------------------------
// Emulated FP4 on the tensor cores: decode to FP16, then mma.sync.m16n8k16 (sm_80 and newer).
// ---------------------------------------------------------------------------------------------
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800

// One byte of two e2m1 codes -> f16x2 bits, low nibble in the low half. Placing a code's exponent and
// mantissa bits (e, m) at f16 bits 11..9 and its sign at bit 15 gives 2^(e-15)*(1+m/2), or 2^-15 for
// e = 0, m = 1: exactly the e2m1 value times 2^-14, so one multiply by 2^14 finishes the decode (the
// bit trick dequantizing kernels use). Two multiplies spread the byte (byte<<9 | byte<<21 and
// byte<<12 | byte<<24, no overlapping bits) and two masks keep the fields: four instructions for two
// values. Zero stays zero, with its sign.
__device__ __forceinline__ u32 mlc_e2m1x2_f16x2_bits(u32 byte) {
    return ((byte * 0x00200200u) & 0x0E000E00u) | ((byte * 0x01001000u) & 0x80008000u);
}

__device__ __forceinline__ u32 mlc_hmul2(u32 a, u32 b) {
    u32 d;
    asm("mul.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
    return d;
}

// f32 -> f16x2 with both halves equal (exact for the power-of-two scales used here).
__device__ __forceinline__ u32 mlc_f16x2_splat(float x) {
    u32 d;
    asm("{\n\t.reg .b16 h;\n\t"
        "cvt.rn.f16.f32 h, %1;\n\t"
        "mov.b32 %0, {h, h};\n\t}"
        : "=r"(d)
        : "f"(x));
    return d;
}

// Decoded and scaled: dec(lo) * s in the low half, dec(hi) * s in the high half (`s2` = {s, s}). The
// 2^14 and the scale are two exact multiplies: folded into one, 2^14 * s would overflow FP16 for s > 2.
__device__ __forceinline__ u32 mlc_dequant_f16x2(u32 byte, u32 s2) {
    const u32 two14 = 0x74007400u;  // f16x2 {16384, 16384}
    return mlc_hmul2(mlc_hmul2(mlc_e2m1x2_f16x2_bits(byte), two14), s2);
}

// D += A * B for one m16n8k16 tile, FP16 inputs, FP32 accumulators (PTX ISA, "mma.m16n8k16" fragments:
// g = lane/4, t = lane%4; a0 = row g cols 2t..2t+1, a1 = row g+8 cols 2t..2t+1, a2 = row g cols
// 2t+8..2t+9, a3 = row g+8 cols 2t+8..2t+9; b0 = k 2t..2t+1 col g, b1 = k 2t+8..2t+9 col g;
// d0, d1 = row g cols 2t, 2t+1; d2, d3 = row g+8 cols 2t, 2t+1).
__device__ __forceinline__ void mlc_mma_f16(float& d0, float& d1, float& d2, float& d3, u32 a0, u32 a1,
                                            u32 a2, u32 a3, u32 b0, u32 b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
        "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d0), "+f"(d1), "+f"(d2), "+f"(d3)
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

// fp4_dequant_mma_gemm: the same product as fp4_emulated_gemm and fp4_mma_mxf4, one warp per 16x8
// output tile: each 32-wide scale block is decoded to FP16 (times its ue8m0 scale, exact while the
// scaled values stay within FP16, as they do for scales 2^-14..2^9) and fed to two m16n8k16 MMAs.
// Launch: blockDim (32, 1, 1), grid (n/8, m/16, 1); m multiple of 16, n of 8, k of 32 (else nothing is
// written).
extern "C" __global__ void fp4_dequant_mma_gemm(const unsigned char* a, const unsigned char* b,
                                                const unsigned char* sa, const unsigned char* sb,
                                                float* d, int m, int n, int k) {
    const int row0 = blockIdx.y * 16;
    const int col0 = blockIdx.x * 8;
    if (threadIdx.x >= 32u || k <= 0 || (k & 31) != 0 || row0 + 16 > m || col0 + 8 > n) return;
    const u32 lane = threadIdx.x;
    const u32 g = lane >> 2, t = lane & 3u;
    const u64 row_bytes = (u64)(k / 2);
    const int kb = k / 32;
    const u8* ar0 = a + (u64)(row0 + g) * row_bytes;
    const u8* ar1 = a + (u64)(row0 + g + 8) * row_bytes;
    const u8* br = b + (u64)(col0 + g) * row_bytes;
    float d0 = 0.f, d1 = 0.f, d2 = 0.f, d3 = 0.f;
    for (int blk = 0; blk < kb; ++blk) {
        const u32 s_a0 = mlc_f16x2_splat(mlc_ue8m0_value(sa[(u64)(row0 + g) * kb + blk]));
        const u32 s_a1 = mlc_f16x2_splat(mlc_ue8m0_value(sa[(u64)(row0 + g + 8) * kb + blk]));
        const u32 s_b = mlc_f16x2_splat(mlc_ue8m0_value(sb[(u64)(col0 + g) * kb + blk]));
#pragma unroll
        for (int half = 0; half < 2; ++half) {
            const u64 kc = (u64)blk * 16 + (u64)half * 8;  // byte offset of this k16 chunk in a row
            const u32 a0 = mlc_dequant_f16x2(ar0[kc + t], s_a0);
            const u32 a1 = mlc_dequant_f16x2(ar1[kc + t], s_a1);
            const u32 a2 = mlc_dequant_f16x2(ar0[kc + 4 + t], s_a0);
            const u32 a3 = mlc_dequant_f16x2(ar1[kc + 4 + t], s_a1);
            const u32 b0 = mlc_dequant_f16x2(br[kc + t], s_b);
            const u32 b1 = mlc_dequant_f16x2(br[kc + 4 + t], s_b);
            mlc_mma_f16(d0, d1, d2, d3, a0, a1, a2, a3, b0, b1);
        }
    }
    mlc_store_tile(d, n, row0, col0, lane, d0, d1, d2, d3);
}

// fp4_dequant_mma_throughput: software FP4 on the tensor cores, as a dequantizing GEMM's inner loop runs
// it. Each warp owns a 64x32 output tile (4 x 4 m16n8 tiles, 64 FP32 accumulators a lane) and per
// iteration walks K = 64 in four k16 chunks: it decodes the chunk's A fragments (4 m-tiles, one word of
// packed FP4 each) and B fragments (4 n-tiles) to FP16 times the block scale, and issues the 16
// m16n8k16 MMAs that use them — each decoded fragment feeds 4 MMAs, the reuse a register tile gives.
// FLOPs a warp per iteration: 4 chunks x 16 MMAs x 2*16*8*16 = 262144. The packed words change every
// iteration (LCG step), so nothing can be hoisted out of the loop.
// Launch: 1-D, blockDim a multiple of 32, any grid; out: one float per warp.
extern "C" __global__ void fp4_dequant_mma_throughput(float* out, int iters) {
    if ((blockDim.x & 31u) != 0u) return;
    const u32 gtid = blockIdx.x * blockDim.x + threadIdx.x;
    const u32 lane = threadIdx.x & 31u;
    u32 wa[4][4], wb[4][2];  // [chunk][m-tile] and [chunk][n-tile pair]: packed FP4 bytes
#pragma unroll
    for (int j = 0; j < 4; ++j) {
#pragma unroll
        for (int w = 0; w < 4; ++w) wa[j][w] = (gtid * 16u + (u32)(4 * j + w)) * 2654435761u ^ 0x12345678u;
#pragma unroll
        for (int w = 0; w < 2; ++w) wb[j][w] = (gtid * 16u + (u32)(2 * j + w)) * 2654435761u ^ 0x0f1e2d3cu;
    }
    // The block scale folded into the 2^14 of the decode (it fits FP16 for scales up to 2): 2^14 * 2^-4.
    const u32 s = mlc_f16x2_splat(mlc_ue8m0_value(127u + 14u - 4u - (lane & 1u)));
    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j][0] = acc[i][j][1] = acc[i][j][2] = acc[i][j][3] = 0.f;
    for (int it = 0; it < iters; ++it) {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            u32 a[4][4], b[4][2];
#pragma unroll
            for (int mt = 0; mt < 4; ++mt)
#pragma unroll
                for (int r = 0; r < 4; ++r)
                    a[mt][r] = mlc_hmul2(mlc_e2m1x2_f16x2_bits((wa[j][mt] >> (8 * r)) & 0xffu), s);
#pragma unroll
            for (int nt = 0; nt < 4; ++nt)
#pragma unroll
                for (int r = 0; r < 2; ++r)
                    b[nt][r] = mlc_hmul2(
                        mlc_e2m1x2_f16x2_bits((wb[j][nt >> 1] >> (16 * (nt & 1) + 8 * r)) & 0xffu), s);
#pragma unroll
            for (int mt = 0; mt < 4; ++mt)
#pragma unroll
                for (int nt = 0; nt < 4; ++nt)
                    mlc_mma_f16(acc[mt][nt][0], acc[mt][nt][1], acc[mt][nt][2], acc[mt][nt][3], a[mt][0],
                                a[mt][1], a[mt][2], a[mt][3], b[nt][0], b[nt][1]);
        }
#pragma unroll
        for (int j = 0; j < 4; ++j) {
#pragma unroll
            for (int w = 0; w < 4; ++w) wa[j][w] = wa[j][w] * 1664525u + 1013904223u;
#pragma unroll
            for (int w = 0; w < 2; ++w) wb[j][w] = wb[j][w] * 1664525u + 1013904223u;
        }
    }
    float sum = 0.f;
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) sum += (acc[i][j][0] + acc[i][j][1]) + (acc[i][j][2] + acc[i][j][3]);
    for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
    if (lane == 0u) out[gtid >> 5] = sum;
}

#endif  // __CUDA_ARCH__ >= 800

// ---------------------------------------------------------------------------------------------
// Native FP4 conversions: sm_100a / sm_120a / sm_121a (arch-specific targets).
// ---------------------------------------------------------------------------------------------
#if defined(MLCOMPAT_NATIVE_FP4)

// Two f32 -> one byte of two e2m1 codes. PTX: "cvt.rn.satfinite.e2m1x2.f32 d, a, b" stores a in
// d[7:4] and b in d[3:0], so the element that must land in the low nibble goes second.
__device__ __forceinline__ u32 mlc_cvt_e2m1x2(float lo, float hi) {
    u32 r;
    asm volatile(
        "{\n\t.reg .b8 t;\n\t"
        "cvt.rn.satfinite.e2m1x2.f32 t, %1, %2;\n\t"
        "cvt.u32.u8 %0, t;\n\t}"
        : "=r"(r)
        : "f"(hi), "f"(lo));
    return r;
}

// One byte of two e2m1 codes -> f16x2 (upper nibble -> upper half), returned as two f32.
__device__ __forceinline__ void mlc_cvt_e2m1x2_to_f32(u32 byte, float* lo, float* hi) {
    u32 h2;
    asm volatile(
        "{\n\t.reg .b8 t;\n\t"
        "cvt.u8.u32 t, %1;\n\t"
        "cvt.rn.f16x2.e2m1x2 %0, t;\n\t}"
        : "=r"(h2)
        : "r"(byte));
    float l, h;
    asm("{\n\t.reg .b16 a, b;\n\t"
        "mov.b32 {a, b}, %2;\n\t"
        "cvt.f32.f16 %0, a;\n\t"
        "cvt.f32.f16 %1, b;\n\t}"
        : "=f"(l), "=f"(h)
        : "r"(h2));
    *lo = l;
    *hi = h;
}

// fp4_roundtrip: in[0..n) f32 -> packed[0..ceil(n/2)) (element 2i in the low nibble of packed[i],
// 2i+1 in the high nibble) -> out[0..n) f32, the decoded value of each element, both steps in
// hardware. n is meant to be even; an odd n pairs the last element with +0 in the high nibble.
// Launch: 1-D, any blockDim/grid (grid-stride over the n/2 pairs), e.g. blockDim 256,
// grid ceil(n/2/256).
extern "C" __global__ void fp4_roundtrip(const float* in, unsigned char* packed, float* out, int n) {
    if (n <= 0) return;
    const int pairs = (n + 1) / 2;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < pairs; i += gridDim.x * blockDim.x) {
        const int j = 2 * i;
        const bool has_hi = (j + 1) < n;
        const float lo = in[j];
        const float hi = has_hi ? in[j + 1] : 0.0f;
        const u32 byte = mlc_cvt_e2m1x2(lo, hi);
        packed[i] = (u8)byte;
        float dlo, dhi;
        mlc_cvt_e2m1x2_to_f32(byte, &dlo, &dhi);
        out[j] = dlo;
        if (has_hi) out[j + 1] = dhi;
    }
}

// ---------------------------------------------------------------------------------------------
// Native block-scaled FP4 MMA: sm_120a / sm_121a.
// ---------------------------------------------------------------------------------------------
#if defined(MLCOMPAT_FP4_MMA)

// D = A*B + C for one m16n8k64 tile, A/B e2m1 with one ue8m0 scale per 32 K (scale_vec::2X).
// Fragments (lane = 0..31, g = lane/4, t = lane%4; element j of a register is nibble j, LSB first):
//   A (16x64): a0 = row g,   k 8t..8t+7      a1 = row g+8, k 8t..8t+7
//              a2 = row g,   k 32+8t..+7     a3 = row g+8, k 32+8t..+7
//   B (64x8, given as B^T rows n): b0 = col n=g, k 8t..8t+7;  b1 = col g, k 32+8t..+7
//   C/D (16x8 f32): d0 = (g, 2t), d1 = (g, 2t+1), d2 = (g+8, 2t), d3 = (g+8, 2t+1)
//   scale-a-data: byte 0 = scale of K 0..31, byte 1 = K 32..63 of row (lane%2)*8 + lane/4; with
//     {byte-id-a, thread-id-a} = {0, 0} lanes with lane%4 in {0,1} supply it (we fill every lane the
//     same way, so thread-id 1 would read the same rows).
//   scale-b-data: byte 0 = K 0..31, byte 1 = K 32..63 of column n = lane/4; {byte-id-b, thread-id-b}
//     = {0, 0}: lanes with lane%4 == 0 supply it (again every lane holds it).
// (Layouts as in CUTLASS cute SM120_16x8x64_TN_VS ALayout/BLayout/SFALayout/SFBLayout and the PTX
// ISA "Warp-level matrix fragment mma.m16n8k64" / block-scaling sections.)
__device__ __forceinline__ void mlc_mma_mxf4(float& d0, float& d1, float& d2, float& d3, u32 a0, u32 a1,
                                             u32 a2, u32 a3, u32 b0, u32 b1, u32 sfa, u32 sfb) {
    const u16 zero = 0;
    asm volatile(
        "mma.sync.aligned.m16n8k64.row.col.kind::mxf4nvf4.block_scale.scale_vec::2X"
        ".f32.e2m1.e2m1.f32.ue8m0 "
        "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3}, "
        "%10, {%12, %13}, %11, {%12, %13};\n"
        : "+f"(d0), "+f"(d1), "+f"(d2), "+f"(d3)
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1), "r"(sfa), "r"(sfb), "h"(zero),
          "h"(zero));
}

// fp4_mma_mxf4: one warp per 16x8 output tile.
// Launch: blockDim (32, 1, 1), grid (n/8, m/16, 1); m multiple of 16, n of 8, k of 64 (tiles that
// would run past m/n, and any k not a positive multiple of 64, are skipped: nothing is written).
// All pointers must be at least 4-byte aligned (cuMemAlloc gives 256-byte alignment).
extern "C" __global__ void fp4_mma_mxf4(const unsigned char* a, const unsigned char* b,
                                        const unsigned char* sa, const unsigned char* sb, float* d,
                                        int m, int n, int k) {
    const int row0 = blockIdx.y * 16;
    const int col0 = blockIdx.x * 8;
    // Warp-uniform exits only: mma.sync needs all 32 lanes.
    if (threadIdx.x >= 32u || k <= 0 || (k & 63) != 0 || row0 + 16 > m || col0 + 8 > n) return;
    const u32 lane = threadIdx.x;
    const u32 g = lane >> 2, t = lane & 3u;
    const u64 row_words = (u64)(k / 8);  // u32 words per packed row (8 codes each)
    const int kb = k / 32;
    const u32* A = (const u32*)a;
    const u32* B = (const u32*)b;
    const u64 ar0 = (u64)(row0 + g) * row_words, ar1 = (u64)(row0 + g + 8) * row_words;
    const u64 br = (u64)(col0 + g) * row_words;
    const u64 sar = (u64)(row0 + (lane & 1u) * 8u + g) * kb;
    const u64 sbr = (u64)(col0 + g) * kb;
    float d0 = 0.f, d1 = 0.f, d2 = 0.f, d3 = 0.f;
    for (int k0 = 0; k0 < k; k0 += 64) {
        const u64 w = (u64)(k0 / 8) + t;  // word holding k0+8t .. k0+8t+7
        const u32 a0 = A[ar0 + w], a1 = A[ar1 + w], a2 = A[ar0 + w + 4], a3 = A[ar1 + w + 4];
        const u32 b0 = B[br + w], b1 = B[br + w + 4];
        const int sb0 = k0 / 32;
        const u32 sfa = (u32)sa[sar + sb0] | ((u32)sa[sar + sb0 + 1] << 8);
        const u32 sfb = (u32)sb[sbr + sb0] | ((u32)sb[sbr + sb0 + 1] << 8);
        mlc_mma_mxf4(d0, d1, d2, d3, a0, a1, a2, a3, b0, b1, sfa, sfb);
    }
    mlc_store_tile(d, n, row0, col0, lane, d0, d1, d2, d3);
}

// fp4_mma_throughput: each warp issues `iters` block-scaled m16n8k64 MMAs on register-resident
// fragments, round-robin over 8 independent accumulators (8 dependency chains hide the MMA latency).
// FLOPs per MMA = 2*16*8*64 = 16384; total = iters * 16384 * (number of warps).
// Launch: 1-D, blockDim a multiple of 32 (e.g. 256), any grid; out needs one float per warp
// (gridDim.x*blockDim.x/32); out[global warp id] = checksum (sum over the warp's accumulators).
extern "C" __global__ void fp4_mma_throughput(float* out, int iters) {
    const u32 gtid = blockIdx.x * blockDim.x + threadIdx.x;
    const u32 lane = threadIdx.x & 31u;
    if ((blockDim.x & 31u) != 0u) return;  // whole warps only (mma.sync and the shuffle need 32 lanes)
    // Operands depend on the lane so they are not all compile-time constants; small scales
    // (2^-6 / 2^-5 for A and B) keep the accumulators finite for any iteration count in practice.
    const u32 a0 = 0x23192a13u ^ (lane << 28), a1 = 0x1a2b3921u, a2 = 0x3a1b2392u ^ lane, a3 = 0x2913a1b3u;
    const u32 b0 = 0x1b2a3912u ^ (lane << 24), b1 = 0x392a1b23u;
    const u32 sfa = 0x7a79u + (lane & 1u);  // bytes 121, 122 (+1): 2^-6, 2^-5
    const u32 sfb = 0x7a79u;
    float acc[8][4];
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.f;
    int i = 0;
    for (; i + 8 <= iters; i += 8) {
#pragma unroll
        for (int j = 0; j < 8; ++j)
            mlc_mma_mxf4(acc[j][0], acc[j][1], acc[j][2], acc[j][3], a0, a1, a2, a3, b0, b1, sfa, sfb);
    }
    for (; i < iters; ++i)
        mlc_mma_mxf4(acc[0][0], acc[0][1], acc[0][2], acc[0][3], a0, a1, a2, a3, b0, b1, sfa, sfb);
    float sum = 0.f;
#pragma unroll
    for (int j = 0; j < 8; ++j) sum += (acc[j][0] + acc[j][1]) + (acc[j][2] + acc[j][3]);
    for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
    if (lane == 0u) out[gtid >> 5] = sum;
}

#endif  // MLCOMPAT_FP4_MMA
#endif  // MLCOMPAT_NATIVE_FP4
