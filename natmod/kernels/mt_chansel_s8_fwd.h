// SPDX-License-Identifier: MIT
#ifndef MT_CHANSEL_S8_FWD_H
#define MT_CHANSEL_S8_FWD_H

#include "mt_grad.h"

// Copy the k selected channels of an int8 activation into a compact buffer: the saved input of
// a sparsely updated layer (dims {n, h, w, k}). channels lists them (NULL: the first k).
//
// In-place contract (compiler/inplace.py shift_safe): output bytes are written in order, each
// after the input byte it copies is read, and no input byte is read after a later output byte
// is written (a plain copy may take 4 bytes a step: all 4 read, then all 4 written). With channels NULL and k == c (a plain copy, the line-buffer shift of a streamed
// segment) the output may overlap the input if it starts at or before it.
mt_status mt_chansel_s8_fwd(const mt_dims *input_dims, const int8_t *input,
                            const int32_t *channels, int32_t k, int8_t *output);

#endif
