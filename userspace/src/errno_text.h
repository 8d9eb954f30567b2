// SPDX-License-Identifier: GPL-2.0-only
// "what: strerror(err)", the one-line reason every probe and setup step
// gives.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>

namespace lab {

inline std::string errno_text(const std::string &what, int err = errno)
{
	return what + ": " + std::strerror(err);
}

} // namespace lab
