# Types shared by the Python-facing kernel modules and the two builds of
# their loops (``_loops`` and ``_loops_avx2``).

cdef struct Hyper:
    # Optional parts of an update (momentum, AMSGrad, centered RMSprop) are
    # switched by their state pointer being NULL, not by a flag.
    # effective gradient: g = sign * grad (+ wd * param when coupled_wd)
    double sign
    double wd
    bint coupled_wd
    double lr
    # sgd / rmsprop momentum
    double momentum
    double one_minus_dampening
    bint nesterov
    bint first_step
    # adam
    double decay          # decoupled weight decay factor 1 - lr * wd (else 1)
    double beta1
    double one_minus_beta1
    double beta2
    double one_minus_beta2
    double inv_bc2_sqrt   # 1 / sqrt(1 - beta2**step), in double
    double step_size      # lr / bias_correction1 (adam), lr / (1 + ...) (adagrad)
    # rmsprop
    double alpha
    double one_minus_alpha
    double eps
    # nadam: coefficients of the gradient and of exp_avg over the denominator
    double grad_coef
    double avg_coef
    # radam: rectified step (rect * sqrt(bias_correction2)) or momentum only
    bint rectified
    double rect_factor
    # lamb / lars (norm-based; lars uses lr, momentum, wd)
    double inv_bc1        # 1 / (1 - beta1**step)
    double trust_coefficient
    bint exclude          # lars: skip trust ratio and weight decay


cdef enum:
    OPT_SGD = 0
    OPT_ADAM = 1
    OPT_RMSPROP = 2
    OPT_ADAGRAD = 3
    OPT_NADAM = 4
    OPT_ADAMAX = 5
    OPT_RADAM = 6
    OPT_ADADELTA = 7
    OPT_LAMB = 8
    OPT_LARS = 9


cdef enum:
    LOSS_MSE = 0
    LOSS_L1 = 1
    LOSS_HUBER = 2
    LOSS_POISSON = 3
    LOSS_BCE = 4
