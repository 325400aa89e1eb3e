// The review routes: declared with the products part's other routes in
// api/v1/product_routes.h (AddReviewRoutes).
#pragma once

#include "api/v1/product_routes.h"
