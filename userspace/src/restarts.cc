// SPDX-License-Identifier: GPL-2.0-only
#include "restarts.h"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace lab {

ClientResult load_with_restarts(Server &server, const ClientConfig &cc, unsigned every_ms,
				uint64_t &restarts)
{
	ClientResult res;
	std::atomic<bool> done{false};
	std::thread client([&] {
		res = run_client(cc);
		done = true;
	});
	std::string error;
	for (unsigned next = 0; !done; next = (next + 1) % server.workers()) {
		std::this_thread::sleep_for(std::chrono::milliseconds(every_ms));
		if (done)
			break;
		try {
			server.restart(next);
		} catch (const std::exception &e) {
			error = e.what();
			break;
		}
	}
	client.join();
	restarts = server.restarts();
	if (!error.empty())
		throw std::runtime_error(error);
	return res;
}

} // namespace lab
