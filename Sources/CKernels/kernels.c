#include "CKernels.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define MEDTAG_X86 1
#endif

int medtag_cpu_features(void) {
#ifdef MEDTAG_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx) return 0;
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    int ymm = (xcr0_lo & 0x6) == 0x6;
    int zmm = (xcr0_lo & 0xe6) == 0xe6;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b >> 5) & 1;
    int f = (b >> 16) & 1, dq = (b >> 17) & 1, cd = (b >> 28) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    int features = 0;
    if (ymm && avx2 && fma) features |= MEDTAG_CPU_AVX2_FMA;
    if ((features & MEDTAG_CPU_AVX2_FMA) && zmm && f && dq && cd && bw && vl) features |= MEDTAG_CPU_AVX512;
    if ((features & MEDTAG_CPU_AVX512) && __get_cpuid_count(7, 1, &a, &b, &c, &d) && ((a >> 5) & 1))
        features |= MEDTAG_CPU_AVX512_BF16;
    return features;
#else
    return 0;
#endif
}

size_t medtag_packed_count(int n, int k) {
    return (size_t)((n + MEDTAG_PANEL - 1) / MEDTAG_PANEL) * (size_t)k * MEDTAG_PANEL;
}

void medtag_pack(const float *b, int n, int k, int ldb, float *packed) {
    int panels = (n + MEDTAG_PANEL - 1) / MEDTAG_PANEL;
    memset(packed, 0, medtag_packed_count(n, k) * sizeof(float));
    for (int p = 0; p < panels; p++)
        for (int j = 0; j < MEDTAG_PANEL && p * MEDTAG_PANEL + j < n; j++)
            for (int kk = 0; kk < k; kk++)
                packed[((size_t)p * k + kk) * MEDTAG_PANEL + j] = b[(size_t)(p * MEDTAG_PANEL + j) * ldb + kk];
}

// Portable: any CPU. Rows one at a time, a panel's 16 sums kept in an array the compiler vectorizes.
static void gemm_portable(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
                          int accumulate) {
    int panels = (n + MEDTAG_PANEL - 1) / MEDTAG_PANEL;
    for (int i = 0; i < m; i++) {
        const float *row = a + (size_t)i * lda;
        for (int p = 0; p < panels; p++) {
            const float *panel = packed + (size_t)p * k * MEDTAG_PANEL;
            float sum[MEDTAG_PANEL] = {0};
            for (int kk = 0; kk < k; kk++) {
                float x = row[kk];
                for (int j = 0; j < MEDTAG_PANEL; j++) sum[j] += x * panel[kk * MEDTAG_PANEL + j];
            }
            int width = n - p * MEDTAG_PANEL < MEDTAG_PANEL ? n - p * MEDTAG_PANEL : MEDTAG_PANEL;
            float *out = c + (size_t)i * ldc + p * MEDTAG_PANEL;
            for (int j = 0; j < width; j++) out[j] = accumulate ? out[j] + sum[j] : sum[j];
        }
    }
}

#ifdef MEDTAG_X86
// AVX-512: R rows (≤ 8) × one 16-column panel in R registers; a broadcast and an FMA per row and k.
#define AVX512 __attribute__((target("avx512f"), always_inline)) static inline
AVX512 void tile512(int rows, int k, const float *a, int lda, const float *panel, float *c, int ldc, int width,
                    int accumulate) {
    __m512 acc[8];
    __mmask16 mask = (__mmask16)((1u << width) - 1);
    for (int r = 0; r < rows; r++)
        acc[r] = accumulate ? _mm512_maskz_loadu_ps(mask, c + (size_t)r * ldc) : _mm512_setzero_ps();
    for (int kk = 0; kk < k; kk++) {
        __m512 b = _mm512_loadu_ps(panel + kk * MEDTAG_PANEL);
        for (int r = 0; r < rows; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[(size_t)r * lda + kk]), b, acc[r]);
    }
    for (int r = 0; r < rows; r++) _mm512_mask_storeu_ps(c + (size_t)r * ldc, mask, acc[r]);
}

