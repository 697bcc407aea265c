// SPDX-License-Identifier: MIT
#ifndef MT_CHANMERGE_S8_FWD_H
#define MT_CHANMERGE_S8_FWD_H

#include "mt_types.h"

// The inverse of mt_chansel_s8_fwd: output = base (dims {n, h, w, c}) with its k selected
// channels replaced by a compact tensor {n, h, w, k}. A layer that learns only some of its
// input channels keeps just those weights in RAM (compact) and the rest in flash (base); this
// rebuilds the whole weight tensor in the arena for the time a kernel needs it.
// channels lists the k channels (NULL: the first k); output must not overlap the inputs.
mt_status mt_chanmerge_s8_fwd(const mt_dims *dims, const int8_t *base, const int8_t *compact,
                              const int32_t *channels, int32_t k, int8_t *output);

#endif
