# OpenMP, guarded at C compile time: ``_OPENMP`` is defined by the compiler
# only when the module is built with -fopenmp, so a serial build still
# compiles and links (and ``openmp_enabled()`` then says False).

cdef extern from * nogil:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define SKN_OPENMP_ENABLED 1
    #define skn_omp_get_max_threads() omp_get_max_threads()
    #define skn_omp_in_parallel() omp_in_parallel()
    #else
    #define SKN_OPENMP_ENABLED 0
    #define skn_omp_get_max_threads() 1
    #define skn_omp_in_parallel() 0
    #endif
    """
    const bint SKN_OPENMP_ENABLED
    int skn_omp_get_max_threads()
    bint skn_omp_in_parallel()


cpdef int resolve_n_threads(object n_threads, Py_ssize_t size,
                            Py_ssize_t parallel_min_size, bint own_products=*) except -1


cpdef int resolve_batch_threads(object n_threads, Py_ssize_t n_items, double work,
                                double parallel_min_work) except -1
