// Sample notebooks: a product's .ipynb must be a Jupyter notebook in nbformat 4 (a JSON
// object with "nbformat": 4 and a "cells" array, each cell an object with a "cell_type").
// Pure functions; thread-safe.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace mercato::catalog {

// OK for a valid nbformat-4 notebook; InvalidArgument (code InvalidNotebook) saying what is
// wrong otherwise.
absl::Status ValidateNotebook(std::string_view text);

}  // namespace mercato::catalog
