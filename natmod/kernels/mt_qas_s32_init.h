// SPDX-License-Identifier: MIT
#ifndef MT_QAS_S32_INIT_H
#define MT_QAS_S32_INIT_H

#include "mt_qas.h"

// Start the update state of an int32 bias: master[c] = (float)bias[c], momentum[c] = 0 (each
// where not NULL).
mt_status mt_qas_s32_init(int32_t count, const int32_t *bias, const mt_update_state *state);

#endif
