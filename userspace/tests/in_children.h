// SPDX-License-Identifier: GPL-2.0-only
// For the preload libraries' test programs: what a server's workers do,
// done in child processes.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace lab_test {

// Runs work() in n child processes, one after the other, each ending
// with exit(work()) as nginx's workers do (so that exit handlers and
// library destructors run); 1 if any failed, else 0.
template <typename Work> int in_children(int n, Work work)
{
	int failed = 0;
	for (int i = 0; i < n; i++) {
		std::fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			int rc = work();
			std::fflush(stdout);
			std::exit(rc);
		}
		int status = 1;
		if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed = 1;
	}
	return failed;
}

} // namespace lab_test
