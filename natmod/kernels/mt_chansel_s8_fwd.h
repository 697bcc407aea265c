// SPDX-License-Identifier: MIT
#ifndef MT_CHANSEL_S8_FWD_H
#define MT_CHANSEL_S8_FWD_H

#include "mt_grad.h"

// Copy the k selected channels of an int8 activation into a compact buffer: the saved input of
// a sparsely updated layer (dims {n, h, w, k}). channels lists them (NULL: the first k).
mt_status mt_chansel_s8_fwd(const mt_dims *input_dims, const int8_t *input,
                            const int32_t *channels, int32_t k, int8_t *output);

#endif
