"""The one catalogue at the bottom: every integer code, table column and shared rule.

Kernels (reference, cpu, and later cuda) compare against these names, never against bare
numbers; the engine's registries map user-facing names onto them. Plain Python only (no numpy,
no numba at import): the two rules at the end are written so that Numba can compile them too.

Adding an option: give it a code here, a branch in each backend's kernel, and an entry in the
engine registry that names it (with its settings and their ranges).
"""

from __future__ import annotations

# -- layer kinds (layi column KIND) ----------------------------------------------------------
# Row 0 of the layer table is the input; every other layer but dropout is a row. A network of
# dense rows only trains in `cpu.train_batches` (one fused kernel); any other kind sends it to
# `cpu_layers.train_batches_layered`. Recurrent rows (SimpleRNN, LSTM) run their whole time
# loop, forward and backpropagation through time, in `cpu_rnn` kernels called from there.
INPUT, DENSE, CONV2D, MAXPOOL2D, AVGPOOL2D, FLATTEN, SIMPLE_RNN, LSTM = range(8)
LAYER_KINDS = {"input": INPUT, "dense": DENSE, "conv2d": CONV2D, "maxpool2d": MAXPOOL2D,
               "avgpool2d": AVGPOOL2D, "flatten": FLATTEN, "simple_rnn": SIMPLE_RNN, "lstm": LSTM}

# -- activations -----------------------------------------------------------------------------
LINEAR, SIGMOID, TANH, RELU, LEAKY_RELU, ELU, SOFTMAX = range(7)
ACTIVATIONS = {"linear": LINEAR, "sigmoid": SIGMOID, "tanh": TANH, "relu": RELU,
               "leaky_relu": LEAKY_RELU, "elu": ELU, "softmax": SOFTMAX}

# -- losses ----------------------------------------------------------------------------------
MSE, SSE, MAE, BCE, CCE, SPARSE_CCE = range(6)
LOSSES = {"mse": MSE, "sse": SSE, "mae": MAE, "binary_crossentropy": BCE,
          "categorical_crossentropy": CCE, "sparse_categorical_crossentropy": SPARSE_CCE}

# -- optimizers ------------------------------------------------------------------------------
SGD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM = range(6)
OPTIMIZERS = {"sgd": SGD, "momentum": MOMENTUM, "nesterov": NESTEROV, "adagrad": ADAGRAD,
              "rmsprop": RMSPROP, "adam": ADAM}

# -- weight penalties ------------------------------------------------------------------------
REG_NONE, REG_L1, REG_L2 = range(3)
REGULARIZERS = {"none": REG_NONE, "l1": REG_L1, "l2": REG_L2}

# -- the layer tables ------------------------------------------------------------------------
# layi int64 (rows, LAYI_COLS): row 0 the input, row r the r-th layer that is not a dropout.
# UNITS is the row's flattened output size C_OUT·H_OUT·W_OUT (channel by channel, row by row,
# as PyTorch flattens). Dense and flatten rows, and an input that is not an image, have the
# shape (UNITS, 1, 1). FAN_IN of a conv row is C_IN·KH·KW (what its initializer sees); pool and
# flatten rows have no parameters (HASB 0, ACT linear). KH, KW: kernel or pool window; SH, SW:
# strides; PH, PW: zero padding at the top and left (Keras "same" puts any odd extra row or
# column at the bottom or right, which needs no column: the kernels read zeros outside).
# A sequence of T steps of F features is the shape (F, T, 1): C is the features of one step,
# H the steps, and a sample's block holds step 0's features, then step 1's, … (so a dense row
# on a sequence applies to each of its H steps: H_OUT · n rows of FAN_IN → C_OUT). A recurrent
# row has FAN_IN = F, W (F × k·units) at WOFF followed by U (units × k·units), b (k·units) at
# BOFF, k = 1 (SimpleRNN) or 4 (LSTM: blocks input, forget, cell, output); its output is
# (units, T, 1) with return_sequences, else (units, 1, 1); ACT is linear (the row's output is
# the hidden state h) and RACT is the SimpleRNN's own activation (alpha in layf ALPHA).
(FAN_IN, UNITS, WOFF, BOFF, ACT, HASB, UCOL, KIND, C_IN, H_IN, W_IN, C_OUT, H_OUT, W_OUT,
 KH, KW, SH, SW, PH, PW, RACT) = range(21)
LAYI_COLS = 21
# layf (rows, LAYF_COLS): the activation's alpha; the dropout rate applied to this row's output.
ALPHA, DROP = range(2)
LAYF_COLS = 2

# -- the per-call configuration vector cfg (int64) ----------------------------------------------
# CFG_START is a sample position in the epoch's order; CFG_T the optimizer's update count.
(CFG_START, CFG_COUNT, CFG_BATCH, CFG_OPT, CFG_LOSS, CFG_LOGITS, CFG_REG, CFG_APPLY,
 CFG_T, CFG_BMAX, CFG_ERR, CFG_ERR_LAYER) = range(12)
CFG_SIZE = 12
# what stopped a call early, in cfg[CFG_ERR]
ERR_NONE, ERR_LOSS, ERR_GRAD, ERR_OUTPUT = range(4)

# -- the hyperparameter vector hp (the parameters' dtype) ------------------------------------
# HP_CLIP: clip the gradient by its global norm before the update (0: off; layered kernels).
HP_LR, HP_MU, HP_B1, HP_B2, HP_EPS, HP_RHO, HP_INITACC, HP_REG, HP_CLIP = range(9)
HP_SIZE = 9

# -- numerical constants every backend shares --------------------------------------------------
EPS_P = 1e-7          # probabilities are clipped to [EPS_P, 1 − EPS_P] before a log (as Keras)
ADAM_FLUSH = 1e-30    # Adam flushes |m| below this to 0 (float32 subnormals slow every step)


def fused_output(loss: int, from_logits: bool, out_act: int) -> bool:
    """True when dL/dz at the output is computed by the fused rule dz = (p − y) / norm.

    That is cross-entropy with its matching output: binary CE after a sigmoid, categorical
    CE after a softmax, or either on logits (a linear output with from_logits)."""
    if loss == BCE:
        return from_logits or out_act == SIGMOID
    if loss == CCE or loss == SPARSE_CCE:
        return from_logits or out_act == SOFTMAX
    return False


def loss_norm(loss: int, n: int, k: int) -> float:
    """What the batch loss of n rows × k outputs is divided by: the number of values for
    mse, mae and binary CE (a mean over everything), n for categorical CE (a mean over samples,
    summed over classes), 1 for sse (½ Σ, a sum)."""
    if loss == SSE:
        return 1.0
    if loss == CCE or loss == SPARSE_CCE:
        return float(n)
    return float(n * k)
