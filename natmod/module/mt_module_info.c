// SPDX-License-Identifier: MIT
// info(): which build of the module this is.
#include "mt_module.h"

// Both come from the build (host_tools/microtrain_tools/natmod_build.py).
#ifndef MT_ARCH_NAME
#error "MT_ARCH_NAME must name the target arch, e.g. -DMT_ARCH_NAME=\"armv7m\""
#endif
#ifndef MT_VERSION
#error "MT_VERSION must give the microtrain version, e.g. -DMT_VERSION=\"0.1.0\""
#endif

MT_QSTR_DECLARE(_microtrain);

// info() -> ("_microtrain", version, arch)
mt_obj mt_module_info(void) {
    mt_obj items[3] = {
        mt_qstr_obj(MT_QSTR(_microtrain)),
        mt_str_c(MT_VERSION),
        mt_str_c(MT_ARCH_NAME),
    };
    return mt_tuple(3, items);
}