__attribute__((target("avx512f"))) static void gemm_avx512(int m, int n, int k, const float *a, int lda,
                                                            const float *packed, float *c, int ldc, int accumulate) {
    int panels = (n + MEDTAG_PANEL - 1) / MEDTAG_PANEL;
    for (int i = 0; i < m; i += 8) {
        int rows = m - i < 8 ? m - i : 8;
        for (int p = 0; p < panels; p++) {
            int width = n - p * MEDTAG_PANEL < MEDTAG_PANEL ? n - p * MEDTAG_PANEL : MEDTAG_PANEL;
            const float *panel = packed + (size_t)p * k * MEDTAG_PANEL;
            float *out = c + (size_t)i * ldc + p * MEDTAG_PANEL;
            const float *rowsA = a + (size_t)i * lda;
            // Constant row counts, so the accumulators stay in registers.
            switch (rows) {
            case 8: tile512(8, k, rowsA, lda, panel, out, ldc, width, accumulate); break;
            case 7: tile512(7, k, rowsA, lda, panel, out, ldc, width, accumulate); break;
            case 6: tile512(6, k, rowsA, lda, panel, out, ldc, width, accumulate); break;
            case 5: tile512(5, k, rowsA, lda, panel, out, ldc, width, accumulate); break;
            case 4: tile512(4, k, rowsA, lda, panel, out, ldc, width, accumulate); break;
            case 3: tile512(3, k, rowsA, lda, panel, out, ldc, width, accumulate); break;
            case 2: tile512(2, k, rowsA, lda, panel, out, ldc, width, accumulate); break;
            default: tile512(1, k, rowsA, lda, panel, out, ldc, width, accumulate); break;
            }
        }
    }
}

// AVX2: R rows (≤ 4) × one panel as two 8-wide halves, 2R registers.
#define AVX2 __attribute__((target("avx2,fma"), always_inline)) static inline
AVX2 void tile256(int rows, int k, const float *a, int lda, const float *panel, float *c, int ldc, int width,
                  int accumulate) {
    __m256 lo[4], hi[4];
    float tail[4][MEDTAG_PANEL];
    for (int r = 0; r < rows; r++) {
        if (accumulate) {
            memset(tail[r], 0, sizeof tail[r]);
            memcpy(tail[r], c + (size_t)r * ldc, (size_t)width * sizeof(float));
            lo[r] = _mm256_loadu_ps(tail[r]);
            hi[r] = _mm256_loadu_ps(tail[r] + 8);
        } else {
            lo[r] = _mm256_setzero_ps();
            hi[r] = _mm256_setzero_ps();
        }
    }
    for (int kk = 0; kk < k; kk++) {
        __m256 b0 = _mm256_loadu_ps(panel + kk * MEDTAG_PANEL);
        __m256 b1 = _mm256_loadu_ps(panel + kk * MEDTAG_PANEL + 8);
        for (int r = 0; r < rows; r++) {
            __m256 x = _mm256_broadcast_ss(a + (size_t)r * lda + kk);
            lo[r] = _mm256_fmadd_ps(x, b0, lo[r]);
            hi[r] = _mm256_fmadd_ps(x, b1, hi[r]);
        }
    }
    for (int r = 0; r < rows; r++) {
        if (width == MEDTAG_PANEL) {
            _mm256_storeu_ps(c + (size_t)r * ldc, lo[r]);
            _mm256_storeu_ps(c + (size_t)r * ldc + 8, hi[r]);
        } else {
            _mm256_storeu_ps(tail[r], lo[r]);
            _mm256_storeu_ps(tail[r] + 8, hi[r]);
            memcpy(c + (size_t)r * ldc, tail[r], (size_t)width * sizeof(float));
        }
    }
}

__attribute__((target("avx2,fma"))) static void gemm_avx2(int m, int n, int k, const float *a, int lda,
                                                           const float *packed, float *c, int ldc, int accumulate) {
    int panels = (n + MEDTAG_PANEL - 1) / MEDTAG_PANEL;
    for (int i = 0; i < m; i += 4) {
        int rows = m - i < 4 ? m - i : 4;
        for (int p = 0; p < panels; p++) {
            int width = n - p * MEDTAG_PANEL < MEDTAG_PANEL ? n - p * MEDTAG_PANEL : MEDTAG_PANEL;
            const float *panel = packed + (size_t)p * k * MEDTAG_PANEL;
            float *out = c + (size_t)i * ldc + p * MEDTAG_PANEL;
            const float *rowsA = a + (size_t)i * lda;
            switch (rows) {
            case 4: tile256(4, k, rowsA, lda, panel, out, ldc, width, accumulate); break;
            case 3: tile256(3, k, rowsA, lda, panel, out, ldc, width, accumulate); break;
            case 2: tile256(2, k, rowsA, lda, panel, out, ldc, width, accumulate); break;
            default: tile256(1, k, rowsA, lda, panel, out, ldc, width, accumulate); break;
            }
        }
    }
}
#endif

