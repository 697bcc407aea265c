// SPDX-License-Identifier: MIT
#ifndef MT_QAS_S32_UPDATE_H
#define MT_QAS_S32_UPDATE_H

#include "mt_qas.h"

// SGD step with QAS on an int32 bias in place: bias[c] at scale s_b[c] = s_x * s_w[c] (scale
// holds s_b), grad[c] = dL/db in real units. Arithmetic in mt_qas.h; elements in order c.
mt_status mt_qas_s32_update(const mt_update_params *params, int32_t count, int32_t *bias,
                            const float *grad, const float *scale, const mt_update_state *state);

#endif
