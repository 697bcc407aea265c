// SPDX-License-Identifier: MIT
#include "mt_status.h"

const char *mt_status_message(mt_status status) {
    // A switch, not a table of pointers: no relocations, and no writable data on any arch.
    switch (status) {
#define MT_STATUS_CASE(name, text) \
    case name:                     \
        return text;
        MT_STATUS_LIST(MT_STATUS_CASE)
#undef MT_STATUS_CASE
        default:
            return "unknown status";
    }
}
