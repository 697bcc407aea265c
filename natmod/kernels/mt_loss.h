// SPDX-License-Identifier: MIT
// Parameters shared by the loss kernels: how to read the int8 logits as real numbers.
#ifndef MT_LOSS_H
#define MT_LOSS_H

#include <stdint.h>

typedef struct {
    int32_t batch;         // n samples
    int32_t classes;       // c outputs per sample
    int32_t input_offset;  // -zero point of the logits
    float input_scale;     // s of the logits: z = s * (q - zero point)
} mt_loss_params;

#endif
