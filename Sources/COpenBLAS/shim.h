// OpenBLAS (pthread build): call openblas_set_num_threads(1) when Dispatch provides the parallelism.
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