// tanh by Eigen's rational approximation for floats (saturates beyond ±7.9), as the Swift engine's fastTanh.
#define TANH_BODY(x, x2, p, q, MUL, ADD, SET)                                                         \
    x2 = MUL(x, x);                                                                                  \
    p = ADD(MUL(SET(-2.76076847742355e-16f), x2), SET(2.00018790482477e-13f));                       \
    p = ADD(MUL(p, x2), SET(-8.60467152213735e-11f));                                                \
    p = ADD(MUL(p, x2), SET(5.12229709037114e-08f));                                                 \
    p = ADD(MUL(p, x2), SET(1.48572235717979e-05f));                                                 \
    p = ADD(MUL(p, x2), SET(6.37261928875436e-04f));                                                 \
    p = ADD(MUL(p, x2), SET(4.89352455891786e-03f));                                                 \
    p = MUL(p, x);                                                                                   \
    q = ADD(MUL(SET(1.19825839466702e-06f), x2), SET(1.18534705686654e-04f));                        \
    q = ADD(MUL(q, x2), SET(2.26843463243900e-03f));                                                 \
    q = ADD(MUL(q, x2), SET(4.89352518554385e-03f));

static inline float tanh_portable(float v) {
    float x = v > 7.90531110763549805f ? 7.90531110763549805f : v < -7.90531110763549805f ? -7.90531110763549805f : v;
    float x2, p, q;
#define MULS(a, b) ((a) * (b))
#define ADDS(a, b) ((a) + (b))
#define SETS(a) (a)
    TANH_BODY(x, x2, p, q, MULS, ADDS, SETS)
    return p / q;
}

static void cell_portable(float *gates, const float *input, const float *bias, float *c, float *h, int hidden) {
    for (int j = 0; j < 4 * hidden; j++) gates[j] += input[j] + bias[j];
    for (int j = 0; j < hidden; j++) {
        float i = 0.5f * tanh_portable(0.5f * gates[j]) + 0.5f;
        float f = 0.5f * tanh_portable(0.5f * gates[hidden + j]) + 0.5f;
        float g = tanh_portable(gates[2 * hidden + j]);
        float o = 0.5f * tanh_portable(0.5f * gates[3 * hidden + j]) + 0.5f;
        float cell = f * c[j] + i * g;
        c[j] = cell;
        h[j] = o * tanh_portable(cell);
    }
}

#ifdef MEDTAG_X86
AVX512 __m512 tanh512(__m512 v) {
    const __m512 limit = _mm512_set1_ps(7.90531110763549805f);
    __m512 x = _mm512_max_ps(_mm512_min_ps(v, limit), _mm512_sub_ps(_mm512_setzero_ps(), limit));
    __m512 x2, p, q;
    TANH_BODY(x, x2, p, q, _mm512_mul_ps, _mm512_add_ps, _mm512_set1_ps)
    return _mm512_div_ps(p, q);
}

__attribute__((target("avx512f"))) static void cell_avx512(float *gates, const float *input, const float *bias, float *c,
                                                            float *h, int hidden) {
    for (int j = 0; j < 4 * hidden; j += 16) {
        int left = 4 * hidden - j;
        __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        __m512 s = _mm512_add_ps(_mm512_maskz_loadu_ps(m, gates + j),
                                 _mm512_add_ps(_mm512_maskz_loadu_ps(m, input + j), _mm512_maskz_loadu_ps(m, bias + j)));
        _mm512_mask_storeu_ps(gates + j, m, s);
    }
    const __m512 half = _mm512_set1_ps(0.5f);
    for (int j = 0; j < hidden; j += 16) {
        int left = hidden - j;
        __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        __m512 i = _mm512_fmadd_ps(half, tanh512(_mm512_mul_ps(half, _mm512_maskz_loadu_ps(m, gates + j))), half);
        __m512 f = _mm512_fmadd_ps(half, tanh512(_mm512_mul_ps(half, _mm512_maskz_loadu_ps(m, gates + hidden + j))), half);
        __m512 g = tanh512(_mm512_maskz_loadu_ps(m, gates + 2 * hidden + j));
        __m512 o = _mm512_fmadd_ps(half, tanh512(_mm512_mul_ps(half, _mm512_maskz_loadu_ps(m, gates + 3 * hidden + j))), half);
        __m512 cell = _mm512_fmadd_ps(f, _mm512_maskz_loadu_ps(m, c + j), _mm512_mul_ps(i, g));
        _mm512_mask_storeu_ps(c + j, m, cell);
        _mm512_mask_storeu_ps(h + j, m, _mm512_mul_ps(o, tanh512(cell)));
    }
}

