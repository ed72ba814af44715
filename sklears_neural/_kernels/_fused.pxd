# The one fused floating type of the kernels: every module cimports it from
# here, so a float32 and a float64 specialisation of each kernel exist.

ctypedef fused floating:
    float
    double
