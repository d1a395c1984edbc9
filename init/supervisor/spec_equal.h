// Field-by-field comparison of two service definitions, so reload restarts only services
// whose definition really changed. Every field of ServiceSpec takes part; a new field must be
// added here (spec_equal_test.cc flips each one and expects a difference).
#pragma once

#include "init/config/service_spec.h"

namespace cairn::init {

bool spec_equal(const ServiceSpec& a, const ServiceSpec& b) noexcept;

}  // namespace cairn::init
