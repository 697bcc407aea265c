// SPDX-License-Identifier: MIT
#ifndef MT_ADD_S8_FWD_H
#define MT_ADD_S8_FWD_H

#include "mt_types.h"

// int8 residual add of two tensors of the same dims (TFLite ADD, no broadcast): output and both
// inputs have `dims`.
mt_status mt_add_s8_fwd(const mt_add_params *params, const mt_dims *dims, const int8_t *input1,
                        const int8_t *input2, int8_t *output);

#endif
