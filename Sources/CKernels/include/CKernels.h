// What the engine needs below Swift: the CPU's features (cpuid), the BLAS interface it loads at run
// time (OpenBLAS reads its kernel choice once, when loaded, so medtag loads it after choosing), and
// a matrix product of its own for the recurrent step of an LSTM, whose weights are packed once.
#ifndef MEDTAG_CKERNELS_H
#define MEDTAG_CKERNELS_H

#include <stddef.h>

/// What the CPU can run, as the operating system has enabled it.
enum {
    MEDTAG_CPU_AVX2_FMA = 1,     // AVX2 and FMA3, YMM state enabled
    MEDTAG_CPU_AVX512 = 2,       // AVX-512 F, CD, DQ, BW and VL, ZMM state enabled
    MEDTAG_CPU_AVX512_BF16 = 4,  // AVX-512 BF16 besides
};

/// The MEDTAG_CPU_* bits of this CPU, read with cpuid and xgetbv; 0 on other architectures.
int medtag_cpu_features(void);

/// Row-major/no-transpose/transpose codes of the C BLAS interface.
enum { MEDTAG_CBLAS_ROW_MAJOR = 101, MEDTAG_CBLAS_NO_TRANS = 111, MEDTAG_CBLAS_TRANS = 112 };

/// cblas_sgemm.
typedef void (*medtag_sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                                const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
/// openblas_set_num_threads.
typedef void (*medtag_set_threads_fn)(int threads);
/// openblas_get_corename.
typedef char *(*medtag_corename_fn)(void);

/// Columns of C in one packed panel.
#define MEDTAG_PANEL 16

/// Floats needed to pack a [n, k] matrix: ceil(n / 16) panels of k × 16.
size_t medtag_packed_count(int n, int k);

/// Packs B [n, k] (row-major, leading dimension ldb) into panels of 16 rows, each stored k-major
/// ([k][16], zero padded), so a product walks it in order.
void medtag_pack(const float *b, int n, int k, int ldb, float *packed);

/// The code path medtag_gemm_packed runs on this CPU: "avx512", "avx2" or "portable".
const char *medtag_gemm_path(void);

/// C [m, n] (leading dimension ldc) = A [m, k] (lda) · Bᵀ, with B packed by medtag_pack; adds to C
/// when accumulate is non-zero. `path` forces a code path (0 portable, 1 AVX2, 2 AVX-512) where the
/// CPU runs it; -1 picks the best.
void medtag_gemm_packed(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
                        int accumulate, int path);

/// One LSTM step for one sequence: gates [4H] (i, f, g, o) += input [4H] + bias [4H], then the cell
/// update c = σ(f)·c + σ(i)·tanh(g) and h = σ(o)·tanh(c), with tanh as Eigen's rational approximation
/// and σ(x) = (1 + tanh(x/2)) / 2. `path` as for medtag_gemm_packed.
void medtag_lstm_cell(float *gates, const float *input, const float *bias, float *c, float *h, int hidden, int path);

#endif
