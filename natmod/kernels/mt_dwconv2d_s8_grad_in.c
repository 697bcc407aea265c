// SPDX-License-Identifier: MIT
#include "mt_dwconv2d_s8_grad_in.h"

#include "mt_conv_grad.h"

mt_status mt_dwconv2d_s8_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                                 const mt_dims *input_dims, const mt_grad_dst *grad_in,
                                 const mt_dims *filter_dims, const int8_t *filter,
                                 const mt_dims *output_dims, const mt_grad_src *grad_out) {
    mt_status st = mt_dwconv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    return mt_conv_grad_in(params, grad, input_dims, grad_in, filter_dims, filter, output_dims,
                           grad_out, 1);
}
