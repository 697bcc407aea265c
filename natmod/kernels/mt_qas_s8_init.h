// SPDX-License-Identifier: MIT
#ifndef MT_QAS_S8_INIT_H
#define MT_QAS_S8_INIT_H

#include "mt_qas_s8_update.h"

// Start the update state of the selected int8 weights: master[e] = (float)weight (when master
// is not NULL), momentum[e] = 0 (when not NULL), in mt_qas_s8_update's element order.
mt_status mt_qas_s8_init(const mt_qas_layout *layout, const int8_t *weights,
                         const mt_update_state *state);

#endif
