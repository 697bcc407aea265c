// SPDX-License-Identifier: MIT
// Parameters shared by the loss kernels: how to read the int8 logits as real numbers.
#ifndef MT_LOSS_H
#define MT_LOSS_H

#include <stdint.h>

#include "mt_status.h"

typedef struct {
    int32_t batch;         // n samples
    int32_t classes;       // c outputs per sample
    int32_t input_offset;  // -zero point of the logits
    float input_scale;     // s of the logits: z = s * (q - zero point)
} mt_loss_params;

// batch, classes >= 1 with batch * classes in int32; input_offset in [-127, 128] (an int8 zero
// point) and 0 < input_scale < 1e30. MT_ERR_PARAM otherwise.
mt_status mt_loss_check(const mt_loss_params *params);

#endif
