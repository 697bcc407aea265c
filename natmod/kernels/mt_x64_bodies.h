// SPDX-License-Identifier: MIT
// The x64 kernel bodies for the ISA of MT_X64_VEC_BITS; included only by mt_x64_kernels.c, once
// per ISA (no include guard on purpose).
#include "mt_grad.h"
#include "mt_x64_vec.h"

#include "mt_conv2d_s8_fwd_x64_body.h"
#include "mt_conv_q8_grad_in_x64_body.h"
#include "mt_conv_q8_update_x64_body.h"
#include "mt_dwconv2d_q8_grad_in_x64_body.h"
#include "mt_dwconv2d_s8_fwd_x64_body.h"
#include "mt_grad_sink_x64_body.h"
#include "mt_pwconv2d_s8_fwd_x64_body.h"
