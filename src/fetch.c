/* placeholder, being written */
#include "certauth.h"