AVX2 __m256 tanh256(__m256 v) {
    const __m256 limit = _mm256_set1_ps(7.90531110763549805f);
    __m256 x = _mm256_max_ps(_mm256_min_ps(v, limit), _mm256_sub_ps(_mm256_setzero_ps(), limit));
    __m256 x2, p, q;
    TANH_BODY(x, x2, p, q, _mm256_mul_ps, _mm256_add_ps, _mm256_set1_ps)
    return _mm256_div_ps(p, q);
}

__attribute__((target("avx2,fma"))) static void cell_avx2(float *gates, const float *input, const float *bias, float *c,
                                                           float *h, int hidden) {
    int j = 0;
    for (; j + 8 <= 4 * hidden; j += 8)
        _mm256_storeu_ps(gates + j, _mm256_add_ps(_mm256_loadu_ps(gates + j),
                                                  _mm256_add_ps(_mm256_loadu_ps(input + j), _mm256_loadu_ps(bias + j))));
    for (; j < 4 * hidden; j++) gates[j] += input[j] + bias[j];
    const __m256 half = _mm256_set1_ps(0.5f);
    j = 0;
    for (; j + 8 <= hidden; j += 8) {
        __m256 i = _mm256_fmadd_ps(half, tanh256(_mm256_mul_ps(half, _mm256_loadu_ps(gates + j))), half);
        __m256 f = _mm256_fmadd_ps(half, tanh256(_mm256_mul_ps(half, _mm256_loadu_ps(gates + hidden + j))), half);
        __m256 g = tanh256(_mm256_loadu_ps(gates + 2 * hidden + j));
        __m256 o = _mm256_fmadd_ps(half, tanh256(_mm256_mul_ps(half, _mm256_loadu_ps(gates + 3 * hidden + j))), half);
        __m256 cell = _mm256_fmadd_ps(f, _mm256_loadu_ps(c + j), _mm256_mul_ps(i, g));
        _mm256_storeu_ps(c + j, cell);
        _mm256_storeu_ps(h + j, _mm256_mul_ps(o, tanh256(cell)));
    }
    for (; j < hidden; j++) {
        float i = 0.5f * tanh_portable(0.5f * gates[j]) + 0.5f;
        float f = 0.5f * tanh_portable(0.5f * gates[hidden + j]) + 0.5f;
        float g = tanh_portable(gates[2 * hidden + j]);
        float o = 0.5f * tanh_portable(0.5f * gates[3 * hidden + j]) + 0.5f;
        float cell = f * c[j] + i * g;
        c[j] = cell;
        h[j] = o * tanh_portable(cell);
    }
}
#endif

static int best_path(void) {
    static int path = -1;
    if (path < 0) {
        int features = medtag_cpu_features();
        path = (features & MEDTAG_CPU_AVX512) ? 2 : (features & MEDTAG_CPU_AVX2_FMA) ? 1 : 0;
    }
    return path;
}

const char *medtag_gemm_path(void) {
    switch (best_path()) {
    case 2: return "avx512";
    case 1: return "avx2";
    default: return "portable";
    }
}

void medtag_gemm_packed(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
                        int accumulate, int path) {
    if (m <= 0 || n <= 0) return;
    int best = best_path();
    if (path < 0 || path > best) path = best;
#ifdef MEDTAG_X86
    if (path == 2) { gemm_avx512(m, n, k, a, lda, packed, c, ldc, accumulate); return; }
    if (path == 1) { gemm_avx2(m, n, k, a, lda, packed, c, ldc, accumulate); return; }
#endif
    gemm_portable(m, n, k, a, lda, packed, c, ldc, accumulate);
}

void medtag_lstm_cell(float *gates, const float *input, const float *bias, float *c, float *h, int hidden, int path) {
    int best = best_path();
    if (path < 0 || path > best) path = best;
#ifdef MEDTAG_X86
    if (path == 2) { cell_avx512(gates, input, bias, c, h, hidden); return; }
    if (path == 1) { cell_avx2(gates, input, bias, c, h, hidden); return; }
#endif
    cell_portable(gates, input, bias, c, h, hidden);
}
