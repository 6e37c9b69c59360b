#pragma once

// Umbrella header: includes every public layer built in this configuration.
// Prefer the layer headers (qsim/quant/..., qsim/io/...) in your own code.

#include "qsim/config.hpp"
#include "qsim/error.hpp"
#include "qsim/version.hpp"
