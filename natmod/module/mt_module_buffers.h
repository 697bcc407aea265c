// SPDX-License-Identifier: MIT
// Checked buffer arguments of the module's wrappers: element type, writability, alignment.
#ifndef MT_MODULE_BUFFERS_H
#define MT_MODULE_BUFFERS_H

#include "../sdk/mt_natmod.h"

// Get argument `o` (called `what` and numbered `index` in messages; index < 0: no number)
// as a buffer of element type elem_type: 'b' int8 (array('b'), bytearray, bytes or any
// buffer with typecode 'B'), 'i' int32 (array('i')) or 'f' float32 (array('f')).
// writable: the callee writes it. Raises TypeError or ValueError naming the argument.
void mt_module_get_buffer(mt_obj o, char elem_type, bool writable, const char *what,
                          intptr_t index, mt_buffer *out);

#endif
